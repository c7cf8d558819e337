//! Coach (whisper) and barge: `Call.monitor`'s `mode`, switched on the
//! live audio, what each side hears, and what the agent is shown.

use ccdesk::media::analysis;
use ccdesk::protocol::{ErrorCode, Event, MonitorMode, SessionSnapshot};
use serde_json::json;

use crate::harness::*;
use crate::media::{finished_recording, has_tone, windows, SeatAudio};

/// alice's next sessionUpdated for `id`.
async fn updated(c: &mut Client, id: &str) -> SessionSnapshot {
    loop {
        if let Event::SessionUpdated(s) = c.wait_for("sessionUpdated").await {
            if s.session_id == id {
                return s;
            }
        }
    }
}

fn modes(s: &SessionSnapshot) -> Vec<(String, MonitorMode)> {
    s.monitored_by
        .iter()
        .map(|m| (m.user_id.clone(), m.mode))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn the_agent_sees_who_monitors_and_how_and_bad_modes_are_refused() {
    let s = TestServer::paused(|_| {}).await;
    let (id, mut alice, trunk) = talking(&s, "alice").await;
    let sam = s.login("sam").await;
    alice.drain().await;
    sam.ok("Call.monitor", json!({"sessionId": id, "textOnly": true}))
        .await;
    assert_eq!(
        modes(&updated(&mut alice, &id).await),
        vec![("sam".to_string(), MonitorMode::Text)]
    );
    for mode in ["listen", "coach", "barge"] {
        sam.ok("Call.monitor", json!({"sessionId": id, "mode": mode}))
            .await;
        let m = modes(&updated(&mut alice, &id).await);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].1.as_str(), mode);
    }
    // The same mode again changes nothing the agent needs to hear of.
    sam.ok("Call.monitor", json!({"sessionId": id, "mode": "barge"}))
        .await;
    alice.quiet().await;
    let (code, msg) = sam
        .err(
            "Call.monitor",
            json!({"sessionId": id, "textOnly": true, "mode": "coach"}),
        )
        .await;
    assert_eq!(code, ErrorCode::BadRequest, "{msg}");
    let (code, msg) = sam
        .err("Call.monitor", json!({"sessionId": id, "mode": "shout"}))
        .await;
    assert_eq!(code, ErrorCode::BadRequest, "{msg}");
    // An agent may not coach.
    let bob = s.login("bob").await;
    let (code, _) = bob
        .err("Call.monitor", json!({"sessionId": id, "mode": "coach"}))
        .await;
    assert_eq!(code, ErrorCode::Forbidden);
    // No audio in a chat to coach in.
    let chat = trunk
        .ok(
            "Customer.call",
            json!({"type": "im", "skillGroupId": "support", "nickname": "Mia"}),
        )
        .await
        .expect("sessionId")["sessionId"]
        .as_str()
        .expect("sessionId")
        .to_string();
    let mut bob = bob;
    bob.wait_for("callIn").await;
    bob.ok("Chat.accept", json!({"sessionId": chat})).await;
    let (code, msg) = sam
        .err("Call.monitor", json!({"sessionId": chat, "mode": "coach"}))
        .await;
    assert_eq!(code, ErrorCode::InvalidState, "{msg}");
    // Stopping: the agent sees nobody.
    sam.ok("Supervisor.stopMonitor", json!({"sessionId": id}))
        .await;
    assert!(updated(&mut alice, &id).await.monitored_by.is_empty());
}

const TONES: [f32; 3] = [440.0, 700.0, 1500.0];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coach_is_heard_by_the_agent_only_and_a_barge_by_everyone() {
    let s = TestServer::start().await;
    let (id, alice, trunk) = talking(&s, "alice").await;
    let sam = s.login("sam").await;
    let a = SeatAudio::start(&alice, &id, analysis::tone(16_000, &[700.0], 40_000, 0.3)).await;
    trunk
        .ok(
            "Customer.play",
            json!({"sessionId": id, "tones": [{"hz": [440.0], "ms": 30000}]}),
        )
        .await;
    // sam coaches, saying 1500 Hz.
    sam.ok("Call.monitor", json!({"sessionId": id, "mode": "coach"}))
        .await;
    let m = SeatAudio::start(&sam, &id, analysis::tone(16_000, &[1500.0], 40_000, 0.3)).await;
    // The coach hears both sides; alice hears the coach.
    m.until(
        |h| {
            let tail = &h[h.len().saturating_sub(1600)..];
            analysis::goertzel(tail, 16_000, 440.0) > 0.001
                && analysis::goertzel(tail, 16_000, 700.0) > 0.001
        },
        "both sides at the coach",
    )
    .await;
    a.until(
        |h| {
            let tail = &h[h.len().saturating_sub(1600)..];
            analysis::goertzel(tail, 16_000, 1500.0) > 0.001
        },
        "the coach at alice",
    )
    .await;
    m.play_out(1500).await;
    // Barge on the same audio (no new offer): alice mutes, so that what the
    // customer hears is sam alone.
    sam.ok("Call.monitor", json!({"sessionId": id, "mode": "barge"}))
        .await;
    alice.ok("Call.muteMic", json!({"sessionId": id})).await;
    m.play_out(1500).await;
    alice.ok("Call.hungUp", json!({"sessionId": id})).await;
    // What the customer heard: alice alone while sam coached (not a mix),
    // then sam once he barged in.
    let (_, right) = finished_recording(&s, &id).await;
    let w = windows(&right, 16_000, &TONES);
    let first_700 = w.iter().position(|x| *x == Some(700.0)).expect("alice");
    let first_1500 = w
        .iter()
        .position(|x| *x == Some(1500.0))
        .expect("sam barged");
    assert!(first_700 < first_1500, "{w:?}");
    // A coach heard by the customer would mix with alice for the whole
    // 1.5 s of coaching; a window or two of a dropout or of the switch to
    // barge may read as mixed too.
    let mixed = w[first_700..first_1500]
        .split(|x| *x != Some(0.0))
        .map(<[_]>::len)
        .max()
        .unwrap_or(0);
    let alone = w[first_700..first_1500]
        .iter()
        .filter(|x| **x == Some(700.0))
        .count();
    assert!(
        alone >= 15 && mixed <= 2,
        "the customer heard alice alone while sam coached: {alone} windows of her, at most {mixed} mixed in a row: {w:?}"
    );
    assert!(has_tone(&right, 1500.0, &TONES));
}
