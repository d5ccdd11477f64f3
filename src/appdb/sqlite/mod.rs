//! The SQLite backend: the blocking calls on one connection
//! ([`SqliteDb`]), and [`SqliteApp`], which runs them on tokio's blocking
//! pool so that no runtime worker waits on the file.

mod blocking;
pub(super) mod key;

pub use blocking::SqliteDb;

use super::{AppRecord, BatchOutcome, Since, TableInfo};
use crate::sync::mapping::ObjectMapping;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct SqliteApp {
    db: Arc<SqliteDb>,
    path: PathBuf,
}

impl SqliteApp {
    pub fn open(path: &Path) -> anyhow::Result<SqliteApp> {
        Ok(SqliteApp {
            db: Arc::new(SqliteDb::open(path)?),
            path: path.to_path_buf(),
        })
    }

    pub fn describe(&self) -> String {
        self.path.display().to_string()
    }

    /// Runs `f` on the connection off the runtime's workers.
    async fn run<T: Send + 'static>(
        &self,
        m: &ObjectMapping,
        f: impl FnOnce(&SqliteDb, &ObjectMapping) -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let db = self.db.clone();
        let m = m.clone();
        tokio::task::spawn_blocking(move || f(&db, &m))
            .await
            .map_err(|e| anyhow::anyhow!("the app database call did not finish: {e}"))?
    }

    pub async fn table_info(&self, m: &ObjectMapping) -> anyhow::Result<TableInfo> {
        self.run(m, |db, m| db.table_info(m)).await
    }

    pub async fn rows_since(
        &self,
        m: &ObjectMapping,
        since: Since<'_>,
        limit: usize,
    ) -> anyhow::Result<Vec<AppRecord>> {
        let since = blocking::OwnedSince::of(since);
        self.run(m, move |db, m| db.rows_since(m, since.get(), limit))
            .await
    }

    pub async fn count_since(&self, m: &ObjectMapping, since: Since<'_>) -> anyhow::Result<u64> {
        let since = blocking::OwnedSince::of(since);
        self.run(m, move |db, m| db.count_since(m, since.get()))
            .await
    }

    pub async fn count_matching(
        &self,
        m: &ObjectMapping,
        before: &crate::sync::filter::Filters,
        after: &crate::sync::filter::Filters,
    ) -> anyhow::Result<super::FilterCounts> {
        let (before, after) = (before.clone(), after.clone());
        self.run(m, move |db, m| {
            let mut c = super::FilterCounts::default();
            db.scan(m, |r| super::count::tally(&mut c, r, &before, &after))?;
            Ok(c)
        })
        .await
    }

    pub async fn get_many(
        &self,
        m: &ObjectMapping,
        ids: &[String],
    ) -> anyhow::Result<Vec<AppRecord>> {
        let ids = ids.to_vec();
        self.run(m, move |db, m| db.get_many(m, &ids)).await
    }

    pub async fn find_by_keys(
        &self,
        m: &ObjectMapping,
        column: &str,
        keys: &[String],
    ) -> anyhow::Result<Vec<AppRecord>> {
        let (column, keys) = (column.to_string(), keys.to_vec());
        self.run(m, move |db, m| db.find_by_keys(m, &column, &keys))
            .await
    }

    pub async fn find_by_hubspot_ids(
        &self,
        m: &ObjectMapping,
        ids: &[String],
    ) -> anyhow::Result<Vec<AppRecord>> {
        let ids = ids.to_vec();
        self.run(m, move |db, m| db.find_by_hubspot_ids(m, &ids))
            .await
    }

    pub async fn write_batch(
        &self,
        m: &ObjectMapping,
        updates: &[(String, BTreeMap<String, String>)],
        inserts: &[(BTreeMap<String, String>, String)],
    ) -> anyhow::Result<BatchOutcome> {
        let (updates, inserts) = (updates.to_vec(), inserts.to_vec());
        self.run(m, move |db, m| db.write_batch(m, &updates, &inserts))
            .await
    }

    pub async fn set_hubspot_ids(
        &self,
        m: &ObjectMapping,
        ids: &[(String, String)],
    ) -> anyhow::Result<Vec<anyhow::Result<()>>> {
        let ids = ids.to_vec();
        self.run(m, move |db, m| db.set_hubspot_ids(m, &ids)).await
    }

    pub async fn search(
        &self,
        m: &ObjectMapping,
        query: &str,
        limit: usize,
    ) -> anyhow::Result<Vec<AppRecord>> {
        let query = query.to_string();
        self.run(m, move |db, m| db.search(m, &query, limit)).await
    }

    pub async fn clear_hubspot_id(&self, m: &ObjectMapping, id: &str) -> anyhow::Result<()> {
        let id = id.to_string();
        self.run(m, move |db, m| db.clear_hubspot_id(m, &id)).await
    }
}
