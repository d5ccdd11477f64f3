//! SPEC §2 step 1: links whose other side is gone, merged or deleted.

use super::*;

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
