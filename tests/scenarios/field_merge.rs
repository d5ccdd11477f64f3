//! SPEC §2 step 3: same-field conflicts, fields changed on each side, echoes, one-way fields.

use super::*;

// ---- field-level merge ----

/// Both sides rename Ada after a sync; what each side holds after the next.
async fn after_a_same_field_conflict(
    kind: Kind,
    rules: SyncRules,
) -> (Option<String>, Option<String>) {
    let (w, e, id) = linked_ada(kind, rules).await;
    w.app("UPDATE contacts SET first_name = 'Ada (app)'").await;
    w.sim
        .state()
        .set_property(ObjectKind::Contacts, &id, "firstname", "Ada (hubspot)");
    w.sync(&e).await;
    (
        w.hubspot(ObjectKind::Contacts, &id, "firstname"),
        w.app_value("contacts", "email", "ada@example.com", "first_name")
            .await,
    )
}

#[tokio::test]
async fn a_same_field_conflict_is_won_by_the_app_as_system_of_record() {
    on_both(
        "a_same_field_conflict_is_won_by_the_app_as_system_of_record",
        |kind| async move {
            let want = Some("Ada (app)".to_string());
            assert_eq!(
                after_a_same_field_conflict(kind, SyncRules::both()).await,
                (want.clone(), want)
            );
        },
    )
    .await;
}

#[tokio::test]
async fn a_same_field_conflict_is_won_by_hubspot_when_it_is_the_system_of_record() {
    on_both(
        "a_same_field_conflict_is_won_by_hubspot_when_it_is_the_system_of_record",
        |kind| async move {
            let rules = SyncRules {
                system_of_record: Side::HubSpot,
                ..SyncRules::both()
            };
            let want = Some("Ada (hubspot)".to_string());
            assert_eq!(
                after_a_same_field_conflict(kind, rules).await,
                (want.clone(), want)
            );
        },
    )
    .await;
}

#[tokio::test]
async fn different_fields_changed_on_each_side_are_both_kept() {
    on_both(
        "different_fields_changed_on_each_side_are_both_kept",
        |kind| async move {
            let (w, e, id) = linked_ada(kind, SyncRules::both()).await;
            w.app("UPDATE contacts SET phone = '2'").await;
            w.sim
                .state()
                .set_property(ObjectKind::Contacts, &id, "jobtitle", "CTO");
            w.sync(&e).await;
            assert_eq!(
                w.hubspot(ObjectKind::Contacts, &id, "phone").as_deref(),
                Some("2")
            );
            assert_eq!(
                w.hubspot(ObjectKind::Contacts, &id, "jobtitle").as_deref(),
                Some("CTO")
            );
            for (column, want) in [("phone", "2"), ("job_title", "CTO")] {
                assert_eq!(
                    w.app_value("contacts", "email", "ada@example.com", column)
                        .await
                        .as_deref(),
                    Some(want)
                );
            }
        },
    )
    .await;
}

#[tokio::test]
async fn the_engines_own_writes_are_not_synced_back() {
    on_both(
        "the_engines_own_writes_are_not_synced_back",
        |kind| async move {
            let (w, e, id) = linked_ada(kind, SyncRules::both()).await;
            w.app("UPDATE contacts SET phone = '2'").await;
            // This pass writes the phone to HubSpot, which stamps the contact as
            // modified; the next pass reads it back from HubSpot's change feed.
            w.sync(&e).await;
            assert_eq!(
                w.hubspot(ObjectKind::Contacts, &id, "phone").as_deref(),
                Some("2")
            );
            let audit_before = e.store().audit_len().await.unwrap();
            let updated_at = w
                .app_value("contacts", "email", "ada@example.com", "updated_at")
                .await;
            w.sync(&e).await;
            w.sync(&e).await;
            assert_eq!(
                e.store().audit_len().await.unwrap(),
                audit_before,
                "an echo wrote nothing and audited nothing"
            );
            assert_eq!(
                w.app_value("contacts", "email", "ada@example.com", "updated_at")
                    .await,
                updated_at,
                "the app row was not written again"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn a_field_mapped_one_way_ignores_edits_on_the_other_side() {
    on_both(
        "a_field_mapped_one_way_ignores_edits_on_the_other_side",
        |kind| async move {
            let mut c = contacts(SyncRules::both());
            for f in &mut c.mapping.fields {
                if f.app_columns == ["job_title"] {
                    f.direction = Direction::ToApp;
                }
            }
            let w = World::start(
                kind,
                SeedData::contacts(vec![props(&[
                    ("email", "ada@example.com"),
                    ("jobtitle", "Analyst"),
                ])]),
                "INSERT INTO contacts (email, job_title) VALUES ('ada@example.com', 'Analyst');",
            )
            .await;
            let e = w.engine(vec![c]);
            w.sync(&e).await;
            let id = w.hubspot_id_of("ada@example.com");
            w.app("UPDATE contacts SET job_title = 'Boss'").await;
            w.sync(&e).await;
            assert_eq!(
                w.hubspot(ObjectKind::Contacts, &id, "jobtitle").as_deref(),
                Some("Analyst"),
                "a ← field never writes HubSpot"
            );
            assert_eq!(
                w.app_value("contacts", "email", "ada@example.com", "job_title")
                    .await
                    .as_deref(),
                Some("Analyst"),
                "HubSpot's value is the truth for a ← field"
            );
        },
    )
    .await;
}
