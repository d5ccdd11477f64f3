//! A contact's company, planned as a virtual field: see
//! [`plan_with_companies`].

use super::{CompanyLinks, Decision, PlanInput, Writes, plan_records};
use crate::appdb::AppRecord;
use crate::hubspot::wire::SimplePublicObject;
use crate::model::Direction;
use crate::sync::mapping::{COMPANY, FieldMap};
use crate::sync::transform::Transform;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Plans contacts whose company follows their HubSpot association: the
/// association is a virtual field ([`COMPANY`], a HubSpot company id) on
/// both sides, so it merges, conflicts and echoes exactly as a field does;
/// then the app half is translated back to the app's company id.
pub(super) fn plan_with_companies(
    input: &PlanInput<'_>,
    column: &str,
    c: CompanyLinks<'_>,
) -> Vec<Decision> {
    let mut m = input.mapping.clone();
    m.fields.push(FieldMap {
        app_columns: vec![COMPANY.into()],
        hubspot_properties: vec![COMPANY.into()],
        direction: Direction::Both,
        transform: Transform::None,
        default: None,
        only_if_empty: false,
    });
    // An app company that is not linked yet says nothing about HubSpot: the
    // association of those contacts is left alone.
    let mut unknown: HashSet<String> = HashSet::new();
    let app: HashMap<String, AppRecord> = input
        .app
        .iter()
        .map(|(id, r)| {
            let mut r = r.clone();
            let v = match r.field(column) {
                None => Some(String::new()),
                Some(a) => c.by_app.get(a).cloned(),
            };
            match v {
                Some(h) => {
                    r.fields.insert(COMPANY.into(), Some(h));
                }
                None => {
                    unknown.insert(id.clone());
                }
            }
            (id.clone(), r)
        })
        .collect();
    let remembered: HashMap<&str, &str> = input
        .pairs
        .iter()
        .filter_map(|l| Some((l.hubspot_id.as_str(), l.memory.get(COMPANY)?.as_str())))
        .collect();
    // A contact may have several companies: the one remembered stays the
    // one; otherwise the lowest linked id, so the choice is stable.
    // Associated only with companies the app does not have (yet): that
    // says nothing about the app's company either.
    let mut unknown_hubspot: HashSet<String> = HashSet::new();
    let hubspot: HashMap<String, SimplePublicObject> = input
        .hubspot
        .iter()
        .map(|(id, o)| {
            let mut o = o.clone();
            let list = c.associations.get(id).map_or(&[][..], Vec::as_slice);
            let known = |x: &String| {
                c.by_hubspot.contains_key(x) || remembered.get(id.as_str()) == Some(&x.as_str())
            };
            if !list.is_empty() && !list.iter().any(known) {
                unknown_hubspot.insert(id.clone());
            }
            let chosen = remembered
                .get(id.as_str())
                .filter(|r| list.iter().any(|x| x == **r))
                .map(|r| r.to_string())
                .or_else(|| {
                    list.iter()
                        .filter(|x| c.by_hubspot.contains_key(*x))
                        .min_by_key(|x| (x.len(), x.as_str()))
                        .cloned()
                })
                .unwrap_or_default();
            o.properties.insert(COMPANY.into(), Some(chosen));
            (id.clone(), o)
        })
        .collect();
    let augmented = PlanInput {
        mapping: &m,
        app: &app,
        hubspot: &hubspot,
        companies: None,
        ..*input
    };
    let old_memory: HashMap<&str, &BTreeMap<String, String>> = input
        .pairs
        .iter()
        .map(|l| (l.app_id.as_str(), &l.memory))
        .collect();
    let fix = |app_id: &str, hubspot_id: &str, w: &mut Writes| {
        if unknown.contains(app_id) || unknown_hubspot.contains(hubspot_id) {
            w.to_hubspot.remove(COMPANY);
            w.to_app.remove(COMPANY);
            w.to_app_memory.remove(COMPANY);
            match old_memory.get(app_id).and_then(|m| m.get(COMPANY)) {
                Some(v) => w.memory.insert(COMPANY.into(), v.clone()),
                None => w.memory.remove(COMPANY),
            };
            return;
        }
        if let Some(h) = w.to_app.remove(COMPANY) {
            match c.by_hubspot.get(&h) {
                Some(a) => {
                    w.to_app.insert(column.to_string(), a.clone());
                }
                None if h.is_empty() => {
                    w.to_app.insert(column.to_string(), String::new());
                }
                // A company the app does not have: nothing to point at.
                None => {
                    w.to_app_memory.remove(COMPANY);
                }
            }
        }
    };
    let mut out = Vec::new();
    for mut d in plan_records(&augmented) {
        let is_update = matches!(d, Decision::Update { .. });
        match &mut d {
            Decision::Link {
                app_id,
                hubspot_id,
                writes,
            }
            | Decision::Relink {
                app_id,
                hubspot_id,
                writes,
                ..
            }
            | Decision::Update {
                app_id,
                hubspot_id,
                writes,
            } => {
                fix(app_id, hubspot_id, writes);
                let unchanged = old_memory.get(app_id.as_str()) == Some(&&writes.memory);
                if is_update && writes.is_empty() && unchanged {
                    continue;
                }
            }
            Decision::CreateInHubSpot {
                app_id,
                properties,
                memory,
            } if unknown.contains(app_id.as_str()) => {
                properties.remove(COMPANY);
                memory.remove(COMPANY);
            }
            Decision::CreateInApp { values, memory, .. } => {
                if let Some(h) = values.remove(COMPANY) {
                    match c.by_hubspot.get(&h) {
                        Some(a) => {
                            values.insert(column.to_string(), a.clone());
                        }
                        None => {
                            memory.remove(COMPANY);
                        }
                    }
                }
            }
            _ => {}
        }
        out.push(d);
    }
    out
}
