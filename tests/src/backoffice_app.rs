//! The real back office on a random port in front of a [`CommandApp`], real accounts made
//! through the API's identity flow (signup, verification and invitations read from the
//! development outbox), and [`Visit`], a cookie-keeping HTTP client for the abuse tests
//! that a browser would not let anyone make.

use std::time::Duration;

use anyhow::Context;
use backoffice::{Application, Config};
use bson::doc;
use clap::Parser;
use futures::TryStreamExt;
use serde_json::{Value, json};

use crate::command_app::CommandApp;
use crate::poll::eventually;

/// The password of every account the harness makes (long, not common).
pub const PASSWORD: &str = "Correct-horse-battery-7";

/// A running back office.
pub struct BackofficeApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
}

impl BackofficeApp {
    /// The configuration of a test back office in front of the API at `api`: the real
    /// command line's defaults with a random port.
    pub fn config(api: &str) -> Config {
        let mut config = Config::try_parse_from(["backoffice", "--api-url", api])
            .expect("the defaults and an API address form a valid command line");
        config.listen_addr = "127.0.0.1:0".parse().expect("literal address");
        config
    }

    /// Starts a back office in front of `api`.
    pub async fn spawn(api: &CommandApp) -> anyhow::Result<Self> {
        Self::spawn_with(api, |_| {}).await
    }

    /// Starts a back office in front of `api` after `adjust` changed its configuration.
    pub async fn spawn_with(api: &CommandApp, adjust: impl FnOnce(&mut Config)) -> anyhow::Result<Self> {
        let mut config = Self::config(&api.address);
        adjust(&mut config);
        let app = Application::build(config).await.context("building the back office")?;
        let address = format!("http://127.0.0.1:{}", app.port());
        tokio::spawn(app.run_until(std::future::pending()));
        Ok(Self { address })
    }

    /// A new visitor without cookies.
    pub fn visit(&self) -> Visit {
        Visit {
            base: self.address.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client without TLS builds"),
            cookie: None,
        }
    }
}

/// An answer of the back office.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body as text.
    pub body: String,
}

impl Answer {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The CSRF token of the page's forms.
    pub fn csrf(&self) -> Option<String> {
        let marker = r#"name="csrf" value=""#;
        let start = self.body.find(marker)? + marker.len();
        let end = self.body[start..].find('"')?;
        Some(self.body[start..start + end].to_owned())
    }
}

/// A visitor keeping its session cookie, following no redirects.
pub struct Visit {
    base: String,
    /// The HTTP client.
    pub http: reqwest::Client,
    /// The `name=value` of the session cookie, once set.
    pub cookie: Option<String>,
}

impl Visit {
    async fn answer(&mut self, request: reqwest::RequestBuilder) -> anyhow::Result<Answer> {
        let request = match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        };
        let response = request.send().await.context("sending to the back office")?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        if let Some(set) = headers.get("set-cookie").and_then(|v| v.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or_default().to_owned();
            self.cookie = if pair.ends_with('=') { None } else { Some(pair) };
        }
        let body = response.text().await.context("reading the body")?;
        Ok(Answer { status, headers, body })
    }

    /// GETs `path`.
    pub async fn get(&mut self, path: &str) -> anyhow::Result<Answer> {
        let request = self.http.get(format!("{}{path}", self.base));
        self.answer(request).await
    }

    /// POSTs the form `fields` to `path` (add the `csrf` field yourself).
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> anyhow::Result<Answer> {
        let request = self.http.post(format!("{}{path}", self.base)).form(fields);
        self.answer(request).await
    }

    /// POSTs the form with extra headers.
    pub async fn post_with(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Answer> {
        let mut request = self.http.post(format!("{}{path}", self.base)).form(fields);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.answer(request).await
    }

    /// Signs in with the sign-in form; fails unless sent on to a page.
    pub async fn sign_in(&mut self, email: &str) -> anyhow::Result<Answer> {
        let form = self.get("/login").await?;
        let csrf = form.csrf().context("the sign-in form has a CSRF token")?;
        let answer = self
            .post("/login", &[("csrf", &csrf), ("email", email), ("password", PASSWORD)])
            .await?;
        anyhow::ensure!(answer.status == 303, "signing in: {} {}", answer.status, answer.body);
        Ok(answer)
    }

    /// The CSRF token of the signed-in session (from a page's sign-out form).
    pub async fn csrf(&mut self) -> anyhow::Result<String> {
        self.get("/stock")
            .await?
            .csrf()
            .context("a signed-in page has a CSRF token")
    }
}

/// A tenant made through the real identity flow, with an admin, a manager and a cashier
/// who all have passwords.
#[derive(Debug, Clone)]
pub struct Organization {
    /// The tenant (organization id).
    pub tenant: events::TenantId,
    /// The admin's email.
    pub admin: String,
    /// The manager's email.
    pub manager: String,
    /// The cashier's email.
    pub cashier: String,
    /// An admin access token (for posting through the API).
    pub admin_token: String,
}

/// A unique email address.
pub fn unique_email(stem: &str) -> String {
    format!("{stem}-{}@example.com", uuid::Uuid::now_v7().simple())
}

async fn post_json(app: &CommandApp, path: &str, token: Option<&str>, body: &Value) -> anyhow::Result<Value> {
    let mut request = app.http.post(format!("{}{path}", app.address)).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let reply = app.send(request).await?;
    anyhow::ensure!(
        (200..300).contains(&reply.status),
        "{path}: {} {}",
        reply.status,
        reply.body
    );
    Ok(reply.body)
}

/// The token on the line starting with `label` of the newest mail to `email`.
pub async fn mailed_token(app: &CommandApp, email: &str, label: &str) -> anyhow::Result<String> {
    let outbox = app
        .servers
        .mongo
        .database("liquor_pos_main")
        .collection::<bson::Document>("outbox");
    eventually("a mail with a token", Duration::from_secs(10), || {
        let outbox = outbox.clone();
        async move {
            let mails: Vec<bson::Document> = outbox
                .find(doc! {"to": email.to_lowercase()})
                .sort(doc! {"sent_at": -1, "_id": -1})
                .await?
                .try_collect()
                .await?;
            Ok(mails.iter().find_map(|mail| {
                let body = mail.get_str("body").ok()?;
                body.lines().find_map(|l| l.strip_prefix(label)).map(str::to_owned)
            }))
        }
    })
    .await
}

impl Organization {
    /// Signs up and verifies an organization through the API, invites a manager and a
    /// cashier, opens location `main` (UTC, USD) and signs the admin in for a token.
    pub async fn create(app: &CommandApp) -> anyhow::Result<Self> {
        let admin = unique_email("admin");
        post_json(
            app,
            "/v1/auth/signup",
            None,
            &json!({"organization_name": "Corner Wines", "admin_name": "Ada", "email": admin}),
        )
        .await?;
        let token = mailed_token(app, &admin, "Verification token: ").await?;
        let verified = post_json(
            app,
            "/v1/auth/verify",
            None,
            &json!({"token": token, "password": PASSWORD}),
        )
        .await?;
        let tenant = events::TenantId::parse(verified["organization_id"].as_str().unwrap_or_default())?;
        let login = post_json(
            app,
            "/v1/auth/login",
            None,
            &json!({"email": admin, "password": PASSWORD}),
        )
        .await?;
        let admin_token = login["access_token"].as_str().unwrap_or_default().to_owned();
        let manager = Self::invite(app, &admin_token, "manager").await?;
        let cashier = Self::invite(app, &admin_token, "cashier").await?;
        post_json(
            app,
            "/v1/locations",
            Some(&admin_token),
            &crate::command_app::location_body("main", "UTC", "00:00", "USD"),
        )
        .await?;
        Ok(Self {
            tenant,
            admin,
            manager,
            cashier,
            admin_token,
        })
    }

    /// Invites a user with `role` and accepts the invitation; returns their email.
    pub async fn invite(app: &CommandApp, admin_token: &str, role: &str) -> anyhow::Result<String> {
        let email = unique_email(role);
        post_json(
            app,
            "/v1/users",
            Some(admin_token),
            &json!({"name": role, "email": email, "role": role}),
        )
        .await?;
        let token = mailed_token(app, &email, "Invitation token: ").await?;
        post_json(
            app,
            "/v1/auth/accept-invitation",
            None,
            &json!({"token": token, "password": PASSWORD}),
        )
        .await?;
        Ok(email)
    }
}
