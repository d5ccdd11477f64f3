//! `[app] url` for a PostgreSQL app database, and `hubsync check` against
//! a PostgreSQL table through the real binary.

mod support;

use hubsync::appdb::Target;
use hubsync::appdb::postgres::SslMode;
use hubsync::config::Config;
use hubsync::sim::{SeedData, SimServer, SimSettings};
use std::path::Path;
use support::backends::{self, Kind, PASSWORD_ENV, World};

const EXAMPLE: &str = include_str!("../fixtures/hubsync.example.toml");

fn with_app(app: &str) -> String {
    EXAMPLE.replacen(
        "[app]\ndatabase = \"/var/lib/myapp/app.db\"\n",
        &format!("[app]\n{app}\n"),
        1,
    )
}

#[test]
fn a_postgres_url_and_its_password_variable_name_the_app_database() {
    let text = with_app(
        "url = \"postgres://hubsync@db.internal:5432/myapp?sslmode=verify-full\"\npassword_env = \"APP_DB_PASSWORD\"",
    );
    let cfg = Config::parse(Path::new("hubsync.toml"), &text).unwrap();
    let Target::Postgres(s) = &cfg.app_database else {
        panic!("{:?}", cfg.app_database)
    };
    assert_eq!(s.ssl_mode, SslMode::VerifyFull);
    assert_eq!(s.password_env.as_deref(), Some("APP_DB_PASSWORD"));
    assert_eq!(s.describe(), "PostgreSQL db.internal:5432/myapp as hubsync");
}

#[test]
fn a_password_in_the_url_is_refused_at_its_line_without_repeating_it() {
    let text = with_app("url = \"postgres://hubsync:s3cret-pw@db/myapp\"");
    let e = Config::parse(Path::new("hubsync.toml"), &text).unwrap_err();
    let line = text.lines().position(|l| l.starts_with("url =")).unwrap() + 1;
    assert_eq!(e.line, line, "{e}");
    assert!(e.message.contains("password_env"), "{e}");
    assert!(!e.to_string().contains("s3cret-pw"), "{e}");
}

#[test]
fn an_app_database_is_a_file_or_a_url_not_both() {
    let text = with_app("database = \"app.db\"\nurl = \"postgres://u@h/db\"");
    let e = Config::parse(Path::new("hubsync.toml"), &text).unwrap_err();
    assert!(e.message.contains("exactly one of database"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hubsync_check_names_missing_columns_wrong_types_and_prints_create_index() {
    let Some(url) = backends::postgres_url("check_binary") else {
        return;
    };
    let w = World::new(Kind::Postgres, "check_binary").await;
    w.exec(
        "CREATE TABLE {s}contacts (id uuid PRIMARY KEY, email text, first_name text, last_name text,
           phone text, company text, hubspot_id integer, updated_at timestamptz)",
    )
    .await;
    let sim = SimServer::start(
        0,
        SimSettings {
            tokens: vec!["pat-check-pg".into()],
            ..SimSettings::default()
        },
        SeedData::empty(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = with_app(&format!(
        "url = \"{url}\"\npassword_env = \"{PASSWORD_ENV}\""
    ))
    .replacen("https://api.hubapi.com", &sim.base_url(), 1)
    .replacen("HUBSYNC_HUBSPOT_TOKEN", "HUBSYNC_TEST_CHECK_PG_TOKEN", 1)
    .replacen(
        "table = \"contacts\"",
        &format!("table = \"{}.contacts\"", w.schema),
        1,
    );
    let config = dir.path().join("hubsync.toml");
    std::fs::write(&config, text).unwrap();
    let run = || {
        let config = config.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                std::process::Command::new(env!("CARGO_BIN_EXE_hubsync"))
                    .args(["--config", config.to_str().unwrap(), "check"])
                    .env("HUBSYNC_TEST_CHECK_PG_TOKEN", "pat-check-pg")
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };
    let out = run().await;
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("has no column job_title"), "{all}");
    // With every column there, the types and the indexes are described.
    w.exec("ALTER TABLE {s}contacts ADD COLUMN job_title text")
        .await;
    let out = run().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("column hubspot_id") && stdout.contains("is integer"),
        "{stdout}"
    );
    for index in [
        "\"updated_at\", \"id\"",
        "(\"hubspot_id\")",
        "lower(translate(btrim(\"email\"",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains("CREATE INDEX ON") && l.contains(index)),
            "{index}: {stdout}"
        );
    }
    let password = std::env::var(PASSWORD_ENV).unwrap_or_default();
    assert!(password.is_empty() || !stdout.contains(&password));

    // Fixed as it says, the check passes.
    w.exec("ALTER TABLE {s}contacts ALTER COLUMN hubspot_id TYPE text")
        .await;
    for l in stdout.lines().filter_map(|l| {
        l.trim()
            .strip_prefix("warning:")
            .map(str::trim)
            .or(Some(l.trim()))
    }) {
        if l.starts_with("CREATE INDEX") {
            w.exec(l).await;
        }
    }
    let out = run().await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains("warning"), "{stdout}");
    w.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_listen_an_app_insert_reaches_hubspot_between_polls() {
    let Some(url) = backends::postgres_url("listen") else {
        return;
    };
    let w = World::new(Kind::Postgres, "listen").await;
    w.exec(
        "CREATE TABLE {s}contacts (id bigserial PRIMARY KEY, email text, first_name text, last_name text,
           phone text, company text, job_title text, hubspot_id text,
           updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
         INSERT INTO {s}contacts (email, first_name) VALUES ('first@example.com', 'First')",
    )
    .await;
    let sim = SimServer::start(
        0,
        SimSettings {
            tokens: vec!["pat-listen".into()],
            ..SimSettings::default()
        },
        SeedData::empty(),
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = with_app(&format!(
        "url = \"{url}\"\npassword_env = \"{PASSWORD_ENV}\"\nlisten = true"
    ))
    .replacen("https://api.hubapi.com", &sim.base_url(), 1)
    .replacen("HUBSYNC_HUBSPOT_TOKEN", "HUBSYNC_TEST_LISTEN_TOKEN", 1)
    .replacen(
        "table = \"contacts\"",
        &format!("table = \"{}.contacts\"", w.schema),
        1,
    )
    // Only a notification can bring the second row within the test.
    .replacen("poll_interval_secs = 30", "poll_interval_secs = 3600", 1);
    let config = dir.path().join("hubsync.toml");
    std::fs::write(&config, text).unwrap();
    let hubsync = |args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_hubsync"));
        c.args(["--config", config.to_str().unwrap()])
            .args(args)
            .env("HUBSYNC_TEST_LISTEN_TOKEN", "pat-listen");
        c
    };
    let out = hubsync(&["check", "--print-trigger"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    w.exec(&String::from_utf8(out.stdout).unwrap()).await;

    let data = dir.path().join("data");
    let mut child = hubsync(&["--data-dir", data.to_str().unwrap(), "run"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let wait_for = |email: &'static str| {
        let state = sim.state().clone();
        async move {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while state.find_by_email(email).is_none() {
                if std::time::Instant::now() > deadline {
                    return false;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            true
        }
    };
    let first = wait_for("first@example.com").await;
    // The listener is up once the backfill has run; give it a moment.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    w.exec("INSERT INTO {s}contacts (email, first_name) VALUES ('second@example.com', 'Second')")
        .await;
    let second = wait_for("second@example.com").await;
    terminate(child.id());
    let _ = child.wait();
    assert!(first, "the backfill brought the first row");
    assert!(
        second,
        "the notification brought the second row before any poll"
    );
    w.drop().await;
}

/// SIGTERM, so that `hubsync run` stops as a service manager would stop it.
fn terminate(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
}
