//! What applying a config change records: every linked record that the
//! running filters admitted and the new ones exclude gets a SKIPPED entry
//! naming the filter, on each side, so nobody wonders why it stopped
//! syncing.
//!
//! The to-HubSpot side judges the app row as it is now. The to-app side
//! judges HubSpot's values as the link memory holds them (what HubSpot had
//! at the last sync): asking HubSpot for every linked record would spend
//! the rate budget on an audit, and the memory is what the sync compared
//! last. A record HubSpot changed since is judged again by the next poll.

use super::Engine;
use super::preview::{memory_object, reading_both};
use crate::appdb::AppRecord;
use crate::model::{Direction, ObjectKind};
use crate::status::{AuditAction, AuditStatus};
use crate::store::NewAudit;
use crate::sync::plan::Link;
use crate::sync::rules::ObjectSync;
use std::collections::BTreeMap;

/// Links read per page while walking them.
const LINK_PAGE: usize = 500;

impl Engine {
    /// After a change is applied: the SKIPPED entries for the linked
    /// records `new` excludes and `old` did not, in both directions.
    /// Returns how many were written.
    pub async fn audit_newly_excluded(
        &self,
        old: &[ObjectSync],
        new: &[ObjectSync],
        operator: Option<&str>,
    ) -> anyhow::Result<u64> {
        let mut n_skipped = 0;
        for n in new {
            let kind = n.mapping.object;
            let Some(o) = old.iter().find(|o| o.mapping.object == kind) else {
                continue;
            };
            let to_hubspot = o.rules.filters_to_hubspot != n.rules.filters_to_hubspot
                && n.rules.flows(Direction::ToHubSpot);
            let to_app =
                o.rules.filters_to_app != n.rules.filters_to_app && n.rules.flows(Direction::ToApp);
            if !to_hubspot && !to_app {
                continue;
            }
            let m = reading_both(&n.mapping, Some(&o.mapping));
            let mut after = String::new();
            loop {
                let links = self.store.links_after(kind, &after, LINK_PAGE).await?;
                let Some(last) = links.last() else { break };
                after = last.app_id.clone();
                let ids: Vec<String> = links.iter().map(|l| l.app_id.clone()).collect();
                let rows: BTreeMap<String, AppRecord> = self
                    .app
                    .get_many(&m, &ids)
                    .await?
                    .into_iter()
                    .map(|r| (r.id.clone(), r))
                    .collect();
                for l in &links {
                    let row = rows.get(&l.app_id);
                    let mut skipped = Vec::new();
                    if to_hubspot && let Some(row) = row {
                        let get = |c: &str| row.field(c);
                        if o.rules.filters_to_hubspot.matches(get)
                            && let Err(why) = n.rules.filters_to_hubspot.check(get)
                        {
                            skipped.push((Direction::ToHubSpot, why.to_string()));
                        }
                    }
                    if to_app {
                        // As the sync reads HubSpot: an empty value is none.
                        let hs = memory_object(&l.hubspot_id, &l.memory);
                        let get = |p: &str| hs.prop(p).filter(|v| !v.is_empty());
                        if o.rules.filters_to_app.matches(get)
                            && let Err(why) = n.rules.filters_to_app.check(get)
                        {
                            skipped.push((
                                Direction::ToApp,
                                format!("{why} (HubSpot's value at the last sync)"),
                            ));
                        }
                    }
                    for (direction, why) in skipped {
                        self.record_excluded(kind, n, l, row, direction, &why, operator)
                            .await?;
                        n_skipped += 1;
                    }
                }
            }
        }
        Ok(n_skipped)
    }

    #[allow(clippy::too_many_arguments)]
    async fn record_excluded(
        &self,
        kind: ObjectKind,
        n: &ObjectSync,
        link: &Link,
        row: Option<&AppRecord>,
        direction: Direction,
        why: &str,
        operator: Option<&str>,
    ) -> anyhow::Result<()> {
        let label = match row {
            Some(r) => n.mapping.label_of(r),
            None => n
                .mapping
                .hubspot_label(&memory_object(&link.hubspot_id, &link.memory)),
        };
        self.store
            .record(&NewAudit {
                job_id: 0,
                object: kind,
                direction,
                app_id: link.app_id.clone(),
                hubspot_id: Some(link.hubspot_id.clone()),
                action: AuditAction::Skip,
                status: AuditStatus::Skipped,
                category: Some("CONFIG_CHANGE".into()),
                message: Some(format!(
                    "{why}, since a config change{}",
                    operator.map(|u| format!(" by {u}")).unwrap_or_default()
                )),
                diff: None,
                label,
            })
            .await?;
        Ok(())
    }
}
