//! The app databases a test body runs against: a SQLite file always, and a
//! real PostgreSQL server when `HUBSYNC_TEST_POSTGRES_URL` names one
//! (`.ci/run` starts one). Without it the PostgreSQL half is skipped with a
//! loud message, unless `HUBSYNC_REQUIRE_POSTGRES=1`, which makes it fail.
//!
//! Each PostgreSQL world gets a schema of its own, so tests run side by side
//! on one server. The app's own writes go through a connection of the
//! test's, as the app itself would write.
#![allow(dead_code)]

use hubsync::appdb::postgres::Settings;
use hubsync::appdb::{AppDb, Target};
use std::path::PathBuf;

pub const PASSWORD_ENV: &str = "HUBSYNC_TEST_POSTGRES_PASSWORD";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sqlite,
    Postgres,
}

/// The backends to run on here: SQLite, and PostgreSQL when configured.
pub fn kinds(test: &str) -> Vec<Kind> {
    let mut k = vec![Kind::Sqlite];
    if postgres_url(test).is_some() {
        k.push(Kind::Postgres);
    }
    k
}

/// The test server's URL, or `None` after saying loudly why not.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("HUBSYNC_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("HUBSYNC_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!(
                    "{test}: HUBSYNC_REQUIRE_POSTGRES=1 but HUBSYNC_TEST_POSTGRES_URL is not set"
                );
            }
            // Straight to the process's stderr: the test harness would
            // swallow eprintln! of a passing test.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "\n*** {test}: SKIPPING its PostgreSQL half: HUBSYNC_TEST_POSTGRES_URL is not set \
                 (`source .ci/postgres.sh` starts a server and sets it) ***"
            );
            None
        }
    }
}

pub enum Conn {
    Sqlite(rusqlite::Connection),
    Postgres(tokio_postgres::Client),
}

/// Text of a SQLite value, as PostgreSQL's `CAST(… AS TEXT)` would give it.
fn sqlite_text(v: rusqlite::types::Value) -> String {
    match v {
        rusqlite::types::Value::Integer(i) => i.to_string(),
        rusqlite::types::Value::Text(s) => s,
        other => format!("{other:?}"),
    }
}

impl Conn {
    /// A connection of the app's own: to a SQLite file, or to a PostgreSQL
    /// schema (unqualified names in its SQL land there).
    pub async fn open(kind: Kind, path: &std::path::Path, schema: &str, test: &str) -> Conn {
        match kind {
            Kind::Sqlite => {
                let c = rusqlite::Connection::open(path).unwrap();
                // The engine may be writing at the same moment.
                c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
                Conn::Sqlite(c)
            }
            Kind::Postgres => {
                let c = pg_client(&postgres_url(test).unwrap()).await;
                c.batch_execute(&format!("SET search_path TO {schema}, public"))
                    .await
                    .unwrap();
                Conn::Postgres(c)
            }
        }
    }

    pub async fn exec(&self, sql: &str) {
        match self {
            Conn::Sqlite(c) => c
                .execute_batch(sql)
                .unwrap_or_else(|e| panic!("{e}: {sql}")),
            Conn::Postgres(c) => c
                .batch_execute(sql)
                .await
                .unwrap_or_else(|e| panic!("{e:?}: {sql}")),
        }
    }

    pub async fn value(&self, sql: &str) -> Option<String> {
        match self {
            Conn::Sqlite(c) => c
                .query_row(sql, [], |r| r.get::<_, Option<rusqlite::types::Value>>(0))
                .unwrap_or_else(|e| panic!("{e}: {sql}"))
                .map(sqlite_text),
            Conn::Postgres(c) => c
                .query_one(sql, &[])
                .await
                .unwrap_or_else(|e| panic!("{e:?}: {sql}"))
                .get(0),
        }
    }

    pub async fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare(sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
                let n = stmt.column_count();
                stmt.query_map([], |r| {
                    (0..n)
                        .map(|i| {
                            Ok(r.get::<_, Option<rusqlite::types::Value>>(i)?
                                .map(sqlite_text))
                        })
                        .collect()
                })
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
            }
            Conn::Postgres(c) => c
                .query(sql, &[])
                .await
                .unwrap_or_else(|e| panic!("{e:?}: {sql}"))
                .iter()
                .map(|r| (0..r.len()).map(|i| r.get(i)).collect())
                .collect(),
        }
    }
}

/// One app database with a place of its own: a temp folder, or a schema.
pub struct World {
    pub kind: Kind,
    pub schema: String,
    pub target: Target,
    pub conn: Conn,
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

/// hubsync's settings for the test server (its password from the
/// environment, as a config's `password_env` names it).
pub fn settings(url: &str) -> Settings {
    Settings::parse(url, Some(PASSWORD_ENV.to_string())).unwrap()
}

pub async fn pg_client(url: &str) -> tokio_postgres::Client {
    let mut cfg: tokio_postgres::Config = url.parse().unwrap();
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        cfg.password(p);
    }
    let (client, conn) = cfg.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client
}

impl World {
    pub async fn new(kind: Kind, test: &str) -> World {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        let schema = format!(
            "t_{}_{}",
            test.chars()
                .filter(char::is_ascii_alphanumeric)
                .take(20)
                .collect::<String>(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        )
        .to_lowercase();
        match kind {
            Kind::Sqlite => {
                let conn = rusqlite::Connection::open(&path).unwrap();
                World {
                    kind,
                    schema: "main".into(),
                    target: Target::Sqlite(path.clone()),
                    conn: Conn::Sqlite(conn),
                    _dir: dir,
                    path,
                }
            }
            Kind::Postgres => {
                let url = postgres_url(test).unwrap();
                let client = pg_client(&url).await;
                // Unqualified names in the app's own SQL land in the
                // schema too, so a test body's SQL is the same on both.
                client
                    .batch_execute(&format!(
                        "CREATE SCHEMA {schema}; SET search_path TO {schema}, public"
                    ))
                    .await
                    .unwrap();
                let target = Target::Postgres(
                    Settings::parse(&url, Some(PASSWORD_ENV.to_string())).unwrap(),
                );
                World {
                    kind,
                    schema,
                    target,
                    conn: Conn::Postgres(client),
                    _dir: dir,
                    path,
                }
            }
        }
    }

    /// A table name as a mapping names it: schema-qualified on PostgreSQL.
    pub fn table(&self, name: &str) -> String {
        match self.kind {
            Kind::Sqlite => name.to_string(),
            Kind::Postgres => format!("{}.{name}", self.schema),
        }
    }

    pub fn app(&self) -> AppDb {
        AppDb::open(&self.target).unwrap()
    }

    /// Runs app-side SQL; `{s}` in it stands for the schema prefix.
    pub async fn exec(&self, sql: &str) {
        self.conn.exec(&sql.replace("{s}", &self.prefix())).await
    }

    /// One text value (app-side read).
    pub async fn value(&self, sql: &str) -> Option<String> {
        self.conn.value(&sql.replace("{s}", &self.prefix())).await
    }

    /// A second connection of the app's, for work beside the first (a
    /// long transaction).
    pub async fn conn_of_its_own(&self) -> Conn {
        Conn::open(self.kind, &self.path, &self.schema, "conn_of_its_own").await
    }

    /// Every row of an app-side query, each value as text (NULL as None).
    pub async fn rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        self.conn.rows(&sql.replace("{s}", &self.prefix())).await
    }

    fn prefix(&self) -> String {
        match self.kind {
            Kind::Sqlite => String::new(),
            Kind::Postgres => format!("{}.", self.schema),
        }
    }

    /// "Now" as the app's own SQL stamps it.
    pub fn now(&self) -> &'static str {
        match self.kind {
            Kind::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
            Kind::Postgres => "clock_timestamp()",
        }
    }

    pub async fn drop(self) {
        if let Conn::Postgres(c) = &self.conn {
            let _ = c
                .batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema))
                .await;
        }
    }
}

/// A TCP proxy to the test server that can be cut (every connection
/// dropped, new ones refused) and restored: the database going away and
/// coming back, without stopping the server other tests share.
pub struct Proxy {
    pub addr: std::net::SocketAddr,
    up: Arc<std::sync::atomic::AtomicBool>,
    cut: Arc<tokio::sync::Notify>,
}

use std::sync::Arc;

impl Proxy {
    pub async fn start(to: String) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let cut = Arc::new(tokio::sync::Notify::new());
        let (up2, cut2) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    continue;
                }
                let to = to.clone();
                let cut = cut2.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&to).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.notified() => {}
                    }
                });
            }
        });
        Proxy { addr, up, cut }
    }

    /// The test server's URL, through this proxy.
    pub fn url(&self, url: &str) -> String {
        let cfg: tokio_postgres::Config = url.parse().unwrap();
        let host = match &cfg.get_hosts()[0] {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            other => panic!("{other:?}"),
        };
        let port = cfg.get_ports().first().copied().unwrap_or(5432);
        url.replacen(&format!("{host}:{port}"), &self.addr.to_string(), 1)
    }

    pub fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    pub fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// `host:port` of a PostgreSQL URL.
pub fn host_port(url: &str) -> String {
    let cfg: tokio_postgres::Config = url.parse().unwrap();
    let host = match &cfg.get_hosts()[0] {
        tokio_postgres::config::Host::Tcp(h) => h.clone(),
        other => panic!("{other:?}"),
    };
    format!(
        "{host}:{}",
        cfg.get_ports().first().copied().unwrap_or(5432)
    )
}

/// The demo's `contacts` table in the backend's own types, keyed by
/// integers or (`id` = "uuid") by UUIDs; `{s}` stands for the schema.
pub fn contacts_ddl(kind: Kind, id: &str) -> String {
    let cols = "email TEXT, first_name TEXT, last_name TEXT, phone TEXT, company TEXT, job_title TEXT, hubspot_id TEXT";
    match (kind, id) {
        (Kind::Sqlite, "uuid") => format!(
            "CREATE TABLE contacts (id TEXT PRIMARY KEY DEFAULT (lower(hex(randomblob(16)))), {cols},
               updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
        ),
        (Kind::Sqlite, _) => format!(
            "CREATE TABLE contacts (id INTEGER PRIMARY KEY, {cols},
               updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
        ),
        (Kind::Postgres, "uuid") => format!(
            "CREATE TABLE {{s}}contacts (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), {cols},
               updated_at timestamptz NOT NULL DEFAULT now())"
        ),
        (Kind::Postgres, _) => format!(
            "CREATE TABLE {{s}}contacts (id bigserial PRIMARY KEY, {cols},
               updated_at timestamptz NOT NULL DEFAULT now())"
        ),
    }
}
