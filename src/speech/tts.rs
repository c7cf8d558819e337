//! Speaking text with flite, run as a program.
//!
//! [`Tts::probe`] finds the `flite` program and its voices once;
//! [`Tts::synthesize`] runs it for one text and returns 16 kHz mono
//! samples (flite writes a WAV file at the voice's own rate: 16 kHz for
//! most, 8 kHz for `kal`, which is resampled).
//!
//! # Voices per caller
//!
//! [`Voice::for_profile`] gives each simulated caller (by profile name) a
//! voice that does not change between runs or machines: an FNV-1a hash of
//! the name's UTF-8 bytes picks one of [`Voice::RECOGNISED`], the voices
//! pocketsphinx transcribes well (word error rate 2–5 % on our test
//! sentences; docs/SPEECH.md has the figures). `kal` (8 kHz, about 30 %)
//! is never picked; it can still be asked for by name.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{SpeechError, RATE};

/// A flite voice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Voice {
    /// US English, female (clustergen, 16 kHz).
    Slt,
    /// US English, male (diphone, 16 kHz).
    Kal16,
    /// US English, male (clustergen, 16 kHz).
    Rms,
    /// Scottish English, male (clustergen, 16 kHz).
    Awb,
    /// US English, male (diphone, 8 kHz: telephone quality).
    Kal,
}

impl Voice {
    /// Every voice ccdesk knows (flite's `awb_time` only says the time,
    /// and is left out).
    pub const ALL: [Voice; 5] = [Voice::Slt, Voice::Kal16, Voice::Rms, Voice::Awb, Voice::Kal];

    /// The voices the recogniser understands well, in the order
    /// [`Voice::for_profile`] picks from.
    pub const RECOGNISED: [Voice; 4] = [Voice::Slt, Voice::Kal16, Voice::Rms, Voice::Awb];

    /// flite's name for it (`-voice NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Voice::Slt => "slt",
            Voice::Kal16 => "kal16",
            Voice::Rms => "rms",
            Voice::Awb => "awb",
            Voice::Kal => "kal",
        }
    }

    /// The voice flite calls `name`, if ccdesk knows it.
    pub fn from_name(name: &str) -> Option<Voice> {
        Voice::ALL.into_iter().find(|v| v.name() == name)
    }

    /// A caller's voice, the same for the same profile name everywhere. See
    /// the module's documentation.
    pub fn for_profile(profile: &str) -> Voice {
        Voice::pick(profile, &Voice::RECOGNISED).unwrap_or(Voice::Slt)
    }

    /// The profile's voice among `among` (by the same hash), `None` when
    /// `among` is empty.
    fn pick(profile: &str, among: &[Voice]) -> Option<Voice> {
        if among.is_empty() {
            return None;
        }
        let i = (fnv1a(profile.as_bytes()) % among.len() as u64) as usize;
        among.get(i).copied()
    }
}

impl std::fmt::Display for Voice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Voice {
    type Err = SpeechError;
    fn from_str(s: &str) -> Result<Voice, SpeechError> {
        Voice::from_name(s).ok_or_else(|| SpeechError::Unavailable(format!("no voice {s:?}")))
    }
}

/// 64-bit FNV-1a: a fixed hash (the standard library's is seeded per
/// process, so it would give a caller a different voice each run).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The flite program and the voices it has.
#[derive(Clone, Debug)]
pub struct Tts {
    program: PathBuf,
    voices: Vec<Voice>,
}

impl Tts {
    /// Finds `flite` on `PATH` and asks it for its voices.
    ///
    /// Returns [`SpeechError::Unavailable`] when the program is missing or
    /// has none of ccdesk's voices.
    pub fn probe() -> Result<Tts, SpeechError> {
        Tts::with_program("flite")
    }

    /// [`Tts::probe`] with this program (a name looked up on `PATH`, or a
    /// path).
    pub fn with_program(program: impl AsRef<Path>) -> Result<Tts, SpeechError> {
        let program = program.as_ref().to_path_buf();
        let out = Command::new(&program)
            .arg("-lv")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .map_err(|e| {
                SpeechError::Unavailable(format!(
                    "text to speech: cannot run {} ({e}); install the Debian package flite",
                    program.display()
                ))
            })?;
        let voices = parse_voices(&String::from_utf8_lossy(&out.stdout));
        if voices.is_empty() {
            return Err(SpeechError::Unavailable(format!(
                "text to speech: {} lists none of the voices {}",
                program.display(),
                Voice::ALL.map(Voice::name).join(", ")
            )));
        }
        Ok(Tts { program, voices })
    }

    /// The voices installed, in [`Voice::ALL`]'s order.
    pub fn voices(&self) -> &[Voice] {
        &self.voices
    }

    /// Whether `voice` is installed.
    pub fn has(&self, voice: Voice) -> bool {
        self.voices.contains(&voice)
    }

    /// [`Voice::for_profile`] among the installed voices the recogniser
    /// understands (any installed voice if none of those is).
    pub fn voice_for_profile(&self, profile: &str) -> Voice {
        let recognised: Vec<Voice> = Voice::RECOGNISED
            .into_iter()
            .filter(|v| self.has(*v))
            .collect();
        Voice::pick(profile, &recognised)
            .or_else(|| Voice::pick(profile, &self.voices))
            .unwrap_or(Voice::Slt)
    }

    /// Says `text` with `voice`: 16 kHz mono samples. Blocks for flite's
    /// run (tens of ms per sentence); see [`Tts::synthesize_async`].
    ///
    /// Empty (or blank) text gives no samples. A voice that is not
    /// installed is [`SpeechError::Unavailable`].
    pub fn synthesize(&self, text: &str, voice: Voice) -> Result<Vec<i16>, SpeechError> {
        if !self.has(voice) {
            return Err(SpeechError::Unavailable(format!(
                "text to speech: flite has no voice {voice}"
            )));
        }
        let text = text.trim();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        // flite seeks back to write the WAV header, so it cannot write to a
        // pipe: it writes to a temporary file instead.
        let wav = tempfile::Builder::new()
            .prefix("ccdesk-tts-")
            .suffix(".wav")
            .tempfile()
            .map_err(|e| SpeechError::Synthesis(format!("temporary file: {e}")))?;
        let out = Command::new(&self.program)
            .arg("-voice")
            .arg(voice.name())
            .arg("-t")
            .arg(text)
            .arg("-o")
            .arg(wav.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| SpeechError::Synthesis(format!("cannot run flite: {e}")))?;
        if !out.status.success() {
            return Err(SpeechError::Synthesis(format!(
                "flite failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        read_wav(wav.path())
    }

    /// [`Tts::synthesize`] on tokio's blocking threads.
    pub async fn synthesize_async(
        &self,
        text: impl Into<String>,
        voice: Voice,
    ) -> Result<Vec<i16>, SpeechError> {
        let tts = self.clone();
        let text = text.into();
        tokio::task::spawn_blocking(move || tts.synthesize(&text, voice))
            .await
            .map_err(|e| SpeechError::Synthesis(format!("synthesis task: {e}")))?
    }
}

/// The voices named in `flite -lv`'s output ("Voices available: kal …").
fn parse_voices(listing: &str) -> Vec<Voice> {
    let names: Vec<&str> = listing
        .split_once(':')
        .map_or(listing, |(_, rest)| rest)
        .split_whitespace()
        .collect();
    Voice::ALL
        .into_iter()
        .filter(|v| names.contains(&v.name()))
        .collect()
}

/// Reads a 16-bit PCM WAV file as 16 kHz mono.
fn read_wav(path: &Path) -> Result<Vec<i16>, SpeechError> {
    let bad = |e: hound::Error| SpeechError::Synthesis(format!("flite's WAV: {e}"));
    let mut reader = hound::WavReader::open(path).map_err(bad)?;
    let spec = reader.spec();
    if spec.sample_format != hound::SampleFormat::Int || spec.bits_per_sample != 16 {
        return Err(SpeechError::Synthesis(format!(
            "flite's WAV is not 16-bit PCM: {spec:?}"
        )));
    }
    let samples: Vec<i16> = reader
        .samples::<i16>()
        .collect::<Result<_, _>>()
        .map_err(bad)?;
    let mono = to_mono(&samples, spec.channels);
    Ok(crate::media::device::resample(
        &mono,
        spec.sample_rate,
        RATE,
    ))
}

/// Averages interleaved channels.
fn to_mono(samples: &[i16], channels: u16) -> Vec<i16> {
    let n = usize::from(channels.max(1));
    if n == 1 {
        return samples.to_vec();
    }
    samples
        .chunks_exact(n)
        .map(|c| (c.iter().map(|&s| i32::from(s)).sum::<i32>() / n as i32) as i16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voice_names_round_trip() {
        for v in Voice::ALL {
            assert_eq!(Voice::from_name(v.name()), Some(v));
            assert_eq!(v.to_string().parse::<Voice>().ok(), Some(v));
        }
        assert_eq!(Voice::from_name("awb_time"), None);
        assert!("robot".parse::<Voice>().is_err());
    }

    #[test]
    fn profiles_get_a_fixed_recognised_voice() {
        // Fixed values: a change here changes every caller's voice.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        let picks: Vec<Voice> = ["alice", "bob", "carol", "dave", "erin", "frank"]
            .into_iter()
            .map(Voice::for_profile)
            .collect();
        for (p, v) in ["alice", "bob", "carol", "dave", "erin", "frank"]
            .into_iter()
            .zip(&picks)
        {
            assert_eq!(Voice::for_profile(p), *v, "stable for {p}");
            assert!(Voice::RECOGNISED.contains(v));
        }
        // Several voices are used across callers.
        let mut distinct = picks.clone();
        distinct.sort_by_key(|v| v.name());
        distinct.dedup();
        assert!(distinct.len() >= 3, "{picks:?}");
    }

    #[test]
    fn a_profile_falls_back_to_the_installed_voices() {
        let tts = Tts {
            program: PathBuf::from("flite"),
            voices: vec![Voice::Kal],
        };
        assert_eq!(tts.voice_for_profile("anyone"), Voice::Kal);
        let tts = Tts {
            program: PathBuf::from("flite"),
            voices: vec![Voice::Slt, Voice::Kal],
        };
        assert_eq!(tts.voice_for_profile("anyone"), Voice::Slt);
    }

    #[test]
    fn flite_voice_listing_is_parsed() {
        let v = parse_voices("Voices available: kal awb_time kal16 awb rms slt \n");
        assert_eq!(v, Voice::ALL.to_vec());
        assert_eq!(parse_voices("Voices available: awb_time\n"), vec![]);
        assert_eq!(parse_voices(""), vec![]);
    }

    #[test]
    fn a_missing_program_is_unavailable() {
        match Tts::with_program("/nonexistent/flite") {
            Err(SpeechError::Unavailable(m)) => assert!(m.contains("flite"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_missing_voice_is_unavailable() {
        let tts = Tts {
            program: PathBuf::from("/nonexistent/flite"),
            voices: vec![Voice::Kal],
        };
        assert!(matches!(
            tts.synthesize("hello", Voice::Slt),
            Err(SpeechError::Unavailable(_))
        ));
        assert_eq!(tts.synthesize("  ", Voice::Kal).ok(), Some(vec![]));
    }

    #[test]
    fn resampling_doubles_and_interpolates() {
        use crate::media::device::resample;
        assert_eq!(
            resample(&[0, 100, 200], 8_000, 16_000),
            [0, 50, 100, 150, 200, 200]
        );
        assert_eq!(resample(&[1, 2, 3], 16_000, 16_000), [1, 2, 3]);
        assert_eq!(resample(&[], 8_000, 16_000), Vec::<i16>::new());
        assert_eq!(resample(&[0, 10, 20, 30], 16_000, 8_000), [0, 20]);
    }

    #[test]
    fn channels_are_averaged() {
        assert_eq!(to_mono(&[10, 20, -4, 4], 2), [15, 0]);
        assert_eq!(to_mono(&[1, 2], 1), [1, 2]);
    }
}
