//! The reducer's recording pause: the key asks the server to pause or
//! resume the selected call's recording, the server's `sessionUpdated`
//! says which it is, and what does not apply says why.

use serde_json::json;

use crate::app::action::Action;
use crate::app::reduce::reduce;
use crate::app::reduce_tests::{call_in, key, ok, req, reqs, state, talking};
use crate::app::state::State;
use crate::protocol::{CallType, ErrorCode, Event, ProtoError, SessionSnapshot, SessionState};

const T0: u64 = 1_700_000_000_000;

/// The server's `sessionUpdated` for alice's call s-1, its recording
/// paused or not.
fn paused(s: &State, on: bool) -> Action {
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
        recording_paused: on,
        monitored_by: Vec::new(),
    }))
}

fn info(s: &State) -> &str {
    s.info.as_ref().map_or("", |i| i.text.as_str())
}

#[test]
fn the_key_pauses_the_recording_and_again_resumes_it() {
    let mut s = talking(CallType::Phone);
    let fx = reduce(&mut s, key('p'), T0 + 2_000);
    let (id, method, params) = req(&fx);
    assert_eq!(method, "Call.pauseRecording");
    assert_eq!(params, json!({"sessionId": "s-1"}));
    ok(&mut s, id, None);
    // Paused once the server says so (every tab sees the same).
    assert!(!s.session("s-1").is_some_and(|x| x.recording_paused));
    let ev = paused(&s, true);
    reduce(&mut s, ev, T0 + 2_100);
    assert!(s.session("s-1").is_some_and(|x| x.recording_paused));
    let fx = reduce(&mut s, key('p'), T0 + 30_000);
    let (_, method, params) = req(&fx);
    assert_eq!(method, "Call.resumeRecording");
    assert_eq!(params, json!({"sessionId": "s-1"}));
    let ev = paused(&s, false);
    reduce(&mut s, ev, T0 + 30_100);
    assert!(!s.session("s-1").is_some_and(|x| x.recording_paused));
}

#[test]
fn a_voip_call_is_paused_too() {
    let mut s = talking(CallType::Voip);
    let (_, method, _) = req(&reduce(&mut s, key('p'), T0 + 2_000));
    assert_eq!(method, "Call.pauseRecording");
}

#[test]
fn what_has_no_recording_to_pause_says_why() {
    let mut s = state();
    assert!(reqs(&reduce(&mut s, key('p'), T0)).is_empty());
    assert_eq!(info(&s), "no session selected");
    reduce(&mut s, call_in("s-1", CallType::Phone), T0);
    assert!(reqs(&reduce(&mut s, key('p'), T0)).is_empty());
    assert_eq!(info(&s), "the session is ringing: nothing is recorded");
    let mut s = talking(CallType::Im);
    assert!(reqs(&reduce(&mut s, key('p'), T0 + 2_000)).is_empty());
    assert_eq!(info(&s), "a chat has no recording to pause");
}

#[test]
fn a_refused_pause_says_why() {
    let mut s = talking(CallType::Phone);
    let (id, _, _) = req(&reduce(&mut s, key('p'), T0 + 2_000));
    let e = ProtoError::new(ErrorCode::Forbidden, "not the session's agent");
    reduce(&mut s, Action::Response { id, result: Err(e) }, T0 + 2_100);
    assert!(!s.session("s-1").is_some_and(|x| x.recording_paused));
    assert!(s
        .errors
        .back()
        .is_some_and(|e| e.text == "Call.pauseRecording: not the session's agent"));
}
