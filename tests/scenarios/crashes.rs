//! Crashes between a write and remembering it: to HubSpot, and creating an app row.

use super::*;

// ---- a crash between a HubSpot write and remembering it ----

/// Ada linked; the app renamed her and the engine had noted the write to
/// HubSpot when it died: `landed` says whether HubSpot got it. Then a
/// HubSpot user edits the same field.
async fn crashed_mid_write(kind: Kind, landed: bool) -> (World, Arc<Engine>, String) {
    let (w, e, id) = linked_ada(kind, SyncRules::both()).await;
    w.app("UPDATE contacts SET first_name = 'Augusta'").await;
    let app_id =
        w.db.value("SELECT CAST(id AS TEXT) FROM contacts")
            .await
            .unwrap();
    let sent = props(&[("firstname", "Augusta")]);
    e.store()
        .set_pending(ObjectKind::Contacts, &[(app_id.as_str(), &sent)])
        .await
        .unwrap();
    if landed {
        let r = reqwest::Client::new()
            .patch(format!("{}/crm/v3/objects/contacts/{id}", w.sim.base_url()))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({"properties": {"firstname": "Augusta"}}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    w.sim
        .state()
        .set_property(ObjectKind::Contacts, &id, "firstname", "Ada Lovelace");
    (w, e, id)
}

/// The first name on both sides after the sync that follows the crash.
async fn first_names_after(kind: Kind, landed: bool) -> (Option<String>, Option<String>) {
    let (w, e, id) = crashed_mid_write(kind, landed).await;
    w.sync(&e).await;
    (
        w.hubspot(ObjectKind::Contacts, &id, "firstname"),
        w.app_value("contacts", "email", "ada@example.com", "first_name")
            .await,
    )
}

#[tokio::test]
async fn an_edit_made_after_a_write_that_landed_unconfirmed_is_not_overwritten() {
    on_both("landed_unconfirmed", |kind| async move {
        let want = Some("Ada Lovelace".to_string());
        assert_eq!(first_names_after(kind, true).await, (want.clone(), want));
    })
    .await;
}

#[tokio::test]
async fn a_write_that_never_landed_leaves_a_true_conflict_to_the_system_of_record() {
    on_both("never_landed", |kind| async move {
        let want = Some("Augusta".to_string());
        assert_eq!(first_names_after(kind, false).await, (want.clone(), want));
    })
    .await;
}

// ---- a crash between creating an app row and linking it ----

/// Grace exists only in HubSpot and is created in the app; the engine dies
/// after the app's insert committed and before the link was stored (the
/// row carries her HubSpot id, the state database only the noted create).
/// Then each side edits a different field.
#[tokio::test]
async fn edits_after_a_create_in_the_app_whose_link_a_crash_lost_are_both_kept() {
    on_both(
        "edits_after_a_create_in_the_app_whose_link_a_crash_lost_are_both_kept",
        |kind| async move {
            let w = World::start(
                kind,
                SeedData::contacts(vec![props(&[
                    ("email", "grace@example.com"),
                    ("firstname", "Grace"),
                    ("phone", "1"),
                ])]),
                "",
            )
            .await;
            let e = w.engine(vec![contacts(SyncRules::both())]);
            w.sync(&e).await;
            let id = w.hubspot_id_of("grace@example.com");
            let app_id =
                w.db.value("SELECT CAST(id AS TEXT) FROM contacts")
                    .await
                    .unwrap();
            let link = e
                .store()
                .links_of_hubspot(ObjectKind::Contacts, std::slice::from_ref(&id))
                .await
                .unwrap()
                .pop()
                .unwrap();
            e.store()
                .note_app_creates(ObjectKind::Contacts, &[(id.as_str(), &link.memory)])
                .await
                .unwrap();
            e.store()
                .unlink(ObjectKind::Contacts, &app_id)
                .await
                .unwrap();

            w.sim
                .state()
                .set_property(ObjectKind::Contacts, &id, "firstname", "Gracie");
            w.app("UPDATE contacts SET phone = '2'").await;
            w.sync(&e).await;

            assert_eq!(
                w.hubspot(ObjectKind::Contacts, &id, "firstname").as_deref(),
                Some("Gracie")
            );
            assert_eq!(
                w.hubspot(ObjectKind::Contacts, &id, "phone").as_deref(),
                Some("2")
            );
            for (column, want) in [("first_name", "Gracie"), ("phone", "2")] {
                assert_eq!(
                    w.app_value("contacts", "email", "grace@example.com", column)
                        .await
                        .as_deref(),
                    Some(want),
                    "app {column}"
                );
            }
            assert_eq!(w.app_count("contacts").await, 1);
        },
    )
    .await;
}
