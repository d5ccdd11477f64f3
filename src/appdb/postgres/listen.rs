//! Near-real-time app changes on PostgreSQL: a trigger the user installs
//! (`hubsync check --print-trigger` prints it) NOTIFYs a channel per table
//! with the row's id; hubsync LISTENs and syncs the object at once.
//! Polling stays the safety net: a notification lost while hubsync was
//! disconnected is picked up by the next poll.

use super::Settings;
use super::sql::{ident, split_table, table_ref};
use crate::sync::mapping::ObjectMapping;
use futures::StreamExt;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The channel a table's trigger notifies: `hubsync_` and the table's
/// name, kept to PostgreSQL's 63-byte identifiers.
pub fn channel(table: &str) -> String {
    let name: String = format!("hubsync_{}", table.replace('.', "_"))
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    name.chars().take(63).collect()
}

/// The SQL that installs the trigger for a mapping's table.
pub fn trigger_sql(m: &ObjectMapping) -> String {
    let (schema, name) = split_table(&m.table);
    let func = match schema {
        Some(s) => format!("{}.{}", ident(s), ident(&format!("{name}_hubsync_notify"))),
        None => ident(&format!("{name}_hubsync_notify")),
    };
    let ch = channel(&m.table);
    let id = ident(&m.id_column);
    format!(
        "-- hubsync: notify {ch} with the id of each changed row of {table}
CREATE OR REPLACE FUNCTION {func}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{ch}', NEW.{id}::text);
  RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER hubsync_notify AFTER INSERT OR UPDATE ON {tref}
  FOR EACH ROW EXECUTE FUNCTION {func}();",
        table = m.table,
        tref = table_ref(&m.table),
    )
}

/// Listens on `channels` until cancelled, calling `changed` with the index
/// of the channel that was notified (at most once per burst). Reconnects
/// after a lost connection.
pub async fn run(
    s: Settings,
    channels: Vec<String>,
    changed: impl Fn(usize) + Send + 'static,
    cancel: CancellationToken,
) {
    let mut backoff = Duration::from_secs(1);
    while !cancel.is_cancelled() {
        match listen_once(&s, &channels, &changed, &cancel).await {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(db = %s.describe(), error = %format!("{e:#}"), ?backoff,
                    "LISTEN for app changes lost; polling goes on, reconnecting");
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(60));
            }
        }
    }
}

async fn listen_once(
    s: &Settings,
    channels: &[String],
    changed: &impl Fn(usize),
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let cfg = s.config()?;
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(super::tls::client_config(s)?);
    let (client, mut conn) = cfg.connect(tls).await.map_err(|e| {
        anyhow::anyhow!("connecting to {}: {}", s.describe(), super::pg_message(&e))
    })?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures::stream::poll_fn(move |cx| conn.poll_message(cx));
        while let Some(m) = messages.next().await {
            match m {
                Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                    let _ = tx.send(Some(n.channel().to_string()));
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let _ = tx.send(None);
    });
    for ch in channels {
        client
            .batch_execute(&format!("LISTEN {}", ident(ch)))
            .await
            .map_err(|e| anyhow::anyhow!("LISTEN {ch}: {}", super::pg_message(&e)))?;
    }
    tracing::info!(db = %s.describe(), ?channels, "listening for app changes");
    loop {
        let first = tokio::select! {
            _ = cancel.cancelled() => { driver.abort(); return Ok(()) }
            m = rx.recv() => m.flatten(),
        };
        let Some(first) = first else {
            anyhow::bail!("the connection to {} closed", s.describe());
        };
        // A burst (a bulk update) becomes one sync per channel.
        let mut hit = vec![false; channels.len()];
        let mut mark = |ch: &str| {
            if let Some(i) = channels.iter().position(|c| c == ch) {
                hit[i] = true;
            }
        };
        mark(&first);
        let until = tokio::time::Instant::now() + Duration::from_millis(200);
        while let Ok(Some(Some(ch))) = tokio::time::timeout_at(until, rx.recv()).await {
            mark(&ch);
        }
        for (i, h) in hit.iter().enumerate() {
            if *h {
                changed(i);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_table_notifies_a_channel_named_for_it() {
        assert_eq!(channel("crm.Contacts"), "hubsync_crm_contacts");
        assert!(channel(&"x".repeat(100)).len() <= 63);
        let mut m = ObjectMapping::demo_contacts();
        m.table = "crm.contacts".into();
        let sql = trigger_sql(&m);
        assert!(
            sql.contains("pg_notify('hubsync_crm_contacts', NEW.\"id\"::text)"),
            "{sql}"
        );
        assert!(sql.contains("ON \"crm\".\"contacts\""), "{sql}");
    }
}
