//! The app change feed's overlap. Rows are read in (updated_at, id) order
//! past a cursor, but `updated_at` order is not commit order: an app that
//! stamps rows when its transaction starts (PostgreSQL's `now()`) and
//! commits them a minute later, or stamps at one-second precision, makes
//! rows appear behind a cursor that has already passed their stamp.
//!
//! So each pass starts [`OVERLAP`] before where the last one stopped and
//! reads that window again, skipping the rows it already delivered with the
//! same stamp (kept in the cursor's `seen`): a late row is found on the next
//! pass, and what is unchanged is not synced again. The alternative on
//! PostgreSQL, ordering by the transaction id (`xmin`), is not portable
//! (SQLite has none), breaks on wraparound and needs `track_commit_timestamp`
//! for a real commit order; the window is the same on both backends.
//!
//! A transaction open longer than the window is still found, later, by the
//! periodic full scan. `seen` is bounded: past [`SEEN_CAP`] rows (a bulk
//! import stamping thousands of rows in one second) the window shrinks to
//! what fits, whole stamps at a time, and disappears when even the newest
//! stamp holds more.

use super::stamp;
use super::{AppCursor, AppRecord, CursorId};
use std::collections::BTreeMap;
use std::time::Duration;

/// How far back each pass reads again.
pub const OVERLAP: Duration = Duration::from_secs(120);

/// The most rows the cursor remembers for the overlap.
pub const SEEN_CAP: usize = 5_000;

/// The cursor a pass starts from: its window's start when it has one.
pub fn rewind(mut c: AppCursor) -> AppCursor {
    let Some(window) = c.window.clone() else {
        return c;
    };
    let Some(back) = stamp::minus(&c.updated_at, OVERLAP) else {
        return c;
    };
    // The later of the two: `seen` is complete only from `window` on.
    let start = match (stamp::millis(&back), stamp::millis(&window)) {
        (Some(b), Some(w)) if w > b => window,
        _ => back,
    };
    c.from = Some(start);
    c
}

/// Moves the cursor over `rows` (read in order from it) and returns the
/// ones to deliver: those not already seen with the same stamp.
pub fn advance(
    cursor: Option<AppCursor>,
    rows: Vec<AppRecord>,
) -> (Vec<AppRecord>, Option<AppCursor>) {
    let Some(last) = rows.last() else {
        return (vec![], cursor);
    };
    let mut next = cursor.unwrap_or_else(|| AppCursor::at(&last.updated_at, &last.id));
    next.from = None;
    let mut page = Vec::with_capacity(rows.len());
    for r in rows {
        let again = next.seen.get(&r.id) == Some(&r.updated_at);
        // A rewound pass re-reads rows behind the high-water mark; the
        // cursor never moves back past it.
        if !behind(&r.updated_at, &r.id, &next) {
            next.updated_at = r.updated_at.clone();
            next.id = CursorId::of(&r.id);
        }
        if !again {
            next.seen.insert(r.id.clone(), r.updated_at.clone());
            page.push(r);
        }
    }
    prune(&mut next);
    (page, Some(next))
}

/// Whether (stamp, id) sorts before the cursor's position.
fn behind(stamp: &str, id: &str, c: &AppCursor) -> bool {
    let at = |s: &str| {
        stamp::millis(s).map_or_else(|| (i64::MIN, s.to_string()), |m| (m, String::new()))
    };
    match at(stamp).cmp(&at(&c.updated_at)) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Equal => match (CursorId::of(id), &c.id) {
            (CursorId::Int(a), CursorId::Int(b)) => a < *b,
            (a, b) => a.as_text() < b.as_text(),
        },
    }
}

/// Keeps `seen` to the window behind the high-water mark, at most
/// [`SEEN_CAP`] rows, and notes from which stamp it is complete.
fn prune(c: &mut AppCursor) {
    let Some(cut) = stamp::minus(&c.updated_at, OVERLAP).and_then(|s| stamp::millis(&s)) else {
        c.seen.clear();
        c.window = None;
        return;
    };
    c.seen
        .retain(|_, s| stamp::millis(s).is_some_and(|m| m >= cut));
    let mut window = stamp::minus(&c.updated_at, OVERLAP);
    if c.seen.len() > SEEN_CAP {
        let mut by_stamp: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        for (id, s) in &c.seen {
            by_stamp
                .entry(stamp::millis(s).unwrap_or(cut))
                .or_default()
                .push(id.clone());
        }
        let mut kept = 0;
        window = None;
        let mut drop_from = None;
        for (m, ids) in by_stamp.iter().rev() {
            if kept + ids.len() > SEEN_CAP {
                drop_from = Some(*m);
                break;
            }
            kept += ids.len();
            window = c.seen.get(&ids[0]).cloned();
        }
        if let Some(d) = drop_from {
            c.seen
                .retain(|_, s| stamp::millis(s).is_some_and(|m| m > d));
        }
    }
    c.window = window;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, at: &str) -> AppRecord {
        AppRecord {
            id: id.into(),
            fields: BTreeMap::new(),
            hubspot_id: None,
            updated_at: at.into(),
        }
    }

    #[test]
    fn a_rewound_pass_skips_what_it_has_and_delivers_what_came_late() {
        let (page, c) = advance(
            None,
            vec![
                row("1", "2026-01-01 10:00:00"),
                row("3", "2026-01-01 10:00:05"),
            ],
        );
        assert_eq!(page.len(), 2);
        let c = rewind(c.unwrap());
        assert_eq!(c.from.as_deref(), Some("2026-01-01 09:58:05"));
        // Row 2 was stamped at 10:00:00 but committed after the first read.
        let again = vec![
            row("1", "2026-01-01 10:00:00"),
            row("2", "2026-01-01 10:00:00"),
            row("3", "2026-01-01 10:00:05"),
        ];
        let (page, c) = advance(Some(c), again);
        let ids: Vec<&str> = page.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["2"]);
        let c = c.unwrap();
        assert_eq!(
            (c.updated_at.as_str(), &c.id),
            ("2026-01-01 10:00:05", &CursorId::Int(3))
        );
        assert_eq!(c.from, None);
    }

    #[test]
    fn a_row_edited_again_at_a_new_stamp_is_delivered_again() {
        let (_, c) = advance(None, vec![row("1", "100000")]);
        let (page, _) = advance(Some(rewind(c.unwrap())), vec![row("1", "100001")]);
        assert_eq!(page.len(), 1);
    }

    #[test]
    fn the_window_forgets_rows_older_than_the_overlap() {
        let (_, c) = advance(None, vec![row("1", "2026-01-01T10:00:00Z")]);
        let (_, c) = advance(c, vec![row("2", "2026-01-01T10:05:00Z")]);
        let c = c.unwrap();
        assert_eq!(c.seen.keys().collect::<Vec<_>>(), ["2"]);
        assert_eq!(c.window.as_deref(), Some("2026-01-01T10:03:00Z"));
    }

    #[test]
    fn a_bulk_import_larger_than_the_cap_leaves_no_window_rather_than_a_wrong_one() {
        let rows: Vec<AppRecord> = (0..SEEN_CAP + 1)
            .map(|i| row(&i.to_string(), "1767225600"))
            .collect();
        let (page, c) = advance(None, rows);
        assert_eq!(page.len(), SEEN_CAP + 1);
        let c = c.unwrap();
        assert!(c.seen.is_empty());
        assert_eq!(c.window, None);
        assert_eq!(rewind(c.clone()), c);
    }

    #[test]
    fn an_older_cursor_without_a_window_reads_on_as_before() {
        let c = AppCursor::at("2026-01-01 10:00:00", "7");
        assert_eq!(rewind(c.clone()), c);
    }
}
