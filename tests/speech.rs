//! Speech end to end: flite says known sentences, pocketsphinx hears them
//! through the voice-activity segmenter, frame by frame as the media
//! bridge will feed them.
//!
//! These tests need flite and pocketsphinx with its US English model
//! (`scripts/setup.sh` installs them). They fail, loudly, where either is
//! missing: a silent skip would hide a broken setup.

use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ccdesk::speech::leg::{SLICE_FINAL, SLICE_PARTIAL, SLICE_START};
use ccdesk::speech::vad::frame_db;
use ccdesk::speech::{
    spawn_leg, word_errors, AsrEvent, AsrPool, LegRecognizer, Model, ModelConfig, SpeechError, Tts,
    Voice, FRAME_SAMPLES,
};

/// What a caller might say to a contact center.
const SENTENCES: [&str; 6] = [
    "I would like to check the balance of my account please",
    "my card was stolen yesterday and I need a new one",
    "can you tell me when my order will arrive",
    "I want to speak to someone about my bill",
    "the internet connection at my house is not working",
    "please cancel my subscription at the end of the month",
];

const MISSING: &str = "speech tests need flite and pocketsphinx: run scripts/setup.sh";

fn model() -> Arc<Model> {
    static MODEL: OnceLock<Arc<Model>> = OnceLock::new();
    MODEL
        .get_or_init(|| match Model::load(ModelConfig::default()) {
            Ok(m) => m,
            Err(e) => panic!("{MISSING}: {e}"),
        })
        .clone()
}

fn tts() -> Tts {
    match Tts::probe() {
        Ok(t) => t,
        Err(e) => panic!("{MISSING}: {e}"),
    }
}

/// Deterministic low noise (about -65 dBFS), as on a quiet line: flite's
/// own silence is digital zero, which no call has.
struct Line(u64);

impl Line {
    fn noise(&mut self) -> i16 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 40) % 33) as i16 - 16
    }

    fn silence(&mut self, ms: usize, out: &mut Vec<i16>) {
        for _ in 0..ms * 16 {
            out.push(self.noise());
        }
    }
}

/// A stream of the sentences said with `voice`, a second apart, and where
/// each one's speech is (first and last frame louder than -50 dBFS), in ms.
fn conversation(tts: &Tts, voice: Voice) -> (Vec<i16>, Vec<(u64, u64)>) {
    let mut line = Line(0x9e37_79b9_7f4a_7c15);
    let mut pcm = Vec::new();
    let mut spans = Vec::new();
    line.silence(500, &mut pcm);
    for s in SENTENCES {
        let said = tts
            .synthesize(s, voice)
            .unwrap_or_else(|e| panic!("flite {voice}: {e}"));
        assert!(
            said.len() > 16_000,
            "{voice} said {s:?} in {} samples",
            said.len()
        );
        // Align to a frame so the spans are exact in frames.
        while !pcm.len().is_multiple_of(FRAME_SAMPLES) {
            pcm.push(line.noise());
        }
        let at = (pcm.len() / FRAME_SAMPLES) as u64;
        let loud: Vec<u64> = said
            .chunks(FRAME_SAMPLES)
            .enumerate()
            .filter(|(_, f)| frame_db(f) > -50.0)
            .map(|(i, _)| i as u64)
            .collect();
        let (first, last) = (loud[0], loud[loud.len() - 1]);
        spans.push(((at + first) * 20, (at + last + 1) * 20));
        pcm.extend(said.iter().map(|&x| x.saturating_add(line.noise())));
        line.silence(1000, &mut pcm);
    }
    (pcm, spans)
}

/// Checks the event grammar — per sentence 0, then 1s, then 2; indexes
/// from 0 with no gap; times inside the stream and increasing — and
/// returns the finals.
fn finals(events: &[AsrEvent], stream_ms: u64) -> Vec<AsrEvent> {
    let mut out = Vec::new();
    let mut open: Option<&AsrEvent> = None;
    for e in events {
        assert!(e.start_ms <= e.end_ms && e.end_ms <= stream_ms, "{e:?}");
        match e.slice_type {
            SLICE_START => {
                assert!(open.is_none(), "a 0 inside a sentence: {e:?}");
                assert_eq!(e.index as usize, out.len(), "{e:?}");
                if let Some(prev) = out.last() {
                    let prev: &AsrEvent = prev;
                    assert!(e.start_ms >= prev.end_ms, "{prev:?} then {e:?}");
                }
                open = Some(e);
            }
            SLICE_PARTIAL | SLICE_FINAL => {
                let s = open.unwrap_or_else(|| panic!("no 0 before {e:?}"));
                assert_eq!((e.index, e.start_ms), (s.index, s.start_ms), "{e:?}");
                assert!(!e.text.is_empty(), "{e:?}");
                if e.slice_type == SLICE_FINAL {
                    open = None;
                    out.push(e.clone());
                }
            }
            t => panic!("slice type {t}: {e:?}"),
        }
    }
    assert!(open.is_none(), "a sentence with no 2: {events:?}");
    out
}

/// Word error rate of the finals against [`SENTENCES`], after checking
/// there is one final per sentence, in place.
fn score(voice: Voice, finals: &[AsrEvent], spans: &[(u64, u64)]) -> f64 {
    let texts: Vec<&str> = finals.iter().map(|e| e.text.as_str()).collect();
    assert_eq!(finals.len(), SENTENCES.len(), "{voice}: {texts:#?}");
    let (mut errors, mut words) = (0, 0);
    for ((said, heard), (from, to)) in SENTENCES.iter().zip(finals).zip(spans) {
        let (e, n) = word_errors(said, &heard.text);
        errors += e;
        words += n;
        eprintln!("{voice}: {said:?} -> {:?} ({e} errors)", heard.text);
        // The segment is the sentence: within 300 ms at either end.
        assert!(
            heard.start_ms.abs_diff(*from) <= 300 && heard.end_ms.abs_diff(*to) <= 300,
            "{voice}: {heard:?} for speech at {from}..{to} ms"
        );
    }
    errors as f64 / words as f64
}

/// The sentences with `voice`, through a LegRecognizer on this thread.
fn word_error_rate_inline(voice: Voice) -> f64 {
    let (pcm, spans) = conversation(&tts(), voice);
    let mut leg = LegRecognizer::new(&model()).expect("a recogniser");
    let mut events = Vec::new();
    for f in pcm.chunks(FRAME_SAMPLES) {
        events.extend(leg.push(f));
    }
    events.extend(leg.finish());
    let stream_ms = leg.now_ms();
    let rate = score(voice, &finals(&events, stream_ms), &spans);
    eprintln!("{voice}: WER {:.1} %", rate * 100.0);
    assert!(
        events.iter().any(|e| e.slice_type == SLICE_PARTIAL),
        "no partials at all"
    );
    rate
}

#[test]
fn slt_is_understood() {
    assert!(word_error_rate_inline(Voice::Slt) < 0.25);
}

#[test]
fn kal16_is_understood() {
    assert!(word_error_rate_inline(Voice::Kal16) < 0.25);
}

#[test]
fn rms_is_understood() {
    assert!(word_error_rate_inline(Voice::Rms) < 0.25);
}

#[test]
fn awb_is_understood() {
    assert!(word_error_rate_inline(Voice::Awb) < 0.25);
}

/// Every frame pushed at once, far faster than real time: the worker is
/// behind, skips partials, but decodes every frame, and dropping the handle
/// delivers the last final.
#[test]
fn a_leg_on_the_pool_keeps_every_frame() {
    let (pcm, spans) = conversation(&tts(), Voice::Slt);
    let (tx, rx) = mpsc::channel();
    let leg = spawn_leg(&model(), move |e| {
        let _ = tx.send(e);
    });
    for f in pcm.chunks(FRAME_SAMPLES) {
        leg.push(f);
    }
    assert!(leg.backlog() > 0);
    drop(leg);
    let mut events = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(e) => events.push(e),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("the leg did not end: {events:?}"),
        }
    }
    let stream_ms = (pcm.len() / FRAME_SAMPLES) as u64 * 20;
    let rate = score(Voice::Slt, &finals(&events, stream_ms), &spans);
    assert!(rate < 0.25, "WER {rate}");
}

/// Several legs on a small pool at once, each with its own voice.
#[test]
fn legs_on_a_shared_pool_do_not_mix() {
    let pool = AsrPool::new(2);
    let tts = tts();
    let voices = [Voice::Slt, Voice::Kal16, Voice::Rms];
    let mut legs = Vec::new();
    for v in voices {
        let (pcm, spans) = conversation(&tts, v);
        let (tx, rx) = mpsc::channel();
        let h = pool.spawn_leg(&model(), move |e| {
            let _ = tx.send(e);
        });
        legs.push((v, pcm, spans, h, rx));
    }
    // Interleaved, as the bridge does: one frame of each leg per tick.
    let n = legs.iter().map(|l| l.1.len()).max().unwrap_or(0) / FRAME_SAMPLES;
    for i in 0..n {
        for (_, pcm, _, h, _) in &legs {
            if let Some(f) = pcm.chunks(FRAME_SAMPLES).nth(i) {
                h.push(f);
            }
        }
    }
    for (v, pcm, spans, h, rx) in legs {
        drop(h);
        let events: Vec<AsrEvent> =
            std::iter::from_fn(|| rx.recv_timeout(Duration::from_secs(120)).ok()).collect();
        let stream_ms = (pcm.len() / FRAME_SAMPLES) as u64 * 20;
        let rate = score(v, &finals(&events, stream_ms), &spans);
        assert!(rate < 0.25, "{v}: WER {rate}");
    }
}

#[test]
fn flite_gives_16khz_for_every_voice() {
    let tts = tts();
    for v in Voice::ALL {
        assert!(tts.has(v), "flite lacks {v}: {:?}", tts.voices());
    }
    let slt = tts.synthesize("hello world", Voice::Slt).expect("slt");
    // kal speaks at 8 kHz; resampled, it lasts about as long as slt.
    let kal = tts.synthesize("hello world", Voice::Kal).expect("kal");
    for (v, pcm) in [("slt", &slt), ("kal", &kal)] {
        let secs = pcm.len() as f64 / 16_000.0;
        assert!((0.5..2.5).contains(&secs), "{v}: {secs} s");
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let again = rt
        .block_on(tts.synthesize_async("hello world", Voice::Slt))
        .expect("async");
    assert_eq!(again, slt, "flite is deterministic");
}

#[test]
fn a_missing_model_directory_is_unavailable() {
    // The library is there (the other tests need it); the model is not.
    match Model::load(ModelConfig::in_dir("/nonexistent/model")) {
        Err(SpeechError::Unavailable(m)) => assert!(m.contains("/nonexistent/model"), "{m}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

/// A decoder handed from one leg to the next is reset: the same audio
/// gives the same transcript on a reused decoder as on a new one, even
/// after a leg in a very different voice (kal, 8 kHz).
#[test]
fn a_reused_decoder_starts_afresh() {
    let model = Model::load(ModelConfig::default()).expect(MISSING);
    let tts = tts();
    let (slt, _) = conversation(&tts, Voice::Slt);
    let (kal, _) = conversation(&tts, Voice::Kal);
    let transcript = |pcm: &[i16]| -> Vec<String> {
        let mut leg = LegRecognizer::new(&model).expect("a recogniser");
        let mut events = Vec::new();
        for f in pcm.chunks(FRAME_SAMPLES) {
            events.extend(leg.push(f));
        }
        events.extend(leg.finish());
        events
            .into_iter()
            .filter(|e| e.slice_type == SLICE_FINAL)
            .map(|e| e.text)
            .collect()
    };
    assert_eq!(model.idle_decoders(), 1);
    let fresh = transcript(&slt);
    transcript(&kal);
    assert_eq!(model.idle_decoders(), 1, "one decoder, reused");
    assert_eq!(transcript(&slt), fresh);
}

/// Opening the model makes no decoder; decoders are made when asked for,
/// up to the limit, and freed when given back beyond those kept idle.
#[test]
fn decoders_are_made_on_demand_within_the_limit() {
    use ccdesk::speech::asr::DecoderLimits;
    let model = Model::open(
        ModelConfig::default(),
        DecoderLimits {
            max: 1,
            keep_idle: 0,
        },
    )
    .expect(MISSING);
    assert_eq!(model.live_decoders(), 0, "opening makes none");
    let first = model
        .try_recognizer()
        .expect("pocketsphinx takes the model")
        .expect("one may be made");
    assert_eq!(model.live_decoders(), 1);
    assert!(
        model.try_recognizer().expect("no error").is_none(),
        "a second is beyond the limit"
    );
    drop(first);
    assert_eq!(
        (model.live_decoders(), model.idle_decoders()),
        (0, 0),
        "freed"
    );
    // A leg takes one only while its speaker speaks.
    let tts = tts();
    let (pcm, _) = conversation(&tts, Voice::Slt);
    let mut leg = LegRecognizer::new(&model).expect("a leg");
    let mut finals = 0;
    let mut held = false;
    for f in pcm.chunks(FRAME_SAMPLES) {
        finals += leg
            .push(f)
            .iter()
            .filter(|e| e.slice_type == SLICE_FINAL)
            .count();
        held |= model.live_decoders() == 1;
    }
    finals += leg
        .finish()
        .iter()
        .filter(|e| e.slice_type == SLICE_FINAL)
        .count();
    assert!(held && finals >= 2, "held {held}, {finals} finals");
    assert_eq!(model.live_decoders(), 0, "given back after the last final");
}
