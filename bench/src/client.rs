//! The load generator's HTTP client: one HTTP/1.1 keep-alive connection per worker, with
//! nothing between the worker and hyper.
//!
//! The load generator shares the machine with what it measures, so every cycle it spends
//! is taken from the system under test. A general-purpose client adds URL parsing,
//! redirect and retry layers and a connection pool per request; here each worker owns its
//! connection, sends one request at a time on it, and reconnects after a transport error.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper_util::rt::TokioIo;

/// A worker's connection to one server.
pub struct Connection {
    authority: String,
    host: HeaderValue,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Connection {
    /// A connection to `base_url` (`http://host:port`), opened on first use.
    pub fn new(base_url: &str) -> anyhow::Result<Self> {
        let authority = base_url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow::anyhow!("only http:// URLs are supported: {base_url}"))?
            .trim_end_matches('/');
        anyhow::ensure!(
            !authority.contains('/'),
            "{base_url}: give the server's address without a path"
        );
        Ok(Self {
            authority: authority.to_owned(),
            host: HeaderValue::from_str(authority)?,
            sender: None,
        })
    }

    /// POSTs `body` as JSON to `path` with `authorization`; returns the status once the
    /// whole answer is read, or `None` on a transport error (the next call reconnects).
    pub async fn post(&mut self, path: &str, authorization: &HeaderValue, body: Bytes) -> Option<u16> {
        self.post_reading(path, authorization, body)
            .await
            .map(|(status, _)| status)
    }

    /// [`Connection::post`], also returning the answer's body.
    pub async fn post_reading(&mut self, path: &str, authorization: &HeaderValue, body: Bytes) -> Option<(u16, Bytes)> {
        let request = hyper::Request::post(path)
            .header(HOST, self.host.clone())
            .header(AUTHORIZATION, authorization.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(Full::new(body))
            .ok()?;
        if let Some(sender) = &mut self.sender
            && sender.ready().await.is_err()
        {
            self.sender = None;
        }
        let sender = match &mut self.sender {
            Some(sender) => sender,
            None => self.sender.insert(self.connect().await?),
        };
        let answered = match sender.send_request(request).await {
            Ok(response) => {
                let status = response.status().as_u16();
                response
                    .into_body()
                    .collect()
                    .await
                    .ok()
                    .map(|body| (status, body.to_bytes()))
            }
            Err(_) => None,
        };
        if answered.is_none() {
            self.sender = None;
        }
        answered
    }

    async fn connect(&self) -> Option<SendRequest<Full<Bytes>>> {
        let stream = tokio::net::TcpStream::connect(self.authority.as_str()).await.ok()?;
        stream.set_nodelay(true).ok()?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.ok()?;
        tokio::spawn(connection);
        Some(sender)
    }
}

/// `Bearer <token>` as a header value, built once per tenant.
pub fn bearer(token: &str) -> anyhow::Result<HeaderValue> {
    Ok(HeaderValue::from_str(&format!("Bearer {token}"))?)
}
