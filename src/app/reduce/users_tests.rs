//! The console's user management: the users key opens a menu about the
//! selected agent (password, removal) and for a new user; each dialog
//! sends its request once what was typed is fit to send, says the
//! server's answer in the status bar, and never shows a password.

use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::json;

use super::board_tests::{board, console};
use crate::app::action::Action;
use crate::app::board::BoardPane;
use crate::app::reduce::reduce;
use crate::app::reduce_tests::{code, info_text, key, req, reqs};
use crate::app::state::{Dialog, State, UsersDialog};
use crate::protocol::*;

const T0: u64 = 1_700_000_000_000;

fn typed(s: &mut State, text: &str) {
    for c in text.chars() {
        reduce(s, key(c), T0);
    }
}

/// The console with bob selected in the agents pane.
fn bob_selected() -> State {
    let mut s = console();
    reduce(&mut s, code(KeyCode::Tab), T0);
    assert_eq!(board(&s).pane, BoardPane::Agents);
    reduce(&mut s, code(KeyCode::Down), T0);
    assert_eq!(board(&s).agent.as_deref(), Some("bob"));
    s
}

fn users(s: &State) -> &UsersDialog {
    match &s.dialog {
        Some(Dialog::Users(d)) => d,
        other => panic!("expected the users dialog, got {other:?}"),
    }
}

fn screen(s: &State) -> String {
    let mut t = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
    t.draw(|f| crate::ui::draw(s, f)).expect("draw");
    let buf = t.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[test]
fn the_menu_is_about_the_selected_agent_and_a_new_user() {
    let mut s = bob_selected();
    let fx = reduce(&mut s, key('U'), T0);
    assert!(reqs(&fx).is_empty(), "nothing is sent on opening");
    assert_eq!(
        users(&s),
        &UsersDialog::Menu {
            user_id: Some("bob".into()),
            cursor: 0
        }
    );
    let text = screen(&s);
    for item in [
        "Set bob's password",
        "Remove bob from the center",
        "Add a user",
    ] {
        assert!(text.contains(item), "{item} in\n{text}");
    }
    // The last item adds a user.
    reduce(&mut s, code(KeyCode::Down), T0);
    reduce(&mut s, code(KeyCode::Down), T0);
    reduce(&mut s, code(KeyCode::Enter), T0);
    assert!(matches!(users(&s), UsersDialog::Add(_)), "{:?}", s.dialog);
}

#[test]
fn a_password_is_typed_twice_shown_as_dots_and_sent_once_both_agree() {
    let mut s = bob_selected();
    reduce(&mut s, key('U'), T0);
    reduce(&mut s, code(KeyCode::Enter), T0);
    // Too short: said, and it stays on the first field.
    typed(&mut s, "short");
    reduce(&mut s, code(KeyCode::Enter), T0);
    assert!(
        info_text(&s).contains("at least 10 characters"),
        "{}",
        info_text(&s)
    );
    for _ in 0..5 {
        reduce(&mut s, code(KeyCode::Backspace), T0);
    }
    typed(&mut s, "secret-pass-1");
    let text = screen(&s);
    assert!(
        !text.contains("secret-pass-1"),
        "the password shows:\n{text}"
    );
    assert!(text.contains(&"•".repeat(13)), "dots:\n{text}");
    assert!(
        !format!("{:?}", s.dialog).contains("secret"),
        "not in Debug"
    );
    reduce(&mut s, code(KeyCode::Enter), T0);
    // Typed differently: both are cleared and asked again.
    typed(&mut s, "secret-pass-2");
    let fx = reduce(&mut s, code(KeyCode::Enter), T0);
    assert!(reqs(&fx).is_empty());
    assert_eq!(info_text(&s), "the two passwords differ: type them again");
    typed(&mut s, "secret-pass-1");
    reduce(&mut s, code(KeyCode::Enter), T0);
    typed(&mut s, "secret-pass-1");
    let fx = reduce(&mut s, code(KeyCode::Enter), T0);
    let (id, method, params) = req(&fx);
    assert_eq!(method, "Supervisor.setPassword");
    assert_eq!(
        params,
        json!({"userId": "bob", "password": "secret-pass-1"})
    );
    assert!(
        s.dialog.is_none(),
        "the password leaves the state once sent"
    );
    reduce(
        &mut s,
        Action::Response {
            id,
            result: Ok(None),
        },
        T0,
    );
    assert_eq!(info_text(&s), "bob's password is set");
}

#[test]
fn removing_asks_first_and_a_refusal_is_said() {
    let mut s = bob_selected();
    reduce(&mut s, key('U'), T0);
    reduce(&mut s, code(KeyCode::Down), T0);
    reduce(&mut s, code(KeyCode::Enter), T0);
    assert_eq!(
        users(&s),
        &UsersDialog::Remove {
            user_id: "bob".into()
        }
    );
    // Any other key cancels.
    let fx = reduce(&mut s, key('n'), T0);
    assert!(reqs(&fx).is_empty() && s.dialog.is_none());
    reduce(&mut s, key('U'), T0);
    reduce(&mut s, code(KeyCode::Down), T0);
    reduce(&mut s, code(KeyCode::Enter), T0);
    let fx = reduce(&mut s, key('y'), T0);
    let (id, method, params) = req(&fx);
    assert_eq!(
        (method, params),
        ("Supervisor.removeUser", json!({"userId": "bob"}))
    );
    let refusal = ProtoError::invalid_state("`bob` is logged in (free): they log out first");
    reduce(
        &mut s,
        Action::Response {
            id,
            result: Err(refusal),
        },
        T0,
    );
    let said = s.errors.back().map(|e| e.text.as_str()).unwrap_or("");
    assert!(said.contains("log out first"), "{said}");
}

#[test]
fn a_new_user_is_added_with_role_groups_and_a_password() {
    let mut s = bob_selected();
    reduce(&mut s, key('U'), T0);
    reduce(&mut s, code(KeyCode::Up), T0); // from the first item to the last
    reduce(&mut s, code(KeyCode::Enter), T0);
    assert!(matches!(users(&s), UsersDialog::Add(_)), "{:?}", s.dialog);
    // Enter with no id: said, nothing sent.
    let fx = reduce(&mut s, code(KeyCode::Enter), T0);
    assert!(reqs(&fx).is_empty());
    assert_eq!(info_text(&s), "a new user needs a user id");
    typed(&mut s, "nina k"); // the space is not taken in an id
    reduce(&mut s, code(KeyCode::Tab), T0);
    typed(&mut s, "Nina Kade");
    reduce(&mut s, code(KeyCode::Tab), T0);
    reduce(&mut s, code(KeyCode::Right), T0); // agent → admin
    reduce(&mut s, code(KeyCode::Left), T0); // back to agent
    reduce(&mut s, code(KeyCode::Left), T0); // wraps to inspector
    reduce(&mut s, code(KeyCode::Right), T0); // agent
    reduce(&mut s, code(KeyCode::Tab), T0);
    typed(&mut s, "support, sales");
    reduce(&mut s, code(KeyCode::Tab), T0);
    typed(&mut s, "nina-pass-123");
    assert!(!screen(&s).contains("nina-pass-123"));
    let fx = reduce(&mut s, code(KeyCode::Enter), T0);
    let sent = reqs(&fx);
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0].1, "Supervisor.addUser");
    assert_eq!(
        sent[0].2,
        json!({"userId": "ninak", "name": "Nina Kade", "role": "agent",
               "skillGroups": ["support", "sales"]})
    );
    assert_eq!(sent[1].1, "Supervisor.setPassword");
    assert_eq!(
        sent[1].2,
        json!({"userId": "ninak", "password": "nina-pass-123"})
    );
    assert!(s.dialog.is_none());
    reduce(
        &mut s,
        Action::Response {
            id: sent[0].0,
            result: Ok(None),
        },
        T0,
    );
    assert_eq!(info_text(&s), "ninak is added");
}

#[test]
fn the_dialog_about_a_removed_seat_closes() {
    let mut s = bob_selected();
    reduce(&mut s, key('U'), T0);
    reduce(&mut s, code(KeyCode::Enter), T0);
    let d: WallboardDelta = serde_json::from_value(json!({"removed": ["bob"]})).expect("delta");
    reduce(&mut s, Action::Server(Event::Wallboard(d)), T0 + 100);
    assert!(s.dialog.is_none());
    assert_eq!(info_text(&s), "bob was removed from the center");
}
