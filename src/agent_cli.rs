//! `ccdesk agent`: set up the terminal, check what it can do, run the app
//! loop, and put the terminal back on every way out (panics included).

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::Context;
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste, EventStream};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

use crate::app::board::Board;
use crate::app::config::{self, ClientConfig};
use crate::app::link::LinkConfig;
use crate::app::run::{run, FramePace, TermScreen};
use crate::app::state::{Caps, State};
use crate::server::clock::Clock;

#[derive(Debug, Clone, clap::Args)]
pub struct AgentArgs {
    /// The server's WebSocket URL (ws://host:port/ws); default from the config file.
    #[arg(long)]
    pub server: Option<String>,
    /// The agent to log in as; default from the config file.
    #[arg(long)]
    pub user: Option<String>,
    /// The login token (from `ccdesk token`).
    #[arg(long, env = "CCDESK_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Multi-tab: stay logged in beside other terminals of the same agent
    /// (they must use it too).
    #[arg(long)]
    pub enable_shared: bool,
    /// A private CA's certificate (PEM) a `wss://` server's certificate may
    /// be signed by, beside the system's roots; default: `ca` in the config.
    #[arg(long, env = "CCDESK_CA")]
    pub ca: Option<PathBuf>,
    /// The client config file (default: agent.toml in the platform's config
    /// directory, created with comments on first run).
    #[arg(long, env = "CCDESK_AGENT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Call audio: the sound card (`system`, silent when there is none),
    /// `null` (audio flows, nothing is played), or `off`; default from the
    /// config's [audio] table, else system.
    #[arg(long, value_enum)]
    pub audio: Option<crate::app::config::AudioBackendName>,
}

/// `ccdesk supervise`: the agent terminal's connection options, plus the frame rate.
#[derive(Debug, Clone, clap::Args)]
pub struct SuperviseArgs {
    #[command(flatten)]
    pub client: AgentArgs,
    /// Frames a second at most (default 10, or `frame_rate` in the config's
    /// [supervise] table); lower it on a slow link.
    #[arg(long)]
    pub fps: Option<f64>,
    /// Clear and redraw the whole screen every frame. Only for measuring
    /// what drawing changes alone saves (see docs/BENCHMARKS.md).
    #[arg(long, hide = true)]
    pub full_redraw: bool,
}

/// How the terminal is driven: the frame pace and whether to redraw all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Screen {
    pub pace: FramePace,
    pub full_redraw: bool,
}

impl Screen {
    pub fn agent() -> Screen {
        Screen {
            pace: FramePace::AGENT,
            full_redraw: false,
        }
    }
}

/// What the start-up check found (the SDK's isBrowserSupported, for a terminal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub caps: Caps,
    pub warnings: Vec<String>,
}

/// Check the environment: a terminal that can address the cursor, UTF-8,
/// colours. Too small a window is handled while drawing (compact view).
pub fn startup_check(
    term: Option<&str>,
    no_color: Option<&str>,
    locale: Option<&str>,
) -> Result<Check, String> {
    let term = term.unwrap_or("");
    if term.is_empty() || term == "dumb" {
        return Err(format!(
            "TERM is {}: this terminal cannot move the cursor, so the agent screen cannot be drawn. \
             Run ccdesk in a terminal emulator (TERM=xterm-256color, screen, tmux, ...).",
            if term.is_empty() { "not set" } else { "dumb" }
        ));
    }
    let mut warnings = Vec::new();
    let unicode = locale
        .map(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("utf-8") || l.contains("utf8")
        })
        .unwrap_or(false);
    if !unicode {
        warnings.push("no UTF-8 locale: drawing with ASCII symbols".to_string());
    }
    let mono_term =
        term.ends_with("-m") || term.ends_with("-mono") || term == "vt100" || term == "vt220";
    let no_color = no_color.is_some_and(|v| !v.is_empty());
    if no_color {
        warnings.push("NO_COLOR: monochrome, states shown by symbols".to_string());
    } else if mono_term {
        warnings.push(format!(
            "TERM={term} has no colours: monochrome, states shown by symbols"
        ));
    }
    Ok(Check {
        caps: Caps {
            unicode,
            color: !no_color && !mono_term,
        },
        warnings,
    })
}

fn locale() -> Option<String> {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .find(|v| !v.is_empty())
}

pub fn init_file_logging() -> Option<PathBuf> {
    let dir = config::log_dir()?;
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join("agent.log");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("CCDESK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rsipstack=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init()
        .ok()?;
    Some(path)
}

fn restore_terminal() {
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    let _ = crossterm::execute!(
        out,
        crossterm::terminal::EndSynchronizedUpdate,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = out.flush();
}

/// A plain `ccdesk` runs the agent terminal when the config names a server.
pub fn config_names_server(args: &AgentArgs) -> bool {
    let path = args.config.clone().or_else(config::default_path);
    path.and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| toml::from_str::<ClientConfig>(&t).ok())
        .is_some_and(|c| c.server.is_some())
}

pub fn run_agent(args: AgentArgs) -> anyhow::Result<u8> {
    run_client(args, None)
}

pub fn run_supervise(args: SuperviseArgs) -> anyhow::Result<u8> {
    run_client(args.client, Some((args.fps, args.full_redraw)))
}

/// The agent terminal, or with `supervise` set the supervisor console
/// (requested frame rate, full redraw).
fn run_client(args: AgentArgs, supervise: Option<(Option<f64>, bool)>) -> anyhow::Result<u8> {
    let path = args
        .config
        .clone()
        .or_else(config::default_path)
        .context("no config directory on this platform; pass --config")?;
    let (cfg, created) = ClientConfig::load_or_create(&path)?;
    let keymap = cfg
        .keymap()
        .map_err(|m| anyhow::anyhow!("{}: {m}", path.display()))?;
    // What `ccdesk login` kept: its server and user when none is given.
    let kept = crate::login_cli::stored_path()
        .and_then(|p| crate::login_cli::StoredLogin::load(&p).map(|l| (p, l)));
    let server = args
        .server
        .clone()
        .or(cfg.server.clone())
        .or_else(|| kept.as_ref().map(|(_, l)| l.server.clone()))
        .with_context(|| {
            format!(
                "no server: pass --server ws://host:port/ws or set `server` in {}",
                path.display()
            )
        })?;
    let user = args
        .user
        .clone()
        .or(cfg.user.clone())
        .or_else(|| kept.as_ref().map(|(_, l)| l.user.clone()))
        .with_context(|| format!("no user: pass --user or set `user` in {}", path.display()))?;
    // A token given, else the one `ccdesk login` kept for this server and
    // user (renewed while the terminal runs, and kept again).
    let stored = kept.filter(|(_, l)| l.server == server && l.user == user);
    let (token, keep) = match args.token.clone().or(cfg.token.clone()) {
        Some(t) => (t, None),
        None => match stored {
            Some((p, l)) => (l.token, Some(p)),
            None => anyhow::bail!(
                "no token: run `ccdesk login --server {server} --user {user}`, set CCDESK_TOKEN (from `ccdesk token --user {user}`) or pass --token"
            ),
        },
    };
    let (check, log) = prepare()?;
    tracing::info!(%server, %user, caps = ?check.caps, supervise = supervise.is_some(), "terminal starting");

    let clock = Clock::new();
    let mut state = State::new(server.clone(), user.clone(), keymap, clock.now_ms());
    state.caps = check.caps;
    state.warnings = check.warnings;
    if created {
        state.warnings.push(format!(
            "created {} (all settings commented out)",
            path.display()
        ));
    }
    if log.is_none() {
        state
            .warnings
            .push("no log file: the state directory is not writable".into());
    }
    state.settings = cfg.initial_settings();
    state.audio = cfg.audio(args.audio);
    state.audio.config = Some(path.clone());
    state.me.enable_shared = args.enable_shared || cfg.enable_shared;
    if let Some(r) = &cfg.rest_reasons {
        state.rest_reasons = r.clone();
    }
    let ca = args.ca.clone().or(cfg.ca.clone());
    if let Some(ca) = &ca {
        // A CA that cannot be read is said now, not at every reconnect.
        check_ca(ca)?;
    }
    let link = LinkConfig {
        url: server,
        user,
        token,
        enable_shared: state.me.enable_shared,
        ca,
        keep,
    };

    let screen = match supervise {
        None => Screen::agent(),
        Some((fps, full_redraw)) => {
            state.board = Some(Board::default());
            let pace = FramePace::supervisor(fps.or(cfg.supervise.frame_rate));
            Screen { pace, full_redraw }
        }
    };
    let exit = run_terminal(state, link, cfg.notification, None, screen)?;
    if let Some(m) = &exit.message {
        eprintln!("ccdesk: {m}");
    }
    Ok(exit.code)
}

/// Set up the terminal (raw mode, alternate screen, bracketed paste), run
/// the app loop on it, and restore it on every way out, panics included.
pub fn run_terminal(
    state: State,
    link: LinkConfig,
    notify_style: crate::app::config::NotifyStyle,
    pilot: Option<Box<dyn crate::app::run::Pilot>>,
    how: Screen,
) -> anyhow::Result<crate::app::state::Exit> {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        prev(info);
    }));
    enable_raw_mode().context("cannot switch the terminal to raw mode")?;
    let mut stdout = io::stdout();
    if let Err(e) = crossterm::execute!(stdout, EnterAlternateScreen, EnableBracketedPaste) {
        restore_terminal();
        return Err(e).context("cannot set up the terminal");
    }
    let result = (|| -> anyhow::Result<_> {
        let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        let mut screen = TermScreen {
            terminal,
            notify_style,
            frames: 0,
            full_redraw: how.full_redraw,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let exit = rt.block_on(run(
            &mut screen,
            state,
            EventStream::new(),
            link,
            pilot,
            how.pace,
        ));
        tracing::info!(frames = screen.frames, code = exit.code, "terminal ends");
        Ok(exit)
    })();
    restore_terminal();
    result
}

/// The terminal check and file logging shared by `agent` and `demo`.
pub fn prepare() -> anyhow::Result<(Check, Option<PathBuf>)> {
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        anyhow::bail!(
            "this needs a terminal on stdin and stdout (or use `ccdesk demo --headless`)"
        );
    }
    let check = startup_check(
        std::env::var("TERM").ok().as_deref(),
        std::env::var("NO_COLOR").ok().as_deref(),
        locale().as_deref(),
    )
    .map_err(anyhow::Error::msg)?;
    Ok((check, init_file_logging()))
}

/// The `--ca` file is a PEM CA certificate the client can use.
fn check_ca(ca: &std::path::Path) -> anyhow::Result<()> {
    crate::tls::connector(Some(ca)).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_check_refuses_dumb_terminals_and_degrades_the_rest() {
        assert!(startup_check(Some("dumb"), None, Some("C.UTF-8"))
            .unwrap_err()
            .contains("TERM is dumb"));
        assert!(startup_check(None, None, None)
            .unwrap_err()
            .contains("not set"));
        let ok = startup_check(Some("xterm-256color"), None, Some("en_US.UTF-8")).expect("ok");
        assert_eq!(
            ok.caps,
            Caps {
                unicode: true,
                color: true
            }
        );
        assert!(ok.warnings.is_empty());
        let ascii = startup_check(Some("xterm"), Some("1"), Some("C")).expect("ok");
        assert_eq!(
            ascii.caps,
            Caps {
                unicode: false,
                color: false
            }
        );
        assert_eq!(ascii.warnings.len(), 2, "{:?}", ascii.warnings);
        let mono = startup_check(Some("xterm-mono"), Some(""), Some("C.utf8")).expect("ok");
        assert_eq!(
            mono.caps,
            Caps {
                unicode: true,
                color: false
            }
        );
    }
}
