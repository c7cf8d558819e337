//! The SDK's `Call.*` methods (and the parts `Chat.*` and `Video.*` share
//! with them): accept, hang up, mute, hold, digits, transfer, outbound and
//! internal calls.

use super::*;

impl Center {
    /// The SDK's `Call.*` methods.
    pub(super) fn call_request(&mut self, conn: ConnId, user: &str, req: &Request) -> Reply {
        match req {
            Request::CallAccept(p) => self.accept(conn, user, &p.session_id, Ns::Call),
            Request::CallHungUp(p) => self.hang_up(user, &p.session_id, Ns::Call),
            Request::CallTransfer(p) => self.transfer(user, p, Ns::Call),
            Request::CallMuteMic(p) => self.mute(user, &p.session_id, Ns::Call, Some(true), None),
            Request::CallUnmuteMic(p) => {
                self.mute(user, &p.session_id, Ns::Call, Some(false), None)
            }
            Request::CallIsMicMuted(p) => {
                let s = self.party_session(user, &p.session_id, Ns::Call)?;
                Ok(Some(json!({ "muted": s.muted_for(user) })))
            }
            Request::CallHold(p) => self.hold(user, &p.session_id, true),
            Request::CallUnHold(p) => self.hold(user, &p.session_id, false),
            Request::CallSendDigits(p) => self.send_digits(user, p),
            Request::CallDeleteCall(p) => self.delete_call(user, &p.session_id),
            Request::CallStartOutboundCall(p) => self.start_outbound(conn, user, p),
            Request::CallStartInternalCall(p) => self.start_internal(user, p),
            Request::CallMonitor(p) => self.monitor(user, p),
            Request::CallIntercept(p) => self.intercept(conn, user, &p.session_id),
            Request::CallSetWrapUp(p) => self.set_wrap_up(user, p),
            Request::CallConsult(p) => self.consult(user, p),
            Request::CallCompleteTransfer(p) => self.complete_transfer(user, &p.session_id),
            Request::CallConference(p) => self.conference(user, &p.session_id),
            Request::CallCancelConsult(p) => self.cancel_consult(user, &p.session_id),
            Request::CallPauseRecording(p) => self.pause_recording(user, &p.session_id, true),
            Request::CallResumeRecording(p) => self.pause_recording(user, &p.session_id, false),
            other => Err(misrouted(other)),
        }
    }

    /// A session `user` takes part in, of a type the namespace may act on.
    pub(super) fn party_session(
        &self,
        user: &str,
        sid: &str,
        ns: Ns,
    ) -> Result<&Session, ProtoError> {
        let s = self
            .sessions
            .get(sid)
            .ok_or_else(|| ProtoError::not_found(format!("session {sid} does not exist")))?;
        if !s.is_party(user)
            && !self
                .agents
                .get(user)
                .is_some_and(|a| a.sessions.iter().any(|x| x == sid))
        {
            return Err(ProtoError::forbidden(format!("session {sid} is not yours")));
        }
        ns.check(s)?;
        Ok(s)
    }

    pub(super) fn accept(&mut self, conn: ConnId, user: &str, sid: &str, ns: Ns) -> Reply {
        let tab = self.tab_of(conn);
        self.accept_from(tab, user, sid, ns)
    }

    /// `user` accepts from the tab `tab`, or from a phone (`None`: every
    /// tab learns it without a tabUUID).
    pub(super) fn accept_from(
        &mut self,
        tab: Option<String>,
        user: &str,
        sid: &str,
        ns: Ns,
    ) -> Reply {
        let s = self.party_session(user, sid, ns)?;
        match s.state {
            SessionState::Ringing if s.ringing_to.as_deref() == Some(user) => {}
            SessionState::Ringing | SessionState::Queued => {
                return Err(ProtoError::forbidden(format!(
                    "session {sid} is not offered to you"
                )))
            }
            SessionState::Talking | SessionState::Held if s.agent.as_deref() == Some(user) => {
                return Err(ProtoError::invalid_state(format!(
                    "session {sid} is already accepted"
                )))
            }
            st => {
                return Err(ProtoError::invalid_state(format!(
                    "session {sid} is {}; only a ringing session can be accepted",
                    st.as_str()
                )))
            }
        }
        if s.callback.is_some() && self.dialing_trunk().is_none() {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is a callback and no trunk is connected to dial it"
            )));
        }
        let internal_caller = s.caller_agent.clone();
        let had_messages = !s.messages.is_empty();
        let chat = s.kind == CallType::Im;
        if let Some(a) = self.agents.get_mut(user) {
            a.offer = None;
            // Already busy with chats: the status to go back to stays.
            if !a.in_session() {
                a.return_status = if a.status == AgentStatus::NotReady {
                    AgentStatus::NotReady
                } else {
                    AgentStatus::Free
                };
            }
            if chat {
                a.chats.push(sid.to_string());
            } else {
                a.active = Some(sid.to_string());
            }
            a.missed_in_row = 0;
        }
        if let Some(s) = self.sessions.get_mut(sid) {
            s.agent = Some(user.to_string());
            s.ringing_to = None;
            if !s.handled_by.iter().any(|u| u == user) {
                s.handled_by.push(user.to_string());
            }
        }
        self.set_status(user, AgentStatus::Busy, None);
        let callback = self.sessions.get(sid).is_some_and(|s| s.callback.is_some());
        if callback {
            // The agent's accept dials the caller back.
            self.dial_callback(sid);
        } else {
            self.start_talking(sid);
        }
        self.emit_to_user(
            user,
            &Event::UserAccessed {
                session_id: sid.to_string(),
                tab_uuid: tab,
            },
        );
        self.emit_to_trunk(
            sid,
            &Event::UserAccessed {
                session_id: sid.to_string(),
                tab_uuid: None,
            },
        );
        if let Some(caller) = internal_caller {
            self.emit_to_user(
                &caller,
                &Event::CalloutAccepted {
                    session_id: sid.to_string(),
                },
            );
        }
        if had_messages {
            self.emit_session_updated(sid);
        }
        self.consult_answered(sid);
        Ok(None)
    }

    /// The conversation starts (or resumes with a new agent).
    pub(super) fn start_talking(&mut self, sid: &str) {
        let now = self.clock.instant();
        let now_ms = self.clock.wall_ms(now);
        let max = self.cfg.center.max_session_length;
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        s.state = SessionState::Talking;
        s.ring_gen += 1;
        // No longer waiting: a pending overflow or maximum-wait timer is stale.
        s.wait_gen += 1;
        s.wait_over = false;
        if s.accepted.is_none() {
            s.accepted = Some(now);
            s.accepted_ms = Some(now_ms);
            if max > 0 {
                self.schedule(
                    Duration::from_secs(max),
                    TimerKind::MaxLength {
                        session: sid.to_string(),
                    },
                );
            }
            self.kpi_answered(sid);
        }
    }

    pub(super) fn hang_up(&mut self, user: &str, sid: &str, ns: Ns) -> Reply {
        let s = self.party_session(user, sid, ns)?;
        match s.state {
            SessionState::Ended => Err(ProtoError::invalid_state(format!(
                "session {sid} has already ended"
            ))),
            SessionState::Ringing if s.ringing_to.as_deref() == Some(user) => {
                // Hanging up a ringing offer declines it: it is not offered to
                // this agent again, and all their tabs learn it has gone.
                self.emit_to_user(
                    user,
                    &Event::AutoTransfer {
                        session_id: sid.to_string(),
                    },
                );
                self.withdraw_offer(user, sid, Withdraw::Declined);
                Ok(None)
            }
            SessionState::Queued | SessionState::Ringing if !s.is_party(user) => {
                Err(ProtoError::forbidden(format!("session {sid} is not yours")))
            }
            _ => {
                let ticket = self.end_session(sid, CloseBy::Seat, None, None);
                self.reply_after(ticket, sid);
                Ok(None)
            }
        }
    }

    /// A session in progress that `user` handles.
    pub(super) fn active_session(
        &self,
        user: &str,
        sid: &str,
        ns: Ns,
    ) -> Result<&Session, ProtoError> {
        let s = self.party_session(user, sid, ns)?;
        if s.ringing_to.as_deref() == Some(user) && s.agent.as_deref() != Some(user) {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is ringing: accept it first"
            )));
        }
        if !s.in_progress() {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is {}, not in progress",
                s.state.as_str()
            )));
        }
        Ok(s)
    }

    pub(super) fn mute(
        &mut self,
        user: &str,
        sid: &str,
        ns: Ns,
        mic: Option<bool>,
        video: Option<bool>,
    ) -> Reply {
        let s = self.active_session(user, sid, ns)?;
        if !s.kind.is_voice() {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is a chat: it has no microphone"
            )));
        }
        let is_caller = s.caller_agent.as_deref() == Some(user);
        let Some(s) = self.sessions.get_mut(sid) else {
            return Ok(None);
        };
        if let Some(m) = mic {
            if is_caller {
                s.caller_mic_muted = m;
            } else {
                s.mic_muted = m;
            }
        }
        if let Some(v) = video {
            s.video_muted = v;
        }
        self.emit_session_updated(sid);
        Ok(None)
    }

    pub(super) fn hold(&mut self, user: &str, sid: &str, hold: bool) -> Reply {
        let s = self.active_session(user, sid, Ns::Call)?;
        if !s.kind.is_voice() {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is a chat: it cannot be held"
            )));
        }
        if !hold && s.consult.as_ref().is_some_and(|c| !c.conference) {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} holds for a consult: conference, complete or cancel it"
            )));
        }
        let now = self.clock.instant();
        match (hold, s.state) {
            (true, SessionState::Talking) => {
                if let Some(s) = self.sessions.get_mut(sid) {
                    s.state = SessionState::Held;
                    s.hold_started = Some(now);
                    // Held in a conference: the agents talk alone again.
                    if let Some(c) = s.consult.as_mut() {
                        c.conference = false;
                    }
                }
            }
            (false, SessionState::Held) => {
                if let Some(s) = self.sessions.get_mut(sid) {
                    s.stop_hold(now);
                    s.state = SessionState::Talking;
                }
            }
            (true, _) => {
                return Err(ProtoError::invalid_state(format!(
                    "session {sid} is already held"
                )))
            }
            (false, _) => {
                return Err(ProtoError::invalid_state(format!(
                    "session {sid} is not held"
                )))
            }
        }
        self.emit_session_updated(sid);
        // The consult leg shows the consult's phase too.
        if let Some(leg) = self
            .sessions
            .get(sid)
            .and_then(|s| s.consult.as_ref())
            .map(|c| c.leg.clone())
        {
            self.emit_session_updated(&leg);
        }
        Ok(None)
    }

    pub(super) fn send_digits(&mut self, user: &str, p: &SendDigitsParams) -> Reply {
        let digits = p.dtmf_text.as_deref().unwrap_or("");
        if digits.is_empty()
            || digits.len() > 64
            || !digits
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D' | 'a'..='d'))
        {
            return Err(ProtoError::bad_request(
                "Call.sendDigits: parameter `dtmfText` must be 1 to 64 of 0-9 * # A-D",
            ));
        }
        let s = self.active_session(user, &p.session_id, Ns::Call)?;
        if s.state != SessionState::Talking {
            return Err(ProtoError::invalid_state(format!(
                "session {} is held: unhold it to send digits",
                s.id
            )));
        }
        let ev = Event::Digits {
            session_id: p.session_id.clone(),
            dtmf_text: digits.to_string(),
        };
        self.emit_to_trunk(&p.session_id, &ev);
        // A phone line hears them as RFC 4733 events.
        if self.sessions.get(&p.session_id).is_some_and(|s| s.line) {
            if let Some(b) = self.bridges.get(&p.session_id) {
                b.send(BridgeCmd::SendDigits(digits.to_string()));
            }
        }
        Ok(None)
    }

    pub(super) fn delete_call(&mut self, user: &str, sid: &str) -> Reply {
        let listed = self
            .agents
            .get(user)
            .is_some_and(|a| a.sessions.iter().any(|s| s == sid));
        if !listed {
            return Err(ProtoError::not_found(format!(
                "session {sid} is not in your list"
            )));
        }
        if self.sessions.get(sid).is_some_and(|s| !s.is_ended()) {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} has not ended: end it before deleting it"
            )));
        }
        if let Some(a) = self.agents.get_mut(user) {
            a.sessions.retain(|s| s != sid);
        }
        self.forget_if_unlisted(sid);
        Ok(None)
    }

    pub(super) fn transfer(&mut self, user: &str, p: &TransferParams, ns: Ns) -> Reply {
        let method = ns.transfer_name();
        let target = match (&p.skill_group_id, &p.user_id) {
            (Some(g), None) if !g.is_empty() => Target::Group(g.clone()),
            (None, Some(u)) if !u.is_empty() => Target::User(u.clone()),
            (Some(_), Some(_)) => {
                return Err(ProtoError::bad_request(format!(
                    "{method}: give either `skillGroupId` or `userId`, not both"
                )))
            }
            _ => {
                return Err(ProtoError::bad_request(format!(
                    "{method}: missing parameter `skillGroupId` or `userId`"
                )))
            }
        };
        let s = self.active_session(user, &p.session_id, ns)?;
        if s.kind == CallType::Internal {
            return Err(ProtoError::invalid_state(format!(
                "session {} is an internal call and cannot be transferred",
                s.id
            )));
        }
        let sid = s.id.clone();
        match &target {
            Target::Group(g) => {
                if !self.queues.has_group(g) {
                    return Err(ProtoError::not_found(format!(
                        "skill group `{g}` does not exist"
                    )));
                }
            }
            Target::User(u) => {
                if u == user {
                    return Err(ProtoError::bad_request(format!(
                        "{method}: parameter `userId` is yourself"
                    )));
                }
                let a = self
                    .agents
                    .get(u)
                    .ok_or_else(|| ProtoError::not_found(format!("agent `{u}` does not exist")))?;
                let free = if ns == Ns::Chat {
                    a.chat_available()
                } else {
                    a.available()
                };
                if !free {
                    return Err(ProtoError::invalid_state(format!(
                        "agent `{u}` is not available ({})",
                        availability(a)
                    )));
                }
            }
        }
        let now = self.clock.instant();
        let now_ms = self.clock.wall_ms(now);
        if let Some(s) = self.sessions.get_mut(&sid) {
            s.stop_hold(now);
            s.agent = None;
            s.mic_muted = false;
            s.video_muted = false;
            s.declined.clear();
            s.refused.clear();
            s.transfers.push(TransferRecord {
                from: user.to_string(),
                to_user: match &target {
                    Target::User(u) => Some(u.clone()),
                    _ => None,
                },
                to_skill_group: match &target {
                    Target::Group(g) => Some(g.clone()),
                    _ => None,
                },
                to_phone_number: None,
                at: now_ms,
                consult: None,
            });
            if let Target::Group(g) = &target {
                s.group = Some(g.clone());
            }
        }
        self.emit_to_user(
            user,
            &Event::Transfer {
                session_id: sid.clone(),
            },
        );
        if let Some(a) = self.agents.get_mut(user) {
            a.sessions.retain(|x| *x != sid);
        }
        self.release_agent(user, &sid, true);
        match target {
            Target::User(u) => self.offer(&sid, &u),
            Target::Group(_) => self.start_waiting(&sid),
        }
        Ok(None)
    }

    pub(super) fn start_outbound(
        &mut self,
        conn: ConnId,
        user: &str,
        p: &StartOutboundCallParams,
    ) -> Reply {
        let number = p.phone_number.trim();
        check_number("Call.startOutboundCall", number)?;
        if let Some(g) = &p.skill_group_id {
            if !self.queues.has_group(g) {
                return Err(ProtoError::not_found(format!(
                    "skill group `{g}` does not exist"
                )));
            }
        }
        self.can_place_call(user)?;
        let trunk = self.dialing_trunk().ok_or_else(|| {
            ProtoError::invalid_state("no trunk is connected: outbound calls need one")
        })?;
        let caller = p
            .caller_phone_number
            .clone()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| self.cfg.center.caller_phone_number.clone());
        let sid = self.new_session_id();
        let now = self.clock.instant();
        let mut s = Session::new(
            sid.clone(),
            CallType::Phone,
            Direction::Outbound,
            now,
            self.clock.wall_ms(now),
            self.seq,
        );
        s.state = SessionState::Dialing;
        s.trunk = Some(trunk);
        s.agent = Some(user.to_string());
        s.handled_by.push(user.to_string());
        s.group = p.skill_group_id.clone();
        s.call_in.callee_phone_number = Some(number.to_string());
        s.call_in.caller_phone_number = Some(caller.clone());
        s.call_in.remark = p.phone_desc.clone();
        s.call_in.server_type = Some(self.server_type(user).as_str().into());
        s.ring_gen = 1;
        s.uui = p.uui.clone().filter(|u| !u.is_empty());
        self.sessions.insert(sid.clone(), s);
        self.occupy(user, &sid);
        let resp = CallResponse {
            session_id: sid.clone(),
            callee_location: None,
            callee_phone_number: number.to_string(),
            caller_phone_number: caller.clone(),
            server_type: self.server_type(user).as_str().into(),
            remark: p.phone_desc.clone(),
        };
        let tab = self.tab_of(conn);
        self.emit_to_user(
            user,
            &Event::CallOuted(CallOuted {
                session_id: sid.clone(),
                caller_phone_number: caller.clone(),
                callee_phone_number: number.to_string(),
                server_type: self.server_type(user).as_str().into(),
                tab_uuid: tab,
            }),
        );
        self.emit_to_conns(
            &[trunk],
            &Event::Dial {
                session_id: sid.clone(),
                phone_number: number.to_string(),
                caller_phone_number: caller,
                uui: p.uui.clone(),
            },
        );
        let dial = self.cfg.center.dial_timeout;
        if dial > 0 {
            self.schedule(
                Duration::from_secs(dial),
                TimerKind::Dial {
                    session: sid,
                    gen: 1,
                },
            );
        }
        serde_json::to_value(resp)
            .map(Some)
            .map_err(|e| ProtoError::internal(e.to_string()))
    }

    /// May `user` place a call now (outbound or internal)?
    pub(super) fn can_place_call(&self, user: &str) -> Result<(), ProtoError> {
        let a = self
            .agents
            .get(user)
            .ok_or_else(|| ProtoError::not_found("no such agent"))?;
        if a.in_session() || a.offer.is_some() {
            return Err(ProtoError::invalid_state(format!(
                "you are {}: finish it before placing a call",
                availability(a)
            )));
        }
        if !matches!(
            a.status,
            AgentStatus::Free | AgentStatus::NotReady | AgentStatus::Arrange
        ) {
            return Err(ProtoError::invalid_state(format!(
                "status {} does not allow calls: set free or notReady",
                a.status.as_str()
            )));
        }
        Ok(())
    }

    /// `user` is now in session `sid`: busy until it ends.
    pub(super) fn occupy(&mut self, user: &str, sid: &str) {
        if let Some(a) = self.agents.get_mut(user) {
            a.return_status = if a.status == AgentStatus::NotReady {
                AgentStatus::NotReady
            } else {
                AgentStatus::Free
            };
            a.active = Some(sid.to_string());
            if !a.sessions.iter().any(|x| x == sid) {
                a.sessions.push(sid.to_string());
            }
        }
        self.set_status(user, AgentStatus::Busy, None);
    }

    pub(super) fn start_internal(&mut self, user: &str, p: &StartInternalCallParams) -> Reply {
        let callee = p.callee_user_id.as_str();
        if callee == user {
            return Err(ProtoError::bad_request(
                "Call.startInternalCall: parameter `calleeUserId` is yourself",
            ));
        }
        let a = self
            .agents
            .get(callee)
            .ok_or_else(|| ProtoError::not_found(format!("agent `{callee}` does not exist")))?;
        if !a.available() {
            return Err(ProtoError::invalid_state(format!(
                "agent `{callee}` is not available ({})",
                availability(a)
            )));
        }
        self.can_place_call(user)?;
        let mobile = p.use_mobile && self.mobile_of(callee).is_some();
        if p.use_mobile && !mobile {
            return Err(ProtoError::invalid_state(format!(
                "agent `{callee}` has no mobile number in the server's config"
            )));
        }
        if mobile && !self.can_dial_mobiles() {
            return Err(ProtoError::invalid_state(
                "useMobile: no SIP trunk is configured to dial the mobile through",
            ));
        }
        let sid = self.new_session_id();
        let now = self.clock.instant();
        let mut s = Session::new(
            sid.clone(),
            CallType::Internal,
            Direction::Internal,
            now,
            self.clock.wall_ms(now),
            self.seq,
        );
        s.caller_agent = Some(user.to_string());
        s.handled_by.push(user.to_string());
        s.mobile_for = mobile.then(|| callee.to_string());
        self.sessions.insert(sid.clone(), s);
        self.occupy(user, &sid);
        self.offer(&sid, callee);
        Ok(Some(json!({ "sessionId": sid })))
    }

    /// An outbound call rang at the far end for too long.
    pub(super) fn dial_expired(&mut self, session: &str, gen: u64) {
        if self
            .sessions
            .get(session)
            .is_some_and(|s| s.ring_gen == gen && s.state == SessionState::Dialing)
        {
            let _ = self.end_session(session, CloseBy::Timer, Some("noAnswer".into()), None);
        }
    }

    /// A session reached `center.max_session_length`.
    pub(super) fn max_length_reached(&mut self, session: &str) {
        if self.sessions.get(session).is_some_and(|s| s.in_progress()) {
            let _ = self.end_session(
                session,
                CloseBy::Timer,
                Some("maxSessionLength".into()),
                None,
            );
        }
    }
}

pub(super) enum Target {
    Group(String),
    User(String),
}
