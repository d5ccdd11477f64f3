//! Reading an object's section back as an editor fills it in: its field
//! mappings as [`FieldSpec`]s, its filter groups as [`GroupSpec`]s and its
//! settings as text, straight from the document (so "follows the object"
//! stays distinguishable from an explicit direction, which the loaded
//! config no longer tells apart).

use super::{ConfigDoc, FieldSpec, FilterSpec};
use crate::model::ObjectKind;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use toml_edit::{Item, Table, Value};

/// One filter group as written: its direction and its filters (ANDed).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupSpec {
    pub direction: String,
    pub filters: Vec<FilterSpec>,
}

fn names(v: Option<&Item>) -> Vec<String> {
    match v.and_then(Item::as_value) {
        Some(Value::String(s)) => vec![s.value().clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn text(t: &Table, key: &str) -> Option<String> {
    t.get(key).and_then(|v| match v.as_value()? {
        Value::String(s) => Some(s.value().clone()),
        other => {
            // Without the comment written after it on its line.
            let mut v = other.clone();
            v.decor_mut().clear();
            Some(v.to_string())
        }
    })
}

fn json(v: &Value) -> Json {
    match v {
        Value::String(s) => Json::String(s.value().clone()),
        Value::Integer(i) => Json::from(*i.value()),
        Value::Float(f) => {
            serde_json::Number::from_f64(*f.value()).map_or(Json::Null, Json::Number)
        }
        Value::Boolean(b) => Json::Bool(*b.value()),
        Value::Datetime(d) => Json::String(d.value().to_string()),
        Value::Array(a) => Json::Array(a.iter().map(json).collect()),
        Value::InlineTable(_) => Json::Null,
    }
}

fn field(t: &Table) -> FieldSpec {
    FieldSpec {
        app: names(t.get("app")),
        hubspot: names(t.get("hubspot")),
        direction: text(t, "direction"),
        transform: text(t, "transform"),
        values: t.get("values").and_then(Item::as_table_like).map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())))
                .collect::<BTreeMap<_, _>>()
        }),
        default: text(t, "default"),
        only_if_empty: t
            .get("only_if_empty")
            .and_then(Item::as_bool)
            .unwrap_or(false),
    }
}

fn filter(v: &Value) -> Option<FilterSpec> {
    let t = v.as_inline_table()?;
    Some(FilterSpec {
        field: t.get("field")?.as_str()?.to_string(),
        op: t.get("op")?.as_str()?.to_string(),
        value: t.get("value").map(json),
    })
}

impl ConfigDoc {
    fn object(&self, object: ObjectKind) -> Option<&Table> {
        self.doc
            .get("objects")?
            .as_table_like()?
            .get(object.api_name())?
            .as_table()
    }

    /// The objects the file has a section for, in file order.
    pub fn objects(&self) -> Vec<ObjectKind> {
        let Some(objects) = self.doc.get("objects").and_then(Item::as_table_like) else {
            return Vec::new();
        };
        objects
            .iter()
            .filter_map(|(k, _)| ObjectKind::ALL.into_iter().find(|o| o.api_name() == k))
            .collect()
    }

    /// The object's field mappings in file order.
    pub fn fields(&self, object: ObjectKind) -> Vec<FieldSpec> {
        self.object(object)
            .and_then(|o| o.get("fields"))
            .and_then(Item::as_array_of_tables)
            .map(|a| a.iter().map(field).collect())
            .unwrap_or_default()
    }

    /// The object's filter groups in file order (the index is the one
    /// [`super::Edit`]s use); filters written as tables are left out.
    pub fn filter_groups(&self, object: ObjectKind) -> Vec<GroupSpec> {
        self.object(object)
            .and_then(|o| o.get("filter_groups"))
            .and_then(Item::as_array_of_tables)
            .map(|a| {
                a.iter()
                    .map(|g| GroupSpec {
                        direction: text(g, "direction").unwrap_or_default(),
                        filters: g
                            .get("filters")
                            .and_then(Item::as_array)
                            .map(|f| f.iter().filter_map(filter).collect())
                            .unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// One object setting as written, or None when the default applies.
    pub fn setting(&self, object: ObjectKind, key: &str) -> Option<String> {
        text(self.object(object)?, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const TEXT: &str = r#"
[objects.contacts]
table = "contacts"
direction = "both"
poll_interval_secs = 30 # often

[[objects.contacts.fields]]
app = "email"
hubspot = "email"
transform = "lowercase_trim"

[[objects.contacts.fields]]
app = ["first_name", "last_name"]
hubspot = "fullname"
direction = "to_hubspot"
values = { a = "b" }
only_if_empty = true

[[objects.contacts.filter_groups]]
direction = "to_hubspot"
filters = [ { field = "company", op = "is_none_of", value = ["Internal", "Test"] },
            { field = "score", op = "greater_than", value = 3 } ]
"#;

    fn doc() -> ConfigDoc {
        ConfigDoc::parse(Path::new("t.toml"), TEXT).unwrap()
    }

    #[test]
    fn fields_read_back_as_written() {
        let f = doc().fields(ObjectKind::Contacts);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].app, vec!["email"]);
        assert_eq!(f[0].transform.as_deref(), Some("lowercase_trim"));
        assert_eq!(f[0].direction, None, "follows the object");
        assert_eq!(f[1].app, vec!["first_name", "last_name"]);
        assert_eq!(f[1].direction.as_deref(), Some("to_hubspot"));
        assert_eq!(f[1].values.as_ref().unwrap()["a"], "b");
        assert!(f[1].only_if_empty);
    }

    #[test]
    fn filters_read_back_with_their_json_types() {
        let g = doc().filter_groups(ObjectKind::Contacts);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].direction, "to_hubspot");
        assert_eq!(
            g[0].filters[0].value,
            Some(serde_json::json!(["Internal", "Test"]))
        );
        assert_eq!(g[0].filters[1].value, Some(serde_json::json!(3)));
    }

    #[test]
    fn a_setting_reads_without_its_comment_and_none_when_unset() {
        let d = doc();
        assert_eq!(
            d.setting(ObjectKind::Contacts, "poll_interval_secs")
                .as_deref(),
            Some("30")
        );
        assert_eq!(
            d.setting(ObjectKind::Contacts, "direction").as_deref(),
            Some("both")
        );
        assert_eq!(d.setting(ObjectKind::Contacts, "batch_size"), None);
        assert_eq!(d.objects(), vec![ObjectKind::Contacts]);
    }
}
