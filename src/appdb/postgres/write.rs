//! The PostgreSQL backend's writes: one transaction per batch, a
//! savepoint per row so that one refused row fails alone.

use super::sql::{self, cast, ident, table_ref};
use super::{Param, PgApp, PgContext, pg_message};
use crate::appdb::{BatchOutcome, column_list};
use crate::sync::mapping::ObjectMapping;
use std::collections::BTreeMap;

impl PgApp {
    pub async fn write_batch(
        &self,
        m: &ObjectMapping,
        updates: &[(String, BTreeMap<String, String>)],
        inserts: &[(BTreeMap<String, String>, String)],
    ) -> anyhow::Result<BatchOutcome> {
        let t = self.types(m).await?;
        let mut client = self.client().await?;
        let what = || format!("writing to table {} of {}", m.table, self.describe());
        let mut tx = client.transaction().await.pg(what)?;
        let now = sql::stamp_now(&m.table, &m.updated_at_column, t.of(&m.updated_at_column));
        let mut updated = Vec::with_capacity(updates.len());
        for (id, values) in updates {
            if values.is_empty() {
                updated.push(Ok(()));
                continue;
            }
            let mut sets = vec![format!("{} = {now}", ident(&m.updated_at_column))];
            let mut args: Vec<Option<&str>> = vec![Some(id.as_str())];
            for (c, v) in values {
                args.push((!v.is_empty()).then_some(v.as_str()));
                sets.push(format!("{} = {}", ident(c), cast(args.len(), t.of(c))));
            }
            let sql = format!(
                "UPDATE {} SET {} WHERE {} = {}",
                table_ref(&m.table),
                sets.join(", "),
                ident(&m.id_column),
                cast(1, t.of(&m.id_column))
            );
            let stmt = tx.prepare_cached(&sql).await.pg(what)?;
            let params: Vec<Param<'_>> = args.iter().map(|a| a as Param<'_>).collect();
            let sp = tx.savepoint("hubsync_row").await.pg(what)?;
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
                sp.commit().await.pg(what)?;
            } else {
                sp.rollback().await.pg(what)?;
            }
            updated.push(r);
        }
        let mut inserted = Vec::with_capacity(inserts.len());
        for (values, hubspot_id) in inserts {
            let mut cols = vec![ident(&m.hubspot_id_column), ident(&m.updated_at_column)];
            let mut marks = vec![cast(1, t.of(&m.hubspot_id_column)), now.clone()];
            let mut args: Vec<Option<&str>> = vec![Some(hubspot_id.as_str())];
            for (c, v) in values {
                args.push((!v.is_empty()).then_some(v.as_str()));
                cols.push(ident(c));
                marks.push(cast(args.len(), t.of(c)));
            }
            let sql = format!(
                "INSERT INTO {} ({}) VALUES ({}) RETURNING {}::text",
                table_ref(&m.table),
                cols.join(", "),
                marks.join(", "),
                ident(&m.id_column)
            );
            let stmt = tx.prepare_cached(&sql).await.pg(what)?;
            let params: Vec<Param<'_>> = args.iter().map(|a| a as Param<'_>).collect();
            let sp = tx.savepoint("hubsync_row").await.pg(what)?;
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
                sp.commit().await.pg(what)?;
            } else {
                sp.rollback().await.pg(what)?;
            }
            inserted.push(r);
        }
        tx.commit().await.pg(|| {
            format!(
                "committing writes to table {} of {}",
                m.table,
                self.describe()
            )
        })?;
        Ok((updated, inserted))
    }

    pub async fn set_hubspot_ids(
        &self,
        m: &ObjectMapping,
        ids: &[(String, String)],
    ) -> anyhow::Result<Vec<anyhow::Result<()>>> {
        let t = self.types(m).await?;
        let mut client = self.client().await?;
        let what = || {
            format!(
                "writing HubSpot ids to table {} of {}",
                m.table,
                self.describe()
            )
        };
        let sql = format!(
            "UPDATE {} SET {} = {} WHERE {} = {}",
            table_ref(&m.table),
            ident(&m.hubspot_id_column),
            cast(1, t.of(&m.hubspot_id_column)),
            ident(&m.id_column),
            cast(2, t.of(&m.id_column))
        );
        let mut tx = client.transaction().await.pg(what)?;
        let stmt = tx.prepare_cached(&sql).await.pg(what)?;
        let mut out = Vec::with_capacity(ids.len());
        for (id, hubspot_id) in ids {
            let sp = tx.savepoint("hubsync_row").await.pg(what)?;
            let r = match sp.execute(&stmt, &[hubspot_id, id]).await {
                Ok(0) => Err(anyhow::anyhow!(
                    "app {} {id} no longer exists; HubSpot id {hubspot_id} not written",
                    m.table
                )),
                Ok(_) => Ok(()),
                Err(e) => Err(anyhow::anyhow!(
                    "writing HubSpot id {hubspot_id} to app {} {id}: {}",
                    m.table,
                    pg_message(&e)
                )),
            };
            if r.is_ok() {
                sp.commit().await.pg(what)?;
            } else {
                sp.rollback().await.pg(what)?;
            }
            out.push(r);
        }
        tx.commit().await.pg(what)?;
        Ok(out)
    }

    pub async fn clear_hubspot_id(&self, m: &ObjectMapping, id: &str) -> anyhow::Result<()> {
        let t = self.types(m).await?;
        let sql = format!(
            "UPDATE {} SET {} = NULL, {} = {} WHERE {} = {}",
            table_ref(&m.table),
            ident(&m.hubspot_id_column),
            ident(&m.updated_at_column),
            sql::stamp_now(&m.table, &m.updated_at_column, t.of(&m.updated_at_column)),
            ident(&m.id_column),
            cast(1, t.of(&m.id_column))
        );
        let client = self.client().await?;
        client
            .execute(&sql, &[&id])
            .await
            .pg(|| format!("clearing the HubSpot id of app {} {id}", m.table))?;
        Ok(())
    }
}
