//! Pausing the recording for card payments: the pause key asks the server
//! to pause (`Call.pauseRecording`) or resume (`Call.resumeRecording`) the
//! selected call's recording and transcript; the server's `sessionUpdated`
//! (`recordingPaused`) is what the call bar shows, so every tab agrees.

use super::*;

/// The `pause_recording` key, on the selected session (for the agent who
/// consults, the customer's session: that is the one recorded).
pub(super) fn toggle(state: &mut State, now: u64, fx: &mut Vec<Effect>) {
    let Some(s) = selected(state) else {
        return info(state, now, "no session selected");
    };
    let s = consult::microphone(state, s);
    if !s.kind.is_voice() {
        return info(state, now, "a chat has no recording to pause");
    }
    if !s.phase.is_active() {
        return info(
            state,
            now,
            format!("the session is {}: nothing is recorded", s.phase.label()),
        );
    }
    let method = if s.recording_paused {
        "Call.resumeRecording"
    } else {
        "Call.pauseRecording"
    };
    session_request(state, method, &s.id, fx);
}
