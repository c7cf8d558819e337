//! The reducer with queued callbacks: a phone offer with `callback` says
//! whom the accept dials; the accept makes it dialing (not talking) until
//! the caller answers, or it ends unanswered; an offer already ringing
//! whose caller asks to be called back says so.

use serde_json::json;

use crate::app::action::{Action, Effect};
use crate::app::reduce::reduce;
use crate::app::reduce_tests::{key, req, state};
use crate::app::state::{Phase, State};
use crate::protocol::{
    CallIn, CallType, CloseBy, Event, SessionEnded, SessionSnapshot, SessionState,
};

const T0: u64 = 1_700_000_000_000;
const ID: &str = "s-1";
const NUMBER: &str = "+4930999000";

fn call_in(callback: Option<&str>) -> CallIn {
    CallIn {
        session_id: ID.into(),
        kind: CallType::Phone,
        timeout: 30,
        callee_phone_number: Some("4006000000".into()),
        caller_phone_number: Some("13800000000".into()),
        protected_caller: Some("138****0000".into()),
        nickname: Some("Ann".into()),
        server_type: Some("staffSeat".into()),
        callback: callback.map(str::to_string),
        ..CallIn::default()
    }
}

fn ev(e: Event) -> Action {
    Action::Server(e)
}

/// The session as the server shows it in `sessionUpdated` (read from
/// the wire's JSON, as the terminal gets it).
fn snapshot(state: SessionState, callback: Option<&str>, accepted_at: Option<u64>) -> Action {
    let snap: SessionSnapshot = serde_json::from_value(json!({
        "sessionId": ID,
        "type": "phone",
        "state": state,
        "direction": "inbound",
        "callIn": call_in(callback),
        "startedAt": T0 - 60_000,
        "acceptedAt": accepted_at,
        "micMuted": false,
        "videoMuted": false,
    }))
    .expect("a session snapshot");
    ev(Event::SessionUpdated(snap))
}

/// A callback rings at alice.
fn ringing() -> (State, Vec<Effect>) {
    let mut s = state();
    let fx = reduce(&mut s, ev(Event::CallIn(call_in(Some(NUMBER)))), T0);
    (s, fx)
}

/// ... and she accepted it: the server dials the caller back.
fn dialing() -> State {
    let (mut s, _) = ringing();
    let (_, method, params) = req(&reduce(&mut s, key('a'), T0 + 2_000));
    assert_eq!((method, params), ("Call.accept", json!({"sessionId": ID})));
    reduce(
        &mut s,
        ev(Event::UserAccessed {
            session_id: ID.into(),
            tab_uuid: Some("tab-1".into()),
        }),
        T0 + 2_100,
    );
    s
}

fn info(s: &State) -> Option<&str> {
    s.info.as_ref().map(|i| i.text.as_str())
}

#[test]
fn a_callback_offer_says_which_number_the_accept_dials() {
    let (s, fx) = ringing();
    assert_eq!(s.session(ID).and_then(|x| x.callback()), Some(NUMBER));
    assert_eq!(s.session(ID).map(|x| x.phase), Some(Phase::Ringing));
    assert_eq!(
        info(&s),
        Some("callback to +4930999000 (Ann 138****0000): a calls back")
    );
    assert!(fx.contains(&Effect::Bell), "{fx:?}");
    assert!(fx.contains(&Effect::Notify {
        title: "ccdesk: callback to +4930999000".into(),
        body: "Ann 138****0000".into(),
    }));
}

#[test]
fn the_accept_dials_and_the_call_is_talking_only_once_the_caller_answers() {
    let mut s = dialing();
    // userAccessed: dialing, no talk time yet; the offer's notice is gone.
    let x = s.session(ID).expect("session");
    assert_eq!((x.phase, x.accepted_at), (Phase::Dialing, None));
    assert_eq!(info(&s), None);
    assert_eq!(s.selected.as_deref(), Some(ID));
    // The call audio starts while it dials, as for a call placed.
    assert!(s.audio.calls.contains_key(ID));
    // The server's view agrees.
    reduce(
        &mut s,
        snapshot(SessionState::Dialing, Some(NUMBER), None),
        T0 + 2_200,
    );
    let x = s.session(ID).expect("session");
    assert_eq!((x.phase, x.accepted_at), (Phase::Dialing, None));
    assert_eq!(x.callback(), Some(NUMBER));
    reduce(
        &mut s,
        ev(Event::CalloutAccepted {
            session_id: ID.into(),
        }),
        T0 + 9_000,
    );
    let x = s.session(ID).expect("session");
    assert_eq!((x.phase, x.accepted_at), (Phase::Talking, Some(T0 + 9_000)));
    assert_eq!(info(&s), Some("Ann 138****0000 answered the callback"));
}

#[test]
fn a_callback_nobody_answers_ends_with_the_reason() {
    let mut s = dialing();
    reduce(
        &mut s,
        ev(Event::SessionEnded(SessionEnded {
            session_id: ID.into(),
            close_by: CloseBy::Timer,
            main_reason: Some("noAnswer".into()),
            sub_reason: None,
        })),
        T0 + 47_000,
    );
    let x = s.session(ID).expect("session");
    assert_eq!(x.phase, Phase::Ended);
    assert_eq!(x.accepted_at, None);
    assert_eq!(x.note.as_deref(), Some("noAnswer"));
    assert!(!s.audio.calls.contains_key(ID));
}

#[test]
fn hanging_up_while_it_dials_cancels_the_callback() {
    let mut s = dialing();
    let (_, method, params) = req(&reduce(&mut s, key('h'), T0 + 3_000));
    assert_eq!((method, params), ("Call.hungUp", json!({"sessionId": ID})));
}

#[test]
fn a_caller_who_asks_for_a_callback_while_it_rings_here_is_said() {
    let mut s = state();
    reduce(&mut s, ev(Event::CallIn(call_in(None))), T0);
    assert_eq!(info(&s), Some("phone call from Ann 138****0000: a accepts"));
    reduce(
        &mut s,
        snapshot(SessionState::Ringing, Some(NUMBER), None),
        T0 + 5_000,
    );
    let x = s.session(ID).expect("session");
    assert_eq!((x.phase, x.callback()), (Phase::Ringing, Some(NUMBER)));
    assert_eq!(
        info(&s),
        Some("Ann 138****0000 asked to be called back at +4930999000: a calls back")
    );
    assert_eq!(s.info_about.as_deref(), Some(ID));
    // Later updates of the same callback say nothing again.
    s.info = None;
    reduce(
        &mut s,
        snapshot(SessionState::Ringing, Some(NUMBER), None),
        T0 + 7_000,
    );
    assert_eq!(info(&s), None);
}

#[test]
fn a_plain_phone_call_is_talking_at_its_accept() {
    let mut s = state();
    reduce(&mut s, ev(Event::CallIn(call_in(None))), T0);
    reduce(&mut s, key('a'), T0);
    reduce(
        &mut s,
        ev(Event::UserAccessed {
            session_id: ID.into(),
            tab_uuid: Some("tab-1".into()),
        }),
        T0 + 1_000,
    );
    let x = s.session(ID).expect("session");
    assert_eq!((x.phase, x.accepted_at), (Phase::Talking, Some(T0 + 1_000)));
}
