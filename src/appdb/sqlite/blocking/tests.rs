use super::*;

fn demo_db() -> (tempfile::TempDir, SqliteDb) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let rows: Vec<crate::appdb::demo::FixtureContact> =
        serde_json::from_str(r#"[{"email":"a@example.com","first_name":"A","last_name":null,"phone":null,"company":null,"job_title":null}]"#)
            .unwrap();
    crate::appdb::demo::create(&path, &rows).unwrap();
    let db = SqliteDb::open(&path).unwrap();
    (dir, db)
}

#[test]
fn a_misspelt_column_is_an_error_not_a_literal_value() {
    let (_d, db) = demo_db();
    let mut m = ObjectMapping::demo_contacts();
    m.fields[1].app_columns = vec!["frist_name".into()];
    assert!(db.rows_since(&m, Since::All, 10).is_err());
    let info = db.table_info(&m).unwrap();
    let e = crate::appdb::check::verify("app.db", &m, &info)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no column frist_name") && e.contains("first_name"),
        "{e}"
    );
}

#[test]
fn hubsyncs_stamps_follow_the_apps_own_updated_at_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, first_name TEXT,
           last_name TEXT, phone TEXT, company TEXT, job_title TEXT, hubspot_id TEXT,
           updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
         INSERT INTO contacts (email) VALUES ('a@example.com');",
    )
    .unwrap();
    let db = SqliteDb::open(&path).unwrap();
    let m = ObjectMapping::demo_contacts();
    let values = BTreeMap::from([("first_name".to_string(), "Ada".to_string())]);
    let (updated, inserted) = db
        .write_batch(
            &m,
            &[("1".into(), values.clone())],
            &[(values, "501".into())],
        )
        .unwrap();
    assert!(updated[0].is_ok() && inserted[0].is_ok());
    let stamps: Vec<String> = conn
        .prepare("SELECT updated_at FROM contacts")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for s in stamps {
        assert_eq!(s.len(), "2026-01-01 10:00:00".len(), "{s}");
        assert_eq!(&s[10..11], " ", "{s}");
    }
    db.clear_hubspot_id(&m, "2").unwrap();
}

#[test]
fn keys_are_found_whatever_their_case_or_whitespace_in_any_script() {
    let (d, db) = demo_db();
    Connection::open(d.path().join("app.db"))
        .unwrap()
        .execute(
            "UPDATE contacts SET email = '\u{a0} Ünal@Example.COM\t' WHERE id = 1",
            [],
        )
        .unwrap();
    let m = ObjectMapping::demo_contacts();
    let found = db
        .find_by_keys(&m, "email", &["ünal@example.com".to_string()])
        .unwrap();
    assert_eq!(found.len(), 1);
}

#[test]
fn rows_are_read_past_the_cursor_in_order() {
    let (_d, db) = demo_db();
    let m = ObjectMapping::demo_contacts();
    let all = db.rows_since(&m, Since::All, 10).unwrap();
    assert_eq!(all.len(), 1);
    let cursor = crate::appdb::AppCursor::at(&all[0].updated_at, &all[0].id);
    assert!(
        db.rows_since(&m, Since::of(Some(&cursor)), 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.count_since(&m, Since::of(Some(&cursor))).unwrap(), 0);
}
