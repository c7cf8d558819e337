//! 3. Routing, ring timeouts, autoTransfer, missed offers. 9. Disconnects.

use ccdesk::protocol::{AgentStatus, CloseBy, Event};
use serde_json::json;

use crate::harness::*;

async fn ready_agent(s: &TestServer, user: &str) -> Client {
    let mut c = s.login(user).await;
    c.expect("statusChanged").await;
    c
}

#[tokio::test]
async fn longest_idle_agent_gets_the_call_with_every_phone_field() {
    let s = TestServer::start().await;
    let mut alice = ready_agent(&s, "alice").await;
    let mut bob = ready_agent(&s, "bob").await;
    let trunk = s.login("pstn").await;
    let id = phone_call(&trunk, "support").await;
    let Event::CallIn(ci) = alice.expect("callIn").await else {
        unreachable!()
    };
    assert_eq!(ci.session_id, id);
    assert_eq!(ci.kind.as_str(), "phone");
    assert_eq!(ci.timeout, s.cfg.center.ring_timeout);
    assert_eq!(ci.callee_phone_number.as_deref(), Some("4000"));
    assert_eq!(ci.caller_phone_number.as_deref(), Some("+15551234567"));
    assert_eq!(ci.caller_location.as_deref(), Some("Lisbon"));
    assert_eq!(ci.protected_caller.as_deref(), Some("+1555****567"));
    assert_eq!(ci.server_type.as_deref(), Some("staffSeat"));
    assert_eq!(ci.ivr_path.as_ref().unwrap()[0].label, "Billing");
    // Ringing at alice: offered to nobody else, so the next call goes to bob.
    bob.quiet().await;
    let id2 = phone_call(&trunk, "support").await;
    assert_eq!(sid(&bob.expect("callIn").await), id2);
    // Both are ringing: a third call waits.
    let id3 = phone_call(&trunk, "support").await;
    alice.quiet().await;
    bob.quiet().await;
    // When alice's call ends she does after-call work, then the waiting call is hers.
    alice.ok("Call.accept", json!({"sessionId": id})).await;
    alice.ok("Call.hungUp", json!({"sessionId": id})).await;
    alice.ok("Agent.setStatus", json!({"status": "free"})).await;
    assert_eq!(sid(&alice.wait_for("callIn").await), id3);
    // Sales calls never reach support agents.
    let mut dave = ready_agent(&s, "dave").await;
    let id4 = phone_call(&trunk, "sales").await;
    assert_eq!(sid(&dave.expect("callIn").await), id4);
}

#[tokio::test]
async fn waiting_sessions_are_served_oldest_first() {
    let s = TestServer::start().await;
    let mut alice = ready_agent(&s, "alice").await;
    alice
        .ok(
            "Agent.setStatus",
            json!({"status": "rest", "restReason": "Meal"}),
        )
        .await;
    alice.expect("statusChanged").await;
    let trunk = s.login("pstn").await;
    let ids: Vec<String> = [0, 1, 2].iter().map(|_| String::new()).collect();
    let mut ids = ids;
    for id in ids.iter_mut() {
        *id = phone_call(&trunk, "support").await;
    }
    // Nobody free: nothing offered (rest, and the others are offline).
    alice.quiet().await;
    let listed = {
        let sam = s.login("sam").await;
        sam.ok("Supervisor.listSessions", json!({})).await.unwrap()
    };
    let states: Vec<&str> = listed["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["queued"; 3]);
    for id in &ids {
        alice.ok("Agent.setStatus", json!({"status": "free"})).await;
        assert_eq!(sid(&alice.wait_for("callIn").await), *id);
        alice.ok("Call.accept", json!({"sessionId": id})).await;
        alice.ok("Call.hungUp", json!({"sessionId": id})).await;
    }
}

#[tokio::test]
async fn agents_not_free_get_no_offers() {
    let s = TestServer::start().await;
    let mut alice = ready_agent(&s, "alice").await;
    let trunk = s.login("pstn").await;
    for params in [
        json!({"status": "rest", "restReason": "Meeting"}),
        json!({"status": "notReady"}),
        json!({"status": "arrange"}),
        json!({"status": "offline"}),
    ] {
        alice.ok("Agent.setStatus", params.clone()).await;
        alice.expect("statusChanged").await;
        let id = phone_call(&trunk, "support").await;
        alice.quiet().await;
        trunk.ok("Customer.hangUp", json!({"sessionId": id})).await;
    }
}

#[tokio::test(start_paused = true)]
async fn ring_timeout_auto_transfers_to_the_next_agent() {
    let s = TestServer::paused(|c| c.center.ring_timeout = 20).await;
    let mut alice = ready_agent(&s, "alice").await;
    let mut bob = ready_agent(&s, "bob").await;
    let trunk = s.login("pstn").await;
    let id = phone_call(&trunk, "support").await;
    alice.expect("callIn").await;
    let t = tokio::time::Instant::now();
    assert_eq!(sid(&alice.expect("autoTransfer").await), id);
    assert_eq!(t.elapsed().as_secs(), 20);
    assert_eq!(sid(&bob.expect("callIn").await), id);
    bob.ok("Call.accept", json!({"sessionId": id})).await;
    // The missed offer is gone from alice's list.
    let relog = s.login_opts("alice", false).await;
    assert!(relog.login.unwrap().sessions.is_empty());
}

#[tokio::test(start_paused = true)]
async fn missed_offers_in_a_row_set_not_ready() {
    let s = TestServer::paused(|c| {
        c.center.ring_timeout = 10;
        c.center.max_missed_offers = 2;
    })
    .await;
    let mut alice = ready_agent(&s, "alice").await;
    let trunk = s.login("pstn").await;
    let id = phone_call(&trunk, "support").await;
    // Nobody else is free: the same agent is offered it again.
    for _ in 0..2 {
        assert_eq!(sid(&alice.expect("callIn").await), id);
        assert_eq!(sid(&alice.expect("autoTransfer").await), id);
    }
    match alice.expect("statusChanged").await {
        Event::StatusChanged { status, .. } => assert_eq!(status, AgentStatus::NotReady),
        _ => unreachable!(),
    }
    alice.quiet().await;
    // The session waits; the record counts the misses once it ends.
    trunk.ok("Customer.hangUp", json!({"sessionId": id})).await;
    let rec = s.records().get(&id).unwrap().unwrap();
    assert_eq!(rec.missed_offers, 2);
    assert_eq!(rec.close_by, "client");
    assert!(rec.accepted_at.is_none());
}

#[tokio::test]
async fn a_ringing_agent_who_disconnects_loses_the_offer_at_once() {
    // The ring timeout is far away: bob must get it because alice left, not by timeout.
    let s = TestServer::with(|c| c.center.ring_timeout = 600).await;
    let mut alice = ready_agent(&s, "alice").await;
    let trunk = s.login("pstn").await;
    let id = phone_call(&trunk, "support").await;
    alice.expect("callIn").await;
    let mut bob = s.login("bob").await;
    bob.expect("statusChanged").await;
    bob.quiet().await;
    alice.conn.close();
    assert_eq!(sid(&bob.expect("callIn").await), id);
}

#[tokio::test(start_paused = true)]
async fn a_talking_agent_can_reconnect_within_the_grace_period() {
    let s = TestServer::paused(|c| c.center.reconnect_grace = 30).await;
    let (id, alice, mut trunk) = talking(&s, "alice").await;
    alice.conn.close();
    drop(alice);
    // 20 s later alice is back: the session is in her snapshot and carries on.
    tokio::time::sleep(std::time::Duration::from_secs(20)).await;
    let again = s.login("alice").await;
    let snap = &again.login.as_ref().unwrap().sessions;
    assert_eq!(snap.len(), 1);
    assert_eq!(snap[0].session_id, id);
    assert_eq!(snap[0].state.as_str_for_test(), "talking");
    assert_eq!(again.login.as_ref().unwrap().status, "busy");
    // Past the old grace deadline nothing happens: the timer was cancelled.
    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    again.ok("Call.hold", json!({"sessionId": id})).await;
    again.ok("Call.hungUp", json!({"sessionId": id})).await;
    match trunk.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => assert_eq!(e.close_by, CloseBy::Seat),
        _ => unreachable!(),
    }
}

#[tokio::test(start_paused = true)]
async fn past_the_grace_period_the_session_ends_by_admin() {
    let s = TestServer::paused(|c| c.center.reconnect_grace = 30).await;
    let (id, alice, mut trunk) = talking(&s, "alice").await;
    alice.conn.close();
    let t = tokio::time::Instant::now();
    match trunk.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => {
            assert_eq!(e.session_id, id);
            assert_eq!(e.close_by, CloseBy::Admin);
            assert_eq!(e.main_reason.as_deref(), Some("agentDisconnected"));
        }
        _ => unreachable!(),
    }
    assert_eq!(t.elapsed().as_secs(), 30);
    // Alice comes back offline-then-login_status, with the ended session listed.
    let again = s.login("alice").await;
    let snap = &again.login.as_ref().unwrap().sessions;
    assert_eq!(snap[0].state.as_str_for_test(), "ended");
}

trait StateName {
    fn as_str_for_test(&self) -> String;
}
impl StateName for ccdesk::protocol::SessionState {
    fn as_str_for_test(&self) -> String {
        serde_json::to_value(self)
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    }
}

#[tokio::test]
async fn a_declined_offer_goes_to_someone_else_and_never_back() {
    let s = TestServer::with(|c| c.center.ring_timeout = 600).await;
    let mut alice = ready_agent(&s, "alice").await;
    let trunk = s.login("pstn").await;
    let id = phone_call(&trunk, "support").await;
    alice.expect("callIn").await;
    // Hanging up a ringing offer declines it; every tab is told it has gone.
    alice.ok("Call.hungUp", json!({"sessionId": id})).await;
    assert_eq!(sid(&alice.expect("autoTransfer").await), id);
    // Alice is the only free agent, yet it is not offered to her again.
    alice.quiet().await;
    let mut bob = ready_agent(&s, "bob").await;
    assert_eq!(sid(&bob.expect("callIn").await), id);
}
