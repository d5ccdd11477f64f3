//! Logs go to a file, never to the terminal the console draws on.
//!
//! `hubsync demo` and the console write `hubsync.log` in their data folder;
//! `RUST_LOG` picks the level (default `info`). The returned guard flushes
//! the log when dropped, so `main` keeps it alive until exit.

use std::path::Path;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub fn to_file(dir: &Path, file: &str) -> anyhow::Result<WorkerGuard> {
    std::fs::create_dir_all(dir)?;
    crate::store::create_private_file(&dir.join(file))?;
    let appender = tracing_appender::rolling::never(dir, file);
    let (writer, guard) = tracing_appender::non_blocking(appender);
    // The file, and the engine's recent lines for consoles' log panes.
    tracing_subscriber::registry()
        .with(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false),
        )
        .with(crate::log_ring::RingLayer(crate::log_ring::global()))
        .try_init()
        .map_err(|e| anyhow::anyhow!("setting up logging: {e}"))?;
    Ok(guard)
}

/// For commands without a console (`hubsync sim`): log to standard error.
pub fn to_stderr() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
}
