//! Webhook delivery, as HubSpot does it: changes to records are gathered,
//! sent in batches of fewer than 100 events as a JSON array POSTed to the
//! app's target URL, signed (v1 and v3 headers), and retried with growing,
//! jittered delays on a connection failure, a 4xx or 5xx, or an answer
//! slower than five seconds, up to ten attempts.

use super::SimState;
use super::data::{Change, ChangeKind, ChangeSource};
use crate::model::ObjectKind;
use crate::webhook::signature;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::oneshot;

/// Where and how the simulated portal delivers webhooks.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    pub url: String,
    pub client_secret: String,
    pub app_id: u64,
    /// Attempts per batch, the first included (HubSpot: 10).
    pub max_attempts: u32,
    /// Delay before the first retry; doubles each time (HubSpot spreads ten
    /// attempts over a day; tests use milliseconds).
    pub retry_base: Duration,
    /// How often gathered changes are sent.
    pub batch_every: Duration,
}

impl WebhookTarget {
    pub fn new(url: impl Into<String>, client_secret: impl Into<String>) -> Self {
        WebhookTarget {
            url: url.into(),
            client_secret: client_secret.into(),
            app_id: 1160452,
            max_attempts: 10,
            retry_base: Duration::from_secs(60),
            batch_every: Duration::from_millis(500),
        }
    }
}

/// Counts for tests: batches delivered, attempts made, batches given up.
#[derive(Debug, Default)]
pub struct DeliveryStats {
    pub delivered: AtomicU64,
    pub attempts: AtomicU64,
    pub abandoned: AtomicU64,
}

fn singular(object: ObjectKind) -> &'static str {
    match object {
        ObjectKind::Contacts => "contact",
        ObjectKind::Companies => "company",
        ObjectKind::Deals => "deal",
    }
}

fn event(c: &Change, event_id: u64, portal_id: u64, app_id: u64) -> Value {
    let (source, source_id) = match c.source {
        ChangeSource::Integration => ("INTEGRATION", format!("{app_id}")),
        ChangeSource::CrmUi => ("CRM_UI", "userId:1".to_string()),
        ChangeSource::OtherIntegration => ("INTEGRATION", super::OTHER_APP_ID.to_string()),
    };
    let mut e = json!({
        "eventId": event_id,
        "subscriptionId": 1,
        "portalId": portal_id,
        "appId": app_id,
        "occurredAt": c.at.timestamp_millis(),
        "objectId": c.id,
        "changeSource": source,
        "sourceId": source_id,
        "attemptNumber": 0,
    });
    match &c.kind {
        ChangeKind::Creation => {
            e["subscriptionType"] = json!(format!("{}.creation", singular(c.object)));
            e["changeFlag"] = json!("NEW");
        }
        ChangeKind::Deletion => {
            e["subscriptionType"] = json!(format!("{}.deletion", singular(c.object)));
        }
        ChangeKind::Merge { merged } => {
            e["subscriptionType"] = json!(format!("{}.merge", singular(c.object)));
            e["primaryObjectId"] = json!(c.id);
            e["mergedObjectIds"] = json!([merged]);
            e["newObjectId"] = json!(c.id);
        }
        ChangeKind::Property { name, value } => {
            e["subscriptionType"] = json!(format!("{}.propertyChange", singular(c.object)));
            e["propertyName"] = json!(name);
            e["propertyValue"] = json!(value);
        }
    }
    e
}

async fn deliver(
    http: reqwest::Client,
    target: WebhookTarget,
    mut events: Vec<Value>,
    stats: &DeliveryStats,
) {
    for attempt in 0..target.max_attempts {
        for e in &mut events {
            e["attemptNumber"] = json!(attempt);
        }
        let body = serde_json::to_vec(&events).unwrap_or_default();
        let ts = chrono::Utc::now().timestamp_millis().to_string();
        let v3 = signature::v3(&target.client_secret, "POST", &target.url, &body, &ts);
        let v1 = signature::v1(&target.client_secret, &body);
        stats.attempts.fetch_add(1, Ordering::Relaxed);
        let result = http
            .post(&target.url)
            .header("content-type", "application/json")
            .header("x-hubspot-signature", v1)
            .header("x-hubspot-signature-version", "v1")
            .header("x-hubspot-signature-v3", v3)
            .header("x-hubspot-request-timestamp", ts)
            .header("x-hubspot-timeout-millis", "5000")
            .body(body)
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        match result {
            Ok(r) if r.status().is_success() => {
                stats.delivered.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Ok(r) => tracing::info!(
                status = r.status().as_u16(),
                attempt,
                "webhook delivery refused; will retry"
            ),
            Err(e) => tracing::info!(error = %e, attempt, "webhook delivery failed; will retry"),
        }
        let delay = target.retry_base.saturating_mul(1 << attempt.min(16));
        tokio::time::sleep(delay.mul_f64(0.75 + rand::random::<f64>() * 0.5)).await;
    }
    stats.abandoned.fetch_add(1, Ordering::Relaxed);
    tracing::warn!(
        events = events.len(),
        "webhook batch abandoned after every attempt"
    );
}

/// Runs until `stop` fires: gathers changes and delivers them.
pub(crate) async fn run(state: SimState, target: WebhookTarget, mut stop: oneshot::Receiver<()>) {
    let http = reqwest::Client::new();
    let next_id = AtomicU64::new(1);
    let portal_id = state.settings().portal_id;
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(target.batch_every) => {}
        }
        let changes = state.data().take_changes();
        for chunk in changes.chunks(99) {
            let events: Vec<Value> = chunk
                .iter()
                .map(|c| {
                    event(
                        c,
                        next_id.fetch_add(1, Ordering::Relaxed),
                        portal_id,
                        target.app_id,
                    )
                })
                .collect();
            let (http, target, state) = (http.clone(), target.clone(), state.clone());
            // Batches are delivered side by side: a failing one waits out
            // its retries without holding back the next.
            tokio::spawn(async move { deliver(http, target, events, state.webhook_stats()).await });
        }
    }
}
