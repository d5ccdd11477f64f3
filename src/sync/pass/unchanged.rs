//! Linked app rows the app's change feed can pass over without a call:
//! their mapped values are what the link remembers both sides held, so
//! there is nothing of the app's to send. Any change on HubSpot's side
//! comes through HubSpot's own feed. Without this, every linked row the
//! feed meets costs a read of its HubSpot partner by id — 500 calls after
//! a backfill that linked 50,000 records, for nothing to write.

use crate::appdb::AppRecord;
use crate::sync::mapping::{ObjectMapping, same_values};
use crate::sync::plan::Link;
use crate::sync::rules::SyncRules;

/// Whether `app`, linked by `link`, holds nothing HubSpot lacks. Only
/// where the plan could not find more to do: no write awaiting
/// confirmation, the HubSpot id on the row, no company association
/// (remembered apart from the fields) and no filter (whose columns the
/// memory does not hold).
pub(super) fn app_unchanged(
    m: &ObjectMapping,
    rules: &SyncRules,
    app: &AppRecord,
    link: &Link,
) -> bool {
    if !link.pending.is_empty()
        || app.hubspot_id.as_deref() != Some(link.hubspot_id.as_str())
        || m.company_column.is_some()
        || !rules.filters_to_hubspot.is_empty()
    {
        return false;
    }
    // Every field, whichever way it flows: an app edit of a field HubSpot
    // owns is news too (HubSpot's value is written back over it).
    m.fields.iter().all(|f| {
        let now = f.hubspot_from_app(app);
        let before: Option<Vec<String>> = f
            .hubspot_properties
            .iter()
            .map(|p| link.memory.get(p).cloned())
            .collect();
        match before {
            Some(b) => same_values(&b, &now),
            // Never remembered: only an empty value is no news.
            None => now.iter().all(|v| v.trim().is_empty()),
        }
    })
}
