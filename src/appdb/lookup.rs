//! Looking app rows up for an operator (`:records`): by either id exactly,
//! or by a part of a key or the label. Bounded: a search never reads more
//! than the page it returns.

use super::{AppDb, AppRecord};
use crate::sync::mapping::ObjectMapping;

/// The longest page a search returns.
pub const SEARCH_MAX: usize = 200;

/// The columns a search looks into: the keys, then the label.
pub(crate) fn search_columns(m: &ObjectMapping) -> Vec<&str> {
    let mut cols: Vec<&str> = m.keys.iter().map(|k| k.app_column.as_str()).collect();
    if !cols.contains(&m.label_column.as_str()) {
        cols.push(&m.label_column);
    }
    cols
}

/// `text` as a `LIKE` pattern matching it anywhere, with `\` escaping the
/// wildcards it holds.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut p = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

impl AppDb {
    /// App rows whose id or HubSpot id is `query`, or whose keys or label
    /// contain it (trimmed, any case), at most `limit` (and
    /// [`SEARCH_MAX`]), in id order. A blank query finds nothing.
    pub async fn search(
        &self,
        m: &ObjectMapping,
        query: &str,
        limit: usize,
    ) -> anyhow::Result<Vec<AppRecord>> {
        let query = query.trim();
        if query.is_empty() {
            return Ok(vec![]);
        }
        let limit = limit.clamp(1, SEARCH_MAX);
        match &self.backend {
            super::Backend::Sqlite(b) => b.search(m, query, limit).await,
            super::Backend::Postgres(b) => b.search(m, query, limit).await,
        }
    }
}
