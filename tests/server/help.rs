//! Agents ask for help (`Agent.requestHelp`): the supervisors' bell, the
//! flag on the wallboard, and a supervisor's acknowledgement
//! (`Supervisor.ackHelp`).

use ccdesk::protocol::{ErrorCode, Event, Wallboard};
use serde_json::json;

use crate::harness::*;

async fn board(c: &Client) -> Wallboard {
    let v = c
        .ok("Supervisor.subscribe", json!({}))
        .await
        .expect("a wallboard");
    serde_json::from_value(v).expect("a Wallboard")
}

/// Apply every wallboard delta until a round trip.
async fn catch_up(c: &mut Client, w: &mut Wallboard) -> Vec<Event> {
    let evs = c.drain().await;
    for ev in &evs {
        if let Event::Wallboard(d) = ev {
            w.apply(d.clone());
        }
    }
    evs
}

fn alice_help(w: &Wallboard) -> Option<ccdesk::protocol::HelpRequest> {
    w.agents
        .iter()
        .find(|a| a.user_id == "alice")
        .and_then(|a| a.help.clone())
}

#[tokio::test(start_paused = true)]
async fn a_request_rings_at_the_supervisors_flags_the_row_and_is_acknowledged() {
    let s = TestServer::paused(|_| {}).await;
    let (id, mut alice, _trunk) = talking(&s, "alice").await;
    let mut sam = s.login("sam").await;
    let mut ivy = s.login("ivy").await;
    let mut w = board(&sam).await;
    assert_eq!(alice_help(&w), None);
    alice
        .ok(
            "Agent.requestHelp",
            json!({"sessionId": id, "text": "  a refund over my limit  "}),
        )
        .await;
    // Every supervisor hears the bell.
    for sup in [&mut sam, &mut ivy] {
        match sup.wait_for("helpRequested").await {
            Event::HelpRequested { user_id, request } => {
                assert_eq!(user_id, "alice");
                assert_eq!(request.session_id.as_deref(), Some(id.as_str()));
                assert_eq!(request.text.as_deref(), Some("a refund over my limit"));
            }
            _ => unreachable!(),
        }
    }
    catch_up(&mut sam, &mut w).await;
    let flag = alice_help(&w).expect("alice's row is flagged");
    assert_eq!(flag.text.as_deref(), Some("a refund over my limit"));
    // Agents may not acknowledge.
    let bob = s.login("bob").await;
    let (code, _) = bob
        .err("Supervisor.ackHelp", json!({"userId": "alice"}))
        .await;
    assert_eq!(code, ErrorCode::Forbidden);
    sam.ok("Supervisor.ackHelp", json!({"userId": "alice"}))
        .await;
    for c in [&mut alice, &mut ivy] {
        match c.wait_for("helpAcknowledged").await {
            Event::HelpAcknowledged { user_id, by } => {
                assert_eq!((user_id.as_str(), by.as_str()), ("alice", "sam"))
            }
            _ => unreachable!(),
        }
    }
    catch_up(&mut sam, &mut w).await;
    assert_eq!(alice_help(&w), None, "the flag is gone");
    let (code, msg) = ivy
        .err("Supervisor.ackHelp", json!({"userId": "alice"}))
        .await;
    assert_eq!(code, ErrorCode::InvalidState, "{msg}");
    let (code, _) = ivy
        .err("Supervisor.ackHelp", json!({"userId": "nobody"}))
        .await;
    assert_eq!(code, ErrorCode::NotFound);
}

#[tokio::test(start_paused = true)]
async fn help_requests_are_checked() {
    let s = TestServer::paused(|_| {}).await;
    let (id, _alice, _trunk) = talking(&s, "alice").await;
    let bob = s.login("bob").await;
    let (code, _) = bob.err("Agent.requestHelp", json!({"sessionId": id})).await;
    assert_eq!(code, ErrorCode::Forbidden, "not his session");
    let (code, msg) = bob
        .err("Agent.requestHelp", json!({"text": "x".repeat(501)}))
        .await;
    assert_eq!(code, ErrorCode::BadRequest, "{msg}");
    // Without a session: help with anything.
    let mut sam = s.login("sam").await;
    bob.ok("Agent.requestHelp", json!({})).await;
    match sam.wait_for("helpRequested").await {
        Event::HelpRequested { user_id, request } => {
            assert_eq!(user_id, "bob");
            assert_eq!((request.session_id, request.text), (None, None));
        }
        _ => unreachable!(),
    }
}
