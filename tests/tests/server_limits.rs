//! The HTTP server's bounds, tried with raw TCP clients that do what no HTTP client
//! library does: send nothing, drip headers, announce a body and stop, announce a
//! gigabyte, hold hundreds of connections half-open. Each test starts the real command API
//! with short timeouts (1–3 s) and asserts that the server closes or refuses within a
//! generous bound, never how fast.
//!
//! `TILLSTREAM_LONG_TESTS=1` holds 3,000 half-open connections instead of 300.

use std::io::ErrorKind;
use std::time::Duration;

use anyhow::{Context, bail};
use events::Role;
use futures::future::join_all;
use serde_json::json;
use tests::processes;
use tests::{CommandApp, Servers, TestStream, TokenIssuer, eventually, unique_tenant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The longest any test waits for the server to close a connection: far above every
/// timeout configured here, so only a server that never closes fails.
const GENEROUS: Duration = Duration::from_secs(20);

fn long() -> bool {
    std::env::var_os("TILLSTREAM_LONG_TESTS").is_some()
}

/// An app whose connection and body timeouts are short.
async fn app_with(adjust: impl FnOnce(&mut command_api::Config)) -> anyhow::Result<CommandApp> {
    CommandApp::spawn_with(|config| {
        config.http.header_timeout_ms = 1_000;
        config.http.idle_timeout_ms = 3_000;
        config.http.body_timeout_ms = 1_000;
        adjust(config);
    })
    .await
}

async fn connect(app: &CommandApp) -> anyhow::Result<TcpStream> {
    let addr = app.address.trim_start_matches("http://");
    TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))
}

/// Everything the server sends until it closes the connection (a reset counts as closed).
/// Fails if the connection is still open after `within`.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> anyhow::Result<String> {
    let deadline = Instant::now() + within;
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => bail!(
                "the server kept the connection open for {within:?}; it sent {:?}",
                String::from_utf8_lossy(&received)
            ),
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Ok(Err(err)) if matches!(err.kind(), ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted) => break,
            Ok(Err(err)) => return Err(err.into()),
        }
    }
    Ok(String::from_utf8_lossy(&received).into_owned())
}

/// Reads until `received` contains `marker` (one whole answer), without waiting for a close.
async fn read_until(stream: &mut TcpStream, marker: &str) -> anyhow::Result<String> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&received).contains(marker) {
        let n = tokio::time::timeout(GENEROUS, stream.read(&mut buffer))
            .await
            .context("no answer")??;
        if n == 0 {
            bail!("closed before {marker:?}: {:?}", String::from_utf8_lossy(&received));
        }
        received.extend_from_slice(&buffer[..n]);
    }
    Ok(String::from_utf8_lossy(&received).into_owned())
}

/// GETs `path` on a connection of its own. The app's shared client keeps connections in a
/// pool for 90 s, longer than these apps' idle timeouts: a request sent just as the server
/// closes an idle pooled connection fails ("connection closed before message completed"),
/// which is the keep-alive race the idle timeout's default avoids, not what is tested here.
async fn get_fresh(app: &CommandApp, path: &str) -> anyhow::Result<tests::command_app::Reply> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build()?;
    app.send(client.get(format!("{}{path}", app.address))).await
}

/// The status of the first answer in `received`.
fn status_of(received: &str) -> Option<u16> {
    received.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// The head of a POST announcing `length` bytes of JSON.
fn post_head(path: &str, length: u64, extra: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: tillstream\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n{extra}\r\n"
    )
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_by_the_header_timeout() -> anyhow::Result<()> {
    let app = app_with(|_| {}).await?;
    let mut silent = connect(&app).await?;
    let received = read_until_closed(&mut silent, GENEROUS).await?;
    assert_eq!(received, "", "nothing was asked, nothing is answered");
    app.stream.delete().await
}

#[tokio::test]
async fn headers_dripped_a_byte_at_a_time_are_cut_off_by_the_header_timeout() -> anyhow::Result<()> {
    let app = app_with(|_| {}).await?;
    let (mut reader, mut writer) = connect(&app).await?.into_split();
    let head = format!(
        "GET /health HTTP/1.1\r\nHost: tillstream\r\nX-Drip: {}\r\n\r\n",
        "a".repeat(500)
    );
    // One byte every 100 ms: headers complete after 50 s, if the server waited that long.
    let drip = tokio::spawn(async move {
        for byte in head.bytes() {
            if writer.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut buffer = [0u8; 1024];
    let closed = match tokio::time::timeout(GENEROUS, reader.read(&mut buffer)).await {
        Err(_) => false,
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(n)) => bail!(
            "answered a half-sent request: {:?}",
            String::from_utf8_lossy(&buffer[..n])
        ),
    };
    drip.abort();
    assert!(
        closed,
        "a client dripping its headers kept its connection for {GENEROUS:?}"
    );
    app.stream.delete().await
}

#[tokio::test]
async fn a_body_announced_and_never_sent_gets_408_and_the_connection_closes() -> anyhow::Result<()> {
    let app = app_with(|_| {}).await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let cashier = app.token(&tenant, Role::Cashier).await?;
    for head in [
        // Unauthenticated: the login route reads its body.
        post_head("/v1/auth/login", 100, ""),
        post_head("/v1/sales", 100, &format!("Authorization: Bearer {cashier}\r\n")),
    ] {
        let mut client = connect(&app).await?;
        client.write_all(head.as_bytes()).await?;
        client.write_all(b"{").await?;
        let received = read_until_closed(&mut client, GENEROUS).await?;
        assert_eq!(status_of(&received), Some(408), "{received}");
        assert!(received.contains(r#""code":"request_timeout""#), "{received}");
        assert!(
            received.to_ascii_lowercase().contains("connection: close"),
            "{received}"
        );
    }
    assert_eq!(app.tenant_messages(&tenant).await?.len(), 0);
    app.stream.delete().await
}

#[tokio::test]
async fn a_kept_alive_connection_lives_past_the_header_timeout_and_closes_at_the_idle_timeout() -> anyhow::Result<()> {
    let app = app_with(|config| {
        config.http.header_timeout_ms = 1_000;
        config.http.idle_timeout_ms = 4_000;
    })
    .await?;
    let mut client = connect(&app).await?;
    let request = b"GET /health HTTP/1.1\r\nHost: tillstream\r\n\r\n";
    client.write_all(request).await?;
    let first = read_until(&mut client, r#"{"status":"ok"}"#).await?;
    assert_eq!(status_of(&first), Some(200), "{first}");
    // Idle for twice the header timeout, well within the idle timeout: still served.
    tokio::time::sleep(Duration::from_millis(2_000)).await;
    client.write_all(request).await?;
    let second = read_until(&mut client, r#"{"status":"ok"}"#).await?;
    assert_eq!(status_of(&second), Some(200), "{second}");
    // Then idle for good: closed.
    let received = read_until_closed(&mut client, GENEROUS).await?;
    assert_eq!(received, "");
    app.stream.delete().await
}

#[tokio::test]
async fn a_gigabyte_announced_with_expect_100_continue_gets_413_and_never_100_continue() -> anyhow::Result<()> {
    let app = app_with(|_| {}).await?;
    let cashier = app.token(&unique_tenant(), Role::Cashier).await?;
    for head in [
        post_head("/v1/auth/login", 1_000_000_000, "Expect: 100-continue\r\n"),
        post_head(
            "/v1/sales",
            1_000_000_000,
            &format!("Expect: 100-continue\r\nAuthorization: Bearer {cashier}\r\n"),
        ),
        // Without Expect, the client may already be sending: refused all the same.
        post_head("/v1/sales", 1_000_000_000, ""),
    ] {
        let mut client = connect(&app).await?;
        client.write_all(head.as_bytes()).await?;
        let received = read_until_closed(&mut client, GENEROUS).await?;
        assert!(!received.contains("100 Continue"), "{received}");
        assert_eq!(status_of(&received), Some(413), "{received}");
        assert!(received.contains(r#""code":"payload_too_large""#), "{received}");
    }
    app.stream.delete().await
}

#[tokio::test]
async fn connections_over_the_cap_get_503_and_the_held_ones_are_closed_by_the_header_timeout() -> anyhow::Result<()> {
    const CAP: usize = 20;
    let app = app_with(|config| {
        config.http.max_connections = CAP;
        config.http.header_timeout_ms = 2_000;
    })
    .await?;
    let mut held = Vec::with_capacity(CAP);
    for _ in 0..CAP {
        held.push(connect(&app).await?);
    }
    // The listener accepts in arrival order: this one finds the cap reached.
    let mut over = connect(&app).await?;
    let received = read_until_closed(&mut over, GENEROUS).await?;
    assert_eq!(status_of(&received), Some(503), "{received}");
    let lower = received.to_ascii_lowercase();
    assert!(lower.contains("retry-after: "), "{received}");
    assert!(lower.contains("x-content-type-options: nosniff"), "{received}");
    assert!(received.contains(r#""code":"unavailable""#), "{received}");

    for (index, stream) in held.iter_mut().enumerate() {
        let received = read_until_closed(stream, GENEROUS)
            .await
            .with_context(|| format!("held connection {index}"))?;
        assert_eq!(received, "");
    }
    drop(held);
    eventually(
        "/health to answer once the held connections are gone",
        GENEROUS,
        || async { Ok((get_fresh(&app, "/health").await?.status == 200).then_some(())) },
    )
    .await?;
    app.stream.delete().await
}

#[tokio::test]
async fn requests_over_the_concurrency_cap_get_503_with_retry_after() -> anyhow::Result<()> {
    let app = app_with(|config| {
        config.http.max_concurrent_requests = 2;
        config.http.body_timeout_ms = 3_000;
    })
    .await?;
    // Two requests in flight, each waiting for a body that does not come.
    let mut waiting = Vec::new();
    for _ in 0..2 {
        let mut client = connect(&app).await?;
        client
            .write_all(post_head("/v1/auth/login", 100, "").as_bytes())
            .await?;
        client.write_all(b"{").await?;
        waiting.push(client);
    }
    let refused = eventually("a third request to be refused", GENEROUS, || async {
        let reply = get_fresh(&app, "/health").await?;
        Ok((reply.status == 503).then_some(reply))
    })
    .await?;
    assert_eq!(refused.code(), "unavailable", "{}", refused.body);
    assert!(refused.header("retry-after").is_some());
    for client in &mut waiting {
        let received = read_until_closed(client, GENEROUS).await?;
        assert_eq!(status_of(&received), Some(408), "{received}");
    }
    eventually("/health to answer once the two are done", GENEROUS, || async {
        Ok((get_fresh(&app, "/health").await?.status == 200).then_some(()))
    })
    .await?;
    app.stream.delete().await
}

#[tokio::test]
async fn a_query_past_the_query_timeout_gets_503_with_retry_after() -> anyhow::Result<()> {
    let app = CommandApp::spawn_with(|config| {
        config.http.query_timeout_ms = 1_000;
        // The query waits for a projection that never comes (no projector runs).
        config.read_your_writes_timeout_ms = 60_000;
    })
    .await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let sale = json!({
        "sale_id": "s-slow", "location": "main", "currency": "USD",
        "lines": [{"sku": "WINE-RED", "quantity": 1, "unit_price_minor": 1000, "discount_minor": 0, "tax_minor": 0}],
        "subtotal_minor": 1000, "discount_total_minor": 0, "tax_total_minor": 0, "total_minor": 1000,
        "tenders": [{"kind": "cash", "amount_minor": 1000}], "change_minor": 0
    });
    let recorded = app.post("/v1/sales", &manager, &sale, &[]).await?;
    assert_eq!(recorded.status, 201, "{}", recorded.body);
    let sequence = recorded.body["stream_sequence"]
        .as_u64()
        .context("no stream_sequence")?;
    let started = Instant::now();
    let reply = app
        .send(
            app.http
                .get(format!("{}/v1/sales?min_sequence={sequence}", app.address))
                .bearer_auth(&manager),
        )
        .await?;
    assert_eq!((reply.status, reply.code()), (503, "unavailable"), "{}", reply.body);
    assert!(reply.header("retry-after").is_some());
    assert!(started.elapsed() < GENEROUS);
    app.stream.delete().await
}

/// Opens `count` half-open connections to `address`: silent ones, half a request head,
/// and unauthenticated requests announcing a body and sending one byte of it (every fifth).
async fn half_open(address: &str, count: usize) -> anyhow::Result<Vec<TcpStream>> {
    let mut connections = Vec::with_capacity(count);
    for index in 0..count {
        let mut stream = TcpStream::connect(address)
            .await
            .with_context(|| format!("connection {index}"))?;
        match index % 5 {
            0 | 1 => {}
            2 | 3 => stream.write_all(b"GET /health HTTP/1.1\r\nHost: till").await?,
            _ => {
                stream
                    .write_all(post_head("/v1/auth/login", 1_000, "").as_bytes())
                    .await?;
                stream.write_all(b"{").await?;
            }
        }
        connections.push(stream);
    }
    Ok(connections)
}

#[tokio::test]
async fn hundreds_of_half_open_connections_leave_health_answered_and_are_all_closed() -> anyhow::Result<()> {
    // The long variant's timeouts are long enough to hold all 3,000 at once on a slow
    // machine.
    let (count, timeout) = if long() { (3_000, "15000") } else { (300, "2000") };
    // A real process, so its own descriptors and memory can be counted.
    let stream = TestStream::create(&Servers::connect().await?.jetstream).await?;
    let port = processes::free_port()?;
    let address = format!("127.0.0.1:{port}");
    let args: Vec<String> = [
        "--listen-addr",
        &address,
        "--nats-url",
        &tests::servers::nats_url(),
        "--mongodb-uri",
        &tests::servers::mongodb_uri(),
        "--stream-name",
        &stream.name,
        "--subject-prefix",
        stream.scheme.prefix(),
        "--jwt-secret",
        &TokenIssuer::default().secret,
        "--header-timeout-ms",
        timeout,
        "--body-timeout-ms",
        timeout,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut api = processes::service(env!("CARGO_BIN_EXE_command-api-under-test"), &args);
    api.start()?;
    let pid = api.pid().context("the API is not running")?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(0).build()?;
    let health = || async {
        let response = http.get(format!("http://{address}/health")).send().await?;
        anyhow::Ok(response.status().as_u16())
    };
    eventually("the API to answer", GENEROUS, || async {
        Ok(matches!(health().await, Ok(200)).then_some(()))
    })
    .await?;
    let usage = || {
        (
            processes::open_files(pid).unwrap_or_default(),
            processes::resident_kib(pid).unwrap_or_default() / 1024,
        )
    };
    let (files_before, mib_before) = usage();

    let opened = Instant::now();
    let connections = half_open(&address, count).await?;
    println!(
        "{count} half-open connections opened in {:?}; before: API descriptors {files_before}, RSS {mib_before} MiB",
        opened.elapsed()
    );

    // The server still answers, and promptly.
    let asked = Instant::now();
    let status = tokio::time::timeout(Duration::from_secs(5), health())
        .await
        .context("/health did not answer within 5 s")??;
    assert_eq!(status, 200);
    let (files_held, mib_held) = usage();
    println!(
        "/health answered in {:?} with {count} connections held: API descriptors {files_held}, RSS {mib_held} MiB",
        asked.elapsed()
    );

    // And every held connection is closed by its timeout.
    let closed = join_all(
        connections
            .into_iter()
            .enumerate()
            .map(|(index, mut stream)| async move {
                read_until_closed(&mut stream, 2 * GENEROUS)
                    .await
                    .with_context(|| format!("connection {index}"))
            }),
    )
    .await;
    let mut answered = 0;
    for received in closed {
        let received = received?;
        if !received.is_empty() {
            assert_eq!(status_of(&received), Some(408), "{received}");
            answered += 1;
        }
    }
    assert_eq!(answered, count / 5, "each half-sent body got its 408");
    let (files_after, mib_after) = eventually("the API to let go of the descriptors", GENEROUS, || async {
        let (files, mib) = usage();
        Ok((files <= files_before + 5).then_some((files, mib)))
    })
    .await?;
    println!(
        "all {count} closed {:?} after /health was asked: API descriptors {files_after}, RSS {mib_after} MiB",
        asked.elapsed()
    );
    // Graceful shutdown still works with the server's own accept loop.
    api.stop(Duration::from_secs(10)).await?;
    stream.delete().await
}
