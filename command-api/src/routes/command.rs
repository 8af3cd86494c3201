//! The one handler that runs every [`Command`], and the one place its OpenAPI operation
//! is described: [`command::<C>()`](command) returns both, ready for
//! [`OpenApiRouter::routes`](utoipa_axum::router::OpenApiRouter::routes). A route table
//! line is `.routes(command::<VoidSale>())`.
//!
//! A request goes through, in this order (the order of the rejections is part of the
//! API):
//!
//! 1. the bearer token and role, or the API key and its `post_commands` scope (401,
//!    403), the `Idempotency-Key` (400), the target's
//!    headers and path (`If-Match`: 428 / 400), the JSON body (415, 413, 400, 422);
//! 2. the target's ids (422), the command's own id ([`Command::id`]), the metadata and
//!    fingerprint ([`CommandMeta`]);
//! 3. [`Command::load`], then [`execute::run`]: a command that creates its aggregate is
//!    decided at once and appended expecting an empty subject; any other is decided
//!    against its folded state inside the optimistic-concurrency loop;
//! 4. [`Command::recorded`], and the 201 answer ([`Accepted`], with `ETag` if the
//!    command says so).

use axum::extract::State;
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter};
use tracing::Instrument;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, Paths};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::ObjectBuilder;
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::UtoipaMethodRouter;

use crate::auth::integration::KEY_COMMAND_ROLE;
use crate::auth::{CommandCaller, MinimumRole, TenantContext};
use crate::commands::{AggregateId, Command, CommandMeta, Decision, Fold, Method, Target};
use crate::error::ApiError;
use crate::execute;
use crate::extract::{ApiJson, IdempotencyKey};
use crate::routes::Accepted;
use crate::routes::openapi::{ErrorBody, ErrorDetail};
use crate::state::AppState;
use eventstore::KeyClaim;

/// The route of command `C`: its OpenAPI operation and the handler that runs it.
pub fn command<C: Command>() -> UtoipaMethodRouter<AppState> {
    let route = C::ROUTE;
    let (method, filter) = match route.method {
        Method::Post => (HttpMethod::Post, MethodFilter::POST),
        Method::Put => (HttpMethod::Put, MethodFilter::PUT),
    };
    let mut paths = Paths::new();
    paths.add_path_operation(route.path, vec![method], operation::<C>());
    let router = MethodRouter::new().on(filter, handle::<C>);
    (schemas::<C>(), paths, router)
}

/// Runs command `C`. See the [module](self) for the steps.
async fn handle<C: Command>(
    State(app): State<AppState>,
    CommandCaller(context, _): CommandCaller<C::Role>,
    IdempotencyKey(key): IdempotencyKey,
    target: <C::Target as Target>::Raw,
    ApiJson(command): ApiJson<C>,
) -> Result<Response, ApiError> {
    let target = C::Target::parse(target)?;
    let outcome = execute(&app, context, key, &target, &command).await?;
    Ok(Accepted::response(outcome, C::ETAG))
}

/// Runs `command` addressed by `target` for the verified caller `context`, with the
/// client's `key`: what a request to the command's route does after extraction, and what
/// a batch (`routes::batch`) does for each of its commands.
pub async fn execute<C: Command>(
    app: &AppState,
    context: TenantContext,
    key: Option<String>,
    target: &C::Target,
    command: &C,
) -> Result<execute::Outcome, ApiError> {
    let span = tracing::info_span!("command", command = C::NAME, aggregate = tracing::field::Empty);
    async move {
        let id = command.id(target, key.as_deref())?;
        tracing::Span::current().record("aggregate", id.aggregate().id.as_str());
        let meta = CommandMeta::new(
            context,
            C::NAME,
            &target.keyed(command),
            key,
            || command.natural_key(&id),
            command.occurred_at(),
        )
        .retry_only_as_latest(C::RETRY_ONLY_AS_LATEST);
        // The key-value futures are boxed (and made only for a client's key) for the same
        // reason as the load in `run`: they would otherwise sit in every command's future.
        let claim = if meta.client_key {
            Box::pin(claim_key(app, &meta)).await?
        } else {
            None
        };
        let answer = run(app, command, &id, &meta).await;
        if let (Err(refused), Some(KeyClaim::New { revision })) = (&answer, claim) {
            Box::pin(release_key(app, &meta, refused, revision)).await;
        }
        answer
    }
    .instrument(span)
    .await
}

/// Claims the client's `Idempotency-Key` for this request across the tenant's aggregates
/// (the caller runs it only for a client's key): 409 when it was used for a different
/// request.
async fn claim_key(app: &AppState, meta: &CommandMeta) -> Result<Option<KeyClaim>, ApiError> {
    let claim = app
        .store
        .claim_key(&meta.context.tenant, &meta.idempotency_key, &meta.fingerprint)
        .await?;
    if claim == KeyClaim::Different {
        return Err(ApiError::IdempotencyKeyReused);
    }
    Ok(Some(claim))
}

/// Gives back the key of a command that was refused (4xx), so a corrected command may use
/// it; after a server fault (5xx) the key stays with this request, whose retry goes on.
async fn release_key(app: &AppState, meta: &CommandMeta, refused: &ApiError, revision: u64) {
    if !refused.status().is_client_error() {
        return;
    }
    if let Err(err) = app
        .store
        .release_key(&meta.context.tenant, &meta.idempotency_key, revision)
        .await
    {
        // The key stays bound to the refused body until it expires: a corrected command
        // under it gets 409 and needs a new key. Nothing was recorded either way.
        tracing::warn!(error = %err, "releasing the idempotency key of a refused command failed");
    }
}

/// Loads, decides, appends (or recognises a retry) and runs the `recorded` hook.
async fn run<C: Command>(
    app: &AppState,
    command: &C,
    id: &C::Id,
    meta: &CommandMeta,
) -> Result<execute::Outcome, ApiError> {
    let aggregate = id.aggregate();
    // The load and the append loop are boxed: unboxed, they made a batch's per-command
    // future ~17 KB, copied on every pin (docs/performance.md, "Tenth session").
    let loaded = Box::pin(command.load(app, id, meta)).await?;
    let decide = |state: &C::State| {
        command.decide(&Decision {
            id,
            state,
            loaded: &loaded,
            context: &meta.context,
            now: meta.recorded_at,
        })
    };
    let create = if C::CREATES {
        Some(decide(&C::State::fold(&[]))?)
    } else {
        None
    };
    let outcome = Box::pin(execute::run(&app.store, meta, aggregate, create, |history| {
        if C::CREATES {
            return Err(id.exists(history));
        }
        let state = C::State::fold(history);
        let expected = command.expect(id, &state, history)?;
        Ok((decide(&state)?, expected))
    }))
    .await?;
    command.recorded(app, id, meta).await?;
    Ok(outcome)
}

/// The schemas the operation refers to: the body with its parts, the answer, the error.
fn schemas<C: Command>() -> Vec<(String, RefOr<Schema>)> {
    let mut schemas = vec![(C::name().into_owned(), C::schema())];
    C::schemas(&mut schemas);
    schemas.push((Accepted::name().into_owned(), Accepted::schema()));
    schemas.push((ErrorBody::name().into_owned(), ErrorBody::schema()));
    schemas.push((ErrorDetail::name().into_owned(), ErrorDetail::schema()));
    schemas
}

/// The OpenAPI operation of `C`, from its route and its associated items.
fn operation<C: Command>() -> utoipa::openapi::path::Operation {
    let route = C::ROUTE;
    let string = || ObjectBuilder::new().schema_type(Type::String).build();
    let mut operation = OperationBuilder::new()
        .operation_id(Some(route.operation_id))
        .summary(Some(route.summary))
        .description(Some(description::<C>()))
        .tag(route.tag);
    for name in <C::Target as Target>::PATH_PARAMS {
        operation = operation.parameter(
            ParameterBuilder::new()
                .name(*name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(string())),
        );
    }
    if <C::Target as Target>::IF_MATCH {
        operation = operation.parameter(
            ParameterBuilder::new()
                .name("If-Match")
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .description(Some("The version from the ETag"))
                .schema(Some(string())),
        );
    }
    operation = operation.parameter(
        ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(route.key)
            .schema(Some(string())),
    );
    let json = |schema: &str| {
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name(schema)))
            .build()
    };
    operation = operation.request_body(Some(
        RequestBodyBuilder::new()
            .content("application/json", json(&C::name()))
            .required(Some(Required::True))
            .build(),
    ));
    let mut created = ResponseBuilder::new()
        .description(route.created)
        .content("application/json", json(&Accepted::name()))
        .header(
            "Idempotent-Replayed",
            HeaderBuilder::new()
                .schema(string())
                .description(Some("`true` on the original answer to a retried command"))
                .build(),
        );
    if C::ETAG {
        created = created.header(
            "ETag",
            HeaderBuilder::new()
                .schema(string())
                .description(Some("The aggregate's new version, for If-Match"))
                .build(),
        );
    }
    operation = operation.response("201", created.build());
    for (status, when) in error_statuses::<C>() {
        operation = operation.response(
            status,
            ResponseBuilder::new()
                .description(when)
                .content("application/json", json(&ErrorBody::name()))
                .build(),
        );
    }
    let mut operation = operation.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
    if key_may_send::<C>() {
        operation = operation.security(SecurityRequirement::new("api_key", ["post_commands"]));
    }
    operation.build()
}

/// Whether an API key with `post_commands` may send `C` (it acts as a manager).
fn key_may_send<C: Command>() -> bool {
    KEY_COMMAND_ROLE.at_least(<C::Role as MinimumRole>::ROLE)
}

/// The operation's description: who may send it.
fn description<C: Command>() -> String {
    let role = <C::Role as MinimumRole>::ROLE;
    if key_may_send::<C>() {
        format!(
            "Requires the {role} role or higher, or an integration's API key with the `post_commands` scope (acting as a manager; recorded as the key, not a user)."
        )
    } else {
        format!("Requires the {role} role or higher; API keys cannot send it.")
    }
}

/// The error answers `C` can give, with what they mean.
fn error_statuses<C: Command>() -> Vec<(&'static str, &'static str)> {
    let mut statuses = vec![
        (
            "400",
            "The body is not well-formed JSON, or a header (Idempotency-Key, If-Match) is invalid",
        ),
        ("401", "No valid bearer token, or an unknown or revoked API key"),
        (
            "403",
            "The role is too low, the API key lacks `post_commands` (`missing_scope`), or the body names another tenant",
        ),
    ];
    if !C::CREATES {
        statuses.push(("404", "The aggregate does not exist"));
    }
    statuses.push((
        "409",
        "A conflict with the aggregate's state, its version, or an earlier command under the same Idempotency-Key",
    ));
    statuses.push(("413", "The body is larger than the configured limit"));
    statuses.push(("415", "The body is not application/json"));
    statuses.push(("422", "The command is invalid; `field` names the part at fault"));
    if <C::Target as Target>::IF_MATCH {
        statuses.push(("428", "If-Match is required"));
    }
    statuses.push(("503", "The event store is unavailable; retry after Retry-After"));
    statuses
}
