//! Events the server pushes, and the data structures they carry.

use serde::{Deserialize, Serialize};

/// The five session types of `callIn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CallType {
    #[default]
    Phone,
    Im,
    Voip,
    Video,
    Internal,
}

impl CallType {
    pub fn as_str(self) -> &'static str {
        match self {
            CallType::Phone => "phone",
            CallType::Im => "im",
            CallType::Voip => "voip",
            CallType::Video => "video",
            CallType::Internal => "internal",
        }
    }
    /// Sessions that carry a voice (and so a transcript, hold, mute, DTMF).
    pub fn is_voice(self) -> bool {
        !matches!(self, CallType::Im)
    }
}

/// Agent statuses (the SDK's AgentStatus plus `offline`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AgentStatus {
    Free,
    Busy,
    Arrange,
    NotReady,
    Rest,
    Offline,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Free => "free",
            AgentStatus::Busy => "busy",
            AgentStatus::Arrange => "arrange",
            AgentStatus::NotReady => "notReady",
            AgentStatus::Rest => "rest",
            AgentStatus::Offline => "offline",
        }
    }
}

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SessionState {
    /// Waiting in a skill group's queue.
    Queued,
    /// Offered to an agent who has not accepted yet.
    Ringing,
    /// An outbound or internal call the far end has not answered yet.
    Dialing,
    Talking,
    Held,
    Ended,
}

impl SessionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Queued => "queued",
            SessionState::Ringing => "ringing",
            SessionState::Dialing => "dialing",
            SessionState::Talking => "talking",
            SessionState::Held => "held",
            SessionState::Ended => "ended",
        }
    }
}

/// Which side of the session the session is seen from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    Inbound,
    Outbound,
    Internal,
}

/// One step of a caller's IVR path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IvrNode {
    pub key: String,
    pub label: String,
}

/// `callIn` data: the fields of all five types; each type sends the ones the
/// SDK lists for it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallIn {
    pub session_id: String,
    #[serde(rename = "type")]
    pub kind: CallType,
    /// Seconds the agent has to accept; 0 means no timeout.
    pub timeout: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callee_phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ivr_path: Option<Vec<IvrNode>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected_callee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected_caller: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_source: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callee_remark: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_user_id: Option<String>,
    /// Extension: the contact's attributes the trunk gave (`Customer.call`
    /// `attributes`): account tier, order number, what the IVR learnt.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attributes: std::collections::BTreeMap<String, String>,
    /// Extension: this internal call is a consult about that customer
    /// session (`Call.consult`); the customer's number and attributes come
    /// with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consult_of: Option<String>,
    /// Extension: a queued callback (`Customer.requestCallback`): the
    /// number the server dials when the agent accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<String>,
}

/// Extension: a consult in progress, as both sessions it links show it
/// (the customer's and the consult leg's `sessionUpdated`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Consult {
    /// The customer's session, held while the agents talk.
    pub session_id: String,
    /// The consult leg: an internal call between the two agents.
    pub consult_session_id: String,
    /// The agent who consults.
    pub from_user_id: String,
    /// The agent consulted (for a skill group, the agent it rings at).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    pub phase: ConsultPhase,
}

/// Extension: one supervisor monitoring a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorInfo {
    pub user_id: String,
    pub mode: super::methods::MonitorMode,
}

/// Where a consult is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ConsultPhase {
    /// The target has not answered; the customer holds.
    Ringing,
    /// The agents talk; the customer holds and hears the hold sound.
    Talking,
    /// All three talk.
    Conference,
}

impl ConsultPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsultPhase::Ringing => "ringing",
            ConsultPhase::Talking => "talking",
            ConsultPhase::Conference => "conference",
        }
    }
}

/// `sessionEnded` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionEnded {
    pub session_id: String,
    pub close_by: CloseBy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_reason: Option<String>,
}

/// Who ended a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CloseBy {
    Client,
    Seat,
    Admin,
    Timer,
}

impl CloseBy {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseBy::Client => "client",
            CloseBy::Seat => "seat",
            CloseBy::Admin => "admin",
            CloseBy::Timer => "timer",
        }
    }
}

/// `callOuted` data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallOuted {
    pub session_id: String,
    pub caller_phone_number: String,
    pub callee_phone_number: String,
    pub server_type: String,
    #[serde(rename = "tabUUID", default, skip_serializing_if = "Option::is_none")]
    pub tab_uuid: Option<String>,
}

/// Speech direction: IN is the customer, OUT the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Flow {
    #[serde(rename = "IN")]
    In,
    #[serde(rename = "OUT")]
    Out,
}

/// One recognition result (modelled on Tencent real-time ASR).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AsrResult {
    /// The sentence's number within the session and flow, from 0.
    pub index: u32,
    /// 0: the sentence starts, 1: partial (text so far), 2: final.
    pub slice_type: u8,
    /// Milliseconds from the session's start.
    pub start_time: u64,
    pub end_time: u64,
    pub text: String,
}

/// Who wrote a chat line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChatFrom {
    Client,
    Seat,
}

/// `chatMessage` data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub session_id: String,
    pub from: ChatFrom,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub text: String,
    /// Unix milliseconds.
    pub timestamp: u64,
}

/// What a seat sees of one of its sessions: the login snapshot's entries and
/// the extension event `sessionUpdated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSnapshot {
    pub session_id: String,
    #[serde(rename = "type")]
    pub kind: CallType,
    pub state: SessionState,
    pub direction: Direction,
    /// The `callIn` data of the session (timeout: the seconds left to accept while ringing).
    pub call_in: CallIn,
    /// Unix ms when the session was created.
    pub started_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<u64>,
    pub mic_muted: bool,
    pub video_muted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_by: Option<CloseBy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<ChatMessage>,
    /// Extension: the consult this session is part of, while it lasts
    /// (boxed: most sessions have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consult: Option<Box<Consult>>,
    /// Extension: the recording (and the transcript) is paused
    /// (`Call.pauseRecording`), say while the customer reads a card number.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub recording_paused: bool,
    /// Extension: the supervisors monitoring the session and how (the
    /// agent sees who listens, coaches or barged in).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monitored_by: Vec<MonitorInfo>,
    /// Extension: the session's audio bridge runs, so a seat's WebRTC leg
    /// to it, if it has one, still carries the call (after a reconnect or
    /// a cluster's failover, offer again only when this is false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub audio_running: bool,
}

/// Every event of the contract plus ccdesk's extensions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "event",
    content = "data",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Event {
    Ready {
        #[serde(rename = "tabUUID")]
        tab_uuid: String,
    },
    TokenExpired {
        message: String,
    },
    CallIn(CallIn),
    UserAccessed {
        session_id: String,
        #[serde(rename = "tabUUID", default, skip_serializing_if = "Option::is_none")]
        tab_uuid: Option<String>,
    },
    AutoTransfer {
        session_id: String,
    },
    SessionEnded(SessionEnded),
    CallOuted(CallOuted),
    CalloutAccepted {
        session_id: String,
    },
    Transfer {
        session_id: String,
    },
    StatusChanged {
        status: AgentStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rest_reason: Option<String>,
        /// Extension: with `arrange` after a session, its after-call work.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_call_work: Option<super::AfterCallWork>,
    },
    KickedOut {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    Asr {
        session_id: String,
        flow: Flow,
        result: AsrResult,
    },
    ChatMessage(ChatMessage),
    /// Extension: a seat's session changed state (hold, mute, camera), sent
    /// to every tab of the agent so that all tabs agree.
    SessionUpdated(SessionSnapshot),
    /// Extension, to supervisors: an agent asks for help.
    HelpRequested {
        user_id: String,
        #[serde(flatten)]
        request: super::wallboard::HelpRequest,
    },
    /// Extension, to the agent and the supervisors: a supervisor
    /// acknowledged the agent's request for help.
    HelpAcknowledged {
        user_id: String,
        by: String,
    },
    /// Trunk: an agent called out.
    Dial {
        session_id: String,
        phone_number: String,
        caller_phone_number: String,
        /// Extension: `Call.startOutboundCall`'s `uui` (a SIP trunk sends it
        /// in a `User-to-User` header).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        uui: Option<String>,
    },
    /// Trunk: DTMF digits from the agent.
    Digits {
        session_id: String,
        dtmf_text: String,
    },
    /// Extension (supervisors who called `Supervisor.subscribe`): what
    /// changed on the wallboard.
    Wallboard(super::WallboardDelta),
    /// Extension (connections that called `Agent.subscribeDirectory`): the
    /// colleagues and skill groups that changed.
    Directory(super::DirectoryDelta),
    /// Extension (a seat's tabs): where its call audio goes, or whether a
    /// desk phone is registered for it, changed.
    SeatChanged(super::SeatDevices),
    /// Extension (the phone trunk): ring a seat's phone for a session: its
    /// desk phones (`staffExtensionSeat`) or its mobile, `phoneNumber`
    /// (`staffPhoneSeat`).
    RingPhone {
        session_id: String,
        user_id: String,
        server_type: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        phone_number: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caller_phone_number: Option<String>,
    },
    /// Extension (the phone trunk): stop ringing, or hang up, the seat's
    /// phone for a session.
    PhoneHangUp {
        session_id: String,
        user_id: String,
    },
    /// Extension (a node of a cluster): the center moved to another node,
    /// which logged this connection in again: the result a login gets
    /// (a reconnect's snapshot). Sessions it does not list have ended;
    /// subscriptions (`Supervisor.subscribe`, `Agent.subscribeDirectory`)
    /// are to be made again.
    LoggedInAgain(super::LoginResult),
}

impl Event {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
    pub fn name(&self) -> &'static str {
        match self {
            Event::Ready { .. } => "ready",
            Event::TokenExpired { .. } => "tokenExpired",
            Event::CallIn(_) => "callIn",
            Event::UserAccessed { .. } => "userAccessed",
            Event::AutoTransfer { .. } => "autoTransfer",
            Event::SessionEnded(_) => "sessionEnded",
            Event::CallOuted(_) => "callOuted",
            Event::CalloutAccepted { .. } => "calloutAccepted",
            Event::Transfer { .. } => "transfer",
            Event::StatusChanged { .. } => "statusChanged",
            Event::KickedOut { .. } => "kickedOut",
            Event::LoggedInAgain(_) => "loggedInAgain",
            Event::Asr { .. } => "asr",
            Event::ChatMessage(_) => "chatMessage",
            Event::SessionUpdated(_) => "sessionUpdated",
            Event::HelpRequested { .. } => "helpRequested",
            Event::HelpAcknowledged { .. } => "helpAcknowledged",
            Event::Dial { .. } => "dial",
            Event::Digits { .. } => "digits",
            Event::Wallboard(_) => "wallboard",
            Event::Directory(_) => "directory",
            Event::SeatChanged(_) => "seatChanged",
            Event::RingPhone { .. } => "ringPhone",
            Event::PhoneHangUp { .. } => "phoneHangUp",
        }
    }
}
