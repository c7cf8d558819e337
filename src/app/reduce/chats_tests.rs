//! The reducer with several chats at once: a chat offered while the agent
//! is in other chats is accepted with the accept key; customer messages
//! to a chat that is not selected are counted unread until it is selected;
//! the next-chat key jumps to them; an offer that rings while the agent
//! writes leaves the selection and the draft alone.

use std::collections::BTreeMap;

use crossterm::event::KeyCode;
use serde_json::json;

use crate::app::action::{Action, Effect};
use crate::app::keymap::{KeySpec, Keymap};
use crate::app::reduce::reduce;
use crate::app::reduce_tests::{code, key, req, state};
use crate::app::state::{Phase, State};
use crate::protocol::{CallIn, CallType, ChatFrom, ChatMessage, Event};

const T0: u64 = 1_700_000_000_000;

fn offer(id: &str, nickname: &str) -> Action {
    Action::Server(Event::CallIn(CallIn {
        session_id: id.into(),
        kind: CallType::Im,
        timeout: 30,
        nickname: Some(nickname.into()),
        ..CallIn::default()
    }))
}

fn accessed(id: &str) -> Action {
    Action::Server(Event::UserAccessed {
        session_id: id.into(),
        tab_uuid: Some("tab-1".into()),
    })
}

fn said(id: &str, from: ChatFrom, text: &str, at: u64) -> Action {
    Action::Server(Event::ChatMessage(ChatMessage {
        session_id: id.into(),
        from,
        user_id: None,
        text: text.into(),
        timestamp: at,
    }))
}

/// The chat `id` is offered and accepted with the accept key.
fn take(s: &mut State, id: &str, nickname: &str) {
    reduce(s, offer(id, nickname), T0);
    let (_, method, params) = req(&reduce(s, key('a'), T0));
    assert_eq!(
        (method, params),
        ("Chat.accept", json!({ "sessionId": id })),
        "{id}"
    );
    reduce(s, accessed(id), T0);
}

/// alice in three chats (Mia, Noor, Ola), Ola's selected.
fn three_chats() -> State {
    let mut s = state();
    take(&mut s, "s-1", "Mia");
    take(&mut s, "s-2", "Noor");
    take(&mut s, "s-3", "Ola");
    s
}

fn unread(s: &State) -> Vec<usize> {
    s.sessions.iter().map(|x| x.unread).collect()
}

#[test]
fn a_chat_offered_while_in_chats_rings_beside_them_and_the_accept_key_takes_it() {
    let mut s = state();
    take(&mut s, "s-1", "Mia");
    let fx = reduce(&mut s, offer("s-2", "Noor"), T0);
    // It rings (bell, notification) but the chat in progress stays selected.
    assert!(fx.contains(&Effect::Bell), "{fx:?}");
    assert_eq!(s.selected.as_deref(), Some("s-1"));
    assert_eq!(
        s.info.as_ref().map(|i| i.text.as_str()),
        Some("chat from Noor: a accepts")
    );
    // Nothing refuses it for the chat in progress.
    let (_, method, params) = req(&reduce(&mut s, key('a'), T0));
    assert_eq!(
        (method, params),
        ("Chat.accept", json!({"sessionId": "s-2"}))
    );
    assert_eq!(s.selected.as_deref(), Some("s-2"));
    reduce(&mut s, accessed("s-2"), T0);
    let phases: Vec<Phase> = s.sessions.iter().map(|x| x.phase).collect();
    assert_eq!(phases, [Phase::Talking, Phase::Talking]);
    assert_eq!(s.open_chats(), 2);
}

#[test]
fn customer_messages_to_a_chat_not_selected_are_unread_until_it_is_selected() {
    let mut s = three_chats();
    assert_eq!(s.selected.as_deref(), Some("s-3"));
    reduce(&mut s, said("s-1", ChatFrom::Client, "hello?", T0 + 1), T0);
    reduce(&mut s, said("s-1", ChatFrom::Client, "anyone?", T0 + 2), T0);
    reduce(&mut s, said("s-2", ChatFrom::Client, "thanks", T0 + 3), T0);
    // The selected chat's messages are read as they come; the agent's own
    // lines are never unread; a line heard twice counts once.
    reduce(&mut s, said("s-3", ChatFrom::Client, "and?", T0 + 4), T0);
    reduce(
        &mut s,
        said("s-2", ChatFrom::Seat, "you are welcome", T0 + 5),
        T0,
    );
    reduce(&mut s, said("s-2", ChatFrom::Client, "thanks", T0 + 3), T0);
    assert_eq!(unread(&s), [2, 1, 0]);
    assert_eq!(s.unread(), 3);
    assert_eq!(s.session("s-1").map(|x| x.messages.len()), Some(2));
    // Selecting Noor's chat (up) reads it.
    reduce(&mut s, code(KeyCode::Up), T0);
    assert_eq!(s.selected.as_deref(), Some("s-2"));
    assert_eq!(unread(&s), [2, 0, 0]);
}

#[test]
fn the_next_chat_key_goes_to_the_next_chat_with_unread_messages_and_wraps() {
    let mut s = three_chats();
    reduce(&mut s, said("s-1", ChatFrom::Client, "hello?", T0 + 1), T0);
    reduce(&mut s, code(KeyCode::Up), T0);
    reduce(&mut s, code(KeyCode::Up), T0);
    reduce(&mut s, said("s-2", ChatFrom::Client, "hi", T0 + 2), T0);
    reduce(&mut s, said("s-3", ChatFrom::Client, "hey", T0 + 3), T0);
    assert_eq!(s.selected.as_deref(), Some("s-1"));
    assert_eq!(unread(&s), [0, 1, 1]);
    // From Mia's chat: Noor's, then Ola's, each read as it is selected.
    let fx = reduce(&mut s, key('n'), T0);
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(s.selected.as_deref(), Some("s-2"));
    assert_eq!(unread(&s), [0, 0, 1]);
    reduce(&mut s, key('n'), T0);
    assert_eq!(s.selected.as_deref(), Some("s-3"));
    // Back round to Mia's.
    reduce(
        &mut s,
        said("s-1", ChatFrom::Client, "still there?", T0 + 4),
        T0,
    );
    reduce(&mut s, key('n'), T0);
    assert_eq!(s.selected.as_deref(), Some("s-1"));
    // Nothing unread: it says so and stays.
    reduce(&mut s, key('n'), T0);
    assert_eq!(s.selected.as_deref(), Some("s-1"));
    assert_eq!(
        s.info.as_ref().map(|i| i.text.as_str()),
        Some("no chat has unread messages")
    );
}

#[test]
fn the_next_chat_key_is_configurable() {
    let mut o = BTreeMap::new();
    o.insert("next_chat".to_string(), KeySpec::One("N".into()));
    let mut s = three_chats();
    s.keymap = Keymap::with_overrides(&o).expect("valid");
    reduce(&mut s, said("s-1", ChatFrom::Client, "hello?", T0 + 1), T0);
    reduce(&mut s, key('n'), T0);
    assert_eq!(s.selected.as_deref(), Some("s-3"));
    reduce(&mut s, key('N'), T0);
    assert_eq!(s.selected.as_deref(), Some("s-1"));
}

#[test]
fn an_offer_while_writing_keeps_the_draft_and_says_to_leave_the_input_first() {
    let mut s = state();
    take(&mut s, "s-1", "Mia");
    reduce(&mut s, code(KeyCode::Enter), T0);
    for c in "your parcel".chars() {
        reduce(&mut s, key(c), T0);
    }
    reduce(&mut s, offer("s-2", "Noor"), T0 + 1_000);
    // Still writing to Mia: the offer took neither the selection nor the
    // keyboard, and the notice says how to accept it.
    assert!(s.typing);
    assert_eq!(s.selected.as_deref(), Some("s-1"));
    assert_eq!(
        s.info.as_ref().map(|i| i.text.as_str()),
        Some("chat from Noor: esc, then a accepts")
    );
    // An `a` typed now is Mia's.
    reduce(&mut s, key('a'), T0);
    assert_eq!(
        s.session("s-1").map(|x| x.draft.as_str()),
        Some("your parcela")
    );
    reduce(&mut s, code(KeyCode::Backspace), T0);
    reduce(&mut s, code(KeyCode::Esc), T0);
    let (_, method, _) = req(&reduce(&mut s, key('a'), T0));
    assert_eq!(method, "Chat.accept");
    reduce(&mut s, accessed("s-2"), T0);
    assert_eq!(s.selected.as_deref(), Some("s-2"));
    // Mia's draft waits for her chat.
    assert_eq!(s.session("s-2").map(|x| x.draft.as_str()), Some(""));
    assert_eq!(
        s.session("s-1").map(|x| x.draft.as_str()),
        Some("your parcel")
    );
    reduce(&mut s, code(KeyCode::Up), T0);
    reduce(&mut s, code(KeyCode::Enter), T0);
    assert!(s.typing);
    let (_, method, params) = req(&reduce(&mut s, code(KeyCode::Enter), T0));
    assert_eq!(
        (method, params),
        (
            "Chat.sendMessage",
            json!({"sessionId": "s-1", "text": "your parcel"})
        )
    );
}

#[test]
fn a_message_while_writing_in_another_chat_is_unread_and_the_draft_goes_on() {
    let mut s = three_chats();
    reduce(&mut s, code(KeyCode::Enter), T0);
    reduce(&mut s, key('o'), T0);
    reduce(&mut s, said("s-1", ChatFrom::Client, "hello?", T0 + 1), T0);
    reduce(&mut s, key('k'), T0);
    assert!(s.typing);
    assert_eq!(s.session("s-3").map(|x| x.draft.as_str()), Some("ok"));
    assert_eq!(unread(&s), [1, 0, 0]);
}

#[test]
fn an_ended_chat_is_no_longer_counted_open() {
    let mut s = three_chats();
    assert_eq!(s.open_chats(), 3);
    reduce(
        &mut s,
        Action::Server(Event::SessionEnded(crate::protocol::SessionEnded {
            session_id: "s-2".into(),
            close_by: crate::protocol::CloseBy::Client,
            main_reason: None,
            sub_reason: None,
        })),
        T0,
    );
    assert_eq!(s.open_chats(), 2);
}
