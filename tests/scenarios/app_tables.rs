//! The app's side: tables keyed by text, the change feed, keys in any script.

use super::*;

// ---- app tables keyed by text ----

#[tokio::test]
async fn an_app_table_keyed_by_uuids_is_read_past_its_cursor() {
    on_both("an_app_table_keyed_by_uuids_is_read_past_its_cursor", |kind| async move {
    let w = World::start(kind,
        SeedData::empty(),
        "INSERT INTO people (id, email, first_name, updated_at) VALUES
           ('7f1c2a90-0000-4000-8000-000000000002', 'b@example.com', 'B', '2026-01-01T00:00:00.000Z'),
           ('0a9b8c7d-0000-4000-8000-000000000001', 'a@example.com', 'A', '2026-01-01T00:00:00.000Z');",
    )
    .await;
    let mut m = ObjectMapping::demo_contacts();
    m.table = "people".into();
    m.fields.truncate(2);
    let e = w.engine(vec![object(m, SyncRules::to_hubspot())]);
    w.sync(&e).await;
    assert_eq!(w.sim.state().count(ObjectKind::Contacts), 2);
    w.app(&format!(
        "UPDATE people SET first_name = 'Bee', updated_at = {} WHERE email = 'b@example.com'",
        w.db.now()
    ))
    .await;
    w.sync(&e).await;
    let b = w.hubspot_id_of("b@example.com");
    assert_eq!(
        w.hubspot(ObjectKind::Contacts, &b, "firstname").as_deref(),
        Some("Bee")
    );
    let last = e.store().recent_jobs(1).await.unwrap().remove(0);
    assert_eq!(
        last.done, 1,
        "only the changed row was read again: {last:?}"
    );
    })
    .await;
}

// ---- the app's change feed and keys ----

#[tokio::test]
async fn a_row_stamped_before_a_pass_and_committed_after_it_reaches_hubspot_on_the_next_pass() {
    on_both("late_row", |kind| async move {
        let w = World::start(kind, SeedData::empty(), "").await;
        let e = w.engine(vec![contacts(SyncRules::to_hubspot())]);
        // PostgreSQL: a long transaction holds the row, stamped at its
        // insert. SQLite has one writer at a time, so the same row comes
        // from app code that stamped it when its work began and commits
        // it later.
        let long = w.db.conn_of_its_own().await;
        let stamp = w
            .db
            .value(&format!("SELECT CAST({} AS TEXT)", w.db.now()))
            .await
            .unwrap();
        let late = format!(
            "INSERT INTO contacts (email, first_name, updated_at) VALUES ('late@example.com', 'Late', '{stamp}')"
        );
        if kind == Kind::Postgres {
            long.exec(&format!("BEGIN; {late}")).await;
        }
        tokio::time::sleep(Duration::from_millis(1100)).await;
        w.app("INSERT INTO contacts (email, first_name) VALUES ('quick@example.com', 'Quick')")
            .await;
        w.sync(&e).await;
        assert!(w.sim.state().find_by_email("quick@example.com").is_some());
        assert!(w.sim.state().find_by_email("late@example.com").is_none());
        match kind {
            Kind::Postgres => long.exec("COMMIT").await,
            Kind::Sqlite => long.exec(&late).await,
        }
        w.sync(&e).await;
        let late_id = w.hubspot_id_of("late@example.com");
        assert_eq!(
            w.hubspot(ObjectKind::Contacts, &late_id, "firstname").as_deref(),
            Some("Late"),
            "{kind:?}"
        );
        assert_eq!(w.sim.state().count(ObjectKind::Contacts), 2, "{kind:?}");
    })
    .await;
}

#[tokio::test]
async fn keys_differing_only_in_case_and_blanks_in_any_script_link_instead_of_duplicating() {
    on_both("unicode_keys", |kind| async move {
        let w = World::start(
            kind,
            SeedData::contacts(vec![
                props(&[("email", "ünal@example.com"), ("firstname", "Ünal")]),
                props(&[("email", "émile@example.com"), ("firstname", "Émile")]),
                props(&[("email", "ada@example.com"), ("firstname", "Ada")]),
            ]),
            // A no-break space and a tab are blanks too; É and Ü have
            // lowercase forms outside ASCII.
            "INSERT INTO contacts (email, first_name) VALUES
               (' Ünal@Example.COM ', 'Ünal'), ('\u{a0}ÉMILE@example.com', 'Émile'), ('\tADA@example.com', 'Ada');",
        )
        .await;
        let e = w.engine(vec![contacts(SyncRules::both())]);
        w.sync(&e).await;
        assert_eq!(w.sim.state().count(ObjectKind::Contacts), 3, "{kind:?}");
        assert_eq!(w.app_count("contacts").await, 3, "{kind:?}");
        for (app, hubspot) in [
            (" Ünal@Example.COM ", "ünal@example.com"),
            ("\u{a0}ÉMILE@example.com", "émile@example.com"),
            ("\tADA@example.com", "ada@example.com"),
        ] {
            assert_eq!(
                w.app_value("contacts", "email", app, "hubspot_id").await,
                Some(w.hubspot_id_of(hubspot)),
                "{kind:?}: {app:?}"
            );
        }
    })
    .await;
}
