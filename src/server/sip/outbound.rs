//! Outbound calls through a SIP trunk: the center's `dial` becomes an
//! INVITE to the trunk (digest credentials answered when it challenges),
//! early media and the answer become the session's customer line, `200`
//! is `Customer.answer`, a refusal is `Customer.reject` with a reason that
//! names it.

use std::net::SocketAddr;
use std::sync::Arc;

use rsipstack::dialog::authenticate::Credential;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::DialogId;
use rsipstack::sip::Header;
use rsipstack::transport::SipAddr;

use super::line::RtpLine;
use super::{sdp, Call, Gateway};
use crate::protocol::{RejectParams, Request, SessionParams};
use crate::server::config::SipTrunk;

/// What a final response that is not 2xx means for the session:
/// (`mainReason`, `subReason`).
pub(super) fn refusal(code: u16, phrase: &str) -> (&'static str, String) {
    let reason = match code {
        486 | 600 => "busy",
        603 => "declined",
        404 | 604 | 484 => "notFound",
        408 | 480 => "noAnswer",
        487 => "cancelled",
        401 | 407 | 403 => "unauthorized",
        _ => "failed",
    };
    (reason, format!("SIP {code} {phrase}"))
}

/// A SIP URI from text, or why not.
pub(super) fn sip_uri(s: String) -> Result<rsipstack::sip::Uri, String> {
    rsipstack::sip::Uri::try_from(s.as_str()).map_err(|e| format!("`{s}`: {e}"))
}

/// A phone number as the user part of a SIP URI: its digits, `+`, `*`
/// and `#`.
pub(super) fn number_user(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '*' | '#'))
        .collect()
}

/// The digest credentials a trunk asks for, when configured.
pub(super) fn credential(trunk: &SipTrunk) -> Option<Credential> {
    match (&trunk.username, &trunk.password) {
        (Some(u), Some(p)) => Some(Credential {
            username: u.clone(),
            password: p.clone(),
            realm: None,
            auth_username: None,
        }),
        _ => None,
    }
}

impl Gateway {
    /// The trunk outbound calls go through (the first), and its address.
    pub(super) fn trunk(&self) -> Result<(SipTrunk, SocketAddr), String> {
        let trunk = self
            .cfg
            .sip
            .trunks
            .first()
            .ok_or("no SIP trunk is configured")?
            .clone();
        let address = self
            .trunks
            .iter()
            .find(|(id, _)| *id == trunk.id)
            .map(|(_, a)| *a)
            .ok_or_else(|| format!("the address of trunk `{}` does not resolve", trunk.id))?;
        Ok((trunk, address))
    }

    /// The center asks this trunk to call `number` for `session`.
    pub(super) fn dial_event(
        self: &Arc<Self>,
        session: String,
        number: String,
        caller: String,
        uui: Option<String>,
    ) {
        let gw = self.clone();
        tokio::spawn(async move {
            if let Err(why) = gw.dial(&session, &number, &caller, uui).await {
                tracing::warn!(%session, %number, %why, "sip: the outbound call could not be placed");
                gw.reject(&session, "failed", why).await;
            }
        });
    }

    async fn dial(
        self: &Arc<Self>,
        session: &str,
        number: &str,
        caller: &str,
        uui: Option<String>,
    ) -> Result<(), String> {
        let (trunk, address) = self.trunk()?;
        let (socket, lease) = self.ports.bind().map_err(|e| e.to_string())?;
        let local = SocketAddr::new(self.cfg.media_ip(), lease.port);
        let origin = sdp::Origin::new();
        let offer = sdp::offer(local, origin);
        let caller_id = trunk
            .caller_id
            .clone()
            .filter(|_| caller.is_empty())
            .unwrap_or_else(|| caller.to_string());
        let mut headers = Vec::new();
        if let Some(u) = uui.filter(|u| !u.is_empty()) {
            // RFC 7433: hex-encoded, the default encoding.
            let hex: String = u.bytes().map(|b| format!("{b:02x}")).collect();
            headers.push(Header::Other(
                "User-to-User".into(),
                format!("{hex};encoding=hex"),
            ));
        }
        let opt = InviteOption {
            callee: sip_uri(format!("sip:{}@{}", number_user(number), address))?,
            caller: sip_uri(format!("sip:{}@{}", number_user(&caller_id), self.local))?,
            destination: Some(SipAddr::new(rsipstack::sip::Transport::Udp, address.into())),
            content_type: Some("application/sdp".into()),
            offer: Some(offer.into_bytes()),
            contact: sip_uri(format!("sip:ccdesk@{}", self.local))?,
            credential: credential(&trunk),
            headers: (!headers.is_empty()).then_some(headers),
            ..Default::default()
        };
        let (dialog, result) = self
            .dialogs
            .do_invite_async(opt, self.state_tx.clone())
            .map_err(|e| e.to_string())?;
        {
            let mut calls = self.calls();
            calls
                .by_call_id
                .insert(dialog.id().call_id.clone(), session.to_string());
            calls.by_session.insert(
                session.to_string(),
                Call {
                    session: session.to_string(),
                    dialog: dialog.clone(),
                    ended: false,
                    pending: Some((socket, lease, origin)),
                    answered: false,
                },
            );
        }
        tracing::info!(%session, %number, trunk = %trunk.id, "sip: call out");
        let outcome = result.await.map_err(|e| e.to_string())?;
        let resp = match outcome {
            Ok((_, Some(resp))) => resp,
            Ok((_, None)) => return Err("the trunk sent no final response".into()),
            Err(e) => return Err(e.to_string()),
        };
        let code = u16::from(resp.status_code.clone());
        if (200..300).contains(&code) {
            let already_ended = {
                let mut calls = self.calls();
                match calls.by_session.get_mut(session) {
                    Some(c) => {
                        c.answered = true;
                        c.ended
                    }
                    None => true,
                }
            };
            if already_ended {
                // Hung up while it rang: rsipstack BYEs a 2xx to a CANCEL.
                self.forget(session);
                return Ok(());
            }
            if let Err(e) = self.attach(&dialog.id(), resp.body()) {
                tracing::warn!(%session, %e, "sip: the answer's SDP; the call has no audio");
            }
            let req = Request::CustomerAnswer(SessionParams {
                session_id: session.to_string(),
            });
            if let Err(e) = self.link.call(req).await {
                tracing::debug!(%session, error = %e.message, "sip: Customer.answer");
            }
            return Ok(());
        }
        // Refused (or cancelled by us: then the session has already ended).
        let ended = self.forget(session);
        if !ended {
            let (reason, detail) = refusal(code, &resp.status_code.to_string());
            self.reject(session, reason, detail).await;
        }
        Ok(())
    }

    /// Drop a call that never connected; whether its session had ended.
    fn forget(&self, session: &str) -> bool {
        let mut calls = self.calls();
        let call = calls.by_session.remove(session);
        if let Some(c) = &call {
            calls.by_call_id.remove(&c.dialog.id().call_id);
        }
        call.is_some_and(|c| c.ended)
    }

    async fn reject(&self, session: &str, reason: &str, detail: String) {
        let req = Request::CustomerReject(RejectParams {
            session_id: session.to_string(),
            reason: Some(reason.to_string()),
            detail: Some(detail),
        });
        if let Err(e) = self.link.call(req).await {
            tracing::debug!(%session, error = %e.message, "sip: Customer.reject");
        }
    }

    /// The far end's SDP (in a 18x or the 200): the call's line is set up
    /// with it, once.
    fn attach(&self, id: &DialogId, body: &[u8]) -> Result<(), String> {
        let (session, pending) = {
            let mut calls = self.calls();
            let Some(session) = calls.by_call_id.get(&id.call_id).cloned() else {
                return Ok(());
            };
            let pending = calls
                .by_session
                .get_mut(&session)
                .and_then(|c| c.pending.take());
            (session, pending)
        };
        let Some((socket, lease, origin)) = pending else {
            return Ok(()); // already attached (early media)
        };
        let media = sdp::parse(body).map_err(|e| e.to_string())?;
        let local = SocketAddr::new(self.cfg.media_ip(), lease.port);
        let line = RtpLine::new(socket, lease, &media);
        self.lines()
            .track(&id.call_id, local, origin, media, line.control());
        self.link.line(&session, Box::new(line));
        Ok(())
    }

    /// A provisional response: a 183 (or 180) with SDP brings early media
    /// (ringback, announcements) to the agent.
    pub(super) fn early_media(&self, id: &DialogId, resp: &rsipstack::sip::Response) {
        if resp.body().is_empty() {
            return;
        }
        if let Err(e) = self.attach(id, resp.body()) {
            tracing::debug!(%e, "sip: early media's SDP");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::refusal;

    #[test]
    fn refusals_are_named() {
        assert_eq!(refusal(486, "Busy Here").0, "busy");
        assert_eq!(refusal(603, "Decline").0, "declined");
        assert_eq!(refusal(404, "Not Found").0, "notFound");
        assert_eq!(refusal(408, "Request Timeout").0, "noAnswer");
        assert_eq!(refusal(487, "Request Terminated").0, "cancelled");
        let (r, d) = refusal(503, "Service Unavailable");
        assert_eq!((r, d.as_str()), ("failed", "SIP 503 Service Unavailable"));
    }
}
