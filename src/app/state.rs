//! Everything the agent terminal knows, in one value. The reducer changes it;
//! the UI draws it; nothing else touches it.

use std::collections::{BTreeMap, VecDeque};

use crate::protocol::{
    AgentStatus, CallIn, CallType, ChatMessage, CloseBy, Consult, Direction, Flow, MonitorInfo,
    SessionSnapshot, SessionState,
};

use super::keymap::Keymap;

/// How many request errors the status pane keeps.
pub const MAX_ERRORS: usize = 5;
/// How many transcript lines a session keeps (older ones scroll away).
pub const MAX_TRANSCRIPT: usize = 2000;

/// Who is logged in, as the login result says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Me {
    pub user_id: String,
    pub role: String,
    pub tab_uuid: Option<String>,
    pub skill_groups: Vec<String>,
    pub enable_shared: bool,
    /// Where this seat's call audio goes, and what it can choose from (from
    /// the server; `None` before login or from a server that does not say).
    pub seat: Option<crate::protocol::SeatDevices>,
}

/// The connection to the server.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    /// Connecting (attempt 1 is the first try).
    Connecting { attempt: u32 },
    /// Logged in since `since` (unix ms).
    Online { since: u64 },
    /// Lost; the next attempt is at `retry_at` (unix ms).
    Lost {
        reason: String,
        attempt: u32,
        retry_at: u64,
    },
}

/// View modes: the SDK's UI calls mapped onto a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewMode {
    /// All panes (showWorkbench).
    Workbench,
    /// One line (showfloatButton / hideWorkbench).
    Compact,
    /// Nothing but a one-line hint (UI.hide).
    Hidden,
}

/// `UI.updateUserCustomSettings` and the notification bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// No terminal bell on callIn.
    pub disable_ringtone: bool,
    /// No desktop notification (OSC 777 / OSC 9) on callIn.
    pub disable_notification: bool,
    /// The call bar (the SDK's notification bar / call toolbar) is shown.
    pub toolbar: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            disable_ringtone: false,
            disable_notification: false,
            toolbar: true,
        }
    }
}

/// Which pane takes the arrow keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Queue,
    Transcript,
}

/// One line of a transcript: a sentence of the `asr` stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechLine {
    pub flow: Flow,
    pub index: u32,
    pub text: String,
    pub is_final: bool,
    /// Milliseconds from the session's start.
    pub start_time: u64,
    /// Keys the caller pressed on the phone (`digits`), not speech: `text`
    /// holds them in order.
    pub keys: bool,
}

/// A session type in words (the wire says `im` for a chat).
pub fn kind_word(k: CallType) -> &'static str {
    match k {
        CallType::Phone => "phone call",
        CallType::Im => "chat",
        CallType::Voip => "VoIP call",
        CallType::Video => "video call",
        CallType::Internal => "internal call",
    }
}

/// Where a session stands as this terminal sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Ringing,
    Dialing,
    Talking,
    Held,
    Ended,
}

impl Phase {
    pub fn from_state(s: SessionState) -> Phase {
        match s {
            SessionState::Queued | SessionState::Ringing => Phase::Ringing,
            SessionState::Dialing => Phase::Dialing,
            SessionState::Talking => Phase::Talking,
            SessionState::Held => Phase::Held,
            SessionState::Ended => Phase::Ended,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Phase::Ringing => "ringing",
            Phase::Dialing => "dialing",
            Phase::Talking => "talking",
            Phase::Held => "held",
            Phase::Ended => "ended",
        }
    }
    pub fn is_active(self) -> bool {
        matches!(self, Phase::Dialing | Phase::Talking | Phase::Held)
    }
}

/// One session in this agent's list.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: String,
    pub kind: CallType,
    pub direction: Direction,
    pub phase: Phase,
    pub call_in: CallIn,
    /// Unix ms.
    pub started_at: u64,
    pub accepted_at: Option<u64>,
    pub ended_at: Option<u64>,
    /// While ringing: when the offer times out (unix ms), if it does.
    pub ring_deadline: Option<u64>,
    pub mic_muted: bool,
    pub video_muted: bool,
    pub close_by: Option<CloseBy>,
    /// Why it left this agent when the server did not end it: missed,
    /// declined, transferred away, ended while disconnected.
    pub note: Option<String>,
    /// The server no longer lists it (deleting it is local only).
    pub local_only: bool,
    pub transcript: Vec<SpeechLine>,
    pub messages: Vec<ChatMessage>,
    /// Lines scrolled back from the bottom of the transcript; 0 follows.
    pub scroll: usize,
    /// The chat input line.
    pub draft: String,
    /// Digits sent with the DTMF pad.
    pub digits: String,
    /// Another tab of this agent took the session, so its audio is there
    /// (multi-tab login): this tab only shows it.
    pub audio_elsewhere: bool,
    /// The caller's earlier sessions (`Contact.history`), once answered.
    pub history: Option<Vec<crate::protocol::HistoryEntry>>,
    /// The consult this session is part of (the customer's session or its
    /// consult leg), as the server last showed it.
    pub consult: Option<Consult>,
    /// A chat's customer messages that arrived while it was not the
    /// selected session (`chatMessage`); selecting it reads them.
    pub unread: usize,
    /// The recording (and the transcript) is paused, say while the
    /// customer reads out a card number (`Call.pauseRecording`).
    pub recording_paused: bool,
    /// The supervisors monitoring the session and how (listen, coach,
    /// barge, or text), as the server last showed it.
    pub monitored_by: Vec<MonitorInfo>,
}

impl Session {
    pub fn new(id: String, kind: CallType, direction: Direction, phase: Phase, now: u64) -> Self {
        Session {
            call_in: CallIn {
                session_id: id.clone(),
                kind,
                ..CallIn::default()
            },
            id,
            kind,
            direction,
            phase,
            started_at: now,
            accepted_at: None,
            ended_at: None,
            ring_deadline: None,
            mic_muted: false,
            video_muted: false,
            close_by: None,
            note: None,
            local_only: false,
            transcript: Vec::new(),
            messages: Vec::new(),
            scroll: 0,
            draft: String::new(),
            digits: String::new(),
            history: None,
            audio_elsewhere: false,
            consult: None,
            unread: 0,
            recording_paused: false,
            monitored_by: Vec::new(),
        }
    }

    /// Take the server's view; keep what only this terminal has (transcript, draft).
    pub fn apply_snapshot(&mut self, s: &SessionSnapshot, now: u64) {
        self.kind = s.kind;
        self.direction = s.direction;
        self.phase = Phase::from_state(s.state);
        self.call_in = s.call_in.clone();
        self.started_at = s.started_at;
        self.accepted_at = s.accepted_at;
        self.ended_at = s.ended_at;
        self.mic_muted = s.mic_muted;
        self.video_muted = s.video_muted;
        self.close_by = s.close_by;
        self.consult = s.consult.as_deref().cloned();
        self.recording_paused = s.recording_paused;
        self.monitored_by = s.monitored_by.clone();
        self.local_only = false;
        self.ring_deadline = match self.phase {
            Phase::Ringing if s.call_in.timeout > 0 => {
                Some(now.saturating_add(s.call_in.timeout.saturating_mul(1000)))
            }
            _ => None,
        };
        if !s.messages.is_empty() || self.kind == CallType::Im {
            self.messages = s.messages.clone();
        }
    }

    /// Who is on the other end, in a few words: nickname, then the masked
    /// number where the server sent one, then the number, then the user.
    pub fn peer(&self) -> String {
        let c = &self.call_in;
        if c.consult_of.is_some() {
            // A consult leg's number is the customer's: the peer is the colleague.
            if let Some(u) = &c.peer_user_id {
                return u.clone();
            }
        }
        let number = match self.direction {
            Direction::Outbound => c
                .protected_callee
                .as_ref()
                .or(c.callee_phone_number.as_ref()),
            _ => c
                .protected_caller
                .as_ref()
                .or(c.caller_phone_number.as_ref()),
        };
        let who = c
            .nickname
            .as_ref()
            .or(c.peer_user_id.as_ref())
            .or(c.user_id.as_ref());
        match (who, number) {
            (Some(w), Some(n)) if w != n => format!("{w} {n}"),
            (Some(w), _) => w.clone(),
            (None, Some(n)) => n.clone(),
            (None, None) => match self.kind {
                CallType::Im => "chat visitor".into(),
                _ => "unknown".into(),
            },
        }
    }

    pub fn is_ended(&self) -> bool {
        self.phase == Phase::Ended
    }

    /// A queued callback (`callIn.callback`): the number the accept dials.
    pub fn callback(&self) -> Option<&str> {
        self.call_in.callback.as_deref()
    }

    /// A chat in progress (accepted, not ended).
    pub fn is_open_chat(&self) -> bool {
        self.kind == CallType::Im && self.phase.is_active()
    }

    /// A consult leg (`callIn.consultOf`): the customer's session it is about.
    pub fn consult_of(&self) -> Option<&str> {
        self.call_in.consult_of.as_deref()
    }

    /// For a consult leg, the customer it is about as the offer gave them
    /// (nickname, masked number, number), when it did.
    pub fn consult_about(&self) -> Option<String> {
        self.consult_of()?;
        let c = &self.call_in;
        let number = c
            .protected_caller
            .as_ref()
            .or(c.caller_phone_number.as_ref());
        match (&c.nickname, number) {
            (Some(w), Some(n)) if w != n => Some(format!("{w} {n}")),
            (Some(w), _) => Some(w.clone()),
            (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        }
    }
}

/// What a pending request was for, so that its answer can be shown.
#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    Plain,
    /// `Call.startInternalCall` to this user: the answer carries the session id.
    InternalCall {
        callee: String,
    },
    /// `Call.startOutboundCall`: the answer carries the CallResponse.
    Outbound,
    /// `Call.deleteCall`: remove the session when it succeeds.
    Delete {
        session_id: String,
    },
    /// `Chat.sendMessage`: restore the draft if it fails.
    ChatSend {
        session_id: String,
        text: String,
    },
    /// `Supervisor.subscribe`: the answer is the wallboard.
    Subscribe,
    /// Says `text` when the request succeeds (its error otherwise).
    Done {
        text: String,
    },
    /// `Call.monitor`: the panel is confirmed in that mode (text only, or
    /// audio to listen, coach or barge), or removed on error (unless it was
    /// a switch of mode).
    Monitor {
        session_id: String,
        mode: crate::protocol::MonitorMode,
    },
    /// `Supervisor.report` by agent or by group: one table of the report
    /// view.
    Report {
        by: crate::protocol::ReportBy,
    },
    /// `Call.intercept`: the answer is the session, now ours.
    Intercept {
        session_id: String,
    },
    /// `Media.offer`: the answer goes to the session's audio.
    MediaOffer {
        session_id: String,
    },
    /// `Contact.history` for a session's caller: shown in its transcript
    /// pane; a failure is not the agent's business (an older server).
    History {
        session_id: String,
    },
    /// `Call.consult` about this customer session, with `target` (a
    /// colleague or a skill group): the answer is said in the info line.
    Consult {
        session_id: String,
        target: String,
    },
    /// `Agent.subscribeDirectory` / `Agent.unsubscribeDirectory` for the
    /// transfer and internal-call dialogs; a failure (an older server)
    /// leaves them as they were.
    Directory,
    Undirectory,
    /// `Agent.requestHelp`: a failure takes the request back.
    Help,
}

/// The agent's request for help (`Agent.requestHelp`), from the ask until
/// a supervisor is on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Help {
    /// Asked at `at` (unix ms), about a session or not; no supervisor has
    /// acknowledged it yet.
    Asked { at: u64, session_id: Option<String> },
    /// `by` acknowledged it at `at`: they are coming (until they monitor
    /// one of the agent's sessions, or a while has passed).
    Coming { by: String, at: u64 },
}

/// Colleagues and skill groups, as the server last listed them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Directory {
    pub agents: Vec<crate::protocol::DirectoryAgent>,
    pub groups: Vec<crate::protocol::DirectoryGroup>,
    /// Subscribed on this connection (while a dialog that lists them is open).
    pub subscribed: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub method: String,
    pub purpose: Purpose,
}

/// A failed request or other problem worth showing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub at: u64,
    pub text: String,
}

/// Items of the status menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusChoice {
    Free,
    Rest,
    Arrange,
    NotReady,
    StopNotReady,
    Online,
    Offline,
}

impl StatusChoice {
    pub const ALL: [StatusChoice; 7] = [
        StatusChoice::Free,
        StatusChoice::Rest,
        StatusChoice::Arrange,
        StatusChoice::NotReady,
        StatusChoice::StopNotReady,
        StatusChoice::Online,
        StatusChoice::Offline,
    ];
    pub fn label(self) -> &'static str {
        match self {
            StatusChoice::Free => "free: take calls",
            StatusChoice::Rest => "rest: a break, with a reason",
            StatusChoice::Arrange => "arrange: after-call work",
            StatusChoice::NotReady => "notReady: busy, no offers",
            StatusChoice::StopNotReady => "stopNotReady: end notReady",
            StatusChoice::Online => "online: start taking calls",
            StatusChoice::Offline => "offline: stop taking calls",
        }
    }
}

/// Items of the settings menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingChoice {
    Ringtone,
    Notification,
    Toolbar,
    Microphone,
    Speaker,
    CallAudio,
}

impl SettingChoice {
    pub const ALL: [SettingChoice; 6] = [
        SettingChoice::Ringtone,
        SettingChoice::Notification,
        SettingChoice::Toolbar,
        SettingChoice::Microphone,
        SettingChoice::Speaker,
        SettingChoice::CallAudio,
    ];
}

/// Where a seat's call audio can go (the SDK's serverType values), in the
/// order the settings list them.
pub const SEAT_TYPES: [&str; 3] = ["staffSeat", "staffExtensionSeat", "staffPhoneSeat"];

/// A serverType in words.
pub fn seat_type_words(server_type: &str) -> &'static str {
    match server_type {
        "staffExtensionSeat" => "desk phone",
        "staffPhoneSeat" => "mobile",
        _ => "terminal",
    }
}

/// Where a transfer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferTo {
    SkillGroup,
    Agent,
    /// An outside number (a consult only).
    Number,
}

/// The open dialog, if any (one at a time).
#[derive(Debug, Clone, PartialEq)]
pub enum Dialog {
    /// The transfer dialog; with `consult` the same list picks whom to
    /// consult (`Call.consult`: the customer holds meanwhile) instead.
    Transfer {
        session_id: String,
        to: TransferTo,
        input: String,
        consult: bool,
    },
    Dtmf {
        session_id: String,
    },
    Dial {
        number: String,
    },
    Internal {
        user: String,
    },
    Status {
        cursor: usize,
    },
    /// A session's wrap-up: a code (picked from `codes`, or typed when the
    /// group has none) and notes.
    WrapUp {
        session_id: String,
        codes: Vec<String>,
        cursor: usize,
        /// The code typed, when there are no codes to pick from.
        code: String,
        notes: String,
        /// The notes line has the keyboard (Tab switches).
        on_notes: bool,
    },
    RestReason {
        cursor: usize,
    },
    Settings {
        cursor: usize,
    },
    /// Where the call audio goes: the terminal, a desk phone, the mobile.
    SeatType {
        cursor: usize,
    },
    /// Pick the microphone or the speaker: "system default", then the
    /// devices found (None while they are being listed).
    Device {
        dir: DeviceDir,
        cursor: usize,
        devices: Option<Vec<crate::media::device::DeviceInfo>>,
    },
    ConfirmQuit,
    /// Ask a supervisor for help, about a session (the selected one when
    /// it is in progress) or not, with a short note (optional).
    AskHelp {
        session_id: Option<String>,
        text: String,
    },
    /// Supervisor: an agent's skill groups, every group of the wallboard
    /// in `groups` (and any other the agent is in), `checked` beside each;
    /// Enter sends them (`Supervisor.setSkillGroups`).
    SkillGroups {
        user_id: String,
        groups: Vec<String>,
        checked: Vec<bool>,
        cursor: usize,
    },
    /// Supervisor (admins): add a user, set a password, remove a seat.
    Users(UsersDialog),
    /// Supervisor: take this session over?
    ConfirmIntercept {
        session_id: String,
    },
    Help {
        scroll: usize,
    },
}

/// The console's user management (`Supervisor.addUser`,
/// `Supervisor.setPassword`, `Supervisor.removeUser`; admins only, the
/// server refuses anyone else). Passwords are shown as dots and never in
/// its Debug.
#[derive(Clone, PartialEq)]
pub enum UsersDialog {
    /// What to do: with an agent selected, set their password or remove
    /// them; always, add a user.
    Menu {
        user_id: Option<String>,
        cursor: usize,
    },
    /// A new password for `user_id`, typed twice.
    Password {
        user_id: String,
        first: String,
        again: String,
        on_again: bool,
    },
    /// Remove `user_id` from the center?
    Remove { user_id: String },
    /// A new user: Tab moves between the fields.
    Add(NewUser),
}

/// The fields of a new user (the add dialog).
#[derive(Clone, PartialEq, Default)]
pub struct NewUser {
    pub id: String,
    pub name: String,
    /// Index into [`NewUser::ROLES`].
    pub role: usize,
    /// Skill group ids, separated by commas or spaces.
    pub groups: String,
    /// Optional: empty leaves the user to log in with a token.
    pub password: String,
    /// The field with the keyboard, in the order of [`NewUser::FIELDS`].
    pub field: usize,
}

impl NewUser {
    pub const FIELDS: [&'static str; 5] = ["User id", "Name", "Role", "Skill groups", "Password"];
    pub const ROLES: [&'static str; 3] = ["agent", "admin", "inspector"];
}

impl UsersDialog {
    /// The menu's items: for a selected agent, their password and their
    /// removal; always, a new user.
    pub fn menu(user_id: Option<&str>) -> Vec<String> {
        let mut items = Vec::new();
        if let Some(u) = user_id {
            items.push(format!("Set {u}'s password"));
            items.push(format!("Remove {u} from the center"));
        }
        items.push("Add a user".to_string());
        items
    }
}

impl std::fmt::Debug for UsersDialog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UsersDialog::Menu { user_id, cursor } => f
                .debug_struct("Menu")
                .field("user_id", user_id)
                .field("cursor", cursor)
                .finish(),
            UsersDialog::Password { user_id, .. } => f
                .debug_struct("Password")
                .field("user_id", user_id)
                .finish_non_exhaustive(),
            UsersDialog::Remove { user_id } => {
                f.debug_struct("Remove").field("user_id", user_id).finish()
            }
            UsersDialog::Add(u) => f
                .debug_struct("Add")
                .field("id", &u.id)
                .field("field", &u.field)
                .finish_non_exhaustive(),
        }
    }
}

/// Why the program ends, and with which exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    pub code: u8,
    pub message: Option<String>,
}

/// What the terminal can show (found by the start-up check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub unicode: bool,
    pub color: bool,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            unicode: true,
            color: true,
        }
    }
}

/// The whole state of the agent terminal.
#[derive(Debug, Clone)]
pub struct State {
    pub me: Me,
    pub server: String,
    pub status: Option<AgentStatus>,
    pub rest_reason: Option<String>,
    /// Colleagues and groups for the transfer and internal-call dialogs
    /// (fetched as they open).
    pub directory: Directory,
    /// The after-call work we are in (status `arrange` after a session):
    /// for which session, until when, the wrap-up codes to pick from.
    pub after_call_work: Option<crate::protocol::AfterCallWork>,
    /// When the status last changed (unix ms).
    pub status_since: u64,
    /// This agent's request for help, while it is open or answered.
    pub help: Option<Help>,
    pub link: Link,
    /// Sessions in the order they arrived.
    pub sessions: Vec<Session>,
    /// The selected session's id.
    pub selected: Option<String>,
    pub focus: Focus,
    /// Chat input line has the keyboard.
    pub typing: bool,
    pub dialog: Option<Dialog>,
    pub mode: ViewMode,
    pub settings: Settings,
    pub errors: VecDeque<Notice>,
    /// The last informational message (transfer done, offer missed, ...).
    pub info: Option<Notice>,
    /// The ringing session the info line announces (cleared once accepted).
    pub info_about: Option<String>,
    pub pending: BTreeMap<u64, Pending>,
    pub next_request: u64,
    pub rest_reasons: Vec<String>,
    pub keymap: Keymap,
    pub caps: Caps,
    /// Start-up check findings shown in the status pane.
    pub warnings: Vec<String>,
    pub exit: Option<Exit>,
    /// Something visible changed since the last frame.
    pub dirty: bool,
    /// The time of the last action (unix ms): what timers are drawn against.
    pub now: u64,
    /// The supervisor console's wallboard and monitors (None in the agent terminal).
    pub board: Option<super::board::Board>,
    /// Call audio: which sessions have it and how it is doing.
    pub audio: Audio,
}

/// How the terminal plays and captures audio.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AudioSetting {
    /// No audio at all: calls are controlled, the sound goes nowhere.
    Off,
    /// The sound card (cpal), or a silent null device when there is none.
    #[default]
    System,
    /// A silent null device: audio flows to and from the server, nothing is
    /// played (for servers and tests).
    Null,
}

/// The terminal's call audio (see `reduce/audio.rs`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Audio {
    pub setting: AudioSetting,
    /// Device names from the config (None: the system default).
    pub microphone: Option<String>,
    pub speaker: Option<String>,
    /// By session id: the sessions that have audio now.
    pub calls: BTreeMap<String, CallAudio>,
    /// Why the devices are not the sound card (said once, kept in the status pane).
    pub notice: Option<String>,
    /// The device kind last opened.
    pub device: Option<crate::media::device::AudioKind>,
    /// The config file a device picked in the terminal is saved to (None:
    /// the choice lasts until the terminal quits).
    pub config: Option<std::path::PathBuf>,
}

/// Which of the two devices a picker is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceDir {
    Microphone,
    Speaker,
}

impl DeviceDir {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceDir::Microphone => "microphone",
            DeviceDir::Speaker => "speaker",
        }
    }
}

/// One session's audio.
#[derive(Debug, Clone, PartialEq)]
pub struct CallAudio {
    pub phase: AudioPhase,
    /// What the audio task was last told.
    pub muted: bool,
    pub held: bool,
    pub stats: crate::media::call::AudioStats,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AudioPhase {
    /// Making the offer.
    Starting,
    /// `Media.offer` sent; waiting for the answer.
    Offered,
    /// Answer in hand; connecting or connected (see the stats' state).
    Running,
    /// It stopped; the call goes on without audio.
    Failed(String),
}

impl State {
    pub fn new(server: String, user: String, keymap: Keymap, now: u64) -> Self {
        State {
            me: Me {
                user_id: user,
                ..Me::default()
            },
            server,
            status: None,
            rest_reason: None,
            after_call_work: None,
            directory: Directory::default(),
            status_since: now,
            help: None,
            link: Link::Connecting { attempt: 1 },
            sessions: Vec::new(),
            selected: None,
            focus: Focus::Queue,
            typing: false,
            dialog: None,
            mode: ViewMode::Workbench,
            settings: Settings::default(),
            errors: VecDeque::new(),
            info: None,
            info_about: None,
            pending: BTreeMap::new(),
            next_request: 1,
            rest_reasons: vec!["Meal".into(), "Meeting".into(), "Training".into()],
            keymap,
            caps: Caps::default(),
            warnings: Vec::new(),
            exit: None,
            dirty: true,
            now,
            board: None,
            audio: Audio::default(),
        }
    }

    pub fn session(&self, id: &str) -> Option<&Session> {
        self.sessions.iter().find(|s| s.id == id)
    }

    pub fn session_mut(&mut self, id: &str) -> Option<&mut Session> {
        self.sessions.iter_mut().find(|s| s.id == id)
    }

    pub fn selected_session(&self) -> Option<&Session> {
        self.selected.as_deref().and_then(|id| self.session(id))
    }

    /// The consult `id` is part of, as the customer's session or as its
    /// consult leg, while it lasts: as the customer's session shows it
    /// when that is here, else as the leg does.
    pub fn consult_for(&self, id: &str) -> Option<&Consult> {
        let s = self.session(id).filter(|s| !s.is_ended())?;
        let from_customer = s
            .consult_of()
            .and_then(|of| self.session(of))
            .filter(|x| !x.is_ended())
            .and_then(|x| x.consult.as_ref())
            .filter(|c| c.consult_session_id == id);
        from_customer.or(s.consult.as_ref())
    }

    /// This agent started the consult (it is the one who can complete,
    /// conference or cancel it).
    pub fn consults(&self, c: &Consult) -> bool {
        c.from_user_id == self.me.user_id
    }

    /// The session whose microphone `s` uses: for the consulting agent on
    /// a consult leg, the customer's session, which carries its audio.
    pub fn microphone_of<'a>(&'a self, s: &'a Session) -> &'a Session {
        self.consult_for(&s.id)
            .filter(|c| self.consults(c) && c.consult_session_id == s.id)
            .and_then(|c| self.session(&c.session_id))
            .unwrap_or(s)
    }

    /// The other agent of a consult, as far as this terminal knows: for
    /// the one consulting, the colleague on its leg (else the one the
    /// server named, or the group); for the one consulted, who consults.
    pub fn consult_colleague(&self, c: &Consult) -> String {
        let agent = if self.consults(c) {
            self.session(&c.consult_session_id)
                .and_then(|leg| leg.call_in.peer_user_id.clone())
                .or_else(|| c.user_id.clone())
        } else {
            Some(c.from_user_id.clone())
        };
        agent
            .or_else(|| c.skill_group_id.as_ref().map(|g| format!("the {g} group")))
            .or_else(|| c.phone_number.clone())
            .unwrap_or_else(|| "a colleague".into())
    }

    pub fn selected_index(&self) -> Option<usize> {
        let id = self.selected.as_deref()?;
        self.sessions.iter().position(|s| s.id == id)
    }

    /// The supervisors monitoring this agent's sessions in progress, each
    /// once, in the most present of their modes (barge, coach, listen, text).
    pub fn monitored_by(&self) -> Vec<MonitorInfo> {
        use crate::protocol::MonitorMode;
        let rank = |m: MonitorMode| match m {
            MonitorMode::Text => 0,
            MonitorMode::Listen => 1,
            MonitorMode::Coach => 2,
            MonitorMode::Barge => 3,
        };
        let mut out: Vec<MonitorInfo> = Vec::new();
        let live = self.sessions.iter().filter(|s| s.phase.is_active());
        for m in live.flat_map(|s| &s.monitored_by) {
            match out.iter_mut().find(|o| o.user_id == m.user_id) {
                Some(o) if rank(m.mode) > rank(o.mode) => o.mode = m.mode,
                Some(_) => {}
                None => out.push(m.clone()),
            }
        }
        out
    }

    /// How many chats are in progress (an agent may have several).
    pub fn open_chats(&self) -> usize {
        self.sessions.iter().filter(|s| s.is_open_chat()).count()
    }

    /// Customer messages not read yet, over every chat.
    pub fn unread(&self) -> usize {
        self.sessions.iter().map(|s| s.unread).sum()
    }

    /// A session is in progress (ringing offers do not count).
    pub fn has_active(&self) -> bool {
        self.sessions.iter().any(|s| s.phase.is_active())
    }

    pub fn is_online(&self) -> bool {
        matches!(self.link, Link::Online { .. })
    }
}
