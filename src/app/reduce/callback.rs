//! Queued callbacks: a caller who asked to be called back
//! (`Customer.requestCallback`) is offered as a phone call with
//! `callIn.callback`, the number the accept dials. The accept makes the
//! session dialing (`userAccessed`, then `sessionUpdated`) until the caller
//! answers (`calloutAccepted`) or not (`sessionEnded`).

use super::*;

/// A `sessionUpdated` for an offer already here: a caller it rings for
/// who has just asked to be called back is said, with what the accept
/// now does.
pub(super) fn requested(state: &mut State, id: &str, now: u64) {
    let Some(s) = state.session(id).filter(|s| s.phase == Phase::Ringing) else {
        return;
    };
    let Some(number) = s.callback().map(str::to_string) else {
        return;
    };
    let text = format!(
        "{} asked to be called back at {number}: {}",
        s.peer(),
        super::chats::accept_words(state, "calls back")
    );
    info(state, now, text);
    state.info_about = Some(id.to_string());
}
