//! The planner: given records of both sides, their links and the object's
//! mapping and rules, decide what to do with each record. Pure: no I/O, no
//! clock, so every rule of SPEC §2 it implements is tested here, record by
//! record.
//!
//! The order follows SPEC §2's pass: unlink links whose other side is gone,
//! then match-or-create the unlinked (app records first, then HubSpot's),
//! then update linked pairs field by field.
//!
//! Each link remembers, per HubSpot property, the value both sides last held
//! (its *memory*). A side whose value differs from the memory changed; one
//! whose value equals it did not. That is what makes field-level merge
//! possible, and what stops an echo: a value the engine wrote comes back
//! equal to the memory, so it is not a change and is not written back.

mod companies;
mod keys;
mod merge;
mod records;

pub use merge::{merge, merge_changes};
pub(crate) use records::plan_records;

use super::mapping::ObjectMapping;
use super::rules::SyncRules;
use crate::appdb::AppRecord;
use crate::hubspot::wire::SimplePublicObject;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A link as the state store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Link {
    pub app_id: String,
    pub hubspot_id: String,
    /// HubSpot property → the value both sides held after the last sync.
    pub memory: BTreeMap<String, String>,
    /// Values sent to HubSpot whose confirmation never arrived (a crash
    /// between the write and remembering it); settled before planning.
    pub pending: BTreeMap<String, String>,
}

/// What a linked pair needs written, each side's half separately, so that
/// one side failing does not undo what the other side took.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Writes {
    /// HubSpot property → value.
    pub to_hubspot: BTreeMap<String, String>,
    /// App column → value.
    pub to_app: BTreeMap<String, String>,
    /// The link's memory with what is already equal on both sides.
    pub memory: BTreeMap<String, String>,
    /// The HubSpot-shaped values behind `to_app`, remembered once the app
    /// write lands.
    pub to_app_memory: BTreeMap<String, String>,
}

impl Writes {
    pub fn is_empty(&self) -> bool {
        self.to_hubspot.is_empty() && self.to_app.is_empty()
    }

    /// The memory once every write landed.
    pub fn memory_after(&self) -> BTreeMap<String, String> {
        let mut m = self.memory.clone();
        m.extend(self.to_hubspot.clone());
        m.extend(self.to_app_memory.clone());
        m
    }
}

/// Why a link is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// The HubSpot record no longer exists (deleted, archived, merged away
    /// into a record another app record holds).
    HubSpot,
    /// The app record was deleted.
    App,
}

/// What to do with one record or pair.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// One side of a link is gone: drop the link, keep the other record.
    Unlink {
        app_id: String,
        hubspot_id: String,
        gone: Gone,
    },
    /// The linked HubSpot record was merged into another one that no app
    /// record holds: follow the survivor instead of unlinking (SPEC §2).
    Relink {
        app_id: String,
        from: String,
        hubspot_id: String,
        writes: Writes,
    },
    /// Two unlinked records share a key: link them instead of creating a
    /// duplicate, then write `writes` (may be empty).
    Link {
        app_id: String,
        hubspot_id: String,
        writes: Writes,
    },
    /// Nothing in HubSpot matches the app record: create it.
    CreateInHubSpot {
        app_id: String,
        /// The non-empty values to send.
        properties: BTreeMap<String, String>,
        /// The new link's memory (empty values included).
        memory: BTreeMap<String, String>,
    },
    /// Nothing in the app matches the HubSpot record: create it there.
    CreateInApp {
        hubspot_id: String,
        /// App column → value.
        values: BTreeMap<String, String>,
        /// The new link's memory.
        memory: BTreeMap<String, String>,
    },
    /// Linked and changed (or only the memory is behind): write exactly this.
    Update {
        app_id: String,
        hubspot_id: String,
        writes: Writes,
    },
    /// Nothing will be written, and why.
    Skip {
        app_id: Option<String>,
        hubspot_id: Option<String>,
        reason: String,
    },
    /// The app record shares its key with another app record, so one
    /// HubSpot record would have to hold both: nothing is written, and it
    /// fails (`DUPLICATE_KEY`) so an operator sees it and can retry once
    /// the app is fixed.
    DuplicateKey {
        app_id: String,
        /// The app record that holds the key (or its HubSpot record).
        other: String,
        hubspot_id: Option<String>,
        reason: String,
    },
    /// Linked and already equal on both sides. The planner never emits this
    /// for a pass (a pass in step plans nothing); a single-record retry adds
    /// it so the operator sees an outcome.
    InStep { app_id: String, hubspot_id: String },
}

impl Decision {
    /// The app record this decision is about, if it has one yet.
    pub fn app_id(&self) -> Option<&str> {
        match self {
            Decision::Unlink { app_id, .. }
            | Decision::Link { app_id, .. }
            | Decision::Relink { app_id, .. }
            | Decision::CreateInHubSpot { app_id, .. }
            | Decision::Update { app_id, .. }
            | Decision::InStep { app_id, .. }
            | Decision::DuplicateKey { app_id, .. } => Some(app_id),
            Decision::Skip { app_id, .. } => app_id.as_deref(),
            Decision::CreateInApp { .. } => None,
        }
    }

    /// The HubSpot record this decision is about, if it has one yet.
    pub fn hubspot_id(&self) -> Option<&str> {
        match self {
            Decision::Unlink { hubspot_id, .. }
            | Decision::Link { hubspot_id, .. }
            | Decision::Relink { hubspot_id, .. }
            | Decision::CreateInApp { hubspot_id, .. }
            | Decision::Update { hubspot_id, .. }
            | Decision::InStep { hubspot_id, .. } => Some(hubspot_id),
            Decision::Skip { hubspot_id, .. } | Decision::DuplicateKey { hubspot_id, .. } => {
                hubspot_id.as_deref()
            }
            Decision::CreateInHubSpot { .. } => None,
        }
    }
}

/// Everything the planner needs for one batch, already read.
pub struct PlanInput<'a> {
    pub mapping: &'a ObjectMapping,
    pub rules: &'a SyncRules,
    /// Links to reconcile. Both sides of each were read: a side missing
    /// from `app` or `hubspot` no longer exists.
    pub pairs: &'a [Link],
    /// App records to match or create, in feed order.
    pub unlinked_app: &'a [String],
    /// HubSpot records to match or create, in feed order.
    pub unlinked_hubspot: &'a [String],
    /// Every app record read, by id: the pairs' and the unlinked records,
    /// and candidates found by key.
    pub app: &'a HashMap<String, AppRecord>,
    /// Every HubSpot record read, by id, likewise.
    pub hubspot: &'a HashMap<String, SimplePublicObject>,
    /// The links of every record read (app id → HubSpot id), so a record
    /// linked elsewhere is never matched again.
    pub app_links: &'a HashMap<String, String>,
    /// The same links from HubSpot's side (HubSpot id → app id).
    pub hubspot_links: &'a HashMap<String, String>,
    /// HubSpot records whose app record was deleted: not created again.
    pub tombstones: &'a HashSet<String>,
    /// HubSpot ids merged away → the surviving id (read by the old id).
    pub merged: &'a HashMap<String, String>,
    /// Contacts with a company column: their company associations and the
    /// company links, read for this batch.
    pub companies: Option<CompanyLinks<'a>>,
}

/// What the planner needs to keep a contact's company in step.
#[derive(Clone, Copy)]
pub struct CompanyLinks<'a> {
    /// HubSpot contact id → its associated HubSpot company ids.
    pub associations: &'a HashMap<String, Vec<String>>,
    /// App company id → HubSpot company id, for linked companies.
    pub by_app: &'a HashMap<String, String>,
    /// HubSpot company id → app company id.
    pub by_hubspot: &'a HashMap<String, String>,
}
pub fn plan(input: &PlanInput<'_>) -> Vec<Decision> {
    match (&input.mapping.company_column, input.companies) {
        (Some(column), Some(c)) => companies::plan_with_companies(input, column, c),
        _ => plan_records(input),
    }
}

#[cfg(test)]
mod tests;
