//! Triage by cause, as an operator does it: the real console attached to
//! `hubsync run` in an 80×24 tmux, against `hubsync sim`. `:failed`, the
//! invalid-email class of four records, `R`, `y`: one retry job, one
//! summary line ("4 retried: 2 SUCCESS, 2 FAILED"), one job in `:jobs`,
//! never one job per record.

mod support;

use hubsync::control::ControlClient;
use serde_json::json;
use std::time::Duration;
use support::{Tmux, World};

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrying_a_class_is_one_job_with_one_summary() {
    // Two good emails and four HubSpot refuses (broken2@ … broken5@).
    let w = World::start(2, 4);
    let mut engine = w.run();
    w.wait_for_engine(&mut engine);
    let tmux = Tmux::new("triage");
    tmux.start(
        "c",
        &format!(
            "{} --data-dir {}",
            env!("CARGO_BIN_EXE_hubsync"),
            w.data.display()
        ),
    );
    tmux.wait_for("c", "the FAILED entries", WAIT, |s| {
        s.contains("FAILED (4 open")
    });
    // Two of them fixed in the app behind the engine's back (updated_at
    // kept, so no poll takes them first): the retry reads them as they
    // are now, and those two succeed.
    let fixed = w
        .app()
        .execute(
            "UPDATE contacts SET email = replace(email, '@example', '@example.org')
             WHERE email IN ('broken2@example', 'broken3@example')",
            [],
        )
        .unwrap();
    assert_eq!(fixed, 2);

    tmux.keys("c", &[":"]);
    tmux.keys("c", &["-l", "failed"]);
    tmux.keys("c", &["Enter"]);
    let triage = tmux.wait_for("c", "the invalid-email class", WAIT, |s| {
        s.contains("FAILED by cause: 4 open in 1 class") && s.contains("INVALID_EMAIL")
    });
    assert!(triage.contains("fix the value"), "{triage}");
    tmux.keys("c", &["R"]);
    tmux.wait_for("c", "the question", WAIT, |s| {
        s.contains("Retry all 4 open FAILED entries of")
    });
    tmux.keys("c", &["y"]);
    let done = tmux.wait_for("c", "the summary", WAIT, |s| {
        s.contains("4 retried: 2 SUCCESS, 2 FAILED")
    });
    assert_eq!(
        done.matches("retried:").count(),
        1,
        "one summary line:\n{done}"
    );

    tmux.keys("c", &[":"]);
    tmux.keys("c", &["-l", "jobs"]);
    tmux.keys("c", &["Enter"]);
    let jobs = tmux.wait_for("c", "the jobs view", WAIT, |s| s.contains("retry records"));
    assert_eq!(
        jobs.matches("retry records").count(),
        1,
        "one job for the class, not one per record:\n{jobs}"
    );
    assert!(
        !jobs.contains(" retry contacts"),
        "no per-record retry job:\n{jobs}"
    );

    // The engine agrees: the two fixed records are linked (their HubSpot
    // ids written back), the other two FAILED a second time.
    let linked: i64 = w
        .app()
        .query_row(
            "SELECT count(*) FROM contacts WHERE email LIKE '%@example.org' AND hubspot_id IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(linked, 2);
    let c = ControlClient::connect(&w.data.join("control.sock"))
        .await
        .unwrap();
    let failed = c.request("failed_groups", json!({})).await.unwrap();
    assert_eq!(failed["total"], json!(2), "{failed:#}");
    tmux.keys("c", &["q"]);
    assert!(
        engine.is_running(),
        "quitting the console leaves the engine"
    );
}
