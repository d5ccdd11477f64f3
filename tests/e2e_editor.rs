//! Editing filters on the fly, as an operator does it: the real console
//! attached to `hubsync run` in an 80×24 tmux, against `hubsync sim`. Add
//! the filter `company is_none_of ["Internal"]` in `:filters`, see the
//! preview count, save, see the next poll skip those records with the
//! filter named, and go back to the file as it was from `:history`.

mod support;

use hubsync::appdb::demo::FixtureContact;
use std::time::Duration;
use support::backends::Kind;
use support::{Tmux, World, wait_until};

const WAIT: Duration = Duration::from_secs(30);

fn contact(i: usize, company: &str) -> FixtureContact {
    FixtureContact {
        email: Some(format!("person{i}@example.com")),
        first_name: Some(format!("First{i}")),
        last_name: Some(format!("Last{i}")),
        phone: None,
        company: Some(company.into()),
        job_title: None,
    }
}

fn skipped_by_filter(w: &World, job_after_config: bool) -> i64 {
    let state = rusqlite::Connection::open(w.data.join("state.db")).unwrap();
    let sql = format!(
        "SELECT COUNT(*) FROM audit WHERE status = 'SKIPPED'
           AND message LIKE '%company is_none_of [Internal]%' AND job_id {} 0",
        if job_after_config { "<>" } else { "=" }
    );
    state.query_row(&sql, [], |r| r.get(0)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_adds_a_filter_previews_saves_sees_it_skip_and_reverts_it() {
    let contacts = [
        contact(0, "Acme"),
        contact(1, "Internal"),
        contact(2, "Acme"),
        contact(3, "Internal"),
        contact(4, "Globex"),
    ];
    let w = World::start_on(Kind::Sqlite, "e2e_editor", &contacts, None).await;
    w.write_config(&["email", "first_name", "last_name", "company"]);
    let original = std::fs::read_to_string(&w.config).unwrap();
    let mut engine = w.run();
    w.wait_for_engine(&mut engine);
    let tmux = Tmux::new("editor");
    tmux.start(
        "c",
        &format!(
            "{} --data-dir {}",
            env!("CARGO_BIN_EXE_hubsync"),
            w.data.display()
        ),
    );
    tmux.wait_for("c", "the first sync", WAIT, |s| s.contains("linked"));
    wait_until("all five in HubSpot", WAIT, || hubspot_total_now(&w) == 5);

    // The filter, field by field: a new group, the field picked, the
    // operator picked, the value typed.
    tmux.keys("c", &[":"]);
    tmux.keys("c", &["-l", "filters contacts"]);
    tmux.keys("c", &["Enter"]);
    tmux.wait_for("c", "the filters tab", WAIT, |s| {
        s.contains("no filters: every record is eligible")
    });
    tmux.keys("c", &["A"]);
    tmux.wait_for("c", "the new group's form", WAIT, |s| {
        s.contains("new filter group")
    });
    tmux.keys("c", &["j", "Enter"]);
    tmux.wait_for("c", "the field picker", WAIT, |s| {
        s.contains("type to search")
    });
    tmux.keys("c", &["-l", "comp"]);
    tmux.keys("c", &["Enter"]);
    tmux.keys("c", &["j", "Enter"]);
    tmux.wait_for("c", "the operator picker", WAIT, |s| {
        s.contains("operator ·")
    });
    tmux.keys("c", &["-l", "none"]);
    tmux.keys("c", &["Enter"]);
    tmux.keys("c", &["j", "Enter"]);
    tmux.keys("c", &["-l", "Internal"]);
    tmux.keys("c", &["Enter"]);
    tmux.wait_for("c", "the filter kept", WAIT, |s| {
        s.contains("in the working copy") && s.contains("is_none_of [\"Internal\"]")
    });
    tmux.keys("c", &["Escape"]);
    // Esc and the next key in one burst would read as Alt-p.
    tmux.wait_for("c", "the form closed", WAIT, |s| {
        !s.contains("new filter group")
    });

    // The preview: two of five excluded, nothing written.
    tmux.keys("c", &["p"]);
    let preview = tmux.wait_for("c", "the preview", WAIT, |s| {
        s.contains("3 of 5 app rows eligible (now 5)")
    });
    assert!(preview.contains("nothing was written"), "{preview}");
    assert_eq!(std::fs::read_to_string(&w.config).unwrap(), original);

    // Save: the question, then y.
    tmux.keys("c", &["C-s"]);
    tmux.wait_for("c", "the save question", WAIT, |s| {
        s.contains("and apply? y / Esc")
    });
    tmux.keys("c", &["y"]);
    tmux.wait_for("c", "the save", WAIT, |s| {
        s.contains("· saved") && s.contains("config reloaded")
    });
    let saved = std::fs::read_to_string(&w.config).unwrap();
    assert!(
        saved.starts_with(&original),
        "the file as it was, then the filter:\n{saved}"
    );
    assert!(
        saved.contains("{ field = \"company\", op = \"is_none_of\", value = [\"Internal\"] }"),
        "{saved}"
    );
    assert_eq!(
        skipped_by_filter(&w, false),
        2,
        "the config change's own entries"
    );

    // The next poll: a new Internal contact is skipped, the filter named,
    // and not created in HubSpot; a new Acme one is.
    w.app()
        .execute_batch(
            "INSERT INTO contacts (email, first_name, last_name, company)
             VALUES ('person8@example.com', 'First8', 'Last8', 'Internal'),
                    ('person9@example.com', 'First9', 'Last9', 'Acme')",
        )
        .unwrap();
    wait_until("the poll's SKIPPED entry", WAIT, || {
        skipped_by_filter(&w, true) >= 1
    });
    wait_until("the Acme contact created", WAIT, || {
        hubspot_total_now(&w) == 6
    });
    assert_eq!(
        w.hubspot_property("person8@example.com", "email").await,
        None,
        "an excluded record is not created"
    );

    // Back to the file as it was: :history, the first version, u.
    tmux.keys("c", &[":"]);
    tmux.keys("c", &["-l", "history"]);
    tmux.keys("c", &["Enter"]);
    tmux.wait_for("c", "the history", WAIT, |s| {
        s.contains("config history (2)")
    });
    tmux.keys("c", &["j", "Enter"]);
    tmux.wait_for("c", "the first version", WAIT, |s| {
        s.contains("the file as it was before the first change")
    });
    tmux.keys("c", &["u"]);
    wait_until("the file put back", WAIT, || {
        std::fs::read_to_string(&w.config).unwrap() == original
    });
    tmux.wait_for("c", "the revert said", WAIT, |s| {
        s.contains("config reloaded from")
    });
    tmux.keys("c", &["q"]);
    assert!(
        engine.is_running(),
        "quitting the console leaves the engine"
    );
}

/// HubSpot's contact count, from the simulator's API.
fn hubspot_total_now(w: &World) -> u64 {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(w.hubspot_total()))
}
