//! The SDK's `Chat.*` methods and the messages of a chat session.

use super::*;

impl Center {
    /// The SDK's `Chat.*` methods.
    pub(super) fn chat_request(&mut self, conn: ConnId, user: &str, req: &Request) -> Reply {
        match req {
            Request::ChatAccept(p) => self.accept(conn, user, &p.session_id, Ns::Chat),
            Request::ChatEnd(p) => self.hang_up(user, &p.session_id, Ns::Chat),
            Request::ChatTransfer(p) => self.transfer(user, p, Ns::Chat),
            Request::ChatSendMessage(p) => self.seat_message(user, p),
            other => Err(misrouted(other)),
        }
    }

    pub(super) fn seat_message(&mut self, user: &str, p: &TextParams) -> Reply {
        check_text(&p.text)?;
        self.active_session(user, &p.session_id, Ns::Chat)?;
        let msg = ChatMessage {
            session_id: p.session_id.clone(),
            from: ChatFrom::Seat,
            user_id: Some(user.to_string()),
            text: p.text.clone(),
            timestamp: self.clock.now_ms(),
        };
        self.post_message(msg);
        Ok(None)
    }

    pub(super) fn customer_message(&mut self, conn: ConnId, p: &TextParams) -> Reply {
        check_text(&p.text)?;
        let s = self.trunk_session(conn, &p.session_id)?;
        if s.kind != CallType::Im {
            return Err(ProtoError::invalid_state(format!(
                "session {} is not a chat: use Customer.say",
                s.id
            )));
        }
        let msg = ChatMessage {
            session_id: p.session_id.clone(),
            from: ChatFrom::Client,
            user_id: s.call_in.user_id.clone(),
            text: p.text.clone(),
            timestamp: self.clock.now_ms(),
        };
        self.post_message(msg);
        Ok(None)
    }

    pub(super) fn post_message(&mut self, msg: ChatMessage) {
        let sid = msg.session_id.clone();
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        s.messages.push(msg.clone());
        if s.messages.len() > MAX_MESSAGES {
            s.messages.remove(0);
        }
        let agent = if s.in_progress() {
            s.agent.clone()
        } else {
            None
        };
        let ev = Event::ChatMessage(msg.clone());
        if let Some(a) = agent {
            self.emit_to_user(&a, &ev);
        }
        self.emit_to_monitors(&sid, &ev);
        if msg.from == ChatFrom::Seat {
            self.emit_to_trunk(&sid, &ev);
        }
    }
}
