//! The simulated portal's records: per object, in id order, with HubSpot's
//! bookkeeping (ids, `createdate`, last-modified, `hs_object_id`) and its
//! write rules (unknown and read-only properties refused, emails validated,
//! normalised and unique).

use super::errors::PropertyProblem;
use super::index::{ByModified, Searches};
use super::properties;
use crate::model::{ObjectKind, email_key};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
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

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A value as HubSpot shows it: date-times are kept as epoch milliseconds
/// (what search filters compare) but read back as ISO 8601 strings, as
/// HubSpot's answers show `createdate` and `lastmodifieddate`.
fn shown(object: ObjectKind, name: &str, v: &str) -> String {
    match (properties::kind_of(object, name), v.parse::<i64>()) {
        (Some("datetime"), Ok(ms)) => {
            chrono::DateTime::from_timestamp_millis(ms).map_or_else(|| v.to_string(), iso)
        }
        _ => v.to_string(),
    }
}

impl Rec {
    /// The record as HubSpot returns it. `requested` names the properties
    /// asked for (missing ones come back `null`); `None` means the defaults.
    pub fn to_json(&self, object: ObjectKind, requested: Option<&[String]>) -> Value {
        let mut props = Map::new();
        match requested {
            Some(names) if !names.is_empty() => {
                // "If any of the specified properties are not present on the
                // requested object(s), they will be ignored" (spec).
                for n in names.iter().filter(|n| properties::exists(object, n)) {
                    props.insert(
                        n.clone(),
                        self.props
                            .get(n)
                            .map_or(Value::Null, |v| json!(shown(object, n, v))),
                    );
                }
            }
            _ => {
                for n in properties::defaults(object) {
                    if let Some(v) = self.props.get(*n) {
                        props.insert(n.to_string(), json!(shown(object, n, v)));
                    }
                }
            }
        }
        // hs_object_id always comes back, as HubSpot does.
        props.insert("hs_object_id".into(), json!(self.id.to_string()));
        let mut o = json!({
            "id": self.id.to_string(),
            "properties": props,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
            "archived": self.archived,
        });
        if self.archived {
            o["archivedAt"] = json!(iso(self.updated_at));
        }
        o
    }

    /// `propertiesWithHistory` for the named properties: each one's values,
    /// newest first, as `ValueWithTimestamp`s. Names the object lacks are
    /// ignored, as for `properties`.
    pub fn history_json(&self, names: &[String]) -> Value {
        let mut out = Map::new();
        for n in names {
            let Some(stamps) = self.history.get(n) else {
                continue;
            };
            let list: Vec<Value> = stamps
                .iter()
                .rev()
                .map(|s| {
                    json!({
                        "value": s.value,
                        "timestamp": iso(s.at),
                        "sourceType": s.source.source_type(),
                    })
                })
                .collect();
            out.insert(n.clone(), Value::Array(list));
        }
        Value::Object(out)
    }
}

impl From<WriteProblem> for super::errors::ApiError {
    /// The whole-request answer HubSpot gives for this problem.
    fn from(p: WriteProblem) -> Self {
        use super::errors::ApiError;
        match p {
            WriteProblem::Invalid(p) => super::errors::invalid_properties(&p),
            WriteProblem::Conflict(id) => ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "CONFLICT",
                format!("Contact already exists. Existing ID: {id}"),
            ),
            WriteProblem::NotFound(id) => ApiError::not_found(&id),
        }
    }
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

/// Property values from a request; `null` clears, like `""`.
pub fn clean(props: BTreeMap<String, Option<String>>) -> BTreeMap<String, String> {
    props
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect()
}

/// A write refused for one input.
#[derive(Debug, Clone)]
pub enum WriteProblem {
    Invalid(Vec<PropertyProblem>),
    /// The email belongs to another contact (its id).
    Conflict(u64),
    NotFound(String),
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

/// HubSpot's idea of a valid email, near enough: one `@`, a local part, a
/// dotted domain ending in an alphabetic top-level domain, no blanks.
pub fn valid_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else {
        return false;
    };
    if local.is_empty() || domain.contains('@') || e.chars().any(char::is_whitespace) {
        return false;
    }
    let Some((host, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    !host.is_empty()
        && !host.starts_with('.')
        && !host.contains("..")
        && tld.len() >= 2
        && tld.chars().all(|c| c.is_ascii_alphabetic())
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

    /// Merges `merged` into `primary`: the primary keeps its values and
    /// takes the merged one's where it has none; the merged record's id and
    /// email lead to the primary from now on.
    pub fn merge(
        &mut self,
        object: ObjectKind,
        primary: u64,
        merged: u64,
        now: DateTime<Utc>,
    ) -> Result<Rec, String> {
        if primary == merged {
            return Err("primaryObjectId and objectIdToMerge are the same record".into());
        }
        let lm = properties::last_modified(object);
        let t = self.table_mut(object);
        let live = |t: &Table, id: u64| t.records.get(&id).is_some_and(|r| !r.archived);
        if !live(t, primary) || !live(t, merged) {
            return Err(format!("both records must exist: {primary} and {merged}"));
        }
        t.searches.forget();
        let from = t.records.get_mut(&merged).map(|r| {
            r.archived = true;
            r.updated_at = now;
            r.props.clone()
        });
        let from = from.unwrap_or_default();
        t.modified.remove(merged, from.get(lm).map(String::as_str));
        t.merged_into.insert(merged, primary);
        if let Some(e) = from.get("email").filter(|e| !e.is_empty()) {
            t.emails.insert(email_key(e), primary);
        }
        let rec = t.records.get_mut(&primary).expect("checked live above");
        let reserved = [
            "email",
            "createdate",
            "hs_object_id",
            lm,
            "hs_merged_object_ids",
            "hs_additional_emails",
        ];
        for (k, v) in &from {
            if !reserved.contains(&k.as_str()) && rec.props.get(k).is_none_or(|x| x.is_empty()) {
                rec.props.insert(k.clone(), v.clone());
            }
        }
        let append = |old: Option<&String>, add: &str| match old.filter(|o| !o.is_empty()) {
            Some(o) => format!("{o};{add}"),
            None => add.to_string(),
        };
        let ids = append(rec.props.get("hs_merged_object_ids"), &merged.to_string());
        rec.props.insert("hs_merged_object_ids".into(), ids);
        if let Some(e) = from.get("email").filter(|e| !e.is_empty()) {
            let emails = append(rec.props.get("hs_additional_emails"), e);
            rec.props.insert("hs_additional_emails".into(), emails);
        }
        rec.updated_at = now;
        let old = rec
            .props
            .insert(lm.into(), now.timestamp_millis().to_string());
        t.modified.remove(primary, old.as_deref());
        t.modified
            .insert(primary, rec.props.get(lm).map(String::as_str));
        let rec = rec.clone();
        if let Some(out) = self.outbox.as_mut() {
            out.push(Change {
                object,
                id: primary,
                kind: ChangeKind::Merge { merged },
                at: now,
                source: writer(self.source),
            });
        }
        Ok(rec)
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

    /// Checks one input's properties; normalises emails in place.
    pub fn validate(
        &self,
        object: ObjectKind,
        props: &mut BTreeMap<String, String>,
        self_id: Option<u64>,
    ) -> Result<(), WriteProblem> {
        let mut problems = Vec::new();
        for (name, value) in props.iter_mut() {
            let writable = properties::writable(object, name)
                .filter(|_| !self.archived_properties.has(object, name));
            match writable {
                None => problems.push(PropertyProblem {
                    name: name.clone(),
                    code: "PROPERTY_DOESNT_EXIST",
                    message: format!("Property \"{name}\" does not exist"),
                }),
                Some(false) => problems.push(PropertyProblem {
                    name: name.clone(),
                    code: "READ_ONLY_VALUE",
                    message: format!(
                        "\"{name}\" is a read only property; its value cannot be set."
                    ),
                }),
                Some(true) => {}
            }
            if object == ObjectKind::Contacts && name == "email" && !value.is_empty() {
                let v = value.trim().to_lowercase();
                if !valid_email(&v) {
                    problems.push(PropertyProblem {
                        name: "email".into(),
                        code: "INVALID_EMAIL",
                        message: format!("Email address {value} is invalid"),
                    });
                } else {
                    *value = v;
                }
            }
            if properties::kind_of(object, name) == Some("number")
                && !value.is_empty()
                && value.parse::<f64>().is_err()
            {
                problems.push(PropertyProblem {
                    name: name.clone(),
                    code: "INVALID_LONG",
                    message: format!("{value} was not a valid number."),
                });
            }
        }
        for (name, value) in props.iter() {
            let email = object == ObjectKind::Contacts && name == "email";
            if !email
                && !value.is_empty()
                && properties::is_unique(object, name)
                && let Some(other) = self
                    .by_unique(object, name, value)
                    .filter(|r| Some(r.id) != self_id)
            {
                problems.push(PropertyProblem {
                    name: name.clone(),
                    code: "CONFLICTING_UNIQUE_VALUE",
                    message: format!(
                        "{value} is already the {name} of {object} {}; its values must be unique",
                        other.id
                    ),
                });
            }
        }
        if !problems.is_empty() {
            return Err(WriteProblem::Invalid(problems));
        }
        if object == ObjectKind::Contacts
            && let Some(e) = props.get("email").filter(|e| !e.is_empty())
            && let Some(other) = self.by_email(e).filter(|r| Some(r.id) != self_id)
        {
            return Err(WriteProblem::Conflict(other.id));
        }
        Ok(())
    }

    /// Creates a record from validated properties.
    pub fn create(
        &mut self,
        object: ObjectKind,
        mut props: BTreeMap<String, String>,
        now: DateTime<Utc>,
    ) -> Rec {
        let id = self.next_id;
        self.next_id += 1;
        let ms = now.timestamp_millis().to_string();
        props.insert("createdate".into(), ms.clone());
        props.insert(properties::last_modified(object).into(), ms);
        props.insert("hs_object_id".into(), id.to_string());
        let source = writer(self.source);
        let history = props
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| {
                let stamp = Stamp {
                    value: v.clone(),
                    at: now,
                    source,
                };
                (k.clone(), vec![stamp])
            })
            .collect();
        let rec = Rec {
            id,
            props,
            created_at: now,
            updated_at: now,
            archived: false,
            history,
        };
        let t = self.table_mut(object);
        if object == ObjectKind::Contacts
            && let Some(e) = rec.props.get("email").filter(|e| !e.is_empty())
        {
            t.emails.insert(email_key(e), id);
        }
        t.modified.insert(
            id,
            rec.props
                .get(properties::last_modified(object))
                .map(String::as_str),
        );
        t.searches.forget();
        t.records.insert(id, rec.clone());
        if let Some(out) = self.outbox.as_mut() {
            out.push(Change {
                object,
                id,
                kind: ChangeKind::Creation,
                at: now,
                source: writer(self.source),
            });
        }
        rec
    }

    /// Writes validated properties to an existing record.
    pub fn update(
        &mut self,
        object: ObjectKind,
        id: u64,
        props: BTreeMap<String, String>,
        now: DateTime<Utc>,
    ) -> Option<Rec> {
        let source = writer(self.source);
        let t = self.table_mut(object);
        let rec = t.records.get_mut(&id).filter(|r| !r.archived)?;
        if object == ObjectKind::Contacts
            && let Some(new) = props.get("email")
        {
            if let Some(old) = rec.props.get("email") {
                t.emails.remove(&email_key(old));
            }
            if !new.is_empty() {
                t.emails.insert(email_key(new), id);
            }
        }
        let rec = t.records.get_mut(&id)?;
        let changed: Vec<(String, String)> = props
            .iter()
            .filter(|(k, v)| rec.props.get(*k) != Some(v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let lm = properties::last_modified(object);
        t.modified.remove(id, rec.props.get(lm).map(String::as_str));
        t.searches.forget();
        rec.props.extend(props);
        rec.updated_at = now;
        let stamp = now.timestamp_millis().to_string();
        rec.props.insert(lm.into(), stamp.clone());
        t.modified.insert(id, Some(&stamp));
        let last_modified = (lm.to_string(), stamp);
        for (name, value) in changed.iter().chain(std::iter::once(&last_modified)) {
            rec.history.entry(name.clone()).or_default().push(Stamp {
                value: value.clone(),
                at: now,
                source,
            });
        }
        let rec = rec.clone();
        if let Some(out) = self.outbox.as_mut() {
            for (name, value) in changed {
                out.push(Change {
                    object,
                    id,
                    kind: ChangeKind::Property { name, value },
                    at: now,
                    source: writer(self.source),
                });
            }
        }
        Some(rec)
    }

    /// Moves a record to the recycle bin. Returns false if there was none.
    pub fn archive(&mut self, object: ObjectKind, id: u64, now: DateTime<Utc>) -> bool {
        let t = self.table_mut(object);
        let Some(rec) = t.records.get_mut(&id).filter(|r| !r.archived) else {
            return false;
        };
        rec.archived = true;
        rec.updated_at = now;
        t.modified.remove(
            id,
            rec.props
                .get(properties::last_modified(object))
                .map(String::as_str),
        );
        t.searches.forget();
        if let Some(e) = rec.props.get("email") {
            let key = email_key(e);
            t.emails.remove(&key);
        }
        if let Some(out) = self.outbox.as_mut() {
            out.push(Change {
                object,
                id,
                kind: ChangeKind::Deletion,
                at: now,
                source: writer(self.source),
            });
        }
        true
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
