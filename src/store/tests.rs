use super::*;
use crate::model::{Direction, ObjectKind};
use crate::status::{AuditAction, AuditStatus, JobKind, JobState};
use std::collections::BTreeMap;

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("state.db")).await.unwrap();
    (dir, s)
}

fn failed(app_id: &str) -> NewAudit {
    NewAudit {
        job_id: 1,
        object: ObjectKind::Contacts,
        direction: Direction::ToHubSpot,
        app_id: app_id.into(),
        hubspot_id: None,
        action: AuditAction::Create,
        status: AuditStatus::Failed,
        category: Some("VALIDATION_ERROR".into()),
        message: Some("Email address x is invalid".into()),
        diff: None,
        label: "x".into(),
    }
}

#[tokio::test]
async fn reopening_the_state_database_keeps_its_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    drop(Store::open(&path).await.unwrap());
    let s = Store::open(&path).await.unwrap();
    let v: i64 = s
        .view(|c| Ok(c.query_row("PRAGMA user_version", [], |r| r.get(0))?))
        .await
        .unwrap();
    assert_eq!(v as usize, SCHEMA_VERSION);
}

#[cfg(unix)]
#[tokio::test]
async fn the_state_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let (_d, s) = store().await;
    let mode = std::fs::metadata(s.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "mode {mode:o}");
}

#[cfg(unix)]
#[test]
fn an_existing_data_folder_open_to_others_is_made_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    create_private_dir(&data).unwrap();
    let mode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
}

#[cfg(unix)]
#[test]
fn a_shared_sticky_folder_is_refused_as_a_data_folder_not_chmod_ed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("tmp");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let err = create_private_dir(&shared).unwrap_err().to_string();
    assert!(err.contains("shared with others"), "{err}");
    let mode = std::fs::metadata(&shared).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o1777, "left as it was");
}

#[tokio::test]
async fn a_hubspot_record_cannot_be_linked_to_two_app_records() {
    let (_d, s) = store().await;
    s.link(ObjectKind::Contacts, "1", "501", &BTreeMap::new())
        .await
        .unwrap();
    assert!(
        s.link(ObjectKind::Contacts, "2", "501", &BTreeMap::new())
            .await
            .is_err()
    );
    assert_eq!(s.link_count(ObjectKind::Contacts).await.unwrap(), 1);
}

#[tokio::test]
async fn a_second_failure_of_a_record_supersedes_the_first_and_counts_the_attempt() {
    let (_d, s) = store().await;
    s.record(&failed("7")).await.unwrap();
    let second = s.record(&failed("7")).await.unwrap();
    let open = s.open_failures(10).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].id, open[0].attempt), (second, 2));
}

#[tokio::test]
async fn a_success_closes_the_records_open_failure() {
    let (_d, s) = store().await;
    s.record(&failed("7")).await.unwrap();
    let mut ok = failed("7");
    ok.status = AuditStatus::Success;
    s.record(&ok).await.unwrap();
    assert_eq!(s.open_failure_count(None).await.unwrap(), 0);
    assert_eq!(
        s.record_history(ObjectKind::Contacts, "7")
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn entries_of_an_operators_job_name_the_operator_and_so_does_a_dismissal() {
    let (_d, s) = store().await;
    let job = s
        .enqueue_by(
            JobKind::RetryRecord,
            ObjectKind::Contacts,
            Direction::ToHubSpot,
            Some("7"),
            Utc::now(),
            Some("alice"),
        )
        .await
        .unwrap();
    let mut e = failed("7");
    e.job_id = job;
    let id = s.record(&e).await.unwrap();
    let entry = s.audit_entry(id).await.unwrap().unwrap();
    assert_eq!(entry.operator.as_deref(), Some("alice"));
    assert!(s.dismiss(id, Some("bob")).await.unwrap());
    let (by, _at) = s.dismissal(id).await.unwrap().unwrap();
    assert_eq!(by.as_deref(), Some("bob"));
}

#[tokio::test]
async fn retention_drops_the_oldest_entries_but_keeps_open_failures() {
    let (_d, s) = store().await;
    s.record(&failed("1")).await.unwrap();
    for i in 2..=10 {
        let mut ok = failed(&i.to_string());
        ok.status = AuditStatus::Success;
        s.record(&ok).await.unwrap();
    }
    let gone = s.prune_audit(4, chrono::Duration::days(90)).await.unwrap();
    assert_eq!(gone, 5);
    assert_eq!(
        s.audit_len().await.unwrap(),
        5,
        "four newest plus the open failure"
    );
    assert_eq!(s.open_failures(10).await.unwrap()[0].app_id, "1");
}

#[tokio::test]
async fn retention_drops_entries_past_their_age() {
    let (_d, s) = store().await;
    let mut ok = failed("2");
    ok.status = AuditStatus::Success;
    s.record(&ok).await.unwrap();
    s.record(&failed("3")).await.unwrap();
    s.write(|c| {
        c.execute("UPDATE audit SET at = '2020-01-01T00:00:00.000Z'", [])?;
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(
        s.prune_audit(1000, chrono::Duration::days(90))
            .await
            .unwrap(),
        1,
        "the old open failure stays"
    );
    assert_eq!(s.open_failure_count(None).await.unwrap(), 1);
}

#[tokio::test]
async fn retention_keeps_the_newest_finished_jobs_and_every_queued_one() {
    let (_d, s) = store().await;
    let queued = s
        .enqueue(
            JobKind::Poll,
            ObjectKind::Contacts,
            Direction::ToHubSpot,
            None,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let total = super::audit::FINISHED_JOBS_KEPT + 5;
    for _ in 0..total {
        let id = s
            .enqueue(
                JobKind::Poll,
                ObjectKind::Contacts,
                Direction::ToHubSpot,
                None,
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        s.finish_job(id, JobState::Succeeded, None).await.unwrap();
    }
    s.prune_audit(2_000_000, chrono::Duration::days(90))
        .await
        .unwrap();
    let (finished, still_queued): (u64, bool) = s
        .view(move |c| {
            let n: i64 = c.query_row(
                "SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'",
                [],
                |r| r.get(0),
            )?;
            let q: bool = c.query_row(
                "SELECT EXISTS (SELECT 1 FROM jobs WHERE id = ?1)",
                [queued],
                |r| r.get(0),
            )?;
            Ok((n as u64, q))
        })
        .await
        .unwrap();
    assert_eq!(finished, super::audit::FINISHED_JOBS_KEPT);
    assert!(still_queued, "a queued job is never pruned");
}

#[tokio::test]
async fn a_records_open_failure_is_found_by_the_record_not_among_all_open_failures() {
    let (_d, s) = store().await;
    let plan: Vec<String> = s
        .view(|c| {
            let mut stmt = c.prepare(&format!(
                "EXPLAIN QUERY PLAN {}",
                super::audit::OPEN_FAILURE_OF_RECORD
            ))?;
            let rows = stmt.query_map(["contacts", "1", "hs:1"], |r| r.get::<_, String>(3))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
        .unwrap();
    assert!(
        plan.iter().any(|p| p.contains("audit_open_by_record")),
        "{plan:?}"
    );
}

#[tokio::test]
async fn interrupted_jobs_are_requeued() {
    let (_d, s) = store().await;
    let id = s
        .enqueue(
            JobKind::Backfill,
            ObjectKind::Contacts,
            Direction::ToHubSpot,
            None,
            Utc::now(),
        )
        .await
        .unwrap();
    s.start_job(id).await.unwrap();
    assert_eq!(s.requeue_running("interrupted").await.unwrap(), 1);
    assert_eq!(
        s.next_due_job(Utc::now()).await.unwrap().map(|j| j.id),
        Some(id)
    );
}

#[tokio::test]
async fn every_write_moves_the_change_counter() {
    let (_d, s) = store().await;
    let mut changes = s.changes();
    changes.borrow_and_update();
    s.record(&failed("1")).await.unwrap();
    assert!(changes.has_changed().unwrap());
}
