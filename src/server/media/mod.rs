//! The server as media anchor: one bridge task per voice session with
//! audio. Each seat in the session (and each audio monitor) holds one WebRTC
//! peer connection with it; the customer's side is a sound player on the
//! server. Every 20 ms the bridge takes one frame from each side, works out
//! what each side hears (mute, hold, monitors), sends it, and writes the
//! recording.
//!
//! The center decides *who* is in the call; the bridge only carries audio.
//! After every command the center compares each bridged session's [`Mix`]
//! with the one it last sent and sends the new one when it differs (the
//! same diffing as the wallboard), so no code path can forget to tell the
//! media.

mod bridge;
pub mod sound;

use std::path::PathBuf;

use tokio::sync::mpsc;

use crate::media::rtc::Peer;
use crate::protocol::ToneSpec;

use super::center::Command;

/// The server mixes and records at 16 kHz (wideband speech; what speech
/// recognisers take).
pub const RATE: u32 = 16_000;

/// What the customer's side plays.
#[derive(Debug, Clone, PartialEq)]
pub enum Sound {
    Asset(String),
    Tones(Vec<ToneSpec>),
}

/// Who is in the call and how: all the bridge needs to know.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mix {
    /// The session has a customer (every type but internal calls).
    pub customer: bool,
    /// Seats in the conversation, each with whether its microphone is muted.
    pub talkers: Vec<(String, bool)>,
    /// Audio monitors: hear both sides, send nothing that is heard.
    pub listeners: Vec<String>,
    /// On hold: the customer hears hold music, nothing else is carried.
    pub held: bool,
    /// The sound the customer last asked to play, with a number that changes
    /// on every `Customer.play` (so the same sound twice plays twice).
    pub sound: Option<(u32, Sound)>,
}

impl Mix {
    pub fn has(&self, user: &str) -> bool {
        self.talkers.iter().any(|(u, _)| u == user) || self.listeners.iter().any(|u| u == user)
    }
}

/// What the center tells a bridge.
pub enum BridgeCmd {
    Mix(Mix),
    /// A negotiated peer connection for `user` (replaces an earlier one).
    Leg {
        user: String,
        peer: Peer,
    },
    /// The session ended: close the peers, finish the recording.
    End,
}

/// The center's handle on a session's bridge.
pub struct Bridge {
    pub tx: mpsc::UnboundedSender<BridgeCmd>,
    pub last: Mix,
    pub recording: Option<PathBuf>,
}

impl Bridge {
    /// Start the bridge of session `sid`. `recording` is the file to write
    /// (its folder is created); `center` gets the DTMF digits heard.
    pub fn spawn(
        sid: &str,
        recording: Option<PathBuf>,
        center: mpsc::WeakUnboundedSender<Command>,
    ) -> Bridge {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = bridge::Task::new(sid.to_string(), recording.clone(), center);
        tokio::spawn(task.run(rx));
        Bridge {
            tx,
            last: Mix::default(),
            recording,
        }
    }

    /// Send `mix` if it differs from the last one sent.
    pub fn update(&mut self, mix: Mix) {
        if mix != self.last {
            self.last = mix.clone();
            let _ = self.tx.send(BridgeCmd::Mix(mix));
        }
    }
}

/// A DTMF digit a seat sent in-band (RFC 4733) on a session's audio.
#[derive(Debug)]
pub struct HeardDigit {
    pub session: String,
    pub user: String,
    pub digit: char,
}
