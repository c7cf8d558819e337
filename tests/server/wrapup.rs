//! Wrap-up codes and notes (`Call.setWrapUp`), and after-call work that a
//! required code holds open.

use std::time::Duration;

use ccdesk::protocol::{AfterCallWork, AgentStatus, ErrorCode, Event};
use serde_json::json;

use crate::harness::*;

const CODES: [&str; 3] = ["Resolved", "Callback needed", "Escalated"];

/// A center whose support group has wrap-up codes (required or not) and
/// 10 s of after-call work.
async fn server(required: bool) -> TestServer {
    TestServer::paused(|c| {
        c.center.after_call_work = 10;
        for g in c.skill_groups.iter_mut() {
            if g.id == "support" {
                g.wrap_up_codes = CODES.iter().map(|s| s.to_string()).collect();
                g.wrap_up_required = required;
            }
        }
    })
    .await
}

/// The next statusChanged: its status and after-call work.
async fn status(c: &mut Client) -> (AgentStatus, Option<AfterCallWork>) {
    match c.wait_for("statusChanged").await {
        Event::StatusChanged {
            status,
            after_call_work,
            ..
        } => (status, after_call_work),
        _ => unreachable!(),
    }
}

#[tokio::test(start_paused = true)]
async fn a_code_set_in_the_call_is_recorded_and_shown_in_after_call_work() {
    let s = server(false).await;
    let (id, mut alice, trunk) = talking(&s, "alice").await;
    alice.drain().await;
    // Not one of the group's codes: refused, naming them.
    let (code, msg) = alice
        .err(
            "Call.setWrapUp",
            json!({"sessionId": id, "code": "Sold a boat"}),
        )
        .await;
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(
        msg.contains("Resolved, Callback needed, Escalated"),
        "{msg}"
    );
    alice
        .ok(
            "Call.setWrapUp",
            json!({"sessionId": id, "code": "Resolved", "notes": "  new address confirmed "}),
        )
        .await;
    trunk.ok("Customer.hangUp", json!({"sessionId": id})).await;
    // After-call work says which session, how long, the codes, the code set.
    let (st, acw) = status(&mut alice).await;
    assert_eq!(st, AgentStatus::Arrange);
    let acw = acw.expect("after-call work");
    assert_eq!(acw.session_id, id);
    assert_eq!(acw.seconds, 10);
    assert_eq!(acw.codes, CODES);
    assert!(!acw.required);
    assert_eq!(acw.code.as_deref(), Some("Resolved"));
    assert!(acw.ends_at >= now_secs() * 1000, "ends in the future");
    // It ends by itself.
    let (st, acw) = status(&mut alice).await;
    assert_eq!((st, acw), (AgentStatus::Free, None));
    let rec = s.records().get(&id).unwrap().expect("recorded");
    assert_eq!(rec.wrap_up_code.as_deref(), Some("Resolved"));
    assert_eq!(rec.wrap_up_notes.as_deref(), Some("new address confirmed"));
}

#[tokio::test(start_paused = true)]
async fn a_required_code_holds_after_call_work_open_until_it_is_set() {
    let s = server(true).await;
    let (id, mut alice, trunk) = talking(&s, "alice").await;
    trunk.ok("Customer.hangUp", json!({"sessionId": id})).await;
    let (st, acw) = status(&mut alice).await;
    assert_eq!(st, AgentStatus::Arrange);
    assert!(acw.expect("after-call work").required);
    // She cannot go back to work without a code.
    let (code, msg) = alice
        .err("Agent.setStatus", json!({"status": "free"}))
        .await;
    assert_eq!(code, ErrorCode::InvalidState);
    assert!(msg.contains("wrap-up code") && msg.contains(&id), "{msg}");
    // Its time runs out: still in after-call work.
    tokio::time::sleep(Duration::from_secs(30)).await;
    alice.quiet().await;
    assert_eq!(alice.status().await, "arrange");
    // The code (after the session was recorded) ends it at once, and
    // updates the record.
    alice
        .ok(
            "Call.setWrapUp",
            json!({"sessionId": id, "code": "Callback needed"}),
        )
        .await;
    let (st, _) = status(&mut alice).await;
    assert_eq!(st, AgentStatus::Free);
    alice.sync().await;
    let rec = s.records().get(&id).unwrap().expect("recorded");
    assert_eq!(rec.wrap_up_code.as_deref(), Some("Callback needed"));
    assert!(
        rec.acw_ms.is_some_and(|ms| ms >= 30_000),
        "{:?}",
        rec.acw_ms
    );
}

#[tokio::test(start_paused = true)]
async fn a_required_code_set_in_time_lets_after_call_work_end_on_time_and_logging_off_is_allowed() {
    let s = server(true).await;
    let (id, mut alice, trunk) = talking(&s, "alice").await;
    trunk.ok("Customer.hangUp", json!({"sessionId": id})).await;
    status(&mut alice).await;
    alice
        .ok(
            "Call.setWrapUp",
            json!({"sessionId": id, "code": "Escalated"}),
        )
        .await;
    // The code is echoed in after-call work (still arrange).
    let (st, acw) = status(&mut alice).await;
    assert_eq!(st, AgentStatus::Arrange);
    assert_eq!(acw.and_then(|a| a.code).as_deref(), Some("Escalated"));
    let (st, _) = status(&mut alice).await;
    assert_eq!(st, AgentStatus::Free, "ends when its time is up");

    // A second call: logging off without a code is allowed.
    let id2 = phone_call(&trunk, "support").await;
    alice.wait_for("callIn").await;
    alice.ok("Call.accept", json!({"sessionId": id2})).await;
    assert_eq!(status(&mut alice).await.0, AgentStatus::Busy);
    trunk.ok("Customer.hangUp", json!({"sessionId": id2})).await;
    let (st, _) = status(&mut alice).await;
    assert_eq!(st, AgentStatus::Arrange);
    alice
        .ok("Agent.setStatus", json!({"status": "offline"}))
        .await;
    let (st, _) = status(&mut alice).await;
    assert_eq!(st, AgentStatus::Offline);
}

#[tokio::test]
async fn wrap_up_needs_a_session_of_yours_and_a_sane_code() {
    let s = TestServer::start().await;
    let (id, alice, _trunk) = talking(&s, "alice").await;
    let bob = s.login("bob").await;
    let (code, _) = bob
        .err(
            "Call.setWrapUp",
            json!({"sessionId": id, "code": "Resolved"}),
        )
        .await;
    assert_eq!(code, ErrorCode::Forbidden);
    let (code, _) = alice
        .err(
            "Call.setWrapUp",
            json!({"sessionId": "s-nope", "code": "x"}),
        )
        .await;
    assert_eq!(code, ErrorCode::NotFound);
    let (code, msg) = alice
        .err("Call.setWrapUp", json!({"sessionId": id, "code": "  "}))
        .await;
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(msg.contains("`code`"), "{msg}");
    let long = "n".repeat(1001);
    let (code, msg) = alice
        .err(
            "Call.setWrapUp",
            json!({"sessionId": id, "code": "Anything", "notes": long}),
        )
        .await;
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(msg.contains("`notes`"), "{msg}");
    // A group without codes takes any code.
    alice
        .ok(
            "Call.setWrapUp",
            json!({"sessionId": id, "code": "Anything"}),
        )
        .await;
}
