//! Supervisors: listSessions, monitor (audio and textOnly), intercept, stopMonitor.

use ccdesk::protocol::{CloseBy, ErrorCode, Event, SessionEnded};
use serde_json::{json, Value};

use crate::harness::*;

fn ended(ev: Event) -> SessionEnded {
    match ev {
        Event::SessionEnded(e) => e,
        other => panic!("expected sessionEnded, got {other:?}"),
    }
}

/// The asr events of one sentence (up to and including sliceType 2).
async fn sentence(c: &mut Client, id: &str) -> Vec<String> {
    let mut texts = Vec::new();
    loop {
        match c.wait_for("asr").await {
            Event::Asr {
                session_id, result, ..
            } => {
                assert_eq!(session_id, id, "{}", c.user);
                texts.push(result.text);
                if result.slice_type == 2 {
                    return texts;
                }
            }
            _ => unreachable!(),
        }
    }
}

async fn list(c: &Client) -> Vec<Value> {
    let v = c
        .ok("Supervisor.listSessions", json!({}))
        .await
        .expect("data");
    v["sessions"].as_array().expect("sessions array").clone()
}

#[tokio::test]
async fn list_sessions_shows_every_live_session() {
    let s = TestServer::start().await;
    let sam = s.login("sam").await;
    assert!(list(&sam).await.is_empty());
    let (id, _alice, trunk) = talking(&s, "alice").await;
    // A second call waits in the queue: alice is busy, bob is not logged in.
    let queued = phone_call(&trunk, "support").await;
    let rows = list(&sam).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let row = rows
        .iter()
        .find(|r| r["sessionId"] == id.as_str())
        .expect("talking session listed");
    assert_eq!(row["type"], "phone");
    assert_eq!(row["state"], "talking");
    assert_eq!(row["userId"], "alice");
    assert_eq!(row["skillGroupId"], "support");
    assert_eq!(row["callerPhoneNumber"], "+15551234567");
    let started = row["startedAt"].as_u64().expect("startedAt");
    assert!(
        started > 1_600_000_000_000,
        "startedAt is unix ms: {started}"
    );
    let row = rows
        .iter()
        .find(|r| r["sessionId"] == queued.as_str())
        .expect("queued session listed");
    assert_eq!(row["state"], "queued");
    assert_eq!(row["skillGroupId"], "support");
    assert!(row.get("userId").is_none_or(Value::is_null), "{row}");
}

#[tokio::test]
async fn agents_may_not_supervise() {
    let s = TestServer::start().await;
    let (id, alice, _trunk) = talking(&s, "alice").await;
    let mut bob = s.login("bob").await;
    let (code, _) = bob.err("Supervisor.listSessions", json!({})).await;
    assert_eq!(code, ErrorCode::Forbidden);
    for m in ["Call.intercept", "Supervisor.stopMonitor"] {
        let (code, _) = bob.err(m, json!({"sessionId": id})).await;
        assert_eq!(code, ErrorCode::Forbidden, "{m}");
    }
    for text_only in [false, true] {
        let (code, _) = bob
            .err(
                "Call.monitor",
                json!({"sessionId": id, "textOnly": text_only}),
            )
            .await;
        assert_eq!(code, ErrorCode::Forbidden);
    }
    // Nothing leaked to bob, and alice still has her call.
    bob.wait_for("statusChanged").await;
    bob.quiet().await;
    alice.ok("Call.hold", json!({"sessionId": id})).await;
}

#[tokio::test]
async fn one_audio_monitor_at_a_time_any_number_of_text_only() {
    let s = TestServer::start().await;
    let (s1, mut alice, mut trunk) = talking(&s, "alice").await;
    let mut bob = s.login("bob").await;
    let s2 = phone_call(&trunk, "support").await;
    assert_eq!(sid(&bob.wait_for("callIn").await), s2);
    bob.ok("Call.accept", json!({"sessionId": s2})).await;
    bob.wait_for("userAccessed").await;

    let mut sam = s.login("sam").await;
    let mut ivy = s.login("ivy").await;
    sam.ok("Call.monitor", json!({"sessionId": s1})).await;
    let (code, msg) = sam.err("Call.monitor", json!({"sessionId": s2})).await;
    assert_eq!(
        code,
        ErrorCode::InvalidState,
        "a second audio monitor: {msg}"
    );
    let (code, _) = sam
        .err("Call.monitor", json!({"sessionId": s2, "textOnly": false}))
        .await;
    assert_eq!(code, ErrorCode::InvalidState);
    sam.ok("Call.monitor", json!({"sessionId": s2, "textOnly": true}))
        .await;
    // Another supervisor has an audio monitor of her own.
    ivy.ok("Call.monitor", json!({"sessionId": s1, "textOnly": true}))
        .await;
    ivy.ok("Call.monitor", json!({"sessionId": s2})).await;

    // Both monitors hear each session's transcript.
    trunk
        .ok(
            "Customer.say",
            json!({"sessionId": s1, "text": "my router is broken"}),
        )
        .await;
    trunk
        .ok(
            "Customer.say",
            json!({"sessionId": s2, "text": "cancel my plan"}),
        )
        .await;
    assert_eq!(
        sentence(&mut alice, &s1).await.last().unwrap(),
        "my router is broken"
    );
    assert_eq!(
        sentence(&mut bob, &s2).await.last().unwrap(),
        "cancel my plan"
    );
    for sup in [&mut sam, &mut ivy] {
        assert_eq!(
            sentence(sup, &s1).await.last().unwrap(),
            "my router is broken"
        );
        assert_eq!(sentence(sup, &s2).await.last().unwrap(), "cancel my plan");
    }

    // Both monitors hear the end; then sam's audio slot is free again.
    trunk.ok("Customer.hangUp", json!({"sessionId": s1})).await;
    for sup in [&mut sam, &mut ivy] {
        let e = ended(sup.wait_for("sessionEnded").await);
        assert_eq!(e.session_id, s1);
        assert_eq!(e.close_by, CloseBy::Client);
    }
    sam.ok("Call.monitor", json!({"sessionId": s2})).await;
    trunk.wait_for("sessionEnded").await;
}

#[tokio::test]
async fn monitoring_needs_a_session_in_progress() {
    let s = TestServer::start().await;
    let mut alice = s.login("alice").await;
    let trunk = s.login("pstn").await;
    let sam = s.login("sam").await;
    let id = phone_call(&trunk, "support").await;
    alice.wait_for("callIn").await;
    let (code, _) = sam
        .err("Call.monitor", json!({"sessionId": id, "textOnly": true}))
        .await;
    assert_eq!(code, ErrorCode::InvalidState, "ringing");
    let (code, _) = sam
        .err("Call.monitor", json!({"sessionId": "s-nope"}))
        .await;
    assert_eq!(code, ErrorCode::NotFound);
}

#[tokio::test]
async fn intercept_takes_the_session_over() {
    let s = TestServer::start().await;
    let (id, mut alice, mut trunk) = talking(&s, "alice").await;
    let mut sam = s.login("sam").await;
    let (code, msg) = sam.err("Call.intercept", json!({"sessionId": id})).await;
    assert_eq!(
        code,
        ErrorCode::InvalidState,
        "intercept without monitoring: {msg}"
    );
    alice.quiet().await;

    sam.ok("Call.monitor", json!({"sessionId": id})).await;
    let snap = sam
        .ok("Call.intercept", json!({"sessionId": id}))
        .await
        .expect("session snapshot");
    assert_eq!(snap["sessionId"], id.as_str());
    assert_eq!(snap["type"], "phone");
    assert_eq!(snap["state"], "talking");
    match sam.wait_for("userAccessed").await {
        Event::UserAccessed {
            session_id,
            tab_uuid,
        } => {
            assert_eq!(session_id, id);
            assert_eq!(tab_uuid.as_deref(), Some(sam.tab.as_str()));
        }
        _ => unreachable!(),
    }
    let e = ended(alice.wait_for("sessionEnded").await);
    assert_eq!(e.session_id, id);
    assert_eq!(e.close_by, CloseBy::Admin);
    assert_eq!(e.main_reason.as_deref(), Some("intercepted"));
    // alice is off the call.
    let (code, _) = alice.err("Call.hold", json!({"sessionId": id})).await;
    assert_eq!(code, ErrorCode::Forbidden);

    // The customer's speech now reaches sam as the session's agent.
    trunk
        .ok(
            "Customer.say",
            json!({"sessionId": id, "text": "hello who is this"}),
        )
        .await;
    assert_eq!(
        sentence(&mut sam, &id).await.last().unwrap(),
        "hello who is this"
    );
    let late = alice.drain().await;
    assert!(late.iter().all(|e| e.name() == "statusChanged"), "{late:?}");

    sam.ok("Call.hold", json!({"sessionId": id})).await;
    sam.ok("Call.unHold", json!({"sessionId": id})).await;
    sam.ok("Call.hungUp", json!({"sessionId": id})).await;
    let e = ended(sam.wait_for("sessionEnded").await);
    assert_eq!(
        (e.session_id.as_str(), e.close_by),
        (id.as_str(), CloseBy::Seat)
    );
    let e = ended(trunk.wait_for("sessionEnded").await);
    assert_eq!(e.close_by, CloseBy::Seat);
}

#[tokio::test]
async fn stop_monitor_stops_the_transcript_flow() {
    let s = TestServer::start().await;
    let (id, mut alice, trunk) = talking(&s, "alice").await;
    let mut ivy = s.login("ivy").await;
    ivy.ok("Call.monitor", json!({"sessionId": id, "textOnly": true}))
        .await;
    trunk
        .ok(
            "Customer.say",
            json!({"sessionId": id, "text": "first thing"}),
        )
        .await;
    assert_eq!(sentence(&mut ivy, &id).await.last().unwrap(), "first thing");
    assert_eq!(
        sentence(&mut alice, &id).await.last().unwrap(),
        "first thing"
    );

    ivy.ok("Supervisor.stopMonitor", json!({"sessionId": id}))
        .await;
    trunk
        .ok(
            "Customer.say",
            json!({"sessionId": id, "text": "second thing"}),
        )
        .await;
    assert_eq!(
        sentence(&mut alice, &id).await.last().unwrap(),
        "second thing"
    );
    ivy.quiet().await;
    let (code, _) = ivy
        .err("Supervisor.stopMonitor", json!({"sessionId": id}))
        .await;
    assert_eq!(code, ErrorCode::NotFound);
    // Nor does she hear the end.
    trunk.ok("Customer.hangUp", json!({"sessionId": id})).await;
    alice.wait_for("sessionEnded").await;
    ivy.quiet().await;
}
