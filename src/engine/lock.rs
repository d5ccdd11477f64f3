//! One engine per data folder.
//!
//! The engine holds an exclusive OS lock (`flock`) on `engine.lock` in its
//! data folder for its whole life. The kernel drops the lock when the
//! process dies, however it dies, so a `kill -9` never leaves a stale lock
//! behind; the file's contents (pid, start time) only serve to name the
//! running engine to a second one, which refuses to start.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file's name in the data folder.
pub const LOCK_FILE: &str = "engine.lock";

/// What the lock file says about its holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub version: String,
}

/// Held for the engine's life; dropping it (or dying) releases the folder.
pub struct EngineLock {
    _file: File,
    pub holder: Holder,
    pub path: PathBuf,
}

/// Why the lock could not be had.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another hubsync engine runs on {}{}: attach to it with `hubsync --data-dir {}` (or `hubsync status`), or stop it first",
        .dir.display(),
        .holder.as_ref().map(|h| format!(" (pid {}, since {})", h.pid, h.started_at.format("%Y-%m-%d %H:%M:%S UTC"))).unwrap_or_default(),
        .dir.display()
    )]
    Held {
        dir: PathBuf,
        holder: Option<Holder>,
    },
    #[error("locking {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl EngineLock {
    /// Takes the data folder's lock, or says who holds it.
    pub fn acquire(data_dir: &Path) -> Result<EngineLock, LockError> {
        let path = data_dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        crate::store::create_private_file(&path).map_err(|e| io(std::io::Error::other(e)))?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held {
                    dir: data_dir.to_path_buf(),
                    holder: read_holder(&mut file),
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let holder = Holder {
            pid: std::process::id(),
            started_at: Utc::now(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        };
        let text = serde_json::to_string(&holder).map_err(|e| io(std::io::Error::other(e)))?;
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok(EngineLock {
            _file: file,
            holder,
            path,
        })
    }

    /// Who holds the data folder's lock now, if anyone: `None` when no
    /// engine runs there.
    pub fn holder(data_dir: &Path) -> anyhow::Result<Option<Holder>> {
        let path = data_dir.join(LOCK_FILE);
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("opening {}", path.display())),
        };
        // A shared lock succeeds only when no engine holds the exclusive one.
        match file.try_lock_shared() {
            Ok(()) => Ok(None),
            Err(TryLockError::WouldBlock) => Ok(read_holder(&mut file)),
            Err(TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("checking the lock {}", path.display()))
            }
        }
    }
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_folder_is_refused_naming_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let first = EngineLock::acquire(dir.path()).unwrap();
        let err = EngineLock::acquire(dir.path()).err().unwrap();
        let msg = err.to_string();
        assert!(msg.contains(&format!("pid {}", first.holder.pid)), "{msg}");
        assert!(msg.contains("hubsync --data-dir"), "{msg}");
        assert_eq!(
            EngineLock::holder(dir.path()).unwrap().map(|h| h.pid),
            Some(first.holder.pid)
        );
    }

    #[test]
    fn dropping_the_lock_frees_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        drop(EngineLock::acquire(dir.path()).unwrap());
        assert_eq!(EngineLock::holder(dir.path()).unwrap(), None);
        EngineLock::acquire(dir.path()).unwrap();
    }
}
