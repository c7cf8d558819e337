//! The ACD at work: queues, offers to agents, ring timeouts, the no-answer
//! delay, overflow and the maximum wait. Which session goes to which agent
//! is decided by `server::routing`, over lists kept ordered as agents and
//! sessions change (see `Center::reindex`).

use super::*;

impl Center {
    /// Make every offer that can be made now.
    pub(super) fn dispatch(&mut self) {
        loop {
            self.reindex();
            let sessions = &self.sessions;
            let next = routing::next_offer(&self.queues, &self.floor, |sid| {
                sessions.get(sid).map(|s| routing::Refusals {
                    declined: &s.declined,
                    refused: &s.refused,
                    chat: s.kind == CallType::Im,
                })
            });
            let Some((sid, agent)) = next else {
                break;
            };
            self.offer(&sid, &agent);
        }
    }

    pub(super) fn offer(&mut self, sid: &str, agent: &str) {
        let ring = self.cfg.center.ring_timeout;
        let now = self.clock.instant();
        let now_ms = self.clock.wall_ms(now);
        self.dequeue(sid);
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        s.state = SessionState::Ringing;
        s.ringing_to = Some(agent.to_string());
        s.ring_gen += 1;
        s.ring_deadline = (ring > 0).then(|| now + Duration::from_secs(ring));
        s.offered_ms.get_or_insert(now_ms);
        s.call_in.timeout = ring;
        if s.call_in.server_type.is_some() || s.mobile_for.is_some() {
            // Where the audio goes depends on whose seat it rings at.
            let t = if s.mobile_for.as_deref() == Some(agent) {
                crate::server::config::SeatType::StaffPhoneSeat
            } else {
                self.agents
                    .get(agent)
                    .map_or_else(|| self.users.seat_type(agent), |a| a.server_type)
            };
            s.call_in.server_type = Some(t.as_str().into());
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

    /// Put a session in its queues (its own group, and the group it has
    /// overflowed to), at its place: the first time it queued.
    fn enqueue(&mut self, sid: &str) {
        let Some(s) = self.sessions.get(sid) else {
            return;
        };
        let groups: Vec<String> = s.group.iter().chain(s.overflow.iter()).cloned().collect();
        let touched = self.queues.enqueue(sid, s.queue_key, &groups, s.created_ms);
        self.changes.groups.extend(touched);
    }

    /// Take a session out of every queue.
    pub(super) fn dequeue(&mut self, sid: &str) {
        let touched = self.queues.remove(sid);
        self.changes.groups.extend(touched);
    }

    /// A session starts waiting in its skill group: it arrived, or was
    /// transferred to the group. Its group's overflow and maximum wait
    /// count from now.
    pub(super) fn start_waiting(&mut self, sid: &str) {
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        s.state = SessionState::Queued;
        s.ringing_to = None;
        s.ring_gen += 1;
        s.wait_gen += 1;
        s.wait_over = false;
        s.overflow = None;
        let gen = s.wait_gen;
        let group = s.group.clone();
        self.dequeue(sid);
        self.enqueue(sid);
        let Some(g) = group.and_then(|g| self.cfg.skill_group(&g).cloned()) else {
            return;
        };
        if let (Some(after), Some(_)) = (g.overflow_after, &g.overflow_to) {
            self.schedule(
                Duration::from_secs(after),
                TimerKind::Overflow {
                    session: sid.to_string(),
                    gen,
                },
            );
        }
        if let Some(wait) = g.max_wait {
            self.schedule(
                Duration::from_secs(wait),
                TimerKind::MaxWait {
                    session: sid.to_string(),
                    gen,
                },
            );
        }
    }

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
        if why != Withdraw::Gone {
            self.start_no_answer_delay(agent);
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
        if s.wait_over {
            // It rang through its group's maximum wait: no more offers.
            let _ = self.end_session(sid, CloseBy::Admin, Some("queueTimeout".into()), None);
        } else {
            self.enqueue(sid);
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

    /// `agent` let an offer ring out or declined it: nothing is offered to
    /// them for `center.no_answer_delay` seconds.
    fn start_no_answer_delay(&mut self, agent: &str) {
        let delay = self.cfg.center.no_answer_delay;
        if delay == 0 {
            return;
        }
        let at = self.clock.instant();
        let Some(a) = self.agents.get_mut(agent) else {
            return;
        };
        a.no_answer_until = Some(at + Duration::from_secs(delay));
        self.schedule(
            Duration::from_secs(delay),
            TimerKind::NoAnswerDelay {
                agent: agent.to_string(),
                at,
            },
        );
    }

    /// The no-answer delay that started at `at` is over (unless a later
    /// one replaced it).
    pub(super) fn no_answer_delay_ended(&mut self, agent: &str, at: Instant) {
        let delay = Duration::from_secs(self.cfg.center.no_answer_delay);
        let due = self
            .agents
            .get(agent)
            .is_some_and(|a| a.no_answer_until == Some(at + delay));
        if due {
            if let Some(a) = self.agents.get_mut(agent) {
                a.no_answer_until = None;
            }
        }
    }

    /// A session has waited its group's `overflow_after`: the agents of
    /// `overflow_to` may be offered it too.
    pub(super) fn overflow(&mut self, sid: &str, gen: u64) {
        let Some(s) = self.sessions.get(sid) else {
            return;
        };
        if s.wait_gen != gen || s.is_ended() || s.in_progress() {
            return;
        }
        let Some(to) = s
            .group
            .as_deref()
            .and_then(|g| self.cfg.skill_group(g))
            .and_then(|g| g.overflow_to.clone())
        else {
            return;
        };
        if let Some(s) = self.sessions.get_mut(sid) {
            s.overflow = Some(to.clone());
        }
        if self.queues.overflow(sid, &to) {
            self.changes.groups.insert(to);
        }
    }

    /// A session has waited its group's `max_wait`: it ends (closeBy
    /// `admin`, mainReason `queueTimeout`); one ringing now gets the rest
    /// of its ring, and ends if it comes back.
    pub(super) fn max_wait_reached(&mut self, sid: &str, gen: u64) {
        let Some(s) = self.sessions.get(sid) else {
            return;
        };
        if s.wait_gen != gen {
            return;
        }
        match s.state {
            SessionState::Queued => {
                let _ = self.end_session(sid, CloseBy::Admin, Some("queueTimeout".into()), None);
            }
            SessionState::Ringing => {
                if let Some(s) = self.sessions.get_mut(sid) {
                    s.wait_over = true;
                }
            }
            _ => {}
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
