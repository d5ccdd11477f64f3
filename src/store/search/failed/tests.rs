use super::*;
use crate::model::Direction;
use crate::status::{AuditAction, AuditStatus};
use crate::store::{NewAudit, Store};

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("state.db")).await.unwrap();
    (dir, s)
}

fn failure(app_id: &str, label: &str) -> NewAudit {
    NewAudit {
        job_id: 1,
        object: ObjectKind::Contacts,
        direction: Direction::ToHubSpot,
        app_id: app_id.into(),
        hubspot_id: None,
        action: AuditAction::Create,
        status: AuditStatus::Failed,
        category: Some("VALIDATION_ERROR".into()),
        message: Some(format!("Email address {label} is invalid")),
        diff: None,
        label: label.into(),
    }
}

fn success(app_id: &str, label: &str) -> NewAudit {
    NewAudit {
        status: AuditStatus::Success,
        category: None,
        message: None,
        ..failure(app_id, label)
    }
}

/// `n` open FAILED entries labelled `{prefix}{i}@example`, written in one
/// transaction (the index's triggers fill it as the engine's writes do).
async fn open_failures(s: &Store, prefix: &str, n: usize) {
    let prefix = prefix.to_string();
    s.write(move |conn| {
        let tx = conn.transaction()?;
        for i in 0..n {
            tx.execute(
                "INSERT INTO audit (at, job_id, object, direction, app_id, action, status,
                                    category, message, attempt, label, open)
                 VALUES ('2026-01-01T00:00:00.000Z', 1, 'contacts', 'to_hubspot', ?1,
                         'create', 'FAILED', 'VALIDATION_ERROR', 'bad', 1, ?2, 1)",
                params![format!("{prefix}{i}"), format!("{prefix}{i}@example")],
            )?;
        }
        tx.commit()?;
        Ok(())
    })
    .await
    .unwrap();
}

fn labels(v: &[AuditView]) -> Vec<&str> {
    v.iter().map(|e| e.label.as_str()).collect()
}

#[tokio::test]
async fn a_failure_closed_by_a_later_success_is_no_longer_found() {
    let (_d, s) = store().await;
    s.record(&failure("1", "ann@example")).await.unwrap();
    s.record(&failure("2", "bob@example")).await.unwrap();
    s.record(&success("1", "ann@example")).await.unwrap();
    let page = s.search_failed("example", None, 50).await.unwrap();
    assert_eq!(labels(&page.entries), ["bob@example"]);
}

#[tokio::test]
async fn a_dismissed_failure_is_no_longer_found() {
    let (_d, s) = store().await;
    let id = s.record(&failure("1", "ann@example")).await.unwrap();
    s.dismiss(id, Some("alice")).await.unwrap();
    let page = s.search_failed("ann@", None, 50).await.unwrap();
    assert!(page.entries.is_empty());
}

#[tokio::test]
async fn a_record_failing_again_is_found_once_at_its_latest_attempt() {
    let (_d, s) = store().await;
    s.record(&failure("1", "ann@example")).await.unwrap();
    let latest = s.record(&failure("1", "ann@example")).await.unwrap();
    let page = s.search_failed("ann@ex", None, 50).await.unwrap();
    let ids: Vec<i64> = page.entries.iter().map(|e| e.id).collect();
    assert_eq!(ids, [latest]);
    assert_eq!(page.entries[0].attempt, 2);
}

#[tokio::test]
async fn matches_are_counted_exactly_up_to_the_cap() {
    let (_d, s) = store().await;
    open_failures(&s, "few", 30).await;
    open_failures(&s, "other", 10).await;
    let page = s.search_failed("few", None, 10).await.unwrap();
    assert_eq!(page.entries.len(), 10);
    assert_eq!(
        page.matches,
        FilterMatches {
            count: 30,
            more: false,
            searched_to: None
        }
    );
}

#[tokio::test]
async fn past_the_cap_the_count_says_there_are_more() {
    let (_d, s) = store().await;
    open_failures(&s, "many", COUNT_CAP as usize + 5).await;
    let page = s.search_failed("many", None, 50).await.unwrap();
    assert_eq!(page.matches.count, COUNT_CAP);
    assert!(page.matches.more);
}

#[tokio::test]
async fn a_later_page_counts_the_matches_above_it() {
    let (_d, s) = store().await;
    open_failures(&s, "match", 25).await;
    open_failures(&s, "other", 25).await;
    let first = s.search_failed("match", None, 10).await.unwrap();
    let next = s
        .search_failed("match", Some(first.entries[9].id), 10)
        .await
        .unwrap();
    assert_eq!(next.newer, 10);
    // No gap and no repeat between the pages.
    let want: Vec<String> = (5..15).rev().map(|i| format!("match{i}@example")).collect();
    assert_eq!(labels(&next.entries), want);
}

#[tokio::test]
async fn a_short_text_found_among_the_newest_entries_fills_its_page() {
    let (_d, s) = store().await;
    open_failures(&s, "zq", 20).await;
    let page = s.search_failed("zq", None, 5).await.unwrap();
    assert_eq!(page.entries.len(), 5);
    assert_eq!(page.matches.searched_to, None);
    assert!(page.matches.more);
}

#[tokio::test]
async fn a_short_text_is_looked_for_in_one_window_and_the_page_says_where_it_stopped() {
    let (_d, s) = store().await;
    open_failures(&s, "old", 1).await;
    open_failures(&s, "new", 6).await;
    let window = 4;
    let page = s
        .view(move |conn| short(conn, "ld", None, None, 50, window))
        .await
        .unwrap();
    // The one match is older than the newest four entries.
    assert!(page.entries.is_empty());
    let to = page.matches.searched_to.expect("where the window ended");
    assert!(page.matches.more);
    // Going on from there, with the same window, finds it.
    let next = s
        .view(move |conn| short(conn, "ld", None, Some(to), 50, window))
        .await
        .unwrap();
    assert_eq!(labels(&next.entries), ["old0@example"]);
    assert_eq!(
        next.matches.searched_to, None,
        "the oldest entry was reached"
    );
}

#[tokio::test]
async fn a_short_text_that_reached_the_oldest_entry_says_there_is_no_more() {
    let (_d, s) = store().await;
    open_failures(&s, "a", 3).await;
    let page = s.search_failed("a1", None, 50).await.unwrap();
    assert_eq!(labels(&page.entries), ["a1@example"]);
    assert_eq!(
        page.matches,
        FilterMatches {
            count: 1,
            more: false,
            searched_to: None
        }
    );
}

#[tokio::test]
async fn the_failed_version_moves_when_a_failure_opens_or_closes_but_not_otherwise() {
    let (_d, s) = store().await;
    let v0 = s.failed_version();
    s.record(&success("9", "fine@example")).await.unwrap();
    assert_eq!(s.failed_version(), v0, "a success that closes nothing");
    s.record(&failure("1", "ann@example")).await.unwrap();
    let v1 = s.failed_version();
    assert_ne!(v1, v0, "a new failure");
    s.record(&success("1", "ann@example")).await.unwrap();
    assert_ne!(s.failed_version(), v1, "a failure closed by a success");
}
