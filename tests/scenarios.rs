//! SPEC §2 scenarios through the real engine, executor, simulator (over
//! loopback HTTP) and an app database, each run on SQLite and on
//! PostgreSQL (see `support::backends`): the OfficeRnD unlink /
//! create-and-link / update tables (seeds/003), conflicts, merge, echo,
//! filters, merged contacts, and a bulk edit past the search cap.

use hubsync::appdb::AppDb;
use hubsync::engine::{Engine, EngineSettings};
use hubsync::hubspot::{ClientSettings, HubSpotClient};
use hubsync::model::{Direction, ObjectKind, Side};
use hubsync::sim::{SeedData, SimServer, SimSettings};
use hubsync::status::JobKind;
use hubsync::store::Store;
use hubsync::sync::filter::{Filter, FilterGroup, Filters};
use hubsync::sync::mapping::{FieldMap, KeyMap, ObjectMapping};
use hubsync::sync::rules::{ObjectSync, SyncRules};
use hubsync::sync::transform::Transform;
use rusqlite::Connection;
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use support::backends::{self, Kind, kinds};

mod support;

const TOKEN: &str = "pat-scenario";

/// The app's tables: the same columns on both backends, in each one's
/// types (UUID ids as `uuid`, stamps as `timestamptz` on PostgreSQL), each
/// touching `updated_at` when the app's own update does not.
const SQLITE_SCHEMA: &str = r#"
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT, phone TEXT,
    company TEXT, job_title TEXT, company_id INTEGER, hubspot_id TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TRIGGER contacts_touch AFTER UPDATE OF email, first_name, last_name, phone, company, job_title, company_id
ON contacts WHEN NEW.updated_at = OLD.updated_at
BEGIN UPDATE contacts SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id; END;
CREATE TABLE companies (
    id INTEGER PRIMARY KEY, name TEXT, domain TEXT, description TEXT, hubspot_id TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE people (
    id TEXT PRIMARY KEY, email TEXT, first_name TEXT, hubspot_id TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE deals (
    id INTEGER PRIMARY KEY, name TEXT, amount TEXT, hubspot_id TEXT,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TRIGGER companies_touch AFTER UPDATE OF name, domain, description
ON companies WHEN NEW.updated_at = OLD.updated_at
BEGIN UPDATE companies SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id; END;
"#;

const POSTGRES_SCHEMA: &str = r#"
CREATE TABLE contacts (
    id bigserial PRIMARY KEY, email text, first_name text, last_name text, phone text,
    company text, job_title text, company_id bigint, hubspot_id text,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at = OLD.updated_at THEN NEW.updated_at := clock_timestamp(); END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER contacts_touch BEFORE UPDATE OF email, first_name, last_name, phone, company, job_title, company_id
ON contacts FOR EACH ROW EXECUTE FUNCTION touch();
CREATE TABLE companies (
    id bigserial PRIMARY KEY, name text, domain text, description text, hubspot_id text,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE people (
    id uuid PRIMARY KEY, email text, first_name text, hubspot_id text,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE deals (
    id bigserial PRIMARY KEY, name text, amount text, hubspot_id text,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TRIGGER companies_touch BEFORE UPDATE OF name, domain, description
ON companies FOR EACH ROW EXECUTE FUNCTION touch();
"#;

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn companies_mapping() -> ObjectMapping {
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
            f("description", "description", Transform::None),
        ],
        label_column: "name".into(),
        company_column: None,
        app_id_property: None,
    }
}

fn object(mapping: ObjectMapping, rules: SyncRules) -> ObjectSync {
    ObjectSync {
        mapping,
        rules,
        poll_interval: Duration::from_secs(3600),
        batch_size: 100,
    }
}

/// The OfficeRnD policy: both ways, records created in the app only, the
/// app winning same-field conflicts.
fn officernd() -> SyncRules {
    SyncRules {
        create_in_hubspot: false,
        ..SyncRules::both()
    }
}

/// A scenario's world: the simulator, an app database on one backend (a
/// SQLite file, or a schema of its own on PostgreSQL) and a state folder.
struct World {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    sim: SimServer,
    db: backends::World,
}

/// Runs a scenario's body on every backend there is (see
/// `support::backends`), each in a world of its own.
async fn on_both<F, Fut>(test: &str, body: F)
where
    F: Fn(Kind) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for kind in kinds(test) {
        body(kind).await;
    }
}

impl World {
    async fn start(kind: Kind, seed: SeedData, app_sql: &str) -> World {
        Self::start_with(kind, seed, app_sql, SimSettings::default()).await
    }

    async fn start_with(kind: Kind, seed: SeedData, app_sql: &str, sim: SimSettings) -> World {
        let dir = tempfile::tempdir().unwrap();
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
        let db = backends::World::new(kind, "scenario").await;
        db.exec(match kind {
            Kind::Sqlite => SQLITE_SCHEMA,
            Kind::Postgres => POSTGRES_SCHEMA,
        })
        .await;
        if !app_sql.is_empty() {
            db.exec(app_sql).await;
        }
        World {
            dir: dir.path().to_path_buf(),
            _dir: dir,
            sim,
            db,
        }
    }

    /// An engine over this world's state; a new one sees the same state,
    /// as a restart with a changed config would. Tables are named as a
    /// config would name them on this backend (schema-qualified on
    /// PostgreSQL).
    fn engine(&self, mut objects: Vec<ObjectSync>) -> Arc<Engine> {
        for o in &mut objects {
            o.mapping.table = self.db.table(&o.mapping.table);
        }
        let mut s = ClientSettings::new(self.sim.base_url(), SecretString::from(TOKEN));
        s.search_per_second = 10_000;
        Engine::new(
            Arc::new(HubSpotClient::new(s).unwrap()),
            Store::open_blocking(&self.dir.join("state.db")).unwrap(),
            AppDb::open(&self.db.target).unwrap(),
            objects,
            EngineSettings::default(),
        )
    }

    async fn sync(&self, engine: &Engine) {
        engine.bootstrap().await.unwrap();
        // Polls are scheduled an hour out: a pass now means "sync now".
        for o in [ObjectKind::Companies, ObjectKind::Contacts] {
            if engine.object(o).is_some() {
                engine
                    .handle(hubsync::status::Command::SyncNow { object: o }, None)
                    .await
                    .unwrap();
            }
        }
        engine.run_until_idle().await.unwrap();
    }

    async fn scan(&self, engine: &Engine, object: ObjectKind) {
        engine
            .store()
            .enqueue(
                JobKind::Scan,
                object,
                Direction::Both,
                None,
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        engine.run_until_idle().await.unwrap();
    }

    /// Runs the app's own SQL, as its users' edits would.
    async fn app(&self, sql: &str) {
        self.db.exec(sql).await
    }

    /// One app column (as text) by a key column's value.
    async fn app_value(&self, table: &str, key: &str, value: &str, column: &str) -> Option<String> {
        let value = value.replace('\'', "''");
        self.db
            .value(&format!(
                "SELECT CAST({column} AS TEXT) FROM {table} WHERE {key} = '{value}'"
            ))
            .await
    }

    async fn app_count(&self, table: &str) -> i64 {
        self.db
            .value(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}"))
            .await
            .unwrap()
            .parse()
            .unwrap()
    }

    fn hubspot_id_of(&self, email: &str) -> String {
        self.sim.state().find_by_email(email).unwrap().0
    }

    fn hubspot(&self, object: ObjectKind, id: &str, prop: &str) -> Option<String> {
        self.sim
            .state()
            .get(object, id)
            .and_then(|p| p.get(prop).cloned())
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> reqwest::StatusCode {
        reqwest::Client::new()
            .post(format!("{}{path}", self.sim.base_url()))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
    }
}

fn contacts(rules: SyncRules) -> ObjectSync {
    object(ObjectMapping::demo_contacts(), rules)
}

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

// ---- field-level merge ----

/// One linked contact, synced both ways, and its HubSpot id.
async fn linked_ada(kind: Kind, rules: SyncRules) -> (World, Arc<Engine>, String) {
    let w = World::start(kind,
        SeedData::contacts(vec![props(&[
            ("email", "ada@example.com"),
            ("firstname", "Ada"),
            ("phone", "1"),
            ("jobtitle", "Analyst"),
        ])]),
        "INSERT INTO contacts (email, first_name, phone, job_title) VALUES ('ada@example.com', 'Ada', '1', 'Analyst');",
    )
    .await;
    let e = w.engine(vec![contacts(rules)]);
    w.sync(&e).await;
    let id = w.hubspot_id_of("ada@example.com");
    (w, e, id)
}

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

// ---- webhooks ----

#[tokio::test]
async fn a_hubspot_edit_reaches_the_app_through_a_webhook_and_our_own_writes_queue_nothing() {
    on_both(
        "a_hubspot_edit_reaches_the_app_through_a_webhook_and_our_own_writes_queue_nothing",
        |kind| async move {
            use hubsync::sim::WebhookTarget;
            use hubsync::webhook::{ReceiverConfig, intake, router};
            const SECRET: &str = "client-secret";
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let target = WebhookTarget {
                retry_base: Duration::from_millis(20),
                batch_every: Duration::from_millis(50),
                ..WebhookTarget::new(format!("{base}/hook"), SECRET)
            };
            let w = World::start_with(kind,
        SeedData::contacts(vec![props(&[
            ("email", "ada@example.com"),
            ("firstname", "Ada"),
        ])]),
        "INSERT INTO contacts (email, first_name, phone) VALUES ('ada@example.com', 'Ada', '1');",
        SimSettings {
            webhook: Some(target),
            ..SimSettings::default()
        },
    )
    .await;
            let e = w.engine(vec![contacts(SyncRules::both())]);
            let (tx, rx) = tokio::sync::mpsc::channel(100);
            let app = router(
                ReceiverConfig {
                    client_secret: SecretString::from(SECRET),
                    public_base: base,
                    path: "/hook".into(),
                },
                tx,
            );
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            let cancel = tokio_util::sync::CancellationToken::new();
            tokio::spawn(intake::feed(e.clone(), rx, cancel.clone()));
            w.sync(&e).await;
            let id = w.hubspot_id_of("ada@example.com");

            // hubsync writes the app's phone to HubSpot: HubSpot reports the change,
            // but as this app's own write, so no job is queued for it.
            w.app("UPDATE contacts SET phone = '2'").await;
            w.sync(&e).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            async fn queued(e: &Engine) -> usize {
                e.store()
                    .queued_jobs(50)
                    .await
                    .unwrap()
                    .into_iter()
                    .filter(|j| j.kind == JobKind::Webhook)
                    .count()
            }
            assert_eq!(queued(&e).await, 0, "an echo of our write queued a job");

            // A user edits the contact in HubSpot: the webhook queues its sync.
            w.sim
                .state()
                .set_property(ObjectKind::Contacts, &id, "firstname", "Augusta");
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while queued(&e).await == 0 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no webhook job within 10 s"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            e.run_until_idle().await.unwrap();
            assert_eq!(
                w.app_value("contacts", "email", "ada@example.com", "first_name")
                    .await
                    .as_deref(),
                Some("Augusta")
            );
            cancel.cancel();
        },
    )
    .await;
}

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

// ---- a crash between a HubSpot write and remembering it ----

/// Ada linked; the app renamed her and the engine had noted the write to
/// HubSpot when it died: `landed` says whether HubSpot got it. Then a
/// HubSpot user edits the same field.
async fn crashed_mid_write(kind: Kind, landed: bool) -> (World, Arc<Engine>, String) {
    let (w, e, id) = linked_ada(kind, SyncRules::both()).await;
    w.app("UPDATE contacts SET first_name = 'Augusta'").await;
    let app_id =
        w.db.value("SELECT CAST(id AS TEXT) FROM contacts")
            .await
            .unwrap();
    let sent = props(&[("firstname", "Augusta")]);
    e.store()
        .set_pending(ObjectKind::Contacts, &[(app_id.as_str(), &sent)])
        .await
        .unwrap();
    if landed {
        let r = reqwest::Client::new()
            .patch(format!("{}/crm/v3/objects/contacts/{id}", w.sim.base_url()))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({"properties": {"firstname": "Augusta"}}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    w.sim
        .state()
        .set_property(ObjectKind::Contacts, &id, "firstname", "Ada Lovelace");
    (w, e, id)
}

/// The first name on both sides after the sync that follows the crash.
async fn first_names_after(kind: Kind, landed: bool) -> (Option<String>, Option<String>) {
    let (w, e, id) = crashed_mid_write(kind, landed).await;
    w.sync(&e).await;
    (
        w.hubspot(ObjectKind::Contacts, &id, "firstname"),
        w.app_value("contacts", "email", "ada@example.com", "first_name")
            .await,
    )
}

#[tokio::test]
async fn an_edit_made_after_a_write_that_landed_unconfirmed_is_not_overwritten() {
    on_both("landed_unconfirmed", |kind| async move {
        let want = Some("Ada Lovelace".to_string());
        assert_eq!(first_names_after(kind, true).await, (want.clone(), want));
    })
    .await;
}

#[tokio::test]
async fn a_write_that_never_landed_leaves_a_true_conflict_to_the_system_of_record() {
    on_both("never_landed", |kind| async move {
        let want = Some("Augusta".to_string());
        assert_eq!(first_names_after(kind, false).await, (want.clone(), want));
    })
    .await;
}

// ---- a crash between creating an app row and linking it ----

/// Grace exists only in HubSpot and is created in the app; the engine dies
/// after the app's insert committed and before the link was stored (the
/// row carries her HubSpot id, the state database only the noted create).
/// Then each side edits a different field.
#[tokio::test]
async fn edits_after_a_create_in_the_app_whose_link_a_crash_lost_are_both_kept() {
    on_both(
        "edits_after_a_create_in_the_app_whose_link_a_crash_lost_are_both_kept",
        |kind| async move {
            let w = World::start(
                kind,
                SeedData::contacts(vec![props(&[
                    ("email", "grace@example.com"),
                    ("firstname", "Grace"),
                    ("phone", "1"),
                ])]),
                "",
            )
            .await;
            let e = w.engine(vec![contacts(SyncRules::both())]);
            w.sync(&e).await;
            let id = w.hubspot_id_of("grace@example.com");
            let app_id =
                w.db.value("SELECT CAST(id AS TEXT) FROM contacts")
                    .await
                    .unwrap();
            let link = e
                .store()
                .links_of_hubspot(ObjectKind::Contacts, std::slice::from_ref(&id))
                .await
                .unwrap()
                .pop()
                .unwrap();
            e.store()
                .note_app_creates(ObjectKind::Contacts, &[(id.as_str(), &link.memory)])
                .await
                .unwrap();
            e.store()
                .unlink(ObjectKind::Contacts, &app_id)
                .await
                .unwrap();

            w.sim
                .state()
                .set_property(ObjectKind::Contacts, &id, "firstname", "Gracie");
            w.app("UPDATE contacts SET phone = '2'").await;
            w.sync(&e).await;

            assert_eq!(
                w.hubspot(ObjectKind::Contacts, &id, "firstname").as_deref(),
                Some("Gracie")
            );
            assert_eq!(
                w.hubspot(ObjectKind::Contacts, &id, "phone").as_deref(),
                Some("2")
            );
            for (column, want) in [("first_name", "Gracie"), ("phone", "2")] {
                assert_eq!(
                    w.app_value("contacts", "email", "grace@example.com", column)
                        .await
                        .as_deref(),
                    Some(want),
                    "app {column}"
                );
            }
            assert_eq!(w.app_count("contacts").await, 1);
        },
    )
    .await;
}

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
