//! The reducer's requests for help: the agent's key, its dialog and the
//! request, "help asked" until a supervisor acknowledges it, then who is
//! coming; in the console, the bell and the flag of `helpRequested`, and
//! the answer key that acknowledges the request and listens to the call.

use crossterm::event::KeyCode;
use serde_json::json;

use super::board_tests::{audio_fx, board, console, ok as answered};
use super::help::COMING_MS;
use crate::app::action::{Action, Effect};
use crate::app::board::BoardPane;
use crate::app::reduce::{next_tick, reduce};
use crate::app::reduce_tests::{code, key, ok, req, reqs, state, talking};
use crate::app::state::{AudioSetting, Dialog, Help, State};
use crate::protocol::*;

const T0: u64 = 1_700_000_000_000;

fn typed(s: &mut State, text: &str, at: u64) {
    for c in text.chars() {
        reduce(s, key(c), at);
    }
}

fn info(s: &State) -> &str {
    s.info.as_ref().map_or("", |i| i.text.as_str())
}

fn acknowledged(user: &str, by: &str) -> Action {
    Action::Server(Event::HelpAcknowledged {
        user_id: user.into(),
        by: by.into(),
    })
}

/// alice's call s-1 as the server shows it, monitored by `by`.
fn monitored(s: &State, by: &[(&str, MonitorMode)]) -> Action {
    let x = s.session("s-1").expect("the call");
    Action::Server(Event::SessionUpdated(SessionSnapshot {
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
        monitored_by: by
            .iter()
            .map(|(u, m)| MonitorInfo {
                user_id: u.to_string(),
                mode: *m,
            })
            .collect(),
    }))
}

// ---------------------------------------------------------------- the agent

#[test]
fn the_help_key_asks_about_the_selected_call_with_a_note() {
    let mut s = talking(CallType::Phone);
    let fx = reduce(&mut s, key('!'), T0 + 2_000);
    assert!(reqs(&fx).is_empty(), "the dialog first");
    assert_eq!(
        s.dialog,
        Some(Dialog::AskHelp {
            session_id: Some("s-1".into()),
            text: String::new()
        })
    );
    // Letters are the note's, not keys: q does not quit, a does not accept.
    typed(&mut s, "a refund over my limit ", T0 + 3_000);
    let fx = reduce(&mut s, code(KeyCode::Enter), T0 + 4_000);
    let (id, method, params) = req(&fx);
    assert_eq!(method, "Agent.requestHelp");
    assert_eq!(
        params,
        json!({"sessionId": "s-1", "text": "a refund over my limit"})
    );
    assert_eq!(s.dialog, None);
    assert_eq!(
        s.help,
        Some(Help::Asked {
            at: T0 + 4_000,
            session_id: Some("s-1".into())
        })
    );
    ok(&mut s, id, None);
    assert!(matches!(s.help, Some(Help::Asked { .. })));
    // "help asked" counts the seconds.
    assert_eq!(next_tick(&s, T0 + 4_500), T0 + 5_000);
}

#[test]
fn enter_asks_without_a_note_and_without_a_call_about_nothing() {
    let mut s = talking(CallType::Phone);
    reduce(&mut s, key('!'), T0 + 2_000);
    let (_, _, params) = req(&reduce(&mut s, code(KeyCode::Enter), T0 + 2_000));
    assert_eq!(params, json!({"sessionId": "s-1"}));
    let mut s = state();
    reduce(&mut s, key('!'), T0);
    assert_eq!(
        s.dialog,
        Some(Dialog::AskHelp {
            session_id: None,
            text: String::new()
        })
    );
    let (_, _, params) = req(&reduce(&mut s, code(KeyCode::Enter), T0));
    assert_eq!(params, json!({}));
}

#[test]
fn esc_leaves_the_dialog_without_asking() {
    let mut s = talking(CallType::Phone);
    reduce(&mut s, key('!'), T0 + 2_000);
    typed(&mut s, "never mind", T0 + 2_000);
    let fx = reduce(&mut s, code(KeyCode::Esc), T0 + 2_000);
    assert!(reqs(&fx).is_empty());
    assert_eq!((s.dialog.clone(), s.help.clone()), (None, None));
}

#[test]
fn a_refused_request_is_taken_back_with_the_reason() {
    let mut s = talking(CallType::Phone);
    reduce(&mut s, key('!'), T0 + 2_000);
    let (id, _, _) = req(&reduce(&mut s, code(KeyCode::Enter), T0 + 2_000));
    let e = ProtoError::bad_request("Agent.requestHelp: parameter `text` is too long");
    reduce(&mut s, Action::Response { id, result: Err(e) }, T0 + 2_100);
    assert_eq!(s.help, None);
    assert!(s
        .errors
        .back()
        .is_some_and(|e| e.text.starts_with("Agent.requestHelp: ")));
}

#[test]
fn an_acknowledgement_says_who_is_coming_until_they_monitor_the_call() {
    let mut s = talking(CallType::Phone);
    reduce(&mut s, key('!'), T0 + 2_000);
    let (id, _, _) = req(&reduce(&mut s, code(KeyCode::Enter), T0 + 2_000));
    ok(&mut s, id, None);
    // Another agent's request is not this one.
    reduce(&mut s, acknowledged("bob", "sam"), T0 + 3_000);
    assert!(matches!(s.help, Some(Help::Asked { .. })));
    reduce(&mut s, acknowledged("alice", "sam"), T0 + 5_000);
    assert_eq!(
        s.help,
        Some(Help::Coming {
            by: "sam".into(),
            at: T0 + 5_000
        })
    );
    assert_eq!(info(&s), "sam is coming to help");
    // Another supervisor reading along is not sam.
    let ev = monitored(&s, &[("ivy", MonitorMode::Text)]);
    reduce(&mut s, ev, T0 + 6_000);
    assert!(matches!(s.help, Some(Help::Coming { .. })));
    // sam listens: the status pane says so instead.
    let ev = monitored(
        &s,
        &[("ivy", MonitorMode::Text), ("sam", MonitorMode::Listen)],
    );
    reduce(&mut s, ev, T0 + 7_000);
    assert_eq!(s.help, None);
}

#[test]
fn who_is_coming_is_forgotten_after_a_while() {
    let mut s = talking(CallType::Phone);
    reduce(&mut s, acknowledged("alice", "sam"), T0 + 5_000);
    reduce(&mut s, Action::Tick, T0 + 5_000 + COMING_MS);
    assert!(s.help.is_some());
    reduce(&mut s, Action::Tick, T0 + 6_000 + COMING_MS);
    assert_eq!(s.help, None);
}

// ---------------------------------------------------------------- the console

fn asks(user: &str, session: Option<&str>, text: Option<&str>, at: u64) -> Action {
    Action::Server(Event::HelpRequested {
        user_id: user.into(),
        request: HelpRequest {
            session_id: session.map(str::to_string),
            text: text.map(str::to_string),
            at,
        },
    })
}

fn flag(s: &State, user: &str) -> Option<HelpRequest> {
    board(s)
        .wall
        .agents
        .iter()
        .find(|a| a.user_id == user)
        .and_then(|a| a.help.clone())
}

#[test]
fn a_request_rings_in_the_console_and_flags_the_agent() {
    let mut s = console();
    let fx = reduce(
        &mut s,
        asks("alice", Some("s-1"), Some("a refund over my limit"), T0),
        T0,
    );
    assert!(fx.contains(&Effect::Bell));
    assert!(fx.contains(&Effect::Notify {
        title: "ccdesk: alice asks for help".into(),
        body: "a refund over my limit".into()
    }));
    assert_eq!(
        flag(&s, "alice").and_then(|h| h.text),
        Some("a refund over my limit".into())
    );
    assert_eq!(
        info(&s),
        "alice asks for help with 138****1111: \"a refund over my limit\" (A answers)"
    );
    let asking: Vec<&str> = board(&s)
        .asking()
        .iter()
        .map(|a| a.user_id.as_str())
        .collect();
    assert_eq!(asking, ["alice"]);
    // Quiet when the settings say so.
    s.settings.disable_ringtone = true;
    s.settings.disable_notification = true;
    let fx = reduce(&mut s, asks("bob", None, None, T0 + 1), T0 + 1);
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(info(&s), "bob asks for help (A answers)");
    assert_eq!(board(&s).asking().len(), 2);
}

#[test]
fn the_answer_key_acknowledges_and_listens_to_the_call() {
    let mut s = console();
    reduce(&mut s, asks("alice", Some("s-1"), None, T0), T0);
    // The cursor is elsewhere: the request is found all the same.
    reduce(&mut s, code(KeyCode::Down), T0);
    let fx = reduce(&mut s, key('A'), T0 + 1_000);
    let sent: Vec<(&str, serde_json::Value)> =
        reqs(&fx).into_iter().map(|(_, m, p)| (m, p)).collect();
    assert_eq!(
        sent,
        [
            ("Supervisor.ackHelp", json!({"userId": "alice"})),
            (
                "Call.monitor",
                json!({"sessionId": "s-1", "textOnly": false})
            ),
        ]
    );
    let b = board(&s);
    assert_eq!(b.agent.as_deref(), Some("alice"));
    assert_eq!(b.session.as_deref(), Some("s-1"));
    assert_eq!((b.pane, b.watch), (BoardPane::Monitors, 0));
    assert_eq!(b.watches[0].session.id, "s-1");
    assert_eq!(
        info(&s),
        "alice's request acknowledged; listening to alice's call with 138****1111"
    );
    // The server agrees: the sound starts, receive-only.
    let ids: Vec<u64> = reqs(&fx).into_iter().map(|(id, _, _)| id).collect();
    answered(&mut s, ids[0]);
    let fx = answered(&mut s, ids[1]);
    assert_eq!(audio_fx(&fx), ["start s-1", "Mute(true) s-1"]);
    assert_eq!(board(&s).watches[0].mode, MonitorMode::Listen);
    // Everyone is told; the flag goes.
    reduce(&mut s, acknowledged("alice", "sam"), T0 + 1_100);
    assert_eq!(flag(&s, "alice"), None);
    assert!(board(&s).asking().is_empty());
}

#[test]
fn the_answer_key_prefers_the_selected_agent_and_keeps_a_louder_monitor() {
    let mut s = console();
    // bob asked first, alice second; alice is selected in the agents pane.
    reduce(&mut s, asks("bob", Some("s-2"), None, T0), T0);
    reduce(&mut s, asks("alice", None, None, T0 + 1), T0 + 1);
    // sam already coaches alice's call (s-1): answering keeps that.
    let (id, _, _) = req(&reduce(&mut s, key('W'), T0));
    answered(&mut s, id);
    // Tab round to the agents pane, where alice is selected.
    reduce(&mut s, code(KeyCode::Tab), T0);
    reduce(&mut s, code(KeyCode::Tab), T0);
    assert_eq!(board(&s).pane, BoardPane::Agents);
    assert_eq!(board(&s).agent.as_deref(), Some("alice"));
    let fx = reduce(&mut s, key('A'), T0 + 2);
    let (_, method, params) = req(&fx);
    assert_eq!(method, "Supervisor.ackHelp");
    assert_eq!(params, json!({"userId": "alice"}), "the selected agent");
    assert_eq!(board(&s).watches[0].mode, MonitorMode::Coach);
    assert_eq!(
        info(&s),
        "alice's request acknowledged; coaching alice's call with 138****1111"
    );
    // Then bob, the one left; his call is held, and heard all the same.
    reduce(&mut s, acknowledged("alice", "sam"), T0 + 3);
    let fx = reduce(&mut s, key('A'), T0 + 4);
    let sent: Vec<(&str, serde_json::Value)> =
        reqs(&fx).into_iter().map(|(_, m, p)| (m, p)).collect();
    assert_eq!(
        sent,
        [
            ("Supervisor.ackHelp", json!({"userId": "bob"})),
            // One audio monitor at a time: alice's call goes back to text.
            (
                "Call.monitor",
                json!({"sessionId": "s-1", "textOnly": true})
            ),
            (
                "Call.monitor",
                json!({"sessionId": "s-2", "textOnly": false})
            ),
        ]
    );
}

#[test]
fn an_agent_in_no_call_is_acknowledged_and_a_console_without_audio_reads_along() {
    let mut s = console();
    reduce(
        &mut s,
        asks("carol", None, Some("how do I refund?"), T0),
        T0,
    );
    let fx = reduce(&mut s, key('A'), T0);
    let (_, method, params) = req(&fx);
    assert_eq!(method, "Supervisor.ackHelp");
    assert_eq!(params, json!({"userId": "carol"}));
    assert!(board(&s).watches.is_empty());
    assert_eq!(board(&s).pane, BoardPane::Agents);
    assert_eq!(
        info(&s),
        "carol's request acknowledged; carol is in no call to listen to"
    );
    // With audio off the call is monitored as text.
    let mut s = console();
    s.audio.setting = AudioSetting::Off;
    reduce(&mut s, asks("alice", Some("s-1"), None, T0), T0);
    let fx = reduce(&mut s, key('A'), T0);
    let params: Vec<serde_json::Value> = reqs(&fx).into_iter().map(|(_, _, p)| p).collect();
    assert_eq!(params[1], json!({"sessionId": "s-1", "textOnly": true}));
    assert_eq!(
        info(&s),
        "alice's request acknowledged; monitoring alice's call with 138****1111"
    );
}

#[test]
fn nobody_asking_is_said_and_another_supervisor_answering_is_told() {
    let mut s = console();
    let fx = reduce(&mut s, key('A'), T0);
    assert!(reqs(&fx).is_empty());
    assert_eq!(info(&s), "nobody is asking for help");
    reduce(&mut s, asks("alice", Some("s-1"), None, T0), T0);
    reduce(&mut s, acknowledged("alice", "ivy"), T0 + 1);
    assert_eq!(flag(&s, "alice"), None);
    assert_eq!(info(&s), "ivy answers alice's call for help");
}
