//! Properties of the pure planner over random worlds: after the plan is
//! applied, planning again writes nothing; and no plan ever creates a record
//! whose key HubSpot already holds.

use hubsync::appdb::AppRecord;
use hubsync::hubspot::wire::SimplePublicObject;
use hubsync::model::email_key;
use hubsync::sync::mapping::ObjectMapping;
use hubsync::sync::plan::{Decision, PlanInput, plan};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};

const EMAILS: [&str; 6] = [
    "ada@example.com",
    "grace@example.com",
    "alan@example.com",
    "kay@example.com",
    "tim@example.com",
    "lin@example.com",
];
const NAMES: [&str; 3] = ["Ada", "Grace", ""];

/// A small in-memory HubSpot plus the link table.
#[derive(Debug, Clone, Default)]
struct World {
    hubspot: BTreeMap<String, SimplePublicObject>,
    links: HashMap<String, String>,
    next_id: u64,
}

impl World {
    fn input<'a>(
        &self,
        m: &'a ObjectMapping,
        records: &'a [AppRecord],
        scratch: &'a mut Scratch,
    ) -> PlanInput<'a> {
        scratch.links = records
            .iter()
            .filter_map(|r| self.links.get(&r.id).map(|h| (r.id.clone(), h.clone())))
            .collect();
        scratch.by_id = scratch
            .links
            .values()
            .filter_map(|h| self.hubspot.get(h).map(|o| (h.clone(), o.clone())))
            .collect();
        scratch.by_key = self
            .hubspot
            .values()
            .filter_map(|o| o.prop("email").map(|e| (email_key(e), o.clone())))
            .collect();
        scratch.linked_hubspot = self
            .links
            .iter()
            .map(|(a, h)| (h.clone(), a.clone()))
            .collect();
        PlanInput {
            mapping: m,
            records,
            links: &scratch.links,
            by_id: &scratch.by_id,
            by_key: &scratch.by_key,
            linked_hubspot: &scratch.linked_hubspot,
            may_create: true,
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
                    diff,
                } => {
                    self.links.insert(app_id.clone(), hubspot_id.clone());
                    self.write(hubspot_id, diff);
                }
                Decision::Update {
                    hubspot_id, diff, ..
                } => self.write(hubspot_id, diff),
                Decision::Create { app_id, properties } => {
                    self.next_id += 1;
                    let id = format!("9{}", self.next_id);
                    self.hubspot.insert(
                        id.clone(),
                        obj(
                            &id,
                            properties.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                        ),
                    );
                    self.links.insert(app_id.clone(), id);
                }
                Decision::Skip { .. } | Decision::InStep { .. } => {}
            }
        }
    }

    fn write(&mut self, id: &str, diff: &BTreeMap<String, String>) {
        let o = self
            .hubspot
            .get_mut(id)
            .expect("writes go to existing records");
        for (k, v) in diff {
            o.properties.insert(k.clone(), Some(v.clone()));
        }
    }
}

#[derive(Default)]
struct Scratch {
    links: HashMap<String, String>,
    by_id: HashMap<String, SimplePublicObject>,
    by_key: HashMap<String, SimplePublicObject>,
    linked_hubspot: HashMap<String, String>,
}

fn obj<'a>(id: &str, props: impl Iterator<Item = (&'a str, &'a str)>) -> SimplePublicObject {
    SimplePublicObject {
        id: id.into(),
        properties: props
            .map(|(k, v)| (k.to_string(), Some(v.to_string())))
            .collect(),
        created_at: None,
        updated_at: None,
        archived: false,
    }
}

fn email_variant() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        1 => Just(None),
        6 => (0..EMAILS.len(), 0..3usize).prop_map(|(i, v)| Some(match v {
            0 => EMAILS[i].to_string(),
            1 => EMAILS[i].to_uppercase(),
            _ => format!("  {} ", EMAILS[i]),
        })),
    ]
}

fn records() -> impl Strategy<Value = Vec<AppRecord>> {
    prop::collection::vec((email_variant(), 0..NAMES.len()), 0..12).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (email, name))| AppRecord {
                id: (i + 1).to_string(),
                fields: BTreeMap::from([
                    ("email".to_string(), email),
                    ("first_name".to_string(), Some(NAMES[name].to_string())),
                ]),
                hubspot_id: None,
                updated_at: String::new(),
            })
            .collect()
    })
}

fn world() -> impl Strategy<Value = World> {
    prop::collection::btree_map(0..EMAILS.len(), 0..NAMES.len(), 0..EMAILS.len()).prop_map(|m| {
        let hubspot = m
            .into_iter()
            .map(|(e, n)| {
                let id = format!("{}", 100 + e);
                (
                    id.clone(),
                    obj(
                        &id,
                        [("email", EMAILS[e]), ("firstname", NAMES[n])].into_iter(),
                    ),
                )
            })
            .collect();
        World {
            hubspot,
            links: HashMap::new(),
            next_id: 0,
        }
    })
}

proptest! {
    #[test]
    fn a_second_pass_after_an_applied_pass_plans_no_write(records in records(), mut world in world()) {
        let m = ObjectMapping::demo_contacts();
        let mut scratch = Scratch::default();
        let first = plan(&world.input(&m, &records, &mut scratch));
        world.apply(&first);
        let second = plan(&world.input(&m, &records, &mut scratch));
        let writes: Vec<_> = second.iter().filter(|d| !matches!(d, Decision::Skip { .. })).collect();
        prop_assert!(writes.is_empty(), "first {first:?}\nsecond {second:?}");
    }

    #[test]
    fn no_plan_creates_a_record_whose_key_hubspot_already_holds(records in records(), world in world()) {
        let m = ObjectMapping::demo_contacts();
        let mut scratch = Scratch::default();
        let decisions = plan(&world.input(&m, &records, &mut scratch));
        let mut created = Vec::new();
        for d in &decisions {
            if let Decision::Create { properties, .. } = d {
                let key = email_key(&properties["email"]);
                prop_assert!(!scratch.by_key.contains_key(&key), "created {key}, which HubSpot has");
                prop_assert!(!created.contains(&key), "created {key} twice");
                created.push(key);
            }
        }
    }
}
