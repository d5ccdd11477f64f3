//! `[app] listen = true` on PostgreSQL: notifications from the trigger
//! `hubsync check --print-trigger` prints queue a sync of their object now,
//! between polls.

use crate::appdb::Target;
use crate::appdb::postgres::listen;
use crate::config::Config;
use crate::engine::Engine;
use crate::status::Command;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub(crate) fn start_app_listener(cfg: &Config, engine: &Arc<Engine>, cancel: &CancellationToken) {
    let Target::Postgres(s) = &cfg.app_database else {
        return;
    };
    if !s.listen {
        return;
    }
    let objects: Vec<_> = cfg.objects.iter().map(|o| o.mapping.object).collect();
    let channels = cfg
        .objects
        .iter()
        .map(|o| listen::channel(&o.mapping.table))
        .collect();
    let engine = engine.clone();
    let handle = tokio::runtime::Handle::current();
    let changed = move |i: usize| {
        let (engine, object) = (engine.clone(), objects[i]);
        handle.spawn(async move {
            if let Err(e) = engine.handle(Command::SyncNow { object }, None).await {
                tracing::warn!(%object, error = %e, "queueing a sync for an app change");
            }
        });
    };
    tokio::spawn(listen::run(s.clone(), channels, changed, cancel.clone()));
}
