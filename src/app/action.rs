//! Everything that can happen to the agent terminal.

use crossterm::event::KeyEvent;
use serde_json::Value;

use crate::protocol::{Event, LoginResult, ProtoError};

/// The input of the reducer. (Short-lived: variant sizes do not matter.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A key press.
    Key(KeyEvent),
    /// Pasted text (goes to the open text field, if any).
    Paste(String),
    /// The terminal was resized.
    Resize,
    /// A clock tick: a visible timer may have moved.
    Tick,
    /// An event from the server.
    Server(Event),
    /// The answer to request `id`.
    Response {
        id: u64,
        result: Result<Option<Value>, ProtoError>,
    },
    /// The connection is being (re)established.
    Connecting { attempt: u32 },
    /// Logged in; the result carries the session snapshot.
    LoggedIn(LoginResult),
    /// The connection dropped; the next attempt is in `retry_in_ms`.
    Lost {
        reason: String,
        attempt: u32,
        retry_in_ms: u64,
    },
    /// The server refused the login for good (bad token, unknown user).
    Refused { message: String },
    /// A line for the status pane (the autopilot saying what it does).
    Note(String),
    /// The audio devices, listed for the device picker.
    Devices(crate::media::device::DeviceList),
    /// News from a session's audio task.
    Audio {
        session_id: String,
        event: crate::media::call::CallEvent,
    },
}

/// What the reducer asks the outside world to do. Effects are the only way
/// the reducer reaches the network or the terminal.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send request `id` to the server.
    Request {
        id: u64,
        method: &'static str,
        params: Value,
    },
    /// Ring the terminal bell (the ringtone).
    Bell,
    /// A desktop notification by escape sequence (OSC 777 / OSC 9).
    Notify { title: String, body: String },
    /// Leave the program (State::exit says how).
    Quit,
    /// Start the audio of a session (its task reports with Action::Audio).
    AudioStart { session_id: String },
    /// Tell a session's audio task something.
    AudioCmd {
        session_id: String,
        cmd: crate::media::call::CallCmd,
    },
    /// Stop a session's audio.
    AudioStop { session_id: String },
    /// List the audio devices (answered with Action::Devices).
    ListDevices,
    /// Write the devices to the config's `[audio]` table (None: the
    /// default), keeping the rest of the file as it is; the outcome comes
    /// back as an Action::Note.
    SaveDevices {
        path: std::path::PathBuf,
        microphone: Option<String>,
        speaker: Option<String>,
    },
}
