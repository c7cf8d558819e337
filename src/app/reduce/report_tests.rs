//! The reducer's report view: the report key opens it and asks for today's
//! figures by agent and by group, again refreshes them, Up/Down move
//! through the agents, the view key goes back to the floor, and a server
//! without reports says so.

use crossterm::event::KeyCode;
use serde_json::json;

use super::board_tests::{board, console};
use crate::app::action::Action;
use crate::app::board::BoardView;
use crate::app::reduce::reduce;
use crate::app::reduce_tests::{code, key, reqs};
use crate::app::state::{Dialog, State};
use crate::protocol::*;

const T0: u64 = 1_700_000_000_000;

fn answer(s: &mut State, id: u64, data: serde_json::Value) {
    reduce(
        s,
        Action::Response {
            id,
            result: Ok(Some(data)),
        },
        T0 + 100,
    );
}

fn rows(keys: &[&str]) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = keys
        .iter()
        .map(|k| {
            json!({"key": k, "offered": 4, "answered": 3, "abandoned": 1, "serviceLevel": 75.0,
                   "asaMs": 12_000, "ahtMs": 180_000, "transfers": 1,
                   "wrapUpCodes": {"Resolved": 2, "Escalated": 1}})
        })
        .collect();
    json!({"since": T0 - 3_600_000, "rows": rows})
}

/// `r` on the floor: the view and its two requests (agent, group).
fn opened() -> (State, Vec<u64>) {
    let mut s = console();
    let fx = reduce(&mut s, key('r'), T0);
    let sent = reqs(&fx);
    let asked: Vec<(&str, serde_json::Value)> =
        sent.iter().map(|(_, m, p)| (*m, p.clone())).collect();
    assert_eq!(
        asked,
        [
            ("Supervisor.report", json!({"by": "agent"})),
            ("Supervisor.report", json!({"by": "group"})),
        ]
    );
    assert_eq!(board(&s).view, BoardView::Report);
    (s, sent.into_iter().map(|(id, _, _)| id).collect())
}

#[test]
fn the_report_key_opens_today_by_agent_and_by_group() {
    let (mut s, ids) = opened();
    let r = &board(&s).report;
    assert_eq!((r.asked_at, r.pending), (T0, 2));
    assert_eq!((r.agents.clone(), r.groups.clone()), (None, None));
    answer(&mut s, ids[0], rows(&["alice", "bob", "carol"]));
    answer(&mut s, ids[1], rows(&["support"]));
    let r = &board(&s).report;
    assert_eq!(r.pending, 0);
    let agents: Vec<&str> = r.agents.iter().flatten().map(|x| x.key.as_str()).collect();
    assert_eq!(agents, ["alice", "bob", "carol"]);
    let groups = r.groups.clone().unwrap_or_default();
    assert_eq!(groups[0].key, "support");
    assert_eq!(groups[0].wrap_up_codes.get("Resolved"), Some(&2));
    assert_eq!(groups[0].asa_ms, Some(12_000));
}

#[test]
fn the_report_key_refreshes_and_the_view_key_goes_back() {
    let (mut s, ids) = opened();
    answer(&mut s, ids[0], rows(&["alice", "bob", "carol"]));
    answer(&mut s, ids[1], rows(&["support"]));
    // Up/Down move through the agents, within the table.
    for _ in 0..5 {
        reduce(&mut s, code(KeyCode::Down), T0 + 200);
    }
    assert_eq!(board(&s).report.cursor, 2);
    reduce(&mut s, code(KeyCode::Up), T0 + 200);
    assert_eq!(board(&s).report.cursor, 1);
    // r again: asked again, what shows stays until the answers.
    let fx = reduce(&mut s, key('r'), T0 + 60_000);
    let sent = reqs(&fx);
    assert_eq!(sent.len(), 2);
    let r = &board(&s).report;
    assert_eq!((r.asked_at, r.pending), (T0 + 60_000, 2));
    assert!(r.agents.is_some());
    // Fewer agents now: the cursor stays on a row.
    answer(&mut s, sent[0].0, rows(&["alice"]));
    assert_eq!(board(&s).report.cursor, 0);
    // Call keys do not reach a call from here; status and help still work.
    let fx = reduce(&mut s, key('h'), T0 + 60_000);
    assert!(reqs(&fx).is_empty());
    assert_eq!(
        s.info.as_ref().map(|i| i.text.as_str()),
        Some("back to the floor first (g)")
    );
    reduce(&mut s, key('s'), T0 + 60_000);
    assert!(matches!(s.dialog, Some(Dialog::Status { .. })));
    reduce(&mut s, code(KeyCode::Esc), T0 + 60_000);
    // g: the floor again.
    reduce(&mut s, key('g'), T0 + 60_000);
    assert_eq!(board(&s).view, BoardView::Floor);
}

#[test]
fn a_server_without_reports_says_so_in_the_view() {
    let (mut s, ids) = opened();
    for id in ids {
        let e = ProtoError::invalid_state("the server keeps no records");
        reduce(&mut s, Action::Response { id, result: Err(e) }, T0 + 100);
    }
    let r = &board(&s).report;
    assert_eq!(r.pending, 0);
    assert_eq!(
        r.error.as_deref(),
        Some("Supervisor.report: the server keeps no records")
    );
    assert!(s
        .errors
        .back()
        .is_some_and(|e| e.text == "Supervisor.report: the server keeps no records"));
    // Asking again clears it until the answer.
    reduce(&mut s, key('r'), T0 + 200);
    assert_eq!(board(&s).report.error, None);
}

#[test]
fn the_agent_terminal_has_no_report() {
    let mut s = crate::app::reduce_tests::state();
    let fx = reduce(&mut s, key('r'), T0);
    assert!(reqs(&fx).is_empty());
    assert_eq!(
        s.info.as_ref().map(|i| i.text.as_str()),
        Some("that is for the supervisor console (ccdesk supervise)")
    );
}
