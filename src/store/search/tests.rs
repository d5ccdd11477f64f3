use super::*;
use crate::store::NewAudit;

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("state.db")).await.unwrap();
    (dir, s)
}

fn entry(app_id: &str, label: &str, status: AuditStatus, message: Option<&str>) -> NewAudit {
    NewAudit {
        job_id: 1,
        object: ObjectKind::Contacts,
        direction: Direction::ToHubSpot,
        app_id: app_id.into(),
        hubspot_id: None,
        action: AuditAction::Create,
        status,
        category: (status == AuditStatus::Failed).then(|| "VALIDATION_ERROR".into()),
        message: message.map(str::to_string),
        diff: Some(r#"{"email":"x"}"#.into()),
        label: label.into(),
    }
}

fn query(text: &str) -> AuditQuery {
    AuditQuery {
        text: Some(text.into()),
        limit: 50,
        ..AuditQuery::default()
    }
}

fn labels(v: &[AuditView]) -> Vec<&str> {
    v.iter().map(|e| e.label.as_str()).collect()
}

#[tokio::test]
async fn a_substring_of_a_label_finds_its_entries_in_any_case() {
    let (_d, s) = store().await;
    s.record(&entry("1", "ann@example.com", AuditStatus::Success, None))
        .await
        .unwrap();
    s.record(&entry("2", "bob@example.com", AuditStatus::Success, None))
        .await
        .unwrap();
    let found = s.search_audit(query("ANN@EX")).await.unwrap();
    assert_eq!(labels(&found), ["ann@example.com"]);
}

#[tokio::test]
async fn hubspots_message_and_the_category_are_searched_too() {
    let (_d, s) = store().await;
    s.record(&entry(
        "1",
        "a@x",
        AuditStatus::Failed,
        Some("Email address a@x is invalid"),
    ))
    .await
    .unwrap();
    s.record(&entry("2", "b@y.com", AuditStatus::Success, None))
        .await
        .unwrap();
    assert_eq!(
        labels(&s.search_audit(query("is invalid")).await.unwrap()),
        ["a@x"]
    );
    assert_eq!(
        labels(&s.search_audit(query("validation_err")).await.unwrap()),
        ["a@x"]
    );
}

#[tokio::test]
async fn a_text_shorter_than_a_trigram_still_matches() {
    let (_d, s) = store().await;
    s.record(&entry("41", "ann", AuditStatus::Success, None))
        .await
        .unwrap();
    s.record(&entry("7", "bob", AuditStatus::Success, None))
        .await
        .unwrap();
    assert_eq!(labels(&s.search_audit(query("41")).await.unwrap()), ["ann"]);
    assert_eq!(labels(&s.search_audit(query("o")).await.unwrap()), ["bob"]);
}

#[tokio::test]
async fn pages_of_matches_follow_each_other_without_gap_or_repeat() {
    let (_d, s) = store().await;
    for i in 0..25 {
        s.record(&entry(
            &i.to_string(),
            &format!("match{i}"),
            AuditStatus::Success,
            None,
        ))
        .await
        .unwrap();
        s.record(&entry(
            &format!("o{i}"),
            "other",
            AuditStatus::Success,
            None,
        ))
        .await
        .unwrap();
    }
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = s
            .search_audit(AuditQuery {
                text: Some("match".into()),
                before,
                limit: 10,
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        seen.extend(page.iter().map(|e| e.label.clone()));
    }
    let want: Vec<String> = (0..25).rev().map(|i| format!("match{i}")).collect();
    assert_eq!(seen, want);
}

#[tokio::test]
async fn the_failed_filter_lists_open_failures_only() {
    let (_d, s) = store().await;
    s.record(&entry("1", "ann@x", AuditStatus::Failed, Some("bad")))
        .await
        .unwrap();
    s.record(&entry("2", "ann@y", AuditStatus::Failed, Some("bad")))
        .await
        .unwrap();
    // Record 1 succeeds later: its failure is closed.
    s.record(&entry("1", "ann@x", AuditStatus::Success, None))
        .await
        .unwrap();
    let q = AuditQuery {
        open_only: true,
        ..query("ann")
    };
    let found = s.search_audit(q).await.unwrap();
    assert_eq!(labels(&found), ["ann@y"]);
    let page = s.search_failed("ann", None, 50).await.unwrap();
    assert_eq!(labels(&page.entries), ["ann@y"]);
    assert_eq!(page.matches.count, 1);
}

#[tokio::test]
async fn pruned_entries_leave_the_index() {
    let (_d, s) = store().await;
    s.record(&entry("1", "gone@example.com", AuditStatus::Success, None))
        .await
        .unwrap();
    s.prune_audit(0, chrono::Duration::days(1)).await.unwrap();
    assert!(s.search_audit(query("gone@")).await.unwrap().is_empty());
    s.record(&entry("2", "gone@example.com", AuditStatus::Success, None))
        .await
        .unwrap();
    assert_eq!(s.search_audit(query("gone@")).await.unwrap().len(), 1);
}

#[tokio::test]
async fn an_edit_is_audited_with_its_values_and_leaves_the_failure_open() {
    let (_d, s) = store().await;
    s.record(&entry("1", "a@x", AuditStatus::Failed, Some("bad")))
        .await
        .unwrap();
    s.record_edit(&NewEdit {
        object: ObjectKind::Contacts,
        app_id: "1".into(),
        hubspot_id: None,
        label: "a@x".into(),
        column: "email".into(),
        old: Some("a@x".into()),
        new: "a@x.com".into(),
        operator: "alice".into(),
    })
    .await
    .unwrap();
    assert_eq!(s.open_failure_count(None).await.unwrap(), 1);
    let story = s
        .attempts(ObjectKind::Contacts, Some("1"), None, 10)
        .await
        .unwrap();
    let edit = &story[0];
    assert_eq!(edit.entry.action, AuditAction::Edited);
    assert_eq!(edit.entry.operator.as_deref(), Some("alice"));
    assert_eq!(
        edit.entry.message.as_deref(),
        Some(r#"email changed from "a@x" to "a@x.com" by alice"#)
    );
    assert_eq!(edit.diff.as_ref().unwrap()["email"], "a@x.com");
    assert_eq!(story[1].entry.status, AuditStatus::Failed);
    assert_eq!(story[1].diff.as_ref().unwrap()["email"], "x");
}

#[tokio::test]
async fn a_records_attempts_are_found_by_its_hubspot_id_too() {
    let (_d, s) = store().await;
    let mut from_hubspot = entry("hs:900", "h@x.com", AuditStatus::Success, None);
    from_hubspot.hubspot_id = Some("900".into());
    s.record(&from_hubspot).await.unwrap();
    let mut later = entry("5", "h@x.com", AuditStatus::Success, None);
    later.hubspot_id = Some("900".into());
    s.record(&later).await.unwrap();
    s.record(&entry("6", "other", AuditStatus::Success, None))
        .await
        .unwrap();
    let story = s
        .attempts(ObjectKind::Contacts, None, Some("900"), 10)
        .await
        .unwrap();
    let ids: Vec<&str> = story.iter().map(|a| a.entry.app_id.as_str()).collect();
    assert_eq!(ids, ["5", "hs:900"]);
}

#[tokio::test]
async fn an_old_open_failure_is_found_behind_thousands_of_closed_matches() {
    let (_d, s) = store().await;
    s.record(&entry(
        "old",
        "old@shared.example",
        AuditStatus::Failed,
        Some("bad"),
    ))
    .await
    .unwrap();
    // Thousands of closed entries sharing the text, newer than it.
    s.write(|conn| {
        let tx = conn.transaction()?;
        for i in 0..5_000 {
            tx.execute(
                "INSERT INTO audit (at, job_id, object, direction, app_id, action, status,
                                    attempt, label, open)
                 VALUES ('2026-01-01T00:00:00.000Z', 1, 'contacts', 'to_hubspot', ?1,
                         'update', 'SUCCESS', 1, ?2, 0)",
                params![format!("n{i}"), format!("n{i}@shared.example")],
            )?;
        }
        tx.commit()?;
        Ok(())
    })
    .await
    .unwrap();
    let q = AuditQuery {
        open_only: true,
        ..query("shared.example")
    };
    assert_eq!(
        labels(&s.search_audit(q).await.unwrap()),
        ["old@shared.example"]
    );
}
