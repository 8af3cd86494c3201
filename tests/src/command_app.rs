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

    /// Every event stored for `tenant`, oldest first, with its subject and headers.
    pub async fn tenant_messages(&self, tenant: &TenantId) -> anyhow::Result<Vec<async_nats::jetstream::Message>> {
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
