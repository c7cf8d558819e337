//! Real audio end to end on loopback, with no sound card: the trunk plays
//! tones through the server, a headless agent (the terminal's own call
//! audio with an in-memory device) receives and decodes them over WebRTC,
//! and the agent's tone comes back in the server's recording; mute, hold,
//! DTMF, internal calls and audio monitors are checked on what was heard.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ccdesk::media::analysis;
use ccdesk::media::call::{self, CallCmd, CallEvent};
use ccdesk::media::device::Backend;
use ccdesk::media::rtc::PeerState;
use ccdesk::protocol::Event;
use serde_json::json;
use tokio::sync::mpsc;

use super::harness::*;

/// The in-memory device's rate (what the terminal would use at 48 kHz works
/// the same; 16 kHz keeps the analysis cheap).
pub(crate) const RATE: u32 = 16_000;

/// One seat's audio for a session, as the terminal runs it.
pub(crate) struct SeatAudio {
    pub(crate) cmd: mpsc::UnboundedSender<CallCmd>,
    events: mpsc::UnboundedReceiver<CallEvent>,
    heard: Arc<Mutex<Vec<i16>>>,
}

/// The first event `pick` takes; a failure of the audio fails the test.
async fn next_event<T>(
    events: &mut mpsc::UnboundedReceiver<CallEvent>,
    what: &str,
    pick: impl Fn(CallEvent) -> Option<T>,
) -> T {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.recv()).await {
            Ok(Some(CallEvent::Failed(e))) => panic!("audio failed: {e}"),
            Ok(Some(ev)) => {
                if let Some(t) = pick(ev) {
                    return t;
                }
            }
            other => panic!("no {what}: {other:?}"),
        }
    }
}

impl SeatAudio {
    /// Start the call audio of `client` in `sid` playing `source`, send the
    /// offer with `Media.offer`, and wait until it is connected.
    pub(crate) async fn start(client: &Client, sid: &str, source: Vec<i16>) -> SeatAudio {
        let heard = Arc::new(Mutex::new(Vec::new()));
        let (tx, mut events) = mpsc::unbounded_channel();
        let cmd = call::spawn(
            "127.0.0.1".parse().expect("ip"),
            Backend::Memory {
                rate: RATE,
                source,
                heard: heard.clone(),
            },
            move |ev| {
                let _ = tx.send(ev);
            },
        );
        let offer = next_event(&mut events, "an offer", |ev| match ev {
            CallEvent::Offer(sdp) => Some(sdp),
            _ => None,
        })
        .await;
        assert!(offer.contains("opus/48000"), "{offer}");
        assert!(offer.contains("telephone-event"), "{offer}");
        let answer = client
            .ok("Media.offer", json!({"sessionId": sid, "sdp": offer}))
            .await
            .expect("an answer");
        let sdp = answer["sdp"].as_str().expect("sdp").to_string();
        assert!(sdp.contains("a=candidate"), "non-trickle: {sdp}");
        cmd.send(CallCmd::Answer(sdp)).expect("audio task");
        let mut a = SeatAudio { cmd, events, heard };
        a.wait_connected().await;
        a
    }

    async fn wait_connected(&mut self) {
        let stats = next_event(&mut self.events, "connected", |ev| match ev {
            CallEvent::Stats(s) if s.state == Some(PeerState::Connected) => Some(s),
            _ => None,
        })
        .await;
        assert!(stats.dtmf, "the server takes telephone-event");
    }

    fn heard_len(&self) -> usize {
        self.heard.lock().map(|h| h.len()).unwrap_or(0)
    }

    /// Wait until `ms` more of audio has been played out (media time).
    pub(crate) async fn play_out(&self, ms: u32) {
        let target = self.heard_len() + (RATE / 1000 * ms) as usize;
        self.until(|h| h.len() >= target, "audio to play out").await;
    }

    /// Wait until `pred` holds for what was heard.
    pub(crate) async fn until(&self, pred: impl Fn(&[i16]) -> bool, what: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let done = self.heard.lock().map(|h| pred(&h)).unwrap_or(false);
            if done {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            // Audio arrives every 20 ms: look again one frame later.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) fn heard(&self) -> Vec<i16> {
        self.heard.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

/// What each 100 ms window of `pcm` holds: one of `tones` (when that
/// frequency carries most of the window's power), silence (None), or
/// something else (0.0: speech, music, a mix).
pub(crate) fn windows(pcm: &[i16], rate: u32, tones: &[f32]) -> Vec<Option<f32>> {
    pcm.chunks((rate / 10) as usize)
        .map(|w| {
            let rms = analysis::rms(w);
            if rms < 0.01 {
                return None;
            }
            let total = rms * rms;
            Some(
                tones
                    .iter()
                    .copied()
                    .find(|hz| analysis::goertzel(w, rate, *hz) > 0.6 * total)
                    .unwrap_or(0.0),
            )
        })
        .collect()
}

/// Consecutive duplicates removed.
pub(crate) fn runs(v: &[Option<f32>]) -> Vec<Option<f32>> {
    let mut out: Vec<Option<f32>> = Vec::new();
    for x in v {
        if out.last() != Some(x) {
            out.push(*x);
        }
    }
    out
}

pub(crate) fn is_subsequence(needle: &[Option<f32>], hay: &[Option<f32>]) -> bool {
    let mut it = hay.iter();
    needle.iter().all(|n| it.any(|h| h == n))
}

pub(crate) fn has_tone(pcm: &[i16], hz: f32, tones: &[f32]) -> bool {
    windows(pcm, RATE, tones).contains(&Some(hz))
}

/// The recording: (left = customer, right = what the customer heard).
fn read_recording(path: &str) -> (Vec<i16>, Vec<i16>) {
    let mut r = hound::WavReader::open(path).expect("recording opens");
    let spec = r.spec();
    assert_eq!((spec.channels, spec.sample_rate), (2, 16_000));
    let all: Vec<i16> = r.samples::<i16>().map(|s| s.expect("sample")).collect();
    let left = all.iter().step_by(2).copied().collect();
    let right = all.iter().skip(1).step_by(2).copied().collect();
    (left, right)
}

/// The session's recording, once the bridge has finished it: (left, right).
pub(crate) async fn finished_recording(s: &TestServer, sid: &str) -> (Vec<i16>, Vec<i16>) {
    let rec = s.records().get(sid).expect("db").expect("record");
    let path = rec.recording.expect("a recording in the record");
    assert!(path.ends_with(&format!("{sid}.wav")), "{path}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        // hound reads the length from the header written when the file is finished.
        let ready = hound::WavReader::open(&path)
            .map(|r| r.duration() > 0)
            .unwrap_or(false);
        if ready {
            return read_recording(&path);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "recording not finished"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const TONES: [f32; 5] = [440.0, 700.0, 1200.0, 1500.0, 900.0];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trunk_and_agent_hear_each_other_with_mute_hold_and_dtmf() {
    let s = TestServer::start().await;
    let (sid, alice, mut trunk) = talking(&s, "alice").await;
    // alice says 700 Hz the whole call.
    let voice = analysis::tone(RATE, &[700.0], 30_000, 0.4);
    let audio = SeatAudio::start(&alice, &sid, voice).await;

    // The customer plays 440 Hz, a pause, then 1200 Hz.
    trunk
        .ok(
            "Customer.play",
            json!({"sessionId": sid, "tones": [
                {"hz": [440.0], "ms": 600}, {"hz": [], "ms": 200}, {"hz": [1200.0], "ms": 600}
            ]}),
        )
        .await;
    audio
        .until(|h| has_tone(h, 1200.0, &TONES), "1200 Hz at the agent")
        .await;
    let heard = runs(&windows(&audio.heard(), RATE, &TONES));
    assert!(
        is_subsequence(&[Some(440.0), None, Some(1200.0)], &heard),
        "the agent heard 440, a pause, 1200 in order: {heard:?}"
    );

    // DTMF in the audio reaches the trunk as digits.
    audio.cmd.send(CallCmd::Digits("4#".into())).expect("audio");
    for want in ["4", "#"] {
        match trunk.wait_for("digits").await {
            Event::Digits {
                session_id,
                dtmf_text,
            } => {
                assert_eq!(
                    (session_id.as_str(), dtmf_text.as_str()),
                    (sid.as_str(), want)
                )
            }
            other => panic!("{other:?}"),
        }
    }

    // Muted: the customer hears nothing of alice (enforced by the server:
    // the terminal keeps sending its tone here).
    alice.ok("Call.muteMic", json!({"sessionId": sid})).await;
    audio.play_out(600).await;
    alice.ok("Call.unmuteMic", json!({"sessionId": sid})).await;
    audio.play_out(400).await;

    // Held: the customer hears hold music, alice hears nothing of the 1500 Hz
    // the customer plays meanwhile; unheld, she hears it again.
    trunk
        .ok(
            "Customer.play",
            json!({"sessionId": sid, "tones": [{"hz": [1500.0], "ms": 3000}]}),
        )
        .await;
    audio
        .until(
            |h| has_tone(&h[h.len().saturating_sub(1600)..], 1500.0, &TONES),
            "1500 Hz",
        )
        .await;
    // A whole 100 ms analysis window of it before the hold too: the first
    // 100 ms heard may straddle two windows.
    audio.play_out(200).await;
    alice.ok("Call.hold", json!({"sessionId": sid})).await;
    audio.play_out(700).await;
    alice.ok("Call.unHold", json!({"sessionId": sid})).await;
    audio
        .until(
            |h| has_tone(&h[h.len().saturating_sub(1600)..], 1500.0, &TONES),
            "1500 Hz after unhold",
        )
        .await;
    // A whole 100 ms analysis window of it, whatever the alignment.
    audio.play_out(300).await;
    let heard = runs(&windows(&audio.heard(), RATE, &TONES));
    assert!(
        is_subsequence(&[Some(1500.0), None, Some(1500.0)], &heard),
        "silence while held: {heard:?}"
    );
    audio.play_out(400).await;

    alice.ok("Call.hungUp", json!({"sessionId": sid})).await;
    audio.cmd.send(CallCmd::Stop).expect("audio");
    trunk.wait_for("sessionEnded").await;

    // The record names the recording; the bridge finishes it shortly after.
    let (left, right) = finished_recording(&s, &sid).await;
    let l = runs(&windows(&left, RATE, &TONES));
    assert!(
        is_subsequence(&[Some(440.0), None, Some(1200.0), None, Some(1500.0)], &l),
        "the customer's side: {l:?}"
    );
    let r = runs(&windows(&right, RATE, &TONES));
    // alice's 700 Hz, silence while muted, 700 again, hold music (not one
    // of the tones), then 700 once more.
    assert!(
        is_subsequence(
            &[Some(700.0), None, Some(700.0), Some(0.0), Some(700.0)],
            &r
        ),
        "what the customer heard: {r:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_calls_carry_audio_between_two_agents() {
    // Not recorded: each agent hears only the other, so the server passes
    // the packets on without decoding them.
    let s = TestServer::with(|c| c.media.record = false).await;
    let alice = s.login("alice").await;
    let mut bob = s.login("bob").await;
    let v = alice
        .ok("Call.startInternalCall", json!({"calleeUserId": "bob"}))
        .await
        .expect("result");
    let sid = v["sessionId"].as_str().expect("sessionId").to_string();
    bob.wait_for("callIn").await;
    bob.ok("Call.accept", json!({"sessionId": sid})).await;
    let a = SeatAudio::start(&alice, &sid, analysis::tone(RATE, &[700.0], 20_000, 0.4)).await;
    let b = SeatAudio::start(&bob, &sid, analysis::tone(RATE, &[1200.0], 20_000, 0.4)).await;
    a.until(|h| has_tone(h, 1200.0, &TONES), "bob's 1200 Hz at alice")
        .await;
    b.until(|h| has_tone(h, 700.0, &TONES), "alice's 700 Hz at bob")
        .await;
    assert!(
        !has_tone(&a.heard(), 700.0, &TONES),
        "alice does not hear herself"
    );
    alice.ok("Call.hungUp", json!({"sessionId": sid})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audio_monitor_hears_both_sides_and_intercept_swaps_the_supervisor_in() {
    let s = TestServer::start().await;
    let (sid, alice, trunk) = talking(&s, "alice").await;
    let sam = s.login("sam").await;
    let a = SeatAudio::start(&alice, &sid, analysis::tone(RATE, &[700.0], 30_000, 0.3)).await;
    // A text-only monitor gets no audio.
    sam.ok("Call.monitor", json!({"sessionId": sid, "textOnly": true}))
        .await;
    let (_, msg) = sam
        .err(
            "Media.offer",
            json!({"sessionId": sid, "sdp": "v=0\r\na=rtpmap:111 opus/48000/2\r\n"}),
        )
        .await;
    assert!(msg.contains("not in the conversation"), "{msg}");
    sam.ok("Supervisor.stopMonitor", json!({"sessionId": sid}))
        .await;
    sam.ok("Call.monitor", json!({"sessionId": sid})).await;
    // sam says 900 Hz, which nobody hears while he only listens.
    let m = SeatAudio::start(&sam, &sid, analysis::tone(RATE, &[900.0], 30_000, 0.3)).await;
    trunk
        .ok(
            "Customer.play",
            json!({"sessionId": sid, "tones": [{"hz": [440.0], "ms": 4000}]}),
        )
        .await;
    m.until(
        |h| {
            let tail = &h[h.len().saturating_sub(1600)..];
            analysis::goertzel(tail, RATE, 440.0) > 0.001
                && analysis::goertzel(tail, RATE, 700.0) > 0.001
        },
        "both sides, mixed, at the monitor",
    )
    .await;
    a.play_out(300).await;
    assert!(
        !has_tone(&a.heard(), 900.0, &TONES),
        "the monitor is not heard"
    );

    // Intercept: sam takes alice's place, and his 900 Hz reaches the customer.
    sam.ok("Call.intercept", json!({"sessionId": sid})).await;
    m.play_out(600).await;
    sam.ok("Call.hungUp", json!({"sessionId": sid})).await;
    let (_, right) = finished_recording(&s, &sid).await;
    let r = runs(&windows(&right, RATE, &TONES));
    assert!(
        is_subsequence(&[Some(700.0), Some(900.0)], &r),
        "alice, then sam, reach the customer: {r:?}"
    );
}

#[tokio::test]
async fn media_offers_are_checked() {
    let s = TestServer::start().await;
    let (sid, alice, trunk) = talking(&s, "alice").await;
    let bob = s.login("bob").await;
    let (_, msg) = alice
        .err("Media.offer", json!({"sessionId": sid, "sdp": "v=0\r\n"}))
        .await;
    assert!(msg.contains("no Opus"), "{msg}");
    // Opus named, but not an SDP the WebRTC stack takes: an answer, not a hang.
    for junk in [
        "v=0\r\na=rtpmap:111 opus/48000/2\r\n",
        "a=rtpmap:111 opus/48000/2\r\nm=audio x y z\r\n\u{0}\u{ff}",
    ] {
        let (_, msg) = alice
            .err("Media.offer", json!({"sessionId": sid, "sdp": junk}))
            .await;
        assert!(msg.starts_with("Media.offer:"), "{msg}");
    }
    let (_, msg) = alice
        .err(
            "Media.offer",
            json!({"sessionId": "nope", "sdp": "v=0\r\n"}),
        )
        .await;
    assert!(msg.contains("does not exist"), "{msg}");
    let (_, msg) = bob
        .err("Media.offer", json!({"sessionId": sid, "sdp": "v=0\r\n"}))
        .await;
    assert!(msg.contains("not in the conversation"), "{msg}");
    let (_, msg) = trunk
        .err("Media.offer", json!({"sessionId": sid, "sdp": "v=0\r\n"}))
        .await;
    assert!(msg.contains("is for agents"), "{msg}");
    let (_, msg) = trunk
        .err("Customer.play", json!({"sessionId": sid, "sound": "nope"}))
        .await;
    assert!(msg.contains("greeting"), "lists the sounds: {msg}");
    let (_, msg) = trunk.err("Customer.play", json!({"sessionId": sid})).await;
    assert!(msg.contains("exactly one"), "{msg}");
    let (_, msg) = trunk
        .err(
            "Customer.play",
            json!({"sessionId": sid, "tones": [{"hz": [20000.0], "ms": 100}]}),
        )
        .await;
    assert!(msg.contains("tones[0].hz"), "{msg}");
    trunk
        .ok(
            "Customer.play",
            json!({"sessionId": sid, "sound": "greeting"}),
        )
        .await;
}

#[tokio::test]
async fn phone_seats_get_no_audio_in_the_terminal() {
    let s = TestServer::with(|c| {
        if let Some(u) = c.users.iter_mut().find(|u| u.id == "alice") {
            u.seat_type = ccdesk::server::config::SeatType::StaffPhoneSeat;
        }
    })
    .await;
    let mut alice = s.login("alice").await;
    let trunk = s.login("pstn").await;
    let sid = phone_call(&trunk, "support").await;
    match alice.wait_for("callIn").await {
        Event::CallIn(c) => assert_eq!(c.server_type.as_deref(), Some("staffPhoneSeat")),
        other => panic!("{other:?}"),
    }
    alice.ok("Call.accept", json!({"sessionId": sid})).await;
    let (_, msg) = alice
        .err(
            "Media.offer",
            json!({"sessionId": sid, "sdp": "a=rtpmap:111 opus/48000/2\r\n"}),
        )
        .await;
    assert!(msg.contains("staffPhoneSeat"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_moves_the_customers_audio_to_the_new_agent() {
    let s = TestServer::start().await;
    let (sid, alice, trunk) = talking(&s, "alice").await;
    let mut bob = s.login("bob").await;
    let a = SeatAudio::start(&alice, &sid, analysis::tone(RATE, &[700.0], 30_000, 0.3)).await;
    trunk
        .ok(
            "Customer.play",
            json!({"sessionId": sid, "tones": [{"hz": [440.0], "ms": 8000}]}),
        )
        .await;
    a.until(|h| has_tone(h, 440.0, &TONES), "the customer at alice")
        .await;
    alice
        .ok("Call.transfer", json!({"sessionId": sid, "userId": "bob"}))
        .await;
    bob.wait_for("callIn").await;
    bob.ok("Call.accept", json!({"sessionId": sid})).await;
    let b = SeatAudio::start(&bob, &sid, analysis::tone(RATE, &[1200.0], 30_000, 0.3)).await;
    b.until(|h| has_tone(h, 440.0, &TONES), "the customer at bob")
        .await;
    // alice's connection was closed: she hears nothing more (whether or not
    // her side has noticed yet).
    let before = a.heard();
    b.play_out(300).await;
    let after = a.heard();
    assert!(
        analysis::rms(&after[before.len()..]) < 0.01,
        "alice hears nothing after the transfer"
    );
    bob.ok("Call.hungUp", json!({"sessionId": sid})).await;
    let (_, right) = finished_recording(&s, &sid).await;
    let r = runs(&windows(&right, RATE, &TONES));
    assert!(
        is_subsequence(&[Some(700.0), Some(1200.0)], &r),
        "alice, then bob, reach the customer: {r:?}"
    );
}
