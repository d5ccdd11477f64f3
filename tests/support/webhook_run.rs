//! `hubsync run` with its webhook receiver on, syncing two demo contacts
//! in a SQLite app database with a simulator: what the tests that drive
//! the receiver (floods, abuse) start, watch and read the log of.

use hubsync::sim::SimServer;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const EXAMPLE: &str = include_str!("../../fixtures/hubsync.example.toml");

/// The running service, killed and reaped when dropped.
pub struct Run {
    pub child: Child,
    pub data: PathBuf,
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the service is started.
pub struct Options<'a> {
    pub token: &'a str,
    /// The receiver's client secret, passed in `secret_env`.
    pub secret: &'a str,
    pub secret_env: &'a str,
    pub port: u16,
    /// The receiver's public URL, as the simulator posts to it.
    pub hook: &'a str,
    /// Both ways rather than the example's app → HubSpot.
    pub both_ways: bool,
    /// Under `ulimit -n` when given.
    pub open_files: Option<u32>,
}

/// Starts `hubsync run` in `dir`, polling every second.
pub fn start(dir: &Path, sim: &SimServer, o: Options<'_>) -> Run {
    let app_db = dir.join("app.db");
    let contacts: Vec<hubsync::appdb::demo::FixtureContact> = serde_json::from_str(
        r#"[{"email":"ada@example.com","first_name":"Ada","last_name":null,"phone":null,"company":null,"job_title":null},
            {"email":"grace@example.com","first_name":"Grace","last_name":null,"phone":null,"company":null,"job_title":null}]"#,
    )
    .unwrap();
    hubsync::appdb::demo::create(&app_db, &contacts).unwrap();
    let mut text = EXAMPLE
        .replacen("https://api.hubapi.com", &sim.base_url(), 1)
        .replacen("/var/lib/myapp/app.db", app_db.to_str().unwrap(), 1)
        .replacen("poll_interval_secs = 30", "poll_interval_secs = 1", 1);
    if o.both_ways {
        text = text.replacen("direction = \"to_hubspot\"", "direction = \"both\"", 1);
    }
    text += &format!(
        "\n[webhook]\nlisten = \"127.0.0.1:{}\"\npublic_url = \"{}\"\nclient_secret_env = \"{}\"\n",
        o.port, o.hook, o.secret_env
    );
    let config = dir.join("hubsync.toml");
    std::fs::write(&config, text).unwrap();
    let data = dir.join("data");
    let exe = env!("CARGO_BIN_EXE_hubsync");
    let mut cmd = match o.open_files {
        // `ulimit -n` sets the soft and the hard limit: nothing to raise.
        Some(n) => {
            let mut c = Command::new("sh");
            c.args(["-c", &format!("ulimit -n {n} && exec \"$0\" \"$@\""), exe]);
            c
        }
        None => Command::new(exe),
    };
    let child = cmd
        .args(["run", "--config", config.to_str().unwrap(), "--data-dir"])
        .arg(&data)
        .env("HUBSYNC_HUBSPOT_TOKEN", o.token)
        .env(o.secret_env, o.secret)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Run { child, data }
}

/// The service's log so far.
pub fn log(run: &Run) -> String {
    std::fs::read_to_string(run.data.join("hubsync.log")).unwrap_or_default()
}

/// Waits for `done`; fails naming `what`, with the log, if it does not
/// hold within `limit` or the service exits first.
pub async fn until(what: &str, limit: Duration, run: &mut Run, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(
            started.elapsed() < limit,
            "{what}: not within {limit:?}\n{}",
            log(run)
        );
        assert!(
            run.child.try_wait().unwrap().is_none(),
            "hubsync run exited\n{}",
            log(run)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
