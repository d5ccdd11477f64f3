//! The app database: the company's own customer records, in SQLite or
//! PostgreSQL, behind one async interface ([`AppDb`]).
//!
//! hubsync reads changed rows by an `updated_at` cursor and writes back only
//! the HubSpot id, to the column the mapping names. Table and column names
//! come from the mapping and are always quoted the way the database wants,
//! never spliced in raw. The interface has no way to run arbitrary SQL: the
//! demo's simulated app users and the tests write through connections of
//! their own, as the app itself would.

mod check;
mod count;
pub mod demo;
mod edit;
mod feed;
mod keys;
mod lookup;
pub mod postgres;
mod sqlite;
mod stamp;
mod target;

pub use check::{ColumnInfo, TableInfo, TableReport};
pub use count::FilterCounts;
pub use edit::{FieldEdit, value_fits};
pub use feed::{OVERLAP, SEEN_CAP};
pub use lookup::SEARCH_MAX;
pub use target::Target;

use crate::sync::mapping::ObjectMapping;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// One app row, as the mapping sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct AppRecord {
    /// The primary key, as text.
    pub id: String,
    pub fields: BTreeMap<String, Option<String>>,
    pub hubspot_id: Option<String>,
    pub updated_at: String,
}

impl AppRecord {
    /// A field's value; empty strings count as absent.
    pub fn field(&self, column: &str) -> Option<&str> {
        self.fields
            .get(column)
            .and_then(|v| v.as_deref())
            .filter(|v| !v.is_empty())
    }
}

/// Where an app change feed has read up to: the last row's `updated_at` and
/// id. Rows are read in (updated_at, id) order, so rows sharing a timestamp
/// are neither skipped nor read twice. `seen` remembers the rows read
/// within [`OVERLAP`] of the newest stamp (complete from `window` on), so a
/// pass can read that window again for rows committed late and skip the
/// ones it already has; `from` is set on a cursor so rewound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppCursor {
    pub updated_at: String,
    pub id: CursorId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub seen: BTreeMap<String, String>,
}

impl AppCursor {
    /// A cursor just past this row, remembering nothing else.
    pub fn at(updated_at: &str, id: &str) -> AppCursor {
        AppCursor {
            updated_at: updated_at.to_string(),
            id: CursorId::of(id),
            from: None,
            window: None,
            seen: BTreeMap::new(),
        }
    }
}

/// A primary key as the cursor keeps it: integer keys compare as integers,
/// others (UUIDs, slugs) as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CursorId {
    Int(i64),
    Text(String),
}

impl CursorId {
    pub fn of(id: &str) -> CursorId {
        id.parse()
            .map_or_else(|_| CursorId::Text(id.to_string()), CursorId::Int)
    }

    pub fn as_text(&self) -> String {
        match self {
            CursorId::Int(i) => i.to_string(),
            CursorId::Text(s) => s.clone(),
        }
    }
}

/// Which rows a backend reads, in (updated_at, id) order.
#[derive(Debug, Clone, Copy)]
pub enum Since<'a> {
    All,
    /// `updated_at` at or after this stamp (in the column's own format).
    From(&'a str),
    /// Strictly after this (updated_at, id).
    After(&'a str, &'a CursorId),
}

impl<'a> Since<'a> {
    pub(crate) fn of(c: Option<&'a AppCursor>) -> Since<'a> {
        match c {
            None => Since::All,
            Some(AppCursor {
                from: Some(from), ..
            }) => Since::From(from),
            Some(c) => Since::After(&c.updated_at, &c.id),
        }
    }
}

/// Per-row outcomes of [`AppDb::write_batch`]: the updates', then the
/// inserts' (each the new row's id).
pub type BatchOutcome = (Vec<anyhow::Result<()>>, Vec<anyhow::Result<String>>);

/// One page of the app's change feed and where to read on from.
#[derive(Debug)]
pub struct ChangePage {
    pub rows: Vec<AppRecord>,
    pub next: Option<AppCursor>,
}

enum Backend {
    Sqlite(sqlite::SqliteApp),
    Postgres(postgres::PgApp),
}

/// The app database, whichever it is. Every call is async and none blocks
/// the runtime: SQLite's calls run on the blocking pool, PostgreSQL's on
/// its async driver.
pub struct AppDb {
    backend: Backend,
}

/// What [`AppDb::open`] takes: a config's target, or a SQLite file's path.
pub trait ToTarget {
    fn to_target(&self) -> Target;
}

impl ToTarget for Target {
    fn to_target(&self) -> Target {
        self.clone()
    }
}

impl ToTarget for Path {
    fn to_target(&self) -> Target {
        Target::Sqlite(self.to_path_buf())
    }
}

impl ToTarget for std::path::PathBuf {
    fn to_target(&self) -> Target {
        Target::Sqlite(self.clone())
    }
}

macro_rules! each {
    ($self:ident, $b:ident => $e:expr) => {
        match &$self.backend {
            Backend::Sqlite($b) => $e,
            Backend::Postgres($b) => $e,
        }
    };
}

impl AppDb {
    /// Opens the app database a config names. PostgreSQL connects lazily
    /// (the first call finds out whether it is reachable).
    pub fn open(target: &(impl ToTarget + ?Sized)) -> anyhow::Result<AppDb> {
        let backend = match &target.to_target() {
            Target::Sqlite(path) => Backend::Sqlite(sqlite::SqliteApp::open(path)?),
            Target::Postgres(s) => Backend::Postgres(postgres::PgApp::open(s)?),
        };
        Ok(AppDb { backend })
    }

    /// Where the database is, for people: a path, or host, port and
    /// database (never a password).
    pub fn describe(&self) -> String {
        each!(self, b => b.describe())
    }

    /// The table's columns, types and indexes.
    pub async fn table_info(&self, m: &ObjectMapping) -> anyhow::Result<TableInfo> {
        each!(self, b => b.table_info(m).await)
    }

    /// Checks that the mapping's table and columns exist, naming what is
    /// missing and what is there.
    pub async fn verify(&self, m: &ObjectMapping) -> anyhow::Result<()> {
        let info = self.table_info(m).await?;
        check::verify(&self.describe(), m, &info)
    }

    /// What `hubsync check` says about the table: missing columns and
    /// wrong types (errors), missing indexes (warnings with the statements
    /// that add them).
    pub async fn check(&self, m: &ObjectMapping) -> anyhow::Result<TableReport> {
        let info = self.table_info(m).await?;
        Ok(check::report(self.is_postgres(), m, &info))
    }

    fn is_postgres(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Where a pass starts reading: `stored` moved back by [`OVERLAP`], so
    /// rows committed late (a long transaction, a stamp of one-second
    /// precision) are read again; the rows in `seen` are skipped unless
    /// their stamp moved.
    pub fn rewind(&self, stored: Option<AppCursor>) -> Option<AppCursor> {
        stored.map(feed::rewind)
    }

    /// The next page of rows changed after `cursor`: rows already seen
    /// with the same stamp are skipped, so what is unchanged is not synced
    /// again.
    pub async fn changes(
        &self,
        m: &ObjectMapping,
        cursor: Option<&AppCursor>,
        limit: usize,
    ) -> anyhow::Result<ChangePage> {
        let mut at = cursor.cloned();
        loop {
            let rows = self.rows_since(m, Since::of(at.as_ref()), limit).await?;
            let full = rows.len() >= limit;
            let before = at
                .as_ref()
                .map(|c| (c.updated_at.clone(), c.id.clone(), c.from.clone()));
            let (page, next) = feed::advance(at, rows);
            let moved = next
                .as_ref()
                .map(|c| (c.updated_at.clone(), c.id.clone(), c.from.clone()))
                != before;
            at = next;
            // A page of rows all seen before: read on, unless the cursor
            // could not move (then nothing is left to read).
            if !page.is_empty() || !full || !moved {
                return Ok(ChangePage {
                    rows: page,
                    next: at,
                });
            }
        }
    }

    async fn rows_since(
        &self,
        m: &ObjectMapping,
        since: Since<'_>,
        limit: usize,
    ) -> anyhow::Result<Vec<AppRecord>> {
        each!(self, b => b.rows_since(m, since, limit).await)
    }

    /// How many rows changed after `cursor`: the size of the pass ahead.
    pub async fn count_changed_since(
        &self,
        m: &ObjectMapping,
        cursor: Option<&AppCursor>,
    ) -> anyhow::Result<u64> {
        each!(self, b => b.count_since(m, Since::of(cursor)).await)
    }

    pub async fn count(&self, m: &ObjectMapping) -> anyhow::Result<u64> {
        each!(self, b => b.count_since(m, Since::All).await)
    }

    /// How many rows the to-HubSpot filters `before` and `after` each
    /// admit (`m` must map every column either reads), for a preview.
    pub async fn count_matching(
        &self,
        m: &ObjectMapping,
        before: &crate::sync::filter::Filters,
        after: &crate::sync::filter::Filters,
    ) -> anyhow::Result<FilterCounts> {
        if before.is_empty() && after.is_empty() {
            // Every row is eligible either way: the database counts them.
            let total = self.count(m).await?;
            return Ok(FilterCounts {
                total,
                before: total,
                after: total,
                ..FilterCounts::default()
            });
        }
        let m = &count::reading_filters(m, before, after);
        each!(self, b => b.count_matching(m, before, after).await)
    }

    pub async fn get(&self, m: &ObjectMapping, id: &str) -> anyhow::Result<Option<AppRecord>> {
        Ok(self
            .get_many(m, std::slice::from_ref(&id.to_string()))
            .await?
            .into_iter()
            .next())
    }

    /// The rows with these ids; ids with no row are left out (deleted).
    pub async fn get_many(
        &self,
        m: &ObjectMapping,
        ids: &[String],
    ) -> anyhow::Result<Vec<AppRecord>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        each!(self, b => b.get_many(m, ids).await)
    }

    /// The rows whose `column` holds one of these keys, compared as
    /// [`crate::sync::mapping::key_norm`] compares them (`keys` are already
    /// normalised).
    pub async fn find_by_keys(
        &self,
        m: &ObjectMapping,
        column: &str,
        keys: &[String],
    ) -> anyhow::Result<Vec<AppRecord>> {
        if keys.is_empty() {
            return Ok(vec![]);
        }
        each!(self, b => b.find_by_keys(m, column, keys).await)
    }

    /// The rows that carry one of these HubSpot ids in the write-back column.
    pub async fn find_by_hubspot_ids(
        &self,
        m: &ObjectMapping,
        ids: &[String],
    ) -> anyhow::Result<Vec<AppRecord>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        each!(self, b => b.find_by_hubspot_ids(m, ids).await)
    }

    /// Applies one batch of writes from HubSpot in a single transaction:
    /// `updates` (app id, column → value) and `inserts` (column → value,
    /// HubSpot id). Each row has its own savepoint, so one refused row
    /// (a constraint, a trigger) fails alone; the outcomes come back in
    /// order. Updates stamp `updated_at` in the column's own format, as the
    /// app's own code would; inserts carry their HubSpot id in the same
    /// statement, so a lost link finds the row again instead of creating it
    /// twice.
    pub async fn write_batch(
        &self,
        m: &ObjectMapping,
        updates: &[(String, BTreeMap<String, String>)],
        inserts: &[(BTreeMap<String, String>, String)],
    ) -> anyhow::Result<BatchOutcome> {
        if updates.is_empty() && inserts.is_empty() {
            return Ok((vec![], vec![]));
        }
        each!(self, b => b.write_batch(m, updates, inserts).await)
    }

    /// Writes HubSpot ids back to app rows, all in one transaction; each
    /// row's outcome in order (a row deleted since fails alone). The rows'
    /// `updated_at` is left alone: this is hubsync's own write, not a
    /// change to sync.
    pub async fn set_hubspot_ids(
        &self,
        m: &ObjectMapping,
        ids: &[(String, String)],
    ) -> anyhow::Result<Vec<anyhow::Result<()>>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        each!(self, b => b.set_hubspot_ids(m, ids).await)
    }

    /// Clears a row's HubSpot id because its HubSpot record is gone, and
    /// stamps `updated_at`: the row must be matched (or created) again, and
    /// if hubsync dies before that, the app's change feed brings it back.
    pub async fn clear_hubspot_id(&self, m: &ObjectMapping, id: &str) -> anyhow::Result<()> {
        each!(self, b => b.clear_hubspot_id(m, id).await)
    }
}

/// The app database could not be reached, or went away mid-call: a job
/// that meets it is tried again later rather than failed.
#[derive(Debug)]
pub struct Unavailable(pub String);

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unavailable {}

/// Whether `e` says the app database was unreachable (see [`Unavailable`]).
pub fn is_unavailable(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.is::<Unavailable>())
}

/// Joins column names for messages.
fn column_list(values: &BTreeMap<String, String>) -> String {
    values.keys().cloned().collect::<Vec<_>>().join(", ")
}
