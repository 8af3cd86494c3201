//! `POST /v1/batches`: a terminal's queued commands in one request.
//!
//! A terminal that was offline comes back with hundreds of commands (sales, voids,
//! refunds, stock movements, drawer movements). It sends them in the order they happened,
//! each as it would be sent on its own route — the command's `operationId`, the one path
//! parameter if the route has one, the `Idempotency-Key` if any, the body — and gets one
//! result per command, in the same order: `201` with the [`Accepted`] answer (`replayed`
//! for a command recorded earlier), or the error the command's own route would have
//! given. Every command keeps its own idempotency, so a batch sent again after a timeout
//! changes nothing and answers the same. One refused command does not stop the others
//! unless `stop_on_error` is set (then the rest are `not_run`).
//!
//! Commands on different aggregates run concurrently, up to [`IN_FLIGHT`] aggregates at a
//! time (their appends are pipelined to JetStream); commands on the same aggregate run one
//! after the other in batch order, so a sale and its refund in one batch land in that
//! order. Commands that need `If-Match`
//! (catalog and location changes) are not batchable.

use std::collections::HashMap;

use axum::Json;
use axum::extract::State;
use futures::StreamExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Cashier, CommandCaller, MinimumRole, TenantContext};
use crate::commands::cash::{CloseDrawerSession, OpenDrawerSession, PayIn, PayOut, SafeDrop};
use crate::commands::inventory::{AdjustStock, CountStock, ReceiveStock, TransferStock};
use crate::commands::sales::{CompleteSale, RefundSale, VoidSale};
use crate::commands::{AggregateId, Command, Target};
use crate::error::{ApiError, ErrorBody};
use crate::extract::json::parse;
use crate::routes::Accepted;
use crate::routes::command::execute;
use crate::routes::openapi::ErrorBody as ErrorSchema;
use crate::state::AppState;

/// Most commands in one batch (the body must also fit `BATCH_BODY_LIMIT_BYTES`, 4 MiB by
/// default).
pub const MAX_COMMANDS: usize = 1000;

/// Most aggregates of one batch whose commands run at once; the next starts as one
/// finishes, in batch order. All 1,000 at once made each sale cost the API ~20 % more CPU
/// (likely because a thousand command futures of a few kilobytes each, per batch, do not
/// fit the processor's caches) and sent the appends to NATS in bursts; 128 keeps the
/// appends flowing while the acknowledgements return (docs/performance.md, "Sixteenth
/// session").
pub const IN_FLIGHT: usize = 128;

/// The batch route.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(batch))
}

/// `POST /v1/batches`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// The commands, in the order they happened (1 to 1,000).
    pub commands: Vec<BatchCommand>,
    /// Stop at the first command that is refused; the rest are `not_run`. Default false.
    #[serde(default)]
    pub stop_on_error: bool,
}

/// One command of a batch, as it would be sent on its own route.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchCommand {
    /// The route's `operationId`: `complete_sale`, `void_sale`, `refund_sale`,
    /// `receive_stock`, `adjust_stock`, `count_stock`, `transfer_stock`,
    /// `open_drawer_session`, `pay_in`, `pay_out`, `safe_drop`, `close_drawer_session`.
    pub command: String,
    /// The route's one path parameter (the sale id of a void or refund, the session id of
    /// a drawer movement); absent for routes without one.
    #[serde(default)]
    pub path: Option<String>,
    /// The `Idempotency-Key` the command would carry.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// The command's body. Kept as the client's JSON text until the command's type is known,
    /// then parsed once (no intermediate tree).
    #[schema(value_type = Object)]
    pub body: Box<RawValue>,
}

/// What became of one command.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    /// Its position in the batch, from 0.
    pub index: usize,
    /// The status its own route would have answered (`201`, `409`, `422`, ...); `0` when
    /// it was not run (`stop_on_error` after an earlier refusal).
    pub status: u16,
    /// The answer of a recorded (or earlier recorded: `replayed`) command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<Accepted>,
    /// The error of a refused command.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ErrorSchema>)]
    pub error: Option<ErrorBody>,
}

/// The results, one per command, in batch order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    /// One per command.
    pub results: Vec<BatchResult>,
}

/// What runs a prepared command: called when its turn comes, it makes the command's future.
type Start = Box<dyn FnOnce() -> BoxFuture<'static, Result<crate::execute::Outcome, ApiError>> + Send>;

/// A command ready to run: the aggregate it addresses (commands on one run in order) and
/// what starts it. The command's future (kilobytes) is made only when its turn comes, so a
/// batch holds at most [`IN_FLIGHT`] of them, not one per command.
struct Prepared {
    aggregate: String,
    start: Start,
}

/// Parses item `command` as `C` and prepares its run.
fn prepare<C: Command>(app: &AppState, context: &TenantContext, item: BatchCommand) -> Result<Prepared, ApiError> {
    if !context.role.at_least(<C::Role as MinimumRole>::ROLE) {
        return Err(ApiError::Forbidden {
            required: <C::Role as MinimumRole>::ROLE,
        });
    }
    if let Some(key) = &item.idempotency_key
        && (key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(ApiError::invalid(
            "idempotency_key",
            "must be 1 to 255 visible ASCII characters without spaces",
        ));
    }
    let command: C = parse(item.body.get().as_bytes())?;
    let target = C::Target::from_batch(item.path.as_deref())?;
    let id = command.id(&target, item.idempotency_key.as_deref())?;
    let aggregate = id.aggregate().to_string();
    let (app, context, key) = (app.clone(), context.clone(), item.idempotency_key);
    Ok(Prepared {
        aggregate,
        start: Box::new(move || Box::pin(async move { execute(&app, context, key, &target, &command).await })),
    })
}

fn prepare_any(app: &AppState, context: &TenantContext, item: BatchCommand) -> Result<Prepared, ApiError> {
    match item.command.as_str() {
        "complete_sale" => prepare::<CompleteSale>(app, context, item),
        "void_sale" => prepare::<VoidSale>(app, context, item),
        "refund_sale" => prepare::<RefundSale>(app, context, item),
        "receive_stock" => prepare::<ReceiveStock>(app, context, item),
        "adjust_stock" => prepare::<AdjustStock>(app, context, item),
        "count_stock" => prepare::<CountStock>(app, context, item),
        "transfer_stock" => prepare::<TransferStock>(app, context, item),
        "open_drawer_session" => prepare::<OpenDrawerSession>(app, context, item),
        "pay_in" => prepare::<PayIn>(app, context, item),
        "pay_out" => prepare::<PayOut>(app, context, item),
        "safe_drop" => prepare::<SafeDrop>(app, context, item),
        "close_drawer_session" => prepare::<CloseDrawerSession>(app, context, item),
        other => Err(ApiError::invalid(
            "command",
            format!("{other:?} is not a command that can be batched"),
        )),
    }
}

fn result(index: usize, answer: Result<crate::execute::Outcome, ApiError>) -> BatchResult {
    match answer {
        Ok(outcome) => BatchResult {
            index,
            status: 201,
            accepted: Some(Accepted::from(outcome)),
            error: None,
        },
        Err(err) => {
            if err.status().is_server_error() {
                tracing::warn!(index, error = %err, "a batched command failed");
            }
            BatchResult {
                index,
                status: err.status().as_u16(),
                accepted: None,
                error: Some(err.body()),
            }
        }
    }
}

/// Runs a terminal's queued commands (or an integration's, with a `post_commands` API key
/// acting as a manager); one result per command, in order. The answer is
/// 200 whatever the commands' own outcomes; a malformed batch (not a list, too many
/// commands) is 422 and runs nothing.
#[utoipa::path(post, path = "/v1/batches", tag = "sales", request_body = BatchRequest,
    responses((status = 200, body = BatchResponse, description = "One result per command, in order"),
        (status = 400, body = ErrorSchema), (status = 401, body = ErrorSchema), (status = 413, body = ErrorSchema),
        (status = 415, body = ErrorSchema), (status = 422, body = ErrorSchema), (status = 503, body = ErrorSchema)),
    security(("bearer" = []), ("api_key" = ["post_commands"])))]
#[tracing::instrument(name = "batch", skip_all, fields(commands = request.commands.len()))]
async fn batch(
    State(app): State<AppState>,
    CommandCaller(context, _): CommandCaller<Cashier>,
    crate::extract::ApiJson(request): crate::extract::ApiJson<BatchRequest>,
) -> Result<Json<BatchResponse>, ApiError> {
    if request.commands.is_empty() || request.commands.len() > MAX_COMMANDS {
        return Err(ApiError::invalid(
            "commands",
            format!("between 1 and {MAX_COMMANDS} commands"),
        ));
    }
    let count = request.commands.len();
    let mut results: Vec<Option<BatchResult>> = (0..count).map(|_| None).collect();
    if request.stop_on_error {
        // In order, one at a time, stopping at the first refusal.
        let mut stopped = false;
        for (index, item) in request.commands.into_iter().enumerate() {
            if stopped {
                results[index] = Some(BatchResult {
                    index,
                    status: 0,
                    accepted: None,
                    error: None,
                });
                continue;
            }
            let answer = match prepare_any(&app, &context, item) {
                Ok(prepared) => (prepared.start)().await,
                Err(err) => Err(err),
            };
            stopped = answer.is_err();
            results[index] = Some(result(index, answer));
        }
    } else {
        // One queue per aggregate, in batch order; the queues run concurrently.
        let mut queues: Vec<Vec<(usize, Prepared)>> = Vec::new();
        let mut queue_of: HashMap<String, usize> = HashMap::new();
        for (index, item) in request.commands.into_iter().enumerate() {
            match prepare_any(&app, &context, item) {
                Ok(prepared) => {
                    let queue = *queue_of.entry(prepared.aggregate.clone()).or_insert_with(|| {
                        queues.push(Vec::new());
                        queues.len() - 1
                    });
                    queues[queue].push((index, prepared));
                }
                Err(err) => results[index] = Some(result(index, Err(err))),
            }
        }
        let runs = queues.into_iter().map(|queue| async move {
            let mut done = Vec::with_capacity(queue.len());
            for (index, prepared) in queue {
                done.push(result(index, (prepared.start)().await));
            }
            done
        });
        let mut running = futures::stream::iter(runs).buffer_unordered(IN_FLIGHT);
        while let Some(done) = running.next().await {
            for item in done {
                let index = item.index;
                results[index] = Some(item);
            }
        }
    }
    Ok(Json(BatchResponse {
        results: results.into_iter().flatten().collect(),
    }))
}
