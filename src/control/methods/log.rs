//! The log pane's data: `log_tail` answers the engine's recent log lines
//! after a sequence number, secrets already stripped (`crate::log_ring`).

use super::{Reply, params, to_value};
use serde::Deserialize;
use serde_json::Value;

/// Lines per answer, unless a console asks for fewer.
const MAX_LINES: usize = 500;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Tail {
    /// Lines after this sequence number; absent: the newest lines.
    #[serde(default)]
    after: Option<u64>,
    #[serde(default)]
    limit: Option<usize>,
}

pub fn log_tail(p: Value) -> Reply {
    let p: Tail = params("log_tail", "{\"after\"?: seq, \"limit\"?: n}", p)?;
    let limit = p.limit.unwrap_or(MAX_LINES).clamp(1, MAX_LINES);
    let ring = crate::log_ring::global();
    let tail = match p.after {
        Some(after) => ring.after(after, limit),
        None => ring.tail(limit),
    };
    Ok(to_value(tail))
}
