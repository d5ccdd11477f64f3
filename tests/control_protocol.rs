//! The control protocol (`docs/control-protocol.md`, version 1) as a third
//! party sees it. The client below is written from that document alone:
//! tokio Unix sockets and serde_json, no type of hubsync's own. The set-up
//! uses the real binaries: `hubsync sim` as HubSpot, `hubsync run` as the
//! engine, an app database in which a few emails have no top-level domain,
//! so HubSpot refuses them and the engine has FAILED entries to page and
//! retry.

use rusqlite::Connection;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

const TOKEN: &str = "pat-control-protocol-test";
const TOKEN_ENV: &str = "HUBSYNC_CONTROL_TEST_TOKEN";
/// App contacts in all, and how many of them HubSpot refuses.
const CONTACTS: usize = 12;
const BROKEN: usize = 4;
/// How long any one reply or awaited event may take.
const WAIT: Duration = Duration::from_secs(10);

/// A child process killed (SIGKILL) and reaped when dropped.
struct Proc(Child);

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
fn os_user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    assert!(out.status.success(), "id -un failed");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A simulator, an app database and a running engine, in one temp folder.
struct World {
    _dir: tempfile::TempDir,
    data: PathBuf,
    hubspot: String,
    engine: Proc,
    _sim: Proc,
}

impl World {
    async fn start() -> World {
        let dir = tempfile::tempdir().unwrap();
        // HubSpot already holds two of the app's contacts.
        let seed = json!({ "contacts": [
            { "email": "user1@example.com", "firstname": "HubSpot One" },
            { "email": "user2@example.com", "jobtitle": "HubSpot title" },
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

        let app_db = dir.path().join("app.db");
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
        hubsync::appdb::demo::create(&app_db, &contacts).unwrap();

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
database = "{}"

[objects.contacts]
table = "contacts"
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
"#,
                app_db.display()
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
    async fn settled() -> World {
        let mut w = World::start().await;
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

    fn operator_socket(&self) -> PathBuf {
        self.data.join("control.sock")
    }

    fn viewer_socket(&self) -> PathBuf {
        self.data.join("viewer.sock")
    }

    /// A connection to the operator socket, past `hello`.
    async fn operator(&self) -> Client {
        let mut c = Client::connect(&self.operator_socket()).await;
        let welcome = c.hello().await;
        assert_eq!(welcome["role"], "operator", "{welcome}");
        c
    }

    /// A connection to the viewer socket, past `hello`.
    async fn viewer(&self) -> Client {
        let mut c = Client::connect(&self.viewer_socket()).await;
        let welcome = c.hello().await;
        assert_eq!(welcome["role"], "viewer", "{welcome}");
        c
    }

    fn assert_engine_running(&mut self) {
        if let Some(st) = self.engine.0.try_wait().unwrap() {
            panic!("hubsync run exited ({st}); log:\n{}", self.log_tail());
        }
    }

    /// The engine is alive and a new connection is served as usual.
    async fn assert_still_serving(&mut self) {
        self.assert_engine_running();
        let mut c = self.operator().await;
        let s = c.ok("status", Value::Null).await;
        assert!(s["taken_at"].is_string(), "status answered {s}");
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.data.join("hubsync.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// What is in the state database, read as any SQLite client would.
    fn state(&self) -> StateDigest {
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

    /// HubSpot's contacts, counted through the simulator's list API.
    async fn hubspot_contacts(&self) -> usize {
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
struct StateDigest {
    audit_rows: i64,
    audit_max_id: i64,
    dismissed: i64,
    /// Every column of every job, so a changed `run_after` shows too.
    jobs: Vec<String>,
}

/// A line the engine sent, or how the connection ended.
#[derive(Debug)]
enum Read {
    Line(Value),
    Eof,
    Reset,
}

/// A protocol client: one JSON object per line each way; replies carry the
/// request's `id`, events carry `event` and are kept until asked for.
struct Client {
    lines: Lines<BufReader<OwnedReadHalf>>,
    writer: OwnedWriteHalf,
    next_id: u64,
    events: VecDeque<Value>,
}

impl Client {
    async fn connect(path: &Path) -> Client {
        let stream = UnixStream::connect(path)
            .await
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", path.display()));
        let (r, w) = stream.into_split();
        Client {
            lines: BufReader::new(r).lines(),
            writer: w,
            next_id: 1,
            events: VecDeque::new(),
        }
    }

    async fn send_line(&mut self, line: &str) {
        self.writer.write_all(line.as_bytes()).await.unwrap();
        self.writer.write_all(b"\n").await.unwrap();
    }

    /// The next line, parsed; panics when none comes within [`WAIT`].
    async fn read(&mut self) -> Read {
        match tokio::time::timeout(WAIT, self.lines.next_line()).await {
            Err(_) => panic!("the engine sent nothing for {WAIT:?}"),
            Ok(Ok(Some(line))) => Read::Line(serde_json::from_str(&line).unwrap_or_else(|e| {
                panic!("the engine sent a line that is not JSON ({e}): {line}")
            })),
            Ok(Ok(None)) => Read::Eof,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => Read::Reset,
            Ok(Err(e)) => panic!("reading from the engine: {e}"),
        }
    }

    /// The next reply (not event), keeping events that come first.
    async fn reply(&mut self) -> Value {
        loop {
            match self.read().await {
                Read::Line(v) if v.get("event").is_some() => self.events.push_back(v),
                Read::Line(v) => return v,
                other => panic!("the connection ended ({other:?}) before a reply"),
            }
        }
    }

    /// Sends a request and returns the whole reply, which must echo its id.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let req = json!({ "id": id, "method": method, "params": params });
        self.send_line(&req.to_string()).await;
        let reply = self.reply().await;
        assert_eq!(reply["id"], json!(id), "reply to {req}: {reply}");
        reply
    }

    /// A request that must succeed: its `result`.
    async fn ok(&mut self, method: &str, params: Value) -> Value {
        let reply = self.call(method, params.clone()).await;
        assert!(
            reply.get("error").is_none() && reply.get("result").is_some(),
            "{method} {params} was answered {reply}"
        );
        reply["result"].clone()
    }

    /// A request that must fail: its error `code`.
    async fn refused(&mut self, method: &str, params: Value) -> String {
        let reply = self.call(method, params.clone()).await;
        let err = &reply["error"];
        assert!(
            reply.get("result").is_none() && err["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{method} {params} was answered {reply}"
        );
        err["code"].as_str().unwrap().to_string()
    }

    async fn hello(&mut self) -> Value {
        let welcome = self
            .ok(
                "hello",
                json!({ "protocol": 1, "client": "control-protocol-test" }),
            )
            .await;
        assert_eq!(welcome["protocol"], 1, "{welcome}");
        welcome
    }

    /// The next event of this name that `pred` accepts, within `within`;
    /// events passed over are dropped. `None` if none came.
    async fn event_within(
        &mut self,
        name: &str,
        within: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            while let Some(e) = self.events.pop_front() {
                if e["event"] == name && pred(&e["data"]) {
                    return Some(e["data"].clone());
                }
            }
            let line = tokio::time::timeout_at(deadline, self.lines.next_line()).await;
            match line {
                Err(_) => return None,
                Ok(Ok(Some(line))) => self.events.push_back(serde_json::from_str(&line).unwrap()),
                Ok(Ok(None)) => return None,
                Ok(Err(e)) => panic!("reading from the engine: {e}"),
            }
        }
    }

    /// Whether the engine closes the connection within [`WAIT`] (whatever
    /// it sends before that is dropped).
    async fn closed(&mut self) -> bool {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.next_line()).await {
                Err(_) => return false,
                Ok(Ok(Some(_))) => {}
                Ok(Ok(None)) => return true,
                Ok(Err(e)) => panic!("reading from the engine: {e}"),
            }
        }
    }

    async fn event(&mut self, name: &str, pred: impl Fn(&Value) -> bool) -> Value {
        self.event_within(name, WAIT, pred)
            .await
            .unwrap_or_else(|| panic!("no {name} event within {WAIT:?}"))
    }
}

/// The audit ids of a snapshot's FAILED page, in the order given.
fn failed_ids(snapshot: &Value) -> Vec<i64> {
    snapshot["failed"]
        .as_array()
        .unwrap_or_else(|| panic!("a snapshot without a failed list: {snapshot}"))
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn a_subscriber_gets_a_snapshot_with_its_own_failed_page() {
    let w = World::settled().await;
    let mut c = w.operator().await;
    let s = c.ok("subscribe", json!({ "limit": 2 })).await;
    let ids = failed_ids(&s);
    assert_eq!(ids.len(), 2, "a page of 2: {s}");
    assert!(ids[0] > ids[1], "newest first: {ids:?}");
    assert_eq!(s["failed_total"], json!(BROKEN), "{s}");
    assert!(s["failed_before"].is_null(), "the newest page: {s}");
    assert_eq!(s["failed_newer"], 0, "{s}");
    for e in s["failed"].as_array().unwrap() {
        assert_eq!(e["status"], "FAILED", "{e}");
        assert_eq!(e["object"], "contacts", "{e}");
    }
    assert_eq!(
        s["engine"]["pid"].as_u64(),
        Some(u64::from(w.engine.0.id())),
        "{s}"
    );
}

#[tokio::test]
async fn paging_on_one_connection_does_not_move_another_connections_page() {
    let w = World::settled().await;
    let mut a = w.operator().await;
    let mut b = w.viewer().await;
    let first_a = failed_ids(&a.ok("subscribe", json!({ "limit": 2 })).await);
    let first_b = failed_ids(&b.ok("subscribe", json!({ "limit": 2 })).await);
    assert_eq!(first_a, first_b, "both start on the newest page");

    let before = *first_a.last().unwrap();
    let paged = a
        .ok("failed_page", json!({ "before": before, "limit": 2 }))
        .await;
    let older = failed_ids(&paged);
    assert_eq!(older.len(), 2, "{paged}");
    assert!(
        older.iter().all(|id| *id < before),
        "{older:?} before {before}"
    );
    assert_eq!(paged["failed_before"], json!(before), "{paged}");
    assert_eq!(paged["failed_newer"], 2, "{paged}");

    // Something changes, so both are sent snapshots.
    let mut trigger = w.operator().await;
    trigger
        .ok("sync_now", json!({ "object": "contacts" }))
        .await;
    let later_a = a.event("snapshot", |_| true).await;
    let later_b = b.event("snapshot", |_| true).await;
    assert_eq!(failed_ids(&later_a), older, "a keeps its page: {later_a}");
    assert_eq!(later_a["failed_before"], json!(before), "{later_a}");
    assert_eq!(
        failed_ids(&later_b),
        first_b,
        "b keeps the newest: {later_b}"
    );
    assert!(later_b["failed_before"].is_null(), "{later_b}");
}

#[tokio::test]
async fn an_operators_retry_gets_a_job_whose_notice_reaches_that_connection_only() {
    let w = World::settled().await;
    let mut asker = w.operator().await;
    let mut other = w.operator().await;
    let s = asker.ok("subscribe", Value::Null).await;
    other.ok("subscribe", Value::Null).await;
    let audit_id = failed_ids(&s)[0];

    let result = asker.ok("retry", json!({ "audit_id": audit_id })).await;
    let jobs = result["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("{result}"));
    assert_eq!(jobs.len(), 1, "{result}");
    assert!(
        result["notice"].as_str().is_some_and(|n| !n.is_empty()),
        "{result}"
    );
    let job = jobs[0].clone();

    let notice = asker.event("notice", |d| d["job_id"] == job).await;
    assert!(
        notice["text"].as_str().is_some_and(|t| !t.is_empty()),
        "{notice}"
    );
    // The other connection has had the same time and more to hear it.
    let leaked = other
        .event_within("notice", Duration::from_secs(2), |d| d["job_id"] == job)
        .await;
    assert_eq!(leaked, None, "another connection was told of job {job}");
}

#[tokio::test]
async fn an_operators_retry_is_audited_with_their_os_user() {
    let w = World::settled().await;
    let mut c = w.operator().await;
    let welcome_user = {
        let mut fresh = Client::connect(&w.operator_socket()).await;
        fresh.hello().await["user"].clone()
    };
    assert_eq!(
        welcome_user,
        json!(os_user()),
        "hello names the peer's user"
    );

    let s = c.ok("subscribe", Value::Null).await;
    let entry = s["failed"][0].clone();
    let app_id = entry["app_id"].as_str().unwrap().to_string();
    let result = c.ok("retry", json!({ "audit_id": entry["id"] })).await;
    let job = result["jobs"][0].as_i64().unwrap();
    c.event("notice", |d| d["job_id"] == json!(job)).await;

    // The job carries the operator too, under the kind the document names.
    let s = c.ok("status", Value::Null).await;
    let listed = s["recent"]
        .as_array()
        .unwrap()
        .iter()
        .chain(s["queued"].as_array().unwrap())
        .find(|j| j["id"] == json!(job))
        .unwrap_or_else(|| panic!("job {job} is neither recent nor queued: {s}"))
        .clone();
    assert_eq!(listed["kind"], "retry_record", "{listed}");
    assert_eq!(listed["requested_by"], json!(os_user()), "{listed}");

    let history = c
        .ok(
            "record_history",
            json!({ "object": "contacts", "app_id": app_id }),
        )
        .await;
    let entries = history.as_array().unwrap_or_else(|| panic!("{history}"));
    let ids: Vec<i64> = entries.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|p| p[0] < p[1]), "oldest first: {ids:?}");
    let retried: Vec<&Value> = entries
        .iter()
        .filter(|e| e["job_id"] == json!(job))
        .collect();
    assert!(
        !retried.is_empty(),
        "no audit entry of job {job}: {history}"
    );
    for e in &retried {
        assert!(
            e["id"].as_i64().unwrap() > entry["id"].as_i64().unwrap(),
            "{e}"
        );
        assert_eq!(e["operator"], json!(os_user()), "{e}");
    }
    // The state database says the same to any SQLite reader.
    let conn = Connection::open(w.data.join("state.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let operators: Vec<Option<String>> = conn
        .prepare("SELECT operator FROM audit WHERE job_id = ?1")
        .unwrap()
        .query_map([job], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(!operators.is_empty());
    assert!(
        operators
            .iter()
            .all(|o| o.as_deref() == Some(os_user().as_str())),
        "{operators:?}"
    );
}

#[tokio::test]
async fn on_the_viewer_socket_every_write_is_forbidden_and_nothing_is_written() {
    let w = World::settled().await;
    let mut v = w.viewer().await;
    let s = v.ok("status", Value::Null).await;
    let audit_id = failed_ids(&s)[0];
    let before = w.state();
    let contacts_before = w.hubspot_contacts().await;

    let writes = [
        ("retry", json!({ "audit_id": audit_id })),
        ("dismiss", json!({ "audit_id": audit_id })),
        ("sync_now", json!({ "object": "contacts" })),
        ("shutdown", Value::Null),
    ];
    for (method, params) in writes {
        assert_eq!(v.refused(method, params).await, "forbidden", "{method}");
    }
    // Give a wrongly queued job time to run.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(w.state(), before, "the state database changed");
    assert_eq!(
        w.hubspot_contacts().await,
        contacts_before,
        "HubSpot changed"
    );
    let after = v.ok("status", Value::Null).await;
    assert_eq!(
        failed_ids(&after),
        failed_ids(&s),
        "the FAILED list changed"
    );
    assert_eq!(after["failed_total"], json!(BROKEN));
}

#[tokio::test]
async fn hello_with_an_unknown_version_is_refused_and_the_connection_closed_cleanly() {
    let mut w = World::start().await;
    let mut c = Client::connect(&w.operator_socket()).await;
    assert_eq!(
        c.refused("hello", json!({ "protocol": 999 })).await,
        "unsupported_version"
    );
    match c.read().await {
        Read::Eof => {}
        other => panic!("after unsupported_version the engine must close; got {other:?}"),
    }
    w.assert_still_serving().await;
}

#[tokio::test]
async fn a_malformed_line_gets_parse_error_and_the_connection_stays_usable() {
    let mut w = World::start().await;
    let mut c = w.operator().await;
    c.send_line("{nope").await;
    let reply = c.reply().await;
    assert!(reply.get("id").is_some_and(Value::is_null), "{reply}");
    assert_eq!(reply["error"]["code"], "parse_error", "{reply}");
    let s = c.ok("status", Value::Null).await;
    assert!(s["taken_at"].is_string(), "{s}");
    w.assert_still_serving().await;
}

#[tokio::test]
async fn a_request_before_hello_gets_hello_first_and_the_connection_stays_open() {
    let mut w = World::start().await;
    let mut c = Client::connect(&w.operator_socket()).await;
    assert_eq!(c.refused("status", Value::Null).await, "hello_first");
    c.hello().await;
    let s = c.ok("status", Value::Null).await;
    assert!(s["taken_at"].is_string(), "{s}");
    w.assert_still_serving().await;
}

#[tokio::test]
async fn a_line_over_4_mib_gets_line_too_long_and_a_close() {
    let mut w = World::start().await;
    let c = w.operator().await;
    let Client {
        mut lines,
        mut writer,
        ..
    } = c;
    // The engine may stop reading (and close) before the line is all sent,
    // so it is written on the side and a broken pipe there is expected.
    let sender = tokio::spawn(async move {
        let big = vec![b'x'; 4 * 1024 * 1024 + 1024];
        let _ = writer.write_all(&big).await;
        let _ = writer.write_all(b"\n").await;
        writer
    });
    let line = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("no reply to a line over 4 MiB")
        .expect("reading the reply")
        .expect("the connection closed without a reply");
    let reply: Value = serde_json::from_str(&line).unwrap();
    assert!(reply.get("id").is_some_and(Value::is_null), "{reply}");
    assert_eq!(reply["error"]["code"], "line_too_long", "{reply}");
    // Closed: end of stream, or a reset when the engine left part of the
    // line unread (how Unix sockets report a close with data pending).
    match tokio::time::timeout(WAIT, lines.next_line()).await {
        Ok(Ok(None)) => {}
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("after line_too_long the engine must close; got {other:?}"),
    }
    let _ = tokio::time::timeout(WAIT, sender).await;
    w.assert_still_serving().await;
}

#[tokio::test]
async fn an_operators_shutdown_stops_the_engine_and_removes_both_sockets() {
    let mut w = World::start().await;
    let mut c = w.operator().await;
    let mut watcher = w.viewer().await;
    c.ok("subscribe", Value::Null).await;
    watcher.ok("subscribe", Value::Null).await;
    let result = c.ok("shutdown", Value::Null).await;
    assert!(
        result["notice"].as_str().is_some_and(|n| !n.is_empty()),
        "{result}"
    );
    // Every connection is told, the one that asked included, then closed.
    for (who, conn) in [("the operator", &mut c), ("the viewer", &mut watcher)] {
        let event = conn
            .event_within("shutdown", WAIT, |_| true)
            .await
            .unwrap_or_else(|| panic!("{who} got no shutdown event"));
        assert!(event["text"].is_string(), "{event}");
        assert!(conn.closed().await, "{who}'s connection stayed open");
    }

    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(st) = w.engine.0.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "hubsync run still running 15 s after shutdown; log:\n{}",
            w.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        status.success(),
        "hubsync run exited {status}; log:\n{}",
        w.log_tail()
    );
    assert!(!w.operator_socket().exists(), "control.sock left behind");
    assert!(!w.viewer_socket().exists(), "viewer.sock left behind");
}
