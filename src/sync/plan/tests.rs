//! One rule of SPEC §2 per test.

use super::*;
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

// ---- step 2: create and link ----

#[test]
fn an_unlinked_record_whose_email_exists_in_hubspot_is_linked_not_duplicated() {
    let w = World::new(SyncRules::to_hubspot())
        .app(rec("1", Some(" Ada@Example.com "), "Ada"))
        .hubspot(hs("501", "ada@example.com", "Ada"));
    let Decision::Link {
        app_id,
        hubspot_id,
        writes,
    } = one(w.plan())
    else {
        panic!("expected a link")
    };
    assert_eq!((app_id.as_str(), hubspot_id.as_str()), ("1", "501"));
    assert!(writes.is_empty());
}

#[test]
fn linking_writes_the_fields_that_differ() {
    let w = World::new(SyncRules::to_hubspot())
        .app(rec("1", Some("ada@example.com"), "Ada"))
        .hubspot(hs("501", "ada@example.com", "A."));
    assert_eq!(
        update_of(one(w.plan())).to_hubspot,
        props(&[("firstname", "Ada")])
    );
}

#[test]
fn an_unmatched_app_record_is_created_in_hubspot_without_empty_properties() {
    let w = World::new(SyncRules::to_hubspot()).app(rec("1", Some("new@example.com"), ""));
    let Decision::CreateInHubSpot { properties, .. } = one(w.plan()) else {
        panic!("expected one create")
    };
    assert_eq!(properties, props(&[("email", "new@example.com")]));
}

#[test]
fn an_unmatched_hubspot_record_is_created_in_the_app_when_the_object_syncs_both_ways() {
    let w = World::new(SyncRules::both()).hubspot(hs("501", "ada@example.com", "Ada"));
    let Decision::CreateInApp {
        hubspot_id,
        values,
        memory: mem,
    } = one(w.plan())
    else {
        panic!("expected a create in the app")
    };
    assert_eq!(hubspot_id, "501");
    assert_eq!(
        values,
        props(&[("email", "ada@example.com"), ("first_name", "Ada")])
    );
    assert_eq!(mem, memory("ada@example.com", "Ada"));
}

#[test]
fn an_unlinked_hubspot_record_whose_email_is_in_the_app_is_linked() {
    let mut w = World::new(SyncRules::both()).hubspot(hs("501", "ada@example.com", "Ada"));
    let r = rec("1", Some("ADA@example.com"), "Ada");
    w.app.insert("1".into(), r);
    assert!(matches!(
        one(w.plan()),
        Decision::Link { app_id, hubspot_id, .. } if app_id == "1" && hubspot_id == "501"
    ));
}

#[test]
fn an_app_row_carrying_the_hubspot_id_is_relinked_after_a_lost_link() {
    let mut w = World::new(SyncRules::both()).hubspot(hs("501", "ada@example.com", "Ada"));
    let mut r = rec("7", Some("other@example.com"), "Ada");
    r.hubspot_id = Some("501".into());
    w.app.insert("7".into(), r);
    assert!(matches!(
        one(w.plan()),
        Decision::Link { app_id, .. } if app_id == "7"
    ));
}

#[test]
fn the_same_pair_seen_from_both_feeds_is_linked_once() {
    let w = World::new(SyncRules::both())
        .app(rec("1", Some("ada@example.com"), "Ada"))
        .hubspot(hs("501", "ada@example.com", "Ada"));
    assert!(matches!(one(w.plan()), Decision::Link { .. }));
}

#[test]
fn a_record_without_an_email_is_skipped_with_the_reason() {
    let w = World::new(SyncRules::to_hubspot()).app(rec("1", None, "Nobody"));
    let Decision::Skip { reason, .. } = one(w.plan()) else {
        panic!("expected a skip")
    };
    assert!(reason.contains("no email"), "{reason}");
}

#[test]
fn two_app_records_with_one_email_create_one_hubspot_record() {
    let w = World::new(SyncRules::to_hubspot())
        .app(rec("1", Some("ada@example.com"), "Ada"))
        .app(rec("2", Some("ADA@example.com"), "Ada"));
    let d = w.plan();
    assert_eq!(d.len(), 2);
    assert!(
        d.iter()
            .any(|d| matches!(d, Decision::CreateInHubSpot { .. }))
    );
    assert!(
        d.iter().any(
            |d| matches!(d, Decision::DuplicateKey { app_id, other, reason, .. } if app_id == "2" && other == "1" && reason.contains("app records 2 and 1 share email"))
        )
    );
}

#[test]
fn a_hubspot_record_linked_to_another_app_record_is_not_linked_again() {
    let mut w = World::new(SyncRules::to_hubspot()).app(rec("2", Some("ada@example.com"), "Ada"));
    w.hubspot
        .insert("501".into(), hs("501", "ada@example.com", "Ada"));
    let links = HashMap::from([("1".to_string(), "501".to_string())]);
    let back = HashMap::from([("501".to_string(), "1".to_string())]);
    let d = plan(&PlanInput {
        mapping: &w.mapping,
        rules: &w.rules,
        pairs: &[],
        unlinked_app: &["2".to_string()],
        unlinked_hubspot: &[],
        app: &w.app,
        hubspot: &w.hubspot,
        app_links: &links,
        hubspot_links: &back,
        tombstones: &HashSet::new(),
        merged: &HashMap::new(),
        companies: None,
    });
    assert!(
        matches!(&d[..], [Decision::DuplicateKey { other, reason, .. }] if other == "1" && reason.contains("already linked to app record 1")),
        "{d:?}"
    );
}

#[test]
fn without_create_permission_an_unmatched_record_is_skipped() {
    let mut rules = SyncRules::to_hubspot();
    rules.create_in_hubspot = false;
    let w = World::new(rules).app(rec("1", Some("new@example.com"), "New"));
    assert!(
        matches!(one(w.plan()), Decision::Skip { reason, .. } if reason.contains("may not create"))
    );
}

#[test]
fn a_one_way_object_does_not_create_app_records_from_hubspot() {
    let w = World::new(SyncRules::to_hubspot()).hubspot(hs("501", "ada@example.com", "Ada"));
    assert_eq!(w.plan(), vec![]);
}

// ---- step 1: unlink ----

#[test]
fn a_link_whose_hubspot_record_is_gone_is_unlinked_and_the_record_matched_again() {
    let w = World::new(SyncRules::to_hubspot())
        .app(rec("1", Some("ada@example.com"), "Ada"))
        .linked("1", "501", memory("ada@example.com", "Ada"));
    let d = w.plan();
    assert_eq!(
        d[0],
        Decision::Unlink {
            app_id: "1".into(),
            hubspot_id: "501".into(),
            gone: Gone::HubSpot
        }
    );
    assert!(matches!(d[1], Decision::CreateInHubSpot { .. }));
}

#[test]
fn a_hubspot_id_on_an_unlinked_app_row_is_followed_when_the_record_exists() {
    let mut r = rec("1", Some("other@example.com"), "Ada");
    r.hubspot_id = Some("501".into());
    let mut w = World::new(SyncRules::both()).app(r);
    w.hubspot
        .insert("501".into(), hs("501", "ada@example.com", "Ada"));
    assert!(matches!(
        one(w.plan()),
        Decision::Link { app_id, hubspot_id, .. } if app_id == "1" && hubspot_id == "501"
    ));
}

#[test]
fn a_hubspot_id_on_an_app_row_whose_record_is_gone_is_dropped_and_the_row_matched_again() {
    let mut r = rec("1", Some("new@example.com"), "Ada");
    r.hubspot_id = Some("non-existing-1".into());
    let w = World::new(SyncRules::to_hubspot()).app(r);
    let d = w.plan();
    assert_eq!(
        d[0],
        Decision::Unlink {
            app_id: "1".into(),
            hubspot_id: "non-existing-1".into(),
            gone: Gone::HubSpot
        }
    );
    assert!(matches!(d[1], Decision::CreateInHubSpot { .. }), "{d:?}");
}

#[test]
fn a_link_whose_app_record_was_deleted_is_unlinked_and_hubspot_is_left_alone() {
    let w = World::new(SyncRules::both())
        .hubspot(hs("501", "ada@example.com", "Ada"))
        .linked("1", "501", memory("ada@example.com", "Ada"));
    assert_eq!(
        w.plan(),
        vec![Decision::Unlink {
            app_id: "1".into(),
            hubspot_id: "501".into(),
            gone: Gone::App
        }]
    );
}

#[test]
fn a_contact_merged_away_is_relinked_to_the_surviving_record() {
    let mut w = World::new(SyncRules::both())
        .app(rec("1", Some("ada@example.com"), "Ada"))
        .linked("1", "501", memory("ada@example.com", "Ada"));
    w.hubspot
        .insert("777".into(), hs("777", "ada@example.com", "Ada"));
    w.merged.insert("501".into(), "777".into());
    assert!(matches!(
        one(w.plan()),
        Decision::Relink { app_id, from, hubspot_id, writes }
            if app_id == "1" && from == "501" && hubspot_id == "777" && writes.is_empty()
    ));
}

#[test]
fn a_merge_into_a_record_linked_elsewhere_unlinks_instead_of_sharing_it() {
    let mut w = World::new(SyncRules::both())
        .app(rec("1", Some("ada@example.com"), "Ada"))
        .app(rec("2", Some("ada2@example.com"), "Ada"))
        .hubspot(hs("777", "ada2@example.com", "Ada"))
        .linked("1", "501", memory("ada@example.com", "Ada"))
        .linked("2", "777", memory("ada2@example.com", "Ada"));
    w.merged.insert("501".into(), "777".into());
    let d = w.plan();
    assert!(
        d.iter().any(
            |d| matches!(d, Decision::Unlink { app_id, gone: Gone::HubSpot, .. } if app_id == "1")
        ),
        "{d:?}"
    );
    assert!(!d.iter().any(|d| matches!(d, Decision::Relink { .. })));
}

#[test]
fn a_hubspot_record_whose_app_record_was_deleted_is_not_created_again() {
    let mut w = World::new(SyncRules::both()).hubspot(hs("501", "ada@example.com", "Ada"));
    w.tombstones.insert("501".into());
    assert!(
        matches!(one(w.plan()), Decision::Skip { reason, .. } if reason.contains("was deleted"))
    );
}

// ---- step 3: update ----

#[test]
fn a_linked_pair_in_step_plans_nothing() {
    let w = ada_pair(SyncRules::both(), "Ada", "Ada", "Ada");
    assert_eq!(w.plan(), vec![]);
}

#[test]
fn an_app_change_is_written_to_hubspot_with_the_exact_diff() {
    let w = ada_pair(SyncRules::both(), "Augusta", "Ada", "Ada");
    let writes = update_of(one(w.plan()));
    assert_eq!(writes.to_hubspot, props(&[("firstname", "Augusta")]));
    assert!(writes.to_app.is_empty());
}

#[test]
fn a_hubspot_change_is_written_to_the_app() {
    let w = ada_pair(SyncRules::both(), "Ada", "Augusta", "Ada");
    let writes = update_of(one(w.plan()));
    assert_eq!(writes.to_app, props(&[("first_name", "Augusta")]));
    assert!(writes.to_hubspot.is_empty());
}

#[test]
fn a_same_field_conflict_is_won_by_the_system_of_record() {
    let base = || ada_pair(SyncRules::both(), "App-Ada", "Hub-Ada", "Ada");
    let app_wins = update_of(one(base().plan()));
    assert_eq!(app_wins.to_hubspot, props(&[("firstname", "App-Ada")]));
    let mut w = base();
    w.rules.system_of_record = Side::HubSpot;
    let hubspot_wins = update_of(one(w.plan()));
    assert_eq!(hubspot_wins.to_app, props(&[("first_name", "Hub-Ada")]));
}

#[test]
fn different_fields_changed_on_each_side_are_both_kept() {
    let mut w = World::new(SyncRules::both())
        .app(rec("1", Some("ada@example.com"), "Augusta"))
        .linked("1", "501", memory("ada@example.com", "Ada"));
    w.mapping
        .fields
        .push(crate::sync::mapping::FieldMap::simple(
            "phone",
            "phone",
            Transform::None,
        ));
    let mut o = hs("501", "ada@example.com", "Ada");
    o.properties.insert("phone".into(), Some("+44 1".into()));
    w = w.hubspot(o);
    let writes = update_of(one(w.plan()));
    assert_eq!(writes.to_hubspot, props(&[("firstname", "Augusta")]));
    assert_eq!(writes.to_app, props(&[("phone", "+44 1")]));
}

#[test]
fn an_echo_of_the_engines_own_write_is_not_synced_back() {
    // The engine wrote "Augusta" to HubSpot and remembered it; HubSpot's
    // change feed now shows that record as modified.
    let w = ada_pair(SyncRules::both(), "Augusta", "Augusta", "Augusta");
    assert_eq!(w.plan(), vec![]);
}

#[test]
fn a_field_that_flows_only_to_hubspot_overwrites_a_hubspot_edit() {
    let w = ada_pair(SyncRules::to_hubspot(), "Ada", "Edited", "Ada");
    assert_eq!(
        update_of(one(w.plan())).to_hubspot,
        props(&[("firstname", "Ada")])
    );
}

#[test]
fn a_field_mapped_to_the_app_only_never_writes_hubspot() {
    let mut w = ada_pair(SyncRules::both(), "Augusta", "Ada", "Ada");
    w.mapping.fields[1].direction = Direction::ToApp;
    let writes = update_of(one(w.plan()));
    assert!(writes.to_hubspot.is_empty());
    assert_eq!(writes.to_app, props(&[("first_name", "Ada")]));
}

#[test]
fn only_if_empty_never_overwrites_a_value_in_the_target() {
    let mut w = ada_pair(SyncRules::to_hubspot(), "Augusta", "Ada", "Ada");
    w.mapping.fields[1].only_if_empty = true;
    assert_eq!(w.plan(), vec![]);
    let mut w2 = ada_pair(SyncRules::to_hubspot(), "Augusta", "", "");
    w2.mapping.fields[1].only_if_empty = true;
    assert_eq!(
        update_of(one(w2.plan())).to_hubspot,
        props(&[("firstname", "Augusta")])
    );
}

#[test]
fn a_default_fills_an_empty_app_value_on_the_way_to_hubspot() {
    let mut w = World::new(SyncRules::to_hubspot()).app(rec("1", Some("new@example.com"), ""));
    w.mapping.fields[1].default = Some("Unknown".into());
    let Decision::CreateInHubSpot { properties, .. } = one(w.plan()) else {
        panic!("expected a create")
    };
    assert_eq!(
        properties.get("firstname").map(String::as_str),
        Some("Unknown")
    );
}

#[test]
fn a_newly_linked_pair_fills_empty_fields_from_the_side_that_has_them() {
    let w = World::new(SyncRules::both())
        .app(rec("1", Some("ada@example.com"), ""))
        .hubspot(hs("501", "ada@example.com", "Ada"));
    let writes = update_of(one(w.plan()));
    assert_eq!(writes.to_app, props(&[("first_name", "Ada")]));
    assert!(writes.to_hubspot.is_empty());
}

#[test]
fn equal_values_in_different_shapes_are_not_a_change() {
    let mut w = World::new(SyncRules::both());
    let mut r = rec("1", Some("ada@example.com"), "Ada");
    r.fields.insert("phone".into(), Some("2026-01-05".into()));
    let mut o = hs("501", "ada@example.com", "Ada");
    o.properties
        .insert("phone".into(), Some("2026-01-05T00:00:00.000Z".into()));
    w.mapping
        .fields
        .push(crate::sync::mapping::FieldMap::simple(
            "phone",
            "phone",
            Transform::None,
        ));
    let mut mem = memory("ada@example.com", "Ada");
    mem.insert("phone".into(), "2026-01-05".into());
    w = w.app(r).hubspot(o).linked("1", "501", mem);
    assert_eq!(w.plan(), vec![]);
}

#[test]
fn a_memory_that_is_behind_is_brought_up_to_date_without_a_write() {
    // Both sides were changed to the same value (or a crash came between a
    // write and remembering it).
    let w = ada_pair(SyncRules::both(), "Augusta", "Augusta", "Ada");
    let writes = update_of(one(w.plan()));
    assert!(writes.is_empty());
    assert_eq!(writes.memory, memory("ada@example.com", "Augusta"));
}

// ---- a contact's company ----

/// A linked contact whose app row names company `app_company` (None: no
/// company), associated in HubSpot with `associated`; app companies 7 and 8
/// are linked to HubSpot companies 900 and 901.
fn with_company(app_company: Option<&str>, associated: &[&str], remembered: Option<&str>) -> World {
    let mut r = rec("1", Some("ada@example.com"), "Ada");
    r.fields
        .insert("company_id".into(), app_company.map(str::to_string));
    let mut mem = memory("ada@example.com", "Ada");
    if let Some(c) = remembered {
        mem.insert(crate::sync::mapping::COMPANY.into(), c.into());
    }
    let mut w = World::new(SyncRules::both())
        .app(r)
        .hubspot(hs("501", "ada@example.com", "Ada"))
        .linked("1", "501", mem);
    w.mapping.company_column = Some("company_id".into());
    w.companies = Some((
        HashMap::from([(
            "501".to_string(),
            associated.iter().map(|s| s.to_string()).collect(),
        )]),
        HashMap::from([
            ("7".to_string(), "900".to_string()),
            ("8".to_string(), "901".to_string()),
        ]),
    ));
    w
}

#[test]
fn a_contacts_company_follows_its_hubspot_association_into_the_app() {
    let w = with_company(None, &["900"], None);
    let writes = update_of(one(w.plan()));
    assert_eq!(writes.to_app, props(&[("company_id", "7")]));
    assert_eq!(
        writes.memory_after().get("@company").map(String::as_str),
        Some("900")
    );
}

#[test]
fn a_company_changed_in_the_app_is_associated_in_hubspot() {
    let w = with_company(Some("8"), &["900"], Some("900"));
    let writes = update_of(one(w.plan()));
    assert_eq!(writes.to_hubspot, props(&[("@company", "901")]));
    assert!(writes.to_app.is_empty());
}

#[test]
fn a_contacts_company_in_step_plans_nothing() {
    let w = with_company(Some("8"), &["900", "901"], Some("901"));
    assert_eq!(w.plan(), vec![]);
}

#[test]
fn an_app_company_not_linked_yet_leaves_the_association_alone() {
    let w = with_company(Some("99"), &["900"], None);
    assert_eq!(w.plan(), vec![]);
}

#[test]
fn a_hubspot_company_the_app_does_not_have_leaves_the_apps_company_alone() {
    let w = with_company(Some("7"), &["999"], Some("900"));
    assert_eq!(w.plan(), vec![]);
}

// ---- review findings ----

#[test]
fn an_app_edit_excluded_by_a_filter_is_not_overwritten_from_hubspot() {
    let mut w = ada_pair(SyncRules::both(), "Augusta", "Ada", "Ada");
    w.rules.filters_to_hubspot =
        crate::sync::filter::Filters::new(vec![crate::sync::filter::FilterGroup::new(vec![
            crate::sync::filter::Filter::new("first_name", "equals", vec!["Ada".into()]).unwrap(),
        ])])
        .unwrap();
    assert_eq!(w.plan(), vec![], "neither written to HubSpot nor reverted");
}

#[test]
fn an_empty_source_with_no_history_never_erases_a_one_way_field() {
    let w = World::new(SyncRules::to_hubspot())
        .app(rec("1", Some("ada@example.com"), ""))
        .hubspot(hs("501", "ada@example.com", "Ada"));
    let writes = update_of(one(w.plan()));
    assert!(writes.to_hubspot.is_empty(), "{writes:?}");
}

fn company(id: &str, domain: Option<&str>, name: &str) -> AppRecord {
    let mut fields = BTreeMap::new();
    fields.insert("domain".to_string(), domain.map(str::to_string));
    fields.insert("name".to_string(), Some(name.to_string()));
    AppRecord {
        id: id.into(),
        fields,
        hubspot_id: None,
        updated_at: String::new(),
    }
}

fn hs_company(id: &str, domain: &str, name: &str) -> SimplePublicObject {
    let mut o = hs(id, "", "");
    o.properties = BTreeMap::from([
        ("domain".to_string(), Some(domain.to_string())),
        ("name".to_string(), Some(name.to_string())),
    ]);
    o
}

fn companies_world() -> World {
    let mut w = World::new(SyncRules::both());
    w.mapping = ObjectMapping {
        object: crate::model::ObjectKind::Companies,
        keys: vec![
            crate::sync::mapping::KeyMap {
                app_column: "domain".into(),
                hubspot_property: "domain".into(),
            },
            crate::sync::mapping::KeyMap {
                app_column: "name".into(),
                hubspot_property: "name".into(),
            },
        ],
        fields: vec![
            crate::sync::mapping::FieldMap::simple("domain", "domain", Transform::LowercaseTrim),
            crate::sync::mapping::FieldMap::simple("name", "name", Transform::None),
        ],
        label_column: "name".into(),
        ..ObjectMapping::demo_contacts()
    };
    w
}

#[test]
fn companies_whose_domains_differ_are_not_matched_by_name() {
    let w = companies_world()
        .app(company("1", Some("acme.de"), "Acme"))
        .hubspot(hs_company("900", "acme.com", "Acme"));
    let d = w.plan();
    assert!(
        d.iter().all(|d| !matches!(d, Decision::Link { .. })),
        "{d:?}"
    );
}

#[test]
fn a_company_without_a_domain_is_matched_by_name() {
    let w = companies_world()
        .app(company("1", None, "Acme"))
        .hubspot(hs_company("900", "acme.com", "Acme"));
    assert!(w.plan().iter().any(|d| matches!(d, Decision::Link { .. })));
}

#[test]
fn two_companies_sharing_a_name_but_not_a_domain_are_both_created() {
    let w = companies_world()
        .app(company("1", Some("acme.com"), "Acme"))
        .app(company("2", Some("acme.de"), "Acme"));
    let creates = w
        .plan()
        .into_iter()
        .filter(|d| matches!(d, Decision::CreateInHubSpot { .. }))
        .count();
    assert_eq!(creates, 2);
}
