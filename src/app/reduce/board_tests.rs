//! The console's part of the reducer: the wallboard snapshot and deltas,
//! text and audio monitors, intercept, and a reconnect resuming them.

use crossterm::event::KeyCode;
use serde_json::json;

use crate::app::action::Action;
use crate::app::board::{Board, BoardPane, BoardView};
use crate::app::keymap::Keymap;
use crate::app::reduce::{reduce, EXIT_REFUSED};
use crate::app::reduce_tests::{code, key, req, reqs};
use crate::app::state::{Dialog, Phase, State};
use crate::protocol::*;

const T0: u64 = 1_700_000_000_000;

pub(super) fn login(role: &str) -> LoginResult {
    LoginResult {
        tab_uuid: "tab-1".into(),
        user_id: "sam".into(),
        role: role.into(),
        status: "free".into(),
        rest_reason: None,
        skill_groups: vec![],
        sessions: vec![],
        seat: None,
        after_call_work: None,
        token: None,
        token_expires_at: None,
    }
}

pub(super) fn wall() -> serde_json::Value {
    json!({
        "agents": [
            {"userId": "alice", "role": "agent", "skillGroups": ["support"], "status": "busy",
             "statusSince": T0 - 60_000, "connected": true, "sessionId": "s-1"},
            {"userId": "bob", "role": "agent", "skillGroups": ["support"], "status": "busy",
             "statusSince": T0 - 30_000, "connected": true, "sessionId": "s-2"},
            {"userId": "carol", "role": "agent", "skillGroups": ["support"], "status": "free",
             "statusSince": T0 - 5_000, "connected": true, "offerId": "s-3"}
        ],
        "groups": [{"skillGroupId": "support", "waiting": 0, "free": 1, "staffed": 3}],
        "sessions": [
            {"sessionId": "s-1", "type": "phone", "state": "talking", "direction": "inbound",
             "userId": "alice", "caller": "138****1111", "startedAt": T0 - 70_000, "acceptedAt": T0 - 60_000},
            {"sessionId": "s-2", "type": "phone", "state": "held", "direction": "inbound",
             "userId": "bob", "caller": "139****2222", "startedAt": T0 - 40_000, "acceptedAt": T0 - 30_000},
            {"sessionId": "s-3", "type": "voip", "state": "ringing", "direction": "inbound",
             "userId": "carol", "startedAt": T0 - 6_000}
        ],
        "kpis": {"dayStart": T0 - 3_600_000, "threshold": 20, "offered": 3, "answered": 2,
                 "answeredInThreshold": 2, "abandoned": 0, "abandonedInThreshold": 0, "handled": 0},
        "history": [{"at": T0 - 60_000, "queue": 1}]
    })
}

/// A supervisor logged in, the wallboard loaded, the sessions pane focused.
pub(super) fn console() -> State {
    let mut s = State::new("ws://t/ws".into(), "sam".into(), Keymap::default(), T0);
    s.board = Some(Board::default());
    let fx = reduce(&mut s, Action::LoggedIn(login("admin")), T0);
    let (id, method, _) = req(&fx);
    assert_eq!(method, "Supervisor.subscribe");
    reduce(
        &mut s,
        Action::Response {
            id,
            result: Ok(Some(wall())),
        },
        T0,
    );
    reduce(&mut s, code(KeyCode::Tab), T0);
    s
}

pub(super) fn board(s: &State) -> &Board {
    s.board.as_ref().expect("a board")
}

fn said(id: &str, flow: Flow, index: u32, slice: u8, text: &str) -> Action {
    Action::Server(Event::Asr {
        session_id: id.into(),
        flow,
        result: AsrResult {
            index,
            slice_type: slice,
            start_time: 0,
            end_time: 0,
            text: text.into(),
        },
    })
}

#[test]
fn an_agent_role_is_refused_with_a_reason() {
    let mut s = State::new("ws://t/ws".into(), "alice".into(), Keymap::default(), T0);
    s.board = Some(Board::default());
    let fx = reduce(&mut s, Action::LoggedIn(login("agent")), T0);
    assert!(reqs(&fx).is_empty());
    let exit = s.exit.expect("quits");
    assert_eq!(exit.code, EXIT_REFUSED);
    assert!(exit.message.unwrap_or_default().contains("has role agent"));
}

#[test]
fn the_snapshot_and_deltas_fill_the_board_and_keep_the_selection() {
    let mut s = console();
    let b = board(&s);
    assert!(b.loaded);
    assert_eq!(b.wall.agents.len(), 3);
    assert_eq!(b.agent.as_deref(), Some("alice"));
    assert_eq!(b.session.as_deref(), Some("s-1"));
    assert_eq!(b.pane, BoardPane::Sessions);
    reduce(&mut s, code(KeyCode::Down), T0);
    assert_eq!(board(&s).session.as_deref(), Some("s-2"));
    // s-1 ends and a new one arrives: s-2 stays selected.
    let d: WallboardDelta = serde_json::from_value(json!({
        "ended": ["s-1"],
        "sessions": [{"sessionId": "s-4", "type": "im", "state": "queued", "direction": "inbound",
                      "startedAt": T0, "caller": "Mia"}],
        "agents": [{"userId": "alice", "role": "agent", "skillGroups": ["support"], "status": "arrange",
                    "statusSince": T0, "connected": true}]
    }))
    .expect("delta");
    reduce(&mut s, Action::Server(Event::Wallboard(d)), T0 + 1);
    let b = board(&s);
    assert_eq!(b.session.as_deref(), Some("s-2"));
    let ids: Vec<&str> = b
        .wall
        .sessions
        .iter()
        .map(|x| x.session_id.as_str())
        .collect();
    assert_eq!(ids, ["s-2", "s-3", "s-4"]);
    assert_eq!(b.wall.agents[0].status, AgentStatus::Arrange);
    assert_eq!(b.wall.agents[0].session_id, None);
}

#[test]
fn monitoring_a_session_opens_a_panel_fed_by_its_transcript() {
    let mut s = console();
    let fx = reduce(&mut s, key('w'), T0);
    let (id, method, params) = req(&fx);
    assert_eq!(method, "Call.monitor");
    assert_eq!(params, json!({"sessionId": "s-1", "textOnly": true}));
    let w = &board(&s).watches[0];
    assert_eq!((w.session.id.as_str(), w.confirmed), ("s-1", false));
    assert_eq!(w.agent.as_deref(), Some("alice"));
    reduce(
        &mut s,
        Action::Response {
            id,
            result: Ok(None),
        },
        T0,
    );
    assert!(board(&s).watches[0].confirmed);
    reduce(&mut s, said("s-1", Flow::In, 0, 0, "my"), T0);
    reduce(&mut s, said("s-1", Flow::In, 0, 2, "my card"), T0);
    reduce(&mut s, said("s-1", Flow::Out, 0, 2, "let me check"), T0);
    reduce(&mut s, said("s-9", Flow::In, 0, 2, "not watched"), T0);
    let t = &board(&s).watches[0].session.transcript;
    assert_eq!(t.len(), 2);
    assert_eq!(
        (t[0].flow, t[0].text.as_str(), t[0].is_final),
        (Flow::In, "my card", true)
    );
    assert_eq!((t[1].flow, t[1].text.as_str()), (Flow::Out, "let me check"));
    assert!(s.sessions.is_empty(), "monitoring is not handling");
    // w again stops it: the panel goes and the server is told.
    let fx = reduce(&mut s, key('w'), T0);
    let (_, method, params) = req(&fx);
    assert_eq!(method, "Supervisor.stopMonitor");
    assert_eq!(params, json!({"sessionId": "s-1"}));
    assert!(board(&s).watches.is_empty());
}

#[test]
fn a_refused_monitor_goes_away_with_the_reason() {
    let mut s = console();
    let fx = reduce(&mut s, key('w'), T0);
    let (id, _, _) = req(&fx);
    let e = ProtoError::invalid_state("session s-1 is not in progress");
    reduce(&mut s, Action::Response { id, result: Err(e) }, T0);
    assert!(board(&s).watches.is_empty());
    assert!(s
        .errors
        .back()
        .is_some_and(|n| n.text.contains("not in progress")));
}

#[test]
fn only_sessions_in_progress_can_be_monitored() {
    let mut s = console();
    reduce(&mut s, code(KeyCode::Down), T0);
    reduce(&mut s, code(KeyCode::Down), T0);
    let fx = reduce(&mut s, key('w'), T0);
    assert!(reqs(&fx).is_empty());
    assert!(s.info.as_ref().is_some_and(|i| i.text.contains("ringing")));
}

#[test]
fn an_ended_monitor_stays_until_dismissed() {
    let mut s = console();
    reduce(&mut s, key('w'), T0);
    let ended = SessionEnded {
        session_id: "s-1".into(),
        close_by: CloseBy::Client,
        main_reason: None,
        sub_reason: None,
    };
    reduce(&mut s, Action::Server(Event::SessionEnded(ended)), T0 + 5);
    let w = &board(&s).watches[0];
    assert_eq!(w.ended.as_deref(), Some("ended by client"));
    assert_eq!(w.session.phase, Phase::Ended);
    // Tab to the panel; x dismisses it without asking the server.
    reduce(&mut s, code(KeyCode::Tab), T0);
    assert_eq!(board(&s).pane, BoardPane::Monitors);
    let fx = reduce(&mut s, key('x'), T0);
    assert!(reqs(&fx).is_empty());
    assert!(board(&s).watches.is_empty());
    assert_eq!(board(&s).pane, BoardPane::Sessions);
}

#[test]
fn intercept_asks_then_takes_the_call_with_its_transcript() {
    let mut s = console();
    let fx = reduce(&mut s, key('I'), T0);
    assert!(reqs(&fx).is_empty(), "not monitored yet");
    assert!(s
        .info
        .as_ref()
        .is_some_and(|i| i.text.contains("monitor session s-1 first")));
    reduce(&mut s, key('w'), T0);
    reduce(&mut s, said("s-1", Flow::In, 0, 2, "hello there"), T0);
    reduce(&mut s, key('I'), T0);
    assert_eq!(
        s.dialog,
        Some(Dialog::ConfirmIntercept {
            session_id: "s-1".into()
        })
    );
    let fx = reduce(&mut s, key('y'), T0);
    let (id, method, params) = req(&fx);
    assert_eq!(method, "Call.intercept");
    assert_eq!(params, json!({"sessionId": "s-1"}));
    let snap = json!({"sessionId": "s-1", "type": "phone", "state": "talking", "direction": "inbound",
        "callIn": {"sessionId": "s-1", "type": "phone", "timeout": 30, "calleePhoneNumber": "400",
                   "protectedCaller": "138****1111"},
        "startedAt": T0 - 70_000, "acceptedAt": T0 - 60_000, "micMuted": false, "videoMuted": false});
    reduce(
        &mut s,
        Action::Response {
            id,
            result: Ok(Some(snap)),
        },
        T0 + 1,
    );
    let b = board(&s);
    assert_eq!(b.view, BoardView::Call);
    assert!(b.watches.is_empty(), "the monitor became the call");
    let c = s.session("s-1").expect("the call is ours");
    assert_eq!(c.phase, Phase::Talking);
    assert_eq!(c.transcript[0].text, "hello there");
    assert_eq!(s.selected.as_deref(), Some("s-1"));
    // The agent's keys work on it: h hangs up.
    let fx = reduce(&mut s, key('h'), T0 + 2);
    assert_eq!(req(&fx).1, "Call.hungUp");
    // g goes back to the floor and forth.
    reduce(&mut s, key('g'), T0 + 3);
    assert_eq!(board(&s).view, BoardView::Floor);
    reduce(&mut s, key('g'), T0 + 3);
    assert_eq!(board(&s).view, BoardView::Call);
}

#[test]
fn call_keys_on_the_floor_do_not_reach_a_hidden_call() {
    let mut s = console();
    reduce(&mut s, key('w'), T0);
    reduce(&mut s, key('I'), T0);
    let fx = reduce(&mut s, key('y'), T0);
    let (id, _, _) = req(&fx);
    let snap = json!({"sessionId": "s-1", "type": "phone", "state": "talking", "direction": "inbound",
        "callIn": {"sessionId": "s-1", "type": "phone", "timeout": 30, "calleePhoneNumber": "400"},
        "startedAt": T0, "acceptedAt": T0, "micMuted": false, "videoMuted": false});
    reduce(
        &mut s,
        Action::Response {
            id,
            result: Ok(Some(snap)),
        },
        T0,
    );
    reduce(&mut s, key('g'), T0);
    assert_eq!(board(&s).view, BoardView::Floor);
    for c in ['h', 'o', 'm', 't', 'd'] {
        let fx = reduce(&mut s, key(c), T0);
        assert!(reqs(&fx).is_empty(), "{c} on the floor");
        assert_eq!(s.dialog, None, "{c} on the floor");
        assert!(s
            .info
            .as_ref()
            .is_some_and(|i| i.text.contains("switch to it first")));
    }
}

#[test]
fn any_other_key_cancels_an_intercept() {
    let mut s = console();
    reduce(&mut s, key('w'), T0);
    reduce(&mut s, key('I'), T0);
    let fx = reduce(&mut s, key('n'), T0);
    assert!(reqs(&fx).is_empty());
    assert_eq!(s.dialog, None);
}

#[test]
fn a_reconnect_subscribes_again_and_resumes_live_monitors() {
    let mut s = console();
    reduce(&mut s, key('w'), T0);
    reduce(&mut s, code(KeyCode::Down), T0);
    reduce(&mut s, key('w'), T0);
    let ended = SessionEnded {
        session_id: "s-2".into(),
        close_by: CloseBy::Seat,
        main_reason: None,
        sub_reason: None,
    };
    reduce(&mut s, Action::Server(Event::SessionEnded(ended)), T0);
    let fx = reduce(&mut s, Action::LoggedIn(login("admin")), T0 + 10);
    let methods: Vec<(&str, serde_json::Value)> =
        reqs(&fx).into_iter().map(|(_, m, p)| (m, p)).collect();
    assert_eq!(
        methods,
        [
            ("Supervisor.subscribe", json!({})),
            (
                "Call.monitor",
                json!({"sessionId": "s-1", "textOnly": true})
            ),
        ]
    );
    assert!(!board(&s).loaded);
}

pub(super) fn ok(s: &mut State, id: u64) -> Vec<crate::app::action::Effect> {
    reduce(
        s,
        Action::Response {
            id,
            result: Ok(None),
        },
        T0,
    )
}

pub(super) fn audio_fx(fx: &[crate::app::action::Effect]) -> Vec<String> {
    use crate::app::action::Effect;
    fx.iter()
        .filter_map(|e| match e {
            Effect::AudioStart { session_id } => Some(format!("start {session_id}")),
            Effect::AudioCmd { session_id, cmd } => Some(format!("{cmd:?} {session_id}")),
            Effect::AudioStop { session_id } => Some(format!("stop {session_id}")),
            _ => None,
        })
        .collect()
}

#[test]
fn listening_starts_receive_only_audio_once_the_server_confirms() {
    let mut s = console();
    let fx = reduce(&mut s, key('l'), T0);
    let (id, method, params) = req(&fx);
    assert_eq!(method, "Call.monitor");
    assert_eq!(params, json!({"sessionId": "s-1", "textOnly": false}));
    assert!(
        audio_fx(&fx).is_empty(),
        "no audio before the server agrees"
    );
    let fx = ok(&mut s, id);
    let w = &board(&s).watches[0];
    assert!(w.confirmed && w.audio());
    // The microphone stays muted: a monitor is never heard.
    assert_eq!(audio_fx(&fx), ["start s-1", "Mute(true) s-1"]);
    assert!(s.sessions.is_empty(), "listening is not handling");
    // l again: back to text only, and the sound stops at once.
    let fx = reduce(&mut s, key('l'), T0);
    let (id, method, params) = req(&fx);
    assert_eq!(method, "Call.monitor");
    assert_eq!(params, json!({"sessionId": "s-1", "textOnly": true}));
    assert_eq!(audio_fx(&fx), ["stop s-1"]);
    ok(&mut s, id);
    let w = &board(&s).watches[0];
    assert!(w.confirmed && !w.audio());
    // And l once more: audio again, on the same panel.
    let fx = reduce(&mut s, key('l'), T0);
    let (id, _, params) = req(&fx);
    assert_eq!(params, json!({"sessionId": "s-1", "textOnly": false}));
    assert_eq!(audio_fx(&ok(&mut s, id)), ["start s-1", "Mute(true) s-1"]);
    assert_eq!(board(&s).watches.len(), 1);
}

#[test]
fn listening_to_another_session_turns_the_first_back_to_text() {
    let mut s = console();
    let (id, _, _) = req(&reduce(&mut s, key('l'), T0));
    ok(&mut s, id);
    reduce(&mut s, code(KeyCode::Down), T0);
    let fx = reduce(&mut s, key('l'), T0);
    let sent = reqs(&fx);
    let params: Vec<_> = sent.iter().map(|(_, _, p)| p.clone()).collect();
    assert_eq!(
        params,
        [
            json!({"sessionId": "s-1", "textOnly": true}),
            json!({"sessionId": "s-2", "textOnly": false})
        ]
    );
    assert_eq!(audio_fx(&fx), ["stop s-1"]);
    let fx = ok(&mut s, sent[1].0);
    assert_eq!(audio_fx(&fx), ["start s-2", "Mute(true) s-2"]);
    ok(&mut s, sent[0].0);
    let modes: Vec<(&str, bool)> = board(&s)
        .watches
        .iter()
        .map(|w| (w.session.id.as_str(), w.audio()))
        .collect();
    assert_eq!(modes, [("s-1", false), ("s-2", true)]);
}

#[test]
fn a_refused_switch_to_audio_keeps_the_text_monitor() {
    let mut s = console();
    let (id, _, _) = req(&reduce(&mut s, key('w'), T0));
    ok(&mut s, id);
    let (id, _, _) = req(&reduce(&mut s, key('l'), T0));
    let e = ProtoError::invalid_state("media is off on this server");
    let fx = reduce(&mut s, Action::Response { id, result: Err(e) }, T0);
    assert!(audio_fx(&fx).is_empty());
    let w = &board(&s).watches[0];
    assert!(w.confirmed && !w.audio() && w.ended.is_none());
    assert!(s
        .errors
        .back()
        .is_some_and(|n| n.text.contains("media is off")));
}

#[test]
fn listening_needs_audio_on_and_a_voice_session() {
    let mut s = console();
    s.audio.setting = crate::app::state::AudioSetting::Off;
    let fx = reduce(&mut s, key('l'), T0);
    assert!(reqs(&fx).is_empty());
    assert!(board(&s).watches.is_empty());
    assert!(s
        .info
        .as_ref()
        .is_some_and(|i| i.text.contains("audio is off")));
    s.audio.setting = crate::app::state::AudioSetting::Null;
    // An agent's chat has no sound to listen to.
    let d: WallboardDelta = serde_json::from_value(json!({
        "sessions": [{"sessionId": "s-4", "type": "im", "state": "talking", "direction": "inbound",
                      "userId": "carol", "startedAt": T0, "acceptedAt": T0, "caller": "Mia"}]
    }))
    .expect("delta");
    reduce(&mut s, Action::Server(Event::Wallboard(d)), T0);
    for _ in 0..3 {
        reduce(&mut s, code(KeyCode::Down), T0);
    }
    assert_eq!(board(&s).session.as_deref(), Some("s-4"));
    let fx = reduce(&mut s, key('l'), T0);
    assert!(reqs(&fx).is_empty());
    assert!(s.info.as_ref().is_some_and(|i| i.text.contains("no sound")));
}

#[test]
fn an_audio_monitor_resumes_as_audio_after_a_reconnect() {
    let mut s = console();
    let (id, _, _) = req(&reduce(&mut s, key('l'), T0));
    ok(&mut s, id);
    let fx = reduce(&mut s, Action::LoggedIn(login("admin")), T0);
    // The old sound went with the old connection.
    assert_eq!(audio_fx(&fx), ["stop s-1"]);
    let sent = reqs(&fx);
    assert_eq!(
        sent[1].2,
        json!({"sessionId": "s-1", "textOnly": false}),
        "{sent:?}"
    );
    assert_eq!(
        audio_fx(&ok(&mut s, sent[1].0)),
        ["start s-1", "Mute(true) s-1"]
    );
}

#[test]
fn intercepting_while_listening_keeps_the_sound_and_opens_the_microphone() {
    let mut s = console();
    let (id, _, _) = req(&reduce(&mut s, key('l'), T0));
    ok(&mut s, id);
    reduce(&mut s, key('I'), T0);
    let (id, method, _) = req(&reduce(&mut s, key('y'), T0));
    assert_eq!(method, "Call.intercept");
    let snap = json!({"sessionId": "s-1", "type": "phone", "state": "talking", "direction": "inbound",
        "callIn": {"sessionId": "s-1", "type": "phone", "timeout": 30, "calleePhoneNumber": "400",
                   "protectedCaller": "138****1111", "serverType": "staffSeat"},
        "startedAt": T0 - 70_000, "acceptedAt": T0 - 60_000, "micMuted": false, "videoMuted": false});
    let fx = reduce(
        &mut s,
        Action::Response {
            id,
            result: Ok(Some(snap)),
        },
        T0 + 1,
    );
    // Same session, same audio: only the microphone opens.
    assert_eq!(audio_fx(&fx), ["Mute(false) s-1"]);
    assert!(s.audio.calls.contains_key("s-1"));
}
