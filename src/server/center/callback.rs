//! Queued callbacks: a waiting caller asks to be called back instead of
//! waiting on the line (`Customer.requestCallback`, or a phone caller's
//! `center.callback_key`). The session keeps its place in the queue without
//! the caller: the trunk lets the line go, and when the session reaches an
//! agent their accept dials the number, as `Call.startOutboundCall` does.

use super::*;

impl Center {
    /// The oldest connected trunk connection that places calls.
    pub(super) fn dialing_trunk(&self) -> Option<ConnId> {
        self.trunks
            .iter()
            .copied()
            .find(|t| self.conns.get(t).is_some_and(|c| c.dials))
    }

    /// Session `sid`'s caller asks to be called back at `number` (default:
    /// the caller's number).
    pub(super) fn request_callback(&mut self, sid: &str, number: Option<&str>) -> Reply {
        let s = self
            .sessions
            .get(sid)
            .ok_or_else(|| ProtoError::not_found(format!("session {sid} does not exist")))?;
        if s.kind != CallType::Phone || s.direction != Direction::Inbound {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is not an inbound phone call: only those are called back"
            )));
        }
        if !matches!(s.state, SessionState::Queued | SessionState::Ringing) {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is {}: only a caller still waiting can ask for a callback",
                s.state.as_str()
            )));
        }
        if s.callback.is_some() {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} already waits for a callback"
            )));
        }
        let number = number
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .or_else(|| s.call_in.caller_phone_number.clone())
            .ok_or_else(|| {
                ProtoError::bad_request(
                    "Customer.requestCallback: no `phoneNumber`, and the caller's number is unknown",
                )
            })?;
        check_number("Customer.requestCallback", &number)?;
        if self.dialing_trunk().is_none() {
            return Err(ProtoError::invalid_state(
                "no trunk is connected that places calls: a callback needs one",
            ));
        }
        // The trunk lets the caller go: for it the session is over.
        self.emit_to_trunk(
            sid,
            &Event::SessionEnded(SessionEnded {
                session_id: sid.to_string(),
                close_by: CloseBy::Client,
                main_reason: Some("callbackRequested".into()),
                sub_reason: None,
            }),
        );
        if let Some(s) = self.sessions.get_mut(sid) {
            s.trunk = None;
            s.line = false;
            s.callback = Some(number.clone());
            s.call_in.callback = Some(number.clone());
        }
        // No caller on the line: no queue music.
        if let Some(b) = self.bridges.remove(sid) {
            b.send(BridgeCmd::End);
        }
        tracing::info!(session = %sid, %number, "callback requested; it keeps its place in the queue");
        // An agent it rings at sees what it has become.
        self.emit_session_updated(sid);
        Ok(None)
    }

    /// The agent accepted a callback: dial the caller back through the
    /// trunk; the conversation starts when they answer (`Customer.answer`).
    pub(super) fn dial_callback(&mut self, sid: &str) {
        let Some(trunk) = self.dialing_trunk() else {
            return;
        };
        let caller = self.cfg.center.caller_phone_number.clone();
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        let Some(number) = s.callback.clone() else {
            return;
        };
        s.state = SessionState::Dialing;
        s.trunk = Some(trunk);
        s.ring_gen += 1;
        // No longer waiting: a pending overflow or maximum-wait timer is stale.
        s.wait_gen += 1;
        s.wait_over = false;
        let gen = s.ring_gen;
        tracing::info!(session = %sid, %number, "calling back");
        self.emit_to_conns(
            &[trunk],
            &Event::Dial {
                session_id: sid.to_string(),
                phone_number: number,
                caller_phone_number: caller,
                uui: None,
            },
        );
        let dial = self.cfg.center.dial_timeout;
        if dial > 0 {
            self.schedule(
                Duration::from_secs(dial),
                TimerKind::Dial {
                    session: sid.to_string(),
                    gen,
                },
            );
        }
        self.emit_session_updated(sid);
    }
}
