//! Many HubSpot records at once, as a burst of webhook events names them:
//! read 100 per batch read, each record planned once however many events
//! named it. A record that is no longer in HubSpot and was never linked is
//! what the event says happened (deleted, or created and deleted between
//! two reads): skipped, not a failure; a linked one gone is unlinked by
//! the batch, as in a scan.

use super::{Pass, Progress, add};
use crate::hubspot::MAX_BATCH;
use crate::hubspot::wire::SimplePublicObject;
use crate::sync::execute::ExecError;
use std::collections::HashSet;

impl Pass<'_> {
    pub(super) async fn records(
        &self,
        mut ids: Vec<String>,
        progress: &mut Progress,
        on_progress: &mut impl FnMut(Progress),
    ) -> Result<(), ExecError> {
        ids.sort();
        ids.dedup();
        progress.total += ids.len() as u64;
        on_progress(*progress);
        for chunk in ids.chunks(MAX_BATCH) {
            let (found, _) = self.read_by_id(chunk).await?;
            let asked: HashSet<&str> = chunk.iter().map(String::as_str).collect();
            // A merged-away id answers with its survivor, which the merge
            // event names too; the link to the old id is settled by the
            // link, as for a single record.
            let found: Vec<SimplePublicObject> = found
                .into_iter()
                .filter(|o| asked.contains(o.id.as_str()))
                .collect();
            let links = self.store.links_of_hubspot(self.object(), chunk).await?;
            let known: HashSet<&str> = found
                .iter()
                .map(|o| o.id.as_str())
                .chain(links.iter().map(|l| l.hubspot_id.as_str()))
                .collect();
            let gone = chunk
                .iter()
                .filter(|id| !known.contains(id.as_str()))
                .count();
            if gone > 0 {
                tracing::debug!(object = %self.object(), gone, "webhook records no longer in HubSpot and never linked: skipped");
            }
            let mut t = if found.is_empty() && links.is_empty() {
                Default::default()
            } else {
                self.batch(vec![], found, links, &[]).await?
            };
            t.skipped += gone as u64;
            progress.done += chunk.len() as u64;
            add(&mut progress.tally, t);
            on_progress(*progress);
        }
        Ok(())
    }
}
