//! A seat (agent, admin or inspector) as the center sees it.

use tokio::time::Instant;

use crate::protocol::AgentStatus;

use super::config::{Role, SeatType};
use super::conn::ConnId;

#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub role: Role,
    pub groups: Vec<String>,
    pub status: AgentStatus,
    pub rest_reason: Option<String>,
    pub status_since: Instant,
    /// When the agent last became free: the longest idle is offered first.
    pub free_since: Instant,
    /// Open connections (tabs), oldest first.
    pub tabs: Vec<ConnId>,
    /// The session ringing at this agent.
    pub offer: Option<String>,
    /// The call the agent is in (accepted, dialing or placed): every
    /// session but chats.
    pub active: Option<String>,
    /// The chats the agent is in (accepted, not ended), oldest first.
    pub chats: Vec<String>,
    /// How many chats the agent handles at once.
    pub max_chats: usize,
    /// Sessions in the agent's list, including ended ones not yet deleted.
    pub sessions: Vec<String>,
    pub missed_in_row: u32,
    /// Status to return to after a session and its after-call work.
    pub return_status: AgentStatus,
    /// Bumped on every status change, so a stale after-call-work timer is ignored.
    pub gen: u64,
    /// Bumped on every login and disconnect, so a stale grace timer is ignored.
    pub grace_gen: u64,
    /// After-call work in progress: for which session, since when.
    pub acw_for: Option<(String, Instant)>,
    /// That after-call work's wrap-up.
    pub acw_wrap: AcwWrap,
    /// Sessions this supervisor monitors, and the one with audio.
    pub monitoring: Vec<String>,
    pub audio_monitor: Option<String>,
    /// Let an offer ring out or declined one: no offers until then
    /// (`center.no_answer_delay`); cleared by the timer that ends it.
    pub no_answer_until: Option<Instant>,
    /// Where the seat's call audio goes now (`Agent.setServerType`; the
    /// config's `seat_type` at start).
    pub server_type: SeatType,
    /// Desk phones (SIP contacts) registered for the seat.
    pub desk_phones: u32,
    /// The seat's request for help, until a supervisor acknowledges it.
    pub help: Option<crate::protocol::HelpRequest>,
}

impl Agent {
    pub fn new(id: String, role: Role, groups: Vec<String>, now: Instant) -> Agent {
        Agent {
            id,
            role,
            groups,
            status: AgentStatus::Offline,
            rest_reason: None,
            status_since: now,
            free_since: now,
            tabs: Vec::new(),
            offer: None,
            active: None,
            chats: Vec::new(),
            max_chats: crate::server::config::DEFAULT_MAX_CHATS,
            sessions: Vec::new(),
            missed_in_row: 0,
            return_status: AgentStatus::Free,
            gen: 0,
            grace_gen: 0,
            acw_for: None,
            acw_wrap: AcwWrap::default(),
            monitoring: Vec::new(),
            audio_monitor: None,
            no_answer_until: None,
            server_type: SeatType::default(),
            desk_phones: 0,
            help: None,
        }
    }

    /// Can take an inbound offer of any kind now: free and in no session.
    pub fn available(&self) -> bool {
        self.status == AgentStatus::Free
            && self.offer.is_none()
            && self.active.is_none()
            && self.chats.is_empty()
            && !self.tabs.is_empty()
    }

    /// Can be offered a waiting session now: available, and not waiting
    /// out a no-answer delay.
    pub fn offerable(&self) -> bool {
        self.available() && self.no_answer_until.is_none()
    }

    /// Can take a chat now: available, or busy only with fewer chats than
    /// `max_chats`.
    pub fn chat_available(&self) -> bool {
        self.available()
            || (self.status == AgentStatus::Busy
                && self.offer.is_none()
                && self.active.is_none()
                && !self.chats.is_empty()
                && self.chats.len() < self.max_chats
                && !self.tabs.is_empty())
    }

    /// Can be offered a waiting chat now (see [`Agent::chat_available`]).
    pub fn chat_offerable(&self) -> bool {
        self.chat_available() && self.no_answer_until.is_none()
    }

    /// In a call or a chat.
    pub fn in_session(&self) -> bool {
        self.active.is_some() || !self.chats.is_empty()
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// The wrap-up of the after-call work a seat is in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AcwWrap {
    /// The session's skill group (its codes).
    pub group: Option<String>,
    /// A code is needed before the agent goes on.
    pub required: bool,
    /// The code set.
    pub code: Option<String>,
    /// Its time ran out while a required code was missing: setting the
    /// code ends it.
    pub due: bool,
}
