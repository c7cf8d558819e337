//! Several chats at once: an agent in chats (and in no call) is offered
//! more chats up to their `max_chats`, and calls only once every session
//! has ended.

use ccdesk::protocol::{AgentStatus, ErrorCode, Event};
use serde_json::json;

use crate::harness::*;

async fn chat(trunk: &Client, nickname: &str) -> String {
    let v = trunk
        .ok(
            "Customer.call",
            json!({"type": "im", "skillGroupId": "support", "nickname": nickname}),
        )
        .await
        .expect("sessionId");
    v["sessionId"].as_str().expect("sessionId").to_string()
}

/// Nothing is offered to `c` (up to now).
async fn no_offer(c: &mut Client) {
    let evs = c.drain().await;
    assert!(
        !evs.iter().any(|e| matches!(e, Event::CallIn(_))),
        "{}: {evs:?}",
        c.user
    );
}

/// The next callIn: its session id.
async fn offered(c: &mut Client) -> String {
    sid(&c.wait_for("callIn").await)
}

#[tokio::test(start_paused = true)]
async fn chats_are_offered_up_to_max_chats_and_calls_only_when_every_session_ended() {
    let s = TestServer::paused(|c| c.center.after_call_work = 5).await;
    let trunk = s.login("pstn").await;
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    let chats = [
        chat(&trunk, "Mia").await,
        chat(&trunk, "Noor").await,
        chat(&trunk, "Ola").await,
        chat(&trunk, "Pia").await,
    ];
    let call = phone_call(&trunk, "support").await;
    // Three chats, one after the other, while busy with the first ones.
    for (n, id) in chats[..3].iter().enumerate() {
        assert_eq!(&offered(&mut alice).await, id, "chat {n}");
        alice.ok("Chat.accept", json!({"sessionId": id})).await;
        assert_eq!(alice.status().await, "busy");
    }
    // At the limit: neither the fourth chat nor the call.
    no_offer(&mut alice).await;
    let (code, msg) = alice
        .err(
            "Agent.setStatus",
            json!({"status": "rest", "restReason": "Meal"}),
        )
        .await;
    assert_eq!(code, ErrorCode::InvalidState, "{msg}");
    // One ends: the fourth chat comes, though the call waited longer:
    // calls go only to an agent in no session.
    alice.ok("Chat.end", json!({"sessionId": chats[0]})).await;
    assert_eq!(offered(&mut alice).await, chats[3]);
    alice
        .ok("Chat.accept", json!({"sessionId": chats[3]}))
        .await;
    for id in &chats[1..] {
        alice.ok("Chat.end", json!({"sessionId": id})).await;
    }
    // After-call work after the last one only, then the call.
    let mut statuses = Vec::new();
    loop {
        match alice.event().await {
            Event::StatusChanged { status, .. } => statuses.push(status),
            Event::CallIn(ci) => {
                assert_eq!(ci.session_id, call);
                break;
            }
            _ => {}
        }
    }
    assert_eq!(statuses, vec![AgentStatus::Arrange, AgentStatus::Free]);
}

#[tokio::test(start_paused = true)]
async fn an_agent_in_a_call_gets_no_chat_and_max_chats_one_is_one_at_a_time() {
    let s = TestServer::paused(|c| {
        c.center.after_call_work = 0;
        for u in c.users.iter_mut() {
            if u.id == "bob" {
                u.max_chats = 1;
            }
        }
    })
    .await;
    let (_call, mut alice, trunk) = talking(&s, "alice").await;
    let first = chat(&trunk, "Mia").await;
    no_offer(&mut alice).await;
    let mut bob = s.login("bob").await;
    assert_eq!(offered(&mut bob).await, first);
    bob.ok("Chat.accept", json!({"sessionId": first})).await;
    let second = chat(&trunk, "Noor").await;
    no_offer(&mut bob).await;
    no_offer(&mut alice).await;
    bob.ok("Chat.end", json!({"sessionId": first})).await;
    assert_eq!(offered(&mut bob).await, second);
}

#[tokio::test(start_paused = true)]
async fn a_chat_may_be_transferred_to_a_colleague_in_chats_but_not_a_call() {
    let s = TestServer::paused(|c| c.center.after_call_work = 0).await;
    let trunk = s.login("pstn").await;
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    let mine = chat(&trunk, "Mia").await;
    assert_eq!(offered(&mut alice).await, mine);
    alice.ok("Chat.accept", json!({"sessionId": mine})).await;
    let mut bob = s.login("bob").await;
    let his = chat(&trunk, "Noor").await;
    // bob is free and alice busy: the chat goes to bob.
    assert_eq!(offered(&mut bob).await, his);
    bob.ok("Chat.accept", json!({"sessionId": his})).await;
    alice
        .ok("Chat.transfer", json!({"sessionId": mine, "userId": "bob"}))
        .await;
    assert_eq!(offered(&mut bob).await, mine);
    bob.ok("Chat.accept", json!({"sessionId": mine})).await;
    // A call is not transferred to an agent in chats.
    let (call, mut dave, _t) = talking(&s, "dave").await;
    dave.drain().await;
    let (code, msg) = dave
        .err("Call.transfer", json!({"sessionId": call, "userId": "bob"}))
        .await;
    assert_eq!(code, ErrorCode::InvalidState);
    assert!(msg.contains("2 chats of 3"), "{msg}");
}

#[test]
fn max_chats_out_of_range_is_refused_at_start() {
    for bad in [0, 21] {
        let mut cfg = config(|_| {});
        cfg.users[0].max_chats = bad;
        let err =
            ccdesk::server::config::ServerConfig::parse(&toml::to_string(&cfg).expect("toml"))
                .expect_err("refused");
        assert!(err.to_string().contains("max_chats"), "{err}");
    }
}
