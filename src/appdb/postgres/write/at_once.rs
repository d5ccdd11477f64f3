//! Many rows in one statement: the values travel as one text array per
//! column and are cast to each column's type on the server. A statement
//! PostgreSQL refuses is rolled back to its savepoint and reported as
//! `None`, for the caller to write its rows one by one.

use super::Table;
use crate::appdb::postgres::sql::{ident, table_ref, text_arrays};
use crate::appdb::postgres::{Param, PgContext, lost_connection, pg_message};
use deadpool_postgres::Transaction;
use std::collections::{BTreeMap, HashSet};
use tokio_postgres::Row;

/// One text array per column: a value per row, empty text as NULL.
type Arrays<'a> = Vec<Vec<Option<&'a str>>>;

fn column_of<'a>(
    rows: impl Iterator<Item = &'a BTreeMap<String, String>>,
    c: &str,
) -> Vec<Option<&'a str>> {
    rows.map(|v| v.get(c).map(String::as_str).filter(|s| !s.is_empty()))
        .collect()
}

/// `c0, c1, …`: the unnested columns' names, clear of any of the table's.
fn names(n: usize) -> String {
    (0..n).map(|i| format!(", c{i}")).collect()
}

impl Table<'_> {
    /// Updates `rows` (all writing the same columns) in one statement and
    /// stamps them; the ids it found, or `None` when the statement was
    /// refused. An id twice in a batch goes row by row, where the later
    /// write wins as it would have.
    pub(super) async fn update_at_once(
        &self,
        tx: &mut Transaction<'_>,
        rows: &[&(String, BTreeMap<String, String>)],
    ) -> anyhow::Result<Option<HashSet<String>>> {
        let mut seen = HashSet::new();
        if rows.len() < 2 || !rows.iter().all(|(id, _)| seen.insert(id.as_str())) {
            return Ok(None);
        }
        let cols: Vec<&String> = rows[0].1.keys().collect();
        let mut sets = vec![format!(
            "{} = {}",
            ident(&self.m.updated_at_column),
            self.now
        )];
        let mut arrays: Arrays<'_> = vec![rows.iter().map(|(id, _)| Some(id.as_str())).collect()];
        for (i, c) in cols.iter().enumerate() {
            sets.push(format!(
                "{} = CAST(hubsync_v.c{i} AS {})",
                ident(c),
                self.t.of(c)
            ));
            arrays.push(column_of(rows.iter().map(|(_, v)| v), c));
        }
        let sql = format!(
            "UPDATE {} AS hubsync_t SET {} FROM unnest({}) AS hubsync_v(hubsync_id{}) \
             WHERE hubsync_t.{} = CAST(hubsync_v.hubsync_id AS {}) RETURNING hubsync_v.hubsync_id",
            table_ref(&self.m.table),
            sets.join(", "),
            text_arrays(arrays.len()),
            names(cols.len()),
            ident(&self.m.id_column),
            self.t.of(&self.m.id_column)
        );
        self.attempt(tx, &sql, &arrays, |found| {
            Some(found.iter().map(|r| r.get::<_, String>(0)).collect())
        })
        .await
    }

    /// Inserts `rows` (all writing the same columns, each with its HubSpot
    /// id) in one statement; the new rows' ids in order, or `None` when the
    /// statement was refused. The rows are told apart by the HubSpot id
    /// each comes back with, not by the order PostgreSQL returns them in,
    /// which it does not promise: if they cannot be, the statement is
    /// undone and the rows go one by one.
    pub(super) async fn insert_at_once(
        &self,
        tx: &mut Transaction<'_>,
        rows: &[&(BTreeMap<String, String>, String)],
    ) -> anyhow::Result<Option<Vec<String>>> {
        if rows.len() < 2 {
            return Ok(None);
        }
        let m = self.m;
        let cols: Vec<&String> = rows[0].0.keys().collect();
        let mut targets = vec![ident(&m.hubspot_id_column), ident(&m.updated_at_column)];
        let mut exprs = vec![
            format!(
                "CAST(hubsync_v.hubsync_hubspot_id AS {})",
                self.t.of(&m.hubspot_id_column)
            ),
            self.now.clone(),
        ];
        let mut arrays: Arrays<'_> = vec![rows.iter().map(|(_, h)| Some(h.as_str())).collect()];
        for (i, c) in cols.iter().enumerate() {
            targets.push(ident(c));
            exprs.push(format!("CAST(hubsync_v.c{i} AS {})", self.t.of(c)));
            arrays.push(column_of(rows.iter().map(|(v, _)| v), c));
        }
        let sql = format!(
            "INSERT INTO {} ({}) SELECT {} FROM unnest({}) AS hubsync_v(hubsync_hubspot_id{}) \
             RETURNING {}::text, {}::text",
            table_ref(&m.table),
            targets.join(", "),
            exprs.join(", "),
            text_arrays(arrays.len()),
            names(cols.len()),
            ident(&m.id_column),
            ident(&m.hubspot_id_column)
        );
        self.attempt(tx, &sql, &arrays, |created| {
            let mut by_hubspot_id = std::collections::HashMap::new();
            for r in created {
                let id: Option<String> = r.try_get(0).ok()?;
                let hubspot_id: Option<String> = r.try_get(1).ok()?;
                by_hubspot_id.insert(hubspot_id?, id?);
            }
            let ids: Vec<String> = rows
                .iter()
                .map(|(_, h)| by_hubspot_id.remove(h))
                .collect::<Option<_>>()?;
            by_hubspot_id.is_empty().then_some(ids)
        })
        .await
    }

    /// Runs `sql` in a savepoint and keeps it if `accept` makes sense of
    /// the rows it returned; a refused statement, or one `accept` rejects,
    /// is undone. A lost connection is an error, not a refusal.
    async fn attempt<T>(
        &self,
        tx: &mut Transaction<'_>,
        sql: &str,
        arrays: &Arrays<'_>,
        accept: impl FnOnce(&[Row]) -> Option<T>,
    ) -> anyhow::Result<Option<T>> {
        let params: Vec<Param<'_>> = arrays.iter().map(|a| a as Param<'_>).collect();
        let sp = tx.savepoint("hubsync_rows").await.pg(|| self.what())?;
        let result = match sp.prepare_cached(sql).await {
            Ok(stmt) => sp.query(&stmt, &params).await,
            Err(e) => Err(e),
        };
        let refused = match result {
            Ok(rows) => match accept(&rows) {
                Some(v) => {
                    sp.commit().await.pg(|| self.what())?;
                    return Ok(Some(v));
                }
                None => "its rows could not be told apart".to_string(),
            },
            Err(e) if lost_connection(&e) => return Err(e).pg(|| self.what()),
            Err(e) => pg_message(&e),
        };
        tracing::debug!(table = %self.m.table, rows = arrays[0].len(),
            "a batch statement was refused ({refused}); writing its rows one by one");
        sp.rollback().await.pg(|| self.what())?;
        Ok(None)
    }
}
