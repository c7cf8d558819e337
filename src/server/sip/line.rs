//! A SIP call's audio: RTP over UDP with the peer, G.711 at 8 kHz, as the
//! customer side of a session's bridge, or a seat's phone ([`PhoneLine`]).
//!
//! A task reads the socket and keeps only packets from the negotiated
//! address; the bridge's 20 ms tick takes a frame out (through a jitter
//! buffer, decoded and resampled to the bridge's 16 kHz) and sends one
//! (resampled to 8 kHz, encoded). RFC 4733 telephone-events go both ways
//! at the 8 kHz clock. Ports come from a pool (`[sip] rtp_ports`) and go
//! back to it when the line is dropped.

use std::collections::{BTreeSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use audio_codec_algorithms::{decode_alaw, decode_ulaw, encode_alaw, encode_ulaw};
use bytes::Bytes;
use rtc::shared::marshal::{Marshal, Unmarshal};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::sdp::{Law, Media};
use crate::media::device::resample;
use crate::media::dtmf::{self, DtmfReceiver};
use crate::media::jitter::{JitterBuffer, Playout};
use crate::server::media::{PhoneLine, RATE};

/// The telephone network's sample rate.
pub const G711_RATE: u32 = 8_000;
/// Samples in 20 ms at 8 kHz.
const FRAME_8K: usize = 160;
/// RTP timestamps here are at 8 kHz; the jitter buffer and the DTMF
/// receiver count at 48 kHz.
const TO_48K: u32 = 6;
/// Packets waiting for the bridge before the reader drops them (a second).
const QUEUE: usize = 50;
/// Frames of jitter the line absorbs at most (200 ms).
const MAX_DEPTH: usize = 10;
/// Packets taken out of the jitter buffer for one frame at most (four
/// covers 5 ms packets).
const MAX_PACKETS_A_FRAME: usize = 4;
/// The longest a lost packet is taken to be (120 ms at 8 kHz).
const MAX_PACKET_SAMPLES: usize = 960;
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

/// One call's RTP with the peer.
pub struct RtpLine {
    socket: Arc<UdpSocket>,
    remote: SocketAddr,
    law: Law,
    pt: u8,
    dtmf_pt: Option<u8>,
    rx: mpsc::Receiver<In>,
    reader: tokio::task::JoinHandle<()>,
    jitter: JitterBuffer,
    dtmf_in: DtmfReceiver,
    heard: Vec<char>,
    epoch: Instant,
    /// What was received, decoded at 8 kHz and not yet played: packets of
    /// any length (10, 20, 30 ms...) become the bridge's 20 ms frames.
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
        let socket = Arc::new(socket);
        let (tx, rx) = mpsc::channel(QUEUE);
        let reader = crate::server::media::runtime().spawn(read(socket.clone(), media.remote, tx));
        RtpLine {
            socket,
            remote: media.remote,
            law: media.law,
            pt: media.pt,
            dtmf_pt: media.dtmf_pt,
            rx,
            reader,
            jitter: JitterBuffer::new(MAX_DEPTH),
            dtmf_in: DtmfReceiver::new(),
            heard: Vec::new(),
            epoch: Instant::now(),
            decoded: VecDeque::new(),
            packet_len: FRAME_8K,
            seq: rand::random(),
            ts: rand::random(),
            ssrc: rand::random(),
            started: false,
            dtmf_out: VecDeque::new(),
            _lease: lease,
        }
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
                let _ = self.socket.try_send_to(&b, self.remote);
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

/// Read the socket until the line is dropped: RTP from the peer only.
async fn read(socket: Arc<UdpSocket>, remote: SocketAddr, tx: mpsc::Sender<In>) {
    let mut buf = vec![0u8; 1500];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf).await else {
            return;
        };
        // Only the negotiated peer is heard (its IP: NATs and some PBXes
        // send from another port than they announced).
        if from.ip() != remote.ip() {
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
        let now_ms = self.epoch.elapsed().as_secs_f64() * 1000.0;
        while let Ok(p) = self.rx.try_recv() {
            if Some(p.pt) == self.dtmf_pt {
                self.jitter.push_event(p.seq);
                if let Some(d) = self.dtmf_in.push(p.ts.wrapping_mul(TO_48K), &p.payload) {
                    self.heard.push(d);
                }
            } else if p.pt == self.pt {
                let at = p.at.saturating_duration_since(self.epoch).as_secs_f64() * 1000.0;
                self.jitter.push(
                    p.seq,
                    p.ts.wrapping_mul(TO_48K),
                    p.payload.to_vec(),
                    at.min(now_ms),
                );
            }
        }
        // A packet is taken out only when what is decoded falls short of a
        // frame, so a peer sending 30 ms packets is played at its pace (two
        // packets in three frames), and one sending 10 ms packets too.
        let mut taken = 0;
        while self.decoded.len() < FRAME_8K && taken < MAX_PACKETS_A_FRAME {
            taken += 1;
            match self.jitter.pop() {
                Playout::Packet(p) => {
                    self.packet_len = p.len().clamp(1, MAX_PACKET_SAMPLES);
                    let law = self.law;
                    self.decoded.extend(p.iter().map(|b| match law {
                        Law::Mu => decode_ulaw(*b),
                        Law::A => decode_alaw(*b),
                    }));
                }
                // G.711 has no concealment: a lost packet is heard as silence.
                Playout::Lost { .. } => {
                    self.decoded.extend(std::iter::repeat_n(0, self.packet_len))
                }
                Playout::Empty => break,
            }
        }
        if self.decoded.len() < FRAME_8K {
            // Nothing (or not a whole frame) yet: silence this frame, and
            // what came stays for the next.
            return None;
        }
        let pcm: Vec<i16> = self.decoded.drain(..FRAME_8K).collect();
        Some(resample(&pcm, G711_RATE, RATE))
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
            self.ts = self.ts.wrapping_add(FRAME_8K as u32);
            return;
        }
        let pcm8 = resample(pcm, RATE, G711_RATE);
        let mut payload: Vec<u8> = match self.law {
            Law::Mu => pcm8.iter().map(|s| encode_ulaw(*s)).collect(),
            Law::A => pcm8.iter().map(|s| encode_alaw(*s)).collect(),
        };
        // Silence pads a short frame.
        let quiet = match self.law {
            Law::Mu => encode_ulaw(0),
            Law::A => encode_alaw(0),
        };
        payload.resize(FRAME_8K, quiet);
        let marker = !self.started;
        self.started = true;
        let ts = self.ts;
        self.send(self.pt, marker, ts, Bytes::from(payload));
        self.ts = self.ts.wrapping_add(FRAME_8K as u32);
    }

    fn send_digit(&mut self, digit: char) {
        if self.dtmf_pt.is_none() {
            tracing::debug!(%digit, "sip: the peer takes no telephone-events; the key is not sent");
            return;
        }
        let Some(packets) = dtmf::digit_packets_at(digit, TONE_MS, G711_RATE) else {
            return;
        };
        // Every packet of an event carries the timestamp it started at.
        let start = self
            .ts
            .wrapping_add(FRAME_8K as u32 * self.dtmf_out.len() as u32);
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
            law: Law::Mu,
            pt: 0,
            dtmf_pt: None,
            on_hold: false,
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
}
