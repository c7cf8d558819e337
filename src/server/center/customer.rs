//! The trunk's `Customer.*` methods: the customer's side of a session.

use super::*;

impl Center {
    /// The SDK's `Customer.*` methods.
    pub(super) fn customer_request(&mut self, conn: ConnId, req: &Request) -> Reply {
        match req {
            Request::CustomerCall(p) => self.customer_call(conn, p),
            Request::CustomerHangUp(p) => {
                self.trunk_session(conn, &p.session_id)?;
                let ticket = self.end_session(&p.session_id, CloseBy::Client, None, None);
                self.reply_after(ticket, &p.session_id);
                Ok(None)
            }
            Request::CustomerSay(p) => {
                let s = self.trunk_session(conn, &p.session_id)?;
                if !s.kind.is_voice() {
                    return Err(ProtoError::invalid_state(format!(
                        "session {} is a chat: use Customer.sendMessage",
                        s.id
                    )));
                }
                if s.state != SessionState::Talking {
                    return Err(ProtoError::invalid_state(format!(
                        "session {} is {}, not talking: nobody hears the customer",
                        s.id,
                        s.state.as_str()
                    )));
                }
                check_text(&p.text)?;
                // The caller's number picks the voice (the nickname for VoIP).
                let caller = s
                    .call_in
                    .caller_phone_number
                    .clone()
                    .or_else(|| s.call_in.nickname.clone())
                    .unwrap_or_default();
                let voice = self
                    .speech
                    .voice(p.voice.as_deref(), &caller)
                    .map_err(|m| ProtoError::bad_request(format!("parameter `voice`: {m}")))?;
                // Spoken into the call when it has audio and a voice; the
                // recogniser then writes the transcript. Otherwise (and
                // when nothing recognises it) the words go out as text.
                let spoken = self.speech.tts.is_some()
                    && self
                        .bridges
                        .get(&p.session_id)
                        .map(|b| {
                            b.send(BridgeCmd::Say {
                                text: p.text.clone(),
                                voice,
                            })
                        })
                        .is_some();
                if !spoken || self.speech.model.is_none() {
                    self.speak(&p.session_id, Flow::In, &p.text);
                }
                Ok(None)
            }
            Request::CustomerSendMessage(p) => self.customer_message(conn, p),
            Request::CustomerPlay(p) => self.customer_play(conn, p),
            Request::CustomerRequestCallback(p) => {
                self.trunk_session(conn, &p.session_id)?;
                self.request_callback(&p.session_id, p.phone_number.as_deref())
            }
            Request::CustomerAnswer(p) => {
                let s = self.trunk_session(conn, &p.session_id)?;
                if s.state != SessionState::Dialing
                    || (s.direction != Direction::Outbound && s.callback.is_none())
                {
                    return Err(ProtoError::invalid_state(format!(
                        "session {} is not an outbound call being dialled",
                        s.id
                    )));
                }
                let agent = s.agent.clone();
                self.start_talking(&p.session_id);
                if let Some(a) = agent {
                    self.emit_to_user(
                        &a,
                        &Event::CalloutAccepted {
                            session_id: p.session_id.clone(),
                        },
                    );
                }
                Ok(None)
            }
            Request::CustomerReject(p) => {
                let s = self.trunk_session(conn, &p.session_id)?;
                if s.state != SessionState::Dialing
                    || (s.direction != Direction::Outbound && s.callback.is_none())
                {
                    return Err(ProtoError::invalid_state(format!(
                        "session {} is not an outbound call being dialled",
                        s.id
                    )));
                }
                let reason = p
                    .reason
                    .as_deref()
                    .filter(|r| !r.is_empty())
                    .map(|r| crate::protocol::shorten_for_error(r).to_string())
                    .unwrap_or_else(|| "rejected".into());
                let detail = p
                    .detail
                    .as_deref()
                    .map(|d| crate::protocol::shorten_for_error(d).to_string());
                let ticket = self.end_session(&p.session_id, CloseBy::Client, Some(reason), detail);
                self.reply_after(ticket, &p.session_id);
                Ok(None)
            }
            other => Err(misrouted(other)),
        }
    }

    pub(super) fn trunk_session(&self, conn: ConnId, sid: &str) -> Result<&Session, ProtoError> {
        let s = self
            .sessions
            .get(sid)
            .ok_or_else(|| ProtoError::not_found(format!("session {sid} does not exist")))?;
        if s.trunk != Some(conn) {
            return Err(ProtoError::forbidden(format!(
                "session {sid} belongs to another trunk connection"
            )));
        }
        if s.is_ended() {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} has ended"
            )));
        }
        Ok(s)
    }

    pub(super) fn customer_call(&mut self, conn: ConnId, p: &CustomerCallParams) -> Reply {
        let need = |field: &Option<String>, name: &str, t: &str| -> Result<String, ProtoError> {
            match field {
                Some(v) if !v.is_empty() => Ok(v.clone()),
                _ => Err(ProtoError::bad_request(format!(
                    "Customer.call: type {t} needs parameter `{name}`"
                ))),
            }
        };
        if !self.queues.has_group(&p.skill_group_id) {
            return Err(ProtoError::not_found(format!(
                "skill group `{}` does not exist",
                crate::protocol::shorten_for_error(&p.skill_group_id)
            )));
        }
        let priority = p.priority.unwrap_or(0);
        if priority > MAX_PRIORITY {
            return Err(ProtoError::bad_request(format!(
                "Customer.call: parameter `priority` must be 0 to {MAX_PRIORITY}, not {priority}"
            )));
        }
        let attributes = p.attributes.clone().unwrap_or_default();
        if attributes.len() > MAX_ATTRIBUTES {
            return Err(ProtoError::bad_request(format!(
                "Customer.call: parameter `attributes` has {} entries, at most {MAX_ATTRIBUTES}",
                attributes.len()
            )));
        }
        for (name, value) in &attributes {
            let n = name.chars().count();
            if n == 0 || n > MAX_ATTRIBUTE_NAME || value.chars().count() > MAX_ATTRIBUTE_VALUE {
                return Err(ProtoError::bad_request(format!(
                    "Customer.call: attribute `{}`: names are 1-{MAX_ATTRIBUTE_NAME} characters, values at most {MAX_ATTRIBUTE_VALUE}",
                    crate::protocol::shorten_for_error(name)
                )));
            }
        }
        let mut call_in = CallIn {
            kind: p.kind,
            remark: p.remark.clone(),
            attributes,
            ..Default::default()
        };
        match p.kind {
            CallType::Phone => {
                call_in.callee_phone_number =
                    Some(need(&p.callee_phone_number, "calleePhoneNumber", "phone")?);
                call_in.caller_phone_number = p.caller_phone_number.clone();
                call_in.caller_location = p.caller_location.clone();
                call_in.ivr_path = p.ivr_path.clone();
                call_in.protected_callee = p.protected_callee.clone();
                call_in.protected_caller = p.protected_caller.clone();
                call_in.server_type = Some("staffSeat".into());
            }
            CallType::Im => {
                call_in.nickname = Some(need(&p.nickname, "nickname", "im")?);
                call_in.avatar = p.avatar.clone();
                call_in.peer_source = p.peer_source.clone();
                call_in.channel_name = p.channel_name.clone();
                call_in.client_data = p.client_data.clone();
                call_in.user_id = p.user_id.clone();
            }
            CallType::Voip => {
                call_in.callee = Some(need(&p.callee, "callee", "voip")?);
                call_in.user_id = Some(need(&p.user_id, "userId", "voip")?);
                call_in.callee_remark = p.callee_remark.clone();
                call_in.nickname = p.nickname.clone();
                call_in.avatar = p.avatar.clone();
                call_in.peer_source = p.peer_source.clone();
                call_in.ivr_path = p.ivr_path.clone();
                call_in.client_data = p.client_data.clone();
            }
            CallType::Video => {
                call_in.user_id = Some(need(&p.user_id, "userId", "video")?);
                call_in.nickname = p.nickname.clone();
                call_in.avatar = p.avatar.clone();
            }
            CallType::Internal => {
                return Err(ProtoError::bad_request("Customer.call: parameter `type` internal is for agents: use Call.startInternalCall"));
            }
        }
        let sid = self.new_session_id();
        let now = self.clock.instant();
        let mut s = Session::new(
            sid.clone(),
            p.kind,
            Direction::Inbound,
            now,
            self.clock.wall_ms(now),
            self.seq,
        );
        call_in.session_id = sid.clone();
        s.call_in = call_in;
        s.trunk = Some(conn);
        s.group = Some(p.skill_group_id.clone());
        s.queue_key = routing::QueueKey::new(priority, now, s.queue_key.seq);
        self.sessions.insert(sid.clone(), s);
        self.start_waiting(&sid);
        self.kpi_offered();
        Ok(Some(json!({ "sessionId": sid })))
    }

    /// `Customer.play`: the customer's side plays a sound or tones.
    pub(super) fn customer_play(&mut self, conn: ConnId, p: &PlayParams) -> Reply {
        let s = self.trunk_session(conn, &p.session_id)?;
        if !s.kind.is_voice() {
            return Err(ProtoError::invalid_state(format!(
                "session {} is a chat: it has no audio",
                s.id
            )));
        }
        let sound = match (&p.sound, &p.tones) {
            (Some(name), None) => {
                if !crate::server::media::sound::ASSETS
                    .iter()
                    .any(|(n, _)| n == name)
                {
                    let known: Vec<&str> = crate::server::media::sound::ASSETS
                        .iter()
                        .map(|(n, _)| *n)
                        .collect();
                    return Err(ProtoError::bad_request(format!(
                        "parameter `sound`: no sound `{}`; the server has {}",
                        shorten_for_error(name),
                        known.join(", ")
                    )));
                }
                Sound::Asset(name.clone())
            }
            (None, Some(t)) => {
                crate::server::media::sound::check_tones(t).map_err(ProtoError::bad_request)?;
                Sound::Tones(t.clone())
            }
            _ => {
                return Err(ProtoError::bad_request(
                    "give exactly one of `sound` and `tones`",
                ))
            }
        };
        if let Some(s) = self.sessions.get_mut(&p.session_id) {
            // The first number is random: a bridge that outlived its
            // owner (a cluster) must not take a new owner's first sound
            // for one it already played.
            let gen = s
                .sound
                .as_ref()
                .map_or_else(rand::random::<u32>, |(g, _)| g.wrapping_add(1));
            s.sound = Some((gen, sound));
        }
        Ok(None)
    }
}
