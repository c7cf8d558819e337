//! Extension: what `Supervisor.subscribe` returns (a snapshot of the whole
//! floor) and the `wallboard` event that keeps it current (deltas).

use serde::{Deserialize, Serialize};

use super::{AgentStatus, CallType, Direction, SessionState};

/// One seat on the wallboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoardAgent {
    pub user_id: String,
    /// The display name from the server's config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `agent`, `admin` or `inspector`.
    pub role: String,
    pub skill_groups: Vec<String>,
    pub status: AgentStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rest_reason: Option<String>,
    /// When the status last changed (unix ms).
    pub status_since: u64,
    /// At least one tab is open.
    pub connected: bool,
    /// The session the seat is in (talking, held, dialing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// The session ringing at the seat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<String>,
    /// The seat asked for help (`Agent.requestHelp`) and no supervisor has
    /// acknowledged it yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<HelpRequest>,
}

/// Extension: an agent's request for help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelpRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// When it was asked (unix ms).
    pub at: u64,
}

/// One skill group on the wallboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoardGroup {
    pub skill_group_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Sessions queued and not ringing anywhere.
    pub waiting: u32,
    /// When the oldest waiting session was created (unix ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_since: Option<u64>,
    /// Members who could take an offer now.
    pub free: u32,
    /// Members connected and not offline.
    pub staffed: u32,
    /// Sessions of other groups that overflowed here and wait (also
    /// counted in their own group's `waiting`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub overflow_in: u32,
    /// Where this group's sessions overflow, and after how many seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overflow_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overflow_after: Option<u64>,
    /// Seconds a session may wait before it ends (`queueTimeout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_wait: Option<u64>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One live (not ended) session on the wallboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BoardSession {
    pub session_id: String,
    #[serde(rename = "type")]
    pub kind: CallType,
    pub state: SessionState,
    pub direction: Direction,
    /// The handling seat, or else the seat it rings at, or else the calling
    /// agent of an internal call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skill_group_id: Option<String>,
    /// Who the customer is, in a few words: nickname, masked or plain
    /// number, or user id (the peer agent for internal calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    /// Unix ms.
    pub started_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accepted_at: Option<u64>,
    /// Its queue priority (`Customer.call`), when above 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub priority: u32,
    /// The group it overflowed to while it waited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overflow_to: Option<String>,
}

/// The center's figures for today (server local time). See docs/PROTOCOL.md,
/// "Wallboard figures", for the definitions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Kpis {
    /// Unix ms of the local midnight that started today.
    pub day_start: u64,
    /// The service-level threshold, seconds.
    pub threshold: u64,
    pub offered: u64,
    pub answered: u64,
    pub answered_in_threshold: u64,
    pub abandoned: u64,
    pub abandoned_in_threshold: u64,
    /// Percent, 0-100; absent until a session has an outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level: Option<f64>,
    /// Average speed of answer, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asa_ms: Option<u64>,
    /// Sessions whose handling ended today.
    pub handled: u64,
    /// Average handle time (talk + hold + after-call work), ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aht_ms: Option<u64>,
    /// Percent of staffed time spent handling, 0-100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occupancy: Option<f64>,
}

/// One minute of the last hour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryPoint {
    /// The minute's start, unix ms.
    pub at: u64,
    /// The longest queue (all groups together) during the minute.
    pub queue: u32,
    /// Service level of the outcomes in the minute, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_level: Option<f64>,
}

/// The result of `Supervisor.subscribe`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Wallboard {
    pub agents: Vec<BoardAgent>,
    pub groups: Vec<BoardGroup>,
    pub sessions: Vec<BoardSession>,
    pub kpis: Kpis,
    /// Oldest first, one point a minute, up to 60.
    pub history: Vec<HistoryPoint>,
}

/// The `wallboard` event: what changed since the last one. Rows are whole
/// rows, matched by id; `ended` lists sessions that left the live list;
/// `history` points replace the point with the same `at` or are appended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WallboardDelta {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agents: Vec<BoardAgent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<BoardGroup>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<BoardSession>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ended: Vec<String>,
    /// Extension: seats removed from the center (`Supervisor.removeUser`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpis: Option<Kpis>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryPoint>,
}

impl WallboardDelta {
    pub fn is_empty(&self) -> bool {
        self.agents.is_empty()
            && self.groups.is_empty()
            && self.sessions.is_empty()
            && self.ended.is_empty()
            && self.removed.is_empty()
            && self.kpis.is_none()
            && self.history.is_empty()
    }
}

impl Wallboard {
    /// Apply a delta (what a client does with each `wallboard` event).
    pub fn apply(&mut self, d: WallboardDelta) {
        self.agents.retain(|a| !d.removed.contains(&a.user_id));
        if !d.agents.is_empty() {
            for a in d.agents {
                match self.agents.iter_mut().find(|x| x.user_id == a.user_id) {
                    Some(x) => *x = a,
                    None => self.agents.push(a),
                }
            }
            self.agents.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        }
        for g in d.groups {
            match self
                .groups
                .iter_mut()
                .find(|x| x.skill_group_id == g.skill_group_id)
            {
                Some(x) => *x = g,
                None => self.groups.push(g),
            }
        }
        self.sessions.retain(|s| !d.ended.contains(&s.session_id));
        for s in d.sessions {
            match self
                .sessions
                .iter_mut()
                .find(|x| x.session_id == s.session_id)
            {
                Some(x) => *x = s,
                None => self.sessions.push(s),
            }
        }
        self.sessions
            .sort_by(|a, b| (a.started_at, &a.session_id).cmp(&(b.started_at, &b.session_id)));
        if let Some(k) = d.kpis {
            self.kpis = k;
        }
        for p in d.history {
            match self.history.iter_mut().find(|x| x.at == p.at) {
                Some(x) => *x = p,
                None => {
                    self.history.push(p);
                    self.history.sort_by_key(|p| p.at);
                }
            }
        }
        let extra = self.history.len().saturating_sub(HISTORY_POINTS);
        self.history.drain(..extra);
    }
}

/// Points of history kept: one an hour's worth of minutes.
pub const HISTORY_POINTS: usize = 60;
