//! `hubsync demo --app-db postgres://…` runs from a real config file, as
//! the SQLite demo does: the commented file from `fixtures/demo.toml` in
//! its data folder, pointed at the demo's fresh schema, editable through
//! `config_source`/`config_apply`, and kept as edited by `--data-dir` for
//! the next demo. The real binary in tmux on a real PostgreSQL
//! (`source .ci/postgres.sh`).

mod support;

use hubsync::control::ControlClient;
use serde_json::json;
use std::path::Path;
use std::time::Duration;
use support::Tmux;
use support::backends::{self, PASSWORD_ENV};

const WAIT: Duration = Duration::from_secs(90);

const FILTER: &str = "\n[[objects.contacts.filter_groups]]\ndirection = \"to_hubspot\"\nfilters = [ { field = \"company\", op = \"is_none_of\", value = [\"Internal\"] } ]\n";

/// The demo in tmux session `name` on `url`, its files in `data`; waits
/// for the console.
fn start_demo(tmux: &Tmux, name: &str, url: &str, data: &Path) {
    let password = std::env::var(PASSWORD_ENV).unwrap_or_default();
    let cmd = format!(
        "{} demo --data-dir {} --latency-ms 0 --no-activity --app-db '{url}'",
        env!("CARGO_BIN_EXE_hubsync"),
        data.display()
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        name,
        "-x",
        "100",
        "-y",
        "30",
        "-e",
        &format!("PGPASSWORD={password}"),
        &cmd,
    ]);
    tmux.wait_for(name, "the demo's console", WAIT, |s| s.contains("FAILED ("));
}

fn quit_demo(tmux: &Tmux, name: &str) {
    tmux.keys(name, &["q"]);
    support::wait_until("the demo to exit", Duration::from_secs(20), || {
        !tmux.has(name)
    });
}

/// The schema `table = "schema.contacts"` names in the config text.
fn schema_of(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.starts_with("table = "))
        .unwrap_or_else(|| panic!("no table in:\n{text}"));
    let table = line.trim_start_matches("table = ").trim_matches('"');
    table
        .strip_suffix(".contacts")
        .unwrap_or_else(|| panic!("{line}"))
        .to_string()
}

/// The text less its `base_url` line (each run's simulator has its own port).
fn without_base_url(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("base_url = "))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_demo_runs_from_a_config_file_it_keeps_as_edited() {
    let Some(url) = backends::postgres_url("demo_postgres") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let file = data.join("hubsync.toml");
    let tmux = Tmux::new("demo-pg");

    start_demo(&tmux, "first", &url, &data);
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        written.starts_with("# hubsync demo configuration"),
        "the commented fixture: {written}"
    );
    assert!(
        written.contains("password_env = \"PGPASSWORD\""),
        "{written}"
    );
    assert!(!written.contains("database = "), "{written}");
    let first_schema = schema_of(&written);
    assert!(first_schema.starts_with("hubsync_demo_"), "{first_schema}");

    let c = ControlClient::connect(&data.join("control.sock"))
        .await
        .unwrap();
    let s = c
        .request("config_source", json!({"object": "contacts"}))
        .await
        .unwrap();
    assert_eq!(s["path"].as_str(), Some(file.to_str().unwrap()));
    assert_eq!(s["text"].as_str(), Some(written.as_str()));
    let edited = format!("{written}{FILTER}");
    let r = c
        .request("config_apply", json!({"toml": edited, "base": s["hash"]}))
        .await
        .unwrap();
    assert!(
        r["notice"].as_str().unwrap().contains("config reloaded"),
        "{r:#}"
    );
    drop(c);
    quit_demo(&tmux, "first");

    start_demo(&tmux, "second", &url, &data);
    let kept = std::fs::read_to_string(&file).unwrap();
    let second_schema = schema_of(&kept);
    assert_ne!(
        second_schema, first_schema,
        "each demo builds a fresh schema"
    );
    assert_eq!(
        without_base_url(&kept),
        without_base_url(&edited.replacen(&first_schema, &second_schema, 1)),
        "the edit kept; only the schema (and the simulator) moved to this run's"
    );
    quit_demo(&tmux, "second");

    let pg = backends::settings(&url);
    for schema in [first_schema, second_schema] {
        hubsync::appdb::postgres::demo::drop(&pg, &schema)
            .await
            .unwrap();
    }
}
