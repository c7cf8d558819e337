//! The sessions the supervisor monitors as text, each with its transcript.

use super::*;
use crate::protocol::MonitorMode;

/// The monitor panels side by side; when more are open than fit (each at
/// least MIN_PANEL wide), the ones around the focused panel, with a count of
/// the others on the bottom border.
pub(super) fn monitors(f: &mut Frame, area: Rect, state: &State, b: &Board, theme: &Theme) {
    let n = b.watches.len();
    if n == 0 || area.width == 0 || area.height == 0 {
        return;
    }
    let fits = usize::from((area.width / MIN_PANEL).max(1)).min(n);
    let start = b.watch.saturating_sub(fits - 1).min(n - fits);
    let rects = Layout::horizontal(vec![Constraint::Fill(1); fits]).split(area);
    for (j, r) in rects.iter().enumerate() {
        let i = start + j;
        let Some(w) = b.watches.get(i) else {
            continue;
        };
        let focused = b.pane == BoardPane::Monitors && i == b.watch;
        monitor(f, *r, state, b, w, focused, theme);
        let y = r.bottom().saturating_sub(1);
        let room = r.width.saturating_sub(4) as usize;
        let (left, right) = if theme.unicode {
            ("◂", "▸")
        } else {
            ("<", ">")
        };
        if j == 0 && start > 0 {
            let text = truncate(&format!(" {left} {start} more "), room, theme.ellipsis());
            f.buffer_mut().set_string(r.x + 2, y, text, theme.title());
        }
        let after = n - start - fits;
        if j + 1 == fits && after > 0 {
            let text = truncate(&format!(" {after} more {right} "), room, theme.ellipsis());
            let x = r.right().saturating_sub(2 + text.width() as u16);
            f.buffer_mut().set_string(x, y, text, theme.title());
        }
    }
}

pub(super) fn monitor(
    f: &mut Frame,
    area: Rect,
    state: &State,
    b: &Board,
    w: &Watch,
    focused: bool,
    theme: &Theme,
) {
    let s = &w.session;
    let agent = b
        .live_session(&s.id)
        .and_then(|l| l.user_id.clone())
        .or_else(|| w.agent.clone())
        .unwrap_or_else(|| "-".into());
    let sep = theme.sep();
    let mut title = format!(" {}{sep}{agent}{sep}{} ", s.id, s.peer());
    if s.scroll > 0 {
        title = format!(
            "{title}({} back; {} follows) ",
            s.scroll,
            state.keymap.key_label(Command::Follow)
        );
    }
    let title = truncate(
        &title,
        area.width.saturating_sub(2) as usize,
        theme.ellipsis(),
    );
    let mut notes = Vec::new();
    if let Some(why) = &w.ended {
        notes.push(Line::from(vec![
            Span::styled(
                format!("{} {why}", theme.phase_symbol(Phase::Ended)),
                theme.bold(),
            ),
            Span::styled(
                format!("{sep}{} closes", state.keymap.key_label(Command::Monitor)),
                theme.dim(),
            ),
        ]));
    } else if !w.confirmed {
        notes.push(Line::from(Span::styled(
            format!("connecting{}", dots(theme)),
            theme.info(),
        )));
    } else if w.audio() {
        // The audio monitor: how it takes part and how the sound is doing,
        // in the panel it is for.
        let sound = match state.audio.calls.get(&s.id) {
            Some(call) => crate::ui::status::call_audio_text(state, call).0,
            None => "audio is off in this console".into(),
        };
        let how = match w.mode {
            MonitorMode::Coach => "coaching (the agent hears you)",
            MonitorMode::Barge => "barged in (everyone hears you)",
            _ => "listening",
        };
        let style = match w.mode {
            MonitorMode::Listen | MonitorMode::Text => theme.bold(),
            m => theme.monitor_mode(m),
        };
        notes.push(Line::from(vec![
            Span::styled(how, style),
            Span::styled(format!("{sep}{sound}"), theme.info()),
        ]));
    }
    let width = area.width.saturating_sub(2) as usize;
    let notes = notes
        .into_iter()
        .map(|l| clip(l.spans, width, theme))
        .collect();
    transcript::draw_session(
        f,
        area,
        s,
        SessionPane {
            title,
            focused,
            notes,
            seat: &agent,
        },
        theme,
    );
}
