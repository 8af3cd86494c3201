//! `GET /v1/feed` against the real servers: the integrators' event feed of the token's
//! tenant, in the public shape, paged from a cursor, filtered by type, long-polled.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use events::{EventEnvelope, EventType, Role, TenantId};
use serde_json::{Value, json};
use tests::command_app::Reply;
use tests::generator::{mixed_events, publish};
use tests::{CommandApp, unique_tenant};

async fn feed(app: &CommandApp, token: &str, query: &str) -> anyhow::Result<Reply> {
    app.send(
        app.http
            .get(format!("{}/v1/feed?{query}", app.address))
            .bearer_auth(token),
    )
    .await
}

/// Every page from `after=0` until the feed says it caught up, following `next_after`;
/// answers the events and how many pages it took.
async fn read_all(app: &CommandApp, token: &str, filter: &str) -> anyhow::Result<(Vec<Value>, usize)> {
    let mut after = 0u64;
    let mut events = Vec::new();
    let mut pages = 0;
    loop {
        let reply = feed(app, token, &format!("after={after}&limit=50{filter}")).await?;
        anyhow::ensure!(reply.status == 200, "page after {after}: {reply:?}");
        pages += 1;
        let page = reply.body["events"].as_array().cloned().unwrap_or_default();
        let next = reply.body["next_after"].as_u64().unwrap_or_default();
        anyhow::ensure!(page.len() <= 50, "a page over its limit");
        anyhow::ensure!(next >= after, "the cursor went back from {after} to {next}");
        if let Some(last) = page.last() {
            anyhow::ensure!(
                last["sequence"].as_u64() == Some(next),
                "next_after is not the last event's"
            );
        }
        events.extend(page);
        after = next;
        if reply.body["caught_up"] == json!(true) {
            return Ok((events, pages));
        }
        anyhow::ensure!(pages < 100, "the feed never caught up");
    }
}

/// (sequence, event id, type) of what the feed should show for `published`.
fn expected(
    published: &[EventEnvelope],
    sequences: &[u64],
    keep: impl Fn(EventType) -> bool,
) -> Vec<(u64, String, String)> {
    published
        .iter()
        .zip(sequences)
        .filter(|(e, _)| keep(e.event_type()))
        .map(|(e, s)| (*s, e.event_id.to_string(), e.event_type().as_str().to_owned()))
        .collect()
}

fn seen(events: &[Value]) -> Vec<(u64, String, String)> {
    events
        .iter()
        .map(|e| {
            (
                e["sequence"].as_u64().unwrap_or_default(),
                e["id"].as_str().unwrap_or_default().to_owned(),
                e["type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_feed_pages_a_tenants_events_in_order_without_gap_duplicate_other_tenants_or_personal_data()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let (tenant, other) = (unique_tenant(), unique_tenant());
    let ours = mixed_events(&tenant, 20, 150);
    // Another seed: the same event ids would be dropped as duplicates by JetStream.
    let theirs = mixed_events(&other, 21, 150);
    // Interleaved, so the tenant's sequences have gaps where the other tenant's are.
    let mut sequences = Vec::new();
    for (mine, foreign) in ours.chunks(40).zip(theirs.chunks(40)) {
        sequences.extend(publish(&app.servers.jetstream, &app.stream.scheme, mine).await?);
        publish(&app.servers.jetstream, &app.stream.scheme, foreign).await?;
    }
    assert_eq!(sequences.len(), ours.len());

    let manager = app.token(&tenant, Role::Manager).await?;
    let (events, pages) = read_all(&app, &manager, "").await?;
    // 150 events in pages of 50, and the last page answers caught up.
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(seen(&events), expected(&ours, &sequences, |_| true));
    let ids: HashSet<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(ids.len(), events.len(), "a duplicate");

    // The public shape, without personal data: the generator's users have names
    // `User u-…` and addresses `…@example.com`.
    let first = &events[0];
    assert_eq!(first["type"], "UserJoined");
    assert_eq!(first["version"], 1);
    assert_eq!(first["aggregate"], json!({"kind": "user", "id": "u-admin"}));
    assert_eq!(first["data"], json!({"user_id": "u-admin", "role": "admin"}));
    assert_eq!(first["occurred_at"], json!(ours[0].occurred_at));
    let text = serde_json::to_string(&events)?;
    assert!(!text.contains("@example.com"), "an email address in the feed");
    assert!(!text.contains("User u-"), "a user's name in the feed");
    assert!(!text.contains("idempotency"), "the internal envelope in the feed");

    // Resuming from the middle gives exactly the rest.
    let cursor = events[69]["sequence"].as_u64().unwrap_or_default();
    let rest = feed(&app, &manager, &format!("after={cursor}&limit=1000")).await?;
    assert_eq!(rest.status, 200, "{rest:?}");
    let rest = rest.body["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(seen(&rest), seen(&events[70..]));

    // The type filter, as an admin: only sales completed and refunded, in order.
    let admin = app.token(&tenant, Role::Admin).await?;
    let (sales, _) = read_all(&app, &admin, "&types=SaleCompleted,SaleRefunded").await?;
    let wanted = expected(&ours, &sequences, |t| {
        matches!(t, EventType::SaleCompleted | EventType::SaleRefunded)
    });
    assert!(!wanted.is_empty(), "the generator made no sales");
    assert_eq!(seen(&sales), wanted);

    // The other tenant sees its own copies only.
    let foreign = app.token(&other, Role::Admin).await?;
    let (theirs_seen, _) = read_all(&app, &foreign, "").await?;
    assert_eq!(theirs_seen.len(), theirs.len());
    let our_sequences: HashSet<u64> = sequences.iter().copied().collect();
    assert!(
        theirs_seen
            .iter()
            .all(|e| !our_sequences.contains(&e["sequence"].as_u64().unwrap_or_default()))
    );
    Ok(())
}

#[tokio::test]
async fn a_long_poll_answers_with_the_next_event_and_an_idle_one_with_an_empty_page() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    app.open_locations(&tenant).await?;
    let manager = app.token(&tenant, Role::Manager).await?;
    let head = feed(&app, &manager, "").await?;
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(head.body["caught_up"], true);
    let after = head.body["next_after"].as_u64().unwrap_or_default();
    assert!(after > 0);

    // Nothing newer: without a wait the answer is immediate and empty; with one, empty
    // after about the wait.
    let empty = feed(&app, &manager, &format!("after={after}")).await?;
    assert_eq!(
        empty.body,
        json!({"events": [], "next_after": after, "caught_up": true})
    );
    let started = Instant::now();
    let idle = feed(&app, &manager, &format!("after={after}&wait_ms=400")).await?;
    assert_eq!(idle.body, json!({"events": [], "next_after": after, "caught_up": true}));
    assert!(
        started.elapsed() >= Duration::from_millis(350),
        "{:?}",
        started.elapsed()
    );

    // A waiting request gets the sale recorded while it waits.
    let waiting = {
        let (http, address, token) = (app.http.clone(), app.address.clone(), manager.clone());
        tokio::spawn(async move {
            http.get(format!(
                "{address}/v1/feed?after={after}&wait_ms=8000&types=SaleCompleted"
            ))
            .bearer_auth(token)
            .send()
            .await?
            .json::<Value>()
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sale = json!({
        "sale_id": "s-1", "location": "main", "currency": "USD",
        "lines": [{"sku": "WINE-RED", "quantity": 2, "unit_price_minor": 1299, "discount_minor": 100, "tax_minor": 200}],
        "subtotal_minor": 2598, "discount_total_minor": 100, "tax_total_minor": 200, "total_minor": 2698,
        "tenders": [{"kind": "cash", "amount_minor": 3000}], "change_minor": 302
    });
    let posted = app.post("/v1/sales", &manager, &sale, &[]).await?;
    assert_eq!(posted.status, 201, "{posted:?}");
    let page = waiting.await??;
    let events = page["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 1, "{page}");
    assert_eq!(events[0]["type"], "SaleCompleted");
    assert_eq!(events[0]["aggregate"], json!({"kind": "sale", "id": "s-1"}));
    assert_eq!(events[0]["sequence"], posted.body["stream_sequence"]);
    assert_eq!(events[0]["data"]["total_minor"], 2698);
    assert_eq!(page["next_after"], posted.body["stream_sequence"]);
    Ok(())
}

#[tokio::test]
async fn a_cashier_is_refused_and_bad_parameters_are_named() -> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant: TenantId = unique_tenant();
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let refused = feed(&app, &cashier, "").await?;
    assert_eq!(refused.status, 403, "{refused:?}");

    let admin = app.token(&tenant, Role::Admin).await?;
    for (query, field) in [
        ("after=-1", "after"),
        ("after=abc", "after"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("wait_ms=25001", "wait_ms"),
        ("types=SaleDone", "types"),
        ("types=", "types"),
        ("cursor=5", "cursor"),
    ] {
        let reply = feed(&app, &admin, query).await?;
        assert_eq!(reply.status, 422, "{query}: {reply:?}");
        assert_eq!(reply.field(), field, "{query}: {reply:?}");
    }
    let unauthenticated = app.get("/v1/feed").await?;
    assert_eq!(unauthenticated.status, 401);
    Ok(())
}

/// An open `GET /v1/feed/stream` and what it has sent so far.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    async fn open(app: &CommandApp, token: &str, query: &str, last_event_id: Option<u64>) -> anyhow::Result<Self> {
        let mut request = app
            .http
            .get(format!("{}/v1/feed/stream?{query}", app.address))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await?;
        anyhow::ensure!(response.status() == 200, "opening the stream: {}", response.status());
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        anyhow::ensure!(content_type.starts_with("text/event-stream"), "{content_type}");
        Ok(Self {
            response,
            buffer: String::new(),
        })
    }

    /// The next `count` events as (id, event, data), within 10 s.
    async fn take(&mut self, count: usize) -> anyhow::Result<Vec<(u64, String, Value)>> {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while out.len() < count {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (None, String::new(), Value::Null);
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse::<u64>().ok();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data = serde_json::from_str(v.trim())?;
                    }
                }
                if let Some(id) = id {
                    out.push((id, event, data));
                }
            }
            if out.len() >= count {
                break;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .map_err(|_| anyhow::anyhow!("only {} of {count} events within 10 s", out.len()))??
                .ok_or_else(|| anyhow::anyhow!("the stream ended after {} events", out.len()))?;
            self.buffer.push_str(std::str::from_utf8(&chunk)?);
        }
        anyhow::ensure!(out.len() == count, "more events in one chunk than asked for");
        Ok(out)
    }
}

#[tokio::test]
async fn an_event_stream_client_disconnects_and_resumes_with_last_event_id_without_gap_or_duplicate()
-> anyhow::Result<()> {
    let app = CommandApp::spawn().await?;
    let tenant = unique_tenant();
    let events = mixed_events(&tenant, 30, 60);
    let mut sequences = publish(&app.servers.jetstream, &app.stream.scheme, &events[..40]).await?;
    let manager = app.token(&tenant, Role::Manager).await?;

    let mut first = EventStream::open(&app, &manager, "", None).await?;
    let mut got = first.take(25).await?;
    drop(first); // the client goes away mid-history

    let last = got.last().map(|(id, _, _)| *id).unwrap_or_default();
    let mut second = EventStream::open(&app, &manager, "after=0", Some(last)).await?;
    got.extend(second.take(15).await?);
    // Live: what is stored while the client listens arrives too.
    sequences.extend(publish(&app.servers.jetstream, &app.stream.scheme, &events[40..]).await?);
    got.extend(second.take(20).await?);

    let expected: Vec<(u64, String)> = events
        .iter()
        .zip(&sequences)
        .map(|(e, s)| (*s, e.event_type().as_str().to_owned()))
        .collect();
    let seen: Vec<(u64, String)> = got.iter().map(|(id, event, _)| (*id, event.clone())).collect();
    assert_eq!(seen, expected);
    for (id, event, data) in &got {
        assert_eq!(data["sequence"].as_u64(), Some(*id));
        assert_eq!(data["type"].as_str(), Some(event.as_str()));
    }
    let text = serde_json::to_string(&got.iter().map(|(_, _, d)| d).collect::<Vec<_>>())?;
    assert!(!text.contains("@example.com"), "an email address in the stream");

    // The type filter applies to the stream too; a cashier is refused.
    let mut sales = EventStream::open(&app, &manager, "types=SaleCompleted", None).await?;
    let wanted: Vec<u64> = events
        .iter()
        .zip(&sequences)
        .filter(|(e, _)| e.event_type() == EventType::SaleCompleted)
        .map(|(_, s)| *s)
        .collect();
    assert!(!wanted.is_empty());
    let got: Vec<u64> = sales
        .take(wanted.len())
        .await?
        .into_iter()
        .map(|(id, _, _)| id)
        .collect();
    assert_eq!(got, wanted);
    let cashier = app.token(&tenant, Role::Cashier).await?;
    let refused = app
        .send(
            app.http
                .get(format!("{}/v1/feed/stream", app.address))
                .bearer_auth(&cashier),
        )
        .await?;
    assert_eq!(refused.status, 403);
    let bad = app
        .send(
            app.http
                .get(format!("{}/v1/feed/stream", app.address))
                .bearer_auth(&manager)
                .header("Last-Event-ID", "yesterday"),
        )
        .await?;
    assert_eq!((bad.status, bad.field()), (422, "Last-Event-ID"));
    Ok(())
}

/// NATS 2.15 gives a stream without its own `max_consumers` a default of 1,000, and every
/// tenant's feed readers share the one event stream (each open stream or page holds an
/// ephemeral consumer): the product's stream sets its own bound, so the 1,001st reader
/// across all tenants is not refused.
#[tokio::test]
async fn the_event_stream_takes_more_readers_than_the_servers_default_thousand() -> anyhow::Result<()> {
    let nats = async_nats::connect(tests::servers::nats_url()).await?;
    let jetstream = async_nats::jetstream::new(nats);
    let stream = tests::TestStream::create(&jetstream).await?;
    let handle = jetstream.get_stream(&stream.name).await?;
    let config = handle.cached_info().config.clone();
    assert_eq!(config.max_consumers, eventstore::StreamSettings::DEFAULT_MAX_CONSUMERS);
    for n in 0..1_001 {
        let reader = async_nats::jetstream::consumer::pull::Config {
            inactive_threshold: Duration::from_secs(120),
            ..Default::default()
        };
        handle
            .create_consumer(reader)
            .await
            .map_err(|err| anyhow::anyhow!("reader {n}: {err}"))?;
    }
    stream.delete().await
}
