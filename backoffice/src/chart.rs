//! Bar charts drawn on the server as inline SVG: no script, no library, nothing fetched;
//! each bar carries its value as a `<title>` (shown on hover) and the whole chart a text
//! alternative for screen readers.

use maud::{Markup, html};

/// One bar.
#[derive(Debug, Clone)]
pub struct Bar {
    /// Axis label (`14`, `11-05`).
    pub label: String,
    /// The value (minor units or a count).
    pub value: i64,
    /// The value as shown (`$12.00`).
    pub shown: String,
}

const WIDTH: i64 = 720;
const HEIGHT: i64 = 180;
const AXIS: i64 = 20;

/// A bar chart of `bars` titled `title` (the text alternative), labelling every `every`th
/// bar on the axis.
pub fn bars(title: &str, bars: &[Bar], every: usize) -> Markup {
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let count = bars.len().max(1) as i64;
    let slot = WIDTH / count;
    let bar_width = (slot * 3 / 4).max(1);
    let plot = HEIGHT - AXIS;
    html! {
        svg class="chart" viewBox=(format!("-16 0 {} {HEIGHT}", WIDTH + 32)) role="img" aria-label=(title) {
            title { (title) }
            line class="axis" x1="0" y1=(plot) x2=(WIDTH) y2=(plot) {}
            @for (i, bar) in bars.iter().enumerate() {
                @let x = i as i64 * slot + (slot - bar_width) / 2;
                @let h = if bar.value > 0 { (bar.value * (plot - 4) / max).max(1) } else { 0 };
                rect class="bar" x=(x) y=(plot - h) width=(bar_width) height=(h) data-label=(bar.label) data-value=(bar.value) {
                    title { (bar.label) ": " (bar.shown) }
                }
                @if i % every.max(1) == 0 {
                    text class="tick" x=(x + bar_width / 2) y=(HEIGHT - 6) text-anchor="middle" { (bar.label) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tallest_bar_fills_the_plot_and_empty_bars_have_no_height() {
        let chart = bars(
            "Sales",
            &[
                Bar {
                    label: "09".into(),
                    value: 0,
                    shown: "$0.00".into(),
                },
                Bar {
                    label: "10".into(),
                    value: 500,
                    shown: "$5.00".into(),
                },
                Bar {
                    label: "11".into(),
                    value: 1000,
                    shown: "$10.00".into(),
                },
            ],
            1,
        )
        .into_string();
        assert!(chart.contains(r#"height="0" data-label="09""#), "{chart}");
        assert!(chart.contains(r#"height="156" data-label="11""#), "{chart}");
        assert!(chart.contains(r#"height="78" data-label="10""#), "{chart}");
        assert!(chart.contains("<title>11: $10.00</title>"));
    }
}
