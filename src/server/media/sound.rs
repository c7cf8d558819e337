//! What the customer's side of a call plays: the sounds in `assets/`
//! (compiled in) and tone sequences, each decoded and Opus-encoded once so
//! that playing them to a call costs no encoding.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;

use crate::media::codec::Encoder;
use crate::media::{analysis, frame_len, MediaError};
use crate::protocol::ToneSpec;

use super::RATE;

/// The server's sounds, by name: `Customer.play {sound}`.
pub const ASSETS: &[(&str, &[u8])] = &[
    ("greeting", include_bytes!("../../../assets/greeting.wav")),
    ("hold", include_bytes!("../../../assets/hold.wav")),
];

/// The longest tone sequence `Customer.play` takes.
pub const MAX_TONE_MS: u32 = 60_000;

/// A sound ready to play: PCM at [`RATE`] and one Opus packet per 20 ms frame.
#[derive(Clone)]
pub struct Clip {
    pcm: Arc<[i16]>,
    packets: Arc<[Bytes]>,
}

impl Clip {
    /// Cut into frames (the last one padded with silence) and encode them.
    pub fn from_pcm(mut pcm: Vec<i16>) -> Result<Clip, MediaError> {
        let n = frame_len(RATE);
        let frames = pcm.len().div_ceil(n).max(1);
        pcm.resize(frames * n, 0);
        let mut enc = Encoder::new(RATE)?;
        let mut packets = Vec::with_capacity(frames);
        for f in pcm.chunks(n) {
            packets.push(Bytes::from(enc.encode(f)?));
        }
        Ok(Clip {
            pcm: pcm.into(),
            packets: packets.into(),
        })
    }

    pub fn frames(&self) -> usize {
        self.packets.len()
    }

    /// Frame `i`: its samples and its packet.
    pub fn frame(&self, i: usize) -> Option<(&[i16], &Bytes)> {
        let n = frame_len(RATE);
        let pcm = self.pcm.get(i * n..(i + 1) * n)?;
        Some((pcm, self.packets.get(i)?))
    }

    pub fn duration_ms(&self) -> u64 {
        self.frames() as u64 * crate::media::FRAME_MS as u64
    }
}

/// Read a WAV file's bytes as mono 16-bit samples at [`RATE`].
pub fn read_wav(bytes: &[u8]) -> Result<Vec<i16>, MediaError> {
    let mut r = hound::WavReader::new(std::io::Cursor::new(bytes))
        .map_err(|e| MediaError::Other(format!("not a WAV file: {e}")))?;
    let spec = r.spec();
    if spec.sample_format != hound::SampleFormat::Int || spec.bits_per_sample != 16 {
        return Err(MediaError::Other(format!(
            "WAV must be 16-bit integer samples, not {}-bit {:?}",
            spec.bits_per_sample, spec.sample_format
        )));
    }
    let channels = spec.channels.max(1) as usize;
    let samples: Vec<i16> = r
        .samples::<i16>()
        .collect::<Result<_, _>>()
        .map_err(|e| MediaError::Other(format!("WAV data: {e}")))?;
    let mono: Vec<i16> = samples
        .chunks(channels)
        .map(|c| (c.iter().map(|&s| s as i32).sum::<i32>() / c.len() as i32) as i16)
        .collect();
    if spec.sample_rate == RATE {
        Ok(mono)
    } else {
        Ok(crate::media::device::resample(
            &mono,
            spec.sample_rate,
            RATE,
        ))
    }
}

fn cache() -> &'static Mutex<HashMap<&'static str, Clip>> {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, Clip>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// A named sound, decoded and encoded on first use.
pub fn asset(name: &str) -> Result<Clip, MediaError> {
    let Some(&(key, bytes)) = ASSETS.iter().find(|(n, _)| *n == name) else {
        let known: Vec<&str> = ASSETS.iter().map(|(n, _)| *n).collect();
        return Err(MediaError::Other(format!(
            "no sound `{name}`; the server has: {}",
            known.join(", ")
        )));
    };
    if let Ok(c) = cache().lock() {
        if let Some(clip) = c.get(key) {
            return Ok(clip.clone());
        }
    }
    let clip = Clip::from_pcm(read_wav(bytes)?)?;
    if let Ok(mut c) = cache().lock() {
        c.insert(key, clip.clone());
    }
    Ok(clip)
}

/// Check a tone sequence (a clear error naming what is wrong).
pub fn check_tones(tones: &[ToneSpec]) -> Result<(), String> {
    if tones.is_empty() {
        return Err("parameter `tones` is empty".into());
    }
    let mut total: u64 = 0;
    for (i, t) in tones.iter().enumerate() {
        if t.hz.len() > 4 {
            return Err(format!("parameter `tones[{i}].hz`: at most 4 frequencies"));
        }
        if let Some(f) =
            t.hz.iter()
                .find(|f| !f.is_finite() || **f < 20.0 || **f > (RATE / 2) as f32 - 200.0)
        {
            return Err(format!(
                "parameter `tones[{i}].hz`: {f} Hz is outside 20..{} Hz",
                RATE / 2 - 200
            ));
        }
        total += t.ms as u64;
    }
    if total == 0 || total > MAX_TONE_MS as u64 {
        return Err(format!(
            "parameter `tones`: {total} ms in all; give 1..{MAX_TONE_MS} ms"
        ));
    }
    Ok(())
}

/// A tone sequence as a clip (checked first with [`check_tones`]).
pub fn tones(tones: &[ToneSpec]) -> Result<Clip, MediaError> {
    let mut pcm = Vec::new();
    for t in tones {
        pcm.extend(analysis::tone(RATE, &t.hz, t.ms, 0.5));
    }
    Clip::from_pcm(pcm)
}

/// Plays one clip, frame by frame, once or in a loop.
#[derive(Default)]
pub struct Player {
    clip: Option<Clip>,
    pos: usize,
    looping: bool,
}

impl Player {
    pub fn start(&mut self, clip: Clip, looping: bool) {
        self.clip = Some(clip);
        self.pos = 0;
        self.looping = looping;
    }

    pub fn stop(&mut self) {
        self.clip = None;
    }

    pub fn is_playing(&self) -> bool {
        self.clip.is_some()
    }

    /// The next frame, or None when nothing is playing (silence).
    pub fn next_frame(&mut self) -> Option<(Vec<i16>, Bytes)> {
        let clip = self.clip.as_ref()?;
        if self.pos >= clip.frames() {
            if !self.looping {
                self.clip = None;
                return None;
            }
            self.pos = 0;
        }
        let (pcm, pkt) = clip.frame(self.pos)?;
        let out = (pcm.to_vec(), pkt.clone());
        self.pos += 1;
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assets_decode_and_encode() {
        for (name, _) in ASSETS {
            let c = asset(name).expect("asset");
            assert!(c.duration_ms() > 2000, "{name} is {} ms", c.duration_ms());
            let (pcm, pkt) = c.frame(10).expect("frame 10");
            assert_eq!(pcm.len(), frame_len(RATE));
            assert!(!pkt.is_empty());
        }
        assert!(asset("nope").is_err());
    }

    #[test]
    fn tone_checks_name_the_problem() {
        let t = |hz: Vec<f32>, ms| ToneSpec { hz, ms };
        assert!(check_tones(&[t(vec![440.0], 200)]).is_ok());
        assert!(check_tones(&[]).unwrap_err().contains("empty"));
        assert!(check_tones(&[t(vec![9000.0], 200)])
            .unwrap_err()
            .contains("tones[0].hz"));
        assert!(check_tones(&[t(vec![f32::NAN], 200)]).is_err());
        assert!(check_tones(&[t(vec![], 70_000)])
            .unwrap_err()
            .contains("70000 ms"));
        assert!(check_tones(&[t(vec![1.0; 5], 10)]).is_err());
    }

    #[test]
    fn a_player_plays_once_or_loops() {
        let clip = Clip::from_pcm(vec![1000; frame_len(RATE) * 3]).expect("clip");
        let mut p = Player::default();
        p.start(clip.clone(), false);
        assert_eq!((0..5).filter_map(|_| p.next_frame()).count(), 3);
        assert!(!p.is_playing());
        p.start(clip, true);
        assert_eq!((0..7).filter_map(|_| p.next_frame()).count(), 7);
    }
}
