//! Consult (warm) transfer on screen, built as scenes.rs builds the others
//! and snapshotted by screens.rs at 80x24 and 120x40: the consult dialog,
//! the call bar while the customer holds and the colleague talks, the
//! conference, and the colleague's own view of the consult.

use crate::scenes::*;
use crate::screens::{modifier_at, queue_row, snapshot, text};
use ccdesk::app::state::State;
use ccdesk::protocol::{
    CallIn, CallType, Consult, ConsultPhase, Direction, Event, SessionSnapshot, SessionState,
};
use crossterm::event::KeyCode;
use ratatui::style::Modifier;
use serde_json::json;

/// The customer's session (Ann Lee, talking to alice in scenes.rs).
const CUSTOMER: &str = "s-1001";
/// The consult leg between alice and bob.
const LEG: &str = "s-1002";

fn consult(phase: ConsultPhase) -> Consult {
    Consult {
        session_id: CUSTOMER.into(),
        consult_session_id: LEG.into(),
        from_user_id: "alice".into(),
        user_id: Some("bob".into()),
        skill_group_id: None,
        phone_number: None,
        phase,
    }
}

/// The consult leg's `callIn` with `peer` at the other end: about Ann
/// Lee's call, with her number and attributes.
fn leg_call_in(peer: &str) -> CallIn {
    CallIn {
        session_id: LEG.into(),
        kind: CallType::Internal,
        timeout: 20,
        caller_phone_number: Some("13812345678".into()),
        peer_user_id: Some(peer.into()),
        consult_of: Some(CUSTOMER.into()),
        attributes: [
            ("tier".to_string(), "gold".to_string()),
            ("order".to_string(), "8812".to_string()),
        ]
        .into(),
        ..CallIn::default()
    }
}

/// The leg as the server shows it (first heard of this way by alice).
fn leg(
    state: SessionState,
    peer: &str,
    started_at: u64,
    accepted_at: Option<u64>,
    phase: ConsultPhase,
) -> Event {
    Event::SessionUpdated(SessionSnapshot {
        audio_running: false,
        session_id: LEG.into(),
        kind: CallType::Internal,
        state,
        direction: Direction::Internal,
        call_in: leg_call_in(peer),
        started_at,
        accepted_at,
        ended_at: None,
        mic_muted: false,
        video_muted: false,
        close_by: None,
        messages: vec![],
        consult: Some(Box::new(consult(phase))),
        recording_paused: false,
        monitored_by: Vec::new(),
    })
}

/// alice on the talking call presses the consult key: the directory
/// listed, "b" typed.
fn consult_dialog() -> State {
    with_keys(with_directory(talking()), &[key('C')], "b")
}

/// alice consults bob: bob answered 35 s ago, Ann Lee holds.
fn consulting() -> State {
    let mut s = talking();
    let at = s.now + SECOND;
    chr(&mut s, 'C', at);
    type_text(&mut s, "bob", at);
    let fx = press(&mut s, KeyCode::Enter, at);
    answer_ok(
        &mut s,
        request_id(&fx),
        Some(json!({ "consultSessionId": LEG })),
        at,
    );
    let held = updated(&s, CUSTOMER, |x| {
        x.state = SessionState::Held;
        x.mic_muted = false;
        x.consult = Some(Box::new(consult(ConsultPhase::Ringing)));
    });
    server(&mut s, held, at);
    server(
        &mut s,
        leg(
            SessionState::Dialing,
            "bob",
            at,
            None,
            ConsultPhase::Ringing,
        ),
        at,
    );
    let answered = at + 6 * SECOND;
    let held = updated(&s, CUSTOMER, |x| {
        x.consult = Some(Box::new(consult(ConsultPhase::Talking)))
    });
    server(&mut s, held, answered);
    server(
        &mut s,
        leg(
            SessionState::Talking,
            "bob",
            at,
            Some(answered),
            ConsultPhase::Talking,
        ),
        answered,
    );
    tick(&mut s, answered + 35 * SECOND);
    s
}

/// ... and alice made it a conference.
fn conference() -> State {
    let mut s = consulting();
    let at = s.now + 5 * SECOND;
    let talking = updated(&s, CUSTOMER, |x| {
        x.state = SessionState::Talking;
        x.consult = Some(Box::new(consult(ConsultPhase::Conference)));
    });
    server(&mut s, talking, at);
    let accepted = s.session(LEG).and_then(|l| l.accepted_at);
    server(
        &mut s,
        leg(
            SessionState::Talking,
            "bob",
            at,
            accepted,
            ConsultPhase::Conference,
        ),
        at,
    );
    tick(&mut s, at + 20 * SECOND);
    s
}

/// bob's terminal: alice's consult about Ann Lee, accepted 42 s ago.
fn consulted() -> State {
    let mut s = fresh();
    let mut login = login_result(vec![]);
    login.user_id = "bob".into();
    act(&mut s, ccdesk::app::Action::LoggedIn(login), T0);
    let ring = T0 + 4 * MINUTE;
    server(&mut s, Event::CallIn(leg_call_in("alice")), ring);
    let fx = chr(&mut s, 'a', ring + 3 * SECOND);
    answer_ok(&mut s, request_id(&fx), None, ring + 3 * SECOND);
    accessed(&mut s, LEG, ring + 3 * SECOND);
    server(
        &mut s,
        leg(
            SessionState::Talking,
            "alice",
            ring,
            Some(ring + 3 * SECOND),
            ConsultPhase::Talking,
        ),
        ring + 3 * SECOND,
    );
    tick(&mut s, ring + 45 * SECOND);
    s
}

/// Every screen of this file, by name (for the no-panic sweep).
pub(crate) fn screens() -> Vec<(&'static str, State)> {
    vec![
        ("consult_dialog", consult_dialog()),
        ("consult_talking", consulting()),
        ("consult_conference", conference()),
        ("consulted", consulted()),
    ]
}

#[test]
fn the_consult_dialog_lists_the_colleagues() {
    let s = consult_dialog();
    for buf in snapshot(
        "consult_dialog",
        "the consult key on a call: the colleagues matching \"b\", who is free now",
        &s,
    ) {
        let t = text(&buf);
        assert!(t.contains("Consult on s-1001"), "{t}");
        assert!(t.contains("enter consults (the customer holds)"), "{t}");
        assert!(t.contains("bob (Bob Baker)  free now"), "{t}");
    }
}

#[test]
fn the_call_bar_shows_the_customer_held_and_the_colleague_talking() {
    let s = consulting();
    assert_eq!(s.selected.as_deref(), Some(CUSTOMER));
    for buf in snapshot(
        "consult_talking",
        "alice consults bob (talking 0:35); Ann Lee holds",
        &s,
    ) {
        let t = text(&buf);
        assert!(
            t.contains("customer Ann Lee 138****5678 (on hold) · consulting bob (talking 0:35)"),
            "{t}"
        );
        // The customer's session is the one selected: in bold.
        assert!(modifier_at(&buf, "customer Ann Lee").contains(Modifier::BOLD));
        assert!(!modifier_at(&buf, "bob (talking").contains(Modifier::BOLD));
        assert!(t.contains("T hand over"), "{t}");
        // The leg is marked in the session list.
        queue_row(&buf, "CONSU");
    }
}

#[test]
fn the_call_bar_shows_the_conference() {
    for buf in snapshot(
        "consult_conference",
        "alice, Ann Lee and bob in conference",
        &conference(),
    ) {
        let t = text(&buf);
        assert!(
            t.contains("conference: customer Ann Lee 138****5678 · bob · talking"),
            "{t}"
        );
        assert!(!t.contains("on hold"), "{t}");
    }
}

#[test]
fn the_consulted_agent_sees_who_consults_about_whom() {
    let s = consulted();
    assert_eq!(s.selected.as_deref(), Some(LEG));
    for buf in snapshot(
        "consulted",
        "bob's terminal: alice's consult about Ann Lee's call, 0:42 in",
        &s,
    ) {
        let t = text(&buf);
        assert!(
            t.contains("consult from alice about 13812345678 · talking 0:42"),
            "{t}"
        );
        queue_row(&buf, "CONSU alice");
    }
}
