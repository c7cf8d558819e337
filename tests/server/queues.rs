//! Queues beyond first-come: the no-answer delay, priority, overflow to
//! another skill group, and the maximum wait.

use ccdesk::protocol::{CloseBy, ErrorCode, Event, Wallboard};
use serde_json::json;
use tokio::time::{Duration, Instant};

use crate::harness::*;

async fn ready_agent(s: &TestServer, user: &str) -> Client {
    let mut c = s.login(user).await;
    c.expect("statusChanged").await;
    c
}

async fn call(trunk: &Client, group: &str, priority: Option<u32>) -> String {
    let mut params = json!({
        "type": "phone", "skillGroupId": group, "calleePhoneNumber": "4000",
        "callerPhoneNumber": "+15551234567"
    });
    if let Some(p) = priority {
        params["priority"] = json!(p);
    }
    let v = trunk.ok("Customer.call", params).await.expect("sessionId");
    v["sessionId"].as_str().expect("sessionId").to_string()
}

async fn rest(c: &mut Client) {
    c.ok(
        "Agent.setStatus",
        json!({"status": "rest", "restReason": "Meal"}),
    )
    .await;
    c.expect("statusChanged").await;
}

async fn free(c: &mut Client) {
    c.ok("Agent.setStatus", json!({"status": "free"})).await;
    c.expect("statusChanged").await;
}

#[tokio::test(start_paused = true)]
async fn a_missed_offer_waits_for_a_colleague_instead_of_ringing_back_at_once() {
    let s = TestServer::paused(|c| {
        c.center.ring_timeout = 10;
        c.center.no_answer_delay = 5;
    })
    .await;
    let mut alice = ready_agent(&s, "alice").await;
    let mut bob = ready_agent(&s, "bob").await;
    rest(&mut bob).await;
    let trunk = s.login("pstn").await;
    let id = call(&trunk, "support", None).await;
    assert_eq!(sid(&alice.expect("callIn").await), id);
    assert_eq!(sid(&alice.expect("autoTransfer").await), id);
    // Nobody else is free: the session waits instead of ringing alice again.
    tokio::time::sleep(Duration::from_secs(1)).await;
    alice.quiet().await;
    // A colleague who becomes free a second later gets it at once.
    let t = Instant::now();
    free(&mut bob).await;
    assert_eq!(sid(&bob.expect("callIn").await), id);
    assert_eq!(t.elapsed(), Duration::ZERO);
    alice.quiet().await;
}

#[tokio::test(start_paused = true)]
async fn alone_on_the_floor_the_agent_is_offered_it_again_after_the_delay() {
    let s = TestServer::paused(|c| {
        c.center.ring_timeout = 10;
        c.center.no_answer_delay = 5;
        c.center.max_missed_offers = 0;
    })
    .await;
    let mut alice = ready_agent(&s, "alice").await;
    let trunk = s.login("pstn").await;
    let id = call(&trunk, "support", None).await;
    alice.expect("callIn").await;
    alice.expect("autoTransfer").await;
    let t = Instant::now();
    assert_eq!(sid(&alice.expect("callIn").await), id);
    assert_eq!(t.elapsed(), Duration::from_secs(5));
    alice.ok("Call.accept", json!({"sessionId": id})).await;
}

#[tokio::test(start_paused = true)]
async fn a_declined_offer_pauses_new_offers_too() {
    let s = TestServer::paused(|c| {
        c.center.ring_timeout = 600;
        c.center.no_answer_delay = 5;
    })
    .await;
    let mut alice = ready_agent(&s, "alice").await;
    let trunk = s.login("pstn").await;
    let first = call(&trunk, "support", None).await;
    alice.expect("callIn").await;
    alice.ok("Call.hungUp", json!({"sessionId": first})).await;
    alice.expect("autoTransfer").await;
    // Another call arrives: alice is free but waits out her delay.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let second = call(&trunk, "support", None).await;
    alice.quiet().await;
    let t = Instant::now();
    // The declined one is never hers again; the new one is, after the delay.
    assert_eq!(sid(&alice.expect("callIn").await), second);
    assert_eq!(t.elapsed(), Duration::from_secs(3));
    alice.ok("Call.accept", json!({"sessionId": second})).await;
    alice.wait_for("userAccessed").await;
    alice.quiet().await;
}

#[tokio::test(start_paused = true)]
async fn with_no_delay_configured_the_offer_rings_again_at_once() {
    let s = TestServer::paused(|c| {
        c.center.ring_timeout = 10;
        c.center.no_answer_delay = 0;
    })
    .await;
    let mut alice = ready_agent(&s, "alice").await;
    let trunk = s.login("pstn").await;
    let id = call(&trunk, "support", None).await;
    alice.expect("callIn").await;
    alice.expect("autoTransfer").await;
    let t = Instant::now();
    assert_eq!(sid(&alice.expect("callIn").await), id);
    assert_eq!(t.elapsed(), Duration::ZERO);
}

#[tokio::test]
async fn higher_priority_first_then_first_come() {
    let s = TestServer::start().await;
    let mut alice = ready_agent(&s, "alice").await;
    rest(&mut alice).await;
    let trunk = s.login("pstn").await;
    let plain = call(&trunk, "support", None).await;
    let vip = call(&trunk, "support", Some(7)).await;
    let vip2 = call(&trunk, "support", Some(7)).await;
    let mid = call(&trunk, "support", Some(3)).await;
    for expected in [&vip, &vip2, &mid, &plain] {
        free(&mut alice).await;
        assert_eq!(&sid(&alice.expect("callIn").await), expected);
        alice
            .ok("Call.accept", json!({"sessionId": expected}))
            .await;
        alice
            .ok("Call.hungUp", json!({"sessionId": expected}))
            .await;
        alice.wait_for("sessionEnded").await;
        alice.wait_for("statusChanged").await; // arrange
    }
}

#[tokio::test]
async fn a_priority_out_of_range_is_refused_by_name() {
    let s = TestServer::start().await;
    let trunk = s.login("pstn").await;
    for bad in [json!(101), json!(-1), json!("high")] {
        let (code, msg) = trunk
            .err(
                "Customer.call",
                json!({"type": "phone", "skillGroupId": "support",
                       "calleePhoneNumber": "4000", "priority": bad}),
            )
            .await;
        assert_eq!(code, ErrorCode::BadRequest, "{bad}");
        assert!(msg.contains("priority"), "{bad}: {msg}");
    }
}

fn overflow_config(c: &mut ccdesk::server::config::ServerConfig) {
    let support = c
        .skill_groups
        .iter_mut()
        .find(|g| g.id == "support")
        .expect("support");
    support.overflow_after = Some(30);
    support.overflow_to = Some("sales".into());
    c.center.ring_timeout = 600;
}

#[tokio::test(start_paused = true)]
async fn after_overflow_after_the_other_groups_agents_are_offered_it_too() {
    let s = TestServer::paused(overflow_config).await;
    let mut alice = ready_agent(&s, "alice").await;
    rest(&mut alice).await;
    let mut dave = ready_agent(&s, "dave").await; // sales only
    let sam = s.login("sam").await;
    let trunk = s.login("pstn").await;
    let t = Instant::now();
    let id = call(&trunk, "support", None).await;
    let Event::CallIn(_) = dave.expect("callIn").await else {
        unreachable!()
    };
    assert_eq!(t.elapsed(), Duration::from_secs(30));
    // The wallboard shows where it overflowed.
    let v = sam
        .ok("Supervisor.subscribe", json!({}))
        .await
        .expect("board");
    let board: Wallboard = serde_json::from_value(v).expect("a wallboard");
    let row = board
        .sessions
        .iter()
        .find(|x| x.session_id == id)
        .expect("row");
    assert_eq!(row.overflow_to.as_deref(), Some("sales"));
    let support = board
        .groups
        .iter()
        .find(|g| g.skill_group_id == "support")
        .expect("support");
    assert_eq!(support.overflow_to.as_deref(), Some("sales"));
    assert_eq!(support.overflow_after, Some(30));
    dave.ok("Call.accept", json!({"sessionId": id})).await;
    // The record keeps the session's own group.
    dave.ok("Call.hungUp", json!({"sessionId": id})).await;
    let rec = s.records().get(&id).unwrap().unwrap();
    assert_eq!(rec.skill_group.as_deref(), Some("support"));
    assert_eq!(rec.agents, vec!["dave".to_string()]);
}

#[tokio::test(start_paused = true)]
async fn an_overflowed_session_counts_on_both_groups_rows() {
    let s = TestServer::paused(overflow_config).await;
    let sam = s.login("sam").await;
    let trunk = s.login("pstn").await;
    let id = call(&trunk, "support", Some(4)).await;
    tokio::time::sleep(Duration::from_secs(31)).await;
    let v = sam
        .ok("Supervisor.subscribe", json!({}))
        .await
        .expect("board");
    let board: Wallboard = serde_json::from_value(v).expect("a wallboard");
    let group = |id: &str| {
        board
            .groups
            .iter()
            .find(|g| g.skill_group_id == id)
            .cloned()
            .expect("group")
    };
    assert_eq!(
        (group("support").waiting, group("support").overflow_in),
        (1, 0)
    );
    assert_eq!((group("sales").waiting, group("sales").overflow_in), (0, 1));
    let row = board
        .sessions
        .iter()
        .find(|x| x.session_id == id)
        .expect("row");
    assert_eq!(row.priority, 4);
}

#[tokio::test(start_paused = true)]
async fn a_session_waiting_past_max_wait_ends_with_queue_timeout() {
    let s = TestServer::paused(|c| {
        c.skill_groups
            .iter_mut()
            .find(|g| g.id == "support")
            .expect("support")
            .max_wait = Some(60);
    })
    .await;
    let mut trunk = s.login("pstn").await;
    let t = Instant::now();
    let id = call(&trunk, "support", None).await;
    match trunk.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => {
            assert_eq!(e.session_id, id);
            assert_eq!(e.close_by, CloseBy::Admin);
            assert_eq!(e.main_reason.as_deref(), Some("queueTimeout"));
        }
        _ => unreachable!(),
    }
    assert_eq!(t.elapsed(), Duration::from_secs(60));
    let rec = s.records().get(&id).unwrap().unwrap();
    assert_eq!(rec.close_by, "admin");
    assert_eq!(rec.main_reason.as_deref(), Some("queueTimeout"));
}

#[tokio::test(start_paused = true)]
async fn ringing_past_max_wait_finishes_the_ring_then_ends() {
    let s = TestServer::paused(|c| {
        c.center.ring_timeout = 20;
        c.center.no_answer_delay = 0;
        c.skill_groups
            .iter_mut()
            .find(|g| g.id == "support")
            .expect("support")
            .max_wait = Some(10);
    })
    .await;
    let mut alice = ready_agent(&s, "alice").await;
    let mut trunk = s.login("pstn").await;
    let t = Instant::now();
    let id = call(&trunk, "support", None).await;
    alice.expect("callIn").await;
    // The wait is over at 10 s, but the offer rings its full 20 s...
    alice.expect("autoTransfer").await;
    assert_eq!(t.elapsed(), Duration::from_secs(20));
    // ...and then it is not queued again: it ends.
    match trunk.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => {
            assert_eq!(e.session_id, id);
            assert_eq!(e.main_reason.as_deref(), Some("queueTimeout"));
        }
        _ => unreachable!(),
    }
    alice.quiet().await;
}

#[tokio::test(start_paused = true)]
async fn an_answered_session_is_not_ended_by_max_wait() {
    let s = TestServer::paused(|c| {
        c.skill_groups
            .iter_mut()
            .find(|g| g.id == "support")
            .expect("support")
            .max_wait = Some(10);
    })
    .await;
    let (id, alice, _trunk) = talking(&s, "alice").await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    alice.ok("Call.hold", json!({"sessionId": id})).await;
}

#[tokio::test(start_paused = true)]
async fn an_answered_session_transferred_later_does_not_time_out_of_the_queue() {
    let s = TestServer::paused(|c| {
        c.center.ring_timeout = 20;
        c.skill_groups
            .iter_mut()
            .find(|g| g.id == "support")
            .expect("support")
            .max_wait = Some(60);
    })
    .await;
    let mut bob = ready_agent(&s, "bob").await;
    rest(&mut bob).await;
    let (id, alice, mut trunk) = talking(&s, "alice").await;
    // 55 s into the call (the wait's 60 s would end during the next ring),
    // alice hands it to bob, who lets it ring out.
    tokio::time::sleep(Duration::from_secs(55)).await;
    free(&mut bob).await;
    alice
        .ok("Call.transfer", json!({"sessionId": id, "userId": "bob"}))
        .await;
    assert_eq!(sid(&bob.wait_for("callIn").await), id);
    assert_eq!(sid(&bob.expect("autoTransfer").await), id);
    // The queue's wait ended when it was answered: it is not ended now.
    tokio::time::sleep(Duration::from_secs(30)).await;
    for ev in trunk.drain().await {
        assert!(
            !matches!(ev, Event::SessionEnded(_)),
            "ended by a stale wait: {ev:?}"
        );
    }
}
