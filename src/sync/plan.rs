//! The planner: given records of both sides, their links and the object's
//! mapping and rules, decide what to do with each record. Pure: no I/O, no
//! clock, so every rule of SPEC §2 it implements is tested here, record by
//! record.
//!
//! The order follows SPEC §2's pass: unlink links whose other side is gone,
//! then match-or-create the unlinked (app records first, then HubSpot's),
//! then update linked pairs field by field.
//!
//! Each link remembers, per HubSpot property, the value both sides last held
//! (its *memory*). A side whose value differs from the memory changed; one
//! whose value equals it did not. That is what makes field-level merge
//! possible, and what stops an echo: a value the engine wrote comes back
//! equal to the memory, so it is not a change and is not written back.

use super::mapping::{FieldMap, ObjectMapping, same_values};
use super::rules::SyncRules;
use super::transform::same_value;
use crate::appdb::AppRecord;
use crate::hubspot::wire::SimplePublicObject;
use crate::model::{Direction, Side};
use foldhash::fast::RandomState as Fast;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A link as the state store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Link {
    pub app_id: String,
    pub hubspot_id: String,
    /// HubSpot property → the value both sides held after the last sync.
    pub memory: BTreeMap<String, String>,
    /// Values sent to HubSpot whose confirmation never arrived (a crash
    /// between the write and remembering it); settled before planning.
    pub pending: BTreeMap<String, String>,
}

/// What a linked pair needs written, each side's half separately, so that
/// one side failing does not undo what the other side took.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Writes {
    /// HubSpot property → value.
    pub to_hubspot: BTreeMap<String, String>,
    /// App column → value.
    pub to_app: BTreeMap<String, String>,
    /// The link's memory with what is already equal on both sides.
    pub memory: BTreeMap<String, String>,
    /// The HubSpot-shaped values behind `to_app`, remembered once the app
    /// write lands.
    pub to_app_memory: BTreeMap<String, String>,
}

impl Writes {
    pub fn is_empty(&self) -> bool {
        self.to_hubspot.is_empty() && self.to_app.is_empty()
    }

    /// The memory once every write landed.
    pub fn memory_after(&self) -> BTreeMap<String, String> {
        let mut m = self.memory.clone();
        m.extend(self.to_hubspot.clone());
        m.extend(self.to_app_memory.clone());
        m
    }
}

/// Why a link is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// The HubSpot record no longer exists (deleted, archived, merged away
    /// into a record another app record holds).
    HubSpot,
    /// The app record was deleted.
    App,
}

/// What to do with one record or pair.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// One side of a link is gone: drop the link, keep the other record.
    Unlink {
        app_id: String,
        hubspot_id: String,
        gone: Gone,
    },
    /// The linked HubSpot record was merged into another one that no app
    /// record holds: follow the survivor instead of unlinking (SPEC §2).
    Relink {
        app_id: String,
        from: String,
        hubspot_id: String,
        writes: Writes,
    },
    /// Two unlinked records share a key: link them instead of creating a
    /// duplicate, then write `writes` (may be empty).
    Link {
        app_id: String,
        hubspot_id: String,
        writes: Writes,
    },
    /// Nothing in HubSpot matches the app record: create it.
    CreateInHubSpot {
        app_id: String,
        /// The non-empty values to send.
        properties: BTreeMap<String, String>,
        /// The new link's memory (empty values included).
        memory: BTreeMap<String, String>,
    },
    /// Nothing in the app matches the HubSpot record: create it there.
    CreateInApp {
        hubspot_id: String,
        /// App column → value.
        values: BTreeMap<String, String>,
        /// The new link's memory.
        memory: BTreeMap<String, String>,
    },
    /// Linked and changed (or only the memory is behind): write exactly this.
    Update {
        app_id: String,
        hubspot_id: String,
        writes: Writes,
    },
    /// Nothing will be written, and why.
    Skip {
        app_id: Option<String>,
        hubspot_id: Option<String>,
        reason: String,
    },
    /// The app record shares its key with another app record, so one
    /// HubSpot record would have to hold both: nothing is written, and it
    /// fails (`DUPLICATE_KEY`) so an operator sees it and can retry once
    /// the app is fixed.
    DuplicateKey {
        app_id: String,
        /// The app record that holds the key (or its HubSpot record).
        other: String,
        hubspot_id: Option<String>,
        reason: String,
    },
    /// Linked and already equal on both sides. The planner never emits this
    /// for a pass (a pass in step plans nothing); a single-record retry adds
    /// it so the operator sees an outcome.
    InStep { app_id: String, hubspot_id: String },
}

impl Decision {
    /// The app record this decision is about, if it has one yet.
    pub fn app_id(&self) -> Option<&str> {
        match self {
            Decision::Unlink { app_id, .. }
            | Decision::Link { app_id, .. }
            | Decision::Relink { app_id, .. }
            | Decision::CreateInHubSpot { app_id, .. }
            | Decision::Update { app_id, .. }
            | Decision::InStep { app_id, .. }
            | Decision::DuplicateKey { app_id, .. } => Some(app_id),
            Decision::Skip { app_id, .. } => app_id.as_deref(),
            Decision::CreateInApp { .. } => None,
        }
    }

    /// The HubSpot record this decision is about, if it has one yet.
    pub fn hubspot_id(&self) -> Option<&str> {
        match self {
            Decision::Unlink { hubspot_id, .. }
            | Decision::Link { hubspot_id, .. }
            | Decision::Relink { hubspot_id, .. }
            | Decision::CreateInApp { hubspot_id, .. }
            | Decision::Update { hubspot_id, .. }
            | Decision::InStep { hubspot_id, .. } => Some(hubspot_id),
            Decision::Skip { hubspot_id, .. } | Decision::DuplicateKey { hubspot_id, .. } => {
                hubspot_id.as_deref()
            }
            Decision::CreateInHubSpot { .. } => None,
        }
    }
}

/// Everything the planner needs for one batch, already read.
pub struct PlanInput<'a> {
    pub mapping: &'a ObjectMapping,
    pub rules: &'a SyncRules,
    /// Links to reconcile. Both sides of each were read: a side missing
    /// from `app` or `hubspot` no longer exists.
    pub pairs: &'a [Link],
    /// App records to match or create, in feed order.
    pub unlinked_app: &'a [String],
    /// HubSpot records to match or create, in feed order.
    pub unlinked_hubspot: &'a [String],
    /// Every app record read, by id: the pairs' and the unlinked records,
    /// and candidates found by key.
    pub app: &'a HashMap<String, AppRecord>,
    /// Every HubSpot record read, by id, likewise.
    pub hubspot: &'a HashMap<String, SimplePublicObject>,
    /// The links of every record read (app id → HubSpot id), so a record
    /// linked elsewhere is never matched again.
    pub app_links: &'a HashMap<String, String>,
    /// The same links from HubSpot's side (HubSpot id → app id).
    pub hubspot_links: &'a HashMap<String, String>,
    /// HubSpot records whose app record was deleted: not created again.
    pub tombstones: &'a HashSet<String>,
    /// HubSpot ids merged away → the surviving id (read by the old id).
    pub merged: &'a HashMap<String, String>,
    /// Contacts with a company column: their company associations and the
    /// company links, read for this batch.
    pub companies: Option<CompanyLinks<'a>>,
}

/// What the planner needs to keep a contact's company in step.
#[derive(Clone, Copy)]
pub struct CompanyLinks<'a> {
    /// HubSpot contact id → its associated HubSpot company ids.
    pub associations: &'a HashMap<String, Vec<String>>,
    /// App company id → HubSpot company id, for linked companies.
    pub by_app: &'a HashMap<String, String>,
    /// HubSpot company id → app company id.
    pub by_hubspot: &'a HashMap<String, String>,
}

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

fn blank(v: &[String]) -> bool {
    v.iter().all(|s| s.trim().is_empty())
}

fn remember(memory: &mut BTreeMap<String, String>, f: &FieldMap, values: &[String]) {
    for (p, v) in f.hubspot_properties.iter().zip(values) {
        memory.insert(p.clone(), v.clone());
    }
}

/// Whether two records' keys stronger than `index` contradict each other:
/// both have such a key and it differs.
fn disagree(ours: &[(usize, String)], theirs: &[(usize, String)], index: usize) -> bool {
    ours.iter()
        .filter(|(i, _)| *i < index)
        .any(|(i, v)| theirs.iter().any(|(j, w)| j == i && w != v))
}

/// Records of one side by normalised key, one map per key index. A key
/// already in normal form is borrowed, not copied.
type KeyIndex<'a> = Vec<HashMap<Cow<'a, str>, Vec<&'a str>, Fast>>;

/// The records holding key `k`.
fn holders<'i, 'a>(index: &'i KeyIndex<'a>, k: &(usize, String)) -> Option<&'i Vec<&'a str>> {
    index.get(k.0)?.get(k.1.as_str())
}

/// Adds one record's keys to the index.
fn index_keys<'a>(index: &mut KeyIndex<'a>, keys: Vec<(usize, Cow<'a, str>)>, id: &'a str) {
    for (i, k) in keys {
        if index.len() <= i {
            index.resize_with(i + 1, HashMap::default);
        }
        index[i].entry(k).or_default().push(id);
    }
}

pub fn plan(input: &PlanInput<'_>) -> Vec<Decision> {
    match (&input.mapping.company_column, input.companies) {
        (Some(column), Some(c)) => companies::plan_with_companies(input, column, c),
        _ => plan_records(input),
    }
}

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

mod companies;

#[cfg(test)]
mod tests;
