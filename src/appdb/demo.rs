//! The demo's app database: a `contacts` table like a typical product's,
//! filled from `fixtures/app_contacts.json`.
//!
//! A trigger stamps `updated_at` whenever a synced column changes, as an
//! application's ORM would, so an operator who fixes a row by hand with
//! `sqlite3` sees it picked up by the next poll.

use anyhow::Context;
use rusqlite::{Connection, params};
use serde::Deserialize;
use std::path::Path;

const SCHEMA: &str = r#"
CREATE TABLE contacts (
    id          INTEGER PRIMARY KEY,
    email       TEXT,
    first_name  TEXT,
    last_name   TEXT,
    phone       TEXT,
    company     TEXT,
    job_title   TEXT,
    hubspot_id  TEXT,
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX contacts_changes ON contacts (updated_at, id);
CREATE TRIGGER contacts_touch
AFTER UPDATE OF email, first_name, last_name, phone, company, job_title ON contacts
WHEN NEW.updated_at = OLD.updated_at
BEGIN
    UPDATE contacts SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = NEW.id;
END;
"#;

/// One row of `fixtures/app_contacts.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureContact {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub job_title: Option<String>,
}

pub fn load_fixture(path: &Path) -> anyhow::Result<Vec<FixtureContact>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading app fixture {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "app fixture {}: not a JSON array of contacts",
            path.display()
        )
    })
}

/// Creates a new app database at `path` holding `contacts`. Refuses to
/// overwrite an existing file: it may be somebody's real data.
pub fn create(path: &Path, contacts: &[FixtureContact]) -> anyhow::Result<()> {
    if path.exists() {
        anyhow::bail!(
            "{} already exists; the demo only creates new app databases",
            path.display()
        );
    }
    crate::store::create_private_file(path)?;
    let mut conn = Connection::open(path)
        .with_context(|| format!("creating app database {}", path.display()))?;
    conn.execute_batch(SCHEMA)?;
    // The indexes `hubsync check` asks for, as an app would add them.
    conn.execute_batch(&format!(
        "CREATE INDEX contacts_hubspot_id ON contacts (hubspot_id);
         CREATE INDEX contacts_email_key ON contacts ({});",
        super::sqlite::key::key_expr("`email`")
    ))?;
    let tx = conn.transaction()?;
    {
        // Spread the rows' timestamps over the past hour, oldest first, so the
        // first pass reads them in a realistic order.
        let mut stmt = tx.prepare(
            "INSERT INTO contacts (email, first_name, last_name, phone, company, job_title, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?7))",
        )?;
        let n = contacts.len() as i64;
        for (i, c) in contacts.iter().enumerate() {
            let offset = format!("-{} seconds", (n - i as i64) * 3600 / n.max(1));
            stmt.execute(params![
                c.email,
                c.first_name,
                c.last_name,
                c.phone,
                c.company,
                c.job_title,
                offset
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The demo's simulated app users: they write to the app database through
/// a connection of their own, as the app's code would, never through
/// hubsync's.
pub struct Users {
    // Behind a mutex so the users' task can hold them across awaits.
    conn: std::sync::Mutex<Connection>,
}

impl Users {
    pub fn open(path: &Path) -> anyhow::Result<Users> {
        let conn = Connection::open(path)
            .with_context(|| format!("opening the demo app database {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Users {
            conn: std::sync::Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Gives a random linked contact a new job title.
    pub fn retitle_someone(&self, title: &str) -> anyhow::Result<()> {
        self.conn().execute(
            "UPDATE contacts SET job_title = ?1 WHERE id = (SELECT id FROM contacts WHERE hubspot_id IS NOT NULL ORDER BY random() LIMIT 1)",
            params![title],
        )?;
        Ok(())
    }

    /// The HubSpot id of a random linked contact.
    pub fn someone_linked(&self) -> anyhow::Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn()
            .query_row(
                "SELECT hubspot_id FROM contacts WHERE hubspot_id IS NOT NULL ORDER BY random() LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn sign_up(&self, email: &str, last_name: &str) -> anyhow::Result<()> {
        self.conn().execute(
            "INSERT INTO contacts (email, first_name, last_name, company) VALUES (?1, 'New', ?2, 'Signup Ltd')",
            params![email, last_name],
        )?;
        Ok(())
    }
}

/// The demo's app users on either database.
pub enum AppUsers {
    Sqlite(Users),
    Postgres(super::postgres::demo::Users),
}

impl AppUsers {
    pub async fn retitle_someone(&self, title: &str) -> anyhow::Result<()> {
        match self {
            AppUsers::Sqlite(u) => u.retitle_someone(title),
            AppUsers::Postgres(u) => u.retitle_someone(title).await,
        }
    }

    pub async fn someone_linked(&self) -> anyhow::Result<Option<String>> {
        match self {
            AppUsers::Sqlite(u) => u.someone_linked(),
            AppUsers::Postgres(u) => u.someone_linked().await,
        }
    }

    pub async fn sign_up(&self, email: &str, last_name: &str) -> anyhow::Result<()> {
        match self {
            AppUsers::Sqlite(u) => u.sign_up(email, last_name),
            AppUsers::Postgres(u) => u.sign_up(email, last_name).await,
        }
    }
}
