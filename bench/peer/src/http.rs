//! Routes: `POST /v1/sales` (the command) and `GET /v1/sales/{sale_id}` (the sale view, which
//! the load generator polls to measure projection lag), with tillstream's error body shape
//! `{"error": {"code", "message", "field"}}`.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cqrs_es::AggregateError;
use cqrs_es::persist::ViewRepository;
use postgres_es::{PostgresCqrs, PostgresViewRepository};
use serde_json::json;

use crate::auth::{JwtKeys, Seller};
use crate::sale::{CompleteSale, Sale, SaleCommand, SaleError};
use crate::views::SaleView;

/// What handlers share.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Token keys.
    pub keys: Arc<JwtKeys>,
    /// The framework: event store plus queries.
    pub cqrs: Arc<PostgresCqrs<Sale>>,
    /// The sale view, for reads.
    pub sales: Arc<PostgresViewRepository<SaleView, Sale>>,
}

/// An error answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401: no valid bearer token.
    #[error("a valid bearer token is required")]
    Unauthorized,
    /// 403: the role or tenant does not allow it.
    #[error("not allowed")]
    Forbidden,
    /// 404: no such sale.
    #[error("not found")]
    NotFound,
    /// 409: the sale already exists, or a concurrent write to it won.
    #[error("conflict")]
    Conflict,
    /// 422: the body is malformed or inconsistent.
    #[error("{message}")]
    Invalid {
        /// The field at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// 500: the database failed (logged).
    #[error("internal error")]
    Internal,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict => (StatusCode::CONFLICT, "conflict"),
            ApiError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
            ApiError::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        let field = match &self {
            ApiError::Invalid { field, .. } => Some(field.clone()),
            _ => None,
        };
        (
            status,
            Json(json!({"error": {"code": code, "message": self.to_string(), "field": field}})),
        )
            .into_response()
    }
}

impl From<AggregateError<SaleError>> for ApiError {
    fn from(error: AggregateError<SaleError>) -> Self {
        match error {
            AggregateError::UserError(SaleError::Invalid { field, message }) => ApiError::Invalid { field, message },
            AggregateError::UserError(SaleError::TenantMismatch) => ApiError::Forbidden,
            AggregateError::UserError(SaleError::AlreadyCompleted) | AggregateError::AggregateConflict => {
                ApiError::Conflict
            }
            other => {
                tracing::error!(error = %other, "command failed");
                ApiError::Internal
            }
        }
    }
}

/// The routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/sales", post(complete_sale))
        .route("/v1/sales/{sale_id}", get(get_sale))
        .route("/health", get(|| async { "ok" }))
        .with_state(state)
}

fn aggregate_id(tenant: &str, sale_id: &str) -> String {
    format!("{tenant}/{sale_id}")
}

async fn complete_sale(
    State(state): State<AppState>,
    seller: Seller,
    body: Result<Json<CompleteSale>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Json(body) = body.map_err(|rejection| ApiError::Invalid {
        field: "body".to_owned(),
        message: rejection.body_text(),
    })?;
    let id = aggregate_id(&seller.tenant, &body.sale_id);
    let sale_id = body.sale_id.clone();
    let command = SaleCommand {
        body,
        tenant: seller.tenant,
        user_id: seller.user_id,
        token_terminal: seller.terminal_id,
    };
    state.cqrs.execute(&id, command).await?;
    Ok((StatusCode::CREATED, Json(json!({"sale_id": sale_id}))))
}

async fn get_sale(
    State(state): State<AppState>,
    seller: Seller,
    Path(sale_id): Path<String>,
) -> Result<Json<SaleView>, ApiError> {
    let view = state
        .sales
        .load(&aggregate_id(&seller.tenant, &sale_id))
        .await
        .map_err(|error| {
            tracing::error!(%error, "reading the sale view failed");
            ApiError::Internal
        })?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(view))
}
