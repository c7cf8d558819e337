//! The console's skill groups dialog: the key opens it on the selected
//! agent with every group of the wallboard (checked where the agent is a
//! member), Up/Down move, Space toggles, Enter sends
//! `Supervisor.setSkillGroups` with the checked ids, Esc cancels; a
//! refusal is the request's error, and seats removed from the center
//! (`removed` in a delta) leave the board.

use crossterm::event::KeyCode;
use serde_json::json;

use super::board_tests::{board, console};
use crate::app::action::Action;
use crate::app::board::BoardPane;
use crate::app::reduce::reduce;
use crate::app::reduce_tests::{code, key, req, reqs};
use crate::app::state::{Dialog, State};
use crate::protocol::*;

const T0: u64 = 1_700_000_000_000;

fn delta(s: &mut State, d: serde_json::Value) {
    let d: WallboardDelta = serde_json::from_value(d).expect("a delta");
    reduce(s, Action::Server(Event::Wallboard(d)), T0 + 100);
}

/// The console with three groups on the wallboard and bob selected in the
/// agents pane (bob is in support only).
fn bob_selected() -> State {
    let mut s = console();
    delta(
        &mut s,
        json!({"groups": [
            {"skillGroupId": "sales", "name": "Sales", "waiting": 0, "free": 0, "staffed": 0},
            {"skillGroupId": "billing", "waiting": 0, "free": 0, "staffed": 0}
        ]}),
    );
    reduce(&mut s, code(KeyCode::Tab), T0);
    assert_eq!(board(&s).pane, BoardPane::Agents);
    reduce(&mut s, code(KeyCode::Down), T0);
    assert_eq!(board(&s).agent.as_deref(), Some("bob"));
    s
}

/// The open dialog: (user, groups, checked, cursor).
fn dialog(s: &State) -> (&str, Vec<&str>, Vec<bool>, usize) {
    match &s.dialog {
        Some(Dialog::SkillGroups {
            user_id,
            groups,
            checked,
            cursor,
        }) => (
            user_id.as_str(),
            groups.iter().map(String::as_str).collect(),
            checked.clone(),
            *cursor,
        ),
        other => panic!("expected the skill groups dialog, got {other:?}"),
    }
}

#[test]
fn the_key_opens_every_group_checked_where_the_agent_is() {
    let mut s = bob_selected();
    let fx = reduce(&mut s, key('G'), T0 + 200);
    assert!(reqs(&fx).is_empty(), "nothing is sent on opening");
    assert_eq!(
        dialog(&s),
        (
            "bob",
            vec!["support", "sales", "billing"],
            vec![true, false, false],
            0
        )
    );
}

#[test]
fn a_group_the_wallboard_does_not_list_stays_listed_and_checked() {
    let mut s = bob_selected();
    delta(
        &mut s,
        json!({"agents": [{"userId": "bob", "role": "agent", "skillGroups": ["vip", "support"],
                           "status": "busy", "statusSince": T0, "connected": true}]}),
    );
    reduce(&mut s, key('G'), T0 + 200);
    let (_, groups, checked, _) = dialog(&s);
    assert_eq!(groups, ["support", "sales", "billing", "vip"]);
    assert_eq!(checked, [true, false, false, true]);
}

#[test]
fn space_toggles_and_enter_sends_the_checked_ids() {
    let mut s = bob_selected();
    reduce(&mut s, key('G'), T0 + 200);
    // sales on, support off, billing on; Up from the top wraps to billing.
    reduce(&mut s, code(KeyCode::Down), T0 + 200);
    reduce(&mut s, key(' '), T0 + 200);
    reduce(&mut s, code(KeyCode::Up), T0 + 200);
    reduce(&mut s, key(' '), T0 + 200);
    reduce(&mut s, code(KeyCode::Up), T0 + 200);
    assert_eq!(dialog(&s).3, 2);
    reduce(&mut s, key(' '), T0 + 200);
    // Other keys (a command's letter too) do nothing here.
    let fx = reduce(&mut s, key('w'), T0 + 200);
    assert!(reqs(&fx).is_empty());
    assert_eq!(dialog(&s).2, [false, true, true]);
    let fx = reduce(&mut s, code(KeyCode::Enter), T0 + 300);
    let (id, method, params) = req(&fx);
    assert_eq!(method, "Supervisor.setSkillGroups");
    assert_eq!(
        params,
        json!({"userId": "bob", "skillGroups": ["sales", "billing"]})
    );
    assert_eq!(s.dialog, None);
    // Success says nothing: the row follows the server's delta.
    reduce(
        &mut s,
        Action::Response {
            id,
            result: Ok(None),
        },
        T0 + 400,
    );
    assert!(s.errors.is_empty());
    assert!(s.info.is_none());
    let row = |s: &State| board(s).selected_agent().map(|a| a.skill_groups.clone());
    assert_eq!(row(&s), Some(vec!["support".to_string()]));
    delta(
        &mut s,
        json!({"agents": [{"userId": "bob", "role": "agent", "skillGroups": ["sales", "billing"],
                           "status": "busy", "statusSince": T0, "connected": true}]}),
    );
    assert_eq!(
        row(&s),
        Some(vec!["sales".to_string(), "billing".to_string()])
    );
}

#[test]
fn nothing_checked_sends_no_groups() {
    let mut s = bob_selected();
    reduce(&mut s, key('G'), T0 + 200);
    reduce(&mut s, key(' '), T0 + 200);
    let fx = reduce(&mut s, code(KeyCode::Enter), T0 + 200);
    let (_, _, params) = req(&fx);
    assert_eq!(params, json!({"userId": "bob", "skillGroups": []}));
}

#[test]
fn a_refusal_shows_as_the_requests_error() {
    let mut s = bob_selected();
    reduce(&mut s, key('G'), T0 + 200);
    reduce(&mut s, key(' '), T0 + 200);
    let fx = reduce(&mut s, code(KeyCode::Enter), T0 + 200);
    let (id, _, _) = req(&fx);
    let e = ProtoError::forbidden("only admins change staffing");
    reduce(&mut s, Action::Response { id, result: Err(e) }, T0 + 300);
    assert_eq!(
        s.errors.back().map(|e| e.text.as_str()),
        Some("Supervisor.setSkillGroups: only admins change staffing")
    );
    // The row is as it was.
    assert_eq!(
        board(&s).selected_agent().map(|a| a.skill_groups.clone()),
        Some(vec!["support".to_string()])
    );
}

#[test]
fn esc_cancels_without_sending() {
    let mut s = bob_selected();
    reduce(&mut s, key('G'), T0 + 200);
    reduce(&mut s, key(' '), T0 + 200);
    let fx = reduce(&mut s, code(KeyCode::Esc), T0 + 200);
    assert!(reqs(&fx).is_empty());
    assert_eq!(s.dialog, None);
    // Opened again: the agent's groups, not the cancelled choice.
    reduce(&mut s, key('G'), T0 + 300);
    assert_eq!(dialog(&s).2, [true, false, false]);
}

#[test]
fn a_removed_seat_leaves_the_board_and_its_dialog_closes() {
    let mut s = bob_selected();
    reduce(&mut s, key('G'), T0 + 200);
    delta(&mut s, json!({"removed": ["bob"]}));
    let b = board(&s);
    let ids: Vec<&str> = b.wall.agents.iter().map(|a| a.user_id.as_str()).collect();
    assert_eq!(ids, ["alice", "carol"]);
    // The selection moves to a row that exists.
    assert_eq!(b.agent.as_deref(), Some("alice"));
    assert_eq!(s.dialog, None);
    assert_eq!(
        s.info.as_ref().map(|i| i.text.as_str()),
        Some("bob was removed from the center")
    );
    // Another seat's removal leaves an open dialog alone.
    reduce(&mut s, key('G'), T0 + 300);
    delta(&mut s, json!({"removed": ["carol"]}));
    assert_eq!(dialog(&s).0, "alice");
}

#[test]
fn no_agent_selected_says_so() {
    let mut s = console();
    delta(&mut s, json!({"removed": ["alice", "bob", "carol"]}));
    assert!(board(&s).wall.agents.is_empty());
    assert_eq!(board(&s).agent, None);
    let fx = reduce(&mut s, key('G'), T0 + 200);
    assert!(reqs(&fx).is_empty());
    assert_eq!(s.dialog, None);
    assert_eq!(
        s.info.as_ref().map(|i| i.text.as_str()),
        Some("no agent selected")
    );
}

#[test]
fn the_agent_terminal_has_no_skill_groups_key() {
    let mut s = crate::app::reduce_tests::state();
    let fx = reduce(&mut s, key('G'), T0);
    assert!(reqs(&fx).is_empty());
    assert_eq!(s.dialog, None);
    assert_eq!(
        s.info.as_ref().map(|i| i.text.as_str()),
        Some("that is for the supervisor console (ccdesk supervise)")
    );
}
