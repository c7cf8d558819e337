//! Pausing the recording for card payments (PCI): `Call.pauseRecording`
//! and `Call.resumeRecording`. While paused, the session's bridge writes
//! silence to the recording and feeds silence to the recogniser on both
//! flows, and no transcript is made from text; the record keeps each span.

use super::*;
use crate::server::records::RecordingPause;

impl Center {
    /// `Call.pauseRecording` (`pause`) or `Call.resumeRecording`.
    pub(super) fn pause_recording(&mut self, user: &str, sid: &str, pause: bool) -> Reply {
        let s = self.active_session(user, sid, Ns::Call)?;
        if !s.kind.is_voice() {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is a chat: it has no recording"
            )));
        }
        if s.agent.as_deref() != Some(user) {
            return Err(ProtoError::forbidden(format!(
                "only the agent handling session {sid} pauses or resumes its recording"
            )));
        }
        let now_ms = self.clock.now_ms();
        match (pause, s.recording_paused) {
            (true, Some(_)) => {
                return Err(ProtoError::invalid_state(format!(
                    "the recording of session {sid} is already paused"
                )))
            }
            (false, None) => {
                return Err(ProtoError::invalid_state(format!(
                    "the recording of session {sid} is not paused"
                )))
            }
            _ => {}
        }
        if let Some(s) = self.sessions.get_mut(sid) {
            match s.recording_paused.take() {
                Some(start) => s
                    .recording_pauses
                    .push(RecordingPause { start, end: now_ms }),
                None => s.recording_paused = Some(now_ms),
            }
        }
        tracing::info!(session = %sid, %user, paused = pause, "recording");
        self.emit_session_updated(sid);
        Ok(None)
    }

    /// A session ending while paused keeps the pause, up to its end.
    pub(super) fn close_recording_pause(&mut self, sid: &str, end: u64) {
        if let Some(s) = self.sessions.get_mut(sid) {
            if let Some(start) = s.recording_paused.take() {
                s.recording_pauses.push(RecordingPause { start, end });
            }
        }
    }

    /// The recording and the transcript of `sid` are paused now.
    pub(super) fn recording_paused(&self, sid: &str) -> bool {
        self.sessions
            .get(sid)
            .is_some_and(|s| s.recording_paused.is_some())
    }
}
