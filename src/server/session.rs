//! A session's state on the server, and what each party sees of it.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use crate::protocol::{
    CallIn, CallType, ChatMessage, CloseBy, Direction, Flow, MonitorInfo, MonitorMode,
    SessionSnapshot, SessionState,
};

use super::conn::ConnId;
use super::records::{RecordingPause, TranscriptLine, TransferRecord};
use super::routing::QueueKey;

/// A sentence being spoken through the text transcript path.
#[derive(Debug, Clone)]
pub struct Utterance {
    pub flow: Flow,
    pub index: u32,
    pub words: Vec<String>,
    pub shown: usize,
    pub start_ms: u64,
}

#[derive(Debug, Clone)]
pub struct EndInfo {
    pub close_by: CloseBy,
    pub main_reason: Option<String>,
    pub sub_reason: Option<String>,
    pub at_ms: u64,
}

#[derive(Debug, Clone)]
pub struct Monitor {
    pub user: String,
    /// Text only, or how the supervisor's audio takes part.
    pub mode: MonitorMode,
}

impl Monitor {
    pub fn text_only(&self) -> bool {
        self.mode == MonitorMode::Text
    }
}

/// A consult in progress, kept on the customer's session.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsultLink {
    /// The consult leg: an internal session from the consulting agent.
    pub leg: String,
    /// The skill group asked, when the consult went to a group.
    pub group: Option<String>,
    /// All three talk (`Call.conference`).
    pub conference: bool,
    /// The consulting agent handed the customer to the outside number
    /// (`Call.completeTransfer`): the customer and the number talk on, with
    /// no agent, until one of them hangs up.
    pub handed_over: bool,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub kind: CallType,
    pub direction: Direction,
    pub state: SessionState,
    pub group: Option<String>,
    /// The callIn data (timeout filled in when offered).
    pub call_in: CallIn,
    /// The trunk connection that owns the customer's side.
    pub trunk: Option<ConnId>,
    /// The seat handling the session (answering agent, outbound caller,
    /// internal callee once accepted, intercepting supervisor).
    pub agent: Option<String>,
    /// Internal calls: the agent who placed the call.
    pub caller_agent: Option<String>,
    /// The agent the session is offered to while ringing.
    pub ringing_to: Option<String>,
    /// Position in the queues: priority, when it first queued, and a tie-breaker.
    pub queue_key: QueueKey,
    /// When the offer ringing now rings out.
    pub ring_deadline: Option<Instant>,
    /// Bumped whenever it starts waiting in a skill group (arrival, transfer
    /// to a group), so a stale overflow or maximum-wait timer is ignored.
    pub wait_gen: u64,
    /// It waited `max_wait` while ringing: it ends if it comes back to the queue.
    pub wait_over: bool,
    /// The group it overflowed to (its group's `overflow_to`), once it has.
    pub overflow: Option<String>,
    /// The customer's side is a phone line (a SIP call) in the bridge.
    pub line: bool,
    /// `Call.startOutboundCall`'s user-to-user information, for the record.
    pub uui: Option<String>,
    /// `Call.setWrapUp`: the code and the notes.
    pub wrap_up: Option<(String, Option<String>)>,
    /// The consult this customer session is in (`Call.consult`).
    pub consult: Option<ConsultLink>,
    /// A consult leg: the customer's session it is about.
    pub consult_of: Option<String>,
    /// A consult leg to an outside number: the number (dialled as the
    /// phone `tel:<number>` through the phone trunk).
    pub consult_number: Option<String>,
    /// A queued callback (`Customer.requestCallback`): the number dialled
    /// when an agent accepts it.
    pub callback: Option<String>,
    /// An internal call with `useMobile`: the callee's mobile rings.
    pub mobile_for: Option<String>,
    /// Restored by a new owner (a cluster): the trunk user whose next
    /// connection is this session's customer side.
    pub restored_trunk: Option<String>,
    pub created: Instant,
    pub created_ms: u64,
    pub offered_ms: Option<u64>,
    pub accepted: Option<Instant>,
    pub accepted_ms: Option<u64>,
    pub hold_started: Option<Instant>,
    pub hold_total: Duration,
    pub mic_muted: bool,
    pub caller_mic_muted: bool,
    pub video_muted: bool,
    /// Bumped whenever an offer or a dial starts or stops, so stale timers are ignored.
    pub ring_gen: u64,
    /// Agents who let this session's offer time out.
    pub declined: Vec<String>,
    pub missed_offers: u32,
    /// Agents who declined it: it is not offered to them again.
    pub refused: Vec<String>,
    /// After-call work of agents who handed it on while it went on.
    pub acw_ms: u64,
    pub monitors: Vec<Monitor>,
    pub transfers: Vec<TransferRecord>,
    /// Every seat that handled it, in order.
    pub handled_by: Vec<String>,
    pub messages: Vec<ChatMessage>,
    pub speech: VecDeque<Utterance>,
    pub next_index: [u32; 2],
    pub end: Option<EndInfo>,
    /// The last `Customer.play`, numbered so that repeating it plays again.
    pub sound: Option<(u32, crate::server::media::Sound)>,
    /// Where the audio is being recorded (once it has audio).
    pub recording: Option<std::path::PathBuf>,
    /// The transcript's final sentences, for the session's record.
    pub transcript: Vec<TranscriptLine>,
    /// `Call.pauseRecording`: since when (unix ms) the recording and the
    /// transcript are paused.
    pub recording_paused: Option<u64>,
    /// The spans the recording was paused, for the record.
    pub recording_pauses: Vec<RecordingPause>,
}

/// Chat lines kept per session for the snapshot.
pub const MAX_MESSAGES: usize = 200;

impl Session {
    pub fn new(
        id: String,
        kind: CallType,
        direction: Direction,
        now: Instant,
        now_ms: u64,
        seq: u64,
    ) -> Session {
        Session {
            call_in: CallIn {
                session_id: id.clone(),
                kind,
                ..Default::default()
            },
            id,
            kind,
            direction,
            state: SessionState::Queued,
            group: None,
            trunk: None,
            agent: None,
            caller_agent: None,
            ringing_to: None,
            queue_key: QueueKey::new(0, now, seq),
            ring_deadline: None,
            wait_gen: 0,
            wait_over: false,
            overflow: None,
            line: false,
            mobile_for: None,
            restored_trunk: None,
            consult: None,
            consult_of: None,
            consult_number: None,
            callback: None,
            uui: None,
            wrap_up: None,
            created: now,
            created_ms: now_ms,
            offered_ms: None,
            accepted: None,
            accepted_ms: None,
            hold_started: None,
            hold_total: Duration::ZERO,
            mic_muted: false,
            caller_mic_muted: false,
            video_muted: false,
            ring_gen: 0,
            declined: Vec::new(),
            missed_offers: 0,
            refused: Vec::new(),
            acw_ms: 0,
            monitors: Vec::new(),
            transfers: Vec::new(),
            handled_by: Vec::new(),
            messages: Vec::new(),
            speech: VecDeque::new(),
            next_index: [0, 0],
            end: None,
            sound: None,
            recording: None,
            transcript: Vec::new(),
            recording_paused: None,
            recording_pauses: Vec::new(),
        }
    }

    pub fn is_ended(&self) -> bool {
        self.state == SessionState::Ended
    }

    /// Talking or held: a conversation is in progress.
    pub fn in_progress(&self) -> bool {
        matches!(self.state, SessionState::Talking | SessionState::Held)
    }

    /// Is `user` a party to this session (not just a monitor)?
    pub fn is_party(&self, user: &str) -> bool {
        self.agent.as_deref() == Some(user)
            || self.caller_agent.as_deref() == Some(user)
            || self.ringing_to.as_deref() == Some(user)
    }

    /// The seats that get this session's events.
    pub fn parties(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(2);
        for u in [&self.agent, &self.caller_agent, &self.ringing_to]
            .into_iter()
            .flatten()
        {
            if !out.contains(u) {
                out.push(u.clone());
            }
        }
        out
    }

    /// The seat a session is shown with: its handling seat, else the one it
    /// rings at, else the calling agent of an internal call.
    pub fn seat(&self) -> Option<String> {
        self.agent
            .clone()
            .or_else(|| self.ringing_to.clone())
            .or_else(|| self.caller_agent.clone())
    }

    /// Stop the hold clock, if running.
    pub fn stop_hold(&mut self, now: Instant) {
        if let Some(start) = self.hold_started.take() {
            self.hold_total += now.saturating_duration_since(start);
        }
    }

    /// Milliseconds since the conversation started (accept), or since creation.
    pub fn elapsed_ms(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.accepted.unwrap_or(self.created))
            .as_millis() as u64
    }

    pub fn muted_for(&self, user: &str) -> bool {
        if self.caller_agent.as_deref() == Some(user) {
            self.caller_mic_muted
        } else {
            self.mic_muted
        }
    }

    /// What `viewer` sees of the session.
    pub fn snapshot(&self, viewer: &str, ring_left: Option<u64>) -> SessionSnapshot {
        let mut call_in = self.call_in.clone();
        let state = match self.state {
            // The caller of an unanswered internal call is dialing, not ringing.
            SessionState::Ringing if self.caller_agent.as_deref() == Some(viewer) => {
                SessionState::Dialing
            }
            s => s,
        };
        if self.kind == CallType::Internal {
            let peer = if self.caller_agent.as_deref() == Some(viewer) {
                self.agent.clone().or_else(|| self.ringing_to.clone())
            } else {
                self.caller_agent.clone()
            };
            call_in.peer_user_id = peer;
        }
        if let Some(left) = ring_left {
            call_in.timeout = left;
        }
        SessionSnapshot {
            audio_running: false,
            session_id: self.id.clone(),
            kind: self.kind,
            state,
            direction: self.direction,
            call_in,
            started_at: self.created_ms,
            accepted_at: self.accepted_ms,
            ended_at: self.end.as_ref().map(|e| e.at_ms),
            mic_muted: self.muted_for(viewer),
            video_muted: self.video_muted,
            close_by: self.end.as_ref().map(|e| e.close_by),
            messages: self.messages.clone(),
            consult: None,
            recording_paused: self.recording_paused.is_some(),
            monitored_by: self
                .monitors
                .iter()
                .map(|m| MonitorInfo {
                    user_id: m.user.clone(),
                    mode: m.mode,
                })
                .collect(),
        }
    }
}
