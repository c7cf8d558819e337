//! Queued callbacks: a waiting caller asks to be called back
//! (`Customer.requestCallback`, or a SIP caller's key), keeps their place
//! in the queue, and the agent's accept dials them back.

use ccdesk::protocol::{CallType, CloseBy, ErrorCode, Event, SessionState};
use serde_json::json;

use crate::harness::*;

/// The next event of this name for session `id`.
async fn next_for(c: &mut Client, name: &str, id: &str) -> Event {
    loop {
        let ev = c.wait_for(name).await;
        if sid(&ev) == id {
            return ev;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_callback_keeps_its_place_and_the_accept_dials_the_caller_back() {
    let s = TestServer::paused(|c| c.center.after_call_work = 0).await;
    let mut trunk = s.login("pstn").await;
    // Nobody is logged in: both calls wait, the first ahead.
    let first = phone_call(&trunk, "support").await;
    let second = phone_call(&trunk, "support").await;
    trunk
        .ok(
            "Customer.requestCallback",
            json!({"sessionId": first, "phoneNumber": "+4930999000"}),
        )
        .await;
    // For the trunk the caller is gone.
    match next_for(&mut trunk, "sessionEnded", &first).await {
        Event::SessionEnded(e) => {
            assert_eq!(e.close_by, CloseBy::Client);
            assert_eq!(e.main_reason.as_deref(), Some("callbackRequested"));
        }
        _ => unreachable!(),
    }
    let (code, _) = trunk
        .err("Customer.hangUp", json!({"sessionId": first}))
        .await;
    assert_eq!(code, ErrorCode::Forbidden);
    // It kept its place: alice is offered it first, as a callback.
    let mut alice = s.login("alice").await;
    let Event::CallIn(ci) = alice.wait_for("callIn").await else {
        unreachable!()
    };
    assert_eq!(ci.session_id, first);
    assert_eq!(ci.kind, CallType::Phone);
    assert_eq!(ci.callback.as_deref(), Some("+4930999000"));
    alice.ok("Call.accept", json!({"sessionId": first})).await;
    // Her accept dials the number through the trunk.
    match next_for(&mut trunk, "dial", &first).await {
        Event::Dial { phone_number, .. } => assert_eq!(phone_number, "+4930999000"),
        _ => unreachable!(),
    }
    let dialing = loop {
        if let Event::SessionUpdated(sn) = next_for(&mut alice, "sessionUpdated", &first).await {
            break sn;
        }
    };
    assert_eq!(dialing.state, SessionState::Dialing);
    trunk
        .ok("Customer.answer", json!({"sessionId": first}))
        .await;
    next_for(&mut alice, "calloutAccepted", &first).await;
    alice.ok("Call.hungUp", json!({"sessionId": first})).await;
    next_for(&mut trunk, "sessionEnded", &first).await;
    // The second caller waited on the line: offered next.
    let Event::CallIn(ci) = alice.wait_for("callIn").await else {
        unreachable!()
    };
    assert_eq!(
        (ci.session_id.as_str(), ci.callback),
        (second.as_str(), None)
    );
    trunk.sync().await;
    let rec = s.records().get(&first).unwrap().expect("recorded");
    assert_eq!(rec.callback.as_deref(), Some("+4930999000"));
    assert_eq!(rec.direction, "inbound");
    assert_eq!(rec.agents, vec!["alice"]);
    assert!(rec.accepted_at.is_some(), "answered when called back");
}

#[tokio::test(start_paused = true)]
async fn a_callback_nobody_answers_ends_unanswered() {
    let s = TestServer::paused(|c| c.center.dial_timeout = 20).await;
    let mut trunk = s.login("pstn").await;
    let id = phone_call(&trunk, "support").await;
    // The caller's own number by default.
    trunk
        .ok("Customer.requestCallback", json!({"sessionId": id}))
        .await;
    let mut alice = s.login("alice").await;
    let Event::CallIn(ci) = alice.wait_for("callIn").await else {
        unreachable!()
    };
    assert_eq!(ci.callback.as_deref(), Some("+15551234567"));
    alice.ok("Call.accept", json!({"sessionId": id})).await;
    next_for(&mut trunk, "dial", &id).await;
    match next_for(&mut alice, "sessionEnded", &id).await {
        Event::SessionEnded(e) => {
            assert_eq!(e.close_by, CloseBy::Timer);
            assert_eq!(e.main_reason.as_deref(), Some("noAnswer"));
        }
        _ => unreachable!(),
    }
    trunk.sync().await;
    let rec = s.records().get(&id).unwrap().expect("recorded");
    assert_eq!(rec.callback.as_deref(), Some("+15551234567"));
    assert_eq!(rec.accepted_at, None);
}

#[tokio::test(start_paused = true)]
async fn callbacks_are_refused_with_reasons() {
    let s = TestServer::paused(|_| {}).await;
    let (talking_id, _alice, trunk) = talking(&s, "alice").await;
    let waiting = phone_call(&trunk, "support").await;
    let chat = trunk
        .ok(
            "Customer.call",
            json!({"type": "im", "skillGroupId": "support", "nickname": "Mia"}),
        )
        .await
        .expect("sessionId")["sessionId"]
        .as_str()
        .expect("sessionId")
        .to_string();
    for (params, want, says) in [
        (
            json!({"sessionId": talking_id}),
            ErrorCode::InvalidState,
            "still waiting",
        ),
        (
            json!({"sessionId": chat}),
            ErrorCode::InvalidState,
            "phone call",
        ),
        (
            json!({"sessionId": waiting, "phoneNumber": "ring me"}),
            ErrorCode::BadRequest,
            "phoneNumber",
        ),
        (
            json!({"sessionId": "s-none"}),
            ErrorCode::NotFound,
            "s-none",
        ),
    ] {
        let (code, msg) = trunk.err("Customer.requestCallback", params.clone()).await;
        assert_eq!(code, want, "{params}: {msg}");
        assert!(msg.contains(says), "{params}: {msg}");
    }
    trunk
        .ok("Customer.requestCallback", json!({"sessionId": waiting}))
        .await;
    // Not the trunk's any more, so not again.
    let (code, _) = trunk
        .err("Customer.requestCallback", json!({"sessionId": waiting}))
        .await;
    assert_eq!(code, ErrorCode::Forbidden);
}

#[test]
fn a_callback_key_outside_0_9_star_hash_is_refused_at_start() {
    let mut cfg = config(|_| {});
    cfg.center.callback_key = Some("**".into());
    let err = ccdesk::server::config::ServerConfig::parse(&toml::to_string(&cfg).expect("toml"))
        .expect_err("refused");
    assert!(err.to_string().contains("callback_key"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sip_caller_presses_the_callback_key_hangs_up_and_is_called_back() {
    use crate::baresip::free_port;
    use crate::sip::{sip_server_with, sipp, sipp_done, sipp_trunk};
    let port = free_port();
    let (s, sip) = sip_server_with(port, |c| c.center.callback_key = Some("1".into())).await;
    // Nobody is logged in: the caller waits, presses 1, and is let go
    // (sipp checks the BYE).
    sipp_done(sipp("uac_callback.xml", sip, port, "4000", &[])).await;
    // Their trunk takes the callback this time.
    let callee = sipp_trunk("uas_callback_answers.xml", port, &[]).await;
    let mut alice = s.login("alice").await;
    let Event::CallIn(ci) = alice.wait_for("callIn").await else {
        unreachable!()
    };
    assert_eq!(ci.callback.as_deref(), Some("+15551230001"));
    let id = ci.session_id.clone();
    alice.ok("Call.accept", json!({"sessionId": id})).await;
    next_for(&mut alice, "calloutAccepted", &id).await;
    alice.ok("Call.hungUp", json!({"sessionId": id})).await;
    sipp_done(callee).await;
    let rec = s.records().get(&id).unwrap().expect("recorded");
    assert_eq!(rec.callback.as_deref(), Some("+15551230001"));
    assert!(
        rec.transcript.iter().all(|l| l.text != "1"),
        "the callback key is not a key the agents needed to see"
    );
}
