//! Consult (warm) transfer and conference: `Call.consult`,
//! `Call.completeTransfer`, `Call.conference`, `Call.cancelConsult`.
//!
//! A consult is a second session, the consult leg: an internal call from
//! the consulting agent to the colleague, offered and accepted as any
//! internal call, whose `callIn` names the customer's session
//! (`consultOf`). The customer's session holds meanwhile. The leg has no
//! bridge of its own: its audio is carried in the customer's session's
//! bridge ([`Center::audio_home`]), where the held customer hears the hold
//! sound while the agents hear each other, and all three hear each other
//! in a conference. Completing the transfer makes the colleague the
//! customer's agent without touching the audio: their leg is already in
//! that bridge.

use super::*;
use crate::server::config::SeatType;
use crate::server::session::ConsultLink;

impl Center {
    /// `Call.consult`.
    pub(super) fn consult(&mut self, user: &str, p: &ConsultParams) -> Reply {
        let given = [&p.user_id, &p.skill_group_id, &p.phone_number]
            .iter()
            .filter(|x| x.as_deref().is_some_and(|v| !v.is_empty()))
            .count();
        if given != 1 {
            return Err(ProtoError::bad_request(
                "Call.consult: give exactly one of `userId`, `skillGroupId` or `phoneNumber`",
            ));
        }
        let number = p
            .phone_number
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        if let Some(n) = number {
            check_number("Call.consult", n)?;
        }
        let s = self.active_session(user, &p.session_id, Ns::Call)?;
        if !matches!(s.kind, CallType::Phone | CallType::Voip) {
            return Err(ProtoError::invalid_state(format!(
                "session {} is {}: only a call with a customer can be consulted on",
                s.id,
                s.kind.as_str()
            )));
        }
        if s.agent.as_deref() != Some(user) {
            return Err(ProtoError::forbidden(format!(
                "session {} is not yours to consult on",
                s.id
            )));
        }
        if let Some(c) = &s.consult {
            return Err(ProtoError::invalid_state(format!(
                "session {} already has a consult ({}): complete or cancel it first",
                s.id, c.leg
            )));
        }
        let sid = s.id.clone();
        let (target, group) = match (&p.user_id, &p.skill_group_id, number) {
            (_, _, Some(n)) => {
                if !self.can_dial_mobiles() {
                    return Err(ProtoError::invalid_state(
                        "Call.consult: no SIP trunk is configured to dial the number through",
                    ));
                }
                (Target::Number(n.to_string()), None)
            }
            (Some(u), _, _) if !u.is_empty() => {
                (Target::Agent(self.consult_target(user, u)?), None)
            }
            (_, Some(g), _) => (
                Target::Agent(self.consult_group_agent(user, g)?),
                Some(g.clone()),
            ),
            _ => return Err(ProtoError::bad_request("Call.consult: no target")),
        };
        let leg = self.new_session_id();
        let now = self.clock.instant();
        let mut c = match &target {
            Target::Agent(_) => {
                let mut c = Session::new(
                    leg.clone(),
                    CallType::Internal,
                    Direction::Internal,
                    now,
                    self.clock.wall_ms(now),
                    self.seq,
                );
                c.caller_agent = Some(user.to_string());
                c
            }
            Target::Number(n) => {
                // An outbound call the agent places, whose far end is
                // dialled as a phone through the phone trunk.
                let mut c = Session::new(
                    leg.clone(),
                    CallType::Phone,
                    Direction::Outbound,
                    now,
                    self.clock.wall_ms(now),
                    self.seq,
                );
                c.state = SessionState::Dialing;
                c.agent = Some(user.to_string());
                c.ring_gen = 1;
                c.consult_number = Some(n.clone());
                c.call_in.callee_phone_number = Some(n.clone());
                c.call_in.server_type = Some(self.server_type(user).as_str().into());
                c
            }
        };
        c.handled_by.push(user.to_string());
        c.group = group.clone();
        c.consult_of = Some(sid.clone());
        c.call_in.consult_of = Some(sid.clone());
        if let Some(s) = self.sessions.get_mut(&sid) {
            if c.kind == CallType::Internal {
                c.call_in.caller_phone_number = s
                    .call_in
                    .caller_phone_number
                    .clone()
                    .or_else(|| s.call_in.user_id.clone());
                c.call_in.attributes = s.call_in.attributes.clone();
            }
            if s.state == SessionState::Talking {
                s.state = SessionState::Held;
                s.hold_started = Some(now);
            }
            s.consult = Some(ConsultLink {
                leg: leg.clone(),
                group,
                conference: false,
                handed_over: false,
            });
        }
        if c.kind != CallType::Internal {
            c.call_in.caller_phone_number = Some(self.cfg.center.caller_phone_number.clone());
        }
        self.sessions.insert(leg.clone(), c);
        if let Some(a) = self.agents.get_mut(user) {
            a.sessions.push(leg.clone());
        }
        match target {
            Target::Agent(to) => {
                tracing::info!(session = %sid, consult = %leg, %user, %to, "consult");
                self.offer(&leg, &to);
            }
            Target::Number(n) => {
                tracing::info!(session = %sid, consult = %leg, %user, number = %n, "consult an outside number");
                let dial = self.cfg.center.dial_timeout;
                if dial > 0 {
                    self.schedule(
                        Duration::from_secs(dial),
                        TimerKind::Dial {
                            session: leg.clone(),
                            gen: 1,
                        },
                    );
                }
            }
        }
        self.emit_session_updated(&sid);
        self.emit_session_updated_to(&leg, user);
        Ok(Some(json!({ "consultSessionId": leg })))
    }

    /// The colleague `target` may be consulted by `user` now.
    fn consult_target(&self, user: &str, target: &str) -> Result<String, ProtoError> {
        if target == user {
            return Err(ProtoError::bad_request(
                "Call.consult: parameter `userId` is yourself",
            ));
        }
        let a = self
            .agents
            .get(target)
            .ok_or_else(|| ProtoError::not_found(format!("agent `{target}` does not exist")))?;
        if !a.available() {
            return Err(ProtoError::invalid_state(format!(
                "agent `{target}` is not available ({})",
                availability(a)
            )));
        }
        if a.server_type != SeatType::StaffSeat {
            return Err(ProtoError::invalid_state(format!(
                "agent `{target}` takes calls on a {}: consults reach agents whose audio is in the terminal (staffSeat)",
                a.server_type.as_str()
            )));
        }
        Ok(target.to_string())
    }

    /// The agent of `group` a consult goes to: its longest free agent
    /// whose audio is in the terminal.
    fn consult_group_agent(&self, user: &str, group: &str) -> Result<String, ProtoError> {
        if !self.queues.has_group(group) {
            return Err(ProtoError::not_found(format!(
                "skill group `{group}` does not exist"
            )));
        }
        let mut passed = vec![user.to_string()];
        while let Some(id) = self.floor.pick(group, &[], &passed) {
            let ok = self
                .agents
                .get(id)
                .is_some_and(|a| a.available() && a.server_type == SeatType::StaffSeat);
            if ok {
                return Ok(id.to_string());
            }
            passed.push(id.to_string());
        }
        Err(ProtoError::invalid_state(format!(
            "no agent of skill group `{group}` is free to consult"
        )))
    }

    /// The consult of customer session `sid`, for its agent `user`, with
    /// its leg's state.
    fn consult_of_mine(
        &self,
        user: &str,
        sid: &str,
    ) -> Result<(ConsultLink, SessionState), ProtoError> {
        let s = self.active_session(user, sid, Ns::Call)?;
        let Some(link) = s
            .consult
            .clone()
            .filter(|_| s.agent.as_deref() == Some(user))
        else {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} has no consult of yours"
            )));
        };
        let state = self
            .sessions
            .get(&link.leg)
            .map_or(SessionState::Ended, |c| c.state);
        Ok((link, state))
    }

    /// `Call.conference`: the customer comes off hold and all three talk.
    pub(super) fn conference(&mut self, user: &str, sid: &str) -> Reply {
        let (link, state) = self.consult_of_mine(user, sid)?;
        if link.conference {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is already a conference"
            )));
        }
        if state != SessionState::Talking {
            return Err(ProtoError::invalid_state(format!(
                "the consult {} has not been answered: wait for it or cancel it",
                link.leg
            )));
        }
        let now = self.clock.instant();
        if let Some(s) = self.sessions.get_mut(sid) {
            s.stop_hold(now);
            s.state = SessionState::Talking;
            if let Some(c) = s.consult.as_mut() {
                c.conference = true;
            }
        }
        self.changes.sessions.insert(link.leg.clone());
        self.emit_session_updated(sid);
        self.emit_session_updated(&link.leg);
        Ok(None)
    }

    /// `Call.cancelConsult`: the consult leg ends, the customer comes back
    /// off hold.
    pub(super) fn cancel_consult(&mut self, user: &str, sid: &str) -> Reply {
        let (link, _) = self.consult_of_mine(user, sid)?;
        let ticket = self.end_session(
            &link.leg,
            CloseBy::Seat,
            Some("consultCancelled".into()),
            None,
        );
        let now = self.clock.instant();
        if let Some(s) = self.sessions.get_mut(sid) {
            if s.state == SessionState::Held {
                s.stop_hold(now);
                s.state = SessionState::Talking;
            }
        }
        self.emit_session_updated(sid);
        self.reply_after(ticket, &link.leg);
        Ok(None)
    }

    /// `Call.completeTransfer`: the colleague becomes the customer's agent;
    /// the consulting agent leaves (after-call work), the consult leg ends.
    pub(super) fn complete_transfer(&mut self, user: &str, sid: &str) -> Reply {
        let (link, state) = self.consult_of_mine(user, sid)?;
        if state != SessionState::Talking {
            return Err(ProtoError::invalid_state(format!(
                "the consult {} has not been answered: wait for it or cancel it",
                link.leg
            )));
        }
        if let Some(n) = self
            .sessions
            .get(&link.leg)
            .and_then(|c| c.consult_number.clone())
        {
            return self.hand_over_to_number(user, sid, &link, &n);
        }
        let Some(to) = self.sessions.get(&link.leg).and_then(|c| c.agent.clone()) else {
            return Err(ProtoError::invalid_state(format!(
                "the consult {} has no agent",
                link.leg
            )));
        };
        let now = self.clock.instant();
        let now_ms = self.clock.wall_ms(now);
        if let Some(s) = self.sessions.get_mut(sid) {
            s.stop_hold(now);
            s.state = SessionState::Talking;
            s.agent = Some(to.clone());
            s.mic_muted = false;
            s.consult = None;
            if !s.handled_by.contains(&to) {
                s.handled_by.push(to.clone());
            }
            s.transfers.push(TransferRecord {
                from: user.to_string(),
                to_user: Some(to.clone()),
                to_skill_group: link.group.clone(),
                to_phone_number: None,
                at: now_ms,
                consult: Some(link.leg.clone()),
            });
        }
        // The colleague is now in the customer's session, so ending the
        // leg below leaves them busy.
        if let Some(a) = self.agents.get_mut(&to) {
            a.active = Some(sid.to_string());
            if !a.sessions.iter().any(|x| x == sid) {
                a.sessions.push(sid.to_string());
            }
        }
        tracing::info!(session = %sid, from = %user, %to, consult = %link.leg, "transfer completed");
        self.emit_to_user(
            user,
            &Event::Transfer {
                session_id: sid.to_string(),
            },
        );
        if let Some(a) = self.agents.get_mut(user) {
            a.sessions.retain(|x| x != sid);
        }
        self.release_agent(user, sid, true);
        self.emit_session_updated(sid);
        let ticket = self.end_session(&link.leg, CloseBy::Seat, Some("transferred".into()), None);
        self.reply_after(ticket, &link.leg);
        Ok(None)
    }

    /// A session is ending: a customer session takes its consult leg with
    /// it; a consult leg leaves its customer session as it is (held, or
    /// talking after a conference) without the consult.
    pub(super) fn consult_session_ending(&mut self, sid: &str, close_by: CloseBy) {
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        if let Some(link) = s.consult.take() {
            let why = if close_by == CloseBy::Client {
                "customerLeft"
            } else {
                "customerSessionEnded"
            };
            let _ = self.end_session(&link.leg, close_by, Some(why.into()), None);
            return;
        }
        let Some(of) = s.consult_of.clone() else {
            return;
        };
        let linked = self
            .sessions
            .get(&of)
            .and_then(|x| x.consult.as_ref())
            .is_some_and(|c| c.leg == sid);
        if linked {
            let handed_over = self
                .sessions
                .get_mut(&of)
                .and_then(|x| x.consult.take())
                .is_some_and(|c| c.handed_over);
            if handed_over {
                // Nobody is left with the customer.
                let _ = self.end_session(&of, close_by, Some("transferPartyLeft".into()), None);
                return;
            }
            self.changes.sessions.insert(of.clone());
            self.emit_session_updated(&of);
        }
    }

    /// The consult a session is part of, as the protocol shows it.
    pub(super) fn consult_view(&self, s: &Session) -> Option<Consult> {
        let (customer, leg) = match (&s.consult, &s.consult_of) {
            (Some(link), _) => (s, self.sessions.get(&link.leg)?),
            (None, Some(of)) => {
                let x = self.sessions.get(of)?;
                if x.consult.as_ref().is_none_or(|c| c.leg != s.id) {
                    return None;
                }
                (x, s)
            }
            _ => return None,
        };
        let link = customer.consult.as_ref()?;
        let phase = if link.conference {
            ConsultPhase::Conference
        } else if leg.state == SessionState::Talking {
            ConsultPhase::Talking
        } else {
            ConsultPhase::Ringing
        };
        Some(Consult {
            session_id: customer.id.clone(),
            consult_session_id: leg.id.clone(),
            from_user_id: leg
                .caller_agent
                .clone()
                .or_else(|| leg.handled_by.first().cloned())
                .unwrap_or_default(),
            user_id: match leg.consult_number {
                Some(_) => None,
                None => leg.agent.clone().or_else(|| leg.ringing_to.clone()),
            },
            skill_group_id: link.group.clone(),
            phone_number: leg.consult_number.clone(),
            phase,
        })
    }

    /// The session whose bridge carries `sid`'s audio: a consult leg's is
    /// its customer's session (while the consult lasts); every other
    /// session's is its own.
    pub(super) fn audio_home(&self, sid: &str) -> String {
        self.sessions
            .get(sid)
            .and_then(|s| s.consult_of.as_ref())
            .filter(|of| {
                self.sessions.get(*of).is_some_and(|x| {
                    !x.is_ended() && x.consult.as_ref().is_some_and(|c| c.leg == sid)
                })
            })
            .cloned()
            .unwrap_or_else(|| sid.to_string())
    }

    /// A consult leg was accepted: both sessions show the consult talking.
    pub(super) fn consult_answered(&mut self, leg: &str) {
        if let Some(of) = self.sessions.get(leg).and_then(|c| c.consult_of.clone()) {
            self.changes.sessions.insert(of.clone());
            self.emit_session_updated(&of);
            self.emit_session_updated(leg);
        }
    }

    /// `Call.completeTransfer` to an outside number: the customer and the
    /// number talk on through the server with no agent; the session ends
    /// when either hangs up.
    fn hand_over_to_number(
        &mut self,
        user: &str,
        sid: &str,
        link: &ConsultLink,
        number: &str,
    ) -> Reply {
        let now = self.clock.instant();
        let now_ms = self.clock.wall_ms(now);
        if let Some(s) = self.sessions.get_mut(sid) {
            s.stop_hold(now);
            s.state = SessionState::Talking;
            s.agent = None;
            s.mic_muted = false;
            if let Some(c) = s.consult.as_mut() {
                c.conference = true;
                c.handed_over = true;
            }
            s.transfers.push(TransferRecord {
                from: user.to_string(),
                to_user: None,
                to_skill_group: None,
                to_phone_number: Some(number.to_string()),
                at: now_ms,
                consult: Some(link.leg.clone()),
            });
        }
        if let Some(c) = self.sessions.get_mut(&link.leg) {
            c.agent = None;
        }
        tracing::info!(session = %sid, from = %user, %number, consult = %link.leg, "handed over to an outside number");
        // Both sessions leave the agent's list.
        for x in [sid, link.leg.as_str()] {
            self.emit_to_user(
                user,
                &Event::Transfer {
                    session_id: x.to_string(),
                },
            );
        }
        if let Some(a) = self.agents.get_mut(user) {
            a.sessions.retain(|x| x != sid && *x != link.leg);
        }
        self.release_agent(user, sid, true);
        Ok(None)
    }

    /// The outside number of a consult leg answered (`Phone.answered`).
    pub(super) fn consult_number_answered(&mut self, leg: &str) {
        let dialing = self
            .sessions
            .get(leg)
            .is_some_and(|c| c.consult_number.is_some() && c.state == SessionState::Dialing);
        if !dialing {
            return;
        }
        self.start_talking(leg);
        if let Some(agent) = self.sessions.get(leg).and_then(|c| c.agent.clone()) {
            self.emit_to_user(
                &agent,
                &Event::CalloutAccepted {
                    session_id: leg.to_string(),
                },
            );
        }
        self.consult_answered(leg);
    }
}

/// Who a consult goes to.
enum Target {
    Agent(String),
    Number(String),
}

/// The phone (as the phone trunk knows it) of an outside number a consult
/// dials: not a seat's id, which has no `:`.
pub(super) fn number_phone(number: &str) -> String {
    format!("tel:{number}")
}
