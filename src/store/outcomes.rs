//! The audit log's outcomes per minute, read back for the plots when the
//! engine starts, so a restart does not begin an empty hour: the metrics
//! ring lives in memory, but every outcome it counts is an audit entry.

use super::{Store, parse_ts};
use crate::model::{Direction, ObjectKind};
use crate::status::AuditStatus;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Outcomes of one object and direction in one minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinuteOutcomes {
    /// The minute's start.
    pub at: DateTime<Utc>,
    pub object: ObjectKind,
    pub direction: Direction,
    pub status: AuditStatus,
    pub count: u64,
}

/// At most this many entries are read back: at HubSpot's ceiling an hour
/// holds a few million, and the oldest minutes of a plot are worth less
/// than a start that keeps the store's thread busy for seconds.
pub const READ_BACK_CAP: usize = 500_000;

impl Store {
    /// Entries written from `since` to before `until`, counted per minute,
    /// object, direction and status. Read newest first along the audit
    /// log's id (entries are written in time order), so only that window
    /// is read, however long the log.
    pub async fn outcomes_between(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> anyhow::Result<Vec<MinuteOutcomes>> {
        self.view(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT at, object, direction, status FROM audit ORDER BY id DESC",
            )?;
            let mut rows = stmt.query([])?;
            let mut counts: BTreeMap<(i64, String, String, String), u64> = BTreeMap::new();
            let mut read = 0;
            while let Some(r) = rows.next()? {
                let at = parse_ts(&r.get::<_, String>(0)?);
                if at < since || read >= READ_BACK_CAP {
                    break;
                }
                read += 1;
                if at >= until {
                    continue;
                }
                let minute = at.timestamp() - at.timestamp().rem_euclid(60);
                *counts
                    .entry((minute, r.get(1)?, r.get(2)?, r.get(3)?))
                    .or_default() += 1;
            }
            Ok(counts
                .into_iter()
                .filter_map(|((minute, object, direction, status), count)| {
                    Some(MinuteOutcomes {
                        at: DateTime::from_timestamp(minute, 0)?,
                        object: ObjectKind::parse(&object)?,
                        direction: Direction::parse(&direction)?,
                        status: AuditStatus::parse(&status)?,
                        count,
                    })
                })
                .collect())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::AuditAction;
    use crate::store::{NewAudit, ts};

    fn entry(status: AuditStatus) -> NewAudit {
        NewAudit {
            job_id: 1,
            object: ObjectKind::Contacts,
            direction: Direction::ToHubSpot,
            app_id: "1".into(),
            hubspot_id: None,
            action: AuditAction::Update,
            status,
            category: None,
            message: None,
            diff: None,
            label: "a@example.com".into(),
        }
    }

    #[tokio::test]
    async fn the_window_is_counted_per_minute_and_status_and_nothing_outside_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let store = Store::open(&path).await.unwrap();
        let now = Utc::now();
        // Written earlier, as a previous engine would have: two hours ago
        // (outside the window) and ten minutes ago.
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            for (ago, status) in [(120, "SUCCESS"), (10, "SUCCESS"), (10, "FAILED")] {
                c.execute(
                    "INSERT INTO audit (at, job_id, object, direction, app_id, action, status, attempt, label, open)
                     VALUES (?1, 1, 'contacts', 'to_hubspot', '9', 'update', ?2, 1, 'b', 0)",
                    rusqlite::params![ts(now - chrono::Duration::minutes(ago)), status],
                )
                .unwrap();
            }
        }
        for _ in 0..3 {
            store.record(&entry(AuditStatus::Success)).await.unwrap();
        }
        let since = now - chrono::Duration::hours(1);
        let until = now - chrono::Duration::minutes(1);
        let got = store.outcomes_between(since, until).await.unwrap();
        let ten_ago = now - chrono::Duration::minutes(10);
        let minute =
            DateTime::from_timestamp(ten_ago.timestamp() - ten_ago.timestamp().rem_euclid(60), 0)
                .unwrap();
        assert_eq!(
            got.iter()
                .map(|o| (o.at, o.status, o.count))
                .collect::<Vec<_>>(),
            vec![
                (minute, AuditStatus::Failed, 1),
                (minute, AuditStatus::Success, 1)
            ],
            "the entries written since `until` are counted live, not here"
        );
    }
}
