//! The supervisor console's floor view (the wallboard): today's figures and
//! the last hour, the seats, the queues, the live sessions, and the sessions
//! monitored as text. Drawn instead of the workbench while the console shows
//! the floor (or today's report, report.rs); a call the supervisor took
//! over is drawn by the workbench.
//!
//! Tables choose their columns by width: every column has a width it needs
//! and a width it would like, and the least important go first when a pane is
//! narrow, so that 80 columns show the essentials and wide screens show more.

mod lists;
mod monitors;
pub mod report;
mod table;
mod today;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Cell, HighlightSpacing, Paragraph, Row, Sparkline, Table, TableState,
};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use super::status::{link_text, status_word};
use super::text::{clip, clock, truncate, truncate_start};
use super::theme::Theme;
use super::transcript::{self, SessionPane};
use crate::app::board::{Board, BoardPane, Watch};
use crate::app::keymap::Command;
use crate::app::state::{Phase, State};
use crate::protocol::{
    AgentStatus, BoardAgent, BoardSession, HistoryPoint, Kpis, MonitorMode, SessionState,
};

/// Monitor panels are kept at least this wide; more than fit are paged.
use self::lists::*;
use self::monitors::*;
use self::table::*;
use self::today::*;

const MIN_PANEL: u16 = 30;
/// How long an information line stays (as in the agent's status pane).
const INFO_MS: u64 = 30_000;
/// Sparklines narrower than this are left out.
const MIN_SPARK: u16 = 12;

/// The floor: the connection banner (when not online), today's figures,
/// the agents beside the queues and the live sessions, the monitor panels
/// (when any) at the bottom, a status line and the key hints.
pub fn draw(f: &mut Frame, area: Rect, state: &State, b: &Board, theme: &Theme) {
    let banner = super::banner(state, theme);
    let today_h = if area.height >= 36 { 6 } else { 4 };
    let [top, today_area, middle, status_area, footer] = Layout::vertical([
        Constraint::Length(banner.is_some() as u16),
        Constraint::Length(today_h),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    if let Some(line) = banner {
        f.render_widget(
            Paragraph::new(clip(line.spans, top.width as usize, theme)),
            top,
        );
    }
    today(f, today_area, state, b, theme);
    let monitors_h = if b.watches.is_empty() {
        0
    } else {
        middle.height * 4 / 9
    };
    let [main, monitors_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(monitors_h)]).areas(middle);
    // Below 100 columns the seats take what their essentials need and the
    // sessions the rest; from 100 on, nearly half.
    let agents_w = if main.width < 100 {
        34 + main.width.saturating_sub(80) / 2
    } else {
        main.width * 45 / 100
    }
    .min(main.width);
    let [agents_area, right] =
        Layout::horizontal([Constraint::Length(agents_w), Constraint::Min(0)]).areas(main);
    let [queues_area, sessions_area] = Layout::vertical([
        Constraint::Length(queues_height(b, right.height)),
        Constraint::Min(0),
    ])
    .areas(right);
    agents(f, agents_area, state, b, theme);
    queues(f, queues_area, state, b, theme);
    sessions(f, sessions_area, state, b, theme);
    monitors(f, monitors_area, state, b, theme);
    f.render_widget(
        Paragraph::new(status_line(state, theme, status_area.width as usize)),
        status_area,
    );
    f.render_widget(
        Paragraph::new(hints(state, b, theme, footer.width as usize)),
        footer,
    );
}

/// The floor in a few words, for the one-line (compact) view.
pub fn summary(b: &Board, theme: &Theme) -> Vec<Span<'static>> {
    if !b.loaded {
        return vec![Span::styled(
            format!("{}loading the wallboard", theme.sep()),
            theme.dim(),
        )];
    }
    let waiting: u32 = b.wall.groups.iter().map(|g| g.waiting).sum();
    let mut out = vec![
        Span::styled(
            format!("{}{waiting} waiting", theme.sep()),
            if waiting > 0 {
                theme.info()
            } else {
                theme.dim()
            },
        ),
        Span::raw(format!("{}{}", theme.sep(), level_text(&b.wall.kpis))),
    ];
    if let Some(text) = help_count(b, theme) {
        out.push(Span::raw(theme.sep().to_string()));
        out.push(Span::styled(text, theme.alarm()));
    }
    out
}

/// `⚑ 2 asking for help`, while any agent's request is open.
pub(super) fn help_count(b: &Board, theme: &Theme) -> Option<String> {
    match b.asking().len() {
        0 => None,
        n => Some(format!("{} {n} asking for help", theme.help_flag())),
    }
}

fn dots(theme: &Theme) -> &'static str {
    if theme.unicode {
        "…"
    } else {
        "..."
    }
}

fn loading(f: &mut Frame, area: Rect, block: Block<'static>, theme: &Theme) {
    f.render_widget(
        Paragraph::new(Span::styled(
            format!("loading the wallboard{}", dots(theme)),
            theme.dim(),
        ))
        .block(block),
        area,
    );
}

fn empty(f: &mut Frame, area: Rect, block: Block<'static>, text: &str, theme: &Theme) {
    f.render_widget(
        Paragraph::new(Span::styled(text.to_string(), theme.dim())).block(block),
        area,
    );
}

// ---------------------------------------------------------------- lines

/// The session the supervisor's commands are about (as the reducer picks it).
fn target(b: &Board) -> Option<&str> {
    match b.pane {
        BoardPane::Monitors => b.watches.get(b.watch).map(|w| w.session.id.as_str()),
        BoardPane::Sessions => b.session.as_deref(),
        BoardPane::Agents => b
            .selected_agent()
            .and_then(|a| a.session_id.as_deref().or(a.offer_id.as_deref())),
    }
}

fn hints(state: &State, b: &Board, theme: &Theme, width: usize) -> Line<'static> {
    let watched = target(b).and_then(|id| b.watch(id));
    let mut cmds: Vec<(Command, &str)> = Vec::new();
    if !b.asking().is_empty() {
        // Someone waits for a supervisor: the way to them comes first.
        cmds.push((Command::AnswerHelp, "answer help"));
    }
    cmds.push((
        Command::Monitor,
        if watched.is_some() {
            "stop monitor"
        } else {
            "monitor"
        },
    ));
    match watched.filter(|w| w.ended.is_none()).map(|w| w.mode) {
        None if watched.is_some() => {}
        Some(MonitorMode::Listen) => {
            cmds.push((Command::Listen, "text only"));
            cmds.push((Command::Coach, "coach"));
            cmds.push((Command::Barge, "barge"));
        }
        Some(MonitorMode::Coach) => {
            cmds.push((Command::Listen, "listen"));
            cmds.push((Command::Barge, "barge"));
        }
        Some(MonitorMode::Barge) => {
            cmds.push((Command::Listen, "listen"));
            cmds.push((Command::Coach, "coach"));
        }
        _ => cmds.push((Command::Listen, "listen")),
    }
    if watched.is_some_and(|w| w.ended.is_none()) {
        cmds.push((Command::Intercept, "intercept"));
    }
    cmds.push((Command::Focus, "focus"));
    if !state.sessions.is_empty() {
        cmds.push((Command::View, "my call"));
    }
    cmds.push((Command::Status, "status"));
    super::hint_line(
        &state.keymap,
        cmds,
        &[(Command::Help, "help"), (Command::Quit, "quit")],
        Vec::new(),
        width,
        theme,
    )
}

/// The latest information line, else the newest error; the supervisor's
/// own status and the link on the right (alone when there is no message).
fn status_line(state: &State, theme: &Theme, width: usize) -> Line<'static> {
    let message = match &state.info {
        Some(i) if state.now.saturating_sub(i.at) < INFO_MS => {
            Some(Span::styled(i.text.clone(), theme.info()))
        }
        _ => state
            .errors
            .back()
            .map(|e| Span::styled(format!("{}{}", theme.warn(), e.text), theme.error())),
    };
    let sep = theme.sep();
    let who = if state.me.role.is_empty() {
        state.me.user_id.clone()
    } else {
        format!("{} ({})", state.me.user_id, state.me.role)
    };
    let mut me = vec![Span::styled(who, theme.bold())];
    if state.status.is_some() {
        me.push(Span::raw(sep.to_string()));
        me.push(Span::styled(
            format!(
                "{} {}",
                theme.status_symbol(state.status),
                status_word(state)
            ),
            theme.status(state.status),
        ));
    }
    me.push(Span::styled(
        format!("{sep}{}", link_text(state)),
        if state.is_online() {
            theme.dim()
        } else {
            theme.error()
        },
    ));
    let me_w: usize = me.iter().map(Span::width).sum();
    let Some(message) = message else {
        return clip(me, width, theme);
    };
    let msg_w = message.width();
    if msg_w + 2 + me_w <= width {
        let mut spans = vec![message, Span::raw(" ".repeat(width - msg_w - me_w))];
        spans.extend(me);
        Line::from(spans)
    } else {
        clip(vec![message], width, theme)
    }
}
