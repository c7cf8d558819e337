//! The server's speech engines: flite speaks what a simulated customer
//! says into the call, pocketsphinx turns each side's audio into `asr`
//! events. Both are optional at run time: what is missing is said once in
//! the log, and the transcript then comes from the trunk's text as before.

use std::sync::Arc;

use crate::speech::asr::DecoderLimits;
use crate::speech::{Model, ModelConfig, Tts, Voice};

use super::config::SpeechSection;

/// What the server can do with speech, found once at start.
#[derive(Clone, Default)]
pub struct Speech {
    /// Text to speech, when on and installed.
    pub tts: Option<Tts>,
    /// The recogniser, when on and installed.
    pub model: Option<Arc<Model>>,
}

impl std::fmt::Debug for Speech {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Speech")
            .field("tts", &self.tts.is_some())
            .field("recognition", &self.model.is_some())
            .finish()
    }
}

impl Speech {
    /// Probe the engines `cfg` turns on: flite's voices, and whether
    /// pocketsphinx and its model's files are there. No decoder is made:
    /// the model is loaded when a call's first sentence needs one, and
    /// decoders then come and go with the people speaking, within
    /// `max_decoders`. Never fails: an engine that cannot start is left
    /// out, with one warning saying why and what happens instead.
    pub fn load(cfg: &SpeechSection) -> Speech {
        let tts = if cfg.synthesis {
            match Tts::probe() {
                Ok(t) => {
                    tracing::info!(voices = ?t.voices(), "speech: customers speak with flite");
                    Some(t)
                }
                Err(e) => {
                    tracing::warn!("{e}; customers' words are sent as text, not spoken");
                    None
                }
            }
        } else {
            None
        };
        let model = if cfg.recognition {
            let mc = match &cfg.model {
                Some(dir) => ModelConfig::in_dir(dir),
                None => ModelConfig::from_env(),
            };
            let limits = DecoderLimits {
                max: cfg.max_decoders,
                keep_idle: cfg.idle_decoders,
            };
            match Model::open(mc, limits) {
                Ok(m) => {
                    tracing::info!(
                        max_decoders = cfg.max_decoders,
                        "speech: calls with audio are transcribed by pocketsphinx"
                    );
                    Some(m)
                }
                Err(e) => {
                    tracing::warn!("{e}; the transcript comes from the trunk's text");
                    None
                }
            }
        } else {
            None
        };
        Speech { tts, model }
    }

    /// The voice for `voice` (a flite voice name), else the caller's own:
    /// the same profile always gets the same voice.
    pub fn voice(&self, voice: Option<&str>, caller: &str) -> Result<Voice, String> {
        let Some(tts) = &self.tts else {
            return Ok(Voice::Slt);
        };
        match voice {
            Some(name) => match Voice::from_name(name) {
                Some(v) if tts.has(v) => Ok(v),
                _ => Err(format!(
                    "no voice `{name}`; voices are {}",
                    tts.voices()
                        .iter()
                        .map(|v| v.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            },
            None => Ok(tts.voice_for_profile(caller)),
        }
    }
}
