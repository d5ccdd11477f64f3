//! Fix and retry, as an operator does it: the real console attached to
//! `hubsync run` in an 80×24 tmux, against `hubsync sim`. Find a FAILED
//! record with `:records contacts` and `/`, open it, retry it once (two
//! attempts, both sides' values shown), fix its email, retry, see SUCCESS.

mod support;

use std::time::Duration;
use support::{Tmux, World};

const WAIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_finds_a_failed_record_fixes_its_email_retries_and_sees_success() {
    // Three good emails and two HubSpot refuses (broken3@, broken4@).
    let w = World::start(3, 2);
    let mut engine = w.run();
    w.wait_for_engine(&mut engine);
    let tmux = Tmux::new("records");
    tmux.start(
        "c",
        &format!(
            "{} --data-dir {}",
            env!("CARGO_BIN_EXE_hubsync"),
            w.data.display()
        ),
    );
    tmux.wait_for("c", "the FAILED entries", WAIT, |s| {
        s.contains("FAILED (2 open")
    });

    tmux.keys("c", &[":"]);
    tmux.keys("c", &["-l", "records contacts"]);
    tmux.keys("c", &["Enter"]);
    tmux.keys("c", &["/"]);
    tmux.keys("c", &["-l", "broken3"]);
    tmux.wait_for("c", "the record found", WAIT, |s| {
        s.contains("matching \"broken3\" (1)") && s.contains("not linked")
    });
    tmux.keys("c", &["Enter"]); // keeps the filter
    tmux.keys("c", &["Enter"]); // opens the record
    let story = tmux.wait_for("c", "its story", WAIT, |s| s.contains("attempts (1)"));
    assert!(story.contains("FAILED"), "{story}");
    assert!(story.contains("not in HubSpot"), "{story}");

    // Once more as it is: a second attempt, refused again.
    tmux.keys("c", &["r"]);
    let story = tmux.wait_for("c", "the second attempt", WAIT, |s| {
        s.contains("attempts (2)")
    });
    let field_row = story
        .lines()
        .find(|l| l.contains("│email"))
        .unwrap_or_else(|| panic!("no email row:\n{story}"));
    assert!(field_row.contains("broken3@example"), "app side: {story}");
    assert!(
        field_row.contains("–"),
        "HubSpot has no such contact: {story}"
    );
    assert!(
        story.contains("Email address broken3@example is inv"),
        "{story}"
    );

    // The fix: e, the value replaced, Enter, y.
    tmux.keys("c", &["e"]);
    tmux.wait_for("c", "the edit prompt", WAIT, |s| s.contains("new email:"));
    for _ in 0..20 {
        tmux.keys("c", &["BSpace"]);
    }
    tmux.keys("c", &["-l", "fixed3@example.com"]);
    tmux.keys("c", &["Enter"]);
    tmux.wait_for("c", "the question", WAIT, |s| s.contains("y writes it"));
    tmux.keys("c", &["y"]);
    // The edit stamps updated_at, so the engine's next poll may sync it
    // before the retry does: either way the newest attempt is a SUCCESS.
    let story = tmux.wait_for("c", "the edit in the story", WAIT, |s| {
        s.contains("edited by")
    });
    assert!(story.contains("fixed3@example.com"), "{story}");
    let in_app: String = w
        .app()
        .query_row(
            "SELECT email FROM contacts WHERE email LIKE 'fixed3%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(in_app, "fixed3@example.com");

    tmux.keys("c", &["r"]);
    let newest_succeeded = |s: &str| {
        let mut lines = s.lines().skip_while(|l| !l.contains("attempts ("));
        lines.next();
        lines.next().is_some_and(|l| l.contains("SUCCESS"))
    };
    let email_agrees = |s: &str| {
        s.lines()
            .find(|l| l.contains("│email"))
            .is_some_and(|l| l.matches("fixed3@examp").count() == 3)
    };
    let story = tmux.wait_for("c", "the retry's SUCCESS", WAIT, |s| {
        newest_succeeded(s) && email_agrees(s)
    });
    assert!(story.contains("linked"), "{story}");
    assert_eq!(
        w.hubspot_property("fixed3@example.com", "email")
            .await
            .as_deref(),
        Some("fixed3@example.com")
    );
    tmux.keys("c", &["q"]);
    assert!(
        engine.is_running(),
        "quitting the console leaves the engine"
    );
}
