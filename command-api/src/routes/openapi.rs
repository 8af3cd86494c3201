//! The OpenAPI document's shared parts: metadata, security scheme and the error body.

use serde::Serialize;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{OpenApi, OpenApiBuilder};
use utoipa::{Modify, PartialSchema, ToSchema};

/// The error body every 4xx/5xx answer carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// One error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`invalid_field`, `version_conflict`, ...).
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
    /// Path of the field at fault, e.g. `lines[2].quantity`.
    pub field: Option<String>,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.schemas.insert("ErrorBody".to_owned(), ErrorBody::schema());
        components
            .schemas
            .insert("ErrorDetail".to_owned(), ErrorDetail::schema());
    }
}

/// The document's metadata, before routes are added.
pub fn base() -> OpenApi {
    let mut openapi = OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("tillstream command API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "POS commands in, events to NATS JetStream out. Every command is idempotent.",
                ))
                .build(),
        )
        .build();
    BearerAuth.modify(&mut openapi);
    openapi
}
