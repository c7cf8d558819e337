//! Requests within a call that is up. A re-INVITE (or an UPDATE) with SDP
//! is the far end changing the call: holding it (`sendonly`, `inactive`,
//! `c=0.0.0.0`), taking it off hold, moving its media, changing codec. The
//! server answers with its own SDP (the same port, the codec chosen from
//! the new offer, the direction that answers the peer's, a newer `o=`
//! version when anything changed) and hands the new media to the call's
//! line. A re-INVITE without SDP gets the current SDP as the offer.
//! OPTIONS and INFO are answered 200; REFER, MESSAGE, NOTIFY and PUBLISH
//! are not taken (405, 603 for REFER).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use rsipstack::dialog::dialog::{DialogState, TransactionHandle};
use rsipstack::dialog::DialogId;
use rsipstack::sip::{Header, Method, StatusCode};

use super::line::LineControl;
use super::sdp::{self, Media, Origin};
use super::Gateway;

/// The media of the calls that are up, by Call-ID.
#[derive(Default)]
pub struct Lines {
    by_call_id: HashMap<String, LineState>,
}

struct LineState {
    /// Where the server takes RTP (announced in its SDP).
    local: SocketAddr,
    origin: Origin,
    /// The peer's media as last negotiated.
    media: Media,
    control: Arc<LineControl>,
}

/// What to answer an in-dialog offer with.
#[derive(Debug, PartialEq)]
enum Reply {
    Sdp(String),
    Empty,
    Refused(StatusCode),
}

impl Lines {
    /// A call's line is up: re-INVITEs of dialog `call_id` change it.
    pub fn track(
        &mut self,
        call_id: &str,
        local: SocketAddr,
        origin: Origin,
        media: Media,
        control: Arc<LineControl>,
    ) {
        self.by_call_id.insert(
            call_id.to_string(),
            LineState {
                local,
                origin,
                media,
                control,
            },
        );
    }

    pub fn forget(&mut self, call_id: &str) {
        self.by_call_id.remove(call_id);
    }

    /// The peer's offer `body` (empty: none) in dialog `call_id`.
    fn offer(&mut self, call_id: &str, method: &Method, body: &[u8]) -> Reply {
        let Some(line) = self.by_call_id.get_mut(call_id) else {
            // Not up yet (an UPDATE while ringing) or already gone.
            return if body.is_empty() {
                Reply::Empty
            } else {
                Reply::Refused(StatusCode::NotAcceptableHere)
            };
        };
        if body.is_empty() {
            // An UPDATE refreshing a session timer; a re-INVITE asking for
            // an offer gets the current SDP.
            return match method {
                Method::Invite => Reply::Sdp(sdp::answer(line.local, &line.media, line.origin)),
                _ => Reply::Empty,
            };
        }
        let media = match sdp::parse(body) {
            Ok(m) => m,
            Err(sdp::SdpError::Malformed(e)) => {
                tracing::info!(call_id, error = %e, "sip: a re-offer that does not parse");
                return Reply::Refused(StatusCode::BadRequest);
            }
            Err(e) => {
                // The call goes on as it was (RFC 3261 §14.2).
                tracing::info!(call_id, error = %e, "sip: a re-offer refused");
                return Reply::Refused(StatusCode::NotAcceptableHere);
            }
        };
        if media != line.media {
            tracing::info!(
                call_id,
                remote = %media.remote,
                codec = ?media.codec,
                direction = ?media.direction,
                "sip: the far end changed the call"
            );
            line.origin = line.origin.next();
            line.control.update(media.clone());
            line.media = media;
        }
        Reply::Sdp(sdp::answer(line.local, &line.media, line.origin))
    }
}

impl Gateway {
    pub(super) fn lines(&self) -> std::sync::MutexGuard<'_, Lines> {
        self.lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// rsipstack's news of a request within a dialog, waiting for the
    /// answer on `handle`; `false` when `st` is not one.
    pub(super) fn in_dialog(&self, st: &DialogState) -> bool {
        let (id, req, handle): (&DialogId, _, &TransactionHandle) = match st {
            DialogState::Updated(id, req, h)
            | DialogState::Options(id, req, h)
            | DialogState::Info(id, req, h)
            | DialogState::Refer(id, req, h)
            | DialogState::Message(id, req, h)
            | DialogState::Notify(id, req, h)
            | DialogState::Publish(id, req, h) => (id, req, h),
            _ => return false,
        };
        let reply = match req.method {
            Method::Invite | Method::Update => {
                self.lines().offer(&id.call_id, &req.method, req.body())
            }
            Method::Options | Method::Info => Reply::Empty,
            Method::Refer => Reply::Refused(StatusCode::Decline),
            _ => Reply::Refused(StatusCode::MethodNotAllowed),
        };
        let handle = handle.clone();
        let method = req.method;
        tokio::spawn(async move {
            let sent = match reply {
                Reply::Sdp(body) => {
                    let ct = vec![Header::ContentType("application/sdp".into())];
                    handle
                        .respond(StatusCode::OK, Some(ct), Some(body.into_bytes()))
                        .await
                }
                Reply::Empty => handle.reply(StatusCode::OK).await,
                Reply::Refused(code) => handle.reply(code).await,
            };
            if sent.is_err() {
                tracing::debug!(%method, "sip: the in-dialog request was gone before its answer");
            }
        });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFER: &str = "v=0\r\no=peer 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n";

    fn lines() -> (Lines, Origin) {
        let media = sdp::parse(OFFER.as_bytes()).unwrap();
        let control = Arc::new(LineControl::new(media.remote.ip()));
        let origin = Origin::new();
        let mut l = Lines::default();
        l.track(
            "c1",
            "127.0.0.1:20000".parse().unwrap(),
            origin,
            media,
            control,
        );
        (l, origin)
    }

    fn sdp_of(r: Reply) -> String {
        match r {
            Reply::Sdp(s) => s,
            other => panic!("no SDP: {other:?}"),
        }
    }

    #[test]
    fn the_same_offer_gets_the_same_answer_a_hold_a_newer_one() {
        let (mut l, origin) = lines();
        let same = sdp_of(l.offer("c1", &Method::Invite, OFFER.as_bytes()));
        assert!(same.contains(&format!("o=ccdesk {} {} ", origin.session, origin.version)));
        assert!(same.contains("a=sendrecv"), "{same}");
        let held = OFFER.replace("a=rtpmap:101", "a=sendonly\r\na=rtpmap:101");
        let a = sdp_of(l.offer("c1", &Method::Invite, held.as_bytes()));
        assert!(a.contains("a=recvonly"), "{a}");
        assert!(
            a.contains(&format!(
                "o=ccdesk {} {} ",
                origin.session,
                origin.version + 1
            )),
            "{a}"
        );
        // Taken off hold, a codec change: µ-law, same port.
        let mu = OFFER
            .replace("RTP/AVP 8 101", "RTP/AVP 0 101")
            .replace("PCMA", "PCMU")
            .replace("rtpmap:8", "rtpmap:0");
        let a = sdp_of(l.offer("c1", &Method::Invite, mu.as_bytes()));
        assert!(a.contains("m=audio 20000 RTP/AVP 0 101"), "{a}");
        assert!(a.contains("a=sendrecv"), "{a}");
        // No SDP: the current one, unchanged, is the offer.
        let again = sdp_of(l.offer("c1", &Method::Invite, b""));
        assert_eq!(again, a);
        assert_eq!(l.offer("c1", &Method::Update, b""), Reply::Empty);
    }

    #[test]
    fn bad_re_offers_leave_the_call_as_it_was() {
        let (mut l, _) = lines();
        assert_eq!(
            l.offer("c1", &Method::Invite, b"garbage"),
            Reply::Refused(StatusCode::BadRequest)
        );
        let g729 = OFFER
            .replace("RTP/AVP 8 101", "RTP/AVP 18")
            .replace("a=rtpmap:8 PCMA/8000\r\n", "");
        assert_eq!(
            l.offer("c1", &Method::Invite, g729.as_bytes()),
            Reply::Refused(StatusCode::NotAcceptableHere)
        );
        let a = sdp_of(l.offer("c1", &Method::Invite, b""));
        assert!(a.contains("RTP/AVP 8 101"), "{a}");
        assert_eq!(
            l.offer("other", &Method::Invite, OFFER.as_bytes()),
            Reply::Refused(StatusCode::NotAcceptableHere)
        );
    }
}
