//! The command API over HTTP: the back office's only backend. Every call carries the
//! signed-in user's bearer token (kept in the server-side session, never sent to the
//! browser); the API decides the tenant from it and checks the role again.
//!
//! # Layout
//! - [`Api`]: the client (JSON reads, CSV reads, JSON writes).
//! - [`ApiError`]: a refusal (status, code, message, field) or an unreachable API.
//! - [`views`]: the answers the pages read, as typed structs.

pub mod views;

use std::net::IpAddr;

use reqwest::{Method, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A failed call of the command API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The API answered with an error status (a page shows the message; 401 ends the
    /// session, 403 is a role the page names, 404 a page not found).
    #[error("the API refused ({status}): {code}: {message}")]
    Refused {
        /// HTTP status.
        status: StatusCode,
        /// The stable error code (`version_conflict`, `forbidden`, ...).
        code: String,
        /// The API's explanation.
        message: String,
        /// The field at fault, if any.
        field: Option<String>,
        /// With `version_conflict`: the current version.
        current_version: Option<i64>,
        /// With `forbidden`: the least role that may do it.
        required_role: Option<String>,
    },
    /// The API could not be reached or did not answer in time (503 page).
    #[error("the API is unreachable")]
    Unreachable(#[source] reqwest::Error),
    /// The API answered something the back office cannot read (502 page).
    #[error("the API answered something unexpected")]
    Malformed(#[source] anyhow::Error),
}

impl ApiError {
    /// The HTTP status of a refusal.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ApiError::Refused { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the API refused the token (the session is over).
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(StatusCode::UNAUTHORIZED)
    }
}

/// The answer to a write the API accepted.
#[derive(Debug)]
pub struct Written {
    /// The JSON body.
    pub body: serde_json::Value,
    /// The `ETag` (catalog changes), without quotes.
    pub etag: Option<String>,
}

/// The client of the command API.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
}

/// The error body of the API, as far as the back office reads it.
#[derive(Debug, serde::Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, serde::Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    current_version: Option<i64>,
    #[serde(default)]
    required_role: Option<String>,
}

impl Api {
    /// A client of the API at `base` (no trailing slash), each call bounded by `timeout`.
    pub fn new(base: String, timeout: std::time::Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(Self { http, base })
    }

    fn request(&self, method: Method, path: &str, token: Option<&str>) -> reqwest::RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.base));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn refusal(response: reqwest::Response) -> ApiError {
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(ErrorBody { error }) => ApiError::Refused {
                status,
                code: error.code,
                message: error.message,
                field: error.field,
                current_version: error.current_version,
                required_role: error.required_role,
            },
            Err(_) => ApiError::Refused {
                status,
                code: "unexpected".to_owned(),
                message: format!("the API answered {status}"),
                field: None,
                current_version: None,
                required_role: None,
            },
        }
    }

    /// GETs `path` with `query` as the user of `token`, parsing the JSON answer.
    pub async fn get<T: DeserializeOwned>(
        &self,
        token: &str,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ApiError> {
        let response = self
            .request(Method::GET, path, Some(token))
            .query(query)
            .send()
            .await
            .map_err(ApiError::Unreachable)?;
        if !response.status().is_success() {
            return Err(Self::refusal(response).await);
        }
        let bytes = response.bytes().await.map_err(ApiError::Unreachable)?;
        serde_json::from_slice(&bytes).map_err(|e| ApiError::Malformed(anyhow::Error::new(e).context(path.to_owned())))
    }

    /// GETs `path` as CSV (`Accept: text/csv`).
    pub async fn get_csv(&self, token: &str, path: &str, query: &[(&str, &str)]) -> Result<String, ApiError> {
        let response = self
            .request(Method::GET, path, Some(token))
            .header(header::ACCEPT, "text/csv")
            .query(query)
            .send()
            .await
            .map_err(ApiError::Unreachable)?;
        if !response.status().is_success() {
            return Err(Self::refusal(response).await);
        }
        response.text().await.map_err(ApiError::Unreachable)
    }

    /// Sends `body` as JSON with `method` to `path`, as the user of `token` (none for the
    /// identity routes), with extra `headers`. `client` is the browser's address, passed
    /// on as `X-Forwarded-For` so the API's login throttle counts the person, not the back
    /// office (the API must list the back office among its `TRUSTED_PROXIES`).
    pub async fn send<B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &B,
        headers: &[(&str, String)],
        client: Option<IpAddr>,
    ) -> Result<Written, ApiError> {
        let mut request = self.request(method, path, token).json(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if let Some(client) = client {
            request = request.header("x-forwarded-for", client.to_string());
        }
        let response = request.send().await.map_err(ApiError::Unreachable)?;
        if !response.status().is_success() {
            return Err(Self::refusal(response).await);
        }
        let etag = response
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim_matches('"').to_owned());
        let bytes = response.bytes().await.map_err(ApiError::Unreachable)?;
        let body = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| ApiError::Malformed(anyhow::Error::new(e).context(path.to_owned())))?
        };
        Ok(Written { body, etag })
    }

    /// Like [`Self::send`], parsing the answer as `T`.
    pub async fn send_for<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &B,
        client: Option<IpAddr>,
    ) -> Result<T, ApiError> {
        let written = self.send(method, path, token, body, &[], client).await?;
        serde_json::from_value(written.body)
            .map_err(|e| ApiError::Malformed(anyhow::Error::new(e).context(path.to_owned())))
    }
}
