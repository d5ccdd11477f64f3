//! The simulated portal's records: per object, in id order, with HubSpot's
//! bookkeeping (ids, `createdate`, last-modified, `hs_object_id`) and its
//! write rules (unknown and read-only properties refused, emails validated,
//! normalised and unique).

mod json;
mod writes;

pub use writes::{WriteProblem, clean};

use super::index::{ByModified, Searches};
use super::properties;
use crate::model::{ObjectKind, email_key};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone)]
pub struct Rec {
    pub id: u64,
    pub props: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub archived: bool,
    /// Every value each property has had, oldest first, for
    /// `propertiesWithHistory`.
    pub history: BTreeMap<String, Vec<Stamp>>,
}

/// One value a property took, when, and from whom.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub value: String,
    pub at: DateTime<Utc>,
    pub source: ChangeSource,
}

/// Finds a record by id, or by the value of a unique property
/// (`idProperty=email` for contacts).
pub fn lookup<'a>(
    data: &'a Data,
    object: ObjectKind,
    id: &str,
    id_property: Option<&str>,
) -> Result<Option<&'a Rec>, super::errors::ApiError> {
    match id_property {
        Some("hs_object_id") | None => Ok(data.get(object, id)),
        Some(p) if properties::is_unique(object, p) => Ok(data.by_unique(object, p, id)),
        Some(other) => Err(not_unique(object, other)),
    }
}

/// The 400 for an `idProperty` HubSpot cannot find records by.
pub fn not_unique(object: ObjectKind, name: &str) -> super::errors::ApiError {
    super::errors::ApiError::validation(not_unique_message(object, name))
}

pub fn not_unique_message(object: ObjectKind, name: &str) -> String {
    let what = if !properties::exists(object, name) {
        "does not exist"
    } else if properties::is_unique(object, name) {
        "is read-only"
    } else {
        "is not a property whose values are unique"
    };
    format!(
        "idProperty {name} {what} for {object}; unique properties: {}",
        properties::writable_unique(object).join(", ")
    )
}

#[derive(Debug, Default)]
pub struct Table {
    pub records: BTreeMap<u64, Rec>,
    /// email key → contact id, live contacts only.
    emails: HashMap<String, u64>,
    /// Records merged away → the record they were merged into.
    merged_into: HashMap<u64, u64>,
    /// Live records by last-modified stamp, for search.
    pub(super) modified: ByModified,
    /// Recent searches' hits, until the next write.
    pub(super) searches: Searches,
}

/// Who made a change, as webhook events report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSource {
    /// A write through the API (an integration, such as hubsync).
    Integration,
    /// A person in HubSpot's UI.
    CrmUi,
    /// A write through the API by another app installed in the portal
    /// (its own token): not hubsync's echo.
    OtherIntegration,
}

/// Who the change being made is from: a person when the caller says so
/// (`source`), else the app whose token the request presented.
fn writer(source: ChangeSource) -> ChangeSource {
    match source {
        ChangeSource::CrmUi => ChangeSource::CrmUi,
        s => WRITER.try_with(|w| *w).unwrap_or(s),
    }
}

tokio::task_local! {
    /// Who the request being answered writes as, set by the gate from the
    /// token it presented.
    pub static WRITER: ChangeSource;
}

impl ChangeSource {
    /// The `sourceType` a property's history names.
    pub fn source_type(self) -> &'static str {
        match self {
            ChangeSource::Integration | ChangeSource::OtherIntegration => "INTEGRATION",
            ChangeSource::CrmUi => "CRM_UI",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    Creation,
    Deletion,
    /// `merged` was merged into this record.
    Merge {
        merged: u64,
    },
    Property {
        name: String,
        value: String,
    },
}

/// One change to a record, for webhook delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub object: ObjectKind,
    pub id: u64,
    pub kind: ChangeKind,
    pub at: DateTime<Utc>,
    pub source: ChangeSource,
}

#[derive(Debug)]
pub struct Data {
    tables: HashMap<ObjectKind, Table>,
    next_id: u64,
    /// Changes waiting for webhook delivery; `None` when nobody listens.
    outbox: Option<Vec<Change>>,
    source: ChangeSource,
    /// Properties archived through the properties API.
    pub archived_properties: properties::Archived,
}

impl Default for Data {
    fn default() -> Self {
        Data {
            tables: HashMap::new(),
            next_id: 1001,
            outbox: None,
            source: ChangeSource::Integration,
            archived_properties: properties::Archived::default(),
        }
    }
}

impl Data {
    pub fn table(&self, object: ObjectKind) -> Option<&Table> {
        self.tables.get(&object)
    }

    pub(super) fn table_mut(&mut self, object: ObjectKind) -> &mut Table {
        self.tables.entry(object).or_default()
    }

    pub fn live(&self, object: ObjectKind) -> impl Iterator<Item = &Rec> {
        self.table(object)
            .into_iter()
            .flat_map(|t| t.records.values())
            .filter(|r| !r.archived)
    }

    /// A live record by id. The id of a record merged away leads to the
    /// record it was merged into, as HubSpot's reads do.
    pub fn get(&self, object: ObjectKind, id: &str) -> Option<&Rec> {
        let mut id: u64 = id.parse().ok()?;
        let t = self.table(object)?;
        for _ in 0..16 {
            match t.merged_into.get(&id) {
                Some(next) => id = *next,
                None => break,
            }
        }
        t.records.get(&id).filter(|r| !r.archived)
    }

    /// A live record by the value of a unique property.
    pub fn by_unique(&self, object: ObjectKind, name: &str, value: &str) -> Option<&Rec> {
        if object == ObjectKind::Contacts && name == "email" {
            return self.by_email(value);
        }
        if name == "hs_object_id" {
            return self.get(object, value);
        }
        self.live(object)
            .find(|r| r.props.get(name).is_some_and(|v| v == value))
    }

    pub fn by_email(&self, email: &str) -> Option<&Rec> {
        let t = self.table(ObjectKind::Contacts)?;
        t.emails
            .get(&email_key(email))
            .and_then(|id| t.records.get(id))
    }

    /// Starts collecting changes for webhook delivery.
    pub fn collect_changes(&mut self) {
        self.outbox.get_or_insert_with(Vec::new);
    }

    /// Takes the changes collected so far.
    pub fn take_changes(&mut self) -> Vec<Change> {
        self.outbox.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Who the next writes are attributed to in webhook events.
    pub fn attribute(&mut self, source: ChangeSource) {
        self.source = source;
    }
}
