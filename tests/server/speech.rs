//! Speech through the real media path: the trunk's customer says known
//! sentences (flite, in the call's audio), the server recognises them
//! (pocketsphinx) and the agent gets `asr` finals; then the agent speaks
//! (flite audio sent over WebRTC, as the terminal sends its microphone) and
//! the customer's side gets `asr` with flow OUT. Word error rates are
//! checked against the sentences.
//!
//! These tests need flite and pocketsphinx-en-us (`scripts/setup.sh`
//! installs them) and fail where they are missing.

use std::time::Duration;

use ccdesk::protocol::{Event, Flow};
use ccdesk::speech::{wer, Tts, Voice};
use serde_json::json;

use super::harness::*;
use super::media::SeatAudio;

/// Sentences a caller says, recognised well by the stock model with the
/// flite voices the server picks.
const CUSTOMER: [&str; 3] = [
    "my card was stolen yesterday and I need a new one",
    "can you tell me when my order will arrive",
    "please cancel my subscription at the end of the month",
];

const AGENT: [&str; 2] = [
    "I would like to check the balance of my account please",
    "I want to speak to someone about my bill",
];

async fn with_speech() -> TestServer {
    TestServer::with(|c| {
        c.speech.recognition = true;
        c.speech.synthesis = true;
    })
    .await
}

/// The finals of `flow` that `client` receives until it has `n` of them,
/// checking every sentence opens with 0 and its slices come in order.
async fn finals(
    client: &mut Client,
    sid: &str,
    flow: Flow,
    n: usize,
) -> Vec<(u32, u64, u64, String)> {
    let mut out = Vec::new();
    let mut open: Option<u32> = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while out.len() < n {
        let ev = tokio::time::timeout_at(deadline, client.wait_for("asr"))
            .await
            .unwrap_or_else(|_| panic!("{n} finals of {flow:?}; got {out:?}"));
        let Event::Asr {
            session_id,
            flow: f,
            result,
        } = ev
        else {
            continue;
        };
        if session_id != sid || f != flow {
            continue;
        }
        match result.slice_type {
            0 => {
                assert_eq!(open, None, "a sentence starts while {open:?} is open");
                open = Some(result.index);
            }
            1 => assert_eq!(open, Some(result.index), "a partial of an open sentence"),
            2 => {
                assert_eq!(open, Some(result.index), "a final closes its sentence");
                assert!(result.end_time > result.start_time, "{result:?}");
                open = None;
                out.push((
                    result.index,
                    result.start_time,
                    result.end_time,
                    result.text,
                ));
            }
            t => panic!("sliceType {t}"),
        }
    }
    out
}

fn total_wer(said: &[&str], heard: &[(u32, u64, u64, String)]) -> f64 {
    let reference = said.join(" ");
    let hypothesis: Vec<&str> = heard.iter().map(|h| h.3.as_str()).collect();
    wer(&reference, &hypothesis.join(" "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_customer_says_is_spoken_and_recognised() {
    let s = with_speech().await;
    let (sid, mut alice, trunk) = talking(&s, "alice").await;
    let audio = SeatAudio::start(&alice, &sid, Vec::new()).await;
    for text in CUSTOMER {
        trunk
            .ok("Customer.say", json!({"sessionId": sid, "text": text}))
            .await;
    }
    let heard = finals(&mut alice, &sid, Flow::In, CUSTOMER.len()).await;
    let rate = total_wer(&CUSTOMER, &heard);
    let voice = Tts::probe()
        .map(|t| t.voice_for_profile("+15551234567"))
        .map_or("?", |v| v.name());
    eprintln!("customer ({voice}) through the call: word error rate {rate:.3}: {heard:?}");
    assert!(rate < 0.25, "word error rate {rate:.2}: {heard:?}");
    // Indexes count up; times move forward from the session's start.
    let idx: Vec<u32> = heard.iter().map(|h| h.0).collect();
    assert_eq!(idx, [0, 1, 2]);
    assert!(heard.windows(2).all(|w| w[1].1 >= w[0].2), "{heard:?}");
    // The agent really heard the voice: well above silence.
    audio.play_out(200).await;
    let loud = audio_level(&audio);
    assert!(loud > -40.0, "the agent heard speech: {loud:.1} dBFS");

    // The record keeps the finals.
    alice.ok("Call.hungUp", json!({"sessionId": sid})).await;
    let rec = s.records().get(&sid).expect("db").expect("record");
    let texts: Vec<&str> = rec.transcript.iter().map(|l| l.text.as_str()).collect();
    let kept: Vec<&str> = heard.iter().map(|h| h.3.as_str()).collect();
    assert_eq!(texts, kept);
    assert!(rec.transcript.iter().all(|l| l.flow == Flow::In));
}

/// The loudest 100 ms of what the seat heard, in dBFS.
fn audio_level(audio: &SeatAudio) -> f32 {
    audio
        .heard()
        .chunks(1600)
        .map(ccdesk::media::analysis::dbfs)
        .fold(f32::NEG_INFINITY, f32::max)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_agent_says_is_recognised_as_out() {
    let s = with_speech().await;
    let (sid, mut alice, _trunk) = talking(&s, "alice").await;
    // The agent's microphone: the sentences (slt), with pauses between.
    let tts = Tts::probe().expect("flite (scripts/setup.sh installs it)");
    let mut mic = vec![0i16; 16_000 / 2];
    for text in AGENT {
        mic.extend(tts.synthesize(text, Voice::Kal16).expect("synthesis"));
        mic.extend(vec![0i16; 16_000]);
    }
    let _audio = SeatAudio::start(&alice, &sid, mic).await;
    // The agent's own words come back as flow OUT, as in the SDK.
    let heard = finals(&mut alice, &sid, Flow::Out, AGENT.len()).await;
    let rate = total_wer(&AGENT, &heard);
    eprintln!("agent (kal16) over WebRTC: word error rate {rate:.3}: {heard:?}");
    assert!(rate < 0.25, "word error rate {rate:.2}: {heard:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_audio_the_words_go_out_as_text_and_a_bad_voice_is_refused() {
    let s = with_speech().await;
    let (sid, mut alice, trunk) = talking(&s, "alice").await;
    // No Media.offer: the session has no audio, so the text path speaks.
    trunk
        .ok(
            "Customer.say",
            json!({"sessionId": sid, "text": "hello there"}),
        )
        .await;
    let heard = finals(&mut alice, &sid, Flow::In, 1).await;
    assert_eq!(heard[0].3, "hello there");
    let (code, msg) = trunk
        .err(
            "Customer.say",
            json!({"sessionId": sid, "text": "hi", "voice": "robot"}),
        )
        .await;
    assert_eq!(code, ccdesk::protocol::ErrorCode::BadRequest);
    assert!(msg.contains("voice") && msg.contains("slt"), "{msg}");
}
