//! SPEC §2 step 2: unlinked records matched by key and linked, or created on the other side.

use super::*;

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
