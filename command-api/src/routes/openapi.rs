//! The OpenAPI document's shared parts: metadata, security scheme, the error body, and the
//! answers the server itself gives to any operation.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, PartialSchema};

use crate::codes::ErrorCode;
pub use crate::error::{ErrorBody, ErrorDetail};

/// A user's role, as the documents show it (the schema of [`events::Role`]).
#[derive(Debug, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleName {
    /// Rings up sales.
    Cashier,
    /// Runs the store: voids, refunds, stock and catalog.
    Manager,
    /// Owns the organization: everything, including users.
    Admin,
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
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("tsk_<id>_<secret>")
                    .description(Some(
                        "An integration's API key (POST /v1/api-keys); the scopes listed are those the route needs",
                    ))
                    .build(),
            ),
        );
        components.schemas.insert("ErrorBody".to_owned(), ErrorBody::schema());
        components
            .schemas
            .insert("ErrorDetail".to_owned(), ErrorDetail::schema());
        components.schemas.insert("ErrorCode".to_owned(), ErrorCode::schema());
        components.schemas.insert("RoleName".to_owned(), RoleName::schema());
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

/// Documents the answers the server gives before or around any handler (see
/// [`crate::server`]) wherever a route did not: 503 on every operation (the request cap,
/// the query timeout), and 408 and 413 on operations with a body (the body deadline, the
/// announced length).
pub fn add_server_answers(openapi: &mut OpenApi) {
    let error = |description: &str| {
        RefOr::T(
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build(),
        )
    };
    for item in openapi.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            let has_body = operation.request_body.is_some();
            let responses = &mut operation.responses.responses;
            responses.entry("503".to_owned()).or_insert_with(|| {
                error("The API is at capacity or the request took too long; retry after Retry-After")
            });
            if has_body {
                responses
                    .entry("408".to_owned())
                    .or_insert_with(|| error("The body did not arrive within the body timeout"));
                responses
                    .entry("413".to_owned())
                    .or_insert_with(|| error("The body is larger than the configured limit"));
            }
        }
    }
}
