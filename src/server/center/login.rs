//! Logging in (the `login` request), tabs, disconnects and the reconnect
//! grace period.

use super::*;

impl Center {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn login(
        &mut self,
        conn: ConnId,
        id: Value,
        (user, role): (String, Role),
        how: How,
        tx: mpsc::Sender<Outbound>,
    ) {
        let How {
            shared,
            dials,
            phones,
            issued,
            node,
        } = how;
        let tab_uuid = uuid::Uuid::new_v4().to_string();
        if role.is_seat() && !self.agents.contains_key(&user) {
            // The connection checked the user against the same config.
            let resp = Response::error(
                id,
                &ProtoError::unauthorized(format!("unknown user `{user}`")),
            );
            let _ = tx.try_send(Outbound::Text(resp.to_json().into()));
            let _ = tx.try_send(Outbound::Close);
            return;
        }
        self.conns.insert(
            conn,
            Conn {
                user: user.clone(),
                role,
                tab_uuid: tab_uuid.clone(),
                shared,
                dials,
                phones,
                node,
                tx,
            },
        );
        if role == Role::Trunk {
            // Trunks are gateways: each connection is a line of its own.
            self.trunks.push(conn);
            self.adopt(conn, &user);
            let result = LoginResult {
                tab_uuid: tab_uuid.clone(),
                user_id: user,
                role: role.as_str().into(),
                status: AgentStatus::Free.as_str().into(),
                rest_reason: None,
                skill_groups: Vec::new(),
                sessions: Vec::new(),
                seat: None,
                after_call_work: None,
                token: issued.as_ref().map(|t| t.0.clone()),
                token_expires_at: issued.as_ref().map(|t| t.1),
            };
            self.reply_login(conn, id, result, tab_uuid);
            return;
        }
        let Some(agent) = self.agents.get_mut(&user) else {
            return;
        };
        // Multi-tab: allowed only when every tab, old and new, shares.
        let old_tabs = agent.tabs.clone();
        let keep = shared
            && old_tabs
                .iter()
                .all(|c| self.conns.get(c).is_some_and(|c| c.shared));
        if !keep {
            agent.tabs.clear();
        }
        let was_gone = agent.tabs.is_empty();
        agent.tabs.push(conn);
        agent.grace_gen += 1; // cancels a pending grace timer
        let mut status_change = None;
        let mut restored_reason = None;
        let restored = self.restored_status.remove(&user);
        if was_gone && !agent.in_session() && agent.status == AgentStatus::Offline {
            let st = match self.cfg.center.login_status.as_str() {
                "notReady" => AgentStatus::NotReady,
                "offline" => AgentStatus::Offline,
                _ => AgentStatus::Free,
            };
            if let Some((st, reason)) = restored {
                // The status a previous owner had (a cluster).
                status_change = Some(st);
                restored_reason = reason;
            } else if st != AgentStatus::Offline {
                status_change = Some(st);
            }
        }
        if !keep {
            let ev = Event::KickedOut {
                message: Some("logged in elsewhere without enableShared".into()),
            };
            let text: Arc<str> = ev.to_json().into();
            for old in old_tabs {
                // Its tab is gone from the agent already: tell it and close it directly.
                if let Some(c) = self.conns.remove(&old) {
                    let _ = c.tx.try_send(Outbound::Text(text.clone()));
                    let _ = c.tx.try_send(Outbound::Close);
                }
            }
        }
        if let Some(st) = status_change {
            self.set_status(&user, st, restored_reason);
        }
        let agent = &self.agents[&user];
        let sessions = agent
            .sessions
            .iter()
            .filter_map(|sid| self.snapshot_for(sid, &user))
            .collect();
        let result = LoginResult {
            tab_uuid: tab_uuid.clone(),
            user_id: user.clone(),
            role: role.as_str().into(),
            status: agent.status.as_str().into(),
            rest_reason: agent.rest_reason.clone(),
            skill_groups: agent.groups.clone(),
            sessions,
            seat: Some(self.seat_devices(&user)),
            after_call_work: self.after_call_work(&user),
            token: issued.as_ref().map(|t| t.0.clone()),
            token_expires_at: issued.as_ref().map(|t| t.1),
        };
        // statusChanged queued above must follow the reply and `ready`.
        let queued = self.outbox.take_queued();
        self.reply_login(conn, id, result, tab_uuid);
        self.outbox.requeue(queued);
    }

    pub(super) fn reply_login(
        &mut self,
        conn: ConnId,
        id: Value,
        result: LoginResult,
        tab_uuid: String,
    ) {
        let data = serde_json::to_value(&result).ok();
        self.send_now(
            conn,
            Outbound::Text(Response::ok(id, data).to_json().into()),
        );
        self.emit_to_conns(&[conn], &Event::Ready { tab_uuid });
    }

    pub(super) fn disconnected(&mut self, conn: ConnId) {
        self.unsubscribe(conn);
        self.directory_unsubscribe(conn);
        self.forget_held(conn);
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        if c.role == Role::Trunk {
            self.trunks.retain(|t| *t != conn);
            // In the order they were created, so a run ends them the same way.
            let mut owned: Vec<(u64, String)> = self
                .sessions
                .values()
                .filter(|s| s.trunk == Some(conn) && !s.is_ended())
                .map(|s| (s.queue_key.seq, s.id.clone()))
                .collect();
            owned.sort();
            for (_, sid) in owned {
                if let Some(s) = self.sessions.get_mut(&sid) {
                    s.trunk = None;
                }
                let _ = self.end_session(
                    &sid,
                    CloseBy::Client,
                    Some("trunkDisconnected".into()),
                    None,
                );
            }
            return;
        }
        let Some(agent) = self.agents.get_mut(&c.user) else {
            return;
        };
        agent.tabs.retain(|t| *t != conn);
        if !agent.tabs.is_empty() {
            return;
        }
        agent.grace_gen += 1;
        let gen = agent.grace_gen;
        let offer = agent.offer.clone();
        let user = c.user.clone();
        // An offer to an agent who is gone goes to the next agent at once.
        if let Some(sid) = offer {
            self.withdraw_offer(&user, &sid, Withdraw::Gone);
        }
        let grace = Duration::from_secs(self.cfg.center.reconnect_grace);
        self.schedule(grace, TimerKind::Grace { agent: user, gen });
    }

    /// The grace period after an agent's last tab closed is over: the
    /// session they were in ends, and they are offline.
    pub(super) fn grace_ended(&mut self, agent: &str, gen: u64) {
        let Some(a) = self.agents.get(agent) else {
            return;
        };
        if a.grace_gen != gen || !a.tabs.is_empty() {
            return;
        }
        let sessions: Vec<String> = a.active.iter().chain(a.chats.iter()).cloned().collect();
        for sid in sessions {
            let _ = self.end_session(&sid, CloseBy::Admin, Some("agentDisconnected".into()), None);
        }
        self.stop_all_monitors(agent);
        if let Some(a) = self.agents.get_mut(agent) {
            a.status = AgentStatus::Offline;
            a.rest_reason = None;
            a.status_since = self.clock.instant();
            a.acw_for = None;
            a.help = None;
        }
    }
}

/// How a connection logs in.
pub(super) struct How {
    pub shared: bool,
    /// A trunk that places outbound calls.
    pub dials: bool,
    /// A trunk that rings seats' phones.
    pub phones: bool,
    /// A password login's token and its expiry (unix s).
    pub issued: Option<(String, u64)>,
    /// The node of a cluster the connection is on.
    pub node: Option<String>,
}
