//! Pricing a recorded sale again on the server, at the time it was rung up.
//!
//! A sale that happened is never refused for its prices or taxes (the customer has paid;
//! an offline terminal may have had last week's price list or rates). When the sale's
//! store has a tax jurisdiction, the server prices the sale's lines with the terminal's
//! unit prices and discounts and the catalog's list price beside them, on the store's
//! business date of `occurred_at`, and records on the event the tax breakdown and deposit
//! of each line and every difference ([`events::event::SalePricing`]): a price override,
//! a tax or deposit the terminal got wrong, a product the catalog did not know. The
//! exceptions report lists them. Pure: the inputs are loaded by the command.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use events::Sku;
use events::event::{LinePricing, SaleCompleted, SalePricing};
use events::tax::{Jurisdiction, TaxClass};
use pricing::{Basket, BasketLine, PriceMode, PricingContext, RecordedLine, compare_sale, price_basket};

use crate::commands::catalog::ProductState;

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
    let exceptions = compare_sale(&recorded, &priced);
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
                deposit: line.deposit,
            })
            .collect(),
        exceptions,
    })
}
