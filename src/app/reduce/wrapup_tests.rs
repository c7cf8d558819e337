//! The reducer's wrap-up: the dialog opening by itself in after-call work,
//! picking a code, writing notes, and what is sent.

use crossterm::event::KeyCode;
use serde_json::json;

use crate::app::action::Action;
use crate::app::keymap::Keymap;
use crate::app::reduce::reduce;
use crate::app::reduce_tests::{code, key, req};
use crate::app::state::{Dialog, State};
use crate::protocol::{AfterCallWork, AgentStatus, Event};

const T0: u64 = 1_700_000_000_000;

fn acw(code: Option<&str>, required: bool) -> AfterCallWork {
    AfterCallWork {
        session_id: "s-1".into(),
        seconds: 30,
        ends_at: T0 + 30_000,
        codes: vec![
            "Resolved".into(),
            "Callback needed".into(),
            "Escalated".into(),
        ],
        required,
        code: code.map(str::to_string),
    }
}

fn arrange(s: &mut State, a: Option<AfterCallWork>) {
    reduce(
        s,
        Action::Server(Event::StatusChanged {
            status: AgentStatus::Arrange,
            rest_reason: None,
            after_call_work: a,
        }),
        T0,
    );
}

fn state() -> State {
    State::new("ws://t/ws".into(), "alice".into(), Keymap::default(), T0)
}

fn typed(s: &mut State, text: &str) {
    for c in text.chars() {
        reduce(s, key(c), T0);
    }
}

#[test]
fn after_call_work_opens_the_dialog_and_enter_sends_code_and_notes() {
    let mut s = state();
    arrange(&mut s, Some(acw(None, true)));
    assert!(
        matches!(&s.dialog, Some(Dialog::WrapUp { session_id, cursor: 0, .. }) if session_id == "s-1"),
        "{:?}",
        s.dialog
    );
    reduce(&mut s, code(KeyCode::Down), T0);
    reduce(&mut s, code(KeyCode::Tab), T0);
    typed(&mut s, "call back after 5");
    let fx = reduce(&mut s, code(KeyCode::Enter), T0);
    let (_, method, params) = req(&fx);
    assert_eq!(method, "Call.setWrapUp");
    assert_eq!(
        params,
        json!({"sessionId": "s-1", "code": "Callback needed", "notes": "call back after 5"})
    );
    assert!(s.dialog.is_none(), "closed once sent");
}

#[test]
fn a_code_already_set_opens_nothing_and_u_reopens_on_it() {
    let mut s = state();
    arrange(&mut s, Some(acw(Some("Escalated"), false)));
    assert!(s.dialog.is_none());
    reduce(&mut s, key('u'), T0);
    assert!(
        matches!(&s.dialog, Some(Dialog::WrapUp { cursor: 2, .. })),
        "{:?}",
        s.dialog
    );
    // Esc leaves it for later; nothing is sent.
    let fx = reduce(&mut s, code(KeyCode::Esc), T0);
    assert!(s.dialog.is_none());
    assert!(fx
        .iter()
        .all(|f| !matches!(f, crate::app::action::Effect::Request { .. })));
}

#[test]
fn without_codes_the_code_is_typed_and_a_blank_one_is_not_sent() {
    let mut s = state();
    s.selected = Some("s-9".into());
    reduce(&mut s, key('u'), T0);
    assert!(
        matches!(&s.dialog, Some(Dialog::WrapUp { codes, session_id, .. }) if codes.is_empty() && session_id == "s-9"),
        "{:?}",
        s.dialog
    );
    let fx = reduce(&mut s, code(KeyCode::Enter), T0);
    assert!(fx
        .iter()
        .all(|f| !matches!(f, crate::app::action::Effect::Request { .. })));
    assert!(s.dialog.is_some(), "still open, asking for a code");
    typed(&mut s, "Sold");
    let (_, method, params) = req(&reduce(&mut s, code(KeyCode::Enter), T0));
    assert_eq!(method, "Call.setWrapUp");
    assert_eq!(params, json!({"sessionId": "s-9", "code": "Sold"}));
}

#[test]
fn another_dialog_open_is_not_replaced() {
    let mut s = state();
    s.dialog = Some(Dialog::Status { cursor: 1 });
    arrange(&mut s, Some(acw(None, false)));
    assert_eq!(s.dialog, Some(Dialog::Status { cursor: 1 }));
}
