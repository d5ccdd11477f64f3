//! One rule of SPEC §2 per test, in files by the pass's steps; the
//! helpers that build a batch to plan are here.

mod companies;
mod create_and_link;
mod unlink;
mod update;

use super::*;
use crate::model::{Direction, Side};
use crate::sync::transform::Transform;

fn rec(id: &str, email: Option<&str>, first: &str) -> AppRecord {
    let mut fields = BTreeMap::new();
    fields.insert("email".to_string(), email.map(str::to_string));
    fields.insert("first_name".to_string(), Some(first.to_string()));
    AppRecord {
        id: id.into(),
        fields,
        hubspot_id: None,
        updated_at: "2026-01-01T00:00:00.000Z".into(),
    }
}

fn hs(id: &str, email: &str, first: &str) -> SimplePublicObject {
    let mut properties = BTreeMap::new();
    for (k, v) in [("email", email), ("firstname", first)] {
        properties.insert(k.to_string(), Some(v.to_string()));
    }
    SimplePublicObject {
        id: id.into(),
        properties,
        created_at: None,
        updated_at: None,
        archived: false,
    }
}

fn mapping() -> ObjectMapping {
    let mut m = ObjectMapping::demo_contacts();
    m.fields.truncate(2);
    m
}

fn memory(email: &str, first: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("email".to_string(), email.to_string()),
        ("firstname".to_string(), first.to_string()),
    ])
}

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Contact → its HubSpot companies, and app company → HubSpot company.
type Companies = (HashMap<String, Vec<String>>, HashMap<String, String>);

/// A small world: app records, HubSpot records, links. By default every
/// record is in the feed (the batch being planned).
struct World {
    mapping: ObjectMapping,
    rules: SyncRules,
    app: HashMap<String, AppRecord>,
    hubspot: HashMap<String, SimplePublicObject>,
    links: Vec<Link>,
    app_feed: Vec<String>,
    hubspot_feed: Vec<String>,
    tombstones: HashSet<String>,
    merged: HashMap<String, String>,
    companies: Option<Companies>,
}

impl World {
    fn new(rules: SyncRules) -> Self {
        World {
            mapping: mapping(),
            rules,
            app: HashMap::new(),
            hubspot: HashMap::new(),
            links: vec![],
            app_feed: vec![],
            hubspot_feed: vec![],
            tombstones: HashSet::new(),
            merged: HashMap::new(),
            companies: None,
        }
    }
    fn app(mut self, r: AppRecord) -> Self {
        self.app_feed.push(r.id.clone());
        self.app.insert(r.id.clone(), r);
        self
    }
    fn hubspot(mut self, o: SimplePublicObject) -> Self {
        self.hubspot_feed.push(o.id.clone());
        self.hubspot.insert(o.id.clone(), o);
        self
    }
    fn linked(mut self, app: &str, hub: &str, memory: BTreeMap<String, String>) -> Self {
        self.links.push(Link {
            app_id: app.into(),
            hubspot_id: hub.into(),
            memory,
            pending: BTreeMap::new(),
        });
        self
    }
    fn plan(&self) -> Vec<Decision> {
        let app_links: HashMap<String, String> = self
            .links
            .iter()
            .map(|l| (l.app_id.clone(), l.hubspot_id.clone()))
            .collect();
        let hubspot_links: HashMap<String, String> = self
            .links
            .iter()
            .map(|l| (l.hubspot_id.clone(), l.app_id.clone()))
            .collect();
        let unlinked_app: Vec<String> = self
            .app_feed
            .iter()
            .filter(|a| !app_links.contains_key(*a))
            .cloned()
            .collect();
        let unlinked_hubspot: Vec<String> = self
            .hubspot_feed
            .iter()
            .filter(|h| !hubspot_links.contains_key(*h))
            .cloned()
            .collect();
        plan(&PlanInput {
            mapping: &self.mapping,
            rules: &self.rules,
            pairs: &self.links,
            unlinked_app: &unlinked_app,
            unlinked_hubspot: &unlinked_hubspot,
            app: &self.app,
            hubspot: &self.hubspot,
            app_links: &app_links,
            hubspot_links: &hubspot_links,
            tombstones: &self.tombstones,
            merged: &self.merged,
            companies: self.companies.as_ref().map(|(assoc, by_app)| CompanyLinks {
                associations: assoc,
                by_app,
                by_hubspot: Box::leak(Box::new(
                    by_app.iter().map(|(a, h)| (h.clone(), a.clone())).collect(),
                )),
            }),
        })
    }
}

/// Ada linked (app 1 ↔ HubSpot 501): her first name in the app, in
/// HubSpot, and as the link remembers it.
fn ada_pair(rules: SyncRules, app: &str, hubspot: &str, remembered: &str) -> World {
    World::new(rules)
        .app(rec("1", Some("ada@example.com"), app))
        .hubspot(hs("501", "ada@example.com", hubspot))
        .linked("1", "501", memory("ada@example.com", remembered))
}

fn one(mut d: Vec<Decision>) -> Decision {
    assert_eq!(d.len(), 1, "expected one decision, got {d:?}");
    d.remove(0)
}

fn update_of(d: Decision) -> Writes {
    match d {
        Decision::Update { writes, .. } | Decision::Link { writes, .. } => writes,
        other => panic!("expected an update, got {other:?}"),
    }
}
