//! Links: which app record is which HubSpot record, and what both sides held
//! at the last sync (the memory behind field-level merge and echo
//! suppression). Tombstones keep a HubSpot record whose app row was deleted
//! from being created in the app again.

use super::{Store, ts};
use crate::model::ObjectKind;
use crate::sync::plan::Link;
use anyhow::anyhow;
use chrono::Utc;
use rusqlite::{OptionalExtension, Row, params};
use std::collections::{BTreeMap, HashMap, HashSet};

fn link_row(r: &Row<'_>) -> rusqlite::Result<Link> {
    let memory: String = r.get(2)?;
    let pending: Option<String> = r.get(3)?;
    Ok(Link {
        app_id: r.get(0)?,
        hubspot_id: r.get(1)?,
        // A memory that cannot be read is treated as none: the pair is
        // then merged as if newly linked, which never loses a value.
        memory: serde_json::from_str(&memory).unwrap_or_default(),
        pending: pending
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_default(),
    })
}

impl Store {
    /// Links an app record to a HubSpot record, remembering what both
    /// sides hold. Linking a HubSpot record that is already linked to
    /// another app record is refused: that would make two app records write
    /// into one HubSpot record.
    pub async fn link(
        &self,
        object: ObjectKind,
        app_id: &str,
        hubspot_id: &str,
        memory: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        let (app_id, hubspot_id) = (app_id.to_string(), hubspot_id.to_string());
        let memory = serde_json::to_string(memory)?;
        self.write(move |conn| {
            let owner: Option<String> = conn
                .query_row(
                    "SELECT app_id FROM links WHERE object = ?1 AND hubspot_id = ?2",
                    params![object.api_name(), hubspot_id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(owner) = owner
                && owner != app_id
            {
                return Err(anyhow!(
                    "HubSpot {object} {hubspot_id} is already linked to app record {owner}"
                ));
            }
            conn.execute(
                "INSERT INTO links (object, app_id, hubspot_id, linked_at, memory) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (object, app_id) DO UPDATE SET hubspot_id = excluded.hubspot_id,
                     linked_at = excluded.linked_at, memory = excluded.memory",
                params![object.api_name(), app_id, hubspot_id, ts(Utc::now()), memory],
            )?;
            // Linked: a create noted for this HubSpot record is done.
            conn.execute(
                "DELETE FROM app_creates WHERE object = ?1 AND hubspot_id = ?2",
                params![object.api_name(), hubspot_id],
            )?;
            Ok(())
        })
        .await
    }

    /// Notes, before a batch of HubSpot records is inserted into the app,
    /// what each one's link will remember (one transaction for the batch).
    /// Linking the record clears its note.
    pub async fn note_app_creates(
        &self,
        object: ObjectKind,
        creates: &[(&str, &BTreeMap<String, String>)],
    ) -> anyhow::Result<()> {
        let creates = creates
            .iter()
            .map(|(id, m)| Ok((id.to_string(), serde_json::to_string(m)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        self.write(move |conn| {
            let tx = conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO app_creates (object, hubspot_id, memory, noted_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (object, hubspot_id) DO UPDATE SET memory = excluded.memory,
                         noted_at = excluded.noted_at",
                )?;
                let now = ts(Utc::now());
                for (hubspot_id, memory) in &creates {
                    stmt.execute(params![object.api_name(), hubspot_id, memory, now])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// The creates in the app noted for these HubSpot records and never
    /// linked (HubSpot id → the memory noted).
    pub async fn app_creates_among(
        &self,
        object: ObjectKind,
        hubspot_ids: &[String],
    ) -> anyhow::Result<HashMap<String, BTreeMap<String, String>>> {
        let ids = hubspot_ids.to_vec();
        self.query(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT memory FROM app_creates WHERE object = ?1 AND hubspot_id = ?2",
            )?;
            let mut out = HashMap::new();
            for id in ids {
                let memory: Option<String> = stmt
                    .query_row(params![object.api_name(), id], |r| r.get(0))
                    .optional()?;
                // A note that cannot be read is no note: the pair is then
                // merged as if newly linked, as before notes existed.
                if let Some(m) = memory.and_then(|m| serde_json::from_str(&m).ok()) {
                    out.insert(id, m);
                }
            }
            Ok(out)
        })
        .await
    }

    /// Replaces a link's memory after a write landed (or was settled):
    /// nothing is pending any more.
    pub async fn set_memory(
        &self,
        object: ObjectKind,
        app_id: &str,
        memory: &BTreeMap<String, String>,
    ) -> anyhow::Result<()> {
        let app_id = app_id.to_string();
        let memory = serde_json::to_string(memory)?;
        self.write(move |conn| {
            conn.execute(
                "UPDATE links SET memory = ?3, pending = NULL WHERE object = ?1 AND app_id = ?2",
                params![object.api_name(), app_id, memory],
            )?;
            Ok(())
        })
        .await
    }

    /// Notes, before a batch is sent, the values each link is about to
    /// write to HubSpot (one transaction for the batch).
    pub async fn set_pending(
        &self,
        object: ObjectKind,
        writes: &[(&str, &BTreeMap<String, String>)],
    ) -> anyhow::Result<()> {
        let writes = writes
            .iter()
            .map(|(id, v)| Ok((id.to_string(), serde_json::to_string(v)?)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        self.write(move |conn| {
            let tx = conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(
                    "UPDATE links SET pending = ?3 WHERE object = ?1 AND app_id = ?2",
                )?;
                for (app_id, values) in &writes {
                    stmt.execute(params![object.api_name(), app_id, values])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Forgets a write that HubSpot refused: it did not land.
    pub async fn clear_pending(&self, object: ObjectKind, app_id: &str) -> anyhow::Result<()> {
        let app_id = app_id.to_string();
        self.write(move |conn| {
            conn.execute(
                "UPDATE links SET pending = NULL WHERE object = ?1 AND app_id = ?2",
                params![object.api_name(), app_id],
            )?;
            Ok(())
        })
        .await
    }

    /// Removes a link; both records stay.
    pub async fn unlink(&self, object: ObjectKind, app_id: &str) -> anyhow::Result<()> {
        let app_id = app_id.to_string();
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM links WHERE object = ?1 AND app_id = ?2",
                params![object.api_name(), app_id],
            )?;
            Ok(())
        })
        .await
    }

    /// Removes the link of a deleted app record and remembers its HubSpot
    /// record, so that record is not created in the app again.
    pub async fn bury(
        &self,
        object: ObjectKind,
        app_id: &str,
        hubspot_id: &str,
    ) -> anyhow::Result<()> {
        let (app_id, hubspot_id) = (app_id.to_string(), hubspot_id.to_string());
        self.write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "DELETE FROM links WHERE object = ?1 AND app_id = ?2",
                params![object.api_name(), app_id],
            )?;
            tx.execute(
                "INSERT OR REPLACE INTO tombstones (object, hubspot_id, app_id, at) VALUES (?1, ?2, ?3, ?4)",
                params![object.api_name(), hubspot_id, app_id, ts(Utc::now())],
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    /// Which of these HubSpot records lost their app record to a deletion.
    pub async fn tombstones_among(
        &self,
        object: ObjectKind,
        hubspot_ids: &[String],
    ) -> anyhow::Result<HashSet<String>> {
        let ids = hubspot_ids.to_vec();
        self.query(move |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT 1 FROM tombstones WHERE object = ?1 AND hubspot_id = ?2")?;
            let mut out = HashSet::new();
            for id in ids {
                if stmt.exists(params![object.api_name(), id])? {
                    out.insert(id);
                }
            }
            Ok(out)
        })
        .await
    }

    /// The links of these app records.
    pub async fn links_of_app(
        &self,
        object: ObjectKind,
        app_ids: &[String],
    ) -> anyhow::Result<Vec<Link>> {
        self.links_by("app_id", object, app_ids.to_vec()).await
    }

    /// The links of these HubSpot records.
    pub async fn links_of_hubspot(
        &self,
        object: ObjectKind,
        hubspot_ids: &[String],
    ) -> anyhow::Result<Vec<Link>> {
        self.links_by("hubspot_id", object, hubspot_ids.to_vec())
            .await
    }

    async fn links_by(
        &self,
        column: &'static str,
        object: ObjectKind,
        ids: Vec<String>,
    ) -> anyhow::Result<Vec<Link>> {
        self.query(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT app_id, hubspot_id, memory, pending FROM links WHERE object = ?1 AND {column} = ?2"
            ))?;
            let mut out = Vec::new();
            for id in ids {
                if let Some(l) = stmt
                    .query_row(params![object.api_name(), id], link_row)
                    .optional()?
                {
                    out.push(l);
                }
            }
            Ok(out)
        })
        .await
    }

    /// A page of links in app-id order after `after`: the deletion scan
    /// walks every link this way.
    pub async fn links_after(
        &self,
        object: ObjectKind,
        after: &str,
        limit: usize,
    ) -> anyhow::Result<Vec<Link>> {
        let after = after.to_string();
        self.query(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT app_id, hubspot_id, memory, pending FROM links WHERE object = ?1 AND app_id > ?2
                 ORDER BY app_id LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![object.api_name(), after, limit as i64], link_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// The HubSpot ids linked to these app records (absent ones are unlinked).
    pub async fn links_for(
        &self,
        object: ObjectKind,
        app_ids: &[String],
    ) -> anyhow::Result<HashMap<String, String>> {
        Ok(self
            .links_of_app(object, app_ids)
            .await?
            .into_iter()
            .map(|l| (l.app_id, l.hubspot_id))
            .collect())
    }

    /// The app records these HubSpot ids are linked to, if any.
    pub async fn app_ids_for(
        &self,
        object: ObjectKind,
        hubspot_ids: &[String],
    ) -> anyhow::Result<HashMap<String, String>> {
        Ok(self
            .links_of_hubspot(object, hubspot_ids)
            .await?
            .into_iter()
            .map(|l| (l.hubspot_id, l.app_id))
            .collect())
    }

    /// How many records of the object are linked (a view: read-only connection).
    pub async fn link_count(&self, object: ObjectKind) -> anyhow::Result<u64> {
        self.view(move |conn| {
            Ok(conn.query_row(
                "SELECT COUNT(*) FROM links WHERE object = ?1",
                params![object.api_name()],
                |r| r.get::<_, i64>(0),
            )? as u64)
        })
        .await
    }
}
