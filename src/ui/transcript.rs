//! The live transcript of the selected session (the `asr` stream), or its
//! chat with an input line.

use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use super::text::{clip, clock, tail, wrap};
use super::theme::Theme;
use crate::app::keymap::Command;
use crate::app::state::{Focus, Phase, Session, State};
use crate::protocol::{CallType, ChatFrom, Flow};

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let focused = state.focus == Focus::Transcript || state.typing;
    let s = state.selected_session();
    let is_chat = s.is_some_and(|s| s.kind == CallType::Im);
    let mut title = if is_chat {
        " Chat ".to_string()
    } else {
        " Transcript ".to_string()
    };
    if let Some(s) = s {
        if s.scroll > 0 {
            title = format!(
                "{}({} back; {} follows) ",
                title,
                s.scroll,
                state.keymap.key_label(Command::Follow)
            );
        }
    }
    let block = theme.panel(title, focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(s) = s else {
        f.render_widget(
            Paragraph::new(Span::styled(
                "Select a session to see its transcript.",
                theme.dim(),
            )),
            inner,
        );
        return;
    };
    let width = inner.width as usize;
    let input = is_chat.then(|| input_line(s, state, theme, width));
    let notes = history_notes(s, state.now, theme, width);
    body(f, inner, s, notes, input, "me", theme);
}

/// How long ago, for the history: `5m ago`, `3h ago`, `2d ago`.
fn ago(ms: u64) -> String {
    let m = ms / 60_000;
    if m < 60 {
        format!("{}m ago", m.max(1))
    } else if m < 48 * 60 {
        format!("{}h ago", m / 60)
    } else {
        format!("{}d ago", m / (24 * 60))
    }
}

/// The caller's earlier sessions, above the transcript (`Contact.history`):
/// when, with whom, how long, and how it was wrapped up; the last three.
fn history_notes(s: &Session, now: u64, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let Some(h) = s.history.as_ref().filter(|h| !h.is_empty()) else {
        return Vec::new();
    };
    let sep = theme.sep();
    let mut out = vec![clip(
        vec![Span::styled(
            format!("Earlier with this contact ({}):", h.len()),
            theme.dim(),
        )],
        width,
        theme,
    )];
    for e in h.iter().take(3) {
        let who = e
            .agents
            .last()
            .cloned()
            .unwrap_or_else(|| "not answered".into());
        let mut spans = vec![Span::styled(
            format!(
                "  {}{sep}{}{sep}{who}",
                ago(now.saturating_sub(e.ended_at)),
                e.kind
            ),
            theme.dim(),
        )];
        if let Some(t) = e.talk_ms {
            spans.push(Span::styled(format!("{sep}{}", clock(t)), theme.dim()));
        }
        if let Some(code) = &e.wrap_up_code {
            spans.push(Span::styled(format!("{sep}{code}"), theme.info()));
        }
        if let Some(n) = &e.wrap_up_notes {
            spans.push(Span::styled(format!(" \u{201c}{n}\u{201d}"), theme.dim()));
        }
        out.push(clip(spans, width, theme));
    }
    out
}

/// How a session's transcript pane is framed (see `draw_session`).
pub struct SessionPane<'a> {
    pub title: String,
    pub focused: bool,
    /// Lines shown above the transcript (ended, connecting).
    pub notes: Vec<Line<'static>>,
    /// The label of a seat message without a user id.
    pub seat: &'a str,
}

/// One session's transcript (or chat) in a titled pane of its own, as the
/// agent's transcript pane draws it: IN and OUT told apart by label and
/// style, partial sentences marked, wrapped, scrolled by `s.scroll`. The
/// supervisor's monitor panels are drawn with it.
pub fn draw_session(f: &mut Frame, area: Rect, s: &Session, pane: SessionPane, theme: &Theme) {
    let block = theme.panel(pane.title, pane.focused);
    let inner = block.inner(area);
    f.render_widget(block, area);
    body(f, inner, s, pane.notes, None, pane.seat, theme);
}

/// The inside of a transcript pane: notes, the newest entries that fit, and
/// the input line (chat) at the bottom.
fn body(
    f: &mut Frame,
    inner: Rect,
    s: &Session,
    notes: Vec<Line<'static>>,
    input: Option<Line<'static>>,
    seat: &str,
    theme: &Theme,
) {
    let is_chat = s.kind == CallType::Im;
    let width = inner.width as usize;
    let height = inner.height.saturating_sub(input.is_some() as u16) as usize;
    let room = height.saturating_sub(notes.len());
    // Only the entries that can be seen are wrapped: from the newest shown
    // entry back until the pane is full.
    let shown = if is_chat {
        visible(&s.messages, s.scroll, room, |m| {
            chat_entry(m, seat, theme, width)
        })
    } else {
        visible(&s.transcript, s.scroll, room, |l| {
            speech_entry(l, theme, width)
        })
    };
    let shown = if shown.is_empty() {
        let hint = if is_chat {
            "No messages yet."
        } else if s.phase == Phase::Ringing {
            "The transcript starts when the call is accepted."
        } else if s.phase == Phase::Dialing {
            "The transcript starts when the call is answered."
        } else {
            "Nobody has spoken yet."
        };
        vec![Line::from(Span::styled(hint, theme.dim()))]
    } else {
        shown
    };
    let mut lines = notes;
    lines.extend(shown);
    f.render_widget(
        Paragraph::new(lines),
        Rect {
            height: height as u16,
            ..inner
        },
    );
    if let Some(line) = input {
        let r = Rect {
            y: inner.y + inner.height.saturating_sub(1),
            height: 1.min(inner.height),
            ..inner
        };
        f.render_widget(Paragraph::new(line), r);
    }
}

/// The last `height` lines of the entries before the newest `back` ones.
fn visible<T>(
    entries: &[T],
    back: usize,
    height: usize,
    render: impl Fn(&T) -> Vec<Line<'static>>,
) -> Vec<Line<'static>> {
    let end = entries.len().saturating_sub(back);
    let mut out: Vec<Line<'static>> = Vec::new();
    for e in entries[..end].iter().rev() {
        if out.len() >= height {
            break;
        }
        let mut lines = render(e);
        lines.extend(out);
        out = lines;
    }
    let skip = out.len().saturating_sub(height);
    out.split_off(skip)
}

/// A labelled entry: the label on the first line, the text wrapped under it.
fn labelled(
    label: String,
    label_style: ratatui::style::Style,
    text: &str,
    style: ratatui::style::Style,
    width: usize,
) -> Vec<Line<'static>> {
    let lw = label.width() + 1;
    wrap(text, width.saturating_sub(lw))
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let head = if i == 0 {
                Span::styled(format!("{label} "), label_style)
            } else {
                Span::raw(" ".repeat(lw))
            };
            Line::from(vec![head, Span::styled(part, style)])
        })
        .collect()
}

fn speech_entry(
    l: &crate::app::state::SpeechLine,
    theme: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    if l.keys {
        let keys: Vec<String> = l.text.chars().map(|c| c.to_string()).collect();
        return labelled(
            theme.flow_label(l.flow).to_string(),
            theme.flow(l.flow).add_modifier(Modifier::BOLD),
            &format!("{} pressed {}", theme.keypad(), keys.join(" ")),
            theme.flow(l.flow).add_modifier(Modifier::ITALIC),
            width,
        );
    }
    let mut text = l.text.clone();
    let style = if l.is_final {
        theme.flow(l.flow)
    } else {
        text.push_str(theme.partial_mark());
        theme.flow(l.flow).add_modifier(Modifier::ITALIC)
    };
    labelled(
        theme.flow_label(l.flow).to_string(),
        theme.flow(l.flow).add_modifier(Modifier::BOLD),
        &text,
        style,
        width,
    )
}

fn chat_entry(
    m: &crate::protocol::ChatMessage,
    seat: &str,
    theme: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    let (flow, who) = match m.from {
        ChatFrom::Client => (Flow::In, "customer".to_string()),
        ChatFrom::Seat => (Flow::Out, m.user_id.clone().unwrap_or_else(|| seat.into())),
    };
    let tag = match flow {
        Flow::In => "IN ",
        Flow::Out => "OUT",
    };
    labelled(
        format!("{tag} {who}:"),
        theme.flow(flow).add_modifier(Modifier::BOLD),
        &m.text,
        ratatui::style::Style::default(),
        width,
    )
}

fn input_line(s: &Session, state: &State, theme: &Theme, width: usize) -> Line<'static> {
    if state.typing {
        let cursor = if theme.unicode { "▏" } else { "_" };
        let hint = "  enter sends, esc leaves";
        let room = width.saturating_sub(2 + 1);
        let show_hint = s.draft.width() + hint.len() <= room;
        let mut spans = vec![
            Span::styled("> ", theme.key()),
            Span::raw(tail(&s.draft, room).to_string()),
            Span::styled(cursor, theme.key()),
        ];
        if show_hint {
            spans.push(Span::styled(hint, theme.dim()));
        }
        Line::from(spans)
    } else if s.phase == Phase::Talking {
        let draft = if s.draft.is_empty() {
            String::new()
        } else {
            format!(" (draft: {})", s.draft)
        };
        Line::from(Span::styled(
            format!("{} to write{draft}", state.keymap.key_label(Command::Chat)),
            theme.dim(),
        ))
    } else {
        Line::from(Span::styled(
            format!("the chat is {}", s.phase.label()),
            theme.dim(),
        ))
    }
}
