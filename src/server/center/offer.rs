//! The ACD at work: offers to agents, ring timeouts, queues. Which session
//! goes to which agent is decided by `server::routing`.

use super::*;

impl Center {
    /// Take an offer back from `agent` and queue the session again (or end
    /// it, when there is no queue to go back to).
    pub(super) fn withdraw_offer(&mut self, agent: &str, sid: &str, why: Withdraw) {
        let max_missed = self.cfg.center.max_missed_offers;
        if let Some(a) = self.agents.get_mut(agent) {
            if a.offer.as_deref() == Some(sid) {
                a.offer = None;
            }
            a.sessions.retain(|s| s != sid);
        }
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        s.ring_gen += 1;
        s.ringing_to = None;
        if s.kind == CallType::Internal || s.group.is_none() {
            // Nobody else to offer it to (an internal call, or a call
            // transferred to one agent with no skill group behind it): it ends.
            let (close_by, reason) = match why {
                Withdraw::Missed => (CloseBy::Timer, "notAnswered"),
                Withdraw::Declined => (CloseBy::Seat, "declined"),
                Withdraw::Gone => (CloseBy::Admin, "agentDisconnected"),
            };
            let _ = self.end_session(sid, close_by, Some(reason.into()), None);
            return;
        }
        s.state = SessionState::Queued;
        match why {
            Withdraw::Missed => {
                s.declined.push(agent.to_string());
                s.missed_offers += 1;
            }
            Withdraw::Declined => s.refused.push(agent.to_string()),
            Withdraw::Gone => {}
        }
        let group = s.group.clone();
        let key = s.queue_key;
        if let Some(g) = group {
            if let Some(q) = self.queues.get_mut(&g) {
                routing::enqueue(q, &self.sessions, sid, key);
            }
        }
        if why == Withdraw::Missed {
            let mut to_not_ready = false;
            if let Some(a) = self.agents.get_mut(agent) {
                a.missed_in_row += 1;
                to_not_ready = max_missed > 0 && a.missed_in_row >= max_missed;
            }
            if to_not_ready {
                self.set_status(agent, AgentStatus::NotReady, None);
            }
        }
    }

    /// Make every offer that can be made now.
    pub(super) fn dispatch(&mut self) {
        while let Some((sid, agent)) =
            routing::next_offer(&self.queues, &self.members, &self.agents, &self.sessions)
        {
            self.offer(&sid, &agent);
        }
    }

    pub(super) fn offer(&mut self, sid: &str, agent: &str) {
        let ring = self.cfg.center.ring_timeout;
        let now_ms = self.clock.now_ms();
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        if let Some(g) = &s.group {
            if let Some(q) = self.queues.get_mut(g) {
                q.retain(|x| x != sid);
            }
        }
        s.state = SessionState::Ringing;
        s.ringing_to = Some(agent.to_string());
        s.ring_gen += 1;
        s.offered_ms.get_or_insert(now_ms);
        s.call_in.timeout = ring;
        if s.call_in.server_type.is_some() {
            // Where the audio goes depends on whose seat it rings at.
            s.call_in.server_type = Some(self.cfg.seat_type(agent).as_str().into());
        }
        let gen = s.ring_gen;
        let call_in = s.snapshot(agent, None).call_in;
        if let Some(a) = self.agents.get_mut(agent) {
            a.offer = Some(sid.to_string());
            if !a.sessions.iter().any(|x| x == sid) {
                a.sessions.push(sid.to_string());
            }
        }
        self.emit_to_user(agent, &Event::CallIn(call_in));
        if ring > 0 {
            self.schedule(
                Duration::from_secs(ring),
                TimerKind::Ring {
                    session: sid.to_string(),
                    gen,
                },
            );
        }
    }

    pub(super) fn queue_session(&mut self, sid: &str) {
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        s.state = SessionState::Queued;
        s.ringing_to = None;
        s.ring_gen += 1;
        let key = s.queue_key;
        if let Some(g) = s.group.clone() {
            if let Some(q) = self.queues.get_mut(&g) {
                routing::enqueue(q, &self.sessions, sid, key);
            }
        }
    }

    /// An offer rang out: the agent's tabs are told, and it is withdrawn.
    pub(super) fn ring_expired(&mut self, session: &str, gen: u64) {
        let Some(s) = self.sessions.get(session) else {
            return;
        };
        if s.ring_gen != gen || s.state != SessionState::Ringing {
            return;
        }
        let Some(agent) = s.ringing_to.clone() else {
            return;
        };
        self.emit_to_user(
            &agent,
            &Event::AutoTransfer {
                session_id: session.to_string(),
            },
        );
        self.withdraw_offer(&agent, session, Withdraw::Missed);
    }
}

/// Why an offer is taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Withdraw {
    /// Not accepted within the ring timeout.
    Missed,
    /// The agent hung up on it, or left `free` while it rang.
    Declined,
    /// The agent's last connection closed.
    Gone,
}
