//! Money in the tenant's currency: minor units shown with the currency's decimals, and
//! amounts typed into forms read back into minor units (never through floating point).

/// Decimal places of `currency` (ISO 4217; 2 unless listed).
pub fn exponent(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "VND" | "VUV"
        | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

fn symbol(currency: &str) -> Option<&'static str> {
    match currency {
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        "JPY" => Some("¥"),
        _ => None,
    }
}

/// `minor` units of `currency` as a person reads them: `$1,234.56`, `-€0.40`,
/// `CHF 12.00`.
pub fn format(minor: i64, currency: &str) -> String {
    let exp = exponent(currency);
    let scale = 10u64.pow(exp);
    let abs = minor.unsigned_abs();
    let (whole, frac) = (abs / scale, abs % scale);
    let digits = whole.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let number = if exp == 0 {
        grouped
    } else {
        format!("{grouped}.{frac:0width$}", width = exp as usize)
    };
    let sign = if minor < 0 { "-" } else { "" };
    match symbol(currency) {
        Some(symbol) => format!("{sign}{symbol}{number}"),
        None => format!("{sign}{currency} {number}"),
    }
}

/// Reads an amount typed in a form (`12`, `12.5`, `12.50`, `1,234.50`) as minor units
/// of `currency`. Negative amounts and more decimals than the currency has are refused.
pub fn parse(text: &str, currency: &str) -> Result<i64, String> {
    let exp = exponent(currency) as usize;
    let cleaned: String = text.trim().chars().filter(|c| *c != ',').collect();
    let (whole, frac) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (!frac.is_empty() && !digits(frac)) || (cleaned.contains('.') && frac.is_empty()) {
        return Err(format!("'{}' is not an amount like 12.50", text.trim()));
    }
    if frac.len() > exp {
        return Err(format!("{currency} has {exp} decimal places"));
    }
    let padded = format!("{whole}{frac:0<exp$}");
    padded
        .parse::<i64>()
        .ok()
        .filter(|v| *v <= 1_000_000_000_000)
        .ok_or_else(|| "the amount is too large".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_show_with_the_currencys_decimals_and_symbol() {
        assert_eq!(format(7236, "USD"), "$72.36");
        assert_eq!(format(-2160, "USD"), "-$21.60");
        assert_eq!(format(123_456_789, "EUR"), "€1,234,567.89");
        assert_eq!(format(5, "USD"), "$0.05");
        assert_eq!(format(1500, "JPY"), "¥1,500");
        assert_eq!(format(1234, "KWD"), "KWD 1.234");
        assert_eq!(format(0, "CHF"), "CHF 0.00");
    }

    #[test]
    fn typed_amounts_read_back_exactly() {
        assert_eq!(parse("12", "USD"), Ok(1200));
        assert_eq!(parse("12.5", "USD"), Ok(1250));
        assert_eq!(parse(" 1,234.56 ", "USD"), Ok(123_456));
        assert_eq!(parse("0.07", "USD"), Ok(7));
        assert_eq!(parse("1500", "JPY"), Ok(1500));
        assert!(parse("12.345", "USD").is_err());
        assert!(parse("-1", "USD").is_err());
        assert!(parse("1e3", "USD").is_err());
        assert!(parse("12.", "USD").is_err());
        assert!(parse("", "USD").is_err());
        assert!(parse("99999999999999999999", "USD").is_err());
    }
}
