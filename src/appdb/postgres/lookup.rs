//! Finding rows for an operator: by either id exactly, or by a part of a
//! key or the label, a bounded page.

use super::PgApp;
use super::sql::{self, ident};
use crate::appdb::AppRecord;
use crate::appdb::lookup::{like_pattern, search_columns};
use crate::sync::mapping::{ObjectMapping, key_norm};

impl PgApp {
    /// Rows whose id or HubSpot id is `query`, or whose keys or label
    /// contain it (compared as keys are), at most `limit`, by id.
    pub async fn search(
        &self,
        m: &ObjectMapping,
        query: &str,
        limit: usize,
    ) -> anyhow::Result<Vec<AppRecord>> {
        let t = self.types(m).await?;
        let mut clauses = vec![
            format!("{}::text = $1", ident(&m.id_column)),
            format!("{}::text = $1", ident(&m.hubspot_id_column)),
        ];
        for c in search_columns(m) {
            clauses.push(format!("{} LIKE $2", sql::key_expr(c)));
        }
        let sql = format!(
            "{} WHERE {} ORDER BY {} LIMIT {limit}",
            Self::select(m, &t),
            clauses.join(" OR "),
            Self::id_order(m, &t)
        );
        let pattern = like_pattern(&key_norm(query));
        self.read(m, &sql, &[&query, &pattern]).await
    }
}
