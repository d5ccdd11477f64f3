//! Records an operator retries together: a class of FAILED entries or a
//! marked selection, as one job. They go through the same batch as a pass
//! (read in batches on both sides, planned, written 100 at a time), so the
//! retry is paced by the rate budget like any sync, and each record asked
//! for gets an audit entry, which closes its open failure. A record gone
//! from both sides is audited SKIPPED, saying so.

use super::{Pass, Progress, add};
use crate::model::{Direction, RecordRef};
use crate::status::{AuditAction, AuditStatus};
use crate::store::NewAudit;
use crate::sync::execute::{ExecError, Tally};
use std::collections::HashSet;

impl Pass<'_> {
    pub(super) async fn selection(
        &self,
        refs: Vec<RecordRef>,
        progress: &mut Progress,
        on_progress: &mut impl FnMut(Progress),
    ) -> Result<(), ExecError> {
        progress.total += refs.len() as u64;
        on_progress(*progress);
        for chunk in refs.chunks(self.size()) {
            let app_ids: Vec<String> = chunk
                .iter()
                .filter_map(|r| match r {
                    RecordRef::App(id) => Some(id.clone()),
                    RecordRef::HubSpot(_) => None,
                })
                .collect();
            let hubspot_ids: Vec<String> = chunk
                .iter()
                .filter_map(|r| match r {
                    RecordRef::HubSpot(id) => Some(id.clone()),
                    RecordRef::App(_) => None,
                })
                .collect();
            let rows = self.app.get_many(self.mapping, &app_ids).await?;
            let present: HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
            // An app row deleted since: its link is what is left to settle.
            let deleted: Vec<String> = app_ids
                .iter()
                .filter(|id| !present.contains(id.as_str()))
                .cloned()
                .collect();
            let mut links = self.store.links_of_app(self.object(), &deleted).await?;
            let (found, _) = self.read_by_id(&hubspot_ids).await?;
            let asked: HashSet<&str> = hubspot_ids.iter().map(String::as_str).collect();
            let found: Vec<_> = found
                .into_iter()
                .filter(|o| asked.contains(o.id.as_str()))
                .collect();
            links.extend(
                self.store
                    .links_of_hubspot(self.object(), &hubspot_ids)
                    .await?,
            );
            let known: HashSet<String> = present
                .iter()
                .map(|id| RecordRef::App(id.to_string()).key())
                .chain(found.iter().map(|o| RecordRef::hubspot_key(&o.id)))
                .chain(links.iter().map(|l| RecordRef::App(l.app_id.clone()).key()))
                .chain(links.iter().map(|l| RecordRef::hubspot_key(&l.hubspot_id)))
                .collect();
            let (here, gone): (Vec<RecordRef>, Vec<RecordRef>) = chunk
                .iter()
                .cloned()
                .partition(|r| known.contains(&r.key()));
            let mut t = if here.is_empty() {
                Tally::default()
            } else {
                self.batch(rows, found, links, &here).await?
            };
            for r in &gone {
                self.audit_gone(r).await?;
                t.skipped += 1;
            }
            progress.done += chunk.len() as u64;
            add(&mut progress.tally, t);
            on_progress(*progress);
        }
        Ok(())
    }

    async fn audit_gone(&self, r: &RecordRef) -> Result<(), ExecError> {
        let (direction, hubspot_id, what) = match r {
            RecordRef::App(id) => (
                Direction::ToHubSpot,
                None,
                format!("app {} record {id}", self.mapping.table),
            ),
            RecordRef::HubSpot(id) => (
                Direction::ToApp,
                Some(id.clone()),
                format!("HubSpot {} {id}", self.object()),
            ),
        };
        self.store
            .record(&NewAudit {
                job_id: self.job_id,
                object: self.object(),
                direction,
                app_id: r.key(),
                hubspot_id,
                action: AuditAction::Skip,
                status: AuditStatus::Skipped,
                category: None,
                message: Some(format!(
                    "{what} no longer exists on either side and is not linked: nothing to retry"
                )),
                diff: None,
                label: what,
            })
            .await?;
        Ok(())
    }
}
