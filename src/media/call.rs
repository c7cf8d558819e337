//! The terminal's side of one session's audio: a peer connection with the
//! server, the microphone encoded to Opus, the server's audio through a
//! jitter buffer to the speaker, in-band DTMF, mute and hold.
//!
//! It is driven by commands ([`CallCmd`]) and reports by events
//! ([`CallEvent`]) so that the terminal's reducer decides everything and
//! this task only carries audio: it makes the offer, waits for the answer
//! (the reducer sends `Media.offer` and passes the answer back), then runs.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;

use super::codec::{Decoder, Encoder};
use super::device::{self, AudioKind, Backend};
use super::jitter::{JitterBuffer, Playout};
use super::rtc::{Peer, PeerState, RtpIn, RtpWriter};
use super::{analysis, dtmf, frame_len, MediaError, FRAME_MS};

/// How long one DTMF tone lasts.
pub const DTMF_TONE_MS: u32 = 120;
/// Frames the terminal's jitter buffer may hold.
const MAX_DEPTH: usize = 10;

/// What the terminal tells a call's audio.
#[derive(Debug, Clone, PartialEq)]
pub enum CallCmd {
    /// The server's answer to our offer.
    Answer(String),
    Mute(bool),
    Hold(bool),
    /// Send these digits in-band (RFC 4733), one after another.
    Digits(String),
    /// Speak: mix these samples (16 kHz mono) into what the microphone
    /// sends, after anything still being said (the demo's autopilot talks
    /// this way).
    Say(Vec<i16>),
    Stop,
}

/// The speech still to be mixed into the microphone, at the capture rate.
#[derive(Default)]
struct Speaking {
    pending: VecDeque<i16>,
}

impl Speaking {
    fn queue(&mut self, pcm16k: &[i16], rate: u32) {
        self.pending
            .extend(super::device::resample(pcm16k, 16_000, rate));
    }

    /// The frame with the next stretch of speech added in (saturating).
    fn mix(&mut self, frame: &[i16]) -> Option<Vec<i16>> {
        if self.pending.is_empty() {
            return None;
        }
        Some(
            frame
                .iter()
                .map(|&s| s.saturating_add(self.pending.pop_front().unwrap_or(0)))
                .collect(),
        )
    }
}

/// How a call's audio is doing (for the status pane).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AudioStats {
    pub state: Option<PeerState>,
    /// Percent of the server's packets lost so far.
    pub loss_percent: f64,
    /// Interarrival jitter of the server's packets, ms.
    pub jitter_ms: f64,
    /// The microphone's level over the last frame, dBFS.
    pub mic_dbfs: f32,
    pub sent: u64,
    pub received: u64,
    /// Whether in-band DTMF is possible (the server took telephone-event).
    pub dtmf: bool,
}

/// What a call's audio tells the terminal.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    /// Send this offer with `Media.offer`.
    Offer(String),
    /// The audio devices in use; `notice` says why they are not the system's.
    Devices {
        kind: AudioKind,
        notice: Option<String>,
    },
    Stats(AudioStats),
    /// The audio stopped for good (the call goes on without it).
    Failed(String),
}

/// Start the audio of session `sid`. `ip` is the address to bind (the
/// server's side of the same network); `report` receives the events.
pub fn spawn<F>(ip: IpAddr, backend: Backend, report: F) -> mpsc::UnboundedSender<CallCmd>
where
    F: Fn(CallEvent) + Send + Sync + 'static,
{
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        if let Err(e) = run(ip, backend, rx, &report).await {
            report(CallEvent::Failed(e.to_string()));
        }
    });
    tx
}

struct Sender {
    writer: RtpWriter,
    encoder: Encoder,
    silence: Bytes,
    muted: bool,
    held: bool,
    /// DTMF packets still to send: (marker, payload, event timestamp), one per frame
    /// except the end packets, which go together.
    dtmf: VecDeque<(bool, [u8; 4], u32)>,
    digits: VecDeque<char>,
}

impl Sender {
    async fn frame(&mut self, pcm: &[i16]) {
        if self.held {
            // Nothing is carried while held.
            self.writer.skip_frame();
            return;
        }
        let packet = if self.muted {
            self.silence.clone()
        } else {
            match self.encoder.encode(pcm) {
                Ok(p) => Bytes::from(p),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot encode a frame");
                    self.silence.clone()
                }
            }
        };
        self.writer.send_frame(packet).await;
        self.dtmf_step().await;
    }

    async fn dtmf_step(&mut self) {
        if self.dtmf.is_empty() {
            if let Some(d) = self.digits.pop_front() {
                let ts = self.writer.timestamp();
                if let Some(pkts) = dtmf::digit_packets(d, DTMF_TONE_MS) {
                    self.dtmf.extend(pkts.into_iter().map(|(m, p)| (m, p, ts)));
                }
            }
        }
        if let Some((m, p, ts)) = self.dtmf.pop_front() {
            self.writer.send_dtmf(ts, m, p).await;
            let end = dtmf::decode(&p).is_some_and(|e| e.end);
            if end {
                // The redundant end packets go at once.
                while self
                    .dtmf
                    .front()
                    .is_some_and(|(_, p, _)| dtmf::decode(p).is_some_and(|e| e.end))
                {
                    if let Some((m, p, ts)) = self.dtmf.pop_front() {
                        self.writer.send_dtmf(ts, m, p).await;
                    }
                }
            }
        }
    }
}

async fn run<F>(
    ip: IpAddr,
    backend: Backend,
    mut rx: mpsc::UnboundedReceiver<CallCmd>,
    report: &F,
) -> Result<(), MediaError>
where
    F: Fn(CallEvent) + Send + Sync,
{
    let mut audio = device::open(backend);
    report(CallEvent::Devices {
        kind: audio.kind,
        notice: audio.notice.clone(),
    });
    let mut peer = Peer::new(ip).await?;
    let offer = peer.create_offer().await?;
    report(CallEvent::Offer(offer));
    // Wait for the answer, remembering what else was asked meanwhile.
    let mut muted = false;
    let mut held = false;
    let mut digits = VecDeque::new();
    let mut speaking = Speaking::default();
    loop {
        match rx.recv().await {
            Some(CallCmd::Answer(sdp)) => {
                peer.accept_answer(&sdp).await?;
                break;
            }
            Some(CallCmd::Mute(m)) => muted = m,
            Some(CallCmd::Hold(h)) => held = h,
            Some(CallCmd::Digits(d)) => digits.extend(d.chars()),
            Some(CallCmd::Say(pcm)) => speaking.queue(&pcm, audio.capture.rate),
            Some(CallCmd::Stop) | None => {
                peer.close().await;
                return Ok(());
            }
        }
    }
    let mut inbound = peer
        .take_inbound()
        .ok_or_else(|| MediaError::Rtc("no inbound stream".into()))?;
    let pts = peer
        .payload_types()
        .ok_or_else(|| MediaError::Rtc("not negotiated".into()))?;
    let encoder = Encoder::new(audio.capture.rate)?;
    let silence = Bytes::from(super::codec::silence_packet(audio.capture.rate)?);
    let mut sender = Sender {
        writer: peer.writer()?,
        encoder,
        silence,
        muted,
        held,
        dtmf: VecDeque::new(),
        digits,
    };
    let mut decoder = Decoder::new(audio.playback.rate)?;
    let mut jitter = JitterBuffer::new(MAX_DEPTH);
    let mut state = peer.state();
    let epoch = Instant::now();
    let mut playout = tokio::time::interval(Duration::from_millis(FRAME_MS as u64));
    playout.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut stats_every = tokio::time::interval(Duration::from_millis(500));
    let mut mic_dbfs = -96.0f32;
    let out_len = frame_len(audio.playback.rate);
    let mut last_state = None;
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(CallCmd::Answer(_)) => {}
                Some(CallCmd::Mute(m)) => sender.muted = m,
                Some(CallCmd::Hold(h)) => sender.held = h,
                Some(CallCmd::Digits(d)) => sender.digits.extend(d.chars()),
                Some(CallCmd::Say(pcm)) => speaking.queue(&pcm, audio.capture.rate),
                Some(CallCmd::Stop) | None => break,
            },
            frame = audio.capture.frames.recv() => {
                let Some(frame) = frame else { break };
                let frame = speaking.mix(&frame).unwrap_or(frame);
                mic_dbfs = analysis::dbfs(&frame);
                sender.frame(&frame).await;
            }
            p = inbound.recv() => {
                let Some(p) = p else { break };
                on_packet(&mut jitter, &p, pts.dtmf, pts.opus, epoch);
                // Drain what else arrived.
                while let Ok(p) = inbound.try_recv() {
                    on_packet(&mut jitter, &p, pts.dtmf, pts.opus, epoch);
                }
            }
            _ = playout.tick() => {
                let pcm = match jitter.pop() {
                    Playout::Packet(p) => decoder.decode(&p).unwrap_or_else(|_| decoder.conceal()),
                    Playout::Lost { fec: Some(next) } => decoder.decode_fec(&next),
                    Playout::Lost { fec: None } => decoder.conceal(),
                    Playout::Empty => vec![0; out_len],
                };
                audio.playback.push(&pcm);
            }
            _ = stats_every.tick() => {
                let st = jitter.stats();
                report(CallEvent::Stats(AudioStats {
                    state: Some(*state.borrow()),
                    loss_percent: jitter.loss_percent(),
                    jitter_ms: st.jitter_ms,
                    mic_dbfs,
                    sent: sender.writer.sent(),
                    received: st.received,
                    dtmf: sender.writer.can_send_dtmf(),
                }));
            }
            r = state.changed() => {
                if r.is_err() { break; }
                let s = *state.borrow();
                if last_state != Some(s) {
                    last_state = Some(s);
                    if matches!(s, PeerState::Failed | PeerState::Closed) {
                        peer.close().await;
                        return Err(MediaError::Rtc(format!("the audio connection {}", s.as_str())));
                    }
                }
            }
        }
    }
    peer.close().await;
    Ok(())
}

fn on_packet(
    jitter: &mut JitterBuffer,
    p: &RtpIn,
    dtmf_pt: Option<u8>,
    opus_pt: u8,
    epoch: Instant,
) {
    if Some(p.payload_type) == dtmf_pt {
        jitter.push_event(p.seq);
    } else if p.payload_type == opus_pt {
        let at = p.arrived.saturating_duration_since(epoch).as_secs_f64() * 1000.0;
        jitter.push(p.seq, p.timestamp, p.payload.to_vec(), at);
    }
}
