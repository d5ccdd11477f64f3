//! The contract between the engine and anything that watches it.
//!
//! The engine never touches the terminal: it publishes a [`Snapshot`] through a
//! `tokio::sync::watch` channel whenever something an operator would care about
//! changes, and takes [`Command`]s from an `mpsc` channel. The console (and
//! `hubsync status --json`) only read snapshots; they never query the stores
//! themselves, so a slow SQL read can never freeze a frame.

use crate::model::{Direction, ObjectKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Everything the console draws, as of `taken_at`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub taken_at: Option<DateTime<Utc>>,
    /// The engine that sent this (absent when read from the state alone).
    #[serde(default)]
    pub engine: Option<EngineInfo>,
    /// One entry per connected system: HubSpot first, then the app database.
    pub connections: Vec<ConnectionStatus>,
    /// Record counts per synced object.
    pub counts: Vec<ObjectCounts>,
    /// The job being worked on now, if any.
    pub running: Option<JobView>,
    /// Jobs waiting to run, oldest first.
    pub queued: Vec<JobView>,
    /// Finished jobs, newest first (bounded).
    pub recent: Vec<JobView>,
    /// The newest FAILED audit entries that are still open (bounded; see
    /// `failed_total` for how many there are in all).
    pub failed: Vec<AuditView>,
    pub failed_total: u64,
    /// The listed FAILED entries are those older than this audit id
    /// (`None`: the newest), and this many open ones are newer than them.
    pub failed_before: Option<i64>,
    pub failed_newer: u64,
    /// With a filter: how many open FAILED entries it matches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_matches: Option<FilterMatches>,
    /// Moves whenever an open FAILED entry is opened, closed or dismissed:
    /// a view of them reads again when it moves, not on a timer.
    #[serde(default)]
    pub failed_version: u64,
    /// The running job's pace, once it has handled a record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<JobProgress>,
}

/// How many open FAILED entries a filter matches, as far as the store
/// went to know: counting a common text over a million entries on every
/// keystroke would cost more than the page itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterMatches {
    /// Matches counted; all of them unless `more`.
    pub count: u64,
    /// Counting stopped at `count`: there are more.
    #[serde(default)]
    pub more: bool,
    /// A text too short for the index is looked for among a window of the
    /// newest entries at a time: this page searched the entries newer than
    /// this audit id, and the next one starts below it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub searched_to: Option<i64>,
}

/// How fast the running job goes and when it should be done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobProgress {
    pub job_id: i64,
    /// Records handled per second since it started.
    pub rate_per_s: f64,
    /// Seconds left at that rate, when its total is known.
    pub eta_s: Option<u64>,
}

impl JobProgress {
    /// The pace of a running job as of `now`; `None` before its first record.
    pub fn of(job: &JobView, now: DateTime<Utc>) -> Option<JobProgress> {
        let started = job.started_at?;
        let secs = (now - started).num_milliseconds() as f64 / 1000.0;
        if job.done == 0 || secs <= 0.0 {
            return None;
        }
        let rate = job.done as f64 / secs;
        let left = job.total.saturating_sub(job.done);
        Some(JobProgress {
            job_id: job.id,
            rate_per_s: rate,
            eta_s: (job.total > 0).then(|| (left as f64 / rate).ceil() as u64),
        })
    }
}

/// Which engine a console is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineInfo {
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    /// hubsync's version.
    pub version: String,
    /// The config file it runs on.
    pub config: String,
    /// Consoles attached now (this one included).
    pub consoles: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnState {
    /// Not yet tried.
    Connecting,
    Connected,
    /// The credentials were refused (401/403).
    AuthError,
    /// The last call was answered with 429, or the budget is exhausted.
    RateLimited,
    /// Unreachable or answering 5xx.
    Down,
}

impl ConnState {
    /// A word to show beside the state glyph: status is never colour alone.
    pub fn label(self) -> &'static str {
        match self {
            ConnState::Connecting => "connecting",
            ConnState::Connected => "connected",
            ConnState::AuthError => "auth error",
            ConnState::RateLimited => "rate-limited",
            ConnState::Down => "down",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionStatus {
    /// "HubSpot" or "App DB".
    pub name: String,
    /// Where it points: the base URL or the database file (never a secret).
    pub target: String,
    pub state: ConnState,
    /// Latency of the last completed call, in milliseconds.
    pub latency_ms: Option<u64>,
    /// Rate-limit budget left in the current window, from HubSpot's headers.
    pub budget: Option<RateBudget>,
    /// The last error, already free of secrets.
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateBudget {
    pub remaining: u64,
    pub max: u64,
    pub interval_ms: u64,
    /// The daily budget, when the portal reports it (private-app tokens only).
    pub daily_remaining: Option<u64>,
    pub daily_max: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectCounts {
    pub object: ObjectKind,
    /// Records in HubSpot; `None` until the first count has been read.
    pub hubspot: Option<u64>,
    pub app: Option<u64>,
    pub linked: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Retrying,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Retrying => "retrying",
            JobState::Failed => "FAILED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(JobState::Queued),
            "running" => Some(JobState::Running),
            "succeeded" => Some(JobState::Succeeded),
            "retrying" => Some(JobState::Retrying),
            "FAILED" => Some(JobState::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// A scheduled incremental pass over one object.
    Poll,
    /// The first pass over a whole object.
    Backfill,
    /// An operator asked to sync one record again.
    RetryRecord,
    /// An operator asked for a pass now.
    SyncNow,
    /// A walk over every link, to find records deleted or merged.
    Scan,
    /// A webhook said one HubSpot record changed.
    Webhook,
    /// An operator retried a class of FAILED entries or a selection of
    /// them: one job, its records stored with it.
    RetryRecords,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Poll => "poll",
            JobKind::Backfill => "backfill",
            JobKind::RetryRecord => "retry",
            JobKind::SyncNow => "sync now",
            JobKind::Scan => "scan",
            JobKind::Webhook => "webhook",
            JobKind::RetryRecords => "retry records",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "poll" => Some(JobKind::Poll),
            "backfill" => Some(JobKind::Backfill),
            "retry" => Some(JobKind::RetryRecord),
            "sync now" => Some(JobKind::SyncNow),
            "scan" => Some(JobKind::Scan),
            "webhook" => Some(JobKind::Webhook),
            "retry records" => Some(JobKind::RetryRecords),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    pub id: i64,
    pub kind: JobKind,
    pub object: ObjectKind,
    pub direction: Direction,
    pub state: JobState,
    /// Records handled so far and in all (total is 0 until known).
    pub done: u64,
    pub total: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub queued_at: DateTime<Utc>,
    /// When a queued or retrying job becomes due.
    pub run_after: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why the job failed, if it did.
    pub error: Option<String>,
    /// The OS user of the operator who asked for it, if one did.
    pub requested_by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Update,
    Link,
    Unlink,
    Skip,
    /// An operator changed an app-side value by hand (`set_app_field`).
    Edited,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Create => "create",
            AuditAction::Update => "update",
            AuditAction::Link => "link",
            AuditAction::Unlink => "unlink",
            AuditAction::Skip => "skip",
            AuditAction::Edited => "edited",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "create" => Some(AuditAction::Create),
            "update" => Some(AuditAction::Update),
            "link" => Some(AuditAction::Link),
            "unlink" => Some(AuditAction::Unlink),
            "skip" => Some(AuditAction::Skip),
            "edited" => Some(AuditAction::Edited),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AuditStatus {
    Success,
    Failed,
    Skipped,
}

impl AuditStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditStatus::Success => "SUCCESS",
            AuditStatus::Failed => "FAILED",
            AuditStatus::Skipped => "SKIPPED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "SUCCESS" => Some(AuditStatus::Success),
            "FAILED" => Some(AuditStatus::Failed),
            "SKIPPED" => Some(AuditStatus::Skipped),
            _ => None,
        }
    }
}

/// One audit entry as the console shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub job_id: i64,
    pub object: ObjectKind,
    pub direction: Direction,
    pub app_id: String,
    pub hubspot_id: Option<String>,
    pub action: AuditAction,
    pub status: AuditStatus,
    /// HubSpot's error category, e.g. `VALIDATION_ERROR`.
    pub category: Option<String>,
    /// HubSpot's message, verbatim (it is data: the console escapes it).
    pub message: Option<String>,
    pub attempt: u32,
    /// A short label for the record, e.g. its email.
    pub label: String,
    /// The OS user of the operator whose action caused this attempt, if any.
    pub operator: Option<String>,
}

/// One attempt (or edit) in a record's story: the entry, and the fields
/// it wrote (for an edit: the column's old and new value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptView {
    #[serde(flatten)]
    pub entry: AuditView,
    /// Field → value written; `None` when nothing was written.
    #[serde(default)]
    pub diff: Option<std::collections::BTreeMap<String, String>>,
}

/// What an operator asks the engine to do (through the control socket).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", content = "params", rename_all = "snake_case")]
pub enum Command {
    /// Retry the one record a FAILED audit entry is about, now.
    Retry { audit_id: i64 },
    /// Retry every record whose open FAILED entry has this category, as
    /// one job (a class retry of the whole category).
    RetryCategory { category: String },
    /// Retry every record whose open FAILED entry is of this error class,
    /// as one job.
    RetryClass { class: crate::triage::ErrorClass },
    /// Retry the records these audit entries are about, as one job.
    RetrySelection { audit_ids: Vec<i64> },
    /// Close a FAILED entry without retrying it (the operator dealt with it).
    Dismiss { audit_id: i64 },
    /// Run a pass over one object now instead of at its next poll.
    SyncNow { object: ObjectKind },
}
