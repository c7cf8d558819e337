//! Reducer tests: an action in, state and effects out, for every event and
//! every key.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

use super::action::{Action, Effect};
use super::keymap::Keymap;
use super::reduce::{next_tick, reduce, EXIT_KICKED_OUT, EXIT_REFUSED, EXIT_TOKEN_EXPIRED};
use super::state::*;
use crate::protocol::*;

const T0: u64 = 1_700_000_000_000;

pub(crate) fn state() -> State {
    let mut s = State::new("ws://test/ws".into(), "alice".into(), Keymap::default(), T0);
    let fx = reduce(&mut s, Action::LoggedIn(login(vec![])), T0);
    assert!(fx.is_empty());
    s
}

pub(crate) fn login(sessions: Vec<SessionSnapshot>) -> LoginResult {
    LoginResult {
        tab_uuid: "tab-1".into(),
        user_id: "alice".into(),
        role: "agent".into(),
        status: "free".into(),
        rest_reason: None,
        skill_groups: vec!["support".into(), "sales".into()],
        sessions,
        seat: None,
        after_call_work: None,
        token: None,
        token_expires_at: None,
    }
}

pub(crate) fn key(c: char) -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

/// The status bar's line now ("" when none).
pub(crate) fn info_text(s: &State) -> &str {
    s.info.as_ref().map_or("", |i| i.text.as_str())
}

pub(crate) fn code(c: KeyCode) -> Action {
    Action::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

pub(crate) fn call_in(id: &str, kind: CallType) -> Action {
    Action::Server(Event::CallIn(CallIn {
        session_id: id.into(),
        kind,
        timeout: 30,
        caller_phone_number: Some("13800000000".into()),
        protected_caller: Some("138****0000".into()),
        nickname: Some("Ann".into()),
        ..CallIn::default()
    }))
}

fn ev(e: Event) -> Action {
    Action::Server(e)
}

/// The requests among the effects: (id, method, params).
pub(crate) fn reqs(fx: &[Effect]) -> Vec<(u64, &'static str, serde_json::Value)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Request { id, method, params } => Some((*id, *method, params.clone())),
            _ => None,
        })
        .collect()
}

/// Subscribing to the directory follows the dialogs by itself; it is not
/// what a key asked for.
fn background(method: &str) -> bool {
    matches!(
        method,
        "Agent.subscribeDirectory" | "Agent.unsubscribeDirectory"
    )
}

/// The one request among the effects (the directory's aside): (id,
/// method, params).
pub(crate) fn req(fx: &[Effect]) -> (u64, &'static str, serde_json::Value) {
    let reqs: Vec<_> = reqs(fx).into_iter().filter(|r| !background(r.1)).collect();
    assert_eq!(reqs.len(), 1, "expected one request in {fx:?}");
    reqs[0].clone()
}

pub(crate) fn ok(s: &mut State, id: u64, data: Option<serde_json::Value>) -> Vec<Effect> {
    reduce(
        s,
        Action::Response {
            id,
            result: Ok(data),
        },
        T0 + 10,
    )
}

pub(crate) fn talking(kind: CallType) -> State {
    let mut s = state();
    reduce(&mut s, call_in("s-1", kind), T0);
    reduce(
        &mut s,
        ev(Event::UserAccessed {
            session_id: "s-1".into(),
            tab_uuid: Some("tab-1".into()),
        }),
        T0 + 1_000,
    );
    s
}

#[test]
fn login_fills_who_and_status_and_goes_online() {
    let s = state();
    assert_eq!(s.me.tab_uuid.as_deref(), Some("tab-1"));
    assert_eq!(s.me.skill_groups, vec!["support", "sales"]);
    assert_eq!(s.status, Some(AgentStatus::Free));
    assert_eq!(s.link, Link::Online { since: T0 });
    assert!(s.dirty);
}

#[test]
fn call_in_rings_with_bell_and_notification_and_countdown() {
    let mut s = state();
    let fx = reduce(&mut s, call_in("s-1", CallType::Phone), T0);
    assert!(fx.contains(&Effect::Bell));
    assert!(fx.contains(&Effect::Notify {
        title: "ccdesk: phone call".into(),
        body: "Ann 138****0000".into()
    }));
    let sess = s.session("s-1").expect("session");
    assert_eq!(sess.phase, Phase::Ringing);
    assert_eq!(sess.ring_deadline, Some(T0 + 30_000));
    assert_eq!(s.selected.as_deref(), Some("s-1"));
}

#[test]
fn settings_silence_the_ringtone_and_the_notification() {
    let mut s = state();
    s.settings.disable_ringtone = true;
    s.settings.disable_notification = true;
    let fx = reduce(&mut s, call_in("s-1", CallType::Phone), T0);
    // No bell, no notification: only the caller's history is asked for.
    assert_eq!(
        reqs(&fx).iter().map(|r| r.1).collect::<Vec<_>>(),
        ["Contact.history"],
        "{fx:?}"
    );
    assert_eq!(fx.len(), 1, "{fx:?}");
}

#[test]
fn every_call_type_is_accepted_with_its_namespace() {
    for (kind, method) in [
        (CallType::Phone, "Call.accept"),
        (CallType::Voip, "Call.accept"),
        (CallType::Internal, "Call.accept"),
        (CallType::Im, "Chat.accept"),
        (CallType::Video, "Video.accept"),
    ] {
        let mut s = state();
        reduce(&mut s, call_in("s-1", kind), T0);
        let fx = reduce(&mut s, key('a'), T0 + 500);
        let (_, m, p) = req(&fx);
        assert_eq!((m, p), (method, json!({"sessionId": "s-1"})), "{kind:?}");
        let accepts = s
            .pending
            .values()
            .filter(|p| p.method.ends_with(".accept"))
            .count();
        assert_eq!(accepts, 1);
    }
}

#[test]
fn accept_without_an_offer_says_so() {
    let mut s = state();
    let fx = reduce(&mut s, key('a'), T0);
    assert!(fx.is_empty());
    assert_eq!(
        s.info.as_ref().map(|n| n.text.as_str()),
        Some("nothing is ringing")
    );
}

#[test]
fn user_accessed_starts_the_call_timer() {
    let s = talking(CallType::Phone);
    let sess = s.session("s-1").expect("session");
    assert_eq!(sess.phase, Phase::Talking);
    assert_eq!(sess.accepted_at, Some(T0 + 1_000));
    assert_eq!(sess.ring_deadline, None);
}

#[test]
fn accepting_clears_the_ring_notice_but_not_other_notes() {
    let mut s = state();
    reduce(&mut s, call_in("s-1", CallType::Phone), T0);
    assert!(s
        .info
        .as_ref()
        .is_some_and(|n| n.text.contains("a accepts")));
    reduce(&mut s, Action::Note("autopilot presses a".into()), T0);
    reduce(
        &mut s,
        ev(Event::UserAccessed {
            session_id: "s-1".into(),
            tab_uuid: Some("tab-1".into()),
        }),
        T0,
    );
    assert_eq!(
        s.info.as_ref().map(|n| n.text.as_str()),
        Some("autopilot presses a")
    );
    reduce(&mut s, call_in("s-2", CallType::Phone), T0);
    reduce(
        &mut s,
        ev(Event::UserAccessed {
            session_id: "s-2".into(),
            tab_uuid: Some("tab-1".into()),
        }),
        T0,
    );
    assert_eq!(
        s.info, None,
        "the ring notice goes once the call is accepted"
    );
}

#[test]
fn user_accessed_in_another_tab_is_reported() {
    let mut s = state();
    reduce(&mut s, call_in("s-1", CallType::Phone), T0);
    reduce(
        &mut s,
        ev(Event::UserAccessed {
            session_id: "s-1".into(),
            tab_uuid: Some("tab-2".into()),
        }),
        T0,
    );
    assert!(s
        .info
        .as_ref()
        .is_some_and(|n| n.text.contains("another tab")));
}

#[test]
fn hang_up_uses_the_right_method_for_each_phase_and_type() {
    let mut s = state();
    reduce(&mut s, call_in("s-1", CallType::Im), T0);
    assert_eq!(
        req(&reduce(&mut s, key('h'), T0)).1,
        "Call.hungUp",
        "declining an offer"
    );
    for (kind, method) in [
        (CallType::Phone, "Call.hungUp"),
        (CallType::Im, "Chat.end"),
        (CallType::Video, "Video.end"),
    ] {
        let mut s = talking(kind);
        assert_eq!(req(&reduce(&mut s, key('h'), T0)).1, method, "{kind:?}");
    }
}

#[test]
fn hold_toggles_by_phase_and_refuses_chats() {
    let mut s = talking(CallType::Phone);
    assert_eq!(req(&reduce(&mut s, key('o'), T0)).1, "Call.hold");
    let mut snap = snapshot("s-1", CallType::Phone, SessionState::Held);
    snap.accepted_at = Some(T0 + 1_000);
    reduce(&mut s, ev(Event::SessionUpdated(snap)), T0);
    assert_eq!(s.session("s-1").map(|x| x.phase), Some(Phase::Held));
    assert_eq!(req(&reduce(&mut s, key('o'), T0)).1, "Call.unHold");
    let mut c = talking(CallType::Im);
    assert!(reduce(&mut c, key('o'), T0).is_empty());
    assert!(c.info.is_some());
}

#[test]
fn mute_and_camera_use_the_session_namespace() {
    let mut s = talking(CallType::Phone);
    assert_eq!(req(&reduce(&mut s, key('m'), T0)).1, "Call.muteMic");
    s.session_mut("s-1").expect("s").mic_muted = true;
    assert_eq!(req(&reduce(&mut s, key('m'), T0)).1, "Call.unmuteMic");
    assert!(
        reduce(&mut s, key('v'), T0).is_empty(),
        "no camera on a phone call"
    );
    let mut v = talking(CallType::Video);
    assert_eq!(req(&reduce(&mut v, key('m'), T0)).1, "Video.muteMic");
    assert_eq!(req(&reduce(&mut v, key('v'), T0)).1, "Video.muteVideo");
    v.session_mut("s-1").expect("s").video_muted = true;
    assert_eq!(req(&reduce(&mut v, key('v'), T0)).1, "Video.unmuteVideo");
}

#[test]
fn transfer_dialog_picks_groups_or_types_an_agent() {
    let mut s = talking(CallType::Phone);
    reduce(&mut s, key('t'), T0);
    assert!(matches!(s.dialog, Some(Dialog::Transfer { .. })));
    reduce(&mut s, code(KeyCode::Down), T0);
    reduce(&mut s, code(KeyCode::Down), T0);
    match &s.dialog {
        Some(Dialog::Transfer { input, .. }) => assert_eq!(input, "sales"),
        d => panic!("{d:?}"),
    }
    let (_, m, p) = req(&reduce(&mut s, code(KeyCode::Enter), T0));
    assert_eq!(
        (m, p),
        (
            "Call.transfer",
            json!({"sessionId": "s-1", "skillGroupId": "sales"})
        )
    );
    assert_eq!(s.dialog, None);

    let mut s = talking(CallType::Video);
    reduce(&mut s, key('t'), T0);
    reduce(&mut s, code(KeyCode::Tab), T0);
    for c in "bob".chars() {
        reduce(&mut s, key(c), T0);
    }
    let (_, m, p) = req(&reduce(&mut s, code(KeyCode::Enter), T0));
    assert_eq!(
        (m, p),
        (
            "Video.transfer",
            json!({"sessionId": "s-1", "userId": "bob"})
        )
    );

    let mut s = talking(CallType::Im);
    reduce(&mut s, key('t'), T0);
    reduce(&mut s, code(KeyCode::Down), T0);
    assert_eq!(
        req(&reduce(&mut s, code(KeyCode::Enter), T0)).1,
        "Chat.transfer"
    );
}

#[test]
fn escape_closes_a_dialog_without_sending() {
    let mut s = talking(CallType::Phone);
    reduce(&mut s, key('t'), T0);
    let fx = reduce(&mut s, code(KeyCode::Esc), T0);
    // Only the directory's subscription ends.
    let sent: Vec<&str> = reqs(&fx).iter().map(|r| r.1).collect();
    assert_eq!(sent, ["Agent.unsubscribeDirectory"], "{fx:?}");
    assert_eq!(s.dialog, None);
}

#[test]
fn dtmf_pad_sends_each_digit_as_typed() {
    let mut s = talking(CallType::Phone);
    reduce(&mut s, key('d'), T0);
    let mut sent = Vec::new();
    for c in "12#*9x".chars() {
        let fx = reduce(&mut s, key(c), T0);
        if c != 'x' {
            let (_, m, p) = req(&fx);
            assert_eq!(m, "Call.sendDigits");
            sent.push(p["dtmfText"].as_str().unwrap_or_default().to_string());
        } else {
            assert!(fx.is_empty(), "x is not a DTMF digit");
        }
    }
    assert_eq!(sent.concat(), "12#*9");
    assert_eq!(s.session("s-1").map(|x| x.digits.as_str()), Some("12#*9"));
    reduce(&mut s, code(KeyCode::Enter), T0);
    assert_eq!(s.dialog, None);
}

#[test]
fn call_out_dials_and_the_answer_creates_the_session() {
    let mut s = state();
    reduce(&mut s, key('c'), T0);
    for c in "5551234x".chars() {
        reduce(&mut s, key(c), T0);
    }
    let (id, m, p) = req(&reduce(&mut s, code(KeyCode::Enter), T0));
    assert_eq!(
        (m, p),
        ("Call.startOutboundCall", json!({"phoneNumber": "5551234"}))
    );
    ok(
        &mut s,
        id,
        Some(json!({"sessionId": "s-9", "calleePhoneNumber": "5551234",
                    "callerPhoneNumber": "4000", "serverType": "staffSeat"})),
    );
    let sess = s.session("s-9").expect("created from the CallResponse");
    assert_eq!(
        (sess.phase, sess.direction),
        (Phase::Dialing, Direction::Outbound)
    );
    assert_eq!(sess.peer(), "5551234");
    reduce(
        &mut s,
        ev(Event::CallOuted(CallOuted {
            session_id: "s-9".into(),
            caller_phone_number: "4000".into(),
            callee_phone_number: "5551234".into(),
            server_type: "staffSeat".into(),
            tab_uuid: None,
        })),
        T0,
    );
    assert_eq!(s.sessions.len(), 1, "callOuted does not duplicate it");
    reduce(
        &mut s,
        ev(Event::CalloutAccepted {
            session_id: "s-9".into(),
        }),
        T0 + 5_000,
    );
    let sess = s.session("s-9").expect("s");
    assert_eq!(
        (sess.phase, sess.accepted_at),
        (Phase::Talking, Some(T0 + 5_000))
    );
}

#[test]
fn internal_call_creates_a_dialing_session_from_the_answer() {
    let mut s = state();
    reduce(&mut s, key('i'), T0);
    for c in "bob".chars() {
        reduce(&mut s, key(c), T0);
    }
    let (id, m, p) = req(&reduce(&mut s, code(KeyCode::Enter), T0));
    assert_eq!(
        (m, p),
        ("Call.startInternalCall", json!({"calleeUserId": "bob"}))
    );
    ok(&mut s, id, Some(json!({"sessionId": "s-5"})));
    let sess = s.session("s-5").expect("created");
    assert_eq!(
        (sess.kind, sess.phase),
        (CallType::Internal, Phase::Dialing)
    );
    assert_eq!(sess.peer(), "bob");
}

#[test]
fn status_menu_sends_every_status() {
    let expect = [
        json!({"status": "free"}),
        json!(null), // rest opens the reason menu
        json!({"status": "arrange"}),
        json!({"status": "notReady"}),
        json!({"status": "stopNotReady"}),
    ];
    for (i, want) in expect.iter().enumerate() {
        let mut s = state();
        reduce(&mut s, key('s'), T0);
        for _ in 0..i {
            reduce(&mut s, code(KeyCode::Down), T0);
        }
        let fx = reduce(&mut s, code(KeyCode::Enter), T0);
        if want.is_null() {
            assert!(fx.is_empty());
            assert!(matches!(s.dialog, Some(Dialog::RestReason { cursor: 0 })));
            reduce(&mut s, code(KeyCode::Down), T0);
            let (_, m, p) = req(&reduce(&mut s, code(KeyCode::Enter), T0));
            assert_eq!(
                (m, p),
                (
                    "Agent.setStatus",
                    json!({"status": "rest", "restReason": "Meeting"})
                )
            );
        } else {
            let (_, m, p) = req(&fx);
            assert_eq!((m, &p), ("Agent.setStatus", want));
        }
    }
    for (downs, method) in [(5, "Agent.online"), (6, "Agent.offline")] {
        let mut s = state();
        reduce(&mut s, key('s'), T0);
        for _ in 0..downs {
            reduce(&mut s, code(KeyCode::Down), T0);
        }
        assert_eq!(req(&reduce(&mut s, code(KeyCode::Enter), T0)).1, method);
    }
}

#[test]
fn status_changed_resets_time_in_status() {
    let mut s = state();
    reduce(
        &mut s,
        ev(Event::StatusChanged {
            status: AgentStatus::Rest,
            rest_reason: Some("Meal".into()),
            after_call_work: None,
        }),
        T0 + 60_000,
    );
    assert_eq!(
        (s.status, s.rest_reason.as_deref()),
        (Some(AgentStatus::Rest), Some("Meal"))
    );
    assert_eq!(s.status_since, T0 + 60_000);
}

#[test]
fn session_ended_keeps_the_session_until_deleted() {
    let mut s = talking(CallType::Phone);
    reduce(
        &mut s,
        ev(Event::SessionEnded(SessionEnded {
            session_id: "s-1".into(),
            close_by: CloseBy::Client,
            main_reason: None,
            sub_reason: None,
        })),
        T0 + 9_000,
    );
    let sess = s.session("s-1").expect("kept");
    assert_eq!(
        (sess.phase, sess.close_by),
        (Phase::Ended, Some(CloseBy::Client))
    );
    let (id, m, _) = req(&reduce(&mut s, key('x'), T0));
    assert_eq!(m, "Call.deleteCall");
    assert!(
        s.session("s-1").is_some(),
        "removed only when the server agrees"
    );
    ok(&mut s, id, None);
    assert!(s.sessions.is_empty());
    assert_eq!(s.selected, None);
}

#[test]
fn delete_refuses_live_sessions_and_drops_local_ones_locally() {
    let mut s = talking(CallType::Phone);
    assert!(reduce(&mut s, key('x'), T0).is_empty());
    assert!(s.session("s-1").is_some());
    reduce(
        &mut s,
        ev(Event::Transfer {
            session_id: "s-1".into(),
        }),
        T0,
    );
    let sess = s.session("s-1").expect("kept as transferred");
    assert_eq!((sess.phase, sess.local_only), (Phase::Ended, true));
    assert!(
        reduce(&mut s, key('x'), T0).is_empty(),
        "no request for a local entry"
    );
    assert!(s.sessions.is_empty());
}

#[test]
fn auto_transfer_marks_a_missed_offer() {
    let mut s = state();
    reduce(&mut s, call_in("s-1", CallType::Phone), T0);
    reduce(
        &mut s,
        ev(Event::AutoTransfer {
            session_id: "s-1".into(),
        }),
        T0 + 30_000,
    );
    let sess = s.session("s-1").expect("kept");
    assert_eq!(sess.phase, Phase::Ended);
    assert!(sess.local_only);
    assert!(sess
        .note
        .as_deref()
        .is_some_and(|n| n.contains("passed on")));
}

#[test]
fn asr_partials_are_replaced_in_place_by_finals() {
    let mut s = talking(CallType::Phone);
    let asr = |flow, index, slice, text: &str| {
        ev(Event::Asr {
            session_id: "s-1".into(),
            flow,
            result: AsrResult {
                index,
                slice_type: slice,
                start_time: 0,
                end_time: 0,
                text: text.into(),
            },
        })
    };
    reduce(&mut s, asr(Flow::In, 0, 0, "my"), T0);
    reduce(&mut s, asr(Flow::Out, 0, 0, "hello"), T0);
    reduce(&mut s, asr(Flow::In, 0, 1, "my card"), T0);
    reduce(&mut s, asr(Flow::In, 0, 2, "my card is lost"), T0);
    let t = &s.session("s-1").expect("s").transcript;
    assert_eq!(t.len(), 2);
    assert_eq!(
        (t[0].flow, t[0].text.as_str(), t[0].is_final),
        (Flow::In, "my card is lost", true)
    );
    assert_eq!((t[1].flow, t[1].is_final), (Flow::Out, false));
}

#[test]
fn scrolling_back_holds_the_view_while_lines_arrive() {
    let mut s = talking(CallType::Phone);
    for i in 0..30 {
        reduce(
            &mut s,
            ev(Event::Asr {
                session_id: "s-1".into(),
                flow: Flow::In,
                result: AsrResult {
                    index: i,
                    slice_type: 2,
                    start_time: 0,
                    end_time: 0,
                    text: format!("line {i}"),
                },
            }),
            T0,
        );
    }
    reduce(&mut s, code(KeyCode::PageUp), T0);
    assert_eq!(s.session("s-1").map(|x| x.scroll), Some(10));
    reduce(
        &mut s,
        ev(Event::Asr {
            session_id: "s-1".into(),
            flow: Flow::Out,
            result: AsrResult {
                index: 0,
                slice_type: 0,
                start_time: 0,
                end_time: 0,
                text: "x".into(),
            },
        }),
        T0,
    );
    assert_eq!(s.session("s-1").map(|x| x.scroll), Some(11));
    reduce(&mut s, code(KeyCode::End), T0);
    assert_eq!(
        s.session("s-1").map(|x| x.scroll),
        Some(0),
        "End follows again"
    );
    reduce(&mut s, code(KeyCode::Tab), T0);
    assert_eq!(s.focus, Focus::Transcript);
    reduce(&mut s, code(KeyCode::Up), T0);
    assert_eq!(s.session("s-1").map(|x| x.scroll), Some(1));
}

#[test]
fn chat_input_sends_on_enter_and_restores_the_draft_on_error() {
    let mut s = talking(CallType::Im);
    reduce(&mut s, code(KeyCode::Enter), T0);
    assert!(s.typing);
    for c in "hi q".chars() {
        let fx = reduce(&mut s, key(c), T0);
        assert!(fx.is_empty(), "typing q does not quit");
    }
    let (id, m, p) = req(&reduce(&mut s, code(KeyCode::Enter), T0));
    assert_eq!(
        (m, p),
        (
            "Chat.sendMessage",
            json!({"sessionId": "s-1", "text": "hi q"})
        )
    );
    assert_eq!(s.session("s-1").map(|x| x.draft.as_str()), Some(""));
    reduce(
        &mut s,
        Action::Response {
            id,
            result: Err(ProtoError::new(
                ErrorCode::InvalidState,
                "session s-1 has ended",
            )),
        },
        T0,
    );
    assert_eq!(s.session("s-1").map(|x| x.draft.as_str()), Some("hi q"));
    assert_eq!(
        s.errors.back().map(|e| e.text.as_str()),
        Some("Chat.sendMessage: session s-1 has ended")
    );
    reduce(&mut s, code(KeyCode::Esc), T0);
    assert!(!s.typing);
}

#[test]
fn chat_messages_append_once() {
    let mut s = talking(CallType::Im);
    let m = ChatMessage {
        session_id: "s-1".into(),
        from: ChatFrom::Client,
        user_id: None,
        text: "hello".into(),
        timestamp: T0,
    };
    reduce(&mut s, ev(Event::ChatMessage(m.clone())), T0);
    reduce(&mut s, ev(Event::ChatMessage(m)), T0);
    assert_eq!(s.session("s-1").map(|x| x.messages.len()), Some(1));
}

#[test]
fn errors_are_kept_and_capped() {
    let mut s = talking(CallType::Phone);
    for i in 0..(MAX_ERRORS + 2) {
        let (id, ..) = req(&reduce(&mut s, key('o'), T0));
        reduce(
            &mut s,
            Action::Response {
                id,
                result: Err(ProtoError::new(ErrorCode::InvalidState, format!("no {i}"))),
            },
            T0,
        );
    }
    assert_eq!(s.errors.len(), MAX_ERRORS);
    // Nothing of the agent's waits (the offer's history lookup may).
    assert!(s
        .pending
        .values()
        .all(|p| matches!(p.purpose, crate::app::state::Purpose::History { .. })));
    assert_eq!(
        s.errors.back().map(|e| e.text.as_str()),
        Some("Call.hold: no 6")
    );
}

#[test]
fn quit_asks_first_while_a_session_is_active() {
    let mut s = state();
    let fx = reduce(&mut s, key('q'), T0);
    assert_eq!(fx, vec![Effect::Quit]);
    assert_eq!(
        s.exit,
        Some(Exit {
            code: 0,
            message: None
        })
    );

    let mut s = talking(CallType::Phone);
    assert!(reduce(&mut s, key('q'), T0).is_empty());
    assert_eq!(s.dialog, Some(Dialog::ConfirmQuit));
    reduce(&mut s, key('n'), T0);
    assert_eq!((s.dialog.clone(), s.exit.clone()), (None, None));
    reduce(&mut s, key('q'), T0);
    assert_eq!(reduce(&mut s, key('y'), T0), vec![Effect::Quit]);
    let mut s = state();
    let ctrl_c = Action::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(reduce(&mut s, ctrl_c, T0), vec![Effect::Quit]);
}

#[test]
fn kicked_out_token_expired_and_refused_exit_non_zero() {
    let mut s = state();
    assert_eq!(
        reduce(&mut s, ev(Event::KickedOut { message: None }), T0),
        vec![Effect::Quit]
    );
    let e = s.exit.clone().expect("exit");
    assert_eq!(e.code, EXIT_KICKED_OUT);
    assert!(e
        .message
        .is_some_and(|m| m.contains("logged in somewhere else")));
    assert!(
        reduce(&mut s, key('a'), T0).is_empty(),
        "nothing after exit"
    );

    let mut s = state();
    reduce(
        &mut s,
        ev(Event::TokenExpired {
            message: "token expired".into(),
        }),
        T0,
    );
    let e = s.exit.clone().expect("exit");
    assert_eq!(e.code, EXIT_TOKEN_EXPIRED);
    assert!(e
        .message
        .is_some_and(|m| m.contains("ccdesk token --user alice")));

    let mut s = state();
    reduce(
        &mut s,
        Action::Refused {
            message: "bad token".into(),
        },
        T0,
    );
    assert_eq!(s.exit.map(|e| e.code), Some(EXIT_REFUSED));
}

pub(crate) fn snapshot(id: &str, kind: CallType, st: SessionState) -> SessionSnapshot {
    SessionSnapshot {
        audio_running: false,
        session_id: id.into(),
        kind,
        state: st,
        direction: Direction::Inbound,
        call_in: CallIn {
            session_id: id.into(),
            kind,
            timeout: 12,
            caller_phone_number: Some("555".into()),
            ..CallIn::default()
        },
        started_at: T0,
        accepted_at: None,
        ended_at: None,
        mic_muted: false,
        video_muted: false,
        close_by: None,
        messages: vec![],
        consult: None,
        recording_paused: false,
        monitored_by: Vec::new(),
    }
}

#[test]
fn reconnect_rebuilds_from_the_snapshot_and_loses_nothing_from_view() {
    let mut s = talking(CallType::Phone);
    reduce(&mut s, call_in("s-2", CallType::Phone), T0);
    reduce(
        &mut s,
        Action::Lost {
            reason: "reset".into(),
            attempt: 2,
            retry_in_ms: 500,
        },
        T0 + 100,
    );
    assert_eq!(
        s.link,
        Link::Lost {
            reason: "reset".into(),
            attempt: 2,
            retry_at: T0 + 600
        }
    );
    reduce(&mut s, Action::Connecting { attempt: 2 }, T0 + 600);
    // The server still has s-1 (held now) and a new ringing s-3; s-2 is gone.
    let mut held = snapshot("s-1", CallType::Phone, SessionState::Held);
    held.accepted_at = Some(T0 + 1_000);
    let r = login(vec![
        held,
        snapshot("s-3", CallType::Im, SessionState::Ringing),
    ]);
    reduce(&mut s, Action::LoggedIn(r), T0 + 700);
    assert!(s.is_online());
    let s1 = s.session("s-1").expect("s-1");
    assert_eq!(s1.phase, Phase::Held);
    let s2 = s.session("s-2").expect("s-2 stays in view");
    assert_eq!(s2.phase, Phase::Ended);
    assert_eq!(s2.note.as_deref(), Some("ended while disconnected"));
    let s3 = s.session("s-3").expect("s-3");
    assert_eq!(
        (s3.phase, s3.ring_deadline),
        (Phase::Ringing, Some(T0 + 700 + 12_000))
    );
}

#[test]
fn selection_moves_and_unknown_keys_change_nothing() {
    let mut s = state();
    reduce(&mut s, call_in("s-1", CallType::Phone), T0);
    reduce(&mut s, call_in("s-2", CallType::Im), T0);
    assert_eq!(
        s.selected.as_deref(),
        Some("s-2"),
        "a new offer is selected when idle"
    );
    reduce(&mut s, code(KeyCode::Up), T0);
    assert_eq!(s.selected.as_deref(), Some("s-1"));
    reduce(&mut s, code(KeyCode::Up), T0);
    assert_eq!(s.selected.as_deref(), Some("s-1"));
    reduce(&mut s, key('j'), T0);
    assert_eq!(s.selected.as_deref(), Some("s-2"));
    s.dirty = false;
    assert!(reduce(&mut s, key('%'), T0).is_empty());
    assert!(!s.dirty, "an unbound key needs no frame");
}

#[test]
fn a_new_offer_does_not_steal_the_selection_from_a_live_call() {
    let mut s = talking(CallType::Phone);
    reduce(&mut s, call_in("s-2", CallType::Im), T0);
    assert_eq!(s.selected.as_deref(), Some("s-1"));
    // `a` still finds the ringing one.
    assert_eq!(
        req(&reduce(&mut s, key('a'), T0)).2,
        json!({"sessionId": "s-2"})
    );
}

#[test]
fn ticks_are_per_second_only_while_a_clock_shows_seconds() {
    let s = state();
    assert_eq!(next_tick(&s, T0 + 1), (T0 / 60_000 + 1) * 60_000);
    let s = talking(CallType::Phone);
    assert_eq!(next_tick(&s, T0 + 1), T0 + 1_000);
}

#[test]
fn paste_goes_to_the_open_field_only() {
    let mut s = state();
    reduce(&mut s, Action::Paste("555".into()), T0);
    assert_eq!(s.dialog, None);
    reduce(&mut s, key('c'), T0);
    reduce(&mut s, Action::Paste("+1 (555) 12a34\n".into()), T0);
    assert_eq!(
        s.dialog,
        Some(Dialog::Dial {
            number: "+1 (555) 1234".into()
        })
    );
}
