//! Serving the webhook receiver to the network, where anyone can open a
//! connection. Left alone, 1,000 connections that dribble their headers
//! stay open forever, and 1,100 idle ones under `ulimit -n 1024` take every
//! file descriptor the process has: deliveries time out and the engine's
//! own state and app database fail with "unable to open database file".
//!
//! So each connection must send its request head within a time limit (and
//! is closed when idle that long between requests), bodies and whole
//! requests have time limits of their own (in the router), at most so many
//! requests run at once, and the receiver stops *accepting* connections
//! well before the descriptor limit: a quarter of it (at least
//! [`RESERVED_FDS`]) is kept for the engine. Connections over the cap wait
//! in the kernel's backlog, holding no descriptor of ours, and are served
//! as others close, so a delivery is late rather than refused.

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tower::limit::ConcurrencyLimitLayer;

/// Descriptors always left to the engine, however low the limit: the
/// state and app databases with their journals, the log, HubSpot
/// connections, the control sockets.
pub const RESERVED_FDS: u64 = 64;

#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// A request's head (request line and headers) must arrive within this
    /// of the connection opening or the last answer; else it is closed.
    pub header_timeout: Duration,
    /// Connections served at once, before the descriptor cap lowers it.
    pub max_connections: usize,
    /// Requests handled at once; more wait for a turn.
    pub max_requests: usize,
    /// How long a stop waits for connections to finish.
    pub drain: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_timeout: Duration::from_secs(10),
            max_connections: 1024,
            max_requests: 64,
            drain: Duration::from_secs(5),
        }
    }
}

/// Raises the soft limit on open files to the hard one, so a busy
/// receiver has room; returns the soft limit now in force. The lead may
/// call it once from `main`; the receiver calls it when it starts.
pub fn raise_fd_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open-files limit");
            soft_fd_limit()
        }
    }
}

fn soft_fd_limit() -> u64 {
    rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
}

/// The connections the receiver may hold with `soft` descriptors allowed.
pub fn connection_cap(wanted: usize, soft: u64) -> usize {
    let reserve = (soft / 4).max(RESERVED_FDS);
    let room = soft.saturating_sub(reserve).max(1);
    wanted.min(usize::try_from(room).unwrap_or(usize::MAX))
}

/// Serves `app` on `listener` until `stop` is cancelled, within `limits`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    stop: CancellationToken,
) {
    let soft = raise_fd_limit();
    let cap = connection_cap(limits.max_connections, soft);
    tracing::info!(
        connections = cap,
        requests = limits.max_requests,
        open_files_limit = soft,
        "webhook receiver limits"
    );
    let permits = Arc::new(Semaphore::new(cap));
    let service = tower::ServiceBuilder::new()
        .layer(ConcurrencyLimitLayer::new(limits.max_requests))
        .service(app);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = stop.cancelled() => break,
        };
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors (EMFILE) or a connection reset
                    // before it was taken: wait rather than spin.
                    tracing::warn!(error = %e, "webhook receiver cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop.cancelled() => break,
        };
        let service = TowerToHyperService::new(service.clone());
        let stop = stop.clone();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let served = tokio::select! {
                r = conn.as_mut() => r,
                _ = stop.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = served {
                tracing::debug!(error = %e, "webhook connection closed");
            }
            drop(permit);
        });
    }
    drop(listener);
    // Let answers in flight finish, for a while.
    let all = u32::try_from(cap).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(limits.drain, permits.acquire_many(all)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_of_the_descriptors_is_kept_for_the_engine() {
        assert_eq!(connection_cap(1024, 1024), 768);
        assert_eq!(connection_cap(1024, 1 << 20), 1024);
    }

    #[test]
    fn a_low_limit_still_keeps_the_reserve() {
        assert_eq!(connection_cap(1024, 256), 192);
        assert_eq!(connection_cap(1024, 70), 6);
        assert_eq!(connection_cap(1024, 10), 1);
    }
}
