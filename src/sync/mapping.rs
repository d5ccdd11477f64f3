//! Which app columns line up with which HubSpot properties, which way each
//! field may flow, and how records of the two sides are matched.
//!
//! Values are compared in HubSpot's shape (see [`super::transform`]): a
//! field's app columns become its HubSpot values before any comparison.

use super::transform::{Transform, same_value};
use crate::appdb::AppRecord;
use crate::hubspot::wire::SimplePublicObject;
use crate::model::{Direction, ObjectKind, email_key};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// One mapped field: usually one column and one property; a name split or
/// join maps one to two.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMap {
    pub app_columns: Vec<String>,
    pub hubspot_properties: Vec<String>,
    /// Which way this field may flow (the object's direction narrows it).
    pub direction: Direction,
    pub transform: Transform,
    /// Written to HubSpot when the app has no value (required properties).
    pub default: Option<String>,
    /// Write only when the target is empty: never overwrite a value there.
    pub only_if_empty: bool,
}

impl FieldMap {
    /// A one-to-one field that flows both ways.
    pub fn simple(app: &str, hubspot: &str, transform: Transform) -> FieldMap {
        FieldMap {
            app_columns: vec![app.into()],
            hubspot_properties: vec![hubspot.into()],
            direction: Direction::Both,
            transform,
            default: None,
            only_if_empty: false,
        }
    }

    /// "first_name ↔ firstname", for messages and the console.
    pub fn label(&self) -> String {
        format!(
            "{} {} {}",
            self.app_columns.join("+"),
            self.direction.arrow(),
            self.hubspot_properties.join("+")
        )
    }

    /// Whether the field may flow this way (`ToHubSpot` or `ToApp`).
    pub fn flows(&self, way: Direction) -> bool {
        self.direction == Direction::Both || self.direction == way
    }

    /// What HubSpot should hold for this field, from the app record.
    pub fn hubspot_from_app(&self, r: &AppRecord) -> Vec<String> {
        let app: Vec<&str> = self
            .app_columns
            .iter()
            .map(|c| r.field(c).unwrap_or(""))
            .collect();
        let mut out = self.transform.to_hubspot(&app);
        if let Some(d) = &self.default
            && out.iter().all(|v| v.is_empty())
        {
            out = vec![d.clone(); out.len()];
        }
        out
    }

    /// The field's HubSpot-shaped app value, borrowed, when the transform
    /// leaves it as it is (one column, one property, no default in play):
    /// the common case, compared without allocating.
    pub fn app_value_as_is<'r>(&self, r: &'r AppRecord) -> Option<&'r str> {
        let [column] = self.app_columns.as_slice() else {
            return None;
        };
        if self.hubspot_properties.len() != 1 {
            return None;
        }
        let v = r.field(column).unwrap_or("");
        if v.is_empty() && self.default.is_some() {
            return None;
        }
        let plain = v.is_ascii();
        let trimmed = v.trim() == v;
        let lower = !v.bytes().any(|b| b.is_ascii_uppercase());
        let as_is = match self.transform {
            Transform::None => true,
            Transform::Trim => trimmed,
            Transform::Lowercase => plain && lower,
            Transform::LowercaseTrim => plain && lower && trimmed,
            _ => false,
        };
        as_is.then_some(v)
    }

    /// What HubSpot holds for this field.
    pub fn hubspot_values(&self, o: &SimplePublicObject) -> Vec<String> {
        self.hubspot_properties
            .iter()
            .map(|p| o.prop(p).unwrap_or("").to_string())
            .collect()
    }

    /// What the app should hold for this field, from HubSpot's values.
    pub fn app_from_hubspot(&self, hubspot: &[String]) -> Vec<String> {
        let v: Vec<&str> = hubspot.iter().map(String::as_str).collect();
        self.transform.to_app(&v)
    }
}

/// Two value lists hold the same values (see [`same_value`]).
pub fn same_values(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y))
}

fn owned(keys: Vec<(usize, Cow<'_, str>)>) -> Vec<(usize, String)> {
    keys.into_iter().map(|(i, k)| (i, k.into_owned())).collect()
}

/// A matching key: an app column and the HubSpot property holding the same
/// identity, compared trimmed and case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMap {
    pub app_column: String,
    pub hubspot_property: String,
}

/// How one object's app table lines up with HubSpot.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectMapping {
    pub object: ObjectKind,
    pub table: String,
    pub id_column: String,
    pub updated_at_column: String,
    /// Where the HubSpot id is written back.
    pub hubspot_id_column: String,
    /// Keys tried in order to match unlinked records (companies: domain,
    /// then name). Empty for deals, which only link by HubSpot id.
    pub keys: Vec<KeyMap>,
    pub fields: Vec<FieldMap>,
    /// The app column shown as the record's label in the console.
    pub label_column: String,
    /// Contacts: the app column holding the id of the contact's company
    /// row. It follows the contact's HubSpot company association and the
    /// reverse, once both companies are linked (SPEC §2).
    pub company_column: Option<String>,
    /// A unique HubSpot property that records created from the app carry
    /// the app id in. Unlinked app records are looked up by it first with a
    /// batch read, which (unlike search) sees a record the moment it is
    /// created: a crash right after a create cannot lead to a duplicate even
    /// for objects without a unique key (companies without a domain).
    pub app_id_property: Option<String>,
}

/// The virtual property that stands for a contact's company association in
/// the planner and in a link's memory. HubSpot property names cannot start
/// with `@`, so it never collides with a real one.
pub const COMPANY: &str = "@company";

/// A contact's other emails, `;`-separated (HubSpot keeps a merged
/// contact's email here).
pub const ADDITIONAL_EMAILS: &str = "hs_additional_emails";

/// A normalised matching key.
pub fn key_norm(v: &str) -> String {
    email_key(v)
}

/// [`key_norm`], borrowing a value already in normal form (the common
/// case: keys are mostly stored normalised).
pub fn key_norm_borrowed(v: &str) -> Cow<'_, str> {
    let normal = v.is_ascii() && v.trim() == v && !v.bytes().any(|b| b.is_ascii_uppercase());
    if normal {
        Cow::Borrowed(v)
    } else {
        Cow::Owned(key_norm(v))
    }
}

impl ObjectMapping {
    /// The contact mapping of the demo's app database.
    pub fn demo_contacts() -> Self {
        let f = FieldMap::simple;
        ObjectMapping {
            object: ObjectKind::Contacts,
            table: "contacts".into(),
            id_column: "id".into(),
            updated_at_column: "updated_at".into(),
            hubspot_id_column: "hubspot_id".into(),
            keys: vec![KeyMap {
                app_column: "email".into(),
                hubspot_property: "email".into(),
            }],
            fields: vec![
                f("email", "email", Transform::LowercaseTrim),
                f("first_name", "firstname", Transform::None),
                f("last_name", "lastname", Transform::None),
                f("phone", "phone", Transform::None),
                f("company", "company", Transform::None),
                f("job_title", "jobtitle", Transform::None),
            ],
            label_column: "email".into(),
            company_column: None,
            app_id_property: None,
        }
    }

    /// The app columns this mapping reads.
    pub fn app_columns(&self) -> Vec<&str> {
        let mut cols: Vec<&str> = Vec::new();
        let all = self
            .fields
            .iter()
            .flat_map(|f| f.app_columns.iter())
            .chain(self.keys.iter().map(|k| &k.app_column))
            .chain([&self.label_column])
            .chain(self.company_column.as_ref());
        for c in all {
            if !cols.contains(&c.as_str()) {
                cols.push(c);
            }
        }
        cols
    }

    /// The HubSpot properties to read for comparison and matching.
    pub fn hubspot_properties(&self) -> Vec<&str> {
        let mut props: Vec<&str> = Vec::new();
        let all = self
            .fields
            .iter()
            .flat_map(|f| f.hubspot_properties.iter())
            .chain(self.keys.iter().map(|k| &k.hubspot_property))
            .chain(self.app_id_property.as_ref());
        for p in all {
            if !props.contains(&p.as_str()) {
                props.push(p);
            }
        }
        props
    }

    /// The app record's matching keys, normalised, by key index; empty keys
    /// are left out.
    pub fn app_keys(&self, r: &AppRecord) -> Vec<(usize, String)> {
        owned(self.app_keys_borrowed(r))
    }

    /// As [`Self::app_keys`], borrowing the keys already in normal form.
    pub fn app_keys_borrowed<'r>(&self, r: &'r AppRecord) -> Vec<(usize, Cow<'r, str>)> {
        self.keys
            .iter()
            .enumerate()
            .filter_map(|(i, k)| r.field(&k.app_column).map(|v| (i, key_norm_borrowed(v))))
            .filter(|(_, v)| !v.is_empty())
            .collect()
    }

    /// The HubSpot record's matching keys, normalised, by key index. A
    /// contact's additional emails (kept by a merge) are its email too:
    /// HubSpot answers a read by any of them, and refuses to create another
    /// contact with one.
    pub fn hubspot_keys(&self, o: &SimplePublicObject) -> Vec<(usize, String)> {
        owned(self.hubspot_keys_borrowed(o))
    }

    /// As [`Self::hubspot_keys`], borrowing the keys already in normal form.
    pub fn hubspot_keys_borrowed<'o>(
        &self,
        o: &'o SimplePublicObject,
    ) -> Vec<(usize, Cow<'o, str>)> {
        let mut out: Vec<(usize, Cow<'o, str>)> = self
            .keys
            .iter()
            .enumerate()
            .filter_map(|(i, k)| {
                o.prop(&k.hubspot_property)
                    .map(|v| (i, key_norm_borrowed(v)))
            })
            .filter(|(_, v)| !v.is_empty())
            .collect();
        if let Some(i) = self.email_key_index()
            && let Some(extra) = o.prop(ADDITIONAL_EMAILS)
        {
            out.extend(
                extra
                    .split(';')
                    .map(key_norm_borrowed)
                    .filter(|v| !v.is_empty())
                    .map(|v| (i, v)),
            );
        }
        out
    }

    /// Contacts matched by email: the index of that key.
    pub fn email_key_index(&self) -> Option<usize> {
        (self.object == ObjectKind::Contacts)
            .then(|| self.keys.iter().position(|k| k.hubspot_property == "email"))
            .flatten()
    }

    /// The record's first matching key, for messages.
    pub fn key_of(&self, r: &AppRecord) -> Option<String> {
        self.app_keys(r).into_iter().next().map(|(_, k)| k)
    }

    /// The values this app record should have in HubSpot, for every field
    /// that flows to HubSpot. An empty app value maps to `""`, which clears
    /// the property in HubSpot.
    pub fn to_hubspot(&self, record: &AppRecord) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for f in self.fields.iter().filter(|f| f.flows(Direction::ToHubSpot)) {
            if let Some(v) = f.app_value_as_is(record) {
                out.insert(f.hubspot_properties[0].clone(), v.to_string());
                continue;
            }
            for (p, v) in f.hubspot_properties.iter().zip(f.hubspot_from_app(record)) {
                out.insert(p.clone(), v);
            }
        }
        out
    }

    /// The app values a new app record gets from this HubSpot record, for
    /// every field that flows to the app.
    pub fn to_app(&self, o: &SimplePublicObject) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for f in self.fields.iter().filter(|f| f.flows(Direction::ToApp)) {
            let hs = f.hubspot_values(o);
            for (c, v) in f.app_columns.iter().zip(f.app_from_hubspot(&hs)) {
                out.insert(c.clone(), v);
            }
        }
        out
    }

    pub fn label_of(&self, record: &AppRecord) -> String {
        record
            .field(&self.label_column)
            .map(str::to_string)
            .unwrap_or_else(|| format!("#{}", record.id))
    }

    /// A HubSpot record's label: its first key, else its id.
    pub fn hubspot_label(&self, o: &SimplePublicObject) -> String {
        self.keys
            .iter()
            .find_map(|k| o.prop(&k.hubspot_property).filter(|v| !v.is_empty()))
            .map_or_else(
                || format!("HubSpot {} {}", self.object, o.id),
                str::to_string,
            )
    }
}
