//! The call bar: the selected session at a glance.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::text::{clip, clock};
use super::theme::Theme;
use crate::app::keymap::Command;
use crate::app::state::{Phase, Session, State};
use crate::protocol::{AgentStatus, ConsultPhase, Direction};

/// Height of the call bar for a screen of `rows` rows.
pub fn height(rows: u16) -> u16 {
    if rows >= 36 {
        5
    } else {
        4
    }
}

/// The state words of a session: `ringing 0:12 left`, `talking 2:13`, ...
pub fn phase_text(s: &Session, now: u64) -> String {
    match s.phase {
        Phase::Ringing => match s.ring_deadline {
            Some(d) => format!("ringing {}s left", d.saturating_sub(now).div_ceil(1000)),
            None => "ringing".into(),
        },
        // A callback dials the caller back: their phone rings.
        Phase::Dialing => match s.callback() {
            Some(n) => format!("calling back {n} (ringing)"),
            None => format!("dialing {}", clock(now.saturating_sub(s.started_at))),
        },
        Phase::Talking => {
            let t = clock(now.saturating_sub(s.accepted_at.unwrap_or(s.started_at)));
            format!("talking {t}")
        }
        Phase::Held => {
            let t = clock(now.saturating_sub(s.accepted_at.unwrap_or(s.started_at)));
            format!("held (call {t})")
        }
        Phase::Ended => match s.ended_at {
            Some(e) => {
                let from = s.accepted_at.unwrap_or(s.started_at);
                format!("ended after {}", clock(e.saturating_sub(from)))
            }
            None => "ended".into(),
        },
    }
}

/// The selected session's recording is paused (the call in progress):
/// the call bar says so in its border and its first line.
pub fn recording_paused(s: &Session) -> bool {
    s.recording_paused && s.phase.is_active()
}

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let block = match state.selected_session().filter(|s| recording_paused(s)) {
        Some(_) => theme
            .block()
            .border_style(theme.error())
            .title(Line::from(vec![
                Span::styled(" Call ", theme.title()),
                Span::styled(
                    format!(
                        " RECORDING PAUSED{}{} resumes ",
                        theme.sep(),
                        state.keymap.key_label(Command::PauseRecording)
                    ),
                    theme.alarm(),
                ),
            ])),
        None => theme.panel(" Call ".into(), false),
    };
    let inner_w = area.width.saturating_sub(2) as usize;
    let lines = match state.selected_session() {
        None if !state.is_online() => vec![Line::from(Span::styled(
            "Not connected: sessions appear once logged in.",
            theme.dim(),
        ))],
        None => vec![
            Line::from(Span::styled("No session selected.", theme.dim())),
            Line::from(Span::styled(
                format!(
                    "Waiting for calls; {} calls out, {} changes status.",
                    state.keymap.key_label(Command::CallOut),
                    state.keymap.key_label(Command::Status)
                ),
                theme.dim(),
            )),
        ],
        Some(s) => session_lines(s, state, theme, inner_w, area.height >= 5),
    };
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn session_lines(
    s: &Session,
    state: &State,
    theme: &Theme,
    width: usize,
    tall: bool,
) -> Vec<Line<'static>> {
    let sep = theme.sep();
    let mut first = consult_spans(s, state, theme).unwrap_or_else(|| {
        vec![
            Span::styled(
                format!(
                    "{} {} ",
                    theme.phase_symbol(s.phase),
                    theme.session_label(s)
                ),
                theme.phase(s.phase),
            ),
            Span::styled(s.peer(), theme.bold()),
            Span::raw(sep.to_string()),
            Span::styled(phase_text(s, state.now), theme.phase(s.phase)),
        ]
    });
    if recording_paused(s) {
        first.push(Span::raw(" "));
        first.push(Span::styled("[RECORDING PAUSED]", theme.alarm()));
    }
    if s.phase.is_active() && state.microphone_of(s).mic_muted {
        first.push(Span::styled(" [MUTED]", theme.error()));
    }
    if s.phase.is_active() && s.video_muted {
        first.push(Span::styled(" [CAMERA OFF]", theme.error()));
    }
    let mine_acw = s.is_ended() && state.status == Some(AgentStatus::Arrange);
    if mine_acw {
        first.push(Span::styled(
            format!(
                " [AFTER-CALL WORK {}]",
                clock(state.now.saturating_sub(state.status_since))
            ),
            theme.info(),
        ));
    }
    if s.phase == Phase::Ringing {
        let verb = if s.callback().is_some() {
            "calls back"
        } else {
            "accept"
        };
        first.push(Span::styled(
            format!("  {} {verb}", state.keymap.key_label(Command::Accept)),
            theme.key(),
        ));
    }
    let mut second: Vec<Span> = Vec::new();
    // The number a callback dials (the first line says it while dialing).
    if let Some(n) = s.callback().filter(|_| s.phase != Phase::Dialing) {
        second.push(Span::styled(format!("callback to {n}{sep}"), theme.info()));
    }
    let dir = match s.direction {
        Direction::Inbound => "in",
        Direction::Outbound => "out",
        Direction::Internal => "internal",
    };
    if let Some(loc) = &s.call_in.caller_location {
        second.push(Span::raw(format!("{loc}{sep}")));
    }
    second.push(Span::styled(format!("{} {dir}", s.id), theme.dim()));
    if let Some(path) = &s.call_in.ivr_path {
        if !path.is_empty() {
            let p: Vec<String> = path
                .iter()
                .map(|n| format!("{} {}", n.key, n.label))
                .collect();
            second.push(Span::raw(format!("{sep}IVR {}", p.join(theme.arrow()))));
        }
    }
    // The contact's attributes, as the trunk gave them.
    for (name, value) in &s.call_in.attributes {
        second.push(Span::styled(format!("{sep}{name}: {value}"), theme.info()));
    }
    if let Some(callee) = s
        .call_in
        .protected_callee
        .as_ref()
        .or(s.call_in.callee_phone_number.as_ref())
    {
        if s.direction != Direction::Outbound {
            second.push(Span::styled(format!("{sep}to {callee}"), theme.dim()));
        }
    }
    if let Some(note) = &s.note {
        second.push(Span::styled(format!("{sep}{note}"), theme.info()));
    } else if let Some(by) = s.close_by {
        second.push(Span::styled(
            format!("{sep}closed by {}", by.as_str()),
            theme.dim(),
        ));
    }
    let mut out = vec![clip(first, width, theme), clip(second, width, theme)];
    if tall {
        let mut third: Vec<Span> = Vec::new();
        if let Some(r) = &s.call_in.remark {
            third.push(Span::raw(format!("remark: {r}")));
        }
        if let Some(c) = &s.call_in.client_data {
            third.push(Span::styled(format!("{sep}data: {c}"), theme.dim()));
        }
        if !s.digits.is_empty() {
            third.push(Span::styled(
                format!("{sep}DTMF sent: {}", s.digits),
                theme.dim(),
            ));
        }
        out.push(clip(third, width, theme));
    }
    out
}

/// The call bar's first line during a consult: both parties and who holds
/// (the selected one in bold). The consulting agent sees `customer Ann Lee
/// (on hold) · consulting bob (talking 0:35)`, then `conference: customer
/// Ann Lee · bob`; the colleague consulted sees `consult from alice about
/// Ann Lee`. None outside a consult.
fn consult_spans(s: &Session, state: &State, theme: &Theme) -> Option<Vec<Span<'static>>> {
    let sep = theme.sep();
    let now = state.now;
    let c = state.consult_for(&s.id);
    let name = |text: String, selected: bool| {
        Span::styled(
            text,
            if selected {
                theme.bold()
            } else {
                Style::default()
            },
        )
    };
    let mut out = vec![Span::styled(
        format!("{} ", theme.phase_symbol(s.phase)),
        theme.phase(s.phase),
    )];
    let Some(c) = c.filter(|c| state.consults(c)) else {
        // Consulted: this is the leg, from the colleague, about a customer.
        s.consult_of()?;
        let about = s
            .consult_about()
            .unwrap_or_else(|| "their customer".to_string());
        if c.is_some_and(|c| c.phase == ConsultPhase::Conference) {
            out.push(Span::styled("conference: ", theme.phase(s.phase)));
            out.push(name(s.peer(), true));
            out.push(Span::raw(format!("{sep}customer {about}{sep}")));
        } else {
            out.push(Span::styled("consult from ", theme.phase(s.phase)));
            out.push(name(s.peer(), true));
            out.push(Span::raw(format!(" about {about}{sep}")));
        }
        out.push(Span::styled(phase_text(s, now), theme.phase(s.phase)));
        return Some(out);
    };
    let customer = state.session(&c.session_id);
    let leg = state.session(&c.consult_session_id);
    let on_customer = s.id == c.session_id;
    let customer_name = format!(
        "customer {}",
        customer.map_or_else(|| "the customer".to_string(), |x| x.peer())
    );
    let colleague = state.consult_colleague(c);
    if c.phase == ConsultPhase::Conference {
        out.push(Span::styled("conference: ", theme.phase(s.phase)));
        out.push(name(customer_name, on_customer));
        out.push(Span::raw(sep.to_string()));
        out.push(name(colleague, !on_customer));
        out.push(Span::raw(sep.to_string()));
        out.push(Span::styled(phase_text(s, now), theme.phase(s.phase)));
        return Some(out);
    }
    out.push(name(customer_name, on_customer));
    let (held, held_style) = match customer {
        Some(x) if x.phase == Phase::Held => ("on hold".to_string(), theme.phase(x.phase)),
        Some(x) => (x.phase.label().to_string(), theme.phase(x.phase)),
        None => ("on hold".to_string(), theme.phase(Phase::Held)),
    };
    out.push(Span::styled(format!(" ({held})"), held_style));
    out.push(Span::raw(sep.to_string()));
    out.push(Span::raw("consulting "));
    out.push(name(colleague, !on_customer));
    let (words, since, style) = match (c.phase, leg) {
        (ConsultPhase::Ringing, Some(l)) => {
            ("ringing", Some(l.started_at), theme.phase(Phase::Ringing))
        }
        (ConsultPhase::Ringing, None) => ("ringing", None, theme.phase(Phase::Ringing)),
        (_, Some(l)) => (
            "talking",
            Some(l.accepted_at.unwrap_or(l.started_at)),
            theme.phase(Phase::Talking),
        ),
        (_, None) => ("talking", None, theme.phase(Phase::Talking)),
    };
    let timer = since
        .map(|t| format!(" {}", clock(now.saturating_sub(t))))
        .unwrap_or_default();
    out.push(Span::styled(format!(" ({words}{timer})"), style));
    Some(out)
}
