//! The server's events in the terminal: offers, accepts, ends, transfers,
//! status, the transcript, chat, session updates, the wallboard.

use super::*;

pub(super) fn event(state: &mut State, ev: Event, now: u64, fx: &mut Vec<Effect>) {
    board::event(state, &ev, now);
    match ev {
        Event::Directory(d) => super::directory::delta(state, d),
        Event::Ready { tab_uuid } => state.me.tab_uuid = Some(tab_uuid),
        // The center moved (a cluster): what a reconnect's login says.
        Event::LoggedInAgain(r) => {
            // A call whose bridge outlived the old owner (it runs on the
            // node the call landed on) keeps its audio; the others' went
            // with their node and are offered again (`sync`, at the end
            // of `reduce`) to the new owner, which restored the call.
            let gone: Vec<String> = state
                .audio
                .calls
                .keys()
                .filter(|id| {
                    !r.sessions
                        .iter()
                        .any(|s| s.session_id == **id && s.audio_running)
                })
                .cloned()
                .collect();
            for id in gone {
                state.audio.calls.remove(&id);
                fx.push(Effect::AudioStop { session_id: id });
            }
            super::logged_in(state, r, now);
            super::board::logged_in(state, fx);
        }
        Event::TokenExpired { message } => {
            let m = format!(
                "the login token expired ({message}); ask for a new one (ccdesk token --user {}) and start again",
                state.me.user_id
            );
            quit(state, EXIT_TOKEN_EXPIRED, Some(m), fx);
        }
        Event::KickedOut { message } => {
            let m = match message {
                Some(m) if !m.is_empty() => format!("logged out by the server: {m}"),
                _ => format!(
                    "logged out: {} logged in somewhere else (use --enable-shared on both for several tabs)",
                    state.me.user_id
                ),
            };
            quit(state, EXIT_KICKED_OUT, Some(m), fx);
        }
        Event::CallIn(ci) => {
            let direction = if ci.kind == CallType::Internal {
                Direction::Internal
            } else {
                Direction::Inbound
            };
            let id = ci.session_id.clone();
            let timeout = ci.timeout;
            let s = upsert(state, &id, ci.kind, direction, Phase::Ringing, now);
            s.kind = ci.kind;
            s.phase = Phase::Ringing;
            s.call_in = ci;
            s.note = None;
            s.local_only = false;
            s.ended_at = None;
            s.close_by = None;
            s.ring_deadline =
                (timeout > 0).then(|| now.saturating_add(timeout.saturating_mul(1000)));
            let peer = match s.consult_about() {
                Some(about) => format!("{} about {about}", s.peer()),
                None => s.peer(),
            };
            let callback = s.callback().map(str::to_string);
            let kind = match (s.consult_of(), &callback) {
                (Some(_), _) => "consult",
                (None, Some(_)) => "callback",
                (None, None) => super::super::state::kind_word(s.kind),
            };
            let contact = history_contact(s);
            focus_on(state, &id);
            if let Some(params) = contact {
                request(
                    state,
                    "Contact.history",
                    params,
                    Purpose::History {
                        session_id: id.clone(),
                    },
                    fx,
                );
            }
            let (text, title) = match &callback {
                Some(n) => (
                    format!(
                        "callback to {n} ({peer}): {}",
                        super::chats::accept_words(state, "calls back")
                    ),
                    format!("ccdesk: callback to {n}"),
                ),
                None => (
                    format!(
                        "{kind} from {peer}: {}",
                        super::chats::accept_words(state, "accepts")
                    ),
                    format!("ccdesk: {kind}"),
                ),
            };
            info(state, now, text);
            state.info_about = Some(id.clone());
            if !state.settings.disable_ringtone {
                fx.push(Effect::Bell);
            }
            if !state.settings.disable_notification {
                fx.push(Effect::Notify { title, body: peer });
            }
        }
        Event::UserAccessed {
            session_id,
            tab_uuid,
        } => {
            let other_tab = tab_uuid.is_some() && tab_uuid != state.me.tab_uuid;
            if let Some(s) = state.session_mut(&session_id) {
                // A callback's accept dials the caller: talking starts
                // when they answer (`calloutAccepted`).
                let calling_back =
                    s.callback().is_some() && matches!(s.phase, Phase::Ringing | Phase::Dialing);
                s.phase = if calling_back {
                    Phase::Dialing
                } else {
                    Phase::Talking
                };
                s.audio_elsewhere = other_tab;
                s.ring_deadline = None;
                if s.accepted_at.is_none() && !calling_back {
                    s.accepted_at = Some(now);
                }
            }
            let peer = state
                .session(&session_id)
                .map(|s| s.peer())
                .unwrap_or_default();
            if other_tab {
                info(state, now, format!("{peer}: accepted in another tab"));
            } else if state.info_about.as_deref() == Some(session_id.as_str()) {
                state.info = None;
                state.info_about = None;
            }
            focus_on(state, &session_id);
        }
        Event::AutoTransfer { session_id } => {
            let mut peer = session_id.clone();
            if let Some(s) = state.session_mut(&session_id) {
                s.phase = Phase::Ended;
                s.ring_deadline = None;
                s.ended_at = Some(now);
                s.local_only = true;
                s.note = Some("passed on: not accepted here".into());
                peer = s.peer();
            }
            info(state, now, format!("{peer}: passed to another agent"));
        }
        Event::SessionEnded(e) => {
            let id = e.session_id.clone();
            let reason = e.main_reason.clone();
            session_ended(state, e, now);
            super::consult::ended(state, &id, reason.as_deref(), now);
        }
        Event::CallOuted(c) => call_outed(state, c, now),
        Event::CalloutAccepted { session_id } => {
            if let Some(s) = state.session_mut(&session_id) {
                s.phase = Phase::Talking;
                if s.accepted_at.is_none() {
                    s.accepted_at = Some(now);
                }
            }
            let (peer, callback) = state
                .session(&session_id)
                .map(|s| (s.peer(), s.callback().is_some()))
                .unwrap_or_default();
            let what = if callback { " the callback" } else { "" };
            info(state, now, format!("{peer} answered{what}"));
        }
        Event::Transfer { session_id } => {
            if let Some(s) = state.session_mut(&session_id) {
                s.phase = Phase::Ended;
                s.ended_at = Some(now);
                s.local_only = true;
                s.note = Some("transferred".into());
            }
            if state.selected.as_deref() == Some(session_id.as_str()) {
                state.typing = false;
            }
            close_session_dialog(state, &session_id);
            super::consult::ended(state, &session_id, Some("transferred"), now);
            let peer = state
                .session(&session_id)
                .map(|s| s.peer())
                .unwrap_or_default();
            info(state, now, format!("{peer}: transferred"));
        }
        Event::StatusChanged {
            status,
            rest_reason,
            after_call_work,
        } => {
            if state.status != Some(status) || state.rest_reason != rest_reason {
                state.status_since = now;
            }
            state.status = Some(status);
            state.rest_reason = rest_reason;
            state.after_call_work = after_call_work;
            wrapup::on_status(state);
        }
        Event::Asr {
            session_id,
            flow,
            result,
        } => {
            if let Some(s) = state.session_mut(&session_id) {
                asr(s, flow, result);
            }
        }
        Event::ChatMessage(m) => super::chats::message(state, m),
        Event::SessionUpdated(snap) => {
            let id = snap.session_id.clone();
            let known = state.session(&id).is_some();
            let was_callback = state.session(&id).is_some_and(|s| s.callback().is_some());
            let s = upsert(
                state,
                &id,
                snap.kind,
                snap.direction,
                Phase::from_state(snap.state),
                now,
            );
            s.apply_snapshot(&snap, now);
            if !known {
                focus_on(state, &id);
                super::consult::arrived(state, &id, now);
            } else if !was_callback {
                super::callback::requested(state, &id, now);
            }
        }
        Event::Digits {
            session_id,
            dtmf_text,
        } => {
            if let Some(s) = state.session_mut(&session_id) {
                keys(s, &dtmf_text);
            }
        }
        Event::SeatChanged(d) => state.me.seat = Some(d),
        e @ (Event::HelpRequested { .. } | Event::HelpAcknowledged { .. }) => {
            super::help::event(state, e, now, fx)
        }
        Event::Dial { .. }
        | Event::Wallboard(_)
        | Event::RingPhone { .. }
        | Event::PhoneHangUp { .. } => {}
    }
}
