//! The events HubSpot POSTs to a webhook target: a JSON array of fewer than
//! 100 notifications. Field names follow HubSpot's payloads; the docs' table
//! calls `subscriptionType` `eventType`, so both are read.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent {
    #[serde(default)]
    pub event_id: Option<u64>,
    #[serde(default)]
    pub subscription_id: Option<u64>,
    #[serde(default)]
    pub portal_id: Option<u64>,
    #[serde(default)]
    pub app_id: Option<u64>,
    #[serde(default)]
    pub occurred_at: Option<i64>,
    #[serde(alias = "eventType")]
    pub subscription_type: String,
    #[serde(default)]
    pub attempt_number: Option<u32>,
    #[serde(default)]
    pub object_id: Option<u64>,
    #[serde(default)]
    pub property_name: Option<String>,
    #[serde(default)]
    pub property_value: Option<String>,
    #[serde(default)]
    pub change_source: Option<String>,
    #[serde(default)]
    pub source_id: Option<String>,
    #[serde(default)]
    pub change_flag: Option<String>,
    // Merge events.
    #[serde(default)]
    pub primary_object_id: Option<u64>,
    #[serde(default)]
    pub merged_object_ids: Option<Vec<u64>>,
    #[serde(default)]
    pub new_object_id: Option<u64>,
}

impl WebhookEvent {
    /// The object kind and action, e.g. ("contact", "propertyChange").
    pub fn kind(&self) -> (&str, &str) {
        self.subscription_type
            .split_once('.')
            .unwrap_or((self.subscription_type.as_str(), ""))
    }
}
