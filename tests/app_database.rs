//! The app-database interface on both backends: one test body each, run on
//! SQLite and on PostgreSQL (see `tests/support/backends.rs`).

mod support;

use hubsync::appdb::postgres::Settings;
use hubsync::appdb::{AppCursor, AppDb, Target};
use hubsync::sync::mapping::ObjectMapping;
use std::collections::BTreeMap;
use support::backends::{self, Kind, PASSWORD_ENV, World, kinds};

fn contacts_ddl(kind: Kind, id: &str) -> String {
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
async fn rows_created_from_hubspot_carry_their_id_and_are_found_by_it_with_integer_or_uuid_keys() {
    for kind in kinds("created_rows") {
        for id in ["int", "uuid"] {
            let w = World::new(kind, "created_rows").await;
            w.exec(&contacts_ddl(kind, id)).await;
            let (app, m) = (w.app(), mapping(&w));
            let (_, inserted) = app
                .write_batch(
                    &m,
                    &[],
                    &[
                        (
                            values(&[("email", "ada@example.com"), ("first_name", "Ada")]),
                            "501".into(),
                        ),
                        (
                            values(&[("email", "alan@example.com"), ("phone", "")]),
                            "502".into(),
                        ),
                    ],
                )
                .await
                .unwrap();
            let ids: Vec<String> = inserted.into_iter().map(Result::unwrap).collect();
            let found = app
                .find_by_hubspot_ids(&m, &["502".into(), "999".into()])
                .await
                .unwrap();
            assert_eq!(found.len(), 1, "{kind:?} {id}");
            assert_eq!(found[0].id, ids[1]);
            assert_eq!(found[0].field("phone"), None);
            let before = app.get(&m, &ids[0]).await.unwrap().unwrap();
            assert_eq!(before.hubspot_id.as_deref(), Some("501"));
            let (updated, _) = app
                .write_batch(
                    &m,
                    &[(ids[0].clone(), values(&[("first_name", "Augusta")]))],
                    &[],
                )
                .await
                .unwrap();
            updated.into_iter().for_each(|r| r.unwrap());
            let after = app.get(&m, &ids[0]).await.unwrap().unwrap();
            assert_eq!(after.field("first_name"), Some("Augusta"));
            assert!(
                after.updated_at > before.updated_at,
                "{kind:?} {id}: stamped on update"
            );
            // Ids that cannot be of the key's type find nothing, not an error.
            assert!(
                app.get_many(&m, &["not-an-id".into()])
                    .await
                    .unwrap()
                    .is_empty()
            );
            assert_eq!(app.count(&m).await.unwrap(), 2);
            w.drop().await;
        }
    }
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
async fn hubspot_ids_of_a_batch_are_written_together_and_a_deleted_row_fails_alone() {
    for kind in kinds("write_back") {
        let w = World::new(kind, "write_back").await;
        w.exec(&contacts_ddl(kind, "int")).await;
        w.exec(
            "INSERT INTO {s}contacts (id, email) VALUES (1, 'a@example.com'), (2, 'b@example.com')",
        )
        .await;
        let (app, m) = (w.app(), mapping(&w));
        let before = w
            .value("SELECT CAST(max(updated_at) AS TEXT) FROM {s}contacts")
            .await;
        let out = app
            .set_hubspot_ids(
                &m,
                &[
                    ("1".into(), "701".into()),
                    ("9".into(), "709".into()),
                    ("2".into(), "702".into()),
                ],
            )
            .await
            .unwrap();
        assert!(out[0].is_ok() && out[2].is_ok(), "{kind:?}");
        let e = out[1].as_ref().unwrap_err().to_string();
        assert!(e.contains("9 no longer exists"), "{e}");
        assert_eq!(
            w.value("SELECT hubspot_id FROM {s}contacts WHERE id = 2")
                .await
                .as_deref(),
            Some("702")
        );
        // hubsync's own write-back is not a change for the feed.
        assert_eq!(
            w.value("SELECT CAST(max(updated_at) AS TEXT) FROM {s}contacts")
                .await,
            before
        );
        app.clear_hubspot_id(&m, "1").await.unwrap();
        assert_eq!(
            w.value("SELECT hubspot_id FROM {s}contacts WHERE id = 1")
                .await,
            None
        );
        w.drop().await;
    }
}

#[tokio::test]
async fn a_hubspot_id_the_database_refuses_fails_alone_and_the_rest_of_the_batch_is_written() {
    for kind in kinds("refused_write_back") {
        let w = World::new(kind, "refused_write_back").await;
        w.exec(&contacts_ddl(kind, "int")).await;
        w.exec("CREATE UNIQUE INDEX contacts_hubspot_id ON {s}contacts (hubspot_id)")
            .await;
        w.exec(
            "INSERT INTO {s}contacts (id, email, hubspot_id) VALUES (1, 'a@example.com', NULL),
               (2, 'b@example.com', NULL), (3, 'c@example.com', '703'), (4, 'd@example.com', NULL)",
        )
        .await;
        let (app, m) = (w.app(), mapping(&w));
        let out = app
            .set_hubspot_ids(
                &m,
                &[
                    ("1".into(), "701".into()),
                    ("2".into(), "703".into()),
                    ("not-an-id".into(), "705".into()),
                    ("4".into(), "704".into()),
                ],
            )
            .await
            .unwrap();
        assert!(out[0].is_ok() && out[3].is_ok(), "{kind:?}: {out:?}");
        let e = out[1].as_ref().unwrap_err().to_string();
        assert!(
            e.contains("HubSpot id 703") && e.contains(" 2"),
            "{kind:?}: {e}"
        );
        assert!(out[2].is_err(), "{kind:?}: an id not of the key's type");
        let ids = w
            .rows("SELECT CAST(id AS TEXT), hubspot_id FROM {s}contacts ORDER BY id")
            .await;
        let ids: Vec<Option<&str>> = ids.iter().map(|r| r[1].as_deref()).collect();
        assert_eq!(
            ids,
            [Some("701"), None, Some("703"), Some("704")],
            "{kind:?}"
        );
        w.drop().await;
    }
}

#[tokio::test]
async fn a_row_from_hubspot_the_database_refuses_fails_alone_among_rows_writing_the_same_columns() {
    for kind in kinds("refused_rows") {
        let w = World::new(kind, "refused_rows").await;
        w.exec(&contacts_ddl(kind, "int")).await;
        w.exec("CREATE UNIQUE INDEX contacts_email ON {s}contacts (email)")
            .await;
        w.exec(
            // Ids from the key's own sequence (1 to 4), so that rows created
            // from HubSpot take the next ones.
            "INSERT INTO {s}contacts (email) VALUES ('a@example.com'), ('b@example.com'),
               ('c@example.com'), ('d@example.com')",
        )
        .await;
        let (app, m) = (w.app(), mapping(&w));
        let (updated, inserted) = app
            .write_batch(
                &m,
                &[
                    (
                        "1".into(),
                        values(&[("email", "a2@example.com"), ("phone", "1")]),
                    ),
                    (
                        "2".into(),
                        values(&[("email", "d@example.com"), ("phone", "2")]),
                    ),
                    (
                        "9".into(),
                        values(&[("email", "z@example.com"), ("phone", "9")]),
                    ),
                    (
                        "3".into(),
                        values(&[("email", "c3@example.com"), ("phone", "")]),
                    ),
                ],
                &[
                    (values(&[("email", "new1@example.com")]), "801".into()),
                    (values(&[("email", "b@example.com")]), "802".into()),
                    (values(&[("email", "new3@example.com")]), "803".into()),
                ],
            )
            .await
            .unwrap();
        assert!(
            updated[0].is_ok() && updated[3].is_ok(),
            "{kind:?}: {updated:?}"
        );
        let e = updated[1].as_ref().unwrap_err().to_string();
        assert!(
            e.contains("email, phone") && e.contains(" 2"),
            "{kind:?}: {e}"
        );
        let e = updated[2].as_ref().unwrap_err().to_string();
        assert!(e.contains("9 no longer exists"), "{kind:?}: {e}");
        assert!(
            inserted[0].is_ok() && inserted[2].is_ok(),
            "{kind:?}: {inserted:?}"
        );
        let e = inserted[1].as_ref().unwrap_err().to_string();
        assert!(e.contains("HubSpot contacts 802"), "{kind:?}: {e}");
        let rows = w
            .rows("SELECT CAST(id AS TEXT), email, phone, hubspot_id FROM {s}contacts ORDER BY id")
            .await;
        let by_email = |email: &str| {
            rows.iter()
                .find(|r| r[1].as_deref() == Some(email))
                .cloned()
                .unwrap_or_else(|| panic!("{kind:?}: no row {email} in {rows:?}"))
        };
        assert_eq!(by_email("a2@example.com")[2].as_deref(), Some("1"));
        assert_eq!(
            by_email("b@example.com")[0].as_deref(),
            Some("2"),
            "unchanged"
        );
        assert_eq!(by_email("b@example.com")[2], None, "unchanged");
        assert_eq!(
            by_email("c3@example.com")[2],
            None,
            "an empty value is NULL"
        );
        for (i, hubspot_id) in [(0, "801"), (2, "803")] {
            let row = by_email(&format!("new{}@example.com", i + 1));
            assert_eq!(row[0].as_ref(), inserted[i].as_ref().ok(), "{kind:?}");
            assert_eq!(row[3].as_deref(), Some(hubspot_id), "{kind:?}");
        }
        assert_eq!(rows.len(), 6, "{kind:?}");
        w.drop().await;
    }
}

/// Counts the statements that write `contacts`: a statement-level trigger
/// fires once per statement, however many rows it writes.
const COUNT_STATEMENTS: &str = "
    CREATE TABLE {s}statements (op text);
    CREATE FUNCTION {s}count_statement() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN INSERT INTO {s}statements VALUES (TG_OP); RETURN NULL; END $$;
    CREATE TRIGGER count_statements AFTER INSERT OR UPDATE ON {s}contacts
      FOR EACH STATEMENT EXECUTE FUNCTION {s}count_statement();";

#[tokio::test]
async fn on_postgresql_a_batch_of_rows_alike_is_written_in_one_statement_not_one_per_row() {
    let Some(_) = backends::postgres_url("one_statement") else {
        return;
    };
    let w = World::new(Kind::Postgres, "one_statement").await;
    w.exec(&contacts_ddl(Kind::Postgres, "int")).await;
    w.exec("INSERT INTO {s}contacts (email) VALUES ('a@example.com'), ('b@example.com'), ('c@example.com')")
        .await;
    w.exec(COUNT_STATEMENTS).await;
    let (app, m) = (w.app(), mapping(&w));
    let ids: Vec<(String, String)> = (1..=3).map(|i| (i.to_string(), format!("70{i}"))).collect();
    let out = app.set_hubspot_ids(&m, &ids).await.unwrap();
    assert!(out.iter().all(Result::is_ok), "{out:?}");
    let count = "SELECT op || ' ' || count(*) FROM {s}statements GROUP BY op ORDER BY op";
    let counts = |rows: Vec<Vec<Option<String>>>| -> Vec<String> {
        rows.into_iter().map(|r| r[0].clone().unwrap()).collect()
    };
    assert_eq!(counts(w.rows(count).await), ["UPDATE 1"]);
    w.exec("DELETE FROM {s}statements").await;
    let (updated, inserted) = app
        .write_batch(
            &m,
            &(1..=3)
                .map(|i| {
                    (
                        i.to_string(),
                        values(&[("job_title", "CTO"), ("phone", "")]),
                    )
                })
                .collect::<Vec<_>>(),
            &(4..=5)
                .map(|i| {
                    (
                        values(&[("email", &format!("n{i}@example.com"))]),
                        format!("80{i}"),
                    )
                })
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    assert!(updated.iter().all(Result::is_ok), "{updated:?}");
    assert!(inserted.iter().all(Result::is_ok), "{inserted:?}");
    assert_eq!(counts(w.rows(count).await), ["INSERT 1", "UPDATE 1"]);
    assert_eq!(
        w.value("SELECT count(*)::text FROM {s}contacts WHERE job_title = 'CTO'")
            .await
            .as_deref(),
        Some("3")
    );
    w.drop().await;
}

#[tokio::test]
async fn hubsyncs_stamps_follow_an_epoch_milliseconds_column_in_a_named_schema() {
    let Some(_) = backends::postgres_url("epoch_stamps") else {
        return;
    };
    let w = World::new(Kind::Postgres, "epoch_stamps").await;
    w.exec(
        "CREATE TABLE {s}contacts (id integer PRIMARY KEY, email text, first_name text, last_name text,
           phone text, company text, job_title text, hubspot_id bigint, updated_at bigint NOT NULL);
         INSERT INTO {s}contacts VALUES (1, 'a@example.com', NULL, NULL, NULL, NULL, NULL, NULL, 1767261600000)",
    )
    .await;
    let (app, m) = (w.app(), mapping(&w));
    let (u, _) = app
        .write_batch(&m, &[("1".into(), values(&[("job_title", "CTO")]))], &[])
        .await
        .unwrap();
    u.into_iter().for_each(|r| r.unwrap());
    let stamp: i64 = w
        .value("SELECT updated_at::text FROM {s}contacts WHERE id = 1")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        stamp > 1_767_261_600_000 && stamp < 100_000_000_000_000,
        "{stamp}"
    );
    let page = app.changes(&m, None, 10).await.unwrap();
    assert_eq!(page.rows[0].updated_at, stamp.to_string());
    w.drop().await;
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
