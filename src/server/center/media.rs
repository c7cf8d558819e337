//! The audio of sessions: `Media.offer`, the bridges told who is in each
//! call, and DTMF heard in a seat's audio.

use super::*;

impl Center {
    /// `Media.offer`: check who asks, then negotiate off the actor; the
    /// answer goes straight to the connection when it exists.
    pub(super) fn media_offer(
        &mut self,
        conn: ConnId,
        id: Value,
        p: MediaOfferParams,
    ) -> Result<(), ProtoError> {
        let Some(c) = self.conns.get(&conn) else {
            return Err(ProtoError::unauthorized("log in first"));
        };
        let user = c.user.clone();
        let tx = c.tx.clone();
        if !self.cfg.media.enabled {
            return Err(ProtoError::invalid_state(
                "audio is off on this server (media.enabled = false)",
            ));
        }
        let s = self.sessions.get(&p.session_id).ok_or_else(|| {
            ProtoError::not_found(format!("session {} does not exist", p.session_id))
        })?;
        if !s.kind.is_voice() {
            return Err(ProtoError::invalid_state(format!(
                "session {} is a chat: it has no audio",
                s.id
            )));
        }
        if s.is_ended() {
            return Err(ProtoError::invalid_state(format!(
                "session {} has ended",
                s.id
            )));
        }
        let home = self.audio_home(&s.id);
        if !self.bridge_mix(&home).is_some_and(|m| m.has(&user)) {
            return Err(ProtoError::invalid_state(format!(
                "`{user}` is not in the conversation of session {} (it is {}): audio starts once you are",
                s.id,
                s.state.as_str()
            )));
        }
        let seat = self.server_type(&user);
        if !seat.audio_in_terminal() {
            return Err(ProtoError::invalid_state(format!(
                "`{user}` is a {} seat: the call's audio goes to the phone",
                seat.as_str()
            )));
        }
        if p.sdp.len() > 64 * 1024 {
            return Err(ProtoError::bad_request(
                "parameter `sdp` is longer than 64 KiB",
            ));
        }
        let sid = p.session_id.clone();
        self.ensure_bridge(&home);
        let Some(negotiator) = self.bridges.get(&home).map(|b| b.negotiator()) else {
            return Err(ProtoError::new(ErrorCode::Internal, "no media bridge"));
        };
        let ip = self.cfg.media_ip();
        crate::server::media::runtime().spawn(async move {
            let resp = match negotiator.answer(ip, user, p.sdp).await {
                Ok(sdp) => Response::ok(id, serde_json::to_value(MediaAnswer { sdp }).ok()),
                Err(e) => {
                    tracing::debug!(session = %sid, error = %e, "Media.offer refused");
                    Response::error(id, &ProtoError::bad_request(format!("Media.offer: {e}")))
                }
            };
            let _ = tx.send(Outbound::Text(resp.to_json().into())).await;
        });
        Ok(())
    }

    /// Tell each bridge who is in its call now; end the bridges of ended sessions.
    /// Only the sessions this command changed are looked at.
    pub(super) fn sync_media(&mut self) {
        if self.bridges.is_empty() {
            return;
        }
        // A consult leg's audio is in its customer session's bridge.
        let homes: HashSet<String> = self
            .changes
            .sessions
            .iter()
            .map(|sid| self.audio_home(sid))
            .collect();
        for sid in &homes {
            if !self.bridges.contains_key(sid) {
                continue;
            }
            let mix = self.bridge_mix(sid).map(|mut mix| {
                // A seat in the call whose phone (desk phone, mobile)
                // has not answered yet: the caller hears the queue's
                // music meanwhile, not silence.
                if self.phone_ringing_in_call(sid, &mix) {
                    mix.waiting = true;
                }
                mix
            });
            match mix {
                Some(mix) => {
                    if let Some(b) = self.bridges.get_mut(sid) {
                        b.update(mix);
                    }
                }
                None => {
                    if let Some(b) = self.bridges.remove(sid) {
                        b.send(BridgeCmd::End);
                    }
                }
            }
        }
    }

    /// The caller pressed a key on the phone line: the parties and the
    /// monitors are told (`digits`, as a trunk is), and the record keeps it
    /// in the transcript (keys pressed together make one entry).
    pub(super) fn customer_digit(&mut self, sid: &str, digit: char) {
        let now = self.clock.instant();
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        if s.is_ended() {
            return;
        }
        let waiting = matches!(s.state, SessionState::Queued | SessionState::Ringing);
        if waiting
            && self.cfg.center.callback_key.as_deref() == Some(digit.encode_utf8(&mut [0; 4]))
        {
            // The waiting caller asks to be called back.
            let number = s.call_in.caller_phone_number.clone();
            if let Some(n) = number {
                if let Err(e) = self.request_callback(sid, Some(&n)) {
                    tracing::info!(session = %sid, error = %e.message, "a callback asked by key refused");
                }
                return;
            }
        }
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        let at = s.elapsed_ms(now);
        match s.transcript.last_mut() {
            Some(l) if l.keys && at.saturating_sub(l.end_time) < KEYS_TOGETHER_MS => {
                l.text.push(digit);
                l.end_time = at;
            }
            _ => s.transcript.push(TranscriptLine {
                flow: Flow::In,
                index: 0,
                start_time: at,
                end_time: at,
                text: digit.to_string(),
                keys: true,
            }),
        }
        let parties = s.parties();
        let ev = Event::Digits {
            session_id: sid.to_string(),
            dtmf_text: digit.to_string(),
        };
        for p in &parties {
            self.emit_to_user(p, &ev);
        }
        self.emit_to_monitors(sid, &ev);
    }

    /// The session's bridge, started (recording, transcript) if it has
    /// none yet, and told who is in the call.
    pub(super) fn ensure_bridge(&mut self, sid: &str) {
        if !self.bridges.contains_key(sid) {
            match self.media_nodes.as_ref().map(|(here, _)| here.clone()) {
                // In a cluster every bridge runs in a node's media service
                // (the customer's node; this one when no customer is
                // connected), so that it does not end with this center. It
                // stays there for the call: the seats' peer connections
                // are with it.
                Some(here) => {
                    let node = self.bridge_node(sid).unwrap_or(here);
                    self.remote_bridge(sid, &node);
                }
                None => self.local_bridge(sid),
            }
        }
        if let Some(mix) = self.bridge_mix(sid) {
            if let Some(b) = self.bridges.get_mut(sid) {
                b.update(mix);
            }
        }
    }

    /// The bridge of `sid` as a task of this process.
    fn local_bridge(&mut self, sid: &str) {
        let (recording, since_start) = self.recording_for(sid);
        let me = self
            .me
            .clone()
            .unwrap_or_else(|| mpsc::unbounded_channel().0.downgrade());
        let report: Report = Arc::new(move |ev: BridgeEvent| {
            if let Some(tx) = me.upgrade() {
                let _ = tx.send(Command::from(ev));
            }
        });
        let bridge = Bridge::spawn(sid, recording, report, self.speech.clone(), since_start);
        self.bridges.insert(sid.to_string(), bridge);
    }

    /// In a cluster, the node where session `sid`'s bridge belongs: its
    /// customer's (the trunk connection's), so that the call's audio stays
    /// on the node it landed on and outlives the center's owner. `None`:
    /// no cluster, or no customer connected now.
    fn bridge_node(&self, sid: &str) -> Option<String> {
        self.media_nodes.as_ref()?;
        let trunk = self.sessions.get(sid)?.trunk?;
        self.conns.get(&trunk)?.node.clone()
    }

    /// The bridge of `sid` on a cluster's `node`, started there unless it
    /// runs already (a new owner's handle on the bridge the session had
    /// under the old owner, which a surviving node keeps running).
    pub(super) fn remote_bridge(&mut self, sid: &str, node: &str) {
        let Some(nodes) = self.media_nodes.as_ref().map(|(_, n)| n.clone()) else {
            return;
        };
        if self.bridges.contains_key(sid) {
            return;
        }
        let (recording, since_start) = self.recording_for(sid);
        let bridge = Bridge::remote(sid, node, nodes, recording, since_start);
        self.bridges.insert(sid.to_string(), bridge);
    }

    /// A new bridge's recording file (kept in the session for its record)
    /// and how far into the session the bridge starts.
    fn recording_for(&mut self, sid: &str) -> (Option<std::path::PathBuf>, u64) {
        let recording = self
            .recordings
            .as_ref()
            .map(|d| d.join(format!("{sid}.wav")));
        let now = self.clock.instant();
        let mut since_start = 0;
        if let Some(s) = self.sessions.get_mut(sid) {
            since_start = s.elapsed_ms(now);
            s.recording = recording.clone();
        }
        (recording, since_start)
    }

    /// The bridges running on other nodes' media services, by node.
    pub(super) fn bridges_by_node(&self) -> HashMap<String, Vec<String>> {
        let mut by_node: HashMap<String, Vec<String>> = HashMap::new();
        for (sid, b) in &self.bridges {
            if let Some(node) = b.node() {
                by_node
                    .entry(node.to_string())
                    .or_default()
                    .push(sid.clone());
            }
        }
        by_node
    }

    /// The trunk gives a session's customer side as a phone line (a SIP
    /// call's RTP): its bridge starts now, so the caller hears the queue's
    /// music while waiting.
    pub(super) fn customer_line(
        &mut self,
        conn: ConnId,
        sid: &str,
        line: Option<Box<dyn PhoneLine>>,
    ) {
        if self.trunk_session(conn, sid).is_err() {
            tracing::warn!(session = %sid, "a phone line for a session that is not this trunk's");
            return;
        }
        if let Some(s) = self.sessions.get_mut(sid) {
            s.line = true;
        }
        self.ensure_bridge(sid);
        if let (Some(b), Some(line)) = (self.bridges.get(sid), line) {
            b.send(BridgeCmd::Line(line));
        }
    }

    /// A digit in a seat's audio: to the trunk, as `Call.sendDigits` would.
    pub(super) fn heard_digit(&mut self, d: HeardDigit) {
        let Some(s) = self.sessions.get(&d.session) else {
            return;
        };
        if s.state != SessionState::Talking || !s.is_party(&d.user) {
            return;
        }
        tracing::debug!(session = %d.session, user = %d.user, digit = %d.digit, "DTMF heard in the audio");
        self.emit_to_trunk(
            &d.session,
            &Event::Digits {
                session_id: d.session.clone(),
                dtmf_text: d.digit.to_string(),
            },
        );
    }
}

impl Center {
    /// Who is in the call a bridge carries: session `sid`'s parties and,
    /// while it has a consult, the consult leg's (the agents hear each
    /// other while the customer holds; all three talk in a conference).
    /// None once the session has ended.
    pub(super) fn bridge_mix(&self, sid: &str) -> Option<Mix> {
        let s = self.sessions.get(sid).filter(|s| !s.is_ended())?;
        let mut mix = mix_of(s);
        let leg = s
            .consult
            .as_ref()
            .and_then(|c| self.sessions.get(&c.leg))
            .filter(|c| !c.is_ended());
        if let Some(leg) = leg {
            let mut m = mix_of(leg);
            // An outside number is in the call as a phone.
            if let Some(n) = &leg.consult_number {
                m.talkers.push((super::consult::number_phone(n), false));
            }
            for (u, muted) in m.talkers {
                if !mix.has(&u) {
                    mix.talkers.push((u, muted));
                }
            }
            for u in m.listeners {
                if !mix.has(&u) {
                    mix.listeners.push(u);
                }
            }
        }
        Some(mix)
    }
}

/// Keys pressed less than this apart are one entry of the transcript.
const KEYS_TOGETHER_MS: u64 = 3_000;

/// Who is in a session's call, for its media bridge.
pub(super) fn mix_of(s: &Session) -> Mix {
    let mut talkers = Vec::new();
    if !s.is_ended() {
        if let Some(c) = &s.caller_agent {
            talkers.push((c.clone(), s.caller_mic_muted));
        }
        if let Some(a) = &s.agent {
            let in_call = matches!(
                s.state,
                SessionState::Talking | SessionState::Held | SessionState::Dialing
            );
            if in_call && !talkers.iter().any(|(u, _)| u == a) {
                talkers.push((a.clone(), s.mic_muted));
            }
        }
    }
    // A supervisor who barges in is in the call as a seat is.
    for m in &s.monitors {
        if m.mode == MonitorMode::Barge
            && !s.is_ended()
            && !talkers.iter().any(|(u, _)| *u == m.user)
        {
            talkers.push((m.user.clone(), false));
        }
    }
    let monitors = |mode: MonitorMode| -> Vec<String> {
        s.monitors
            .iter()
            .filter(|m| m.mode == mode)
            .map(|m| m.user.clone())
            .collect()
    };
    Mix {
        customer: s.kind != CallType::Internal,
        talkers,
        listeners: monitors(MonitorMode::Listen),
        coaches: monitors(MonitorMode::Coach),
        recording_paused: s.recording_paused.is_some(),
        held: s.state == SessionState::Held,
        waiting: matches!(s.state, SessionState::Queued | SessionState::Ringing),
        sound: s.sound.clone(),
    }
}
