//! Idle feed connections: a release `command-api` process of its own (so its memory is
//! its own), N SSE connections opened on `GET /v1/feed/stream` and held with nothing
//! to send, the process's resident memory before and after, and `/health` answered
//! meanwhile.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::stats::{Latency, histogram};
use crate::system::Setup;
use crate::workload::Tenant;

/// What holding idle feed connections cost.
#[derive(Debug, Clone, Serialize)]
pub struct IdleReport {
    /// Connections held (each answered 200 with `text/event-stream`).
    pub connections: usize,
    /// The API's resident memory before, MiB.
    pub rss_before_mib: f64,
    /// With the connections held, MiB.
    pub rss_held_mib: f64,
    /// Per connection, KiB.
    pub per_connection_kib: f64,
    /// `GET /health` while they are held.
    pub health: Latency,
}

/// Resident memory of process `pid`, KiB (Linux `/proc`).
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS in /proc/{pid}/status"))
}

/// The `command-api` binary next to this one (the same `cargo build --release`).
pub fn sibling_binary(name: &str) -> anyhow::Result<PathBuf> {
    let here = std::env::current_exe()?;
    let dir = here
        .parent()
        .ok_or_else(|| anyhow::anyhow!("{} has no directory", here.display()))?;
    let path = dir.join(name);
    anyhow::ensure!(
        path.exists(),
        "{} not found: build it first (cargo build --release -p command-api)",
        path.display()
    );
    Ok(path)
}

/// Opens one SSE request on `address` and reads its answer's head; the stream is kept.
async fn open_stream(address: &str, token: &str) -> anyhow::Result<TcpStream> {
    let mut stream = TcpStream::connect(address).await?;
    let request = format!(
        "GET /v1/feed/stream HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut head = Vec::with_capacity(512);
    let mut byte = [0u8; 256];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte)).await??;
        anyhow::ensure!(n > 0, "the API closed the connection before answering");
        head.extend_from_slice(&byte[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    anyhow::ensure!(
        head.starts_with("HTTP/1.1 200") && head.to_ascii_lowercase().contains("text/event-stream"),
        "not an event stream: {}",
        head.lines().next().unwrap_or_default()
    );
    Ok(stream)
}

/// Starts `binary` (a release `command-api`) for `setup` on a free port, holds
/// `connections` idle feed streams of `tenant`, and reports the memory they cost.
pub async fn measure(
    setup: &Setup,
    binary: &PathBuf,
    tenant: &Tenant,
    connections: usize,
) -> anyhow::Result<IdleReport> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let address = format!("127.0.0.1:{port}");
    let listen = address.clone();
    let flags = [
        "--listen-addr",
        listen.as_str(),
        "--jwt-secret",
        setup.secret.as_str(),
        "--access-token-ttl-secs",
        "86400",
    ];
    let args = setup.args("command-api", &flags);
    let mut child = tokio::process::Command::new(binary)
        .args(&args[1..])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().ok_or_else(|| anyhow::anyhow!("the API exited at once"))?;
    let http = reqwest::Client::new();
    let ready = Instant::now();
    loop {
        if let Ok(answer) = http.get(format!("http://{address}/health")).send().await
            && answer.status().is_success()
        {
            break;
        }
        anyhow::ensure!(ready.elapsed() < Duration::from_secs(30), "the API did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Warm up: one stream opened and closed, so what is made once is not counted.
    drop(open_stream(&address, &tenant.token).await?);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = rss_kib(pid)?;
    let mut held = Vec::with_capacity(connections);
    for n in 0..connections {
        held.push(open_stream(&address, &tenant.token).await?);
        if (n + 1) % 250 == 0 {
            tracing::info!(held = n + 1, of = connections, "idle feed connections");
        }
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mut health = histogram();
    for _ in 0..50 {
        let sent = Instant::now();
        http.get(format!("http://{address}/health"))
            .send()
            .await?
            .error_for_status()?;
        health.saturating_record(sent.elapsed().as_micros() as u64);
    }
    let after = rss_kib(pid)?;
    drop(held);
    child.kill().await?;
    let mib = |kib: u64| kib as f64 / 1024.0;
    Ok(IdleReport {
        connections,
        rss_before_mib: mib(before),
        rss_held_mib: mib(after),
        per_connection_kib: after.saturating_sub(before) as f64 / connections.max(1) as f64,
        health: Latency::of(&health),
    })
}
