//! The reducer's directory: the transfer and internal-call dialogs fetch
//! the colleagues and groups, and Up/Down picks among them.

use crossterm::event::KeyCode;
use serde_json::json;

use crate::app::action::Action;
use crate::app::reduce::reduce;
use crate::app::reduce_tests::{code, key, reqs, talking};
use crate::app::state::{Dialog, Purpose};
use crate::protocol::{CallType, ErrorCode, ProtoError};

const T0: u64 = 1_700_000_000_000;

fn answer(s: &mut crate::app::state::State, id: u64, data: serde_json::Value) {
    reduce(
        s,
        Action::Response {
            id,
            result: Ok(Some(data)),
        },
        T0,
    );
}

#[test]
fn the_transfer_dialog_lists_colleagues_and_groups_and_up_down_picks_them() {
    let mut s = talking(CallType::Phone);
    s.me.user_id = "alice".into();
    let fx = reduce(&mut s, key('t'), T0);
    let asked = reqs(&fx);
    let methods: Vec<&str> = asked.iter().map(|r| r.1).collect();
    assert_eq!(methods, ["Agent.list", "SkillGroup.list"]);
    let agent = |id: &str, available: bool| {
        json!({"userId": id, "status": if available {"free"} else {"busy"},
               "skillGroups": ["support"], "available": available})
    };
    answer(
        &mut s,
        asked[0].0,
        json!({"agents": [agent("alice", false), agent("bob", true), agent("carol", false)]}),
    );
    answer(
        &mut s,
        asked[1].0,
        json!({"skillGroups": [{"skillGroupId": "support", "free": 1, "waiting": 2},
                               {"skillGroupId": "billing", "free": 0, "waiting": 0}]}),
    );
    assert_eq!(s.directory.agents.len(), 3);
    assert_eq!(s.directory.groups.len(), 2);
    // Groups first: the server's list, not only ours.
    reduce(&mut s, code(KeyCode::Down), T0);
    reduce(&mut s, code(KeyCode::Down), T0);
    assert!(
        matches!(&s.dialog, Some(Dialog::Transfer { input, .. }) if input == "billing"),
        "{:?}",
        s.dialog
    );
    // Colleagues: never ourselves.
    reduce(&mut s, code(KeyCode::Tab), T0);
    reduce(&mut s, code(KeyCode::Down), T0);
    reduce(&mut s, code(KeyCode::Down), T0);
    reduce(&mut s, code(KeyCode::Down), T0);
    assert!(
        matches!(&s.dialog, Some(Dialog::Transfer { input, .. }) if input == "bob"),
        "{:?}",
        s.dialog
    );
    let fx = reduce(&mut s, code(KeyCode::Enter), T0);
    let sent = reqs(&fx);
    assert_eq!(sent[0].1, "Call.transfer");
    assert_eq!(sent[0].2, json!({"sessionId": "s-1", "userId": "bob"}));
}

#[test]
fn an_older_server_without_the_lists_changes_nothing() {
    let mut s = talking(CallType::Phone);
    let fx = reduce(&mut s, key('i'), T0);
    let asked = reqs(&fx);
    assert_eq!(
        asked.iter().map(|r| r.1).collect::<Vec<_>>(),
        ["Agent.list"]
    );
    reduce(
        &mut s,
        Action::Response {
            id: asked[0].0,
            result: Err(ProtoError::new(ErrorCode::BadRequest, "unknown method")),
        },
        T0,
    );
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert!(!s
        .pending
        .values()
        .any(|p| matches!(p.purpose, Purpose::AgentList)));
    // Up/Down with nobody listed leaves what is typed.
    reduce(&mut s, key('x'), T0);
    reduce(&mut s, code(KeyCode::Down), T0);
    assert_eq!(s.dialog, Some(Dialog::Internal { user: "x".into() }));
}
