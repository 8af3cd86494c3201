//! Pricing a recorded sale again on the server, at the time it was rung up.
//!
//! A sale that happened is never refused for its prices or taxes (the customer has paid;
//! an offline terminal may have had last week's price list or rates). When the sale's
//! store has a tax jurisdiction, the server prices the sale's lines with the terminal's
//! unit prices and discounts and the catalog's list price beside them, on the store's
//! business date of `occurred_at`, and records on the event the tax breakdown and deposit
//! of each line and every difference ([`events::event::SalePricing`]): a price override,
//! a tax or deposit the terminal got wrong, a product the catalog did not know. The
//! exceptions report lists them. Promotions in force at the store and instant apply
//! too: a line whose terminal discount is the server's promotion shares records them; a
//! line a promotion covers whose terminal discount differs is flagged `discount_differs`
//! and records none (the sale keeps the terminal's discount; docs/promotions.md). Pure but for
//! [`promotions_at`], which the command calls to load the promotions.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use events::event::{LinePricing, SaleCompleted, SalePricing};
use events::tax::{Difference, LineDifference};
use events::tax::{Jurisdiction, TaxClass};
use events::{Currency, LocationId, Sku};
use pricing::{
    ActivePromotion, Basket, BasketLine, PriceMode, PricingContext, PromotionLine, RecordedLine, apply_promotions,
    compare_sale, price_basket,
};

use crate::commands::CommandMeta;
use crate::commands::catalog::ProductState;
use crate::commands::promotions;
use crate::state::AppState;

/// What pricing a sale needs besides the sale: the store's jurisdiction and price mode,
/// and the catalog's state of the sale's products.
#[derive(Debug, Clone)]
pub struct PricingInputs {
    /// The store's tax jurisdiction.
    pub jurisdiction: Jurisdiction,
    /// Whether the store's prices include tax.
    pub prices_include_tax: bool,
    /// The sale's products, folded from the catalog's events.
    pub products: HashMap<Sku, Arc<ProductState>>,
    /// The promotions in force at the sale's store and `occurred_at`.
    pub promotions: Vec<ActivePromotion>,
}

/// The promotions in force at `location` at `occurred_at` (now when absent), from the
/// read model. A sale is never refused for them: when the read model cannot be read the
/// sale is priced without promotions and the failure logged.
pub async fn promotions_at(
    app: &AppState,
    meta: &CommandMeta,
    location: &LocationId,
    currency: Currency,
    occurred_at: Option<DateTime<Utc>>,
) -> Vec<ActivePromotion> {
    let at = occurred_at.unwrap_or_else(Utc::now);
    let found = async {
        let db = crate::queries::tenant_database(app, &meta.context).await?;
        promotions::active(&db, location, currency, at).await
    };
    match found.await {
        Ok(found) => found,
        Err(err) => {
            tracing::warn!(error = %err, "promotions could not be read; the sale is priced without them");
            Vec::new()
        }
    }
}

/// The server's pricing of `sale`, rung up at `at` on business date `date`; `None` when
/// the engine cannot price it at all (a jurisdiction in another currency: a configuration
/// error, logged, that does not refuse the sale).
pub fn reprice(
    sale: &SaleCompleted,
    inputs: &PricingInputs,
    at: DateTime<Utc>,
    date: NaiveDate,
) -> Option<SalePricing> {
    let mut lines = Vec::with_capacity(sale.lines.len());
    for line in &sale.lines {
        let Some(product) = inputs.products.get(&line.sku) else {
            continue;
        };
        let Some(details) = &product.details else {
            continue;
        };
        let Ok(tax_class) = TaxClass::parse(details.tax_class.clone()) else {
            continue;
        };
        lines.push(BasketLine {
            line_no: line.line_no,
            sku: line.sku.clone(),
            quantity: line.quantity,
            unit_price_minor: line.unit_price_minor,
            list_price_minor: product.price_at(&sale.location, at),
            discount_minor: line.discount_minor,
            tax_class,
            container: details.container.clone(),
        });
    }
    let context = PricingContext {
        date,
        price_mode: if inputs.prices_include_tax {
            PriceMode::Inclusive
        } else {
            PriceMode::Additive
        },
    };
    let basket = Basket {
        currency: sale.currency,
        lines,
    };
    let priced = match price_basket(&inputs.jurisdiction, &basket, context) {
        Ok(priced) => priced,
        Err(err) => {
            tracing::warn!(sale_id = %sale.sale_id, error = %err, "the sale could not be priced on the server");
            return None;
        }
    };
    let recorded: Vec<RecordedLine> = sale.lines.iter().map(RecordedLine::from).collect();
    let mut exceptions = compare_sale(&recorded, &priced);
    // Promotions, on the lines the server could price, at the list price (the shelf
    // price the promotion is meant for; a cashier's override is its own exception).
    let promotion_lines: Vec<PromotionLine> = basket
        .lines
        .iter()
        .map(|line| PromotionLine {
            line_no: line.line_no,
            sku: line.sku.clone(),
            category: inputs
                .products
                .get(&line.sku)
                .and_then(|p| p.details.as_ref())
                .map(|d| d.category.clone()),
            quantity: line.quantity,
            unit_price_minor: line.list_price_minor.unwrap_or(line.unit_price_minor),
        })
        .collect();
    let promoted = apply_promotions(&inputs.promotions, &promotion_lines);
    for line in &promoted {
        let Some(recorded) = sale.lines.iter().find(|l| l.line_no == line.line_no) else {
            continue;
        };
        // Only a line a promotion covers is checked: elsewhere a discount is the cashier's.
        if line.discount_minor > 0 && recorded.discount_minor != line.discount_minor {
            exceptions
                .retain(|e| !(e.line_no == line.line_no && matches!(e.difference, Difference::DiscountDiffers { .. })));
            exceptions.push(LineDifference {
                line_no: line.line_no,
                difference: Difference::DiscountDiffers {
                    recorded_minor: recorded.discount_minor,
                    expected_minor: line.discount_minor,
                },
            });
        }
    }
    Some(SalePricing {
        jurisdiction: priced.jurisdiction.clone(),
        date,
        prices_include_tax: inputs.prices_include_tax,
        lines: priced
            .lines
            .into_iter()
            .map(|line| LinePricing {
                line_no: line.line_no,
                list_price_minor: line.list_price_minor,
                net_minor: line.net_minor,
                taxes: line.taxes,
                // Recorded only when the terminal gave exactly these discounts: a sale that
                // keeps another discount is flagged above and costs no promotion.
                promotions: promoted
                    .iter()
                    .find(|p| p.line_no == line.line_no)
                    .filter(|p| {
                        sale.lines
                            .iter()
                            .any(|l| l.line_no == p.line_no && l.discount_minor == p.discount_minor)
                    })
                    .map(|p| p.applied.clone())
                    .unwrap_or_default(),
                deposit: line.deposit,
            })
            .collect(),
        exceptions,
    })
}
