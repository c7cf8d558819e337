//! Every method of the contract with its parameters, and the results that
//! have a shape of their own.

use serde::{Deserialize, Serialize};

use super::events::{AgentStatus, CallType, IvrNode, SessionSnapshot, SessionState};

/// `{sessionId}`: the parameters of most session methods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionParams {
    pub session_id: String,
}

/// `Customer.reject`: the far end refused an outbound call; `reason`
/// (extension) becomes the session's `mainReason` (default `rejected`),
/// `detail` its `subReason`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectParams {
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// `Customer.requestCallback` (extension): a waiting caller asks to be
/// called back at `phoneNumber` (default: the caller's number) instead of
/// waiting on the line.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallbackParams {
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
}

/// `Agent.requestHelp` (extension): the agent asks a supervisor for help,
/// about one of their sessions or not, with a short text.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelpParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `{userId}`: a seat that a supervisor method acts on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserParams {
    pub user_id: String,
}

/// `Supervisor.setSkillGroups` (extension).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillGroupsParams {
    pub user_id: String,
    pub skill_groups: Vec<String>,
}

/// The fewest characters a password may have (`Supervisor.setPassword`,
/// `ccdesk user`).
pub const MIN_PASSWORD: usize = 10;

/// `Supervisor.setPassword` (extension): an administrator sets a user's
/// password. The server hashes it (argon2id) before the center sees it;
/// its Debug never shows the password or the hash.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetPasswordParams {
    pub user_id: String,
    pub password: String,
    /// The hash, filled in by the server's connection task; never read
    /// from the wire.
    #[serde(skip)]
    pub hash: Option<String>,
}

impl std::fmt::Debug for SetPasswordParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SetPasswordParams")
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// `Supervisor.addUser` (extension): a new seat while the center runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AddUserParams {
    pub user_id: String,
    /// `agent` (default), `admin` or `inspector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default)]
    pub skill_groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_chats: Option<usize>,
}

/// Methods without parameters accept `{}` (or no `params` at all).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NoParams {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginParams {
    pub user_id: String,
    /// The login token; empty (left out) with `password`.
    #[serde(default)]
    pub token: String,
    /// Extension: log in with the user's password instead of a token; the
    /// result then carries a token (`token`, `tokenExpiresAt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default)]
    pub enable_shared: bool,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartOutboundCallParams {
    pub phone_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_desc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uui: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serving_number_group_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_encode_type: Option<String>,
}

/// The SDK's CallResponse: the result of `Call.startOutboundCall`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallResponse {
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callee_location: Option<String>,
    pub callee_phone_number: String,
    pub caller_phone_number: String,
    pub server_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartInternalCallParams {
    pub callee_user_id: String,
    #[serde(default)]
    pub use_mobile: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferParams {
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// `Call.consult` (extension): the customer holds while the agent talks
/// to a colleague (`userId`), a skill group's free agent (`skillGroupId`)
/// or an outside number (`phoneNumber`); exactly one of the three.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsultParams {
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendDigitsParams {
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtmf_text: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorParams {
    pub session_id: String,
    #[serde(default)]
    pub text_only: bool,
    /// Extension: `listen` (the default: hear both sides), `coach` (the
    /// agent hears the supervisor, the customer does not) or `barge`
    /// (all hear all). Calling again with another mode switches it on the
    /// live audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<MonitorMode>,
}

/// How a supervisor's audio monitor takes part in the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MonitorMode {
    /// Monitoring as text only (`textOnly`): no audio.
    Text,
    /// Hears both sides; nobody hears them.
    #[default]
    Listen,
    /// Hears both sides; the seats hear them, the customer does not.
    Coach,
    /// In the call: everyone hears them.
    Barge,
}

impl MonitorMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorMode::Text => "text",
            MonitorMode::Listen => "listen",
            MonitorMode::Coach => "coach",
            MonitorMode::Barge => "barge",
        }
    }
}

/// One seat in `Agent.list` (extension): who can take a transfer, a
/// consult or an internal call now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryAgent {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub status: AgentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_reason: Option<String>,
    pub skill_groups: Vec<String>,
    /// Connected, `free`, in no session and offered none: a transfer or an
    /// internal call to them would ring now.
    pub available: bool,
}

/// The `directory` event (extension): whole rows of the colleagues and
/// groups that changed since the last one; replace the row with the same id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryDelta {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<DirectoryAgent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skill_groups: Vec<DirectoryGroup>,
}

/// One skill group in `SkillGroup.list` (extension).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectoryGroup {
    pub skill_group_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Members who could take an offer now.
    pub free: u32,
    /// Sessions waiting in its queue.
    pub waiting: u32,
}

/// `Contact.history` (extension): a contact's earlier sessions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryParams {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// One earlier session of a contact (the result of `Contact.history`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryEntry {
    pub session_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub direction: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_group_id: Option<String>,
    /// Unix ms.
    pub started_at: u64,
    pub ended_at: u64,
    /// Every seat that handled it, in order.
    #[serde(default)]
    pub agents: Vec<String>,
    /// From the first accept to the end, hold included; none if never answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub talk_ms: Option<u64>,
    pub close_by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrap_up_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrap_up_notes: Option<String>,
}

/// The most sessions `Contact.history` returns, and how many by default.
pub const MAX_HISTORY: u32 = 50;
pub const DEFAULT_HISTORY: u32 = 5;

/// `Call.setWrapUp` (extension): the outcome of a session, during it or
/// its after-call work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WrapUpParams {
    pub session_id: String,
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// Extension: the after-call work a seat is in (`statusChanged` with
/// `arrange`, and the login result): for which session, how long it lasts,
/// the wrap-up codes its skill group offers and whether one is required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AfterCallWork {
    pub session_id: String,
    /// `center.after_call_work`, seconds.
    pub seconds: u64,
    /// Unix ms when it ends by itself (a required code not set holds it).
    pub ends_at: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<String>,
    #[serde(default)]
    pub required: bool,
    /// The code set already, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// `Agent.setServerType` (extension): where the seat's call audio goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetServerTypeParams {
    pub server_type: String,
}

/// `Phone.registered` (extension, trunk): how many desk phones (SIP
/// contacts) are registered for a seat now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneRegisteredParams {
    pub user_id: String,
    pub contacts: u32,
}

/// `Phone.answered` and `Phone.hungUp` (extension, trunk): a seat's phone
/// rung for a session answered, or hung up (or never answered: `reason`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhoneParams {
    pub session_id: String,
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetStatusParams {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TextParams {
    pub session_id: String,
    pub text: String,
}

/// `Customer.say`: what the customer says, and (extension) the voice it is
/// spoken in on a session with audio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SayParams {
    pub session_id: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
}

/// `Media.offer`: a WebRTC offer for a session's audio (non-trickle: the
/// SDP carries the ICE candidates). The result is [`MediaAnswer`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaOfferParams {
    pub session_id: String,
    pub sdp: String,
}

/// The result of `Media.offer`: the server's answer, candidates included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaAnswer {
    pub sdp: String,
}

/// One segment of a tone sequence: the sum of up to four sines (none: silence).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToneSpec {
    #[serde(default)]
    pub hz: Vec<f32>,
    pub ms: u32,
}

/// `Customer.play`: the customer's side plays a sound into the call: one of
/// the server's sounds by name, or a tone sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayParams {
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sound: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tones: Option<Vec<ToneSpec>>,
}

/// `Customer.call`: a trunk brings a customer in.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerCallParams {
    #[serde(rename = "type")]
    pub kind: CallType,
    pub skill_group_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callee_phone_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ivr_path: Option<Vec<IvrNode>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected_caller: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protected_callee: Option<String>,
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
    /// Contact attributes (extension): up to 20, names 1-32 characters,
    /// values up to 256; they reach the agent in `callIn` and the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<std::collections::BTreeMap<String, String>>,
    /// Queue priority (extension): 0 (the default) to 100; higher is
    /// offered first, first come first served within a priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
}

/// The most attributes a `Customer.call` may carry, and their sizes.
pub const MAX_ATTRIBUTES: usize = 20;
pub const MAX_ATTRIBUTE_NAME: usize = 32;
pub const MAX_ATTRIBUTE_VALUE: usize = 256;

/// The highest `Customer.call` priority.
pub const MAX_PRIORITY: u32 = 100;

/// The result of `login`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResult {
    #[serde(rename = "tabUUID")]
    pub tab_uuid: String,
    pub user_id: String,
    pub role: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_reason: Option<String>,
    pub skill_groups: Vec<String>,
    pub sessions: Vec<SessionSnapshot>,
    /// Extension (seats): where the seat's call audio goes, and what it can
    /// choose from (see the `seatChanged` event).
    #[serde(default, flatten, skip_serializing_if = "Option::is_none")]
    pub seat: Option<SeatDevices>,
    /// Extension: the after-call work the seat is in, when its status is
    /// `arrange` after a session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_call_work: Option<AfterCallWork>,
    /// Extension: a password login's token, to log in again with and to
    /// renew (`Agent.renewToken`) before `tokenExpiresAt` (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_expires_at: Option<u64>,
}

/// `Agent.renewToken` (extension): a fresh token for the logged-in user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenewedToken {
    pub token: String,
    /// Unix seconds.
    pub expires_at: u64,
}

/// Extension: where a seat's call audio goes (`serverType`), whether a desk
/// phone is registered for it, and whether it has a mobile number the
/// center can dial. In the login result and the `seatChanged` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeatDevices {
    pub server_type: String,
    pub desk_phone: bool,
    pub mobile: bool,
}

/// One row of `Supervisor.listSessions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionSummary {
    pub session_id: String,
    #[serde(rename = "type")]
    pub kind: CallType,
    pub state: SessionState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_group_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller_phone_number: Option<String>,
    pub started_at: u64,
}

/// Which kind of login may call a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// `login` itself.
    Anyone,
    /// Roles agent, admin and inspector.
    Seat,
    /// Roles admin and inspector.
    Supervisor,
    /// Role trunk.
    Trunk,
}

macro_rules! methods {
    ($( $name:literal => $variant:ident($params:ty), $aud:ident; )*) => {
        /// A decoded request: the method and its typed parameters.
        /// (Short-lived: the size of the largest variant does not matter.)
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq)]
        pub enum Request {
            $( $variant($params), )*
        }

        /// Every method name the server knows, in contract order.
        pub const METHOD_NAMES: &[&str] = &[ $( $name, )* ];

        impl Request {
            /// The method's name on the wire.
            pub fn method(&self) -> &'static str {
                match self { $( Request::$variant(_) => $name, )* }
            }
            /// Which logins may call it.
            pub fn audience(&self) -> Audience {
                match self { $( Request::$variant(_) => Audience::$aud, )* }
            }
            pub(crate) fn from_parts(method: &str, params: serde_json::Value) -> Result<Request, super::ProtoError> {
                match method {
                    $( $name => Ok(Request::$variant(super::decode::params(method, params)?)), )*
                    other => Err(super::ProtoError::bad_request(format!(
                        "unknown method `{}`", super::decode::shorten(other)))),
                }
            }
            /// The parameters as JSON, for clients that build frames from a Request.
            pub fn params_json(&self) -> serde_json::Value {
                match self { $( Request::$variant(p) => serde_json::to_value(p).unwrap_or_default(), )* }
            }
        }
    };
}

methods! {
    "login" => Login(LoginParams), Anyone;
    "Call.startOutboundCall" => CallStartOutboundCall(StartOutboundCallParams), Seat;
    "Call.accept" => CallAccept(SessionParams), Seat;
    "Call.hungUp" => CallHungUp(SessionParams), Seat;
    "Call.deleteCall" => CallDeleteCall(SessionParams), Seat;
    "Call.muteMic" => CallMuteMic(SessionParams), Seat;
    "Call.unmuteMic" => CallUnmuteMic(SessionParams), Seat;
    "Call.isMicMuted" => CallIsMicMuted(SessionParams), Seat;
    "Call.startInternalCall" => CallStartInternalCall(StartInternalCallParams), Seat;
    "Call.transfer" => CallTransfer(TransferParams), Seat;
    "Call.hold" => CallHold(SessionParams), Seat;
    "Call.unHold" => CallUnHold(SessionParams), Seat;
    "Call.sendDigits" => CallSendDigits(SendDigitsParams), Seat;
    "Call.monitor" => CallMonitor(MonitorParams), Supervisor;
    "Call.intercept" => CallIntercept(SessionParams), Supervisor;
    "Call.setWrapUp" => CallSetWrapUp(WrapUpParams), Seat;
    "Call.consult" => CallConsult(ConsultParams), Seat;
    "Call.completeTransfer" => CallCompleteTransfer(SessionParams), Seat;
    "Call.conference" => CallConference(SessionParams), Seat;
    "Call.cancelConsult" => CallCancelConsult(SessionParams), Seat;
    "Call.pauseRecording" => CallPauseRecording(SessionParams), Seat;
    "Call.resumeRecording" => CallResumeRecording(SessionParams), Seat;
    "Contact.history" => ContactHistory(HistoryParams), Seat;
    "Agent.list" => AgentList(NoParams), Seat;
    "Agent.subscribeDirectory" => AgentSubscribeDirectory(NoParams), Seat;
    "Agent.unsubscribeDirectory" => AgentUnsubscribeDirectory(NoParams), Seat;
    "SkillGroup.list" => SkillGroupList(NoParams), Seat;
    "Chat.accept" => ChatAccept(SessionParams), Seat;
    "Chat.end" => ChatEnd(SessionParams), Seat;
    "Chat.transfer" => ChatTransfer(TransferParams), Seat;
    "Chat.sendMessage" => ChatSendMessage(TextParams), Seat;
    "Video.accept" => VideoAccept(SessionParams), Seat;
    "Video.end" => VideoEnd(SessionParams), Seat;
    "Video.muteMic" => VideoMuteMic(SessionParams), Seat;
    "Video.unmuteMic" => VideoUnmuteMic(SessionParams), Seat;
    "Video.muteVideo" => VideoMuteVideo(SessionParams), Seat;
    "Video.unmuteVideo" => VideoUnmuteVideo(SessionParams), Seat;
    "Video.transfer" => VideoTransfer(TransferParams), Seat;
    "Agent.online" => AgentOnline(NoParams), Seat;
    "Agent.offline" => AgentOffline(NoParams), Seat;
    "Agent.setStatus" => AgentSetStatus(SetStatusParams), Seat;
    "Agent.getStatus" => AgentGetStatus(NoParams), Seat;
    "Agent.setServerType" => AgentSetServerType(SetServerTypeParams), Seat;
    "Agent.requestHelp" => AgentRequestHelp(HelpParams), Seat;
    "Agent.renewToken" => AgentRenewToken(NoParams), Seat;
    "Supervisor.listSessions" => SupervisorListSessions(NoParams), Supervisor;
    "Supervisor.stopMonitor" => SupervisorStopMonitor(SessionParams), Supervisor;
    "Supervisor.subscribe" => SupervisorSubscribe(NoParams), Supervisor;
    "Supervisor.unsubscribe" => SupervisorUnsubscribe(NoParams), Supervisor;
    "Supervisor.ackHelp" => SupervisorAckHelp(UserParams), Supervisor;
    "Supervisor.report" => SupervisorReport(super::report::ReportParams), Supervisor;
    "Supervisor.setSkillGroups" => SupervisorSetSkillGroups(SkillGroupsParams), Supervisor;
    "Supervisor.addUser" => SupervisorAddUser(AddUserParams), Supervisor;
    "Supervisor.removeUser" => SupervisorRemoveUser(UserParams), Supervisor;
    "Supervisor.setPassword" => SupervisorSetPassword(SetPasswordParams), Supervisor;
    "Media.offer" => MediaOffer(MediaOfferParams), Seat;
    "Customer.call" => CustomerCall(CustomerCallParams), Trunk;
    "Customer.hangUp" => CustomerHangUp(SessionParams), Trunk;
    "Customer.say" => CustomerSay(SayParams), Trunk;
    "Customer.sendMessage" => CustomerSendMessage(TextParams), Trunk;
    "Customer.answer" => CustomerAnswer(SessionParams), Trunk;
    "Customer.reject" => CustomerReject(RejectParams), Trunk;
    "Customer.play" => CustomerPlay(PlayParams), Trunk;
    "Customer.requestCallback" => CustomerRequestCallback(CallbackParams), Trunk;
    "Phone.registered" => PhoneRegistered(PhoneRegisteredParams), Trunk;
    "Phone.answered" => PhoneAnswered(PhoneParams), Trunk;
    "Phone.hungUp" => PhoneHungUp(PhoneParams), Trunk;
}
