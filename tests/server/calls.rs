//! Calls: accept, hang up, timers, mute, hold, DTMF, transfer, internal and
//! outbound calls, deleteCall, ownership, after-call work.

use std::time::Duration;

use ccdesk::protocol::{
    AgentStatus, CallType, CloseBy, ErrorCode, Event, SessionEnded, SessionState,
};
use serde_json::json;
use tokio::time::Instant;

use crate::harness::*;

fn ended(ev: Event) -> SessionEnded {
    match ev {
        Event::SessionEnded(e) => e,
        other => panic!("expected sessionEnded, got {other:?}"),
    }
}

fn status_of(ev: &Event) -> AgentStatus {
    match ev {
        Event::StatusChanged { status, .. } => *status,
        other => panic!("expected statusChanged, got {other:?}"),
    }
}

#[tokio::test]
async fn phone_call_in_carries_the_sdk_fields() {
    let s = TestServer::start().await;
    let mut alice = s.login("alice").await;
    let trunk = s.login("pstn").await;
    let id = phone_call(&trunk, "support").await;
    let Event::CallIn(c) = alice.wait_for("callIn").await else {
        unreachable!()
    };
    assert_eq!(c.session_id, id);
    assert_eq!(c.kind, CallType::Phone);
    assert_eq!(c.timeout, s.cfg.center.ring_timeout);
    assert_eq!(c.timeout, 30);
    assert_eq!(c.callee_phone_number.as_deref(), Some("4000"));
    assert_eq!(c.caller_phone_number.as_deref(), Some("+15551234567"));
    assert_eq!(c.caller_location.as_deref(), Some("Lisbon"));
    assert_eq!(c.protected_caller.as_deref(), Some("+1555****567"));
    assert_eq!(c.server_type.as_deref(), Some("staffSeat"));
    let ivr = c.ivr_path.expect("ivrPath");
    assert_eq!(ivr.len(), 1);
    assert_eq!(
        (ivr[0].key.as_str(), ivr[0].label.as_str()),
        ("1", "Billing")
    );
    // Fields of other session types are not sent with a phone call.
    assert_eq!(c.nickname, None);
    assert_eq!(c.callee, None);
    assert_eq!(c.peer_user_id, None);

    // A phone call without calleePhoneNumber is refused, naming it.
    let (code, msg) = trunk
        .err(
            "Customer.call",
            json!({"type": "phone", "skillGroupId": "support", "callerPhoneNumber": "+1555"}),
        )
        .await;
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(msg.contains("calleePhoneNumber"), "{msg}");
}

#[tokio::test]
async fn accept_sends_user_accessed_with_the_accepting_tab_to_every_tab() {
    let s = TestServer::start().await;
    let mut t1 = s.login_opts("alice", true).await;
    let mut t2 = s.login_opts("alice", true).await;
    let trunk = s.login("pstn").await;
    let id = phone_call(&trunk, "support").await;
    assert_eq!(sid(&t1.wait_for("callIn").await), id);
    assert_eq!(sid(&t2.wait_for("callIn").await), id);
    t1.ok("Call.accept", json!({"sessionId": id})).await;
    let tab1 = t1.tab.clone();
    for t in [&mut t1, &mut t2] {
        assert_eq!(
            status_of(&t.expect("statusChanged").await),
            AgentStatus::Busy
        );
        match t.expect("userAccessed").await {
            Event::UserAccessed {
                session_id,
                tab_uuid,
            } => {
                assert_eq!(session_id, id);
                assert_eq!(tab_uuid.as_deref(), Some(tab1.as_str()));
            }
            _ => unreachable!(),
        }
    }
    assert_eq!(t2.status().await, "busy");
}

#[tokio::test]
async fn hung_up_by_the_seat_ends_for_agent_and_trunk() {
    let s = TestServer::start().await;
    let (id, mut alice, mut trunk) = talking(&s, "alice").await;
    alice.ok("Call.hungUp", json!({"sessionId": id})).await;
    let e = ended(alice.expect("sessionEnded").await);
    assert_eq!(e.session_id, id);
    assert_eq!(e.close_by, CloseBy::Seat);
    let e = ended(trunk.wait_for("sessionEnded").await);
    assert_eq!(e.session_id, id);
    assert_eq!(e.close_by, CloseBy::Seat);
    // Hanging up twice is refused.
    let (code, _) = alice.err("Call.hungUp", json!({"sessionId": id})).await;
    assert_eq!(code, ErrorCode::InvalidState);
}

#[tokio::test]
async fn customer_hang_up_is_close_by_client() {
    let s = TestServer::start().await;
    let (id, mut alice, trunk) = talking(&s, "alice").await;
    trunk.ok("Customer.hangUp", json!({"sessionId": id})).await;
    let e = ended(alice.expect("sessionEnded").await);
    assert_eq!(e.session_id, id);
    assert_eq!(e.close_by, CloseBy::Client);
    let (code, _) = alice.err("Call.hold", json!({"sessionId": id})).await;
    assert_eq!(code, ErrorCode::InvalidState);
}

#[tokio::test(start_paused = true)]
async fn max_session_length_ends_the_session_by_timer() {
    let s = TestServer::paused(|cfg| cfg.center.max_session_length = 60).await;
    let (id, mut alice, mut trunk) = talking(&s, "alice").await;
    let t0 = Instant::now();
    let e = ended(alice.wait_for("sessionEnded").await);
    let took = t0.elapsed();
    assert_eq!(e.session_id, id);
    assert_eq!(e.close_by, CloseBy::Timer);
    assert!(
        took >= Duration::from_secs(59) && took <= Duration::from_secs(61),
        "{took:?}"
    );
    let e = ended(trunk.wait_for("sessionEnded").await);
    assert_eq!(e.close_by, CloseBy::Timer);
}

#[tokio::test]
async fn mute_unmute_and_is_mic_muted() {
    let s = TestServer::start().await;
    let (id, mut alice, _trunk) = talking(&s, "alice").await;
    let p = json!({"sessionId": id});
    assert_eq!(
        alice.ok("Call.isMicMuted", p.clone()).await,
        Some(json!({"muted": false}))
    );
    alice.ok("Call.muteMic", p.clone()).await;
    match alice.wait_for("sessionUpdated").await {
        Event::SessionUpdated(snap) => assert!(snap.mic_muted),
        _ => unreachable!(),
    }
    assert_eq!(
        alice.ok("Call.isMicMuted", p.clone()).await,
        Some(json!({"muted": true}))
    );
    alice.ok("Call.unmuteMic", p.clone()).await;
    match alice.wait_for("sessionUpdated").await {
        Event::SessionUpdated(snap) => assert!(!snap.mic_muted),
        _ => unreachable!(),
    }
    assert_eq!(
        alice.ok("Call.isMicMuted", p.clone()).await,
        Some(json!({"muted": false}))
    );
}

#[tokio::test]
async fn hold_and_unhold_with_their_invalid_states() {
    let s = TestServer::start().await;
    let (id, mut alice, _trunk) = talking(&s, "alice").await;
    let p = json!({"sessionId": id});
    let (code, _) = alice.err("Call.unHold", p.clone()).await;
    assert_eq!(code, ErrorCode::InvalidState, "unHold while talking");
    alice.ok("Call.hold", p.clone()).await;
    match alice.wait_for("sessionUpdated").await {
        Event::SessionUpdated(snap) => assert_eq!(snap.state, SessionState::Held),
        _ => unreachable!(),
    }
    let (code, _) = alice.err("Call.hold", p.clone()).await;
    assert_eq!(code, ErrorCode::InvalidState, "hold while held");
    alice.ok("Call.unHold", p.clone()).await;
    match alice.wait_for("sessionUpdated").await {
        Event::SessionUpdated(snap) => assert_eq!(snap.state, SessionState::Talking),
        _ => unreachable!(),
    }
    let (code, _) = alice.err("Call.unHold", p.clone()).await;
    assert_eq!(code, ErrorCode::InvalidState);
}

#[tokio::test]
async fn send_digits_reach_the_trunk() {
    let s = TestServer::start().await;
    let (id, alice, mut trunk) = talking(&s, "alice").await;
    alice
        .ok(
            "Call.sendDigits",
            json!({"sessionId": id, "dtmfText": "12#*"}),
        )
        .await;
    match trunk.wait_for("digits").await {
        Event::Digits {
            session_id,
            dtmf_text,
        } => {
            assert_eq!(session_id, id);
            assert_eq!(dtmf_text, "12#*");
        }
        _ => unreachable!(),
    }
    for bad in [
        json!({"sessionId": id, "dtmfText": "12x"}),
        json!({"sessionId": id, "dtmfText": ""}),
        json!({"sessionId": id}),
    ] {
        let (code, msg) = alice.err("Call.sendDigits", bad.clone()).await;
        assert_eq!(code, ErrorCode::BadRequest, "{bad}");
        assert!(msg.contains("dtmfText"), "{bad}: {msg}");
    }
    trunk.quiet().await;
}

#[tokio::test]
async fn transfer_to_a_user() {
    let s = TestServer::start().await;
    let (id, mut alice, _trunk) = talking(&s, "alice").await;
    let mut bob = s.login("bob").await;
    alice
        .ok("Call.transfer", json!({"sessionId": id, "userId": "bob"}))
        .await;
    assert_eq!(sid(&alice.wait_for("transfer").await), id);
    let ev = bob.wait_for("callIn").await;
    assert_eq!(sid(&ev), id);
    // alice is no longer on it.
    let (code, _) = alice.err("Call.hold", json!({"sessionId": id})).await;
    assert_eq!(code, ErrorCode::Forbidden);
    bob.ok("Call.accept", json!({"sessionId": id})).await;
    match bob.wait_for("userAccessed").await {
        Event::UserAccessed {
            session_id,
            tab_uuid,
        } => {
            assert_eq!(session_id, id);
            assert_eq!(tab_uuid.as_deref(), Some(bob.tab.as_str()));
        }
        _ => unreachable!(),
    }
    bob.ok("Call.hold", json!({"sessionId": id})).await;
}

#[tokio::test]
async fn transfer_to_a_skill_group() {
    let s = TestServer::start().await;
    let (id, mut alice, _trunk) = talking(&s, "alice").await;
    let mut dave = s.login("dave").await;
    alice
        .ok(
            "Call.transfer",
            json!({"sessionId": id, "skillGroupId": "sales"}),
        )
        .await;
    assert_eq!(sid(&alice.wait_for("transfer").await), id);
    assert_eq!(sid(&dave.wait_for("callIn").await), id);
    dave.ok("Call.accept", json!({"sessionId": id})).await;
    assert_eq!(sid(&dave.wait_for("userAccessed").await), id);
}

#[tokio::test]
async fn transfer_needs_exactly_one_target() {
    let s = TestServer::start().await;
    let (id, mut alice, _trunk) = talking(&s, "alice").await;
    let _bob = s.login("bob").await;
    let (code, msg) = alice.err("Call.transfer", json!({"sessionId": id})).await;
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(
        msg.contains("skillGroupId") || msg.contains("userId"),
        "{msg}"
    );
    let (code, _) = alice
        .err(
            "Call.transfer",
            json!({"sessionId": id, "userId": "bob", "skillGroupId": "support"}),
        )
        .await;
    assert_eq!(code, ErrorCode::BadRequest);
    // Nothing moved: alice still has the call.
    alice.quiet().await;
    alice.ok("Call.hold", json!({"sessionId": id})).await;
}

#[tokio::test]
async fn internal_call_either_side_hangs_up() {
    let s = TestServer::start().await;
    let mut alice = s.login("alice").await;
    let mut bob = s.login("bob").await;
    for hanger in ["bob", "alice"] {
        let v = alice
            .ok("Call.startInternalCall", json!({"calleeUserId": "bob"}))
            .await
            .expect("data");
        let id = v["sessionId"].as_str().expect("sessionId").to_string();
        let Event::CallIn(c) = bob.wait_for("callIn").await else {
            unreachable!()
        };
        assert_eq!(c.session_id, id);
        assert_eq!(c.kind, CallType::Internal);
        assert_eq!(c.peer_user_id.as_deref(), Some("alice"));
        bob.ok("Call.accept", json!({"sessionId": id})).await;
        assert_eq!(sid(&bob.wait_for("userAccessed").await), id);
        assert_eq!(sid(&alice.wait_for("calloutAccepted").await), id);
        let who = if hanger == "bob" { &bob } else { &alice };
        who.ok("Call.hungUp", json!({"sessionId": id})).await;
        for c in [&mut alice, &mut bob] {
            let e = ended(c.wait_for("sessionEnded").await);
            assert_eq!(e.session_id, id, "{}", c.user);
            assert_eq!(e.close_by, CloseBy::Seat);
        }
        // Both are free again for the next round.
        for c in [&mut alice, &mut bob] {
            loop {
                if c.status().await == "free" {
                    break;
                }
                c.wait_for("statusChanged").await;
            }
        }
    }
}

#[tokio::test]
async fn outbound_call_dials_the_trunk_and_is_answered() {
    let s = TestServer::start().await;
    let mut alice = s.login("alice").await;
    let mut trunk = s.login("pstn").await;
    // Outbound calls are allowed in notReady.
    alice
        .ok("Agent.setStatus", json!({"status": "notReady"}))
        .await;
    let v = alice
        .ok(
            "Call.startOutboundCall",
            json!({"phoneNumber": "+15557654321"}),
        )
        .await
        .expect("CallResponse");
    let id = v["sessionId"].as_str().expect("sessionId").to_string();
    assert_eq!(v["calleePhoneNumber"], "+15557654321");
    assert_eq!(
        v["callerPhoneNumber"],
        s.cfg.center.caller_phone_number.as_str()
    );
    assert_eq!(v["serverType"], "staffSeat");
    match alice.wait_for("callOuted").await {
        Event::CallOuted(c) => {
            assert_eq!(c.session_id, id);
            assert_eq!(c.callee_phone_number, "+15557654321");
            assert_eq!(c.caller_phone_number, s.cfg.center.caller_phone_number);
            assert_eq!(c.server_type, "staffSeat");
            assert_eq!(c.tab_uuid.as_deref(), Some(alice.tab.as_str()));
        }
        _ => unreachable!(),
    }
    match trunk.wait_for("dial").await {
        Event::Dial {
            session_id,
            phone_number,
            caller_phone_number,
            ..
        } => {
            assert_eq!(session_id, id);
            assert_eq!(phone_number, "+15557654321");
            assert_eq!(caller_phone_number, s.cfg.center.caller_phone_number);
        }
        _ => unreachable!(),
    }
    trunk.ok("Customer.answer", json!({"sessionId": id})).await;
    assert_eq!(sid(&alice.wait_for("calloutAccepted").await), id);
    alice.ok("Call.hold", json!({"sessionId": id})).await;
    alice.ok("Call.hungUp", json!({"sessionId": id})).await;
    assert_eq!(
        ended(alice.wait_for("sessionEnded").await).close_by,
        CloseBy::Seat
    );
    assert_eq!(
        ended(trunk.wait_for("sessionEnded").await).close_by,
        CloseBy::Seat
    );
}

#[tokio::test]
async fn outbound_call_uses_the_given_caller_number() {
    let s = TestServer::start().await;
    let alice = s.login("alice").await;
    let mut trunk = s.login("pstn").await;
    let v = alice
        .ok(
            "Call.startOutboundCall",
            json!({"phoneNumber": "555 0101", "callerPhoneNumber": "+15550199"}),
        )
        .await
        .expect("CallResponse");
    assert_eq!(v["callerPhoneNumber"], "+15550199");
    match trunk.wait_for("dial").await {
        Event::Dial {
            caller_phone_number,
            ..
        } => assert_eq!(caller_phone_number, "+15550199"),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn outbound_call_rejected_by_the_customer() {
    let s = TestServer::start().await;
    let mut alice = s.login("alice").await;
    let mut trunk = s.login("pstn").await;
    let v = alice
        .ok("Call.startOutboundCall", json!({"phoneNumber": "5551234"}))
        .await
        .expect("data");
    let id = v["sessionId"].as_str().unwrap().to_string();
    assert_eq!(sid(&trunk.wait_for("dial").await), id);
    trunk.ok("Customer.reject", json!({"sessionId": id})).await;
    let e = ended(alice.wait_for("sessionEnded").await);
    assert_eq!(e.session_id, id);
    assert_eq!(e.close_by, CloseBy::Client);
    // Answering after the reject is refused.
    let (code, _) = trunk.err("Customer.answer", json!({"sessionId": id})).await;
    assert_eq!(code, ErrorCode::InvalidState);
}

#[tokio::test]
async fn outbound_call_without_a_trunk_is_invalid_state() {
    let s = TestServer::start().await;
    let alice = s.login("alice").await;
    let (code, msg) = alice
        .err("Call.startOutboundCall", json!({"phoneNumber": "5551234"}))
        .await;
    assert_eq!(code, ErrorCode::InvalidState);
    assert!(msg.contains("trunk"), "{msg}");
    assert_eq!(alice.status().await, "free");
}

#[tokio::test]
async fn delete_call_removes_an_ended_session() {
    let s = TestServer::start().await;
    let (id, mut alice, _trunk) = talking(&s, "alice").await;
    let (code, _) = alice.err("Call.deleteCall", json!({"sessionId": id})).await;
    assert_eq!(
        code,
        ErrorCode::InvalidState,
        "deleteCall on a live session"
    );
    let (code, _) = alice
        .err("Call.deleteCall", json!({"sessionId": "s-nope"}))
        .await;
    assert_eq!(code, ErrorCode::NotFound);
    alice.ok("Call.hungUp", json!({"sessionId": id})).await;
    alice.wait_for("sessionEnded").await;

    // The ended session is still in alice's list: a re-login sees it.
    let alice2 = s.login("alice").await;
    let snap = &alice2.login.as_ref().unwrap().sessions;
    let entry = snap
        .iter()
        .find(|x| x.session_id == id)
        .expect("ended session in the snapshot");
    assert_eq!(entry.state, SessionState::Ended);
    assert_eq!(entry.close_by, Some(CloseBy::Seat));

    alice2.ok("Call.deleteCall", json!({"sessionId": id})).await;
    let alice3 = s.login("alice").await;
    let snap = &alice3.login.as_ref().unwrap().sessions;
    assert!(snap.iter().all(|x| x.session_id != id), "{snap:?}");
    let (code, _) = alice3
        .err("Call.deleteCall", json!({"sessionId": id}))
        .await;
    assert_eq!(code, ErrorCode::NotFound);
}

#[tokio::test]
async fn accept_twice_is_invalid_state() {
    let s = TestServer::start().await;
    let (id, alice, _trunk) = talking(&s, "alice").await;
    let (code, _) = alice.err("Call.accept", json!({"sessionId": id})).await;
    assert_eq!(code, ErrorCode::InvalidState);
}

#[tokio::test]
async fn acting_on_another_agents_session_is_forbidden() {
    let s = TestServer::start().await;
    let (id, mut alice, _trunk) = talking(&s, "alice").await;
    let bob = s.login("bob").await;
    for m in [
        "Call.accept",
        "Call.hungUp",
        "Call.hold",
        "Call.muteMic",
        "Call.isMicMuted",
    ] {
        let (code, _) = bob.err(m, json!({"sessionId": id})).await;
        assert_eq!(code, ErrorCode::Forbidden, "{m}");
    }
    let (code, _) = bob
        .err("Call.sendDigits", json!({"sessionId": id, "dtmfText": "1"}))
        .await;
    assert_eq!(code, ErrorCode::Forbidden);
    let (code, _) = bob
        .err(
            "Call.transfer",
            json!({"sessionId": id, "skillGroupId": "sales"}),
        )
        .await;
    assert_eq!(code, ErrorCode::Forbidden);
    // alice's session is untouched.
    let snap = alice.drain().await;
    assert!(snap.iter().all(|e| e.name() != "sessionEnded"), "{snap:?}");
    alice.ok("Call.hold", json!({"sessionId": id})).await;
}

#[tokio::test(start_paused = true)]
async fn after_call_work_then_free() {
    let s = TestServer::paused(|_| {}).await;
    let (id, mut alice, _trunk) = talking(&s, "alice").await;
    alice.ok("Call.hungUp", json!({"sessionId": id})).await;
    alice.expect("sessionEnded").await;
    assert_eq!(
        status_of(&alice.expect("statusChanged").await),
        AgentStatus::Arrange
    );
    let t0 = Instant::now();
    assert_eq!(
        status_of(&alice.expect("statusChanged").await),
        AgentStatus::Free
    );
    let took = t0.elapsed();
    let acw = Duration::from_secs(s.cfg.center.after_call_work);
    assert!(
        took >= acw && took < acw + Duration::from_secs(1),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn set_status_free_ends_after_call_work_early() {
    let s = TestServer::paused(|_| {}).await;
    let (id, mut alice, trunk) = talking(&s, "alice").await;
    trunk.ok("Customer.hangUp", json!({"sessionId": id})).await;
    alice.expect("sessionEnded").await;
    assert_eq!(
        status_of(&alice.expect("statusChanged").await),
        AgentStatus::Arrange
    );
    assert_eq!(alice.status().await, "arrange");
    alice.ok("Agent.setStatus", json!({"status": "free"})).await;
    assert_eq!(
        status_of(&alice.expect("statusChanged").await),
        AgentStatus::Free
    );
    // The after-call-work timer does not fire later.
    tokio::time::sleep(Duration::from_secs(s.cfg.center.after_call_work * 2)).await;
    alice.quiet().await;
    assert_eq!(alice.status().await, "free");
    // And alice takes the next call.
    let id2 = phone_call(&trunk, "support").await;
    assert_eq!(sid(&alice.expect("callIn").await), id2);
}
