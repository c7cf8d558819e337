//! Opus encoder and decoder wrappers: mono, 20 ms frames.
//!
//! The encoder is set up for speech over a lossy network: VoIP application,
//! in-band FEC on, 5 % expected loss, 24 kbit/s. The decoder always hands
//! back exactly one 20 ms frame ([`frame_len`] samples) whatever the packet
//! carried, and offers packet-loss concealment and FEC recovery for the
//! jitter buffer's `Lost` slots. Nothing here panics on packet bytes a peer
//! sends: malformed packets are errors.

use super::{frame_len, MediaError};

/// Sample rates Opus supports.
pub const SUPPORTED_RATES: [u32; 5] = [8000, 12000, 16000, 24000, 48000];

/// Target bitrate of the encoder, bits per second.
pub const BITRATE: i32 = 24_000;

/// Packet loss the encoder expects (and protects against with FEC), percent.
pub const EXPECTED_LOSS_PERCENT: i32 = 5;

/// Largest packet the encoder may produce (the size libopus recommends).
const MAX_PACKET: usize = 4000;

/// Longest duration an Opus packet can carry, in ms.
const MAX_PACKET_MS: usize = 120;

/// Largest input accepted by [`Decoder::decode`]: a legal Opus packet is at
/// most 48 frames of 1275 bytes plus framing; anything longer is garbage.
const MAX_INPUT: usize = 64 * 1024;

fn codec_err(what: &str, err: opus::Error) -> MediaError {
    MediaError::Codec(format!("{what}: {err}"))
}

fn check_rate(rate: u32) -> Result<(), MediaError> {
    if SUPPORTED_RATES.contains(&rate) {
        Ok(())
    } else {
        Err(MediaError::Codec(format!(
            "unsupported sample rate {rate} Hz (Opus supports 8000, 12000, 16000, 24000 or 48000)"
        )))
    }
}

/// Opus encoder for one mono stream of 20 ms frames.
pub struct Encoder {
    inner: opus::Encoder,
    rate: u32,
}

impl std::fmt::Debug for Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoder").field("rate", &self.rate).finish()
    }
}

impl Encoder {
    /// A VoIP encoder at `rate` Hz (8000, 12000, 16000, 24000 or 48000):
    /// mono, in-band FEC on, 5 % expected loss, 24 kbit/s.
    ///
    /// Any other rate is a [`MediaError::Codec`] naming it.
    pub fn new(rate: u32) -> Result<Encoder, MediaError> {
        check_rate(rate)?;
        let mut inner = opus::Encoder::new(rate, opus::Channels::Mono, opus::Application::Voip)
            .map_err(|e| codec_err("creating encoder", e))?;
        inner
            .set_inband_fec(true)
            .map_err(|e| codec_err("enabling FEC", e))?;
        inner
            .set_packet_loss_perc(EXPECTED_LOSS_PERCENT)
            .map_err(|e| codec_err("setting expected loss", e))?;
        inner
            .set_bitrate(opus::Bitrate::Bits(BITRATE))
            .map_err(|e| codec_err("setting bitrate", e))?;
        Ok(Encoder { inner, rate })
    }

    /// Trade quality for CPU: `complexity` 0 (cheapest) to 10 (best, the
    /// default). Out of range is a [`MediaError::Codec`].
    pub fn set_complexity(&mut self, complexity: i32) -> Result<(), MediaError> {
        self.inner
            .set_complexity(complexity)
            .map_err(|e| codec_err("setting complexity", e))
    }

    /// Encode at most narrowband (4 kHz of audio): for a source that has no
    /// more, such as a G.711 phone line, it halves the encoder's work.
    pub fn set_narrowband(&mut self, narrowband: bool) -> Result<(), MediaError> {
        let b = if narrowband {
            opus::Bandwidth::Narrowband
        } else {
            opus::Bandwidth::Fullband
        };
        self.inner
            .set_max_bandwidth(b)
            .map_err(|e| codec_err("setting the bandwidth", e))
    }

    /// Sample rate of the PCM this encoder takes, Hz.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Encode one 20 ms frame: `pcm` must hold exactly
    /// [`frame_len`]`(rate)` samples, otherwise the error names both
    /// lengths.
    pub fn encode(&mut self, pcm: &[i16]) -> Result<Vec<u8>, MediaError> {
        let want = frame_len(self.rate);
        if pcm.len() != want {
            return Err(MediaError::Codec(format!(
                "encode needs one 20 ms frame of {want} samples at {} Hz, got {}",
                self.rate,
                pcm.len()
            )));
        }
        let mut out = vec![0u8; MAX_PACKET];
        let n = self
            .inner
            .encode(pcm, &mut out)
            .map_err(|e| codec_err("encoding", e))?;
        out.truncate(n);
        Ok(out)
    }
}

/// Opus decoder for one mono stream, producing 20 ms frames.
pub struct Decoder {
    inner: opus::Decoder,
    rate: u32,
}

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decoder").field("rate", &self.rate).finish()
    }
}

impl Decoder {
    /// A mono decoder producing PCM at `rate` Hz (8000, 12000, 16000, 24000
    /// or 48000), whatever rate the sender encoded at.
    pub fn new(rate: u32) -> Result<Decoder, MediaError> {
        check_rate(rate)?;
        let inner = opus::Decoder::new(rate, opus::Channels::Mono)
            .map_err(|e| codec_err("creating decoder", e))?;
        Ok(Decoder { inner, rate })
    }

    /// Sample rate of the PCM this decoder produces, Hz.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Decode one packet into exactly one 20 ms frame ([`frame_len`]
    /// samples). A packet carrying a different duration is still decoded;
    /// the result is truncated or padded with silence to one frame.
    ///
    /// An empty or malformed packet is a [`MediaError::Codec`]; use
    /// [`Decoder::conceal`] for a missing one.
    pub fn decode(&mut self, packet: &[u8]) -> Result<Vec<i16>, MediaError> {
        if packet.is_empty() {
            return Err(MediaError::Codec("empty packet".into()));
        }
        if packet.len() > MAX_INPUT {
            return Err(MediaError::Codec(format!(
                "packet of {} bytes is too long for Opus",
                packet.len()
            )));
        }
        let mut out = vec![0i16; self.samples_per_ms() * MAX_PACKET_MS];
        let n = self
            .inner
            .decode(packet, &mut out, false)
            .map_err(|e| codec_err("decoding", e))?;
        out.truncate(n.min(out.len()));
        out.resize(frame_len(self.rate), 0);
        Ok(out)
    }

    /// Packet-loss concealment: a plausible continuation of the previous
    /// frames for one missing 20 ms frame. Never fails: on a decoder error
    /// it returns silence.
    pub fn conceal(&mut self) -> Vec<i16> {
        let len = frame_len(self.rate);
        let mut out = vec![0i16; len];
        match self.inner.decode(&[], &mut out, false) {
            Ok(n) if n <= len => {
                out[n..].fill(0);
                out
            }
            _ => vec![0i16; len],
        }
    }

    /// Recover the lost frame before `next_packet` from the forward error
    /// correction data `next_packet` carries (Opus in-band FEC). When the
    /// packet has no FEC data libopus conceals instead; when it is empty or
    /// malformed this falls back to [`Decoder::conceal`]. Always one frame.
    ///
    /// `next_packet` itself should still be decoded normally afterwards.
    pub fn decode_fec(&mut self, next_packet: &[u8]) -> Vec<i16> {
        if next_packet.is_empty() || next_packet.len() > MAX_INPUT {
            return self.conceal();
        }
        let len = frame_len(self.rate);
        let mut out = vec![0i16; len];
        match self.inner.decode(next_packet, &mut out, true) {
            Ok(n) if n <= len => {
                out[n..].fill(0);
                out
            }
            _ => self.conceal(),
        }
    }

    fn samples_per_ms(&self) -> usize {
        (self.rate / 1000) as usize
    }
}

/// One encoded 20 ms frame of digital silence at `rate` Hz, from a fresh
/// encoder (handy as comfort noise or to prime a peer's decoder).
pub fn silence_packet(rate: u32) -> Result<Vec<u8>, MediaError> {
    let mut enc = Encoder::new(rate)?;
    enc.encode(&vec![0i16; frame_len(rate)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::analysis::{goertzel, rms, tone};
    use proptest::prelude::*;

    /// Encode `ms` of a 1 kHz tone at `enc_rate` in 20 ms frames and decode
    /// everything at `dec_rate`.
    fn round_trip(enc_rate: u32, dec_rate: u32, ms: u32) -> Vec<i16> {
        let mut enc = Encoder::new(enc_rate).unwrap();
        let mut dec = Decoder::new(dec_rate).unwrap();
        let pcm = tone(enc_rate, &[1000.0], ms, 0.5);
        let mut out = Vec::new();
        for frame in pcm.chunks(frame_len(enc_rate)) {
            let packet = enc.encode(frame).unwrap();
            assert!(!packet.is_empty() && packet.len() < 400);
            let decoded = dec.decode(&packet).unwrap();
            assert_eq!(decoded.len(), frame_len(dec_rate));
            out.extend(decoded);
        }
        out
    }

    fn assert_mostly_1khz(out: &[i16], rate: u32) {
        // Skip the first 100 ms (encoder warm-up and codec delay).
        let tail = &out[(rate / 10) as usize..];
        let at_1k = goertzel(tail, rate, 1000.0);
        let total = rms(tail).powi(2);
        // Input: peak 0.5 -> power 0.125. Allow for codec loss.
        assert!(at_1k > 0.06, "1 kHz power {at_1k}");
        assert!(at_1k > 0.8 * total, "1 kHz {at_1k} of total {total}");
        for other in [300.0, 2500.0, 3400.0] {
            let p = goertzel(tail, rate, other);
            assert!(p < at_1k / 100.0, "{other} Hz has {p} vs {at_1k}");
        }
    }

    #[test]
    fn round_trip_keeps_1khz_at_16k() {
        let out = round_trip(16_000, 16_000, 400);
        assert_eq!(out.len(), 16 * 400);
        assert_mostly_1khz(&out, 16_000);
    }

    #[test]
    fn round_trip_keeps_1khz_at_48k() {
        let out = round_trip(48_000, 48_000, 400);
        assert_eq!(out.len(), 48 * 400);
        assert_mostly_1khz(&out, 48_000);
    }

    #[test]
    fn decode_at_16k_a_48k_stream() {
        let out = round_trip(48_000, 16_000, 400);
        assert_eq!(out.len(), 16 * 400);
        assert_mostly_1khz(&out, 16_000);
    }

    #[test]
    fn rates_are_checked() {
        for rate in SUPPORTED_RATES {
            let enc = Encoder::new(rate).unwrap();
            assert_eq!(enc.rate(), rate);
            assert_eq!(Decoder::new(rate).unwrap().rate(), rate);
        }
        let err = Encoder::new(44_100).unwrap_err().to_string();
        assert!(err.contains("44100"), "{err}");
        let err = Decoder::new(11_025).unwrap_err().to_string();
        assert!(err.contains("11025"), "{err}");
        assert!(Encoder::new(0).is_err());
    }

    #[test]
    fn wrong_frame_length_is_an_error() {
        let mut enc = Encoder::new(16_000).unwrap();
        let err = enc.encode(&[0i16; 100]).unwrap_err().to_string();
        assert!(err.contains("320") && err.contains("100"), "{err}");
        let err = enc.encode(&[0i16; 960]).unwrap_err().to_string();
        assert!(err.contains("320") && err.contains("960"), "{err}");
        assert!(enc.encode(&[]).is_err());
        // The right length still works afterwards.
        assert!(!enc.encode(&[0i16; 320]).unwrap().is_empty());
    }

    #[test]
    fn malformed_packets_are_errors() {
        let mut dec = Decoder::new(48_000).unwrap();
        assert!(dec.decode(&[]).is_err());
        // Code 3 (arbitrary frame count) TOC with no count byte.
        assert!(dec.decode(&[0x03]).is_err());
        // Code 3 with a frame count of 0.
        assert!(dec.decode(&[0x03, 0x00]).is_err());
        // Code 2 (two frames, explicit size) claiming a first frame longer
        // than the packet.
        assert!(dec.decode(&[0x02, 0xfb, 0x01]).is_err());
        assert!(dec.decode(&vec![0u8; MAX_INPUT + 1]).is_err());
        // The decoder is still usable.
        let good = silence_packet(48_000).unwrap();
        assert_eq!(dec.decode(&good).unwrap().len(), 960);
    }

    #[test]
    fn other_durations_are_fitted_to_one_frame() {
        // A 10 ms packet: the decoded 480 samples are padded to 960.
        let mut raw =
            opus::Encoder::new(48_000, opus::Channels::Mono, opus::Application::Voip).unwrap();
        let pcm = tone(48_000, &[1000.0], 10, 0.5);
        let packet = raw.encode_vec(&pcm, 4000).unwrap();
        let mut dec = Decoder::new(48_000).unwrap();
        let out = dec.decode(&packet).unwrap();
        assert_eq!(out.len(), 960);
        assert!(out[480..].iter().all(|&s| s == 0));
        // A 60 ms packet is truncated to 20 ms.
        let pcm = tone(48_000, &[1000.0], 60, 0.5);
        let packet = raw.encode_vec(&pcm, 4000).unwrap();
        assert_eq!(dec.decode(&packet).unwrap().len(), 960);
    }

    #[test]
    fn conceal_after_some_frames() {
        let mut enc = Encoder::new(16_000).unwrap();
        let mut dec = Decoder::new(16_000).unwrap();
        // Concealing before anything was decoded still gives one frame.
        assert_eq!(dec.conceal().len(), 320);
        let pcm = tone(16_000, &[1000.0], 100, 0.5);
        for frame in pcm.chunks(320) {
            dec.decode(&enc.encode(frame).unwrap()).unwrap();
        }
        let concealed = dec.conceal();
        assert_eq!(concealed.len(), 320);
        // PLC continues the tone rather than going silent.
        assert!(rms(&concealed) > 0.05, "rms {}", rms(&concealed));
    }

    #[test]
    fn fec_recovers_a_lost_frame() {
        let mut enc = Encoder::new(16_000).unwrap();
        let mut dec = Decoder::new(16_000).unwrap();
        let pcm = tone(16_000, &[1000.0], 400, 0.5);
        let packets: Vec<Vec<u8>> = pcm.chunks(320).map(|f| enc.encode(f).unwrap()).collect();
        let mut out = Vec::new();
        for (i, p) in packets.iter().enumerate() {
            if i == 12 {
                continue; // lost
            }
            if i == 13 {
                out.extend(dec.decode_fec(p));
            }
            out.extend(dec.decode(p).unwrap());
        }
        assert_eq!(out.len(), packets.len() * 320);
        let lost = &out[12 * 320..13 * 320];
        assert!(goertzel(lost, 16_000, 1000.0) > 0.03);
        // Empty and garbage "next packets" fall back to concealment.
        assert_eq!(dec.decode_fec(&[]).len(), 320);
        assert_eq!(dec.decode_fec(&[0x03]).len(), 320);
    }

    #[test]
    fn silence_packet_decodes_to_silence() {
        for rate in [8000, 48_000] {
            let p = silence_packet(rate).unwrap();
            // Far below the 60 bytes of an average 24 kbit/s frame.
            assert!(!p.is_empty() && p.len() < 30, "{} bytes", p.len());
            let mut dec = Decoder::new(rate).unwrap();
            let out = dec.decode(&p).unwrap();
            assert_eq!(out.len(), frame_len(rate));
            assert!(rms(&out) < 0.001);
        }
        assert!(silence_packet(22_050).is_err());
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
            let mut dec = Decoder::new(16_000).unwrap();
            if let Ok(out) = dec.decode(&bytes) {
                prop_assert_eq!(out.len(), 320);
            }
            prop_assert_eq!(dec.decode_fec(&bytes).len(), 320);
            prop_assert_eq!(dec.conceal().len(), 320);
        }
    }
}
