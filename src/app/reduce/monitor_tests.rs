//! The reducer's coach and barge: the console's keys switch an audio
//! monitor between listening, coaching and barging in on the same audio
//! (the microphone opens and shuts, nothing is negotiated again); and the
//! agent's sessions carry who monitors them and how (`monitoredBy`).

use serde_json::json;

use super::board_tests::{audio_fx, board, console, login, ok};
use crate::app::action::Action;
use crate::app::reduce::reduce;
use crate::app::reduce_tests::{code, key, req, reqs, talking};
use crate::app::state::{AudioSetting, State};
use crate::protocol::*;
use crossterm::event::KeyCode;

const T0: u64 = 1_700_000_000_000;

fn info(s: &State) -> &str {
    s.info.as_ref().map_or("", |i| i.text.as_str())
}

fn mode(s: &State, id: &str) -> Option<MonitorMode> {
    board(s).watch(id).map(|w| w.mode)
}

/// Press `c` on the console and let the server agree: the request's
/// params and the audio effects of the answer.
fn switch(s: &mut State, c: char) -> (serde_json::Value, Vec<String>) {
    let fx = reduce(s, key(c), T0);
    assert!(audio_fx(&fx).is_empty(), "nothing moves before the answer");
    let (id, method, params) = req(&fx);
    assert_eq!(method, "Call.monitor");
    (params, audio_fx(&ok(s, id)))
}

// ---------------------------------------------------------------- the console

#[test]
fn coach_and_barge_switch_on_the_live_audio() {
    let mut s = console();
    let (params, fx) = switch(&mut s, 'l');
    assert_eq!(params, json!({"sessionId": "s-1", "textOnly": false}));
    assert_eq!(fx, ["start s-1", "Mute(true) s-1"]);
    // W coaches: the same audio, the microphone opens.
    let (params, fx) = switch(&mut s, 'W');
    assert_eq!(
        params,
        json!({"sessionId": "s-1", "textOnly": false, "mode": "coach"})
    );
    assert_eq!(fx, ["Mute(false) s-1"]);
    assert_eq!(mode(&s, "s-1"), Some(MonitorMode::Coach));
    // B barges in: still the same audio, the microphone already open.
    let (params, fx) = switch(&mut s, 'B');
    assert_eq!(
        params,
        json!({"sessionId": "s-1", "textOnly": false, "mode": "barge"})
    );
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(mode(&s, "s-1"), Some(MonitorMode::Barge));
    // B again: back to listening, the microphone shut.
    let (params, fx) = switch(&mut s, 'B');
    assert_eq!(params, json!({"sessionId": "s-1", "textOnly": false}));
    assert_eq!(fx, ["Mute(true) s-1"]);
    assert_eq!(mode(&s, "s-1"), Some(MonitorMode::Listen));
    // W, then l: back to listening too (not to text).
    switch(&mut s, 'W');
    let (params, fx) = switch(&mut s, 'l');
    assert_eq!(params, json!({"sessionId": "s-1", "textOnly": false}));
    assert_eq!(fx, ["Mute(true) s-1"]);
    // W twice: coaching, then listening.
    switch(&mut s, 'W');
    let (params, _) = switch(&mut s, 'W');
    assert_eq!(params, json!({"sessionId": "s-1", "textOnly": false}));
    // l while listening: text only, and the sound stops at once.
    let fx = reduce(&mut s, key('l'), T0);
    assert_eq!(audio_fx(&fx), ["stop s-1"]);
    assert_eq!(board(&s).watches.len(), 1, "one panel throughout");
}

#[test]
fn coaching_a_session_not_monitored_yet_opens_its_panel_with_the_microphone_open() {
    let mut s = console();
    let (params, fx) = switch(&mut s, 'W');
    assert_eq!(
        params,
        json!({"sessionId": "s-1", "textOnly": false, "mode": "coach"})
    );
    assert_eq!(fx, ["start s-1"], "the audio task starts unmuted");
    let w = &board(&s).watches[0];
    assert!(w.confirmed && w.audio());
    // Barging into another session turns this one back to text.
    reduce(&mut s, code(KeyCode::Down), T0);
    let fx = reduce(&mut s, key('B'), T0);
    let params: Vec<serde_json::Value> = reqs(&fx).into_iter().map(|(_, _, p)| p).collect();
    assert_eq!(
        params,
        [
            json!({"sessionId": "s-1", "textOnly": true}),
            json!({"sessionId": "s-2", "textOnly": false, "mode": "barge"}),
        ]
    );
    assert_eq!(audio_fx(&fx), ["stop s-1"]);
}

#[test]
fn a_refused_switch_keeps_listening() {
    let mut s = console();
    switch(&mut s, 'l');
    let (id, _, _) = req(&reduce(&mut s, key('B'), T0));
    let e = ProtoError::invalid_state("session s-1 is not in progress");
    let fx = reduce(&mut s, Action::Response { id, result: Err(e) }, T0);
    assert!(audio_fx(&fx).is_empty());
    assert_eq!(mode(&s, "s-1"), Some(MonitorMode::Listen));
    assert!(s
        .errors
        .back()
        .is_some_and(|e| e.text.contains("not in progress")));
}

#[test]
fn coach_and_barge_need_audio_and_a_voice_session() {
    let mut s = console();
    s.audio.setting = AudioSetting::Off;
    for c in ['W', 'B'] {
        assert!(reqs(&reduce(&mut s, key(c), T0)).is_empty());
        assert!(info(&s).contains("audio is off"), "{c}");
    }
    s.audio.setting = AudioSetting::Null;
    let d: WallboardDelta = serde_json::from_value(json!({
        "sessions": [{"sessionId": "s-4", "type": "im", "state": "talking", "direction": "inbound",
                      "userId": "carol", "startedAt": T0, "acceptedAt": T0, "caller": "Mia"}]
    }))
    .expect("delta");
    reduce(&mut s, Action::Server(Event::Wallboard(d)), T0);
    for _ in 0..3 {
        reduce(&mut s, code(KeyCode::Down), T0);
    }
    for c in ['W', 'B'] {
        assert!(reqs(&reduce(&mut s, key(c), T0)).is_empty());
        assert_eq!(info(&s), "session s-4 is a chat: it has no sound", "{c}");
    }
}

#[test]
fn a_reconnect_resumes_coaching() {
    let mut s = console();
    switch(&mut s, 'W');
    let fx = reduce(&mut s, Action::LoggedIn(login("admin")), T0);
    assert_eq!(audio_fx(&fx), ["stop s-1"]);
    let sent = reqs(&fx);
    assert_eq!(
        sent[1].2,
        json!({"sessionId": "s-1", "textOnly": false, "mode": "coach"})
    );
    assert_eq!(audio_fx(&ok(&mut s, sent[1].0)), ["start s-1"]);
}

// ---------------------------------------------------------------- the agent

fn updated(s: &State, id: &str, f: impl FnOnce(&mut SessionSnapshot)) -> Action {
    let x = s.session(id).expect("the session");
    let mut snap = SessionSnapshot {
        audio_running: false,
        session_id: x.id.clone(),
        kind: x.kind,
        state: SessionState::Talking,
        direction: x.direction,
        call_in: x.call_in.clone(),
        started_at: x.started_at,
        accepted_at: x.accepted_at,
        ended_at: None,
        mic_muted: false,
        video_muted: false,
        close_by: None,
        messages: Vec::new(),
        consult: None,
        recording_paused: false,
        monitored_by: Vec::new(),
    };
    f(&mut snap);
    Action::Server(Event::SessionUpdated(snap))
}

fn by(user: &str, mode: MonitorMode) -> MonitorInfo {
    MonitorInfo {
        user_id: user.into(),
        mode,
    }
}

#[test]
fn the_agent_knows_who_monitors_and_how() {
    let mut s = talking(CallType::Phone);
    assert!(s.monitored_by().is_empty());
    for m in [
        MonitorMode::Text,
        MonitorMode::Listen,
        MonitorMode::Coach,
        MonitorMode::Barge,
    ] {
        let ev = updated(&s, "s-1", |x| x.monitored_by = vec![by("sam", m)]);
        reduce(&mut s, ev, T0 + 2_000);
        assert_eq!(s.monitored_by(), [by("sam", m)]);
    }
    let ev = updated(&s, "s-1", |x| {
        x.monitored_by = vec![by("sam", MonitorMode::Coach), by("ivy", MonitorMode::Text)]
    });
    reduce(&mut s, ev, T0 + 3_000);
    assert_eq!(
        s.monitored_by(),
        [by("sam", MonitorMode::Coach), by("ivy", MonitorMode::Text)]
    );
    // Stopped: nobody.
    let ev = updated(&s, "s-1", |x| x.monitored_by = Vec::new());
    reduce(&mut s, ev, T0 + 4_000);
    assert!(s.monitored_by().is_empty());
}

#[test]
fn a_supervisor_on_two_sessions_counts_once_and_ended_sessions_not_at_all() {
    let mut s = talking(CallType::Im);
    reduce(
        &mut s,
        crate::app::reduce_tests::call_in("s-2", CallType::Im),
        T0,
    );
    reduce(
        &mut s,
        Action::Server(Event::UserAccessed {
            session_id: "s-2".into(),
            tab_uuid: None,
        }),
        T0,
    );
    let ev = updated(&s, "s-1", |x| {
        x.monitored_by = vec![by("sam", MonitorMode::Text)]
    });
    reduce(&mut s, ev, T0);
    let ev = updated(&s, "s-2", |x| {
        x.monitored_by = vec![by("sam", MonitorMode::Text), by("ivy", MonitorMode::Text)]
    });
    reduce(&mut s, ev, T0);
    assert_eq!(
        s.monitored_by(),
        [by("sam", MonitorMode::Text), by("ivy", MonitorMode::Text)]
    );
    let ended = SessionEnded {
        session_id: "s-2".into(),
        close_by: CloseBy::Client,
        main_reason: None,
        sub_reason: None,
    };
    reduce(&mut s, Action::Server(Event::SessionEnded(ended)), T0);
    assert_eq!(s.monitored_by(), [by("sam", MonitorMode::Text)]);
}
