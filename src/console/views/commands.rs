//! What `:` understands. Each command opens a view or does one thing; the
//! prompt completes their names and their first argument from this table.

use super::config::Tab;
use super::{
    AuditLogView, ConfigView, Effect, FailedView, HistoryView, JobsView, LogView, MetricsView,
    RecordsView, View,
};
use crate::console::ctx::Ctx;

pub struct CommandSpec {
    pub name: &'static str,
    /// Other names that run it (`:q`).
    pub aliases: &'static [&'static str],
    pub help: &'static str,
    /// Completions for the first argument.
    pub args: fn(&Ctx) -> Vec<String>,
    pub run: fn(&[&str], &mut Ctx) -> Result<Run, String>,
}

/// What running a command does.
pub enum Run {
    /// Open a view (or bring it to the top if it is open).
    Open(Box<dyn View>),
    /// Go back to the overview (`:overview`).
    Home,
    /// Focus the overview's pane of this name.
    Focus(&'static str),
    Help,
    Quit,
    /// Anything else, through the effect of a view.
    Effect(Effect),
}

fn no_args(_: &Ctx) -> Vec<String> {
    Vec::new()
}

/// The objects the engine syncs, for commands that take one.
fn objects(ctx: &Ctx) -> Vec<String> {
    ctx.snapshot
        .counts
        .iter()
        .map(|c| c.object.to_string())
        .collect()
}

pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "overview",
        aliases: &["home", "o"],
        help: "connections, counts, jobs and FAILED at a glance (:overview jobs focuses a pane)",
        args: |_| vec!["jobs".into(), "failed".into()],
        run: |args, _| match args.first() {
            None => Ok(Run::Home),
            Some(&"jobs") => Ok(Run::Focus("jobs")),
            Some(&"failed") => Ok(Run::Focus("failed")),
            Some(other) => Err(format!(
                ":overview takes a pane to focus: jobs or failed (not {other:?})"
            )),
        },
    },
    CommandSpec {
        name: "failed",
        aliases: &["f"],
        help: "FAILED entries by cause, with the fix; retry a class",
        args: no_args,
        run: |_, _| Ok(Run::Open(Box::new(FailedView::default()))),
    },
    CommandSpec {
        name: "log",
        aliases: &["l"],
        help: "the engine's recent log lines, following the tail",
        args: no_args,
        run: |_, _| Ok(Run::Open(Box::new(LogView::default()))),
    },
    CommandSpec {
        name: "metrics",
        aliases: &["m"],
        help: "the last hour: records synced, FAILED and the rate budget",
        args: no_args,
        run: |_, _| Ok(Run::Open(Box::new(MetricsView::default()))),
    },
    CommandSpec {
        name: "jobs",
        aliases: &["j"],
        help: "the job queue and the recent jobs, with who asked",
        args: no_args,
        run: |_, _| Ok(Run::Open(Box::new(JobsView::default()))),
    },
    CommandSpec {
        name: "records",
        aliases: &["r"],
        help: "find any record by key or either id",
        args: objects,
        run: |args, _| RecordsView::open(args).map(|v| Run::Open(Box::new(v))),
    },
    CommandSpec {
        name: "audit",
        aliases: &["a"],
        help: "the whole audit log, newest first, filtered in the engine's database as you type",
        args: objects,
        run: |args, _| AuditLogView::open(args).map(|v| Run::Open(Box::new(v))),
    },
    CommandSpec {
        name: "mappings",
        aliases: &["fields"],
        help: "edit an object's field mappings (checked as typed, previewed, saved without a restart)",
        args: objects,
        run: |args, _| ConfigView::open(Tab::Mappings, args).map(|v| Run::Open(Box::new(v))),
    },
    CommandSpec {
        name: "filters",
        aliases: &[],
        help: "edit an object's filter groups: which records are eligible, per direction",
        args: objects,
        run: |args, _| ConfigView::open(Tab::Filters, args).map(|v| Run::Open(Box::new(v))),
    },
    CommandSpec {
        name: "settings",
        aliases: &[],
        help: "edit an object's direction, create policy, system of record, poll interval, batch size",
        args: objects,
        run: |args, _| ConfigView::open(Tab::Settings, args).map(|v| Run::Open(Box::new(v))),
    },
    CommandSpec {
        name: "toml",
        aliases: &["raw"],
        help: "edit an object's section of the config file as TOML text",
        args: objects,
        run: |args, _| ConfigView::open(Tab::Raw, args).map(|v| Run::Open(Box::new(v))),
    },
    CommandSpec {
        name: "history",
        aliases: &[],
        help: "the configs applied while the engine ran, each with its difference",
        args: no_args,
        run: |_, _| Ok(Run::Open(Box::new(HistoryView::default()))),
    },
    CommandSpec {
        name: "help",
        aliases: &["h", "?"],
        help: "the keys and the commands",
        args: no_args,
        run: |_, _| Ok(Run::Help),
    },
    CommandSpec {
        name: "quit",
        aliases: &["q", "q!"],
        help: "leave the console (an attached engine keeps running)",
        args: no_args,
        run: |_, _| Ok(Run::Quit),
    },
];

pub fn find(name: &str) -> Option<&'static CommandSpec> {
    COMMANDS
        .iter()
        .find(|c| c.name == name || c.aliases.contains(&name))
}

/// Completions of a command line as typed: command names while the first
/// word is being typed, then that command's arguments.
pub fn complete(line: &str, ctx: &Ctx) -> Vec<String> {
    let mut words = line.split_whitespace();
    let first = words.next().unwrap_or("");
    let typing_first = !line.contains(char::is_whitespace) || line.trim().is_empty();
    if typing_first {
        return COMMANDS
            .iter()
            .filter(|c| c.name.starts_with(first))
            .map(|c| c.name.to_string())
            .collect();
    }
    let Some(cmd) = find(first) else {
        return Vec::new();
    };
    let arg = if line.ends_with(char::is_whitespace) {
        ""
    } else {
        words.next_back().unwrap_or("")
    };
    (cmd.args)(ctx)
        .into_iter()
        .filter(|a| a.starts_with(arg))
        .map(|a| format!("{} {a}", cmd.name))
        .collect()
}

/// Parses and runs a command line.
pub fn run(line: &str, ctx: &mut Ctx) -> Result<Run, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let Some((name, args)) = words.split_first() else {
        return Err(
            "type a command: :overview, :failed, :jobs, :help, :quit (Tab completes)".into(),
        );
    };
    let Some(cmd) = find(name) else {
        let known: Vec<_> = COMMANDS.iter().map(|c| c.name).collect();
        return Err(format!(
            "no command :{name}; the commands are :{}",
            known.join(", :")
        ));
    };
    (cmd.run)(args, ctx)
}
