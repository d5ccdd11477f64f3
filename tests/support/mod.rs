//! What the tests of the real binaries share: a simulator process, an app
//! database, a config naming both, `hubsync run` on it, a terminal in tmux.
//! Every child is killed and reaped when its guard drops.

#![allow(dead_code)]

pub mod backends;
pub mod webhook_run;

use backends::Kind;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

pub const TOKEN: &str = "pat-service-test-1";
pub const TOKEN_ENV: &str = "HUBSYNC_SERVICE_TEST_TOKEN";

/// A child process killed (SIGKILL) and reaped when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Sends a signal by name (`TERM`, `HUP`, `KILL`).
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.0.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success(), "kill -{sig}");
    }

    /// Waits for the process to exit, at most `bound`.
    pub fn wait_exit(&mut self, bound: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + bound;
        loop {
            if let Some(st) = self.0.try_wait().unwrap() {
                return st;
            }
            assert!(Instant::now() < deadline, "still running after {bound:?}");
            sleep(Duration::from_millis(50));
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.0.try_wait().unwrap().is_none()
    }

    /// What the process wrote to its piped stderr (read to the end: call
    /// it after the process exited).
    pub fn stderr(&mut self) -> String {
        use std::io::Read;
        let mut s = String::new();
        if let Some(e) = self.0.stderr.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `pred` until it holds; panics naming `what` if it never does.
pub fn wait_until(what: &str, bound: Duration, mut pred: impl FnMut() -> bool) {
    let deadline = Instant::now() + bound;
    while !pred() {
        assert!(
            Instant::now() < deadline,
            "timed out after {bound:?} waiting for {what}"
        );
        sleep(Duration::from_millis(100));
    }
}

/// A simulator, an app database (the demo's `contacts` table, on SQLite
/// or in a schema of its own on PostgreSQL), and a config syncing contacts
/// both ways every second.
pub struct World {
    pub dir: tempfile::TempDir,
    pub base: String,
    /// The SQLite file (unused on PostgreSQL).
    pub app_db: PathBuf,
    pub config: PathBuf,
    pub data: PathBuf,
    pub sim: Proc,
    pub kind: Kind,
    /// The app's schema on PostgreSQL.
    pub schema: String,
}

impl World {
    /// `valid` good and `invalid` refused contacts in a SQLite file.
    pub fn start(valid: usize, invalid: usize) -> World {
        let contacts: Vec<_> = (0..valid + invalid)
            .map(|i| hubsync::appdb::demo::FixtureContact {
                // No top-level domain: HubSpot answers INVALID_EMAIL.
                email: Some(if i < valid {
                    format!("person{i}@example.com")
                } else {
                    format!("broken{i}@example")
                }),
                first_name: Some(format!("First{i}")),
                last_name: Some(format!("Last{i}")),
                phone: None,
                company: Some("Acme".into()),
                job_title: None,
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let app_db = dir.path().join("app.db");
        hubsync::appdb::demo::create(&app_db, &contacts).unwrap();
        let w = World::with_sim(dir, Kind::Sqlite, String::new(), None);
        w.write_config(&["email", "first_name", "last_name"]);
        w
    }

    /// `contacts` in the app on backend `kind`, HubSpot seeded with
    /// `seed` (the simulator's `--seed` JSON) when given. The config is
    /// left to the caller ([`World::write_fields`]).
    pub async fn start_on(
        kind: Kind,
        test: &str,
        contacts: &[hubsync::appdb::demo::FixtureContact],
        seed: Option<&serde_json::Value>,
    ) -> World {
        let dir = tempfile::tempdir().unwrap();
        let schema = match kind {
            Kind::Sqlite => {
                hubsync::appdb::demo::create(&dir.path().join("app.db"), contacts).unwrap();
                String::new()
            }
            Kind::Postgres => hubsync::appdb::postgres::demo::create(
                &backends::settings(&backends::postgres_url(test).unwrap()),
                contacts,
            )
            .await
            .unwrap(),
        };
        World::with_sim(dir, kind, schema, seed)
    }

    fn with_sim(
        dir: tempfile::TempDir,
        kind: Kind,
        schema: String,
        seed: Option<&serde_json::Value>,
    ) -> World {
        let port = free_port();
        let mut sim = Command::new(env!("CARGO_BIN_EXE_hubsync"));
        sim.args(["sim", "--port", &port.to_string(), "--token", TOKEN])
            .args(["--ten-second-limit", "1000"]);
        if let Some(seed) = seed {
            let path = dir.path().join("seed.json");
            std::fs::write(&path, seed.to_string()).unwrap();
            sim.arg("--seed").arg(path);
        }
        let sim = Proc(
            sim.stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        wait_until("hubsync sim to listen", Duration::from_secs(20), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        World {
            base: format!("http://127.0.0.1:{port}"),
            app_db: dir.path().join("app.db"),
            config: dir.path().join("hubsync.toml"),
            data: dir.path().join("data"),
            dir,
            sim,
            kind,
            schema,
        }
    }

    /// (Re)writes the config, mapping these app columns (named as in the
    /// demo's app table) to their HubSpot properties.
    pub fn write_config(&self, columns: &[&str]) {
        let fields: Vec<(&str, &str, Option<&str>)> = columns
            .iter()
            .map(|c| {
                let hs = match *c {
                    "first_name" => "firstname",
                    "last_name" => "lastname",
                    "job_title" => "jobtitle",
                    other => other,
                };
                (*c, hs, None)
            })
            .collect();
        self.write_fields(&fields);
    }

    /// (Re)writes the config with these (app column, HubSpot property,
    /// transform) fields.
    pub fn write_fields(&self, columns: &[(&str, &str, Option<&str>)]) {
        let mut fields = String::new();
        for (app, hs, transform) in columns {
            fields.push_str(&format!(
                "\n[[objects.contacts.fields]]\napp = \"{app}\"\nhubspot = \"{hs}\"\n"
            ));
            if let Some(t) = transform {
                fields.push_str(&format!("transform = \"{t}\"\n"));
            }
        }
        let (app, table) = match self.kind {
            Kind::Sqlite => (
                format!("database = \"{}\"", self.app_db.display()),
                "contacts".to_string(),
            ),
            Kind::Postgres => (
                format!(
                    "url = \"{}\"\npassword_env = \"{}\"",
                    backends::postgres_url("config").unwrap(),
                    backends::PASSWORD_ENV
                ),
                format!("{}.contacts", self.schema),
            ),
        };
        std::fs::write(
            &self.config,
            format!(
                r#"[hubspot]
base_url = "{}"
token_env = "{TOKEN_ENV}"
ten_second_limit = 1000

[app]
{app}

[objects.contacts]
table = "{table}"
id_column = "id"
updated_at_column = "updated_at"
hubspot_id_column = "hubspot_id"
key_column = "email"
direction = "both"
poll_interval_secs = 1
batch_size = 100
{fields}"#,
                self.base,
            ),
        )
        .unwrap();
    }

    /// `hubsync run` on this world; stderr is kept for the refusal tests.
    pub fn run(&self) -> Proc {
        self.run_with(Stdio::piped())
    }

    /// `hubsync run` with its stderr sent where the caller says (a long
    /// run must not fill a pipe nobody reads).
    pub fn run_with(&self, stderr: Stdio) -> Proc {
        Proc(
            Command::new(env!("CARGO_BIN_EXE_hubsync"))
                .args(["run", "--config"])
                .arg(&self.config)
                .arg("--data-dir")
                .arg(&self.data)
                .env(TOKEN_ENV, TOKEN)
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .unwrap(),
        )
    }

    /// Waits until the engine listens on its operator socket.
    pub fn wait_for_engine(&self, engine: &mut Proc) {
        let sock = self.data.join("control.sock");
        wait_until(
            "the engine's control socket",
            Duration::from_secs(20),
            || {
                assert!(engine.is_running(), "hubsync run exited:\n{}", self.log());
                std::os::unix::net::UnixStream::connect(&sock).is_ok()
            },
        );
    }

    async fn search(&self, body: serde_json::Value) -> serde_json::Value {
        let resp = reqwest::Client::new()
            .post(format!("{}/crm/v3/objects/contacts/search", self.base))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap();
        resp.json().await.unwrap_or_default()
    }

    /// A HubSpot contact's property, read from the simulator's API.
    pub async fn hubspot_property(&self, email: &str, property: &str) -> Option<String> {
        let v = self
            .search(serde_json::json!({
                "filterGroups": [{"filters": [{"propertyName": "email", "operator": "EQ", "value": email}]}],
                "properties": [property],
            }))
            .await;
        v["results"][0]["properties"][property]
            .as_str()
            .map(str::to_string)
    }

    /// How many contacts HubSpot holds.
    pub async fn hubspot_total(&self) -> u64 {
        self.search(serde_json::json!({})).await["total"]
            .as_u64()
            .unwrap_or(0)
    }

    /// A connection to the app database of the app's own, on either
    /// backend (unqualified table names land in the app's schema).
    pub async fn app_conn(&self) -> backends::Conn {
        backends::Conn::open(self.kind, &self.app_db, &self.schema, "app_conn").await
    }

    /// The SQLite app database, for edits as the app's users would make them.
    pub fn app(&self) -> rusqlite::Connection {
        let c = rusqlite::Connection::open(&self.app_db).unwrap();
        c.busy_timeout(Duration::from_secs(5)).unwrap();
        c
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.join("hubsync.log")).unwrap_or_default()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A tmux server of its own, so tests never touch the user's sessions.
pub struct Tmux {
    pub socket: String,
}

impl Tmux {
    pub fn new(name: &str) -> Tmux {
        Tmux {
            socket: format!("hubsync-{name}-{}", std::process::id()),
        }
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux is installed (.ci/run installs it)");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts `cmd` in a new 80×24 session `name`.
    pub fn start(&self, name: &str, cmd: &str) {
        self.run(&["new-session", "-d", "-s", name, "-x", "80", "-y", "24", cmd]);
    }

    pub fn screen(&self, name: &str) -> String {
        self.run(&["capture-pane", "-p", "-t", name])
    }

    /// A session's `#{…}` format, such as `#{alternate_on}`.
    pub fn format(&self, name: &str, fmt: &str) -> String {
        self.run(&["display-message", "-p", "-t", name, fmt])
            .trim()
            .to_string()
    }

    pub fn keys(&self, name: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", name];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    pub fn has(&self, name: &str) -> bool {
        Command::new("tmux")
            .args(["-L", &self.socket, "has-session", "-t", name])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    /// Polls a session's screen until `pred` holds.
    pub fn wait_for(
        &self,
        name: &str,
        what: &str,
        bound: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen(name);
            if pred(&s) {
                return s;
            }
            if start.elapsed() > bound {
                panic!("timed out after {bound:?} waiting for {what}; screen of {name}:\n{s}");
            }
            sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}
