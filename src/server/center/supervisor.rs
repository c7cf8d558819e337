//! Supervision: `Call.monitor`, `Call.intercept` and the `Supervisor.*`
//! methods (the wallboard itself is in `board.rs`).

use super::*;

impl Center {
    /// The SDK's `Supervisor.*` methods.
    pub(super) fn supervisor_request(&mut self, conn: ConnId, user: &str, req: &Request) -> Reply {
        match req {
            Request::SupervisorListSessions(_) => {
                Ok(Some(json!({ "sessions": self.list_sessions() })))
            }
            Request::SupervisorSubscribe(_) => {
                let board = self.subscribe(conn);
                Ok(serde_json::to_value(board).ok())
            }
            Request::SupervisorUnsubscribe(_) => {
                self.unsubscribe(conn);
                Ok(None)
            }
            Request::SupervisorAckHelp(p) => self.ack_help(user, p),
            Request::SupervisorSetSkillGroups(_)
            | Request::SupervisorAddUser(_)
            | Request::SupervisorRemoveUser(_)
            | Request::SupervisorSetPassword(_) => self.staffing_request(user, req),
            Request::SupervisorStopMonitor(p) => {
                let watching = self
                    .agents
                    .get(user)
                    .is_some_and(|a| a.monitoring.contains(&p.session_id));
                if !watching {
                    return Err(ProtoError::not_found(format!(
                        "you are not monitoring session {}",
                        p.session_id
                    )));
                }
                self.stop_monitor(user, &p.session_id);
                Ok(None)
            }
            other => Err(misrouted(other)),
        }
    }

    pub(super) fn stop_monitor(&mut self, user: &str, sid: &str) {
        let mut was = false;
        if let Some(s) = self.sessions.get_mut(sid) {
            was = s.monitors.iter().any(|m| m.user == user);
            s.monitors.retain(|m| m.user != user);
        }
        // The agents see who monitors their call.
        if was && self.sessions.get(sid).is_some_and(|s| !s.is_ended()) {
            self.emit_session_updated(sid);
        }
        if let Some(a) = self.agents.get_mut(user) {
            a.monitoring.retain(|s| s != sid);
            if a.audio_monitor.as_deref() == Some(sid) {
                a.audio_monitor = None;
            }
        }
    }

    pub(super) fn stop_all_monitors(&mut self, user: &str) {
        let list = self
            .agents
            .get(user)
            .map(|a| a.monitoring.clone())
            .unwrap_or_default();
        for sid in list {
            self.stop_monitor(user, &sid);
        }
    }

    pub(super) fn monitor(&mut self, user: &str, p: &MonitorParams) -> Reply {
        let sid = &p.session_id;
        let s = self
            .sessions
            .get(sid)
            .ok_or_else(|| ProtoError::not_found(format!("session {sid} does not exist")))?;
        if !s.in_progress() {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is {}: only a session in progress can be monitored",
                s.state.as_str()
            )));
        }
        if s.is_party(user) {
            return Err(ProtoError::invalid_state(format!(
                "you are a party to session {sid}"
            )));
        }
        let a = self
            .agents
            .get(user)
            .ok_or_else(|| ProtoError::not_found("no such supervisor"))?;
        let mode = match (p.text_only, p.mode) {
            (true, None | Some(MonitorMode::Text)) | (false, Some(MonitorMode::Text)) => {
                MonitorMode::Text
            }
            (true, Some(m)) => {
                return Err(ProtoError::bad_request(format!(
                    "Call.monitor: `textOnly` and mode `{}` do not go together",
                    m.as_str()
                )))
            }
            (false, m) => m.unwrap_or_default(),
        };
        let text_only = mode == MonitorMode::Text;
        if matches!(mode, MonitorMode::Coach | MonitorMode::Barge) && !s.kind.is_voice() {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is a chat: there is no audio to {}",
                mode.as_str()
            )));
        }
        if !text_only {
            if let Some(other) = a.audio_monitor.as_ref().filter(|o| *o != sid) {
                return Err(ProtoError::invalid_state(format!(
                    "already monitoring session {other} with audio: one audio monitor at a time"
                )));
            }
        }
        let changed = s
            .monitors
            .iter()
            .find(|m| m.user == user)
            .is_none_or(|m| m.mode != mode);
        if let Some(s) = self.sessions.get_mut(sid) {
            s.monitors.retain(|m| m.user != user);
            s.monitors.push(Monitor {
                user: user.to_string(),
                mode,
            });
        }
        if changed {
            tracing::info!(session = %sid, supervisor = %user, mode = mode.as_str(), "monitor");
            self.emit_session_updated(sid);
        }
        if let Some(a) = self.agents.get_mut(user) {
            if !a.monitoring.contains(sid) {
                a.monitoring.push(sid.clone());
            }
            if !text_only {
                a.audio_monitor = Some(sid.clone());
            } else if a.audio_monitor.as_deref() == Some(sid) {
                a.audio_monitor = None;
            }
        }
        Ok(None)
    }

    pub(super) fn intercept(&mut self, conn: ConnId, user: &str, sid: &str) -> Reply {
        let s = self
            .sessions
            .get(sid)
            .ok_or_else(|| ProtoError::not_found(format!("session {sid} does not exist")))?;
        if !s.monitors.iter().any(|m| m.user == user) {
            return Err(ProtoError::invalid_state(format!(
                "intercept needs monitoring: call Call.monitor on {sid} first"
            )));
        }
        if !s.in_progress() {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is not in progress"
            )));
        }
        if s.kind == CallType::Internal {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is an internal call and cannot be intercepted"
            )));
        }
        let old = s.agent.clone();
        self.can_place_call(user)?;
        self.stop_monitor(user, sid);
        if let Some(s) = self.sessions.get_mut(sid) {
            s.agent = Some(user.to_string());
            s.mic_muted = false;
            s.handled_by.push(user.to_string());
        }
        if let Some(old) = old {
            self.emit_to_user(
                &old,
                &Event::SessionEnded(SessionEnded {
                    session_id: sid.to_string(),
                    close_by: CloseBy::Admin,
                    main_reason: Some("intercepted".into()),
                    sub_reason: Some(format!("taken over by {user}")),
                }),
            );
            if let Some(a) = self.agents.get_mut(&old) {
                a.sessions.retain(|x| x != sid);
            }
            self.release_agent(&old, sid, true);
        }
        self.occupy(user, sid);
        let tab = self.tab_of(conn);
        self.emit_to_user(
            user,
            &Event::UserAccessed {
                session_id: sid.to_string(),
                tab_uuid: tab,
            },
        );
        let snap = self.snapshot_for(sid, user);
        Ok(snap.and_then(|s| serde_json::to_value(s).ok()))
    }

    pub(super) fn list_sessions(&self) -> Vec<SessionSummary> {
        let mut list: Vec<SessionSummary> = self
            .sessions
            .values()
            .filter(|s| !s.is_ended())
            .map(|s| SessionSummary {
                session_id: s.id.clone(),
                kind: s.kind,
                state: s.state,
                user_id: s.seat(),
                skill_group_id: s.group.clone(),
                caller_phone_number: s.call_in.caller_phone_number.clone(),
                started_at: s.created_ms,
            })
            .collect();
        list.sort_by(|a, b| (a.started_at, &a.session_id).cmp(&(b.started_at, &b.session_id)));
        list
    }
}
