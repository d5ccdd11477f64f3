//! The `hubsync` command line: one subcommand per way of running.

use clap::{Parser, Subcommand};
use hubsync::console::ConsoleOptions;
use hubsync::demo::{self, DemoOptions};
use hubsync::sim::{FaultShares, OAuthApp, SeedData, SimServer, SimSettings};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "hubsync",
    version,
    about = "Two-way HubSpot ⇄ app database sync, with a terminal operations console"
)]
struct Cli {
    /// Without a subcommand: the console over the engine, on your config.
    #[command(subcommand)]
    command: Option<Cmd>,
    /// The config file (default: hubsync.toml in the platform config folder).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Where state and the log live (default: the platform data folder;
    /// for the demo, a temporary folder removed on exit).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(flatten)]
    console: ConsoleArgs,
}

/// How the console looks and what it may do (the console and the demo only).
#[derive(clap::Args, Clone, Default)]
struct ConsoleArgs {
    /// Watch only: attach to the running engine's viewer socket, where the
    /// engine refuses every write (retry, dismiss, sync now, shutdown).
    #[arg(long)]
    read_only: bool,
    /// Theme name from themes/ (default, light, high-contrast).
    #[arg(long)]
    theme: Option<String>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Simulator, fixture app database, engine and console: no set-up, no network.
    Demo {
        /// Latency the simulator adds to every response, in milliseconds.
        #[arg(long, default_value_t = 120)]
        latency_ms: u64,
        /// Seconds between polls once the first sync is done.
        #[arg(long, default_value_t = 10)]
        poll_secs: u64,
        /// Records per page and per HubSpot batch (at most 100).
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=100))]
        batch_size: u16,
        /// Do not simulate app users editing and adding contacts.
        #[arg(long)]
        no_activity: bool,
        /// Put the demo's app database on this PostgreSQL server, in a
        /// schema of its own (postgres://user@host:port/db?sslmode=…; the
        /// password, if any, from PGPASSWORD).
        #[arg(long, value_name = "URL")]
        app_db: Option<String>,
        #[command(flatten)]
        console: ConsoleArgs,
    },
    /// Run the sync engine without a console (for a service manager):
    /// consoles attach to it; SIGHUP reloads the config, SIGTERM stops it.
    Run,
    /// Check the config, the credentials, the app tables and the mappings
    /// against HubSpot's live property lists.
    Check {
        /// Print the SQL of the PostgreSQL trigger that `[app] listen = true`
        /// listens to, for each object's table, instead of checking.
        #[arg(long)]
        print_trigger: bool,
    },
    /// The engine's status (asked of the running engine, or read from the
    /// state when none runs); exits 1 when anything is FAILED or down.
    Status {
        /// Print JSON (the same fields the console shows).
        #[arg(long)]
        json: bool,
    },
    /// Run the HubSpot simulator alone on a loopback port.
    Sim {
        #[arg(long, default_value_t = 8099)]
        port: u16,
        /// A private-app token the simulator accepts (repeatable).
        #[arg(long = "token", required_unless_present = "oauth_apps")]
        tokens: Vec<String>,
        /// Seed data: a JSON file {"contacts": [{property: value, …}], …}.
        #[arg(long)]
        seed: Option<PathBuf>,
        /// Requests per rolling 10 seconds.
        #[arg(long, default_value_t = 100)]
        ten_second_limit: u32,
        /// Requests per day.
        #[arg(long, default_value_t = 250_000)]
        daily_limit: u64,
        /// Added to every response, in milliseconds.
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Search requests per second.
        #[arg(long, default_value_t = 5)]
        search_per_second: u32,
        /// An OAuth app as CLIENT_ID:CLIENT_SECRET:REFRESH_TOKEN (repeatable);
        /// its access tokens come from POST /oauth/v1/token.
        #[arg(long = "oauth-app", value_parser = parse_oauth_app)]
        oauth_apps: Vec<OAuthApp>,
        /// Lifetime of minted OAuth access tokens, in seconds.
        #[arg(long, default_value_t = 1800)]
        token_lifetime_secs: u64,
        /// Share of requests (0-1) answered with a 502.
        #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
        fault_5xx: f64,
        /// Share of requests answered with a 429.
        #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
        fault_429: f64,
        /// Share of requests that hang for --hang-ms before a 504.
        #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
        fault_hang: f64,
        /// Share of requests answered 200 with a cut-off body.
        #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
        fault_malformed: f64,
        /// Share of writes applied and then answered with a lost or
        /// cut-off reply, half each (the client cannot tell if they landed).
        #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
        fault_lost_reply: f64,
        /// How long a hanging request hangs, in milliseconds.
        #[arg(long, default_value_t = 60_000)]
        hang_ms: u64,
    },
}

/// The data folder from --data-dir or the platform default, created owner-only.
fn data_dir_or_default(dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let Some(dir) = dir.or_else(hubsync::config::default_data_dir) else {
        anyhow::bail!("no platform data folder here; pass --data-dir");
    };
    hubsync::store::create_private_dir(&dir)?;
    Ok(dir)
}

/// `hubsync status` found something a person must look at.
#[derive(Debug)]
struct StatusProblems(String);

impl std::fmt::Display for StatusProblems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StatusProblems {}

fn parse_share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a share between 0 and 1")),
    }
}

fn parse_oauth_app(s: &str) -> Result<OAuthApp, String> {
    let mut parts = s.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(id), Some(secret), Some(refresh))
            if !id.is_empty() && !secret.is_empty() && !refresh.is_empty() =>
        {
            Ok(OAuthApp {
                client_id: id.into(),
                client_secret: secret.into(),
                refresh_token: refresh.into(),
            })
        }
        _ => Err("expected CLIENT_ID:CLIENT_SECRET:REFRESH_TOKEN".into()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hubsync: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async move {
        let Cli {
            command,
            config,
            data_dir,
            console,
        } = cli;
        match command {
            None => {
                let data_dir = data_dir_or_default(data_dir)?;
                let _log = hubsync::logging::to_file(&data_dir, "hubsync.log")?;
                // The console's own keys and settings; an unreadable or
                // missing file leaves the defaults (the engine it attaches
                // to may belong to another user).
                let settings = match config.clone().or_else(hubsync::config::default_path) {
                    Some(path) => hubsync::console::Settings::load(&path)?,
                    None => Default::default(),
                };
                let opts = ConsoleOptions {
                    read_only: console.read_only,
                    theme: console.theme,
                    title: "hubsync".into(),
                    settings,
                    ..ConsoleOptions::default()
                };
                hubsync::service::console(config, &data_dir, opts).await
            }
            Some(Cmd::Run) => {
                let cfg = hubsync::config::load_or_explain(config)?;
                let data_dir = data_dir_or_default(data_dir)?;
                let _log = hubsync::logging::to_file(&data_dir, "hubsync.log")?;
                hubsync::service::run(&cfg, &data_dir).await
            }
            Some(Cmd::Status { json }) => {
                let Some(dir) = data_dir.or_else(hubsync::config::default_data_dir) else {
                    anyhow::bail!("no platform data folder here; pass --data-dir");
                };
                // The config only adds the app's counts when no engine runs.
                let config =
                    config.or_else(|| hubsync::config::default_path().filter(|p| p.exists()));
                let report = hubsync::service::status(config, &dir).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&report)?);
                } else {
                    print!("{}", report.text());
                }
                let problems = report.problems();
                if !problems.is_empty() {
                    return Err(anyhow::anyhow!(StatusProblems(problems.join("; "))));
                }
                Ok(())
            }
            Some(Cmd::Check { print_trigger }) => {
                let cfg = hubsync::config::load_or_explain(config)?;
                if print_trigger {
                    let hubsync::appdb::Target::Postgres(_) = &cfg.app_database else {
                        anyhow::bail!(
                            "--print-trigger: the app database of {} is not PostgreSQL",
                            cfg.path.display()
                        );
                    };
                    for o in &cfg.objects {
                        println!(
                            "{}\n",
                            hubsync::appdb::postgres::listen::trigger_sql(&o.mapping)
                        );
                    }
                    return Ok(());
                }
                let hubsync::service::Checked { problems, warnings } =
                    hubsync::service::check_report(&cfg).await?;
                for w in &warnings {
                    println!("warning: {w}");
                }
                if problems.is_empty() {
                    println!(
                        "{}: config, credentials, app tables and mappings are fine",
                        cfg.path.display()
                    );
                    Ok(())
                } else {
                    for p in &problems {
                        println!("{p}");
                    }
                    anyhow::bail!(
                        "{} problem(s) found in {}",
                        problems.len(),
                        cfg.path.display()
                    )
                }
            }
            Some(Cmd::Demo {
                latency_ms,
                poll_secs,
                batch_size,
                no_activity,
                app_db,
                console: demo_console,
            }) => {
                let app_db = app_db
                    .map(|url| {
                        let password =
                            std::env::var_os("PGPASSWORD").map(|_| "PGPASSWORD".to_string());
                        hubsync::appdb::postgres::Settings::parse(&url, password)
                            .map_err(|e| anyhow::anyhow!("--app-db: {e}"))
                    })
                    .transpose()?;
                // `hubsync --read-only demo` and `hubsync demo --read-only` alike.
                let read_only = console.read_only || demo_console.read_only;
                let theme = demo_console.theme.or(console.theme);
                demo::run(DemoOptions {
                    data_dir,
                    latency: Duration::from_millis(latency_ms),
                    poll_interval: Duration::from_secs(poll_secs),
                    batch_size: batch_size as usize,
                    activity: !no_activity,
                    read_only,
                    theme,
                    app_db,
                })
                .await
            }
            Some(Cmd::Sim {
                port,
                tokens,
                seed,
                ten_second_limit,
                daily_limit,
                latency_ms,
                search_per_second,
                oauth_apps,
                token_lifetime_secs,
                fault_5xx,
                fault_429,
                fault_hang,
                fault_malformed,
                fault_lost_reply,
                hang_ms,
            }) => {
                hubsync::logging::to_stderr();
                let seed = match seed {
                    Some(p) => SeedData::load(&p)?,
                    None => SeedData::empty(),
                };
                let settings = SimSettings {
                    tokens,
                    ten_second_limit,
                    daily_limit,
                    latency: Duration::from_millis(latency_ms),
                    search_per_second,
                    oauth_apps,
                    token_lifetime: Duration::from_secs(token_lifetime_secs),
                    faults: FaultShares {
                        server_error: fault_5xx,
                        rate_limited: fault_429,
                        hang: fault_hang,
                        malformed: fault_malformed,
                        lost_reply: fault_lost_reply,
                        hang_for: Duration::from_millis(hang_ms),
                    },
                    ..SimSettings::default()
                };
                let server = SimServer::start(port, settings, seed).await?;
                eprintln!(
                    "hubsync sim: HubSpot simulator on {} (Ctrl-C stops it)",
                    server.base_url()
                );
                tokio::signal::ctrl_c().await?;
                server.shutdown().await;
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The report is already printed; the problems go to stderr.
        Err(e) if e.is::<StatusProblems>() => {
            eprintln!("hubsync status: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("hubsync: {e:#}");
            ExitCode::FAILURE
        }
    }
}
