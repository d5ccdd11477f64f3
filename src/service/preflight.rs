//! The checks `hubsync run` makes before its first job and on every
//! reload: the validators `hubsync check` and the editor use, against
//! HubSpot's property list as it is now and the app tables.
//!
//! A config with problems is refused (the engine does not start; a reload
//! keeps the running config) rather than run with a warning. Each problem
//! the validators find means writes HubSpot refuses (an unknown or
//! read-only property fails the whole batch it is in, so every record of
//! the object would be FAILED and retried against the rate budget) or
//! values that are wrong on arrival (a text column into a number or date
//! property, a value-map target that is not one of the dropdown's
//! options). Refusing says it once, at its line, before anything is
//! written, the way the editor refuses to save the same file; a warning
//! would be one line in a log beside thousands of FAILED entries.
//!
//! When HubSpot cannot be asked (down, the token refused, the network
//! away) the properties are not checked and the engine starts anyway,
//! saying so: it already copes with HubSpot being away (retries, the
//! connection shown down), and a service that refused to start during
//! HubSpot's outage would turn the outage into a restart loop.

use crate::config::Config;
use crate::engine::Engine;

/// Refuses `cfg` when the validators find problems; logs what could not
/// be checked.
pub(crate) async fn check_properties(cfg: &Config, engine: &Engine) -> anyhow::Result<()> {
    let (problems, unchecked) = engine.config_problems_now(cfg).await;
    for u in &unchecked {
        tracing::warn!(config = %cfg.path.display(), "not checked against HubSpot: {u}");
    }
    if problems.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
    anyhow::bail!(
        "{} has {} the sync would act on wrongly (`hubsync check` says the same):\n{}",
        cfg.path.display(),
        if list.len() == 1 {
            "a problem".to_string()
        } else {
            format!("{} problems", list.len())
        },
        list.join("\n")
    )
}
