//! The set-up the protocol tests share: `hubsync sim` as HubSpot, an app
//! database in which a few emails have no top-level domain (so HubSpot
//! refuses them and the engine has FAILED entries), and `hubsync run` on a
//! fresh data folder. Every child process dies with its guard.

use super::client::Client;
use rusqlite::Connection;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "pat-control-protocol-test";
const TOKEN_ENV: &str = "HUBSYNC_CONTROL_TEST_TOKEN";
/// App contacts in all, and how many of them HubSpot refuses.
const CONTACTS: usize = 12;
pub const BROKEN: usize = 4;

/// A child process killed (SIGKILL) and reaped when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The user this test runs as, which the engine must name as the operator.
pub fn os_user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    assert!(out.status.success(), "id -un failed");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Where the app's contacts live, and what the config adds.
#[derive(Default)]
pub struct Setup {
    /// A PostgreSQL server's URL (a schema of its own is made there);
    /// `None`: a SQLite file.
    pub postgres: Option<String>,
    /// Lines appended to the config (filter groups, say).
    pub extra_config: String,
}

/// The app database as the test reads it: the file, or the server and
/// the schema holding `contacts`.
pub enum AppSide {
    Sqlite(PathBuf),
    Postgres {
        settings: hubsync::appdb::postgres::Settings,
        schema: String,
    },
}

/// A simulator, an app database and a running engine, in one temp folder.
pub struct World {
    _dir: tempfile::TempDir,
    pub data: PathBuf,
    pub hubspot: String,
    pub engine: Proc,
    pub app: AppSide,
    _sim: Proc,
}

impl World {
    pub async fn start() -> World {
        World::start_with(Setup::default()).await
    }

    pub async fn start_with(setup: Setup) -> World {
        let dir = tempfile::tempdir().unwrap();
        // HubSpot already holds two of the app's contacts.
        let seed = json!({ "contacts": [
            { "email": "user4@example.com", "firstname": "HubSpot Four" },
            { "email": "user5@example.com", "jobtitle": "HubSpot title" },
        ]});
        let seed_path = dir.path().join("seed.json");
        std::fs::write(&seed_path, seed.to_string()).unwrap();
        let port = free_port();
        let sim = Proc(
            Command::new(env!("CARGO_BIN_EXE_hubsync"))
                .args(["sim", "--port", &port.to_string(), "--token", TOKEN])
                .arg("--seed")
                .arg(&seed_path)
                .args(["--ten-second-limit", "1000"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "hubsync sim did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let hubspot = format!("http://127.0.0.1:{port}");

        let contacts: Vec<_> = (0..CONTACTS)
            .map(|i| hubsync::appdb::demo::FixtureContact {
                // No top-level domain: HubSpot answers INVALID_EMAIL.
                email: Some(if i < BROKEN {
                    format!("broken{i}@example")
                } else {
                    format!("user{i}@example.com")
                }),
                first_name: Some(format!("First{i}")),
                last_name: Some(format!("Last{i}")),
                phone: None,
                company: None,
                job_title: None,
            })
            .collect();
        let (app, app_config, table) = match &setup.postgres {
            None => {
                let app_db = dir.path().join("app.db");
                hubsync::appdb::demo::create(&app_db, &contacts).unwrap();
                let config = format!("database = \"{}\"", app_db.display());
                (AppSide::Sqlite(app_db), config, "contacts".to_string())
            }
            Some(url) => {
                let settings = hubsync::appdb::postgres::Settings::parse(
                    url,
                    Some(crate::backends::PASSWORD_ENV.to_string()),
                )
                .unwrap();
                let schema = hubsync::appdb::postgres::demo::create(&settings, &contacts)
                    .await
                    .unwrap();
                let config = format!(
                    "url = \"{url}\"\npassword_env = \"{}\"",
                    crate::backends::PASSWORD_ENV
                );
                let table = format!("{schema}.contacts");
                (AppSide::Postgres { settings, schema }, config, table)
            }
        };

        // Polls an hour apart: after the first pass the engine is idle, so
        // anything written later was written by a request.
        let config = dir.path().join("hubsync.toml");
        std::fs::write(
            &config,
            format!(
                r#"[hubspot]
base_url = "{hubspot}"
token_env = "{TOKEN_ENV}"
ten_second_limit = 1000

[app]
{app_config}

[objects.contacts]
table = "{table}"
id_column = "id"
updated_at_column = "updated_at"
hubspot_id_column = "hubspot_id"
key_column = "email"
direction = "both"
poll_interval_secs = 3600
batch_size = 100

[[objects.contacts.fields]]
app = "email"
hubspot = "email"
transform = "lowercase_trim"

[[objects.contacts.fields]]
app = "first_name"
hubspot = "firstname"

[[objects.contacts.fields]]
app = "last_name"
hubspot = "lastname"
{}
"#,
                setup.extra_config
            ),
        )
        .unwrap();

        let data = dir.path().join("data");
        let engine = Proc(
            Command::new(env!("CARGO_BIN_EXE_hubsync"))
                .args(["run", "--config"])
                .arg(&config)
                .arg("--data-dir")
                .arg(&data)
                .env(TOKEN_ENV, TOKEN)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let mut w = World {
            _dir: dir,
            data,
            hubspot,
            engine,
            app,
            _sim: sim,
        };
        let started = Instant::now();
        while !w.operator_socket().exists() {
            w.assert_engine_running();
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "no {} after 20 s; log:\n{}",
                w.operator_socket().display(),
                w.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        w
    }

    /// A world whose first pass is over: every broken email is FAILED,
    /// nothing runs and nothing is due for an hour.
    pub async fn settled() -> World {
        World::settled_with(Setup::default()).await
    }

    /// [`World::settled`] on this set-up.
    pub async fn settled_with(setup: Setup) -> World {
        let mut w = World::start_with(setup).await;
        let mut c = w.operator().await;
        let started = Instant::now();
        loop {
            let s = c.ok("status", Value::Null).await;
            let soon = chrono::Utc::now() + chrono::Duration::minutes(10);
            let idle = s["running"].is_null()
                && s["queued"].as_array().unwrap().iter().all(|j| {
                    j["run_after"]
                        .as_str()
                        .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok())
                        .is_some_and(|t| t > soon)
                });
            if idle && s["failed_total"] == json!(BROKEN) {
                break;
            }
            w.assert_engine_running();
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the first pass did not settle in 20 s; last status: {s}\nlog:\n{}",
                w.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        w
    }

    pub fn operator_socket(&self) -> PathBuf {
        self.data.join("control.sock")
    }

    pub fn viewer_socket(&self) -> PathBuf {
        self.data.join("viewer.sock")
    }

    /// A connection to the operator socket, past `hello`.
    pub async fn operator(&self) -> Client {
        let mut c = Client::connect(&self.operator_socket()).await;
        let welcome = c.hello().await;
        assert_eq!(welcome["role"], "operator", "{welcome}");
        c
    }

    /// A connection to the viewer socket, past `hello`.
    pub async fn viewer(&self) -> Client {
        let mut c = Client::connect(&self.viewer_socket()).await;
        let welcome = c.hello().await;
        assert_eq!(welcome["role"], "viewer", "{welcome}");
        c
    }

    pub fn assert_engine_running(&mut self) {
        if let Some(st) = self.engine.0.try_wait().unwrap() {
            panic!("hubsync run exited ({st}); log:\n{}", self.log_tail());
        }
    }

    /// The engine is alive and a new connection is served as usual.
    pub async fn assert_still_serving(&mut self) {
        self.assert_engine_running();
        let mut c = self.operator().await;
        let s = c.ok("status", Value::Null).await;
        assert!(s["taken_at"].is_string(), "status answered {s}");
    }

    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.data.join("hubsync.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// What is in the state database, read as any SQLite client would.
    pub fn state(&self) -> StateDigest {
        let conn = Connection::open(self.data.join("state.db")).unwrap();
        conn.busy_timeout(Duration::from_secs(10)).unwrap();
        let (audit_rows, audit_max_id, dismissed) = conn
            .query_row(
                "SELECT COUNT(*), COALESCE(MAX(id), 0), COUNT(dismissed_at) FROM audit",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        let mut stmt = conn.prepare("SELECT * FROM jobs ORDER BY id").unwrap();
        let width = stmt.column_count();
        let jobs = stmt
            .query_map([], |r| {
                (0..width)
                    .map(|i| {
                        r.get::<_, rusqlite::types::Value>(i)
                            .map(|v| format!("{v:?}"))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(|cols| cols.join("|"))
            })
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        StateDigest {
            audit_rows,
            audit_max_id,
            dismissed,
            jobs,
        }
    }

    /// One column of app contact `id`, read as any client of the app
    /// database would.
    pub async fn app_value(&self, id: i64, column: &str) -> Option<String> {
        match &self.app {
            AppSide::Sqlite(path) => {
                let conn = Connection::open(path).unwrap();
                conn.query_row(
                    &format!("SELECT CAST({column} AS TEXT) FROM contacts WHERE id = ?1"),
                    [id],
                    |r| r.get(0),
                )
                .unwrap()
            }
            AppSide::Postgres { settings, schema } => {
                let c = hubsync::appdb::postgres::demo::connect(settings)
                    .await
                    .unwrap();
                c.query_one(
                    &format!("SELECT {column}::text FROM {schema}.contacts WHERE id = $1"),
                    &[&id],
                )
                .await
                .unwrap()
                .get(0)
            }
        }
    }

    /// HubSpot's contacts, counted through the simulator's list API.
    pub async fn hubspot_contacts(&self) -> usize {
        let http = reqwest::Client::new();
        let mut n = 0;
        let mut after: Option<String> = None;
        loop {
            let mut q = vec![("limit", "100".to_string())];
            if let Some(a) = &after {
                q.push(("after", a.clone()));
            }
            let resp = http
                .get(format!("{}/crm/v3/objects/contacts", self.hubspot))
                .query(&q)
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap();
            assert!(
                resp.status().is_success(),
                "the simulator answered {}",
                resp.status()
            );
            let body: Value = resp.json().await.unwrap();
            n += body["results"].as_array().unwrap().len();
            match body["paging"]["next"]["after"].as_str() {
                Some(a) => after = Some(a.to_string()),
                None => return n,
            }
        }
    }
}

#[derive(Debug, PartialEq)]
pub struct StateDigest {
    pub audit_rows: i64,
    pub audit_max_id: i64,
    pub dismissed: i64,
    /// Every column of every job, so a changed `run_after` shows too.
    pub jobs: Vec<String>,
}
