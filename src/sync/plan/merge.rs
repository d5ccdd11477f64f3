//! Merging a linked pair field by field (SPEC §2 step 3): which side
//! changed since the memory, which way each field may flow, and what the
//! filters let through.

use super::Writes;
use crate::appdb::AppRecord;
use crate::hubspot::wire::SimplePublicObject;
use crate::model::{Direction, Side};
use crate::sync::mapping::{FieldMap, ObjectMapping, same_values};
use crate::sync::rules::SyncRules;
use crate::sync::transform::same_value;
use std::collections::BTreeMap;

/// Decides the writes for a linked pair, field by field (SPEC §2 step 3).
/// `memory` is `None` for a pair linked just now, which has no history.
pub fn merge(
    m: &ObjectMapping,
    rules: &SyncRules,
    app: &AppRecord,
    hubspot: &SimplePublicObject,
    memory: Option<&BTreeMap<String, String>>,
) -> Writes {
    merge_changes(m, rules, app, hubspot, memory).unwrap_or_else(|| Writes {
        memory: memory.cloned().unwrap_or_default(),
        ..Writes::default()
    })
}

/// As [`merge`], but `None` when the pair is in step and its memory
/// already says so: the common case of a pass, decided without copying
/// the memory.
pub fn merge_changes(
    m: &ObjectMapping,
    rules: &SyncRules,
    app: &AppRecord,
    hubspot: &SimplePublicObject,
    memory: Option<&BTreeMap<String, String>>,
) -> Option<Writes> {
    let app_eligible = rules.filters_to_hubspot.check(|c| app.field(c)).is_ok();
    let hubspot_eligible = rules
        .filters_to_app
        .check(|p| hubspot.prop(p).filter(|v| !v.is_empty()))
        .is_ok();
    let mut w = Writes::default();
    // Fields found equal on both sides but not (or not so) remembered.
    let mut learned: BTreeMap<String, String> = BTreeMap::new();
    for f in &m.fields {
        // Fast path: a one-to-one field equal as it stands; learned unless
        // remembered so.
        if let Some(a) = f.app_value_as_is(app) {
            let p = &f.hubspot_properties[0];
            let h = hubspot.prop(p).unwrap_or("");
            if same_value(a, h) {
                let known = memory
                    .and_then(|mem| mem.get(p))
                    .is_some_and(|m| same_value(m, h));
                if !known {
                    learned.insert(p.clone(), h.to_string());
                }
                continue;
            }
        }
        let a = f.hubspot_from_app(app);
        let h = f.hubspot_values(hubspot);
        if same_values(&a, &h) {
            // Remembered in another shape of the same value: not news.
            let known = f.hubspot_properties.iter().zip(&h).all(|(p, v)| {
                memory
                    .and_then(|mem| mem.get(p))
                    .is_some_and(|m| same_value(m, v))
            });
            if !known {
                remember(&mut learned, f, &h);
            }
            continue;
        }
        // Which ways the configuration lets this field flow, and which of
        // those the filters allow for this pair right now.
        let may_to_hubspot = f.flows(Direction::ToHubSpot) && rules.flows(Direction::ToHubSpot);
        let may_to_app = f.flows(Direction::ToApp) && rules.flows(Direction::ToApp);
        let before: Option<Vec<String>> = memory.and_then(|mem| {
            f.hubspot_properties
                .iter()
                .map(|p| mem.get(p).cloned())
                .collect()
        });
        let winner = match (may_to_hubspot, may_to_app) {
            (false, false) => continue,
            // A field that flows one way only takes its source's value
            // (seed 000: a mapped field of a record that syncs is always
            // written), except that an empty source with no history is no
            // change: a newly linked or created pair never erases a value.
            (true, false) if before.is_none() && blank(&a) => continue,
            (false, true) if before.is_none() && blank(&h) => continue,
            (true, false) => Side::App,
            (false, true) => Side::HubSpot,
            (true, true) => {
                let app_changed = before.as_ref().is_none_or(|b| !same_values(b, &a));
                let hubspot_changed = before.as_ref().is_none_or(|b| !same_values(b, &h));
                match (app_changed, hubspot_changed) {
                    (true, false) => Side::App,
                    (false, true) => Side::HubSpot,
                    // A pair with no history: an empty side takes the
                    // other's value rather than erasing it.
                    _ if before.is_none() && blank(&a) => Side::HubSpot,
                    _ if before.is_none() && blank(&h) => Side::App,
                    _ => rules.system_of_record,
                }
            }
        };
        // A filter that excludes the winning side's record stops its value
        // from flowing; it never turns the other side into the winner.
        let eligible = match winner {
            Side::App => app_eligible,
            Side::HubSpot => hubspot_eligible,
        };
        if !eligible {
            continue;
        }
        match winner {
            Side::App => {
                if f.only_if_empty && !blank(&h) {
                    continue;
                }
                for (p, v) in f.hubspot_properties.iter().zip(a) {
                    w.to_hubspot.insert(p.clone(), v);
                }
            }
            Side::HubSpot => {
                let current: Vec<&str> = f
                    .app_columns
                    .iter()
                    .map(|c| app.field(c).unwrap_or(""))
                    .collect();
                if f.only_if_empty && current.iter().any(|v| !v.is_empty()) {
                    continue;
                }
                for (c, v) in f.app_columns.iter().zip(f.app_from_hubspot(&h)) {
                    w.to_app.insert(c.clone(), v);
                }
                remember(&mut w.to_app_memory, f, &h);
            }
        }
    }
    if w.is_empty() && learned.is_empty() && memory.is_some() {
        return None;
    }
    w.memory = memory.cloned().unwrap_or_default();
    w.memory.extend(learned);
    Some(w)
}

pub(super) fn blank(v: &[String]) -> bool {
    v.iter().all(|s| s.trim().is_empty())
}

pub(super) fn remember(memory: &mut BTreeMap<String, String>, f: &FieldMap, values: &[String]) {
    for (p, v) in f.hubspot_properties.iter().zip(values) {
        memory.insert(p.clone(), v.clone());
    }
}
