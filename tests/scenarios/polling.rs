//! Polling HubSpot: past the search cap, the lookback window, bulk imports, page by page.

use super::*;

// ---- the search cap ----

#[tokio::test]
async fn more_than_ten_thousand_hubspot_records_stamped_at_one_time_all_reach_the_app() {
    on_both(
        "more_than_ten_thousand_hubspot_records_stamped_at_one_time_all_reach_the_app",
        |kind| async move {
            let n = 10_050;
            let seed = SeedData::contacts(
                (0..n)
                    .map(|i| {
                        props(&[
                            ("email", &format!("bulk{i}@example.com")),
                            ("firstname", "Bulk"),
                        ])
                    })
                    .collect(),
            );
            let w = World::start(kind, seed, "").await;
            let e = w.engine(vec![contacts(SyncRules {
                direction: Direction::ToApp,
                create_in_hubspot: false,
                create_in_app: true,
                ..SyncRules::both()
            })]);
            w.sync(&e).await;
            assert_eq!(w.app_count("contacts").await, n);
            let distinct: i64 =
                w.db.value("SELECT CAST(COUNT(DISTINCT hubspot_id) AS TEXT) FROM contacts")
                    .await
                    .unwrap()
                    .parse()
                    .unwrap();
            assert_eq!(distinct, n);
            let failed = e.store().open_failure_count(None).await.unwrap();
            assert_eq!(failed, 0);
        },
    )
    .await;
}

#[tokio::test]
async fn a_poll_rereads_its_lookback_window_without_handling_records_again() {
    on_both(
        "a_poll_rereads_its_lookback_window_without_handling_records_again",
        |kind| async move {
            let (w, e, _) = linked_ada(kind, SyncRules::both()).await;
            // The first sync's own writes come back once, as echoes; after that
            // the window holds only records already handled.
            w.sync(&e).await;
            w.sync(&e).await;
            let last = e.store().recent_jobs(1).await.unwrap().remove(0);
            assert_eq!(
                (last.done, last.total),
                (0, 0),
                "the last poll handled {last:?}"
            );
            assert!(
                w.sim.state().request_count() > 0,
                "the window was still searched"
            );
        },
    )
    .await;
}

/// Contacts flowing from HubSpot into the app only.
fn contacts_to_app() -> ObjectSync {
    contacts(SyncRules {
        direction: Direction::ToApp,
        create_in_hubspot: false,
        create_in_app: true,
        ..SyncRules::both()
    })
}

fn seeded(prefix: &str, n: usize) -> SeedData {
    SeedData::contacts(
        (0..n)
            .map(|i| props(&[("email", &format!("{prefix}{i}@example.com"))]))
            .collect(),
    )
}

#[tokio::test]
async fn an_idle_poll_minutes_after_a_bulk_import_costs_one_search() {
    on_both(
        "an_idle_poll_minutes_after_a_bulk_import_costs_one_search",
        |kind| async move {
            // Imported just now: for five minutes the lookback window holds them
            // all, five search pages' worth.
            let w = World::start(kind, seeded("import", 1_000), "").await;
            let e = w.engine(vec![contacts_to_app()]);
            w.sync(&e).await;
            w.sync(&e).await;
            assert_eq!(w.app_count("contacts").await, 1_000);
            let before = w.sim.state().request_count();
            w.sync(&e).await;
            assert_eq!(
                w.sim.state().request_count() - before,
                1,
                "an idle poll after the import"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn the_lookback_remembers_at_most_ten_thousand_records_of_a_larger_import() {
    on_both(
        "the_lookback_remembers_at_most_ten_thousand_records_of_a_larger_import",
        |kind| async move {
            let w = World::start(kind, seeded("big", 10_500), "").await;
            let e = w.engine(vec![contacts_to_app()]);
            w.sync(&e).await;
            w.sync(&e).await;
            assert_eq!(w.app_count("contacts").await, 10_500);
            let cursor = e
                .store()
                .cursor(ObjectKind::Contacts, Direction::ToApp)
                .await
                .unwrap()
                .unwrap();
            let v: serde_json::Value = serde_json::from_str(&cursor).unwrap();
            let remembered = v["at"]["seen"].as_object().map_or(0, |m| m.len());
            assert!(remembered <= 10_000, "{remembered} records remembered");
            let before = w.sim.state().request_count();
            w.sync(&e).await;
            assert_eq!(w.sim.state().request_count() - before, 1, "the next poll");
        },
    )
    .await;
}

#[tokio::test]
async fn an_edit_in_the_lookback_window_of_a_bulk_import_reaches_the_app_without_rereading_it() {
    on_both(
        "an_edit_in_the_lookback_window_of_a_bulk_import_reaches_the_app_without_rereading_it",
        |kind| async move {
            let w = World::start_with(
                kind,
                seeded("import", 1_000),
                "",
                SimSettings {
                    record_exchanges: true,
                    ..SimSettings::default()
                },
            )
            .await;
            let e = w.engine(vec![contacts_to_app()]);
            w.sync(&e).await;
            w.sync(&e).await;
            let ada = w.hubspot_id_of("import7@example.com");
            w.sim
                .state()
                .set_property(ObjectKind::Contacts, &ada, "firstname", "Ada");
            let from = w.sim.state().exchanges().len();
            w.sync(&e).await;
            assert_eq!(
                w.app_value("contacts", "email", "import7@example.com", "first_name")
                    .await
                    .as_deref(),
                Some("Ada")
            );
            // The feed's searches (not the count of contacts that follows a pass).
            let searches = w.sim.state().exchanges()[from..]
                .iter()
                .filter(|x| {
                    x.path.ends_with("/search") && x.request_body.contains("lastmodifieddate")
                })
                .count();
            assert_eq!(
                searches, 2,
                "the window counted, then what is newer than the cursor read"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn a_poll_applies_each_search_page_before_it_reads_the_next() {
    on_both(
        "a_poll_applies_each_search_page_before_it_reads_the_next",
        |kind| async move {
            // 600 contacts backfilled, then each edited in HubSpot: a change set
            // of three search pages. Applying a batch reads its contacts' company
            // associations, so the order of calls shows when each page is applied.
            let n = 600;
            let w = World::start_with(
                kind,
                seeded("paged", n),
                "",
                SimSettings {
                    record_exchanges: true,
                    ..SimSettings::default()
                },
            )
            .await;
            let mut c = contacts_to_app();
            c.mapping.company_column = Some("company_id".into());
            let e = w.engine(vec![c]);
            w.sync(&e).await;
            w.sync(&e).await;
            for i in 0..n {
                let id = w.hubspot_id_of(&format!("paged{i}@example.com"));
                w.sim
                    .state()
                    .set_property(ObjectKind::Contacts, &id, "firstname", "Paged");
            }
            let from = w.sim.state().exchanges().len();
            w.sync(&e).await;
            let paths: Vec<String> = w.sim.state().exchanges()[from..]
                .iter()
                .map(|x| x.path.clone())
                .collect();
            let searches: Vec<usize> = (0..paths.len())
                .filter(|i| paths[*i].ends_with("contacts/search"))
                .collect();
            let applied: Vec<usize> = (0..paths.len())
                .filter(|i| paths[*i].contains("/associations/"))
                .collect();
            assert!(searches.len() >= 3, "{paths:?}");
            assert!(
                applied.first() < searches.last(),
                "the first page applied before the last one was asked for: {paths:?}"
            );
            let paged = w
                .db
                .value("SELECT CAST(COUNT(*) AS TEXT) FROM contacts WHERE first_name = 'Paged'")
                .await;
            assert_eq!(paged, Some(n.to_string()));
        },
    )
    .await;
}
