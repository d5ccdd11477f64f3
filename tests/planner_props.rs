//! Properties of the pure planner over random worlds of both sides:
//! applying a pass and planning again writes nothing; two-way sync
//! converges, whatever each side edited; no plan creates a record whose key
//! the other side already holds.

use hubsync::appdb::AppRecord;
use hubsync::hubspot::wire::SimplePublicObject;
use hubsync::model::{Side, email_key};
use hubsync::sync::mapping::{ObjectMapping, same_values};
use hubsync::sync::plan::{Decision, Link, PlanInput, plan};
use hubsync::sync::rules::SyncRules;
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};

const EMAILS: [&str; 6] = [
    "ada@example.com",
    "grace@example.com",
    "alan@example.com",
    "kay@example.com",
    "tim@example.com",
    "lin@example.com",
];
const NAMES: [&str; 4] = ["Ada", "Grace", "", "Lin"];

fn mapping() -> ObjectMapping {
    let mut m = ObjectMapping::demo_contacts();
    m.fields.truncate(3);
    m
}

/// Both systems and the link table, in memory.
#[derive(Debug, Clone, Default)]
struct World {
    app: BTreeMap<String, AppRecord>,
    hubspot: BTreeMap<String, SimplePublicObject>,
    links: BTreeMap<String, Link>,
    next_id: u64,
}

fn app_rec(id: &str, email: Option<&str>, first: &str, last: &str) -> AppRecord {
    let mut fields = BTreeMap::new();
    fields.insert("email".to_string(), email.map(str::to_string));
    fields.insert("first_name".to_string(), Some(first.to_string()));
    fields.insert("last_name".to_string(), Some(last.to_string()));
    AppRecord {
        id: id.into(),
        fields,
        hubspot_id: None,
        updated_at: String::new(),
    }
}

fn hs_rec(id: &str, props: &BTreeMap<String, String>) -> SimplePublicObject {
    SimplePublicObject {
        id: id.into(),
        properties: props
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .collect(),
        created_at: None,
        updated_at: None,
        archived: false,
    }
}

impl World {
    /// Plans one pass over every record of both sides.
    fn plan(&self, m: &ObjectMapping, rules: &SyncRules) -> Vec<Decision> {
        let app: HashMap<String, AppRecord> = self.app.clone().into_iter().collect();
        let hubspot: HashMap<String, SimplePublicObject> =
            self.hubspot.clone().into_iter().collect();
        let pairs: Vec<Link> = self.links.values().cloned().collect();
        let app_links: HashMap<String, String> = pairs
            .iter()
            .map(|l| (l.app_id.clone(), l.hubspot_id.clone()))
            .collect();
        let hubspot_links: HashMap<String, String> = pairs
            .iter()
            .map(|l| (l.hubspot_id.clone(), l.app_id.clone()))
            .collect();
        let unlinked_app: Vec<String> = self
            .app
            .keys()
            .filter(|a| !app_links.contains_key(*a))
            .cloned()
            .collect();
        let unlinked_hubspot: Vec<String> = self
            .hubspot
            .keys()
            .filter(|h| !hubspot_links.contains_key(*h))
            .cloned()
            .collect();
        plan(&PlanInput {
            mapping: m,
            rules,
            pairs: &pairs,
            unlinked_app: &unlinked_app,
            unlinked_hubspot: &unlinked_hubspot,
            app: &app,
            hubspot: &hubspot,
            app_links: &app_links,
            hubspot_links: &hubspot_links,
            tombstones: &HashSet::new(),
            merged: &HashMap::new(),
            companies: None,
        })
    }

    fn write_app(&mut self, id: &str, values: &BTreeMap<String, String>) {
        let r = self.app.get_mut(id).expect("writes go to existing rows");
        for (k, v) in values {
            r.fields
                .insert(k.clone(), (!v.is_empty()).then(|| v.clone()));
        }
    }

    fn write_hubspot(&mut self, id: &str, values: &BTreeMap<String, String>) {
        let o = self
            .hubspot
            .get_mut(id)
            .expect("writes go to existing records");
        for (k, v) in values {
            o.properties.insert(k.clone(), Some(v.clone()));
        }
    }

    fn apply(&mut self, decisions: &[Decision]) {
        for d in decisions {
            match d {
                Decision::Unlink { app_id, .. } => {
                    self.links.remove(app_id);
                }
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
                    self.write_app(app_id, &writes.to_app);
                    self.write_hubspot(hubspot_id, &writes.to_hubspot);
                    self.links.insert(
                        app_id.clone(),
                        Link {
                            app_id: app_id.clone(),
                            hubspot_id: hubspot_id.clone(),
                            memory: writes.memory_after(),
                            pending: BTreeMap::new(),
                        },
                    );
                }
                Decision::CreateInHubSpot {
                    app_id,
                    properties,
                    memory,
                } => {
                    self.next_id += 1;
                    let id = format!("9{}", self.next_id);
                    self.hubspot.insert(id.clone(), hs_rec(&id, properties));
                    self.links.insert(
                        app_id.clone(),
                        Link {
                            app_id: app_id.clone(),
                            hubspot_id: id,
                            memory: memory.clone(),
                            pending: BTreeMap::new(),
                        },
                    );
                }
                Decision::CreateInApp {
                    hubspot_id,
                    values,
                    memory,
                } => {
                    self.next_id += 1;
                    let id = format!("a{}", self.next_id);
                    let mut r = app_rec(&id, None, "", "");
                    for (k, v) in values {
                        r.fields
                            .insert(k.clone(), (!v.is_empty()).then(|| v.clone()));
                    }
                    self.app.insert(id.clone(), r);
                    self.links.insert(
                        id.clone(),
                        Link {
                            app_id: id,
                            hubspot_id: hubspot_id.clone(),
                            memory: memory.clone(),
                            pending: BTreeMap::new(),
                        },
                    );
                }
                Decision::Skip { .. } | Decision::InStep { .. } | Decision::DuplicateKey { .. } => {
                }
            }
        }
    }
}

fn writes_anything(d: &[Decision]) -> bool {
    d.iter()
        .any(|d| !matches!(d, Decision::Skip { .. } | Decision::DuplicateKey { .. }))
}

/// A random world: app rows, HubSpot records, some emails shared.
fn world() -> impl Strategy<Value = World> {
    let app = prop::collection::vec(
        (
            prop::option::of(0..EMAILS.len()),
            0..NAMES.len(),
            0..NAMES.len(),
        ),
        0..8,
    );
    let hubspot = prop::collection::vec((0..EMAILS.len(), 0..NAMES.len(), 0..NAMES.len()), 0..8);
    (app, hubspot).prop_map(|(app, hubspot)| {
        let mut w = World::default();
        for (i, (e, f, l)) in app.into_iter().enumerate() {
            let id = (i + 1).to_string();
            w.app.insert(
                id.clone(),
                app_rec(&id, e.map(|e| EMAILS[e]), NAMES[f], NAMES[l]),
            );
        }
        let mut seen = HashSet::new();
        for (i, (e, f, l)) in hubspot.into_iter().enumerate() {
            // HubSpot holds an email once.
            if !seen.insert(e) {
                continue;
            }
            let id = format!("5{i}");
            let props = BTreeMap::from([
                ("email".to_string(), EMAILS[e].to_string()),
                ("firstname".to_string(), NAMES[f].to_string()),
                ("lastname".to_string(), NAMES[l].to_string()),
            ]);
            w.hubspot.insert(id.clone(), hs_rec(&id, &props));
        }
        w
    })
}

fn rules(both: bool, hubspot_wins: bool) -> SyncRules {
    let mut r = if both {
        SyncRules::both()
    } else {
        SyncRules::to_hubspot()
    };
    if hubspot_wins {
        r.system_of_record = Side::HubSpot;
    }
    r
}

/// Edits after the first sync: (side is app?, which record, field, name).
type Edit = (bool, usize, usize, usize);

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(
        (any::<bool>(), 0..16usize, 0..2usize, 0..NAMES.len()),
        0..10,
    )
}

fn apply_edits(w: &mut World, edits: &[Edit]) {
    let links: Vec<Link> = w.links.values().cloned().collect();
    if links.is_empty() {
        return;
    }
    for &(on_app, which, field, name) in edits {
        let l = &links[which % links.len()];
        let v = NAMES[name].to_string();
        if on_app {
            let col = ["first_name", "last_name"][field];
            w.write_app(&l.app_id, &BTreeMap::from([(col.to_string(), v)]));
        } else {
            let prop = ["firstname", "lastname"][field];
            w.write_hubspot(&l.hubspot_id, &BTreeMap::from([(prop.to_string(), v)]));
        }
    }
}

proptest! {
    #[test]
    fn a_second_pass_after_an_applied_pass_plans_nothing(
        mut w in world(), both in any::<bool>(), hubspot_wins in any::<bool>()
    ) {
        let m = mapping();
        let r = rules(both, hubspot_wins);
        let first = w.plan(&m, &r);
        w.apply(&first);
        let second = w.plan(&m, &r);
        prop_assert!(!writes_anything(&second), "second pass planned {second:?}");
    }

    #[test]
    fn two_way_sync_converges_whatever_each_side_edited(
        mut w in world(), e in edits(), hubspot_wins in any::<bool>()
    ) {
        let m = mapping();
        let r = rules(true, hubspot_wins);
        let first = w.plan(&m, &r);
        w.apply(&first);
        apply_edits(&mut w, &e);
        let again = w.plan(&m, &r);
        w.apply(&again);
        for l in w.links.values() {
            let app = &w.app[&l.app_id];
            let hs = &w.hubspot[&l.hubspot_id];
            for f in &m.fields {
                prop_assert!(
                    same_values(&f.hubspot_from_app(app), &f.hubspot_values(hs)),
                    "{} differs after sync: {:?} vs {:?}", f.label(), app, hs
                );
            }
        }
        let third = w.plan(&m, &r);
        prop_assert!(!writes_anything(&third), "converged world planned {third:?}");
    }

    #[test]
    fn no_plan_creates_a_record_whose_key_the_other_side_holds(
        w in world(), both in any::<bool>()
    ) {
        let m = mapping();
        let d = w.plan(&m, &rules(both, false));
        let in_hubspot: HashSet<String> = w
            .hubspot
            .values()
            .filter_map(|o| o.prop("email").map(email_key))
            .collect();
        let in_app: HashSet<String> = w
            .app
            .values()
            .filter_map(|r| r.field("email").map(email_key))
            .collect();
        let mut created = HashSet::new();
        for d in &d {
            match d {
                Decision::CreateInHubSpot { properties, .. } => {
                    let k = email_key(&properties["email"]);
                    prop_assert!(!in_hubspot.contains(&k), "created {k} that HubSpot holds");
                    prop_assert!(created.insert(k.clone()), "created {k} twice");
                }
                Decision::CreateInApp { values, .. } => {
                    let k = email_key(&values["email"]);
                    prop_assert!(!in_app.contains(&k), "created {k} that the app holds");
                    prop_assert!(created.insert(k.clone()), "created {k} twice");
                }
                _ => {}
            }
        }
    }
}
