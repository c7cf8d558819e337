//! The reducer: `reduce(&mut State, Action, now) -> Vec<Effect>`. Pure: it
//! reads no clock (`now` is unix ms, passed in) and does no I/O; what must
//! happen outside comes back as effects.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::{json, Value};

use crate::protocol::{
    AgentStatus, CallOuted, CallResponse, CallType, Direction, Event, Flow, LoginResult,
    ProtoError, SessionEnded,
};

use super::action::{Action, Effect};
use super::keymap::Command;
use super::state::{
    DeviceDir, Dialog, Exit, Focus, Link, Notice, Pending, Phase, Purpose, Session, SettingChoice,
    SpeechLine, State, StatusChoice, TransferTo, ViewMode, MAX_ERRORS, MAX_TRANSCRIPT, SEAT_TYPES,
};

mod audio;
#[cfg(test)]
mod audio_tests;
mod board;
#[cfg(test)]
mod board_tests;
mod callback;
#[cfg(test)]
mod callback_tests;
mod chats;
#[cfg(test)]
mod chats_tests;
mod consult;
#[cfg(test)]
mod consult_tests;
mod dialogs;
mod directory;
#[cfg(test)]
mod directory_tests;
mod events;
mod help;
#[cfg(test)]
mod help_tests;
#[cfg(test)]
mod history_tests;
#[cfg(test)]
mod monitor_tests;
mod recording;
#[cfg(test)]
mod recording_tests;
#[cfg(test)]
mod relogin_tests;
mod report;
#[cfg(test)]
mod report_tests;
#[cfg(test)]
mod settings_tests;
mod staffing;
#[cfg(test)]
mod staffing_tests;
mod users;
#[cfg(test)]
mod users_tests;
mod wrapup;
#[cfg(test)]
mod wrapup_tests;

use dialogs::{dialog_key, menu_step};
use events::event;

/// Exit status when the server refused the login (bad token, unknown user).
pub const EXIT_REFUSED: u8 = 2;
/// Exit status after `tokenExpired`.
pub const EXIT_TOKEN_EXPIRED: u8 = 3;
/// Exit status after `kickedOut`.
pub const EXIT_KICKED_OUT: u8 = 4;

/// Lines moved by PageUp / PageDown.
const PAGE: usize = 10;

pub fn reduce(state: &mut State, action: Action, now: u64) -> Vec<Effect> {
    if state.exit.is_some() {
        return Vec::new();
    }
    state.now = now;
    let mut fx = Vec::new();
    match action {
        Action::Key(k) => {
            if !key(state, k, now, &mut fx) {
                return fx;
            }
        }
        Action::Paste(text) => paste(state, &text),
        Action::Resize | Action::Tick => {}
        Action::Server(ev) => event(state, ev, now, &mut fx),
        Action::Response { id, result } => {
            let media = match state.pending.get(&id).map(|p| &p.purpose) {
                Some(Purpose::MediaOffer { session_id }) => Some(session_id.clone()),
                _ => None,
            };
            match media {
                Some(sid) => {
                    state.pending.remove(&id);
                    audio::answered(state, sid, result, now, &mut fx);
                }
                None => response(state, id, result, now),
            }
        }
        Action::Connecting { attempt } => state.link = Link::Connecting { attempt },
        Action::LoggedIn(r) => {
            logged_in(state, r, now);
            board::logged_in(state, &mut fx);
        }
        Action::Lost {
            reason,
            attempt,
            retry_in_ms,
        } => {
            state.link = Link::Lost {
                reason,
                attempt,
                retry_at: now.saturating_add(retry_in_ms),
            };
        }
        Action::Refused { message } => {
            quit(state, EXIT_REFUSED, Some(message), &mut fx);
        }
        Action::Note(text) => info(state, now, text),
        Action::Devices(list) => audio::devices_listed(state, list),
        Action::Audio { session_id, event } => audio::event(state, session_id, event, now, &mut fx),
    }
    audio::sync(state, &mut fx);
    directory::sync(state, &mut fx);
    chats::read(state);
    help::sync(state, now);
    state.dirty = true;
    fx
}

/// When the next tick is due (unix ms): each second while a visible clock
/// shows seconds (a ringing countdown, a call timer, after-call work, a
/// reconnect countdown), else at the next minute (time in status).
pub fn next_tick(state: &State, now: u64) -> u64 {
    let seconds = state.sessions.iter().any(|s| {
        matches!(
            s.phase,
            Phase::Ringing | Phase::Dialing | Phase::Talking | Phase::Held
        )
    }) || state.status == Some(AgentStatus::Arrange)
        || matches!(state.help, Some(super::state::Help::Asked { .. }))
        || state.board.is_some()
        || matches!(state.link, Link::Lost { .. } | Link::Connecting { .. });
    let step = if seconds { 1_000 } else { 60_000 };
    (now / step + 1) * step
}

fn quit(state: &mut State, code: u8, message: Option<String>, fx: &mut Vec<Effect>) {
    state.exit = Some(Exit { code, message });
    fx.push(Effect::Quit);
}

fn push_error(state: &mut State, now: u64, text: String) {
    state.errors.push_back(Notice { at: now, text });
    while state.errors.len() > MAX_ERRORS {
        state.errors.pop_front();
    }
}

fn info(state: &mut State, now: u64, text: impl Into<String>) {
    state.info_about = None;
    state.info = Some(Notice {
        at: now,
        text: text.into(),
    });
}

/// Queue a request and remember what it was for.
fn request(
    state: &mut State,
    method: &'static str,
    params: Value,
    purpose: Purpose,
    fx: &mut Vec<Effect>,
) {
    let id = state.next_request;
    state.next_request += 1;
    state.pending.insert(
        id,
        Pending {
            method: method.to_string(),
            purpose,
        },
    );
    fx.push(Effect::Request { id, method, params });
}

fn session_request(state: &mut State, method: &'static str, sid: &str, fx: &mut Vec<Effect>) {
    request(
        state,
        method,
        json!({ "sessionId": sid }),
        Purpose::Plain,
        fx,
    );
}

// ---------------------------------------------------------------- keys

/// Returns false when the key did nothing (no redraw needed).
fn key(state: &mut State, k: KeyEvent, now: u64, fx: &mut Vec<Effect>) -> bool {
    if k.kind == crossterm::event::KeyEventKind::Release {
        return false;
    }
    let ctrl_c = k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl_c && state.dialog.is_none() && !state.typing {
        command(state, Command::Quit, now, fx);
        return true;
    }
    if let Some(d) = state.dialog.take() {
        dialog_key(state, d, k, now, fx);
        return true;
    }
    if state.typing {
        chat_key(state, k, fx);
        return true;
    }
    match state.keymap.lookup(&k) {
        Some(cmd) => {
            command(state, cmd, now, fx);
            true
        }
        None => false,
    }
}

fn paste(state: &mut State, text: &str) {
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    if state.typing {
        if let Some(id) = state.selected.clone() {
            if let Some(s) = state.session_mut(&id) {
                s.draft.push_str(&clean);
            }
        }
        return;
    }
    match &mut state.dialog {
        Some(Dialog::Transfer {
            to: TransferTo::Number,
            input,
            ..
        }) => input.extend(clean.chars().filter(|c| dial_char(*c))),
        Some(Dialog::Transfer { input, .. }) | Some(Dialog::Internal { user: input }) => {
            input.push_str(&clean)
        }
        Some(Dialog::Dial { number }) => {
            number.extend(clean.chars().filter(|c| dial_char(*c)));
        }
        _ => {}
    }
}

fn dial_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '*' | '#')
}

/// The session a call action applies to: the selected one.
fn selected(state: &State) -> Option<Session> {
    state.selected_session().cloned()
}

fn command(state: &mut State, cmd: Command, now: u64, fx: &mut Vec<Effect>) {
    if state.board.is_some() && board::command(state, cmd, now, fx) {
        return;
    }
    match cmd {
        Command::Accept => accept(state, now, fx),
        Command::HangUp => hang_up(state, now, fx),
        Command::Hold => {
            let Some(s) = selected(state) else {
                return info(state, now, "no session selected");
            };
            if consult::refuses(state, cmd, &s, now) {
                return;
            }
            match (s.kind.is_voice(), s.phase) {
                (false, _) => info(state, now, "a chat cannot be held"),
                (true, Phase::Talking) => session_request(state, "Call.hold", &s.id, fx),
                (true, Phase::Held) => session_request(state, "Call.unHold", &s.id, fx),
                (true, p) => info(
                    state,
                    now,
                    format!("the session is {}: nothing to hold", p.label()),
                ),
            }
        }
        Command::Mute => {
            let Some(s) = selected(state) else {
                return info(state, now, "no session selected");
            };
            let s = consult::microphone(state, s);
            if !s.kind.is_voice() {
                return info(state, now, "a chat has no microphone");
            }
            if !s.phase.is_active() {
                return info(state, now, format!("the session is {}", s.phase.label()));
            }
            let method = match (s.kind == CallType::Video, s.mic_muted) {
                (true, false) => "Video.muteMic",
                (true, true) => "Video.unmuteMic",
                (false, false) => "Call.muteMic",
                (false, true) => "Call.unmuteMic",
            };
            session_request(state, method, &s.id, fx);
        }
        Command::Camera => {
            let Some(s) = selected(state) else {
                return info(state, now, "no session selected");
            };
            if s.kind != CallType::Video {
                return info(state, now, "only video sessions have a camera");
            }
            if !s.phase.is_active() {
                return info(state, now, format!("the session is {}", s.phase.label()));
            }
            let method = if s.video_muted {
                "Video.unmuteVideo"
            } else {
                "Video.muteVideo"
            };
            session_request(state, method, &s.id, fx);
        }
        Command::Transfer => {
            let Some(s) = selected(state) else {
                return info(state, now, "no session selected");
            };
            if !matches!(s.phase, Phase::Talking | Phase::Held) || s.kind == CallType::Internal {
                return info(
                    state,
                    now,
                    "only a customer session in progress can be transferred",
                );
            }
            if consult::refuses(state, cmd, &s, now) {
                return;
            }
            state.dialog = Some(Dialog::Transfer {
                session_id: s.id,
                to: TransferTo::SkillGroup,
                input: String::new(),
                consult: false,
            });
        }
        Command::Consult
        | Command::CompleteTransfer
        | Command::Conference
        | Command::CancelConsult
        | Command::Swap => consult::command(state, cmd, now, fx),
        Command::Dtmf => {
            let Some(s) = selected(state) else {
                return info(state, now, "no session selected");
            };
            if !s.kind.is_voice() || s.phase != Phase::Talking {
                return info(state, now, "DTMF needs a voice call that is talking");
            }
            state.dialog = Some(Dialog::Dtmf { session_id: s.id });
        }
        Command::CallOut => {
            state.dialog = Some(Dialog::Dial {
                number: String::new(),
            })
        }
        Command::Internal => {
            state.dialog = Some(Dialog::Internal {
                user: String::new(),
            });
        }
        Command::Status => {
            let cursor = match state.status {
                Some(AgentStatus::Rest) => 1,
                Some(AgentStatus::Arrange) => 2,
                Some(AgentStatus::NotReady) => 4,
                _ => 0,
            };
            state.dialog = Some(Dialog::Status { cursor });
        }
        Command::Delete => {
            let Some(s) = selected(state) else {
                return info(state, now, "no session selected");
            };
            if !s.is_ended() {
                return info(state, now, "end the session before deleting it");
            }
            if s.local_only {
                remove_session(state, &s.id);
            } else {
                request(
                    state,
                    "Call.deleteCall",
                    json!({ "sessionId": s.id }),
                    Purpose::Delete {
                        session_id: s.id.clone(),
                    },
                    fx,
                );
            }
        }
        Command::NextChat => chats::next(state, now),
        Command::PauseRecording => recording::toggle(state, now, fx),
        Command::AskHelp => help::ask(state),
        Command::Chat => {
            let Some(s) = selected(state) else {
                return;
            };
            if s.kind == CallType::Im && s.phase == Phase::Talking {
                state.typing = true;
            } else if s.kind == CallType::Im {
                info(state, now, format!("the chat is {}", s.phase.label()));
            }
        }
        Command::Up => match state.focus {
            Focus::Queue => move_selection(state, -1),
            Focus::Transcript => scroll(state, 1),
        },
        Command::Down => match state.focus {
            Focus::Queue => move_selection(state, 1),
            Focus::Transcript => scroll(state, -1),
        },
        Command::Focus => {
            state.focus = match state.focus {
                Focus::Queue => Focus::Transcript,
                Focus::Transcript => Focus::Queue,
            }
        }
        Command::PageUp => scroll(state, PAGE as isize),
        Command::PageDown => scroll(state, -(PAGE as isize)),
        Command::Follow => {
            if let Some(id) = state.selected.clone() {
                if let Some(s) = state.session_mut(&id) {
                    s.scroll = 0;
                }
            }
        }
        Command::Compact => {
            state.mode = match state.mode {
                ViewMode::Workbench => ViewMode::Compact,
                _ => ViewMode::Workbench,
            }
        }
        Command::Hide => {
            state.mode = match state.mode {
                ViewMode::Hidden => ViewMode::Workbench,
                _ => ViewMode::Hidden,
            }
        }
        Command::Toolbar => state.settings.toolbar = !state.settings.toolbar,
        Command::Settings => state.dialog = Some(Dialog::Settings { cursor: 0 }),
        Command::WrapUp => wrapup::command(state, now),
        Command::Help => state.dialog = Some(Dialog::Help { scroll: 0 }),
        Command::Monitor
        | Command::Listen
        | Command::Coach
        | Command::Barge
        | Command::AnswerHelp
        | Command::Intercept
        | Command::Report
        | Command::SkillGroups
        | Command::Users
        | Command::View => info(
            state,
            now,
            "that is for the supervisor console (ccdesk supervise)",
        ),
        Command::Quit => {
            if state.has_active() {
                state.dialog = Some(Dialog::ConfirmQuit);
            } else {
                quit(state, 0, None, fx);
            }
        }
    }
}

fn accept(state: &mut State, now: u64, fx: &mut Vec<Effect>) {
    let target = match selected(state) {
        Some(s) if s.phase == Phase::Ringing => Some(s),
        _ => state
            .sessions
            .iter()
            .find(|s| s.phase == Phase::Ringing)
            .cloned(),
    };
    let Some(s) = target else {
        return info(state, now, "nothing is ringing");
    };
    let method = match s.kind {
        CallType::Im => "Chat.accept",
        CallType::Video => "Video.accept",
        _ => "Call.accept",
    };
    state.selected = Some(s.id.clone());
    session_request(state, method, &s.id, fx);
}

fn hang_up(state: &mut State, now: u64, fx: &mut Vec<Effect>) {
    let Some(s) = selected(state) else {
        return info(state, now, "no session selected");
    };
    let method = match (s.phase, s.kind) {
        (Phase::Ended, _) => {
            let key = state.keymap.key_label(Command::Delete);
            return info(
                state,
                now,
                format!("the session has ended; {key} deletes it"),
            );
        }
        // An offer: Call.hungUp declines it, whatever its type.
        (Phase::Ringing, _) | (Phase::Dialing, _) => "Call.hungUp",
        (_, CallType::Im) => "Chat.end",
        (_, CallType::Video) => "Video.end",
        _ => "Call.hungUp",
    };
    session_request(state, method, &s.id, fx);
}

fn move_selection(state: &mut State, delta: isize) {
    if state.sessions.is_empty() {
        return;
    }
    let n = state.sessions.len() as isize;
    let i = state.selected_index().map(|i| i as isize).unwrap_or(-1);
    let j = if i < 0 {
        0
    } else {
        (i + delta).clamp(0, n - 1)
    };
    state.selected = Some(state.sessions[j as usize].id.clone());
}

/// Positive `lines` scrolls back (up), negative forward.
fn scroll(state: &mut State, lines: isize) {
    let Some(id) = state.selected.clone() else {
        return;
    };
    if let Some(s) = state.session_mut(&id) {
        let total = if s.kind == CallType::Im {
            s.messages.len()
        } else {
            s.transcript.len()
        };
        let next = (s.scroll as isize + lines).clamp(0, total.saturating_sub(1) as isize);
        s.scroll = next as usize;
    }
}

fn remove_session(state: &mut State, id: &str) {
    let Some(i) = state.sessions.iter().position(|s| s.id == id) else {
        return;
    };
    state.sessions.remove(i);
    if state.selected.as_deref() == Some(id) {
        state.typing = false;
        state.selected = if state.sessions.is_empty() {
            None
        } else {
            Some(state.sessions[i.min(state.sessions.len() - 1)].id.clone())
        };
    }
}

fn text_edit(buf: &mut String, k: &KeyEvent, accept: impl Fn(char) -> bool) {
    match k.code {
        KeyCode::Backspace => {
            buf.pop();
        }
        KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => buf.clear(),
        KeyCode::Char(c)
            if !k.modifiers.contains(KeyModifiers::CONTROL)
                && !k.modifiers.contains(KeyModifiers::ALT)
                && accept(c)
                && buf.chars().count() < 200 =>
        {
            buf.push(c)
        }
        _ => {}
    }
}

fn chat_key(state: &mut State, k: KeyEvent, fx: &mut Vec<Effect>) {
    let Some(id) = state.selected.clone() else {
        state.typing = false;
        return;
    };
    match k.code {
        KeyCode::Esc => state.typing = false,
        KeyCode::Enter => {
            let text = match state.session_mut(&id) {
                Some(s) => std::mem::take(&mut s.draft),
                None => String::new(),
            };
            let text = text.trim().to_string();
            if text.is_empty() {
                return;
            }
            request(
                state,
                "Chat.sendMessage",
                json!({ "sessionId": id, "text": text }),
                Purpose::ChatSend {
                    session_id: id.clone(),
                    text,
                },
                fx,
            );
        }
        _ => {
            if let Some(s) = state.session_mut(&id) {
                text_edit(&mut s.draft, &k, |c| !c.is_control());
            }
        }
    }
}

fn plain(state: &mut State, method: &'static str, params: Value, fx: &mut Vec<Effect>) {
    request(state, method, params, Purpose::Plain, fx);
}

// ---------------------------------------------------------------- server events

/// Insert a session, or return the existing one.
fn upsert<'a>(
    state: &'a mut State,
    id: &str,
    kind: CallType,
    direction: Direction,
    phase: Phase,
    now: u64,
) -> &'a mut Session {
    let i = match state.sessions.iter().position(|s| s.id == id) {
        Some(i) => i,
        None => {
            state
                .sessions
                .push(Session::new(id.to_string(), kind, direction, phase, now));
            state.sessions.len() - 1
        }
    };
    &mut state.sessions[i]
}

/// Select `id` unless the agent is busy with another live session.
fn focus_on(state: &mut State, id: &str) {
    let busy_elsewhere = state
        .selected_session()
        .is_some_and(|s| s.id != id && s.phase.is_active());
    if !busy_elsewhere {
        if state.selected.as_deref() != Some(id) {
            state.typing = false;
        }
        state.selected = Some(id.to_string());
    }
}

fn close_session_dialog(state: &mut State, id: &str) {
    let about_it = matches!(
        &state.dialog,
        Some(Dialog::Transfer { session_id, .. }) | Some(Dialog::Dtmf { session_id }) if session_id == id
    );
    if about_it {
        state.dialog = None;
    }
}

fn session_ended(state: &mut State, e: SessionEnded, now: u64) {
    let id = e.session_id.clone();
    if let Some(s) = state.session_mut(&id) {
        s.phase = Phase::Ended;
        s.ring_deadline = None;
        s.ended_at = Some(now);
        s.close_by = Some(e.close_by);
        s.note = match (e.main_reason, e.sub_reason) {
            (Some(m), Some(sub)) => Some(format!("{m}: {sub}")),
            (Some(m), None) => Some(m),
            (None, Some(sub)) => Some(sub),
            (None, None) => None,
        };
    }
    if state.selected.as_deref() == Some(id.as_str()) {
        state.typing = false;
    }
    close_session_dialog(state, &id);
}

fn call_outed(state: &mut State, c: CallOuted, now: u64) {
    let id = c.session_id.clone();
    let other_tab = c.tab_uuid.is_some() && c.tab_uuid != state.me.tab_uuid;
    let s = upsert(
        state,
        &id,
        CallType::Phone,
        Direction::Outbound,
        Phase::Dialing,
        now,
    );
    s.call_in.caller_phone_number = Some(c.caller_phone_number);
    s.call_in.callee_phone_number = Some(c.callee_phone_number);
    s.call_in.server_type = Some(c.server_type);
    s.audio_elsewhere = other_tab;
    focus_on(state, &id);
}

fn asr(s: &mut Session, flow: Flow, r: crate::protocol::AsrResult) {
    let is_final = r.slice_type == 2;
    if let Some(line) = s
        .transcript
        .iter_mut()
        .rev()
        .find(|l| !l.keys && l.flow == flow && l.index == r.index)
    {
        line.text = r.text;
        line.is_final = is_final;
        return;
    }
    push_line(
        s,
        SpeechLine {
            flow,
            index: r.index,
            text: r.text,
            is_final,
            start_time: r.start_time,
            keys: false,
        },
    );
}

fn push_line(s: &mut Session, line: SpeechLine) {
    s.transcript.push(line);
    if s.transcript.len() > MAX_TRANSCRIPT {
        s.transcript.remove(0);
    }
    if s.scroll > 0 {
        s.scroll += 1;
    }
}

/// The caller pressed keys (`digits` to a seat: a phone caller's RFC 4733
/// events): shown in the transcript, after the keys pressed just before
/// when nothing was said in between.
pub(super) fn keys(s: &mut Session, digits: &str) {
    if let Some(last) = s.transcript.last_mut().filter(|l| l.keys) {
        last.text.push_str(digits);
        return;
    }
    push_line(
        s,
        SpeechLine {
            flow: Flow::In,
            index: 0,
            text: digits.to_string(),
            is_final: true,
            start_time: 0,
            keys: true,
        },
    );
}

// ---------------------------------------------------------------- answers

fn response(state: &mut State, id: u64, result: Result<Option<Value>, ProtoError>, now: u64) {
    let Some(p) = state.pending.remove(&id) else {
        return;
    };
    if matches!(
        p.purpose,
        Purpose::Subscribe
            | Purpose::Monitor { .. }
            | Purpose::Intercept { .. }
            | Purpose::Report { .. }
    ) {
        return board::response(state, &p.method, p.purpose, result, now);
    }
    match result {
        Ok(data) => match p.purpose {
            Purpose::Plain
            | Purpose::ChatSend { .. }
            | Purpose::Subscribe
            | Purpose::Monitor { .. }
            | Purpose::Intercept { .. }
            | Purpose::Report { .. }
            | Purpose::Help
            | Purpose::MediaOffer { .. } => {}
            Purpose::Done { text } => info(state, now, text),
            Purpose::Directory => directory::snapshot(state, data),
            Purpose::Consult { session_id, target } => {
                consult::answered(state, &session_id, &target, now)
            }
            Purpose::Undirectory => {}
            Purpose::History { session_id } => {
                let found: Vec<crate::protocol::HistoryEntry> = data
                    .and_then(|d| d.get("sessions").cloned())
                    .and_then(|v| serde_json::from_value(v).ok())
                    .unwrap_or_default();
                if let Some(s) = state.session_mut(&session_id) {
                    s.history = Some(
                        found
                            .into_iter()
                            .filter(|h| h.session_id != session_id)
                            .collect(),
                    );
                }
            }
            Purpose::Delete { session_id } => remove_session(state, &session_id),
            Purpose::InternalCall { callee } => {
                let sid = data
                    .as_ref()
                    .and_then(|d| d.get("sessionId"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                match sid {
                    Some(sid) => {
                        let s = upsert(
                            state,
                            &sid,
                            CallType::Internal,
                            Direction::Internal,
                            Phase::Dialing,
                            now,
                        );
                        s.call_in.peer_user_id = Some(callee.clone());
                        focus_on(state, &sid);
                        info(state, now, format!("calling {callee}"));
                    }
                    None => push_error(
                        state,
                        now,
                        "Call.startInternalCall: the answer has no sessionId".into(),
                    ),
                }
            }
            Purpose::Outbound => {
                match data.and_then(|d| serde_json::from_value::<CallResponse>(d).ok()) {
                    Some(r) => {
                        let sid = r.session_id.clone();
                        call_outed(
                            state,
                            CallOuted {
                                session_id: r.session_id,
                                caller_phone_number: r.caller_phone_number,
                                callee_phone_number: r.callee_phone_number,
                                server_type: r.server_type,
                                tab_uuid: None,
                            },
                            now,
                        );
                        if let Some(s) = state.session_mut(&sid) {
                            s.call_in.remark = r.remark;
                            s.call_in.caller_location = r.callee_location;
                        }
                    }
                    None => push_error(
                        state,
                        now,
                        "Call.startOutboundCall: the answer is not a CallResponse".into(),
                    ),
                }
            }
        },
        Err(e) => {
            if let Purpose::ChatSend { session_id, text } = &p.purpose {
                if let Some(s) = state.session_mut(session_id) {
                    if s.draft.is_empty() {
                        s.draft = text.clone();
                    }
                }
            }
            if p.purpose == Purpose::Help {
                help::refused(state);
            }
            if let Purpose::History { .. } | Purpose::Directory | Purpose::Undirectory = &p.purpose
            {
                // No history (an older server, no records): nothing to show.
                return;
            }
            if let Purpose::Delete { session_id } = &p.purpose {
                if e.code == crate::protocol::ErrorCode::NotFound {
                    remove_session(state, session_id);
                    return;
                }
            }
            push_error(state, now, format!("{}: {}", p.method, e.message));
        }
    }
}

/// Whom to ask `Contact.history` about for a new offer: its caller's
/// number, or a chat's or video's user (not asked twice, nor for
/// internal calls).
fn history_contact(s: &super::state::Session) -> Option<Value> {
    if s.history.is_some() {
        return None;
    }
    let limit = 3;
    match s.kind {
        CallType::Internal => None,
        CallType::Phone => s
            .call_in
            .caller_phone_number
            .as_ref()
            .map(|n| json!({ "phoneNumber": n, "limit": limit })),
        CallType::Im => s
            .call_in
            .nickname
            .as_ref()
            .or(s.call_in.user_id.as_ref())
            .map(|u| json!({ "userId": u, "limit": limit })),
        CallType::Voip | CallType::Video => s
            .call_in
            .user_id
            .as_ref()
            .map(|u| json!({ "userId": u, "limit": limit })),
    }
}

fn logged_in(state: &mut State, r: LoginResult, now: u64) {
    // A new connection: subscriptions of the old one are gone.
    state.directory.subscribed = false;
    state.me.user_id = r.user_id;
    state.me.role = r.role;
    state.me.tab_uuid = Some(r.tab_uuid);
    state.me.skill_groups = r.skill_groups;
    state.me.seat = r.seat;
    let status = serde_json::from_value::<AgentStatus>(Value::String(r.status.clone())).ok();
    if status != state.status || r.rest_reason != state.rest_reason {
        state.status_since = now;
    }
    state.status = status;
    state.rest_reason = r.rest_reason;
    state.after_call_work = r.after_call_work;
    wrapup::on_status(state);
    state.link = Link::Online { since: now };
    let listed: Vec<String> = r.sessions.iter().map(|s| s.session_id.clone()).collect();
    let shared = state.me.enable_shared;
    for snap in &r.sessions {
        let known = state.session(&snap.session_id).is_some();
        let s = upsert(
            state,
            &snap.session_id,
            snap.kind,
            snap.direction,
            Phase::from_state(snap.state),
            now,
        );
        s.apply_snapshot(snap, now);
        if !known && shared && s.phase.is_active() {
            // A call already in progress when this shared tab logged in:
            // another tab of ours has its audio.
            s.audio_elsewhere = true;
        }
    }
    for s in state.sessions.iter_mut() {
        if !listed.contains(&s.id) && !s.local_only {
            s.local_only = true;
            if !s.is_ended() {
                s.phase = Phase::Ended;
                s.ended_at = Some(now);
                s.ring_deadline = None;
                s.note = Some("ended while disconnected".into());
            }
        }
    }
    if state.selected_session().is_none() {
        state.selected = state
            .sessions
            .iter()
            .find(|s| !s.is_ended())
            .or(state.sessions.first())
            .map(|s| s.id.clone());
    }
}
