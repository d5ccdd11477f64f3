//! Rows created in the app from HubSpot whose links a crash cut off: the
//! app's insert commits before the link can be stored (the row's id comes
//! from the insert), so a kill in between leaves a row carrying its HubSpot
//! id and no link. Matched again without memory, the pair would be merged
//! as a conflict the app wins, and a HubSpot edit made since would be
//! overwritten by the values the row was created with.

use super::Pass;
use crate::appdb::AppRecord;
use crate::sync::execute::ExecError;
use crate::sync::plan::Link;
use std::collections::{BTreeMap, HashMap, HashSet};

impl Pass<'_> {
    /// Links each such row with the memory noted before its insert, so
    /// that what changed on either side since is a change, not a conflict.
    /// Only a row that alone carries a noted HubSpot id, where neither
    /// side is linked elsewhere: anything else is left to the planner.
    pub(super) async fn link_interrupted_creates(
        &self,
        links: &mut Vec<Link>,
        app: &mut HashMap<String, AppRecord>,
        hubspot_feed: &[String],
    ) -> Result<(), ExecError> {
        let m = self.mapping;
        let o = self.object();
        let linked_app: HashSet<&str> = links.iter().map(|l| l.app_id.as_str()).collect();
        let linked_hubspot: HashSet<&str> = links.iter().map(|l| l.hubspot_id.as_str()).collect();
        let mut ids: Vec<String> = hubspot_feed
            .iter()
            .cloned()
            .chain(
                app.values()
                    .filter(|r| !linked_app.contains(r.id.as_str()))
                    .filter_map(|r| r.hubspot_id.clone()),
            )
            .filter(|h| !h.is_empty() && !linked_hubspot.contains(h.as_str()))
            .collect();
        ids.sort();
        ids.dedup();
        if ids.is_empty() {
            return Ok(());
        }
        let noted = self.store.app_creates_among(o, &ids).await?;
        if noted.is_empty() {
            return Ok(());
        }
        let noted_ids: Vec<String> = noted.keys().cloned().collect();
        let mut carriers: BTreeMap<String, Vec<AppRecord>> = BTreeMap::new();
        for r in self.app.find_by_hubspot_ids(m, &noted_ids).await? {
            if let Some(h) = r.hubspot_id.clone() {
                carriers.entry(h).or_default().push(r);
            }
        }
        let rows: Vec<String> = carriers.values().flatten().map(|r| r.id.clone()).collect();
        let app_linked = self.store.links_for(o, &rows).await?;
        let hubspot_linked = self.store.app_ids_for(o, &noted_ids).await?;
        for (hubspot_id, mut rows) in carriers {
            if rows.len() != 1
                || app_linked.contains_key(&rows[0].id)
                || hubspot_linked.contains_key(&hubspot_id)
            {
                continue;
            }
            let row = rows.remove(0);
            let memory = noted[&hubspot_id].clone();
            self.store.link(o, &row.id, &hubspot_id, &memory).await?;
            tracing::info!(object = %o, app_id = %row.id, hubspot_id = %hubspot_id,
                "app record created from HubSpot linked again (lost in an interrupted create)");
            links.push(Link {
                app_id: row.id.clone(),
                hubspot_id,
                memory,
                pending: BTreeMap::new(),
            });
            app.entry(row.id.clone()).or_insert(row);
        }
        Ok(())
    }
}
