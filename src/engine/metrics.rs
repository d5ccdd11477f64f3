//! The plots' data, kept by the engine so a console attaching later sees
//! the last hour: per minute, the records synced (per object and
//! direction), the FAILED outcomes, and the rate budget used (the busiest
//! moment of the 10-second window, and the day's calls). A bounded ring in
//! memory, fed by every audit entry and by a budget sample every few
//! seconds. When the engine starts, the hour's synced and FAILED counts
//! are read back from the audit log ([`Metrics::restore`]); the budget's
//! samples are not kept anywhere, so its line starts at the start.

use crate::model::{Direction, ObjectKind};
use crate::status::{AuditStatus, RateBudget};
use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Mutex;

/// Minutes kept.
pub const MINUTES: usize = 60;

/// Records synced one way in a minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    pub object: ObjectKind,
    pub direction: Direction,
    pub records: u64,
}

/// One minute of the plots.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Minute {
    /// The minute's start.
    pub at: DateTime<Utc>,
    /// Records synced (SUCCESS), per object and direction.
    pub synced: Vec<Flow>,
    /// FAILED outcomes.
    pub errors: u64,
    /// The most of the 10-second window used at any sample in the minute,
    /// and its size; `None` before HubSpot has answered.
    pub window_used: Option<u64>,
    pub window_max: Option<u64>,
    /// The day's calls used at the minute's last sample, and the day's
    /// budget (private-app tokens only).
    pub daily_used: Option<u64>,
    pub daily_max: Option<u64>,
}

#[derive(Default)]
pub struct Metrics {
    minutes: Mutex<VecDeque<Minute>>,
}

fn minute_of(t: DateTime<Utc>) -> DateTime<Utc> {
    let s = t.timestamp();
    Utc.timestamp_opt(s - s.rem_euclid(60), 0)
        .single()
        .unwrap_or(t)
}

impl Metrics {
    /// The bucket of `now`'s minute, made (and the oldest dropped) as needed.
    fn with_minute(&self, now: DateTime<Utc>, f: impl FnOnce(&mut Minute)) {
        let at = minute_of(now);
        let mut m = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        if m.back().is_none_or(|b| b.at < at) {
            m.push_back(Minute {
                at,
                ..Default::default()
            });
            while m.len() > MINUTES {
                m.pop_front();
            }
        }
        // A clock stepped back counts in the newest minute.
        if let Some(b) = m.back_mut() {
            f(b);
        }
    }

    /// One audit entry's outcome.
    pub fn count(
        &self,
        object: ObjectKind,
        direction: Direction,
        status: AuditStatus,
        now: DateTime<Utc>,
    ) {
        self.with_minute(now, |b| match status {
            AuditStatus::Success => {
                match b
                    .synced
                    .iter_mut()
                    .find(|f| f.object == object && f.direction == direction)
                {
                    Some(f) => f.records += 1,
                    None => b.synced.push(Flow {
                        object,
                        direction,
                        records: 1,
                    }),
                }
            }
            AuditStatus::Failed => b.errors += 1,
            AuditStatus::Skipped => {}
        });
    }

    /// Adds outcomes counted before this engine started (read back from
    /// the audit log) to their minutes; minutes older than the ring's hour
    /// are left out. Entries counted live since the start are not in
    /// `earlier`, so nothing is counted twice.
    pub fn restore(&self, earlier: &[crate::store::MinuteOutcomes], now: DateTime<Utc>) {
        let oldest = minute_of(now) - chrono::Duration::minutes(MINUTES as i64 - 1);
        let mut m = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        for o in earlier.iter().filter(|o| o.at >= oldest) {
            let at = minute_of(o.at);
            let i = match m.iter().position(|b| b.at >= at) {
                Some(i) if m[i].at == at => i,
                Some(i) => {
                    m.insert(
                        i,
                        Minute {
                            at,
                            ..Default::default()
                        },
                    );
                    i
                }
                None => {
                    m.push_back(Minute {
                        at,
                        ..Default::default()
                    });
                    m.len() - 1
                }
            };
            let b = &mut m[i];
            match o.status {
                AuditStatus::Success => match b
                    .synced
                    .iter_mut()
                    .find(|f| f.object == o.object && f.direction == o.direction)
                {
                    Some(f) => f.records += o.count,
                    None => b.synced.push(Flow {
                        object: o.object,
                        direction: o.direction,
                        records: o.count,
                    }),
                },
                AuditStatus::Failed => b.errors += o.count,
                AuditStatus::Skipped => {}
            }
        }
        while m.len() > MINUTES {
            m.pop_front();
        }
    }

    /// What HubSpot's last answer said of the budget.
    pub fn sample_budget(&self, budget: &RateBudget, now: DateTime<Utc>) {
        self.with_minute(now, |b| {
            let used = budget.max.saturating_sub(budget.remaining);
            b.window_used = Some(b.window_used.map_or(used, |u| u.max(used)));
            b.window_max = Some(budget.max);
            if let (Some(left), Some(max)) = (budget.daily_remaining, budget.daily_max) {
                b.daily_used = Some(max.saturating_sub(left));
                b.daily_max = Some(max);
            }
        });
    }

    /// The last [`MINUTES`] minutes up to `now`'s, oldest first, one entry
    /// per minute (empty ones where nothing happened or the engine was not
    /// running yet).
    pub fn last_hour(&self, now: DateTime<Utc>) -> Vec<Minute> {
        let end = minute_of(now);
        let m = self.minutes.lock().unwrap_or_else(|p| p.into_inner());
        (0..MINUTES as i64)
            .rev()
            .map(|back| {
                let at = end - chrono::Duration::minutes(back);
                m.iter().find(|b| b.at == at).cloned().unwrap_or(Minute {
                    at,
                    ..Default::default()
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn outcomes_count_in_their_minute_per_object_and_direction() {
        let m = Metrics::default();
        let now = t("2026-12-01T12:00:30Z");
        for _ in 0..3 {
            m.count(
                ObjectKind::Contacts,
                Direction::ToHubSpot,
                AuditStatus::Success,
                now,
            );
        }
        m.count(
            ObjectKind::Contacts,
            Direction::ToApp,
            AuditStatus::Success,
            now,
        );
        m.count(
            ObjectKind::Contacts,
            Direction::ToHubSpot,
            AuditStatus::Failed,
            now,
        );
        m.count(
            ObjectKind::Contacts,
            Direction::ToHubSpot,
            AuditStatus::Skipped,
            now,
        );
        let later = t("2026-12-01T12:01:05Z");
        m.count(
            ObjectKind::Companies,
            Direction::ToHubSpot,
            AuditStatus::Success,
            later,
        );
        let hour = m.last_hour(later);
        assert_eq!(hour.len(), MINUTES);
        let noon = &hour[MINUTES - 2];
        assert_eq!(noon.at, t("2026-12-01T12:00:00Z"));
        assert_eq!(
            noon.synced,
            vec![
                Flow {
                    object: ObjectKind::Contacts,
                    direction: Direction::ToHubSpot,
                    records: 3
                },
                Flow {
                    object: ObjectKind::Contacts,
                    direction: Direction::ToApp,
                    records: 1
                },
            ]
        );
        assert_eq!(noon.errors, 1);
        assert_eq!(hour[MINUTES - 1].synced[0].object, ObjectKind::Companies);
        assert!(
            hour[..MINUTES - 2]
                .iter()
                .all(|b| b.synced.is_empty() && b.errors == 0)
        );
    }

    #[test]
    fn the_budget_keeps_the_busiest_window_and_the_latest_daily_figure() {
        let m = Metrics::default();
        let budget = |remaining, daily_remaining| RateBudget {
            remaining,
            max: 100,
            interval_ms: 10_000,
            daily_remaining: Some(daily_remaining),
            daily_max: Some(250_000),
        };
        m.sample_budget(&budget(40, 1000), t("2026-12-01T12:00:01Z"));
        m.sample_budget(&budget(90, 900), t("2026-12-01T12:00:40Z"));
        let b = m.last_hour(t("2026-12-01T12:00:59Z")).pop().unwrap();
        assert_eq!((b.window_used, b.window_max), (Some(60), Some(100)));
        assert_eq!((b.daily_used, b.daily_max), (Some(249_100), Some(250_000)));
    }

    #[test]
    fn outcomes_read_back_join_the_minutes_counted_since_the_start() {
        let m = Metrics::default();
        m.count(
            ObjectKind::Contacts,
            Direction::ToHubSpot,
            AuditStatus::Success,
            t("2026-12-01T10:30:10Z"),
        );
        let earlier = |at: &str, status, count| crate::store::MinuteOutcomes {
            at: t(at),
            object: ObjectKind::Contacts,
            direction: Direction::ToHubSpot,
            status,
            count,
        };
        m.restore(
            &[
                // Before the hour: left out.
                earlier("2026-12-01T09:00:00Z", AuditStatus::Success, 99),
                earlier("2026-12-01T10:00:00Z", AuditStatus::Failed, 2),
                earlier("2026-12-01T10:30:00Z", AuditStatus::Success, 5),
            ],
            t("2026-12-01T10:30:20Z"),
        );
        let hour = m.last_hour(t("2026-12-01T10:30:20Z"));
        assert_eq!(hour.len(), MINUTES);
        let at = |s: &str| hour.iter().find(|b| b.at == t(s)).unwrap().clone();
        assert_eq!(at("2026-12-01T10:00:00Z").errors, 2);
        assert_eq!(at("2026-12-01T10:30:00Z").synced[0].records, 6);
        let all: u64 = hour.iter().flat_map(|b| &b.synced).map(|f| f.records).sum();
        assert_eq!(all, 6, "the 09:00 minute is outside the hour");
    }

    #[test]
    fn only_the_last_hour_is_kept() {
        let m = Metrics::default();
        let start = t("2026-12-01T10:00:00Z");
        for i in 0..90 {
            let at = start + chrono::Duration::minutes(i);
            m.count(
                ObjectKind::Contacts,
                Direction::ToApp,
                AuditStatus::Failed,
                at,
            );
        }
        let now = start + chrono::Duration::minutes(89);
        let hour = m.last_hour(now);
        assert!(hour.iter().all(|b| b.errors == 1), "{hour:?}");
        assert_eq!(hour[0].at, start + chrono::Duration::minutes(30));
        assert_eq!(m.minutes.lock().unwrap().len(), MINUTES);
    }
}
