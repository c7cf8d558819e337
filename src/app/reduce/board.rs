//! The supervisor console's part of the reducer: the wallboard snapshot and
//! deltas, monitors (text, or audio to listen, coach or barge), intercept,
//! and the keys of the floor view (the report view's are in report.rs, the
//! skill groups dialog's in staffing.rs).

use crossterm::event::{KeyCode, KeyEvent};
use serde_json::{json, Value};

use super::{asr, info, push_error, quit, request, upsert, EXIT_REFUSED, PAGE};
use crate::app::action::Effect;
use crate::app::board::{Board, BoardPane, BoardView, Watch};
use crate::app::keymap::Command;
use crate::app::state::{AudioSetting, Dialog, Phase, Purpose, Session, State};
use crate::protocol::{
    BoardSession, CallType, Direction, Event, MonitorMode, ProtoError, SessionSnapshot,
    SessionState, Wallboard,
};

/// After (re)login: subscribe again and resume the monitors still open.
pub(super) fn logged_in(state: &mut State, fx: &mut Vec<Effect>) {
    if state.board.is_none() {
        return;
    }
    if !matches!(state.me.role.as_str(), "admin" | "inspector") {
        let m = format!(
            "the supervisor console is for admins and inspectors; {} has role {}",
            state.me.user_id, state.me.role
        );
        return quit(state, EXIT_REFUSED, Some(m), fx);
    }
    let Some(b) = state.board.as_mut() else {
        return;
    };
    b.loaded = false;
    let mut live = Vec::new();
    for w in b.watches.iter_mut().filter(|w| w.ended.is_none()) {
        // The old audio is gone with the old connection: it starts again
        // once the server confirms the monitor in its mode.
        w.confirmed = false;
        live.push((w.session.id.clone(), w.mode));
    }
    request(
        state,
        "Supervisor.subscribe",
        json!({}),
        Purpose::Subscribe,
        fx,
    );
    for (id, mode) in live {
        monitor_request(state, &id, mode, fx);
    }
}

/// `Call.monitor` in one mode: text only (`textOnly`), listening
/// (`textOnly: false`), coaching or barging in (`mode`). The server
/// switches the mode of a session already monitored, on the audio already
/// connected.
fn monitor_request(state: &mut State, id: &str, mode: MonitorMode, fx: &mut Vec<Effect>) {
    let params = match mode {
        MonitorMode::Text => json!({ "sessionId": id, "textOnly": true }),
        MonitorMode::Listen => json!({ "sessionId": id, "textOnly": false }),
        MonitorMode::Coach | MonitorMode::Barge => {
            json!({ "sessionId": id, "textOnly": false, "mode": mode.as_str() })
        }
    };
    request(
        state,
        "Call.monitor",
        params,
        Purpose::Monitor {
            session_id: id.to_string(),
            mode,
        },
        fx,
    );
}

/// Monitor `id` in `mode` (its panel is open): an audio mode first turns
/// any other audio monitor back to text (one at a time), and text stops
/// the sound at once, not at the answer. A switch between listening,
/// coaching and barging keeps the sound as it is: the microphone opens or
/// shuts once the server agrees.
pub(super) fn set_monitor(state: &mut State, id: &str, mode: MonitorMode, fx: &mut Vec<Effect>) {
    if mode != MonitorMode::Text {
        let others: Vec<String> = state
            .board
            .iter_mut()
            .flat_map(|b| b.watches.iter_mut())
            .filter(|w| w.audio() && w.ended.is_none() && w.session.id != id)
            .map(|w| {
                w.mode = MonitorMode::Text;
                w.session.id.clone()
            })
            .collect();
        for other in others {
            monitor_request(state, &other, MonitorMode::Text, fx);
        }
    } else if let Some(w) = state.board.as_mut().and_then(|b| b.watch_mut(id)) {
        w.mode = MonitorMode::Text;
    }
    monitor_request(state, id, mode, fx)
}

/// A new monitor panel for a live session, not confirmed yet.
pub(super) fn new_watch(live: &BoardSession, now: u64) -> Watch {
    let id = live.session_id.clone();
    let mut session = Session::new(id, live.kind, live.direction, Phase::Talking, now);
    session.started_at = live.started_at;
    session.accepted_at = live.accepted_at;
    session.call_in.nickname = live.caller.clone();
    Watch {
        session,
        agent: live.user_id.clone(),
        confirmed: false,
        mode: MonitorMode::Text,
        ended: None,
    }
}

/// An answer to one of the console's requests.
pub(super) fn response(
    state: &mut State,
    method: &str,
    purpose: Purpose,
    result: Result<Option<Value>, ProtoError>,
    now: u64,
) {
    match (purpose, result) {
        (Purpose::Subscribe, Ok(data)) => {
            match data.and_then(|d| serde_json::from_value::<Wallboard>(d).ok()) {
                Some(w) => {
                    if let Some(b) = state.board.as_mut() {
                        b.wall = w;
                        b.loaded = true;
                        b.fix_selection();
                    }
                }
                None => push_error(
                    state,
                    now,
                    "Supervisor.subscribe: the answer is not a wallboard".into(),
                ),
            }
        }
        (Purpose::Monitor { session_id, mode }, Ok(_)) => {
            if let Some(w) = state.board.as_mut().and_then(|b| b.watch_mut(&session_id)) {
                w.confirmed = true;
                w.mode = mode;
            }
        }
        (Purpose::Monitor { session_id, .. }, Err(e))
            if state
                .board
                .as_ref()
                .and_then(|b| b.watch(&session_id))
                .is_some_and(|w| w.confirmed) =>
        {
            // A switch of mode failed: the monitor goes on as it was.
            push_error(state, now, format!("{method} {session_id}: {}", e.message));
        }
        (Purpose::Monitor { session_id, .. }, Err(e)) => {
            if let Some(b) = state.board.as_mut() {
                // A panel with words in it stays (marked), an empty one goes.
                let heard = b.watch(&session_id).is_some_and(|w| {
                    !w.session.transcript.is_empty() || !w.session.messages.is_empty()
                });
                if heard {
                    if let Some(w) = b.watch_mut(&session_id) {
                        w.ended = Some(format!("not monitored: {}", e.message));
                        w.session.phase = Phase::Ended;
                    }
                } else {
                    b.watches.retain(|w| w.session.id != session_id);
                }
                b.fix_selection();
            }
            push_error(state, now, format!("{method} {session_id}: {}", e.message));
        }
        (Purpose::Intercept { session_id }, Ok(data)) => {
            let snap = data.and_then(|d| serde_json::from_value::<SessionSnapshot>(d).ok());
            intercepted(state, &session_id, snap, now);
        }
        (Purpose::Report { by }, result) => super::report::answered(state, by, result, now),
        (_, Err(e)) => push_error(state, now, format!("{method}: {}", e.message)),
        (_, Ok(_)) => {}
    }
}

/// The session is ours now: it joins the agent's list with what the
/// monitor heard so far, and the console shows its call bar.
fn intercepted(state: &mut State, id: &str, snap: Option<SessionSnapshot>, now: u64) {
    let watch = state.board.as_mut().and_then(|b| {
        let i = b.watches.iter().position(|w| w.session.id == id)?;
        Some(b.watches.remove(i))
    });
    let (kind, direction) = snap
        .as_ref()
        .map(|s| (s.kind, s.direction))
        .or(watch
            .as_ref()
            .map(|w| (w.session.kind, w.session.direction)))
        .unwrap_or((CallType::Phone, Direction::Inbound));
    let s = upsert(state, id, kind, direction, Phase::Talking, now);
    if let Some(w) = &watch {
        s.transcript = w.session.transcript.clone();
        s.messages = w.session.messages.clone();
    }
    if let Some(snap) = &snap {
        s.apply_snapshot(snap, now);
    }
    let peer = s.peer();
    // The call view shows the selected session: this one.
    state.selected = Some(id.to_string());
    state.typing = false;
    let from = watch
        .and_then(|w| w.agent)
        .unwrap_or_else(|| "the agent".into());
    if let Some(b) = state.board.as_mut() {
        b.view = BoardView::Call;
        b.fix_selection();
    }
    info(state, now, format!("{peer}: taken over from {from}"));
}

/// What the console does with an event besides the agent terminal's own
/// handling: the wallboard, and the monitored sessions' transcripts.
pub(super) fn event(state: &mut State, ev: &Event, now: u64) {
    if state.board.is_none() {
        return;
    }
    if let Event::Wallboard(d) = ev {
        super::staffing::removed(state, &d.removed, now);
        super::users::removed(state, &d.removed, now);
    }
    let Some(b) = state.board.as_mut() else {
        return;
    };
    match ev {
        Event::Wallboard(d) => {
            b.wall.apply(d.clone());
            b.fix_selection();
        }
        Event::Asr {
            session_id,
            flow,
            result,
        } => {
            if let Some(w) = b.watch_mut(session_id) {
                asr(&mut w.session, *flow, result.clone());
            }
        }
        Event::Digits {
            session_id,
            dtmf_text,
        } => {
            if let Some(w) = b.watch_mut(session_id) {
                super::keys(&mut w.session, dtmf_text);
            }
        }
        Event::ChatMessage(m) => {
            if let Some(w) = b.watch_mut(&m.session_id) {
                let dup =
                    w.session.messages.iter().any(|x| {
                        x.timestamp == m.timestamp && x.text == m.text && x.from == m.from
                    });
                if !dup {
                    w.session.messages.push(m.clone());
                    if w.session.scroll > 0 {
                        w.session.scroll += 1;
                    }
                }
            }
        }
        Event::SessionEnded(e) => {
            if let Some(w) = b.watch_mut(&e.session_id) {
                w.session.phase = Phase::Ended;
                w.session.ended_at = Some(now);
                w.ended = Some(match &e.main_reason {
                    Some(r) => format!("ended by {}: {r}", e.close_by.as_str()),
                    None => format!("ended by {}", e.close_by.as_str()),
                });
            }
        }
        _ => {}
    }
}

/// The session a supervisor command is about: the focused monitor panel,
/// else the selected session, else the selected agent's session.
fn target(b: &Board) -> Option<String> {
    match b.pane {
        BoardPane::Monitors => b.watches.get(b.watch).map(|w| w.session.id.clone()),
        BoardPane::Sessions => b.session.clone(),
        BoardPane::Agents => b
            .selected_agent()
            .and_then(|a| a.session_id.clone().or(a.offer_id.clone())),
    }
}

fn move_in<T>(
    rows: &[T],
    id: &Option<String>,
    key: impl Fn(&T) -> &str,
    delta: isize,
) -> Option<String> {
    if rows.is_empty() {
        return None;
    }
    let i = id
        .as_deref()
        .and_then(|id| rows.iter().position(|r| key(r) == id))
        .map_or(0, |i| {
            (i as isize + delta).clamp(0, rows.len() as isize - 1) as usize
        });
    Some(key(&rows[i]).to_string())
}

fn scroll_watch(b: &mut Board, lines: isize) {
    if let Some(w) = b.watches.get_mut(b.watch) {
        let s = &mut w.session;
        let total = if s.kind == CallType::Im {
            s.messages.len()
        } else {
            s.transcript.len()
        };
        s.scroll = (s.scroll as isize + lines).clamp(0, total.saturating_sub(1) as isize) as usize;
    }
}

/// What a floor command leads to, once the board is no longer borrowed.
enum Then {
    Nothing,
    Info(String),
    /// Monitor (or switch the mode of) a session.
    Monitor(String, MonitorMode),
    Stop(String),
    Ask(Dialog),
}

/// A command on the floor view. Returns false when the agent terminal's
/// own handling should take it (status, help, quit, and calls).
pub(super) fn command(state: &mut State, cmd: Command, now: u64, fx: &mut Vec<Effect>) -> bool {
    match state.board.as_ref().map(|b| b.view) {
        None => return false,
        Some(BoardView::Report) => return super::report::command(state, cmd, now, fx),
        Some(_) if cmd == Command::Report => {
            super::report::open(state, fx);
            return true;
        }
        Some(_) => {}
    }
    let has_calls = !state.sessions.is_empty();
    let monitor_key = state.keymap.key_label(Command::Monitor);
    let view_key = state.keymap.key_label(Command::View);
    if matches!(cmd, Command::Listen | Command::Coach | Command::Barge)
        && state.audio.setting == AudioSetting::Off
        && state
            .board
            .as_ref()
            .is_some_and(|b| b.view == BoardView::Floor)
    {
        info(
            state,
            now,
            "audio is off in this console (start it with --audio system or null)",
        );
        return true;
    }
    let Some(b) = state.board.as_mut() else {
        return false;
    };
    if cmd == Command::AnswerHelp && b.view == BoardView::Floor {
        super::help::answer(state, now, fx);
        return true;
    }
    if cmd == Command::SkillGroups && b.view == BoardView::Floor {
        super::staffing::open(state, now);
        return true;
    }
    if cmd == Command::Users && b.view == BoardView::Floor {
        super::users::open(state);
        return true;
    }
    let then = if cmd == Command::View {
        match b.view {
            BoardView::Floor if has_calls => {
                b.view = BoardView::Call;
                Then::Nothing
            }
            BoardView::Floor => Then::Info("no call of yours yet: intercept one first".into()),
            BoardView::Call | BoardView::Report => {
                b.view = BoardView::Floor;
                Then::Nothing
            }
        }
    } else if b.view == BoardView::Call {
        if !matches!(
            cmd,
            Command::Monitor
                | Command::Listen
                | Command::Coach
                | Command::Barge
                | Command::AnswerHelp
                | Command::Intercept
                | Command::SkillGroups
                | Command::Users
        ) {
            return false;
        }
        Then::Info(format!("back to the floor first ({view_key})"))
    } else {
        match floor(b, cmd, now, &monitor_key, &view_key) {
            Some(t) => t,
            None => return false,
        }
    };
    match then {
        Then::Nothing => {}
        Then::Info(text) => info(state, now, text),
        Then::Monitor(id, mode) => set_monitor(state, &id, mode, fx),
        Then::Stop(id) => stop_watch(state, &id, fx),
        Then::Ask(d) => state.dialog = Some(d),
    }
    true
}

fn floor(b: &mut Board, cmd: Command, now: u64, monitor_key: &str, view_key: &str) -> Option<Then> {
    match cmd {
        Command::Up | Command::Down => {
            let delta = if cmd == Command::Up { -1 } else { 1 };
            match b.pane {
                BoardPane::Agents => {
                    b.agent = move_in(&b.wall.agents, &b.agent, |a| &a.user_id, delta)
                }
                BoardPane::Sessions => {
                    b.session = move_in(&b.wall.sessions, &b.session, |s| &s.session_id, delta)
                }
                BoardPane::Monitors => scroll_watch(b, -delta),
            }
        }
        Command::PageUp | Command::PageDown => {
            let back = if cmd == Command::PageUp {
                PAGE as isize
            } else {
                -(PAGE as isize)
            };
            match b.pane {
                BoardPane::Monitors => scroll_watch(b, back),
                BoardPane::Agents => {
                    b.agent = move_in(&b.wall.agents, &b.agent, |a| &a.user_id, -back)
                }
                BoardPane::Sessions => {
                    b.session = move_in(&b.wall.sessions, &b.session, |s| &s.session_id, -back)
                }
            }
        }
        Command::Follow => {
            if let Some(w) = b.watches.get_mut(b.watch) {
                w.session.scroll = 0;
            }
        }
        Command::Focus => {
            // Agents -> Sessions -> each monitor panel -> Agents.
            match b.pane {
                BoardPane::Monitors if b.watch + 1 < b.watches.len() => b.watch += 1,
                p => {
                    b.pane = p.next(!b.watches.is_empty());
                    b.watch = 0;
                }
            }
        }
        Command::Monitor | Command::Listen | Command::Coach | Command::Barge => {
            let Some(id) = target(b) else {
                return Some(Then::Info(
                    "select a session (or an agent in one) to monitor".into(),
                ));
            };
            let audio = cmd != Command::Monitor;
            if let Some(w) = b.watch(&id) {
                return Some(match (audio, &w.ended) {
                    (false, _) => Then::Stop(id),
                    (true, Some(_)) => Then::Info(format!("session {id} has ended")),
                    (true, None) if w.session.kind == CallType::Im => {
                        Then::Info(format!("session {id} is a chat: it has no sound"))
                    }
                    (true, None) => Then::Monitor(id, next_mode(cmd, w.mode)),
                });
            }
            let Some(live) = b.live_session(&id).cloned() else {
                return Some(Then::Info(format!("session {id} is not live")));
            };
            if !matches!(live.state, SessionState::Talking | SessionState::Held) {
                return Some(Then::Info(format!(
                    "session {id} is {}: monitor it once it is answered",
                    live.state.as_str()
                )));
            }
            if audio && live.kind == CallType::Im {
                return Some(Then::Info(format!(
                    "session {id} is a chat: it has no sound"
                )));
            }
            b.watches.push(new_watch(&live, now));
            b.watch = b.watches.len() - 1;
            return Some(Then::Monitor(id, next_mode(cmd, MonitorMode::Text)));
        }
        Command::Intercept => {
            let Some(id) = target(b) else {
                return Some(Then::Info("select a monitored session to take over".into()));
            };
            return Some(match b.watch(&id) {
                Some(w) if w.ended.is_some() => Then::Info(format!("session {id} has ended")),
                Some(_) => Then::Ask(Dialog::ConfirmIntercept { session_id: id }),
                None => Then::Info(format!("monitor session {id} first ({monitor_key})")),
            });
        }
        Command::Delete if b.pane == BoardPane::Monitors => {
            if let Some(id) = b.watches.get(b.watch).map(|w| w.session.id.clone()) {
                return Some(Then::Stop(id));
            }
        }
        // Call keys act on your own call, which the floor does not show.
        Command::Accept
        | Command::HangUp
        | Command::Hold
        | Command::Mute
        | Command::Camera
        | Command::Transfer
        | Command::Dtmf
        | Command::CallOut
        | Command::Internal
        | Command::Delete
        | Command::Chat => {
            return Some(Then::Info(format!(
                "{} acts on your own call: switch to it first ({view_key})",
                cmd.name()
            )))
        }
        _ => return None,
    }
    Some(Then::Nothing)
}

/// The mode a monitor key leads to from `mode`: `w` is text only, `l`
/// listens (again: text only), `W` coaches and `B` barges in (again, or
/// `l` while coaching or barging: back to listening).
fn next_mode(cmd: Command, mode: MonitorMode) -> MonitorMode {
    match (cmd, mode) {
        (Command::Listen, MonitorMode::Listen) => MonitorMode::Text,
        (Command::Listen, _) => MonitorMode::Listen,
        (Command::Coach, MonitorMode::Coach) | (Command::Barge, MonitorMode::Barge) => {
            MonitorMode::Listen
        }
        (Command::Coach, _) => MonitorMode::Coach,
        (Command::Barge, _) => MonitorMode::Barge,
        _ => MonitorMode::Text,
    }
}

/// Close a monitor panel, telling the server when it still monitors.
fn stop_watch(state: &mut State, id: &str, fx: &mut Vec<Effect>) {
    let Some(b) = state.board.as_mut() else {
        return;
    };
    let live = b.watch(id).is_some_and(|w| w.ended.is_none());
    b.watches.retain(|w| w.session.id != id);
    b.fix_selection();
    if live {
        request(
            state,
            "Supervisor.stopMonitor",
            json!({ "sessionId": id }),
            Purpose::Plain,
            fx,
        );
    }
}

/// The intercept confirmation: y (or Enter) takes the session over.
pub(super) fn confirm_intercept(state: &mut State, k: &KeyEvent, id: String, fx: &mut Vec<Effect>) {
    if matches!(
        k.code,
        KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter
    ) {
        request(
            state,
            "Call.intercept",
            json!({ "sessionId": id }),
            Purpose::Intercept { session_id: id },
            fx,
        );
    }
}
