//! 2. Agent status: online, offline, setStatus, getStatus, statusChanged to every tab.

use ccdesk::protocol::{AgentStatus, ErrorCode, Event};
use serde_json::json;

use crate::harness::*;

fn status_of(ev: &Event) -> (AgentStatus, Option<String>) {
    match ev {
        Event::StatusChanged {
            status,
            rest_reason,
            ..
        } => (*status, rest_reason.clone()),
        other => panic!("expected statusChanged, got {other:?}"),
    }
}

#[tokio::test]
async fn every_status_and_its_event_on_every_tab() {
    let s = TestServer::start().await;
    let mut t1 = s.login_opts("alice", true).await;
    assert_eq!(
        status_of(&t1.expect("statusChanged").await).0,
        AgentStatus::Free
    );
    let mut t2 = s.login_opts("alice", true).await;
    assert_eq!(t2.login.as_ref().unwrap().status, "free");

    let steps: Vec<(serde_json::Value, AgentStatus, Option<&str>)> = vec![
        (
            json!({"status": "rest", "restReason": "Meal"}),
            AgentStatus::Rest,
            Some("Meal"),
        ),
        (
            json!({"status": "rest", "restReason": "Training"}),
            AgentStatus::Rest,
            Some("Training"),
        ),
        (json!({"status": "notReady"}), AgentStatus::NotReady, None),
        (json!({"status": "stopNotReady"}), AgentStatus::Free, None),
        (json!({"status": "arrange"}), AgentStatus::Arrange, None),
        (json!({"status": "free"}), AgentStatus::Free, None),
    ];
    for (params, want, reason) in steps {
        t1.ok("Agent.setStatus", params.clone()).await;
        for t in [&mut t1, &mut t2] {
            let (st, r) = status_of(&t.expect("statusChanged").await);
            assert_eq!(st, want, "{params}");
            assert_eq!(r.as_deref(), reason);
        }
        let got = t2.ok("Agent.getStatus", json!({})).await.unwrap();
        assert_eq!(got["status"], want.as_str());
        assert_eq!(got["restReason"].as_str(), reason);
    }
    t2.ok("Agent.offline", json!({})).await;
    assert_eq!(
        status_of(&t1.expect("statusChanged").await).0,
        AgentStatus::Offline
    );
    t2.ok("Agent.online", json!({})).await;
    assert_eq!(
        status_of(&t1.expect("statusChanged").await).0,
        AgentStatus::Free
    );
    // Setting the status it already has says nothing.
    t1.ok("Agent.setStatus", json!({"status": "free"})).await;
    t1.quiet().await;
}

#[tokio::test]
async fn bad_status_changes_are_refused_with_the_reason() {
    let s = TestServer::start().await;
    let a = s.login("alice").await;
    let (code, msg) = a.err("Agent.setStatus", json!({"status": "rest"})).await;
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(msg.contains("restReason") && msg.contains("Meal"), "{msg}");
    let (code, msg) = a
        .err(
            "Agent.setStatus",
            json!({"status": "rest", "restReason": "Nap"}),
        )
        .await;
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(msg.contains("Nap"), "{msg}");
    let (code, msg) = a
        .err("Agent.setStatus", json!({"status": "sleeping"}))
        .await;
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(
        msg.contains("`status`") && msg.contains("sleeping"),
        "{msg}"
    );
    let (code, _) = a
        .err("Agent.setStatus", json!({"status": "stopNotReady"}))
        .await;
    assert_eq!(code, ErrorCode::InvalidState);
    let (code, msg) = a.err("Agent.setStatus", json!({})).await;
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(msg.contains("status"), "{msg}");
}

#[tokio::test]
async fn busy_in_a_session_then_arrange_then_free() {
    let s = TestServer::start().await;
    let (id, mut a, _trunk) = talking(&s, "alice").await;
    assert_eq!(a.status().await, "busy");
    let (code, msg) = a
        .err(
            "Agent.setStatus",
            json!({"status": "rest", "restReason": "Meal"}),
        )
        .await;
    assert_eq!(code, ErrorCode::InvalidState);
    assert!(msg.contains(&id), "{msg}");
    let (code, _) = a.err("Agent.offline", json!({})).await;
    assert_eq!(code, ErrorCode::InvalidState);
    a.ok("Call.hungUp", json!({"sessionId": id})).await;
    a.expect("sessionEnded").await;
    assert_eq!(
        status_of(&a.expect("statusChanged").await).0,
        AgentStatus::Arrange
    );
    // Free earlier than the after-call work would end.
    a.ok("Agent.setStatus", json!({"status": "free"})).await;
    assert_eq!(
        status_of(&a.expect("statusChanged").await).0,
        AgentStatus::Free
    );
}

#[tokio::test(start_paused = true)]
async fn after_call_work_ends_by_itself() {
    let s = TestServer::paused(|c| c.center.after_call_work = 15).await;
    let (id, mut a, _trunk) = talking(&s, "alice").await;
    a.ok("Call.hungUp", json!({"sessionId": id})).await;
    a.expect("sessionEnded").await;
    assert_eq!(
        status_of(&a.expect("statusChanged").await).0,
        AgentStatus::Arrange
    );
    let t = tokio::time::Instant::now();
    assert_eq!(
        status_of(&a.expect("statusChanged").await).0,
        AgentStatus::Free
    );
    let waited = t.elapsed().as_secs();
    assert!(
        (15..=16).contains(&waited),
        "after-call work lasted {waited}s"
    );
    // The record learnt how long the after-call work took.
    let rec = s.records().get(&id).unwrap().unwrap();
    assert!(
        (15_000..=16_000).contains(&rec.acw_ms.unwrap()),
        "{:?}",
        rec.acw_ms
    );
}

#[tokio::test(start_paused = true)]
async fn outbound_from_not_ready_returns_to_not_ready() {
    let s = TestServer::paused(|c| c.center.after_call_work = 5).await;
    let mut a = s.login("alice").await;
    let mut trunk = s.login("pstn").await;
    a.expect("statusChanged").await;
    a.ok("Agent.setStatus", json!({"status": "notReady"})).await;
    a.expect("statusChanged").await;
    let r = a
        .ok(
            "Call.startOutboundCall",
            json!({"phoneNumber": "+15550000"}),
        )
        .await
        .unwrap();
    let id = r["sessionId"].as_str().unwrap().to_string();
    assert_eq!(sid(&trunk.expect("dial").await), id);
    trunk.ok("Customer.answer", json!({"sessionId": id})).await;
    a.wait_for("calloutAccepted").await;
    a.ok("Call.hungUp", json!({"sessionId": id})).await;
    a.wait_for("sessionEnded").await;
    assert_eq!(
        status_of(&a.expect("statusChanged").await).0,
        AgentStatus::Arrange
    );
    assert_eq!(
        status_of(&a.expect("statusChanged").await).0,
        AgentStatus::NotReady
    );
}

#[tokio::test(start_paused = true)]
async fn opening_another_tab_during_after_call_work_does_not_stop_its_timer() {
    let s = TestServer::paused(|c| c.center.after_call_work = 10).await;
    let mut a = s.login_opts("alice", true).await;
    let trunk = s.login("pstn").await;
    a.expect("statusChanged").await;
    let id = phone_call(&trunk, "support").await;
    a.expect("callIn").await;
    a.ok("Call.accept", json!({"sessionId": id})).await;
    a.ok("Call.hungUp", json!({"sessionId": id})).await;
    a.wait_for("sessionEnded").await;
    assert_eq!(
        status_of(&a.expect("statusChanged").await).0,
        AgentStatus::Arrange
    );
    let mut tab2 = s.login_opts("alice", true).await;
    assert_eq!(
        status_of(&tab2.expect("statusChanged").await).0,
        AgentStatus::Free
    );
    assert_eq!(
        status_of(&a.expect("statusChanged").await).0,
        AgentStatus::Free
    );
}
