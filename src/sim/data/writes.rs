//! HubSpot's write rules for the simulated records: unknown and read-only
//! properties refused, emails validated, normalised and unique; creates,
//! updates, archives and merges, each recorded for webhook delivery.

use super::{Change, ChangeKind, Data, Rec, Stamp, Table, writer};
use crate::model::{ObjectKind, email_key};
use crate::sim::errors::PropertyProblem;
use crate::sim::properties;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

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

impl From<WriteProblem> for crate::sim::errors::ApiError {
    /// The whole-request answer HubSpot gives for this problem.
    fn from(p: WriteProblem) -> Self {
        use crate::sim::errors::ApiError;
        match p {
            WriteProblem::Invalid(p) => crate::sim::errors::invalid_properties(&p),
            WriteProblem::Conflict(id) => ApiError::new(
                axum::http::StatusCode::CONFLICT,
                "CONFLICT",
                format!("Contact already exists. Existing ID: {id}"),
            ),
            WriteProblem::NotFound(id) => ApiError::not_found(&id),
        }
    }
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

impl Data {
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
}
