//! The real `hubsync demo` binary in a real terminal (tmux): the FAILED
//! entries appear, one is retried with `r`, `q` quits, and the terminal is
//! left as it was found.

mod support;

use std::process::Command;
use std::time::Duration;
use support::Tmux;

/// `hubsync demo` on `data` in a shell in session `e2e` of (columns,
/// rows), the shell printing `EXIT=status` when it ends.
fn demo_in_a_shell(tmux: &Tmux, (x, y): (&str, &str), data: &std::path::Path) {
    let bin = env!("CARGO_BIN_EXE_hubsync");
    tmux.run(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-s",
        "e2e",
        "-x",
        x,
        "-y",
        y,
        "sh",
    ]);
    // Make the prompt predictable and the shell's own output easy to find.
    tmux.keys("e2e", &["PS1='$ '", "Enter"]);
    let cmd = format!(
        "{bin} demo --data-dir {} --latency-ms 10 --no-activity; echo \"EXIT=$?\"",
        data.display()
    );
    tmux.keys("e2e", &["-l", &cmd]);
    tmux.keys("e2e", &["Enter"]);
}

#[test]
fn demo_shows_failures_retries_one_and_quits_leaving_the_terminal_clean() {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::new("e2e");
    demo_in_a_shell(&tmux, ("100", "30"), dir.path());

    let screen = tmux.wait_for("e2e", "FAILED entries", Duration::from_secs(90), |s| {
        s.contains("maria.garcia@example") || s.contains("ken.tanaka@example.com,")
    });
    assert_eq!(
        tmux.format("e2e", "#{alternate_on}"),
        "1",
        "the console uses the alternate screen:\n{screen}"
    );

    tmux.keys("e2e", &["r"]);
    // The engine's answer, not just the console's own "requested" note:
    // the invalid email fails again, as a new attempt.
    tmux.wait_for("e2e", "the retry's outcome", Duration::from_secs(30), |s| {
        s.contains("retry of") && s.contains(": FAILED: Email address")
    });

    tmux.keys("e2e", &["q"]);
    // The exit status line, not the command line that prints it.
    // A wrapped command line can also start with "EXIT=": wait for digits.
    let screen = tmux.wait_for(
        "e2e",
        "the shell after exit",
        Duration::from_secs(15),
        |s| {
            s.lines().any(|l| {
                l.trim_end()
                    .strip_prefix("EXIT=")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            })
        },
    );
    assert!(
        screen.lines().any(|l| l == "EXIT=0"),
        "hubsync exited non-zero:\n{screen}"
    );
    assert_eq!(
        tmux.format("e2e", "#{alternate_on}"),
        "0",
        "alternate screen left on:\n{screen}"
    );
    assert_eq!(
        tmux.format("e2e", "#{cursor_flag}"),
        "1",
        "cursor left hidden"
    );

    // Raw mode must be off again: the tty reads lines and echoes.
    let stty = dir.path().join("stty.txt");
    tmux.keys(
        "e2e",
        &[
            "-l",
            &format!("stty -a > {}; echo STTY-DONE", stty.display()),
        ],
    );
    tmux.keys("e2e", &["Enter"]);
    tmux.wait_for("e2e", "stty", Duration::from_secs(10), |s| {
        s.lines().any(|l| l.trim() == "STTY-DONE")
    });
    let modes = std::fs::read_to_string(&stty).unwrap();
    let flags: Vec<&str> = modes.split_whitespace().collect();
    for flag in ["icanon", "echo", "isig"] {
        assert!(
            flags.contains(&flag),
            "{flag} is off after exit: raw mode left on?\n{modes}"
        );
    }
    assert!(!screen.contains("panicked"), "{screen}");
}

/// The demo in a shell in tmux, stopped from outside with `signal`: the
/// terminal must come back as it was (main screen, cursor shown, cooked mode).
fn a_signal_from_outside_leaves_the_terminal_clean(signal: &str) {
    let dir = tempfile::tempdir().unwrap();
    let tmux = Tmux::new(&format!("sig-{signal}"));
    let data = dir.path().join("d");
    demo_in_a_shell(&tmux, ("80", "24"), &data);
    tmux.wait_for("e2e", "the console", Duration::from_secs(90), |s| {
        s.contains("FAILED (")
    });
    assert_eq!(tmux.format("e2e", "#{alternate_on}"), "1");
    let pid = std::fs::read_to_string(data.join("engine.lock"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["pid"].as_u64())
        .expect("the demo's lock names its pid");
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let screen = tmux.wait_for(
        "e2e",
        "the shell after the signal",
        Duration::from_secs(20),
        |s| {
            s.lines()
                .any(|l| l.trim_end().starts_with("EXIT=") && l.len() > 5)
        },
    );
    assert_eq!(
        tmux.format("e2e", "#{alternate_on}"),
        "0",
        "SIG{signal} left the alternate screen on:\n{screen}"
    );
    assert_eq!(
        tmux.format("e2e", "#{cursor_flag}"),
        "1",
        "SIG{signal} left the cursor hidden"
    );
    let stty = dir.path().join("stty.txt");
    tmux.keys(
        "e2e",
        &[
            "-l",
            &format!("stty -a > {}; echo STTY-DONE", stty.display()),
        ],
    );
    tmux.keys("e2e", &["Enter"]);
    tmux.wait_for("e2e", "stty", Duration::from_secs(10), |s| {
        s.lines().any(|l| l.trim() == "STTY-DONE")
    });
    let modes = std::fs::read_to_string(&stty).unwrap();
    let flags: Vec<&str> = modes.split_whitespace().collect();
    for flag in ["icanon", "echo"] {
        assert!(
            flags.contains(&flag),
            "SIG{signal} left raw mode on:\n{modes}"
        );
    }
}

#[test]
fn sigint_from_outside_leaves_the_terminal_clean() {
    a_signal_from_outside_leaves_the_terminal_clean("INT");
}

#[test]
fn sigquit_from_outside_leaves_the_terminal_clean() {
    a_signal_from_outside_leaves_the_terminal_clean("QUIT");
}
