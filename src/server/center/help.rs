//! Agents ask for help: `Agent.requestHelp`, and a supervisor's
//! `Supervisor.ackHelp`. The request is a flag on the agent's wallboard row
//! until acknowledged, and a `helpRequested` event (the bell) to every
//! connected supervisor.

use super::*;

/// The longest help text kept, characters.
const MAX_HELP_TEXT: usize = 500;

impl Center {
    /// `Agent.requestHelp`: asked again, the request is replaced.
    pub(super) fn request_help(&mut self, user: &str, p: &HelpParams) -> Reply {
        let text = p
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if text
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_HELP_TEXT)
        {
            return Err(ProtoError::bad_request(format!(
                "Agent.requestHelp: parameter `text` is longer than {MAX_HELP_TEXT} characters"
            )));
        }
        let session_id = p.session_id.clone().filter(|s| !s.is_empty());
        if let Some(sid) = &session_id {
            // Any of the agent's sessions, of any type.
            let ns = match self.sessions.get(sid).map(|s| s.kind) {
                Some(CallType::Im) => Ns::Chat,
                _ => Ns::Call,
            };
            self.party_session(user, sid, ns)?;
        }
        let request = HelpRequest {
            session_id,
            text,
            at: self.clock.now_ms(),
        };
        if let Some(a) = self.agents.get_mut(user) {
            a.help = Some(request.clone());
        }
        tracing::info!(%user, session = ?request.session_id, "help requested");
        let ev = Event::HelpRequested {
            user_id: user.to_string(),
            request,
        };
        let sups = self.supervisor_conns();
        self.emit_to_conns(&sups, &ev);
        Ok(None)
    }

    /// `Supervisor.ackHelp`: the agent sees that help is coming.
    pub(super) fn ack_help(&mut self, by: &str, p: &UserParams) -> Reply {
        let a = self
            .agents
            .get(&p.user_id)
            .ok_or_else(|| ProtoError::not_found(format!("seat `{}` does not exist", p.user_id)))?;
        if a.help.is_none() {
            return Err(ProtoError::invalid_state(format!(
                "`{}` has not asked for help (or it was acknowledged already)",
                p.user_id
            )));
        }
        if let Some(a) = self.agents.get_mut(&p.user_id) {
            a.help = None;
        }
        tracing::info!(user = %p.user_id, %by, "help acknowledged");
        let ev = Event::HelpAcknowledged {
            user_id: p.user_id.clone(),
            by: by.to_string(),
        };
        let mut to = self.supervisor_conns();
        let tabs = self
            .agents
            .get(&p.user_id)
            .map(|a| a.tabs.clone())
            .unwrap_or_default();
        for t in tabs {
            if !to.contains(&t) {
                to.push(t);
            }
        }
        self.emit_to_conns(&to, &ev);
        Ok(None)
    }

    /// Every connection of a supervisor (admin or inspector).
    fn supervisor_conns(&self) -> Vec<ConnId> {
        let mut out: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, c)| matches!(c.role, Role::Admin | Role::Inspector))
            .map(|(id, _)| *id)
            .collect();
        out.sort_unstable();
        out
    }
}
