//! Queued callbacks on screen, built as scenes.rs builds the others and
//! snapshotted by screens.rs at 80x24 and 120x40: a caller who asked to be
//! called back rings as a callback with the number the accept dials, then
//! the call dials them back.

use crate::scenes::*;
use crate::screens::{queue_row, snapshot, text};
use ccdesk::app::state::State;
use ccdesk::protocol::{Event, SessionState};

const ID: &str = "s-7001";
/// The number Ann Lee asked to be called back at.
const NUMBER: &str = "+4930999000";
const RING: u64 = T0 + 60 * MINUTE;

/// Ann Lee's callback rings: 7 s in, 23 s left.
fn callback_ringing() -> State {
    let mut s = logged_in();
    let mut offer = phone_offer(ID);
    offer.callback = Some(NUMBER.into());
    offer.server_type = Some("staffSeat".into());
    server(&mut s, Event::CallIn(offer), RING);
    tick(&mut s, RING + 7 * SECOND);
    s
}

/// ... alice accepted it: the server dials Ann Lee back, 5 s so far.
fn callback_dialing() -> State {
    let mut s = callback_ringing();
    let at = RING + 9 * SECOND;
    let fx = chr(&mut s, 'a', at);
    answer_ok(&mut s, request_id(&fx), None, at);
    accessed(&mut s, ID, at);
    let dialing = updated(&s, ID, |x| x.state = SessionState::Dialing);
    server(&mut s, dialing, at);
    tick(&mut s, at + 5 * SECOND);
    s
}

/// Every screen of this file, by name (for the no-panic sweep).
pub(crate) fn screens() -> Vec<(&'static str, State)> {
    vec![
        ("callback_ringing", callback_ringing()),
        ("callback_dialing", callback_dialing()),
    ]
}

#[test]
fn a_callback_rings_with_the_number_the_accept_dials() {
    for buf in snapshot(
        "callback_ringing",
        "Ann Lee asked to be called back at +4930999000: the offer, 23s left",
        &callback_ringing(),
    ) {
        let t = text(&buf);
        assert!(
            t.contains("CALLBACK Ann Lee 138****5678 · ringing 23s left  a calls back"),
            "{t}"
        );
        assert!(t.contains("callback to +4930999000 · Shenzhen"), "{t}");
        assert!(
            t.contains("callback to +4930999000 (Ann Lee 138****5678): a calls back"),
            "{t}"
        );
        queue_row(&buf, "CALLB Ann Lee");
    }
}

#[test]
fn an_accepted_callback_dials_the_caller_back() {
    let s = callback_dialing();
    assert_eq!(
        s.session(ID).map(|x| (x.phase, x.accepted_at)),
        Some((ccdesk::app::state::Phase::Dialing, None))
    );
    for buf in snapshot(
        "callback_dialing",
        "alice accepted: the server dials +4930999000, ringing there",
        &s,
    ) {
        let t = text(&buf);
        assert!(
            t.contains("CALLBACK Ann Lee 138****5678 · calling back +4930999000 (ringing)"),
            "{t}"
        );
        assert!(t.contains("h cancel"), "{t}");
        queue_row(&buf, "CALLB Ann Lee");
    }
}
