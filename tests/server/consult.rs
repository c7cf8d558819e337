//! Consult (warm) transfer and conference: `Call.consult`,
//! `Call.conference`, `Call.completeTransfer`, `Call.cancelConsult`, and
//! what happens when someone hangs up, declines or does not answer.

use std::time::Duration;

use ccdesk::protocol::{
    AgentStatus, CallType, ConsultPhase, ErrorCode, Event, SessionSnapshot, SessionState,
};
use serde_json::json;

use crate::harness::*;

/// The next sessionUpdated for `id`.
async fn updated(c: &mut Client, id: &str) -> SessionSnapshot {
    loop {
        if let Event::SessionUpdated(s) = c.wait_for("sessionUpdated").await {
            if s.session_id == id {
                return s;
            }
        }
    }
}

/// The next sessionEnded for `id`: its mainReason.
async fn ended(c: &mut Client, id: &str) -> Option<String> {
    loop {
        if let Event::SessionEnded(e) = c.wait_for("sessionEnded").await {
            if e.session_id == id {
                return e.main_reason;
            }
        }
    }
}

/// alice talks with a customer; bob is logged in and free. alice consults
/// bob: (customer session, consult leg, alice, bob, trunk).
async fn consulting(s: &TestServer) -> (String, String, Client, Client, Client) {
    let (x, mut alice, trunk) = talking(s, "alice").await;
    let mut bob = s.login("bob").await;
    alice.drain().await;
    let v = alice
        .ok("Call.consult", json!({"sessionId": x, "userId": "bob"}))
        .await
        .expect("result");
    let c = v["consultSessionId"].as_str().expect("leg").to_string();
    // The customer holds; alice sees the consult on both sessions.
    let sx = updated(&mut alice, &x).await;
    assert_eq!(sx.state, SessionState::Held);
    let link = sx.consult.expect("the consult on the customer's session");
    assert_eq!(
        (
            link.session_id.as_str(),
            link.consult_session_id.as_str(),
            link.from_user_id.as_str(),
            link.user_id.as_deref(),
            link.phase
        ),
        (
            x.as_str(),
            c.as_str(),
            "alice",
            Some("bob"),
            ConsultPhase::Ringing
        )
    );
    let sc = updated(&mut alice, &c).await;
    assert_eq!(
        (sc.kind, sc.state, sc.call_in.consult_of.as_deref()),
        (CallType::Internal, SessionState::Dialing, Some(x.as_str()))
    );
    // bob is offered an internal call that says what it is about.
    let Event::CallIn(ci) = bob.wait_for("callIn").await else {
        unreachable!()
    };
    assert_eq!(ci.session_id, c);
    assert_eq!(ci.kind, CallType::Internal);
    assert_eq!(ci.consult_of.as_deref(), Some(x.as_str()));
    assert_eq!(ci.peer_user_id.as_deref(), Some("alice"));
    assert_eq!(ci.caller_phone_number.as_deref(), Some("+15551234567"));
    (x, c, alice, bob, trunk)
}

#[tokio::test(start_paused = true)]
async fn consult_then_conference_then_complete_hands_the_customer_over() {
    let s = TestServer::paused(|c| c.center.after_call_work = 10).await;
    let (x, c, mut alice, mut bob, trunk) = consulting(&s).await;
    bob.ok("Call.accept", json!({"sessionId": c})).await;
    alice.wait_for("calloutAccepted").await;
    let sx = updated(&mut alice, &x).await;
    assert_eq!(sx.consult.map(|l| l.phase), Some(ConsultPhase::Talking));
    assert_eq!(sx.state, SessionState::Held);
    tokio::time::sleep(Duration::from_secs(30)).await;

    // All three talk.
    bob.drain().await;
    alice.ok("Call.conference", json!({"sessionId": x})).await;
    let sx = updated(&mut alice, &x).await;
    assert_eq!(sx.state, SessionState::Talking);
    assert_eq!(sx.consult.map(|l| l.phase), Some(ConsultPhase::Conference));
    let sc = updated(&mut bob, &c).await;
    assert_eq!(sc.consult.map(|l| l.phase), Some(ConsultPhase::Conference));
    let (code, _) = alice.err("Call.conference", json!({"sessionId": x})).await;
    assert_eq!(code, ErrorCode::InvalidState);

    // alice hands over: she leaves (after-call work), bob has the customer.
    bob.drain().await;
    alice
        .ok("Call.completeTransfer", json!({"sessionId": x}))
        .await;
    assert_eq!(sid(&alice.wait_for("transfer").await), x);
    match alice.wait_for("statusChanged").await {
        Event::StatusChanged { status, .. } => assert_eq!(status, AgentStatus::Arrange),
        _ => unreachable!(),
    }
    let sx = updated(&mut bob, &x).await;
    assert_eq!(sx.state, SessionState::Talking);
    assert!(sx.consult.is_none());
    assert_eq!(ended(&mut bob, &c).await.as_deref(), Some("transferred"));
    assert_eq!(ended(&mut alice, &c).await.as_deref(), Some("transferred"));
    assert_eq!(bob.status().await, "busy");
    // alice is out of the call: what she may still do to it is refused.
    let (code, _) = alice.err("Call.hold", json!({"sessionId": x})).await;
    assert_eq!(code, ErrorCode::Forbidden);

    // bob ends it: the records keep both agents and the consult.
    bob.ok("Call.hungUp", json!({"sessionId": x})).await;
    ended(&mut bob, &x).await;
    trunk.sync().await;
    let rx = s
        .records()
        .get(&x)
        .unwrap()
        .expect("customer session recorded");
    assert_eq!(rx.agents, vec!["alice", "bob"]);
    assert_eq!(rx.transfers.len(), 1);
    let t = &rx.transfers[0];
    assert_eq!(
        (t.from.as_str(), t.to_user.as_deref(), t.consult.as_deref()),
        ("alice", Some("bob"), Some(c.as_str()))
    );
    assert!(
        rx.hold_ms >= 30_000,
        "the consult's 30 s are hold time: {}",
        rx.hold_ms
    );
    let rc = s.records().get(&c).unwrap().expect("consult leg recorded");
    assert_eq!(rc.consult_of.as_deref(), Some(x.as_str()));
    assert_eq!(rc.kind, "internal");
    assert_eq!(rc.agents, vec!["alice", "bob"]);
    assert_eq!(rc.main_reason.as_deref(), Some("transferred"));
}

#[tokio::test(start_paused = true)]
async fn cancelling_brings_the_customer_back_off_hold() {
    let s = TestServer::paused(|_| {}).await;
    let (x, c, mut alice, mut bob, _trunk) = consulting(&s).await;
    bob.ok("Call.accept", json!({"sessionId": c})).await;
    updated(&mut alice, &x).await;
    // Not while consulting: the customer's hold is the consult's.
    let (code, msg) = alice.err("Call.unHold", json!({"sessionId": x})).await;
    assert_eq!(code, ErrorCode::InvalidState);
    assert!(msg.contains("consult"), "{msg}");
    alice
        .ok("Call.cancelConsult", json!({"sessionId": x}))
        .await;
    assert_eq!(
        ended(&mut bob, &c).await.as_deref(),
        Some("consultCancelled")
    );
    assert_eq!(
        ended(&mut alice, &c).await.as_deref(),
        Some("consultCancelled")
    );
    // The leg's end leaves the customer held; the cancel takes the hold off.
    let sx = updated(&mut alice, &x).await;
    assert_eq!((sx.state, sx.consult), (SessionState::Held, None));
    let sx = updated(&mut alice, &x).await;
    assert_eq!(sx.state, SessionState::Talking);
    assert!(sx.consult.is_none());
    assert_eq!(bob.status().await, "free");
    assert_eq!(alice.status().await, "busy");
    // Nothing left to cancel.
    let (code, _) = alice
        .err("Call.cancelConsult", json!({"sessionId": x}))
        .await;
    assert_eq!(code, ErrorCode::InvalidState);
}

#[tokio::test(start_paused = true)]
async fn a_declined_or_unanswered_consult_leaves_the_customer_held() {
    let s = TestServer::paused(|c| {
        c.center.ring_timeout = 15;
        c.center.no_answer_delay = 0;
    })
    .await;
    let (x, c, mut alice, bob, _trunk) = consulting(&s).await;
    // bob declines.
    bob.ok("Call.hungUp", json!({"sessionId": c})).await;
    assert_eq!(ended(&mut alice, &c).await.as_deref(), Some("declined"));
    let sx = updated(&mut alice, &x).await;
    assert_eq!(sx.state, SessionState::Held);
    assert!(sx.consult.is_none());
    // alice tries again; this time nobody answers.
    alice.drain().await;
    let v = alice
        .ok("Call.consult", json!({"sessionId": x, "userId": "bob"}))
        .await
        .expect("result");
    let c2 = v["consultSessionId"].as_str().expect("leg").to_string();
    assert_ne!(c2, c);
    assert_eq!(ended(&mut alice, &c2).await.as_deref(), Some("notAnswered"));
    let sx = updated(&mut alice, &x).await;
    assert_eq!(sx.state, SessionState::Held);
    // She takes the customer back herself.
    alice.ok("Call.unHold", json!({"sessionId": x})).await;
    assert_eq!(updated(&mut alice, &x).await.state, SessionState::Talking);
}

#[tokio::test(start_paused = true)]
async fn the_customer_hanging_up_ends_the_consult_too() {
    let s = TestServer::paused(|c| c.center.after_call_work = 0).await;
    let (x, c, mut alice, mut bob, trunk) = consulting(&s).await;
    bob.ok("Call.accept", json!({"sessionId": c})).await;
    trunk.ok("Customer.hangUp", json!({"sessionId": x})).await;
    assert_eq!(ended(&mut bob, &c).await.as_deref(), Some("customerLeft"));
    ended(&mut alice, &x).await;
    assert_eq!(bob.status().await, "free");
    assert_eq!(alice.status().await, "free");
    trunk.sync().await;
    let rc = s.records().get(&c).unwrap().expect("consult leg recorded");
    assert_eq!(rc.main_reason.as_deref(), Some("customerLeft"));
}

#[tokio::test(start_paused = true)]
async fn the_colleague_leaving_a_conference_leaves_the_customer_with_the_agent() {
    let s = TestServer::paused(|_| {}).await;
    let (x, c, mut alice, bob, _trunk) = consulting(&s).await;
    bob.ok("Call.accept", json!({"sessionId": c})).await;
    alice.ok("Call.conference", json!({"sessionId": x})).await;
    bob.ok("Call.hungUp", json!({"sessionId": c})).await;
    ended(&mut alice, &c).await;
    let sx = updated(&mut alice, &x).await;
    assert_eq!(sx.state, SessionState::Talking);
    assert!(sx.consult.is_none());
    assert_eq!(bob.status().await, "free");
}

#[tokio::test(start_paused = true)]
async fn a_consult_to_a_skill_group_rings_its_longest_free_agent() {
    let s = TestServer::paused(|_| {}).await;
    let (x, alice, _trunk) = talking(&s, "alice").await;
    // Nobody of sales is there.
    let (code, msg) = alice
        .err(
            "Call.consult",
            json!({"sessionId": x, "skillGroupId": "sales"}),
        )
        .await;
    assert_eq!(code, ErrorCode::InvalidState);
    assert!(msg.contains("sales"), "{msg}");
    let mut dave = s.login("dave").await;
    let v = alice
        .ok(
            "Call.consult",
            json!({"sessionId": x, "skillGroupId": "sales"}),
        )
        .await
        .expect("result");
    let c = v["consultSessionId"].as_str().expect("leg").to_string();
    let Event::CallIn(ci) = dave.wait_for("callIn").await else {
        unreachable!()
    };
    assert_eq!(
        (ci.session_id.as_str(), ci.consult_of.as_deref()),
        (c.as_str(), Some(x.as_str()))
    );
    dave.ok("Call.accept", json!({"sessionId": c})).await;
    alice
        .ok("Call.completeTransfer", json!({"sessionId": x}))
        .await;
    ended(&mut dave, &c).await;
    let rx = {
        dave.ok("Call.hungUp", json!({"sessionId": x})).await;
        ended(&mut dave, &x).await;
        s.records().get(&x).unwrap().expect("recorded")
    };
    assert_eq!(rx.transfers[0].to_skill_group.as_deref(), Some("sales"));
    assert_eq!(rx.transfers[0].to_user.as_deref(), Some("dave"));
}

#[tokio::test(start_paused = true)]
async fn consults_are_refused_with_reasons() {
    let s = TestServer::paused(|_| {}).await;
    let (x, alice, _trunk) = talking(&s, "alice").await;
    let bob = s.login("bob").await;
    for (params, want, says) in [
        (
            json!({"sessionId": x, "userId": "bob", "skillGroupId": "support"}),
            ErrorCode::BadRequest,
            "exactly one",
        ),
        (
            json!({"sessionId": x}),
            ErrorCode::BadRequest,
            "exactly one",
        ),
        (
            json!({"sessionId": x, "userId": "alice"}),
            ErrorCode::BadRequest,
            "yourself",
        ),
        (
            json!({"sessionId": x, "userId": "nobody"}),
            ErrorCode::NotFound,
            "nobody",
        ),
        (
            json!({"sessionId": x, "skillGroupId": "nogroup"}),
            ErrorCode::NotFound,
            "nogroup",
        ),
        (
            json!({"sessionId": x, "phoneNumber": "+4930123"}),
            ErrorCode::InvalidState,
            "no SIP trunk",
        ),
        (
            json!({"sessionId": x, "phoneNumber": "call me"}),
            ErrorCode::BadRequest,
            "phoneNumber",
        ),
        (
            json!({"sessionId": "s-none", "userId": "bob"}),
            ErrorCode::NotFound,
            "s-none",
        ),
    ] {
        let (code, msg) = alice.err("Call.consult", params.clone()).await;
        assert_eq!(code, want, "{params}: {msg}");
        assert!(msg.contains(says), "{params}: {msg}");
    }
    // Nothing to complete, conference or cancel without a consult.
    for m in [
        "Call.completeTransfer",
        "Call.conference",
        "Call.cancelConsult",
    ] {
        let (code, msg) = alice.err(m, json!({"sessionId": x})).await;
        assert_eq!(code, ErrorCode::InvalidState, "{m}: {msg}");
    }
    // Ringing: not yet to complete or conference; a second consult waits.
    let v = alice
        .ok("Call.consult", json!({"sessionId": x, "userId": "bob"}))
        .await
        .expect("result");
    let c = v["consultSessionId"].as_str().expect("leg").to_string();
    for m in ["Call.completeTransfer", "Call.conference"] {
        let (code, msg) = alice.err(m, json!({"sessionId": x})).await;
        assert_eq!(code, ErrorCode::InvalidState, "{m}: {msg}");
        assert!(msg.contains("not been answered"), "{m}: {msg}");
    }
    let (code, _) = alice
        .err("Call.consult", json!({"sessionId": x, "userId": "bob"}))
        .await;
    assert_eq!(code, ErrorCode::InvalidState);
    // bob is busy with it: not consultable by anyone else, and the
    // customer's session is not his to act on.
    let (code, _) = bob
        .err("Call.completeTransfer", json!({"sessionId": x}))
        .await;
    assert_eq!(code, ErrorCode::Forbidden);
    // A consult leg is an internal call: no consult on it.
    bob.ok("Call.accept", json!({"sessionId": c})).await;
    let (code, msg) = bob
        .err("Call.consult", json!({"sessionId": c, "userId": "alice"}))
        .await;
    assert_eq!(code, ErrorCode::InvalidState, "{msg}");
}

const TONES: [f32; 3] = [440.0, 700.0, 1200.0];

/// The last `ms` of what a seat heard.
fn last(h: &[i16], ms: usize) -> &[i16] {
    &h[h.len().saturating_sub(16 * ms)..]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agents_hear_each_other_in_a_consult_and_the_customer_in_a_conference() {
    use crate::media::{finished_recording, has_tone, is_subsequence, runs, windows, SeatAudio};
    use ccdesk::media::analysis;

    let s = TestServer::start().await;
    let (x, mut alice, trunk) = talking(&s, "alice").await;
    let mut bob = s.login("bob").await;
    let a = SeatAudio::start(&alice, &x, analysis::tone(16_000, &[700.0], 40_000, 0.3)).await;
    trunk
        .ok(
            "Customer.play",
            json!({"sessionId": x, "tones": [{"hz": [440.0], "ms": 30000}]}),
        )
        .await;
    a.until(|h| has_tone(h, 440.0, &TONES), "the customer at alice")
        .await;
    let v = alice
        .ok("Call.consult", json!({"sessionId": x, "userId": "bob"}))
        .await
        .expect("result");
    let c = v["consultSessionId"].as_str().expect("leg").to_string();
    bob.wait_for("callIn").await;
    bob.ok("Call.accept", json!({"sessionId": c})).await;
    alice.wait_for("calloutAccepted").await;
    // bob's audio is offered for the leg; it joins the customer's call.
    let b = SeatAudio::start(&bob, &c, analysis::tone(16_000, &[1200.0], 40_000, 0.3)).await;
    b.until(|h| has_tone(h, 700.0, &TONES), "alice at bob")
        .await;
    a.until(|h| has_tone(last(h, 300), 1200.0, &TONES), "bob at alice")
        .await;
    // The held customer is heard by neither.
    b.play_out(600).await;
    assert!(
        !has_tone(&b.heard(), 440.0, &TONES),
        "bob hears no customer"
    );
    assert!(
        !has_tone(last(&a.heard(), 500), 440.0, &TONES),
        "alice hears no customer while consulting"
    );

    // Conference: bob hears the customer too (alice mutes, so that he
    // hears the customer's tone alone).
    alice.ok("Call.muteMic", json!({"sessionId": x})).await;
    alice.ok("Call.conference", json!({"sessionId": x})).await;
    b.until(|h| has_tone(h, 440.0, &TONES), "the customer at bob")
        .await;

    // Complete: alice is out of the call, bob keeps the customer.
    alice
        .ok("Call.completeTransfer", json!({"sessionId": x}))
        .await;
    b.play_out(400).await;
    let before = a.heard();
    b.play_out(400).await;
    let after = a.heard();
    assert!(
        analysis::rms(&after[before.len()..]) < 0.01,
        "alice hears nothing after completing the transfer"
    );
    let heard_before = b.heard().len();
    b.play_out(500).await;
    assert!(
        has_tone(&b.heard()[heard_before..], 440.0, &TONES),
        "bob still hears the customer alone"
    );
    bob.ok("Call.hungUp", json!({"sessionId": x})).await;
    // The customer heard alice, the hold sound, then bob alone at the end
    // (the conference mixes both; the consult is not in the recording).
    let (_, right) = finished_recording(&s, &x).await;
    let r = runs(&windows(&right, 16_000, &TONES));
    assert!(
        is_subsequence(&[Some(700.0), Some(0.0), Some(1200.0)], &r),
        "what the customer heard: {r:?}"
    );
    assert!(
        s.records()
            .get(&c)
            .unwrap()
            .is_some_and(|r| r.recording.is_none()),
        "the leg has no recording of its own"
    );
}
