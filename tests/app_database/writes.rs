//! Writes on both backends: rows created from HubSpot, updates, HubSpot
//! ids written back; a row the database refuses fails alone, and on
//! PostgreSQL a batch of rows alike is one statement.

use super::*;

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
            .set_hubspot_ids(&m, &id_pairs(&[("1", "701"), ("9", "709"), ("2", "702")]))
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
                &id_pairs(&[
                    ("1", "701"),
                    ("2", "703"),
                    ("not-an-id", "705"),
                    ("4", "704"),
                ]),
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
