//! Any record, found and told whole, for an operator: `records_search`
//! (the link table, the app database and HubSpot), `record_view` (every
//! attempt, both sides live beside the link's memory, what changed, what
//! a sync would write now, why it is skipped) and `set_app_field` (an
//! operator's fix of one app value, audited). The control socket's
//! handlers call these; the types are the protocol's results.

mod edit;
mod search;
mod view;

use crate::model::ObjectKind;
use crate::status::AttemptView;
use crate::sync::compare::FieldState;
use crate::sync::rules::ObjectSync;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// How long a live read of one side may take before the view says that
/// side did not answer (the rest of the view is still shown).
pub const LIVE_READ: Duration = Duration::from_secs(3);

/// Attempts a record view lists, newest first.
pub const ATTEMPTS_SHOWN: usize = 100;

/// One record a search found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordHit {
    pub object: ObjectKind,
    pub app_id: Option<String>,
    pub hubspot_id: Option<String>,
    /// Its email (or other label), as the app or HubSpot holds it.
    pub label: String,
    pub linked: bool,
    /// Where it was found: `link`, `app`, `hubspot`.
    pub found_in: Vec<String>,
}

/// A search's answer: the records, and what could not be asked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordsFound {
    /// The query answered (trimmed), so a client typing fast can tell an
    /// answer to an earlier keystroke from the one to its latest.
    #[serde(default)]
    pub query: String,
    pub records: Vec<RecordHit>,
    /// A side that did not answer, e.g. "HubSpot did not answer in 3 s".
    #[serde(default)]
    pub notes: Vec<String>,
}

/// How one side's live read went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum SideRead {
    /// Read; `updated_at` as that side stamps it.
    Read { updated_at: Option<String> },
    /// Asked, and the record is not there.
    Missing,
    /// Not asked: no id on that side yet.
    Unknown,
    /// Did not answer in time or failed: why.
    Unavailable { error: String },
}

/// A filter that keeps the record from flowing one way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkipReason {
    /// `to_hubspot` (an app-side filter) or `to_app` (a HubSpot-side one).
    pub direction: crate::model::Direction,
    /// 1-based, when the object has several groups (ORed).
    pub group: usize,
    /// The field (app column or HubSpot property) the filter tests.
    pub field: String,
    /// The filter as the config writes it (`company is_none_of [Test, Internal]`).
    pub filter: String,
    /// The record's value (None: empty).
    pub value: Option<String>,
    /// `company = "Internal" is one of ["Test", "Internal"]`.
    pub explanation: String,
}

/// One decision of a dry plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedWrite {
    /// `update`, `create_in_hubspot`, `create_in_app`, `link`, `relink`,
    /// `unlink`, `skip`, `duplicate_key`, `in_step`.
    pub action: String,
    /// A sentence for the console.
    pub summary: String,
    /// HubSpot property → value it would write.
    #[serde(default)]
    pub to_hubspot: BTreeMap<String, String>,
    /// App column → value it would write.
    #[serde(default)]
    pub to_app: BTreeMap<String, String>,
    /// Why nothing is written (skip, duplicate key).
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a sync now would do, or why it could not be planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRun {
    pub planned: Vec<PlannedWrite>,
    /// Set when nothing could be planned (a side did not answer).
    #[serde(default)]
    pub error: Option<String>,
}

/// The link between the two records, with its memory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkView {
    pub app_id: String,
    pub hubspot_id: String,
    /// HubSpot property → the value both sides held at the last sync.
    pub memory: BTreeMap<String, String>,
}

/// One record's whole story (`record_view`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordView {
    pub object: ObjectKind,
    pub app_id: Option<String>,
    pub hubspot_id: Option<String>,
    pub label: String,
    pub link: Option<LinkView>,
    pub app: SideRead,
    pub hubspot: SideRead,
    /// Every mapped field: both sides now, the memory, what changed.
    pub fields: Vec<FieldState>,
    /// Attempts and edits, newest first (at most [`ATTEMPTS_SHOWN`]).
    pub attempts: Vec<AttemptView>,
    pub dry_run: DryRun,
    /// The filters that exclude the record, per direction.
    pub skipped_by: Vec<SkipReason>,
    /// The latest SKIPPED attempt's reason, when it was not a filter
    /// (e.g. creation is off, a tombstone).
    #[serde(default)]
    pub skip_reason: Option<String>,
}

/// What `set_app_field` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldEdited {
    /// The `edited` audit entry.
    pub audit_id: i64,
    pub old: Option<String>,
    pub new: String,
    pub notice: String,
}

/// The synced object's configuration, or a sentence naming the synced ones.
fn synced(engine: &super::Engine, object: ObjectKind) -> anyhow::Result<ObjectSync> {
    engine.object(object).ok_or_else(|| {
        let names: Vec<String> = engine
            .objects()
            .iter()
            .map(|o| o.mapping.object.to_string())
            .collect();
        anyhow::anyhow!(
            "{object} is not synced by this engine; it syncs {}",
            if names.is_empty() {
                "nothing".to_string()
            } else {
                names.join(", ")
            }
        )
    })
}

/// `f` within [`LIVE_READ`], or a sentence saying which side did not answer.
async fn live<T, E: std::fmt::Display>(
    side: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(LIVE_READ, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{side}: {e:#}")),
        Err(_) => Err(format!(
            "{side} did not answer in {} s",
            LIVE_READ.as_secs()
        )),
    }
}
