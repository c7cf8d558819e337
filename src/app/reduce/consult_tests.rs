//! The reducer's consult (warm) transfer: the consult key, its dialog and
//! request; the customer's session and its consult leg as the server's
//! events link them; the keys to complete, conference, cancel and swap,
//! and what they say where they do not apply; the consulted agent's side;
//! the call audio staying with the customer's session.

use crossterm::event::KeyCode;
use serde_json::json;

use crate::app::action::{Action, Effect};
use crate::app::reduce::reduce;
use crate::app::reduce_tests::{call_in, code, key, ok, req, reqs, state, talking};
use crate::app::state::{Dialog, Phase, State, TransferTo};
use crate::media::call::CallCmd;
use crate::protocol::{
    CallIn, CallType, CloseBy, Consult, ConsultPhase, Direction, Event, SessionEnded,
    SessionSnapshot, SessionState,
};

const T0: u64 = 1_700_000_000_000;
/// The customer's session (alice's call with Ann).
const X: &str = "s-1";
/// The consult leg between alice and bob.
const C: &str = "s-2";

fn consult(phase: ConsultPhase) -> Consult {
    Consult {
        session_id: X.into(),
        consult_session_id: C.into(),
        from_user_id: "alice".into(),
        user_id: Some("bob".into()),
        skill_group_id: None,
        phone_number: None,
        phase,
    }
}

fn updated(snap: SessionSnapshot) -> Action {
    Action::Server(Event::SessionUpdated(snap))
}

/// The customer's session as the server shows it.
fn customer(state: SessionState, c: Option<Consult>) -> Action {
    updated(SessionSnapshot {
        audio_running: false,
        session_id: X.into(),
        kind: CallType::Phone,
        state,
        direction: Direction::Inbound,
        call_in: CallIn {
            session_id: X.into(),
            kind: CallType::Phone,
            timeout: 30,
            caller_phone_number: Some("13800000000".into()),
            protected_caller: Some("138****0000".into()),
            nickname: Some("Ann".into()),
            ..CallIn::default()
        },
        started_at: T0,
        accepted_at: Some(T0 + 1_000),
        ended_at: None,
        mic_muted: false,
        video_muted: false,
        close_by: None,
        messages: vec![],
        consult: c.map(Box::new),
        recording_paused: false,
        monitored_by: Vec::new(),
    })
}

/// The consult leg's `callIn`, with `peer` at the other end: about the
/// customer's session, with the customer's number and attributes.
fn leg_call_in(peer: &str) -> CallIn {
    CallIn {
        session_id: C.into(),
        kind: CallType::Internal,
        timeout: 20,
        caller_phone_number: Some("13800000000".into()),
        peer_user_id: Some(peer.into()),
        consult_of: Some(X.into()),
        attributes: [("tier".to_string(), "gold".to_string())].into(),
        ..CallIn::default()
    }
}

fn leg(state: SessionState, peer: &str, c: Option<Consult>) -> Action {
    updated(SessionSnapshot {
        audio_running: false,
        session_id: C.into(),
        kind: CallType::Internal,
        state,
        direction: Direction::Internal,
        call_in: leg_call_in(peer),
        started_at: T0 + 5_000,
        accepted_at: (state == SessionState::Talking).then_some(T0 + 8_000),
        ended_at: None,
        mic_muted: false,
        video_muted: false,
        close_by: None,
        messages: vec![],
        consult: c.map(Box::new),
        recording_paused: false,
        monitored_by: Vec::new(),
    })
}

fn ended(id: &str, reason: &str) -> Action {
    Action::Server(Event::SessionEnded(SessionEnded {
        session_id: id.into(),
        close_by: CloseBy::Seat,
        main_reason: Some(reason.into()),
        sub_reason: None,
    }))
}

fn info(s: &State) -> &str {
    s.info.as_ref().map_or("", |n| n.text.as_str())
}

/// The requests a key made (the directory's subscription aside).
fn asked(fx: &[Effect]) -> Vec<(&'static str, serde_json::Value)> {
    reqs(fx)
        .into_iter()
        .filter(|r| !r.1.ends_with("ubscribeDirectory"))
        .map(|r| (r.1, r.2))
        .collect()
}

fn type_in(s: &mut State, text: &str) {
    for c in text.chars() {
        reduce(s, key(c), T0 + 2_000);
    }
}

fn audio_starts(fx: &[Effect]) -> Vec<&str> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::AudioStart { session_id } => Some(session_id.as_str()),
            _ => None,
        })
        .collect()
}

fn audio_stops(fx: &[Effect]) -> Vec<&str> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::AudioStop { session_id } => Some(session_id.as_str()),
            _ => None,
        })
        .collect()
}

/// alice, talking to Ann, consults bob: the request answered, then both
/// sessions as the server sends them while bob's phone rings.
fn consulting() -> State {
    let mut s = talking(CallType::Phone);
    reduce(&mut s, key('C'), T0 + 2_000);
    type_in(&mut s, "bob");
    let (id, _, _) = req(&reduce(&mut s, code(KeyCode::Enter), T0 + 3_000));
    ok(&mut s, id, Some(json!({ "consultSessionId": C })));
    reduce(
        &mut s,
        customer(SessionState::Held, Some(consult(ConsultPhase::Ringing))),
        T0 + 5_000,
    );
    reduce(
        &mut s,
        leg(
            SessionState::Dialing,
            "bob",
            Some(consult(ConsultPhase::Ringing)),
        ),
        T0 + 5_000,
    );
    s
}

/// ... and bob answered.
fn consult_talking() -> State {
    let mut s = consulting();
    reduce(
        &mut s,
        customer(SessionState::Held, Some(consult(ConsultPhase::Talking))),
        T0 + 8_000,
    );
    reduce(
        &mut s,
        leg(
            SessionState::Talking,
            "bob",
            Some(consult(ConsultPhase::Talking)),
        ),
        T0 + 8_000,
    );
    s
}

/// bob's side: the consult offer from alice, accepted.
fn consulted() -> State {
    let mut s = state();
    s.me.user_id = "bob".into();
    reduce(
        &mut s,
        Action::Server(Event::CallIn(leg_call_in("alice"))),
        T0 + 5_000,
    );
    reduce(
        &mut s,
        Action::Server(Event::UserAccessed {
            session_id: C.into(),
            tab_uuid: Some("tab-1".into()),
        }),
        T0 + 8_000,
    );
    reduce(
        &mut s,
        leg(
            SessionState::Talking,
            "alice",
            Some(consult(ConsultPhase::Talking)),
        ),
        T0 + 8_000,
    );
    s
}

#[test]
fn the_consult_key_opens_the_directory_and_sends_call_consult() {
    let mut s = talking(CallType::Phone);
    let fx = reduce(&mut s, key('C'), T0 + 2_000);
    // The transfer dialog's live directory, colleagues first.
    assert_eq!(
        s.dialog,
        Some(Dialog::Transfer {
            session_id: X.into(),
            to: TransferTo::Agent,
            input: String::new(),
            consult: true,
        })
    );
    assert_eq!(reqs(&fx)[0].1, "Agent.subscribeDirectory");
    // Enter with nothing typed asks for a target.
    let fx = reduce(&mut s, code(KeyCode::Enter), T0 + 2_000);
    assert!(asked(&fx).is_empty());
    assert!(info(&s).contains("or a number to consult"), "{}", info(&s));
    type_in(&mut s, "bob");
    let fx = reduce(&mut s, code(KeyCode::Enter), T0 + 3_000);
    assert_eq!(
        asked(&fx),
        [("Call.consult", json!({ "sessionId": X, "userId": "bob" }))]
    );
    assert_eq!(s.dialog, None);
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Request { method, .. } if *method == "Agent.unsubscribeDirectory")),
        "the directory is left with the dialog"
    );
    let (id, _, _) = req(&fx);
    ok(&mut s, id, Some(json!({ "consultSessionId": C })));
    assert_eq!(info(&s), "consulting bob; Ann 138****0000 holds");

    // Tab: an outside number (only digits and the dial characters are
    // taken), then a skill group's free agent.
    let mut s = talking(CallType::Voip);
    reduce(&mut s, key('C'), T0 + 2_000);
    reduce(&mut s, code(KeyCode::Tab), T0 + 2_000);
    assert!(matches!(
        s.dialog,
        Some(Dialog::Transfer {
            to: TransferTo::Number,
            ..
        })
    ));
    type_in(&mut s, "+49 30 x1234");
    let mut number = s.clone();
    let fx = reduce(&mut number, code(KeyCode::Enter), T0 + 3_000);
    assert_eq!(
        asked(&fx),
        [(
            "Call.consult",
            json!({ "sessionId": X, "phoneNumber": "+49 30 1234" })
        )]
    );
    let (id, _, _) = req(&fx);
    ok(&mut number, id, Some(json!({ "consultSessionId": C })));
    assert_eq!(
        info(&number),
        "consulting +49 30 1234; Ann 138****0000 holds"
    );
    reduce(&mut s, code(KeyCode::Tab), T0 + 2_000);
    for _ in 0.."+49 30 1234".len() {
        reduce(&mut s, code(KeyCode::Backspace), T0 + 2_000);
    }
    type_in(&mut s, "support");
    let fx = reduce(&mut s, code(KeyCode::Enter), T0 + 3_000);
    assert_eq!(
        asked(&fx),
        [(
            "Call.consult",
            json!({ "sessionId": X, "skillGroupId": "support" })
        )]
    );
}

#[test]
fn the_consult_key_says_why_where_it_does_not_apply() {
    let mut s = state();
    reduce(&mut s, key('C'), T0);
    assert_eq!(info(&s), "no session selected");
    for (name, mut s) in [
        ("chat", talking(CallType::Im)),
        ("video", talking(CallType::Video)),
        ("internal call", talking(CallType::Internal)),
        ("ringing offer", {
            let mut s = state();
            reduce(&mut s, call_in(X, CallType::Phone), T0);
            s
        }),
    ] {
        let fx = reduce(&mut s, key('C'), T0 + 2_000);
        assert!(asked(&fx).is_empty(), "{name}: {fx:?}");
        assert_eq!(s.dialog, None, "{name}");
        assert!(info(&s).starts_with("only a phone or VoIP call"), "{name}");
    }
    // A second consult on the same call.
    let mut s = consulting();
    let fx = reduce(&mut s, key('C'), T0 + 6_000);
    assert!(asked(&fx).is_empty());
    assert_eq!(
        info(&s),
        "a consult is under way: T completes the transfer, K makes a conference, X cancels"
    );
}

#[test]
fn the_events_link_the_customers_session_and_the_consult_leg() {
    let s = consulting();
    let x = s.session(X).expect("the customer's session");
    assert_eq!(x.phase, Phase::Held);
    let c = s
        .session(C)
        .expect("the consult leg, added from sessionUpdated");
    assert_eq!((c.kind, c.phase), (CallType::Internal, Phase::Dialing));
    assert_eq!(c.peer(), "bob", "the leg's peer is the colleague");
    // The agent stays on the customer's session.
    assert_eq!(s.selected.as_deref(), Some(X));
    for id in [X, C] {
        assert_eq!(
            s.consult_for(id).map(|c| c.phase),
            Some(ConsultPhase::Ringing),
            "{id}"
        );
    }
    let s = consult_talking();
    assert_eq!(
        s.consult_for(C).map(|c| c.phase),
        Some(ConsultPhase::Talking)
    );
    assert_eq!(s.consult_colleague(&consult(ConsultPhase::Talking)), "bob");
}

#[test]
fn the_consulting_agent_keeps_the_customer_sessions_audio() {
    let mut s = talking(CallType::Phone);
    assert!(s.audio.calls.contains_key(X));
    reduce(&mut s, key('C'), T0 + 2_000);
    type_in(&mut s, "bob");
    reduce(&mut s, code(KeyCode::Enter), T0 + 3_000);
    let mut fx = reduce(
        &mut s,
        customer(SessionState::Held, Some(consult(ConsultPhase::Ringing))),
        T0 + 5_000,
    );
    fx.extend(reduce(
        &mut s,
        leg(
            SessionState::Dialing,
            "bob",
            Some(consult(ConsultPhase::Ringing)),
        ),
        T0 + 5_000,
    ));
    // No audio of its own for the leg (the customer's bridge carries it),
    // none torn down; held while nobody answered.
    assert!(audio_starts(&fx).is_empty(), "{fx:?}");
    assert!(audio_stops(&fx).is_empty(), "{fx:?}");
    assert_eq!(s.audio.calls.keys().collect::<Vec<_>>(), [X]);
    assert!(fx.contains(&Effect::AudioCmd {
        session_id: X.into(),
        cmd: CallCmd::Hold(true)
    }));
    // bob answers: the microphone is carried again, to him.
    let mut fx = reduce(
        &mut s,
        customer(SessionState::Held, Some(consult(ConsultPhase::Talking))),
        T0 + 8_000,
    );
    fx.extend(reduce(
        &mut s,
        leg(
            SessionState::Talking,
            "bob",
            Some(consult(ConsultPhase::Talking)),
        ),
        T0 + 8_000,
    ));
    assert_eq!(
        fx.iter()
            .filter(|e| matches!(e, Effect::AudioCmd { .. }))
            .collect::<Vec<_>>(),
        [&Effect::AudioCmd {
            session_id: X.into(),
            cmd: CallCmd::Hold(false)
        }]
    );
    assert!(audio_starts(&fx).is_empty() && audio_stops(&fx).is_empty());
    // Nothing more happens on a further update: no renegotiation.
    let fx = reduce(
        &mut s,
        leg(
            SessionState::Talking,
            "bob",
            Some(consult(ConsultPhase::Talking)),
        ),
        T0 + 9_000,
    );
    assert!(fx.is_empty(), "{fx:?}");
}

#[test]
fn while_bob_rings_only_cancel_and_swap_do_something() {
    let mut s = consulting();
    for k in ['T', 'K'] {
        let fx = reduce(&mut s, key(k), T0 + 6_000);
        assert!(asked(&fx).is_empty(), "{k}: {fx:?}");
        assert_eq!(
            info(&s),
            "bob has not answered yet; X cancels the consult",
            "{k}"
        );
    }
    // Hold and a blind transfer would break the consult: the keys are said.
    for k in ['o', 't'] {
        let fx = reduce(&mut s, key(k), T0 + 6_000);
        assert!(asked(&fx).is_empty(), "{k}: {fx:?}");
        assert_eq!(s.dialog, None, "{k}");
        assert!(info(&s).contains("T completes the transfer"), "{k}");
    }
    // Swap: the leg, then the customer again.
    reduce(&mut s, key('S'), T0 + 6_000);
    assert_eq!(s.selected.as_deref(), Some(C));
    // From the leg too, the keys act on the customer's session.
    let fx = reduce(&mut s, key('X'), T0 + 6_000);
    assert_eq!(
        asked(&fx),
        [("Call.cancelConsult", json!({ "sessionId": X }))]
    );
    reduce(&mut s, key('S'), T0 + 6_000);
    assert_eq!(s.selected.as_deref(), Some(X));
}

#[test]
fn once_bob_answers_the_keys_send_their_requests() {
    let mut s = consult_talking();
    reduce(&mut s, key('S'), T0 + 9_000);
    for (k, method) in [
        ('T', "Call.completeTransfer"),
        ('K', "Call.conference"),
        ('X', "Call.cancelConsult"),
    ] {
        let fx = reduce(&mut s, key(k), T0 + 9_000);
        assert_eq!(asked(&fx), [(method, json!({ "sessionId": X }))], "{k}");
    }
    // In conference: the customer talks again; K says so, T and X work.
    reduce(
        &mut s,
        customer(
            SessionState::Talking,
            Some(consult(ConsultPhase::Conference)),
        ),
        T0 + 10_000,
    );
    reduce(
        &mut s,
        leg(
            SessionState::Talking,
            "bob",
            Some(consult(ConsultPhase::Conference)),
        ),
        T0 + 10_000,
    );
    let fx = reduce(&mut s, key('K'), T0 + 11_000);
    assert!(asked(&fx).is_empty());
    assert!(info(&s).starts_with("already a conference"), "{}", info(&s));
    let fx = reduce(&mut s, key('T'), T0 + 11_000);
    assert_eq!(
        asked(&fx),
        [("Call.completeTransfer", json!({ "sessionId": X }))]
    );
    // Hold is the ordinary hold again in a conference.
    reduce(&mut s, key('S'), T0 + 11_000);
    assert_eq!(s.selected.as_deref(), Some(X));
    let fx = reduce(&mut s, key('o'), T0 + 11_000);
    assert_eq!(asked(&fx), [("Call.hold", json!({ "sessionId": X }))]);
}

#[test]
fn without_a_consult_the_keys_say_so() {
    let mut s = talking(CallType::Phone);
    for k in ['T', 'K', 'X'] {
        let fx = reduce(&mut s, key(k), T0 + 2_000);
        assert!(asked(&fx).is_empty(), "{k}");
        assert_eq!(
            info(&s),
            "no consult on this session: C consults a colleague first",
            "{k}"
        );
    }
    reduce(&mut s, key('S'), T0 + 2_000);
    assert_eq!(info(&s), "no consult on this session: nothing to swap to");
    assert_eq!(s.selected.as_deref(), Some(X));
    // The keys are configurable like every other.
    let mut o = std::collections::BTreeMap::new();
    o.insert(
        "complete_transfer".to_string(),
        crate::app::keymap::KeySpec::One("f7".into()),
    );
    let mut s = consult_talking();
    s.keymap = crate::app::keymap::Keymap::with_overrides(&o).expect("valid keys");
    assert!(asked(&reduce(&mut s, key('T'), T0 + 9_000)).is_empty());
    let fx = reduce(&mut s, code(KeyCode::F(7)), T0 + 9_000);
    assert_eq!(asked(&fx)[0].0, "Call.completeTransfer");
}

#[test]
fn the_consulted_agent_sees_who_consults_about_whom_and_cannot_steer_it() {
    let mut s = state();
    s.me.user_id = "bob".into();
    let fx = reduce(
        &mut s,
        Action::Server(Event::CallIn(leg_call_in("alice"))),
        T0 + 5_000,
    );
    assert_eq!(info(&s), "consult from alice about 13800000000: a accepts");
    assert!(
        asked(&fx).is_empty(),
        "no contact history for a consult leg: {fx:?}"
    );
    assert!(fx.contains(&Effect::Notify {
        title: "ccdesk: consult".into(),
        body: "alice about 13800000000".into()
    }));
    // An ordinary accept.
    let fx = reduce(&mut s, key('a'), T0 + 6_000);
    assert_eq!(asked(&fx), [("Call.accept", json!({ "sessionId": C }))]);

    let mut s = consulted();
    assert_eq!(s.selected.as_deref(), Some(C));
    assert!(s.audio.calls.contains_key(C), "the leg has bob's audio");
    for k in ['T', 'K', 'X'] {
        let fx = reduce(&mut s, key(k), T0 + 9_000);
        assert!(asked(&fx).is_empty(), "{k}");
        assert!(
            info(&s).starts_with("only alice, who consults you, can"),
            "{k}: {}",
            info(&s)
        );
    }
    reduce(&mut s, key('S'), T0 + 9_000);
    assert_eq!(
        info(&s),
        "the customer's session is alice's until the transfer"
    );
    reduce(&mut s, key('C'), T0 + 9_000);
    assert_eq!(s.dialog, None);
    // Hanging up leaves the consult like any call.
    let fx = reduce(&mut s, key('h'), T0 + 9_000);
    assert_eq!(asked(&fx), [("Call.hungUp", json!({ "sessionId": C }))]);
}

#[test]
fn complete_transfer_moves_the_customer_to_the_colleague() {
    // bob: the customer's session arrives, his; the leg ends.
    let mut s = consulted();
    let fx = reduce(&mut s, customer(SessionState::Talking, None), T0 + 20_000);
    assert_eq!(s.selected.as_deref(), Some(X), "the customer is selected");
    assert_eq!(info(&s), "Ann 138****0000: handed over to you by alice");
    // The audio moves to the customer's session: the leg's stops, once.
    assert_eq!(audio_starts(&fx), [X]);
    assert_eq!(audio_stops(&fx), [C]);
    let fx = reduce(&mut s, ended(C, "transferred"), T0 + 20_000);
    assert!(audio_starts(&fx).is_empty() && audio_stops(&fx).is_empty());
    assert_eq!(s.session(C).map(|c| c.phase), Some(Phase::Ended));
    assert_eq!(s.selected.as_deref(), Some(X));
    assert!(s.consult_for(X).is_none());
    // Now it is his to transfer or consult on.
    reduce(&mut s, key('C'), T0 + 21_000);
    assert!(matches!(
        s.dialog,
        Some(Dialog::Transfer { consult: true, .. })
    ));

    // alice: the transfer event, then the leg ends.
    let mut s = consult_talking();
    reduce(
        &mut s,
        Action::Server(Event::Transfer {
            session_id: X.into(),
        }),
        T0 + 20_000,
    );
    let x = s.session(X).expect("kept in the list");
    assert_eq!(
        (x.phase, x.note.as_deref()),
        (Phase::Ended, Some("transferred"))
    );
    assert!(!s.audio.calls.contains_key(X), "alice's audio stops");
    reduce(&mut s, ended(C, "transferred"), T0 + 20_000);
    assert_eq!(info(&s), "Ann 138****0000: transferred");
    assert!(s.consult_for(X).is_none() && s.consult_for(C).is_none());
}

#[test]
fn a_consult_that_ends_leaves_the_customer_held_and_says_how_to_go_back() {
    let mut s = consulting();
    reduce(&mut s, key('S'), T0 + 6_000);
    // bob declines; the server leaves Ann held, without the consult.
    reduce(&mut s, ended(C, "declined"), T0 + 7_000);
    reduce(&mut s, customer(SessionState::Held, None), T0 + 7_000);
    assert_eq!(
        info(&s),
        "the consult with bob ended (declined); Ann 138****0000 holds: o takes the call back"
    );
    assert_eq!(
        s.selected.as_deref(),
        Some(X),
        "back on the customer's session"
    );
    assert!(s.consult_for(X).is_none());
    assert!(s.audio.calls.contains_key(X), "the audio never stopped");
    let fx = reduce(&mut s, key('o'), T0 + 8_000);
    assert_eq!(asked(&fx), [("Call.unHold", json!({ "sessionId": X }))]);

    // Cancelled by alice.
    let mut s = consult_talking();
    reduce(&mut s, ended(C, "consultCancelled"), T0 + 9_000);
    assert_eq!(info(&s), "consult cancelled: back with Ann 138****0000");
    // ... as bob hears it.
    let mut s = consulted();
    reduce(&mut s, ended(C, "consultCancelled"), T0 + 9_000);
    assert_eq!(info(&s), "alice cancelled the consult");
    // The customer hung up during the consult.
    let mut s = consulted();
    reduce(&mut s, ended(C, "customerLeft"), T0 + 9_000);
    assert_eq!(info(&s), "the customer hung up: the consult is over");
    assert!(!s.audio.calls.contains_key(C));
}

#[test]
fn on_the_supervisors_floor_the_consult_keys_point_to_the_own_call() {
    let mut s = consult_talking();
    s.board = Some(crate::app::board::Board::default());
    for k in ['C', 'T', 'K', 'X', 'S'] {
        let fx = reduce(&mut s, key(k), T0 + 9_000);
        assert!(asked(&fx).is_empty(), "{k}: {fx:?}");
        assert!(
            info(&s).ends_with("acts on your own call: switch to it first (g)"),
            "{k}: {}",
            info(&s)
        );
    }
    assert_eq!(s.selected.as_deref(), Some(X));
}

#[test]
fn on_the_leg_mute_acts_on_the_customer_session_and_hold_points_to_it() {
    let mut s = consult_talking();
    reduce(&mut s, key('S'), T0 + 9_000);
    assert_eq!(s.selected.as_deref(), Some(C));
    // alice's microphone is in the customer's call.
    let fx = reduce(&mut s, key('m'), T0 + 9_000);
    assert_eq!(asked(&fx), [("Call.muteMic", json!({ "sessionId": X }))]);
    let fx = reduce(&mut s, key('o'), T0 + 9_000);
    assert!(asked(&fx).is_empty(), "{fx:?}");
    assert!(info(&s).starts_with("the customer holds for the consult"));
    reduce(
        &mut s,
        customer(
            SessionState::Talking,
            Some(consult(ConsultPhase::Conference)),
        ),
        T0 + 10_000,
    );
    let fx = reduce(&mut s, key('o'), T0 + 10_000);
    assert!(asked(&fx).is_empty(), "{fx:?}");
    assert_eq!(
        info(&s),
        "the customer is held from their session (S selects it)"
    );
    // bob's microphone is the leg's own.
    let mut s = consulted();
    let fx = reduce(&mut s, key('m'), T0 + 9_000);
    assert_eq!(asked(&fx), [("Call.muteMic", json!({ "sessionId": C }))]);
}

#[test]
fn an_outside_number_is_consulted_like_a_colleague() {
    // A blind transfer has no number to go to: Tab only switches two ways.
    let mut s = talking(CallType::Phone);
    reduce(&mut s, key('t'), T0 + 2_000);
    reduce(&mut s, code(KeyCode::Tab), T0 + 2_000);
    reduce(&mut s, code(KeyCode::Tab), T0 + 2_000);
    assert!(matches!(
        s.dialog,
        Some(Dialog::Transfer {
            to: TransferTo::SkillGroup,
            consult: false,
            ..
        })
    ));

    // A number pasted keeps what can be dialled.
    let mut s = talking(CallType::Phone);
    reduce(&mut s, key('C'), T0 + 2_000);
    reduce(&mut s, code(KeyCode::Tab), T0 + 2_000);
    reduce(
        &mut s,
        Action::Paste("tel: +49 (30) 1234".into()),
        T0 + 2_000,
    );
    assert!(
        matches!(&s.dialog, Some(Dialog::Transfer { input, .. }) if input == " +49 (30) 1234"),
        "{:?}",
        s.dialog
    );

    // The leg is an outbound phone call the server dials.
    let number = Consult {
        user_id: None,
        phone_number: Some("+49 30 1234".into()),
        ..consult(ConsultPhase::Ringing)
    };
    let mut s = talking(CallType::Phone);
    reduce(
        &mut s,
        customer(SessionState::Held, Some(number.clone())),
        T0 + 5_000,
    );
    let fx = reduce(
        &mut s,
        updated(SessionSnapshot {
            audio_running: false,
            session_id: C.into(),
            kind: CallType::Phone,
            state: SessionState::Dialing,
            direction: Direction::Outbound,
            call_in: CallIn {
                session_id: C.into(),
                kind: CallType::Phone,
                callee_phone_number: Some("+49 30 1234".into()),
                caller_phone_number: Some("400-800-1234".into()),
                consult_of: Some(X.into()),
                ..CallIn::default()
            },
            started_at: T0 + 5_000,
            accepted_at: None,
            ended_at: None,
            mic_muted: false,
            video_muted: false,
            close_by: None,
            messages: vec![],
            consult: Some(Box::new(number.clone())),
            recording_paused: false,
            monitored_by: Vec::new(),
        }),
        T0 + 5_000,
    );
    assert!(audio_starts(&fx).is_empty(), "{fx:?}");
    assert_eq!(
        s.session(C).map(|c| c.peer()).as_deref(),
        Some("+49 30 1234")
    );
    assert_eq!(s.consult_colleague(&number), "+49 30 1234");
    reduce(&mut s, key('T'), T0 + 6_000);
    assert_eq!(
        info(&s),
        "+49 30 1234 has not answered yet; X cancels the consult"
    );
    // Handed over: both sessions leave.
    for id in [X, C] {
        reduce(
            &mut s,
            Action::Server(Event::Transfer {
                session_id: id.into(),
            }),
            T0 + 20_000,
        );
    }
    assert!(s.sessions.iter().all(|x| x.is_ended()));
    assert!(s.audio.calls.is_empty());
}
