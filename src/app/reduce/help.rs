//! Asking a supervisor for help, and answering. The agent's help key opens
//! a one-line dialog (a note is optional: Enter sends without) that asks
//! about the selected session (`Agent.requestHelp`); the status pane says
//! "help asked" until a supervisor acknowledges it (`helpAcknowledged`),
//! then that they are coming, until they monitor one of the agent's
//! sessions. In the console `helpRequested` rings as an offer does, flags
//! the agent's row, and the answer key acknowledges the request
//! (`Supervisor.ackHelp`) and listens to the call it is about.

use super::*;
use crate::app::board::BoardPane;
use crate::app::state::{AudioSetting, Help};
use crate::protocol::{HelpRequest, MonitorMode, SessionState};

/// How long "sam is coming" stays when sam does not start monitoring.
pub const COMING_MS: u64 = 120_000;

/// The `ask_help` key: the dialog, about the selected session while it
/// is in progress (or rings here).
pub(super) fn ask(state: &mut State) {
    let session_id = state
        .selected_session()
        .filter(|s| !s.is_ended() && !s.local_only)
        .map(|s| s.id.clone());
    state.dialog = Some(Dialog::AskHelp {
        session_id,
        text: String::new(),
    });
}

/// A key in the help dialog: Enter asks (with the note, if any).
pub(super) fn key(
    state: &mut State,
    session_id: Option<String>,
    mut text: String,
    k: KeyEvent,
    now: u64,
    fx: &mut Vec<Effect>,
) {
    if k.code != KeyCode::Enter {
        text_edit(&mut text, &k, |c| !c.is_control());
        state.dialog = Some(Dialog::AskHelp { session_id, text });
        return;
    }
    let mut params = json!({});
    if let Some(id) = &session_id {
        params["sessionId"] = json!(id);
    }
    let note = text.trim();
    if !note.is_empty() {
        params["text"] = json!(note);
    }
    request(state, "Agent.requestHelp", params, Purpose::Help, fx);
    // Shown at once; a refusal takes it back.
    state.help = Some(Help::Asked {
        at: now,
        session_id,
    });
}

/// `Agent.requestHelp` was refused: nothing is asked.
pub(super) fn refused(state: &mut State) {
    if matches!(state.help, Some(Help::Asked { .. })) {
        state.help = None;
    }
}

/// `helpRequested` (in the console) and `helpAcknowledged`.
pub(super) fn event(state: &mut State, ev: Event, now: u64, fx: &mut Vec<Effect>) {
    match ev {
        Event::HelpRequested { user_id, request } => requested(state, user_id, request, now, fx),
        Event::HelpAcknowledged { user_id, by } => {
            if user_id == state.me.user_id {
                state.help = Some(Help::Coming {
                    by: by.clone(),
                    at: now,
                });
                info(state, now, format!("{by} is coming to help"));
            }
            let Some(b) = state.board.as_mut() else {
                return;
            };
            if let Some(a) = b.wall.agents.iter_mut().find(|a| a.user_id == user_id) {
                a.help = None;
            }
            if by != state.me.user_id && user_id != state.me.user_id {
                info(
                    state,
                    now,
                    format!("{by} answers {user_id}'s call for help"),
                );
            }
        }
        _ => {}
    }
}

/// An agent asks for help: the console rings (as the agent terminal does
/// for an offer), flags the agent's row and says how to answer.
fn requested(
    state: &mut State,
    user_id: String,
    request: HelpRequest,
    now: u64,
    fx: &mut Vec<Effect>,
) {
    let Some(b) = state.board.as_mut() else {
        return;
    };
    if let Some(a) = b.wall.agents.iter_mut().find(|a| a.user_id == user_id) {
        a.help = Some(request.clone());
    }
    let about = request
        .session_id
        .as_deref()
        .map(
            |id| match b.live_session(id).and_then(|s| s.caller.clone()) {
                Some(caller) => format!(" with {caller}"),
                None => format!(" with {id}"),
            },
        )
        .unwrap_or_default();
    let note = request
        .text
        .as_deref()
        .map(|t| format!(": \"{t}\""))
        .unwrap_or_default();
    let answer = state.keymap.key_label(Command::AnswerHelp);
    info(
        state,
        now,
        format!("{user_id} asks for help{about}{note} ({answer} answers)"),
    );
    if !state.settings.disable_ringtone {
        fx.push(Effect::Bell);
    }
    if !state.settings.disable_notification {
        let body = match (&request.text, about.is_empty()) {
            (Some(t), _) => t.clone(),
            (None, false) => about.trim_start().to_string(),
            (None, true) => "no call named".into(),
        };
        fx.push(Effect::Notify {
            title: format!("ccdesk: {user_id} asks for help"),
            body,
        });
    }
}

/// After every action: "coming" ends once the supervisor monitors one of
/// this agent's sessions in progress (the status pane says how then), or
/// after a while.
pub(super) fn sync(state: &mut State, now: u64) {
    let Some(Help::Coming { by, at }) = &state.help else {
        return;
    };
    let here = state.monitored_by().iter().any(|m| m.user_id == *by);
    if here || now.saturating_sub(*at) > COMING_MS {
        state.help = None;
    }
}

/// The console's `answer_help` key: the selected agent when they ask,
/// else whoever asked first. Their row and session are selected, the
/// request acknowledged, and the session monitored with its sound (as text
/// for a chat, or with audio off); a monitor already listening, coaching
/// or barging stays as it is.
pub(super) fn answer(state: &mut State, now: u64, fx: &mut Vec<Effect>) {
    let Some(b) = state.board.as_ref() else {
        return;
    };
    let asking = b.asking();
    let Some(a) = b
        .selected_agent()
        .filter(|a| a.help.is_some())
        .or(asking.first().copied())
    else {
        return info(state, now, "nobody is asking for help");
    };
    let user = a.user_id.clone();
    let live = a
        .help
        .as_ref()
        .and_then(|h| h.session_id.as_deref())
        .or(a.session_id.as_deref())
        .and_then(|id| b.live_session(id))
        .filter(|s| matches!(s.state, SessionState::Talking | SessionState::Held))
        .cloned();
    request(
        state,
        "Supervisor.ackHelp",
        json!({ "userId": user }),
        Purpose::Plain,
        fx,
    );
    let audio_off = state.audio.setting == AudioSetting::Off;
    let Some(b) = state.board.as_mut() else {
        return;
    };
    b.agent = Some(user.clone());
    let Some(live) = live else {
        b.pane = BoardPane::Agents;
        return info(
            state,
            now,
            format!("{user}'s request acknowledged; {user} is in no call to listen to"),
        );
    };
    let id = live.session_id.clone();
    b.session = Some(id.clone());
    let current = b.watch(&id).filter(|w| w.ended.is_none()).map(|w| w.mode);
    if current.is_none() {
        b.watches.retain(|w| w.session.id != id);
        b.watches.push(board::new_watch(&live, now));
    }
    b.pane = BoardPane::Monitors;
    b.watch = b
        .watches
        .iter()
        .position(|w| w.session.id == id)
        .unwrap_or(0);
    let mode = if audio_off || live.kind == CallType::Im {
        MonitorMode::Text
    } else {
        MonitorMode::Listen
    };
    let peer = live.caller.clone().unwrap_or_else(|| id.clone());
    let mode = match current {
        Some(m) if m != MonitorMode::Text || mode == MonitorMode::Text => m,
        _ => {
            board::set_monitor(state, &id, mode, fx);
            mode
        }
    };
    let how = match mode {
        MonitorMode::Text => "monitoring",
        MonitorMode::Listen => "listening to",
        MonitorMode::Coach => "coaching",
        MonitorMode::Barge => "barged into",
    };
    info(
        state,
        now,
        format!("{user}'s request acknowledged; {how} {user}'s call with {peer}"),
    );
}
