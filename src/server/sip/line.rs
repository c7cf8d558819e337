//! A SIP call's audio: RTP over UDP with the peer, G.711 at 8 kHz or
//! Opus, as the customer side of a session's bridge, or a seat's phone
//! ([`PhoneLine`]).
//!
//! A task reads the socket and keeps only packets from the negotiated
//! address; the bridge's 20 ms tick takes a frame out (through a jitter
//! buffer, decoded, resampled to the bridge's 16 kHz) and sends one
//! (resampled to 8 kHz and G.711-encoded, or Opus-encoded at 16 kHz).
//! RFC 4733 telephone-events go both ways at the codec's clock. A
//! re-INVITE changes the line through its [`LineControl`]: the peer's
//! address, the codec, and whether the peer holds (then nothing is sent
//! while it does not take audio). Ports come from a pool (`[sip]
//! rtp_ports`) and go back to it when the line is dropped.

use std::collections::{BTreeSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Instant;

use audio_codec_algorithms::{decode_alaw, decode_ulaw, encode_alaw, encode_ulaw};
use bytes::Bytes;
use rtc::shared::marshal::{Marshal, Unmarshal};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::sdp::{Codec, Media};
use crate::media::codec::{Decoder, Encoder};
use crate::media::device::resample;
use crate::media::dtmf::{self, DtmfReceiver};
use crate::media::frame_len;
use crate::media::jitter::{JitterBuffer, Playout};
use crate::server::media::{PhoneLine, RATE};

/// The telephone network's sample rate.
pub const G711_RATE: u32 = 8_000;
/// The jitter buffer and the DTMF receiver count at 48 kHz.
const CLOCK_48K: u32 = 48_000;
/// Packets waiting for the bridge before the reader drops them (a second).
const QUEUE: usize = 50;
/// Frames of jitter the line absorbs at most (200 ms).
const MAX_DEPTH: usize = 10;
/// Packets taken out of the jitter buffer for one frame at most (four
/// covers 5 ms packets).
const MAX_PACKETS_A_FRAME: usize = 4;
/// The longest a lost packet is taken to be, ms.
const MAX_PACKET_MS: usize = 120;
/// How long a key press sent to the caller lasts.
const TONE_MS: u32 = 160;

/// The ports RTP may use, handed out and taken back.
#[derive(Debug)]
pub struct PortPool {
    ip: IpAddr,
    first: u16,
    last: u16,
    state: Mutex<PoolState>,
}

#[derive(Debug)]
struct PoolState {
    used: BTreeSet<u16>,
    next: u16,
}

/// A port taken from the pool; it goes back when this is dropped.
#[derive(Debug)]
pub struct PortLease {
    pool: Arc<PortPool>,
    pub port: u16,
}

impl Drop for PortLease {
    fn drop(&mut self) {
        self.pool.lock().used.remove(&self.port);
    }
}

impl PortPool {
    pub fn new(ip: IpAddr, first: u16, last: u16) -> Arc<PortPool> {
        let first = first + first % 2;
        Arc::new(PortPool {
            ip,
            first,
            last,
            state: Mutex::new(PoolState {
                used: BTreeSet::new(),
                next: first,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Ports in use.
    pub fn in_use(&self) -> usize {
        self.lock().used.len()
    }

    /// A socket bound to a free even port of the range.
    pub fn bind(self: &Arc<Self>) -> std::io::Result<(UdpSocket, PortLease)> {
        let span = usize::from((self.last - self.first) / 2 + 1);
        for _ in 0..span {
            let port = {
                let mut st = self.lock();
                let port = st.next;
                st.next = if port + 2 > self.last {
                    self.first
                } else {
                    port + 2
                };
                if st.used.contains(&port) {
                    continue;
                }
                st.used.insert(port);
                port
            };
            let lease = PortLease {
                pool: self.clone(),
                port,
            };
            match bind_for_media(SocketAddr::new(self.ip, port)) {
                Ok(s) => return Ok((s, lease)),
                // Taken by something else on the machine: try the next.
                Err(_) => continue,
            }
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!(
                "no free RTP port in [{}, {}] on {}",
                self.first, self.last, self.ip
            ),
        ))
    }
}

/// A UDP socket registered with the media runtime, where the line's
/// reader and the bridge that sends on it run.
fn bind_for_media(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = std::net::UdpSocket::bind(addr)?;
    socket.set_nonblocking(true)?;
    let _media = crate::server::media::runtime().enter();
    UdpSocket::from_std(socket)
}

/// A packet as the reader passes it on.
struct In {
    pt: u8,
    seq: u16,
    ts: u32,
    payload: Bytes,
    at: Instant,
}

/// What the gateway changes on a line while its call lasts: a re-INVITE's
/// new media, taken by the line at its next frame.
#[derive(Debug)]
pub struct LineControl {
    /// The peer's IP, as the reader filters by it.
    remote_ip: RwLock<IpAddr>,
    pending: Mutex<Option<Media>>,
    changed: AtomicBool,
}

impl LineControl {
    pub(super) fn new(remote: IpAddr) -> LineControl {
        LineControl {
            remote_ip: RwLock::new(remote),
            pending: Mutex::new(None),
            changed: AtomicBool::new(false),
        }
    }

    /// The peer's SDP changed (a re-INVITE or UPDATE).
    pub fn update(&self, media: Media) {
        *self
            .remote_ip
            .write()
            .unwrap_or_else(PoisonError::into_inner) = media.remote.ip();
        *self.pending.lock().unwrap_or_else(PoisonError::into_inner) = Some(media);
        self.changed.store(true, Ordering::Release);
    }

    fn remote_ip(&self) -> IpAddr {
        *self
            .remote_ip
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn take(&self) -> Option<Media> {
        if !self.changed.swap(false, Ordering::Acquire) {
            return None;
        }
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// The codec's state on a line.
enum Voice {
    /// G.711 (PCMU or PCMA): stateless, at 8 kHz.
    G711(Codec),
    /// Opus, encoded and decoded at the bridge's rate.
    Opus {
        enc: Box<Encoder>,
        dec: Box<Decoder>,
    },
}

impl Voice {
    fn new(codec: Codec) -> Voice {
        if codec == Codec::Opus {
            match (Encoder::new(RATE), Decoder::new(RATE)) {
                (Ok(enc), Ok(dec)) => {
                    return Voice::Opus {
                        enc: Box::new(enc),
                        dec: Box::new(dec),
                    }
                }
                (Err(e), _) | (_, Err(e)) => {
                    // Cannot happen at 16 kHz; heard as silence if it does.
                    tracing::warn!(error = %e, "sip: no Opus codec; the line sends G.711");
                }
            }
        }
        Voice::G711(codec)
    }

    /// The rate it decodes to and encodes from.
    fn rate(&self) -> u32 {
        match self {
            Voice::G711(_) => G711_RATE,
            Voice::Opus { .. } => RATE,
        }
    }

    /// The RTP clock.
    fn clock(&self) -> u32 {
        match self {
            Voice::G711(_) => G711_RATE,
            Voice::Opus { .. } => CLOCK_48K,
        }
    }

    fn decode(&mut self, payload: &[u8]) -> Vec<i16> {
        match self {
            Voice::G711(Codec::Pcma) => payload.iter().map(|b| decode_alaw(*b)).collect(),
            Voice::G711(_) => payload.iter().map(|b| decode_ulaw(*b)).collect(),
            Voice::Opus { dec, .. } => dec.decode(payload).unwrap_or_else(|_| dec.conceal()),
        }
    }

    /// `len` samples where a packet was lost: Opus conceals, G.711 has
    /// nothing to conceal with (silence).
    fn lost(&mut self, len: usize) -> Vec<i16> {
        match self {
            Voice::Opus { dec, .. } => dec.conceal(),
            Voice::G711(_) => vec![0; len],
        }
    }

    /// One 20 ms frame at the bridge's rate, encoded.
    fn encode(&mut self, pcm: &[i16]) -> Vec<u8> {
        match self {
            Voice::G711(codec) => {
                let codec = *codec;
                let mut pcm8 = resample(pcm, RATE, G711_RATE);
                // Silence pads a short frame.
                pcm8.resize(frame_len(G711_RATE), 0);
                match codec {
                    Codec::Pcma => pcm8.iter().map(|s| encode_alaw(*s)).collect(),
                    _ => pcm8.iter().map(|s| encode_ulaw(*s)).collect(),
                }
            }
            Voice::Opus { enc, .. } => {
                let mut frame = pcm.to_vec();
                frame.resize(frame_len(RATE), 0);
                enc.encode(&frame).unwrap_or_default()
            }
        }
    }
}

/// One call's RTP with the peer.
pub struct RtpLine {
    /// The socket's reading side (the reader task holds it too).
    _socket: Arc<UdpSocket>,
    /// The same socket, for sending straight to the kernel: tokio's
    /// `try_send_to` answers WouldBlock until its driver has seen the
    /// socket writable, which would drop a new line's first frames.
    sender: Option<std::net::UdpSocket>,
    remote: SocketAddr,
    voice: Voice,
    pt: u8,
    dtmf_pt: Option<u8>,
    /// The peer takes audio (it does not hold the call).
    sending: bool,
    control: Arc<LineControl>,
    rx: mpsc::Receiver<In>,
    reader: tokio::task::JoinHandle<()>,
    jitter: JitterBuffer,
    dtmf_in: DtmfReceiver,
    heard: Vec<char>,
    epoch: Instant,
    /// What was received, decoded at the voice's rate and not yet played:
    /// packets of any length (10, 20, 30 ms...) become 20 ms frames.
    decoded: VecDeque<i16>,
    /// Samples in the peer's last packet: how much a lost one leaves out.
    packet_len: usize,
    // Sending.
    seq: u16,
    ts: u32,
    ssrc: u32,
    started: bool,
    /// Telephone-event packets to send, one a frame: (marker, payload, event timestamp).
    dtmf_out: VecDeque<(bool, [u8; 4], u32)>,
    _lease: PortLease,
}

impl RtpLine {
    /// The line on `socket` (from [`PortPool::bind`]) with a peer whose SDP
    /// said `media`.
    pub fn new(socket: UdpSocket, lease: PortLease, media: &Media) -> RtpLine {
        let sender = dup_socket(&socket);
        let socket = Arc::new(socket);
        let (tx, rx) = mpsc::channel(QUEUE);
        let control = Arc::new(LineControl::new(media.remote.ip()));
        let reader =
            crate::server::media::runtime().spawn(read(socket.clone(), control.clone(), tx));
        let voice = Voice::new(media.codec);
        let packet_len = frame_len(voice.rate());
        RtpLine {
            _socket: socket,
            sender,
            remote: media.remote,
            voice,
            pt: media.pt,
            dtmf_pt: media.dtmf_pt,
            sending: media.peer_receives(),
            control,
            rx,
            reader,
            jitter: JitterBuffer::new(MAX_DEPTH),
            dtmf_in: DtmfReceiver::new(),
            heard: Vec::new(),
            epoch: Instant::now(),
            decoded: VecDeque::new(),
            packet_len,
            seq: rand::random(),
            ts: rand::random(),
            ssrc: rand::random(),
            started: false,
            dtmf_out: VecDeque::new(),
            _lease: lease,
        }
    }

    /// Where the gateway changes this line (a re-INVITE).
    pub fn control(&self) -> Arc<LineControl> {
        self.control.clone()
    }

    /// A re-INVITE's media: the peer's address, codec and direction.
    fn apply(&mut self, media: Media) {
        tracing::debug!(remote = %media.remote, codec = ?media.codec, direction = ?media.direction, "sip: the line changes");
        let codec_changed = match &self.voice {
            Voice::G711(c) => *c != media.codec,
            Voice::Opus { .. } => media.codec != Codec::Opus,
        };
        if codec_changed {
            self.voice = Voice::new(media.codec);
            self.packet_len = frame_len(self.voice.rate());
            self.decoded.clear();
            self.jitter = JitterBuffer::new(MAX_DEPTH);
            // The new stream starts afresh (a marker; the timestamp runs on).
            self.started = false;
        }
        self.remote = media.remote;
        self.pt = media.pt;
        self.dtmf_pt = media.dtmf_pt;
        self.sending = media.peer_receives();
    }

    /// RTP timestamp ticks in one 20 ms frame.
    fn frame_ticks(&self) -> u32 {
        self.voice.clock() / 50
    }

    fn send(&mut self, pt: u8, marker: bool, ts: u32, payload: Bytes) {
        let pkt = rtc::rtp::Packet {
            header: rtc::rtp::Header {
                version: 2,
                marker,
                payload_type: pt,
                sequence_number: self.seq,
                timestamp: ts,
                ssrc: self.ssrc,
                ..Default::default()
            },
            payload,
        };
        self.seq = self.seq.wrapping_add(1);
        match pkt.marshal() {
            // A full socket buffer drops the frame, as the network would.
            Ok(b) => {
                if let Some(s) = &self.sender {
                    let _ = s.send_to(&b, self.remote);
                }
            }
            Err(e) => tracing::debug!(error = %e, "sip: an RTP packet not written"),
        }
    }
}

impl Drop for RtpLine {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// A second handle on `socket` (the same open socket, non-blocking as the
/// pool set it), for sending without tokio's readiness.
fn dup_socket(socket: &UdpSocket) -> Option<std::net::UdpSocket> {
    use std::os::fd::AsFd;
    match socket.as_fd().try_clone_to_owned() {
        Ok(fd) => Some(std::net::UdpSocket::from(fd)),
        Err(e) => {
            tracing::warn!(error = %e, "sip: an RTP socket could not be shared; the line sends nothing");
            None
        }
    }
}

/// Read the socket until the line is dropped: RTP from the peer only.
async fn read(socket: Arc<UdpSocket>, control: Arc<LineControl>, tx: mpsc::Sender<In>) {
    let mut buf = vec![0u8; 1500];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf).await else {
            return;
        };
        // Only the negotiated peer is heard (its IP: NATs and some PBXes
        // send from another port than they announced).
        if from.ip() != control.remote_ip() {
            continue;
        }
        let Some(data) = buf.get(..n) else { continue };
        let Ok(p) = rtc::rtp::Packet::unmarshal(&mut &data[..]) else {
            continue;
        };
        let packet = In {
            pt: p.header.payload_type,
            seq: p.header.sequence_number,
            ts: p.header.timestamp,
            payload: p.payload,
            at: Instant::now(),
        };
        if tx.try_send(packet).is_err() && tx.is_closed() {
            return;
        }
    }
}

impl PhoneLine for RtpLine {
    fn next_frame(&mut self) -> Option<Vec<i16>> {
        if let Some(media) = self.control.take() {
            self.apply(media);
        }
        let now_ms = self.epoch.elapsed().as_secs_f64() * 1000.0;
        let to_48k = CLOCK_48K / self.voice.clock();
        while let Ok(p) = self.rx.try_recv() {
            if Some(p.pt) == self.dtmf_pt {
                self.jitter.push_event(p.seq);
                if let Some(d) = self.dtmf_in.push(p.ts.wrapping_mul(to_48k), &p.payload) {
                    self.heard.push(d);
                }
            } else if p.pt == self.pt {
                let at = p.at.saturating_duration_since(self.epoch).as_secs_f64() * 1000.0;
                self.jitter.push(
                    p.seq,
                    p.ts.wrapping_mul(to_48k),
                    p.payload.to_vec(),
                    at.min(now_ms),
                );
            }
        }
        // A packet is taken out only when what is decoded falls short of a
        // frame, so a peer sending 30 ms packets is played at its pace (two
        // packets in three frames), and one sending 10 ms packets too.
        let frame = frame_len(self.voice.rate());
        let longest = self.voice.rate() as usize * MAX_PACKET_MS / 1000;
        let mut taken = 0;
        while self.decoded.len() < frame && taken < MAX_PACKETS_A_FRAME {
            taken += 1;
            match self.jitter.pop() {
                Playout::Packet(p) => {
                    let pcm = self.voice.decode(&p);
                    self.packet_len = pcm.len().clamp(1, longest);
                    self.decoded.extend(pcm);
                }
                Playout::Lost { .. } => {
                    let pcm = self.voice.lost(self.packet_len);
                    self.decoded.extend(pcm);
                }
                Playout::Empty => break,
            }
        }
        if self.decoded.len() < frame {
            // Nothing (or not a whole frame) yet: silence this frame, and
            // what came stays for the next.
            return None;
        }
        let pcm: Vec<i16> = self.decoded.drain(..frame).collect();
        Some(if self.voice.rate() == RATE {
            pcm
        } else {
            resample(&pcm, self.voice.rate(), RATE)
        })
    }

    fn digits(&mut self) -> Vec<char> {
        std::mem::take(&mut self.heard)
    }

    fn send_frame(&mut self, pcm: &[i16]) {
        if let Some((marker, payload, ts)) = self.dtmf_out.pop_front() {
            if let Some(pt) = self.dtmf_pt {
                self.send(pt, marker, ts, Bytes::copy_from_slice(&payload));
                // The end packets go out together, as RFC 4733 asks.
                while self
                    .dtmf_out
                    .front()
                    .is_some_and(|(_, p, _)| dtmf::decode(p).is_some_and(|e| e.end))
                    && dtmf::decode(&payload).is_some_and(|e| e.end)
                {
                    if let Some((m, p, t)) = self.dtmf_out.pop_front() {
                        self.send(pt, m, t, Bytes::copy_from_slice(&p));
                    }
                }
            }
            self.ts = self.ts.wrapping_add(self.frame_ticks());
            return;
        }
        if !self.sending {
            // The peer holds the call and takes no audio: the clock runs on.
            self.ts = self.ts.wrapping_add(self.frame_ticks());
            return;
        }
        let payload = self.voice.encode(pcm);
        let marker = !self.started;
        self.started = true;
        let ts = self.ts;
        if !payload.is_empty() {
            self.send(self.pt, marker, ts, Bytes::from(payload));
        }
        self.ts = self.ts.wrapping_add(self.frame_ticks());
    }

    fn send_digit(&mut self, digit: char) {
        if self.dtmf_pt.is_none() {
            tracing::debug!(%digit, "sip: the peer takes no telephone-events; the key is not sent");
            return;
        }
        let Some(packets) = dtmf::digit_packets_at(digit, TONE_MS, self.voice.clock()) else {
            return;
        };
        // Every packet of an event carries the timestamp it started at.
        let start = self
            .ts
            .wrapping_add(self.frame_ticks() * self.dtmf_out.len() as u32);
        for (marker, payload) in packets {
            self.dtmf_out.push_back((marker, payload, start));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ports_are_even_reused_and_run_out_cleanly() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        // Four ports: two even ones. Pick a high range unlikely to be used.
        let pool = PortPool::new(ip, 47100, 47103);
        let (a, la) = pool.bind().unwrap();
        let (_b, lb) = pool.bind().unwrap();
        assert_eq!((la.port % 2, lb.port % 2), (0, 0));
        assert_ne!(la.port, lb.port);
        assert_eq!(pool.in_use(), 2);
        let err = pool.bind().unwrap_err();
        assert!(err.to_string().contains("no free RTP port"), "{err}");
        drop(a);
        drop(la);
        assert_eq!(pool.in_use(), 1);
        let (_c, lc) = pool.bind().unwrap();
        assert_eq!(lc.port, 47100);
    }

    #[tokio::test]
    async fn thirty_millisecond_packets_play_as_twenty_millisecond_frames() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let pool = PortPool::new(ip, 47110, 47119);
        let (socket, lease) = pool.bind().unwrap();
        let to = socket.local_addr().unwrap();
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let media = Media {
            remote: peer.local_addr().unwrap(),
            codec: Codec::Pcmu,
            pt: 0,
            dtmf_pt: None,
            direction: Direction::SendRecv,
        };
        let mut line = RtpLine::new(socket, lease, &media);
        // Six packets of 30 ms (240 samples) of a loud µ-law value.
        for i in 0..6u16 {
            let pkt = rtc::rtp::Packet {
                header: rtc::rtp::Header {
                    version: 2,
                    payload_type: 0,
                    sequence_number: 100 + i,
                    timestamp: 8_000 + u32::from(i) * 240,
                    ssrc: 7,
                    ..Default::default()
                },
                payload: Bytes::from(vec![encode_ulaw(8_000); 240]),
            };
            peer.send_to(&pkt.marshal().unwrap(), to).await.unwrap();
        }
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while line.rx.len() < 6 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the packets arrive");
        // 1,440 samples: nine whole 20 ms frames, each at 16 kHz, loud
        // throughout, then nothing.
        let mut frames = 0;
        while let Some(f) = line.next_frame() {
            assert_eq!(f.len(), 320);
            assert!(f[10..310].iter().all(|s| s.abs() > 4_000), "frame {frames}");
            frames += 1;
            assert!(frames <= 9, "more frames than were sent");
        }
        assert_eq!(frames, 9);
    }

    /// A line to a peer socket of the test's, speaking `codec` as `pt`.
    async fn line_to_peer(
        ports: (u16, u16),
        codec: Codec,
        pt: u8,
    ) -> (RtpLine, UdpSocket, SocketAddr) {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let pool = PortPool::new(ip, ports.0, ports.1);
        let (socket, lease) = pool.bind().unwrap();
        let to = socket.local_addr().unwrap();
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let media = Media {
            remote: peer.local_addr().unwrap(),
            codec,
            pt,
            dtmf_pt: None,
            direction: Direction::SendRecv,
        };
        (RtpLine::new(socket, lease, &media), peer, to)
    }

    async fn next_packet(peer: &UdpSocket) -> rtc::rtp::Packet {
        let mut buf = [0u8; 1500];
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), peer.recv(&mut buf))
            .await
            .expect("a packet")
            .unwrap();
        rtc::rtp::Packet::unmarshal(&mut &buf[..n]).unwrap()
    }

    use super::super::sdp::Direction;
    use crate::media::analysis::{dominant, tone};

    #[tokio::test]
    async fn a_holding_peer_is_sent_nothing_and_a_new_codec_is_spoken() {
        let (mut line, peer, _) = line_to_peer((47120, 47129), Codec::Pcmu, 0).await;
        let voice = tone(RATE, &[700.0], 20, 0.4);
        line.send_frame(&voice);
        let first = next_packet(&peer).await;
        assert_eq!(first.header.payload_type, 0);
        let control = line.control();
        let held = Media {
            remote: peer.local_addr().unwrap(),
            codec: Codec::Pcma,
            pt: 8,
            dtmf_pt: None,
            direction: Direction::SendOnly,
        };
        control.update(held.clone());
        // The line takes the change at its next frame; held, it sends
        // nothing (the sequence number is not used).
        let _ = line.next_frame();
        line.send_frame(&voice);
        line.send_frame(&voice);
        control.update(Media {
            direction: Direction::SendRecv,
            ..held
        });
        let _ = line.next_frame();
        line.send_frame(&voice);
        let after = next_packet(&peer).await;
        assert_eq!(after.header.payload_type, 8, "A-law now");
        assert_eq!(
            after.header.sequence_number,
            first.header.sequence_number.wrapping_add(1),
            "nothing was sent while held"
        );
        // Three frames later: the clock ran on while held.
        assert_eq!(
            after.header.timestamp,
            first.header.timestamp.wrapping_add(3 * 160)
        );
        let pcm: Vec<i16> = after.payload.iter().map(|b| decode_alaw(*b)).collect();
        assert_eq!(
            dominant(&pcm, G711_RATE, &[440.0, 700.0, 1200.0]),
            Some(700.0)
        );
    }

    #[tokio::test]
    async fn opus_both_ways_at_the_48_khz_clock() {
        let (mut line, peer, to) = line_to_peer((47130, 47139), Codec::Opus, 96).await;
        // The peer sends ten 20 ms Opus packets of 440 Hz.
        let mut enc = Encoder::new(RATE).unwrap();
        let said = tone(RATE, &[440.0], 200, 0.4);
        for (i, frame) in said.chunks(320).enumerate() {
            let pkt = rtc::rtp::Packet {
                header: rtc::rtp::Header {
                    version: 2,
                    payload_type: 96,
                    sequence_number: 500 + i as u16,
                    timestamp: 48_000 + i as u32 * 960,
                    ssrc: 9,
                    ..Default::default()
                },
                payload: Bytes::from(enc.encode(frame).unwrap()),
            };
            peer.send_to(&pkt.marshal().unwrap(), to).await.unwrap();
        }
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while line.rx.len() < 10 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the packets arrive");
        let mut heard = Vec::new();
        while let Some(f) = line.next_frame() {
            assert_eq!(f.len(), 320);
            heard.extend(f);
        }
        assert_eq!(heard.len(), 3200, "ten frames");
        // The codec's start-up aside, it is the 440 Hz.
        assert_eq!(
            dominant(&heard[960..], RATE, &[440.0, 700.0, 1200.0]),
            Some(440.0)
        );
        // The line sends Opus, 960 ticks a frame.
        let voice = tone(RATE, &[700.0], 100, 0.4);
        let mut dec = Decoder::new(RATE).unwrap();
        let mut got = Vec::new();
        let mut stamps = Vec::new();
        for frame in voice.chunks(320) {
            line.send_frame(frame);
            let p = next_packet(&peer).await;
            assert_eq!(p.header.payload_type, 96);
            stamps.push(p.header.timestamp);
            got.extend(dec.decode(&p.payload).unwrap());
        }
        assert!(
            stamps.windows(2).all(|w| w[1].wrapping_sub(w[0]) == 960),
            "{stamps:?}"
        );
        assert_eq!(
            dominant(&got[640..], RATE, &[440.0, 700.0, 1200.0]),
            Some(700.0)
        );
    }
}
