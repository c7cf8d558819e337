//! The live transcript of the selected session (the `asr` stream), or its
//! chat with an input line.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use super::text::wrap;
use super::theme::Theme;
use crate::app::keymap::Command;
use crate::app::state::{Focus, Phase, Session, State};
use crate::protocol::{CallType, ChatFrom};

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
                "{}(scrolled back {}; {} follows) ",
                title,
                s.scroll,
                state.keymap.key_label(Command::Follow)
            );
        }
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if focused {
            theme.focused_border()
        } else {
            theme.border()
        })
        .title(Span::styled(title, theme.title()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(s) = s else {
        f.render_widget(
            Paragraph::new(Span::styled("Select a session to see its transcript.", theme.dim())),
            inner,
        );
        return;
    };
    let width = inner.width as usize;
    let (body, input) = if is_chat {
        (chat_lines(s, theme, width), Some(input_line(s, state, theme)))
    } else {
        (speech_lines(s, theme, width), None)
    };
    let height = inner.height.saturating_sub(input.is_some() as u16) as usize;
    let end = body.len().saturating_sub(s.scroll);
    let start = end.saturating_sub(height);
    let mut shown: Vec<Line> = body[start..end].to_vec();
    if shown.is_empty() {
        let hint = if is_chat {
            "No messages yet."
        } else if s.kind.is_voice() && s.phase == Phase::Ringing {
            "The transcript starts when the call is accepted."
        } else {
            "Nobody has spoken yet."
        };
        shown.push(Line::from(Span::styled(hint, theme.dim())));
    }
    f.render_widget(Paragraph::new(shown), Rect { height: height as u16, ..inner });
    if let Some(line) = input {
        let r = Rect {
            y: inner.y + inner.height.saturating_sub(1),
            height: 1.min(inner.height),
            ..inner
        };
        f.render_widget(Paragraph::new(line), r);
    }
}

/// Speech, one sentence per entry, wrapped; partials marked.
fn speech_lines(s: &Session, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for l in &s.transcript {
        let label = theme.flow_label(l.flow);
        let lw = unicode_width::UnicodeWidthStr::width(label) + 1;
        let mut text = l.text.clone();
        if !l.is_final {
            text.push_str(theme.partial_mark());
        }
        let style = if l.is_final {
            theme.flow(l.flow)
        } else {
            theme.flow(l.flow).add_modifier(ratatui::style::Modifier::ITALIC)
        };
        for (i, part) in wrap(&text, width.saturating_sub(lw)).into_iter().enumerate() {
            let head = if i == 0 {
                Span::styled(format!("{label} "), theme.flow(l.flow).add_modifier(ratatui::style::Modifier::BOLD))
            } else {
                Span::raw(" ".repeat(lw))
            };
            out.push(Line::from(vec![head, Span::styled(part, style)]));
        }
    }
    out
}

fn chat_lines(s: &Session, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for m in &s.messages {
        let who = match m.from {
            ChatFrom::Client => "IN  customer:".to_string(),
            ChatFrom::Seat => format!("OUT {}:", m.user_id.as_deref().unwrap_or("me")),
        };
        let flow = match m.from {
            ChatFrom::Client => crate::protocol::Flow::In,
            ChatFrom::Seat => crate::protocol::Flow::Out,
        };
        let lw = unicode_width::UnicodeWidthStr::width(who.as_str()) + 1;
        for (i, part) in wrap(&m.text, width.saturating_sub(lw)).into_iter().enumerate() {
            let head = if i == 0 {
                Span::styled(format!("{who} "), theme.flow(flow).add_modifier(ratatui::style::Modifier::BOLD))
            } else {
                Span::raw(" ".repeat(lw))
            };
            out.push(Line::from(vec![head, Span::raw(part)]));
        }
    }
    out
}

fn input_line(s: &Session, state: &State, theme: &Theme) -> Line<'static> {
    if state.typing {
        let cursor = if theme.unicode { "▏" } else { "_" };
        Line::from(vec![
            Span::styled("> ", theme.key()),
            Span::raw(s.draft.clone()),
            Span::styled(cursor, theme.key()),
            Span::styled("  enter sends, esc leaves", theme.dim()),
        ])
    } else if s.phase == Phase::Talking {
        Line::from(Span::styled(
            format!("{} to write{}", state.keymap.key_label(Command::Chat), if s.draft.is_empty() { String::new() } else { format!(" (draft: {})", s.draft) }),
            theme.dim(),
        ))
    } else {
        Line::from(Span::styled(format!("chat is {}", s.phase.label()), theme.dim()))
    }
}
