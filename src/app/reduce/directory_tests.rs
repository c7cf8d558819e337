//! The reducer's directory: the transfer and internal-call dialogs
//! subscribe while open, take the snapshot and the `directory` events, and
//! Up/Down picks among the colleagues and groups.

use crossterm::event::KeyCode;
use serde_json::json;

use crate::app::action::Action;
use crate::app::reduce::reduce;
use crate::app::reduce_tests::{code, key, reqs, talking};
use crate::app::state::Dialog;
use crate::protocol::{
    AgentStatus, CallType, DirectoryAgent, DirectoryDelta, ErrorCode, Event, ProtoError,
};

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
fn the_transfer_dialog_watches_the_directory_while_open_and_up_down_picks() {
    let mut s = talking(CallType::Phone);
    s.me.user_id = "alice".into();
    let fx = reduce(&mut s, key('t'), T0);
    let asked = reqs(&fx);
    assert_eq!(
        asked.iter().map(|r| r.1).collect::<Vec<_>>(),
        ["Agent.subscribeDirectory"]
    );
    let agent = |id: &str, available: bool| {
        json!({"userId": id, "status": if available {"free"} else {"busy"},
               "skillGroups": ["support"], "available": available})
    };
    answer(
        &mut s,
        asked[0].0,
        json!({"agents": [agent("alice", false), agent("bob", false), agent("carol", true)],
               "skillGroups": [{"skillGroupId": "support", "free": 1, "waiting": 2},
                               {"skillGroupId": "billing", "free": 0, "waiting": 0}]}),
    );
    assert_eq!((s.directory.agents.len(), s.directory.groups.len()), (3, 2));
    // bob becomes free: the event replaces his row.
    reduce(
        &mut s,
        Action::Server(Event::Directory(DirectoryDelta {
            agents: vec![DirectoryAgent {
                user_id: "bob".into(),
                name: None,
                status: AgentStatus::Free,
                rest_reason: None,
                skill_groups: vec!["support".into()],
                available: true,
            }],
            skill_groups: vec![],
        })),
        T0,
    );
    assert!(s
        .directory
        .agents
        .iter()
        .any(|a| a.user_id == "bob" && a.available));
    // Groups: the server's list, not only ours.
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
    assert!(
        matches!(&s.dialog, Some(Dialog::Transfer { input, .. }) if input == "bob"),
        "{:?}",
        s.dialog
    );
    // Closing the dialog ends the subscription.
    let fx = reduce(&mut s, code(KeyCode::Esc), T0);
    assert_eq!(
        reqs(&fx).iter().map(|r| r.1).collect::<Vec<_>>(),
        ["Agent.unsubscribeDirectory"]
    );
    assert!(!s.directory.subscribed);
}

#[test]
fn an_older_server_without_the_directory_changes_nothing() {
    let mut s = talking(CallType::Phone);
    let fx = reduce(&mut s, key('i'), T0);
    let asked = reqs(&fx);
    assert_eq!(
        asked.iter().map(|r| r.1).collect::<Vec<_>>(),
        ["Agent.subscribeDirectory"]
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
    // Up/Down with nobody listed leaves what is typed.
    reduce(&mut s, key('x'), T0);
    reduce(&mut s, code(KeyCode::Down), T0);
    assert_eq!(s.dialog, Some(Dialog::Internal { user: "x".into() }));
}
