//! One WebRTC peer connection carrying one audio stream each way: Opus
//! plus RFC 4733 telephone-event, non-trickle (each side's description
//! carries its ICE candidates), built on the `webrtc` crate.
//!
//! The terminal offers ([`Peer::create_offer`], [`Peer::accept_answer`]);
//! the server answers ([`Peer::accept_offer`]). Nothing here depends on the
//! other side being ccdesk: payload types are read from the remote
//! description, so a browser offering Opus on 109 and telephone-event on 126
//! works as well as ccdesk's own 111 and 101.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::media_engine::{
    MIME_TYPE_OPUS, MIME_TYPE_TELEPHONE_EVENT,
};
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription,
};

use super::{MediaError, FRAME_TS};

/// ccdesk's own payload types (a remote offer's numbers win when it offers).
pub const OPUS_PT: u8 = 111;
pub const DTMF_PT: u8 = super::dtmf::PAYLOAD_TYPE;

/// How long ICE gathering and connecting may take before giving up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where a peer connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerState {
    New,
    Connecting,
    Connected,
    /// ICE or DTLS failed, or the connection was lost.
    Failed,
    Closed,
}

impl PeerState {
    pub fn as_str(self) -> &'static str {
        match self {
            PeerState::New => "new",
            PeerState::Connecting => "connecting",
            PeerState::Connected => "connected",
            PeerState::Failed => "failed",
            PeerState::Closed => "closed",
        }
    }
}

/// One received RTP packet, stamped on arrival.
#[derive(Debug, Clone)]
pub struct RtpIn {
    pub seq: u16,
    pub timestamp: u32,
    pub payload_type: u8,
    pub marker: bool,
    pub payload: Bytes,
    pub arrived: Instant,
}

/// The payload types both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadTypes {
    pub opus: u8,
    /// None when the other side did not offer telephone-event.
    pub dtmf: Option<u8>,
}

impl PayloadTypes {
    /// Read `a=rtpmap` lines of the audio section of an SDP.
    pub fn from_sdp(sdp: &str) -> Option<PayloadTypes> {
        let mut opus = None;
        let mut dtmf48 = None;
        let mut dtmf8 = None;
        for line in sdp.lines() {
            let Some(rest) = line.trim().strip_prefix("a=rtpmap:") else {
                continue;
            };
            let mut parts = rest.splitn(2, ' ');
            let (Some(pt), Some(codec)) = (parts.next(), parts.next()) else {
                continue;
            };
            let Ok(pt) = pt.parse::<u8>() else { continue };
            let codec = codec.to_ascii_lowercase();
            if codec.starts_with("opus/48000") {
                opus = opus.or(Some(pt));
            } else if codec.starts_with("telephone-event/48000") {
                dtmf48 = dtmf48.or(Some(pt));
            } else if codec.starts_with("telephone-event/8000") {
                dtmf8 = dtmf8.or(Some(pt));
            }
        }
        let dtmf = dtmf48.or(dtmf8);
        opus.map(|opus| PayloadTypes { opus, dtmf })
    }
}

fn opus_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_OPUS.to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

fn dtmf_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_TELEPHONE_EVENT.to_owned(),
        clock_rate: 48_000,
        channels: 0,
        sdp_fmtp_line: "0-16".to_owned(),
        rtcp_feedback: vec![],
    }
}

fn codec_params() -> Vec<RTCRtpCodecParameters> {
    vec![
        RTCRtpCodecParameters {
            rtp_codec: opus_codec(),
            payload_type: OPUS_PT,
        },
        RTCRtpCodecParameters {
            rtp_codec: dtmf_codec(),
            payload_type: DTMF_PT,
        },
    ]
}

fn media_engine() -> Result<MediaEngine, MediaError> {
    let mut me = MediaEngine::default();
    for c in codec_params() {
        me.register_codec(c, RtpCodecKind::Audio).map_err(rtc_err)?;
    }
    Ok(me)
}

fn rtc_err(e: impl std::fmt::Display) -> MediaError {
    MediaError::Rtc(e.to_string())
}

struct Handler {
    state: watch::Sender<PeerState>,
    gathered: watch::Sender<bool>,
    inbound: mpsc::Sender<RtpIn>,
    dropped: Arc<AtomicBool>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(true);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let s = match state {
            RTCPeerConnectionState::New | RTCPeerConnectionState::Unspecified => PeerState::New,
            RTCPeerConnectionState::Connecting => PeerState::Connecting,
            RTCPeerConnectionState::Connected => PeerState::Connected,
            RTCPeerConnectionState::Disconnected | RTCPeerConnectionState::Failed => {
                PeerState::Failed
            }
            RTCPeerConnectionState::Closed => PeerState::Closed,
            _ => PeerState::New,
        };
        let _ = self.state.send(s);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let tx = self.inbound.clone();
        let dropped = self.dropped.clone();
        tokio::spawn(async move {
            while let Some(ev) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(p) = ev {
                    let pkt = RtpIn {
                        seq: p.header.sequence_number,
                        timestamp: p.header.timestamp,
                        payload_type: p.header.payload_type,
                        marker: p.header.marker,
                        payload: p.payload,
                        arrived: Instant::now(),
                    };
                    match tx.try_send(pkt) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            // The consumer is behind: drop rather than buffer without bound.
                            dropped.store(true, Ordering::Relaxed);
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => break,
                    }
                }
            }
        });
    }
}

/// A peer connection with one sendrecv audio stream.
pub struct Peer {
    pc: Arc<dyn PeerConnection>,
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    state: watch::Receiver<PeerState>,
    gathered: watch::Receiver<bool>,
    inbound: Option<mpsc::Receiver<RtpIn>>,
    dropped: Arc<AtomicBool>,
    pts: Option<PayloadTypes>,
}

impl Peer {
    /// A new peer whose UDP socket binds `ip` (port chosen by the system).
    pub async fn new(ip: IpAddr) -> Result<Peer, MediaError> {
        let (state_tx, state) = watch::channel(PeerState::New);
        let (gathered_tx, gathered) = watch::channel(false);
        let (in_tx, in_rx) = mpsc::channel(256);
        let dropped = Arc::new(AtomicBool::new(false));
        let handler = Arc::new(Handler {
            state: state_tx,
            gathered: gathered_tx,
            inbound: in_tx,
            dropped: dropped.clone(),
        });
        let pc = PeerConnectionBuilder::new()
            .with_media_engine(media_engine()?)
            .with_handler(handler)
            .with_udp_addrs(vec![format!("{}:0", fmt_ip(ip))])
            .build()
            .await
            .map_err(rtc_err)?;
        let pc: Arc<dyn PeerConnection> = Arc::new(pc);
        let ssrc = rand::random::<u32>();
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            "ccdesk-audio".to_owned(),
            format!("ccdesk-audio-{ssrc:08x}"),
            "audio".to_owned(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                codec: opus_codec(),
                ..Default::default()
            }],
        )));
        Ok(Peer {
            pc,
            track,
            ssrc,
            state,
            gathered,
            inbound: Some(in_rx),
            dropped,
            pts: None,
        })
    }

    async fn add_track(&self) -> Result<(), MediaError> {
        self.pc
            .add_track(self.track.clone() as Arc<dyn TrackLocal>)
            .await
            .map_err(rtc_err)?;
        // Without this the offer carries no telephone-event line and DTMF
        // packets would be dropped silently.
        for t in self.pc.get_transceivers().await {
            let _ = t.set_codec_preferences(codec_params()).await;
        }
        Ok(())
    }

    async fn gathered_description(&self) -> Result<String, MediaError> {
        let mut g = self.gathered.clone();
        tokio::time::timeout(CONNECT_TIMEOUT, g.wait_for(|d| *d))
            .await
            .map_err(|_| MediaError::Rtc("ICE gathering did not complete".into()))?
            .map_err(|_| MediaError::Rtc("peer connection closed while gathering".into()))?;
        self.pc
            .local_description()
            .await
            .map(|d| d.sdp)
            .ok_or_else(|| MediaError::Rtc("no local description".into()))
    }

    /// The terminal's side: an offer with every ICE candidate in it.
    pub async fn create_offer(&mut self) -> Result<String, MediaError> {
        self.add_track().await?;
        let offer = self.pc.create_offer(None).await.map_err(rtc_err)?;
        self.pc
            .set_local_description(offer)
            .await
            .map_err(rtc_err)?;
        self.gathered_description().await
    }

    /// The terminal's side: the server's answer.
    pub async fn accept_answer(&mut self, sdp: &str) -> Result<(), MediaError> {
        let pts = PayloadTypes::from_sdp(sdp)
            .ok_or_else(|| MediaError::Rtc("the answer has no Opus audio".into()))?;
        let desc = RTCSessionDescription::answer(sdp.to_owned()).map_err(rtc_err)?;
        self.pc
            .set_remote_description(desc)
            .await
            .map_err(rtc_err)?;
        self.pts = Some(pts);
        Ok(())
    }

    /// The server's side: answer an offer (with every ICE candidate in it).
    pub async fn accept_offer(&mut self, sdp: &str) -> Result<String, MediaError> {
        let pts = PayloadTypes::from_sdp(sdp).ok_or_else(|| {
            MediaError::Rtc("the offer has no Opus audio (a=rtpmap:N opus/48000/2)".into())
        })?;
        self.add_track().await?;
        let desc = RTCSessionDescription::offer(sdp.to_owned()).map_err(rtc_err)?;
        self.pc
            .set_remote_description(desc)
            .await
            .map_err(rtc_err)?;
        let answer = self.pc.create_answer(None).await.map_err(rtc_err)?;
        self.pc
            .set_local_description(answer)
            .await
            .map_err(rtc_err)?;
        self.pts = Some(pts);
        self.gathered_description().await
    }

    /// Wait until the connection is up (packets written earlier are lost).
    pub async fn connected(&self) -> Result<(), MediaError> {
        let mut s = self.state.clone();
        let r = tokio::time::timeout(
            CONNECT_TIMEOUT,
            s.wait_for(|s| {
                matches!(
                    s,
                    PeerState::Connected | PeerState::Failed | PeerState::Closed
                )
            }),
        )
        .await
        .map_err(|_| MediaError::Rtc("the peer connection did not connect in time".into()))?
        .map_err(|_| MediaError::Rtc("peer connection gone".into()))?;
        match *r {
            PeerState::Connected => Ok(()),
            other => Err(MediaError::Rtc(format!(
                "the peer connection {}",
                other.as_str()
            ))),
        }
    }

    /// Follow the connection's state.
    pub fn state(&self) -> watch::Receiver<PeerState> {
        self.state.clone()
    }

    /// Received packets (taken once).
    pub fn take_inbound(&mut self) -> Option<mpsc::Receiver<RtpIn>> {
        self.inbound.take()
    }

    /// Whether received packets were dropped because nobody read them in time.
    pub fn dropped_inbound(&self) -> bool {
        self.dropped.load(Ordering::Relaxed)
    }

    pub fn payload_types(&self) -> Option<PayloadTypes> {
        self.pts
    }

    /// A writer for the outgoing stream (after negotiation).
    pub fn writer(&self) -> Result<RtpWriter, MediaError> {
        let pts = self
            .pts
            .ok_or_else(|| MediaError::Rtc("not negotiated yet".into()))?;
        Ok(RtpWriter {
            track: self.track.clone(),
            state: self.state.clone(),
            ssrc: self.ssrc,
            pts,
            seq: rand::random::<u16>(),
            timestamp: rand::random::<u32>(),
            sent: 0,
            talking: false,
        })
    }

    pub async fn close(&self) {
        let _ = self.pc.close().await;
    }
}

fn fmt_ip(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// Writes the outgoing RTP stream: Opus frames every 20 ms, DTMF events in
/// between on the same SSRC and sequence space.
pub struct RtpWriter {
    track: Arc<TrackLocalStaticRTP>,
    state: watch::Receiver<PeerState>,
    ssrc: u32,
    pts: PayloadTypes,
    seq: u16,
    timestamp: u32,
    sent: u64,
    talking: bool,
}

impl RtpWriter {
    pub fn is_connected(&self) -> bool {
        *self.state.borrow() == PeerState::Connected
    }

    /// Packets written so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// The RTP timestamp the next frame will carry.
    pub fn timestamp(&self) -> u32 {
        self.timestamp
    }

    async fn write(&mut self, pt: u8, marker: bool, ts: u32, payload: Bytes) -> bool {
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
        match self.track.write_rtp(pkt).await {
            Ok(()) => {
                self.sent += 1;
                true
            }
            Err(e) => {
                tracing::trace!(error = %e, "rtp write failed");
                false
            }
        }
    }

    /// Send one 20 ms Opus frame (only once connected: earlier packets would
    /// be lost anyway). Returns whether it went out.
    pub async fn send_frame(&mut self, opus: Bytes) -> bool {
        let ts = self.timestamp;
        self.timestamp = self.timestamp.wrapping_add(FRAME_TS);
        if !self.is_connected() {
            return false;
        }
        let marker = !self.talking;
        self.talking = true;
        let pt = self.pts.opus;
        self.write(pt, marker, ts, opus).await
    }

    /// A 20 ms slot with nothing sent (hold): time moves on, and the next
    /// frame starts a new talk spurt.
    pub fn skip_frame(&mut self) {
        self.timestamp = self.timestamp.wrapping_add(FRAME_TS);
        self.talking = false;
    }

    /// Whether the other side takes telephone-event.
    pub fn can_send_dtmf(&self) -> bool {
        self.pts.dtmf.is_some()
    }

    /// Send one RFC 4733 packet of an event that started at `event_ts`.
    pub async fn send_dtmf(&mut self, event_ts: u32, marker: bool, payload: [u8; 4]) -> bool {
        let Some(pt) = self.pts.dtmf else {
            return false;
        };
        if !self.is_connected() {
            return false;
        }
        self.write(pt, marker, event_ts, Bytes::copy_from_slice(&payload))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_types_follow_the_remote_description() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 109 126\r\na=rtpmap:109 opus/48000/2\r\na=rtpmap:126 telephone-event/8000\r\n";
        assert_eq!(
            PayloadTypes::from_sdp(sdp),
            Some(PayloadTypes {
                opus: 109,
                dtmf: Some(126)
            })
        );
        let no_dtmf = "a=rtpmap:111 OPUS/48000/2\r\n";
        assert_eq!(
            PayloadTypes::from_sdp(no_dtmf),
            Some(PayloadTypes {
                opus: 111,
                dtmf: None
            })
        );
        assert_eq!(PayloadTypes::from_sdp("a=rtpmap:0 PCMU/8000\r\n"), None);
        assert_eq!(PayloadTypes::from_sdp("a=rtpmap:x opus/48000/2\r\n"), None);
    }
}
