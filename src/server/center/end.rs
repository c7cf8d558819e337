//! Ending a session: its record, the events, its agents released, and
//! forgetting sessions nobody lists any more.

use super::*;

impl Center {
    /// End a session: hand its record to the writer, tell everyone (once
    /// the record is durable), free its agents. Returns the record's ticket
    /// (0 when there was nothing to end): a request that ended it passes it
    /// to `reply_after`, so that its reply says if the record was lost.
    pub(super) fn end_session(
        &mut self,
        sid: &str,
        close_by: CloseBy,
        main: Option<String>,
        sub: Option<String>,
    ) -> u64 {
        let now = self.clock.instant();
        let now_ms = self.clock.wall_ms(now);
        let Some(s) = self.sessions.get_mut(sid) else {
            return 0;
        };
        if s.is_ended() {
            return 0;
        }
        let was_talking = s.in_progress();
        self.close_recording_pause(sid, now_ms);
        self.kpi_ended(sid);
        self.dequeue(sid);
        let Some(s) = self.sessions.get_mut(sid) else {
            return 0;
        };
        s.stop_hold(now);
        s.state = SessionState::Ended;
        s.ring_gen += 1;
        s.speech.clear();
        s.end = Some(EndInfo {
            close_by,
            main_reason: main.clone(),
            sub_reason: sub.clone(),
            at_ms: now_ms,
        });
        let rec = record_of(s);
        let ticket = self.write_record(Write::Save(Box::new(rec)));
        tracing::info!(session = %sid, close_by = close_by.as_str(), ticket, "session ended");
        let ev = Event::SessionEnded(SessionEnded {
            session_id: sid.to_string(),
            close_by,
            main_reason: main,
            sub_reason: sub,
        });
        let s = &self.sessions[sid];
        let parties = s.parties();
        let customer = s.kind != CallType::Internal;
        let monitors: Vec<String> = s.monitors.iter().map(|m| m.user.clone()).collect();
        for p in &parties {
            self.emit_to_user(p, &ev);
        }
        self.emit_to_monitors(sid, &ev);
        self.emit_to_trunk(sid, &ev);
        for m in monitors {
            self.stop_monitor(&m, sid);
        }
        self.consult_session_ending(sid, close_by);
        for p in parties {
            self.release_agent(&p, sid, customer && was_talking);
        }
        self.prune(sid);
        ticket
    }

    /// An agent is done with a session: after-call work, or back to work.
    pub(super) fn release_agent(&mut self, user: &str, sid: &str, acw: bool) {
        let acw_secs = self.cfg.center.after_call_work;
        let now = self.clock.instant();
        let Some(a) = self.agents.get_mut(user) else {
            return;
        };
        if a.offer.as_deref() == Some(sid) {
            a.offer = None;
        }
        if a.chats.iter().any(|c| c == sid) {
            a.chats.retain(|c| c != sid);
        } else if a.active.as_deref() == Some(sid) {
            a.active = None;
        } else {
            return;
        }
        // Still in other chats: busy, and after-call work waits for the last.
        if a.in_session() {
            return;
        }
        let back = a.return_status;
        if a.tabs.is_empty() {
            a.status = AgentStatus::Offline;
            a.rest_reason = None;
            a.status_since = now;
            return;
        }
        if acw && acw_secs > 0 {
            let (group, code) = match self.sessions.get(sid) {
                Some(s) => (s.group.clone(), s.wrap_up.as_ref().map(|w| w.0.clone())),
                None => (None, None),
            };
            let required = self.wrap_up_required(group.as_deref());
            if let Some(a) = self.agents.get_mut(user) {
                // Set before the status, so statusChanged carries it.
                a.acw_for = Some((sid.to_string(), now));
                a.acw_wrap = crate::server::agent::AcwWrap {
                    group,
                    required,
                    code,
                    due: false,
                };
            }
            self.set_status(user, AgentStatus::Arrange, None);
            if let Some(a) = self.agents.get_mut(user) {
                let gen = a.gen;
                self.schedule(
                    Duration::from_secs(acw_secs),
                    TimerKind::AfterCallWork {
                        agent: user.to_string(),
                        gen,
                    },
                );
            }
        } else {
            self.set_status(user, back, None);
        }
    }

    /// Seats whose lists may hold this session.
    pub(super) fn listers(&self, sid: &str) -> Vec<String> {
        let Some(s) = self.sessions.get(sid) else {
            return Vec::new();
        };
        let mut users = s.handled_by.clone();
        for u in [&s.agent, &s.caller_agent, &s.ringing_to]
            .into_iter()
            .flatten()
        {
            if !users.contains(u) {
                users.push(u.clone());
            }
        }
        users.retain(|u| {
            self.agents
                .get(u)
                .is_some_and(|a| a.sessions.iter().any(|x| x == sid))
        });
        users
    }

    /// Drop ended sessions nobody lists any more, and trim long lists.
    pub(super) fn prune(&mut self, sid: &str) {
        let max = self.cfg.center.max_ended_sessions;
        for user in self.listers(sid) {
            let ended: Vec<String> = {
                let a = &self.agents[&user];
                a.sessions
                    .iter()
                    .filter(|s| self.sessions.get(*s).is_none_or(|x| x.is_ended()))
                    .cloned()
                    .collect()
            };
            if ended.len() > max {
                let drop: Vec<String> = ended[..ended.len() - max].to_vec();
                if let Some(a) = self.agents.get_mut(&user) {
                    a.sessions.retain(|s| !drop.contains(s));
                }
                for d in drop {
                    self.forget_if_unlisted(&d);
                }
            }
        }
        self.forget_if_unlisted(sid);
    }

    pub(super) fn forget_if_unlisted(&mut self, sid: &str) {
        if self.sessions.get(sid).is_some_and(|s| s.is_ended()) && self.listers(sid).is_empty() {
            self.sessions.remove(sid);
        }
    }
}

pub(super) fn record_of(s: &Session) -> SessionRecord {
    let end = s.end.clone();
    let caller = match s.kind {
        CallType::Internal => s.caller_agent.clone(),
        CallType::Im => s
            .call_in
            .nickname
            .clone()
            .or_else(|| s.call_in.user_id.clone()),
        CallType::Voip | CallType::Video => s.call_in.user_id.clone(),
        CallType::Phone => s.call_in.caller_phone_number.clone(),
    };
    let callee = match s.kind {
        CallType::Internal => s.agent.clone().or_else(|| s.ringing_to.clone()),
        CallType::Voip => s.call_in.callee.clone(),
        _ => s.call_in.callee_phone_number.clone(),
    };
    let mut agents = s.handled_by.clone();
    if s.kind == CallType::Internal {
        if let Some(a) = &s.agent {
            if !agents.contains(a) {
                agents.push(a.clone());
            }
        }
    }
    SessionRecord {
        session_id: s.id.clone(),
        kind: s.kind.as_str().into(),
        direction: match s.direction {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::Internal => "internal",
        }
        .into(),
        skill_group: s.group.clone(),
        agents,
        caller,
        callee,
        created_at: s.created_ms,
        offered_at: s.offered_ms,
        accepted_at: s.accepted_ms,
        ended_at: end.as_ref().map(|e| e.at_ms).unwrap_or(s.created_ms),
        hold_ms: s.hold_total.as_millis() as u64,
        acw_ms: (s.acw_ms > 0).then_some(s.acw_ms),
        close_by: end
            .as_ref()
            .map(|e| e.close_by.as_str())
            .unwrap_or("admin")
            .into(),
        main_reason: end.as_ref().and_then(|e| e.main_reason.clone()),
        sub_reason: end.as_ref().and_then(|e| e.sub_reason.clone()),
        missed_offers: s.missed_offers,
        transfers: s.transfers.clone(),
        recording: s.recording.as_ref().map(|p| p.display().to_string()),
        transcript: s.transcript.clone(),
        uui: s.uui.clone(),
        wrap_up_code: s.wrap_up.as_ref().map(|w| w.0.clone()),
        wrap_up_notes: s.wrap_up.as_ref().and_then(|w| w.1.clone()),
        attributes: s.call_in.attributes.clone(),
        consult_of: s.consult_of.clone(),
        callback: s.callback.clone(),
        recording_pauses: s.recording_pauses.clone(),
    }
}
