//! Pausing the recording for card payments: `Call.pauseRecording` and
//! `Call.resumeRecording` — silence in the recording and nothing in the
//! transcript for the span, and the span in the session's record.

use std::time::Duration;

use ccdesk::media::analysis;
use ccdesk::protocol::{ErrorCode, Event};
use serde_json::json;

use crate::harness::*;
use crate::media::{finished_recording, windows, SeatAudio};

/// The next sessionUpdated for `id`: its recordingPaused.
async fn paused(c: &mut Client, id: &str) -> bool {
    loop {
        if let Event::SessionUpdated(s) = c.wait_for("sessionUpdated").await {
            if s.session_id == id {
                return s.recording_paused;
            }
        }
    }
}

/// The texts of the `asr` events among `evs`.
fn said(evs: &[Event]) -> Vec<String> {
    evs.iter()
        .filter_map(|e| match e {
            Event::Asr { result, .. } if result.slice_type == 2 => Some(result.text.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_paused_span_has_no_transcript_and_is_kept_in_the_record() {
    let s = TestServer::paused(|_| {}).await;
    let (id, mut alice, trunk) = talking(&s, "alice").await;
    let mut bob = s.login("bob").await;
    trunk
        .ok(
            "Customer.say",
            json!({"sessionId": id, "text": "I want to pay my bill"}),
        )
        .await;
    alice
        .ok("Call.pauseRecording", json!({"sessionId": id}))
        .await;
    let evs = alice.drain().await;
    assert_eq!(said(&evs), vec!["I want to pay my bill"]);
    assert!(
        evs.iter()
            .any(|e| matches!(e, Event::SessionUpdated(s) if s.recording_paused)),
        "{evs:?}"
    );
    let (code, _) = alice
        .err("Call.pauseRecording", json!({"sessionId": id}))
        .await;
    assert_eq!(code, ErrorCode::InvalidState);
    // Not bob's to pause.
    bob.drain().await;
    let (code, _) = bob
        .err("Call.resumeRecording", json!({"sessionId": id}))
        .await;
    assert_eq!(code, ErrorCode::Forbidden);
    // The card number is not written down.
    trunk
        .ok(
            "Customer.say",
            json!({"sessionId": id, "text": "four one one one two two two two"}),
        )
        .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    alice
        .ok("Call.resumeRecording", json!({"sessionId": id}))
        .await;
    assert!(!paused(&mut alice, &id).await);
    trunk
        .ok(
            "Customer.say",
            json!({"sessionId": id, "text": "thank you"}),
        )
        .await;
    let evs = alice.drain().await;
    assert_eq!(said(&evs), vec!["thank you"], "{evs:?}");
    // Paused again, and the call ends while paused: kept up to the end.
    alice
        .ok("Call.pauseRecording", json!({"sessionId": id}))
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    trunk.ok("Customer.hangUp", json!({"sessionId": id})).await;
    alice.wait_for("sessionEnded").await;
    trunk.sync().await;
    let rec = s.records().get(&id).unwrap().expect("recorded");
    assert_eq!(rec.recording_pauses.len(), 2, "{:?}", rec.recording_pauses);
    let (first, second) = (&rec.recording_pauses[0], &rec.recording_pauses[1]);
    assert!(first.end - first.start >= 5_000, "{first:?}");
    assert!(first.end <= second.start && second.end == rec.ended_at);
    let texts: Vec<&str> = rec.transcript.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, vec!["I want to pay my bill", "thank you"]);
}

const TONES: [f32; 2] = [440.0, 700.0];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recording_is_silent_while_paused() {
    let s = TestServer::start().await;
    let (id, alice, trunk) = talking(&s, "alice").await;
    let a = SeatAudio::start(&alice, &id, analysis::tone(16_000, &[700.0], 40_000, 0.3)).await;
    trunk
        .ok(
            "Customer.play",
            json!({"sessionId": id, "tones": [{"hz": [440.0], "ms": 30000}]}),
        )
        .await;
    a.play_out(1000).await;
    alice
        .ok("Call.pauseRecording", json!({"sessionId": id}))
        .await;
    // alice still hears the customer (she takes the card number).
    let before = a.heard().len();
    a.play_out(1500).await;
    let h = a.heard();
    assert!(
        analysis::goertzel(&h[before..], 16_000, 440.0) > 0.001,
        "the agent hears the customer while paused"
    );
    alice
        .ok("Call.resumeRecording", json!({"sessionId": id}))
        .await;
    a.play_out(1000).await;
    alice.ok("Call.hungUp", json!({"sessionId": id})).await;
    let (left, right) = finished_recording(&s, &id).await;
    let (l, r) = (
        windows(&left, 16_000, &TONES),
        windows(&right, 16_000, &TONES),
    );
    // Both sides: sound, a second or more of silence, sound again.
    for (side, w, hz) in [("customer", &l, 440.0), ("agent", &r, 700.0)] {
        let first = w.iter().position(|x| *x == Some(hz)).expect("sound before");
        let last = w.iter().rposition(|x| *x == Some(hz)).expect("sound after");
        let silent = w[first..last].iter().filter(|x| x.is_none()).count();
        assert!(silent >= 12, "{side}: {silent} silent windows: {w:?}");
        assert!(
            w[first..last].iter().filter(|x| **x == Some(hz)).count() >= 15,
            "{side}: {w:?}"
        );
    }
}
