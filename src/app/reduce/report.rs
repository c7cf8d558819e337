//! The console's report view: today's figures by agent and by group
//! (`Supervisor.report`, one request a table), asked for when the view
//! opens and again on the report key; Up/Down move through the agents.

use super::*;
use crate::app::board::BoardView;
use crate::protocol::{ReportBy, ReportRow};

/// The report key from the floor or the call view: the view opens and
/// the figures are asked for.
pub(super) fn open(state: &mut State, fx: &mut Vec<Effect>) {
    if let Some(b) = state.board.as_mut() {
        b.view = BoardView::Report;
    }
    refresh(state, fx);
}

/// Ask for both tables (what is shown stays until the answers replace it).
fn refresh(state: &mut State, fx: &mut Vec<Effect>) {
    let now = state.now;
    let Some(b) = state.board.as_mut() else {
        return;
    };
    b.report.asked_at = now;
    b.report.pending = 2;
    b.report.error = None;
    for by in [ReportBy::Agent, ReportBy::Group] {
        request(
            state,
            "Supervisor.report",
            json!({ "by": by }),
            Purpose::Report { by },
            fx,
        );
    }
}

/// A key while the report shows. Returns false when the agent terminal's
/// own handling should take it (status, help, quit).
pub(super) fn command(state: &mut State, cmd: Command, now: u64, fx: &mut Vec<Effect>) -> bool {
    let view_key = state.keymap.key_label(Command::View);
    let Some(b) = state.board.as_mut() else {
        return false;
    };
    let r = &mut b.report;
    let last = r.agents.as_ref().map_or(0, |a| a.len().saturating_sub(1));
    match cmd {
        Command::Report => refresh(state, fx),
        Command::View => b.view = BoardView::Floor,
        Command::Up => r.cursor = r.cursor.saturating_sub(1),
        Command::Down => r.cursor = (r.cursor + 1).min(last),
        Command::PageUp => r.cursor = r.cursor.saturating_sub(PAGE),
        Command::PageDown => r.cursor = (r.cursor + PAGE).min(last),
        Command::Status | Command::Help | Command::Quit | Command::Settings => return false,
        _ => info(state, now, format!("back to the floor first ({view_key})")),
    }
    true
}

/// One table's answer: `{since, rows}`.
pub(super) fn answered(
    state: &mut State,
    by: ReportBy,
    result: Result<Option<Value>, ProtoError>,
    now: u64,
) {
    let Some(b) = state.board.as_mut() else {
        return;
    };
    let r = &mut b.report;
    r.pending = r.pending.saturating_sub(1);
    let rows = result.map(|data| {
        data.and_then(|d| d.get("rows").cloned())
            .and_then(|v| serde_json::from_value::<Vec<ReportRow>>(v).ok())
    });
    match rows {
        Ok(Some(rows)) => {
            let slot = match by {
                ReportBy::Group => &mut r.groups,
                _ => &mut r.agents,
            };
            *slot = Some(rows);
            let last = r.agents.as_ref().map_or(0, |a| a.len().saturating_sub(1));
            r.cursor = r.cursor.min(last);
        }
        Ok(None) => {
            let text = "Supervisor.report: the answer has no rows".to_string();
            r.error = Some(text.clone());
            push_error(state, now, text);
        }
        Err(e) => {
            let text = format!("Supervisor.report: {}", e.message);
            r.error = Some(text.clone());
            push_error(state, now, text);
        }
    }
}
