//! `loggedInAgain` (a cluster's center moved to another node): the
//! terminal rebuilds from the snapshot as after a reconnect, without
//! losing its connection, and the console subscribes to the wallboard
//! again.

use super::board_tests::{console, login as console_login};
use crate::app::action::Action;
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
