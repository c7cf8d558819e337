//! Voice activity: cuts a leg's audio into sentences.
//!
//! Pure and deterministic: the same frames give the same events. It works
//! on 20 ms frames at 16 kHz and decides on each frame's energy against an
//! adaptive noise floor:
//!
//! - **Energy**: the frame's mean square in dB relative to full scale
//!   (dBFS; a full-scale square wave is 0 dB, silence is clamped at
//!   -100 dB).
//! - **Noise floor**: the lowest frame energy of the last
//!   [`VadConfig::floor_window_ms`] (kept as the minima of half-second
//!   blocks). Speech has gaps between syllables, so the minimum follows the
//!   line's noise and not the voice, both down (at once) and up (within the
//!   window). Until a window has been seen the floor is at most
//!   [`VadConfig::initial_floor_db`]: a line is assumed quiet until shown
//!   otherwise, so that speech at the very start of a stream is heard.
//! - **Voiced frame**: energy above the floor by
//!   [`VadConfig::onset_margin_db`] (to start a sentence) or
//!   [`VadConfig::stay_margin_db`] (to carry one on: softer word endings
//!   are kept), and above [`VadConfig::min_level_db`] in any case.
//! - **Onset**: [`VadConfig::onset_frames`] voiced frames in a row start a
//!   sentence at the first of them; clicks shorter than that are ignored.
//!   The audio from [`VadConfig::preroll_ms`] earlier is handed to the
//!   recogniser too, so that word onsets (soft consonants under the
//!   threshold) are not cut.
//! - **Hangover**: a sentence ends after [`VadConfig::hangover_ms`] without
//!   a voiced frame, at the end of its last voiced frame. Pauses shorter
//!   than that stay inside the sentence.
//! - **Maximum length**: a sentence is cut after
//!   [`VadConfig::max_sentence_ms`]; if the frame at the cut is voiced, the
//!   next sentence starts on the following frame (no onset or pre-roll
//!   needed: the speech goes on).

use super::FRAME_MS;

/// The segmenter's settings. See the module's documentation for what each
/// does; the defaults suit telephone speech decoded to 16 kHz.
#[derive(Clone, Debug, PartialEq)]
pub struct VadConfig {
    /// Voiced frames in a row that start a sentence (3 = 60 ms).
    pub onset_frames: u32,
    /// Silence that ends a sentence, in ms (300). It counts toward the
    /// latency of a final transcript.
    pub hangover_ms: u32,
    /// Audio kept before a sentence's first voiced frame, in ms (200).
    pub preroll_ms: u32,
    /// Longest sentence, in ms (15 000); a longer one is cut.
    pub max_sentence_ms: u32,
    /// Energy above the noise floor that makes a frame voiced at onset, in
    /// dB (12).
    pub onset_margin_db: f32,
    /// Energy above the noise floor that keeps a sentence going, in dB (8).
    pub stay_margin_db: f32,
    /// Energy under which a frame is never voiced, in dBFS (-55).
    pub min_level_db: f32,
    /// Span over which the noise floor is the lowest energy, in ms (4 000).
    pub floor_window_ms: u32,
    /// The floor assumed before a window has been seen, in dBFS (-60).
    pub initial_floor_db: f32,
}

impl Default for VadConfig {
    fn default() -> VadConfig {
        VadConfig {
            onset_frames: 3,
            hangover_ms: 300,
            preroll_ms: 200,
            max_sentence_ms: 15_000,
            onset_margin_db: 12.0,
            stay_margin_db: 8.0,
            min_level_db: -55.0,
            floor_window_ms: 4_000,
            initial_floor_db: -60.0,
        }
    }
}

/// A change between silence and speech.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VadEvent {
    /// A sentence started at `at_ms` (the start of its first voiced
    /// frame); the recogniser should be given the audio from
    /// `audio_from_ms` (≤ `at_ms`: the pre-roll) up to the current frame.
    SpeechStart { at_ms: u64, audio_from_ms: u64 },
    /// The sentence ended at `at_ms`: the end of its last voiced frame, or
    /// the end of the current frame when it was cut for length.
    SpeechEnd { at_ms: u64 },
}

/// Frames per block of the noise floor's minimum.
const FLOOR_BLOCK: u32 = 25;
/// Energy given to digital silence, dBFS.
const SILENCE_DB: f32 = -100.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// No sentence; `run` voiced frames in a row so far.
    Idle { run: u32 },
    /// In a sentence that started at frame `start`; `last_voiced` is the
    /// index of its last voiced frame.
    Speech { start: u64, last_voiced: u64 },
    /// A sentence was just cut for length on a voiced frame: a voiced
    /// frame now starts the next one at once.
    Cut,
}

/// The segmenter. Feed it every frame, in order, with [`Vad::push`].
#[derive(Clone, Debug)]
pub struct Vad {
    config: VadConfig,
    /// Frames seen.
    frames: u64,
    state: State,
    /// The first frame a new sentence's pre-roll may reach back to (the
    /// frame after the previous sentence's end).
    free_from: u64,
    /// Minimum energy of the current block, and frames in it.
    block_min: f32,
    block_len: u32,
    /// Minima of the last full blocks (a ring).
    blocks: Vec<f32>,
    next_block: usize,
    /// The last frame's energy and the floor it was judged against.
    last_db: f32,
    floor_db: f32,
}

impl Default for Vad {
    fn default() -> Vad {
        Vad::new(VadConfig::default())
    }
}

/// The energy of a frame in dBFS (mean square relative to full scale),
/// -100 dB for silence or an empty frame.
pub fn frame_db(frame: &[i16]) -> f32 {
    if frame.is_empty() {
        return SILENCE_DB;
    }
    let sum: f64 = frame.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    let ms = sum / frame.len() as f64 / (32768.0 * 32768.0);
    if ms <= 0.0 {
        return SILENCE_DB;
    }
    ((10.0 * ms.log10()) as f32).max(SILENCE_DB)
}

impl Vad {
    /// A segmenter with these settings.
    pub fn new(config: VadConfig) -> Vad {
        let n_blocks = (config.floor_window_ms as u64 / (FLOOR_BLOCK as u64 * FRAME_MS)).max(1);
        Vad {
            blocks: vec![config.initial_floor_db; n_blocks as usize],
            next_block: 0,
            block_min: f32::INFINITY,
            block_len: 0,
            frames: 0,
            state: State::Idle { run: 0 },
            free_from: 0,
            last_db: SILENCE_DB,
            floor_db: config.initial_floor_db,
            config,
        }
    }

    /// Its settings.
    pub fn config(&self) -> &VadConfig {
        &self.config
    }

    /// Frames seen so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Whether a sentence is open.
    pub fn in_speech(&self) -> bool {
        matches!(self.state, State::Speech { .. })
    }

    /// The noise floor used for the last frame, dBFS.
    pub fn floor_db(&self) -> f32 {
        self.floor_db
    }

    /// The last frame's energy, dBFS.
    pub fn last_db(&self) -> f32 {
        self.last_db
    }

    /// Frames a caller must keep (the current one included) to have a new
    /// sentence's audio from its pre-roll when [`VadEvent::SpeechStart`]
    /// comes.
    pub fn lookback_frames(&self) -> usize {
        (self.config.onset_frames.max(1) as u64 + self.preroll_frames()) as usize
    }

    fn preroll_frames(&self) -> u64 {
        self.config.preroll_ms as u64 / FRAME_MS
    }

    fn ms(frame: u64) -> u64 {
        frame * FRAME_MS
    }

    /// Takes the next 20 ms frame; returns the event it causes, if any.
    pub fn push(&mut self, frame: &[i16]) -> Option<VadEvent> {
        let db = frame_db(frame);
        let i = self.frames;
        self.frames += 1;
        // The floor that judges this frame includes it: a step up in noise
        // then reads as speech only until the window has passed over it.
        self.update_floor(db);
        self.last_db = db;
        let c = &self.config;
        let over = |margin: f32| db > self.floor_db + margin && db > c.min_level_db;
        let onset = over(c.onset_margin_db);
        let stay = over(c.stay_margin_db);
        let hangover = (c.hangover_ms as u64).div_ceil(FRAME_MS).max(1);
        let max_frames = (c.max_sentence_ms as u64 / FRAME_MS).max(1);
        let onset_frames = c.onset_frames.max(1);

        match self.state {
            State::Idle { run } => {
                let run = if onset { run + 1 } else { 0 };
                self.state = State::Idle { run };
                if run >= onset_frames {
                    let start = i + 1 - run as u64;
                    let from = start
                        .saturating_sub(self.preroll_frames())
                        .max(self.free_from);
                    self.state = State::Speech {
                        start,
                        last_voiced: i,
                    };
                    return Some(VadEvent::SpeechStart {
                        at_ms: Self::ms(start),
                        audio_from_ms: Self::ms(from),
                    });
                }
                None
            }
            State::Cut => {
                if stay {
                    self.state = State::Speech {
                        start: i,
                        last_voiced: i,
                    };
                    Some(VadEvent::SpeechStart {
                        at_ms: Self::ms(i),
                        audio_from_ms: Self::ms(i),
                    })
                } else {
                    self.state = State::Idle {
                        run: u32::from(onset),
                    };
                    None
                }
            }
            State::Speech {
                start,
                mut last_voiced,
            } => {
                if stay {
                    last_voiced = i;
                }
                if i + 1 - start >= max_frames {
                    // Cut for length.
                    self.free_from = i + 1;
                    if last_voiced == i {
                        self.state = State::Cut;
                        return Some(VadEvent::SpeechEnd {
                            at_ms: Self::ms(i + 1),
                        });
                    }
                    self.state = State::Idle { run: 0 };
                    return Some(VadEvent::SpeechEnd {
                        at_ms: Self::ms(last_voiced + 1),
                    });
                }
                if i - last_voiced >= hangover {
                    self.free_from = i + 1;
                    self.state = State::Idle { run: 0 };
                    return Some(VadEvent::SpeechEnd {
                        at_ms: Self::ms(last_voiced + 1),
                    });
                }
                self.state = State::Speech { start, last_voiced };
                None
            }
        }
    }

    /// Ends the stream: the open sentence, if any, ends at its last voiced
    /// frame.
    pub fn finish(&mut self) -> Option<VadEvent> {
        match std::mem::replace(&mut self.state, State::Idle { run: 0 }) {
            State::Speech { last_voiced, .. } => {
                self.free_from = self.frames;
                Some(VadEvent::SpeechEnd {
                    at_ms: Self::ms(last_voiced + 1),
                })
            }
            _ => None,
        }
    }

    fn update_floor(&mut self, db: f32) {
        self.block_min = self.block_min.min(db);
        self.block_len += 1;
        let ring_min = self.blocks.iter().copied().fold(f32::INFINITY, f32::min);
        self.floor_db = ring_min.min(self.block_min);
        if self.block_len >= FLOOR_BLOCK {
            if let Some(slot) = self.blocks.get_mut(self.next_block) {
                *slot = self.block_min;
            }
            self.next_block = (self.next_block + 1) % self.blocks.len().max(1);
            self.block_min = f32::INFINITY;
            self.block_len = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::speech::FRAME_SAMPLES;

    /// A deterministic source of test signals (no `rand`: the tests must
    /// give the same frames every run).
    struct Gen {
        seed: u64,
        phase: f64,
    }

    impl Gen {
        fn new() -> Gen {
            Gen {
                seed: 0x2545_f491_4f6c_dd1d,
                phase: 0.0,
            }
        }

        /// Uniform noise in [-1, 1).
        fn noise(&mut self) -> f64 {
            self.seed ^= self.seed << 13;
            self.seed ^= self.seed >> 7;
            self.seed ^= self.seed << 17;
            (self.seed >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        }

        /// A frame of white noise at `db` dBFS (mean square).
        fn noise_frame(&mut self, db: f64) -> Vec<i16> {
            // Uniform noise in [-a, a) has mean square a²/3.
            let a = 32768.0 * 10f64.powf(db / 20.0) * 3f64.sqrt();
            (0..FRAME_SAMPLES)
                .map(|_| (self.noise() * a).clamp(-32768.0, 32767.0) as i16)
                .collect()
        }

        /// A frame of a 440 Hz tone at `db` dBFS plus noise at `noise_db`.
        fn tone_frame(&mut self, db: f64, noise_db: f64) -> Vec<i16> {
            // A sine of amplitude a has mean square a²/2.
            let a = 32768.0 * 10f64.powf(db / 20.0) * 2f64.sqrt();
            let n = self.noise_frame(noise_db);
            n.iter()
                .map(|&s| {
                    self.phase += 2.0 * std::f64::consts::PI * 440.0 / 16_000.0;
                    (f64::from(s) + a * self.phase.sin()).clamp(-32768.0, 32767.0) as i16
                })
                .collect()
        }
    }

    /// Events with the index of the frame that caused them.
    fn run(vad: &mut Vad, frames: &[Vec<i16>]) -> Vec<(u64, VadEvent)> {
        let mut out = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            if let Some(e) = vad.push(f) {
                out.push((i as u64, e));
            }
        }
        out
    }

    fn starts_and_ends(events: &[(u64, VadEvent)]) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut open = None;
        for (_, e) in events {
            match *e {
                VadEvent::SpeechStart { at_ms, .. } => {
                    assert!(open.is_none(), "two starts in a row: {events:?}");
                    open = Some(at_ms);
                }
                VadEvent::SpeechEnd { at_ms } => {
                    let s = open.take().expect("end without start");
                    assert!(at_ms > s, "{events:?}");
                    out.push((s, at_ms));
                }
            }
        }
        assert!(open.is_none(), "sentence left open: {events:?}");
        out
    }

    /// `n` frames of noise at `db`.
    fn quiet(g: &mut Gen, n: usize, db: f64) -> Vec<Vec<i16>> {
        (0..n).map(|_| g.noise_frame(db)).collect()
    }

    /// `n` frames of tone at `db` over noise at `noise_db`.
    fn tone(g: &mut Gen, n: usize, db: f64, noise_db: f64) -> Vec<Vec<i16>> {
        (0..n).map(|_| g.tone_frame(db, noise_db)).collect()
    }

    #[test]
    fn energy_of_known_signals() {
        assert_eq!(frame_db(&[0; 320]), SILENCE_DB);
        assert_eq!(frame_db(&[]), SILENCE_DB);
        assert!((frame_db(&[i16::MAX; 320]) - 0.0).abs() < 0.01);
        let mut g = Gen::new();
        let t = g.tone_frame(-20.0, -120.0);
        assert!((frame_db(&t) + 20.0).abs() < 0.5, "{}", frame_db(&t));
        let n = g.noise_frame(-40.0);
        assert!((frame_db(&n) + 40.0).abs() < 1.0, "{}", frame_db(&n));
    }

    #[test]
    fn silence_and_low_noise_give_nothing() {
        let mut vad = Vad::default();
        assert!(run(&mut vad, &vec![vec![0i16; 320]; 500]).is_empty());
        let mut g = Gen::new();
        let mut vad = Vad::default();
        assert!(run(&mut vad, &quiet(&mut g, 1500, -65.0)).is_empty());
        assert!(!vad.in_speech());
        assert_eq!(vad.finish(), None);
    }

    #[test]
    fn a_tone_burst_is_one_sentence_with_exact_times() {
        let mut g = Gen::new();
        let mut frames = quiet(&mut g, 50, -70.0); // 0..1000 ms
        frames.extend(tone(&mut g, 50, -20.0, -70.0)); // 1000..2000 ms
        frames.extend(quiet(&mut g, 50, -70.0));
        let mut vad = Vad::default();
        let ev = run(&mut vad, &frames);
        assert_eq!(
            ev,
            vec![
                // Decided on the third voiced frame (index 52).
                (
                    52,
                    VadEvent::SpeechStart {
                        at_ms: 1000,
                        audio_from_ms: 800
                    }
                ),
                // 15 silent frames (300 ms) after the last voiced one (99).
                (114, VadEvent::SpeechEnd { at_ms: 2000 }),
            ]
        );
    }

    #[test]
    fn lookback_covers_the_preroll() {
        let vad = Vad::default();
        // Onset (3 frames, the current one included) + 200 ms of pre-roll.
        assert_eq!(vad.lookback_frames(), 3 + 10);
    }

    #[test]
    fn speech_at_the_very_start_is_heard() {
        let mut g = Gen::new();
        let mut frames = tone(&mut g, 40, -25.0, -70.0);
        frames.extend(quiet(&mut g, 30, -70.0));
        let ev = run(&mut Vad::default(), &frames);
        assert_eq!(starts_and_ends(&ev), vec![(0, 800)]);
        assert_eq!(
            ev[0].1,
            VadEvent::SpeechStart {
                at_ms: 0,
                audio_from_ms: 0
            }
        );
    }

    #[test]
    fn clicks_shorter_than_the_onset_are_ignored() {
        let mut g = Gen::new();
        let mut frames = quiet(&mut g, 50, -70.0);
        for _ in 0..10 {
            frames.extend(tone(&mut g, 2, -10.0, -70.0));
            frames.extend(quiet(&mut g, 20, -70.0));
        }
        assert!(run(&mut Vad::default(), &frames).is_empty());
    }

    #[test]
    fn pauses_shorter_than_the_hangover_stay_in_the_sentence() {
        let mut g = Gen::new();
        let mut frames = quiet(&mut g, 50, -70.0);
        frames.extend(tone(&mut g, 30, -20.0, -70.0));
        frames.extend(quiet(&mut g, 14, -70.0)); // 280 ms < 300 ms
        frames.extend(tone(&mut g, 30, -20.0, -70.0));
        frames.extend(quiet(&mut g, 10, -70.0)); // 200 ms
        frames.extend(tone(&mut g, 30, -20.0, -70.0));
        frames.extend(quiet(&mut g, 50, -70.0));
        let ev = run(&mut Vad::default(), &frames);
        // One sentence from 1000 ms to the end of the third burst.
        let end = (50 + 30 + 14 + 30 + 10 + 30) * 20;
        assert_eq!(starts_and_ends(&ev), vec![(1000, end)]);
    }

    #[test]
    fn pauses_longer_than_the_hangover_split_sentences() {
        let mut g = Gen::new();
        let mut frames = quiet(&mut g, 50, -70.0);
        frames.extend(tone(&mut g, 30, -20.0, -70.0)); // 1000..1600
        frames.extend(quiet(&mut g, 25, -70.0)); // 500 ms
        frames.extend(tone(&mut g, 30, -20.0, -70.0)); // 2100..2700
        frames.extend(quiet(&mut g, 50, -70.0));
        let mut vad = Vad::default();
        let ev = run(&mut vad, &frames);
        assert_eq!(starts_and_ends(&ev), vec![(1000, 1600), (2100, 2700)]);
        // The second pre-roll does not reach back into the first sentence.
        let second_from = ev.iter().find_map(|(_, e)| match e {
            VadEvent::SpeechStart {
                at_ms: 2100,
                audio_from_ms,
            } => Some(*audio_from_ms),
            _ => None,
        });
        assert_eq!(second_from, Some(1900));
    }

    #[test]
    fn preroll_never_overlaps_the_previous_sentence() {
        let mut g = Gen::new();
        let mut frames = quiet(&mut g, 50, -70.0);
        frames.extend(tone(&mut g, 30, -20.0, -70.0)); // ends at frame 80
        frames.extend(quiet(&mut g, 17, -70.0)); // 340 ms: just over the hangover
        frames.extend(tone(&mut g, 30, -20.0, -70.0));
        frames.extend(quiet(&mut g, 50, -70.0));
        let ev = run(&mut Vad::default(), &frames);
        let ends: Vec<_> = ev
            .iter()
            .filter_map(|(i, e)| matches!(e, VadEvent::SpeechEnd { .. }).then_some(*i))
            .collect();
        // The first ended (was decided) on frame 80 + 15 - 1 = 94.
        assert_eq!(ends[0], 94);
        match ev[2].1 {
            VadEvent::SpeechStart {
                at_ms,
                audio_from_ms,
            } => {
                assert_eq!(at_ms, 97 * 20);
                assert_eq!(audio_from_ms, 95 * 20, "from the frame after the end");
            }
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn a_soft_ending_is_kept_by_the_lower_stay_margin() {
        let mut g = Gen::new();
        let mut frames = quiet(&mut g, 50, -60.0);
        frames.extend(tone(&mut g, 20, -20.0, -60.0));
        // 10 dB over the floor: not enough to start, enough to stay.
        frames.extend(tone(&mut g, 20, -50.0, -60.0));
        frames.extend(quiet(&mut g, 40, -60.0));
        let ev = run(&mut Vad::default(), &frames);
        assert_eq!(starts_and_ends(&ev), vec![(1000, 1800)]);
        // The same soft tone alone starts nothing.
        let mut frames = quiet(&mut g, 50, -60.0);
        frames.extend(tone(&mut g, 40, -50.0, -60.0));
        frames.extend(quiet(&mut g, 40, -60.0));
        assert!(run(&mut Vad::default(), &frames).is_empty());
    }

    #[test]
    fn a_slowly_rising_noise_floor_is_followed() {
        let mut g = Gen::new();
        // 30 s of noise rising from -70 to -35 dBFS.
        let n = 1500;
        let frames: Vec<_> = (0..n)
            .map(|i| g.noise_frame(-70.0 + 35.0 * i as f64 / n as f64))
            .collect();
        let mut vad = Vad::default();
        assert!(run(&mut vad, &frames).is_empty());
        assert!(vad.floor_db() > -42.0, "floor {}", vad.floor_db());
        // Speech 20 dB over the new noise is still heard, a sentence 1 s long.
        let mut frames = tone(&mut g, 50, -15.0, -35.0);
        frames.extend(quiet(&mut g, 30, -35.0));
        let ev = run(&mut vad, &frames);
        assert_eq!(starts_and_ends(&ev).len(), 1, "{ev:?}");
    }

    #[test]
    fn a_falling_noise_floor_is_followed_at_once() {
        let mut g = Gen::new();
        let mut vad = Vad::default();
        // A noisy line for 10 s (it reads as speech for a moment at the
        // start: the line was assumed quiet).
        let noisy = quiet(&mut g, 500, -35.0);
        let first = run(&mut vad, &noisy);
        assert!(starts_and_ends(&first).len() <= 1);
        assert!(!vad.in_speech());
        // Then it goes quiet; a soft voice is heard straight away.
        run(&mut vad, &quiet(&mut g, 20, -70.0));
        let mut frames = tone(&mut g, 30, -45.0, -70.0);
        frames.extend(quiet(&mut g, 30, -70.0));
        let ev = run(&mut vad, &frames);
        assert_eq!(starts_and_ends(&ev).len(), 1, "{ev:?}");
    }

    #[test]
    fn a_step_up_in_noise_ends_within_the_floor_window() {
        let mut g = Gen::new();
        let mut frames = quiet(&mut g, 100, -70.0);
        frames.extend(quiet(&mut g, 1000, -40.0)); // a fan starts at 2 s
        let mut vad = Vad::default();
        let ev = run(&mut vad, &frames);
        let s = starts_and_ends(&ev);
        assert_eq!(s.len(), 1, "{ev:?}");
        let (start, end) = s[0];
        assert_eq!(start, 2000);
        // Over by the floor window (4 s) plus the hangover, and not again.
        assert!(end - start <= 4_500, "{s:?}");
    }

    /// A voice that never pauses longer than the hangover: 300 ms of tone,
    /// 40 ms of silence, over and over.
    fn chatter(g: &mut Gen, frames: usize) -> Vec<Vec<i16>> {
        (0..frames)
            .map(|i| {
                if i % 17 < 15 {
                    g.tone_frame(-20.0, -70.0)
                } else {
                    g.noise_frame(-70.0)
                }
            })
            .collect()
    }

    #[test]
    fn max_length_cuts_long_speech() {
        let mut g = Gen::new();
        let mut frames = quiet(&mut g, 50, -70.0);
        frames.extend(chatter(&mut g, 2000)); // 40 s
        frames.extend(quiet(&mut g, 50, -70.0));
        let ev = run(&mut Vad::default(), &frames);
        let s = starts_and_ends(&ev);
        assert!(s.len() >= 3, "{s:?}");
        for (a, b) in &s {
            assert!(b - a <= 15_000, "{s:?}");
        }
        // Cut sentences follow each other with no gap (or the one silent
        // gap frame where the cut fell in a pause).
        for w in s.windows(2) {
            assert!(w[1].0 - w[0].1 <= 3 * 20 + 300, "{s:?}");
        }
        // Together they cover the 40 s.
        assert_eq!(s[0].0, 1000);
        assert!(s[s.len() - 1].1 >= 40_000, "{s:?}");
    }

    #[test]
    fn a_cut_on_a_voiced_frame_starts_the_next_sentence_at_once() {
        let mut g = Gen::new();
        let config = VadConfig {
            max_sentence_ms: 1_000,
            ..VadConfig::default()
        };
        let mut frames = quiet(&mut g, 50, -70.0);
        frames.extend(tone(&mut g, 100, -20.0, -70.0)); // 2 s, no pause
        frames.extend(quiet(&mut g, 50, -70.0));
        let ev = run(&mut Vad::new(config), &frames);
        assert_eq!(starts_and_ends(&ev), vec![(1000, 2000), (2000, 3000)]);
    }

    #[test]
    fn finish_closes_an_open_sentence() {
        let mut g = Gen::new();
        let mut frames = quiet(&mut g, 50, -70.0);
        frames.extend(tone(&mut g, 20, -20.0, -70.0));
        frames.extend(quiet(&mut g, 5, -70.0));
        let mut vad = Vad::default();
        let ev = run(&mut vad, &frames);
        assert_eq!(ev.len(), 1);
        assert!(vad.in_speech());
        assert_eq!(vad.finish(), Some(VadEvent::SpeechEnd { at_ms: 1400 }));
        assert_eq!(vad.finish(), None);
    }

    #[test]
    fn it_is_deterministic() {
        let mut g = Gen::new();
        let mut frames = quiet(&mut g, 50, -60.0);
        frames.extend(chatter(&mut g, 300));
        frames.extend(quiet(&mut g, 300, -45.0));
        frames.extend(chatter(&mut g, 300));
        let a = run(&mut Vad::default(), &frames);
        let b = run(&mut Vad::default(), &frames);
        assert_eq!(a, b);
        assert!(!a.is_empty());
    }

    proptest::proptest! {
        /// Whatever the audio: starts and ends alternate, times only grow,
        /// no sentence is longer than the maximum, every start's audio
        /// begins after the previous end, and an event comes no later than
        /// the frame that caused it.
        #[test]
        fn events_are_well_formed(
            levels in proptest::collection::vec((-90.0f64..-5.0, 1usize..40), 1..60),
            max_s in 1u32..6,
        ) {
            let config = VadConfig { max_sentence_ms: max_s * 1000, ..VadConfig::default() };
            let mut vad = Vad::new(config);
            let mut g = Gen::new();
            let mut frames = Vec::new();
            for (db, n) in levels {
                frames.extend(tone(&mut g, n, db, -75.0));
            }
            let ev = run(&mut vad, &frames);
            let mut open: Option<u64> = None;
            let mut last_end = 0;
            for (i, e) in &ev {
                let now_end = (i + 1) * 20;
                match *e {
                    VadEvent::SpeechStart { at_ms, audio_from_ms } => {
                        proptest::prop_assert!(open.is_none());
                        proptest::prop_assert!(audio_from_ms <= at_ms && at_ms < now_end);
                        proptest::prop_assert!(audio_from_ms >= last_end);
                        open = Some(at_ms);
                    }
                    VadEvent::SpeechEnd { at_ms } => {
                        let s = open.take();
                        proptest::prop_assert!(s.is_some());
                        let s = s.unwrap_or_default();
                        proptest::prop_assert!(at_ms > s && at_ms <= now_end);
                        proptest::prop_assert!(at_ms - s <= u64::from(max_s) * 1000);
                        last_end = at_ms;
                    }
                }
            }
        }
    }
}
