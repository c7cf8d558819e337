//! Supervisor.subscribe: the wallboard snapshot, its deltas, and the figures.

use ccdesk::protocol::{AgentStatus, ErrorCode, Event, SessionState, Wallboard, WallboardDelta};
use serde_json::json;

use crate::harness::*;

async fn subscribe(c: &Client) -> Wallboard {
    let v = c
        .ok("Supervisor.subscribe", json!({}))
        .await
        .expect("a wallboard");
    serde_json::from_value(v).expect("the answer is a Wallboard")
}

/// Every `wallboard` event until a round trip: applied to `board`.
async fn catch_up(c: &mut Client, board: &mut Wallboard) -> Vec<WallboardDelta> {
    let mut seen = Vec::new();
    for ev in c.drain().await {
        if let Event::Wallboard(d) = ev {
            board.apply(d.clone());
            seen.push(d);
        }
    }
    seen
}

/// The board without what moves with the clock alone (occupancy, the
/// current history point), for comparing two views of the same moment.
fn still(mut w: Wallboard) -> Wallboard {
    w.kpis.occupancy = None;
    w.history.clear();
    w
}

#[tokio::test]
async fn agents_and_trunks_may_not_subscribe() {
    let s = TestServer::start().await;
    let alice = s.login("alice").await;
    let (code, msg) = alice.err("Supervisor.subscribe", json!({})).await;
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(msg.contains("Supervisor.subscribe"), "{msg}");
    let trunk = s.login("pstn").await;
    let (code, _) = trunk.err("Supervisor.subscribe", json!({})).await;
    assert_eq!(code, ErrorCode::Forbidden);
}

#[tokio::test]
async fn the_snapshot_lists_every_seat_and_group() {
    let s = TestServer::start().await;
    let sam = s.login("sam").await;
    let w = subscribe(&sam).await;
    let ids: Vec<&str> = w.agents.iter().map(|a| a.user_id.as_str()).collect();
    assert_eq!(
        ids,
        ["alice", "bob", "dave", "ivy", "sam"],
        "trunks are not seats"
    );
    let alice = &w.agents[0];
    assert_eq!(alice.status, AgentStatus::Offline);
    assert!(!alice.connected);
    assert_eq!(alice.name.as_deref(), Some("Alice Archer"));
    assert_eq!(alice.skill_groups, ["support"]);
    let sam_row = &w.agents[4];
    assert!(sam_row.connected);
    assert_eq!(sam_row.role, "admin");
    let groups: Vec<&str> = w.groups.iter().map(|g| g.skill_group_id.as_str()).collect();
    assert_eq!(groups, ["support", "sales"]);
    assert_eq!(w.groups[0].waiting, 0);
    assert_eq!(w.groups[0].name.as_deref(), Some("Customer support"));
    assert!(w.sessions.is_empty());
    assert_eq!(w.kpis.offered, 0);
    assert_eq!(w.kpis.threshold, 20);
    assert_eq!(w.kpis.service_level, None);
    assert!(!w.history.is_empty(), "the current minute is always there");
}

#[tokio::test]
async fn deltas_keep_a_snapshot_equal_to_a_fresh_one() {
    let s = TestServer::start().await;
    let mut sam = s.login("sam").await;
    let mut board = subscribe(&sam).await;
    // A call waits: nobody in support is logged in.
    let trunk = s.login("pstn").await;
    let id = phone_call(&trunk, "support").await;
    let deltas = catch_up(&mut sam, &mut board).await;
    assert!(!deltas.is_empty());
    let row = board
        .sessions
        .iter()
        .find(|r| r.session_id == id)
        .expect("the queued call is on the board");
    assert_eq!(row.state, SessionState::Queued);
    assert_eq!(row.caller.as_deref(), Some("+1555****567"), "masked number");
    assert_eq!(board.groups[0].waiting, 1);
    assert!(board.groups[0].oldest_since.is_some());
    assert_eq!(board.kpis.offered, 1);
    // alice logs in: it rings at her, she accepts.
    let mut alice = s.login("alice").await;
    alice.wait_for("callIn").await;
    catch_up(&mut sam, &mut board).await;
    let a = &board.agents[0];
    assert_eq!((a.status, a.connected), (AgentStatus::Free, true));
    assert_eq!(a.offer_id.as_deref(), Some(id.as_str()));
    assert_eq!(board.groups[0].waiting, 0, "ringing is not waiting");
    alice.ok("Call.accept", json!({"sessionId": id})).await;
    catch_up(&mut sam, &mut board).await;
    let a = &board.agents[0];
    assert_eq!(a.status, AgentStatus::Busy);
    assert_eq!(a.session_id.as_deref(), Some(id.as_str()));
    assert_eq!(board.sessions[0].state, SessionState::Talking);
    assert_eq!(board.sessions[0].user_id.as_deref(), Some("alice"));
    assert!(board.sessions[0].accepted_at.is_some());
    assert_eq!(board.kpis.answered, 1);
    assert_eq!(board.kpis.answered_in_threshold, 1);
    // The view built from deltas is the view a new subscriber gets.
    let ivy = s.login("ivy").await;
    catch_up(&mut sam, &mut board).await; // ivy's own login
    assert_eq!(still(board.clone()), still(subscribe(&ivy).await));
    // The caller hangs up: the session leaves the board.
    trunk.ok("Customer.hangUp", json!({"sessionId": id})).await;
    let deltas = catch_up(&mut sam, &mut board).await;
    assert!(deltas.iter().any(|d| d.ended.contains(&id)), "{deltas:?}");
    assert!(board.sessions.is_empty());
    assert_eq!(board.kpis.handled, 1);
    assert_eq!(board.agents[0].status, AgentStatus::Arrange);
    assert_eq!(still(board), still(subscribe(&ivy).await));
}

#[tokio::test]
async fn nothing_changes_nothing_is_sent_and_unsubscribe_stops_deltas() {
    let s = TestServer::start().await;
    let mut sam = s.login("sam").await;
    sam.expect("statusChanged").await;
    subscribe(&sam).await;
    // Requests that change nothing on the board send no delta.
    sam.ok("Agent.getStatus", json!({})).await;
    sam.quiet().await;
    sam.ok("Supervisor.unsubscribe", json!({})).await;
    let trunk = s.login("pstn").await;
    phone_call(&trunk, "support").await;
    sam.quiet().await;
}

#[tokio::test]
async fn a_subscriber_that_disconnects_is_forgotten() {
    let s = TestServer::start().await;
    let sam = s.login("sam").await;
    subscribe(&sam).await;
    drop(sam);
    let mut ivy = s.login("ivy").await;
    let mut board = subscribe(&ivy).await;
    let trunk = s.login("pstn").await;
    phone_call(&trunk, "support").await;
    catch_up(&mut ivy, &mut board).await;
    assert_eq!(board.sessions.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_figures_follow_the_calls() {
    let s = TestServer::paused(|c| {
        c.center.after_call_work = 0;
        c.center.ring_timeout = 0;
    })
    .await;
    let mut sam = s.login("sam").await;
    let mut board = subscribe(&sam).await;
    let trunk = s.login("pstn").await;
    let step = |secs| tokio::time::advance(std::time::Duration::from_secs(secs));

    // 1: answered after 5 s. 2: abandoned after 10 s (within 20 s).
    // 3: abandoned after 30 s. 4: answered after 40 s.
    let one = phone_call(&trunk, "support").await;
    let two = phone_call(&trunk, "support").await;
    let three = phone_call(&trunk, "support").await;
    let four = phone_call(&trunk, "support").await;
    step(5).await;
    let mut alice = s.login("alice").await;
    assert_eq!(sid(&alice.wait_for("callIn").await), one);
    alice.ok("Call.accept", json!({"sessionId": one})).await;
    step(5).await;
    trunk.ok("Customer.hangUp", json!({"sessionId": two})).await;
    step(20).await;
    trunk
        .ok("Customer.hangUp", json!({"sessionId": three}))
        .await;
    step(10).await; // one talked for 35 s
    alice.ok("Call.hungUp", json!({"sessionId": one})).await;
    assert_eq!(sid(&alice.wait_for("callIn").await), four);
    alice.ok("Call.accept", json!({"sessionId": four})).await;
    step(60).await;
    alice.ok("Call.hungUp", json!({"sessionId": four})).await;
    catch_up(&mut sam, &mut board).await;
    let k = &board.kpis;
    assert_eq!(k.offered, 4);
    assert_eq!((k.answered, k.answered_in_threshold), (2, 1));
    assert_eq!((k.abandoned, k.abandoned_in_threshold), (2, 1));
    // 1 in time / (2 answered + 1 late abandon).
    let sl = k.service_level.expect("a service level");
    assert!((sl - 100.0 / 3.0).abs() < 0.01, "{sl}");
    // ASA (5 + 40) / 2 = 22.5 s; AHT (35 + 60) / 2 = 47.5 s (no after-call work).
    let asa = k.asa_ms.expect("asa");
    assert!((22_500..22_600).contains(&asa), "{asa}");
    let aht = k.aht_ms.expect("aht");
    assert!((47_500..47_600).contains(&aht), "{aht}");
    // The queue peaked at 4 this hour.
    assert!(
        board.history.iter().any(|p| p.queue == 4),
        "{:?}",
        board.history
    );
}
