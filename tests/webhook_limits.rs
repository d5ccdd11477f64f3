//! The webhook receiver of the real `hubsync run` under abuse: connections
//! that dribble their headers are closed by its header timeout, and idle
//! connections beyond what a low open-files limit allows never take the
//! descriptors the engine needs: its state and app database keep working
//! and deliveries are still answered.

use hubsync::model::ObjectKind;
use hubsync::sim::{SeedData, SimServer, SimSettings, WebhookTarget};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod support;

use support::free_port;
use support::webhook_run::{self, Run, log, until};

const TOKEN: &str = "pat-limits";
const SECRET: &str = "whsec-limits";

/// A simulator that delivers its changes to `hook`, retrying quickly.
async fn sim(hook: &str) -> SimServer {
    SimServer::start(
        0,
        SimSettings {
            tokens: vec![TOKEN.into()],
            webhook: Some(WebhookTarget {
                retry_base: Duration::from_millis(200),
                batch_every: Duration::from_millis(100),
                max_attempts: 20,
                ..WebhookTarget::new(hook, SECRET)
            }),
            ..SimSettings::default()
        },
        SeedData::empty(),
    )
    .await
    .unwrap()
}

/// `hubsync run` syncing two app contacts to `sim`, its receiver on
/// `port`, under `ulimit -n open_files` when given.
fn run(dir: &Path, sim: &SimServer, port: u16, open_files: Option<u32>) -> Run {
    webhook_run::start(
        dir,
        sim,
        webhook_run::Options {
            token: TOKEN,
            secret: SECRET,
            secret_env: "HUBSYNC_TEST_LIMITS_SECRET",
            port,
            hook: &format!("http://127.0.0.1:{port}/hook"),
            both_ways: false,
            open_files,
        },
    )
}

fn webhook_jobs(data: &Path) -> i64 {
    let Ok(conn) = rusqlite::Connection::open(data.join("state.db")) else {
        return 0;
    };
    conn.query_row(
        "SELECT COUNT(*) FROM jobs WHERE kind = 'webhook' AND state = 'succeeded'",
        [],
        |r| r.get(0),
    )
    .unwrap_or(0)
}

/// Waits for the first sync: both contacts in HubSpot.
async fn synced(sim: &SimServer, run: &mut Run) {
    until("the first sync", Duration::from_secs(30), run, || {
        sim.state().count(ObjectKind::Contacts) == 2
    })
    .await;
}

/// How a dribbling or idle connection ended, seen from the client.
#[derive(Debug, PartialEq)]
enum End {
    /// The server closed it (or answered), after this long.
    Closed(Duration),
    /// Still open when the client gave up.
    Open,
}

/// Opens a connection and sends a request head one byte every 250 ms,
/// never finishing it, for up to `give_up`.
async fn dribble(port: u16, give_up: Duration) -> End {
    let connect = TcpStream::connect(("127.0.0.1", port));
    let Ok(Ok(mut s)) = tokio::time::timeout(Duration::from_secs(5), connect).await else {
        return End::Closed(Duration::ZERO);
    };
    let started = Instant::now();
    if s.write_all(b"POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: ")
        .await
        .is_err()
    {
        return End::Closed(started.elapsed());
    }
    let mut buf = [0u8; 512];
    while started.elapsed() < give_up {
        tokio::select! {
            _ = s.read(&mut buf) => return End::Closed(started.elapsed()),
            _ = tokio::time::sleep(Duration::from_millis(250)) => {
                if s.write_all(b"a").await.is_err() {
                    return End::Closed(started.elapsed());
                }
            }
        }
    }
    End::Open
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_connections_dribbling_their_headers_are_closed_by_the_header_timeout() {
    let soft = hubsync::webhook::raise_fd_limit();
    assert!(
        soft >= 2_200,
        "this test needs 2,200 open files; the limit is {soft}"
    );
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let sim = sim(&format!("http://127.0.0.1:{port}/hook")).await;
    let mut run = run(dir.path(), &sim, port, None);
    synced(&sim, &mut run).await;
    let data = run.data.clone();

    // They would dribble for a minute; the receiver's header timeout is
    // 10 s, so each must be closed long before.
    let give_up = Duration::from_secs(60);
    let dribblers: Vec<_> = (0..1000)
        .map(|_| tokio::spawn(dribble(port, give_up)))
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;

    // Meanwhile a HubSpot edit is delivered and synced.
    let (id, _) = sim.state().find_by_email("ada@example.com").unwrap();
    sim.state()
        .set_property(ObjectKind::Contacts, &id, "firstname", "Augusta");
    until(
        "a webhook job beside 1,000 dribbling connections",
        Duration::from_secs(30),
        &mut run,
        || webhook_jobs(&data) > 0,
    )
    .await;

    let mut ends = Vec::new();
    for d in dribblers {
        ends.push(d.await.unwrap());
    }
    let open = ends.iter().filter(|e| **e == End::Open).count();
    assert_eq!(
        open, 0,
        "{open} of 1,000 dribbling connections were never closed"
    );
    let slowest = ends
        .iter()
        .filter_map(|e| match e {
            End::Closed(d) => Some(*d),
            End::Open => None,
        })
        .max()
        .unwrap();
    println!("1,000 dribbling connections: the last was closed after {slowest:?}");
    assert!(
        sim.state()
            .webhook_stats()
            .delivered
            .load(Ordering::Relaxed)
            > 0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_under_a_low_open_files_limit_never_starve_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let sim = sim(&format!("http://127.0.0.1:{port}/hook")).await;
    let mut run = run(dir.path(), &sim, port, Some(256));
    synced(&sim, &mut run).await;
    let data = run.data.clone();

    // More idle connections than the process has descriptors.
    let mut idle = Vec::new();
    for _ in 0..400 {
        let connect = TcpStream::connect(("127.0.0.1", port));
        if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_secs(2), connect).await {
            idle.push(s);
        }
    }
    assert!(
        idle.len() >= 300,
        "only {} idle connections opened",
        idle.len()
    );

    // The engine's own files still work: an app edit reaches HubSpot…
    let app = rusqlite::Connection::open(dir.path().join("app.db")).unwrap();
    app.execute(
        "UPDATE contacts SET first_name = 'Augusta', updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE email = 'ada@example.com'",
        [],
    )
    .unwrap();
    let (id, _) = sim.state().find_by_email("ada@example.com").unwrap();
    until(
        "an app edit reaching HubSpot beside 400 idle connections",
        Duration::from_secs(30),
        &mut run,
        || {
            sim.state()
                .get(ObjectKind::Contacts, &id)
                .is_some_and(|p| p.get("firstname").is_some_and(|f| f == "Augusta"))
        },
    )
    .await;

    // …and a HubSpot edit is still delivered, answered and synced.
    let (grace, _) = sim.state().find_by_email("grace@example.com").unwrap();
    sim.state()
        .set_property(ObjectKind::Contacts, &grace, "firstname", "Amazing Grace");
    until(
        "a delivery answered beside 400 idle connections",
        Duration::from_secs(60),
        &mut run,
        || webhook_jobs(&data) > 0,
    )
    .await;
    drop(idle);
    let log = log(&run);
    for starved in ["unable to open database file", "Too many open files"] {
        assert!(
            !log.contains(starved),
            "the engine ran out of files:\n{log}"
        );
    }
}
