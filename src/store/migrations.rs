//! The state database's schema, versioned with SQLite's `user_version`.
//!
//! Each entry moves the schema one version forward and runs in its own
//! transaction, so a crash mid-upgrade leaves the previous version intact.
//! Never edit a released migration: add a new one.
//! (`rusqlite_migration` does the same, but no release of it builds against
//! rusqlite 0.42 yet.)

use anyhow::{Context, bail};
use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: links, cursors, jobs and the audit log.
    r#"
    CREATE TABLE links (
        object      TEXT NOT NULL,
        app_id      TEXT NOT NULL,
        hubspot_id  TEXT NOT NULL,
        linked_at   TEXT NOT NULL,
        PRIMARY KEY (object, app_id),
        UNIQUE (object, hubspot_id)
    );
    CREATE TABLE cursors (
        object      TEXT NOT NULL,
        direction   TEXT NOT NULL,
        value       TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        PRIMARY KEY (object, direction)
    );
    CREATE TABLE jobs (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL,
        object      TEXT NOT NULL,
        direction   TEXT NOT NULL,
        state       TEXT NOT NULL,
        -- For a single-record job: the app record's id.
        app_id      TEXT,
        done        INTEGER NOT NULL DEFAULT 0,
        total       INTEGER NOT NULL DEFAULT 0,
        succeeded   INTEGER NOT NULL DEFAULT 0,
        failed      INTEGER NOT NULL DEFAULT 0,
        attempts    INTEGER NOT NULL DEFAULT 0,
        queued_at   TEXT NOT NULL,
        run_after   TEXT NOT NULL,
        started_at  TEXT,
        finished_at TEXT,
        error       TEXT
    );
    CREATE INDEX jobs_by_state ON jobs (state, run_after, id);
    CREATE TABLE audit (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        job_id      INTEGER NOT NULL,
        object      TEXT NOT NULL,
        direction   TEXT NOT NULL,
        app_id      TEXT NOT NULL,
        hubspot_id  TEXT,
        action      TEXT NOT NULL,
        status      TEXT NOT NULL,
        category    TEXT,
        message     TEXT,
        diff        TEXT,
        attempt     INTEGER NOT NULL,
        label       TEXT NOT NULL,
        -- A FAILED entry stays open until a later attempt of the same record
        -- supersedes it or an operator dismisses it.
        open        INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX audit_open_failed ON audit (object, open, id) WHERE open = 1;
    CREATE INDEX audit_by_record ON audit (object, app_id, id);
    "#,
    // 2: two-way sync. Each link remembers what both sides last held, per
    // HubSpot property (loop prevention and field-level merge); tombstones
    // keep HubSpot records whose app record was deleted from being created
    // in the app again; audit entries are found by HubSpot id too.
    r#"
    ALTER TABLE links ADD COLUMN memory TEXT NOT NULL DEFAULT '{}';
    CREATE TABLE tombstones (
        object      TEXT NOT NULL,
        hubspot_id  TEXT NOT NULL,
        app_id      TEXT NOT NULL,
        at          TEXT NOT NULL,
        PRIMARY KEY (object, hubspot_id)
    );
    CREATE INDEX audit_by_hubspot ON audit (object, hubspot_id, id);
    "#,
    // 3: the values a link is about to write to HubSpot, kept until the
    // write is confirmed: after a crash they tell whether it landed.
    r#"
    ALTER TABLE links ADD COLUMN pending TEXT;
    "#,
    // 4: who did what. A job an operator asked for names their OS user (from
    // the control socket's peer credentials); its audit entries copy it, and
    // a dismissal records who closed the entry and when.
    r#"
    ALTER TABLE jobs ADD COLUMN requested_by TEXT;
    ALTER TABLE audit ADD COLUMN operator TEXT;
    ALTER TABLE audit ADD COLUMN dismissed_by TEXT;
    ALTER TABLE audit ADD COLUMN dismissed_at TEXT;
    "#,
    // 5: costs that stay flat as the tables grow. A record's open failure is
    // found by the record, not among every open failure of its object; the
    // recent finished jobs are read in order, not sorted.
    r#"
    CREATE INDEX audit_open_by_record ON audit (object, app_id, id) WHERE open = 1;
    CREATE INDEX jobs_finished ON jobs (finished_at, id) WHERE state IN ('succeeded','FAILED');
    "#,
    // 6: finding any entry as an operator types. A trigram index over what
    // an operator searches by (the record's label, both ids, HubSpot's
    // message, the error category) answers a substring in milliseconds at
    // millions of rows, where LIKE '%x%' reads the whole table. It is an
    // external-content table kept in step by triggers, so the text is
    // stored once.
    r#"
    CREATE VIRTUAL TABLE audit_fts USING fts5(
        label, app_id, hubspot_id, message, category,
        content = 'audit', content_rowid = 'id', tokenize = 'trigram'
    );
    INSERT INTO audit_fts (audit_fts) VALUES ('rebuild');
    CREATE TRIGGER audit_fts_insert AFTER INSERT ON audit BEGIN
        INSERT INTO audit_fts (rowid, label, app_id, hubspot_id, message, category)
        VALUES (new.id, new.label, new.app_id, new.hubspot_id, new.message, new.category);
    END;
    CREATE TRIGGER audit_fts_delete AFTER DELETE ON audit BEGIN
        INSERT INTO audit_fts (audit_fts, rowid, label, app_id, hubspot_id, message, category)
        VALUES ('delete', old.id, old.label, old.app_id, old.hubspot_id, old.message, old.category);
    END;
    CREATE TRIGGER audit_fts_update AFTER UPDATE OF label, app_id, hubspot_id, message, category ON audit BEGIN
        INSERT INTO audit_fts (audit_fts, rowid, label, app_id, hubspot_id, message, category)
        VALUES ('delete', old.id, old.label, old.app_id, old.hubspot_id, old.message, old.category);
        INSERT INTO audit_fts (rowid, label, app_id, hubspot_id, message, category)
        VALUES (new.id, new.label, new.app_id, new.hubspot_id, new.message, new.category);
    END;
    "#,
    // 7: triage by cause. A FAILED entry keeps its error class (HubSpot's
    // sub-category and the property it names, pulled out of the message),
    // so open failures group by class on an index; a job's entries are
    // found by the job (its summary, a crash-safe resume); a retry of many
    // records is one job whose records are stored with it. Open entries
    // written before this version get their class from their message.
    r#"
    ALTER TABLE audit ADD COLUMN sub_category TEXT;
    ALTER TABLE audit ADD COLUMN property TEXT;
    UPDATE audit
       SET sub_category = json_extract(substr(message, instr(message, '[{')), '$[0].error'),
           property = json_extract(substr(message, instr(message, '[{')), '$[0].name')
     WHERE open = 1 AND instr(message, '[{') > 0
       AND json_valid(substr(message, instr(message, '[{')));
    CREATE INDEX audit_open_by_class ON audit (category, sub_category, property, id, at) WHERE open = 1;
    CREATE INDEX audit_by_job ON audit (job_id, status);
    CREATE TABLE job_records (
        job_id  INTEGER NOT NULL,
        object  TEXT NOT NULL,
        -- The record's audit key: its app id, or `hs:<id>`.
        record  TEXT NOT NULL,
        PRIMARY KEY (job_id, object, record)
    ) WITHOUT ROWID;
    "#,
    // 8: every config applied while the engine ran (from a console's editor
    // or a revert): when, by whom, the whole text and its difference from
    // the file it replaced, so any one can be shown and gone back to.
    r#"
    CREATE TABLE config_history (
        id          INTEGER PRIMARY KEY,
        at          TEXT NOT NULL,
        operator    TEXT,
        path        TEXT NOT NULL,
        hash        TEXT NOT NULL,
        text        TEXT NOT NULL,
        diff        TEXT NOT NULL
    );
    "#,
    // 9: records about to be created in the app from HubSpot, with what the
    // link will remember. The app row is committed before its link can be
    // stored (its id comes from the insert); a crash in between would
    // otherwise leave a pair with no memory, whose HubSpot edits the app's
    // older values would overwrite.
    r#"
    CREATE TABLE app_creates (
        object      TEXT NOT NULL,
        hubspot_id  TEXT NOT NULL,
        memory      TEXT NOT NULL,
        noted_at    TEXT NOT NULL,
        PRIMARY KEY (object, hubspot_id)
    );
    "#,
    // 10: the FAILED list at a million open entries. Its own trigram
    // index holds only the open FAILED entries, so a filter pages through
    // them newest first (and counts them) without walking the closed
    // entries a common text shares in the whole log's index; contentless,
    // as the text is in `audit`, with deletes by rowid when an entry
    // closes. The open entries by id alone serve the unfiltered pages and
    // their counts whatever the object.
    r#"
    CREATE VIRTUAL TABLE audit_open_fts USING fts5(
        label, app_id, hubspot_id, message, category,
        content = '', contentless_delete = 1, tokenize = 'trigram'
    );
    INSERT INTO audit_open_fts (rowid, label, app_id, hubspot_id, message, category)
        SELECT id, label, app_id, hubspot_id, message, category FROM audit WHERE open = 1;
    CREATE TRIGGER audit_open_fts_insert AFTER INSERT ON audit WHEN new.open = 1 BEGIN
        INSERT INTO audit_open_fts (rowid, label, app_id, hubspot_id, message, category)
        VALUES (new.id, new.label, new.app_id, new.hubspot_id, new.message, new.category);
    END;
    CREATE TRIGGER audit_open_fts_delete AFTER DELETE ON audit WHEN old.open = 1 BEGIN
        DELETE FROM audit_open_fts WHERE rowid = old.id;
    END;
    CREATE TRIGGER audit_open_fts_update
    AFTER UPDATE OF open, label, app_id, hubspot_id, message, category ON audit
    WHEN old.open = 1 OR new.open = 1 BEGIN
        DELETE FROM audit_open_fts WHERE rowid = old.id AND old.open = 1;
        INSERT INTO audit_open_fts (rowid, label, app_id, hubspot_id, message, category)
        SELECT new.id, new.label, new.app_id, new.hubspot_id, new.message, new.category
        WHERE new.open = 1;
    END;
    CREATE INDEX audit_open_by_id ON audit (id) WHERE open = 1;
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Brings the database up to [`SCHEMA_VERSION`]; refuses a newer one.
pub fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let current: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .context("reading the state database's schema version")? as usize;
    if current > SCHEMA_VERSION {
        bail!(
            "the state database has schema version {current}, newer than this hubsync ({SCHEMA_VERSION}); \
             upgrade hubsync or point it at another data folder"
        );
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current) {
        let version = i + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(sql)
            .with_context(|| format!("applying state schema migration {version}"))?;
        tx.pragma_update(None, "user_version", version as i64)?;
        tx.commit()?;
    }
    Ok(())
}
