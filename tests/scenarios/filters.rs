//! Filters: records that become eligible, and HubSpot records a filter keeps out of the app.

use super::*;

// ---- filters ----

fn only_acme() -> Filters {
    Filters::new(vec![FilterGroup::new(vec![
        Filter::new("company", "equals", vec!["Acme".into()]).unwrap(),
    ])])
    .unwrap()
}

#[tokio::test]
async fn a_filter_change_that_makes_records_eligible_syncs_them_on_the_next_pass() {
    on_both("a_filter_change_that_makes_records_eligible_syncs_them_on_the_next_pass", |kind| async move {
    let w = World::start(kind,
        SeedData::empty(),
        "INSERT INTO contacts (email, company) VALUES ('a@acme.example', 'acme'), ('b@initech.example', 'Initech'), ('c@initech.example', 'Initech');",
    )
    .await;
    let filtered = SyncRules {
        filters_to_hubspot: only_acme(),
        ..SyncRules::to_hubspot()
    };
    let e = w.engine(vec![contacts(filtered)]);
    w.sync(&e).await;
    assert_eq!(w.sim.state().count(ObjectKind::Contacts), 1, "only Acme");
    let skipped = e
        .store()
        .record_history(ObjectKind::Contacts, "2")
        .await
        .unwrap();
    let reason = skipped.last().unwrap().message.clone().unwrap();
    assert!(
        reason.contains("company equals") && reason.contains("Initech"),
        "the skip says which filter excluded it: {reason}"
    );

    // The operator drops the filter; nothing else changed in the app.
    let e = w.engine(vec![contacts(SyncRules::to_hubspot())]);
    w.sync(&e).await;
    assert_eq!(w.sim.state().count(ObjectKind::Contacts), 3);
    })
    .await;
}

#[tokio::test]
async fn hubspot_records_a_to_app_filter_excludes_are_not_created_in_the_app() {
    on_both(
        "hubspot_records_a_to_app_filter_excludes_are_not_created_in_the_app",
        |kind| async move {
            let w = World::start_with(
                kind,
                SeedData::contacts(vec![
                    props(&[("email", "a@acme.example"), ("lifecyclestage", "customer")]),
                    props(&[("email", "b@initech.example"), ("lifecyclestage", "lead")]),
                ]),
                "",
                SimSettings {
                    record_exchanges: true,
                    ..SimSettings::default()
                },
            )
            .await;
            let mut c = contacts(SyncRules {
                filters_to_app: Filters::new(vec![FilterGroup::new(vec![
                    Filter::new("lifecyclestage", "equals", vec!["customer".into()]).unwrap(),
                ])])
                .unwrap(),
                ..SyncRules::both()
            });
            c.mapping.fields.push(FieldMap::simple(
                "job_title",
                "lifecyclestage",
                Transform::None,
            ));
            c.mapping
                .fields
                .retain(|f| f.hubspot_properties != ["jobtitle"]);
            let e = w.engine(vec![c]);
            w.sync(&e).await;
            assert_eq!(w.app_count("contacts").await, 1);
            assert_eq!(
                w.app_value("contacts", "email", "a@acme.example", "email")
                    .await
                    .as_deref(),
                Some("a@acme.example")
            );
            // The filter went into HubSpot's search, beside the cursor: the
            // excluded record was never even read.
            let searches: Vec<String> = w
                .sim
                .state()
                .exchanges()
                .into_iter()
                .filter(|x| x.path.ends_with("/search"))
                .map(|x| x.request_body)
                .collect();
            assert!(
                searches
                    .iter()
                    .any(|b| b.contains("lifecyclestage") && b.contains("lastmodifieddate")),
                "{searches:?}"
            );
            assert!(
                e.store()
                    .record_history(
                        ObjectKind::Contacts,
                        &format!("hs:{}", w.hubspot_id_of("b@initech.example"))
                    )
                    .await
                    .unwrap()
                    .is_empty(),
                "pushed down, so not even skipped"
            );
        },
    )
    .await;
}
