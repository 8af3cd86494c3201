//! Unique names per test, so parallel tests never share a tenant, stream or database.

use events::TenantId;
use uuid::Uuid;

/// A short random lowercase token: 16 hex digits of a v4-style random UUID.
fn token() -> String {
    let simple = Uuid::now_v7().simple().to_string();
    // The last 16 hex digits of a v7 UUID are random; the first are the clock.
    simple[16..].to_owned()
}

/// A fresh tenant id such as `t3f9c0a51d2e4b7c8`.
pub fn unique_tenant() -> TenantId {
    TenantId::parse(format!("t{}", token())).expect("a 't' and hex digits form a valid tenant id")
}

/// A fresh subject prefix such as `test3f9c0a51d2e4b7c8`, for a per-test stream.
pub fn unique_prefix() -> String {
    format!("test{}", token())
}

/// A fresh name with a readable stem, such as `orders_3f9c0a51d2e4b7c8`.
pub fn unique_name(stem: &str) -> String {
    format!("{stem}_{}", token())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_do_not_repeat() {
        let tenants: std::collections::HashSet<_> = (0..1000).map(|_| unique_tenant()).collect();
        assert_eq!(tenants.len(), 1000);
    }
}
