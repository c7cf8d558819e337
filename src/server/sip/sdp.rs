//! SDP for SIP calls: what a peer offers (parsed with the `sdp` crate of
//! the WebRTC stack), the codec chosen, and the offers and answers the
//! server writes. Audio only, RTP/AVP, G.711 (PCMU, PCMA) and RFC 4733
//! telephone-event at 8 kHz.

use std::io::Cursor;
use std::net::{IpAddr, SocketAddr};

use rtc::sdp::description::session::SessionDescription;

/// The G.711 laws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Law {
    /// µ-law, PCMU, payload type 0.
    Mu,
    /// A-law, PCMA, payload type 8.
    A,
}

impl Law {
    pub fn payload_type(self) -> u8 {
        match self {
            Law::Mu => 0,
            Law::A => 8,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Law::Mu => "PCMU",
            Law::A => "PCMA",
        }
    }
}

/// What a peer's SDP says about its audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// Where the peer wants RTP.
    pub remote: SocketAddr,
    /// The codec both sides speak, and its payload type in this call.
    pub law: Law,
    pub pt: u8,
    /// RFC 4733 telephone-event's payload type, when offered at 8 kHz.
    pub dtmf_pt: Option<u8>,
    /// The peer sends no audio (a=sendonly from our side's view: it holds,
    /// `a=sendonly` or `a=inactive`).
    pub on_hold: bool,
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
    #[error("no common codec: the server speaks PCMU and PCMA, the peer offers {0}")]
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
    let mut law = None;
    let mut dtmf_pt = None;
    for f in &m.media_name.formats {
        let Ok(pt) = f.parse::<u8>() else { continue };
        match named(pt) {
            Some((name, 8000)) if name == "PCMU" && law.is_none() => law = Some((Law::Mu, pt)),
            Some((name, 8000)) if name == "PCMA" && law.is_none() => law = Some((Law::A, pt)),
            Some((name, 8000)) if name == "TELEPHONE-EVENT" => dtmf_pt = Some(pt),
            _ => {}
        }
    }
    let Some((law, pt)) = law else {
        return Err(SdpError::NoCodec(m.media_name.formats.join(" ")));
    };
    let on_hold = m.has_attribute("sendonly")
        || m.has_attribute("inactive")
        || conn.is_unspecified()
        || sd.has_attribute("sendonly")
        || sd.has_attribute("inactive");
    Ok(Media {
        remote: SocketAddr::new(conn, port),
        law,
        pt,
        dtmf_pt,
        on_hold,
    })
}

/// The server's answer to an offer: the chosen codec (and
/// telephone-event, when offered) on `local`.
pub fn answer(local: SocketAddr, media: &Media, session: u64) -> String {
    let mut pts = vec![media.pt];
    pts.extend(media.dtmf_pt);
    let mut out = head(local, session);
    out.push_str(&format!(
        "m=audio {} RTP/AVP {}\r\n",
        local.port(),
        pts.iter().map(u8::to_string).collect::<Vec<_>>().join(" ")
    ));
    out.push_str(&format!(
        "a=rtpmap:{} {}/8000\r\n",
        media.pt,
        media.law.name()
    ));
    if let Some(d) = media.dtmf_pt {
        out.push_str(&format!(
            "a=rtpmap:{d} telephone-event/8000\r\na=fmtp:{d} 0-16\r\n"
        ));
    }
    out.push_str("a=ptime:20\r\na=sendrecv\r\n");
    out
}

/// The server's offer for an outbound call: PCMU, PCMA and
/// telephone-event (101) on `local`.
pub fn offer(local: SocketAddr, session: u64) -> String {
    let mut out = head(local, session);
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

fn head(local: SocketAddr, session: u64) -> String {
    let ip = match local.ip() {
        IpAddr::V4(ip) => format!("IP4 {ip}"),
        IpAddr::V6(ip) => format!("IP6 {ip}"),
    };
    format!("v=0\r\no=ccdesk {session} {session} IN {ip}\r\ns=ccdesk\r\nc=IN {ip}\r\nt=0 0\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIPP: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-11,16\r\n";

    #[test]
    fn sipps_offer_is_pcma_with_telephone_events() {
        let m = parse(SIPP.as_bytes()).unwrap();
        assert_eq!(m.remote, "127.0.0.1:6000".parse::<SocketAddr>().unwrap());
        assert_eq!((m.law, m.pt, m.dtmf_pt), (Law::A, 8, Some(101)));
        assert!(!m.on_hold);
        // The answer names the same, and parses back as the same media.
        let a = answer("127.0.0.1:20000".parse().unwrap(), &m, 7);
        let back = parse(a.as_bytes()).unwrap();
        assert_eq!(
            back.remote,
            "127.0.0.1:20000".parse::<SocketAddr>().unwrap()
        );
        assert_eq!((back.law, back.pt, back.dtmf_pt), (Law::A, 8, Some(101)));
    }

    #[test]
    fn the_peers_order_decides_and_static_types_need_no_rtpmap() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 18 0 8\r\n";
        let m = parse(sdp.as_bytes()).unwrap();
        assert_eq!((m.law, m.pt, m.dtmf_pt), (Law::Mu, 0, None));
        let ours = offer("127.0.0.1:20002".parse().unwrap(), 1);
        let m = parse(ours.as_bytes()).unwrap();
        assert_eq!((m.law, m.pt, m.dtmf_pt), (Law::Mu, 0, Some(101)));
    }

    #[test]
    fn hold_and_bad_offers_are_named() {
        let held = SIPP.replace(
            "a=fmtp:101 0-11,16\r\n",
            "a=fmtp:101 0-11,16\r\na=sendonly\r\n",
        );
        assert!(parse(held.as_bytes()).unwrap().on_hold);
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
