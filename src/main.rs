//! The `hubsync` command line: one subcommand per way of running.

use clap::{Parser, Subcommand};
use hubsync::demo::{self, DemoOptions};
use hubsync::sim::{SeedData, SimServer, SimSettings};
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
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Simulator, fixture app database, engine and console: no set-up, no network.
    Demo {
        /// Keep state, app database and log in this folder (default: a temp folder removed on exit).
        #[arg(long)]
        data_dir: Option<PathBuf>,
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
        /// Watch only: no retry, no sync-now.
        #[arg(long)]
        read_only: bool,
        /// Theme name from themes/ (default, light, high-contrast).
        #[arg(long)]
        theme: Option<String>,
    },
    /// Run the HubSpot simulator alone on a loopback port.
    Sim {
        #[arg(long, default_value_t = 8099)]
        port: u16,
        /// A private-app token the simulator accepts (repeatable).
        #[arg(long = "token", required = true)]
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
    },
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
        match cli.command {
            Cmd::Demo {
                data_dir,
                latency_ms,
                poll_secs,
                batch_size,
                no_activity,
                read_only,
                theme,
            } => {
                demo::run(DemoOptions {
                    data_dir,
                    latency: Duration::from_millis(latency_ms),
                    poll_interval: Duration::from_secs(poll_secs),
                    batch_size: batch_size as usize,
                    activity: !no_activity,
                    read_only,
                    theme,
                })
                .await
            }
            Cmd::Sim {
                port,
                tokens,
                seed,
                ten_second_limit,
                daily_limit,
                latency_ms,
            } => {
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
        Err(e) => {
            eprintln!("hubsync: {e:#}");
            ExitCode::FAILURE
        }
    }
}
