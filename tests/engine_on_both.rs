//! SPEC §2 through the real engine and simulator, one test body run on a
//! SQLite file and on PostgreSQL (a table in a schema of its own): create,
//! link and update both ways, with integer or UUID keys, non-ASCII keys,
//! and a row committed late by a long transaction.

mod support;

use hubsync::appdb::AppDb;
use hubsync::engine::{Engine, EngineSettings};
use hubsync::hubspot::{ClientSettings, HubSpotClient};
use hubsync::model::ObjectKind;
use hubsync::sim::{SeedData, SimServer, SimSettings};
use hubsync::store::Store;
use hubsync::sync::mapping::ObjectMapping;
use hubsync::sync::rules::{ObjectSync, SyncRules};
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use support::backends::{self, Kind, World, contacts_ddl, kinds};

const TOKEN: &str = "pat-both";

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// "Now" as the app's own code stamps it.
fn now(kind: Kind) -> &'static str {
    match kind {
        Kind::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        Kind::Postgres => "clock_timestamp()",
    }
}

struct Sync {
    sim: SimServer,
    engine: Arc<Engine>,
    _state: tempfile::TempDir,
}

impl Sync {
    async fn start(w: &World, seed: SeedData, rules: SyncRules) -> Sync {
        Sync::start_with(
            w.target.clone(),
            &w.table("contacts"),
            seed,
            rules,
            SimSettings::default(),
            EngineSettings::default(),
        )
        .await
    }

    async fn start_with(
        target: hubsync::appdb::Target,
        table: &str,
        seed: SeedData,
        rules: SyncRules,
        sim: SimSettings,
        settings: EngineSettings,
    ) -> Sync {
        let sim = SimServer::start(
            0,
            SimSettings {
                tokens: vec![TOKEN.into()],
                search_per_second: 10_000,
                ..sim
            },
            seed,
        )
        .await
        .unwrap();
        let state = tempfile::tempdir().unwrap();
        let mut s = ClientSettings::new(sim.base_url(), SecretString::from(TOKEN));
        s.search_per_second = 10_000;
        let mut mapping = ObjectMapping::demo_contacts();
        mapping.table = table.to_string();
        let engine = Engine::new(
            Arc::new(HubSpotClient::new(s).unwrap()),
            Store::open_blocking(&state.path().join("state.db")).unwrap(),
            AppDb::open(&target).unwrap(),
            vec![ObjectSync {
                mapping,
                rules,
                poll_interval: Duration::from_secs(3600),
                batch_size: 100,
            }],
            settings,
        );
        Sync {
            sim,
            engine,
            _state: state,
        }
    }

    async fn run(&self) {
        self.engine.bootstrap().await.unwrap();
        self.engine
            .handle(
                hubsync::status::Command::SyncNow {
                    object: ObjectKind::Contacts,
                },
                None,
            )
            .await
            .unwrap();
        self.engine.run_until_idle().await.unwrap();
    }

    fn hubspot(&self, email: &str, prop: &str) -> Option<String> {
        let (id, _) = self.sim.state().find_by_email(email)?;
        self.sim
            .state()
            .get(ObjectKind::Contacts, &id)
            .and_then(|p| p.get(prop).cloned())
    }
}

async fn app_value(w: &World, email: &str, column: &str) -> Option<String> {
    w.value(&format!(
        "SELECT CAST({column} AS TEXT) FROM {{s}}contacts WHERE email = '{email}'"
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_are_linked_created_and_updated_both_ways_with_integer_or_uuid_keys() {
    for kind in kinds("both_ways") {
        for id in ["int", "uuid"] {
            let w = World::new(kind, "both_ways").await;
            w.exec(&contacts_ddl(kind, id)).await;
            // Ada and Ünal are on both sides, their emails differing in
            // case and blanks (Unicode ones too); Grace is only in the app,
            // Alan only in HubSpot.
            w.exec(
                "INSERT INTO {s}contacts (email, first_name) VALUES
                   ('\u{a0}ADA@example.com ', 'Ada'), ('Ünal@Example.com', 'Ünal'), ('grace@example.com', 'Grace')",
            )
            .await;
            let seed = SeedData::contacts(vec![
                props(&[("email", "ada@example.com"), ("firstname", "Ada")]),
                props(&[("email", "ünal@example.com"), ("firstname", "Ünal")]),
                props(&[("email", "alan@example.com"), ("firstname", "Alan")]),
            ]);
            let s = Sync::start(&w, seed, SyncRules::both()).await;
            s.run().await;
            let what = format!("{kind:?} {id}");
            assert_eq!(s.sim.state().count(ObjectKind::Contacts), 4, "{what}");
            assert_eq!(
                w.value("SELECT CAST(count(*) AS TEXT) FROM {s}contacts")
                    .await
                    .as_deref(),
                Some("4"),
                "{what}"
            );
            assert_eq!(
                w.value("SELECT CAST(count(*) AS TEXT) FROM {s}contacts WHERE hubspot_id IS NULL")
                    .await
                    .as_deref(),
                Some("0"),
                "{what}: every row carries its HubSpot id"
            );
            assert_eq!(
                s.hubspot("grace@example.com", "firstname").as_deref(),
                Some("Grace"),
                "{what}"
            );
            assert_eq!(
                app_value(&w, "alan@example.com", "first_name")
                    .await
                    .as_deref(),
                Some("Alan"),
                "{what}"
            );

            // An edit on each side flows to the other.
            w.exec(&format!(
                "UPDATE {{s}}contacts SET phone = '555', updated_at = {} WHERE email = 'grace@example.com'",
                now(kind)
            ))
            .await;
            let (alan, _) = s.sim.state().find_by_email("alan@example.com").unwrap();
            s.sim
                .state()
                .set_property(ObjectKind::Contacts, &alan, "jobtitle", "Engineer");
            s.run().await;
            assert_eq!(
                s.hubspot("grace@example.com", "phone").as_deref(),
                Some("555"),
                "{what}"
            );
            assert_eq!(
                app_value(&w, "alan@example.com", "job_title")
                    .await
                    .as_deref(),
                Some("Engineer"),
                "{what}"
            );
            s.run().await;
            assert_eq!(
                s.sim.state().count(ObjectKind::Contacts),
                4,
                "{what}: nothing duplicated"
            );
            w.drop().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_committed_late_by_a_long_transaction_reaches_hubspot_on_the_next_poll() {
    let Some(url) = backends::postgres_url("late_through_engine") else {
        return;
    };
    let w = World::new(Kind::Postgres, "late_through_engine").await;
    w.exec(&contacts_ddl(Kind::Postgres, "int")).await;
    let s = Sync::start(&w, SeedData::empty(), SyncRules::both()).await;
    let long = backends::pg_client(&url).await;
    long.batch_execute(&format!(
        "BEGIN; INSERT INTO {}.contacts (email, first_name) VALUES ('late@example.com', 'Late')",
        w.schema
    ))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    w.exec("INSERT INTO {s}contacts (email, first_name) VALUES ('quick@example.com', 'Quick')")
        .await;
    s.run().await;
    assert!(s.hubspot("quick@example.com", "firstname").is_some());
    assert!(s.hubspot("late@example.com", "firstname").is_none());
    long.batch_execute("COMMIT").await.unwrap();
    s.run().await;
    assert_eq!(
        s.hubspot("late@example.com", "firstname").as_deref(),
        Some("Late")
    );
    assert_eq!(s.sim.state().count(ObjectKind::Contacts), 2);
    w.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_goes_away_mid_sync_and_comes_back_loses_and_duplicates_nothing() {
    let Some(url) = backends::postgres_url("db_goes_away") else {
        return;
    };

    let w = World::new(Kind::Postgres, "db_goes_away").await;
    w.exec(&contacts_ddl(Kind::Postgres, "int")).await;
    w.exec(
        "INSERT INTO {s}contacts (email, first_name)
           SELECT 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, 60) g",
    )
    .await;
    let proxy = backends::Proxy::start(backends::host_port(&url)).await;
    let target = hubsync::appdb::Target::Postgres(
        hubsync::appdb::postgres::Settings::parse(
            &proxy.url(&url),
            Some(backends::PASSWORD_ENV.into()),
        )
        .unwrap(),
    );
    let s = Sync::start_with(
        target,
        &w.table("contacts"),
        SeedData::empty(),
        SyncRules::to_hubspot(),
        SimSettings {
            latency: Duration::from_millis(40),
            ..SimSettings::default()
        },
        EngineSettings {
            batch_size: 10,
            job_backoff: Duration::from_millis(100),
            ..EngineSettings::default()
        },
    )
    .await;
    let s = Arc::new(s);
    let running = {
        let s = s.clone();
        tokio::spawn(async move { s.run().await })
    };
    // Cut the database off once part of the contacts are in HubSpot.
    while s.sim.state().count(ObjectKind::Contacts) < 20 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    proxy.cut();
    running.await.unwrap();
    assert!(
        s.sim.state().count(ObjectKind::Contacts) < 60,
        "cut before the end"
    );
    let jobs = s.engine.store().recent_jobs(10).await.unwrap();
    assert!(
        jobs.iter()
            .all(|j| j.state != hubsync::status::JobState::Failed),
        "the job waits to be retried, it does not fail: {jobs:?}"
    );
    proxy.restore();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The retry (and the next poll) finish the work.
    for _ in 0..20 {
        s.engine.run_until_idle().await.unwrap();
        if s.sim.state().count(ObjectKind::Contacts) == 60 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    s.run().await;
    let failures = s.engine.store().open_failures(100).await.unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(
        s.sim.state().count(ObjectKind::Contacts),
        60,
        "nothing lost, nothing duplicated"
    );
    for g in 1..=60 {
        assert!(
            s.hubspot(&format!("user{g}@example.com"), "firstname")
                .is_some(),
            "user{g}"
        );
    }
    assert_eq!(
        w.value("SELECT CAST(count(*) AS TEXT) FROM {s}contacts WHERE hubspot_id IS NULL")
            .await
            .as_deref(),
        Some("0"),
        "every row has its HubSpot id"
    );
    w.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_pointing_at_a_hubspot_record_that_does_not_exist_is_unlinked_and_kept() {
    for kind in kinds("unlink_gone") {
        let w = World::new(kind, "unlink_gone").await;
        w.exec(&contacts_ddl(kind, "int")).await;
        w.exec(
            "INSERT INTO {s}contacts (email, first_name, hubspot_id) VALUES ('member1@example.com', 'Member 1', '99999')",
        )
        .await;
        // OfficeRnD's policy: both ways, records created in the app only.
        let rules = SyncRules {
            create_in_hubspot: false,
            ..SyncRules::both()
        };
        let s = Sync::start(&w, SeedData::empty(), rules).await;
        s.run().await;
        assert_eq!(
            app_value(&w, "member1@example.com", "hubspot_id").await,
            None,
            "{kind:?}"
        );
        assert_eq!(
            app_value(&w, "member1@example.com", "first_name")
                .await
                .as_deref(),
            Some("Member 1"),
            "{kind:?}: the row is kept"
        );
        assert_eq!(s.sim.state().count(ObjectKind::Contacts), 0, "{kind:?}");
        w.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_same_field_conflict_is_won_by_the_app_and_different_fields_both_kept() {
    for kind in kinds("conflict") {
        let w = World::new(kind, "conflict").await;
        w.exec(&contacts_ddl(kind, "int")).await;
        w.exec("INSERT INTO {s}contacts (email, first_name, phone) VALUES ('ada@example.com', 'Ada', '1')")
            .await;
        let seed = SeedData::contacts(vec![props(&[
            ("email", "ada@example.com"),
            ("firstname", "Ada"),
            ("phone", "1"),
        ])]);
        let s = Sync::start(&w, seed, SyncRules::both()).await;
        s.run().await;
        let (id, _) = s.sim.state().find_by_email("ada@example.com").unwrap();
        w.exec(&format!(
            "UPDATE {{s}}contacts SET first_name = 'Ada (app)', updated_at = {} WHERE email = 'ada@example.com'",
            now(kind)
        ))
        .await;
        s.sim
            .state()
            .set_property(ObjectKind::Contacts, &id, "firstname", "Ada (hubspot)");
        s.sim
            .state()
            .set_property(ObjectKind::Contacts, &id, "phone", "2");
        s.run().await;
        assert_eq!(
            s.hubspot("ada@example.com", "firstname").as_deref(),
            Some("Ada (app)"),
            "{kind:?}"
        );
        assert_eq!(
            app_value(&w, "ada@example.com", "first_name")
                .await
                .as_deref(),
            Some("Ada (app)"),
            "{kind:?}"
        );
        assert_eq!(
            app_value(&w, "ada@example.com", "phone").await.as_deref(),
            Some("2"),
            "{kind:?}"
        );
        w.drop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_world_syncs_the_same_on_postgres_as_on_sqlite() {
    let Some(url) = backends::postgres_url("demo_world") else {
        return;
    };
    let pg = hubsync::appdb::postgres::Settings::parse(&url, Some(backends::PASSWORD_ENV.into()))
        .unwrap();
    let mut outcomes = Vec::new();
    for on in [None, Some(&pg)] {
        let dir = tempfile::tempdir().unwrap();
        let w = hubsync::demo::start_world_on(
            dir.path(),
            SimSettings::default(),
            EngineSettings {
                batch_size: 100,
                ..EngineSettings::default()
            },
            SyncRules::both(),
            on,
        )
        .await
        .unwrap();
        w.engine.bootstrap().await.unwrap();
        w.engine.run_until_idle().await.unwrap();
        let count = "SELECT count(*), count(hubspot_id) FROM {t}";
        let (rows, linked): (i64, i64) = match &w.postgres {
            None => {
                let c = rusqlite::Connection::open(&w.app_db_path).unwrap();
                c.query_row(&count.replace("{t}", "contacts"), [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .unwrap()
            }
            Some((_, schema)) => {
                let c = backends::pg_client(&url).await;
                let r = c
                    .query_one(&count.replace("{t}", &format!("{schema}.contacts")), &[])
                    .await
                    .unwrap();
                c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
                    .await
                    .unwrap();
                (r.get(0), r.get(1))
            }
        };
        let failed = w.engine.store().open_failures(100).await.unwrap().len();
        outcomes.push((
            rows,
            linked,
            w.sim.state().count(ObjectKind::Contacts),
            failed,
        ));
        w.sim.shutdown().await;
    }
    assert_eq!(outcomes[0], outcomes[1], "SQLite then PostgreSQL");
    assert!(
        outcomes[0].0 > 1000 && outcomes[0].3 > 0,
        "{:?}",
        outcomes[0]
    );
}
