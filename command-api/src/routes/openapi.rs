//! The OpenAPI document's shared parts: metadata, security scheme and the error body.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{OpenApi, OpenApiBuilder};
use utoipa::{Modify, PartialSchema};

use crate::codes::ErrorCode;
pub use crate::error::{ErrorBody, ErrorDetail};

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
        components.schemas.insert("ErrorCode".to_owned(), ErrorCode::schema());
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
