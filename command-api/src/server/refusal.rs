//! The answer to a connection over the cap: 503 with `Retry-After` and the API's error
//! body, written straight to the socket (the connection never reaches hyper or the
//! router), then the connection is closed.
//!
//! Closing a socket with unread bytes makes the kernel reset it, and a client that has
//! already sent its request might then lose the answer; so the refusal half-closes and
//! reads what the client sends for up to [`LINGER`] before it closes. Refusals are
//! themselves capped ([`AT_ONCE`]): past that, connections are closed without an answer.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use crate::error::{ApiError, RETRY_AFTER_SECS};
use crate::server::headers::SECURITY_HEADERS;

/// Longest a refused connection is kept to deliver its answer.
pub const LINGER: Duration = Duration::from_secs(1);

/// Most refusals being delivered at once.
pub const AT_ONCE: usize = 256;

/// Delivers refusals, within [`AT_ONCE`].
#[derive(Debug, Clone)]
pub struct Refusals {
    at_once: Arc<Semaphore>,
    answer: Bytes,
}

impl Default for Refusals {
    fn default() -> Self {
        Self::new()
    }
}

impl Refusals {
    /// The refusal, rendered once.
    pub fn new() -> Self {
        Self {
            at_once: Arc::new(Semaphore::new(AT_ONCE)),
            answer: answer(),
        }
    }

    /// Answers `stream` 503 and closes it, in the background.
    pub fn refuse(&self, mut stream: TcpStream) {
        metrics::counter!("http_connections_refused_total").increment(1);
        let Ok(permit) = Arc::clone(&self.at_once).try_acquire_owned() else {
            return;
        };
        let answer = self.answer.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let deliver = async {
                stream.write_all(&answer).await?;
                stream.shutdown().await?;
                let mut sink = [0u8; 1024];
                while stream.read(&mut sink).await? > 0 {}
                std::io::Result::Ok(())
            };
            let _ = tokio::time::timeout(LINGER, deliver).await;
        });
    }
}

/// `HTTP/1.1 503` with the API's error body, `Retry-After`, `Connection: close` and the
/// security headers.
fn answer() -> Bytes {
    let error = ApiError::Unavailable(anyhow::anyhow!("the connection cap is reached"));
    let body = serde_json::to_string(&error.body()).unwrap_or_else(|_| r#"{"error":{"code":"unavailable"}}"#.into());
    let mut answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         retry-after: {RETRY_AFTER_SECS}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in SECURITY_HEADERS {
        answer.push_str(&format!("{name}: {value}\r\n"));
    }
    answer.push_str("\r\n");
    answer.push_str(&body);
    Bytes::from(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_a_complete_503_with_the_error_body() {
        let answer = answer();
        let text = std::str::from_utf8(&answer).expect("ASCII");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
        assert!(head.starts_with("HTTP/1.1 503 "), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())), "{head}");
        assert!(head.contains("retry-after: "), "{head}");
        assert!(head.contains("x-content-type-options: nosniff"), "{head}");
        let body: serde_json::Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(body["error"]["code"], "unavailable");
    }
}
