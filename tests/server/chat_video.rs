//! Chat (im) and video sessions; the callIn fields of im, voip and video.

use ccdesk::protocol::{CallIn, CallType, ChatFrom, CloseBy, ErrorCode, Event, SessionSnapshot};
use serde_json::{json, Value};

use crate::harness::*;

/// A customer call of any type: its session id.
async fn customer_call(trunk: &Client, params: Value) -> String {
    let v = trunk.ok("Customer.call", params).await.expect("sessionId");
    v["sessionId"].as_str().expect("sessionId").to_string()
}

fn im_params() -> Value {
    json!({
        "type": "im", "skillGroupId": "support", "nickname": "Nina",
        "avatar": "https://example.com/nina.png", "peerSource": "web",
        "channelName": "shop", "clientData": "order=42"
    })
}

fn video_params() -> Value {
    json!({
        "type": "video", "skillGroupId": "support", "userId": "wx-77",
        "nickname": "Vic", "avatar": "https://example.com/vic.png", "remark": "vip"
    })
}

async fn call_in(c: &mut Client) -> CallIn {
    match c.wait_for("callIn").await {
        Event::CallIn(ci) => ci,
        _ => unreachable!(),
    }
}

async fn updated(c: &mut Client) -> SessionSnapshot {
    match c.wait_for("sessionUpdated").await {
        Event::SessionUpdated(s) => s,
        _ => unreachable!(),
    }
}

/// alice accepts a session of the given params with the given namespace.
async fn accepted(s: &TestServer, params: Value, ns: &str) -> (String, Client, Client) {
    let mut alice = s.login("alice").await;
    let trunk = s.login("pstn").await;
    let id = customer_call(&trunk, params).await;
    assert_eq!(call_in(&mut alice).await.session_id, id);
    alice
        .ok(&format!("{ns}.accept"), json!({"sessionId": id}))
        .await;
    assert_eq!(sid(&alice.wait_for("userAccessed").await), id);
    (id, alice, trunk)
}

#[tokio::test]
async fn im_call_in_fields_and_nickname_required() {
    let s = TestServer::start().await;
    let mut alice = s.login("alice").await;
    let trunk = s.login("pstn").await;
    let mut p = im_params();
    p.as_object_mut().unwrap().remove("nickname");
    let (code, msg) = trunk.err("Customer.call", p).await;
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(msg.contains("nickname"), "{msg}");

    let id = customer_call(&trunk, im_params()).await;
    let c = call_in(&mut alice).await;
    assert_eq!(c.session_id, id);
    assert_eq!(c.kind, CallType::Im);
    assert_eq!(c.timeout, s.cfg.center.ring_timeout);
    assert_eq!(c.nickname.as_deref(), Some("Nina"));
    assert_eq!(c.avatar.as_deref(), Some("https://example.com/nina.png"));
    assert_eq!(c.peer_source.as_deref(), Some("web"));
    assert_eq!(c.channel_name.as_deref(), Some("shop"));
    assert_eq!(c.client_data.as_deref(), Some("order=42"));
    assert_eq!(c.callee_phone_number, None);
    assert_eq!(c.server_type, None);
}

#[tokio::test]
async fn voip_call_in_fields_and_required_params() {
    let s = TestServer::start().await;
    let mut alice = s.login("alice").await;
    let trunk = s.login("pstn").await;
    let full = json!({
        "type": "voip", "skillGroupId": "support", "callee": "mini-program",
        "calleeRemark": "Shop app", "userId": "openid-9", "nickname": "Val",
        "peerSource": "Shenzhen", "ivrPath": [{"key": "2", "label": "Orders"}],
        "clientData": "cart=3"
    });
    for missing in ["callee", "userId"] {
        let mut p = full.clone();
        p.as_object_mut().unwrap().remove(missing);
        let (code, msg) = trunk.err("Customer.call", p).await;
        assert_eq!(code, ErrorCode::BadRequest, "{missing}");
        assert!(msg.contains(missing), "{missing}: {msg}");
    }
    let id = customer_call(&trunk, full).await;
    let c = call_in(&mut alice).await;
    assert_eq!(c.session_id, id);
    assert_eq!(c.kind, CallType::Voip);
    assert_eq!(c.timeout, s.cfg.center.ring_timeout);
    assert_eq!(c.callee.as_deref(), Some("mini-program"));
    assert_eq!(c.callee_remark.as_deref(), Some("Shop app"));
    assert_eq!(c.user_id.as_deref(), Some("openid-9"));
    assert_eq!(c.nickname.as_deref(), Some("Val"));
    assert_eq!(c.peer_source.as_deref(), Some("Shenzhen"));
    assert_eq!(c.client_data.as_deref(), Some("cart=3"));
    let ivr = c.ivr_path.expect("ivrPath");
    assert_eq!(
        (ivr[0].key.as_str(), ivr[0].label.as_str()),
        ("2", "Orders")
    );
    assert_eq!(c.callee_phone_number, None);
    // A voip session is a call, not a video: Video.* is refused, Call.* works.
    let (code, _) = alice.err("Video.accept", json!({"sessionId": id})).await;
    assert_eq!(code, ErrorCode::InvalidState);
    alice.ok("Call.accept", json!({"sessionId": id})).await;
    alice.wait_for("userAccessed").await;
    alice.ok("Call.hold", json!({"sessionId": id})).await;
}

#[tokio::test]
async fn video_call_in_fields_and_user_id_required() {
    let s = TestServer::start().await;
    let mut alice = s.login("alice").await;
    let trunk = s.login("pstn").await;
    let mut p = video_params();
    p.as_object_mut().unwrap().remove("userId");
    let (code, msg) = trunk.err("Customer.call", p).await;
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(msg.contains("userId"), "{msg}");
    let id = customer_call(&trunk, video_params()).await;
    let c = call_in(&mut alice).await;
    assert_eq!(c.session_id, id);
    assert_eq!(c.kind, CallType::Video);
    assert_eq!(c.timeout, s.cfg.center.ring_timeout);
    assert_eq!(c.user_id.as_deref(), Some("wx-77"));
    assert_eq!(c.nickname.as_deref(), Some("Vic"));
    assert_eq!(c.avatar.as_deref(), Some("https://example.com/vic.png"));
    assert_eq!(c.remark.as_deref(), Some("vip"));
    assert_eq!(c.callee_phone_number, None);
    assert_eq!(c.callee, None);
}

#[tokio::test]
async fn chat_messages_both_ways_and_end() {
    let s = TestServer::start().await;
    let mut alice = s.login("alice").await;
    let mut trunk = s.login("pstn").await;
    let id = customer_call(&trunk, im_params()).await;
    assert_eq!(call_in(&mut alice).await.session_id, id);
    // Lines written before anyone accepted.
    trunk
        .ok(
            "Customer.sendMessage",
            json!({"sessionId": id, "text": "hello?"}),
        )
        .await;
    trunk
        .ok(
            "Customer.sendMessage",
            json!({"sessionId": id, "text": "anyone there"}),
        )
        .await;
    alice.ok("Chat.accept", json!({"sessionId": id})).await;
    assert_eq!(sid(&alice.wait_for("userAccessed").await), id);
    let snap = updated(&mut alice).await;
    assert_eq!(snap.session_id, id);
    let texts: Vec<(&str, ChatFrom)> = snap
        .messages
        .iter()
        .map(|m| (m.text.as_str(), m.from))
        .collect();
    assert_eq!(
        texts,
        vec![
            ("hello?", ChatFrom::Client),
            ("anyone there", ChatFrom::Client)
        ]
    );

    alice
        .ok(
            "Chat.sendMessage",
            json!({"sessionId": id, "text": "Hi Nina, how can I help?"}),
        )
        .await;
    match trunk.wait_for("chatMessage").await {
        Event::ChatMessage(m) => {
            assert_eq!(m.session_id, id);
            assert_eq!(m.from, ChatFrom::Seat);
            assert_eq!(m.user_id.as_deref(), Some("alice"));
            assert_eq!(m.text, "Hi Nina, how can I help?");
            assert!(m.timestamp > 0);
        }
        _ => unreachable!(),
    }
    trunk
        .ok(
            "Customer.sendMessage",
            json!({"sessionId": id, "text": "my order is late"}),
        )
        .await;
    loop {
        match alice.wait_for("chatMessage").await {
            Event::ChatMessage(m) if m.from == ChatFrom::Client => {
                assert_eq!(m.session_id, id);
                assert_eq!(m.text, "my order is late");
                break;
            }
            Event::ChatMessage(m) => assert_eq!(m.text, "Hi Nina, how can I help?"),
            _ => unreachable!(),
        }
    }
    // An empty line is refused, naming text.
    let (code, msg) = alice
        .err("Chat.sendMessage", json!({"sessionId": id, "text": "  "}))
        .await;
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(msg.contains("text"), "{msg}");

    alice.ok("Chat.end", json!({"sessionId": id})).await;
    match alice.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => {
            assert_eq!(e.session_id, id);
            assert_eq!(e.close_by, CloseBy::Seat);
        }
        _ => unreachable!(),
    }
    match trunk.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => assert_eq!(e.close_by, CloseBy::Seat),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn call_and_video_methods_on_a_chat_are_invalid_state() {
    let s = TestServer::start().await;
    let mut alice = s.login("alice").await;
    let trunk = s.login("pstn").await;
    let id = customer_call(&trunk, im_params()).await;
    assert_eq!(call_in(&mut alice).await.session_id, id);
    let (code, _) = alice.err("Call.accept", json!({"sessionId": id})).await;
    assert_eq!(code, ErrorCode::InvalidState);
    alice.ok("Chat.accept", json!({"sessionId": id})).await;
    for m in [
        "Call.hold",
        "Call.muteMic",
        "Call.hungUp",
        "Video.muteVideo",
        "Video.end",
    ] {
        let (code, _) = alice.err(m, json!({"sessionId": id})).await;
        assert_eq!(code, ErrorCode::InvalidState, "{m}");
    }
    let (code, _) = alice
        .err("Call.sendDigits", json!({"sessionId": id, "dtmfText": "1"}))
        .await;
    assert_eq!(code, ErrorCode::InvalidState);
    let (code, _) = alice
        .err("Call.transfer", json!({"sessionId": id, "userId": "bob"}))
        .await;
    assert_eq!(code, ErrorCode::InvalidState);
    // Chat.* on a phone call is refused the same way.
    let id2 = phone_call(&trunk, "support").await;
    let (code, _) = trunk
        .err(
            "Customer.sendMessage",
            json!({"sessionId": id2, "text": "hi"}),
        )
        .await;
    assert_eq!(code, ErrorCode::InvalidState);
    // The chat is still alive.
    alice
        .ok(
            "Chat.sendMessage",
            json!({"sessionId": id, "text": "still here"}),
        )
        .await;
}

#[tokio::test]
async fn chat_transfer_carries_the_history() {
    let s = TestServer::start().await;
    let (id, mut alice, trunk) = accepted(&s, im_params(), "Chat").await;
    let mut bob = s.login("bob").await;
    trunk
        .ok(
            "Customer.sendMessage",
            json!({"sessionId": id, "text": "refund please"}),
        )
        .await;
    alice
        .ok(
            "Chat.sendMessage",
            json!({"sessionId": id, "text": "passing you to Bob"}),
        )
        .await;
    alice
        .ok("Chat.transfer", json!({"sessionId": id, "userId": "bob"}))
        .await;
    assert_eq!(sid(&alice.wait_for("transfer").await), id);
    let c = call_in(&mut bob).await;
    assert_eq!(c.session_id, id);
    assert_eq!(c.kind, CallType::Im);
    bob.ok("Chat.accept", json!({"sessionId": id})).await;
    assert_eq!(sid(&bob.wait_for("userAccessed").await), id);
    let snap = updated(&mut bob).await;
    let texts: Vec<&str> = snap.messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, vec!["refund please", "passing you to Bob"]);
    // alice is off it; bob chats on.
    let (code, _) = alice
        .err("Chat.sendMessage", json!({"sessionId": id, "text": "x"}))
        .await;
    assert_eq!(code, ErrorCode::Forbidden);
    bob.ok(
        "Chat.sendMessage",
        json!({"sessionId": id, "text": "Bob here"}),
    )
    .await;
    bob.ok("Chat.end", json!({"sessionId": id})).await;
    assert_eq!(sid(&bob.wait_for("sessionEnded").await), id);
}

#[tokio::test]
async fn chat_transfer_to_a_skill_group() {
    let s = TestServer::start().await;
    let (id, mut alice, _trunk) = accepted(&s, im_params(), "Chat").await;
    let mut dave = s.login("dave").await;
    alice
        .ok(
            "Chat.transfer",
            json!({"sessionId": id, "skillGroupId": "sales"}),
        )
        .await;
    assert_eq!(sid(&alice.wait_for("transfer").await), id);
    assert_eq!(call_in(&mut dave).await.session_id, id);
    dave.ok("Chat.accept", json!({"sessionId": id})).await;
    assert_eq!(sid(&dave.wait_for("userAccessed").await), id);
}

#[tokio::test]
async fn video_mute_and_camera_show_in_session_updated() {
    let s = TestServer::start().await;
    let (id, mut alice, mut trunk) = accepted(&s, video_params(), "Video").await;
    let p = json!({"sessionId": id});
    alice.ok("Video.muteMic", p.clone()).await;
    let u = updated(&mut alice).await;
    assert_eq!(u.session_id, id);
    assert!(u.mic_muted && !u.video_muted, "{u:?}");
    alice.ok("Video.muteVideo", p.clone()).await;
    let u = updated(&mut alice).await;
    assert!(u.mic_muted && u.video_muted, "{u:?}");
    alice.ok("Video.unmuteMic", p.clone()).await;
    let u = updated(&mut alice).await;
    assert!(!u.mic_muted && u.video_muted, "{u:?}");
    assert_eq!(
        alice.ok("Call.isMicMuted", p.clone()).await,
        Some(json!({"muted": false}))
    );
    alice.ok("Video.unmuteVideo", p.clone()).await;
    let u = updated(&mut alice).await;
    assert!(!u.mic_muted && !u.video_muted, "{u:?}");
    alice.ok("Video.end", p.clone()).await;
    match alice.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => assert_eq!(e.close_by, CloseBy::Seat),
        _ => unreachable!(),
    }
    match trunk.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => assert_eq!(
            (e.session_id.as_str(), e.close_by),
            (id.as_str(), CloseBy::Seat)
        ),
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn video_methods_on_a_phone_call_are_invalid_state() {
    let s = TestServer::start().await;
    let (id, alice, _trunk) = talking(&s, "alice").await;
    for m in ["Video.muteVideo", "Video.muteMic", "Video.end", "Chat.end"] {
        let (code, _) = alice.err(m, json!({"sessionId": id})).await;
        assert_eq!(code, ErrorCode::InvalidState, "{m}");
    }
}

#[tokio::test]
async fn video_transfer_to_a_user() {
    let s = TestServer::start().await;
    let (id, mut alice, _trunk) = accepted(&s, video_params(), "Video").await;
    let mut bob = s.login("bob").await;
    alice.ok("Video.muteVideo", json!({"sessionId": id})).await;
    alice
        .ok("Video.transfer", json!({"sessionId": id, "userId": "bob"}))
        .await;
    assert_eq!(sid(&alice.wait_for("transfer").await), id);
    let c = call_in(&mut bob).await;
    assert_eq!(
        (c.session_id.as_str(), c.kind),
        (id.as_str(), CallType::Video)
    );
    bob.ok("Video.accept", json!({"sessionId": id})).await;
    assert_eq!(sid(&bob.wait_for("userAccessed").await), id);
    bob.ok("Video.muteMic", json!({"sessionId": id})).await;
    let u = updated(&mut bob).await;
    assert!(u.mic_muted);
    bob.ok("Video.end", json!({"sessionId": id})).await;
    assert_eq!(sid(&bob.wait_for("sessionEnded").await), id);
}
