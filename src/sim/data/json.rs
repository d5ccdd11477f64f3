//! Records as HubSpot's answers show them: requested properties, date-times
//! as ISO 8601, and property histories.

use super::Rec;
use crate::model::ObjectKind;
use crate::sim::properties;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

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
