//! End to end (as e2e.rs): the real terminal against a real server with
//! the offers a busy floor brings: chats offered while the agent is in
//! other chats, and a caller who asked to be called back.

use ccdesk::protocol::Event;
use serde_json::json;

use crate::e2e::Center;

/// A chat from `nickname` into skill group support; its session id.
fn chat(trunk: &crate::e2e::Peer, nickname: &str) -> String {
    let r = trunk
        .call(
            "Customer.call",
            json!({"type": "im", "skillGroupId": "support", "nickname": nickname}),
        )
        .expect("session id");
    r["sessionId"].as_str().expect("sessionId").to_string()
}

#[test]
fn a_second_chat_rings_while_the_agent_writes_and_both_are_worked() {
    let center = Center::start();
    let mut trunk = center.peer("pstn", false);
    let a = center.terminal("agent", "alice", &[], None, (80, 24));
    let p = &a.pty;
    p.wait_text("free for");
    let mia = chat(&trunk, "Mia");
    p.wait_text("chat from Mia: a accepts");
    p.key("a");
    p.wait_text("CHAT Mia · talking");
    // alice writes to Mia; Noor's chat is offered meanwhile (alice is in
    // one chat of her three).
    p.enter();
    p.wait_text("enter sends");
    p.key("your parcel");
    let noor = chat(&trunk, "Noor");
    let screen = p.wait_text("chat from Noor: esc, then a accepts");
    assert!(screen.contains("Sessions 2 (1 ringing)"), "{screen}");
    assert!(screen.contains("> your parcel"), "still writing: {screen}");
    p.esc();
    p.wait_gone("enter sends");
    p.key("a");
    trunk.wait_event(
        "Noor's accept",
        |e| matches!(e, Event::UserAccessed { session_id, .. } if *session_id == noor),
    );
    p.wait_text("CHAT Noor · talking");
    p.wait_text("2 chats");
    // Mia writes while Noor's chat is selected: unread, until n.
    trunk.call(
        "Customer.sendMessage",
        json!({"sessionId": mia, "text": "it is order 58-2231-07"}),
    );
    p.wait_text("Mia (1)");
    p.wait_text("n next chat");
    p.key("n");
    let screen = p.wait_text("IN  customer: it is order 58-2231-07");
    assert!(!screen.contains("Mia (1)"), "read: {screen}");
    assert!(screen.contains("(draft: your parcel)"), "{screen}");
    // The draft goes to Mia.
    p.enter();
    p.wait_text("> your parcel");
    p.enter();
    match trunk.wait_event("alice's line", |e| matches!(e, Event::ChatMessage(_))) {
        Event::ChatMessage(m) => assert_eq!((m.session_id, m.text), (mia, "your parcel".into())),
        e => panic!("{e:?}"),
    }
}

#[test]
fn a_callback_offer_is_dialled_when_the_agent_accepts_it() {
    let center = Center::start();
    let mut trunk = center.peer("pstn", false);
    // Nobody is logged in: the caller waits, then asks to be called back.
    let sid = trunk.phone_call("138****4444");
    trunk.call(
        "Customer.requestCallback",
        json!({"sessionId": sid, "phoneNumber": "+4930999000"}),
    );
    let a = center.terminal("agent", "alice", &[], None, (80, 24));
    let p = &a.pty;
    let screen = p.wait_text("callback to +4930999000 (138****4444): a calls back");
    assert!(screen.contains("CALLB 138****4444"), "{screen}");
    assert!(
        screen.contains("CALLBACK 138****4444 · ringing"),
        "{screen}"
    );
    p.key("a");
    match trunk.wait_event("the dial", |e| matches!(e, Event::Dial { .. })) {
        Event::Dial {
            session_id,
            phone_number,
            ..
        } => assert_eq!(
            (session_id, phone_number),
            (sid.clone(), "+4930999000".into())
        ),
        e => panic!("{e:?}"),
    }
    p.wait_text("calling back +4930999000 (ringing)");
    trunk.call("Customer.answer", json!({"sessionId": sid}));
    p.wait_text("CALLBACK 138****4444 · talking");
    p.key("h");
    p.wait_text("138****4444 · ended after");
    let rec = center
        .records()
        .get(&sid)
        .expect("records")
        .expect("the callback is recorded");
    assert_eq!(rec.callback.as_deref(), Some("+4930999000"));
    assert_eq!(rec.agents, ["alice"]);
    assert!(rec.accepted_at.is_some(), "answered when called back");
}
