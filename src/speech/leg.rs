//! A leg's live transcript: voice activity plus recognition, sentence by
//! sentence ([`LegRecognizer`]). `stream` runs legs on worker threads.
//!
//! # Events
//!
//! [`LegRecognizer`] turns a leg's frames into [`AsrEvent`]s, one sentence
//! per voice-activity segment ([`super::vad`]):
//!
//! - slice 0 ([`SLICE_START`]): a sentence began. Sent when the recogniser
//!   first has words for it (its first non-empty partial), not at the
//!   voice onset, so that a noise that turns out to have no words sends
//!   nothing at all. Its `start_ms` is still the onset's time.
//! - slice 1 ([`SLICE_PARTIAL`]): the sentence's text so far, each time it
//!   changes (looked at every [`PARTIAL_EVERY_FRAMES`] frames).
//! - slice 2 ([`SLICE_FINAL`]): the sentence's final text, when the
//!   segment ends.
//!
//! So every sentence that has a 0 ends with a 2, in order, and a segment
//! whose final text is empty (noise, a cough) sends nothing: a 0 without
//! partials goes out just before its 2. Should the final text come back
//! empty after partials were sent (rare), the 2 carries the last partial.
//! Indexes count the sentences sent, from 0, with no gaps. Times are in ms
//! from the stream's start, counting frames: frame *n* covers
//! [20·n, 20·n + 20).
//!

use std::collections::VecDeque;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::asr::{Model, Recognizer};
use super::vad::{Vad, VadConfig, VadEvent};
use super::{SpeechError, FRAME_MS, FRAME_SAMPLES};

/// `slice_type` of a sentence's start.
pub const SLICE_START: u8 = 0;
/// `slice_type` of a sentence's text so far.
pub const SLICE_PARTIAL: u8 = 1;
/// `slice_type` of a sentence's final text.
pub const SLICE_FINAL: u8 = 2;

/// Frames between two looks at the partial text (100 ms).
pub const PARTIAL_EVERY_FRAMES: u32 = 5;

/// One step of a leg's transcript. See the module's documentation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsrEvent {
    /// The sentence's number in the leg, from 0.
    pub index: u32,
    /// [`SLICE_START`], [`SLICE_PARTIAL`] or [`SLICE_FINAL`].
    pub slice_type: u8,
    /// Where the sentence's speech starts, ms from the stream's start.
    pub start_ms: u64,
    /// The end of the audio the text covers (a start: `start_ms`; a
    /// partial: the frames decoded so far; a final: the end of the last
    /// voiced frame).
    pub end_ms: u64,
    /// The words, lowercase; empty for a start.
    pub text: String,
}

/// What a [`LegRecognizer`] needs of a recogniser: [`Recognizer`], or a
/// stand-in in tests.
pub(crate) trait Engine: Send {
    fn start(&mut self) -> Result<(), SpeechError>;
    fn feed(&mut self, pcm: &[i16]) -> Result<(), SpeechError>;
    fn partial(&mut self) -> Option<String>;
    fn finish(&mut self) -> String;
    /// What it has learnt of the line, for the leg's next sentence.
    fn line(&self) -> Option<Vec<f32>> {
        None
    }
    /// Start from a line learnt before.
    fn resume_line(&mut self, _line: &[f32]) {}
}

/// Where a leg gets a recogniser when a sentence starts, and gives it
/// back when the sentence's final is out.
pub(crate) trait Engines: Send {
    /// A recogniser, or `None` while none is free.
    fn take(&mut self) -> Result<Option<Box<dyn Engine>>, SpeechError>;
    fn give(&mut self, engine: Box<dyn Engine>);
}

/// A model's decoders, within its limits: a decoder given back goes back
/// to the model (kept idle, or freed).
struct FromModel(Arc<Model>);

impl Engines for FromModel {
    fn take(&mut self) -> Result<Option<Box<dyn Engine>>, SpeechError> {
        Ok(self
            .0
            .try_recognizer()?
            .map(|r| Box::new(r) as Box<dyn Engine>))
    }
    fn give(&mut self, engine: Box<dyn Engine>) {
        drop(engine);
    }
}

/// One recogniser, kept by the leg between sentences.
#[cfg(test)]
struct One(Option<Box<dyn Engine>>);

#[cfg(test)]
impl Engines for One {
    fn take(&mut self) -> Result<Option<Box<dyn Engine>>, SpeechError> {
        Ok(self.0.take())
    }
    fn give(&mut self, engine: Box<dyn Engine>) {
        self.0 = Some(engine);
    }
}

impl Engine for Recognizer {
    fn start(&mut self) -> Result<(), SpeechError> {
        Recognizer::start(self)
    }
    fn feed(&mut self, pcm: &[i16]) -> Result<(), SpeechError> {
        Recognizer::feed(self, pcm)
    }
    fn partial(&mut self) -> Option<String> {
        Recognizer::partial(self)
    }
    fn finish(&mut self) -> String {
        Recognizer::finish(self)
    }
    fn line(&self) -> Option<Vec<f32>> {
        Recognizer::line(self)
    }
    fn resume_line(&mut self, line: &[f32]) {
        Recognizer::resume_line(self, line)
    }
}

/// The open sentence.
struct Sentence {
    start_ms: u64,
    /// Its 0 has been sent.
    announced: bool,
    last_partial: String,
    frames_since_partial: u32,
    /// Making a recogniser failed: no more tries for this sentence.
    no_engine: bool,
}

/// Voice activity plus a recogniser for one leg, on the caller's thread.
/// [`super::spawn_leg`] runs one on a worker.
///
/// The recogniser is taken when a sentence starts (the voice onset) and
/// given back after its final, so a leg holds a decoder only while its
/// speaker speaks. If none is free at the onset (the model's limit), the
/// sentence's frames wait and the leg tries again at every frame; a
/// sentence that ends before one is free goes untranscribed (counted in
/// [`LegRecognizer::missed`], and logged).
pub struct LegRecognizer {
    vad: Vad,
    engines: Box<dyn Engines>,
    /// The open sentence's recogniser, once it has one.
    engine: Option<Box<dyn Engine>>,
    /// The open sentence's frames while it has no recogniser.
    waiting: Vec<Vec<i16>>,
    /// What the last recogniser learnt of the line.
    line: Option<Vec<f32>>,
    missed: u64,
    /// The last frames, for the next sentence's pre-roll: (index, samples).
    lookback: VecDeque<(u64, Vec<i16>)>,
    lookback_len: usize,
    /// Samples short of a whole frame, waiting for the next push.
    rest: Vec<i16>,
    frames: u64,
    sentence: Option<Sentence>,
    next_index: u32,
    partials: bool,
}

impl std::fmt::Debug for LegRecognizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegRecognizer")
            .field("frames", &self.frames)
            .field("in_sentence", &self.sentence.is_some())
            .field("next_index", &self.next_index)
            .finish_non_exhaustive()
    }
}

impl LegRecognizer {
    /// A leg's recogniser with the default voice-activity settings.
    pub fn new(model: &Arc<Model>) -> Result<LegRecognizer, SpeechError> {
        LegRecognizer::with_vad(model, VadConfig::default())
    }

    /// A leg's recogniser with these voice-activity settings. Its decoders
    /// come from `model`, one per sentence, within the model's limits.
    pub fn with_vad(model: &Arc<Model>, vad: VadConfig) -> Result<LegRecognizer, SpeechError> {
        Ok(LegRecognizer::with_engines(
            Box::new(FromModel(Arc::clone(model))),
            vad,
        ))
    }

    /// A leg with one recogniser of its own, used for every sentence.
    #[cfg(test)]
    pub(crate) fn with_engine(engine: Box<dyn Engine>, vad: VadConfig) -> LegRecognizer {
        LegRecognizer::with_engines(Box::new(One(Some(engine))), vad)
    }

    pub(crate) fn with_engines(engines: Box<dyn Engines>, vad: VadConfig) -> LegRecognizer {
        let vad = Vad::new(vad);
        let lookback_len = vad.lookback_frames();
        LegRecognizer {
            vad,
            engines,
            engine: None,
            waiting: Vec::new(),
            line: None,
            missed: 0,
            lookback: VecDeque::with_capacity(lookback_len),
            lookback_len,
            rest: Vec::new(),
            frames: 0,
            sentence: None,
            next_index: 0,
            partials: true,
        }
    }

    /// Whether partials (slice 1) are computed; on by default. Turning them
    /// off saves the recogniser's look at its best guess every 100 ms; a
    /// sentence then sends its 0 just before its 2.
    pub fn set_partials(&mut self, on: bool) {
        self.partials = on;
    }

    /// Time decoded so far, ms from the stream's start.
    pub fn now_ms(&self) -> u64 {
        self.frames * FRAME_MS
    }

    /// Whether a sentence is open.
    pub fn in_sentence(&self) -> bool {
        self.sentence.is_some()
    }

    /// Sentences that went untranscribed: they ended before a recogniser
    /// was free.
    pub fn missed(&self) -> u64 {
        self.missed
    }

    /// Whether it holds a recogniser now (only while a sentence is open).
    pub fn holds_recogniser(&self) -> bool {
        self.engine.is_some()
    }

    /// The voice-activity segmenter (its floor and last level, for display).
    pub fn vad(&self) -> &Vad {
        &self.vad
    }

    /// Takes audio (16 kHz mono, normally one 20 ms frame of 320 samples;
    /// other lengths are cut into frames, a remainder waits for the next
    /// call) and returns the events it causes.
    pub fn push(&mut self, pcm: &[i16]) -> Vec<AsrEvent> {
        let mut out = Vec::new();
        if self.rest.is_empty() && pcm.len() == FRAME_SAMPLES {
            self.frame(pcm, &mut out);
            return out;
        }
        self.rest.extend_from_slice(pcm);
        let rest = std::mem::take(&mut self.rest);
        let mut chunks = rest.chunks_exact(FRAME_SAMPLES);
        for f in &mut chunks {
            self.frame(f, &mut out);
        }
        self.rest = chunks.remainder().to_vec();
        out
    }

    /// Ends the stream: the open sentence, if any, ends at its last voiced
    /// frame and its final is returned. A remainder shorter than a frame is
    /// dropped.
    pub fn finish(&mut self) -> Vec<AsrEvent> {
        let mut out = Vec::new();
        self.rest.clear();
        if let Some(VadEvent::SpeechEnd { at_ms }) = self.vad.finish() {
            self.close(at_ms, &mut out);
        }
        out
    }

    fn frame(&mut self, f: &[i16], out: &mut Vec<AsrEvent>) {
        let i = self.frames;
        self.frames += 1;
        self.remember(i, f);
        match self.vad.push(f) {
            Some(VadEvent::SpeechStart {
                at_ms,
                audio_from_ms,
            }) => {
                let from = audio_from_ms / FRAME_MS;
                self.waiting = self
                    .lookback
                    .iter()
                    .filter(|(j, _)| *j >= from)
                    .map(|(_, f)| f.clone())
                    .collect();
                self.sentence = Some(Sentence {
                    start_ms: at_ms,
                    announced: false,
                    last_partial: String::new(),
                    frames_since_partial: 0,
                    no_engine: false,
                });
                self.take_engine();
            }
            Some(VadEvent::SpeechEnd { at_ms }) => {
                self.feed(f);
                self.close(at_ms, out);
            }
            None => {
                if self.sentence.is_some() {
                    self.feed(f);
                    self.maybe_partial(out);
                }
            }
        }
    }

    fn feed(&mut self, f: &[i16]) {
        if self.sentence.is_none() {
            return;
        }
        match self.engine.as_mut() {
            Some(engine) => {
                if let Err(e) = engine.feed(f) {
                    tracing::debug!(error = %e, "speech: frame not decoded");
                }
            }
            None => {
                self.waiting.push(f.to_vec());
                self.take_engine();
            }
        }
    }

    /// The open sentence gets a recogniser if one is free: it starts from
    /// the line the leg has learnt and is fed the frames that waited.
    fn take_engine(&mut self) {
        let Some(s) = self.sentence.as_mut() else {
            return;
        };
        if self.engine.is_some() || s.no_engine {
            return;
        }
        let mut engine = match self.engines.take() {
            Ok(Some(e)) => e,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "speech: no recogniser for a sentence; it goes untranscribed");
                s.no_engine = true;
                return;
            }
        };
        if let Some(line) = &self.line {
            engine.resume_line(line);
        }
        if let Err(e) = engine.start() {
            tracing::warn!(error = %e, "speech: cannot start a sentence");
        }
        for f in self.waiting.drain(..) {
            if let Err(e) = engine.feed(&f) {
                tracing::debug!(error = %e, "speech: frame not decoded");
            }
        }
        self.engine = Some(engine);
    }

    /// Keeps the frame for a later pre-roll, reusing the oldest buffer.
    fn remember(&mut self, i: u64, f: &[i16]) {
        let mut buf = if self.lookback.len() >= self.lookback_len {
            self.lookback
                .pop_front()
                .map(|(_, b)| b)
                .unwrap_or_default()
        } else {
            Vec::with_capacity(FRAME_SAMPLES)
        };
        buf.clear();
        buf.extend_from_slice(f);
        self.lookback.push_back((i, buf));
    }

    fn maybe_partial(&mut self, out: &mut Vec<AsrEvent>) {
        let now = self.now_ms();
        let Some(s) = self.sentence.as_mut() else {
            return;
        };
        s.frames_since_partial += 1;
        if !self.partials || s.frames_since_partial < PARTIAL_EVERY_FRAMES {
            return;
        }
        s.frames_since_partial = 0;
        let Some(text) = self.engine.as_mut().and_then(|e| e.partial()) else {
            return;
        };
        if text == s.last_partial {
            return;
        }
        if !s.announced {
            s.announced = true;
            out.push(Self::start_event(self.next_index, s.start_ms));
        }
        out.push(AsrEvent {
            index: self.next_index,
            slice_type: SLICE_PARTIAL,
            start_ms: s.start_ms,
            end_ms: now.max(s.start_ms),
            text: text.clone(),
        });
        s.last_partial = text;
    }

    /// Sentence `index`'s 0 (no text yet).
    fn start_event(index: u32, start_ms: u64) -> AsrEvent {
        AsrEvent {
            index,
            slice_type: SLICE_START,
            start_ms,
            end_ms: start_ms,
            text: String::new(),
        }
    }

    fn close(&mut self, end_ms: u64, out: &mut Vec<AsrEvent>) {
        let Some(s) = self.sentence.take() else {
            return;
        };
        let mut text = match self.engine.take() {
            Some(mut engine) => {
                let text = engine.finish();
                if let Some(line) = engine.line() {
                    self.line = Some(line);
                }
                self.engines.give(engine);
                text
            }
            None => {
                self.missed += 1;
                tracing::warn!(
                    ms = end_ms.saturating_sub(s.start_ms),
                    "speech: every recogniser was busy for a whole sentence; it goes untranscribed ([speech] max_decoders)"
                );
                self.waiting.clear();
                String::new()
            }
        };
        if text.is_empty() {
            if !s.announced {
                return;
            }
            text = s.last_partial;
        }
        if !s.announced {
            out.push(Self::start_event(self.next_index, s.start_ms));
        }
        out.push(AsrEvent {
            index: self.next_index,
            slice_type: SLICE_FINAL,
            start_ms: s.start_ms,
            end_ms: end_ms.max(s.start_ms),
            text,
        });
        self.next_index += 1;
    }
}

/// Stand-ins for tests here and in `stream`.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A recogniser that "hears" one word per 10 voiced frames fed: "w1",
    /// "w1 w2", …; and nothing for a sentence shorter than 10 frames.
    #[derive(Default)]
    pub(crate) struct Counting {
        pub(crate) fed: usize,
        pub(crate) started: usize,
    }

    impl Engine for Counting {
        fn start(&mut self) -> Result<(), SpeechError> {
            self.fed = 0;
            self.started += 1;
            Ok(())
        }
        fn feed(&mut self, pcm: &[i16]) -> Result<(), SpeechError> {
            if crate::speech::vad::frame_db(pcm) > -40.0 {
                self.fed += 1;
            }
            Ok(())
        }
        fn partial(&mut self) -> Option<String> {
            let n = self.fed / 10;
            (n > 0).then(|| words(n))
        }
        fn finish(&mut self) -> String {
            words(self.fed / 10)
        }
    }

    pub(crate) fn words(n: usize) -> String {
        (1..=n)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub(crate) fn loud() -> Vec<i16> {
        (0..FRAME_SAMPLES)
            .map(|i| if i % 20 < 10 { 8000 } else { -8000 })
            .collect()
    }

    pub(crate) fn quiet() -> Vec<i16> {
        vec![0; FRAME_SAMPLES]
    }

    /// 1 s silence, then for each `n`: `n` loud frames and 1 s of silence.
    pub(crate) fn script(bursts: &[usize]) -> Vec<Vec<i16>> {
        let mut f = vec![quiet(); 50];
        for &n in bursts {
            f.extend(std::iter::repeat_n(loud(), n));
            f.extend(std::iter::repeat_n(quiet(), 50));
        }
        f
    }

    pub(crate) fn leg() -> LegRecognizer {
        LegRecognizer::with_engine(Box::<Counting>::default(), VadConfig::default())
    }

    /// Checks the event grammar: per sentence 0, 1*, 2; indexes from 0 in
    /// order; times sane. Returns the finals.
    pub(crate) fn check(events: &[AsrEvent]) -> Vec<AsrEvent> {
        let mut finals = Vec::new();
        let mut open: Option<&AsrEvent> = None;
        let mut next = 0;
        let mut last_end = 0;
        for e in events {
            match e.slice_type {
                SLICE_START => {
                    assert!(open.is_none(), "0 inside a sentence: {events:?}");
                    assert_eq!(e.index, next, "{events:?}");
                    assert!(e.start_ms >= last_end, "{events:?}");
                    assert!(e.text.is_empty());
                    open = Some(e);
                }
                SLICE_PARTIAL | SLICE_FINAL => {
                    let s = open.expect("1 or 2 without a 0");
                    assert_eq!(e.index, s.index);
                    assert_eq!(e.start_ms, s.start_ms);
                    assert!(e.end_ms > e.start_ms, "{e:?}");
                    assert!(!e.text.is_empty());
                    if e.slice_type == SLICE_FINAL {
                        open = None;
                        next += 1;
                        last_end = e.end_ms;
                        finals.push(e.clone());
                    }
                }
                t => panic!("slice type {t}"),
            }
        }
        assert!(open.is_none(), "sentence without a 2: {events:?}");
        finals
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use std::sync::Mutex;

    /// Recognisers shared by several legs, as a model's limited pool is.
    #[derive(Clone, Default)]
    struct Stock(Arc<Mutex<Vec<Box<dyn Engine>>>>);

    impl Stock {
        fn of(n: usize) -> Stock {
            let s = Stock::default();
            for _ in 0..n {
                s.0.lock().unwrap().push(Box::<Counting>::default());
            }
            s
        }
        fn free(&self) -> usize {
            self.0.lock().unwrap().len()
        }
        fn leg(&self) -> LegRecognizer {
            LegRecognizer::with_engines(Box::new(self.clone()), VadConfig::default())
        }
    }

    impl Engines for Stock {
        fn take(&mut self) -> Result<Option<Box<dyn Engine>>, SpeechError> {
            Ok(self.0.lock().unwrap().pop())
        }
        fn give(&mut self, engine: Box<dyn Engine>) {
            self.0.lock().unwrap().push(engine);
        }
    }

    /// `quiet` frames of silence, `n` loud, then a second of silence.
    fn burst_at(quiet_frames: usize, n: usize) -> Vec<Vec<i16>> {
        let mut f = vec![quiet(); quiet_frames];
        f.extend(std::iter::repeat_n(loud(), n));
        f.extend(std::iter::repeat_n(quiet(), 50));
        f
    }

    fn texts(events: &[AsrEvent]) -> Vec<String> {
        check(events).into_iter().map(|e| e.text).collect()
    }

    #[test]
    fn a_recogniser_is_held_only_while_a_sentence_is_open() {
        let stock = Stock::of(1);
        let mut l = stock.leg();
        let mut ev = Vec::new();
        let mut held_frames = 0;
        for f in script(&[40, 25]) {
            ev.extend(l.push(&f));
            if l.holds_recogniser() {
                held_frames += 1;
                assert_eq!(stock.free(), 0);
            } else {
                assert_eq!(stock.free(), 1, "given back after each final");
            }
        }
        ev.extend(l.finish());
        assert_eq!(texts(&ev), ["w1 w2 w3 w4", "w1 w2"]);
        // The bursts and their hangovers, not the 1 s silences around them.
        assert!((65..100).contains(&held_frames), "{held_frames}");
        assert_eq!(l.missed(), 0);
    }

    #[test]
    fn a_sentence_that_must_wait_for_a_recogniser_loses_nothing() {
        // One recogniser, two legs: b starts speaking while a holds it and
        // goes on after a's final; b's frames wait, then are all decoded.
        let stock = Stock::of(1);
        let (mut a, mut b) = (stock.leg(), stock.leg());
        let fa = burst_at(50, 40);
        let fb = burst_at(70, 80);
        let (mut ea, mut eb) = (Vec::new(), Vec::new());
        let mut b_waited = false;
        for i in 0..fa.len().max(fb.len()) {
            if let Some(f) = fa.get(i) {
                ea.extend(a.push(f));
            }
            if let Some(f) = fb.get(i) {
                eb.extend(b.push(f));
                b_waited |= b.in_sentence() && !b.holds_recogniser();
            }
        }
        ea.extend(a.finish());
        eb.extend(b.finish());
        assert!(b_waited, "b had to wait");
        // As if each had had a recogniser of its own.
        let mut alone = leg();
        let mut e_alone = Vec::new();
        for f in &fb {
            e_alone.extend(alone.push(f));
        }
        e_alone.extend(alone.finish());
        assert_eq!(texts(&ea), ["w1 w2 w3 w4"]);
        assert_eq!(texts(&eb), texts(&e_alone));
        assert_eq!(check(&eb)[0].start_ms, check(&e_alone)[0].start_ms);
        assert_eq!(stock.free(), 1);
    }

    #[test]
    fn a_sentence_over_before_a_recogniser_is_free_is_counted_as_missed() {
        let stock = Stock::of(1);
        let (mut a, mut b) = (stock.leg(), stock.leg());
        let fa = burst_at(50, 100);
        let fb = burst_at(70, 30); // over while a still speaks
        let mut eb = Vec::new();
        for i in 0..fa.len().max(fb.len()) {
            if let Some(f) = fa.get(i) {
                a.push(f);
            }
            if let Some(f) = fb.get(i) {
                eb.extend(b.push(f));
            }
        }
        eb.extend(b.finish());
        assert!(eb.is_empty(), "{eb:?}");
        assert_eq!(b.missed(), 1);
        assert_eq!(a.missed(), 0);
    }

    /// Learns one step of "line" per sentence; remembers where it started.
    #[derive(Default)]
    struct Liner {
        line: f32,
        resumed: Arc<Mutex<Vec<f32>>>,
        inner: Counting,
    }

    impl Engine for Liner {
        fn start(&mut self) -> Result<(), SpeechError> {
            self.inner.start()
        }
        fn feed(&mut self, pcm: &[i16]) -> Result<(), SpeechError> {
            self.inner.feed(pcm)
        }
        fn partial(&mut self) -> Option<String> {
            self.inner.partial()
        }
        fn finish(&mut self) -> String {
            self.line += 1.0;
            self.inner.finish()
        }
        fn line(&self) -> Option<Vec<f32>> {
            Some(vec![self.line])
        }
        fn resume_line(&mut self, line: &[f32]) {
            self.line = line[0];
            self.resumed.lock().unwrap().push(line[0]);
        }
    }

    #[test]
    fn the_line_learnt_in_one_sentence_starts_the_next() {
        // Fresh recognisers each sentence, as from a model's pool.
        struct Fresh(Arc<Mutex<Vec<f32>>>);
        impl Engines for Fresh {
            fn take(&mut self) -> Result<Option<Box<dyn Engine>>, SpeechError> {
                Ok(Some(Box::new(Liner {
                    resumed: self.0.clone(),
                    ..Liner::default()
                })))
            }
            fn give(&mut self, _: Box<dyn Engine>) {}
        }
        let resumed = Arc::new(Mutex::new(Vec::new()));
        let mut l =
            LegRecognizer::with_engines(Box::new(Fresh(resumed.clone())), VadConfig::default());
        let mut ev = Vec::new();
        for f in script(&[30, 30, 30]) {
            ev.extend(l.push(&f));
        }
        assert_eq!(texts(&ev).len(), 3);
        // The first starts from the model's line, each next from the last.
        assert_eq!(*resumed.lock().unwrap(), vec![1.0, 2.0]);
    }

    #[test]
    fn sentences_give_start_partials_final_in_order() {
        let mut l = leg();
        let mut ev = Vec::new();
        for f in script(&[40, 25, 60]) {
            ev.extend(l.push(&f));
        }
        ev.extend(l.finish());
        let finals = check(&ev);
        let texts: Vec<&str> = finals.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["w1 w2 w3 w4", "w1 w2", "w1 w2 w3 w4 w5 w6"]);
        // Exact times: the first burst is frames 50..90.
        assert_eq!((finals[0].start_ms, finals[0].end_ms), (1000, 1800));
        let partials = ev.iter().filter(|e| e.slice_type == SLICE_PARTIAL).count();
        assert!(partials >= 6, "{ev:?}");
        // Partials only when the text changes.
        for w in ev.windows(2) {
            if w[0].slice_type == SLICE_PARTIAL && w[1].slice_type == SLICE_PARTIAL {
                assert_ne!(w[0].text, w[1].text);
            }
        }
    }

    #[test]
    fn a_wordless_segment_sends_nothing_and_takes_no_index() {
        let mut l = leg();
        let mut ev = Vec::new();
        // 6 loud frames: a segment, but no word.
        for f in script(&[6, 30]) {
            ev.extend(l.push(&f));
        }
        let finals = check(&ev);
        assert_eq!(finals.len(), 1);
        assert_eq!(finals[0].index, 0);
        assert_eq!(finals[0].text, "w1 w2 w3");
    }

    #[test]
    fn without_partials_the_start_comes_with_the_final() {
        let mut l = leg();
        l.set_partials(false);
        let mut ev = Vec::new();
        for f in script(&[40]) {
            ev.extend(l.push(&f));
        }
        assert_eq!(
            ev.iter().map(|e| e.slice_type).collect::<Vec<_>>(),
            [SLICE_START, SLICE_FINAL]
        );
        check(&ev);
    }

    #[test]
    fn odd_sized_pushes_are_cut_into_frames() {
        let all: Vec<i16> = script(&[40, 30]).concat();
        let mut a = leg();
        let mut ea = Vec::new();
        for c in all.chunks(333) {
            ea.extend(a.push(c));
        }
        let mut b = leg();
        let mut eb = Vec::new();
        for c in all.chunks(FRAME_SAMPLES) {
            eb.extend(b.push(c));
        }
        assert_eq!(ea, eb);
        assert_eq!(a.now_ms(), b.now_ms());
    }

    #[test]
    fn finish_closes_the_open_sentence() {
        let mut l = leg();
        let mut ev = Vec::new();
        for f in script(&[]) {
            ev.extend(l.push(&f));
        }
        for _ in 0..30 {
            ev.extend(l.push(&loud()));
        }
        assert!(l.in_sentence());
        ev.extend(l.finish());
        let finals = check(&ev);
        assert_eq!(finals.len(), 1);
        assert_eq!(finals[0].end_ms, 1600);
    }
}
