//! Writing HubSpot ids back to app rows, and clearing one. The write-back
//! does not stamp `updated_at`: hubsync's own bookkeeping is not a change
//! for the app's feed.

use super::ROWS_PER_STATEMENT;
use crate::appdb::postgres::sql::{self, cast, ident, table_ref, text_arrays};
use crate::appdb::postgres::{PgApp, PgContext, Types, lost_connection, pg_message};
use crate::sync::mapping::ObjectMapping;
use deadpool_postgres::Object;
use std::collections::HashSet;

type Outcomes = Vec<anyhow::Result<()>>;

fn gone(m: &ObjectMapping, id: &str, hubspot_id: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "app {} {id} no longer exists; HubSpot id {hubspot_id} not written",
        m.table
    )
}

impl PgApp {
    /// Writes `(app id, HubSpot id)` pairs, one statement for the lot; a
    /// row that statement cannot write (deleted since, a unique index, an
    /// id not of the key's type) fails alone, the others are written.
    pub async fn set_hubspot_ids(
        &self,
        m: &ObjectMapping,
        ids: &[(String, String)],
    ) -> anyhow::Result<Outcomes> {
        let t = self.types(m).await?;
        let mut client = self.client().await?;
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            match self.hubspot_ids_at_once(&client, m, &t, chunk).await? {
                Some(found) => out.extend(chunk.iter().map(|(id, h)| match found.contains(id) {
                    true => Ok(()),
                    false => Err(gone(m, id, h)),
                })),
                None => out.extend(
                    self.hubspot_ids_one_by_one(&mut client, m, &t, chunk)
                        .await?,
                ),
            }
        }
        Ok(out)
    }

    fn hubspot_ids_what(&self, m: &ObjectMapping) -> String {
        format!(
            "writing HubSpot ids to table {} of {}",
            m.table,
            self.describe()
        )
    }

    /// The ids of the rows written, or `None` when PostgreSQL refused the
    /// statement (which, on its own, changed nothing). An app id twice in
    /// a chunk goes row by row, where the later pair wins as it would have.
    async fn hubspot_ids_at_once(
        &self,
        client: &Object,
        m: &ObjectMapping,
        t: &Types,
        chunk: &[(String, String)],
    ) -> anyhow::Result<Option<HashSet<String>>> {
        let mut seen = HashSet::new();
        if !chunk.iter().all(|(id, _)| seen.insert(id.as_str())) {
            return Ok(None);
        }
        let sql = format!(
            "UPDATE {} AS hubsync_t SET {} = CAST(hubsync_v.hubspot_id AS {}) \
             FROM unnest({}) AS hubsync_v(id, hubspot_id) \
             WHERE hubsync_t.{} = CAST(hubsync_v.id AS {}) RETURNING hubsync_v.id",
            table_ref(&m.table),
            ident(&m.hubspot_id_column),
            t.of(&m.hubspot_id_column),
            text_arrays(2),
            ident(&m.id_column),
            t.of(&m.id_column)
        );
        let app_ids: Vec<&str> = chunk.iter().map(|(id, _)| id.as_str()).collect();
        let hubspot_ids: Vec<&str> = chunk.iter().map(|(_, h)| h.as_str()).collect();
        let result = match client.prepare_cached(&sql).await {
            Ok(stmt) => client.query(&stmt, &[&app_ids, &hubspot_ids]).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(rows) => Ok(Some(rows.iter().map(|r| r.get::<_, String>(0)).collect())),
            Err(e) if lost_connection(&e) => Err(e).pg(|| self.hubspot_ids_what(m)),
            Err(e) => {
                tracing::debug!(table = %m.table, rows = chunk.len(),
                    "writing HubSpot ids at once was refused ({}); writing them one by one",
                    pg_message(&e));
                Ok(None)
            }
        }
    }

    /// One transaction, a savepoint per row, so that the refused row
    /// fails alone with what PostgreSQL said of it.
    async fn hubspot_ids_one_by_one(
        &self,
        client: &mut Object,
        m: &ObjectMapping,
        t: &Types,
        chunk: &[(String, String)],
    ) -> anyhow::Result<Outcomes> {
        let what = || self.hubspot_ids_what(m);
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
        let mut out = Vec::with_capacity(chunk.len());
        for (id, hubspot_id) in chunk {
            let sp = tx.savepoint("hubsync_row").await.pg(what)?;
            let r = match sp.execute(&stmt, &[hubspot_id, id]).await {
                Ok(0) => Err(gone(m, id, hubspot_id)),
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
