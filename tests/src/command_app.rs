//! The real command API, started in-process on a random port against the shared servers,
//! with its own stream and subject prefix.

use anyhow::Context;
use clap::Parser;
use command_api::config::Cli;
use command_api::{Application, Config};
use events::{Role, TenantId};
use serde_json::Value;

use crate::servers::{Servers, mongodb_uri};
use crate::stream::TestStream;
use crate::tokens::TokenIssuer;

/// The metrics token test apps are configured with.
pub const METRICS_TOKEN: &str = "test-metrics-token";

/// A running command API.
pub struct CommandApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// HTTP client.
    pub http: reqwest::Client,
    /// The app's own stream.
    pub stream: TestStream,
    /// Connected servers, for inspecting the stream.
    pub servers: Servers,
    /// Issues tokens the app accepts.
    pub tokens: TokenIssuer,
}

/// A tenant with store `main` open, from [`CommandApp::backdated_store`].
#[derive(Debug, Clone)]
pub struct Store {
    /// The tenant.
    pub tenant: TenantId,
    /// Its cashier's token (terminal `till-1`).
    pub cashier: String,
    /// Its manager's token.
    pub manager: String,
}

/// A response with its body parsed as JSON (or `Null` when it is not JSON).
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body as JSON.
    pub body: Value,
}

impl Reply {
    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The error code of an error body.
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// The field of an error body.
    pub fn field(&self) -> &str {
        self.body["error"]["field"].as_str().unwrap_or_default()
    }
}

impl CommandApp {
    /// The configuration of a test app on `stream`: the real command line's defaults
    /// (parsed by the binary's own parser, so they cannot drift), with the test servers,
    /// the per-test stream, the token issuer's secret, and a few limits tests rely on.
    pub fn config(stream: &TestStream, tokens: &TokenIssuer) -> Config {
        let mut config = Cli::try_parse_from(["command-api", "--jwt-secret", &tokens.secret])
            .expect("the defaults and a JWT secret form a valid command line")
            .config;
        config.listen_addr = "127.0.0.1:0".parse().expect("literal address");
        config.stream = stream.args();
        config.mongo.mongodb_uri = mongodb_uri();
        config.jwt_default_kid = "default".to_owned();
        config.jwt_issuer = tokens.issuer.clone();
        config.jwt_audience = tokens.audience.clone();
        // A small clock-skew tolerance keeps the expiry tests (tokens 120 s old) far from it.
        config.jwt_leeway_secs = 5;
        config.refresh_token_ttl_secs = 3600;
        config.verification_ttl_secs = 3600;
        config.smtp_url = None;
        config.mail_from = "tillstream <no-reply@tillstream.test>".to_owned();
        // Every test client comes from 127.0.0.1, and per-address counters live in the
        // shared database for every test: budgets per address are large. A test of a
        // per-address limit names its own address in `X-Forwarded-For`, which the app
        // believes from 127.0.0.1.
        config.login_attempts_per_address = 100_000;
        config.signup_attempts_per_address = 100_000;
        config.trusted_proxies = vec![std::net::IpAddr::from([127, 0, 0, 1])];
        // The body-limit test sends 200 KiB, which must be over the limit.
        config.body_limit_bytes = 64 * 1024;
        config.catalog_cache_capacity = 10_000;
        config.metrics_token = Some(METRICS_TOKEN.into());
        config
    }

    /// Starts an app with the default configuration.
    pub async fn spawn() -> anyhow::Result<Self> {
        Self::spawn_with(|_| {}).await
    }

    /// Starts an app after `adjust` has changed its configuration.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> anyhow::Result<Self> {
        let servers = Servers::connect().await?;
        let stream = TestStream::create(&servers.jetstream).await?;
        let tokens = TokenIssuer::default();
        let mut config = Self::config(&stream, &tokens);
        adjust(&mut config);
        let app = Application::build(config).await.context("building the command API")?;
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until(std::future::pending()));
        Ok(Self {
            address,
            http: reqwest::Client::new(),
            stream,
            servers,
            tokens,
        })
    }

    /// A token for user `<role>-<tenant>` with `role` in `tenant`, creating the tenant and
    /// the user in the shared database if needed (the API refuses tokens of unknown ones).
    pub async fn token(&self, tenant: &TenantId, role: Role) -> anyhow::Result<String> {
        self.tokens.account_token(tenant, role).await
    }

    /// Sends `request` and parses the answer.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Reply> {
        let response = request.send().await.context("sending the request")?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.context("reading the body")?;
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Reply { status, headers, body })
    }

    /// POSTs JSON to `path` with a bearer token and extra headers.
    pub async fn post(&self, path: &str, token: &str, body: &Value, headers: &[(&str, &str)]) -> anyhow::Result<Reply> {
        self.write(reqwest::Method::POST, path, token, body, headers).await
    }

    /// Sends JSON with `method` to `path` with a bearer token and extra headers.
    pub async fn write(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Reply> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(token)
            .json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    /// GETs `path` without a token.
    pub async fn get(&self, path: &str) -> anyhow::Result<Reply> {
        self.send(self.http.get(format!("{}{path}", self.address))).await
    }

    /// Opens the locations the suites sell from ([`open_locations_at`]) for `tenant`, as
    /// its admin. Every command naming a location needs it opened first.
    pub async fn open_locations(&self, tenant: &TenantId) -> anyhow::Result<()> {
        open_locations_at(&self.http, &self.address, &self.token(tenant, Role::Admin).await?).await
    }

    /// Configures a tax jurisdiction (`POST /v1/tax-jurisdictions`) as `admin`; expects 201.
    pub async fn configure_jurisdiction(&self, admin: &str, jurisdiction: Value) -> anyhow::Result<Reply> {
        created(
            self,
            admin,
            "/v1/tax-jurisdictions",
            &serde_json::json!({"jurisdiction": jurisdiction}),
        )
        .await
    }

    /// A new tenant for the cash and store suites: it may back-date (their fixed past
    /// dates), has store `main` opened (UTC, days from 00:00, USD), and its cashier's and
    /// manager's tokens.
    pub async fn backdated_store(&self) -> anyhow::Result<Store> {
        let tenant = crate::unique_tenant();
        self.allow_backdating(&tenant).await?;
        self.open_location(&tenant, "main", "UTC", "00:00", "USD").await?;
        let cashier = self.token(&tenant, Role::Cashier).await?;
        let manager = self.token(&tenant, Role::Manager).await?;
        Ok(Store {
            tenant,
            cashier,
            manager,
        })
    }

    /// Lets `tenant`'s sales be dated up to ten years back (the longest back-dating window):
    /// for suites that record sales on fixed past dates, which would otherwise fall out of
    /// the default week as the calendar moves on. Must be the tenant's first settings
    /// change.
    pub async fn allow_backdating(&self, tenant: &TenantId) -> anyhow::Result<()> {
        let body = serde_json::json!({"version": 0, "backdate_window_hours": 87_840});
        let reply = self
            .write(
                reqwest::Method::PUT,
                "/v1/settings/sales",
                &self.token(tenant, Role::Admin).await?,
                &body,
                &[],
            )
            .await?;
        anyhow::ensure!(reply.status == 201, "widening the back-dating window: {reply:?}");
        Ok(())
    }

    /// Opens location `id` of `tenant` with a time zone, business-day start and currency;
    /// fails unless it is recorded.
    pub async fn open_location(
        &self,
        tenant: &TenantId,
        id: &str,
        time_zone: &str,
        day_start: &str,
        currency: &str,
    ) -> anyhow::Result<Reply> {
        let body = location_body(id, time_zone, day_start, currency);
        let reply = self
            .post("/v1/locations", &self.token(tenant, Role::Admin).await?, &body, &[])
            .await?;
        anyhow::ensure!(reply.status == 201, "opening location {id}: {reply:?}");
        Ok(reply)
    }

    /// Every event stored for `tenant`, oldest first, with its subject and headers, except
    /// the location events and the sales settings ([`Self::open_locations`] and
    /// [`Self::allow_backdating`] set a tenant up with them; the suites count what their
    /// own commands published).
    pub async fn tenant_messages(&self, tenant: &TenantId) -> anyhow::Result<Vec<async_nats::jetstream::Message>> {
        let mut messages = self.all_tenant_messages(tenant).await?;
        // `<prefix>.<partition>.<tenant>.<kind>.<id>`: the kind is the next-to-last token.
        messages
            .retain(|m| m.subject.rsplit('.').nth(1) != Some("location") && !m.subject.ends_with(".settings.sales"));
        Ok(messages)
    }

    /// Every event stored for `tenant`, oldest first, with its subject and headers.
    pub async fn all_tenant_messages(&self, tenant: &TenantId) -> anyhow::Result<Vec<async_nats::jetstream::Message>> {
        use async_nats::jetstream::consumer::{DeliverPolicy, pull};
        use futures::StreamExt;
        let stream = self.servers.jetstream.get_stream(&self.stream.name).await?;
        let consumer = stream
            .create_consumer(pull::Config {
                filter_subject: self.stream.scheme.tenant_filter(tenant),
                deliver_policy: DeliverPolicy::All,
                ack_policy: async_nats::jetstream::consumer::AckPolicy::None,
                ..Default::default()
            })
            .await?;
        let pending = consumer.cached_info().num_pending as usize;
        let mut out = Vec::with_capacity(pending);
        if pending == 0 {
            return Ok(out);
        }
        let mut messages = consumer.fetch().max_messages(pending).messages().await?;
        while let Some(message) = messages.next().await {
            out.push(message.map_err(|e| anyhow::anyhow!("{e}"))?);
            if out.len() == pending {
                break;
            }
        }
        Ok(out)
    }
}

/// The body of `POST /v1/locations`.
pub fn location_body(id: &str, time_zone: &str, day_start: &str, currency: &str) -> Value {
    serde_json::json!({
        "location_id": id,
        "details": {"name": format!("Store {id}"), "time_zone": time_zone, "business_day_start": day_start, "currency": currency}
    })
}

/// Opens the locations the suites sell from, `main` and `annex` (UTC, day starting at
/// midnight, USD), on the API at `base` with an admin's `token`. An API process that is
/// still starting is waited for (up to 60 s).
pub async fn open_locations_at(http: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    for id in ["main", "annex"] {
        let response = loop {
            let sent = http
                .post(format!("{base}/v1/locations"))
                .bearer_auth(token)
                .json(&location_body(id, "UTC", "00:00", "USD"))
                .send()
                .await;
            match sent {
                Ok(response) => break response,
                Err(err) if err.is_connect() && std::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(err) => return Err(anyhow::Error::new(err).context(format!("opening location {id}"))),
            }
        };
        let status = response.status();
        anyhow::ensure!(
            status.as_u16() == 201,
            "opening location {id}: {status}: {}",
            response.text().await.unwrap_or_default()
        );
    }
    Ok(())
}

/// Posts `body` to `path` as `token` and expects 201; answers the event's stream
/// sequence (for `min_sequence` and checkpoints).
pub async fn posted(app: &CommandApp, token: &str, path: &str, body: &Value) -> anyhow::Result<u64> {
    let reply = app.post(path, token, body, &[]).await?;
    anyhow::ensure!(reply.status == 201, "{path}: {} {}", reply.status, reply.body);
    Ok(reply.body["stream_sequence"].as_u64().unwrap_or_default())
}

/// `POST path` as `token`; expects 201 and gives the whole answer (its `ETag`, body).
pub async fn created(app: &CommandApp, token: &str, path: &str, body: &Value) -> anyhow::Result<Reply> {
    let reply = app.post(path, token, body, &[]).await?;
    anyhow::ensure!(reply.status == 201, "{path}: {} {}", reply.status, reply.body);
    Ok(reply)
}

/// `GET path` as `token`, whatever the answer.
pub async fn get(app: &CommandApp, token: &str, path: &str) -> anyhow::Result<Reply> {
    app.send(app.http.get(format!("{}{path}", app.address)).bearer_auth(token))
        .await
}

/// `GET path` as `token` once the read model reached `sequence`; expects 200.
pub async fn read(app: &CommandApp, token: &str, path: &str, sequence: u64) -> anyhow::Result<Value> {
    let separator = if path.contains('?') { '&' } else { '?' };
    let reply = get(app, token, &format!("{path}{separator}min_sequence={sequence}")).await?;
    anyhow::ensure!(reply.status == 200, "{path}: {} {}", reply.status, reply.body);
    Ok(reply.body)
}

/// Each row of a Z report answer (`GET /v1/reports/daily`) as (location, sale count,
/// total), sorted by location.
pub fn daily_rows(body: &Value) -> Vec<(String, i64, i64)> {
    let mut rows: Vec<(String, i64, i64)> = body["items"]
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|row| {
                    (
                        row["location"].as_str().unwrap_or_default().to_owned(),
                        row["sale_count"].as_i64().unwrap_or_default(),
                        row["total_minor"].as_i64().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    rows.sort();
    rows
}

/// The integers at dotted `fields` (`"drawers.expected_cash_minor"`) of `row`, with
/// `i64::MIN` for a missing or non-integer one (so a comparison shows which).
pub fn figures(row: &Value, fields: &[&str]) -> Vec<i64> {
    fields
        .iter()
        .map(|path| path.split('.').fold(row, |v, k| &v[k]).as_i64().unwrap_or(i64::MIN))
        .collect()
}
