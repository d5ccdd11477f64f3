//! The engine as a service (SPEC §4b), with the real binaries: one engine
//! per data folder, consoles that attach to it and leave it running, and
//! config reloads on SIGHUP.

mod support;

use std::io::Read;
use std::time::Duration;
use support::{Tmux, World, wait_until};

fn stderr_of(p: &mut support::Proc) -> String {
    let mut s = String::new();
    if let Some(e) = p.0.stderr.as_mut() {
        let _ = e.read_to_string(&mut s);
    }
    s
}

#[test]
fn a_second_engine_on_the_same_data_folder_refuses_to_start_naming_the_first() {
    let w = World::start(3, 0);
    let mut first = w.run();
    w.wait_for_engine(&mut first);
    let mut second = w.run();
    let status = second.wait_exit(Duration::from_secs(15));
    assert!(!status.success(), "the second engine exited {status}");
    let err = stderr_of(&mut second);
    assert!(err.contains(&format!("pid {}", first.pid())), "{err}");
    assert!(
        err.contains("hubsync --data-dir"),
        "says how to attach: {err}"
    );
    assert!(first.is_running(), "the first engine is untouched");
}

#[test]
fn after_a_kill_9_a_new_engine_starts_on_the_folder_at_once() {
    let w = World::start(3, 0);
    let mut first = w.run();
    w.wait_for_engine(&mut first);
    first.signal("KILL");
    first.wait_exit(Duration::from_secs(5));
    // The lock died with the process; the socket file it left is stale.
    let mut second = w.run();
    w.wait_for_engine(&mut second);
    assert!(second.is_running(), "{}", stderr_of(&mut second));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_applies_a_valid_config_from_the_next_job() {
    let w = World::start(3, 0);
    let mut engine = w.run();
    w.wait_for_engine(&mut engine);
    wait_for_total(&w, 3).await;

    w.write_config(&["email", "first_name", "last_name", "job_title"]);
    engine.signal("HUP");
    wait_until("the reload in the log", Duration::from_secs(10), || {
        w.log().contains("config reloaded")
    });
    w.app()
        .execute(
            "UPDATE contacts SET job_title = 'CTO' WHERE email = 'person0@example.com'",
            [],
        )
        .unwrap();
    wait_for_property(&w, "person0@example.com", "jobtitle", "CTO").await;
    assert!(engine.is_running());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_with_an_invalid_config_keeps_the_running_one_and_tells_the_consoles_why() {
    let w = World::start(3, 0);
    let mut engine = w.run();
    w.wait_for_engine(&mut engine);
    wait_for_total(&w, 3).await;
    let client = hubsync::control::ControlClient::connect(&w.data.join("control.sock"))
        .await
        .unwrap();
    client.subscribe().await.unwrap();
    let mut notices = client.take_notices().unwrap();

    let good = std::fs::read_to_string(&w.config).unwrap();
    std::fs::write(
        &w.config,
        good.replace("direction = \"both\"", "direction = \"sideways\""),
    )
    .unwrap();
    engine.signal("HUP");
    let notice = tokio::time::timeout(Duration::from_secs(10), notices.recv())
        .await
        .expect("no notice reached the attached console")
        .unwrap();
    assert!(notice.warning, "{notice:?}");
    assert!(
        notice.text.contains("config reload refused"),
        "{}",
        notice.text
    );
    assert!(
        notice.text.contains("sideways"),
        "names the bad value: {}",
        notice.text
    );
    // The log is written by a background thread: it may trail the notice.
    wait_until("the refusal in the log", Duration::from_secs(10), || {
        w.log().contains("config reload refused")
    });

    // The running config still syncs.
    w.app()
        .execute(
            "UPDATE contacts SET first_name = 'Grace' WHERE email = 'person1@example.com'",
            [],
        )
        .unwrap();
    wait_for_property(&w, "person1@example.com", "firstname", "Grace").await;
    assert!(engine.is_running());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_consoles_watch_one_engine_page_on_their_own_and_quitting_both_leaves_it_syncing() {
    // More FAILED records than one page (200) holds.
    let w = World::start(3, 230);
    let mut engine = w.run();
    w.wait_for_engine(&mut engine);
    let tmux = Tmux::new("service");
    let console = format!(
        "{} --data-dir {}",
        env!("CARGO_BIN_EXE_hubsync"),
        w.data.display()
    );
    tmux.start("one", &console);
    tmux.start("two", &console);
    let all_failed = |s: &str| s.contains("FAILED (230 open");
    for c in ["one", "two"] {
        let screen = tmux.wait_for(
            c,
            "every FAILED record",
            Duration::from_secs(60),
            all_failed,
        );
        assert!(
            screen.contains(&format!("pid {}", engine.pid())),
            "{screen}"
        );
    }
    tmux.wait_for(
        "one",
        "both consoles counted",
        Duration::from_secs(10),
        |s| s.contains("2 con"),
    );

    // `]` first walks the loaded entries below the screen; from the last
    // one, it asks the engine for the next page.
    tmux.keys("one", &["G", "]"]);
    tmux.wait_for("one", "the older page", Duration::from_secs(10), |s| {
        s.contains("201–230 shown")
    });
    let other = tmux.screen("two");
    assert!(
        other.contains("1–200 shown"),
        "the other console moved:\n{other}"
    );

    for c in ["one", "two"] {
        tmux.keys(c, &["q"]);
    }
    wait_until("both consoles to quit", Duration::from_secs(10), || {
        !tmux.has("one") && !tmux.has("two")
    });
    assert!(
        engine.is_running(),
        "quitting the consoles stopped the engine"
    );

    w.app()
        .execute(
            "INSERT INTO contacts (email, first_name, last_name) VALUES ('late@example.com', 'Late', 'Comer')",
            [],
        )
        .unwrap();
    wait_for_property(&w, "late@example.com", "firstname", "Late").await;
}

async fn wait_for_total(w: &World, n: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while w.hubspot_total().await < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "HubSpot never held {n} contacts; log:\n{}",
            w.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_for_property(w: &World, email: &str, property: &str, value: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if w.hubspot_property(email, property).await.as_deref() == Some(value) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{email}'s {property} never became {value:?} in HubSpot; log:\n{}",
            w.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn a_viewer_group_opens_the_viewer_socket_to_that_group_and_nothing_else() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let w = World::start(1, 0);
    // The test's own primary group: the only one it can be sure exists.
    let out = std::process::Command::new("id")
        .arg("-gn")
        .output()
        .unwrap();
    let group = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let gid = nix_gid();
    let text = std::fs::read_to_string(&w.config).unwrap();
    std::fs::write(
        &w.config,
        format!("{text}\n[control]\nviewer_group = \"{group}\"\n"),
    )
    .unwrap();
    let mut engine = w.run();
    w.wait_for_engine(&mut engine);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let viewer = w.data.join("viewer.sock");
    assert_eq!(mode(&viewer), 0o660);
    assert_eq!(std::fs::metadata(&viewer).unwrap().gid(), gid);
    assert_eq!(mode(&w.data.join("control.sock")), 0o600, "operators only");
    assert_eq!(mode(&w.data), 0o710, "the group may traverse, not list");
    assert_eq!(
        mode(&w.data.join("state.db")),
        0o600,
        "the state stays private"
    );
}

fn nix_gid() -> u32 {
    let out = std::process::Command::new("id").arg("-g").output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}
