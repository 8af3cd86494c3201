//! The sale aggregate on cqrs-es: `POST /v1/sales`'s body as the command, `SaleCompleted`
//! as the event, and tillstream's arithmetic rules in `handle`:
//!
//! ```text
//! line:  quantity × unit_price − discount + tax = line total
//! sale:  subtotal = Σ quantity × unit_price,  discount_total = Σ discount,  tax_total = Σ tax
//!        total = subtotal − discount_total + tax_total
//!        tendered = Σ tenders ≥ total,  change = tendered − total ≤ cash tendered
//! ```
//!
//! The aggregate id is `<tenant>/<sale_id>`: sales of two tenants never share a stream.

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

/// Largest amount accepted, minor units (tillstream's bound).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;
/// Most lines on one sale.
pub const MAX_LINES: usize = 500;
/// Most tenders on one sale.
pub const MAX_TENDERS: usize = 20;

/// The body of `POST /v1/sales`, as tillstream accepts it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteSale {
    /// Terminal-generated id.
    pub sale_id: String,
    /// The till; defaults to the token's.
    #[serde(default)]
    pub terminal_id: Option<String>,
    /// The store.
    pub location: String,
    /// ISO 4217 code.
    pub currency: String,
    /// The lines.
    pub lines: Vec<LineInput>,
    /// Σ quantity × unit price.
    pub subtotal_minor: i64,
    /// Σ line discounts.
    pub discount_total_minor: i64,
    /// Σ line taxes.
    pub tax_total_minor: i64,
    /// subtotal − discounts + tax.
    pub total_minor: i64,
    /// Payments.
    pub tenders: Vec<TenderInput>,
    /// Cash handed back.
    pub change_minor: i64,
    /// When the sale happened; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// When present, the token's tenant.
    #[serde(default, alias = "organizationId")]
    pub tenant_id: Option<String>,
}

/// One line as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    /// The product.
    pub sku: String,
    /// Units (> 0).
    pub quantity: i64,
    /// Price of one unit.
    pub unit_price_minor: i64,
    /// Discount on the line.
    #[serde(default)]
    pub discount_minor: i64,
    /// Tax on the line.
    #[serde(default)]
    pub tax_minor: i64,
}

/// How a tender was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TenderKind {
    /// Cash (may be over-tendered).
    Cash,
    /// Card.
    Card,
    /// Anything else.
    Other,
}

/// One payment as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenderInput {
    /// Kind.
    pub kind: TenderKind,
    /// Amount (> 0).
    pub amount_minor: i64,
    /// Authorisation code and the like.
    #[serde(default)]
    pub reference: Option<String>,
}

/// The command: the body and who sent it.
#[derive(Debug)]
pub struct SaleCommand {
    /// The body.
    pub body: CompleteSale,
    /// The token's tenant.
    pub tenant: String,
    /// The token's user.
    pub user_id: String,
    /// The token's terminal.
    pub token_terminal: Option<String>,
}

/// A stored sale line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleLine {
    /// 1-based position.
    pub line_no: u32,
    /// The product.
    pub sku: String,
    /// Units.
    pub quantity: i64,
    /// Price of one unit.
    pub unit_price_minor: i64,
    /// Discount.
    pub discount_minor: i64,
    /// Tax.
    pub tax_minor: i64,
    /// quantity × unit price − discount + tax.
    pub total_minor: i64,
}

/// A stored tender.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tender {
    /// Kind.
    pub kind: TenderKind,
    /// Amount.
    pub amount_minor: i64,
    /// Reference.
    pub reference: Option<String>,
}

/// The sale's only event here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleCompleted {
    /// The tenant.
    pub tenant: String,
    /// The sale.
    pub sale_id: String,
    /// The till.
    pub terminal_id: String,
    /// The store.
    pub location: String,
    /// The cashier.
    pub cashier_id: String,
    /// Currency.
    pub currency: String,
    /// Lines.
    pub lines: Vec<SaleLine>,
    /// Subtotal.
    pub subtotal_minor: i64,
    /// Discounts.
    pub discount_total_minor: i64,
    /// Taxes.
    pub tax_total_minor: i64,
    /// Total.
    pub total_minor: i64,
    /// Payments.
    pub tenders: Vec<Tender>,
    /// Change.
    pub change_minor: i64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// Events of the sale aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SaleEvent {
    /// The sale was rung up and paid.
    SaleCompleted(SaleCompleted),
}

impl DomainEvent for SaleEvent {
    fn event_type(&self) -> String {
        "SaleCompleted".to_owned()
    }
    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

/// Why a sale was refused.
#[derive(Debug, thiserror::Error)]
pub enum SaleError {
    /// 422: a field is wrong.
    #[error("{field}: {message}")]
    Invalid {
        /// The field at fault.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// 403: the body names another tenant.
    #[error("the body names another tenant")]
    TenantMismatch,
    /// 409: the sale already exists.
    #[error("sale already completed")]
    AlreadyCompleted,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> SaleError {
    SaleError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// The sale aggregate.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Sale {
    /// Whether it was completed.
    pub completed: bool,
}

impl Aggregate for Sale {
    const TYPE: &'static str = "sale";
    type Command = SaleCommand;
    type Event = SaleEvent;
    type Error = SaleError;
    type Services = ();

    async fn handle(&mut self, command: SaleCommand, (): &(), sink: &EventSink<Self>) -> Result<(), SaleError> {
        if self.completed {
            return Err(SaleError::AlreadyCompleted);
        }
        let event = decide(command, Utc::now())?;
        sink.write(SaleEvent::SaleCompleted(event), self).await;
        Ok(())
    }

    fn apply(&mut self, event: SaleEvent) {
        match event {
            SaleEvent::SaleCompleted(_) => self.completed = true,
        }
    }
}

fn text(field: &str, value: &str) -> Result<(), SaleError> {
    if value.is_empty() || value.len() > 64 || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(field, "1 to 64 visible ASCII characters"));
    }
    Ok(())
}

fn amount(field: &str, value: i64) -> Result<(), SaleError> {
    if !(0..=MAX_AMOUNT).contains(&value) {
        return Err(invalid(field, "must be between 0 and 10^12"));
    }
    Ok(())
}

fn expect_equal(field: &str, sent: i64, computed: i64) -> Result<(), SaleError> {
    if sent == computed {
        Ok(())
    } else {
        Err(invalid(field, format!("is {sent} but the lines add up to {computed}")))
    }
}

/// Checks a sale and builds its event (tillstream's rules, without the catalog's ages and
/// the location's business day, which the peer has no aggregates for).
pub fn decide(command: SaleCommand, now: DateTime<Utc>) -> Result<SaleCompleted, SaleError> {
    let SaleCommand {
        body,
        tenant,
        user_id,
        token_terminal,
    } = command;
    if body.tenant_id.as_deref().is_some_and(|named| named != tenant) {
        return Err(SaleError::TenantMismatch);
    }
    text("sale_id", &body.sale_id)?;
    text("location", &body.location)?;
    if body.currency.len() != 3 || !body.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid("currency", "an ISO 4217 code"));
    }
    if body
        .occurred_at
        .is_some_and(|at| at > now + chrono::Duration::minutes(5))
    {
        return Err(invalid("occurred_at", "in the future"));
    }
    let terminal_id = match (body.terminal_id, token_terminal) {
        (Some(sent), Some(token)) if sent != token => {
            return Err(invalid("terminal_id", "does not match the token's terminal"));
        }
        (Some(terminal), _) | (None, Some(terminal)) => terminal,
        (None, None) => return Err(invalid("terminal_id", "missing")),
    };
    if body.lines.is_empty() || body.lines.len() > MAX_LINES {
        return Err(invalid("lines", format!("1 to {MAX_LINES} lines")));
    }
    let mut lines = Vec::with_capacity(body.lines.len());
    let (mut subtotal, mut discounts, mut taxes) = (0i64, 0i64, 0i64);
    for (index, line) in body.lines.into_iter().enumerate() {
        let field = |name: &str| format!("lines[{index}].{name}");
        text(&field("sku"), &line.sku)?;
        if line.quantity <= 0 || line.quantity > 1_000_000 {
            return Err(invalid(field("quantity"), "must be > 0"));
        }
        amount(&field("unit_price_minor"), line.unit_price_minor)?;
        amount(&field("discount_minor"), line.discount_minor)?;
        amount(&field("tax_minor"), line.tax_minor)?;
        let gross = line
            .quantity
            .checked_mul(line.unit_price_minor)
            .filter(|gross| *gross <= MAX_AMOUNT)
            .ok_or_else(|| invalid(field("unit_price_minor"), "amount too large"))?;
        if line.discount_minor > gross {
            return Err(invalid(field("discount_minor"), "exceeds quantity × unit price"));
        }
        subtotal = subtotal
            .checked_add(gross)
            .ok_or_else(|| invalid(field("unit_price_minor"), "amount too large"))?;
        discounts += line.discount_minor;
        taxes = taxes
            .checked_add(line.tax_minor)
            .ok_or_else(|| invalid(field("tax_minor"), "amount too large"))?;
        lines.push(SaleLine {
            line_no: (index + 1) as u32,
            total_minor: gross - line.discount_minor + line.tax_minor,
            sku: line.sku,
            quantity: line.quantity,
            unit_price_minor: line.unit_price_minor,
            discount_minor: line.discount_minor,
            tax_minor: line.tax_minor,
        });
    }
    let total = subtotal - discounts + taxes;
    expect_equal("subtotal_minor", body.subtotal_minor, subtotal)?;
    expect_equal("discount_total_minor", body.discount_total_minor, discounts)?;
    expect_equal("tax_total_minor", body.tax_total_minor, taxes)?;
    expect_equal("total_minor", body.total_minor, total)?;
    if body.tenders.is_empty() || body.tenders.len() > MAX_TENDERS {
        return Err(invalid("tenders", format!("1 to {MAX_TENDERS} tenders")));
    }
    let mut tenders = Vec::with_capacity(body.tenders.len());
    let (mut tendered, mut cash) = (0i64, 0i64);
    for (index, tender) in body.tenders.into_iter().enumerate() {
        let field = format!("tenders[{index}].amount_minor");
        if tender.amount_minor <= 0 {
            return Err(invalid(field, "must be > 0"));
        }
        amount(&field, tender.amount_minor)?;
        tendered += tender.amount_minor;
        if tender.kind == TenderKind::Cash {
            cash += tender.amount_minor;
        }
        tenders.push(Tender {
            kind: tender.kind,
            amount_minor: tender.amount_minor,
            reference: tender.reference,
        });
    }
    if tendered < total {
        return Err(invalid(
            "tenders",
            format!("tendered {tendered} does not cover the total {total}"),
        ));
    }
    expect_equal("change_minor", body.change_minor, tendered - total)?;
    if body.change_minor > cash {
        return Err(invalid("tenders", "only cash can be over-tendered"));
    }
    Ok(SaleCompleted {
        tenant,
        sale_id: body.sale_id,
        terminal_id,
        location: body.location,
        cashier_id: user_id,
        currency: body.currency,
        lines,
        subtotal_minor: subtotal,
        discount_total_minor: discounts,
        tax_total_minor: taxes,
        total_minor: total,
        tenders,
        change_minor: body.change_minor,
        occurred_at: body.occurred_at.unwrap_or(now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(body: serde_json::Value) -> SaleCommand {
        SaleCommand {
            body: serde_json::from_value(body).expect("a sale body"),
            tenant: "acme".to_owned(),
            user_id: "cashier-1".to_owned(),
            token_terminal: Some("till-1".to_owned()),
        }
    }

    fn body() -> serde_json::Value {
        // 2 × 1000 − 100 + 152 = 2052; 1 × 2999 + 240 = 3239; total 5291, cash 6000, change 709.
        serde_json::json!({"sale_id": "s-1", "location": "main", "currency": "USD",
            "lines": [{"sku": "WINE-1", "quantity": 2, "unit_price_minor": 1000, "discount_minor": 100, "tax_minor": 152},
                      {"sku": "BEER-6", "quantity": 1, "unit_price_minor": 2999, "tax_minor": 240}],
            "subtotal_minor": 4999, "discount_total_minor": 100, "tax_total_minor": 392, "total_minor": 5291,
            "tenders": [{"kind": "cash", "amount_minor": 6000}], "change_minor": 709})
    }

    #[test]
    fn a_consistent_sale_becomes_its_event() {
        let event = decide(command(body()), Utc::now()).expect("valid");
        assert_eq!(event.total_minor, 5291);
        assert_eq!(event.lines[0].total_minor, 2052);
        assert_eq!(event.terminal_id, "till-1");
    }

    #[test]
    fn totals_that_do_not_add_up_name_the_field() {
        let mut wrong = body();
        wrong["total_minor"] = 5290.into();
        match decide(command(wrong), Utc::now()) {
            Err(SaleError::Invalid { field, .. }) => assert_eq!(field, "total_minor"),
            other => panic!("expected total_minor, got {other:?}"),
        }
    }

    #[test]
    fn a_body_naming_another_tenant_is_refused() {
        let mut other = body();
        other["tenant_id"] = "globex".into();
        assert!(matches!(
            decide(command(other), Utc::now()),
            Err(SaleError::TenantMismatch)
        ));
    }
}
