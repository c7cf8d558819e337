//! What a new owner of the center needs when the center moves to another
//! node (docs/ARCHITECTURE.md, "Several nodes"): the seats' statuses and
//! the sessions in progress, as data. The owner asks for it
//! (`Command::State`) and keeps it in JetStream; a new owner gives it to
//! its fresh center (`Command::Restore`) before anyone logs in again.
//!
//! Restored: a queued or ringing session waits in its queue again (a
//! ringing offer is made afresh); a talking or held call or chat goes on
//! with its agent, who is busy; a seat's status and break reason come
//! back when it logs in again. Not kept: dialing calls, internal calls,
//! consults, monitors, transcripts. A restored session's customer side is
//! the first connection of the same trunk user to log in again; its audio
//! is the bridge on the node it ran on, which outlives the old owner.

use serde::{Deserialize, Serialize};

use super::*;

/// The state a new owner restores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CenterState {
    pub agents: Vec<SeatState>,
    pub sessions: Vec<SessionData>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeatState {
    pub user: String,
    pub status: AgentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionData {
    pub id: String,
    pub kind: CallType,
    pub direction: Direction,
    pub state: SessionState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub call_in: CallIn,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trunk_user: Option<String>,
    pub created_ms: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_ms: Option<u64>,
    #[serde(default)]
    pub priority: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uui: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handled_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<ChatMessage>,
    /// The node whose media service runs the call's bridge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bridge_node: Option<String>,
    /// The customer is a phone line (SIP): keys go to it as RFC 4733.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub line: bool,
}

impl Center {
    /// The state as it is now (sorted, so that an unchanged center gives
    /// the same bytes).
    pub(super) fn state(&self) -> CenterState {
        let mut agents: Vec<SeatState> = self
            .agents
            .values()
            .filter(|a| a.status != AgentStatus::Offline)
            .map(|a| SeatState {
                user: a.id.clone(),
                status: a.status,
                rest_reason: a.rest_reason.clone(),
            })
            .collect();
        agents.sort_by(|a, b| a.user.cmp(&b.user));
        let mut sessions: Vec<SessionData> = self
            .sessions
            .values()
            .filter(|s| {
                matches!(
                    s.state,
                    SessionState::Queued
                        | SessionState::Ringing
                        | SessionState::Talking
                        | SessionState::Held
                ) && s.kind != CallType::Internal
                    && s.consult_of.is_none()
                    && s.consult.is_none()
            })
            .map(|s| SessionData {
                id: s.id.clone(),
                kind: s.kind,
                direction: s.direction,
                state: s.state,
                group: s.group.clone(),
                call_in: s.call_in.clone(),
                agent: s.agent.clone(),
                trunk_user: s
                    .trunk
                    .and_then(|c| self.conns.get(&c))
                    .map(|c| c.user.clone())
                    .or_else(|| s.restored_trunk.clone()),
                created_ms: s.created_ms,
                accepted_ms: s.accepted_ms,
                priority: s.queue_key.priority(),
                uui: s.uui.clone(),
                handled_by: s.handled_by.clone(),
                messages: s.messages.clone(),
                bridge_node: self
                    .bridges
                    .get(&s.id)
                    .and_then(|b| b.node())
                    .map(str::to_string),
                line: s.line,
            })
            .collect();
        sessions.sort_by(|a, b| a.id.cmp(&b.id));
        CenterState { agents, sessions }
    }

    /// Take over `st` (a fresh center, before anyone logs in).
    pub(super) fn restore(&mut self, st: CenterState) {
        let now = self.clock.instant();
        let mut restored = 0;
        for d in st.sessions {
            if self.sessions.contains_key(&d.id) {
                continue;
            }
            let talking = matches!(d.state, SessionState::Talking | SessionState::Held);
            let agent = d.agent.clone().filter(|u| self.agents.contains_key(u));
            if talking && agent.is_none() {
                continue;
            }
            self.seq += 1;
            let mut s = Session::new(
                d.id.clone(),
                d.kind,
                d.direction,
                now,
                d.created_ms,
                self.seq,
            );
            s.call_in = d.call_in;
            s.group = d.group;
            s.uui = d.uui;
            s.handled_by = d.handled_by;
            s.messages = d.messages;
            s.restored_trunk = d.trunk_user;
            s.line = d.line;
            s.queue_key = routing::QueueKey::new(d.priority, now, self.seq);
            let id = d.id;
            if let (true, Some(user)) = (talking, agent) {
                s.state = d.state;
                s.agent = Some(user.clone());
                s.accepted = Some(now);
                s.accepted_ms = d.accepted_ms;
                if d.state == SessionState::Held {
                    s.hold_started = Some(now);
                }
                let chat = s.kind == CallType::Im;
                self.sessions.insert(id.clone(), s);
                if let Some(a) = self.agents.get_mut(&user) {
                    if chat {
                        a.chats.push(id.clone());
                    } else {
                        a.active = Some(id.clone());
                    }
                    a.sessions.push(id.clone());
                    a.return_status = AgentStatus::Free;
                }
                self.set_status(&user, AgentStatus::Busy, None);
                if let Some(node) = d.bridge_node {
                    self.remote_bridge(&id, &node);
                }
            } else {
                self.sessions.insert(id.clone(), s);
                self.start_waiting(&id);
            }
            restored += 1;
        }
        for a in st.agents {
            let keep = matches!(
                a.status,
                AgentStatus::Free | AgentStatus::NotReady | AgentStatus::Rest
            );
            if keep && self.agents.contains_key(&a.user) {
                self.restored_status
                    .insert(a.user, (a.status, a.rest_reason));
            }
        }
        tracing::info!(
            sessions = restored,
            seats = self.restored_status.len(),
            "the center's state is restored"
        );
    }

    /// A trunk user logged in again: it is the customer side of the
    /// restored sessions it had.
    pub(super) fn adopt(&mut self, conn: ConnId, user: &str) {
        let orphans: Vec<String> = self
            .sessions
            .values()
            .filter(|s| s.trunk.is_none() && s.restored_trunk.as_deref() == Some(user))
            .map(|s| s.id.clone())
            .collect();
        for sid in orphans {
            if let Some(s) = self.sessions.get_mut(&sid) {
                s.trunk = Some(conn);
                s.restored_trunk = None;
            }
        }
    }
}
