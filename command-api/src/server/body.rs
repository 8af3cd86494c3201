//! [`DeadlineBody`]: a request body that must arrive whole by a deadline.
//!
//! hyper has no body timeout, and a per-read timeout (tower-http's `RequestBodyTimeout`)
//! is reset by every byte, so a client sending one byte every few seconds would pass it.
//! The deadline here is fixed when the headers are in; a body still incomplete then
//! fails with [`BodyTimeout`], which the JSON extractor answers 408.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The error a body past its deadline fails with.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimeout;

impl BodyTimeout {
    /// Whether `err` or one of its sources is a [`BodyTimeout`].
    pub fn caused(err: &(dyn std::error::Error + 'static)) -> bool {
        let mut cause = Some(err);
        while let Some(err) = cause {
            if err.is::<BodyTimeout>() {
                return true;
            }
            cause = err.source();
        }
        false
    }
}

/// `inner`, failing with [`BodyTimeout`] if it has not ended by `deadline`.
pub struct DeadlineBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
}

impl DeadlineBody {
    /// Wraps `inner`.
    pub fn new(inner: Body, deadline: Instant) -> Self {
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep_until(deadline)),
        }
    }
}

impl HttpBody for DeadlineBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(axum::Error::new(BodyTimeout))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http_body_util::BodyExt;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_body_that_never_ends_fails_at_the_deadline_with_a_recognisable_error() {
        let (mut sender, body) = futures::channel::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(1);
        sender
            .try_send(Ok(Frame::data(Bytes::from_static(b"{"))))
            .expect("room for one frame");
        let body = Body::new(http_body_util::StreamBody::new(body));
        let started = Instant::now();
        let collected = DeadlineBody::new(body, started + Duration::from_secs(5))
            .collect()
            .await;
        let err = collected.expect_err("the body fails");
        assert!(BodyTimeout::caused(&err), "{err}");
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        drop(sender);
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_ends_in_time_is_passed_through() {
        let body = Body::from("{\"a\": 1}");
        let collected = DeadlineBody::new(body, Instant::now() + Duration::from_secs(5))
            .collect()
            .await
            .expect("the body is complete");
        assert_eq!(collected.to_bytes(), Bytes::from_static(b"{\"a\": 1}"));
    }
}
