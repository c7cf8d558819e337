//! Wrap-up codes and notes (`Call.setWrapUp`): the outcome of a session,
//! set during it or in its after-call work, kept in its record. A skill
//! group's `wrap_up_codes` are what its agents pick from; with
//! `wrap_up_required`, after-call work does not end by itself, and the
//! agent cannot go back to work, until a code is set.

use super::*;
use crate::server::config::MAX_WRAP_UP_CODE;

/// The longest wrap-up notes, characters.
pub const MAX_WRAP_UP_NOTES: usize = 1000;

impl Center {
    /// The wrap-up codes of skill group `group` (none for no group).
    fn wrap_up_codes(&self, group: Option<&str>) -> Vec<String> {
        group
            .and_then(|g| self.cfg.skill_group(g))
            .map(|g| g.wrap_up_codes.clone())
            .unwrap_or_default()
    }

    /// Whether the sessions of `group` need a code before the agent goes on.
    pub(super) fn wrap_up_required(&self, group: Option<&str>) -> bool {
        group
            .and_then(|g| self.cfg.skill_group(g))
            .is_some_and(|g| g.wrap_up_required)
    }

    /// `Call.setWrapUp`.
    pub(super) fn set_wrap_up(&mut self, user: &str, p: &WrapUpParams) -> Reply {
        let sid = p.session_id.as_str();
        let a = self
            .agents
            .get(user)
            .ok_or_else(|| ProtoError::not_found("no such agent"))?;
        let in_acw = a.acw_for.as_ref().is_some_and(|(s, _)| s == sid);
        let session = self.sessions.get(sid);
        if session.is_none() && !in_acw {
            return Err(ProtoError::not_found(format!(
                "session {sid} does not exist"
            )));
        }
        let yours = in_acw
            || a.sessions.iter().any(|s| s == sid)
            || session.is_some_and(|s| s.is_party(user));
        if !yours {
            return Err(ProtoError::forbidden(format!("session {sid} is not yours")));
        }
        let group = match session {
            Some(s) => s.group.clone(),
            None => a.acw_wrap.group.clone(),
        };
        let code = p.code.trim();
        if code.is_empty() || code.chars().count() > MAX_WRAP_UP_CODE {
            return Err(ProtoError::bad_request(format!(
                "Call.setWrapUp: parameter `code` must be 1-{MAX_WRAP_UP_CODE} characters"
            )));
        }
        let codes = self.wrap_up_codes(group.as_deref());
        if !codes.is_empty() && !codes.iter().any(|c| c == code) {
            return Err(ProtoError::bad_request(format!(
                "Call.setWrapUp: `{}` is not a wrap-up code of skill group {}: one of {}",
                crate::protocol::shorten_for_error(code),
                group.as_deref().unwrap_or("-"),
                codes.join(", ")
            )));
        }
        let notes = p.notes.as_deref().map(str::trim).filter(|n| !n.is_empty());
        if notes.is_some_and(|n| n.chars().count() > MAX_WRAP_UP_NOTES) {
            return Err(ProtoError::bad_request(format!(
                "Call.setWrapUp: parameter `notes` is longer than {MAX_WRAP_UP_NOTES} characters"
            )));
        }
        let wrap = (code.to_string(), notes.map(str::to_string));
        // Kept with the session (its record is written when it ends); once
        // recorded, the record is updated.
        let recorded = match self.sessions.get_mut(sid) {
            Some(s) => {
                s.wrap_up = Some(wrap.clone());
                s.is_ended()
            }
            None => true,
        };
        if recorded {
            self.write_record(Write::SetWrapUp {
                session_id: sid.to_string(),
                code: wrap.0.clone(),
                notes: wrap.1.clone(),
            });
        }
        tracing::info!(session = %sid, %user, code = %wrap.0, "wrap-up set");
        if in_acw {
            let Some(a) = self.agents.get_mut(user) else {
                return Ok(None);
            };
            a.acw_wrap.code = Some(wrap.0);
            if a.acw_wrap.due {
                // Its time ran out while the code was missing: it ends now.
                let back = a.return_status;
                self.set_status(user, back, None);
            } else {
                let ev = Event::StatusChanged {
                    status: AgentStatus::Arrange,
                    rest_reason: None,
                    after_call_work: self.after_call_work(user),
                };
                self.emit_to_user(user, &ev);
            }
        }
        Ok(None)
    }

    /// The after-call work `user` is in, for `statusChanged` and the login
    /// result.
    pub(super) fn after_call_work(&self, user: &str) -> Option<AfterCallWork> {
        let a = self.agents.get(user)?;
        if a.status != AgentStatus::Arrange {
            return None;
        }
        let (sid, since) = a.acw_for.as_ref()?;
        let seconds = self.cfg.center.after_call_work;
        Some(AfterCallWork {
            session_id: sid.clone(),
            seconds,
            // Its start and length decide it: not stored twice.
            ends_at: self.clock.wall_ms(*since) + seconds * 1000,
            codes: self.wrap_up_codes(a.acw_wrap.group.as_deref()),
            required: a.acw_wrap.required,
            code: a.acw_wrap.code.clone(),
        })
    }

    /// Leaving after-call work for `target` needs the required code first
    /// (logging off does not).
    pub(super) fn check_wrap_up_done(
        &self,
        user: &str,
        target: AgentStatus,
    ) -> Result<(), ProtoError> {
        let Some(a) = self.agents.get(user) else {
            return Ok(());
        };
        let Some((sid, _)) = a.acw_for.as_ref() else {
            return Ok(());
        };
        let missing =
            a.status == AgentStatus::Arrange && a.acw_wrap.required && a.acw_wrap.code.is_none();
        if missing && !matches!(target, AgentStatus::Arrange | AgentStatus::Offline) {
            return Err(ProtoError::invalid_state(format!(
                "set a wrap-up code for session {sid} first (Call.setWrapUp: one of {})",
                self.wrap_up_codes(a.acw_wrap.group.as_deref()).join(", ")
            )));
        }
        Ok(())
    }
}
