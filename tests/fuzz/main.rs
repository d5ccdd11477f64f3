//! Fuzzing with shrinking (proptest) of the inputs strangers control: the
//! config file, webhook deliveries with their signatures, request bodies
//! sent to the simulator, and record text drawn on the console. Each
//! target asserts that nothing panics and that every rejection is a clear
//! error (what and where), never a crash or a silent 500.
//!
//! `cargo test` runs a short smoke of each (a few hundred cases, seconds).
//! A long local run: `PROPTEST_CASES=200000 cargo test --release --test
//! fuzz -- --nocapture` (each target prints how many inputs it tried).

mod config;
mod sim;
mod text;
mod webhook;

use proptest::test_runner::Config;

/// Cases per target: `PROPTEST_CASES` when set, else `smoke`.
pub fn cases(smoke: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(smoke);
    Config {
        cases,
        // Shrinking a failure is worth some time; a smoke run should not
        // spend it on passing cases.
        max_shrink_iters: 2048,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Counts the inputs one target tried, and prints the figure at the end.
pub struct Tried {
    name: &'static str,
    n: std::sync::atomic::AtomicU64,
    started: std::time::Instant,
}

impl Tried {
    pub fn new(name: &'static str) -> Tried {
        Tried {
            name,
            n: Default::default(),
            started: std::time::Instant::now(),
        }
    }

    pub fn one(&self) {
        self.n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Drop for Tried {
    fn drop(&mut self) {
        println!(
            "fuzz {}: {} inputs in {:.1?}",
            self.name,
            self.n.load(std::sync::atomic::Ordering::Relaxed),
            self.started.elapsed()
        );
    }
}
