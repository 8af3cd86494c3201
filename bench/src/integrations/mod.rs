//! The integration paths of issue 20, measured: batch upload against the raw JetStream
//! publish rate of the same run, one SSE feed consumer following a tenant's sales, the
//! API's memory per idle feed connection, and webhook deliveries to a local receiver
//! (with an outage of the receiver). `integrations` (the binary) runs them.
//!
//! - [`batch`]: `POST /v1/batches` of N queued sales, over M connections.
//! - [`feed`]: a producer at a fixed rate and one `GET /v1/feed/stream` consumer.
//! - [`idle`]: a release `command-api` process holding N idle SSE connections.
//! - [`webhooks`]: the webhook worker delivering to a receiver in this process.

pub mod batch;
pub mod feed;
pub mod idle;
pub mod webhooks;

use serde::Serialize;

use crate::workload::SaleBody;

/// The batch body of `sales`: each `(sale_id, n)` a `complete_sale` of [`crate::workload::sale`].
pub fn sales_batch(sales: impl Iterator<Item = (String, u64)>) -> SalesBatch {
    SalesBatch {
        commands: sales
            .map(|(id, n)| Batched::Sale {
                command: "complete_sale",
                body: SaleBody::new(&id, n),
            })
            .collect(),
    }
}

/// A `POST /v1/batches` body of sales (and voids), typed (serialized straight to bytes).
#[derive(Debug, Serialize)]
pub struct SalesBatch {
    commands: Vec<Batched>,
}

impl SalesBatch {
    /// Adds a `void_sale` of `sale_id` after the commands so far.
    pub fn void(&mut self, sale_id: String) {
        self.commands.push(Batched::Void {
            command: "void_sale",
            path: sale_id,
            body: VoidBody { reason: "bench" },
        });
    }
}

/// One command of a [`SalesBatch`].
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Batched {
    Sale {
        command: &'static str,
        body: SaleBody,
    },
    Void {
        command: &'static str,
        path: String,
        body: VoidBody,
    },
}

/// A void's body.
#[derive(Debug, Serialize)]
struct VoidBody {
    reason: &'static str,
}

/// How many of a batch answer's results have `status` (the answer is counted as bytes,
/// not parsed: the load generator shares the machine with what it measures; a vectorised
/// substring search, where comparing every window of the answer cost the load generator
/// 2.4 % of the API's core in a pinned batch run).
pub fn count_status(answer: &[u8], status: u16) -> u64 {
    let needle = format!("\"status\":{status},");
    memchr::memmem::find_iter(answer, needle.as_bytes()).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_counted_exactly() {
        let answer = br#"{"results":[{"index":0,"status":201,"accepted":{}},{"index":1,"status":409,"error":{}},{"index":2,"status":201,"accepted":{}}]}"#;
        assert_eq!(count_status(answer, 201), 2);
        assert_eq!(count_status(answer, 409), 1);
        assert_eq!(count_status(answer, 422), 0);
    }

    #[test]
    fn a_batch_holds_each_sale_once_in_order() {
        let body = serde_json::to_value(sales_batch((0..3).map(|n| (format!("s-{n}"), n)))).unwrap_or_default();
        let commands = body["commands"].as_array().map(Vec::len);
        assert_eq!(commands, Some(3));
        assert_eq!(body["commands"][2]["body"]["sale_id"], "s-2");
        assert_eq!(body["commands"][0]["command"], "complete_sale");
    }

    #[test]
    fn a_void_follows_the_sales_with_its_sale_as_the_path() {
        let mut batch = sales_batch((0..2).map(|n| (format!("s-{n}"), n)));
        batch.void("s-1".to_owned());
        let body = serde_json::to_value(batch).unwrap_or_default();
        assert_eq!(body["commands"].as_array().map(Vec::len), Some(3));
        assert_eq!(
            body["commands"][2],
            serde_json::json!({"command": "void_sale", "path": "s-1", "body": {"reason": "bench"}})
        );
        assert_eq!(body["commands"][1].get("path"), None);
    }
}
