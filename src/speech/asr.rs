//! Speech recognition with pocketsphinx, opened at run time.
//!
//! A [`Model`] is the loaded library and the model's paths; it is shared
//! (`Arc`) by every leg. A [`Recognizer`] is one decoder, for one leg: it
//! decodes one utterance at a time ([`Recognizer::start`],
//! [`Recognizer::feed`], [`Recognizer::partial`], [`Recognizer::finish`]).
//!
//! Making a decoder loads the language model and the dictionary (about
//! 0.4 s and 95 MB), so the model keeps a few decoders that were given
//! back and hands them to the next user: a sentence usually starts at no
//! cost. A decoder handed on is reset to as new first (pocketsphinx adapts
//! its cepstral mean to the line as it goes; the next caller starts from
//! the model's), so a leg's transcript does not depend on the legs before
//! it; a leg carries its own line's mean from sentence to sentence
//! ([`Recognizer::line`], [`Recognizer::resume_line`]).
//!
//! [`Model::open`] makes no decoder: memory follows how many decoders are
//! in use. [`DecoderLimits`] bounds them: at most `max` exist at once
//! ([`Model::try_recognizer`] says when none is free), and at most
//! `keep_idle` are kept when given back.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::ffi::{Api, Decoder};
use super::SpeechError;

/// Where Debian's `pocketsphinx-en-us` puts the US English model.
pub const DEBIAN_MODEL_DIR: &str = "/usr/share/pocketsphinx/model/en-us";

/// How many decoders a model may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecoderLimits {
    /// Decoders in existence at once, in use or idle (0: no limit).
    /// [`Model::try_recognizer`] refuses beyond it.
    pub max: usize,
    /// Decoders kept when given back, for the next user; more are freed.
    pub keep_idle: usize,
}

impl Default for DecoderLimits {
    fn default() -> DecoderLimits {
        DecoderLimits {
            max: 0,
            keep_idle: 32,
        }
    }
}

/// Where the model is and how to decode.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelConfig {
    /// The acoustic model's directory (`-hmm`): `mdef`, `means`, ….
    pub hmm: PathBuf,
    /// The language model (`-lm`), an ARPA or binary n-gram file.
    pub lm: PathBuf,
    /// The pronunciation dictionary (`-dict`).
    pub dict: PathBuf,
    /// Further pocketsphinx options, as option and value
    /// (`("-beam", "1e-48")`). The defaults ([`ModelConfig::default`]) halve
    /// the decoding cost for next to no loss of accuracy on our test
    /// sentences (`make bench-asr`, `asr_bench --tune`; docs/SPEECH.md):
    /// no flat-lexicon second pass (`-fwdflat no`: it runs when a sentence
    /// ends, delaying its final), at most 2000 active HMMs and 5 word
    /// exits a frame (`-maxhmmpf 2000 -maxwpf 5`, which also bounds the
    /// worst case), and a phone lookahead window of 5 frames
    /// (`-pl_window 5`).
    pub options: Vec<(String, String)>,
}

impl Default for ModelConfig {
    /// Debian's `pocketsphinx-en-us` ([`DEBIAN_MODEL_DIR`]).
    fn default() -> ModelConfig {
        ModelConfig::in_dir(DEBIAN_MODEL_DIR)
    }
}

impl ModelConfig {
    /// A model laid out as Debian's `pocketsphinx-en-us`: `DIR/en-us/`
    /// (acoustic model), `DIR/en-us.lm.bin`, `DIR/cmudict-en-us.dict`.
    pub fn in_dir(dir: impl AsRef<Path>) -> ModelConfig {
        let dir = dir.as_ref();
        ModelConfig {
            hmm: dir.join("en-us"),
            lm: dir.join("en-us.lm.bin"),
            dict: dir.join("cmudict-en-us.dict"),
            options: [
                ("-fwdflat", "no"),
                ("-maxhmmpf", "2000"),
                ("-maxwpf", "5"),
                ("-pl_window", "5"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        }
    }

    /// The default, or the model in the directory named by the environment
    /// variable `CCDESK_ASR_MODEL` when it is set.
    pub fn from_env() -> ModelConfig {
        match std::env::var_os("CCDESK_ASR_MODEL") {
            Some(dir) if !dir.is_empty() => ModelConfig::in_dir(PathBuf::from(dir)),
            _ => ModelConfig::default(),
        }
    }

    /// Checks that the files pocketsphinx will open are there, so that a
    /// missing model is a clear error rather than a failure (or, for some
    /// files, an exit) deep inside the library.
    fn check_files(&self) -> Result<(), SpeechError> {
        let mut missing = Vec::new();
        for f in [
            "mdef",
            "means",
            "variances",
            "transition_matrices",
            "feat.params",
        ] {
            let p = self.hmm.join(f);
            if !p.is_file() {
                missing.push(p);
            }
        }
        if !self.hmm.join("sendump").is_file() && !self.hmm.join("mixture_weights").is_file() {
            missing.push(self.hmm.join("sendump"));
        }
        for p in [&self.lm, &self.dict] {
            if !p.is_file() {
                missing.push(p.clone());
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = missing.iter().map(|p| p.display().to_string()).collect();
        Err(SpeechError::Unavailable(format!(
            "speech recognition model not found: {} (install the Debian package \
             pocketsphinx-en-us, or set CCDESK_ASR_MODEL to a model directory)",
            names.join(", ")
        )))
    }

    /// The decoder's options: the paths, then [`ModelConfig::options`].
    fn args(&self) -> Result<Vec<(String, String)>, SpeechError> {
        let path = |opt: &str, p: &Path| -> Result<(String, String), SpeechError> {
            match p.to_str() {
                Some(s) => Ok((opt.to_owned(), s.to_owned())),
                None => Err(SpeechError::Unavailable(format!(
                    "model path {} is not UTF-8",
                    p.display()
                ))),
            }
        };
        let mut args = vec![
            path("-hmm", &self.hmm)?,
            path("-lm", &self.lm)?,
            path("-dict", &self.dict)?,
        ];
        args.extend(self.options.iter().cloned());
        Ok(args)
    }
}

/// The recogniser's library and model, shared by every leg.
pub struct Model {
    api: Arc<Api>,
    config: ModelConfig,
    args: Vec<(String, String)>,
    limits: DecoderLimits,
    /// Decoders in existence (in use or idle), and the idle ones.
    decoders: Mutex<Pool>,
}

#[derive(Default)]
struct Pool {
    live: usize,
    idle: Vec<Decoder>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("config", &self.config)
            .field("limits", &self.limits)
            .field("live", &self.live_decoders())
            .field("idle", &self.idle_decoders())
            .finish()
    }
}

impl Model {
    /// Opens pocketsphinx and checks the model by making one decoder (kept
    /// for the first leg). Takes about half a second.
    ///
    /// Returns [`SpeechError::Unavailable`] when the library or a model
    /// file is missing, [`SpeechError::Recognition`] when pocketsphinx
    /// refuses the options or the model.
    pub fn load(config: ModelConfig) -> Result<Arc<Model>, SpeechError> {
        let model = Model::open(config, DecoderLimits::default())?;
        model.prewarm(1)?;
        Ok(model)
    }

    /// Opens pocketsphinx and checks that the model's files are there,
    /// without making a decoder (cheap; no memory for the model until a
    /// decoder is needed). A model pocketsphinx refuses shows only when
    /// the first decoder is made.
    pub fn open(config: ModelConfig, limits: DecoderLimits) -> Result<Arc<Model>, SpeechError> {
        let api = Api::load()?;
        config.check_files()?;
        let args = config.args()?;
        Ok(Arc::new(Model {
            api,
            config,
            args,
            limits,
            decoders: Mutex::new(Pool::default()),
        }))
    }

    pub fn limits(&self) -> DecoderLimits {
        self.limits
    }

    /// The configuration it was loaded with.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// A recogniser: an idle decoder when there is one, else a new one
    /// (about 0.4 s), whatever the limit.
    pub fn recognizer(self: &Arc<Self>) -> Result<Recognizer, SpeechError> {
        self.get(false)?
            .ok_or_else(|| SpeechError::Recognition("no decoder".into()))
    }

    /// A recogniser within the limit: an idle decoder, else a new one while
    /// fewer than `max` exist, else `None` (all in use).
    pub fn try_recognizer(self: &Arc<Self>) -> Result<Option<Recognizer>, SpeechError> {
        self.get(true)
    }

    fn get(self: &Arc<Self>, limited: bool) -> Result<Option<Recognizer>, SpeechError> {
        let decoder = loop {
            let mut pool = self.pool();
            match pool.idle.pop() {
                // A decoder that cannot be reset is dropped: a new one is
                // better than one tuned to the last caller.
                Some(mut d) => {
                    if d.reset_stream() {
                        break d;
                    }
                    pool.live = pool.live.saturating_sub(1);
                }
                None => {
                    if limited && self.limits.max > 0 && pool.live >= self.limits.max {
                        return Ok(None);
                    }
                    // Counted before it exists, so that two threads cannot
                    // both pass the limit; made outside the lock.
                    pool.live += 1;
                    drop(pool);
                    match Decoder::new(&self.api, &self.args) {
                        Ok(d) => break d,
                        Err(e) => {
                            self.forget_one();
                            return Err(e);
                        }
                    }
                }
            }
        };
        Ok(Some(Recognizer {
            model: Arc::clone(self),
            decoder: Some(decoder),
            in_utt: false,
        }))
    }

    /// Makes decoders ahead of time until `n` are idle (at most
    /// `keep_idle`), so that the next `n` users start at no cost.
    /// A decoder that cannot be reset is never kept: then none are made
    /// ahead, as each would be freed at once.
    pub fn prewarm(&self, n: usize) -> Result<(), SpeechError> {
        let mut want = n.min(self.limits.keep_idle);
        if self.limits.max > 0 {
            want = want.min(self.limits.max);
        }
        while self.idle_decoders() < want {
            {
                let mut pool = self.pool();
                if self.limits.max > 0 && pool.live >= self.limits.max {
                    return Ok(());
                }
                pool.live += 1;
            }
            match Decoder::new(&self.api, &self.args) {
                Ok(d) if d.resettable() => self.give_back(d),
                Ok(d) => {
                    drop(d);
                    self.forget_one();
                    return Ok(());
                }
                Err(e) => {
                    self.forget_one();
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Decoders kept for later users.
    pub fn idle_decoders(&self) -> usize {
        self.pool().idle.len()
    }

    /// Decoders in existence: in use, or idle.
    pub fn live_decoders(&self) -> usize {
        self.pool().live
    }

    fn pool(&self) -> std::sync::MutexGuard<'_, Pool> {
        self.decoders
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A decoder is freed.
    fn forget_one(&self) {
        let mut pool = self.pool();
        pool.live = pool.live.saturating_sub(1);
    }

    fn give_back(&self, d: Decoder) {
        let mut pool = self.pool();
        if d.resettable() && pool.idle.len() < self.limits.keep_idle {
            pool.idle.push(d);
            return;
        }
        pool.live = pool.live.saturating_sub(1);
        drop(pool);
        drop(d);
        trim_heap();
    }
}

/// A freed decoder's tens of megabytes go back to the system.
fn trim_heap() {
    crate::memory::give_back();
}

/// One decoder, decoding one utterance at a time; one per leg.
///
/// `Send`: it may be made on one thread and used on another, but by one
/// thread at a time. Dropping it gives its decoder back to the [`Model`].
pub struct Recognizer {
    model: Arc<Model>,
    /// `None` only after a failure that left the decoder unusable.
    decoder: Option<Decoder>,
    in_utt: bool,
}

impl std::fmt::Debug for Recognizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recognizer")
            .field("in_utt", &self.in_utt)
            .finish_non_exhaustive()
    }
}

impl Recognizer {
    /// Starts an utterance, ending the current one (its text is lost) if
    /// one is open.
    pub fn start(&mut self) -> Result<(), SpeechError> {
        if self.in_utt {
            self.in_utt = false;
            let _ = self.decoder()?.end_utt();
        }
        self.decoder()?.start_utt()?;
        self.in_utt = true;
        Ok(())
    }

    /// Decodes audio (16 kHz mono) in the current utterance, starting one
    /// if none is open.
    pub fn feed(&mut self, pcm: &[i16]) -> Result<(), SpeechError> {
        if !self.in_utt {
            self.start()?;
        }
        self.decoder()?.process_raw(pcm)
    }

    /// The best guess at the utterance so far; `None` when nothing has been
    /// recognised yet (or no utterance is open).
    pub fn partial(&mut self) -> Option<String> {
        if !self.in_utt {
            return None;
        }
        let hyp = self.decoder.as_mut()?.hyp()?;
        let hyp = hyp.trim();
        (!hyp.is_empty()).then(|| hyp.to_owned())
    }

    /// Ends the utterance and returns its text: lowercase words separated
    /// by single spaces, empty when nothing was recognised (noise, or no
    /// utterance open).
    pub fn finish(&mut self) -> String {
        if !self.in_utt {
            return String::new();
        }
        self.in_utt = false;
        let Some(d) = self.decoder.as_mut() else {
            return String::new();
        };
        if d.end_utt().is_err() {
            // Unknown state: free it rather than hand it on.
            self.decoder = None;
            self.model.forget_one();
            trim_heap();
            return String::new();
        }
        d.hyp()
            .map(|h| h.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    }

    /// Whether an utterance is open.
    pub fn in_utterance(&self) -> bool {
        self.in_utt
    }

    /// What the decoder has learnt of the line (its cepstral mean), for
    /// the same leg's next sentence on another decoder.
    pub fn line(&self) -> Option<Vec<f32>> {
        self.decoder.as_ref()?.current_cmn()
    }

    /// Starts from a line learnt by [`Recognizer::line`] instead of the
    /// model's initial one.
    pub fn resume_line(&mut self, line: &[f32]) {
        if let Some(d) = self.decoder.as_mut() {
            d.set_cmn(line);
        }
    }

    fn decoder(&mut self) -> Result<&mut Decoder, SpeechError> {
        self.decoder
            .as_mut()
            .ok_or_else(|| SpeechError::Recognition("decoder unusable after an error".into()))
    }
}

impl Drop for Recognizer {
    fn drop(&mut self) {
        if let Some(mut d) = self.decoder.take() {
            if self.in_utt && d.end_utt().is_err() {
                // Unknown state: free it rather than hand it on.
                drop(d);
                self.model.forget_one();
                trim_heap();
                return;
            }
            self.model.give_back(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_layout() {
        let c = ModelConfig::in_dir("/m");
        assert_eq!(c.hmm, PathBuf::from("/m/en-us"));
        assert_eq!(c.lm, PathBuf::from("/m/en-us.lm.bin"));
        assert_eq!(c.dict, PathBuf::from("/m/cmudict-en-us.dict"));
        let args = c.args().expect("utf-8 paths");
        assert_eq!(args[0], ("-hmm".to_owned(), "/m/en-us".to_owned()));
    }

    #[test]
    fn a_missing_model_is_unavailable_and_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let c = ModelConfig::in_dir(dir.path());
        match c.check_files() {
            Err(SpeechError::Unavailable(m)) => {
                assert!(m.contains("mdef"), "{m}");
                assert!(m.contains("en-us.lm.bin"), "{m}");
                assert!(m.contains("pocketsphinx-en-us"), "{m}");
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
}
