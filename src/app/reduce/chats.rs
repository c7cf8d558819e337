//! Several chats at once: the server offers a chat to an agent already in
//! chats (up to their `max_chats`). Each chat counts the customer's
//! messages that arrived while another session was selected; selecting it
//! reads them, and the next-chat key jumps to the next chat with unread
//! messages. An offer that rings while the agent writes in a chat leaves
//! the selection and the draft alone, and says how to accept it.

use super::*;
use crate::protocol::{ChatFrom, ChatMessage};

/// A `chatMessage`: appended once (a repeat after a reconnect is the same
/// line); a customer's line in a chat that is not selected is unread.
pub(super) fn message(state: &mut State, m: ChatMessage) {
    let id = m.session_id.clone();
    let selected = state.selected.as_deref() == Some(id.as_str());
    let Some(s) = state.session_mut(&id) else {
        return;
    };
    let dup = s
        .messages
        .iter()
        .any(|x| x.timestamp == m.timestamp && x.text == m.text && x.from == m.from);
    if dup {
        return;
    }
    if m.from == ChatFrom::Client && !selected {
        s.unread += 1;
    }
    s.messages.push(m);
    if s.scroll > 0 {
        s.scroll += 1;
    }
}

/// After every action: the selected session's messages are read.
pub(super) fn read(state: &mut State) {
    if let Some(id) = state.selected.clone() {
        if let Some(s) = state.session_mut(&id).filter(|s| s.unread > 0) {
            s.unread = 0;
        }
    }
}

/// The next-chat key: select the next chat (in list order, after the
/// selected one, wrapping) with unread messages.
pub(super) fn next(state: &mut State, now: u64) {
    let n = state.sessions.len();
    let from = state.selected_index().map_or(0, |i| i + 1);
    let found = (0..n)
        .map(|k| (from + k) % n)
        .find(|&i| state.sessions[i].kind == CallType::Im && state.sessions[i].unread > 0);
    let Some(i) = found else {
        return info(state, now, "no chat has unread messages");
    };
    let id = state.sessions[i].id.clone();
    if state.selected.as_deref() != Some(id.as_str()) {
        state.typing = false;
    }
    state.selected = Some(id);
}

/// How to accept an offer, in words: while the agent writes in a chat the
/// keys go to the draft, so the input line is left first.
pub(super) fn accept_words(state: &State, verb: &str) -> String {
    let key = state.keymap.key_label(Command::Accept);
    if state.typing {
        format!("esc, then {key} {verb}")
    } else {
        format!("{key} {verb}")
    }
}
