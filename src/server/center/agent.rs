//! The SDK's `Agent.*` methods: status, breaks, after-call work.

use super::*;

impl Center {
    /// The SDK's `Agent.*` methods.
    pub(super) fn agent_request(&mut self, user: &str, req: &Request) -> Reply {
        match req {
            Request::AgentOnline(_) => self.change_status(user, "free", None),
            Request::AgentOffline(_) => self.change_status(user, "offline", None),
            Request::AgentSetStatus(p) => {
                self.change_status(user, &p.status, p.rest_reason.clone())
            }
            Request::AgentGetStatus(_) => {
                let a = self
                    .agents
                    .get(user)
                    .ok_or_else(|| ProtoError::not_found("no such agent"))?;
                let mut v = json!({ "status": a.status.as_str() });
                if let Some(r) = &a.rest_reason {
                    v["restReason"] = json!(r);
                }
                Ok(Some(v))
            }
            Request::AgentSetServerType(p) => self.set_server_type(user, p),
            Request::AgentRequestHelp(p) => self.request_help(user, p),
            Request::AgentList(_) => Ok(Some(json!({ "agents": self.directory_agents() }))),
            other => Err(misrouted(other)),
        }
    }

    pub(super) fn set_status(&mut self, user: &str, status: AgentStatus, reason: Option<String>) {
        let now = self.clock.instant();
        let Some(a) = self.agents.get_mut(user) else {
            return;
        };
        let changed = a.status != status || a.rest_reason != reason;
        if a.status == AgentStatus::Arrange && status != AgentStatus::Arrange {
            a.acw_wrap = Default::default();
            if let Some((sid, since)) = a.acw_for.take() {
                let ms = now.saturating_duration_since(since).as_millis() as u64;
                self.kpi_after_call_work(ms);
                match self.sessions.get_mut(&sid).filter(|s| !s.is_ended()) {
                    // Transferred or intercepted away and still going: it is
                    // written with the session's record.
                    Some(s) => s.acw_ms += ms,
                    None => {
                        self.write_record(Write::AddAcw {
                            session_id: sid.clone(),
                            acw_ms: ms,
                        });
                    }
                }
            }
        }
        let Some(a) = self.agents.get_mut(user) else {
            return;
        };
        a.gen += 1;
        if status == AgentStatus::Free && (a.status != AgentStatus::Free) {
            a.free_since = now;
            a.missed_in_row = 0;
        }
        if changed {
            a.status_since = now;
        }
        a.status = status;
        a.rest_reason = reason.clone();
        if changed {
            let after_call_work = self.after_call_work(user);
            self.emit_to_user(
                user,
                &Event::StatusChanged {
                    status,
                    rest_reason: reason,
                    after_call_work,
                },
            );
        }
    }

    pub(super) fn change_status(
        &mut self,
        user: &str,
        status: &str,
        reason: Option<String>,
    ) -> Reply {
        let a = self
            .agents
            .get(user)
            .ok_or_else(|| ProtoError::not_found("no such agent"))?;
        let target = match status {
            "free" => AgentStatus::Free,
            "rest" => AgentStatus::Rest,
            "arrange" => AgentStatus::Arrange,
            "notReady" => AgentStatus::NotReady,
            "offline" => AgentStatus::Offline,
            "stopNotReady" => {
                if a.status != AgentStatus::NotReady {
                    return Err(ProtoError::invalid_state(format!("status is {}, not notReady", a.status.as_str())));
                }
                AgentStatus::Free
            }
            other => {
                return Err(ProtoError::bad_request(format!(
                    "Agent.setStatus: parameter `status` must be free, rest, arrange, notReady or stopNotReady, not `{}`",
                    crate::protocol::shorten_for_error(other)
                )))
            }
        };
        let reason = if target == AgentStatus::Rest {
            let r = reason.ok_or_else(|| {
                ProtoError::bad_request(format!(
                    "Agent.setStatus: rest needs parameter `restReason`, one of {}",
                    self.cfg.center.break_reasons.join(", ")
                ))
            })?;
            if !self.cfg.center.break_reasons.contains(&r) {
                return Err(ProtoError::bad_request(format!(
                    "Agent.setStatus: parameter `restReason` `{}` is not one of {}",
                    crate::protocol::shorten_for_error(&r),
                    self.cfg.center.break_reasons.join(", ")
                )));
            }
            Some(r)
        } else {
            None
        };
        if let Some(sid) = a.active.as_ref().or(a.chats.first()) {
            return Err(ProtoError::invalid_state(format!(
                "you are in session {sid}: end it before changing status"
            )));
        }
        self.check_wrap_up_done(user, target)?;
        if let Some(sid) = a.offer.clone() {
            if target != AgentStatus::Free {
                // Leaving free while an offer rings takes the offer back.
                self.emit_to_user(
                    user,
                    &Event::AutoTransfer {
                        session_id: sid.clone(),
                    },
                );
                self.withdraw_offer(user, &sid, Withdraw::Declined);
            }
        }
        self.set_status(user, target, reason);
        Ok(None)
    }

    /// After-call work ran its course: back to the status from before.
    pub(super) fn after_call_work_ended(&mut self, agent: &str, gen: u64) {
        let Some(a) = self.agents.get(agent) else {
            return;
        };
        if a.gen == gen && a.status == AgentStatus::Arrange {
            if a.acw_wrap.required && a.acw_wrap.code.is_none() {
                // Held open until the code is set.
                if let Some(a) = self.agents.get_mut(agent) {
                    a.acw_wrap.due = true;
                }
                return;
            }
            let back = a.return_status;
            self.set_status(agent, back, None);
        }
    }
}
