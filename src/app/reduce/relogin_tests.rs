//! `loggedInAgain` (a cluster's center moved to another node): the
//! terminal rebuilds from the snapshot as after a reconnect, without
//! losing its connection, and the console subscribes to the wallboard
//! again.

use super::board_tests::{console, login as console_login};
use crate::app::action::{Action, Effect};
use crate::app::reduce::reduce;
use crate::app::reduce_tests::{login, req, snapshot, talking};
use crate::app::state::Phase;
use crate::protocol::*;

const T0: u64 = 1_700_000_000_000;

#[test]
fn a_session_the_new_owner_does_not_list_has_ended_and_one_it_lists_stays() {
    let mut s = talking(CallType::Phone);
    let mut other = snapshot("s-9", CallType::Im, SessionState::Talking);
    other.accepted_at = Some(T0);
    let r = login(vec![other]);
    reduce(&mut s, Action::Server(Event::LoggedInAgain(r)), T0 + 500);
    assert!(s.is_online(), "the connection never went away");
    let s1 = s.session("s-1").expect("s-1 stays in view");
    assert_eq!(s1.phase, Phase::Ended);
    assert_eq!(s1.note.as_deref(), Some("ended while disconnected"));
    assert_eq!(
        s.session("s-9").map(|x| x.phase),
        Some(Phase::Talking),
        "a session the snapshot lists is shown as it says"
    );
    assert_eq!(s.me.tab_uuid.as_deref(), Some("tab-1"));
}

#[test]
fn the_console_subscribes_to_the_wallboard_again() {
    let mut s = console();
    let fx = reduce(
        &mut s,
        Action::Server(Event::LoggedInAgain(console_login("admin"))),
        T0 + 500,
    );
    let (_, method, _) = req(&fx);
    assert_eq!(method, "Supervisor.subscribe");
}

/// The audio effects, in order: ("stop"|"start", session).
fn audio(fx: &[Effect]) -> Vec<(&'static str, String)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::AudioStart { session_id } => Some(("start", session_id.clone())),
            Effect::AudioStop { session_id } => Some(("stop", session_id.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_call_whose_bridge_runs_on_keeps_its_audio() {
    let mut s = talking(CallType::Phone);
    let mut goes_on = snapshot("s-1", CallType::Phone, SessionState::Talking);
    goes_on.accepted_at = Some(T0 + 1_000);
    goes_on.audio_running = true;
    let fx = reduce(
        &mut s,
        Action::Server(Event::LoggedInAgain(login(vec![goes_on]))),
        T0 + 500,
    );
    assert_eq!(audio(&fx), vec![], "the leg to the bridge still carries it");
    assert!(s.audio.calls.contains_key("s-1"));
}

#[test]
fn a_call_that_goes_on_offers_its_audio_again_to_the_new_owner() {
    let mut s = talking(CallType::Phone);
    assert!(
        s.audio.calls.contains_key("s-1"),
        "the call's audio runs before the move"
    );
    let mut goes_on = snapshot("s-1", CallType::Phone, SessionState::Talking);
    goes_on.accepted_at = Some(T0 + 1_000);
    let fx = reduce(
        &mut s,
        Action::Server(Event::LoggedInAgain(login(vec![goes_on]))),
        T0 + 500,
    );
    assert_eq!(
        audio(&fx),
        vec![("stop", "s-1".to_string()), ("start", "s-1".to_string())],
        "no bridge runs for it (it died with its node): stopped, then offered again"
    );
    assert!(s.audio.calls.contains_key("s-1"));
}

#[test]
fn a_call_the_new_owner_does_not_list_only_stops_its_audio() {
    let mut s = talking(CallType::Phone);
    let fx = reduce(
        &mut s,
        Action::Server(Event::LoggedInAgain(login(vec![]))),
        T0 + 500,
    );
    assert_eq!(audio(&fx), vec![("stop", "s-1".to_string())]);
    assert!(s.audio.calls.is_empty());
}
