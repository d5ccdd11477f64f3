//! One row, one statement, in a savepoint of its own: the way rows go when
//! a statement for many was refused, so that the row PostgreSQL refuses
//! fails alone with what it said. The outer result is the connection's,
//! the inner the row's.

use super::Table;
use crate::appdb::column_list;
use crate::appdb::postgres::sql::{cast, ident, table_ref};
use crate::appdb::postgres::{Param, PgContext, pg_message};
use deadpool_postgres::Transaction;
use std::collections::BTreeMap;

impl Table<'_> {
    /// Writes values from HubSpot to an app row and stamps its
    /// `updated_at`, as the app's own code would.
    pub(super) async fn update_row(
        &self,
        tx: &mut Transaction<'_>,
        id: &str,
        values: &BTreeMap<String, String>,
    ) -> anyhow::Result<anyhow::Result<()>> {
        let m = self.m;
        let mut sets = vec![format!("{} = {}", ident(&m.updated_at_column), self.now)];
        let mut args: Vec<Option<&str>> = vec![Some(id)];
        for (c, v) in values {
            args.push((!v.is_empty()).then_some(v.as_str()));
            sets.push(format!("{} = {}", ident(c), cast(args.len(), self.t.of(c))));
        }
        let sql = format!(
            "UPDATE {} SET {} WHERE {} = {}",
            table_ref(&m.table),
            sets.join(", "),
            ident(&m.id_column),
            cast(1, self.t.of(&m.id_column))
        );
        let stmt = tx.prepare_cached(&sql).await.pg(|| self.what())?;
        let params: Vec<Param<'_>> = args.iter().map(|a| a as Param<'_>).collect();
        let sp = tx.savepoint("hubsync_row").await.pg(|| self.what())?;
        let r = match sp.execute(&stmt, &params).await {
            Ok(0) => Err(anyhow::anyhow!("app {} {id} no longer exists", m.table)),
            Ok(_) => Ok(()),
            Err(e) => Err(anyhow::anyhow!(
                "writing {} to app {} {id}: {}",
                column_list(values),
                m.table,
                pg_message(&e)
            )),
        };
        if r.is_ok() {
            sp.commit().await.pg(|| self.what())?;
        } else {
            sp.rollback().await.pg(|| self.what())?;
        }
        Ok(r)
    }

    /// Inserts a row created from a HubSpot record, its HubSpot id in the
    /// same statement (a lost link finds the row again by it); the new
    /// row's id.
    pub(super) async fn insert_row(
        &self,
        tx: &mut Transaction<'_>,
        values: &BTreeMap<String, String>,
        hubspot_id: &str,
    ) -> anyhow::Result<anyhow::Result<String>> {
        let m = self.m;
        let mut cols = vec![ident(&m.hubspot_id_column), ident(&m.updated_at_column)];
        let mut marks = vec![cast(1, self.t.of(&m.hubspot_id_column)), self.now.clone()];
        let mut args: Vec<Option<&str>> = vec![Some(hubspot_id)];
        for (c, v) in values {
            args.push((!v.is_empty()).then_some(v.as_str()));
            cols.push(ident(c));
            marks.push(cast(args.len(), self.t.of(c)));
        }
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({}) RETURNING {}::text",
            table_ref(&m.table),
            cols.join(", "),
            marks.join(", "),
            ident(&m.id_column)
        );
        let stmt = tx.prepare_cached(&sql).await.pg(|| self.what())?;
        let params: Vec<Param<'_>> = args.iter().map(|a| a as Param<'_>).collect();
        let sp = tx.savepoint("hubsync_row").await.pg(|| self.what())?;
        let r = match sp.query_one(&stmt, &params).await {
            Ok(row) => Ok(row.get::<_, String>(0)),
            Err(e) => Err(anyhow::anyhow!(
                "creating an app {} row for HubSpot {} {hubspot_id}: {}",
                m.table,
                m.object,
                pg_message(&e)
            )),
        };
        if r.is_ok() {
            sp.commit().await.pg(|| self.what())?;
        } else {
            sp.rollback().await.pg(|| self.what())?;
        }
        Ok(r)
    }
}
