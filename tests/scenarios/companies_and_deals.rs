//! A contact's company association, and deals flowing read-only into the app.

use super::*;

// ---- a contact's company ----

#[tokio::test]
async fn a_contacts_company_follows_its_hubspot_association_and_the_reverse() {
    on_both("a_contacts_company_follows_its_hubspot_association_and_the_reverse", |kind| async move {
    let seed = SeedData::contacts(vec![props(&[("email", "ada@example.com")])]).with(
        ObjectKind::Companies,
        vec![props(&[("name", "Acme"), ("domain", "acme.example")])],
    );
    let w = World::start(kind,
        seed,
        "INSERT INTO companies (name, domain) VALUES ('Acme', 'acme.example'), ('Initech', 'initech.example');
         INSERT INTO contacts (email) VALUES ('ada@example.com');",
    )
    .await;
    let acme = w
        .sim
        .state()
        .find_in(ObjectKind::Companies, "domain", "acme.example")
        .unwrap();
    let ada = w.hubspot_id_of("ada@example.com");
    let put = reqwest::Client::new()
        .put(format!(
            "{}/crm/v4/objects/contacts/{ada}/associations/default/companies/{acme}",
            w.sim.base_url()
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert!(put.status().is_success());

    let mut c = contacts(SyncRules::both());
    c.mapping.company_column = Some("company_id".into());
    let e = w.engine(vec![object(companies_mapping(), SyncRules::both()), c]);
    w.sync(&e).await;
    let acme_app = w
        .db
        .value("SELECT CAST(id AS TEXT) FROM companies WHERE name = 'Acme'")
        .await;
    let company_of_ada = || {
        w.db
            .value("SELECT CAST(company_id AS TEXT) FROM contacts WHERE email = 'ada@example.com'")
    };
    assert_eq!(
        company_of_ada().await,
        acme_app,
        "HubSpot → app"
    );

    // The app moves Ada to Initech (created in HubSpot by the first sync).
    w.app("UPDATE contacts SET company_id = (SELECT id FROM companies WHERE name = 'Initech')").await;
    w.sync(&e).await;
    let initech = w
        .app_value("companies", "name", "Initech", "hubspot_id").await
        .unwrap();
    let associated: Vec<String> = w
        .sim
        .state()
        .associated(ObjectKind::Contacts, &ada, ObjectKind::Companies)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(
        associated,
        vec![initech],
        "app → HubSpot, the old association dropped"
    );
    // And nothing moves on the next pass.
    let audits = e.store().audit_len().await.unwrap();
    w.sync(&e).await;
    assert_eq!(e.store().audit_len().await.unwrap(), audits);
    })
    .await;
}

// ---- deals: read-only, HubSpot → app ----

#[tokio::test]
async fn deals_flow_from_hubspot_into_the_app_and_never_back() {
    on_both(
        "deals_flow_from_hubspot_into_the_app_and_never_back",
        |kind| async move {
            let seed = SeedData::empty().with(
                ObjectKind::Deals,
                vec![
                    props(&[("dealname", "Big deal"), ("amount", "1000")]),
                    props(&[("dealname", "Small deal"), ("amount", "10")]),
                ],
            );
            let w = World::start(kind, seed, "").await;
            let field = |app: &str, hs: &str| FieldMap {
                direction: Direction::ToApp,
                ..FieldMap::simple(app, hs, Transform::None)
            };
            let deals = ObjectMapping {
                object: ObjectKind::Deals,
                table: "deals".into(),
                id_column: "id".into(),
                updated_at_column: "updated_at".into(),
                hubspot_id_column: "hubspot_id".into(),
                keys: vec![],
                fields: vec![field("name", "dealname"), field("amount", "amount")],
                label_column: "name".into(),
                company_column: None,
                app_id_property: None,
            };
            let rules = SyncRules {
                direction: Direction::ToApp,
                create_in_hubspot: false,
                create_in_app: true,
                ..SyncRules::both()
            };
            let e = w.engine(vec![object(deals, rules)]);
            let sync_deals = || async {
                e.bootstrap().await.unwrap();
                e.handle(
                    hubsync::status::Command::SyncNow {
                        object: ObjectKind::Deals,
                    },
                    None,
                )
                .await
                .unwrap();
                e.run_until_idle().await.unwrap();
            };
            sync_deals().await;
            assert_eq!(w.app_count("deals").await, 2);
            let big = w
                .app_value("deals", "name", "Big deal", "hubspot_id")
                .await
                .unwrap();

            w.sim
                .state()
                .set_property(ObjectKind::Deals, &big, "amount", "2000");
            w.app("UPDATE deals SET name = 'Renamed in the app' WHERE name = 'Small deal'")
                .await;
            sync_deals().await;
            assert_eq!(
                w.app_value("deals", "hubspot_id", &big, "amount")
                    .await
                    .as_deref(),
                Some("2000")
            );
            assert!(
                w.sim
                    .state()
                    .find_in(ObjectKind::Deals, "dealname", "Renamed in the app")
                    .is_none(),
                "nothing is written to HubSpot deals"
            );
            assert_eq!(w.sim.state().count(ObjectKind::Deals), 2);
        },
    )
    .await;
}
