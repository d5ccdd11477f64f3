//! A SQLite connection on a thread of its own, driven from async code.
//!
//! SQLite calls block; run on a tokio worker they would stall every task on
//! that worker (the control sockets, the webhook receiver, HTTP calls in
//! flight). Each [`DbThread`] owns one connection and runs the closures sent
//! to it in order, answering each through a oneshot channel. The writer is
//! one such thread, so writes never contend with each other; readers are
//! others, on their own connections (WAL lets them read while it writes).

use anyhow::anyhow;
use rusqlite::Connection;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

pub struct DbThread {
    jobs: mpsc::Sender<Job>,
    name: String,
}

impl DbThread {
    /// Starts a thread that owns `conn` until every handle is dropped.
    pub fn spawn(name: &str, mut conn: Connection) -> anyhow::Result<DbThread> {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    // A panicking query drops its answer (the caller gets an
                    // error) but must not take the connection down with it.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut conn)));
                }
            })?;
        Ok(DbThread {
            jobs: tx,
            name: name.to_string(),
        })
    }

    /// Runs `f` on the thread's connection and waits for its answer.
    pub async fn call<R, F>(&self, f: F) -> anyhow::Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> anyhow::Result<R> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |c| {
                let _ = tx.send(f(c));
            }))
            .map_err(|_| anyhow!("the {} thread has stopped", self.name))?;
        rx.await
            .map_err(|_| anyhow!("the {} thread dropped a query (it panicked)", self.name))?
    }

    /// Queues `f` without waiting for it: for bookkeeping (job progress)
    /// whose failure is only logged. Order with later calls is kept.
    pub fn send<F>(&self, f: F)
    where
        F: FnOnce(&mut Connection) -> anyhow::Result<()> + Send + 'static,
    {
        let name = self.name.clone();
        let sent = self.jobs.send(Box::new(move |c| {
            if let Err(e) = f(c) {
                tracing::error!(thread = %name, error = %format!("{e:#}"), "state database write");
            }
        }));
        if sent.is_err() {
            tracing::error!(thread = %self.name, "state database thread has stopped");
        }
    }
}
