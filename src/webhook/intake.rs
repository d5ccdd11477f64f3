//! Webhook events into the job queue: each verified event names records
//! to sync, so a change in HubSpot reaches the app in seconds instead of at
//! the next poll. Events come in bursts (HubSpot sends up to 100 per
//! delivery, and a bulk edit sends thousands): whatever has arrived is
//! taken at once and handed over per object, each record once, and the
//! engine syncs them as one batched job (see `Engine::enqueue_webhooks`).
//!
//! An event caused by hubsync's own write is an echo: it is dropped here,
//! before it costs a read (the link memory would drop it later anyway).

use super::event::WebhookEvent;
use crate::engine::Engine;
use crate::model::ObjectKind;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Whether hubsync wrote the change this event reports: HubSpot names the
/// writing app in `sourceId`, and the subscription's app is ours.
pub fn is_own_echo(ev: &WebhookEvent) -> bool {
    ev.change_source.as_deref() == Some("INTEGRATION")
        && matches!((&ev.source_id, ev.app_id), (Some(s), Some(app)) if *s == app.to_string())
}

/// The records an event asks to sync: (object, HubSpot id).
pub fn records_of(ev: &WebhookEvent) -> Vec<(ObjectKind, String)> {
    let (object, action) = ev.kind();
    let Some(kind) = (match object {
        "contact" => Some(ObjectKind::Contacts),
        "company" => Some(ObjectKind::Companies),
        "deal" => Some(ObjectKind::Deals),
        _ => None,
    }) else {
        return vec![];
    };
    if is_own_echo(ev) {
        return vec![];
    }
    let mut ids: Vec<u64> = Vec::new();
    if action == "merge" {
        // The merged-away ids are what links point at; the survivor may be
        // linked too (or new).
        ids.extend(ev.merged_object_ids.iter().flatten());
        ids.extend(ev.primary_object_id);
        ids.extend(ev.new_object_id);
    } else {
        ids.extend(ev.object_id);
    }
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter().map(|id| (kind, id.to_string())).collect()
}

/// Most events taken as one burst.
const BURST: usize = 10_000;

/// Hands events' records to the engine until the channel closes or
/// `cancel`, a burst at a time.
pub async fn feed(
    engine: Arc<Engine>,
    mut events: mpsc::Receiver<WebhookEvent>,
    cancel: CancellationToken,
) {
    let mut burst = Vec::new();
    loop {
        let n = tokio::select! {
            _ = cancel.cancelled() => return,
            n = events.recv_many(&mut burst, BURST) => n,
        };
        if n == 0 {
            return;
        }
        for (object, ids) in coalesce(&burst) {
            if let Err(e) = engine.enqueue_webhooks(object, &ids).await {
                tracing::error!(%object, records = ids.len(), error = %format!("{e:#}"), "queueing webhook record syncs");
            }
        }
        burst.clear();
    }
}

/// The records a burst of events names, per object, each once.
pub fn coalesce(events: &[WebhookEvent]) -> BTreeMap<ObjectKind, Vec<String>> {
    let mut out: BTreeMap<ObjectKind, Vec<String>> = BTreeMap::new();
    for (object, id) in events.iter().flat_map(records_of) {
        out.entry(object).or_default().push(id);
    }
    for ids in out.values_mut() {
        ids.sort();
        ids.dedup();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: &str) -> WebhookEvent {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_property_change_asks_for_its_record() {
        let ev = event(
            r#"{"subscriptionType":"contact.propertyChange","objectId":501,"changeSource":"CRM_UI","appId":7}"#,
        );
        assert_eq!(records_of(&ev), vec![(ObjectKind::Contacts, "501".into())]);
    }

    #[test]
    fn a_change_written_by_this_app_is_an_echo_and_ignored() {
        let ev = event(
            r#"{"subscriptionType":"contact.propertyChange","objectId":501,"changeSource":"INTEGRATION","sourceId":"7","appId":7}"#,
        );
        assert!(records_of(&ev).is_empty());
    }

    #[test]
    fn a_change_written_by_another_integration_is_synced() {
        let ev = event(
            r#"{"subscriptionType":"company.propertyChange","objectId":9,"changeSource":"INTEGRATION","sourceId":"99","appId":7}"#,
        );
        assert_eq!(records_of(&ev), vec![(ObjectKind::Companies, "9".into())]);
    }

    #[test]
    fn a_merge_asks_for_the_merged_records_and_the_survivor() {
        let ev = event(
            r#"{"subscriptionType":"contact.merge","primaryObjectId":5,"mergedObjectIds":[3,4],"newObjectId":5}"#,
        );
        let ids: Vec<String> = records_of(&ev).into_iter().map(|(_, i)| i).collect();
        assert_eq!(ids, ["3", "4", "5"]);
    }

    #[test]
    fn a_burst_names_each_record_once_per_object() {
        let evs: Vec<WebhookEvent> = [
            r#"{"subscriptionType":"contact.propertyChange","objectId":5}"#,
            r#"{"subscriptionType":"contact.propertyChange","objectId":5}"#,
            r#"{"subscriptionType":"contact.creation","objectId":6}"#,
            r#"{"subscriptionType":"company.propertyChange","objectId":5}"#,
        ]
        .into_iter()
        .map(event)
        .collect();
        let got = coalesce(&evs);
        assert_eq!(got[&ObjectKind::Contacts], ["5", "6"]);
        assert_eq!(got[&ObjectKind::Companies], ["5"]);
    }

    #[test]
    fn events_of_other_objects_are_ignored() {
        let ev = event(r#"{"subscriptionType":"ticket.creation","objectId":1}"#);
        assert!(records_of(&ev).is_empty());
    }
}
