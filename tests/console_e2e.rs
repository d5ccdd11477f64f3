//! The real console binary in a real terminal (tmux at 80×24), attached to
//! a real `hubsync run`: the command line, going back with Esc, keys
//! rebound in the config, and a read-only console refusing a write aloud.

mod support;

use std::time::Duration;
use support::{Tmux, World};

const WAIT: Duration = Duration::from_secs(30);

fn console(w: &World, extra: &str) -> String {
    format!(
        "exec {} --config {} --data-dir {} {extra} 2>{}",
        env!("CARGO_BIN_EXE_hubsync"),
        w.config.display(),
        w.data.display(),
        w.path().join("console.err").display()
    )
}

/// A world whose engine runs, with `[keys]` added to its config.
fn running(keys: &str) -> (World, support::Proc) {
    let w = World::start(5, 2);
    let mut config = std::fs::read_to_string(&w.config).unwrap();
    config.push_str(keys);
    std::fs::write(&w.config, config).unwrap();
    let mut engine = w.run();
    w.wait_for_engine(&mut engine);
    (w, engine)
}

#[test]
fn the_command_line_opens_a_view_and_escape_comes_back_without_quitting() {
    let (w, _engine) = running("");
    let t = Tmux::new("console-e2e-cmd");
    t.start("c", &console(&w, ""));
    t.wait_for("c", "the overview", WAIT, |s| s.contains("FAILED ("));
    t.keys("c", &[":", "j", "o", "Tab"]);
    t.wait_for("c", "the completion", WAIT, |s| s.contains(":jobs"));
    t.keys("c", &["Enter"]);
    t.wait_for("c", "the jobs view", WAIT, |s| {
        s.contains("overview › jobs")
    });
    t.keys("c", &["Escape"]);
    let s = t.wait_for("c", "the overview again", WAIT, |s| {
        s.contains("‹overview›") && s.contains("Connections")
    });
    t.keys("c", &["Escape", "Escape"]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(t.has("c"), "Esc quit the console:\n{s}");
    t.keys("c", &["q"]);
    support::wait_until("the console to quit", WAIT, || !t.has("c"));
}

#[test]
fn keys_rebound_in_the_config_act_and_show_in_the_footer_and_help() {
    let (w, _engine) = running("\n[keys.normal]\nsync_now = \"S\"\nquit = [\"x\"]\n");
    let t = Tmux::new("console-e2e-keys");
    t.start("c", &console(&w, ""));
    t.wait_for("c", "the overview", WAIT, |s| s.contains("FAILED ("));
    // `q` is no longer quit: it must leave the console running.
    t.keys("c", &["q"]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(t.has("c"), "q still quits after quit = [\"x\"]");
    t.keys("c", &["S"]);
    t.wait_for("c", "the sync to be asked for", WAIT, |s| {
        s.contains("sync of contacts")
    });
    t.keys("c", &["?"]);
    // Waits for the line itself: a capture can land while the terminal is
    // still drawing the popup, and the title comes before the lines.
    t.wait_for("c", "the help to list S as sync", WAIT, |s| {
        s.lines()
            .any(|l| l.contains(" S ") && l.contains("sync the focused object"))
    });
    t.keys("c", &["Escape"]);
    t.wait_for("c", "the help to close", WAIT, |s| !s.contains("Keys"));
    // Apart: Esc and x in one burst read as Alt-x, as in any terminal.
    t.keys("c", &["x"]);
    support::wait_until("x to quit", WAIT, || !t.has("c"));
}

#[test]
fn a_read_only_console_says_why_a_write_key_does_nothing() {
    let (w, _engine) = running("");
    let t = Tmux::new("console-e2e-ro");
    t.start("c", &console(&w, "--read-only"));
    t.wait_for("c", "the overview", WAIT, |s| s.contains("[read-only]"));
    t.keys("c", &["r"]);
    t.wait_for("c", "the refusal", WAIT, |s| {
        s.contains("read-only: retry changes data")
    });
    t.keys("c", &["q"]);
    support::wait_until("the console to quit", WAIT, || !t.has("c"));
}

#[test]
fn a_bad_key_in_the_config_is_refused_at_its_line_before_the_terminal_is_taken() {
    let (w, _engine) = running("\n[keys.normal]\nretry = \"hyper-r\"\n");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hubsync"))
        .arg("--config")
        .arg(&w.config)
        .arg("--data-dir")
        .arg(&w.data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let line = std::fs::read_to_string(&w.config)
        .unwrap()
        .lines()
        .position(|l| l.starts_with("retry = "))
        .unwrap()
        + 1;
    assert!(err.contains(&format!("hubsync.toml:{line}:")), "{err}");
    assert!(err.contains("not a key"), "{err}");
}
