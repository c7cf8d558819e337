//! Wrap-up in the terminal. In after-call work the wrap-up dialog opens by
//! itself (the group's codes to pick from, a notes line) while no code is
//! set; `u` opens it for the after-call work's session, or the selected
//! session. Enter sends `Call.setWrapUp`; Esc leaves it for later.

use crossterm::event::{KeyCode, KeyEvent};
use serde_json::json;

use super::super::action::Effect;
use super::super::state::{Dialog, State};
use super::{info, menu_step, plain, text_edit};
use crate::protocol::AgentStatus;

/// Open the dialog for `session_id`, the cursor on `code` if it is one.
fn open(state: &mut State, session_id: String, codes: Vec<String>, code: Option<&str>) {
    let cursor = code
        .and_then(|c| codes.iter().position(|x| x == c))
        .unwrap_or(0);
    let typed = if codes.is_empty() {
        code.unwrap_or_default().to_string()
    } else {
        String::new()
    };
    state.dialog = Some(Dialog::WrapUp {
        session_id,
        codes,
        cursor,
        code: typed,
        notes: String::new(),
        on_notes: false,
    });
}

/// After a status change or a login: entering after-call work with codes
/// to pick and none set opens the dialog (unless another one is open).
pub(super) fn on_status(state: &mut State) {
    let Some(acw) = state.after_call_work.clone() else {
        return;
    };
    if state.status != Some(AgentStatus::Arrange)
        || acw.codes.is_empty()
        || acw.code.is_some()
        || state.dialog.is_some()
    {
        return;
    }
    open(state, acw.session_id, acw.codes, None);
}

/// The `wrap_up` key.
pub(super) fn command(state: &mut State, now: u64) {
    let acw = state
        .after_call_work
        .clone()
        .filter(|_| state.status == Some(AgentStatus::Arrange));
    match (acw, state.selected.clone()) {
        (Some(a), _) => open(state, a.session_id, a.codes, a.code.as_deref()),
        (None, Some(sid)) => open(state, sid, Vec::new(), None),
        (None, None) => info(state, now, "no session to wrap up"),
    }
}

/// A key in the wrap-up dialog (Esc has closed it already).
#[allow(clippy::too_many_arguments)]
pub(super) fn key(
    state: &mut State,
    session_id: String,
    codes: Vec<String>,
    mut cursor: usize,
    mut code: String,
    mut notes: String,
    mut on_notes: bool,
    k: KeyEvent,
    now: u64,
    fx: &mut Vec<Effect>,
) {
    match k.code {
        KeyCode::Tab | KeyCode::BackTab => on_notes = !on_notes,
        KeyCode::Enter => {
            let picked = if codes.is_empty() {
                code.trim().to_string()
            } else {
                codes.get(cursor).cloned().unwrap_or_default()
            };
            if picked.is_empty() {
                info(state, now, "type a wrap-up code");
            } else {
                let mut params = json!({ "sessionId": session_id, "code": picked });
                let notes = notes.trim();
                if !notes.is_empty() {
                    params["notes"] = json!(notes);
                }
                plain(state, "Call.setWrapUp", params, fx);
                return;
            }
        }
        KeyCode::Up | KeyCode::Down if !on_notes && !codes.is_empty() => {
            cursor = menu_step(
                cursor,
                codes.len(),
                k.code == KeyCode::Up,
                k.code == KeyCode::Down,
            );
        }
        _ if on_notes => text_edit(&mut notes, &k, |c| !c.is_control()),
        _ if codes.is_empty() => text_edit(&mut code, &k, |c| !c.is_control()),
        _ => {}
    }
    state.dialog = Some(Dialog::WrapUp {
        session_id,
        codes,
        cursor,
        code,
        notes,
        on_notes,
    });
}
