//! SPEC §2 as seeds/003 tabulates it for OfficeRnD: unlink, create-and-link, update.

use super::*;

// ---- seeds/003: OfficeRnD's three tables ----

#[tokio::test]
async fn officernd_unlink_removes_links_to_records_hubspot_no_longer_has() {
    on_both(
        "officernd_unlink_removes_links_to_records_hubspot_no_longer_has",
        |kind| async move {
            let w = World::start(
                kind,
                SeedData::empty(),
                "INSERT INTO companies (name, hubspot_id) VALUES ('Company 1', 'non-existing-1');
         INSERT INTO contacts (email, first_name, company, hubspot_id) VALUES
           ('member.c1@example.com', 'Company 1 Member', 'Company 1', 'non-existing-2'),
           ('member1@example.com', 'Member 1', NULL, '99999');",
            )
            .await;
            let e = w.engine(vec![
                object(companies_mapping(), officernd()),
                contacts(officernd()),
            ]);
            w.sync(&e).await;
            for (table, key, value) in [
                ("companies", "name", "Company 1"),
                ("contacts", "email", "member.c1@example.com"),
                ("contacts", "email", "member1@example.com"),
            ] {
                assert_eq!(
                    w.app_value(table, key, value, "hubspot_id").await,
                    None,
                    "{value}"
                );
            }
            assert_eq!(
                w.sim.state().count(ObjectKind::Contacts),
                0,
                "nothing created in HubSpot"
            );
            assert_eq!(w.sim.state().count(ObjectKind::Companies), 0);
            assert_eq!(w.app_count("contacts").await, 2, "app records kept");
        },
    )
    .await;
}

#[tokio::test]
async fn officernd_create_and_link_adds_hubspot_records_links_matches_and_creates_nothing_in_hubspot()
 {
    on_both("officernd_create_and_link_adds_hubspot_records_links_matches_and_creates_nothing_in_hubspot", |kind| async move {
    let seed = SeedData::contacts(vec![
        props(&[
            ("email", "member.c1@example.com"),
            ("firstname", "Company 1 Member"),
        ]),
        props(&[("email", "member1@example.com"), ("firstname", "Member 1")]),
        props(&[
            ("email", "member.c2@example.com"),
            ("firstname", "Company 2 Member"),
        ]),
        props(&[("email", "member2@example.com"), ("firstname", "Member 2")]),
    ])
    .with(
        ObjectKind::Companies,
        vec![
            props(&[("name", "Company 1"), ("domain", "company1.example")]),
            props(&[("name", "Company 2"), ("domain", "company2.example")]),
        ],
    );
    let w = World::start(kind,
        seed,
        "INSERT INTO companies (name, domain) VALUES ('Company 2', 'company2.example'), ('Company 3', 'company3.example');
         INSERT INTO contacts (email, first_name) VALUES
           ('member.c2@example.com', 'Company 2 Member'), ('member2@example.com', 'Member 2'),
           ('member.c3@example.com', 'Company 3 Member');",
    )
    .await;
    let e = w.engine(vec![
        object(companies_mapping(), officernd()),
        contacts(officernd()),
    ]);
    w.sync(&e).await;

    // Every HubSpot record is in the app, linked; the matches were linked,
    // not duplicated.
    assert_eq!(w.app_count("contacts").await, 5);
    assert_eq!(w.app_count("companies").await, 3);
    for email in [
        "member.c1@example.com",
        "member1@example.com",
        "member.c2@example.com",
        "member2@example.com",
    ] {
        assert_eq!(
            w.app_value("contacts", "email", email, "hubspot_id").await,
            Some(w.hubspot_id_of(email)),
            "{email}"
        );
    }
    assert!(
        w.app_value("companies", "name", "Company 1", "hubspot_id").await
            .is_some()
    );
    assert!(
        w.app_value("companies", "name", "Company 2", "hubspot_id").await
            .is_some()
    );
    // App-only records are not created in HubSpot.
    assert_eq!(
        w.app_value("contacts", "email", "member.c3@example.com", "hubspot_id").await,
        None
    );
    assert_eq!(
        w.app_value("companies", "name", "Company 3", "hubspot_id").await,
        None
    );
    assert_eq!(w.sim.state().count(ObjectKind::Contacts), 4);
    assert_eq!(w.sim.state().count(ObjectKind::Companies), 2);
    })
    .await;
}

#[tokio::test]
async fn officernd_update_carries_hubspot_edits_of_linked_records_to_the_app() {
    on_both("officernd_update_carries_hubspot_edits_of_linked_records_to_the_app", |kind| async move {
    let seed = SeedData::contacts(vec![
        props(&[("email", "member.c2@example.com"), ("phone", "111111111")]),
        props(&[("email", "member2@example.com"), ("phone", "333333333")]),
    ])
    .with(
        ObjectKind::Companies,
        vec![props(&[("name", "Company 2"), ("description", "Descr 1")])],
    );
    let w = World::start(kind,
        seed,
        "INSERT INTO companies (name, description) VALUES ('Company 2', 'Descr 1');
         INSERT INTO contacts (email, phone) VALUES ('member.c2@example.com', '111111111'), ('member2@example.com', '333333333');",
    )
    .await;
    let e = w.engine(vec![
        object(companies_mapping(), officernd()),
        contacts(officernd()),
    ]);
    w.sync(&e).await;
    let company = w
        .app_value("companies", "name", "Company 2", "hubspot_id").await
        .unwrap();
    w.sim.state().set_property(
        ObjectKind::Companies,
        &company,
        "description",
        "New Descr 1",
    );
    for (email, phone) in [
        ("member.c2@example.com", "22222222"),
        ("member2@example.com", "44444444"),
    ] {
        let id = w.hubspot_id_of(email);
        w.sim
            .state()
            .set_property(ObjectKind::Contacts, &id, "phone", phone);
    }
    w.sync(&e).await;
    assert_eq!(
        w.app_value("companies", "name", "Company 2", "description").await
            .as_deref(),
        Some("New Descr 1")
    );
    assert_eq!(
        w.app_value("contacts", "email", "member.c2@example.com", "phone").await
            .as_deref(),
        Some("22222222")
    );
    assert_eq!(
        w.app_value("contacts", "email", "member2@example.com", "phone").await
            .as_deref(),
        Some("44444444")
    );
    })
    .await;
}
