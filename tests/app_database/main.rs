//! The app-database interface on both backends: one test body each, run on
//! SQLite and on PostgreSQL (see `tests/support/backends.rs`).

#[path = "../support/mod.rs"]
mod support;
mod writes;

use hubsync::appdb::postgres::Settings;
use hubsync::appdb::{AppCursor, AppDb, Target};
use hubsync::sync::mapping::ObjectMapping;
use std::collections::BTreeMap;
use support::backends::{self, Kind, PASSWORD_ENV, World, contacts_ddl, kinds};

fn mapping(w: &World) -> ObjectMapping {
    let mut m = ObjectMapping::demo_contacts();
    m.table = w.table("contacts");
    m
}

/// A stamp literal in the column's format: `secs` after 2026-01-01 10:00.
fn stamp(kind: Kind, secs: u32) -> String {
    let t = format!("2026-01-01T10:{:02}:{:02}.000Z", secs / 60, secs % 60);
    match kind {
        Kind::Sqlite => format!("'{t}'"),
        Kind::Postgres => format!("'{t}'::timestamptz"),
    }
}

/// (app id, HubSpot id) pairs to write back.
fn id_pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, h)| (a.to_string(), h.to_string()))
        .collect()
}

fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn pass(app: &AppDb, m: &ObjectMapping, cursor: &mut Option<AppCursor>) -> Vec<String> {
    let mut at = app.rewind(cursor.clone());
    let mut ids = Vec::new();
    loop {
        let page = app.changes(m, at.as_ref(), 2).await.unwrap();
        if page.rows.is_empty() {
            break;
        }
        ids.extend(page.rows.iter().map(|r| r.id.clone()));
        at = page.next;
        *cursor = at.clone();
    }
    ids
}

#[tokio::test]
async fn a_row_committed_late_is_read_by_the_next_pass_and_nothing_unchanged_twice() {
    for kind in kinds("late_row") {
        let w = World::new(kind, "late_row").await;
        w.exec(&contacts_ddl(kind, "int")).await;
        for (id, at) in [(1, 0), (3, 5)] {
            w.exec(&format!(
                "INSERT INTO {{s}}contacts (id, email, updated_at) VALUES ({id}, 'c{id}@example.com', {})",
                stamp(kind, at)
            ))
            .await;
        }
        let (app, m) = (w.app(), mapping(&w));
        let mut cursor = None;
        assert_eq!(pass(&app, &m, &mut cursor).await, ["1", "3"], "{kind:?}");
        // Stamped at 10:00:00 (one-second precision, or when its
        // transaction began) but committed after the first pass.
        w.exec(&format!(
            "INSERT INTO {{s}}contacts (id, email, updated_at) VALUES (2, 'c2@example.com', {})",
            stamp(kind, 0)
        ))
        .await;
        assert_eq!(pass(&app, &m, &mut cursor).await, ["2"], "{kind:?}");
        assert!(pass(&app, &m, &mut cursor).await.is_empty(), "{kind:?}");
        w.exec(&format!(
            "UPDATE {{s}}contacts SET phone = '1', updated_at = {} WHERE id = 1",
            stamp(kind, 10)
        ))
        .await;
        assert_eq!(pass(&app, &m, &mut cursor).await, ["1"], "{kind:?}");
        w.drop().await;
    }
}

#[tokio::test]
async fn a_long_transaction_stamped_before_a_pass_and_committed_after_it_is_not_missed() {
    let Some(url) = backends::postgres_url("long_transaction") else {
        return;
    };
    let w = World::new(Kind::Postgres, "long_transaction").await;
    w.exec(&contacts_ddl(Kind::Postgres, "int")).await;
    let (app, m) = (w.app(), mapping(&w));
    let long = backends::pg_client(&url).await;
    long.batch_execute(&format!(
        "BEGIN; INSERT INTO {}.contacts (email) VALUES ('slow@example.com')",
        w.schema
    ))
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    w.exec("INSERT INTO {s}contacts (email) VALUES ('quick@example.com')")
        .await;
    let mut cursor = None;
    let first = pass(&app, &m, &mut cursor).await;
    assert_eq!(first.len(), 1);
    long.batch_execute("COMMIT").await.unwrap();
    let second = pass(&app, &m, &mut cursor).await;
    assert_eq!(second.len(), 1, "the late row, and only it");
    assert_ne!(first, second);
    w.drop().await;
}

#[tokio::test]
async fn keys_match_trimmed_and_case_insensitively_in_any_script() {
    for kind in kinds("unicode_keys") {
        let w = World::new(kind, "unicode_keys").await;
        w.exec(&contacts_ddl(kind, "int")).await;
        w.exec(
            "INSERT INTO {s}contacts (email) VALUES ('\u{a0} Ünal@Example.COM\t'), (' ADA@Example.com\u{3000}'),
               ('\u{212a}ate@example.com'), ('ÜNAL@other.com'), ('other@example.com')",
        )
        .await;
        let (app, m) = (w.app(), mapping(&w));
        let keys = ["ünal@example.com", "ada@example.com", "kate@example.com"].map(String::from);
        let mut found: Vec<String> = app
            .find_by_keys(&m, "email", &keys)
            .await
            .unwrap()
            .into_iter()
            .map(|r| hubsync::sync::mapping::key_norm(r.field("email").unwrap()))
            .collect();
        found.sort();
        assert_eq!(
            found,
            ["ada@example.com", "kate@example.com", "ünal@example.com"],
            "{kind:?}"
        );
        w.drop().await;
    }
}

#[tokio::test]
async fn check_names_a_missing_column_a_wrong_type_and_prints_the_missing_indexes() {
    let Some(_) = backends::postgres_url("check_table") else {
        return;
    };
    let w = World::new(Kind::Postgres, "check_table").await;
    w.exec(
        "CREATE TABLE {s}contacts (id bigint PRIMARY KEY, email text, first_name text, last_name text,
           phone text, company text, hubspot_id integer, updated_at timestamptz)",
    )
    .await;
    let (app, m) = (w.app(), mapping(&w));
    let r = app.check(&m).await.unwrap();
    let problems = r.problems.join("\n");
    assert!(problems.contains("no column job_title"), "{problems}");
    assert!(
        problems.contains("column hubspot_id") && problems.contains("is integer"),
        "{problems}"
    );
    assert_eq!(r.create_index.len(), 3, "{:?}", r.create_index);
    assert!(
        r.warnings.iter().any(|x| x.contains("updated_at")),
        "{:?}",
        r.warnings
    );
    // The statements it prints are ones PostgreSQL takes, and satisfy it.
    w.exec("ALTER TABLE {s}contacts ADD COLUMN job_title text; ALTER TABLE {s}contacts ALTER COLUMN hubspot_id TYPE text")
        .await;
    for stmt in &r.create_index {
        w.exec(stmt).await;
    }
    let r = app.check(&m).await.unwrap();
    assert_eq!(r, Default::default());
    w.drop().await;
}

#[tokio::test]
async fn check_on_sqlite_prints_the_missing_indexes_which_the_apps_own_connection_can_carry() {
    let w = World::new(Kind::Sqlite, "check_sqlite").await;
    w.exec(
        "CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT, last_name TEXT,
           phone TEXT, company TEXT, job_title TEXT, hubspot_id TEXT,
           updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))",
    )
    .await;
    let (app, m) = (w.app(), mapping(&w));
    let r = app.check(&m).await.unwrap();
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    // The id is the primary key; the change feed, the HubSpot id and the
    // key each want one.
    assert_eq!(r.create_index.len(), 3, "{:?}", r.create_index);
    for column in ["updated_at", "hubspot_id", "email"] {
        assert!(
            r.warnings.iter().any(|x| x.contains(column)),
            "{column}: {:?}",
            r.warnings
        );
    }
    // The test's connection is the app's own, without hubsync's functions:
    // it takes the statements, and writes rows through the indexes.
    for stmt in &r.create_index {
        w.exec(stmt).await;
    }
    w.exec(
        "INSERT INTO contacts (email) VALUES ('\u{a0}Ada@Example.COM\t'), ('Ünal@Example.com'), ('\u{212a}elvin@example.com')",
    )
    .await;
    w.exec("UPDATE contacts SET email = ' ' || email || ' '")
        .await;
    assert_eq!(app.check(&m).await.unwrap(), Default::default());
    assert_eq!(
        w.value("PRAGMA integrity_check").await.as_deref(),
        Some("ok")
    );
    let keys = ["ada@example.com", "ünal@example.com", "kelvin@example.com"];
    let found = app
        .find_by_keys(&m, "email", &keys.map(String::from))
        .await
        .unwrap();
    assert_eq!(found.len(), 3, "{found:?}");
}

#[tokio::test]
async fn a_wrong_password_is_a_clear_error_that_does_not_repeat_it() {
    let Some(url) = backends::postgres_url("wrong_password") else {
        return;
    };
    let var = "HUBSYNC_TEST_WRONG_PASSWORD";
    // SAFETY: no other test reads this variable.
    unsafe { std::env::set_var(var, "not-the-Password-42") };
    let app = AppDb::open(&Target::Postgres(
        Settings::parse(&url, Some(var.into())).unwrap(),
    ))
    .unwrap();
    let e = format!(
        "{:#}",
        app.count(&ObjectMapping::demo_contacts())
            .await
            .unwrap_err()
    );
    assert!(e.contains("password authentication failed"), "{e}");
    assert!(e.contains("127.0.0.1") && e.contains("/postgres"), "{e}");
    assert!(!e.contains("not-the-Password-42"), "{e}");
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error_naming_host_and_database() {
    // Port 1 on loopback: nothing listens there. The password comes from
    // a variable every environment has, so this runs without a test server.
    let s = Settings::parse(
        "postgres://app@127.0.0.1:1/crm?sslmode=disable",
        Some("PATH".into()),
    )
    .unwrap();
    let app = AppDb::open(&Target::Postgres(s)).unwrap();
    let e = format!(
        "{:#}",
        app.count(&ObjectMapping::demo_contacts())
            .await
            .unwrap_err()
    );
    assert!(e.contains("127.0.0.1:1/crm"), "{e}");
    assert!(e.contains("connect"), "{e}");
}

fn open_with(url: &str) -> AppDb {
    AppDb::open(&Target::Postgres(
        Settings::parse(url, Some(PASSWORD_ENV.into())).unwrap(),
    ))
    .unwrap()
}

/// The test server's address with another host name and `sslmode`.
fn with_tls(url: &str, host: &str, query: &str) -> String {
    let base = url.split('?').next().unwrap();
    let rest = base.rsplit_once('@').unwrap();
    let port_db = rest.1.split_once(':').unwrap().1;
    format!("{}@{host}:{port_db}?{query}", rest.0)
}

#[tokio::test]
async fn sslmode_is_honoured_against_a_server_with_tls() {
    let Some(url) = backends::postgres_url("sslmode") else {
        return;
    };
    let m = ObjectMapping::demo_contacts();
    let Ok(root) = std::env::var("HUBSYNC_TEST_POSTGRES_ROOT_CERT") else {
        // A server without TLS (no openssl where it was started): require
        // must refuse it, prefer fall back to plain text.
        let e = format!(
            "{:#}",
            open_with(&with_tls(&url, "127.0.0.1", "sslmode=require"))
                .count(&m)
                .await
                .unwrap_err()
        );
        assert!(
            e.contains("TLS") || e.contains("SSL") || e.contains("tls"),
            "{e}"
        );
        return;
    };
    // The table is not there: an error from the server itself means the
    // connection, and its TLS, worked.
    let reached = |e: String| e.contains("no table contacts");
    for (host, query) in [
        ("127.0.0.1", "sslmode=require".to_string()),
        ("127.0.0.1", format!("sslmode=verify-ca&sslrootcert={root}")),
        (
            "localhost",
            format!("sslmode=verify-full&sslrootcert={root}"),
        ),
    ] {
        let e = format!(
            "{:#}",
            open_with(&with_tls(&url, host, &query))
                .count(&m)
                .await
                .unwrap_err()
        );
        assert!(reached(e.clone()), "{host} {query}: {e}");
    }
    // The certificate names localhost, not 127.0.0.1; and the system's
    // roots do not know the test CA.
    for (host, query) in [
        (
            "127.0.0.1",
            format!("sslmode=verify-full&sslrootcert={root}"),
        ),
        ("localhost", "sslmode=verify-full".to_string()),
    ] {
        let e = format!(
            "{:#}",
            open_with(&with_tls(&url, host, &query))
                .count(&m)
                .await
                .unwrap_err()
        );
        assert!(
            !reached(e.clone()) && e.contains("connecting to"),
            "{host} {query}: {e}"
        );
    }
}
