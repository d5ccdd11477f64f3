//! Running hubsync on a real configuration: `hubsync run` (the engine with
//! no console, for a service manager: `run`), `hubsync` (a console attached
//! to the data folder's engine, or hosting one: `attach`), `hubsync status`
//! (`status`) and `hubsync check` (configuration, credentials and mappings
//! against HubSpot's live property list). `host` starts and stops an engine
//! with its control sockets, whoever asked for it.

mod attach;
pub mod host;
mod listen;
mod preflight;
mod reload;
mod run;
mod status;

pub use attach::console;
pub(crate) use reload::config_reloader;
pub use run::run;
pub use status::{StatusReport, status};

use crate::config::Config;
use crate::engine::{Engine, EngineSettings};
use crate::hubspot::HubSpotClient;
use crate::store::Store;
use anyhow::Context;
use std::path::Path;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The engine for a configuration, its state kept in `data_dir`.
pub async fn build_engine(cfg: &Config, data_dir: &Path) -> anyhow::Result<Arc<Engine>> {
    crate::store::create_private_dir(data_dir)?;
    let store = Store::open(&data_dir.join("state.db")).await?;
    let app = cfg.open_app()?;
    cfg.verify_app(&app).await?;
    let client = HubSpotClient::new(cfg.client_settings()?)?;
    Ok(Engine::new(
        Arc::new(client),
        store,
        app,
        cfg.objects.clone(),
        EngineSettings::default(),
    ))
}

/// Starts the webhook receiver when the config has one: verified events
/// queue record syncs on the engine.
pub(crate) async fn start_webhooks(
    cfg: &Config,
    engine: &Arc<Engine>,
    cancel: &CancellationToken,
) -> anyhow::Result<()> {
    let Some(w) = &cfg.webhook else {
        return Ok(());
    };
    let secret = cfg.secret_from_env("webhook.client_secret_env", &w.client_secret_env)?;
    let (tx, rx) = tokio::sync::mpsc::channel(10_000);
    let router = crate::webhook::router(
        crate::webhook::ReceiverConfig {
            client_secret: secret,
            public_base: w.public_base.clone(),
            path: w.path.clone(),
        },
        tx,
    );
    let listener = tokio::net::TcpListener::bind(w.listen)
        .await
        .with_context(|| format!("[webhook] listening on {}", w.listen))?;
    tracing::info!(listen = %w.listen, url = %format!("{}{}", w.public_base, w.path), "webhook receiver listening");
    tokio::spawn(crate::webhook::serve(
        listener,
        router,
        crate::webhook::ServeLimits::default(),
        cancel.clone(),
    ));
    tokio::spawn(crate::webhook::intake::feed(
        engine.clone(),
        rx,
        cancel.clone(),
    ));
    Ok(())
}

/// What `hubsync check` found: one line per problem, empty when all is well.
pub async fn check(cfg: &Config) -> anyhow::Result<Vec<String>> {
    Ok(check_report(cfg).await?.problems)
}

/// `hubsync check`'s findings: problems (the sync cannot work as
/// configured) and warnings (it works, slowly: missing indexes, with the
/// statements that add them).
#[derive(Debug, Default)]
pub struct Checked {
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
}

pub async fn check_report(cfg: &Config) -> anyhow::Result<Checked> {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    let app = match cfg.open_app() {
        Ok(a) => Some(a),
        Err(e) => {
            problems.push(e.to_string());
            None
        }
    };
    let client = HubSpotClient::new(cfg.client_settings()?)?;
    for o in &cfg.objects {
        let m = &o.mapping;
        if let Some(app) = &app {
            // A missing table or column is pointed at where the config
            // names it; the rest (types, indexes) comes from the table's
            // description, without saying the missing ones twice.
            let positioned = cfg.verify_app_object(app, o).await.err();
            let missing_said = positioned.is_some();
            if let Some(e) = positioned {
                problems.push(e.to_string());
            }
            match app.check(m).await {
                Err(e) => problems.push(format!("[objects.{}]: {e:#}", m.object)),
                Ok(r) => {
                    let db = app.describe();
                    problems.extend(
                        r.problems
                            .iter()
                            .filter(|p| {
                                !(missing_said
                                    && (p.starts_with("no table ")
                                        || p.contains(" has no column ")))
                            })
                            .map(|p| format!("[objects.{}] {db}: {p}", m.object)),
                    );
                    warnings.extend(
                        r.warnings
                            .iter()
                            .map(|w| format!("[objects.{}] {db}: {w}", m.object)),
                    );
                    warnings.extend(r.create_index.iter().map(|c| format!("    {c}")));
                }
            }
        }
        // The property- and type-level checks are the editor's and
        // config_apply's too (`config::validate`): one set of messages.
        let table = match &app {
            Some(app) => app.table_info(m).await.ok(),
            None => None,
        };
        match client.properties(m.object).await {
            Err(e) => problems.push(format!("HubSpot {} properties: {e}", m.object)),
            Ok(props) => {
                let facts = crate::config::validate::Facts {
                    properties: Some(&props),
                    table: table.as_ref(),
                };
                problems.extend(
                    crate::config::validate::object(cfg, o, &facts)
                        .iter()
                        // A missing column is said above, by the table's
                        // own check, with every column it has.
                        .filter(|p| !(p.field == "app" && p.message.contains(" has no column ")))
                        .map(ToString::to_string),
                );
            }
        }
    }
    Ok(Checked { problems, warnings })
}
