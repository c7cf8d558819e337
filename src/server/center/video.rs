//! The SDK's `Video.*` methods. A video session is a voice session with a
//! camera: accepting, ending, muting and transferring share the code of
//! `Call.*` (call.rs), checked against the video namespace.

use super::*;

impl Center {
    /// The SDK's `Video.*` methods.
    pub(super) fn video_request(&mut self, conn: ConnId, user: &str, req: &Request) -> Reply {
        match req {
            Request::VideoAccept(p) => self.accept(conn, user, &p.session_id, Ns::Video),
            Request::VideoEnd(p) => self.hang_up(user, &p.session_id, Ns::Video),
            Request::VideoTransfer(p) => self.transfer(user, p, Ns::Video),
            Request::VideoMuteMic(p) => self.mute(user, &p.session_id, Ns::Video, Some(true), None),
            Request::VideoUnmuteMic(p) => {
                self.mute(user, &p.session_id, Ns::Video, Some(false), None)
            }
            Request::VideoMuteVideo(p) => {
                self.mute(user, &p.session_id, Ns::Video, None, Some(true))
            }
            Request::VideoUnmuteVideo(p) => {
                self.mute(user, &p.session_id, Ns::Video, None, Some(false))
            }
            other => Err(misrouted(other)),
        }
    }
}
