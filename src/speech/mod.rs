//! Speech building blocks: recognition of a call leg's audio, speaking
//! text, and the measures to check both.
//!
//! Everything here works on 16 kHz mono 16-bit audio in 20 ms frames of
//! 320 samples, what the server's media bridge decodes every leg to.
//!
//! - [`vad`]: a pure, deterministic voice-activity segmenter that cuts a
//!   leg's audio into sentences.
//! - [`asr`]: pocketsphinx, opened at run time ([`Model`], one
//!   [`Recognizer`] per leg).
//! - [`leg`]: the two together ([`LegRecognizer`]: start, partial and
//!   final events per sentence).
//! - [`stream`]: a pool of worker threads that runs legs off the audio
//!   task ([`spawn_leg`], [`LegHandle`]).
//! - [`tts`]: flite, run as a program ([`Tts`], [`Voice`]).
//! - [`mod@wer`]: word error rate.
//!
//! Neither engine is linked in: pocketsphinx is opened with `dlopen` and
//! flite is a program on `PATH`, so ccdesk builds and runs without them.
//! Where one is missing its constructor ([`Model::load`], [`Tts::probe`])
//! returns [`SpeechError::Unavailable`] naming what is missing; the caller
//! reports it once and carries on with text. See docs/SPEECH.md.

pub mod asr;
mod ffi;
pub mod leg;
pub mod stream;
pub mod tts;
pub mod vad;
pub mod wer;

pub use asr::{Model, ModelConfig, Recognizer};
pub use leg::{AsrEvent, LegRecognizer};
pub use stream::{spawn_leg, AsrPool, LegHandle};
pub use tts::{Tts, Voice};
pub use vad::{Vad, VadConfig, VadEvent};
pub use wer::{wer, word_errors};

/// Sample rate of all audio here, in Hz.
pub const RATE: u32 = 16_000;
/// Length of one frame in milliseconds.
pub const FRAME_MS: u64 = 20;
/// Samples in one frame (20 ms at 16 kHz).
pub const FRAME_SAMPLES: usize = 320;

/// What can go wrong with speech.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    /// An engine, a model or a voice is not installed. The text says what
    /// is missing and which package provides it; the caller reports it
    /// once and falls back to text.
    #[error("speech unavailable: {0}")]
    Unavailable(String),
    /// The recogniser refused a configuration or failed on audio.
    #[error("speech recognition failed: {0}")]
    Recognition(String),
    /// The synthesiser failed on a text.
    #[error("speech synthesis failed: {0}")]
    Synthesis(String),
}
