//! The console's state and the one function that changes it. `handle_key`
//! is pure: a key in, at most one request for the engine out. The keymap
//! table of the current mode turns the key into an [`Action`]; the app
//! handles the actions every screen shares (quit, help, `:`, `/`, copy,
//! Esc, questions) and hands the rest to the view in front, whose
//! [`Effect`] it carries out.

mod popup;

use super::action::Action;
use super::components::prompt::{Prompt, PromptKind};
use super::ctx::Ctx;
use super::keymap::{Keymap, Mode};
use super::settings::{CopyMethod, Settings};
use super::theme::Theme;
use super::views::commands::{self, Run};
use super::views::{Effect, OverviewView, View};
use crate::status::{Command, Snapshot};
use crossterm::event::{KeyCode, KeyEvent, MouseEvent, MouseEventKind};
pub use popup::Popup;
use serde_json::Value;

/// Whether this console runs the engine or only watches one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EngineMode {
    /// Attached to an engine in another process: quitting only detaches.
    #[default]
    Attached,
    /// The engine runs in this process: quitting stops the sync.
    InProcess,
}

/// What the console asks of the engine (through the control socket) or of
/// the terminal.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A command that acts on records (operators only).
    Engine(Command),
    /// This console's page of FAILED entries: older than this audit id
    /// (`None`: the newest), matching the filter (in the engine's SQL).
    FailedPage {
        before_id: Option<i64>,
        filter: Option<String>,
    },
    /// Stop the engine (operators only; asked first).
    Shutdown,
    /// A method whose answer goes back to the view that asked.
    Call {
        view: u64,
        method: &'static str,
        params: Value,
        tag: &'static str,
    },
    /// Put text on the clipboard of the terminal the user sits at.
    Copy(String),
}

#[derive(Debug, Clone, Default)]
pub struct ConsoleOptions {
    /// Watch only: every action that writes is refused with a reason.
    pub read_only: bool,
    /// A theme name from `themes/`, or a theme file's path.
    pub theme: Option<String>,
    /// Shown in the title bar.
    pub title: String,
    pub mode: EngineMode,
    /// `[keys]` and `[console]` from the config file.
    pub settings: Settings,
}

pub struct App {
    pub ctx: Ctx,
    /// The bottom of the stack, always there.
    pub overview: OverviewView,
    /// Views opened on top of it, each with the id its replies come back to.
    stack: Vec<(u64, Box<dyn View>)>,
    next_id: u64,
    pub prompt: Option<Prompt>,
    /// The filter in force when `/` opened, restored by Esc.
    filter_before: Option<String>,
    /// Command lines run, newest last, for Up/Down in the `:` prompt.
    history: Vec<String>,
    pub popup: Popup,
    quit: bool,
}

/// The id replies for the overview carry.
const OVERVIEW: u64 = 0;

impl App {
    pub fn new(opts: &ConsoleOptions) -> Self {
        Self::with_theme(
            opts,
            Theme::load("default", None).expect("the default theme is built in"),
        )
    }

    pub fn with_theme(opts: &ConsoleOptions, theme: Theme) -> Self {
        let keymap = Keymap::with_overrides(opts.read_only, &opts.settings.keys);
        let mut ctx = Ctx::new(theme, keymap, opts.settings.clone());
        ctx.title = opts.title.clone();
        ctx.mode = opts.mode;
        App {
            ctx,
            overview: OverviewView::default(),
            stack: Vec::new(),
            next_id: OVERVIEW + 1,
            prompt: None,
            filter_before: None,
            history: Vec::new(),
            popup: Popup::None,
            quit: false,
        }
    }

    /// Turns read-only on or off (the engine may say the console is a
    /// viewer whatever was asked), with the keymap to match.
    pub fn set_read_only(&mut self, read_only: bool) {
        self.ctx.read_only = read_only;
        self.ctx.keymap = Keymap::with_overrides(read_only, &self.ctx.settings.keys);
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// The view in front.
    pub fn front(&self) -> &dyn View {
        match self.stack.last() {
            Some((_, v)) => v.as_ref(),
            None => &self.overview,
        }
    }

    /// Runs `f` on the view in front with the shared context, and says
    /// which view it was (its effects and replies are its own).
    fn with_front<R>(&mut self, f: impl FnOnce(&mut dyn View, &mut Ctx) -> R) -> (u64, R) {
        let (id, view): (u64, &mut dyn View) = match self.stack.last_mut() {
            Some((id, v)) => (*id, v.as_mut()),
            None => (OVERVIEW, &mut self.overview),
        };
        (id, f(view, &mut self.ctx))
    }

    /// Runs `f` on the view in front and carries out its effect.
    fn on_front(&mut self, f: impl FnOnce(&mut dyn View, &mut Ctx) -> Effect) -> Option<Request> {
        let (id, effect) = self.with_front(f);
        self.apply(id, effect)
    }

    /// The mode whose keymap table applies now.
    pub fn mode(&self) -> Mode {
        if self.prompt.is_some() {
            Mode::Prompt
        } else {
            self.front().mode()
        }
    }

    /// Titles of the views from the bottom up, for the title bar.
    pub fn breadcrumbs(&self) -> String {
        std::iter::once(self.overview.title())
            .chain(self.stack.iter().map(|(_, v)| v.title()))
            .collect::<Vec<_>>()
            .join(" › ")
    }

    pub fn set_snapshot(&mut self, s: Snapshot) {
        let old = std::mem::replace(&mut self.ctx.snapshot, s);
        self.overview.on_snapshot(&old, &mut self.ctx);
        for (_, v) in &mut self.stack {
            v.on_snapshot(&old, &mut self.ctx);
        }
    }

    /// The answer to a [`Request::Call`]; dropped if its view has closed.
    pub fn on_reply(&mut self, view: u64, tag: &'static str, result: Result<Value, String>) {
        if view == OVERVIEW {
            self.overview.on_reply(tag, result, &mut self.ctx);
        } else if let Some((_, v)) = self.stack.iter_mut().find(|(id, _)| *id == view) {
            v.on_reply(tag, result, &mut self.ctx);
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Request> {
        let mode = self.mode();
        let action = self.ctx.keymap.action(mode, &key);
        match mode {
            Mode::Prompt if self.prompt.is_some() => self.prompt_key(action, key),
            // A view's own line (a form's value, a picker's search) or
            // text: its prompt or editor actions, the rest typed.
            Mode::Prompt | Mode::Editor => match action {
                Some(a) => self.act(a),
                None => self.on_front(|v, ctx| v.key(key, ctx)),
            },
            Mode::Normal => {
                if let Popup::Copy { choices } = &self.popup
                    && let KeyCode::Char(c) = key.code
                    && let Some(d) = c.to_digit(10)
                {
                    let pick = choices.get((d as usize).wrapping_sub(1)).cloned();
                    self.popup = Popup::None;
                    return pick.map(|(what, text)| self.copy(what, text));
                }
                self.act(action?)
            }
        }
    }

    /// Carries out an action, as a key in the current mode asked.
    pub fn act(&mut self, action: Action) -> Option<Request> {
        if action.writes() && self.ctx.refuse_write(action.info().hint) {
            return None;
        }
        if let Some(answer) = self.answer_popup(action) {
            return answer;
        }
        match action {
            Action::Quit => {
                let others = self.ctx.others_attached();
                let unsaved = self.ctx.edit.as_ref().filter(|e| e.dirty());
                if let Some(e) = unsaved {
                    self.popup = Popup::ConfirmQuit {
                        question: format!(
                            "{} edit(s) to {} are not saved and would be lost. Quit? y / Esc",
                            e.edits.len().max(1),
                            e.path.display()
                        ),
                    };
                } else if self.ctx.mode == EngineMode::InProcess && others > 0 {
                    self.popup = Popup::ConfirmQuit {
                        question: format!(
                            "This console runs the engine: quitting stops the sync, and {others} other console(s) lose it. Quit? y / Esc"
                        ),
                    };
                } else {
                    self.quit = true;
                }
                None
            }
            Action::StopEngine => {
                self.popup = Popup::stop_engine(&self.ctx);
                None
            }
            Action::Help => {
                self.popup = Popup::Help { scroll: 0 };
                None
            }
            Action::Command => {
                self.prompt = Some(Prompt::new(PromptKind::Command, ""));
                None
            }
            Action::Filter => {
                let current = self.front().filter_text().unwrap_or("").to_string();
                // Only a view with a list to filter opens the prompt; giving
                // it the filter it already has changes nothing.
                let (id, probe) = self.with_front(|v, ctx| v.filter(&current, ctx));
                let Some(effect) = probe else {
                    self.ctx.say("nothing to filter in this view");
                    return None;
                };
                self.filter_before = Some(current.clone());
                self.prompt = Some(Prompt::new(PromptKind::Filter, &current));
                self.apply(id, effect)
            }
            Action::Copy => self.offer_copy(),
            Action::Back => match self.with_front(|v, ctx| v.back(ctx)) {
                (id, Some(effect)) => self.apply(id, effect),
                (_, None) => {
                    self.stack.pop();
                    None
                }
            },
            _ => self.on_front(|v, ctx| v.update(action, ctx)),
        }
    }

    /// While a popup is open only its answer counts: `Some` when the
    /// action was the popup's.
    fn answer_popup(&mut self, action: Action) -> Option<Option<Request>> {
        match std::mem::replace(&mut self.popup, Popup::None) {
            Popup::None => None,
            Popup::ConfirmQuit { .. } => {
                if matches!(action, Action::Confirm | Action::Open) {
                    self.quit = true;
                }
                Some(None)
            }
            Popup::Confirm { question, command } => match action {
                Action::Confirm | Action::Open => {
                    self.ctx.say("requested…");
                    Some(Some(command))
                }
                Action::Back | Action::Quit => Some(None),
                _ => {
                    self.popup = Popup::Confirm { question, command };
                    Some(None)
                }
            },
            Popup::Help { scroll } => {
                let to = match action {
                    Action::Help | Action::Back | Action::Quit => return Some(None),
                    Action::Down => scroll.saturating_add(1),
                    Action::Up => scroll.saturating_sub(1),
                    Action::PageDown => scroll.saturating_add(10),
                    Action::PageUp => scroll.saturating_sub(10),
                    Action::Top => 0,
                    // Any other key closes the help and does what it does.
                    _ => return None,
                };
                // The drawing clamps it to what there is to see.
                self.popup = Popup::Help { scroll: to };
                Some(None)
            }
            Popup::Copy { .. } => Some(None),
        }
    }

    fn prompt_key(&mut self, action: Option<Action>, key: KeyEvent) -> Option<Request> {
        let prompt = self.prompt.as_mut()?;
        match action {
            Some(Action::Cancel) => {
                let kind = self.prompt.take().map(|p| p.kind);
                if kind == Some(PromptKind::Filter) {
                    let before = self.filter_before.take().unwrap_or_default();
                    let (id, effect) = self.with_front(|v, ctx| v.filter(&before, ctx));
                    return self.apply(id, effect?);
                }
                None
            }
            Some(Action::Submit) => {
                let p = self.prompt.take()?;
                let text = p.text();
                match p.kind {
                    PromptKind::Command => self.run_command(&text),
                    PromptKind::Filter => {
                        self.filter_before = None;
                        None
                    }
                    PromptKind::Input { tag, .. } => {
                        self.on_front(|v, ctx| v.on_input(tag, text, ctx))
                    }
                }
            }
            Some(Action::Complete) => {
                prompt.complete(&self.ctx, false);
                None
            }
            Some(Action::CompletePrev) => {
                prompt.complete(&self.ctx, true);
                None
            }
            Some(a @ (Action::HistoryPrev | Action::HistoryNext)) => {
                if prompt.kind != PromptKind::Command || self.history.is_empty() {
                    return None;
                }
                let n = self.history.len();
                let at = match (prompt.history_at, a) {
                    (None, Action::HistoryPrev) => Some(n - 1),
                    (None, _) => None,
                    (Some(i), Action::HistoryPrev) => Some(i.saturating_sub(1)),
                    (Some(i), _) if i + 1 < n => Some(i + 1),
                    (Some(_), _) => None,
                };
                prompt.history_at = at;
                let line = at.map_or(String::new(), |i| self.history[i].clone());
                prompt.set_text(&line);
                None
            }
            _ => {
                if !prompt.input(key) || prompt.kind != PromptKind::Filter {
                    return None;
                }
                let text = prompt.text();
                let (id, effect) = self.with_front(|v, ctx| v.filter(&text, ctx));
                self.apply(id, effect?)
            }
        }
    }

    /// Runs a `:` line.
    pub fn run_command(&mut self, line: &str) -> Option<Request> {
        let line = line.trim();
        if !line.is_empty() && self.history.last().map(String::as_str) != Some(line) {
            self.history.push(line.to_string());
        }
        match commands::run(line, &mut self.ctx) {
            Err(e) => {
                self.ctx.say(e);
                None
            }
            Ok(Run::Open(view)) => self.open(view),
            Ok(Run::Home) => {
                self.stack.clear();
                None
            }
            Ok(Run::Focus(pane)) => {
                self.stack.clear();
                super::views::focus_overview(&mut self.overview, pane);
                None
            }
            Ok(Run::Help) => {
                self.popup = Popup::Help { scroll: 0 };
                None
            }
            Ok(Run::Quit) => self.act(Action::Quit),
            Ok(Run::Effect(e)) => self.on_front(|_, _| e),
        }
    }

    /// Opens a view on top; one already open for the same command is
    /// replaced, so `:jobs` twice does not stack two. What the view asks
    /// for first (the data it shows) is sent at once.
    pub fn open(&mut self, view: Box<dyn View>) -> Option<Request> {
        self.stack.retain(|(_, v)| v.command() != view.command());
        let id = self.next_id;
        self.next_id += 1;
        self.stack.push((id, view));
        self.on_front(|v, ctx| v.on_open(ctx))
    }

    /// The one-second tick, for the view in front.
    pub fn tick(&mut self) -> Option<Request> {
        self.on_front(|v, ctx| v.on_tick(ctx))
    }

    fn apply(&mut self, view: u64, effect: Effect) -> Option<Request> {
        match effect {
            Effect::None => None,
            Effect::Request(r) => Some(r),
            Effect::Call {
                method,
                params,
                tag,
            } => Some(Request::Call {
                view,
                method,
                params,
                tag,
            }),
            Effect::Push(v) => self.open(v),
            Effect::Pop => {
                if view != OVERVIEW {
                    self.stack.retain(|(id, _)| *id != view);
                }
                None
            }
            Effect::Popup(p) => {
                self.popup = p;
                None
            }
            Effect::Input {
                tag,
                label,
                initial,
            } => {
                self.prompt = Some(Prompt::new(PromptKind::Input { tag, label }, &initial));
                None
            }
        }
    }

    fn offer_copy(&mut self) -> Option<Request> {
        if self.ctx.settings.copy == CopyMethod::Off {
            self.ctx
                .say("copying is off ([console] copy = \"off\" in the config)");
            return None;
        }
        let mut choices = self.front().copyable(&self.ctx);
        match choices.len() {
            0 => {
                self.ctx.say("nothing selected to copy");
                None
            }
            1 => {
                let (what, text) = choices.remove(0);
                Some(self.copy(what, text))
            }
            _ => {
                choices.truncate(9);
                self.popup = Popup::Copy { choices };
                None
            }
        }
    }

    fn copy(&mut self, what: &str, text: String) -> Request {
        self.ctx.say(format!(
            "copied the {what} ({} characters) to the clipboard (OSC 52)",
            text.chars().count()
        ));
        Request::Copy(text)
    }

    /// What the view in front wants sent now (see [`View::wants`]).
    pub fn poll(&mut self) -> Option<Request> {
        self.on_front(|v, ctx| v.wants(ctx))
    }

    /// A mouse event (only delivered with `[console] mouse = true`).
    pub fn mouse(&mut self, ev: MouseEvent) -> Option<Request> {
        if !self.ctx.settings.mouse || self.prompt.is_some() || self.popup != Popup::None {
            return None;
        }
        match ev.kind {
            MouseEventKind::ScrollDown => self.act(Action::Down),
            MouseEventKind::ScrollUp => self.act(Action::Up),
            MouseEventKind::Down(crossterm::event::MouseButton::Left) => {
                self.on_front(|v, ctx| v.click(ev.column, ev.row, ctx))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_keys;
