//! Planning one batch of records in SPEC §2's order: links first (unlink
//! the gone, update the pairs), then the unlinked app records matched or
//! created, then the unlinked HubSpot records.

use super::keys::{KeyIndex, disagree, holders, index_keys};
use super::merge::{merge, merge_changes, remember};
use super::{Decision, Gone, Link, PlanInput};
use crate::appdb::AppRecord;
use crate::hubspot::wire::SimplePublicObject;
use crate::model::Direction;
use foldhash::fast::RandomState as Fast;
use std::collections::{BTreeMap, HashMap, HashSet};

pub(crate) fn plan_records<'a>(input: &PlanInput<'a>) -> Vec<Decision> {
    let m = input.mapping;
    let rules = input.rules;
    let mut out = Vec::new();
    // Records this plan already paired or claimed a key for, so two rows
    // with one key produce one record on the other side, not two. Ids are
    // borrowed from the input: a plan of many records copies none of them
    // to keep track.
    let mut taken_app: HashSet<&'a str, Fast> = HashSet::default();
    let mut taken_hubspot: HashSet<&'a str, Fast> = HashSet::default();
    let mut claimed: HashMap<(usize, String), &'a str, Fast> = HashMap::default();
    let mut unlinked_app: Vec<&'a str> = Vec::new();
    let mut unlinked_hubspot: Vec<&'a str> = Vec::new();
    let mut unlinked_now: HashSet<&'a str, Fast> = HashSet::default();

    // 1 and 3: links.
    let pairs: &'a [Link] = input.pairs;
    for link in pairs {
        let app = input.app.get(&link.app_id);
        let hs = input.hubspot.get(&link.hubspot_id);
        match (app, hs) {
            (Some(app), Some(hs)) => {
                taken_app.insert(&link.app_id);
                taken_hubspot.insert(&link.hubspot_id);
                if let Some(writes) = merge_changes(m, rules, app, hs, Some(&link.memory)) {
                    out.push(Decision::Update {
                        app_id: link.app_id.clone(),
                        hubspot_id: link.hubspot_id.clone(),
                        writes,
                    });
                }
            }
            (Some(app), None)
                if let Some(survivor) = input
                    .merged
                    .get(&link.hubspot_id)
                    .filter(|s| !taken_hubspot.contains(s.as_str()))
                    .filter(|s| {
                        input
                            .hubspot_links
                            .get(*s)
                            .is_none_or(|a| *a == link.app_id)
                    })
                    .and_then(|s| input.hubspot.get(s)) =>
            {
                taken_app.insert(&link.app_id);
                taken_hubspot.insert(&survivor.id);
                out.push(Decision::Relink {
                    app_id: link.app_id.clone(),
                    from: link.hubspot_id.clone(),
                    hubspot_id: survivor.id.clone(),
                    writes: merge(m, rules, app, survivor, Some(&link.memory)),
                });
            }
            (Some(_), None) => {
                out.push(Decision::Unlink {
                    app_id: link.app_id.clone(),
                    hubspot_id: link.hubspot_id.clone(),
                    gone: Gone::HubSpot,
                });
                unlinked_app.push(&link.app_id);
                unlinked_now.insert(&link.app_id);
            }
            (None, _) => {
                // The app record was deleted. Its HubSpot record stays (the
                // app is not the place that deletes CRM data), and is
                // remembered so it is not created in the app again.
                taken_hubspot.insert(&link.hubspot_id);
                out.push(Decision::Unlink {
                    app_id: link.app_id.clone(),
                    hubspot_id: link.hubspot_id.clone(),
                    gone: Gone::App,
                });
            }
        }
    }
    unlinked_app.extend(input.unlinked_app.iter().map(String::as_str));
    unlinked_hubspot.extend(input.unlinked_hubspot.iter().map(String::as_str));
    let app_records: &'a HashMap<String, AppRecord> = input.app;
    let hubspot_records: &'a HashMap<String, SimplePublicObject> = input.hubspot;

    let linked_app = |id: &str| input.app_links.contains_key(id);
    let linked_hubspot = |id: &str| input.hubspot_links.contains_key(id);
    // The key indexes are only built for a side that has records to match.
    let mut hubspot_by_key: KeyIndex = Vec::new();
    if !unlinked_app.is_empty() && rules.flows(Direction::ToHubSpot) {
        for o in hubspot_records.values() {
            index_keys(&mut hubspot_by_key, m.hubspot_keys_borrowed(o), &o.id);
        }
    }
    let mut app_by_key: KeyIndex = Vec::new();
    let mut app_by_hubspot_id: HashMap<&str, &str, Fast> = HashMap::default();
    if !unlinked_hubspot.is_empty() && rules.flows(Direction::ToApp) {
        for r in app_records.values() {
            index_keys(&mut app_by_key, m.app_keys_borrowed(r), &r.id);
            if let Some(h) = r.hubspot_id.as_deref().filter(|h| !h.is_empty()) {
                app_by_hubspot_id.insert(h, &r.id);
            }
        }
    }
    for v in hubspot_by_key
        .iter_mut()
        .chain(app_by_key.iter_mut())
        .flat_map(|i| i.values_mut())
    {
        v.sort_unstable();
    }

    // HubSpot records hubsync created, by the app id they carry.
    let by_app_id: HashMap<&str, &str, Fast> = match &m.app_id_property {
        Some(prop) if !unlinked_app.is_empty() => input
            .hubspot
            .values()
            .filter_map(|o| Some((o.prop(prop)?, o.id.as_str())))
            .collect(),
        _ => HashMap::default(),
    };

    // 2a: unlinked app records.
    let mut seen: HashSet<&str, Fast> = HashSet::default();
    for &app_id in &unlinked_app {
        if !rules.flows(Direction::ToHubSpot) || !seen.insert(app_id) {
            continue;
        }
        if taken_app.contains(app_id) {
            continue;
        }
        let Some(rec) = input.app.get(app_id) else {
            continue;
        };
        let skip = |reason: String| Decision::Skip {
            app_id: Some(app_id.to_string()),
            hubspot_id: None,
            reason,
        };
        if let Err(e) = rules.filters_to_hubspot.check(|c| rec.field(c)) {
            out.push(skip(e.to_string()));
            continue;
        }
        // A HubSpot id already on the row (written by another tool, or by
        // hubsync before its state was lost) is a link: follow it if the
        // record is there and free, drop it if it is gone.
        if let Some(h) = rec
            .hubspot_id
            .as_deref()
            .filter(|h| !h.is_empty() && !unlinked_now.contains(app_id))
        {
            let h = input.merged.get(h).map_or(h, String::as_str);
            match hubspot_records.get_key_value(h) {
                Some((h, o))
                    if !taken_hubspot.contains(h.as_str())
                        && input.hubspot_links.get(h).is_none_or(|a| a == app_id) =>
                {
                    taken_hubspot.insert(h);
                    taken_app.insert(app_id);
                    for k in m.app_keys(rec) {
                        claimed.insert(k, app_id);
                    }
                    out.push(Decision::Link {
                        app_id: app_id.to_string(),
                        hubspot_id: h.to_string(),
                        writes: merge(m, rules, rec, o, None),
                    });
                    continue;
                }
                Some(_) => {}
                None => out.push(Decision::Unlink {
                    app_id: app_id.to_string(),
                    hubspot_id: h.to_string(),
                    gone: Gone::HubSpot,
                }),
            }
        }
        // A record hubsync created carries this app id in HubSpot.
        if let Some(o) = by_app_id
            .get(app_id)
            .filter(|h| !taken_hubspot.contains(**h))
            .map(|h| &hubspot_records[*h])
            && input.hubspot_links.get(&o.id).is_none_or(|a| a == app_id)
        {
            taken_hubspot.insert(&o.id);
            taken_app.insert(app_id);
            for k in m.app_keys(rec) {
                claimed.insert(k, app_id);
            }
            out.push(Decision::Link {
                app_id: app_id.to_string(),
                hubspot_id: o.id.clone(),
                writes: merge(m, rules, rec, o, None),
            });
            continue;
        }
        let keys = m.app_keys(rec);
        if keys.is_empty() {
            out.push(skip(match m.keys.first() {
                Some(k) => format!(
                    "no {}: {} are matched by {}",
                    k.app_column, m.object, k.hubspot_property
                ),
                None => format!("{} are not created in HubSpot", m.object),
            }));
            continue;
        }
        // A record is identified by its strongest key (companies: the
        // domain when it has one); two records sharing only a weaker key
        // (a name) are different records.
        let identity = &keys[0];
        if let Some(other) = claimed.get(identity).filter(|o| **o != app_id) {
            out.push(Decision::DuplicateKey {
                app_id: app_id.to_string(),
                other: other.to_string(),
                hubspot_id: None,
                reason: format!(
                    "app records {app_id} and {other} share {} {}; one HubSpot record cannot hold both: \
                     give one another {0} (or remove it), then retry",
                    m.keys[identity.0].app_column, identity.1
                ),
            });
            continue;
        }
        claimed.insert(identity.clone(), app_id);
        // The first key that finds anything decides (companies: a domain
        // match beats a name match), and a weaker key only matches where a
        // stronger one cannot disagree: Acme (acme.de) is not Acme (acme.com).
        let hit = keys.iter().find_map(|k| {
            let stronger = keys.iter().any(|(i, _)| *i < k.0);
            let ids: Vec<&&str> = holders(&hubspot_by_key, k)?
                .iter()
                .filter(|h| {
                    !stronger || !disagree(&keys, &m.hubspot_keys(&hubspot_records[**h]), k.0)
                })
                .collect();
            (!ids.is_empty()).then(|| (k, ids.into_iter().find(|h| !taken_hubspot.contains(**h))))
        });
        match hit {
            Some((k, None)) => out.push(skip(format!(
                "HubSpot {} with {} {} is already paired in this batch",
                m.object, m.keys[k.0].hubspot_property, k.1
            ))),
            Some((k, Some(&hs_id))) => {
                if let Some(owner) = input.hubspot_links.get(hs_id).filter(|a| **a != app_id) {
                    out.push(Decision::DuplicateKey {
                        app_id: app_id.to_string(),
                        other: owner.to_string(),
                        hubspot_id: Some(hs_id.to_string()),
                        reason: format!(
                            "app records {app_id} and {owner} share {} {}: HubSpot {} {hs_id} with {} {1} is already linked to app record {owner}; \
                             give one another {0} (or remove it), then retry",
                            m.keys[k.0].app_column, k.1, m.object, m.keys[k.0].hubspot_property
                        ),
                    });
                    continue;
                }
                taken_hubspot.insert(hs_id);
                taken_app.insert(app_id);
                out.push(Decision::Link {
                    app_id: app_id.to_string(),
                    hubspot_id: hs_id.to_string(),
                    writes: merge(m, rules, rec, &hubspot_records[hs_id], None),
                });
            }
            None if rules.create_in_hubspot => {
                taken_app.insert(app_id);
                let memory = m.to_hubspot(rec);
                let mut properties: BTreeMap<String, String> = memory
                    .iter()
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if let Some(prop) = &m.app_id_property {
                    properties.insert(prop.clone(), app_id.to_string());
                }
                out.push(Decision::CreateInHubSpot {
                    app_id: app_id.to_string(),
                    properties,
                    memory,
                });
            }
            None => out.push(skip(format!(
                "no HubSpot {} has {} {}, and this object may not create records in HubSpot",
                m.object, m.keys[keys[0].0].hubspot_property, keys[0].1
            ))),
        }
    }

    // 2b: unlinked HubSpot records.
    let mut claimed_app: HashMap<(usize, String), &str, Fast> = HashMap::default();
    let mut seen: HashSet<&str, Fast> = HashSet::default();
    for &hs_id in &unlinked_hubspot {
        if !rules.flows(Direction::ToApp) || !seen.insert(hs_id) {
            continue;
        }
        if taken_hubspot.contains(hs_id) || linked_hubspot(hs_id) {
            continue;
        }
        let Some(o) = input.hubspot.get(hs_id) else {
            continue;
        };
        let skip = |reason: String| Decision::Skip {
            app_id: None,
            hubspot_id: Some(hs_id.to_string()),
            reason,
        };
        if input.tombstones.contains(hs_id) {
            out.push(skip(format!(
                "its app record was deleted; HubSpot {} {hs_id} is not created in the app again",
                m.object
            )));
            continue;
        }
        if let Err(e) = rules
            .filters_to_app
            .check(|p| o.prop(p).filter(|v| !v.is_empty()))
        {
            out.push(skip(e.to_string()));
            continue;
        }
        let keys = m.hubspot_keys(o);
        if let Some(identity) = keys.first() {
            if let Some(other) = claimed_app.get(identity) {
                out.push(skip(format!(
                    "{} {} is also HubSpot {} {other}'s; one app record cannot hold both",
                    m.keys[identity.0].app_column, identity.1, m.object
                )));
                continue;
            }
            claimed_app.insert(identity.clone(), hs_id);
        }
        // An app row that already carries this HubSpot id (written back by
        // an earlier create whose link a crash lost) is the match.
        let carried = m
            .app_id_property
            .as_ref()
            .and_then(|p| o.prop(p))
            .filter(|a| input.app.contains_key(*a));
        let by_id = carried
            .or_else(|| app_by_hubspot_id.get(hs_id).copied())
            .map(|a| (None, Some(a)));
        let hit = by_id.or_else(|| {
            keys.iter().find_map(|k| {
                let stronger = keys.iter().any(|(i, _)| *i < k.0);
                let ids: Vec<&&str> = holders(&app_by_key, k)?
                    .iter()
                    .filter(|a| !stronger || !disagree(&keys, &m.app_keys(&app_records[**a]), k.0))
                    .collect();
                (!ids.is_empty()).then(|| {
                    (
                        Some(k),
                        ids.into_iter()
                            .find(|a| !taken_app.contains(**a) && !linked_app(a))
                            .copied(),
                    )
                })
            })
        });
        match hit {
            Some((_, Some(app_id))) if !taken_app.contains(app_id) && !linked_app(app_id) => {
                let (app_id, rec) = app_records
                    .get_key_value(app_id)
                    .expect("candidates are records read");
                taken_app.insert(app_id);
                taken_hubspot.insert(hs_id);
                out.push(Decision::Link {
                    app_id: app_id.clone(),
                    hubspot_id: hs_id.to_string(),
                    writes: merge(m, rules, rec, o, None),
                });
            }
            Some((k, _)) => {
                let what = k.map_or_else(
                    || format!("with HubSpot id {hs_id}"),
                    |k| format!("with {} {}", m.keys[k.0].app_column, k.1),
                );
                out.push(skip(format!(
                    "the app {} record {what} is already linked to another HubSpot record",
                    m.table
                )));
            }
            None if rules.create_in_app => {
                taken_hubspot.insert(hs_id);
                let mut memory = BTreeMap::new();
                for f in m.fields.iter().filter(|f| f.flows(Direction::ToApp)) {
                    remember(&mut memory, f, &f.hubspot_values(o));
                }
                out.push(Decision::CreateInApp {
                    hubspot_id: hs_id.to_string(),
                    values: m.to_app(o),
                    memory,
                });
            }
            None => out.push(skip(format!(
                "no app record matches HubSpot {} {hs_id}, and this object may not create records in the app",
                m.object
            ))),
        }
    }
    out
}
