//! The write path through the real engine, executor and simulator over
//! loopback, with a SQLite app database. Creates whose answers are lost
//! (the simulator applies the write, then cuts the connection or the
//! answer): nothing may be created twice, every record ends linked, none
//! is FAILED. And the fewest calls: one per 100 new records.

use hubsync::appdb::AppDb;
use hubsync::engine::{Engine, EngineSettings};
use hubsync::hubspot::{ClientSettings, HubSpotClient};
use hubsync::model::ObjectKind;
use hubsync::sim::{Fault, SeedData, SimServer, SimSettings};
use hubsync::status::{Command, JobState};
use hubsync::store::Store;
use hubsync::sync::mapping::{FieldMap, KeyMap, ObjectMapping};
use hubsync::sync::rules::{ObjectSync, SyncRules};
use hubsync::sync::transform::Transform;
use rusqlite::Connection;
use secrecy::SecretString;
use std::sync::Arc;
use std::time::Duration;

const TOKEN: &str = "pat-lost";

const SCHEMA: &str = r#"
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT, phone TEXT,
    company TEXT, job_title TEXT, hubspot_id TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE companies (
    id INTEGER PRIMARY KEY, name TEXT, domain TEXT, hubspot_id TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
"#;

struct World {
    dir: tempfile::TempDir,
    sim: SimServer,
}

impl World {
    async fn start(sim: SimSettings, app_sql: &str) -> World {
        let dir = tempfile::tempdir().unwrap();
        let sim = SimServer::start(
            0,
            SimSettings {
                tokens: vec![TOKEN.into()],
                search_per_second: 10_000,
                ..sim
            },
            SeedData::empty(),
        )
        .await
        .unwrap();
        let conn = Connection::open(dir.path().join("app.db")).unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        conn.execute_batch(app_sql).unwrap();
        World { dir, sim }
    }

    async fn engine(&self, mapping: ObjectMapping) -> Arc<Engine> {
        self.engine_with(mapping, SyncRules::to_hubspot()).await
    }

    async fn engine_with(&self, mapping: ObjectMapping, rules: SyncRules) -> Arc<Engine> {
        let mut s = ClientSettings::new(self.sim.base_url(), SecretString::from(TOKEN));
        s.search_per_second = 10_000;
        s.backoff_min = Duration::from_millis(5);
        s.backoff_max = Duration::from_millis(20);
        Engine::new(
            Arc::new(HubSpotClient::new(s).unwrap()),
            Store::open(&self.dir.path().join("state.db"))
                .await
                .unwrap(),
            AppDb::open(&self.dir.path().join("app.db")).unwrap(),
            vec![ObjectSync {
                mapping,
                rules,
                poll_interval: Duration::from_secs(3600),
                batch_size: 100,
            }],
            EngineSettings::default(),
        )
    }

    async fn sync(&self, engine: &Engine, object: ObjectKind) {
        engine.bootstrap().await.unwrap();
        engine
            .handle(Command::SyncNow { object }, None)
            .await
            .unwrap();
        engine.run_until_idle().await.unwrap();
    }

    fn unlinked(&self, table: &str) -> i64 {
        Connection::open(self.dir.path().join("app.db"))
            .unwrap()
            .query_row(
                &format!("SELECT COUNT(*) FROM {table} WHERE hubspot_id IS NULL"),
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// Every job finished, no record FAILED.
    async fn assert_clean(&self, engine: &Engine) {
        let jobs = engine.store().recent_jobs(50).await.unwrap();
        assert!(
            jobs.iter().all(|j| j.state == JobState::Succeeded),
            "{jobs:?}"
        );
        let failed = engine.store().open_failures(50).await.unwrap();
        assert!(failed.is_empty(), "{failed:?}");
    }
}

/// Companies keyed by domain, then name: neither is unique in HubSpot.
fn companies() -> ObjectMapping {
    let f = FieldMap::simple;
    ObjectMapping {
        object: ObjectKind::Companies,
        table: "companies".into(),
        id_column: "id".into(),
        updated_at_column: "updated_at".into(),
        hubspot_id_column: "hubspot_id".into(),
        keys: vec![
            KeyMap {
                app_column: "domain".into(),
                hubspot_property: "domain".into(),
            },
            KeyMap {
                app_column: "name".into(),
                hubspot_property: "name".into(),
            },
        ],
        fields: vec![
            f("name", "name", Transform::None),
            f("domain", "domain", Transform::LowercaseTrim),
        ],
        label_column: "name".into(),
        company_column: None,
        app_id_property: None,
    }
}

/// 250 companies; every tenth has no domain, so only its name finds it.
fn company_rows() -> String {
    let mut sql = String::from("INSERT INTO companies (name, domain) VALUES ");
    let rows: Vec<String> = (0..250)
        .map(|i| {
            if i % 10 == 0 {
                format!("('Company {i}', NULL)")
            } else {
                format!("('Company {i}', 'company{i}.example')")
            }
        })
        .collect();
    sql.push_str(&rows.join(", "));
    sql
}

fn lose_create_answers(w: &World, object: &str) {
    w.sim.state().inject_on(
        &format!("{object}/batch/create"),
        [Fault::LostReply, Fault::CutReply, Fault::LostReply],
    );
}

#[tokio::test]
async fn companies_whose_create_answers_are_lost_are_found_by_key_and_never_created_twice() {
    let w = World::start(SimSettings::default(), &company_rows()).await;
    lose_create_answers(&w, "companies");
    let e = w.engine(companies()).await;
    w.sync(&e, ObjectKind::Companies).await;
    assert_eq!(
        w.sim.state().count(ObjectKind::Companies),
        250,
        "no duplicate"
    );
    assert_eq!(w.unlinked("companies"), 0, "every company linked");
    w.assert_clean(&e).await;
}

#[tokio::test]
async fn companies_whose_create_answers_are_lost_are_found_by_their_app_id_and_never_created_twice()
{
    let w = World::start(SimSettings::default(), &company_rows()).await;
    lose_create_answers(&w, "companies");
    let mut m = companies();
    m.app_id_property = Some("app_record_id".into());
    let e = w.engine(m).await;
    w.sync(&e, ObjectKind::Companies).await;
    assert_eq!(
        w.sim.state().count(ObjectKind::Companies),
        250,
        "no duplicate"
    );
    assert_eq!(w.unlinked("companies"), 0, "every company linked");
    w.assert_clean(&e).await;
}

#[tokio::test]
async fn contacts_whose_create_answers_are_lost_are_found_by_email_without_a_call_per_record() {
    let mut sql = String::from("INSERT INTO contacts (email, first_name) VALUES ");
    let rows: Vec<String> = (0..250)
        .map(|i| format!("('person{i}@example.com', 'Person {i}')"))
        .collect();
    sql.push_str(&rows.join(", "));
    let w = World::start(SimSettings::default(), &sql).await;
    lose_create_answers(&w, "contacts");
    let e = w.engine(ObjectMapping::demo_contacts()).await;
    w.sync(&e, ObjectKind::Contacts).await;
    assert_eq!(w.sim.state().count(ObjectKind::Contacts), 250);
    assert_eq!(w.unlinked("contacts"), 0, "every contact linked");
    w.assert_clean(&e).await;
    // Resending blindly meets a 409 per contact, each resolved by its own
    // calls; a lookup settles each lost batch in one.
    let calls = w.sim.state().request_count();
    assert!(calls <= 20, "{calls} calls for 250 contacts");
}

/// A create refused with `CONFLICTING_UNIQUE_VALUE` on hubsync's own app id
/// property: HubSpot holds the record an earlier, unconfirmed create made.
async fn create_where_the_app_id_is_taken(partial_batches: bool) {
    use hubsync::sync::execute::{Executor, Records};
    use hubsync::sync::plan::Decision;
    use std::collections::{BTreeMap, HashMap};
    let w = World::start(
        SimSettings {
            partial_batches,
            ..SimSettings::default()
        },
        "INSERT INTO companies (name) VALUES ('Initech'), ('Hooli');",
    )
    .await;
    let taken = reqwest::Client::new()
        .post(format!("{}/crm/v3/objects/companies", w.sim.base_url()))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"properties": {"name": "Initech", "app_record_id": "1"}}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut m = companies();
    m.app_id_property = Some("app_record_id".into());
    let client = HubSpotClient::new(ClientSettings::new(
        w.sim.base_url(),
        SecretString::from(TOKEN),
    ))
    .unwrap();
    let store = Store::open(&w.dir.path().join("state.db")).await.unwrap();
    let app = AppDb::open(&w.dir.path().join("app.db")).unwrap();
    let create = |id: &str, name: &str| Decision::CreateInHubSpot {
        app_id: id.into(),
        properties: BTreeMap::from([
            ("name".to_string(), name.to_string()),
            ("app_record_id".to_string(), id.to_string()),
        ]),
        memory: BTreeMap::from([("name".to_string(), name.to_string())]),
    };
    let (a, h) = (HashMap::new(), HashMap::new());
    let tally = Executor::new(&client, &store, &app, &m, 1)
        .run(
            &Records {
                app: &a,
                hubspot: &h,
            },
            vec![create("1", "Initech"), create("2", "Hooli")],
        )
        .await
        .unwrap();
    assert_eq!((tally.succeeded, tally.failed), (2, 0), "{tally:?}");
    let links = store
        .links_of_app(ObjectKind::Companies, &["1".to_string()])
        .await
        .unwrap();
    assert_eq!(
        links[0].hubspot_id, taken,
        "linked to the record holding its app id"
    );
    assert_eq!(w.sim.state().count(ObjectKind::Companies), 2);
    assert_eq!(w.unlinked("companies"), 0);
}

#[tokio::test]
async fn a_207_conflict_on_the_app_id_links_the_record_holding_it() {
    create_where_the_app_id_is_taken(true).await;
}

#[tokio::test]
async fn a_whole_batch_refused_for_a_taken_app_id_links_that_record_and_sends_the_rest() {
    create_where_the_app_id_is_taken(false).await;
}

// ---- the fewest calls ----

fn contact_rows(n: usize) -> String {
    let rows: Vec<String> = (0..n)
        .map(|i| format!("('person{i}@example.com', 'Person {i}')"))
        .collect();
    format!(
        "INSERT INTO contacts (email, first_name) VALUES {};",
        rows.join(", ")
    )
}

/// The paths of the calls the simulator answered, from `from` on.
fn paths(w: &World, from: usize) -> Vec<String> {
    w.sim.state().exchanges()[from..]
        .iter()
        .map(|x| format!("{} {}", x.method, x.path))
        .collect()
}

#[tokio::test]
async fn new_app_contacts_cost_one_create_call_per_hundred_and_no_lookup() {
    let w = World::start(
        SimSettings {
            record_exchanges: true,
            ..SimSettings::default()
        },
        &contact_rows(300),
    )
    .await;
    let e = w.engine(ObjectMapping::demo_contacts()).await;
    e.bootstrap().await.unwrap();
    let from = w.sim.state().exchanges().len();
    w.sync(&e, ObjectKind::Contacts).await;
    let calls = paths(&w, from);
    let creates = calls
        .iter()
        .filter(|c| c.ends_with("/batch/create"))
        .count();
    assert_eq!(creates, 3, "one create per 100: {calls:?}");
    assert!(
        !calls.iter().any(|c| c.ends_with("/batch/read")),
        "no batch read by email first: {calls:?}"
    );
    assert_eq!(w.sim.state().count(ObjectKind::Contacts), 300);
    assert_eq!(w.unlinked("contacts"), 0);
    w.assert_clean(&e).await;
}

#[tokio::test]
async fn an_app_contact_whose_email_hubspot_holds_is_linked_by_the_rules_not_overwritten_by_the_create()
 {
    let w = World::start(SimSettings::default(), "").await;
    let rules = SyncRules {
        system_of_record: hubsync::model::Side::HubSpot,
        ..SyncRules::both()
    };
    let e = w.engine_with(ObjectMapping::demo_contacts(), rules).await;
    w.sync(&e, ObjectKind::Contacts).await;
    // After the first pass the app's feed goes first: Ada is unlinked in
    // the app when her create meets HubSpot's record with her email.
    let held = reqwest::Client::new()
        .post(format!("{}/crm/v3/objects/contacts", w.sim.base_url()))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"properties": {"email": "ada@example.com", "firstname": "Ada (HubSpot)"}}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    Connection::open(w.dir.path().join("app.db"))
        .unwrap()
        .execute_batch(
            "INSERT INTO contacts (email, first_name) VALUES ('ada@example.com', 'Ada (app)'), ('bea@example.com', 'Bea');",
        )
        .unwrap();
    w.sync(&e, ObjectKind::Contacts).await;
    assert_eq!(
        w.sim.state().count(ObjectKind::Contacts),
        2,
        "Bea created, Ada not"
    );
    assert_eq!(
        w.sim.state().get(ObjectKind::Contacts, &held).unwrap()["firstname"],
        "Ada (HubSpot)",
        "HubSpot is the system of record: the link keeps its value"
    );
    let app_first: String = Connection::open(w.dir.path().join("app.db"))
        .unwrap()
        .query_row(
            "SELECT first_name FROM contacts WHERE email = 'ada@example.com'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(app_first, "Ada (HubSpot)");
    assert_eq!(w.unlinked("contacts"), 0);
    w.assert_clean(&e).await;
}

// ---- duplicate keys in the app ----

#[tokio::test]
async fn app_rows_sharing_an_email_fail_with_duplicate_key_naming_both_and_retry_once_fixed() {
    let w = World::start(
        SimSettings::default(),
        "INSERT INTO contacts (email, first_name) VALUES ('ada@example.com', 'Ada'), ('ADA@example.com', 'Ada again'), ('bea@example.com', 'Bea');",
    )
    .await;
    let e = w.engine(ObjectMapping::demo_contacts()).await;
    w.sync(&e, ObjectKind::Contacts).await;
    assert_eq!(w.sim.state().count(ObjectKind::Contacts), 2);
    let failed = e.store().open_failures(50).await.unwrap();
    let [f] = &failed[..] else {
        panic!("one FAILED entry expected: {failed:?}")
    };
    assert_eq!(
        (f.app_id.as_str(), f.category.as_deref()),
        ("2", Some("DUPLICATE_KEY"))
    );
    let said = f.message.clone().unwrap_or_default();
    assert!(said.contains("app records 2 and 1"), "{said}");

    // The operator fixes the app and retries the entry.
    Connection::open(w.dir.path().join("app.db"))
        .unwrap()
        .execute(
            "UPDATE contacts SET email = 'ada.two@example.com', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = 2",
            [],
        )
        .unwrap();
    e.handle(Command::Retry { audit_id: f.id }, None)
        .await
        .unwrap();
    e.run_until_idle().await.unwrap();
    assert_eq!(w.sim.state().count(ObjectKind::Contacts), 3);
    assert_eq!(w.unlinked("contacts"), 0);
    w.assert_clean(&e).await;
}

#[tokio::test]
async fn an_app_row_whose_email_another_linked_row_holds_fails_with_duplicate_key() {
    let w = World::start(
        SimSettings::default(),
        "INSERT INTO contacts (email, first_name) VALUES ('ada@example.com', 'Ada');",
    )
    .await;
    let e = w.engine(ObjectMapping::demo_contacts()).await;
    w.sync(&e, ObjectKind::Contacts).await;
    Connection::open(w.dir.path().join("app.db"))
        .unwrap()
        .execute(
            "INSERT INTO contacts (email, first_name) VALUES ('Ada@Example.com', 'Ada twice')",
            [],
        )
        .unwrap();
    w.sync(&e, ObjectKind::Contacts).await;
    assert_eq!(w.sim.state().count(ObjectKind::Contacts), 1, "no duplicate");
    let failed = e.store().open_failures(50).await.unwrap();
    let [f] = &failed[..] else {
        panic!("one FAILED entry expected: {failed:?}")
    };
    assert_eq!(
        (f.app_id.as_str(), f.category.as_deref()),
        ("2", Some("DUPLICATE_KEY"))
    );
    let said = f.message.clone().unwrap_or_default();
    assert!(
        said.contains("app records 2 and 1") && said.contains("already linked to app record 1"),
        "{said}"
    );
}
