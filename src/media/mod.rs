//! Real audio: Opus, RTP over WebRTC, DTMF, jitter, audio devices.
//!
//! Shared by the server (the media anchor of every voice session) and the
//! agent terminal (one peer connection per session with the server).

pub mod analysis;
pub mod call;
pub mod codec;
pub mod device;
pub mod dtmf;
pub mod jitter;
pub mod rtc;

/// RTP clock of Opus and telephone-event, whatever the sample rate.
pub const RTP_CLOCK: u32 = 48_000;
/// Every packet carries 20 ms.
pub const FRAME_MS: u32 = 20;
/// RTP timestamp step of one frame.
pub const FRAME_TS: u32 = RTP_CLOCK / 1000 * FRAME_MS;

/// Samples in one 20 ms frame at `rate` Hz.
pub fn frame_len(rate: u32) -> usize {
    (rate / 1000 * FRAME_MS) as usize
}

/// What can go wrong in the media layer.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("opus: {0}")]
    Codec(String),
    #[error("audio device: {0}")]
    Device(String),
    #[error("webrtc: {0}")]
    Rtc(String),
    #[error("{0}")]
    Other(String),
}
