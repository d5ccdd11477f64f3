//! The configs applied while the engine ran: each one's time, operator,
//! text and difference from the one before, newest first.

use super::{Store, parse_ts, ts};
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

/// One applied config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigVersion {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// The OS user who applied it (None: not through a console).
    pub operator: Option<String>,
    pub path: String,
    pub hash: String,
    /// Left out of lists: `config_get` has it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// A unified diff from the file it replaced.
    pub diff: String,
}

fn version(r: &Row<'_>) -> rusqlite::Result<ConfigVersion> {
    Ok(ConfigVersion {
        id: r.get(0)?,
        at: parse_ts(&r.get::<_, String>(1)?),
        operator: r.get(2)?,
        path: r.get(3)?,
        hash: r.get(4)?,
        text: r.get(5)?,
        diff: r.get(6)?,
    })
}

impl Store {
    /// Keeps an applied config; its id.
    pub async fn add_config_version(
        &self,
        operator: Option<&str>,
        path: &str,
        hash: &str,
        text: &str,
        diff: &str,
    ) -> anyhow::Result<i64> {
        let args = (
            operator.map(str::to_string),
            path.to_string(),
            hash.to_string(),
            text.to_string(),
            diff.to_string(),
        );
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO config_history (at, operator, path, hash, text, diff) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![ts(Utc::now()), args.0, args.1, args.2, args.3, args.4],
            )?;
            Ok(conn.last_insert_rowid())
        })
        .await
    }

    /// The newest `limit` applied configs, without their text.
    pub async fn config_versions(&self, limit: usize) -> anyhow::Result<Vec<ConfigVersion>> {
        self.query(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, at, operator, path, hash, '', diff FROM config_history ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = stmt.query_map(params![limit as i64], version)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// One applied config, with its text.
    pub async fn config_version(&self, id: i64) -> anyhow::Result<Option<ConfigVersion>> {
        self.query(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT id, at, operator, path, hash, text, diff FROM config_history WHERE id = ?1",
                    params![id],
                    version,
                )
                .optional()?)
        })
        .await
    }
}
