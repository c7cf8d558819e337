//! The text transcript path: Customer.say → asr flow IN.

use std::time::Duration;

use ccdesk::protocol::{AsrResult, ErrorCode, Event, Flow};
use serde_json::json;
use tokio::time::Instant;

use crate::harness::*;

/// The asr results of the next sentence on this connection, up to sliceType 2.
async fn sentence(c: &mut Client, id: &str) -> Vec<AsrResult> {
    let mut out = Vec::new();
    loop {
        match c.wait_for("asr").await {
            Event::Asr {
                session_id,
                flow,
                result,
            } => {
                assert_eq!(session_id, id, "{}", c.user);
                assert_eq!(flow, Flow::In, "{}", c.user);
                let last = result.slice_type == 2;
                out.push(result);
                if last {
                    return out;
                }
            }
            _ => unreachable!(),
        }
    }
}

/// sliceType 0 first, partials that grow one word at a time, then 2 with the full text.
fn check_sentence(who: &str, rs: &[AsrResult], text: &str, index: u32) {
    let words: Vec<&str> = text.split_whitespace().collect();
    assert!(
        rs.len() >= 3,
        "{who}: a {}-word sentence needs 0, partials, 2: {rs:?}",
        words.len()
    );
    assert_eq!(rs[0].slice_type, 0, "{who}: {rs:?}");
    assert_eq!(rs.last().unwrap().slice_type, 2, "{who}: {rs:?}");
    assert_eq!(rs.last().unwrap().text, text, "{who}");
    for r in &rs[1..rs.len() - 1] {
        assert_eq!(r.slice_type, 1, "{who}: {rs:?}");
    }
    let mut prev_words = 0;
    for r in rs {
        assert_eq!(r.index, index, "{who}: {r:?}");
        assert!(r.start_time <= r.end_time, "{who}: {r:?}");
        assert_eq!(
            r.start_time, rs[0].start_time,
            "{who}: one sentence, one start: {rs:?}"
        );
        let n = r.text.split_whitespace().count();
        assert_eq!(r.text, words[..n].join(" "), "{who}: text so far");
        if r.slice_type != 0 {
            assert_eq!(n, prev_words + 1, "{who}: grows word by word: {rs:?}");
        }
        prev_words = n;
    }
    for w in rs.windows(2) {
        assert!(w[0].end_time <= w[1].end_time, "{who}: {rs:?}");
    }
}

#[tokio::test]
async fn say_streams_a_sentence_to_the_agent_and_monitors() {
    let s = TestServer::start().await;
    let (id, mut alice, trunk) = talking(&s, "alice").await;
    let mut ivy = s.login("ivy").await;
    ivy.ok("Call.monitor", json!({"sessionId": id, "textOnly": true}))
        .await;
    let text = "I need help with my billing";
    trunk
        .ok("Customer.say", json!({"sessionId": id, "text": text}))
        .await;
    let a = sentence(&mut alice, &id).await;
    check_sentence("alice", &a, text, 0);
    assert_eq!(a.len(), 6, "{a:?}");
    let i = sentence(&mut ivy, &id).await;
    assert_eq!(i, a, "the monitor sees what the agent sees");
}

#[tokio::test]
async fn sentences_are_numbered_per_session() {
    let s = TestServer::start().await;
    let (id, mut alice, trunk) = talking(&s, "alice").await;
    let texts = [
        "hello there agent",
        "my phone is broken",
        "please send a new one",
    ];
    for t in texts {
        trunk
            .ok("Customer.say", json!({"sessionId": id, "text": t}))
            .await;
    }
    let mut last_start = 0;
    for (n, t) in texts.iter().enumerate() {
        let rs = sentence(&mut alice, &id).await;
        check_sentence("alice", &rs, t, n as u32);
        assert!(
            rs[0].start_time >= last_start,
            "later sentences start later: {rs:?}"
        );
        last_start = rs[0].start_time;
    }
    alice.quiet().await;

    // A new session counts from 0 again.
    trunk.ok("Customer.hangUp", json!({"sessionId": id})).await;
    alice.wait_for("sessionEnded").await;
    alice.ok("Agent.setStatus", json!({"status": "free"})).await;
    let id2 = phone_call(&trunk, "support").await;
    assert_eq!(sid(&alice.wait_for("callIn").await), id2);
    alice.ok("Call.accept", json!({"sessionId": id2})).await;
    alice.wait_for("userAccessed").await;
    trunk
        .ok(
            "Customer.say",
            json!({"sessionId": id2, "text": "me again here"}),
        )
        .await;
    check_sentence(
        "alice",
        &sentence(&mut alice, &id2).await,
        "me again here",
        0,
    );
}

#[tokio::test]
async fn say_needs_a_talking_voice_session() {
    let s = TestServer::start().await;
    let trunk = s.login("pstn").await;
    let id = phone_call(&trunk, "support").await;
    let say = |id: &str| json!({"sessionId": id, "text": "is anybody there"});
    // Queued: nobody is logged in.
    let (code, _) = trunk.err("Customer.say", say(&id)).await;
    assert_eq!(code, ErrorCode::InvalidState, "queued");
    // Ringing.
    let mut alice = s.login("alice").await;
    assert_eq!(sid(&alice.wait_for("callIn").await), id);
    let (code, _) = trunk.err("Customer.say", say(&id)).await;
    assert_eq!(code, ErrorCode::InvalidState, "ringing");
    alice.quiet().await;
    // Held.
    alice.ok("Call.accept", json!({"sessionId": id})).await;
    alice.wait_for("userAccessed").await;
    alice.ok("Call.hold", json!({"sessionId": id})).await;
    alice.wait_for("sessionUpdated").await;
    let (code, _) = trunk.err("Customer.say", say(&id)).await;
    assert_eq!(code, ErrorCode::InvalidState, "held");
    alice.quiet().await;
    // Talking again: it flows.
    alice.ok("Call.unHold", json!({"sessionId": id})).await;
    trunk.ok("Customer.say", say(&id)).await;
    check_sentence(
        "alice",
        &sentence(&mut alice, &id).await,
        "is anybody there",
        0,
    );
    // Empty text is refused, naming text.
    let (code, msg) = trunk
        .err("Customer.say", json!({"sessionId": id, "text": " "}))
        .await;
    assert_eq!(code, ErrorCode::BadRequest);
    assert!(msg.contains("text"), "{msg}");

    // A chat, even accepted, has no voice.
    let mut bob = s.login("bob").await;
    let v = trunk
        .ok(
            "Customer.call",
            json!({"type": "im", "skillGroupId": "support", "nickname": "Nina"}),
        )
        .await
        .expect("data");
    let chat = v["sessionId"].as_str().unwrap().to_string();
    assert_eq!(sid(&bob.wait_for("callIn").await), chat);
    bob.ok("Chat.accept", json!({"sessionId": chat})).await;
    let (code, _) = trunk.err("Customer.say", say(&chat)).await;
    assert_eq!(code, ErrorCode::InvalidState, "chat");
    bob.wait_for("userAccessed").await;
    bob.quiet().await;
}

#[tokio::test(start_paused = true)]
async fn partials_are_paced_by_asr_word_ms() {
    let s = TestServer::paused(|cfg| cfg.center.asr_word_ms = 250).await;
    let (id, mut alice, trunk) = talking(&s, "alice").await;
    let text = "one two three four five";
    let t0 = Instant::now();
    trunk
        .ok("Customer.say", json!({"sessionId": id, "text": text}))
        .await;
    let mut seen = Vec::new();
    loop {
        match alice.wait_for("asr").await {
            Event::Asr { result, .. } => {
                let last = result.slice_type == 2;
                seen.push((t0.elapsed(), result));
                if last {
                    break;
                }
            }
            _ => unreachable!(),
        }
    }
    let results: Vec<AsrResult> = seen.iter().map(|(_, r)| r.clone()).collect();
    check_sentence("alice", &results, text, 0);
    assert_eq!(seen.len(), 5, "{results:?}");
    let step = Duration::from_millis(250);
    for (k, (at, r)) in seen.iter().enumerate() {
        let due = step * k as u32;
        assert!(
            *at >= due && *at < due + step,
            "result {k} at {at:?}, due at {due:?}: {r:?}"
        );
        assert_eq!(r.end_time - r.start_time, 250 * (k as u64 + 1), "{r:?}");
    }
    alice.quiet().await;
}

#[tokio::test]
async fn a_one_word_sentence_still_starts_with_slice_type_0() {
    let s = TestServer::start().await;
    let (id, mut alice, trunk) = talking(&s, "alice").await;
    trunk
        .ok("Customer.say", json!({"sessionId": id, "text": "hello"}))
        .await;
    trunk
        .ok(
            "Customer.say",
            json!({"sessionId": id, "text": "yes please"}),
        )
        .await;
    let one = sentence(&mut alice, &id).await;
    let kinds: Vec<u8> = one.iter().map(|r| r.slice_type).collect();
    assert_eq!(
        kinds,
        vec![0, 2],
        "every sentence starts with sliceType 0: {one:?}"
    );
    assert!(one.iter().all(|r| r.index == 0));
    assert_eq!(one.last().unwrap().text, "hello");
    // Two words: a start with the first, then the final.
    let two = sentence(&mut alice, &id).await;
    let kinds: Vec<u8> = two.iter().map(|r| r.slice_type).collect();
    assert_eq!(kinds, vec![0, 2], "{two:?}");
    assert_eq!(two[0].text, "yes");
    assert!(two.iter().all(|r| r.index == 1));
    assert_eq!(two.last().unwrap().text, "yes please");
}
