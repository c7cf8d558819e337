//! The agent status pane: who, status and time in it, a request for help,
//! the supervisors monitoring, the tab, the link, and the latest request
//! errors.

use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::text::clip;
use super::text::{clock, minutes};
use super::theme::Theme;
use crate::app::state::{AudioPhase, CallAudio, Help, Link, State};
use crate::media::analysis;
use crate::media::device::AudioKind;
use crate::media::rtc::PeerState;
use crate::protocol::{AgentStatus, MonitorMode};

/// Errors this recent outrank information lines.
const FRESH_ERROR_MS: u64 = 60_000;
/// Information lines older than this are no longer shown.
const INFO_MS: u64 = 30_000;

pub fn height(rows: u16) -> u16 {
    if rows >= 36 {
        7
    } else {
        4
    }
}

pub fn status_word(state: &State) -> String {
    match (state.status, &state.rest_reason) {
        (Some(AgentStatus::Rest), Some(r)) => format!("rest ({r})"),
        (Some(s), _) => s.as_str().to_string(),
        (None, _) => "not logged in".into(),
    }
}

pub fn link_text(state: &State) -> String {
    match &state.link {
        Link::Online { .. } => "online".into(),
        Link::Connecting { attempt } if *attempt <= 1 => "connecting".into(),
        Link::Connecting { attempt } => format!("reconnecting (attempt {attempt})"),
        Link::Lost { retry_at, .. } => format!(
            "offline, retry in {}s",
            retry_at.saturating_sub(state.now).div_ceil(1000)
        ),
    }
}

/// A supervisor monitoring the agent, in the agent's words.
pub fn monitor_words(user: &str, mode: MonitorMode) -> String {
    match mode {
        MonitorMode::Text => format!("{user} reads along"),
        MonitorMode::Listen => format!("{user} is listening"),
        MonitorMode::Coach => format!("{user} is coaching you"),
        MonitorMode::Barge => format!("{user} barged in"),
    }
}

/// The agent's request for help and the supervisors monitoring, as spans
/// (each after a separator): `⚑ help asked 0:42`, `sam is coming`, `sam is
/// coaching you`.
pub fn supervisor_spans(state: &State, theme: &Theme) -> Vec<Span<'static>> {
    let sep = theme.sep();
    let mut out = Vec::new();
    match &state.help {
        Some(Help::Asked { at, .. }) => out.push(Span::styled(
            format!(
                "{sep}{} help asked {}",
                theme.help_flag(),
                clock(state.now.saturating_sub(*at))
            ),
            theme.unread(),
        )),
        Some(Help::Coming { by, .. }) => {
            out.push(Span::styled(format!("{sep}{by} is coming"), theme.unread()))
        }
        None => {}
    }
    for m in state.monitored_by() {
        out.push(Span::raw(sep.to_string()));
        out.push(Span::styled(
            monitor_words(&m.user_id, m.mode),
            theme.monitor_mode(m.mode),
        ));
    }
    out
}

/// The call audio of the selected session (else of any session with audio):
/// a few words for the one-line pane, and a full line (state, loss, jitter,
/// microphone level, device).
pub fn audio_text(state: &State) -> Option<(String, String)> {
    let (_, call) = state
        .selected
        .as_deref()
        .and_then(|id| state.audio.calls.get_key_value(id))
        .or_else(|| state.audio.calls.iter().next())?;
    Some(call_audio_text(state, call))
}

/// One call's audio: the few words and the full line of [`audio_text`].
pub fn call_audio_text(state: &State, call: &CallAudio) -> (String, String) {
    let st = &call.stats;
    let word = match &call.phase {
        AudioPhase::Starting | AudioPhase::Offered => "connecting",
        AudioPhase::Running => st.state.map_or("connecting", PeerState::as_str),
        AudioPhase::Failed(_) => "failed",
    };
    let device = match state.audio.device {
        Some(AudioKind::Null) if state.audio.notice.is_some() => " (no sound card: silent)",
        Some(AudioKind::Null) => " (null device)",
        _ => "",
    };
    let short = match word {
        "connected" => "audio ok".to_string(),
        w => format!("audio {w}"),
    };
    let mut long = format!("audio {word}{device}");
    if matches!(st.state, Some(PeerState::Connected)) {
        long.push_str(&format!(
            " | loss {:.1}% | jitter {:.1} ms | mic {}",
            st.loss_percent,
            st.jitter_ms,
            analysis::level_bar(st.mic_dbfs, 10)
        ));
        if call.muted {
            long.push_str(" muted");
        }
    }
    if let AudioPhase::Failed(why) = &call.phase {
        long.push_str(&format!(": {why}"));
    }
    (short, long)
}

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let block = theme.panel(" Agent ".into(), false);
    let width = area.width.saturating_sub(2) as usize;
    let sep = theme.sep();
    let who = if state.me.role.is_empty() {
        state.me.user_id.clone()
    } else {
        format!("{} ({})", state.me.user_id, state.me.role)
    };
    let mut first = vec![Span::styled(who, theme.bold()), Span::raw(sep.to_string())];
    if state.status.is_some() {
        let in_status = state.now.saturating_sub(state.status_since);
        let time = if state.status == Some(AgentStatus::Arrange) {
            clock(in_status)
        } else {
            minutes(in_status)
        };
        first.push(Span::styled(
            format!(
                "{} {}",
                theme.status_symbol(state.status),
                status_word(state)
            ),
            theme.status(state.status),
        ));
        match state
            .after_call_work
            .as_ref()
            .filter(|_| state.status == Some(AgentStatus::Arrange))
        {
            // After-call work counts down, and says where the wrap-up is.
            Some(acw) => {
                let left = acw.ends_at.saturating_sub(state.now);
                first.push(Span::raw(format!(" {} left", clock(left))));
                match &acw.code {
                    Some(code) => {
                        first.push(Span::styled(format!("{sep}wrap-up: {code}"), theme.info()))
                    }
                    None if acw.required => first.push(Span::styled(
                        format!("{sep}wrap-up code needed (u)"),
                        if left == 0 {
                            theme.error()
                        } else {
                            theme.info()
                        },
                    )),
                    None => {}
                }
            }
            None => first.push(Span::raw(format!(" for {time}"))),
        }
    } else {
        first.push(Span::styled("not logged in yet", theme.dim()));
    }
    // Several chats at once: how many (and how many messages wait).
    let chats = state.open_chats();
    if chats > 1 {
        first.push(Span::styled(format!("{sep}{chats} chats"), theme.bold()));
        let unread = state.unread();
        if unread > 0 {
            first.push(Span::styled(format!(", {unread} unread"), theme.unread()));
        }
    }
    first.extend(supervisor_spans(state, theme));
    // A paused recording on a call the call bar does not show now.
    for s in state.sessions.iter().filter(|s| {
        s.recording_paused && s.phase.is_active() && state.selected.as_deref() != Some(&s.id)
    }) {
        first.push(Span::raw(sep.to_string()));
        first.push(Span::styled(
            format!("RECORDING PAUSED: {}", s.peer()),
            theme.alarm(),
        ));
    }
    if let Some(seat) = &state.me.seat {
        // Where the call audio goes, when not this terminal; a desk phone
        // chosen but not registered is an error to see at once.
        match seat.server_type.as_str() {
            "staffExtensionSeat" if !seat.desk_phone => first.push(Span::styled(
                format!("{sep}audio: desk phone (not registered)"),
                theme.error(),
            )),
            "staffSeat" => {}
            t => first.push(Span::styled(
                format!("{sep}audio: {}", crate::app::state::seat_type_words(t)),
                theme.info(),
            )),
        }
    }
    if let Some(tab) = &state.me.tab_uuid {
        let tab: String = tab.chars().take(8).collect();
        first.push(Span::raw(format!("{sep}tab {tab}")));
    }
    if state.me.enable_shared {
        first.push(Span::styled(" (shared)", theme.dim()));
    }
    let link_style = if state.is_online() {
        theme.dim()
    } else {
        theme.error()
    };
    first.push(Span::styled(
        format!("{sep}{}", link_text(state)),
        link_style,
    ));
    if !state.errors.is_empty() && area.height < 6 {
        let n = state.errors.len();
        first.push(Span::styled(
            format!("{sep}{n} error{}", if n == 1 { "" } else { "s" }),
            theme.error(),
        ));
    }
    let audio = audio_text(state);
    if let (Some((short, _)), true) = (&audio, area.height < 6) {
        first.push(Span::styled(format!("{sep}{short}"), theme.dim()));
    }
    let mut lines = vec![clip(first, width, theme)];
    if let (Some((_, long)), true) = (&audio, area.height >= 6) {
        lines.push(clip(
            vec![Span::styled(long.clone(), theme.info())],
            width,
            theme,
        ));
    }
    if area.height >= 6 {
        let groups = if state.me.skill_groups.is_empty() {
            "none".to_string()
        } else {
            state.me.skill_groups.join(", ")
        };
        // The agent's own requests: a history or a directory looked up in
        // the background is not one.
        let asked = state
            .pending
            .values()
            .filter(|p| {
                !matches!(
                    p.purpose,
                    crate::app::state::Purpose::History { .. }
                        | crate::app::state::Purpose::Directory
                        | crate::app::state::Purpose::Undirectory
                )
            })
            .count();
        let waiting = match asked {
            0 => "no request waiting".to_string(),
            1 => "1 request waiting".to_string(),
            n => format!("{n} requests waiting"),
        };
        lines.push(clip(
            vec![
                Span::styled(format!("skill groups: {groups}"), theme.dim()),
                Span::styled(format!("{sep}server {}", state.server), theme.dim()),
                Span::styled(format!("{sep}{waiting}"), theme.dim()),
            ],
            width,
            theme,
        ));
    }
    // Recent errors first, then the newest other notices.
    let room = (area.height.saturating_sub(2) as usize).saturating_sub(lines.len());
    let now = state.now;
    let mut notices: Vec<(bool, u64, bool, &str)> = state
        .errors
        .iter()
        .map(|e| {
            (
                now.saturating_sub(e.at) < FRESH_ERROR_MS,
                e.at,
                true,
                e.text.as_str(),
            )
        })
        .collect();
    if let Some(i) = &state.info {
        if now.saturating_sub(i.at) < INFO_MS {
            notices.push((false, i.at, false, i.text.as_str()));
        }
    }
    // Start-up findings are the oldest notices: newer ones take their place.
    for w in &state.warnings {
        notices.push((false, 0, false, w.as_str()));
    }
    notices.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
    for (_, _, is_error, text) in notices.into_iter().take(room) {
        let line = if is_error {
            Span::styled(format!("{}{text}", theme.warn()), theme.error())
        } else {
            Span::styled(text.to_string(), theme.info())
        };
        lines.push(clip(vec![line], width, theme));
    }
    f.render_widget(Paragraph::new(lines).block(block), area);
}
