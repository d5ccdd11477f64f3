//! How far each change feed has read, per object and direction.

use super::{Store, ts};
use crate::model::{Direction, ObjectKind};
use chrono::Utc;
use rusqlite::{OptionalExtension, params};

impl Store {
    pub async fn cursor(
        &self,
        object: ObjectKind,
        direction: Direction,
    ) -> anyhow::Result<Option<String>> {
        self.query(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT value FROM cursors WHERE object = ?1 AND direction = ?2",
                    params![object.api_name(), direction.as_str()],
                    |r| r.get(0),
                )
                .optional()?)
        })
        .await
    }

    pub async fn set_cursor(
        &self,
        object: ObjectKind,
        direction: Direction,
        value: &str,
    ) -> anyhow::Result<()> {
        let value = value.to_string();
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO cursors (object, direction, value, updated_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (object, direction) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                params![object.api_name(), direction.as_str(), value, ts(Utc::now())],
            )?;
            Ok(())
        })
        .await
    }
}
