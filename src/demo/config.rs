//! The demo's config file: written into its data folder from
//! `fixtures/demo.toml` (with comments that explain each part) and run
//! from, so the editing workflow can be tried on a real file. A file kept
//! by `--data-dir` is used again as it was edited; only what changes every
//! run (the simulator's address, the app database: a SQLite path, or a
//! PostgreSQL url and the fresh schema the table is in) is rewritten, in
//! place, leaving comments and edits alone.

use crate::appdb::postgres::Settings;
use crate::config::Config;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::Duration;

const TEMPLATE: &str = include_str!("../../fixtures/demo.toml");

/// The file's name in the data folder.
pub const FILE: &str = "hubsync.toml";

/// Where this run's app database is.
pub enum DemoApp<'a> {
    Sqlite(&'a Path),
    /// The server, and the schema this run created the table in.
    Postgres(&'a Settings, &'a str),
}

/// Writes (or updates) the demo's config in `dir`; its path and meaning.
pub fn write(
    dir: &Path,
    base_url: &str,
    app_db: DemoApp<'_>,
    poll_interval: Duration,
) -> anyhow::Result<(PathBuf, Config)> {
    let path = dir.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(_) => TEMPLATE.replacen(
            "poll_interval_secs = 2",
            &format!("poll_interval_secs = {}", poll_interval.as_secs().max(1)),
            1,
        ),
    };
    let mut doc: toml_edit::DocumentMut = text.parse().with_context(|| {
        format!(
            "{} is not TOML: fix it, or delete it for a fresh one",
            path.display()
        )
    })?;
    doc["hubspot"]["base_url"] = toml_edit::value(base_url);
    point_at(&mut doc, app_db);
    let text = doc.to_string();
    std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
    let cfg = Config::parse(&path, &text).map_err(|e| {
        anyhow::anyhow!("{e} (fix the demo's config, or delete it for a fresh one)")
    })?;
    Ok((path, cfg))
}

/// Points `[app]` and the contacts table at this run's app database. Keys
/// of the other backend go (a folder kept from a SQLite demo may be run on
/// PostgreSQL next); the table keeps its name, only its schema changes.
fn point_at(doc: &mut toml_edit::DocumentMut, app_db: DemoApp<'_>) {
    let table = doc
        .get("objects")
        .and_then(|o| o.get("contacts"))
        .and_then(|c| c.get("table"))
        .and_then(|t| t.as_str())
        .unwrap_or("contacts")
        .to_string();
    let bare = table.rsplit('.').next().unwrap_or("contacts").to_string();
    let app = doc["app"].as_table_like_mut();
    let new_table = match app_db {
        DemoApp::Sqlite(path) => {
            if let Some(app) = app {
                app.remove("url");
                app.remove("password_env");
                app.insert("database", toml_edit::value(path.display().to_string()));
            }
            bare
        }
        DemoApp::Postgres(s, schema) => {
            if let Some(app) = app {
                app.remove("database");
                app.insert("url", toml_edit::value(s.config_url()));
                match &s.password_env {
                    Some(v) => {
                        app.insert("password_env", toml_edit::value(v.as_str()));
                    }
                    None => {
                        app.remove("password_env");
                    }
                }
            }
            format!("{schema}.{bare}")
        }
    };
    if table != new_table {
        doc["objects"]["contacts"]["table"] = toml_edit::value(new_table);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pointed(text: &str, app_db: DemoApp<'_>) -> String {
        let mut doc: toml_edit::DocumentMut = text.parse().unwrap();
        point_at(&mut doc, app_db);
        doc.to_string()
    }

    #[test]
    fn on_postgres_the_app_section_names_the_server_and_the_table_this_runs_schema() {
        let pg = Settings::parse(
            "postgres://demo@127.0.0.1:5432/db?sslmode=disable",
            Some("PGPASSWORD".into()),
        )
        .unwrap();
        let text = pointed(TEMPLATE, DemoApp::Postgres(&pg, "hubsync_demo_1234abcd"));
        let cfg = Config::parse(Path::new("hubsync.toml"), &text).unwrap();
        assert_eq!(cfg.app_database, crate::appdb::Target::Postgres(pg));
        assert_eq!(
            cfg.objects[0].mapping.table,
            "hubsync_demo_1234abcd.contacts"
        );
        assert!(
            text.contains("# Each field: app column ↔ HubSpot property."),
            "comments kept"
        );
    }

    #[test]
    fn a_file_kept_from_a_postgres_demo_runs_on_sqlite_next() {
        let pg = Settings::parse("postgres://demo@h/db", None).unwrap();
        let on_pg = pointed(TEMPLATE, DemoApp::Postgres(&pg, "hubsync_demo_1234abcd"));
        let text = pointed(&on_pg, DemoApp::Sqlite(Path::new("/tmp/d/app.db")));
        let cfg = Config::parse(Path::new("hubsync.toml"), &text).unwrap();
        assert_eq!(
            cfg.app_database,
            crate::appdb::Target::Sqlite("/tmp/d/app.db".into())
        );
        assert_eq!(cfg.objects[0].mapping.table, "contacts");
        assert!(!text.contains("\nurl = "), "{text}");
    }
}
