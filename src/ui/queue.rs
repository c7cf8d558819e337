//! The session list: every session this agent holds.

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row, Table, TableState};
use ratatui::Frame;

use super::text::{age, truncate};
use super::theme::Theme;
use crate::app::state::{Focus, Session, State};

/// The peer, and for a chat its unread messages after it: `Mia (2)` (the
/// count is kept when the name is cut).
fn peer_cell(s: &Session, width: usize, theme: &Theme) -> Cell<'static> {
    if s.unread == 0 {
        return Cell::from(truncate(&s.peer(), width, theme.ellipsis()));
    }
    let count = format!(" ({})", s.unread);
    let name = truncate(
        &s.peer(),
        width.saturating_sub(count.len()),
        theme.ellipsis(),
    );
    Cell::from(Line::from(vec![
        Span::raw(name),
        Span::styled(count, theme.unread()),
    ]))
}

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let focused = state.focus == Focus::Queue;
    let ringing = state
        .sessions
        .iter()
        .filter(|s| s.phase == crate::app::state::Phase::Ringing)
        .count();
    let title = if ringing > 0 {
        format!(" Sessions {} ({ringing} ringing) ", state.sessions.len())
    } else {
        format!(" Sessions {} ", state.sessions.len())
    };
    let block = theme.panel(title, focused);
    if state.sessions.is_empty() {
        let p =
            ratatui::widgets::Paragraph::new(Span::styled("none yet", theme.dim())).block(block);
        f.render_widget(p, area);
        return;
    }
    let wide = area.width >= 40;
    let inner = area.width.saturating_sub(2) as usize;
    // highlight symbol (2) + symbol, kind, [state,] age + one space between columns
    let fixed = if wide {
        2 + 1 + 5 + 8 + 4 + 4
    } else {
        2 + 1 + 5 + 4 + 3
    };
    let peer_w = inner.saturating_sub(fixed).max(4);
    let rows: Vec<Row> = state
        .sessions
        .iter()
        .map(|s| {
            let since = match s.phase {
                crate::app::state::Phase::Ended => s.ended_at.unwrap_or(s.started_at),
                _ => s.accepted_at.unwrap_or(s.started_at),
            };
            let mut cells = vec![
                Cell::from(Span::styled(
                    theme.phase_symbol(s.phase),
                    theme.phase(s.phase),
                )),
                Cell::from(theme.session_label(s).chars().take(5).collect::<String>()),
                peer_cell(s, peer_w, theme),
            ];
            if wide {
                cells.push(Cell::from(Span::styled(
                    s.phase.label(),
                    theme.phase(s.phase),
                )));
            }
            cells.push(Cell::from(age(state.now.saturating_sub(since))));
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(5),
        Constraint::Min(4),
    ];
    if wide {
        widths.push(Constraint::Length(8));
    }
    widths.push(Constraint::Length(4));
    let table = Table::new(rows, widths)
        .block(block)
        .column_spacing(1)
        .row_highlight_style(theme.selected())
        .highlight_symbol(theme.marker());
    let mut ts = TableState::default().with_selected(state.selected_index());
    f.render_stateful_widget(table, area, &mut ts);
}
