//! Finding rows for an operator: by either id exactly, or by a part of a
//! key or the label, a bounded page.

use super::{SqliteDb, q};
use crate::appdb::AppRecord;
use crate::appdb::lookup::{like_pattern, search_columns};
use crate::sync::mapping::{ObjectMapping, key_norm};
use rusqlite::types::Value;

impl SqliteDb {
    /// Rows whose id or HubSpot id is `query`, or whose keys or label
    /// contain it (compared as keys are), at most `limit`, by id.
    pub fn search(
        &self,
        m: &ObjectMapping,
        query: &str,
        limit: usize,
    ) -> anyhow::Result<Vec<AppRecord>> {
        let mut clauses = vec![
            format!("{} = ?1", q(&m.id_column)),
            format!("CAST({} AS TEXT) = ?2", q(&m.hubspot_id_column)),
        ];
        for c in search_columns(m) {
            clauses.push(format!("hubsync_key({}) LIKE ?3 ESCAPE '\\'", q(c)));
        }
        let sql = format!(
            "{} WHERE {} ORDER BY {} LIMIT {limit}",
            self.select(m),
            clauses.join(" OR "),
            q(&m.id_column)
        );
        let args = vec![
            Self::id_value(query),
            Value::Text(query.to_string()),
            Value::Text(like_pattern(&key_norm(query))),
        ];
        self.read_rows(m, &sql, args)
    }
}
