//! Where a seat's call audio goes (the SDK's `serverType`): the terminal
//! (`staffSeat`), a desk phone registered with the SIP gateway
//! (`staffExtensionSeat`), or the agent's mobile dialled through the trunk
//! (`staffPhoneSeat`).
//!
//! After every command the center works out, for each session that
//! changed, which seats' phones should be ringing or connected, and tells
//! the phone trunk (the SIP gateway, on the center's command channel) only
//! the difference: `ringPhone` and `phoneHangUp`. A desk phone rings with
//! the offer (answering it is `Call.accept`); a mobile is dialled once the
//! agent is in the call (accepting in the terminal, placing a call), or
//! with the offer for an internal call made with `useMobile`. The trunk
//! reports back with `Phone.registered`, `Phone.answered` and
//! `Phone.hungUp`, and gives an answered phone's audio as the seat's leg in
//! the session's bridge (`Command::SeatLine`).

use super::media::mix_of;
use super::*;
use crate::server::config::SeatType;

/// A seat's phone the phone trunk was asked to ring for a session.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PhoneLeg {
    /// `StaffExtensionSeat` (its desk phones) or `StaffPhoneSeat` (its mobile).
    kind: SeatType,
    /// Answered, or given up (refused, failed, hung up while ringing): not
    /// rung again for the session.
    done: bool,
}

impl Center {
    /// Where `user`'s call audio goes now.
    pub(super) fn server_type(&self, user: &str) -> SeatType {
        self.agents
            .get(user)
            .map_or_else(|| self.users.seat_type(user), |a| a.server_type)
    }

    /// `user`'s mobile number from the config, if it has one.
    pub(super) fn mobile_of(&self, user: &str) -> Option<String> {
        self.users
            .get(user)
            .and_then(|u| u.mobile)
            .filter(|m| valid_number(m.trim()))
    }

    /// The connection that rings seats' phones (the SIP gateway).
    fn phones_conn(&self) -> Option<ConnId> {
        self.trunks
            .iter()
            .copied()
            .find(|t| self.conns.get(t).is_some_and(|c| c.phones))
    }

    /// Mobiles can be dialled: the phone trunk places calls (it has a SIP
    /// trunk to dial through).
    pub(super) fn can_dial_mobiles(&self) -> bool {
        self.trunks
            .iter()
            .any(|t| self.conns.get(t).is_some_and(|c| c.phones && c.dials))
    }

    /// What `seatChanged` and the login result say of `user`.
    pub(super) fn seat_devices(&self, user: &str) -> SeatDevices {
        SeatDevices {
            server_type: self.server_type(user).as_str().into(),
            desk_phone: self.agents.get(user).is_some_and(|a| a.desk_phones > 0),
            mobile: self.mobile_of(user).is_some() && self.can_dial_mobiles(),
        }
    }

    /// `Agent.setServerType`.
    pub(super) fn set_server_type(&mut self, user: &str, p: &SetServerTypeParams) -> Reply {
        let t = SeatType::parse(&p.server_type).ok_or_else(|| {
            ProtoError::bad_request(format!(
                "parameter `serverType` must be staffSeat, staffExtensionSeat or staffPhoneSeat, not `{}`",
                p.server_type.chars().take(40).collect::<String>()
            ))
        })?;
        let a = self
            .agents
            .get(user)
            .ok_or_else(|| ProtoError::not_found("no such agent"))?;
        if let Some(sid) = a.active.as_ref().or(a.offer.as_ref()) {
            return Err(ProtoError::invalid_state(format!(
                "where the audio goes cannot change during a session (you are in {sid})"
            )));
        }
        match t {
            SeatType::StaffExtensionSeat if a.desk_phones == 0 => {
                return Err(ProtoError::invalid_state(format!(
                    "no desk phone is registered for `{user}`: register one as `{user}` with the user's sip_password"
                )));
            }
            SeatType::StaffPhoneSeat if self.mobile_of(user).is_none() => {
                return Err(ProtoError::invalid_state(format!(
                    "`{user}` has no mobile number in the server's config"
                )));
            }
            SeatType::StaffPhoneSeat if !self.can_dial_mobiles() => {
                return Err(ProtoError::invalid_state(
                    "no SIP trunk is configured to dial the mobile through",
                ));
            }
            _ => {}
        }
        if a.server_type != t {
            if let Some(a) = self.agents.get_mut(user) {
                a.server_type = t;
            }
            let ev = Event::SeatChanged(self.seat_devices(user));
            self.emit_to_user(user, &ev);
        }
        Ok(None)
    }

    /// Whether a seat talking in session `sid` (by `mix`) waits for its
    /// phone to answer.
    pub(super) fn phone_ringing_in_call(&self, sid: &str, mix: &Mix) -> bool {
        self.phones.get(sid).is_some_and(|legs| {
            legs.iter()
                .any(|(u, leg)| !leg.done && mix.talkers.iter().any(|(t, _)| t == u))
        })
    }

    /// `Phone.*`: the phone trunk's reports.
    pub(super) fn phone_request(&mut self, conn: ConnId, req: &Request) -> Reply {
        if !self.conns.get(&conn).is_some_and(|c| c.phones) {
            return Err(ProtoError::forbidden(format!(
                "{} is for the trunk that rings seats' phones (the server's SIP gateway)",
                req.method()
            )));
        }
        match req {
            Request::PhoneRegistered(p) => self.desk_phones_registered(p),
            Request::PhoneAnswered(p) => self.phone_answered(p),
            Request::PhoneHungUp(p) => self.phone_hung_up(p),
            other => Err(misrouted(other)),
        }
    }

    fn desk_phones_registered(&mut self, p: &PhoneRegisteredParams) -> Reply {
        let user = p.user_id.as_str();
        let a = self
            .agents
            .get_mut(user)
            .ok_or_else(|| ProtoError::not_found(format!("seat `{user}` does not exist")))?;
        let had = a.desk_phones > 0;
        a.desk_phones = p.contacts;
        // Its sessions' phones are worked out again.
        let sessions: Vec<String> = a.active.iter().chain(a.offer.iter()).cloned().collect();
        self.changes.sessions.extend(sessions);
        if had != (p.contacts > 0) {
            let ev = Event::SeatChanged(self.seat_devices(user));
            self.emit_to_user(user, &ev);
        }
        Ok(None)
    }

    /// A seat's phone rung for a session answered: ringing at the seat,
    /// that is `Call.accept` (every tab learns it, without a tabUUID).
    fn phone_answered(&mut self, p: &PhoneParams) -> Reply {
        let (sid, user) = (p.session_id.as_str(), p.user_id.as_str());
        let leg = self
            .phones
            .get_mut(sid)
            .and_then(|legs| legs.get_mut(user))
            .ok_or_else(|| {
                ProtoError::not_found(format!("no phone of `{user}` rings for session {sid}"))
            })?;
        leg.done = true;
        // Its bridge hears of it (the music for the caller stops).
        self.changes.sessions.insert(sid.to_string());
        let ringing = self.sessions.get(sid).is_some_and(|s| {
            s.state == SessionState::Ringing && s.ringing_to.as_deref() == Some(user)
        });
        if self.is_number_phone(sid, user) {
            self.consult_number_answered(sid);
        }
        if ringing {
            let ns = match self.sessions.get(sid).map(|s| s.kind) {
                Some(CallType::Video) => Ns::Video,
                _ => Ns::Call,
            };
            self.accept_from(None, user, sid, ns)?;
        }
        Ok(None)
    }

    /// A seat's phone hung up (or, ringing, refused or failed): in the
    /// call, that is `Call.hungUp`; ringing, the phone is not rung again.
    fn phone_hung_up(&mut self, p: &PhoneParams) -> Reply {
        let (sid, user) = (p.session_id.as_str(), p.user_id.as_str());
        let Some(leg) = self.phones.get_mut(sid).and_then(|legs| legs.remove(user)) else {
            // Already hung up from here: nothing to do.
            return Ok(None);
        };
        tracing::info!(session = %sid, %user, kind = leg.kind.as_str(), reason = ?p.reason, "a seat's phone hung up");
        if self.is_number_phone(sid, user) {
            // The outside number of a consult: it hung up, or never answered.
            let reason = (!leg.done).then(|| "rejected".to_string());
            let sub = p.reason.clone().filter(|_| !leg.done);
            let _ = self.end_session(sid, CloseBy::Client, reason, sub);
            return Ok(None);
        }
        let in_call = self
            .sessions
            .get(sid)
            .is_some_and(|s| !s.is_ended() && mix_of(s).talkers.iter().any(|(u, _)| u == user));
        // Given up: not rung again while the session lasts.
        if self.sessions.get(sid).is_some_and(|s| !s.is_ended()) {
            self.phones.entry(sid.to_string()).or_default().insert(
                user.to_string(),
                PhoneLeg {
                    kind: leg.kind,
                    done: true,
                },
            );
        }
        if in_call && leg.done {
            self.hang_up(user, sid, Ns::Call)?;
        }
        Ok(None)
    }

    /// The phones each changed session wants, against those asked for:
    /// ring the new ones, hang up those no longer wanted.
    pub(super) fn sync_phones(&mut self) {
        if self.changes.sessions.is_empty() {
            return;
        }
        // No SIP gateway: no phones to ring.
        let Some(conn) = self.phones_conn() else {
            return;
        };
        let changed: Vec<String> = self.changes.sessions.iter().cloned().collect();
        for sid in changed {
            let wanted = self.wanted_phones(&sid);
            let mut legs = self.phones.remove(&sid).unwrap_or_default();
            let gone: Vec<String> = legs
                .keys()
                .filter(|u| !wanted.iter().any(|(w, _)| w == *u))
                .cloned()
                .collect();
            for user in gone {
                if let Some(leg) = legs.remove(&user) {
                    tracing::debug!(session = %sid, %user, kind = leg.kind.as_str(), "phone no longer wanted");
                    self.emit_to_conns(
                        &[conn],
                        &Event::PhoneHangUp {
                            session_id: sid.clone(),
                            user_id: user,
                        },
                    );
                }
            }
            for (user, kind) in wanted {
                if legs.contains_key(&user) {
                    continue;
                }
                let number = match kind {
                    _ if self.is_number_phone(&sid, &user) => self
                        .sessions
                        .get(&sid)
                        .and_then(|s| s.consult_number.clone()),
                    SeatType::StaffPhoneSeat => self.mobile_of(&user),
                    _ => None,
                };
                let caller = self.sessions.get(&sid).and_then(|s| {
                    s.call_in
                        .caller_phone_number
                        .clone()
                        .or_else(|| s.caller_agent.clone())
                });
                self.emit_to_conns(
                    &[conn],
                    &Event::RingPhone {
                        session_id: sid.clone(),
                        user_id: user.clone(),
                        server_type: kind.as_str().into(),
                        phone_number: number,
                        caller_phone_number: caller,
                    },
                );
                legs.insert(user, PhoneLeg { kind, done: false });
            }
            if !legs.is_empty() {
                self.phones.insert(sid, legs);
            }
        }
    }

    /// Which seats' phones session `sid` wants now, and of which kind.
    fn wanted_phones(&self, sid: &str) -> Vec<(String, SeatType)> {
        let Some(s) = self.sessions.get(sid) else {
            return Vec::new();
        };
        if s.is_ended() || matches!(s.kind, CallType::Im | CallType::Video) {
            return Vec::new();
        }
        let mut seats: Vec<(String, bool)> = Vec::new();
        if let Some(u) = &s.ringing_to {
            seats.push((u.clone(), true));
        }
        for (u, _) in mix_of(s).talkers {
            // A consult leg's agent is in the call through the customer's
            // session: their phone is that session's.
            if s.consult_of.is_some()
                && (s.caller_agent.as_ref() == Some(&u)
                    || (s.consult_number.is_some() && s.handled_by.first() == Some(&u)))
            {
                continue;
            }
            if !seats.iter().any(|(x, _)| *x == u) {
                seats.push((u, false));
            }
        }
        let mut out = Vec::new();
        // A consult's outside number is dialled as a phone.
        if let Some(n) = &s.consult_number {
            out.push((super::consult::number_phone(n), SeatType::StaffPhoneSeat));
        }
        for (user, ringing) in seats {
            let kind = if s.mobile_for.as_deref() == Some(user.as_str()) {
                Some(SeatType::StaffPhoneSeat)
            } else {
                match self.server_type(&user) {
                    SeatType::StaffExtensionSeat
                        if self.agents.get(&user).is_some_and(|a| a.desk_phones > 0) =>
                    {
                        Some(SeatType::StaffExtensionSeat)
                    }
                    // A mobile is dialled once the agent is in the call.
                    SeatType::StaffPhoneSeat if !ringing => Some(SeatType::StaffPhoneSeat),
                    _ => None,
                }
            };
            let dialable = kind != Some(SeatType::StaffPhoneSeat)
                || (self.mobile_of(&user).is_some() && self.can_dial_mobiles());
            if let Some(k) = kind.filter(|_| dialable) {
                out.push((user, k));
            }
        }
        out
    }

    /// The phone trunk gives `user`'s answered phone as the seat's audio in
    /// session `sid`.
    pub(super) fn seat_line(
        &mut self,
        conn: ConnId,
        sid: &str,
        user: &str,
        line: Box<dyn PhoneLine>,
    ) {
        let wanted = self.conns.get(&conn).is_some_and(|c| c.phones)
            && self
                .phones
                .get(sid)
                .is_some_and(|legs| legs.contains_key(user))
            && self.sessions.get(sid).is_some_and(|s| !s.is_ended());
        if !wanted {
            tracing::debug!(session = %sid, %user, "a seat's phone line for no phone rung: dropped");
            return;
        }
        let home = self.audio_home(sid);
        self.ensure_bridge(&home);
        if let Some(b) = self.bridges.get(&home) {
            b.send(BridgeCmd::PhoneLeg {
                user: user.to_string(),
                line,
            });
        }
    }

    /// Is `user` the outside number a consult leg `sid` dials?
    fn is_number_phone(&self, sid: &str, user: &str) -> bool {
        self.sessions.get(sid).is_some_and(|s| {
            s.consult_number
                .as_deref()
                .is_some_and(|n| super::consult::number_phone(n) == user)
        })
    }
}
