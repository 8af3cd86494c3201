//! Completing a sale: the command, its arithmetic and its age checks.
//!
//! The terminal sends the lines and the totals it printed on the receipt; the server
//! recomputes everything in integer minor units and refuses a sale whose numbers do not add
//! up (a terminal bug must not reach the books):
//!
//! ```text
//! line:  quantity × unit_price − discount + tax + deposit = line total
//! sale:  subtotal = Σ quantity × unit_price
//!        discount_total = Σ discount,  tax_total = Σ tax,  deposit_total = Σ deposit
//!        total = subtotal − discount_total + tax_total + deposit_total
//!        tendered = Σ tenders ≥ total,  change = tendered − total ≤ cash tendered
//! ```
//!
//! Stock levels never refuse a sale: stock may go negative and the read side flags it.
//! Prices and taxes never refuse one either: where the store has a tax jurisdiction the
//! server prices the sale again at its time and records the differences
//! ([`crate::commands::sales::reprice`]).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use events::event::{AgeVerification, AgeVerificationMethod, Pack, SaleCompleted, SaleLine, Tender, TenderKind};
use events::{Currency, DomainEvent, DrawerSessionId, LocationId, SaleId, Sku, TerminalId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Cashier, TenantContext};
use crate::catalog_ages;
use crate::codes::ErrorCode;
use crate::commands::locations::{self, LocationState};
use crate::commands::sales::reprice::{self, PricingInputs};
use crate::commands::sales::settings::{self, SalesSettingsId, SalesSettingsState};
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

// Fields added after sales were first recorded are left out of the request fingerprint
// when they have their default, so a retry of an older sale is still recognised.
fn is_zero(value: &i64) -> bool {
    *value == 0
}

/// Most lines on one sale.
pub const MAX_LINES: usize = 500;
/// Most tenders on one sale.
pub const MAX_TENDERS: usize = 20;

/// `POST /v1/sales`: a sale rung up and paid.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteSale {
    /// Terminal-generated id (a UUID is best); re-sending the same sale is safe.
    #[schema(value_type = String, example = "0190c2d8-5b7e-7c1a-9f00-1234567890ab")]
    pub sale_id: SaleId,
    /// The till; defaults to the token's `terminalId` and must match it when both exist.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub terminal_id: Option<TerminalId>,
    /// Store the sale happened in.
    #[schema(value_type = String, example = "main-street")]
    pub location: LocationId,
    /// ISO 4217 code of every amount in the sale.
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    /// The lines, in receipt order.
    pub lines: Vec<SaleLineInput>,
    /// Σ quantity × unit price.
    pub subtotal_minor: i64,
    /// Σ line discounts.
    pub discount_total_minor: i64,
    /// Σ line taxes.
    pub tax_total_minor: i64,
    /// Σ line deposits (default 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deposit_total_minor: i64,
    /// subtotal − discounts + tax + deposits.
    pub total_minor: i64,
    /// How the customer paid.
    pub tenders: Vec<TenderInput>,
    /// Cash handed back: tendered − total.
    pub change_minor: i64,
    /// Required when a line is age-restricted.
    #[serde(default)]
    pub age_verification: Option<AgeVerificationInput>,
    /// The terminal's open drawer session, whose drawer took the cash (a sale naming an unknown or closed session is still
    /// recorded, and flagged). Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub drawer_session_id: Option<DrawerSessionId>,
    /// When the sale happened by the terminal's clock; defaults to now. At most the
    /// tenant's back-dating window ago (a week unless set) unless a manager gives a
    /// `backdate_reason`.
    #[serde(default, serialize_with = "events::instant::optional::serialize")]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Why a manager records a sale dated before the back-dating window (kept with the
    /// sale, shown by the reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backdate_reason: Option<String>,
    /// The cashier who rang the sale up, a user of the tenant: required when an
    /// integration's API key (scope `post_commands`) posts the sale, refused with a user's
    /// token (whose user is the cashier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub cashier_id: Option<UserId>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

/// One line of a sale as the terminal sends it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleLineInput {
    /// The product.
    #[schema(value_type = String, example = "JD-750")]
    pub sku: Sku,
    /// Units (> 0).
    pub quantity: i64,
    /// Price of one unit, minor units.
    pub unit_price_minor: i64,
    /// Discount on the line, minor units.
    #[serde(default)]
    pub discount_minor: i64,
    /// Tax charged on top of the price after discount, minor units. In a store whose
    /// prices include tax, only the taxes charged beside the price (per-unit excise).
    #[serde(default)]
    pub tax_minor: i64,
    /// Container deposit charged on the line (bottle deposit, Pfand), minor units; in a
    /// store whose prices include tax, with its tax. Default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deposit_minor: i64,
    /// Minimum age the terminal knows for this product; the catalog's applies too.
    #[serde(default)]
    pub minimum_age: Option<u8>,
}

/// One payment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenderInput {
    /// `cash`, `card` or `other`.
    #[schema(value_type = String, example = "cash")]
    pub kind: TenderKind,
    /// Amount, minor units (> 0).
    pub amount_minor: i64,
    /// Card authorisation code, voucher number, ...
    #[serde(default)]
    pub reference: Option<String>,
}

/// The age check of an age-restricted sale.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgeVerificationInput {
    /// `id_scan` or `id_inspected`.
    #[schema(value_type = String, example = "id_scan")]
    pub method: AgeVerificationMethod,
    /// The customer's age in whole years today.
    pub customer_age: u8,
    /// Who checked; defaults to the cashier.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub verified_by: Option<UserId>,
}

impl Command for CompleteSale {
    const NAME: &'static str = "CompleteSale";
    const ROUTE: Route = Route::post("/v1/sales", "complete_sale", "sales", "Complete a sale.")
        .key("Optional; the sale id serves as key otherwise");
    const CREATES: bool = true;
    type Role = Cashier;
    type Target = ();
    type Id = SaleId;
    type State = ();
    type Loaded = SaleLoaded;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, (): &(), _: Option<&str>) -> Result<SaleId, ApiError> {
        Ok(self.sale_id.clone())
    }

    async fn load(&self, app: &AppState, _: &SaleId, meta: &CommandMeta) -> Result<SaleLoaded, ApiError> {
        let verifier = self
            .age_verification
            .as_ref()
            .and_then(|check| check.verified_by.as_ref())
            .filter(|user| !meta.context.is_user(user) && self.cashier_id.as_ref() != Some(*user));
        let member = |user: Option<&UserId>| {
            let user = user.cloned();
            async move {
                match user {
                    Some(user) => {
                        app.subjects
                            .is_member(meta.context.tenant.as_str(), user.as_str())
                            .await
                    }
                    None => Ok(true),
                }
            }
        };
        // Only a key names the cashier; with a user's token `decide` refuses the field.
        let cashier = self.cashier_id.as_ref().filter(|_| meta.context.user_id.is_none());
        let (products, location, verifier_known, cashier_known, settings) = futures::try_join!(
            catalog_ages::products(&app.products, &meta.context.tenant, self.lines.iter().map(|l| &l.sku)),
            locations::load(app, meta, Some(&self.location)),
            member(verifier),
            member(cashier),
            app.sales_settings.get(&meta.context.tenant, &SalesSettingsId),
        )?;
        let ages = catalog_ages::minimum_ages(&products);
        let packs = catalog_ages::packs(&products);
        let mut pricing = match location.details.as_ref() {
            Some(details) => match &details.tax_jurisdiction {
                Some(id) => app
                    .jurisdictions
                    .get(&meta.context.tenant, id)
                    .await?
                    .jurisdiction
                    .clone()
                    .map(|jurisdiction| PricingInputs {
                        jurisdiction,
                        prices_include_tax: details.prices_include_tax,
                        products,
                        promotions: Vec::new(),
                    }),
                None => None,
            },
            None => None,
        };
        if let Some(inputs) = pricing.as_mut() {
            inputs.promotions =
                reprice::promotions_at(app, meta, &self.location, self.currency, self.occurred_at).await;
        }
        Ok(SaleLoaded {
            ages,
            packs,
            location,
            verifier_known,
            cashier_known,
            pricing,
            settings,
        })
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        if !on.loaded.verifier_known {
            return Err(ApiError::Unusable {
                code: ErrorCode::UnknownUser,
                field: "age_verification.verified_by".to_owned(),
                message: "names no user of this organization".to_owned(),
            });
        }
        if !on.loaded.cashier_known {
            return Err(ApiError::Unusable {
                code: ErrorCode::UnknownUser,
                field: "cashier_id".to_owned(),
                message: "names no user of this organization".to_owned(),
            });
        }
        let mut sale = decide(self, on.context, &on.loaded.ages, on.now)?;
        for line in &mut sale.lines {
            line.pack = on.loaded.packs.get(&line.sku).cloned();
        }
        let at = self.occurred_at.unwrap_or(on.now);
        fields::optional_text("backdate_reason", self.backdate_reason.as_deref())?;
        sale.backdate_reason = settings::backdating(
            &on.loaded.settings.settings,
            at,
            on.now,
            on.context,
            self.backdate_reason.as_deref(),
        )?;
        let date = locations::business_date_at(&on.loaded.location, "location", &self.location, at)?;
        if let Some(details) = &on.loaded.location.details
            && details.currency != self.currency
        {
            return Err(ApiError::invalid(
                "currency",
                format!("location {} sells in {}", self.location, details.currency),
            ));
        }
        sale.business_date = Some(date);
        if let Some(inputs) = &on.loaded.pricing {
            sale.pricing = reprice::reprice(&sale, inputs, at, date);
        }
        Ok(sale.into())
    }
}

/// What a sale is decided on besides its body.
#[derive(Debug)]
pub struct SaleLoaded {
    /// The catalog's minimum ages of the sale's SKUs (restricted ones only).
    pub ages: HashMap<Sku, u8>,
    /// The packs among the sale's SKUs (stock moves in their base product's units).
    pub packs: HashMap<Sku, Pack>,
    /// The location it names.
    pub location: Arc<LocationState>,
    /// Whether the user named as the ID checker (`age_verification.verified_by`), when it
    /// is not the sender, is a user of the tenant (deactivated ones count: the sale may
    /// have been rung up offline before).
    pub verifier_known: bool,
    /// Whether the cashier a key names (`cashier_id`) is a user of the tenant
    /// (deactivated ones count, as for the verifier).
    pub cashier_known: bool,
    /// What the server prices the sale with, when its store has a tax jurisdiction.
    pub pricing: Option<PricingInputs>,
    /// The tenant's sales settings (the back-dating window).
    pub settings: Arc<SalesSettingsState>,
}

impl Default for SaleLoaded {
    fn default() -> Self {
        Self {
            ages: HashMap::new(),
            packs: HashMap::new(),
            location: Arc::default(),
            verifier_known: true,
            cashier_known: true,
            pricing: None,
            settings: Arc::default(),
        }
    }
}

/// Checks a sale and builds its event. `catalog_age` gives the catalog's minimum age for
/// a SKU (absent for unrestricted or unknown products).
pub fn decide(
    command: &CompleteSale,
    context: &TenantContext,
    catalog_age: &HashMap<Sku, u8>,
    now: DateTime<Utc>,
) -> Result<SaleCompleted, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::occurred_at(command.occurred_at, now)?;
    let cashier_id = match (&context.user_id, &command.cashier_id) {
        (Some(user), None) => user.clone(),
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "cashier_id",
                "only an API key names the cashier; a user's token is the cashier",
            ));
        }
        (None, Some(cashier)) => cashier.clone(),
        (None, None) => {
            return Err(ApiError::MissingField {
                field: "cashier_id (an API key must name the cashier who rang the sale up)".to_owned(),
            });
        }
    };
    let terminal_id = match (&command.terminal_id, &context.terminal_id) {
        (Some(body), Some(token)) if body != token => {
            return Err(ApiError::invalid("terminal_id", "does not match the token's terminal"));
        }
        (Some(terminal), _) | (None, Some(terminal)) => terminal.clone(),
        (None, None) => {
            return Err(ApiError::MissingField {
                field: "terminal_id".to_owned(),
            });
        }
    };

    if command.lines.is_empty() {
        return Err(ApiError::invalid("lines", "a sale needs at least one line"));
    }
    if command.lines.len() > MAX_LINES {
        return Err(ApiError::invalid("lines", format!("at most {MAX_LINES} lines")));
    }
    let overflow = |field: String| ApiError::invalid(field, "amount too large");
    let mut lines = Vec::with_capacity(command.lines.len());
    let (mut subtotal, mut discounts, mut taxes, mut deposits) = (0i64, 0i64, 0i64, 0i64);
    let mut required_age: Option<u8> = None;
    for (index, line) in command.lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{index}].{name}");
        // Static names, the line's path added only to a refusal (no formatting per line).
        let at = |err: ApiError| err.under(|| format!("lines[{index}]"));
        fields::positive_quantity("quantity", line.quantity).map_err(at)?;
        fields::amount("unit_price_minor", line.unit_price_minor).map_err(at)?;
        fields::amount("discount_minor", line.discount_minor).map_err(at)?;
        fields::amount("tax_minor", line.tax_minor).map_err(at)?;
        fields::amount("deposit_minor", line.deposit_minor).map_err(at)?;
        let gross = line
            .quantity
            .checked_mul(line.unit_price_minor)
            .filter(|gross| *gross <= fields::MAX_AMOUNT)
            .ok_or_else(|| overflow(field("unit_price_minor")))?;
        if line.discount_minor > gross {
            return Err(ApiError::invalid(
                field("discount_minor"),
                "exceeds quantity × unit price",
            ));
        }
        let total = gross - line.discount_minor + line.tax_minor + line.deposit_minor;
        subtotal = subtotal
            .checked_add(gross)
            .ok_or_else(|| overflow(field("unit_price_minor")))?;
        discounts += line.discount_minor;
        taxes = taxes
            .checked_add(line.tax_minor)
            .ok_or_else(|| overflow(field("tax_minor")))?;
        deposits = deposits
            .checked_add(line.deposit_minor)
            .filter(|sum| *sum <= fields::MAX_AMOUNT)
            .ok_or_else(|| overflow(field("deposit_minor")))?;
        if line.minimum_age == Some(0) {
            return Err(ApiError::invalid(field("minimum_age"), "must be > 0 when present"));
        }
        let minimum_age = line.minimum_age.max(catalog_age.get(&line.sku).copied());
        required_age = required_age.max(minimum_age);
        lines.push(SaleLine {
            line_no: (index + 1) as u32,
            sku: line.sku.clone(),
            quantity: line.quantity,
            unit_price_minor: line.unit_price_minor,
            discount_minor: line.discount_minor,
            tax_minor: line.tax_minor,
            deposit_minor: line.deposit_minor,
            total_minor: total,
            minimum_age,
            pack: None,
        });
    }
    let total = subtotal - discounts + taxes + deposits;
    expect_equal("subtotal_minor", command.subtotal_minor, subtotal)?;
    expect_equal("discount_total_minor", command.discount_total_minor, discounts)?;
    expect_equal("tax_total_minor", command.tax_total_minor, taxes)?;
    expect_equal("deposit_total_minor", command.deposit_total_minor, deposits)?;
    expect_equal("total_minor", command.total_minor, total)?;

    let tenders = tenders(&command.tenders)?;
    let tendered: i64 = tenders.iter().map(|t| t.amount_minor).sum();
    let cash: i64 = tenders
        .iter()
        .filter(|t| t.kind == TenderKind::Cash)
        .map(|t| t.amount_minor)
        .sum();
    if tendered < total {
        return Err(ApiError::invalid(
            "tenders",
            format!("tendered {tendered} does not cover the total {total}"),
        ));
    }
    expect_equal("change_minor", command.change_minor, tendered - total)?;
    if command.change_minor > cash {
        return Err(ApiError::invalid(
            "tenders",
            "only cash can be over-tendered; non-cash tenders exceed the amount due",
        ));
    }

    let age_verification = match (required_age, &command.age_verification) {
        (Some(required), None) => {
            return Err(ApiError::MissingField {
                field: format!("age_verification (a line requires age {required})"),
            });
        }
        (Some(required), Some(check)) if check.customer_age < required => {
            return Err(ApiError::invalid(
                "age_verification.customer_age",
                format!("the customer must be at least {required}"),
            ));
        }
        (_, Some(check)) => Some(AgeVerification {
            method: check.method,
            customer_age: check.customer_age,
            verified_by: check.verified_by.clone().unwrap_or_else(|| cashier_id.clone()),
        }),
        (None, None) => None,
    };

    Ok(SaleCompleted {
        sale_id: command.sale_id.clone(),
        terminal_id,
        location: command.location.clone(),
        cashier_id,
        currency: command.currency,
        lines,
        subtotal_minor: subtotal,
        discount_total_minor: discounts,
        tax_total_minor: taxes,
        deposit_total_minor: deposits,
        total_minor: total,
        tenders,
        change_minor: command.change_minor,
        age_verification,
        business_date: None,
        pricing: None,
        drawer_session_id: command.drawer_session_id.clone(),
        backdate_reason: None,
    })
}

/// Checks tenders (shared with refunds): 1 to [`MAX_TENDERS`], amounts > 0.
pub fn tenders(input: &[TenderInput]) -> Result<Vec<Tender>, ApiError> {
    if input.is_empty() {
        return Err(ApiError::invalid("tenders", "at least one tender is required"));
    }
    if input.len() > MAX_TENDERS {
        return Err(ApiError::invalid("tenders", format!("at most {MAX_TENDERS} tenders")));
    }
    input
        .iter()
        .enumerate()
        .map(|(index, tender)| {
            let at = |err: ApiError| err.under(|| format!("tenders[{index}]"));
            if tender.amount_minor <= 0 {
                return Err(ApiError::invalid(
                    format!("tenders[{index}].amount_minor"),
                    "must be > 0",
                ));
            }
            fields::amount("amount_minor", tender.amount_minor).map_err(at)?;
            fields::optional_text("reference", tender.reference.as_deref()).map_err(at)?;
            Ok(Tender {
                kind: tender.kind,
                amount_minor: tender.amount_minor,
                reference: tender.reference.clone(),
            })
        })
        .collect()
}

fn expect_equal(field: &str, sent: i64, computed: i64) -> Result<(), ApiError> {
    if sent == computed {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            format!("is {sent} but the lines add up to {computed}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use events::{Role, TenantId};
    use proptest::prelude::*;

    fn context() -> TenantContext {
        TenantContext {
            tenant: TenantId::parse("acme").expect("tenant"),
            user_id: Some(UserId::parse("cashier-1").expect("user")),
            api_key_id: None,
            role: Role::Cashier,
            terminal_id: Some(TerminalId::parse("till-1").expect("terminal")),
            locations: None,
            limited_since: None,
        }
    }

    fn line(sku: &str, quantity: i64, unit_price_minor: i64, discount_minor: i64, tax_minor: i64) -> SaleLineInput {
        SaleLineInput {
            sku: Sku::parse(sku).expect("sku"),
            quantity,
            unit_price_minor,
            discount_minor,
            tax_minor,
            deposit_minor: 0,
            minimum_age: None,
        }
    }

    /// A consistent sale: two lines, cash over-tendered.
    fn sale() -> CompleteSale {
        // 2 × 1000 − 100 + 152 = 2052; 1 × 2999 + 240 = 3239; total 5291.
        CompleteSale {
            sale_id: SaleId::parse("s-1").expect("id"),
            terminal_id: None,
            location: LocationId::parse("main").expect("location"),
            currency: Currency::USD,
            lines: vec![line("WINE-1", 2, 1000, 100, 152), line("BEER-6", 1, 2999, 0, 240)],
            subtotal_minor: 4999,
            discount_total_minor: 100,
            tax_total_minor: 392,
            deposit_total_minor: 0,
            total_minor: 5291,
            tenders: vec![TenderInput {
                kind: TenderKind::Cash,
                amount_minor: 6000,
                reference: None,
            }],
            change_minor: 709,
            age_verification: None,
            drawer_session_id: None,
            occurred_at: None,
            backdate_reason: None,
            cashier_id: None,
            tenant_id: None,
        }
    }

    #[test]
    fn the_sale_time_is_fingerprinted_as_chrono_writes_it() {
        // A terminal's retry is recognised by the fingerprint of its body, stored with the
        // event: the instant must be written exactly as before it was formatted by
        // `events::instant` (chrono's own form), or retries across a deploy would conflict.
        for text in [
            "2026-11-30T18:04:05Z",
            "2026-11-30T18:04:05.120Z",
            "2026-11-30T18:04:05.123456Z",
        ] {
            let at: DateTime<Utc> = text.parse().expect("instant");
            let mut written = sale();
            written.occurred_at = Some(at);
            let json = serde_json::to_value(&written).expect("serializes");
            assert_eq!(json["occurred_at"], serde_json::to_value(at).expect("chrono"), "{text}");
            assert_eq!(json["occurred_at"], text);
        }
        assert_eq!(
            serde_json::to_value(sale()).expect("serializes")["occurred_at"],
            serde_json::Value::Null
        );
    }

    fn field(err: ApiError) -> String {
        match err {
            ApiError::InvalidField { field, .. } | ApiError::MissingField { field } => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_consistent_sale_becomes_a_sale_completed_event() {
        let event = decide(&sale(), &context(), &HashMap::new(), Utc::now()).expect("valid");
        assert_eq!(event.total_minor, 5291);
        assert_eq!(event.lines[0].total_minor, 2052);
        assert_eq!(event.lines[1].line_no, 2);
        assert_eq!(event.terminal_id.as_str(), "till-1");
        assert_eq!(event.cashier_id.as_str(), "cashier-1");
        assert_eq!(event.change_minor, 709);
    }

    #[test]
    fn totals_that_do_not_add_up_name_the_field() {
        for (mutate, expected) in [
            (
                Box::new(|s: &mut CompleteSale| s.subtotal_minor += 1) as Box<dyn Fn(&mut CompleteSale)>,
                "subtotal_minor",
            ),
            (
                Box::new(|s: &mut CompleteSale| s.discount_total_minor = 0),
                "discount_total_minor",
            ),
            (
                Box::new(|s: &mut CompleteSale| s.tax_total_minor -= 1),
                "tax_total_minor",
            ),
            (Box::new(|s: &mut CompleteSale| s.total_minor = 5000), "total_minor"),
            (Box::new(|s: &mut CompleteSale| s.change_minor = 0), "change_minor"),
            (
                Box::new(|s: &mut CompleteSale| s.lines[1].quantity = 0),
                "lines[1].quantity",
            ),
            (
                Box::new(|s: &mut CompleteSale| s.lines[0].quantity = -2),
                "lines[0].quantity",
            ),
            (
                Box::new(|s: &mut CompleteSale| s.lines[0].discount_minor = 5000),
                "lines[0].discount_minor",
            ),
            (
                Box::new(|s: &mut CompleteSale| s.lines[0].unit_price_minor = -1),
                "lines[0].unit_price_minor",
            ),
            (
                Box::new(|s: &mut CompleteSale| s.lines[0].unit_price_minor = i64::MAX),
                "lines[0].unit_price_minor",
            ),
            (Box::new(|s: &mut CompleteSale| s.lines.clear()), "lines"),
            (Box::new(|s: &mut CompleteSale| s.tenders.clear()), "tenders"),
            (
                Box::new(|s: &mut CompleteSale| s.tenders[0].amount_minor = 0),
                "tenders[0].amount_minor",
            ),
            // Checked under a static name, the path added on refusal (`ApiError::under`).
            (
                Box::new(|s: &mut CompleteSale| s.lines[1].tax_minor = -1),
                "lines[1].tax_minor",
            ),
            (
                Box::new(|s: &mut CompleteSale| s.lines[0].deposit_minor = fields::MAX_AMOUNT + 1),
                "lines[0].deposit_minor",
            ),
            (
                Box::new(|s: &mut CompleteSale| s.tenders[0].amount_minor = fields::MAX_AMOUNT + 1),
                "tenders[0].amount_minor",
            ),
            (
                Box::new(|s: &mut CompleteSale| s.tenders[0].reference = Some("bad\u{7}".to_owned())),
                "tenders[0].reference",
            ),
        ] {
            let mut command = sale();
            mutate(&mut command);
            let err = decide(&command, &context(), &HashMap::new(), Utc::now()).expect_err(expected);
            assert_eq!(field(err), expected);
        }
    }

    #[test]
    fn tenders_must_cover_the_total_and_only_cash_gives_change() {
        let mut short = sale();
        short.tenders[0].amount_minor = 5000;
        short.change_minor = 0;
        assert_eq!(
            field(decide(&short, &context(), &HashMap::new(), Utc::now()).expect_err("short")),
            "tenders"
        );

        let mut card_over = sale();
        card_over.tenders[0].kind = TenderKind::Card;
        assert_eq!(
            field(decide(&card_over, &context(), &HashMap::new(), Utc::now()).expect_err("card")),
            "tenders"
        );

        let mut split = sale();
        split.tenders = vec![
            TenderInput {
                kind: TenderKind::Card,
                amount_minor: 5000,
                reference: Some("auth-1".into()),
            },
            TenderInput {
                kind: TenderKind::Cash,
                amount_minor: 1000,
                reference: None,
            },
        ];
        assert!(decide(&split, &context(), &HashMap::new(), Utc::now()).is_ok());
    }

    #[test]
    fn age_restricted_lines_need_a_sufficient_age_verification() {
        let catalog = HashMap::from([(Sku::parse("BEER-6").expect("sku"), 21)]);
        let err = decide(&sale(), &context(), &catalog, Utc::now()).expect_err("no verification");
        assert!(field(err).starts_with("age_verification"));

        let mut young = sale();
        young.age_verification = Some(AgeVerificationInput {
            method: AgeVerificationMethod::IdScan,
            customer_age: 19,
            verified_by: None,
        });
        assert_eq!(
            field(decide(&young, &context(), &catalog, Utc::now()).expect_err("young")),
            "age_verification.customer_age"
        );

        let mut ok = sale();
        ok.age_verification = Some(AgeVerificationInput {
            method: AgeVerificationMethod::IdScan,
            customer_age: 30,
            verified_by: None,
        });
        let event = decide(&ok, &context(), &catalog, Utc::now()).expect("verified");
        assert_eq!(event.lines[1].minimum_age, Some(21));
        assert_eq!(
            event.age_verification.map(|a| a.verified_by.to_string()),
            Some("cashier-1".to_owned())
        );

        // The terminal's own knowledge of a restriction counts even if the catalog lags.
        let mut terminal_knows = sale();
        terminal_knows.lines[0].minimum_age = Some(18);
        assert!(decide(&terminal_knows, &context(), &HashMap::new(), Utc::now()).is_err());
    }

    #[test]
    fn the_terminal_must_agree_with_the_token_and_the_tenant_with_the_token() {
        let mut other_terminal = sale();
        other_terminal.terminal_id = Some(TerminalId::parse("till-9").expect("terminal"));
        assert_eq!(
            field(decide(&other_terminal, &context(), &HashMap::new(), Utc::now()).expect_err("terminal")),
            "terminal_id"
        );

        let mut no_terminal_anywhere = sale();
        let mut ctx = context();
        ctx.terminal_id = None;
        no_terminal_anywhere.terminal_id = None;
        assert_eq!(
            field(decide(&no_terminal_anywhere, &ctx, &HashMap::new(), Utc::now()).expect_err("none")),
            "terminal_id"
        );

        let mut other_tenant = sale();
        other_tenant.tenant_id = Some("globex".into());
        assert!(matches!(
            decide(&other_tenant, &context(), &HashMap::new(), Utc::now()),
            Err(ApiError::TenantMismatch)
        ));
    }

    fn consistent_sale() -> impl Strategy<Value = CompleteSale> {
        let line = (1i64..50, 0i64..100_000, 0i64..=100, 1i64..10_000).prop_map(|(q, price, pct, tax)| {
            let discount = q * price * pct / 100;
            (q, price, discount, tax)
        });
        (proptest::collection::vec(line, 1..20), 0i64..100_000, any::<bool>()).prop_map(|(lines, extra, cash)| {
            let mut sale = sale();
            sale.lines = lines
                .iter()
                .enumerate()
                .map(|(i, (q, price, discount, tax))| SaleLineInput {
                    sku: Sku::parse(format!("SKU-{i}")).expect("sku"),
                    quantity: *q,
                    unit_price_minor: *price,
                    discount_minor: *discount,
                    tax_minor: *tax,
                    deposit_minor: 0,
                    minimum_age: None,
                })
                .collect();
            sale.subtotal_minor = lines.iter().map(|(q, p, _, _)| q * p).sum();
            sale.discount_total_minor = lines.iter().map(|(_, _, d, _)| d).sum();
            sale.tax_total_minor = lines.iter().map(|(_, _, _, t)| t).sum();
            sale.total_minor = sale.subtotal_minor - sale.discount_total_minor + sale.tax_total_minor;
            let over = if cash { extra } else { 0 };
            sale.tenders = vec![TenderInput {
                kind: if cash { TenderKind::Cash } else { TenderKind::Card },
                amount_minor: (sale.total_minor + over).max(1),
                reference: None,
            }];
            sale.change_minor = sale.tenders[0].amount_minor - sale.total_minor;
            sale
        })
    }

    proptest! {
        #[test]
        fn every_consistent_sale_is_accepted_and_balances(sale in consistent_sale()) {
            let event = decide(&sale, &context(), &HashMap::new(), Utc::now()).expect("consistent sale");
            let line_totals: i64 = event.lines.iter().map(|l| l.total_minor).sum();
            prop_assert_eq!(line_totals, event.total_minor);
            let tendered: i64 = event.tenders.iter().map(|t| t.amount_minor).sum();
            prop_assert_eq!(tendered - event.total_minor, event.change_minor);
        }

        #[test]
        fn any_single_total_off_by_some_amount_is_refused(sale in consistent_sale(), which in 0usize..5, delta in prop_oneof![-1000i64..0, 1i64..1000]) {
            let mut sale = sale;
            match which {
                0 => sale.subtotal_minor += delta,
                1 => sale.discount_total_minor += delta,
                2 => sale.tax_total_minor += delta,
                3 => sale.total_minor += delta,
                _ => sale.change_minor += delta,
            }
            prop_assert!(decide(&sale, &context(), &HashMap::new(), Utc::now()).is_err());
        }
    }
}
