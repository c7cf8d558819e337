//! Pure drawing: `draw(&State, &mut Frame)`. No pane talks to the network.

pub mod call_bar;
pub mod dialogs;
pub mod queue;
pub mod status;
pub mod text;
pub mod theme;
pub mod transcript;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::app::keymap::Command;
use crate::app::state::{Link, Phase, State, ViewMode};
use theme::Theme;

/// The smallest screen that shows all panes.
pub const MIN_COLS: u16 = 80;
pub const MIN_ROWS: u16 = 24;

pub fn draw(state: &State, f: &mut Frame) {
    let theme = Theme::new(state.caps);
    let area = f.area();
    match state.mode {
        ViewMode::Hidden => hidden(f, area, state, &theme),
        ViewMode::Compact => compact(f, area, state, &theme, None),
        ViewMode::Workbench if area.width < MIN_COLS || area.height < MIN_ROWS => {
            let why = format!(
                "The terminal is {}x{}; all panes need {MIN_COLS}x{MIN_ROWS}. Showing the compact view until it is larger.",
                area.width, area.height
            );
            compact(f, area, state, &theme, Some(why));
        }
        ViewMode::Workbench => workbench(f, area, state, &theme),
    }
    dialogs::draw(f, area, state, &theme);
}

fn banner(state: &State, theme: &Theme) -> Option<Line<'static>> {
    let text = match &state.link {
        Link::Online { .. } => return None,
        Link::Connecting { attempt } if *attempt <= 1 => {
            format!("Connecting to {} ...", state.server)
        }
        Link::Connecting { attempt } => {
            format!("Reconnecting to {} (attempt {attempt}) ...", state.server)
        }
        Link::Lost { reason, retry_at, .. } => format!(
            "Connection lost ({reason}). Reconnecting in {}s; sessions show their last known state.",
            retry_at.saturating_sub(state.now).div_ceil(1000)
        ),
    };
    Some(Line::from(Span::styled(format!("{}{text}", theme.warn()), theme.banner())))
}

fn workbench(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let banner = banner(state, theme);
    let call_h = if state.settings.toolbar {
        call_bar::height(area.height)
    } else {
        0
    };
    let [top, call, middle, status_area, footer] = Layout::vertical([
        Constraint::Length(banner.is_some() as u16),
        Constraint::Length(call_h),
        Constraint::Min(5),
        Constraint::Length(status::height(area.height)),
        Constraint::Length(1),
    ])
    .areas(area);
    if let Some(b) = banner {
        f.render_widget(Paragraph::new(b), top);
    }
    if call_h > 0 {
        call_bar::draw(f, call, state, theme);
    }
    let queue_w = if area.width >= 120 { 44 } else { 30 };
    let [left, right] =
        Layout::horizontal([Constraint::Length(queue_w), Constraint::Min(20)]).areas(middle);
    queue::draw(f, left, state, theme);
    transcript::draw(f, right, state, theme);
    status::draw(f, status_area, state, theme);
    f.render_widget(Paragraph::new(hints(state, theme, footer.width as usize)), footer);
}

/// The key hints of the footer, for what can be done now.
fn hints(state: &State, theme: &Theme, width: usize) -> Line<'static> {
    let km = &state.keymap;
    let s = state.selected_session();
    let mut cmds: Vec<(Command, &str)> = Vec::new();
    let ringing = state.sessions.iter().any(|s| s.phase == Phase::Ringing);
    if ringing {
        cmds.push((Command::Accept, "accept"));
    }
    match s.map(|s| (s.phase, s.kind)) {
        Some((Phase::Talking | Phase::Held, k)) => {
            cmds.push((Command::HangUp, "hang up"));
            if k.is_voice() {
                cmds.push((Command::Hold, if s.is_some_and(|s| s.phase == Phase::Held) { "unhold" } else { "hold" }));
                cmds.push((Command::Mute, "mute"));
                cmds.push((Command::Dtmf, "dtmf"));
            } else {
                cmds.push((Command::Chat, "write"));
            }
            cmds.push((Command::Transfer, "transfer"));
        }
        Some((Phase::Ringing | Phase::Dialing, _)) => cmds.push((Command::HangUp, "decline")),
        Some((Phase::Ended, _)) => cmds.push((Command::Delete, "delete")),
        None => {}
    }
    if !state.has_active() {
        cmds.push((Command::CallOut, "call"));
    }
    cmds.push((Command::Status, "status"));
    cmds.push((Command::Help, "help"));
    cmds.push((Command::Quit, "quit"));
    let mut spans = Vec::new();
    for (c, label) in cmds {
        spans.push(Span::styled(km.key_label(c), theme.key()));
        spans.push(Span::raw(format!(" {label}  ")));
    }
    call_bar::clip(spans, width)
}

/// One line: the SDK's float button.
fn compact(f: &mut Frame, area: Rect, state: &State, theme: &Theme, why: Option<String>) {
    let sep = theme.sep();
    let mut spans = vec![
        Span::styled("ccdesk ", theme.title()),
        Span::styled(
            format!(
                "{} {}",
                theme.status_symbol(state.status),
                status::status_word(state)
            ),
            theme.status(state.status),
        ),
    ];
    if !state.is_online() {
        spans.push(Span::styled(format!("{sep}{}", status::link_text(state)), theme.error()));
    }
    let shown = state
        .sessions
        .iter()
        .find(|s| s.phase == Phase::Ringing)
        .or(state.selected_session());
    if let Some(s) = shown {
        spans.push(Span::raw(sep.to_string()));
        spans.push(Span::styled(
            format!("{} {} ", theme.phase_symbol(s.phase), theme.kind_label(s.kind)),
            theme.phase(s.phase),
        ));
        spans.push(Span::styled(s.peer(), theme.bold()));
        spans.push(Span::styled(
            format!(" {}", call_bar::phase_text(s, state.now)),
            theme.phase(s.phase),
        ));
        if s.phase.is_active() && s.mic_muted {
            spans.push(Span::styled(" [MUTED]", theme.error()));
        }
    }
    let n = state.sessions.len();
    if n > 1 {
        spans.push(Span::styled(format!("{sep}{n} sessions"), theme.dim()));
    }
    if let Some(e) = state.errors.back() {
        spans.push(Span::styled(format!("{sep}{}{}", theme.warn(), e.text), theme.error()));
    }
    let key = state.keymap.key_label(Command::Compact);
    spans.push(Span::styled(format!("{sep}{key} expands"), theme.dim()));
    let mut lines = vec![call_bar::clip(spans, area.width as usize)];
    if let Some(b) = banner(state, theme) {
        if state.mode == ViewMode::Compact {
            lines.push(b);
        }
    }
    if let Some(why) = why {
        for l in text::wrap(&why, area.width as usize) {
            lines.push(Line::from(Span::styled(l, theme.info())));
        }
    }
    f.render_widget(Paragraph::new(lines), area);
}

fn hidden(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let ringing = state.sessions.iter().any(|s| s.phase == Phase::Ringing);
    let key = state.keymap.key_label(Command::Hide);
    let text = if ringing {
        format!("ccdesk is hidden; a session is ringing. {key} shows it.")
    } else {
        format!("ccdesk is hidden. {key} shows it.")
    };
    f.render_widget(Paragraph::new(Span::styled(text, theme.dim())), area);
}
