//! The engine's own state, in one SQLite file: which app record is linked to
//! which HubSpot record, how far each change feed has read, the job queue and
//! the audit log.
//!
//! Only the engine writes here, and only through one thread that owns the
//! writing connection ([`thread::DbThread`]): SQLite blocks, so no call runs
//! on a tokio worker. The engine's own reads (links, cursors, the queue) go
//! through that writer too, so they see its writes in order; what consoles
//! and snapshots read goes to separate read-only connections, so a slow view
//! never holds up a sync and a busy sync never freezes a console. Every
//! write bumps a change counter ([`Store::changes`]) that the snapshot
//! publisher waits on instead of polling.
//!
//! Everything is keyed by object so contacts, companies and deals never
//! collide. Timestamps are stored as RFC 3339 UTC text with milliseconds,
//! which sorts in time order.

mod audit;
mod config_history;
mod cursors;
mod jobs;
mod links;
mod migrations;
mod outcomes;
mod overview;
mod search;
mod thread;
mod triage;

pub use audit::NewAudit;
pub use config_history::ConfigVersion;
pub use jobs::JobRow;
pub use migrations::SCHEMA_VERSION;
pub use outcomes::{MinuteOutcomes, READ_BACK_CAP};
pub use overview::Overview;
pub use search::{AuditQuery, COUNT_CAP, FailedSearch, NewEdit, SHORT_WINDOW};
pub use triage::{ClassMatch, JobOutcome, JobRecord};

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use thread::DbThread;
use tokio::sync::watch;

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_ts(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// Creates a file readable by its owner only, if it does not exist yet:
/// state and config may hold record data that others on the host must not read.
pub fn create_private_file(path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    Ok(())
}

/// Creates the data folder readable by its owner only (it holds record
/// data), and tightens an existing one that others could read: a folder
/// made by hand or by an older hubsync with mode 0755 would expose the
/// state database's name, the log and the control sockets.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(dir).with_context(|| format!("reading {}", dir.display()))?;
        let full = meta.permissions().mode();
        let mode = full & 0o777;
        // A shared folder (/tmp, someone else's) is never chmod-ed: it is
        // refused, since the state in it could not be kept private.
        if mode & 0o077 != 0
            && (full & 0o1000 != 0 || meta.uid() != nix::unistd::geteuid().as_raw())
        {
            anyhow::bail!(
                "the data folder {} (mode {mode:o}) is shared with others and not ours to make private; choose a folder of your own with --data-dir",
                dir.display()
            );
        }
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o700))
                .with_context(|| format!("making {} private (mode {mode:o})", dir.display()))?;
            // A viewer group's traverse bit is given back by the control
            // server; anything else was an exposure worth a line in the log.
            if mode & 0o067 != 0 {
                tracing::warn!(dir = %dir.display(), mode = format!("{mode:o}"), "the data folder was open to others; made it owner-only");
            }
        }
    }
    Ok(())
}

/// Read connections for views and snapshots.
const READERS: usize = 2;

pub struct Store {
    writer: DbThread,
    readers: Vec<DbThread>,
    next_reader: AtomicUsize,
    path: PathBuf,
    changed: watch::Sender<u64>,
    /// Moves when an open FAILED entry opens, closes or is dismissed.
    failed_version: Arc<AtomicU64>,
    /// Told of every audit entry written (the engine's plots and counts).
    audit_observer: std::sync::OnceLock<AuditObserver>,
}

/// What hears of each audit entry once it is written.
pub type AuditObserver = Box<dyn Fn(&NewAudit) + Send + Sync>;

fn open_writer(path: &Path) -> anyhow::Result<Connection> {
    create_private_file(path)?;
    let mut conn = Connection::open(path)
        .with_context(|| format!("opening state database {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    migrations::migrate(&mut conn).with_context(|| format!("state database {}", path.display()))?;
    Ok(conn)
}

fn open_reader(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("opening state database {} to read", path.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

impl Store {
    /// Opens (creating if needed, owner-only) and migrates the state
    /// database, off the async workers.
    pub async fn open(path: &Path) -> anyhow::Result<Store> {
        let p = path.to_path_buf();
        tokio::task::spawn_blocking(move || Store::open_blocking(&p))
            .await
            .context("opening the state database")?
    }

    /// [`Store::open`] for code that is not async (benchmarks, tools).
    pub fn open_blocking(path: &Path) -> anyhow::Result<Store> {
        let writer = DbThread::spawn("state-writer", open_writer(path)?)?;
        let readers = (0..READERS)
            .map(|i| DbThread::spawn(&format!("state-reader-{i}"), open_reader(path)?))
            .collect::<anyhow::Result<_>>()?;
        Ok(Store {
            writer,
            readers,
            next_reader: AtomicUsize::new(0),
            path: path.to_path_buf(),
            changed: watch::Sender::new(0),
            failed_version: Arc::default(),
            audit_observer: std::sync::OnceLock::new(),
        })
    }

    /// Sets what hears of each audit entry written (once; later calls are
    /// ignored).
    pub fn observe_audit(&self, f: AuditObserver) {
        let _ = self.audit_observer.set(f);
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A counter that moves on every write: wait on it to learn that
    /// something an operator may be looking at changed.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// A counter that moves whenever the open FAILED entries change (not
    /// on other writes): views of them read again when it moves.
    pub fn failed_version(&self) -> u64 {
        self.failed_version.load(Ordering::Relaxed)
    }

    /// Moves the FAILED version; called by a write before it returns, so
    /// the snapshot built for that write already carries the new version.
    fn failed_mover(&self) -> impl Fn() + Send + 'static {
        let v = self.failed_version.clone();
        move || {
            v.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A write, on the writer thread.
    async fn write<R, F>(&self, f: F) -> anyhow::Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> anyhow::Result<R> + Send + 'static,
    {
        let r = self.writer.call(f).await;
        self.changed.send_modify(|g| *g = g.wrapping_add(1));
        r
    }

    /// A write whose outcome nobody waits for (progress counters).
    fn write_later<F>(&self, f: F)
    where
        F: FnOnce(&mut Connection) -> anyhow::Result<()> + Send + 'static,
    {
        self.writer.send(f);
        self.changed.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// A read the engine's logic depends on: on the writer, so it sees
    /// every write before it.
    async fn query<R, F>(&self, f: F) -> anyhow::Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> anyhow::Result<R> + Send + 'static,
    {
        self.writer.call(f).await
    }

    /// A read for a view or a snapshot, on a read connection.
    async fn view<R, F>(&self, f: F) -> anyhow::Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> anyhow::Result<R> + Send + 'static,
    {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        self.readers[i].call(f).await
    }
}

#[cfg(test)]
mod tests;
