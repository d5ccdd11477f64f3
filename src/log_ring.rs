//! The engine's recent log lines, for a console's log pane: a tracing
//! layer keeps the last [`CAPACITY`] events in memory, levelled, each with
//! a sequence number a console reads after (`log_tail`).
//!
//! Secrets are stripped before a line is kept, so no console ever sees
//! one: the values hubsync read as secrets (registered by
//! [`known_secret`] where config reads them), the value of any field named
//! like a secret (`token`, `password`, `authorization`, …), and what looks
//! like one in free text (`Bearer …`, `pat-…` tokens, a URL's password,
//! `password=…`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock, Mutex};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::Context;

/// Lines kept; older ones go first.
pub const CAPACITY: usize = 2000;

const REDACTED: &str = "[redacted]";

/// One log line as a console shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub seq: u64,
    pub at: DateTime<Utc>,
    /// `ERROR`, `WARN`, `INFO`, `DEBUG` or `TRACE`.
    pub level: String,
    /// The module that logged it.
    pub target: String,
    /// The message and its fields (`job finished job=3 done=12`).
    pub text: String,
}

/// What `log_tail` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogTail {
    pub lines: Vec<LogLine>,
    /// Pass this as `after` to read on.
    pub next: u64,
    /// Lines after `after` that are no longer kept (the ring moved on).
    pub missed: u64,
}

#[derive(Default)]
struct Ring {
    lines: VecDeque<LogLine>,
    last_seq: u64,
}

#[derive(Default)]
pub struct LogRing {
    ring: Mutex<Ring>,
    secrets: Mutex<Vec<String>>,
}

static GLOBAL: LazyLock<Arc<LogRing>> = LazyLock::new(Default::default);

/// The process's ring, which [`to_file`](crate::logging::to_file) feeds.
pub fn global() -> Arc<LogRing> {
    GLOBAL.clone()
}

/// Registers a secret's value: it is stripped from every line kept.
pub fn known_secret(value: &str) {
    GLOBAL.add_secret(value);
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl LogRing {
    pub fn add_secret(&self, value: &str) {
        // Short values would strip ordinary words.
        if value.len() >= 6 {
            let mut s = lock(&self.secrets);
            if !s.iter().any(|x| x == value) {
                s.push(value.to_string());
            }
        }
    }

    pub fn push(&self, level: &str, target: &str, text: &str) {
        let mut text = redact(text);
        for s in lock(&self.secrets).iter() {
            if text.contains(s.as_str()) {
                text = text.replace(s.as_str(), REDACTED);
            }
        }
        let mut r = lock(&self.ring);
        r.last_seq += 1;
        let line = LogLine {
            seq: r.last_seq,
            at: Utc::now(),
            level: level.to_string(),
            target: target.to_string(),
            text,
        };
        if r.lines.len() == CAPACITY {
            r.lines.pop_front();
        }
        r.lines.push_back(line);
    }

    /// Up to `limit` lines after sequence number `after`, oldest first.
    pub fn after(&self, after: u64, limit: usize) -> LogTail {
        let r = lock(&self.ring);
        let oldest = r.lines.front().map_or(r.last_seq + 1, |l| l.seq);
        let missed = oldest.saturating_sub(after + 1);
        let lines: Vec<LogLine> = r
            .lines
            .iter()
            .skip_while(|l| l.seq <= after)
            .take(limit)
            .cloned()
            .collect();
        let next = lines.last().map_or(after.max(oldest - 1), |l| l.seq);
        LogTail {
            lines,
            next,
            missed,
        }
    }

    /// The newest `limit` lines (a pane opening on the tail).
    pub fn tail(&self, limit: usize) -> LogTail {
        let last = lock(&self.ring).last_seq;
        self.after(last.saturating_sub(limit as u64), limit)
    }
}

/// The tracing layer that feeds a ring.
pub struct RingLayer(pub Arc<LogRing>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for RingLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut v = Fields::default();
        event.record(&mut v);
        let meta = event.metadata();
        self.0
            .push(meta.level().as_str(), meta.target(), v.text.trim_start());
    }
}

#[derive(Default)]
struct Fields {
    text: String,
}

/// A field named like a secret; `token_env` names where one is, and is not.
fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    !n.ends_with("_env")
        && [
            "token",
            "password",
            "passwd",
            "secret",
            "authorization",
            "api_key",
            "apikey",
            "cookie",
            "credential",
        ]
        .iter()
        .any(|s| n.contains(s))
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.record(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record(field, &format!("{value:?}"));
    }
}

impl Fields {
    fn record(&mut self, field: &Field, value: &str) {
        let name = field.name();
        if name == "message" {
            let _ = write!(self.text, " {value}");
        } else if secret_name(name) {
            let _ = write!(self.text, " {name}={REDACTED}");
        } else {
            let _ = write!(self.text, " {name}={value}");
        }
    }
}

/// Strips what looks like a secret from free text: a bearer token, a
/// HubSpot private-app token (`pat-…`), the password in a URL, and the
/// value after a secret-named key (`password=…`, `"token": "…"`).
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let Some((at, skip)) = next_secret(rest) else {
            out.push_str(rest);
            break;
        };
        out.push_str(&rest[..at]);
        out.push_str(REDACTED);
        rest = &rest[at + skip..];
    }
    out
}

/// Where the next secret starts in `s`, and how long it is.
fn next_secret(s: &str) -> Option<(usize, usize)> {
    let lower = s.to_ascii_lowercase();
    let mut best: Option<(usize, usize)> = None;
    let mut consider = |start: usize, len: usize| {
        if len > 0 && best.is_none_or(|(b, _)| start < b) {
            best = Some((start, len));
        }
    };
    // `Bearer <token>`.
    if let Some(i) = lower.find("bearer ") {
        let start = i + "bearer ".len();
        consider(start, word_len(&s[start..]));
    }
    // HubSpot's private-app tokens.
    for prefix in ["pat-na", "pat-eu", "pat-ap", "pat-"] {
        if let Some(i) = lower.find(prefix)
            && (i == 0 || !s.as_bytes()[i - 1].is_ascii_alphanumeric())
        {
            consider(i, word_len(&s[i..]));
            break;
        }
    }
    // scheme://user:password@host
    if let Some(i) = s.find("://") {
        let auth_start = i + 3;
        let tail = &s[auth_start..];
        let end = tail.find(['/', ' ', '"', '\'']).unwrap_or(tail.len());
        if let Some(at) = tail[..end].rfind('@')
            && let Some(colon) = tail[..at].find(':')
        {
            consider(auth_start + colon + 1, at - colon - 1);
        }
    }
    // key=value, key: value, "key":"value" for a secret-named key.
    for key in ["password", "passwd", "token", "secret", "authorization"] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(key) {
            let k_end = from + i + key.len();
            // The rest of the key's word (`access_token`, `refresh_token_env`).
            let word_end = k_end
                + s[k_end..]
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(s.len() - k_end);
            let after = &s[word_end..];
            let sep = after
                .find(|c: char| !matches!(c, '"' | '\'' | ' ' | ':' | '='))
                .unwrap_or(after.len());
            let separators = &after[..sep];
            let named_env = s[from + i..word_end].to_ascii_lowercase().ends_with("_env");
            if !named_env && (separators.contains('=') || separators.contains(':')) {
                let start = word_end + sep;
                // `Authorization: Bearer x` is caught by the bearer rule.
                if !lower[start..].starts_with("bearer ") {
                    consider(start, word_len(&s[start..]));
                }
            }
            from = word_end.max(k_end);
        }
    }
    best
}

fn word_len(s: &str) -> usize {
    s.find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | ')' | ']' | '}'))
        .unwrap_or(s.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    fn logged(f: impl FnOnce()) -> Vec<LogLine> {
        let ring = Arc::new(LogRing::default());
        ring.add_secret("s3cr3t-oauth-refresh");
        let sub = tracing_subscriber::registry().with(RingLayer(ring.clone()));
        tracing::subscriber::with_default(sub, f);
        ring.after(0, CAPACITY).lines
    }

    #[test]
    fn a_token_a_password_or_an_authorization_header_never_reaches_a_line() {
        let lines = logged(|| {
            tracing::info!(token = "pat-na1-11111111-2222", "connecting");
            tracing::warn!("request failed: Authorization: Bearer pat-na1-11111111-2222 refused");
            tracing::error!(
                url = "postgres://sync:hunter2pw@db.internal/app",
                "app database down"
            );
            tracing::info!(
                "retrying with password=hunter2pw and \"access_token\":\"abcdef123456\""
            );
            tracing::info!(client_secret = "whatever-it-is", "oauth");
            tracing::info!("refresh with s3cr3t-oauth-refresh now");
        });
        assert_eq!(lines.len(), 6);
        for l in &lines {
            for secret in [
                "pat-na1",
                "11111111",
                "hunter2pw",
                "abcdef123456",
                "whatever-it-is",
                "s3cr3t-oauth-refresh",
            ] {
                assert!(!l.text.contains(secret), "{secret} in {:?}", l.text);
            }
        }
        assert!(
            lines[1].text.contains("Bearer [redacted]"),
            "{:?}",
            lines[1]
        );
        assert!(
            lines[2]
                .text
                .contains("postgres://sync:[redacted]@db.internal/app"),
            "{:?}",
            lines[2]
        );
    }

    #[test]
    fn lines_keep_their_level_message_and_fields() {
        let lines = logged(|| {
            tracing::warn!(job = 3, token_env = "HUBSPOT_TOKEN", "job will be retried");
        });
        assert_eq!(lines[0].level, "WARN");
        assert_eq!(
            lines[0].text,
            "job will be retried job=3 token_env=HUBSPOT_TOKEN"
        );
        assert_eq!(
            redact("[hubspot] token_env = \"HUBSPOT_TOKEN\" is not set"),
            "[hubspot] token_env = \"HUBSPOT_TOKEN\" is not set"
        );
    }

    #[test]
    fn the_ring_keeps_the_newest_lines_and_reads_after_a_sequence_number() {
        let ring = LogRing::default();
        for i in 0..CAPACITY + 5 {
            ring.push("INFO", "t", &format!("line {i}"));
        }
        let all = ring.after(0, CAPACITY * 2);
        assert_eq!(all.lines.len(), CAPACITY);
        assert_eq!(all.missed, 5);
        assert_eq!(all.lines[0].text, "line 5");
        let page = ring.after(all.lines[10].seq, 3);
        let texts: Vec<&str> = page.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["line 16", "line 17", "line 18"]);
        assert_eq!(page.next, page.lines[2].seq);
        let end = ring.after(all.next, 10);
        assert!(end.lines.is_empty());
        assert_eq!(end.next, all.next);
        assert_eq!(ring.tail(2).lines[1].text, format!("line {}", CAPACITY + 4));
    }
}
