//! A per-test MongoDB database.

use anyhow::Context;

use crate::names::unique_name;

/// A database named `test_<random>` that [`TestDatabase::drop`] removes.
pub struct TestDatabase {
    /// The database handle.
    pub db: mongodb::Database,
}

impl TestDatabase {
    /// A fresh database on `client` (created lazily by MongoDB on first write).
    pub fn new(client: &mongodb::Client) -> Self {
        Self {
            db: client.database(&unique_name("test")),
        }
    }

    /// Drops the database.
    pub async fn drop(self) -> anyhow::Result<()> {
        let name = self.db.name().to_owned();
        self.db
            .drop()
            .await
            .with_context(|| format!("dropping test database {name}"))
    }
}
