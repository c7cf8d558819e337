//! Pure drawing: `draw(&State, &mut Frame)`. No pane talks to the network.

pub mod board;
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

use crate::app::board::BoardView;
use crate::app::keymap::{Command, Keymap};
use crate::app::state::{Link, Phase, State, ViewMode};
use crate::protocol::ConsultPhase;
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
        ViewMode::Workbench => match &state.board {
            Some(b) if b.view == BoardView::Floor => board::draw(f, area, state, b, &theme),
            Some(b) if b.view == BoardView::Report => {
                board::report::draw(f, area, state, b, &theme)
            }
            _ => workbench(f, area, state, &theme),
        },
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
        Link::Lost {
            reason, retry_at, ..
        } => format!(
            "Connection lost, retry in {}s; sessions show their last known state ({reason})",
            retry_at.saturating_sub(state.now).div_ceil(1000)
        ),
    };
    Some(Line::from(Span::styled(
        format!("{}{text}", theme.warn()),
        theme.banner(),
    )))
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
        f.render_widget(
            Paragraph::new(text::clip(b.spans, top.width as usize, theme)),
            top,
        );
    }
    if call_h > 0 {
        call_bar::draw(f, call, state, theme);
    }
    let queue_w = if area.width >= 120 { 50 } else { 30 };
    let [left, right] =
        Layout::horizontal([Constraint::Length(queue_w), Constraint::Min(20)]).areas(middle);
    queue::draw(f, left, state, theme);
    transcript::draw(f, right, state, theme);
    status::draw(f, status_area, state, theme);
    f.render_widget(
        Paragraph::new(hints(state, theme, footer.width as usize)),
        footer,
    );
}

/// The key hints of the footer, for what can be done now. When they do not
/// fit, the least important go first; help and quit always stay.
fn hints(state: &State, theme: &Theme, width: usize) -> Line<'static> {
    let km = &state.keymap;
    let s = state.selected_session();
    let mut cmds: Vec<(Command, &str)> = Vec::new();
    // What the accept key takes: the selected offer, else the first.
    let offer = s
        .filter(|s| s.phase == Phase::Ringing)
        .or_else(|| state.sessions.iter().find(|s| s.phase == Phase::Ringing));
    if let Some(o) = offer {
        let label = if o.callback().is_some() {
            "call back"
        } else {
            "accept"
        };
        cmds.push((Command::Accept, label));
    }
    if state.unread() > 0 {
        // Another chat has messages waiting.
        cmds.push((Command::NextChat, "next chat"));
    }
    if s.is_some_and(|s| call_bar::recording_paused(state.microphone_of(s))) {
        // Until it is resumed, the way to resume stays in sight.
        cmds.push((Command::PauseRecording, "resume recording"));
    }
    let mut later: Vec<(Command, &str)> = Vec::new();
    let consult = s
        .and_then(|s| state.consult_for(&s.id))
        .filter(|c| state.consults(c));
    match s {
        Some(s) if consult.is_some() => {
            // The consulting agent: the consult's keys come first.
            let phase = consult.map(|c| c.phase);
            if phase != Some(ConsultPhase::Ringing) {
                cmds.push((Command::CompleteTransfer, "hand over"));
            }
            if phase == Some(ConsultPhase::Talking) {
                cmds.push((Command::Conference, "conference"));
            }
            cmds.push((Command::CancelConsult, "cancel consult"));
            cmds.push((Command::Swap, "swap"));
            cmds.push((Command::HangUp, "hang up"));
            let muted = state.microphone_of(s).mic_muted;
            cmds.push((Command::Mute, if muted { "unmute" } else { "mute" }));
        }
        Some(s) if matches!(s.phase, Phase::Talking | Phase::Held) => {
            cmds.push((Command::HangUp, "hang up"));
            if s.kind.is_voice() {
                cmds.push((
                    Command::Hold,
                    if s.phase == Phase::Held {
                        "unhold"
                    } else {
                        "hold"
                    },
                ));
                cmds.push((Command::Mute, if s.mic_muted { "unmute" } else { "mute" }));
                if s.kind == crate::protocol::CallType::Video {
                    cmds.push((
                        Command::Camera,
                        if s.video_muted {
                            "camera on"
                        } else {
                            "camera off"
                        },
                    ));
                }
                if s.phase == Phase::Talking {
                    cmds.push((Command::Dtmf, "dtmf"));
                }
            } else if s.phase == Phase::Talking {
                cmds.push((Command::Chat, "write"));
            }
            if s.kind != crate::protocol::CallType::Internal {
                cmds.push((Command::Transfer, "transfer"));
            }
            let customer_call = matches!(
                s.kind,
                crate::protocol::CallType::Phone | crate::protocol::CallType::Voip
            );
            if customer_call && s.consult_of().is_none() {
                // After the status: it goes first when the line is full.
                later.push((Command::Consult, "consult"));
            }
        }
        Some(s) if s.phase == Phase::Ringing => cmds.push((Command::HangUp, "decline")),
        Some(s) if s.phase == Phase::Dialing => cmds.push((Command::HangUp, "cancel")),
        Some(s) if s.phase == Phase::Ended => cmds.push((Command::Delete, "delete")),
        _ => {}
    }
    if !state.has_active() {
        cmds.push((Command::CallOut, "call"));
    }
    cmds.push((Command::Status, "status"));
    cmds.extend(later);
    let mut tail = vec![(Command::Help, "help"), (Command::Quit, "quit")];
    if state
        .board
        .as_ref()
        .is_some_and(|b| b.view == BoardView::Call)
    {
        // The supervisor's own call: the way back to the floor always shows.
        tail.insert(0, (Command::View, "floor"));
    }
    let mut prefix: Vec<Span<'static>> = Vec::new();
    if !state.settings.toolbar {
        // No call bar: keep the essentials of the selected session here.
        if let Some(s) = s {
            prefix.push(Span::styled(
                format!(
                    "{} {} ",
                    theme.phase_symbol(s.phase),
                    call_bar::phase_text(s, state.now)
                ),
                theme.phase(s.phase),
            ));
            if s.phase.is_active() && s.mic_muted {
                prefix.push(Span::styled("[MUTED] ", theme.error()));
            }
            if call_bar::recording_paused(s) {
                prefix.push(Span::styled("[RECORDING PAUSED]", theme.alarm()));
                prefix.push(Span::raw(" "));
            }
        }
    }
    hint_line(km, cmds, &tail, prefix, width, theme)
}

/// A footer of key hints after `prefix`: `cmds` (the least important last:
/// they go first when the line is too narrow), then `tail`, always kept.
fn hint_line(
    km: &Keymap,
    mut cmds: Vec<(Command, &str)>,
    tail: &[(Command, &str)],
    prefix: Vec<Span<'static>>,
    width: usize,
    theme: &Theme,
) -> Line<'static> {
    let len = |c: &[(Command, &str)]| -> usize {
        c.iter()
            .map(|(cmd, label)| km.key_label(*cmd).len() + label.len() + 3)
            .sum()
    };
    let tail_w = len(tail);
    while !cmds.is_empty() && len(&cmds) + tail_w > width {
        cmds.pop();
    }
    let mut spans = prefix;
    for (c, label) in cmds.iter().chain(tail) {
        spans.push(Span::styled(km.key_label(*c), theme.key()));
        spans.push(Span::raw(format!(" {label}  ")));
    }
    text::clip(spans, width, theme)
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
        spans.push(Span::styled(
            format!("{sep}{}", status::link_text(state)),
            theme.error(),
        ));
    }
    let shown = state
        .sessions
        .iter()
        .find(|s| s.phase == Phase::Ringing)
        .or(state.selected_session());
    if let Some(s) = shown {
        spans.push(Span::raw(sep.to_string()));
        spans.push(Span::styled(
            format!(
                "{} {} ",
                theme.phase_symbol(s.phase),
                theme.session_label(s)
            ),
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
    if state.sessions.iter().any(call_bar::recording_paused) {
        spans.push(Span::raw(" "));
        spans.push(Span::styled("[REC PAUSED]", theme.alarm()));
    }
    spans.extend(status::supervisor_spans(state, theme));
    let n = state.sessions.len();
    if n > 1 {
        spans.push(Span::styled(format!("{sep}{n} sessions"), theme.dim()));
    }
    let unread = state.unread();
    if unread > 0 {
        spans.push(Span::styled(
            format!("{sep}{unread} unread"),
            theme.unread(),
        ));
    }
    if let Some(b) = &state.board {
        spans.extend(board::summary(b, theme));
    }
    if let Some(e) = state.errors.back() {
        spans.push(Span::styled(
            format!("{sep}{}{}", theme.warn(), e.text),
            theme.error(),
        ));
    }
    if why.is_none() {
        let key = state.keymap.key_label(Command::Compact);
        spans.push(Span::styled(format!("{sep}{key} expands"), theme.dim()));
    }
    let mut lines = vec![text::clip(spans, area.width as usize, theme)];
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
