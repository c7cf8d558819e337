//! SDP for SIP calls: what a peer offers (parsed with the `sdp` crate of
//! the WebRTC stack), the codec chosen, and the offers and answers the
//! server writes. Audio only, RTP/AVP: G.711 (PCMU, PCMA) at 8 kHz, Opus
//! when the peer offers it, and RFC 4733 telephone-event at the codec's
//! clock.

use std::io::Cursor;
use std::net::{IpAddr, SocketAddr};

use rtc::sdp::description::session::SessionDescription;

/// The codecs the server speaks on the SIP side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// G.711 µ-law, PCMU, static payload type 0.
    Pcmu,
    /// G.711 A-law, PCMA, static payload type 8.
    Pcma,
    /// Opus (RFC 7587), a dynamic payload type, 48 kHz RTP clock.
    Opus,
}

impl Codec {
    /// Its name and clock in an `a=rtpmap` line.
    pub fn rtpmap(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU/8000",
            Codec::Pcma => "PCMA/8000",
            Codec::Opus => "opus/48000/2",
        }
    }
    /// Its RTP clock rate.
    pub fn clock(self) -> u32 {
        match self {
            Codec::Pcmu | Codec::Pcma => 8_000,
            Codec::Opus => 48_000,
        }
    }
}

/// Which way the audio flows, as one side's SDP says it (RFC 3264).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    /// What the other side answers.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            d => d,
        }
    }
    /// This side takes audio.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }
    fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
}

/// What a peer's SDP says about its audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// Where the peer wants RTP.
    pub remote: SocketAddr,
    /// The codec both sides speak, and its payload type in this call.
    pub codec: Codec,
    pub pt: u8,
    /// RFC 4733 telephone-event's payload type, when offered at the
    /// codec's clock.
    pub dtmf_pt: Option<u8>,
    /// The peer's direction: `sendonly` or `inactive` (or the old
    /// `c=0.0.0.0`) is the peer holding the call.
    pub direction: Direction,
}

impl Media {
    /// The peer holds the call: it sends nothing, or takes nothing.
    pub fn on_hold(&self) -> bool {
        self.direction != Direction::SendRecv
    }
    /// The server may send the peer audio.
    pub fn peer_receives(&self) -> bool {
        self.direction.receives()
    }
}

/// Why an SDP cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    #[error("the SDP does not parse: {0}")]
    Malformed(String),
    #[error("the SDP has no audio stream")]
    NoAudio,
    #[error("the SDP names no address for its audio")]
    NoAddress,
    #[error("no common codec: the server speaks PCMU, PCMA and opus, the peer offers {0}")]
    NoCodec(String),
}

/// Read a peer's offer (or answer): the first audio stream, the first of
/// its codecs (in the peer's order of preference) that the server speaks.
pub fn parse(body: &[u8]) -> Result<Media, SdpError> {
    let text = std::str::from_utf8(body).map_err(|e| SdpError::Malformed(e.to_string()))?;
    let sd = SessionDescription::unmarshal(&mut Cursor::new(text.as_bytes()))
        .map_err(|e| SdpError::Malformed(e.to_string()))?;
    let m = sd
        .media_descriptions
        .iter()
        .find(|m| m.media_name.media == "audio" && m.media_name.port.value > 0)
        .ok_or(SdpError::NoAudio)?;
    let conn = m
        .connection_information
        .as_ref()
        .or(sd.connection_information.as_ref())
        .and_then(|c| c.address.as_ref())
        .and_then(|a| a.address.parse::<IpAddr>().ok())
        .ok_or(SdpError::NoAddress)?;
    let port = u16::try_from(m.media_name.port.value).map_err(|_| SdpError::NoAddress)?;
    let codecs = m.codecs();
    let named = |pt: u8| -> Option<(String, u32)> {
        match codecs.get(&pt) {
            Some(c) => Some((c.name.to_ascii_uppercase(), c.clock_rate)),
            // The static payload types need no rtpmap line.
            None if pt == 0 => Some(("PCMU".into(), 8000)),
            None if pt == 8 => Some(("PCMA".into(), 8000)),
            None => None,
        }
    };
    let mut chosen = None;
    let mut events: Vec<(u8, u32)> = Vec::new();
    for f in &m.media_name.formats {
        let Ok(pt) = f.parse::<u8>() else { continue };
        let codec = match named(pt) {
            Some((name, 8000)) if name == "PCMU" => Codec::Pcmu,
            Some((name, 8000)) if name == "PCMA" => Codec::Pcma,
            Some((name, 48000)) if name == "OPUS" => Codec::Opus,
            Some((name, clock)) if name == "TELEPHONE-EVENT" => {
                events.push((pt, clock));
                continue;
            }
            _ => continue,
        };
        chosen.get_or_insert((codec, pt));
    }
    let Some((codec, pt)) = chosen else {
        return Err(SdpError::NoCodec(m.media_name.formats.join(" ")));
    };
    let dtmf_pt = events
        .iter()
        .find(|(_, clock)| *clock == codec.clock())
        .map(|(pt, _)| *pt);
    let attribute = |name: &str| m.has_attribute(name) || sd.has_attribute(name);
    let direction = if attribute("inactive") {
        Direction::Inactive
    } else if attribute("sendonly") || conn.is_unspecified() {
        Direction::SendOnly
    } else if attribute("recvonly") {
        Direction::RecvOnly
    } else {
        Direction::SendRecv
    };
    Ok(Media {
        remote: SocketAddr::new(conn, port),
        codec,
        pt,
        dtmf_pt,
        direction,
    })
}

/// The server's SDP `o=` line's identity: the session id stays, the
/// version goes up with each change (RFC 3264 §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub session: u64,
    pub version: u64,
}

impl Origin {
    pub fn new() -> Origin {
        let session = u64::from(rand::random::<u32>());
        Origin {
            session,
            version: session,
        }
    }
    /// The origin of the server's next, changed, SDP.
    pub fn next(self) -> Origin {
        Origin {
            version: self.version.wrapping_add(1),
            ..self
        }
    }
}

impl Default for Origin {
    fn default() -> Origin {
        Origin::new()
    }
}

/// The server's answer to an offer: the chosen codec (and
/// telephone-event, when offered) on `local`, in the direction that
/// answers the peer's.
pub fn answer(local: SocketAddr, media: &Media, origin: Origin) -> String {
    let mut pts = vec![media.pt];
    pts.extend(media.dtmf_pt);
    let mut out = head(local, origin);
    out.push_str(&format!(
        "m=audio {} RTP/AVP {}\r\n",
        local.port(),
        pts.iter().map(u8::to_string).collect::<Vec<_>>().join(" ")
    ));
    out.push_str(&format!(
        "a=rtpmap:{} {}\r\n",
        media.pt,
        media.codec.rtpmap()
    ));
    if media.codec == Codec::Opus {
        out.push_str(&format!("a=fmtp:{} useinbandfec=1\r\n", media.pt));
    }
    if let Some(d) = media.dtmf_pt {
        out.push_str(&format!(
            "a=rtpmap:{d} telephone-event/{}\r\na=fmtp:{d} 0-16\r\n",
            media.codec.clock()
        ));
    }
    out.push_str(&format!(
        "a=ptime:20\r\na={}\r\n",
        media.direction.reverse().attribute()
    ));
    out
}

/// The server's offer for a call it places (a trunk's far end, a seat's
/// phone): PCMU, PCMA and telephone-event (101) on `local`.
pub fn offer(local: SocketAddr, origin: Origin) -> String {
    let mut out = head(local, origin);
    out.push_str(&format!(
        "m=audio {} RTP/AVP 0 8 101\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n\
         a=fmtp:101 0-16\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n",
        local.port()
    ));
    out
}

fn head(local: SocketAddr, origin: Origin) -> String {
    let ip = match local.ip() {
        IpAddr::V4(ip) => format!("IP4 {ip}"),
        IpAddr::V6(ip) => format!("IP6 {ip}"),
    };
    let Origin { session, version } = origin;
    format!("v=0\r\no=ccdesk {session} {version} IN {ip}\r\ns=ccdesk\r\nc=IN {ip}\r\nt=0 0\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIPP: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-11,16\r\n";

    #[test]
    fn sipps_offer_is_pcma_with_telephone_events() {
        let m = parse(SIPP.as_bytes()).unwrap();
        assert_eq!(m.remote, "127.0.0.1:6000".parse::<SocketAddr>().unwrap());
        assert_eq!((m.codec, m.pt, m.dtmf_pt), (Codec::Pcma, 8, Some(101)));
        assert!(!m.on_hold());
        // The answer names the same, and parses back as the same media.
        let a = answer("127.0.0.1:20000".parse().unwrap(), &m, Origin::new());
        let back = parse(a.as_bytes()).unwrap();
        assert_eq!(
            back.remote,
            "127.0.0.1:20000".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            (back.codec, back.pt, back.dtmf_pt),
            (Codec::Pcma, 8, Some(101))
        );
        assert_eq!(back.direction, Direction::SendRecv);
    }

    #[test]
    fn the_peers_order_decides_and_static_types_need_no_rtpmap() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18 0 8\r\n";
        let m = parse(sdp.as_bytes()).unwrap();
        assert_eq!((m.codec, m.pt, m.dtmf_pt), (Codec::Pcmu, 0, None));
        let ours = offer("127.0.0.1:20002".parse().unwrap(), Origin::new());
        let m = parse(ours.as_bytes()).unwrap();
        assert_eq!((m.codec, m.pt, m.dtmf_pt), (Codec::Pcmu, 0, Some(101)));
    }

    #[test]
    fn opus_is_taken_when_offered_first_with_events_at_its_clock() {
        // As baresip offers it: opus first, telephone-events at both clocks.
        let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 96 0 8 101 102\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 stereo=1;sprop-stereo=1\r\na=rtpmap:101 telephone-event/8000\r\na=rtpmap:102 telephone-event/48000\r\n";
        let m = parse(sdp.as_bytes()).unwrap();
        assert_eq!((m.codec, m.pt, m.dtmf_pt), (Codec::Opus, 96, Some(102)));
        let a = answer("127.0.0.1:20000".parse().unwrap(), &m, Origin::new());
        assert!(a.contains("m=audio 20000 RTP/AVP 96 102\r\n"), "{a}");
        assert!(a.contains("a=rtpmap:96 opus/48000/2\r\n"), "{a}");
        assert!(a.contains("a=rtpmap:102 telephone-event/48000\r\n"), "{a}");
        let back = parse(a.as_bytes()).unwrap();
        assert_eq!(
            (back.codec, back.pt, back.dtmf_pt),
            (Codec::Opus, 96, Some(102))
        );
        // G.711 first: G.711, with the 8 kHz events.
        let g711 = sdp.replace("RTP/AVP 96 0 8", "RTP/AVP 8 96 0");
        let m = parse(g711.as_bytes()).unwrap();
        assert_eq!((m.codec, m.pt, m.dtmf_pt), (Codec::Pcma, 8, Some(101)));
    }

    #[test]
    fn hold_and_bad_offers_are_named() {
        let held = SIPP.replace(
            "a=fmtp:101 0-11,16\r\n",
            "a=fmtp:101 0-11,16\r\na=sendonly\r\n",
        );
        let m = parse(held.as_bytes()).unwrap();
        assert!(m.on_hold());
        assert_eq!(m.direction, Direction::SendOnly);
        // Held, the server answers that it only receives, with a newer version.
        let first = Origin::new();
        let a = answer("127.0.0.1:20000".parse().unwrap(), &m, first.next());
        assert!(a.contains("a=recvonly\r\n"), "{a}");
        assert!(
            a.contains(&format!(
                "o=ccdesk {} {} IN",
                first.session,
                first.version + 1
            )),
            "{a}"
        );
        let back = parse(a.as_bytes()).unwrap();
        assert_eq!(back.direction, Direction::RecvOnly);
        // The old way to hold: no address.
        let zero = SIPP.replace("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0");
        assert_eq!(
            parse(zero.as_bytes()).unwrap().direction,
            Direction::SendOnly
        );
        let inactive = SIPP.replace(
            "a=fmtp:101 0-11,16\r\n",
            "a=fmtp:101 0-11,16\r\na=inactive\r\n",
        );
        let m = parse(inactive.as_bytes()).unwrap();
        assert_eq!(
            (m.direction, m.peer_receives()),
            (Direction::Inactive, false)
        );
        let g729 = SIPP
            .replace("RTP/AVP 8 101", "RTP/AVP 18")
            .replace("a=rtpmap:8 PCMA/8000\r\n", "");
        assert!(matches!(parse(g729.as_bytes()), Err(SdpError::NoCodec(_))));
        assert!(matches!(parse(b"garbage"), Err(SdpError::Malformed(_))));
        let video = SIPP.replace("m=audio", "m=video");
        assert_eq!(parse(video.as_bytes()), Err(SdpError::NoAudio));
        assert!(parse(&[0xff, 0xfe]).is_err());
    }
}
