//! The console against an engine with ROWS (default 1,000,000) open FAILED
//! audit entries: the time to draw a frame at 200×50, the time from a key
//! to the frame that shows its answer for `/` filtering and for paging
//! (the request over the control socket, the engine's SQL, the redraw),
//! and the CPU an attached, idle console uses in a real terminal (tmux).
//! Goals (issue 9): under 5 ms a frame, under 50 ms key to screen, idle
//! under 1 % of a core. Prints figures; never fails.
//!
//!     cargo bench --bench console [-- ROWS]

#[path = "../tests/support/mod.rs"]
mod support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hubsync::console::{App, ConsoleOptions, Request, draw};
use hubsync::control::ControlClient;
use hubsync::status::Snapshot;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};
use support::{Tmux, World};

const FRAME_GOAL_MS: f64 = 5.0;
const KEY_GOAL_MS: f64 = 50.0;
const IDLE_GOAL_PCT: f64 = 1.0;

/// Writes `n` open FAILED entries straight into the state database, as a
/// long-running engine would have left them: distinct records, a few
/// categories, HubSpot's kind of message.
fn fill(state: &std::path::Path, n: usize) -> anyhow::Result<()> {
    let c = rusqlite::Connection::open(state)?;
    c.busy_timeout(Duration::from_secs(60))?;
    c.execute_batch(&format!(
        "BEGIN;
         WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < {n})
         INSERT INTO audit (at, job_id, object, direction, app_id, hubspot_id, action, status,
                            category, message, attempt, label, open)
         SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (n % 86400) || ' seconds'),
                1, 'contacts', 'to_hubspot', 'b' || n, 9000000 + n, 'create', 'FAILED',
                CASE n % 3 WHEN 0 THEN 'VALIDATION_ERROR' WHEN 1 THEN 'CONFLICT' ELSE 'RATE_LIMITS' END,
                'Property values were not valid: Email address person' || n || '@example is invalid',
                1, 'person' || n || '@example', 1
         FROM i;
         COMMIT;"
    ))?;
    Ok(())
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn frame_ms(term: &mut Terminal<TestBackend>, app: &App) -> f64 {
    let t = Instant::now();
    term.draw(|f| draw(f, app)).unwrap();
    t.elapsed().as_secs_f64() * 1000.0
}

/// Sends what a key asked and waits for the answer, as the console does.
async fn answer(client: &ControlClient, req: Request) -> anyhow::Result<Snapshot> {
    let Request::FailedPage { before_id, filter } = req else {
        anyhow::bail!("the key asked for {req:?}, not a page");
    };
    let v = client
        .request(
            "failed_page",
            serde_json::json!({ "before": before_id, "filter": filter }),
        )
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// What the list showed after a key: where its page is, how many match,
/// the first entry.
fn shown(s: &Snapshot) -> String {
    let matches = match s.failed_matches {
        None => format!("{} open", s.failed_total),
        Some(m) => format!(
            "{}{} match{}",
            m.count,
            if m.more { "+" } else { "" },
            if m.searched_to.is_some() {
                " so far"
            } else {
                ""
            }
        ),
    };
    let first = s
        .failed
        .first()
        .map_or("(none)".to_string(), |a| a.label.clone());
    format!(
        "{matches}; rows {}–{} listed, first {first}",
        s.failed_newer + 1,
        s.failed_newer + s.failed.len() as u64
    )
}

/// CPU seconds (user + system) a process has used, from /proc.
fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rows: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let world = World::start(10, 0);
    // A first run creates the state database; the entries go in while no
    // engine holds it.
    let mut engine = world.run();
    world.wait_for_engine(&mut engine);
    engine.signal("TERM");
    engine.wait_exit(Duration::from_secs(20));
    let t = Instant::now();
    fill(&world.data.join("state.db"), rows)?;
    println!(
        "{rows} open FAILED entries written in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let mut engine = world.run();
    world.wait_for_engine(&mut engine);

    let client = ControlClient::connect(&world.data.join("control.sock")).await?;
    let mut app = App::new(&ConsoleOptions {
        title: "bench".into(),
        ..Default::default()
    });
    let t = Instant::now();
    let first = client.subscribe().await?;
    println!(
        "attach: first snapshot in {:.1} ms ({} FAILED open)",
        t.elapsed().as_secs_f64() * 1000.0,
        first.failed_total
    );
    app.set_snapshot(first);

    // Frames.
    let mut term = Terminal::new(TestBackend::new(200, 50))?;
    let mut frames: Vec<f64> = (0..500).map(|_| frame_ms(&mut term, &app)).collect();
    let p50 = percentile(&mut frames, 0.5);
    let p99 = percentile(&mut frames, 0.99);
    println!(
        "frame at 200x50: p50 {p50:.2} ms, p99 {p99:.2} ms (goal < {FRAME_GOAL_MS} ms: p99 at {:.0}% of it)",
        p99 / FRAME_GOAL_MS * 100.0
    );

    // `/` typed one key at a time: each key's page comes from the engine.
    // Texts of every kind: one record's email, a word in every entry, a
    // short text in most entries and in none, a HubSpot id, a category.
    let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    let esc = KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE);
    let rare = format!("person{}@", rows / 2 + 345);
    let hubspot_id = format!("{}", 9_000_000 + rows / 3);
    let texts = [
        ("one record's email", rare.as_str()),
        ("a word in every entry", "example"),
        ("two characters, common", "12"),
        ("two characters, in none", "zq"),
        ("a HubSpot id", hubspot_id.as_str()),
        ("an error category", "RATE_LIMITS"),
    ];
    let mut typing = Vec::new();
    for (what, text) in texts {
        println!("/ {what}: {text:?}, key by key");
        app.handle_key(key('/'));
        let mut typed = String::new();
        for c in text.chars() {
            typed.push(c);
            let t = Instant::now();
            if let Some(req) = app.handle_key(key(c)) {
                app.set_snapshot(answer(&client, req).await?);
            }
            frame_ms(&mut term, &app);
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            typing.push(ms);
            println!("  {typed:<14} {ms:7.1} ms  {}", shown(&app.ctx.snapshot));
        }
        // Esc restores the filter before `/`, a second clears it.
        for _ in 0..2 {
            if let Some(req) = app.handle_key(esc) {
                app.set_snapshot(answer(&client, req).await?);
            }
        }
    }
    let keys = typing.len();
    let worst = typing.iter().cloned().fold(0.0, f64::max);
    let p50 = percentile(&mut typing, 0.5);
    println!(
        "/ filter, key to screen: p50 {p50:.1} ms, worst {worst:.1} ms over {keys} keys (goal < {KEY_GOAL_MS} ms: worst at {:.0}% of it)",
        worst / KEY_GOAL_MS * 100.0
    );

    // `]` through older pages (every key past the loaded page asks the
    // engine), of the whole list and of a filter most entries match.
    for filter in [None, Some("example")] {
        if let Some(f) = filter {
            app.handle_key(key('/'));
            for c in f.chars() {
                if let Some(req) = app.handle_key(key(c)) {
                    app.set_snapshot(answer(&client, req).await?);
                }
            }
            app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        }
        let mut paging = Vec::new();
        for _ in 0..30 {
            let t = Instant::now();
            if let Some(req) = app.handle_key(key(']')) {
                app.set_snapshot(answer(&client, req).await?);
            }
            frame_ms(&mut term, &app);
            paging.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let worst = paging.iter().cloned().fold(0.0, f64::max);
        let p50 = percentile(&mut paging, 0.5);
        let list = filter.map_or("the whole list".to_string(), |f| format!("/{f}"));
        println!(
            "] paging {list}, key to screen: p50 {p50:.1} ms, worst {worst:.1} ms over 30 keys (goal < {KEY_GOAL_MS} ms: worst at {:.0}% of it); after them {}",
            worst / KEY_GOAL_MS * 100.0,
            shown(&app.ctx.snapshot)
        );
    }
    drop(client);

    // The real console, attached in a real terminal, left alone.
    let tmux = Tmux::new("hubsync-bench-console");
    tmux.start(
        "idle",
        &format!(
            "exec {} --data-dir {}",
            env!("CARGO_BIN_EXE_hubsync"),
            world.data.display()
        ),
    );
    tmux.run(&["resize-window", "-t", "idle", "-x", "200", "-y", "50"]);
    tmux.wait_for(
        "idle",
        "the console to draw",
        Duration::from_secs(30),
        |s| s.contains("FAILED ("),
    );
    let pid: u32 = tmux
        .run(&["display-message", "-p", "-t", "idle", "#{pane_pid}"])
        .trim()
        .parse()?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let window = 20.0;
    let before = cpu_secs(pid).unwrap_or_default();
    tokio::time::sleep(Duration::from_secs_f64(window)).await;
    let used = cpu_secs(pid).unwrap_or_default() - before;
    let pct = used / window * 100.0;
    println!(
        "idle attached console: {pct:.2}% of a core over {window:.0} s (goal < {IDLE_GOAL_PCT}%: at {:.0}% of it)",
        pct / IDLE_GOAL_PCT * 100.0
    );
    Ok(())
}
