//! What the supervisor console adds to the store: the wallboard (kept by
//! `Supervisor.subscribe` and its `wallboard` deltas), the sessions being
//! monitored as text, and which pane has the keys.

use crate::protocol::{BoardAgent, BoardSession, MonitorMode, ReportRow, Wallboard};

use super::state::Session;

/// The panes of the wallboard that take the arrow keys, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardPane {
    Agents,
    Sessions,
    Monitors,
}

impl BoardPane {
    pub fn next(self, has_monitors: bool) -> BoardPane {
        match self {
            BoardPane::Agents => BoardPane::Sessions,
            BoardPane::Sessions if has_monitors => BoardPane::Monitors,
            _ => BoardPane::Agents,
        }
    }
}

/// What the console shows: the floor, the call bar of a session the
/// supervisor took over, or today's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardView {
    Floor,
    Call,
    Report,
}

/// Today's figures by agent and by group (`Supervisor.report`), asked for
/// when the report view opens and again on its key.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// When they were last asked for (unix ms; 0: never).
    pub asked_at: u64,
    /// Answers still awaited (one a table).
    pub pending: u8,
    /// The rows, once answered (kept while they are asked for again).
    pub agents: Option<Vec<ReportRow>>,
    pub groups: Option<Vec<ReportRow>>,
    /// Why the server did not answer (an older server, no records).
    pub error: Option<String>,
    /// The agents table's selected row.
    pub cursor: usize,
}

/// A session monitored as text: its own transcript panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Watch {
    /// The transcript and chat, kept as the agent terminal keeps a session's.
    pub session: Session,
    /// The handling agent when monitoring started (the wallboard has the latest).
    pub agent: Option<String>,
    /// Set once the server confirmed `Call.monitor`.
    pub confirmed: bool,
    /// The mode the server confirmed: text only, or an audio monitor that
    /// listens, coaches (the agent hears the supervisor) or barges in
    /// (everyone does). The console plays the session's sound in the audio
    /// modes while the panel is live, and opens the microphone to coach or
    /// barge.
    pub mode: MonitorMode,
    /// Why it ended, once it did (the panel stays until dismissed).
    pub ended: Option<String>,
}

/// The supervisor console's part of the state.
#[derive(Debug, Clone, PartialEq)]
pub struct Board {
    pub wall: Wallboard,
    /// The snapshot arrived (false while subscribing or after a reconnect).
    pub loaded: bool,
    pub pane: BoardPane,
    /// The selected agent (user id) and session (id): kept by id, so rows
    /// moving under the cursor do not change what is selected.
    pub agent: Option<String>,
    pub session: Option<String>,
    pub watches: Vec<Watch>,
    /// The monitor panel with the keys (index into `watches`).
    pub watch: usize,
    pub view: BoardView,
    pub report: Report,
}

impl Default for Board {
    fn default() -> Self {
        Board {
            wall: Wallboard::default(),
            loaded: false,
            pane: BoardPane::Agents,
            agent: None,
            session: None,
            watches: Vec::new(),
            watch: 0,
            view: BoardView::Floor,
            report: Report::default(),
        }
    }
}

impl Watch {
    /// An audio monitor (listen, coach or barge), not text only.
    pub fn audio(&self) -> bool {
        self.mode != MonitorMode::Text
    }
}

impl Board {
    /// The agents asking for help (not acknowledged yet), who asked first
    /// first.
    pub fn asking(&self) -> Vec<&BoardAgent> {
        let mut out: Vec<&BoardAgent> = self
            .wall
            .agents
            .iter()
            .filter(|a| a.help.is_some())
            .collect();
        out.sort_by_key(|a| a.help.as_ref().map_or(0, |h| h.at));
        out
    }
    pub fn watch(&self, id: &str) -> Option<&Watch> {
        self.watches.iter().find(|w| w.session.id == id)
    }
    pub fn watch_mut(&mut self, id: &str) -> Option<&mut Watch> {
        self.watches.iter_mut().find(|w| w.session.id == id)
    }
    pub fn selected_agent(&self) -> Option<&BoardAgent> {
        let id = self.agent.as_deref()?;
        self.wall.agents.iter().find(|a| a.user_id == id)
    }
    pub fn selected_session(&self) -> Option<&BoardSession> {
        let id = self.session.as_deref()?;
        self.wall.sessions.iter().find(|s| s.session_id == id)
    }
    pub fn live_session(&self, id: &str) -> Option<&BoardSession> {
        self.wall.sessions.iter().find(|s| s.session_id == id)
    }
    /// Keep the selections on rows that exist (the first row otherwise).
    pub fn fix_selection(&mut self) {
        if self.selected_agent().is_none() {
            self.agent = self.wall.agents.first().map(|a| a.user_id.clone());
        }
        if self.selected_session().is_none() {
            self.session = self.wall.sessions.first().map(|s| s.session_id.clone());
        }
        if self.watch >= self.watches.len() {
            self.watch = self.watches.len().saturating_sub(1);
        }
        if self.watches.is_empty() && self.pane == BoardPane::Monitors {
            self.pane = BoardPane::Sessions;
        }
    }
}
