//! Finding audit entries and links as an operator types: in SQL, a page
//! at a time, newest first, never on a copy loaded into memory.
//!
//! A text of three characters or more is looked up in the trigram index
//! (`audit_fts`, migration 6), which answers a substring of the label,
//! either id, HubSpot's message or the category at any table size. A
//! shorter text cannot be split into trigrams; it is matched with `LIKE`
//! over the newest entries first, so a common one still fills a page
//! quickly. The FAILED list (open entries only) has its own index and
//! rules: see [`failed`].

use super::audit::{AUDIT_COLS, audit_view};
use super::{Store, ts};
use crate::model::{Direction, ObjectKind, RecordRef};
use crate::status::{AttemptView, AuditAction, AuditStatus, AuditView};
use crate::sync::plan::Link;
use chrono::Utc;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

/// Shortest text the trigram index can answer.
const TRIGRAM: usize = 3;

/// Matching entries read from the index per step when other conditions
/// (an object) may drop some: enough that a page usually takes one step.
const STEP: usize = 512;

mod failed;
pub use failed::{COUNT_CAP, FailedSearch, SHORT_WINDOW};

/// Which audit entries a page lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// A substring of the label, app id, HubSpot id, message or category,
    /// any case. Blank matches everything.
    pub text: Option<String>,
    /// Open FAILED entries only (the FAILED list).
    pub open_only: bool,
    pub object: Option<ObjectKind>,
    /// Entries older than this id (keyset paging); `None`: the newest.
    pub before: Option<i64>,
    pub limit: usize,
}

impl AuditQuery {
    fn text(&self) -> Option<&str> {
        self.text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
    }
}

/// An operator's edit of one app value, about to be audited.
#[derive(Debug, Clone)]
pub struct NewEdit {
    pub object: ObjectKind,
    pub app_id: String,
    pub hubspot_id: Option<String>,
    pub label: String,
    pub column: String,
    pub old: Option<String>,
    pub new: String,
    /// The OS user who made it.
    pub operator: String,
}

/// `text` as an FTS5 phrase: quoted, so its punctuation is not syntax.
fn phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// `text` as a `LIKE` pattern matching it anywhere, its wildcards escaped.
fn like(text: &str) -> String {
    let mut p = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

const LIKE_ANY: &str = "(label LIKE ?1 ESCAPE '\\' OR app_id LIKE ?1 ESCAPE '\\' \
     OR hubspot_id LIKE ?1 ESCAPE '\\' OR message LIKE ?1 ESCAPE '\\' \
     OR category LIKE ?1 ESCAPE '\\')";

fn object_value(o: Option<ObjectKind>) -> Value {
    o.map_or(Value::Null, |o| Value::Text(o.api_name().to_string()))
}

fn collect(conn: &Connection, sql: &str, args: Vec<Value>) -> anyhow::Result<Vec<AuditView>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params_from_iter(args), audit_view)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The page, on a read connection.
fn page(conn: &Connection, q: &AuditQuery) -> anyhow::Result<Vec<AuditView>> {
    let before = q.before.unwrap_or(i64::MAX);
    let limit = q.limit as i64;
    let object = object_value(q.object);
    // The open entries by id: left to itself the planner walks the whole
    // log by primary key, past every closed entry.
    let (from, open) = if q.open_only {
        ("audit INDEXED BY audit_open_by_id", "open = 1")
    } else {
        ("audit", "1 = 1")
    };
    let Some(text) = q.text() else {
        return collect(
            conn,
            &format!(
                "SELECT {AUDIT_COLS} FROM {from} WHERE {open} AND id < ?1
                 AND (?2 IS NULL OR object = ?2) ORDER BY id DESC LIMIT ?3"
            ),
            vec![Value::Integer(before), object, Value::Integer(limit)],
        );
    };
    if q.open_only {
        return Ok(failed::search(conn, text, q.object, q.before, q.limit, false)?.entries);
    }
    if text.chars().count() < TRIGRAM {
        return scan(conn, q, text, before);
    }
    // The index yields matches newest first; each step's ids are then read
    // by primary key, and an object filter may drop some, so steps go on
    // until the page is full or the matches run out.
    let mut ids_stmt = conn.prepare_cached(
        "SELECT rowid FROM audit_fts WHERE audit_fts MATCH ?1 AND rowid < ?2
         ORDER BY rowid DESC LIMIT ?3",
    )?;
    let mut out = Vec::with_capacity(q.limit);
    let mut below = before;
    let step = if q.object.is_some() {
        STEP.max(q.limit)
    } else {
        q.limit
    };
    while out.len() < q.limit {
        let ids: Vec<i64> = ids_stmt
            .query_map(params![phrase(text), below, step as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let Some(&last) = ids.last() else { break };
        below = last;
        let marks = vec!["?"; ids.len()].join(", ");
        let mut args: Vec<Value> = vec![object.clone()];
        args.extend(ids.iter().map(|&i| Value::Integer(i)));
        let rows = collect(
            conn,
            &format!(
                "SELECT {AUDIT_COLS} FROM audit WHERE (?1 IS NULL OR object = ?1)
                 AND id IN ({marks}) ORDER BY id DESC"
            ),
            args,
        )?;
        out.extend(rows.into_iter().take(q.limit - out.len()));
        if ids.len() < step {
            break;
        }
    }
    Ok(out)
}

/// `LIKE` over the whole log's entries older than `before`, newest first:
/// for a text too short for the trigram index.
fn scan(
    conn: &Connection,
    q: &AuditQuery,
    text: &str,
    before: i64,
) -> anyhow::Result<Vec<AuditView>> {
    collect(
        conn,
        &format!(
            "SELECT {AUDIT_COLS} FROM audit WHERE id < ?2
             AND (?3 IS NULL OR object = ?3) AND {LIKE_ANY} ORDER BY id DESC LIMIT ?4"
        ),
        vec![
            Value::Text(like(text)),
            Value::Integer(before),
            object_value(q.object),
            Value::Integer(q.limit as i64),
        ],
    )
}

fn link_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Link> {
    let memory: String = r.get(2)?;
    Ok(Link {
        app_id: r.get(0)?,
        hubspot_id: r.get(1)?,
        memory: serde_json::from_str(&memory).unwrap_or_default(),
        pending: Default::default(),
    })
}

impl Store {
    /// A page of audit entries matching `q`, newest first.
    pub async fn search_audit(&self, q: AuditQuery) -> anyhow::Result<Vec<AuditView>> {
        self.view(move |conn| page(conn, &q)).await
    }

    /// A page of the FAILED list filtered by `text` (not blank), with the
    /// matches above it and how many match: one read, one moment.
    pub async fn search_failed(
        &self,
        text: &str,
        before: Option<i64>,
        limit: usize,
    ) -> anyhow::Result<FailedSearch> {
        let text = text.trim().to_string();
        self.view(move |conn| {
            let tx = conn.transaction()?;
            let out = failed::search(&tx, &text, None, before, limit, true)?;
            tx.finish()?;
            Ok(out)
        })
        .await
    }

    /// Every attempt and edit of one record, newest first, at most
    /// `limit`: by its app id, or by its HubSpot id (entries written
    /// before it had an app record are under `hs:<id>`).
    pub async fn attempts(
        &self,
        object: ObjectKind,
        app_id: Option<&str>,
        hubspot_id: Option<&str>,
        limit: usize,
    ) -> anyhow::Result<Vec<AttemptView>> {
        let app_id = app_id.map(str::to_string);
        let hubspot_id = hubspot_id.map(str::to_string);
        let hubspot_key = hubspot_id.as_deref().map(RecordRef::hubspot_key);
        self.view(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {AUDIT_COLS}, diff FROM audit WHERE object = ?1
                 AND (app_id = ?2 OR app_id = ?3 OR hubspot_id = ?4)
                 ORDER BY id DESC LIMIT ?5"
            ))?;
            let rows = stmt.query_map(
                params![
                    object.api_name(),
                    app_id,
                    hubspot_key,
                    hubspot_id,
                    limit as i64
                ],
                |r| {
                    let diff: Option<String> = r.get(14)?;
                    Ok(AttemptView {
                        entry: audit_view(r)?,
                        diff: diff.and_then(|d| serde_json::from_str(&d).ok()),
                    })
                },
            )?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// Links whose app id or HubSpot id is exactly `id`.
    pub async fn links_with_id(&self, object: ObjectKind, id: &str) -> anyhow::Result<Vec<Link>> {
        let id = id.trim().to_string();
        self.view(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT app_id, hubspot_id, memory FROM links WHERE object = ?1 AND app_id = ?2
                 UNION SELECT app_id, hubspot_id, memory FROM links WHERE object = ?1 AND hubspot_id = ?2",
            )?;
            let rows = stmt.query_map(params![object.api_name(), id], link_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    /// The link of one record, by whichever id is known (app id first).
    pub async fn link_of(
        &self,
        object: ObjectKind,
        app_id: Option<&str>,
        hubspot_id: Option<&str>,
    ) -> anyhow::Result<Option<Link>> {
        let app_id = app_id.map(str::to_string);
        let hubspot_id = hubspot_id.map(str::to_string);
        self.view(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT app_id, hubspot_id, memory FROM links WHERE object = ?1
                 AND (app_id = ?2 OR hubspot_id = ?3) ORDER BY app_id = ?2 DESC LIMIT 1",
            )?;
            Ok(stmt
                .query_row(params![object.api_name(), app_id, hubspot_id], link_row)
                .optional()?)
        })
        .await
    }

    /// Audits an operator's edit: an entry of its own (action `edited`),
    /// with the old and new value and who made it. It leaves the record's
    /// open failure open: the retry that follows is what closes it.
    pub async fn record_edit(&self, e: &NewEdit) -> anyhow::Result<i64> {
        let e = e.clone();
        self.write(move |conn| {
            let diff = serde_json::to_string(&std::collections::BTreeMap::from([(
                e.column.clone(),
                e.new.clone(),
            )]))?;
            // Debug quoting: the values are data and must not forge text.
            let message = format!(
                "{} changed from {} to {:?} by {}",
                e.column,
                e.old.as_deref().map_or("empty".to_string(), |v| format!("{v:?}")),
                e.new,
                e.operator
            );
            conn.execute(
                "INSERT INTO audit (at, job_id, object, direction, app_id, hubspot_id, action, status,
                                    category, message, diff, attempt, label, open, operator)
                 VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9, 0, ?10, 0, ?11)",
                params![
                    ts(Utc::now()),
                    e.object.api_name(),
                    Direction::ToApp.as_str(),
                    e.app_id,
                    e.hubspot_id,
                    AuditAction::Edited.as_str(),
                    AuditStatus::Success.as_str(),
                    message,
                    diff,
                    e.label,
                    e.operator,
                ],
            )?;
            Ok(conn.last_insert_rowid())
        })
        .await
    }
}

#[cfg(test)]
mod tests;
