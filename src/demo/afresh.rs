//! A demo folder used again keeps its edited config and starts its data
//! afresh.

use anyhow::Context;
use std::path::Path;

/// A demo folder used again (`--data-dir`): its simulator starts from its
/// seed every run, so the last run's app rows, links and cursors would
/// point at HubSpot records that are gone. Its databases are made anew;
/// its edited `hubsync.toml` is kept. Only a folder a demo wrote (its two
/// fixture files are there) loses anything: any other folder with an
/// `app.db` is refused, as before, by the app database's creation.
pub(super) fn start_afresh(dir: &Path) -> anyhow::Result<()> {
    let was_demo = dir.join("app_contacts.json").exists() && dir.join("hubspot_seed.json").exists();
    if !was_demo {
        return Ok(());
    }
    for name in ["app.db", "state.db"] {
        for suffix in ["", "-wal", "-shm"] {
            let path = dir.join(format!("{name}{suffix}"));
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "the last demo's database removed: this demo starts afresh")
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(anyhow::anyhow!(e))
                        .with_context(|| format!("removing the last demo's {}", path.display()));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_demo_folder_loses_its_databases_and_keeps_its_config() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "app_contacts.json",
            "hubspot_seed.json",
            "app.db",
            "state.db",
            "state.db-wal",
            "hubsync.toml",
        ] {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        start_afresh(dir.path()).unwrap();
        for gone in ["app.db", "state.db", "state.db-wal"] {
            assert!(!dir.path().join(gone).exists(), "{gone}");
        }
        assert!(dir.path().join("hubsync.toml").exists());
    }

    #[test]
    fn a_folder_no_demo_wrote_keeps_everything() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["app.db", "state.db"] {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        start_afresh(dir.path()).unwrap();
        assert!(dir.path().join("app.db").exists());
        assert!(dir.path().join("state.db").exists());
    }
}
