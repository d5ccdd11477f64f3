//! Contacts merged in HubSpot, and records deleted on either side.

use super::*;

// ---- merged contacts ----

#[tokio::test]
async fn a_contact_merged_into_an_unlinked_one_is_relinked_to_the_survivor() {
    on_both(
        "a_contact_merged_into_an_unlinked_one_is_relinked_to_the_survivor",
        |kind| async move {
            let w = World::start(
                kind,
                SeedData::contacts(vec![
                    props(&[("email", "ada@example.com"), ("firstname", "Ada")]),
                    props(&[
                        ("email", "ada.lovelace@example.com"),
                        ("firstname", "Ada L."),
                    ]),
                ]),
                "INSERT INTO contacts (email, first_name) VALUES ('ada@example.com', 'Ada');",
            )
            .await;
            // App → HubSpot only: the second contact stays unlinked in HubSpot.
            let e = w.engine(vec![contacts(SyncRules::to_hubspot())]);
            w.sync(&e).await;
            let merged_away = w.hubspot_id_of("ada@example.com");
            let survivor = w.hubspot_id_of("ada.lovelace@example.com");
            let status = w
        .post(
            "/crm/v3/objects/contacts/merge",
            serde_json::json!({"primaryObjectId": survivor, "objectIdToMerge": merged_away}),
        )
        .await;
            assert!(status.is_success(), "merge answered {status}");
            w.scan(&e, ObjectKind::Contacts).await;
            assert_eq!(
                w.app_value("contacts", "email", "ada@example.com", "hubspot_id")
                    .await,
                Some(survivor.clone())
            );
            let history = e
                .store()
                .record_history(ObjectKind::Contacts, "1")
                .await
                .unwrap();
            assert!(
                history.iter().any(|a| a
                    .message
                    .as_deref()
                    .is_some_and(|m| m.contains("merged into"))),
                "{history:?}"
            );
            assert_eq!(
                w.sim.state().count(ObjectKind::Contacts),
                1,
                "nothing recreated"
            );
        },
    )
    .await;
}

// ---- deletions ----

#[tokio::test]
async fn a_contact_deleted_in_hubspot_is_unlinked_by_the_scan_and_the_app_row_kept() {
    on_both(
        "a_contact_deleted_in_hubspot_is_unlinked_by_the_scan_and_the_app_row_kept",
        |kind| async move {
            let (w, e, id) = linked_ada(
                kind,
                SyncRules {
                    create_in_hubspot: false,
                    ..SyncRules::both()
                },
            )
            .await;
            let status = reqwest::Client::new()
                .delete(format!("{}/crm/v3/objects/contacts/{id}", w.sim.base_url()))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap()
                .status();
            assert!(status.is_success());
            w.scan(&e, ObjectKind::Contacts).await;
            assert_eq!(w.app_count("contacts").await, 1);
            assert_eq!(
                w.app_value("contacts", "email", "ada@example.com", "hubspot_id")
                    .await,
                None
            );
            assert_eq!(e.store().link_count(ObjectKind::Contacts).await.unwrap(), 0);
        },
    )
    .await;
}

#[tokio::test]
async fn a_contact_deleted_in_the_app_is_unlinked_and_not_created_again_from_hubspot() {
    on_both(
        "a_contact_deleted_in_the_app_is_unlinked_and_not_created_again_from_hubspot",
        |kind| async move {
            let (w, e, id) = linked_ada(kind, SyncRules::both()).await;
            w.app("DELETE FROM contacts").await;
            w.scan(&e, ObjectKind::Contacts).await;
            assert_eq!(e.store().link_count(ObjectKind::Contacts).await.unwrap(), 0);
            // HubSpot keeps it, and a later edit there does not bring it back.
            w.sim
                .state()
                .set_property(ObjectKind::Contacts, &id, "firstname", "Ada again");
            w.sync(&e).await;
            assert_eq!(w.app_count("contacts").await, 0);
            assert!(w.sim.state().get(ObjectKind::Contacts, &id).is_some());
        },
    )
    .await;
}
