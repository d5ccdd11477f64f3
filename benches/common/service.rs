//! The real `hubsync run` as a child of a benchmark: its config's field
//! blocks, starting it, killing it however the benchmark ends, and its
//! peak memory.

use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `hubsync run`, killed and reaped when dropped.
pub struct Service(pub Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Service {
    /// Starts `hubsync run --config CONFIG --data-dir DATA` with `env`
    /// (the token's variable, a webhook secret's), its output discarded.
    pub fn start(config: &Path, data: &Path, env: &[(&str, &str)]) -> anyhow::Result<Service> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hubsync"));
        cmd.args(["run", "--config"])
            .arg(config)
            .arg("--data-dir")
            .arg(data)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        Ok(Service(cmd.spawn()?))
    }

    /// Its peak resident memory in MB, while it runs.
    pub fn peak_rss_mb(&self) -> Option<f64> {
        super::vm_hwm_mb(&format!("/proc/{}/status", self.0.id()))
    }
}

/// `[[objects.OBJECT.fields]]` blocks mapping app columns to HubSpot
/// properties, for a config's text.
pub fn fields_toml(object: &str, pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(app, hs)| {
            format!("\n[[objects.{object}.fields]]\napp = \"{app}\"\nhubspot = \"{hs}\"\n")
        })
        .collect()
}
