//! The error-code catalogue: every `code` an error body can carry, once, with its HTTP
//! status and what it means.
//!
//! [`ErrorCode`] is what [`crate::error::ApiError`] answers and what the error body
//! serialises, so the OpenAPI document's `ErrorDetail.code` lists exactly these values.
//! A code is a stable part of the contract: clients branch on it. Add one here, never
//! rename one.

use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

macro_rules! catalogue {
    ($( $(#[doc = $doc:literal])+ $variant:ident = $code:literal => $status:ident, )+) => {
        /// A stable, machine-readable error code.
        ///
        /// Serialised as the variant's name in snake_case, which is also the catalogue's
        /// code (a unit test checks both against each other and against the OpenAPI enum).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $( $(#[doc = $doc])+ $variant, )+
        }

        impl ErrorCode {
            /// Every code, in catalogue order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            /// The code as it appears in the body (`invalid_field`).
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)+ }
            }

            /// The HTTP status every answer with this code has.
            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status,)+ }
            }

            /// What the code means, for documentation.
            pub fn description(self) -> &'static str {
                match self { $(ErrorCode::$variant => concat!($($doc),+).trim_ascii(),)+ }
            }
        }
    };
}

catalogue! {
    /// The body is not well-formed JSON.
    MalformedJson = "malformed_json" => BAD_REQUEST,
    /// A header is present but invalid (`field` names it).
    InvalidHeader = "invalid_header" => BAD_REQUEST,
    /// No token, or a token that does not verify.
    Unauthorized = "unauthorized" => UNAUTHORIZED,
    /// Login refused: the email or the password is wrong (which one is not said).
    InvalidCredentials = "invalid_credentials" => UNAUTHORIZED,
    /// The refresh token is unknown, expired, revoked or was used already; log in again.
    InvalidRefreshToken = "invalid_refresh_token" => UNAUTHORIZED,
    /// The caller's role is too low (`required_role` says which is needed).
    Forbidden = "forbidden" => FORBIDDEN,
    /// The request names a tenant other than the token's.
    TenantMismatch = "tenant_mismatch" => FORBIDDEN,
    /// The API key lacks the scope this route needs (`required_scope` says which).
    MissingScope = "missing_scope" => FORBIDDEN,
    /// An API key sent a command only a user may send (opening a cash drawer).
    UserRequired = "user_required" => FORBIDDEN,
    /// The caller is limited to some locations (an API key or a user with `locations`) and the
    /// command acts, or the read looks, at another one (the message names it), or on the
    /// whole chain.
    LocationForbidden = "location_forbidden" => FORBIDDEN,
    /// The addressed resource does not exist.
    NotFound = "not_found" => NOT_FOUND,
    /// The body did not arrive within the body timeout; the connection is closed.
    RequestTimeout = "request_timeout" => REQUEST_TIMEOUT,
    /// The idempotency key was already used for a different command.
    IdempotencyKeyReused = "idempotency_key_reused" => CONFLICT,
    /// `If-Match` names a version that is no longer current (`current_version` says which is).
    VersionConflict = "version_conflict" => CONFLICT,
    /// A sale with this id was recorded with different contents.
    SaleExists = "sale_exists" => CONFLICT,
    /// A stock movement with this id was recorded with different contents.
    MovementExists = "movement_exists" => CONFLICT,
    /// A product with this SKU is already registered.
    ProductExists = "product_exists" => CONFLICT,
    /// The product is discontinued; it cannot be changed.
    ProductDiscontinued = "product_discontinued" => CONFLICT,
    /// A location with this id was already opened.
    LocationExists = "location_exists" => CONFLICT,
    /// The business day of the location was already closed.
    DayClosed = "day_closed" => CONFLICT,
    /// A tax jurisdiction with this id was already defined; change it with `PUT` and `If-Match`.
    JurisdictionExists = "jurisdiction_exists" => CONFLICT,
    /// A promotion with this id was already created; change it with `PUT` and `If-Match`.
    PromotionExists = "promotion_exists" => CONFLICT,
    /// The promotion has ended; it cannot be changed or ended again.
    PromotionEnded = "promotion_ended" => CONFLICT,
    /// The sale is voided; it cannot be refunded.
    SaleVoided = "sale_voided" => CONFLICT,
    /// The sale was voided already.
    SaleAlreadyVoided = "sale_already_voided" => CONFLICT,
    /// The sale has refunds; it cannot be voided.
    SaleHasRefunds = "sale_has_refunds" => CONFLICT,
    /// The tenant's void window for this sale has passed; refund it instead.
    VoidWindowPassed = "void_window_passed" => CONFLICT,
    /// This refund id was used for another refund.
    RefundIdUsed = "refund_id_used" => CONFLICT,
    /// A drawer session with this id was already opened with different contents.
    DrawerSessionExists = "drawer_session_exists" => CONFLICT,
    /// The terminal already has an open drawer session; close it first.
    TerminalSessionOpen = "terminal_session_open" => CONFLICT,
    /// Drawer sessions of the location are still open on or before the day to close.
    DrawerSessionsOpen = "drawer_sessions_open" => CONFLICT,
    /// A paid-in, paid-out, safe drop or empties return with this id was recorded in the session with different contents.
    CashMovementExists = "cash_movement_exists" => CONFLICT,
    /// The drawer session has no over/short waiting for approval (open, within the threshold, or approved already).
    NothingToApprove = "nothing_to_approve" => CONFLICT,
    /// A supplier with this id was already registered with different contents.
    SupplierExists = "supplier_exists" => CONFLICT,
    /// A purchase order with this id was already drafted with different contents.
    PurchaseOrderExists = "purchase_order_exists" => CONFLICT,
    /// The purchase order's status does not allow this (a draft cannot be received, an order with deliveries cannot be cancelled, a closed one cannot change).
    PurchaseOrderStatus = "purchase_order_status" => CONFLICT,
    /// The email address belongs to an account already.
    EmailTaken = "email_taken" => CONFLICT,
    /// The user exists already.
    UserExists = "user_exists" => CONFLICT,
    /// Admins cannot change their own role.
    OwnRole = "own_role" => CONFLICT,
    /// Admins cannot deactivate their own account.
    OwnAccount = "own_account" => CONFLICT,
    /// The user is deactivated already.
    UserDeactivated = "user_deactivated" => CONFLICT,
    /// The tenant holds as many API keys as it may (100, revoked ones included).
    TooManyApiKeys = "too_many_api_keys" => CONFLICT,
    /// The tenant has as many webhook endpoints as it may (20).
    TooManyWebhooks = "too_many_webhooks" => CONFLICT,
    /// The webhook endpoint is disabled; enable it before re-sending deliveries.
    WebhookDisabled = "webhook_disabled" => CONFLICT,
    /// The webhook delivery is still pending; only dead or delivered ones can be re-sent.
    DeliveryPending = "delivery_pending" => CONFLICT,
    /// The verification link was used already.
    TokenUsed = "token_used" => CONFLICT,
    /// The verification link expired.
    TokenExpired = "token_expired" => CONFLICT,
    /// The body exceeds the size limit.
    PayloadTooLarge = "payload_too_large" => PAYLOAD_TOO_LARGE,
    /// The body is not `application/json`.
    UnsupportedMediaType = "unsupported_media_type" => UNSUPPORTED_MEDIA_TYPE,
    /// A required field is missing (`field` names it).
    MissingField = "missing_field" => UNPROCESSABLE_ENTITY,
    /// A field is not part of the command (`field` names it).
    UnknownField = "unknown_field" => UNPROCESSABLE_ENTITY,
    /// A field has the wrong type or an unacceptable value (`field` names it).
    InvalidField = "invalid_field" => UNPROCESSABLE_ENTITY,
    /// The command names a location the tenant has not opened (`POST /v1/locations`).
    UnknownLocation = "unknown_location" => UNPROCESSABLE_ENTITY,
    /// The sale is dated before the tenant's back-dating window; a manager may record it with a `backdate_reason`.
    BackdatedTooFar = "backdated_too_far" => UNPROCESSABLE_ENTITY,
    /// The command names a user who is not a member of the tenant (`field` names it).
    UnknownUser = "unknown_user" => UNPROCESSABLE_ENTITY,
    /// The command names a location that was closed before the command happened.
    LocationClosed = "location_closed" => UNPROCESSABLE_ENTITY,
    /// The command names a drawer session that was never opened (`field` names it).
    UnknownDrawerSession = "unknown_drawer_session" => UNPROCESSABLE_ENTITY,
    /// The command names a drawer session that is closed (`field` names it).
    DrawerSessionClosed = "drawer_session_closed" => UNPROCESSABLE_ENTITY,
    /// The command names a product the catalog does not know, or one that cannot serve (a pack's base that is itself a pack or discontinued; `field` names it).
    UnknownProduct = "unknown_product" => UNPROCESSABLE_ENTITY,
    /// A count, adjustment or transfer names a pack: stock is kept in the base product's units, so name the base SKU.
    StockInBaseUnits = "stock_in_base_units" => UNPROCESSABLE_ENTITY,
    /// The command names a supplier that was never registered (`field` names it).
    UnknownSupplier = "unknown_supplier" => UNPROCESSABLE_ENTITY,
    /// The product is not among the supplier's items (`field` names it); add it to the supplier first.
    NotSupplied = "not_supplied" => UNPROCESSABLE_ENTITY,
    /// The delivery names a line the purchase order does not have (`field` names it).
    UnknownOrderLine = "unknown_order_line" => UNPROCESSABLE_ENTITY,
    /// A change without `If-Match`.
    PreconditionRequired = "precondition_required" => PRECONDITION_REQUIRED,
    /// Too many attempts; wait for `Retry-After` seconds.
    TooManyAttempts = "too_many_attempts" => TOO_MANY_REQUESTS,
    /// A bug or an unexpected answer of a backing server; nothing is said about it.
    Internal = "internal" => INTERNAL_SERVER_ERROR,
    /// The API is at capacity, or a backing server is unreachable, slow or full; nothing was recorded. Retry after `Retry-After` with the same idempotency key.
    Unavailable = "unavailable" => SERVICE_UNAVAILABLE,
    /// The read model has not reached `min_sequence` yet; retry after `Retry-After`.
    ProjectionBehind = "projection_behind" => SERVICE_UNAVAILABLE,
    /// The server is checking as many passwords as it may at once; retry after `Retry-After`.
    Overloaded = "overloaded" => SERVICE_UNAVAILABLE,
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The catalogue as a Markdown table (code, status, meaning), for docs/errors.md.
pub fn markdown_table() -> String {
    let mut table = String::from("| code | status | meaning |\n|---|---|---|\n");
    for code in ErrorCode::ALL {
        table.push_str(&format!(
            "| `{}` | {} | {} |\n",
            code.as_str(),
            code.status().as_u16(),
            code.description()
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_code_is_listed_once_and_serialises_as_its_name() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{code} is listed twice");
            assert_eq!(
                serde_json::to_value(code).expect("a unit variant serialises"),
                serde_json::json!(code.as_str())
            );
            assert!(
                code.status().is_client_error() || code.status().is_server_error(),
                "{code}"
            );
            assert!(!code.description().is_empty(), "{code} has no description");
        }
    }

    #[test]
    fn the_openapi_enum_lists_exactly_the_catalogue() {
        use utoipa::PartialSchema;
        let schema = serde_json::to_value(ErrorCode::schema()).expect("a schema serialises");
        let listed: Vec<&str> = schema["enum"]
            .as_array()
            .expect("an enum schema")
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(listed, codes);
    }

    #[test]
    fn the_documented_catalogue_is_the_one_in_the_code() {
        let doc = include_str!("../../docs/errors.md");
        assert!(
            doc.contains(&markdown_table()),
            "docs/errors.md is out of date; paste in the table printed below:\n{}",
            markdown_table()
        );
    }
}
