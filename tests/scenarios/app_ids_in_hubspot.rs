//! The app id carried in HubSpot, and linked records merged there.

use super::*;

// ---- the app id carried in HubSpot ----

#[tokio::test]
async fn a_company_created_from_the_app_is_found_by_its_app_id_after_the_links_are_lost() {
    on_both(
        "a_company_created_from_the_app_is_found_by_its_app_id_after_the_links_are_lost",
        |kind| async move {
            let w = World::start(
                kind,
                SeedData::empty(),
                "INSERT INTO companies (name) VALUES ('Initech');",
            )
            .await;
            let mut m = companies_mapping();
            m.app_id_property = Some("app_record_id".into());
            let objects = vec![object(m, SyncRules::both())];
            // HubSpot's feed first, then the app's: either must find the pair.
            let hubspot_first = |mut o: Vec<ObjectSync>| {
                o[0].rules.direction = Direction::ToApp;
                o
            };
            let e = w.engine(objects.clone());
            w.sync(&e).await;
            let created = w
                .app_value("companies", "name", "Initech", "hubspot_id")
                .await
                .unwrap();
            assert_eq!(
                w.hubspot(ObjectKind::Companies, &created, "app_record_id")
                    .as_deref(),
                Some("1"),
                "the create carried the app id"
            );

            // The state is lost (a restore from an old backup), the write-back
            // column too, and the company was renamed in HubSpot, so neither a
            // link nor a key can find it.
            drop(e);
            let state = Connection::open(w.dir.join("state.db")).unwrap();
            state.execute("DELETE FROM links", []).unwrap();
            state.execute("DELETE FROM cursors", []).unwrap();
            w.app("UPDATE companies SET hubspot_id = NULL").await;
            w.sim
                .state()
                .set_property(ObjectKind::Companies, &created, "name", "Initech Inc");
            let e = w.engine(hubspot_first(objects.clone()));
            w.sync(&e).await;
            drop(e);
            let e = w.engine(objects);
            w.sync(&e).await;
            assert_eq!(
                w.sim.state().count(ObjectKind::Companies),
                1,
                "not created twice"
            );
            assert_eq!(
                w.app_value("companies", "id", "1", "hubspot_id").await,
                Some(created)
            );
        },
    )
    .await;
}

#[tokio::test]
async fn two_linked_contacts_merged_in_hubspot_leave_one_skipped_and_the_jobs_running() {
    on_both("two_linked_contacts_merged_in_hubspot_leave_one_skipped_and_the_jobs_running", |kind| async move {
    let w = World::start(kind,
        SeedData::contacts(vec![
            props(&[("email", "ada@example.com"), ("firstname", "Ada")]),
            props(&[("email", "bea@example.com"), ("firstname", "Bea")]),
        ]),
        "INSERT INTO contacts (email, first_name) VALUES ('ada@example.com', 'Ada'), ('bea@example.com', 'Bea');",
    )
    .await;
    let e = w.engine(vec![contacts(SyncRules::to_hubspot())]);
    w.sync(&e).await;
    let (ada, bea) = (
        w.hubspot_id_of("ada@example.com"),
        w.hubspot_id_of("bea@example.com"),
    );
    let status = w
        .post(
            "/crm/v3/objects/contacts/merge",
            serde_json::json!({"primaryObjectId": ada, "objectIdToMerge": bea}),
        )
        .await;
    assert!(status.is_success());
    w.scan(&e, ObjectKind::Contacts).await;
    w.sync(&e).await;
    let failed_jobs: Vec<_> = e
        .store()
        .recent_jobs(20)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.state == hubsync::status::JobState::Failed)
        .collect();
    assert!(failed_jobs.is_empty(), "{failed_jobs:?}");
    assert_eq!(
        w.sim.state().count(ObjectKind::Contacts),
        1,
        "nothing recreated"
    );
    let last = e
        .store()
        .record_history(ObjectKind::Contacts, "2")
        .await
        .unwrap();
    let said = last
        .last()
        .and_then(|a| a.message.clone())
        .unwrap_or_default();
    assert!(said.contains("already linked to app record 1"), "{last:?}");
    })
    .await;
}
