//! The FAILED list filtered as an operator types, at a million open
//! entries: each keystroke reads one page and counts no more than it must.
//!
//! A text of three characters or more is looked up in the open entries'
//! own trigram index (`audit_open_fts`, migration 10), newest first with a
//! `LIMIT`, so a common text fills its page from the first matches and a
//! rare one costs what its matches cost; the matches are counted up to
//! [`COUNT_CAP`]. A shorter text has no trigram to look up: it is matched
//! with `LIKE` over a window of [`SHORT_WINDOW`] entries at a time, newest
//! first, and the page says where its window ended so the next one goes on
//! from there.

use super::super::audit::AUDIT_COLS;
use super::{LIKE_ANY, TRIGRAM, collect, like, object_value, phrase};
use crate::model::ObjectKind;
use crate::status::{AuditView, FilterMatches};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params};

/// Matches counted at most: past it the console says "1,000+".
pub const COUNT_CAP: u64 = 1_000;

/// Open entries a short text is matched against per page.
pub const SHORT_WINDOW: u64 = 50_000;

/// Index matches read per step when an object filter may drop some.
const STEP: usize = 512;

/// One page of a filtered FAILED list, with where it stands in the whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FailedSearch {
    pub entries: Vec<AuditView>,
    /// Matching open entries newer than the page.
    pub newer: u64,
    pub matches: FilterMatches,
}

/// The page of open FAILED entries older than `before` matching `text`
/// (trimmed, not blank), newest first. `count`: also say how many match.
pub(in crate::store) fn search(
    conn: &Connection,
    text: &str,
    object: Option<ObjectKind>,
    before: Option<i64>,
    limit: usize,
    count: bool,
) -> anyhow::Result<FailedSearch> {
    if text.chars().count() < TRIGRAM {
        return short(conn, text, object, before, limit, SHORT_WINDOW);
    }
    let entries = indexed_page(conn, text, object, before, limit)?;
    let mut out = FailedSearch {
        newer: match before {
            // The matches above the page are those already paged past:
            // as many as the operator has seen, whatever the list's size.
            Some(id) => conn.query_row(
                "SELECT count(*) FROM audit_open_fts WHERE audit_open_fts MATCH ?1 AND rowid >= ?2",
                params![phrase(text), id],
                |r| r.get::<_, i64>(0),
            )? as u64,
            None => 0,
        },
        ..FailedSearch::default()
    };
    if count {
        out.matches = if before.is_none() && entries.len() < limit {
            FilterMatches {
                count: entries.len() as u64,
                ..FilterMatches::default()
            }
        } else {
            let n = conn.query_row(
                "SELECT count(*) FROM (SELECT 1 FROM audit_open_fts WHERE audit_open_fts MATCH ?1 LIMIT ?2)",
                params![phrase(text), COUNT_CAP as i64 + 1],
                |r| r.get::<_, i64>(0),
            )? as u64;
            FilterMatches {
                count: n.min(COUNT_CAP),
                more: n > COUNT_CAP,
                searched_to: None,
            }
        };
    }
    out.entries = entries;
    Ok(out)
}

/// Ids from the open entries' index, newest first, then their rows by
/// primary key; an object filter may drop some, so steps go on until the
/// page is full or the matches run out.
fn indexed_page(
    conn: &Connection,
    text: &str,
    object: Option<ObjectKind>,
    before: Option<i64>,
    limit: usize,
) -> anyhow::Result<Vec<AuditView>> {
    let mut ids_stmt = conn.prepare_cached(
        "SELECT rowid FROM audit_open_fts WHERE audit_open_fts MATCH ?1 AND rowid < ?2
         ORDER BY rowid DESC LIMIT ?3",
    )?;
    let step = if object.is_some() {
        STEP.max(limit)
    } else {
        limit
    };
    let mut out = Vec::with_capacity(limit);
    let mut below = before.unwrap_or(i64::MAX);
    while out.len() < limit {
        let ids: Vec<i64> = ids_stmt
            .query_map(params![phrase(text), below, step as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let Some(&last) = ids.last() else { break };
        below = last;
        let marks = vec!["?"; ids.len()].join(", ");
        let mut args: Vec<Value> = vec![object_value(object)];
        args.extend(ids.iter().map(|&i| Value::Integer(i)));
        // `open = 1` again: the index follows the table in the same
        // transaction, so this only guards against a damaged index.
        let rows = collect(
            conn,
            &format!(
                "SELECT {AUDIT_COLS} FROM audit WHERE (?1 IS NULL OR object = ?1) AND open = 1
                 AND id IN ({marks}) ORDER BY id DESC"
            ),
            args,
        )?;
        out.extend(rows.into_iter().take(limit - out.len()));
        if ids.len() < step {
            break;
        }
    }
    Ok(out)
}

/// A text under three characters: `LIKE` over the newest `window` (in
/// use, [`SHORT_WINDOW`]) open entries older than `before`. A common text fills
/// its page long before the window ends; a rare one is looked for in the
/// window only, and the page says so, where scanning every open entry
/// would take seconds at a million.
fn short(
    conn: &Connection,
    text: &str,
    object: Option<ObjectKind>,
    before: Option<i64>,
    limit: usize,
    window: u64,
) -> anyhow::Result<FailedSearch> {
    let before = before.unwrap_or(i64::MAX);
    // The oldest entry in the window, if the open entries go on past it.
    let floor: Option<i64> = conn
        .query_row(
            "SELECT id FROM audit INDEXED BY audit_open_by_id WHERE open = 1 AND id < ?1
             ORDER BY id DESC LIMIT 1 OFFSET ?2",
            params![before, window as i64],
            |r| r.get(0),
        )
        .optional()?;
    let pattern = like(text);
    let entries = collect(
        conn,
        &format!(
            "SELECT {AUDIT_COLS} FROM audit INDEXED BY audit_open_by_id
             WHERE open = 1 AND id < ?2 AND id > ?3 AND (?4 IS NULL OR object = ?4)
             AND {LIKE_ANY} ORDER BY id DESC LIMIT ?5"
        ),
        vec![
            Value::Text(pattern.clone()),
            Value::Integer(before),
            Value::Integer(floor.unwrap_or(i64::MIN)),
            object_value(object),
            Value::Integer(limit as i64),
        ],
    )?;
    // The matches above the page: within the windows already searched.
    let newer = if before == i64::MAX {
        0
    } else {
        conn.query_row(
            &format!(
                "SELECT count(*) FROM audit INDEXED BY audit_open_by_id
                 WHERE open = 1 AND id >= ?2 AND (?3 IS NULL OR object = ?3) AND {LIKE_ANY}"
            ),
            params![pattern, before, object_value(object)],
            |r| r.get::<_, i64>(0),
        )? as u64
    };
    let full = entries.len() == limit;
    let matches = FilterMatches {
        count: newer + entries.len() as u64,
        // A full page may have more below it; a window that ended before
        // the open entries did has not looked at the rest.
        more: full || floor.is_some(),
        searched_to: if full { None } else { floor.map(|f| f + 1) },
    };
    Ok(FailedSearch {
        entries,
        newer,
        matches,
    })
}

#[cfg(test)]
mod tests;
