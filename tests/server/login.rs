//! 1. Login, tokens, ready, tokenExpired, roles. 8. Multi-tab and kickedOut.

use ccdesk::protocol::{ErrorCode, Event};
use ccdesk::server::auth;
use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn login_answers_with_snapshot_then_ready() {
    let s = TestServer::start().await;
    let mut c = s.connect().await;
    let res = c
        .conn
        .login("alice", &s.token("alice"), false)
        .await
        .unwrap();
    assert_eq!(res.user_id, "alice");
    assert_eq!(res.role, "agent");
    assert_eq!(res.skill_groups, vec!["support"]);
    assert!(res.sessions.is_empty());
    assert_eq!(res.tab_uuid.len(), 36);
    match c.event().await {
        Event::Ready { tab_uuid } => assert_eq!(tab_uuid, res.tab_uuid),
        other => panic!("{other:?}"),
    }
    // login_status = free: the agent comes up free and says so.
    match c.event().await {
        Event::StatusChanged { status, .. } => assert_eq!(status.as_str(), "free"),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.status().await, "free");
}

#[tokio::test]
async fn wrong_token_is_unauthorized_and_closes() {
    let s = TestServer::start().await;
    let mut c = s.connect().await;
    let forged = auth::issue("some-other-secret-123", "alice", now_secs(), 60);
    let r = c
        .conn
        .request("login", json!({"userId": "alice", "token": forged}))
        .await
        .unwrap();
    assert_eq!(r.error_code, Some(ErrorCode::Unauthorized));
    assert!(r.error_msg.unwrap().contains("signature"));
    assert!(c.closed().await.is_empty());

    // A token for someone else.
    let mut c = s.connect().await;
    let r = c
        .conn
        .request("login", json!({"userId": "alice", "token": s.token("bob")}))
        .await
        .unwrap();
    assert_eq!(r.error_code, Some(ErrorCode::Unauthorized));
    c.closed().await;

    // A user the center does not know, with a valid signature.
    let mut c = s.connect().await;
    let t = auth::issue(&s.cfg.auth.secret, "zed", now_secs(), 60);
    let r = c
        .conn
        .request("login", json!({"userId": "zed", "token": t}))
        .await
        .unwrap();
    assert_eq!(r.error_code, Some(ErrorCode::Unauthorized));
    assert!(r.error_msg.unwrap().contains("zed"));
    c.closed().await;
}

#[tokio::test]
async fn expired_token_sends_token_expired_then_closes() {
    let s = TestServer::start().await;
    let mut c = s.connect().await;
    let old = auth::issue(&s.cfg.auth.secret, "alice", now_secs() - 100, 10);
    let r = c
        .conn
        .request("login", json!({"userId": "alice", "token": old}))
        .await
        .unwrap();
    assert_eq!(r.error_code, Some(ErrorCode::Unauthorized));
    let seen = c.closed().await;
    assert!(
        matches!(&seen[..], [Event::TokenExpired { message }] if message.contains("expired")),
        "{seen:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn token_expiring_on_a_live_connection_sends_token_expired() {
    let s = TestServer::paused(|_| {}).await;
    let mut c = s.connect().await;
    let t = auth::issue(&s.cfg.auth.secret, "alice", now_secs(), 120);
    c.conn.login("alice", &t, false).await.unwrap();
    c.user = "alice".into();
    c.expect("ready").await;
    c.expect("statusChanged").await;
    let seen = c.closed().await;
    assert!(
        matches!(seen.last(), Some(Event::TokenExpired { .. })),
        "{seen:?}"
    );
}

#[tokio::test]
async fn methods_before_login_are_unauthorized() {
    let s = TestServer::start().await;
    let c = s.connect().await;
    let (code, msg) = c.err("Agent.getStatus", json!({})).await;
    assert_eq!(code, ErrorCode::Unauthorized);
    assert!(msg.contains("log in"));
    // The connection stays usable: login still works after.
    c.conn
        .login("alice", &s.token("alice"), false)
        .await
        .unwrap();
}

#[tokio::test]
async fn roles_are_enforced() {
    let s = TestServer::start().await;
    let alice = s.login("alice").await;
    let trunk = s.login("pstn").await;
    let sam = s.login("sam").await;
    for m in ["Supervisor.listSessions", "Call.monitor", "Call.intercept"] {
        let (code, _) = alice.err(m, json!({"sessionId": "x"})).await;
        assert_eq!(code, ErrorCode::Forbidden, "{m}");
    }
    let (code, msg) = alice
        .err(
            "Customer.call",
            json!({"type": "phone", "skillGroupId": "support", "calleePhoneNumber": "1"}),
        )
        .await;
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(msg.contains("trunk"), "{msg}");
    let (code, _) = trunk.err("Call.accept", json!({"sessionId": "x"})).await;
    assert_eq!(code, ErrorCode::Forbidden);
    let (code, _) = trunk
        .err("Agent.setStatus", json!({"status": "free"}))
        .await;
    assert_eq!(code, ErrorCode::Forbidden);
    // Admins may do what agents do, and supervise.
    sam.ok("Agent.getStatus", json!({})).await;
    sam.ok("Supervisor.listSessions", json!({})).await;
    let ivy = s.login("ivy").await;
    ivy.ok("Supervisor.listSessions", json!({})).await;
    let (code, _) = sam
        .err("login", json!({"userId": "sam", "token": s.token("sam")}))
        .await;
    assert_eq!(code, ErrorCode::InvalidState);
}

#[tokio::test]
async fn second_login_without_enable_shared_kicks_the_first_out() {
    let s = TestServer::start().await;
    let mut first = s.login("alice").await;
    first.expect("statusChanged").await;
    let second = s.login("alice").await;
    let seen = first.closed().await;
    assert!(matches!(&seen[..], [Event::KickedOut { .. }]), "{seen:?}");
    // The new tab is the agent now, with the status kept.
    assert_eq!(second.status().await, "free");

    // Shared on one side only still kicks out.
    let mut third = s.login_opts("alice", true).await;
    let mut second = second;
    assert!(matches!(
        second.closed().await.last(),
        Some(Event::KickedOut { .. })
    ));
    third.quiet().await;
}

#[tokio::test]
async fn shared_tabs_all_get_every_event() {
    let s = TestServer::start().await;
    let mut t1 = s.login_opts("alice", true).await;
    t1.expect("statusChanged").await;
    let mut t2 = s.login_opts("alice", true).await;
    assert_ne!(t1.tab, t2.tab);
    let trunk = s.login("pstn").await;
    let id = phone_call(&trunk, "support").await;
    assert_eq!(sid(&t1.expect("callIn").await), id);
    assert_eq!(sid(&t2.expect("callIn").await), id);
    t2.ok("Call.accept", json!({"sessionId": id})).await;
    let tab2 = t2.tab.clone();
    for t in [&mut t1, &mut t2] {
        t.expect("statusChanged").await;
        match t.expect("userAccessed").await {
            Event::UserAccessed { tab_uuid, .. } => {
                assert_eq!(tab_uuid.as_deref(), Some(tab2.as_str()))
            }
            _ => unreachable!(),
        }
    }
    // Either tab acts on the session; both hear the end.
    t1.ok("Call.hungUp", json!({"sessionId": id})).await;
    for t in [&mut t1, &mut t2] {
        assert_eq!(sid(&t.expect("sessionEnded").await), id);
    }
}
