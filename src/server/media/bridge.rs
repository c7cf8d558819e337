//! One session's audio: the 20 ms loop of the media anchor.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use crate::media::codec::{self, Decoder, Encoder};
use crate::media::dtmf::DtmfReceiver;
use crate::media::jitter::{JitterBuffer, Playout};
use crate::media::rtc::{Peer, RtpIn, RtpWriter};
use crate::media::{frame_len, FRAME_MS};

use super::sound::{self, Clip, Player};
use super::{BridgeCmd, BridgeEvent, HeardDigit, Mix, PhoneLine, Report, Sound, RATE};
use crate::protocol::{AsrResult, Flow};
use crate::server::speech::Speech;
use crate::speech::{AsrEvent, LegHandle, Voice};

/// A sentence synthesised for the customer: its number in the order said,
/// the text, and the sound (or why there is none).
type Said = (u64, String, Result<Clip, String>);

/// The transcript of the two sides: what the customer says (IN) and what
/// the seats say to the customer (OUT).
struct Transcribe {
    inbound: LegHandle,
    outbound: LegHandle,
}

/// The recording's write buffer: one second of stereo 16-bit audio.
const RECORDING_BUFFER: usize = RATE as usize * 2 * 2;

/// Frames a jitter buffer may hold (200 ms).
const MAX_DEPTH: usize = 10;

/// One frame one side said: samples at [`RATE`], and the packet it came in
/// when it can be passed on unchanged.
struct Heard {
    pcm: Vec<i16>,
    packet: Option<Bytes>,
}

impl RtcLeg {
    /// What the seat said this frame (its keys go to `digit`): the packet
    /// due from its jitter buffer, decoded when `need_pcm`.
    fn hear(
        &mut self,
        epoch: Instant,
        now_ms: f64,
        need_pcm: bool,
        digit: &mut dyn FnMut(char),
    ) -> Option<Heard> {
        while let Ok(p) = self.inbound.try_recv() {
            if Some(p.payload_type) == self.dtmf_pt {
                self.jitter.push_event(p.seq);
                if let Some(d) = self.dtmf.push(p.timestamp, &p.payload) {
                    digit(d);
                }
            } else if p.payload_type == self.opus_pt {
                let at = p.arrived.saturating_duration_since(epoch).as_secs_f64() * 1000.0;
                self.jitter.push(
                    p.seq,
                    p.timestamp,
                    p.payload.to_vec(),
                    at.max(0.0).min(now_ms),
                );
            }
        }
        match self.jitter.pop() {
            Playout::Packet(p) => {
                // Decoded only when something needs the samples; a packet
                // passed on unchanged needs none.
                let pcm = if need_pcm {
                    self.decoder
                        .decode(&p)
                        .unwrap_or_else(|_| self.decoder.conceal())
                } else {
                    Vec::new()
                };
                Some(Heard {
                    pcm,
                    packet: Some(Bytes::from(p)),
                })
            }
            Playout::Lost { fec } => {
                let pcm = match fec {
                    Some(next) => self.decoder.decode_fec(&next),
                    None => self.decoder.conceal(),
                };
                Some(Heard { pcm, packet: None })
            }
            Playout::Empty => None,
        }
    }
}

/// A seat's audio: its WebRTC peer connection with the terminal, or its
/// desk phone or mobile.
enum Leg {
    Rtc(Box<RtcLeg>),
    Phone(Box<dyn PhoneLine>),
}

struct RtcLeg {
    peer: Peer,
    writer: RtpWriter,
    inbound: mpsc::Receiver<RtpIn>,
    jitter: JitterBuffer,
    decoder: Decoder,
    encoder: Option<Encoder>,
    dtmf: DtmfReceiver,
    opus_pt: u8,
    dtmf_pt: Option<u8>,
}

pub(super) struct Task {
    sid: String,
    recording: Option<PathBuf>,
    report: Report,
    mix: Mix,
    legs: HashMap<String, Leg>,
    voice: Player,
    hold: Player,
    /// The customer's phone line, when the customer is a SIP caller.
    line: Option<Box<dyn PhoneLine>>,
    sound_gen: Option<u32>,
    wav: Option<hound::WavWriter<BufWriter<File>>>,
    frames_recorded: u64,
    silence: Bytes,
    epoch: Instant,
    speech: Speech,
    /// Where the session was (ms from its first accept) when the bridge started.
    since_start_ms: u64,
    asr: Option<Transcribe>,
    said_tx: mpsc::UnboundedSender<Said>,
    said_rx: mpsc::UnboundedReceiver<Said>,
    /// Sentences synthesised and waiting their turn, by number.
    ready: std::collections::BTreeMap<u64, (String, Result<Clip, String>)>,
    /// The number of the next sentence to say, and of the next to play.
    say_next: u64,
    say_play: u64,
}

impl Task {
    pub(super) fn new(
        sid: String,
        recording: Option<PathBuf>,
        report: Report,
        speech: Speech,
        since_start_ms: u64,
    ) -> Task {
        let (said_tx, said_rx) = mpsc::unbounded_channel();
        Task {
            speech,
            since_start_ms,
            asr: None,
            said_tx,
            said_rx,
            ready: Default::default(),
            say_next: 0,
            say_play: 0,
            sid,
            recording,
            report,
            mix: Mix::default(),
            legs: HashMap::new(),
            voice: Player::default(),
            hold: Player::default(),
            line: None,
            sound_gen: None,
            wav: None,
            frames_recorded: 0,
            silence: Bytes::from(codec::silence_packet(RATE).unwrap_or_default()),
            epoch: Instant::now(),
        }
    }

    pub(super) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<BridgeCmd>) {
        self.open_recording();
        let mut tick = tokio::time::interval(Duration::from_millis(FRAME_MS as u64));
        // A late tick still produces every frame: receivers' jitter buffers
        // absorb a burst better than a hole.
        tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
        loop {
            tokio::select! {
                cmd = rx.recv() => match cmd {
                    None | Some(BridgeCmd::End) => break,
                    Some(BridgeCmd::Mix(m)) => self.set_mix(m).await,
                    Some(BridgeCmd::Leg { user, peer }) => self.add_leg(user, peer).await,
                    Some(BridgeCmd::PhoneLeg { user, line }) => self.add_phone(user, line).await,
                    Some(BridgeCmd::Line(line)) => {
                        self.line = Some(line);
                        // Encoders are made again for a phone call.
                        self.reset_encoders();
                    }
                    Some(BridgeCmd::SendDigits(digits)) => {
                        if let Some(line) = self.line.as_mut() {
                            for d in digits.chars() {
                                line.send_digit(d);
                            }
                        }
                    }
                    Some(BridgeCmd::Say { text, voice }) => self.synthesize(text, voice),
                },
                Some((n, text, clip)) = self.said_rx.recv() => {
                    self.ready.insert(n, (text, clip));
                }
                due = tick.tick() => {
                    self.tick().await;
                    let late = tokio::time::Instant::now().saturating_duration_since(due);
                    super::punctuality::record(late.as_micros() as u64);
                }
            }
        }
        self.finish().await;
    }

    fn open_recording(&mut self) {
        let Some(path) = &self.recording else { return };
        if let Some(dir) = path.parent() {
            if let Err(e) = std::fs::create_dir_all(dir) {
                tracing::warn!(session = %self.sid, dir = %dir.display(), error = %e, "cannot create the recordings folder; not recording");
                return;
            }
        }
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: RATE,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        // A second of audio per write: a write a second per session rather
        // than one every few frames.
        let file = File::create(path).map(|f| BufWriter::with_capacity(RECORDING_BUFFER, f));
        match file.and_then(|f| hound::WavWriter::new(f, spec).map_err(std::io::Error::other)) {
            Ok(w) => self.wav = Some(w),
            Err(e) => {
                tracing::warn!(session = %self.sid, path = %path.display(), error = %e, "cannot write the recording")
            }
        }
    }

    async fn set_mix(&mut self, mix: Mix) {
        let gone: Vec<String> = self.legs.keys().filter(|u| !mix.has(u)).cloned().collect();
        for u in gone {
            if let Some(leg) = self.legs.remove(&u) {
                close_leg(&self.sid, &u, leg).await;
            }
        }
        if let Some((gen, s)) = &mix.sound {
            if self.sound_gen != Some(*gen) {
                self.sound_gen = Some(*gen);
                let clip = match s {
                    Sound::Asset(name) => sound::asset(name),
                    Sound::Tones(t) => sound::tones(t),
                };
                match clip {
                    Ok(c) => self.voice.start(c, false),
                    Err(e) => {
                        tracing::warn!(session = %self.sid, error = %e, "cannot play the sound")
                    }
                }
            }
        }
        let music = mix.held || (mix.waiting && self.line.is_some());
        if music && !self.hold.is_playing() {
            match sound::asset("hold") {
                Ok(c) => self.hold.start(c, true),
                Err(e) => tracing::warn!(error = %e, "no hold music"),
            }
        } else if !music {
            self.hold.stop();
        }
        self.mix = mix;
    }

    /// Synthesise a sentence off the audio task; it joins the queue in the
    /// order it was said.
    fn synthesize(&mut self, text: String, voice: Voice) {
        let n = self.say_next;
        self.say_next += 1;
        let tts = self.speech.tts.clone();
        let tx = self.said_tx.clone();
        tokio::task::spawn_blocking(move || {
            let clip = match tts {
                None => Err("text to speech is not available".to_string()),
                Some(t) => t
                    .synthesize(&text, voice)
                    .map_err(|e| e.to_string())
                    .and_then(|pcm| Clip::from_pcm(pcm).map_err(|e| e.to_string())),
            };
            let _ = tx.send((n, text, clip));
        });
    }

    /// When nothing else plays, the next sentence in order starts; one that
    /// could not be synthesised goes back to the center as text.
    fn next_sentence(&mut self) {
        while !self.voice.is_playing() {
            let Some((text, clip)) = self.ready.remove(&self.say_play) else {
                return;
            };
            self.say_play += 1;
            match clip {
                Ok(c) => self.voice.start(c, false),
                Err(why) => {
                    tracing::warn!(session = %self.sid, %why, "cannot speak; sent as text");
                    (self.report)(BridgeEvent::SayAsText {
                        session: self.sid.clone(),
                        text,
                    });
                }
            }
        }
    }

    /// The two recognition legs, started with the first frame of a call
    /// that has a customer (internal calls are not transcribed).
    fn start_transcript(&mut self) {
        let Some(model) = &self.speech.model else {
            return;
        };
        let offset = self.since_start_ms + self.epoch.elapsed().as_millis() as u64;
        let leg = |flow: Flow| {
            let report = self.report.clone();
            let sid = self.sid.clone();
            crate::speech::spawn_leg(model, move |e: AsrEvent| {
                report(BridgeEvent::Asr {
                    session: sid.clone(),
                    flow,
                    result: AsrResult {
                        index: e.index,
                        slice_type: e.slice_type,
                        start_time: offset + e.start_ms,
                        end_time: offset + e.end_ms,
                        text: e.text,
                    },
                });
            })
        };
        self.asr = Some(Transcribe {
            inbound: leg(Flow::In),
            outbound: leg(Flow::Out),
        });
    }

    async fn add_leg(&mut self, user: String, mut peer: Peer) {
        if !self.mix.has(&user) {
            // Left the call while negotiating.
            peer.close().await;
            return;
        }
        let (Some(inbound), Ok(writer), Some(pts)) =
            (peer.take_inbound(), peer.writer(), peer.payload_types())
        else {
            peer.close().await;
            return;
        };
        let decoder = match Decoder::new(RATE) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "no Opus decoder");
                peer.close().await;
                return;
            }
        };
        let leg = Leg::Rtc(Box::new(RtcLeg {
            peer,
            writer,
            inbound,
            jitter: JitterBuffer::new(MAX_DEPTH),
            decoder,
            encoder: None,
            dtmf: DtmfReceiver::new(),
            opus_pt: pts.opus,
            dtmf_pt: pts.dtmf,
        }));
        tracing::debug!(session = %self.sid, %user, "audio leg attached");
        if let Some(old) = self.legs.insert(user.clone(), leg) {
            close_leg(&self.sid, &user, old).await;
        }
    }

    /// A phone joined the call: the seats' encoders are made again, for a
    /// phone call ([`mixing_encoder`]).
    fn reset_encoders(&mut self) {
        for leg in self.legs.values_mut() {
            if let Leg::Rtc(l) = leg {
                l.encoder = None;
            }
        }
    }

    /// `user`'s desk phone or mobile, answered, as the seat's audio.
    async fn add_phone(&mut self, user: String, line: Box<dyn PhoneLine>) {
        if !self.mix.has(&user) {
            // Left the call while the phone was answered: hung up from the
            // center's side already.
            return;
        }
        tracing::debug!(session = %self.sid, %user, "phone leg attached");
        self.reset_encoders();
        if let Some(old) = self.legs.insert(user.clone(), Leg::Phone(line)) {
            close_leg(&self.sid, &user, old).await;
        }
    }
}

async fn close_leg(sid: &str, user: &str, leg: Leg) {
    let leg = match leg {
        Leg::Rtc(l) => l,
        Leg::Phone(_) => {
            tracing::info!(session = %sid, %user, "phone leg closed");
            return;
        }
    };
    {
        let st = leg.jitter.stats();
        tracing::info!(
            session = %sid, %user,
            received = st.received, lost = st.lost, late = st.late,
            jitter_ms = format!("{:.1}", st.jitter_ms),
            sent = leg.writer.sent(),
            "audio leg closed"
        );
        leg.peer.close().await;
    }
}

impl Task {
    /// One 20 ms step.
    async fn tick(&mut self) {
        let now_ms = self.epoch.elapsed().as_secs_f64() * 1000.0;
        self.next_sentence();
        // The samples are needed to record, to transcribe, or to mix two
        // or more voices for someone; else every packet passes unchanged.
        let unmuted = self.mix.talkers.iter().filter(|(_, m)| !m).count();
        let voice = usize::from(self.mix.customer && self.voice.is_playing() && !self.mix.held);
        let sources = unmuted + voice;
        let someone_hears_two = self
            .mix
            .talkers
            .iter()
            .any(|(_, muted)| sources - usize::from(!muted) >= 2)
            || (!self.mix.listeners.is_empty() && sources >= 2);
        let phones = self.legs.values().any(|l| matches!(l, Leg::Phone(_)));
        let need_pcm = !self.mix.coaches.is_empty()
            || self.wav.is_some()
            || (self.mix.customer && self.speech.model.is_some())
            || someone_hears_two
            || self.line.is_some()
            || phones;
        // What each seat said this frame.
        let mut said: HashMap<String, Heard> = HashMap::new();
        let mut digits = Vec::new();
        for (user, leg) in self.legs.iter_mut() {
            let heard = match leg {
                Leg::Rtc(leg) => {
                    let epoch = self.epoch;
                    leg.hear(epoch, now_ms, need_pcm, &mut |d| {
                        digits.push((user.clone(), d))
                    })
                }
                Leg::Phone(line) => {
                    for d in line.digits() {
                        digits.push((user.clone(), d));
                    }
                    line.next_frame().map(|pcm| Heard { pcm, packet: None })
                }
            };
            if let Some(h) = heard {
                said.insert(user.clone(), h);
            }
        }
        for (user, digit) in digits {
            // A seat's key press goes to the caller's phone line as it came.
            if let Some(line) = self.line.as_mut() {
                line.send_digit(digit);
            }
            (self.report)(BridgeEvent::Digit(HeardDigit {
                session: self.sid.clone(),
                user,
                digit,
            }));
        }
        // What the caller said on the phone line, and the keys pressed.
        let (line_says, line_digits) = match self.line.as_mut() {
            Some(line) => (line.next_frame(), line.digits()),
            None => (None, Vec::new()),
        };
        for digit in line_digits {
            (self.report)(BridgeEvent::CustomerDigit {
                session: self.sid.clone(),
                digit,
            });
        }

        let held = self.mix.held;
        if self.asr.is_none() && self.mix.customer && self.speech.model.is_some() {
            self.start_transcript();
        }
        let played = if self.mix.customer {
            self.voice.next_frame().map(|(pcm, p)| Heard {
                pcm,
                packet: Some(p),
            })
        } else {
            None
        };
        // The customer's side: the phone line's caller, and what the
        // server plays as the customer (both, mixed, when both sound).
        let customer_says = match (played, line_says) {
            (p, None) => p,
            (None, Some(pcm)) => Some(Heard { pcm, packet: None }),
            (Some(p), Some(pcm)) => Some(Heard {
                pcm: mix_pcm(&[&p, &Heard { pcm, packet: None }]),
                packet: None,
            }),
        };
        let waiting = self.mix.waiting && self.line.is_some();
        let music = if held || waiting {
            self.hold.next_frame().map(|(pcm, p)| Heard {
                pcm,
                packet: Some(p),
            })
        } else {
            None
        };
        // Muted seats say nothing. On hold the customer hears none of the
        // seats (the hold sound), but seats in a consult hear each other.
        let seats_say: Vec<(&str, &Heard)> = self
            .mix
            .talkers
            .iter()
            .filter(|(_, muted)| !muted)
            .filter_map(|(u, _)| said.get(u).map(|h| (u.as_str(), h)))
            .collect();
        let talking: &[(&str, &Heard)] = if held { &[] } else { &seats_say };
        // What coaching supervisors say: for the seats' ears only.
        let coaching: Vec<&Heard> = self
            .mix
            .coaches
            .iter()
            .filter_map(|u| said.get(u))
            .collect();
        let customer_voice = if held { None } else { customer_says.as_ref() };

        // What the customer hears.
        let customer_hears: Vec<&Heard> = if held || waiting {
            music.iter().collect()
        } else {
            talking.iter().map(|(_, h)| *h).collect()
        };
        if let Some(line) = self.line.as_mut() {
            line.send_frame(&mix_pcm(&customer_hears));
        }

        // Send each seat what it hears.
        let silence = self.silence.clone();
        let phone = self.line.is_some() || phones;
        let talkers: Vec<String> = self.mix.talkers.iter().map(|(u, _)| u.clone()).collect();
        for (user, leg) in self.legs.iter_mut() {
            let is_talker = talkers.iter().any(|t| t == user);
            let mut parts: Vec<&Heard> = Vec::with_capacity(3);
            if held && is_talker {
                // The other seats of a consult, if any, and a coach.
                parts.extend(seats_say.iter().filter(|(u, _)| u != user).map(|(_, h)| *h));
                parts.extend(coaching.iter().copied());
                if parts.is_empty() {
                    match leg {
                        Leg::Rtc(l) => l.writer.skip_frame(),
                        // A phone keeps its RTP flowing: silence.
                        Leg::Phone(line) => line.send_frame(&mix_pcm(&[])),
                    }
                    continue;
                }
            } else if is_talker {
                parts.extend(customer_voice);
                parts.extend(talking.iter().filter(|(u, _)| u != user).map(|(_, h)| *h));
                parts.extend(coaching.iter().copied());
            } else {
                // A monitor hears both sides, as the customer and the seat do.
                parts.extend(customer_voice);
                parts.extend(customer_hears.iter().copied());
            }
            let leg = match leg {
                Leg::Rtc(l) => l,
                Leg::Phone(line) => {
                    line.send_frame(&mix_pcm(&parts));
                    continue;
                }
            };
            let packet = match parts.as_slice() {
                [] => silence.clone(),
                [one] if one.packet.is_some() => one.packet.clone().unwrap_or_default(),
                _ => {
                    let pcm = mix_pcm(&parts);
                    if leg.encoder.is_none() {
                        leg.encoder = mixing_encoder(phone);
                    }
                    match leg.encoder.as_mut().map(|e| e.encode(&pcm)) {
                        Some(Ok(p)) => Bytes::from(p),
                        _ => silence.clone(),
                    }
                }
            };
            leg.writer.send_frame(packet).await;
        }

        // The transcript: every frame of both sides, silence included (the
        // recogniser's clock is the frame count).
        // Paused for a card payment: the recogniser and the recording get
        // silence (their clocks run on).
        let paused = self.mix.recording_paused;
        if let Some(asr) = self.asr.as_ref().filter(|_| paused) {
            const QUIET: [i16; crate::speech::FRAME_SAMPLES] = [0; crate::speech::FRAME_SAMPLES];
            asr.inbound.push(&QUIET);
            asr.outbound.push(&QUIET);
        } else if let Some(asr) = &self.asr {
            const QUIET: [i16; crate::speech::FRAME_SAMPLES] = [0; crate::speech::FRAME_SAMPLES];
            asr.inbound
                .push(customer_says.as_ref().map_or(&QUIET[..], |h| &h.pcm));
            let seats: Vec<&Heard> = talking.iter().map(|(_, h)| *h).collect();
            if seats.is_empty() {
                asr.outbound.push(&QUIET);
            } else {
                asr.outbound.push(&mix_pcm(&seats));
            }
        }

        // The recording: left the customer, right what the customer hears.
        if let Some(w) = self.wav.as_mut() {
            let n = frame_len(RATE);
            let left = customer_says
                .as_ref()
                .map(|h| h.pcm.as_slice())
                .filter(|_| !paused);
            let right = if paused {
                Vec::new()
            } else {
                mix_pcm(&customer_hears)
            };
            // hound's 16-bit writer: one bounds check for the frame, not
            // one call per sample.
            let mut frame = w.get_i16_writer(2 * n as u32);
            for i in 0..n {
                let l = left.and_then(|l| l.get(i)).copied().unwrap_or(0);
                let r = right.get(i).copied().unwrap_or(0);
                frame.write_sample(l);
                frame.write_sample(r);
            }
            if frame.flush().is_ok() {
                self.frames_recorded += 1;
            } else {
                tracing::warn!(session = %self.sid, "recording write failed; recording stops");
                self.wav = None;
            }
        }
    }

    async fn finish(mut self) {
        let legs: Vec<(String, Leg)> = self.legs.drain().collect();
        for (u, leg) in legs {
            close_leg(&self.sid, &u, leg).await;
        }
        if let (Some(w), Some(path)) = (self.wav.take(), &self.recording) {
            match w.finalize() {
                Ok(()) => tracing::info!(
                    session = %self.sid,
                    path = %path.display(),
                    seconds = self.frames_recorded * FRAME_MS as u64 / 1000,
                    "recording written"
                ),
                Err(e) => {
                    tracing::warn!(session = %self.sid, path = %path.display(), error = %e, "recording not finished")
                }
            }
        }
    }
}

/// An encoder for what the server mixes or transcodes for a leg, every
/// 20 ms. On a call with a phone line, what a seat hears is the caller's
/// G.711 (4 kHz of audio at most): the encoder is held to narrowband at
/// complexity 1, the cheapest quantiser, since a wider band or a
/// delayed-decision search adds nothing a G.711 source has, and that is
/// most of the server's CPU per SIP call (see docs/BENCHMARKS.md). Other
/// calls keep Opus's defaults (wideband, complexity 10).
fn mixing_encoder(phone: bool) -> Option<Encoder> {
    let mut e = Encoder::new(RATE).ok()?;
    if phone {
        let set = e
            .set_complexity(PHONE_COMPLEXITY)
            .and_then(|()| e.set_narrowband(true));
        if let Err(err) = set {
            tracing::debug!(error = %err, "the encoder keeps its defaults");
        }
    }
    Some(e)
}

/// Opus complexity for a phone call's legs (see [`mixing_encoder`]).
const PHONE_COMPLEXITY: i32 = 1;

/// Sum frames sample by sample, saturating.
fn mix_pcm(parts: &[&Heard]) -> Vec<i16> {
    let n = frame_len(RATE);
    let mut out = vec![0i32; n];
    for p in parts {
        for (o, s) in out.iter_mut().zip(p.pcm.iter()) {
            *o += *s as i32;
        }
    }
    out.into_iter()
        .map(|v| v.clamp(i16::MIN as i32, i16::MAX as i32) as i16)
        .collect()
}
