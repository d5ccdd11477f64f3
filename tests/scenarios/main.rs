//! SPEC §2 scenarios through the real engine, executor, simulator (over
//! loopback HTTP) and an app database, each run on SQLite and on
//! PostgreSQL (see `support::backends`): the OfficeRnD unlink /
//! create-and-link / update tables (seeds/003), conflicts, merge, echo,
//! filters, merged contacts, and a bulk edit past the search cap. One test
//! binary, a module per SPEC area; the world they share is here.

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

#[path = "../support/mod.rs"]
mod support;

mod app_ids_in_hubspot;
mod app_tables;
mod companies_and_deals;
mod crashes;
mod field_merge;
mod filters;
mod merges_and_deletions;
mod officernd;
mod polling;
mod webhooks;

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
