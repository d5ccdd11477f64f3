//! Which app column feeds which HubSpot property, and how a value is shaped
//! on the way.
//!
//! The walking skeleton syncs contacts with a fixed mapping
//! ([`ObjectMapping::demo_contacts`]); configurable mappings replace it later
//! without changing the planner, which only ever sees an `ObjectMapping`.

use crate::appdb::AppRecord;
use crate::model::{ObjectKind, email_key};
use std::collections::BTreeMap;

/// How a value is shaped before it is written and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    None,
    /// Trimmed and lowercased, as HubSpot stores emails; comparing the raw
    /// app value would see a change on every pass and write forever.
    LowercaseTrim,
}

impl Transform {
    pub fn apply(self, v: &str) -> String {
        match self {
            Transform::None => v.to_string(),
            Transform::LowercaseTrim => email_key(v),
        }
    }
}

#[derive(Debug, Clone)]
pub struct FieldMap {
    pub app_column: String,
    pub hubspot_property: String,
    pub transform: Transform,
}

/// How one object's app table lines up with HubSpot.
#[derive(Debug, Clone)]
pub struct ObjectMapping {
    pub object: ObjectKind,
    pub table: String,
    pub id_column: String,
    pub updated_at_column: String,
    /// Where the HubSpot id is written back.
    pub hubspot_id_column: String,
    /// The app column holding the matching key (contacts: email).
    pub key_column: String,
    /// The HubSpot property holding the matching key.
    pub key_property: String,
    pub fields: Vec<FieldMap>,
    /// The app column shown as the record's label in the console.
    pub label_column: String,
}

impl ObjectMapping {
    /// The contact mapping of the demo's app database.
    pub fn demo_contacts() -> Self {
        let f = |app: &str, hs: &str, transform| FieldMap {
            app_column: app.into(),
            hubspot_property: hs.into(),
            transform,
        };
        ObjectMapping {
            object: ObjectKind::Contacts,
            table: "contacts".into(),
            id_column: "id".into(),
            updated_at_column: "updated_at".into(),
            hubspot_id_column: "hubspot_id".into(),
            key_column: "email".into(),
            key_property: "email".into(),
            fields: vec![
                f("email", "email", Transform::LowercaseTrim),
                f("first_name", "firstname", Transform::None),
                f("last_name", "lastname", Transform::None),
                f("phone", "phone", Transform::None),
                f("company", "company", Transform::None),
                f("job_title", "jobtitle", Transform::None),
            ],
            label_column: "email".into(),
        }
    }

    /// The app columns this mapping reads.
    pub fn app_columns(&self) -> Vec<&str> {
        let mut cols: Vec<&str> = self.fields.iter().map(|f| f.app_column.as_str()).collect();
        for c in [&self.key_column, &self.label_column] {
            if !cols.contains(&c.as_str()) {
                cols.push(c);
            }
        }
        cols
    }

    /// The HubSpot properties to read for comparison.
    pub fn hubspot_properties(&self) -> Vec<&str> {
        self.fields
            .iter()
            .map(|f| f.hubspot_property.as_str())
            .collect()
    }

    /// The values this app record should have in HubSpot. An empty app value
    /// maps to `""`, which clears the property in HubSpot.
    pub fn to_hubspot(&self, record: &AppRecord) -> BTreeMap<String, String> {
        self.fields
            .iter()
            .map(|f| {
                let v = record
                    .field(&f.app_column)
                    .map(|v| f.transform.apply(v))
                    .unwrap_or_default();
                (f.hubspot_property.clone(), v)
            })
            .collect()
    }

    /// The record's matching key, normalised; `None` when it has none.
    pub fn key_of(&self, record: &AppRecord) -> Option<String> {
        record
            .field(&self.key_column)
            .map(email_key)
            .filter(|k| !k.is_empty())
    }

    pub fn label_of(&self, record: &AppRecord) -> String {
        record
            .field(&self.label_column)
            .map(str::to_string)
            .unwrap_or_else(|| format!("#{}", record.id))
    }
}
