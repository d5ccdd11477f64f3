//! The SQLite backend's blocking calls, on one connection.
//!
//! Table and column names are quoted with backticks, never spliced in raw.

use super::key;
use crate::appdb::keys::sql_can_match;
use crate::appdb::{AppRecord, BatchOutcome, ColumnInfo, CursorId, Since, TableInfo, column_list};
use crate::sync::mapping::{ObjectMapping, key_norm};
use anyhow::Context;
use rusqlite::functions::FunctionFlags;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params_from_iter};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

mod lookup;

/// A [`Since`] that can move to the blocking pool.
pub enum OwnedSince {
    All,
    From(String),
    After(String, CursorId),
}

impl OwnedSince {
    pub fn of(s: Since<'_>) -> OwnedSince {
        match s {
            Since::All => OwnedSince::All,
            Since::From(f) => OwnedSince::From(f.to_string()),
            Since::After(u, id) => OwnedSince::After(u.to_string(), id.clone()),
        }
    }

    pub fn get(&self) -> Since<'_> {
        match self {
            OwnedSince::All => Since::All,
            OwnedSince::From(f) => Since::From(f),
            OwnedSince::After(u, id) => Since::After(u, id),
        }
    }
}

fn cursor_value(id: &CursorId) -> Value {
    match id {
        CursorId::Int(i) => Value::Integer(*i),
        CursorId::Text(s) => Value::Text(s.clone()),
    }
}

pub struct SqliteDb {
    conn: Mutex<Connection>,
    path: PathBuf,
}

/// Quotes an SQL identifier. Backticks, not double quotes: SQLite reads a
/// double-quoted name that matches no column as a string literal, so a
/// misspelt column would sync its own name as every record's value.
fn q(ident: &str) -> String {
    format!("`{}`", ident.replace('`', "``"))
}

fn text(v: Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(f) => Some(f.to_string()),
        Value::Text(s) => Some(s),
        Value::Blob(b) => Some(String::from_utf8_lossy(&b).into_owned()),
    }
}

impl SqliteDb {
    pub fn open(path: &Path) -> anyhow::Result<SqliteDb> {
        if !path.exists() {
            anyhow::bail!("app database {} does not exist", path.display());
        }
        let conn = Connection::open(path)
            .with_context(|| format!("opening app database {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Keys are compared as hubsync normalises them (Unicode lowercase,
        // any whitespace trimmed): SQLite's own lower() and trim() only
        // know ASCII letters and spaces, so "Über GmbH" would never match.
        conn.create_scalar_function(
            "hubsync_key",
            1,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |ctx| {
                let v: Option<String> = ctx.get(0)?;
                Ok(v.map(|v| key_norm(&v)))
            },
        )?;
        Ok(SqliteDb {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    /// The table's columns with their declared types, and the first column
    /// of each index (the primary key counts as one).
    pub fn table_info(&self, m: &ObjectMapping) -> anyhow::Result<TableInfo> {
        let conn = self.conn();
        let context = || format!("describing table {} of {}", m.table, self.path.display());
        let mut stmt = conn
            .prepare(&format!("PRAGMA table_info({})", q(&m.table)))
            .with_context(context)?;
        let mut primary = Vec::new();
        let columns: Vec<ColumnInfo> = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(5)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()
            .with_context(context)?
            .into_iter()
            .map(|(name, type_name, pk)| {
                if pk == 1 {
                    primary.push(name.clone());
                }
                ColumnInfo { name, type_name }
            })
            .collect();
        let mut leading = primary;
        if !columns.is_empty() {
            let indexes: Vec<String> = conn
                .prepare(&format!("PRAGMA index_list({})", q(&m.table)))?
                .query_map([], |r| r.get::<_, String>(1))?
                .collect::<Result<_, _>>()?;
            for i in indexes {
                let first: Option<Option<String>> = conn
                    .query_row(&format!("PRAGMA index_info({})", q(&i)), [], |r| r.get(2))
                    .optional()?;
                if let Some(Some(c)) = first {
                    leading.push(c);
                }
            }
        }
        // An expression index has no column to name: ask the planner
        // whether the key lookup can use one.
        for k in &m.keys {
            if !columns.iter().any(|c| c.name == k.app_column) {
                continue;
            }
            let e = key::key_expr(&q(&k.app_column));
            let plan: Vec<String> = conn
                .prepare(&format!(
                    "EXPLAIN QUERY PLAN SELECT 1 FROM {} WHERE {e} = 'x'",
                    q(&m.table)
                ))?
                .query_map([], |r| r.get::<_, String>(3))?
                .collect::<Result<_, _>>()?;
            if plan.iter().any(|d| d.contains("INDEX")) {
                leading.push(e);
            }
        }
        Ok(TableInfo {
            table: m.table.clone(),
            columns,
            leading_index_columns: leading,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn select(&self, m: &ObjectMapping) -> String {
        let mut cols = vec![
            q(&m.id_column),
            q(&m.hubspot_id_column),
            q(&m.updated_at_column),
        ];
        cols.extend(m.app_columns().iter().map(|c| q(c)));
        format!("SELECT {} FROM {}", cols.join(", "), q(&m.table))
    }

    fn read_rows(
        &self,
        m: &ObjectMapping,
        sql: &str,
        args: Vec<Value>,
    ) -> anyhow::Result<Vec<AppRecord>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(sql)
            .with_context(|| format!("reading table {} of {}", m.table, self.path.display()))?;
        let names = m.app_columns();
        let rows = stmt.query_map(params_from_iter(args), |r| {
            let mut fields = BTreeMap::new();
            for (i, name) in names.iter().enumerate() {
                fields.insert(name.to_string(), text(r.get(3 + i)?));
            }
            Ok(AppRecord {
                id: text(r.get(0)?).unwrap_or_default(),
                hubspot_id: text(r.get(1)?),
                updated_at: text(r.get(2)?).unwrap_or_default(),
                fields,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every row of the table, one at a time, without holding them all.
    pub fn scan(&self, m: &ObjectMapping, mut visit: impl FnMut(&AppRecord)) -> anyhow::Result<()> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&self.select(m))
            .with_context(|| format!("reading table {} of {}", m.table, self.path.display()))?;
        let names = m.app_columns();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let mut fields = BTreeMap::new();
            for (i, name) in names.iter().enumerate() {
                fields.insert(name.to_string(), text(r.get(3 + i)?));
            }
            visit(&AppRecord {
                id: text(r.get(0)?).unwrap_or_default(),
                hubspot_id: text(r.get(1)?),
                updated_at: text(r.get(2)?).unwrap_or_default(),
                fields,
            });
        }
        Ok(())
    }

    fn since_clause(m: &ObjectMapping, since: Since<'_>, args: &mut Vec<Value>) -> String {
        let u = q(&m.updated_at_column);
        match since {
            Since::All => "1 = 1".into(),
            Since::From(from) => {
                args.push(Value::Text(from.to_string()));
                format!("{u} >= ?1")
            }
            Since::After(at, id) => {
                args.push(Value::Text(at.to_string()));
                args.push(cursor_value(id));
                format!(
                    "({u} > ?1 OR ({u} = ?1 AND {id} > ?2))",
                    id = q(&m.id_column)
                )
            }
        }
    }

    /// Up to `limit` rows from `since` on, in (updated_at, id) order.
    pub fn rows_since(
        &self,
        m: &ObjectMapping,
        since: Since<'_>,
        limit: usize,
    ) -> anyhow::Result<Vec<AppRecord>> {
        let mut args = Vec::new();
        let clause = Self::since_clause(m, since, &mut args);
        let sql = format!(
            "{} WHERE {clause} ORDER BY {}, {} LIMIT {limit}",
            self.select(m),
            q(&m.updated_at_column),
            q(&m.id_column)
        );
        self.read_rows(m, &sql, args)
    }

    pub fn count_since(&self, m: &ObjectMapping, since: Since<'_>) -> anyhow::Result<u64> {
        let mut args = Vec::new();
        let clause = Self::since_clause(m, since, &mut args);
        let sql = format!("SELECT COUNT(*) FROM {} WHERE {clause}", q(&m.table));
        Ok(self
            .conn()
            .query_row(&sql, params_from_iter(args), |r| r.get::<_, i64>(0))
            .with_context(|| format!("counting rows of app table {}", m.table))? as u64)
    }

    fn id_value(id: &str) -> Value {
        id.parse::<i64>()
            .map(Value::Integer)
            .unwrap_or(Value::Text(id.into()))
    }

    /// Reads rows where `expr` is one of `values`, in chunks SQLite takes.
    fn read_where_in(
        &self,
        m: &ObjectMapping,
        expr: &str,
        values: Vec<Value>,
    ) -> anyhow::Result<Vec<AppRecord>> {
        let mut out = Vec::new();
        for chunk in values.chunks(500) {
            let marks = vec!["?"; chunk.len()].join(", ");
            let sql = format!("{} WHERE {expr} IN ({marks})", self.select(m));
            out.extend(self.read_rows(m, &sql, chunk.to_vec())?);
        }
        Ok(out)
    }

    /// The rows with these ids; ids with no row are left out (deleted).
    pub fn get_many(&self, m: &ObjectMapping, ids: &[String]) -> anyhow::Result<Vec<AppRecord>> {
        let values = ids.iter().map(|id| Self::id_value(id)).collect();
        self.read_where_in(m, &q(&m.id_column), values)
    }

    /// The rows whose `column` holds one of these keys, compared trimmed and
    /// case-insensitively (`keys` are already normalised).
    ///
    /// ASCII keys go through [`key::key_expr`], which an index can serve;
    /// others through `hubsync_key()`, exact but a scan. Every candidate is
    /// checked with `key_norm` before it is returned.
    pub fn find_by_keys(
        &self,
        m: &ObjectMapping,
        column: &str,
        keys: &[String],
    ) -> anyhow::Result<Vec<AppRecord>> {
        let (plain, other): (Vec<&String>, Vec<&String>) =
            keys.iter().partition(|k| sql_can_match(k));
        let text = |ks: Vec<&String>| ks.into_iter().map(|k| Value::Text(k.clone())).collect();
        let mut found = Vec::new();
        if !plain.is_empty() {
            found.extend(self.read_where_in(m, &key::key_expr(&q(column)), text(plain))?);
        }
        if !other.is_empty() {
            found.extend(self.read_where_in(
                m,
                &format!("hubsync_key({})", q(column)),
                text(other),
            )?);
        }
        crate::appdb::keys::keep_matches(&mut found, column, keys);
        Ok(found)
    }

    /// The rows that carry one of these HubSpot ids in the write-back column.
    pub fn find_by_hubspot_ids(
        &self,
        m: &ObjectMapping,
        ids: &[String],
    ) -> anyhow::Result<Vec<AppRecord>> {
        let values = ids.iter().map(|k| Value::Text(k.clone())).collect();
        self.read_where_in(m, &q(&m.hubspot_id_column), values)
    }

    /// Applies one batch of writes from HubSpot in a single transaction:
    /// `updates` (app id, column → value) and `inserts` (column → value,
    /// HubSpot id). Each row has its own savepoint, so one refused row
    /// (a constraint, a trigger) fails alone; the outcomes come back in
    /// order. One commit per batch instead of one per row is what keeps a
    /// backfill into a database with a rollback journal fast.
    ///
    /// The caller stores links and memory only after this returns: a crash
    /// before the commit then leaves no trace on either side, and one after
    /// it leaves rows that carry their HubSpot id and are linked again.
    pub fn write_batch(
        &self,
        m: &ObjectMapping,
        updates: &[(String, BTreeMap<String, String>)],
        inserts: &[(BTreeMap<String, String>, String)],
    ) -> anyhow::Result<BatchOutcome> {
        let mut conn = self.conn();
        let mut tx = conn
            .transaction()
            .with_context(|| format!("writing to app table {}", m.table))?;
        let mut updated = Vec::with_capacity(updates.len());
        for (id, values) in updates {
            let sp = tx.savepoint()?;
            let r = Self::update_row(&sp, m, id, values);
            if r.is_ok() {
                sp.commit()?;
            }
            updated.push(r);
        }
        let mut inserted = Vec::with_capacity(inserts.len());
        for (values, hubspot_id) in inserts {
            let sp = tx.savepoint()?;
            let r = Self::insert_row(&sp, m, values, hubspot_id);
            if r.is_ok() {
                sp.commit()?;
            }
            inserted.push(r);
        }
        tx.commit()
            .with_context(|| format!("committing writes to app table {}", m.table))?;
        Ok((updated, inserted))
    }

    /// Inserts a row created from a HubSpot record, with its HubSpot id in
    /// the same statement: if the link is lost to a crash, the id on the row
    /// finds it again, so the record is never created twice. Returns the new
    /// row's id.
    fn insert_row(
        conn: &Connection,
        m: &ObjectMapping,
        values: &BTreeMap<String, String>,
        hubspot_id: &str,
    ) -> anyhow::Result<String> {
        let mut cols = vec![q(&m.hubspot_id_column), q(&m.updated_at_column)];
        let newest = format!(
            "(SELECT {u} FROM {t} WHERE {u} IS NOT NULL ORDER BY rowid DESC LIMIT 1)",
            u = q(&m.updated_at_column),
            t = q(&m.table)
        );
        let mut marks = vec!["?1".to_string(), now_like(&newest)];
        let mut args: Vec<Value> = vec![Value::Text(hubspot_id.into())];
        for (c, v) in values {
            cols.push(q(c));
            args.push(if v.is_empty() {
                Value::Null
            } else {
                Value::Text(v.clone())
            });
            marks.push(format!("?{}", args.len()));
        }
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({}) RETURNING {}",
            q(&m.table),
            cols.join(", "),
            marks.join(", "),
            q(&m.id_column)
        );
        let id: Value = conn
            .prepare_cached(&sql)?
            .query_row(params_from_iter(args), |r| r.get(0))
            .with_context(|| {
                format!(
                    "creating an app {} row for HubSpot {} {hubspot_id}",
                    m.table, m.object
                )
            })?;
        Ok(text(id).unwrap_or_default())
    }

    /// Writes values from HubSpot to an app row and stamps its `updated_at`,
    /// as the app's own code would: other readers of the table see the change.
    fn update_row(
        conn: &Connection,
        m: &ObjectMapping,
        id: &str,
        values: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        if values.is_empty() {
            return Ok(());
        }
        let u = q(&m.updated_at_column);
        let mut sets = vec![format!("{u} = {}", now_like(&u))];
        let mut args: Vec<Value> = vec![Self::id_value(id)];
        for (c, v) in values {
            args.push(if v.is_empty() {
                Value::Null
            } else {
                Value::Text(v.clone())
            });
            sets.push(format!("{} = ?{}", q(c), args.len()));
        }
        let sql = format!(
            "UPDATE {} SET {} WHERE {} = ?1",
            q(&m.table),
            sets.join(", "),
            q(&m.id_column)
        );
        let n = conn
            .prepare_cached(&sql)?
            .execute(params_from_iter(args))
            .with_context(|| format!("writing {} to app {} {id}", column_list(values), m.table))?;
        if n == 0 {
            anyhow::bail!("app {} {id} no longer exists", m.table);
        }
        Ok(())
    }

    /// Writes HubSpot ids back to app rows in one transaction, each row
    /// in its own savepoint so that one refused row (deleted since, a
    /// unique index) fails alone.
    pub fn set_hubspot_ids(
        &self,
        m: &ObjectMapping,
        ids: &[(String, String)],
    ) -> anyhow::Result<Vec<anyhow::Result<()>>> {
        let sql = format!(
            "UPDATE {} SET {} = ?1 WHERE {} = ?2",
            q(&m.table),
            q(&m.hubspot_id_column),
            q(&m.id_column)
        );
        let mut conn = self.conn();
        let mut tx = conn
            .transaction()
            .with_context(|| format!("writing HubSpot ids to app table {}", m.table))?;
        let mut out = Vec::with_capacity(ids.len());
        for (id, hubspot_id) in ids {
            let sp = tx.savepoint()?;
            let r = sp
                .prepare_cached(&sql)
                .and_then(|mut s| s.execute(rusqlite::params![hubspot_id, Self::id_value(id)]))
                .with_context(|| format!("writing HubSpot id {hubspot_id} to app {} {id}", m.table))
                .and_then(|n| {
                    if n == 0 {
                        anyhow::bail!(
                            "app {} {id} no longer exists; HubSpot id {hubspot_id} not written",
                            m.table
                        );
                    }
                    Ok(())
                });
            if r.is_ok() {
                sp.commit()?;
            }
            out.push(r);
        }
        tx.commit()
            .with_context(|| format!("committing HubSpot ids to app table {}", m.table))?;
        Ok(out)
    }

    /// Clears a row's HubSpot id because its HubSpot record is gone, and
    /// stamps `updated_at`: the row must be matched (or created) again, and
    /// if hubsync dies before that, the app's change feed brings it back.
    pub fn clear_hubspot_id(&self, m: &ObjectMapping, id: &str) -> anyhow::Result<()> {
        let u = q(&m.updated_at_column);
        let sql = format!(
            "UPDATE {} SET {} = NULL, {u} = {} WHERE {} = ?1",
            q(&m.table),
            q(&m.hubspot_id_column),
            now_like(&u),
            q(&m.id_column)
        );
        self.conn()
            .execute(&sql, [Self::id_value(id)])
            .with_context(|| format!("clearing the HubSpot id of app {} {id}", m.table))?;
        Ok(())
    }
}

/// SQL for "now" in the format `sample` (an SQL expression: the column, or
/// another row's value) is written in. The change feed compares
/// `updated_at` as the app stores it, so hubsync's stamps must sort with
/// the app's own: an ISO stamp among `CURRENT_TIMESTAMP` ones ("…T…" after
/// "… …") would put every later app edit of that day behind the cursor.
fn now_like(sample: &str) -> String {
    format!(
        "CASE \
           WHEN typeof({s}) = 'integer' AND {s} > 100000000000 \
             THEN CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) \
           WHEN typeof({s}) = 'integer' THEN CAST(strftime('%s', 'now') AS INTEGER) \
           WHEN {s} LIKE '____-__-__T%Z' THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
           WHEN {s} LIKE '____-__-__T%' THEN strftime('%Y-%m-%dT%H:%M:%f', 'now') \
           WHEN {s} LIKE '____-__-__ __:__:__.%' THEN strftime('%Y-%m-%d %H:%M:%f', 'now') \
           WHEN {s} LIKE '____-__-__ __:__:__' THEN strftime('%Y-%m-%d %H:%M:%S', 'now') \
           ELSE strftime('%Y-%m-%dT%H:%M:%fZ', 'now') END",
        s = sample
    )
}

#[cfg(test)]
mod tests;
