//! Refunding some or all lines of a sale (manager or admin).
//!
//! The server computes the money: a line's refund is its share of what the customer paid
//! for that line, rounded down, except that refunding the last remaining units returns
//! exactly what is left, so refunding a line in several steps adds up to its total to the
//! cent.

use chrono::{DateTime, Utc};
use events::event::{RefundLine, SaleRefunded, Tender};
use events::{DomainEvent, DrawerSessionId, LocationId, RefundId, SaleId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{Manager, TenantContext};
use crate::codes::ErrorCode;
use crate::commands::cash;
use crate::commands::locations;
use crate::commands::sales::SaleState;
use crate::commands::sales::complete::{self as sale, TenderInput};
use crate::commands::sales::void::ReversalLoaded;
use crate::commands::{Command, CommandMeta, Decision, Route, fields};
use crate::error::ApiError;
use crate::state::AppState;

/// `POST /v1/sales/{sale_id}/refunds`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundSale {
    /// Terminal-generated id of this refund; re-sending it is safe.
    #[schema(value_type = String)]
    pub refund_id: RefundId,
    /// Where the goods came back; defaults to the sale's location.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub location: Option<LocationId>,
    /// The lines and units returned.
    pub lines: Vec<RefundLineInput>,
    /// How the money goes back; defaults to one tender of the sale's first kind.
    #[serde(default)]
    pub tenders: Option<Vec<TenderInput>>,
    /// Whether the goods go back on the shelf.
    #[serde(default = "default_restock")]
    pub restock: bool,
    /// Why.
    pub reason: String,
    /// The open drawer session whose drawer pays the cash back; a closed or unknown one is
    /// refused (422 naming this field). Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub drawer_session_id: Option<DrawerSessionId>,
    /// When, by the terminal's clock; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Optional; when present it must be the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

fn default_restock() -> bool {
    true
}

/// One returned line.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundLineInput {
    /// The sale's line number (from 1).
    pub line_no: u32,
    /// Units returned.
    pub quantity: i64,
}

impl Command for RefundSale {
    const NAME: &'static str = "RefundSale";
    const ROUTE: Route = Route::post(
        "/v1/sales/{sale_id}/refunds",
        "refund_sale",
        "sales",
        "Refund some or all lines of a sale.",
    );
    type Role = Manager;
    type Target = SaleId;
    type Id = SaleId;
    type State = SaleState;
    /// The location the goods come back to, and the drawer session named.
    type Loaded = ReversalLoaded;

    fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.occurred_at
    }

    fn id(&self, sale_id: &SaleId, _: Option<&str>) -> Result<SaleId, ApiError> {
        Ok(sale_id.clone())
    }

    fn natural_key(&self, _: &SaleId) -> String {
        format!("refund:{}", self.refund_id)
    }

    async fn load(&self, app: &AppState, sale_id: &SaleId, meta: &CommandMeta) -> Result<ReversalLoaded, ApiError> {
        let location = match &self.location {
            Some(location) => Some(location.clone()),
            None => locations::of_sale(app, meta, sale_id).await?,
        };
        let drawer = async {
            match &self.drawer_session_id {
                Some(session) => cash::load_session(app, meta, session).await.map(Some),
                None => Ok(None),
            }
        };
        let (location, drawer) = futures::try_join!(locations::load(app, meta, location.as_ref()), drawer)?;
        Ok(ReversalLoaded { location, drawer })
    }

    fn decide(&self, on: &Decision<'_, Self>) -> Result<DomainEvent, ApiError> {
        let mut refund = decide(on.id, self, on.context, on.state, on.now)?;
        let at = self.occurred_at.unwrap_or(on.now);
        if let (Some(session), Some(drawer)) = (&self.drawer_session_id, &on.loaded.drawer) {
            cash::check_open(session, drawer, Some(&refund.location))?;
        }
        refund.business_date = Some(locations::business_date_at(
            &on.loaded.location,
            "location",
            &refund.location,
            at,
        )?);
        if let Some(details) = &on.loaded.location.details
            && details.currency != refund.currency
        {
            return Err(ApiError::invalid(
                "location",
                format!(
                    "location {} sells in {}, the sale was in {}",
                    refund.location, details.currency, refund.currency
                ),
            ));
        }
        Ok(refund.into())
    }
}

/// Checks the refund against the sale and builds the event.
pub fn decide(
    sale_id: &SaleId,
    command: &RefundSale,
    context: &TenantContext,
    state: &SaleState,
    now: DateTime<Utc>,
) -> Result<SaleRefunded, ApiError> {
    context.check_tenant(command.tenant_id.as_deref())?;
    fields::text("reason", &command.reason)?;
    fields::occurred_at(command.occurred_at, now)?;
    let Some(sale) = &state.completed else {
        return Err(ApiError::NotFound {
            resource: "sale",
            id: sale_id.to_string(),
        });
    };
    if state.voided {
        return Err(ApiError::StateConflict {
            code: ErrorCode::SaleVoided,
            message: format!("sale {sale_id} was voided"),
        });
    }
    if state.refund_ids.contains(command.refund_id.as_str()) {
        return Err(ApiError::StateConflict {
            code: ErrorCode::RefundIdUsed,
            message: format!(
                "refund {} already exists with another idempotency key",
                command.refund_id
            ),
        });
    }
    if command.lines.is_empty() {
        return Err(ApiError::invalid("lines", "a refund needs at least one line"));
    }
    let mut lines: Vec<RefundLine> = Vec::with_capacity(command.lines.len());
    for (index, input) in command.lines.iter().enumerate() {
        let field = |name: &str| format!("lines[{index}].{name}");
        fields::positive_quantity(&field("quantity"), input.quantity)?;
        if lines.iter().any(|l| l.line_no == input.line_no) {
            return Err(ApiError::invalid(field("line_no"), "appears twice"));
        }
        let sold = sale.lines.iter().find(|l| l.line_no == input.line_no).ok_or_else(|| {
            ApiError::invalid(
                field("line_no"),
                format!("sale {sale_id} has no line {}", input.line_no),
            )
        })?;
        let already = state.refunded_units.get(&input.line_no).copied().unwrap_or(0);
        let left = sold.quantity - already;
        if input.quantity > left {
            return Err(ApiError::invalid(
                field("quantity"),
                format!("only {left} unit(s) of line {} can still be refunded", input.line_no),
            ));
        }
        let (paid_back, tax_back, deposit_back) =
            state.refunded_money.get(&input.line_no).copied().unwrap_or((0, 0, 0));
        // The last units take what is left, so a line refunded in parts gives back exactly
        // what was paid for it; the deposit goes back with its containers.
        let (amount, tax, deposit) = if input.quantity == left {
            (
                sold.total_minor - paid_back,
                sold.tax_minor - tax_back,
                sold.deposit_minor - deposit_back,
            )
        } else if let Some(discount_back) = promotion_discount_back(sale, sold, already, input.quantity) {
            // A line the server discounted by promotions gives back the refunded units'
            // price less their part of each promotion's share (docs/promotions.md).
            let tax = share(sold.tax_minor, input.quantity, sold.quantity);
            let deposit = share(sold.deposit_minor, input.quantity, sold.quantity);
            let goods = input.quantity * sold.unit_price_minor - discount_back;
            (goods + tax + deposit, tax, deposit)
        } else {
            (
                share(sold.total_minor, input.quantity, sold.quantity),
                share(sold.tax_minor, input.quantity, sold.quantity),
                share(sold.deposit_minor, input.quantity, sold.quantity),
            )
        };
        lines.push(RefundLine {
            line_no: input.line_no,
            sku: sold.sku.clone(),
            quantity: input.quantity,
            amount_minor: amount,
            tax_minor: tax,
            deposit_minor: deposit,
        });
    }
    let total: i64 = lines.iter().map(|l| l.amount_minor).sum();
    let tenders = match &command.tenders {
        Some(input) => {
            let tenders = sale::tenders(input)?;
            let paid: i64 = tenders.iter().map(|t| t.amount_minor).sum();
            if paid != total {
                return Err(ApiError::invalid(
                    "tenders",
                    format!("add up to {paid} but the refund is {total}"),
                ));
            }
            tenders
        }
        None if total == 0 => Vec::new(),
        None => vec![Tender {
            kind: sale
                .tenders
                .first()
                .map(|t| t.kind)
                .unwrap_or(events::event::TenderKind::Cash),
            amount_minor: total,
            reference: None,
        }],
    };
    Ok(SaleRefunded {
        sale_id: sale_id.clone(),
        refund_id: command.refund_id.clone(),
        location: command.location.clone().unwrap_or_else(|| sale.location.clone()),
        currency: sale.currency,
        lines,
        total_minor: total,
        tenders,
        restock: command.restock,
        reason: command.reason.clone(),
        business_date: None,
        drawer_session_id: command.drawer_session_id.clone(),
    })
}

/// `amount × part / whole`, rounded down, without overflow (amounts and quantities are
/// bounded, so the product fits in 128 bits).
/// The promotion discount given back when `quantity` more units of `line` come back
/// after `already`: for each promotion the server allocated to the line,
/// `R(already + quantity) − R(already)` with `R(k) = round_half_up(share × k / n)`, so the
/// parts add up to the promotion's share. `None` (the plain rule applies) when the line
/// had no promotion, or the terminal's discount is not the promotions' sum (a sale
/// recorded offline keeps its own discount).
fn promotion_discount_back(
    sale: &events::event::SaleCompleted,
    line: &events::event::SaleLine,
    already: i64,
    quantity: i64,
) -> Option<i64> {
    let priced = sale
        .pricing
        .as_ref()?
        .lines
        .iter()
        .find(|l| l.line_no == line.line_no)?;
    if priced.promotions.is_empty() {
        return None;
    }
    let promoted: i64 = priced.promotions.iter().map(|p| p.amount_minor).sum();
    if promoted != line.discount_minor {
        return None;
    }
    Some(
        priced
            .promotions
            .iter()
            .map(|p| {
                refunded_share(p.amount_minor, already + quantity, line.quantity)
                    - refunded_share(p.amount_minor, already, line.quantity)
            })
            .sum(),
    )
}

/// The part of `amount` given back once `refunded` of `quantity` units came back, half up.
pub fn refunded_share(amount: i64, refunded: i64, quantity: i64) -> i64 {
    crate::queries::promotions::refunded_share(amount, refunded, quantity)
}

fn share(amount: i64, part: i64, whole: i64) -> i64 {
    (i128::from(amount) * i128::from(part) / i128::from(whole)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use events::event::{SaleCompleted, SaleLine, TenderKind};
    use events::{Currency, Role, Sku, TenantId, TerminalId, UserId};

    fn context() -> TenantContext {
        TenantContext {
            tenant: TenantId::parse("acme").expect("tenant"),
            user_id: Some(UserId::parse("mgr").expect("user")),
            api_key_id: None,
            role: Role::Manager,
            terminal_id: None,
            locations: None,
            limited_since: None,
        }
    }

    fn state() -> SaleState {
        SaleState {
            completed: Some(SaleCompleted {
                backdate_reason: None,
                business_date: None,
                drawer_session_id: None,
                sale_id: SaleId::parse("s1").expect("id"),
                terminal_id: TerminalId::parse("t1").expect("t"),
                location: LocationId::parse("main").expect("l"),
                cashier_id: UserId::parse("c1").expect("u"),
                currency: Currency::USD,
                lines: vec![SaleLine {
                    line_no: 1,
                    sku: Sku::parse("WINE").expect("sku"),
                    quantity: 3,
                    unit_price_minor: 1000,
                    discount_minor: 0,
                    tax_minor: 100,
                    deposit_minor: 0,
                    total_minor: 3100,
                    minimum_age: None,
                    pack: None,
                }],
                subtotal_minor: 3000,
                discount_total_minor: 0,
                tax_total_minor: 100,
                deposit_total_minor: 0,
                total_minor: 3100,
                tenders: vec![Tender {
                    kind: TenderKind::Card,
                    amount_minor: 3100,
                    reference: None,
                }],
                change_minor: 0,
                age_verification: None,
                pricing: None,
            }),
            version: 7,
            ..SaleState::default()
        }
    }

    fn refund(id: &str, line_no: u32, quantity: i64) -> RefundSale {
        RefundSale {
            refund_id: RefundId::parse(id).expect("id"),
            location: None,
            lines: vec![RefundLineInput { line_no, quantity }],
            tenders: None,
            restock: true,
            reason: "changed mind".into(),
            drawer_session_id: None,
            occurred_at: None,
            tenant_id: None,
        }
    }

    fn apply(state: &mut SaleState, event: &SaleRefunded) {
        state.refund_ids.insert(event.refund_id.to_string());
        for line in &event.lines {
            *state.refunded_units.entry(line.line_no).or_default() += line.quantity;
            let money = state.refunded_money.entry(line.line_no).or_default();
            money.0 += line.amount_minor;
            money.1 += line.tax_minor;
        }
    }

    #[test]
    fn refunding_a_line_in_steps_adds_up_to_its_total_exactly() {
        let sale_id = SaleId::parse("s1").expect("id");
        let mut state = state();
        let mut total = 0;
        for (i, quantity) in [1, 1, 1].into_iter().enumerate() {
            let event = decide(
                &sale_id,
                &refund(&format!("r{i}"), 1, quantity),
                &context(),
                &state,
                Utc::now(),
            )
            .expect("refund");
            total += event.total_minor;
            assert_eq!(event.tenders[0].kind, TenderKind::Card);
            apply(&mut state, &event);
        }
        assert_eq!(total, 3100);
        let err = decide(&sale_id, &refund("r9", 1, 1), &context(), &state, Utc::now()).expect_err("nothing left");
        assert_eq!(err.code(), "invalid_field");
    }

    #[test]
    fn unknown_lines_voided_sales_and_missing_sales_are_refused() {
        let sale_id = SaleId::parse("s1").expect("id");
        assert_eq!(
            decide(&sale_id, &refund("r1", 2, 1), &context(), &state(), Utc::now())
                .expect_err("line")
                .code(),
            "invalid_field"
        );
        let mut voided = state();
        voided.voided = true;
        assert_eq!(
            decide(&sale_id, &refund("r1", 1, 1), &context(), &voided, Utc::now())
                .expect_err("voided")
                .code(),
            "sale_voided"
        );
        assert_eq!(
            decide(
                &sale_id,
                &refund("r1", 1, 1),
                &context(),
                &SaleState::default(),
                Utc::now()
            )
            .expect_err("missing")
            .code(),
            "not_found"
        );
    }

    #[test]
    fn explicit_tenders_must_match_the_computed_refund() {
        let sale_id = SaleId::parse("s1").expect("id");
        let mut command = refund("r1", 1, 3);
        command.tenders = Some(vec![TenderInput {
            kind: TenderKind::Cash,
            amount_minor: 3000,
            reference: None,
        }]);
        assert_eq!(
            decide(&sale_id, &command, &context(), &state(), Utc::now())
                .expect_err("tenders")
                .code(),
            "invalid_field"
        );
        command.tenders = Some(vec![TenderInput {
            kind: TenderKind::Cash,
            amount_minor: 3100,
            reference: None,
        }]);
        assert!(decide(&sale_id, &command, &context(), &state(), Utc::now()).is_ok());
    }
}
