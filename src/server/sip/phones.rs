//! Seats' phones: the center's `ringPhone` rings a seat's registered desk
//! phones (every registration at once; the first to answer wins, the
//! others are cancelled) or dials its mobile through the trunk. The answer
//! is `Phone.answered` and the phone's RTP becomes the seat's leg in the
//! session's bridge; the phone hanging up (or never answering) is
//! `Phone.hungUp`; the center's `phoneHangUp` cancels or ends the call.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use rsipstack::dialog::invitation::InviteOption;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::dialog::DialogId;
use rsipstack::transport::SipAddr;

use super::line::RtpLine;
use super::outbound::{credential, number_user, refusal, sip_uri};
use super::{sdp, Gateway};
use crate::protocol::{PhoneParams, Request};

/// The calls placed to seats' phones, by (session, seat).
#[derive(Default)]
pub struct Phones {
    calls: HashMap<(String, String), PhoneCall>,
    /// Each placed INVITE's Call-ID: its (session, seat).
    by_call_id: HashMap<String, (String, String)>,
}

struct PhoneCall {
    /// INVITEs placed and not answered or refused yet.
    pending: usize,
    /// The INVITEs ringing (one per desk phone registration).
    ringing: Vec<InviteDialog>,
    /// The one that answered.
    answered: Option<InviteDialog>,
}

/// Where one INVITE to a seat's phone goes.
struct Target {
    callee: rsipstack::sip::Uri,
    destination: SipAddr,
    credential: Option<rsipstack::dialog::authenticate::Credential>,
}

impl Gateway {
    pub(super) fn phones(&self) -> std::sync::MutexGuard<'_, Phones> {
        self.phones
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The center's `ringPhone`.
    pub(super) fn ring_phone(
        self: &Arc<Self>,
        session: String,
        user: String,
        server_type: &str,
        number: Option<String>,
        caller: Option<String>,
    ) {
        let targets = match (server_type, number) {
            ("staffPhoneSeat", Some(n)) => match self.trunk() {
                Ok((trunk, address)) => {
                    match sip_uri(format!("sip:{}@{}", number_user(&n), address)) {
                        Ok(callee) => vec![Target {
                            callee,
                            destination: SipAddr::new(
                                rsipstack::sip::Transport::Udp,
                                address.into(),
                            ),
                            credential: credential(&trunk),
                        }],
                        Err(e) => {
                            tracing::warn!(%session, %user, %e, "sip: the mobile's number");
                            Vec::new()
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(%session, %user, %e, "sip: no trunk to dial the mobile through");
                    Vec::new()
                }
            },
            _ => self
                .registrar()
                .bindings(&user, Instant::now())
                .into_iter()
                .filter_map(|b| {
                    Some(Target {
                        callee: sip_uri(b.contact.clone()).ok()?,
                        destination: SipAddr::new(b.transport, b.target.into()),
                        credential: None,
                    })
                })
                .collect(),
        };
        if targets.is_empty() {
            tracing::info!(%session, %user, server_type, "sip: no phone to ring");
            self.report_phone_down(&session, &user, "no phone to ring".into());
            return;
        }
        tracing::info!(%session, %user, server_type, phones = targets.len(), "sip: ringing a seat's phone");
        self.phones().calls.insert(
            (session.clone(), user.clone()),
            PhoneCall {
                pending: targets.len(),
                ringing: Vec::new(),
                answered: None,
            },
        );
        let caller = caller.map(|c| number_user(&c)).filter(|c| !c.is_empty());
        for t in targets {
            let gw = self.clone();
            let (session, user, caller) = (session.clone(), user.clone(), caller.clone());
            tokio::spawn(async move {
                if let Err(why) = gw.call_phone(&session, &user, caller, t).await {
                    tracing::warn!(%session, %user, %why, "sip: a seat's phone could not be called");
                    gw.fork_failed(&session, &user, None, why);
                }
            });
        }
    }

    /// One INVITE to one of a seat's phones, until it is answered or not.
    async fn call_phone(
        self: &Arc<Self>,
        session: &str,
        user: &str,
        caller: Option<String>,
        t: Target,
    ) -> Result<(), String> {
        let (socket, lease) = self.ports.bind().map_err(|e| e.to_string())?;
        let local = SocketAddr::new(self.cfg.media_ip(), lease.port);
        let origin = sdp::Origin::new();
        let offer = sdp::offer(local, origin);
        let from = caller.unwrap_or_else(|| "ccdesk".into());
        let contact = sip_uri(self.contact(t.destination.r#type.unwrap_or_default()))?;
        let opt = InviteOption {
            callee: t.callee,
            caller: sip_uri(format!("sip:{from}@{}", self.local))?,
            destination: Some(t.destination),
            content_type: Some("application/sdp".into()),
            offer: Some(offer.into_bytes()),
            contact,
            credential: t.credential,
            ..Default::default()
        };
        let (dialog, result) = self
            .dialogs
            .do_invite_async(opt, self.state_tx.clone())
            .map_err(|e| e.to_string())?;
        let key = (session.to_string(), user.to_string());
        let call_id = dialog.id().call_id.clone();
        let wanted = {
            let mut phones = self.phones();
            match phones.calls.get_mut(&key) {
                Some(call) => {
                    call.ringing.push(dialog.clone());
                    phones.by_call_id.insert(call_id.clone(), key.clone());
                    true
                }
                None => false,
            }
        };
        if !wanted {
            // Hung up from the center before the INVITE went out.
            let _ = dialog.hangup().await;
            return Ok(());
        }
        let outcome = result.await.map_err(|e| e.to_string())?;
        let resp = match outcome {
            Ok((_, Some(resp))) => resp,
            Ok((_, None)) => return Err("the phone sent no final response".into()),
            Err(e) => return Err(e.to_string()),
        };
        let code = u16::from(resp.status_code.clone());
        if !(200..300).contains(&code) {
            let (_, detail) = refusal(code, &resp.status_code.to_string());
            self.fork_failed(session, user, Some(&call_id), detail);
            return Ok(());
        }
        // Answered: the first to answer wins; the others are cancelled.
        let others = {
            let mut phones = self.phones();
            match phones.calls.get_mut(&key) {
                Some(call) if call.answered.is_none() => {
                    call.pending = call.pending.saturating_sub(1);
                    call.answered = Some(dialog.clone());
                    let others: Vec<_> = call
                        .ringing
                        .drain(..)
                        .filter(|d| d.id().call_id != call_id)
                        .collect();
                    Some(others)
                }
                _ => None,
            }
        };
        let Some(others) = others else {
            // Another phone answered first, or the center hung up meanwhile.
            self.phones().by_call_id.remove(&call_id);
            let _ = dialog.bye().await;
            return Ok(());
        };
        for d in others {
            self.phones().by_call_id.remove(&d.id().call_id);
            let _ = d.hangup().await;
        }
        let media = sdp::parse(resp.body()).map_err(|e| format!("the phone's SDP: {e}"))?;
        tracing::info!(%session, %user, "sip: a seat's phone answered");
        let answered = Request::PhoneAnswered(PhoneParams {
            session_id: session.to_string(),
            user_id: user.to_string(),
            reason: None,
        });
        // In this order on the center's channel: the seat is in the call
        // before its audio arrives.
        if let Err(e) = self.link.submit(answered) {
            tracing::debug!(%session, error = %e.message, "sip: Phone.answered");
        }
        let line = RtpLine::new(socket, lease, &media);
        self.lines()
            .track(&dialog.id().call_id, local, origin, media, line.control());
        self.link.seat_line(session, user, Box::new(line));
        Ok(())
    }

    /// One INVITE to a seat's phone failed (`call_id`: once it was sent);
    /// when none is left and none answered, the center hears the phone is
    /// down.
    fn fork_failed(
        self: &Arc<Self>,
        session: &str,
        user: &str,
        call_id: Option<&str>,
        why: String,
    ) {
        let key = (session.to_string(), user.to_string());
        let down = {
            let mut phones = self.phones();
            if let Some(id) = call_id {
                phones.by_call_id.remove(id);
            }
            let down = match phones.calls.get_mut(&key) {
                Some(call) => {
                    if let Some(id) = call_id {
                        call.ringing.retain(|d| d.id().call_id != id);
                    }
                    call.pending = call.pending.saturating_sub(1);
                    call.pending == 0 && call.answered.is_none()
                }
                None => false,
            };
            if down {
                phones.calls.remove(&key);
            }
            down
        };
        if down {
            tracing::info!(%session, %user, %why, "sip: no phone of the seat answered");
            self.report_phone_down(session, user, why);
        }
    }

    fn report_phone_down(self: &Arc<Self>, session: &str, user: &str, reason: String) {
        let req = Request::PhoneHungUp(PhoneParams {
            session_id: session.to_string(),
            user_id: user.to_string(),
            reason: Some(reason),
        });
        if let Err(e) = self.link.submit(req) {
            tracing::debug!(%session, error = %e.message, "sip: Phone.hungUp");
        }
    }

    /// The center's `phoneHangUp`: cancel what rings, end what answered.
    pub(super) fn hang_up_phone(self: &Arc<Self>, session: &str, user: &str) {
        let call = {
            let mut phones = self.phones();
            let call = phones
                .calls
                .remove(&(session.to_string(), user.to_string()));
            if let Some(c) = &call {
                for d in c.ringing.iter().chain(c.answered.iter()) {
                    phones.by_call_id.remove(&d.id().call_id);
                }
            }
            call
        };
        let Some(call) = call else { return };
        tracing::info!(%session, %user, "sip: hanging up a seat's phone");
        tokio::spawn(async move {
            for d in call.ringing {
                let _ = d.hangup().await;
            }
            if let Some(d) = call.answered {
                let _ = d.hangup().await;
            }
        });
    }

    /// A dialog ended: if it was a seat's answered phone, the seat hung up.
    /// Whether the dialog was a phone's.
    pub(super) fn phone_dialog_ended(self: &Arc<Self>, id: &DialogId) -> bool {
        let (key, answered) = {
            let mut phones = self.phones();
            let Some(key) = phones.by_call_id.get(&id.call_id).cloned() else {
                return false;
            };
            let answered = phones
                .calls
                .get(&key)
                .and_then(|c| c.answered.as_ref())
                .is_some_and(|d| d.id().call_id == id.call_id);
            if answered {
                phones.by_call_id.remove(&id.call_id);
                phones.calls.remove(&key);
            }
            (key, answered)
        };
        if answered {
            tracing::info!(session = %key.0, user = %key.1, "sip: a seat's phone hung up");
            self.report_phone_down(&key.0, &key.1, "the phone hung up".into());
        }
        // A ringing INVITE's end is its dialling task's to report.
        true
    }
}
