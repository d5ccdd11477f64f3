//! One pair's fields side by side, for an operator: what each side holds,
//! what the link remembers both held at the last sync, which side changed
//! what since, and where both changed, which rule decides. Pure, and
//! decided as the planner decides (`plan::merge_changes`): values are
//! compared in HubSpot's shape, a side differing from the memory changed.

use super::mapping::{ObjectMapping, same_values};
use super::rules::SyncRules;
use crate::appdb::AppRecord;
use crate::hubspot::wire::SimplePublicObject;
use crate::model::Side;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which side changed a field since the last sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Changed {
    /// Both hold what the link remembers (or the same as each other).
    Neither,
    App,
    HubSpot,
    /// Both changed, to different values: a conflict.
    Both,
    /// Not linked yet (or linked just now): there is no last sync.
    NoHistory,
}

/// Both values of a conflict and the rule that decides it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub winner: Side,
    /// The rule, as the config spells it.
    pub rule: String,
}

/// One mapped field of one pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldState {
    /// `email ↔ email`.
    pub field: String,
    pub app_columns: Vec<String>,
    pub hubspot_properties: Vec<String>,
    /// Per app column, as the app holds it (None: empty); absent when the
    /// app side could not be read.
    pub app: Option<Vec<Option<String>>>,
    /// Per HubSpot property; absent when HubSpot could not be read.
    pub hubspot: Option<Vec<Option<String>>>,
    /// Per HubSpot property, what both sides held after the last sync.
    pub memory: Option<Vec<Option<String>>>,
    /// Whether the two sides hold the same value now (in HubSpot's shape).
    pub equal: Option<bool>,
    pub changed: Option<Changed>,
    pub conflict: Option<Conflict>,
}

fn non_empty(v: &str) -> Option<String> {
    (!v.is_empty()).then(|| v.to_string())
}

/// Every mapped field of a pair; either side may be missing (unreadable,
/// or not there), as may the memory (not linked).
pub fn compare(
    m: &ObjectMapping,
    rules: &SyncRules,
    app: Option<&AppRecord>,
    hubspot: Option<&SimplePublicObject>,
    memory: Option<&BTreeMap<String, String>>,
) -> Vec<FieldState> {
    m.fields
        .iter()
        .map(|f| {
            let a = app.map(|r| f.hubspot_from_app(r));
            let h = hubspot.map(|o| f.hubspot_values(o));
            let before: Option<Vec<String>> = memory.and_then(|mem| {
                f.hubspot_properties
                    .iter()
                    .map(|p| mem.get(p).cloned())
                    .collect()
            });
            let equal = match (&a, &h) {
                (Some(a), Some(h)) => Some(same_values(a, h)),
                _ => None,
            };
            let changed = match (&a, &h, &before) {
                (Some(_), Some(_), None) => Some(Changed::NoHistory),
                (Some(a), Some(h), Some(b)) => {
                    Some(match (!same_values(b, a), !same_values(b, h)) {
                        _ if same_values(a, h) => Changed::Neither,
                        (true, false) => Changed::App,
                        (false, true) => Changed::HubSpot,
                        (true, true) => Changed::Both,
                        (false, false) => Changed::Neither,
                    })
                }
                _ => None,
            };
            let conflict = (changed == Some(Changed::Both)).then(|| Conflict {
                winner: rules.system_of_record,
                rule: format!(
                    "both sides changed since the last sync: system_of_record = \"{}\" wins",
                    match rules.system_of_record {
                        Side::App => "app",
                        Side::HubSpot => "hubspot",
                    }
                ),
            });
            FieldState {
                field: f.label(),
                app_columns: f.app_columns.clone(),
                hubspot_properties: f.hubspot_properties.clone(),
                app: app.map(|r| {
                    f.app_columns
                        .iter()
                        .map(|c| r.fields.get(c).cloned().flatten())
                        .collect()
                }),
                hubspot: hubspot.map(|o| {
                    f.hubspot_properties
                        .iter()
                        .map(|p| o.prop(p).and_then(non_empty))
                        .collect()
                }),
                memory: memory.map(|mem| {
                    f.hubspot_properties
                        .iter()
                        .map(|p| mem.get(p).and_then(|v| non_empty(v)))
                        .collect()
                }),
                equal,
                changed,
                conflict,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(email: &str, first: &str) -> AppRecord {
        AppRecord {
            id: "1".into(),
            fields: BTreeMap::from([
                ("email".into(), Some(email.into())),
                ("first_name".into(), Some(first.into())),
            ]),
            hubspot_id: Some("9".into()),
            updated_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    fn hubspot(email: &str, first: &str) -> SimplePublicObject {
        SimplePublicObject {
            id: "9".into(),
            properties: BTreeMap::from([
                ("email".into(), Some(email.into())),
                ("firstname".into(), Some(first.into())),
            ]),
            created_at: None,
            updated_at: None,
            archived: false,
        }
    }

    fn field<'a>(v: &'a [FieldState], label: &str) -> &'a FieldState {
        v.iter().find(|f| f.field.starts_with(label)).unwrap()
    }

    #[test]
    fn a_side_that_differs_from_the_memory_changed_it() {
        let m = ObjectMapping::demo_contacts();
        let memory = BTreeMap::from([
            ("email".to_string(), "a@x.com".to_string()),
            ("firstname".to_string(), "Ann".to_string()),
        ]);
        let v = compare(
            &m,
            &SyncRules::both(),
            Some(&app("a@x.com", "Anne")),
            Some(&hubspot("a@x.com", "Ann")),
            Some(&memory),
        );
        assert_eq!(field(&v, "first_name").changed, Some(Changed::App));
        assert_eq!(field(&v, "first_name").equal, Some(false));
        assert_eq!(field(&v, "email").changed, Some(Changed::Neither));
    }

    #[test]
    fn both_sides_changing_a_field_is_a_conflict_the_system_of_record_wins() {
        let m = ObjectMapping::demo_contacts();
        let memory = BTreeMap::from([("firstname".to_string(), "Ann".to_string())]);
        let mut rules = SyncRules::both();
        rules.system_of_record = Side::HubSpot;
        let v = compare(
            &m,
            &rules,
            Some(&app("a@x.com", "Anne")),
            Some(&hubspot("a@x.com", "Annie")),
            Some(&memory),
        );
        let f = field(&v, "first_name");
        assert_eq!(f.changed, Some(Changed::Both));
        let c = f.conflict.as_ref().unwrap();
        assert_eq!(c.winner, Side::HubSpot);
        assert!(
            c.rule.contains("system_of_record = \"hubspot\""),
            "{}",
            c.rule
        );
    }

    #[test]
    fn a_side_that_could_not_be_read_leaves_the_comparison_open() {
        let m = ObjectMapping::demo_contacts();
        let v = compare(
            &m,
            &SyncRules::both(),
            Some(&app("a@x.com", "Ann")),
            None,
            None,
        );
        let f = field(&v, "email");
        assert_eq!(f.app, Some(vec![Some("a@x.com".into())]));
        assert_eq!(f.hubspot, None);
        assert_eq!(f.changed, None);
    }
}
