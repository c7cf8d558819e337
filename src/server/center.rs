//! The center: ONE task owns all state (agents, sessions, queues) and handles
//! commands one at a time. Connections send it commands; it answers through
//! each connection's outbound queue. Every reply goes out before the events
//! the request caused.

use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::protocol::*;

use super::agent::Agent;
use super::clock::Clock;
use super::config::{Role, ServerConfig};
use super::media::{self, Bridge, BridgeCmd, BridgeEvent, HeardDigit, Mix, Report, Sound};
use super::records::{RecordStore, SessionRecord, TranscriptLine, TransferRecord};
use super::routing;
use super::session::{EndInfo, Monitor, Session, Utterance, MAX_MESSAGES};

mod board;

pub use super::conn::{ConnId, Outbound};

/// What connections tell the center.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Command {
    Login {
        conn: ConnId,
        id: Value,
        user: String,
        role: Role,
        enable_shared: bool,
        tx: mpsc::Sender<Outbound>,
    },
    Request {
        conn: ConnId,
        id: Value,
        req: Request,
    },
    Disconnected {
        conn: ConnId,
    },
    /// A seat sent a DTMF digit in its audio.
    MediaDigit(HeardDigit),
    /// The recogniser heard one side of a session say something.
    Asr {
        session: String,
        flow: Flow,
        result: AsrResult,
    },
    /// A sentence the customer was to say could not be spoken: it goes out
    /// as text (the `asr` text path).
    SayAsText {
        session: String,
        text: String,
    },
}

impl From<BridgeEvent> for Command {
    fn from(ev: BridgeEvent) -> Command {
        match ev {
            BridgeEvent::Digit(d) => Command::MediaDigit(d),
            BridgeEvent::Asr {
                session,
                flow,
                result,
            } => Command::Asr {
                session,
                flow,
                result,
            },
            BridgeEvent::SayAsText { session, text } => Command::SayAsText { session, text },
        }
    }
}

struct Conn {
    user: String,
    role: Role,
    tab_uuid: String,
    shared: bool,
    tx: mpsc::Sender<Outbound>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TimerKind {
    Ring {
        session: String,
        gen: u64,
    },
    Dial {
        session: String,
        gen: u64,
    },
    MaxLength {
        session: String,
    },
    Speech {
        session: String,
    },
    AfterCallWork {
        agent: String,
        gen: u64,
    },
    Grace {
        agent: String,
        gen: u64,
    },
    /// The wallboard's minute: history moves on (while someone subscribes).
    BoardMinute,
}

#[derive(Debug, PartialEq, Eq)]
struct Timer {
    at: Instant,
    seq: u64,
    kind: TimerKind,
}

impl Ord for Timer {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // BinaryHeap is a max-heap: the earliest timer must compare greatest.
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}
impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

type Reply = Result<Option<Value>, ProtoError>;

pub struct Center {
    cfg: Arc<ServerConfig>,
    clock: Clock,
    records: Box<dyn RecordStore>,
    conns: HashMap<ConnId, Conn>,
    trunks: Vec<ConnId>,
    agents: HashMap<String, Agent>,
    members: HashMap<String, Vec<String>>,
    sessions: HashMap<String, Session>,
    queues: HashMap<String, VecDeque<String>>,
    timers: BinaryHeap<Timer>,
    seq: u64,
    id_prefix: String,
    outbox: Vec<(ConnId, Outbound)>,
    board: board::Board,
    /// The audio of sessions that have it, by session id.
    bridges: HashMap<String, Bridge>,
    /// Our own command queue, for bridges to report to (weak: the center
    /// still ends when every connection has gone).
    me: Option<mpsc::WeakUnboundedSender<Command>>,
    recordings: Option<std::path::PathBuf>,
    speech: crate::server::speech::Speech,
}

/// Handle to a running center.
#[derive(Clone)]
pub struct CenterHandle {
    pub tx: mpsc::UnboundedSender<Command>,
}

impl Center {
    pub fn new(cfg: Arc<ServerConfig>, clock: Clock, records: Box<dyn RecordStore>) -> Center {
        let now = clock.instant();
        let mut agents = HashMap::new();
        let mut members: HashMap<String, Vec<String>> = HashMap::new();
        for g in &cfg.skill_groups {
            members.insert(g.id.clone(), Vec::new());
        }
        for u in cfg.users.iter().filter(|u| u.role.is_seat()) {
            agents.insert(
                u.id.clone(),
                Agent::new(u.id.clone(), u.role, u.skill_groups.clone(), now),
            );
            for g in &u.skill_groups {
                members.entry(g.clone()).or_default().push(u.id.clone());
            }
        }
        let queues = cfg
            .skill_groups
            .iter()
            .map(|g| (g.id.clone(), VecDeque::new()))
            .collect();
        // Random per run, so ids never repeat across restarts.
        let id_prefix = radix36(rand::random::<u32>() as u64);
        let board = board::Board::new(cfg.center.service_level_threshold, clock.now_ms());
        let recordings = if cfg.media.record {
            records.recordings_dir()
        } else {
            None
        };
        let speech = crate::server::speech::Speech::load(&cfg.speech);
        Center {
            speech,
            cfg,
            clock,
            records,
            conns: HashMap::new(),
            trunks: Vec::new(),
            agents,
            members,
            sessions: HashMap::new(),
            queues,
            timers: BinaryHeap::new(),
            seq: 0,
            id_prefix,
            outbox: Vec::new(),
            board,
            bridges: HashMap::new(),
            me: None,
            recordings,
        }
    }

    /// Start the actor; it runs until every handle is dropped.
    pub fn spawn(mut self) -> CenterHandle {
        let (tx, rx) = mpsc::unbounded_channel();
        self.me = Some(tx.downgrade());
        tokio::spawn(self.run(rx));
        CenterHandle { tx }
    }

    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Command>) {
        let sleep = tokio::time::sleep_until(Instant::now());
        tokio::pin!(sleep);
        loop {
            let next = self.timers.peek().map(|t| t.at);
            if let Some(at) = next {
                sleep.as_mut().reset(at);
            }
            tokio::select! {
                biased;
                cmd = rx.recv() => match cmd {
                    Some(cmd) => self.handle(cmd),
                    None => break,
                },
                _ = &mut sleep, if next.is_some() => self.fire_due(),
            }
        }
    }

    // ----- plumbing -------------------------------------------------------

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Login {
                conn,
                id,
                user,
                role,
                enable_shared,
                tx,
            } => self.login(conn, id, user, role, enable_shared, tx),
            Command::Request { conn, id, req } => {
                let method = req.method();
                let reply = match req {
                    // Answered by the negotiation task, once the answer exists.
                    Request::MediaOffer(p) => self.media_offer(conn, id.clone(), p).err().map(Err),
                    req => Some(self.request(conn, &req)),
                };
                if let Some(reply) = reply {
                    if let Err(e) = &reply {
                        tracing::debug!(conn, method, error = %e.message, "request refused");
                    }
                    let resp = match reply {
                        Ok(data) => Response::ok(id, data),
                        Err(e) => Response::error(id, &e),
                    };
                    self.send_now(conn, Outbound::Text(resp.to_json().into()));
                }
            }
            Command::Disconnected { conn } => self.disconnected(conn),
            Command::MediaDigit(d) => self.heard_digit(d),
            Command::Asr {
                session,
                flow,
                result,
            } => self.send_asr(&session, flow, result),
            Command::SayAsText { session, text } => self.speak(&session, Flow::In, &text),
        }
        self.dispatch();
        self.sync_media();
        self.observe();
        self.publish();
        self.flush();
    }

    fn fire_due(&mut self) {
        let now = self.clock.instant();
        while self.timers.peek().is_some_and(|t| t.at <= now) {
            if let Some(t) = self.timers.pop() {
                self.fire(t.kind);
            }
        }
        self.dispatch();
        self.sync_media();
        self.observe();
        self.publish();
        self.flush();
    }

    fn schedule(&mut self, after: Duration, kind: TimerKind) {
        self.seq += 1;
        self.timers.push(Timer {
            at: self.clock.instant() + after,
            seq: self.seq,
            kind,
        });
    }

    /// Send directly (replies), ahead of queued events.
    fn send_now(&mut self, conn: ConnId, msg: Outbound) {
        self.deliver(conn, msg);
    }

    fn deliver(&mut self, conn: ConnId, msg: Outbound) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        if let Err(e) = c.tx.try_send(msg) {
            match e {
                mpsc::error::TrySendError::Full(_) => {
                    tracing::warn!(conn, user = %c.user, "connection does not read its frames; dropping it");
                }
                mpsc::error::TrySendError::Closed(_) => {}
            }
            // Either way the connection is gone for us.
            self.disconnected(conn);
        }
    }

    fn flush(&mut self) {
        // Delivering can disconnect a slow peer, which can queue more events.
        while !self.outbox.is_empty() {
            let batch = std::mem::take(&mut self.outbox);
            for (conn, msg) in batch {
                self.deliver(conn, msg);
            }
        }
    }

    fn emit_to_conns(&mut self, conns: &[ConnId], ev: &Event) {
        if conns.is_empty() {
            return;
        }
        let text: Arc<str> = ev.to_json().into();
        for &c in conns {
            self.outbox.push((c, Outbound::Text(text.clone())));
        }
    }

    fn emit_to_user(&mut self, user: &str, ev: &Event) {
        let tabs = self
            .agents
            .get(user)
            .map(|a| a.tabs.clone())
            .unwrap_or_default();
        self.emit_to_conns(&tabs, ev);
    }

    fn emit_to_monitors(&mut self, session: &str, ev: &Event) {
        let users: Vec<String> = self
            .sessions
            .get(session)
            .map(|s| s.monitors.iter().map(|m| m.user.clone()).collect())
            .unwrap_or_default();
        let mut tabs = Vec::new();
        for u in users {
            if let Some(a) = self.agents.get(&u) {
                tabs.extend(a.tabs.iter().copied());
            }
        }
        self.emit_to_conns(&tabs, ev);
    }

    fn emit_to_trunk(&mut self, session: &str, ev: &Event) {
        if let Some(t) = self.sessions.get(session).and_then(|s| s.trunk) {
            self.emit_to_conns(&[t], ev);
        }
    }

    fn tab_of(&self, conn: ConnId) -> Option<String> {
        self.conns.get(&conn).map(|c| c.tab_uuid.clone())
    }

    fn new_session_id(&mut self) -> String {
        self.seq += 1;
        format!("s-{}-{}", self.id_prefix, self.seq)
    }

    fn ring_left(&self, s: &Session) -> Option<u64> {
        if s.state != SessionState::Ringing {
            return None;
        }
        let gen = s.ring_gen;
        let deadline = self.timers.iter().find_map(|t| match &t.kind {
            TimerKind::Ring { session, gen: g } if *session == s.id && *g == gen => Some(t.at),
            _ => None,
        })?;
        Some(
            deadline
                .saturating_duration_since(self.clock.instant())
                .as_secs(),
        )
    }

    fn snapshot_for(&self, sid: &str, viewer: &str) -> Option<SessionSnapshot> {
        let s = self.sessions.get(sid)?;
        Some(s.snapshot(viewer, self.ring_left(s)))
    }

    /// Tell every party's tabs how the session stands now.
    fn emit_session_updated(&mut self, sid: &str) {
        let Some(s) = self.sessions.get(sid) else {
            return;
        };
        for user in s.parties() {
            if let Some(snap) = self.snapshot_for(sid, &user) {
                self.emit_to_user(&user, &Event::SessionUpdated(snap));
            }
        }
    }

    // ----- login and connections -----------------------------------------

    fn login(
        &mut self,
        conn: ConnId,
        id: Value,
        user: String,
        role: Role,
        shared: bool,
        tx: mpsc::Sender<Outbound>,
    ) {
        let tab_uuid = uuid::Uuid::new_v4().to_string();
        if role.is_seat() && !self.agents.contains_key(&user) {
            // The connection checked the user against the same config.
            let resp = Response::error(
                id,
                &ProtoError::unauthorized(format!("unknown user `{user}`")),
            );
            let _ = tx.try_send(Outbound::Text(resp.to_json().into()));
            let _ = tx.try_send(Outbound::Close);
            return;
        }
        self.conns.insert(
            conn,
            Conn {
                user: user.clone(),
                role,
                tab_uuid: tab_uuid.clone(),
                shared,
                tx,
            },
        );
        if role == Role::Trunk {
            // Trunks are gateways: each connection is a line of its own.
            self.trunks.push(conn);
            let result = LoginResult {
                tab_uuid: tab_uuid.clone(),
                user_id: user,
                role: role.as_str().into(),
                status: AgentStatus::Free.as_str().into(),
                rest_reason: None,
                skill_groups: Vec::new(),
                sessions: Vec::new(),
            };
            self.reply_login(conn, id, result, tab_uuid);
            return;
        }
        let Some(agent) = self.agents.get_mut(&user) else {
            return;
        };
        // Multi-tab: allowed only when every tab, old and new, shares.
        let old_tabs = agent.tabs.clone();
        let keep = shared
            && old_tabs
                .iter()
                .all(|c| self.conns.get(c).is_some_and(|c| c.shared));
        if !keep {
            agent.tabs.clear();
        }
        let was_gone = agent.tabs.is_empty();
        agent.tabs.push(conn);
        agent.grace_gen += 1; // cancels a pending grace timer
        let mut status_change = None;
        if was_gone && agent.active.is_none() && agent.status == AgentStatus::Offline {
            let st = match self.cfg.center.login_status.as_str() {
                "notReady" => AgentStatus::NotReady,
                "offline" => AgentStatus::Offline,
                _ => AgentStatus::Free,
            };
            if st != AgentStatus::Offline {
                status_change = Some(st);
            }
        }
        if !keep {
            let ev = Event::KickedOut {
                message: Some("logged in elsewhere without enableShared".into()),
            };
            let text: Arc<str> = ev.to_json().into();
            for old in old_tabs {
                // Its tab is gone from the agent already: tell it and close it directly.
                if let Some(c) = self.conns.remove(&old) {
                    let _ = c.tx.try_send(Outbound::Text(text.clone()));
                    let _ = c.tx.try_send(Outbound::Close);
                }
            }
        }
        if let Some(st) = status_change {
            self.set_status(&user, st, None);
        }
        let agent = &self.agents[&user];
        let sessions = agent
            .sessions
            .iter()
            .filter_map(|sid| self.snapshot_for(sid, &user))
            .collect();
        let result = LoginResult {
            tab_uuid: tab_uuid.clone(),
            user_id: user.clone(),
            role: role.as_str().into(),
            status: agent.status.as_str().into(),
            rest_reason: agent.rest_reason.clone(),
            skill_groups: agent.groups.clone(),
            sessions,
        };
        // statusChanged queued above must follow the reply and `ready`.
        let queued = std::mem::take(&mut self.outbox);
        self.reply_login(conn, id, result, tab_uuid);
        self.outbox.extend(queued);
    }

    fn reply_login(&mut self, conn: ConnId, id: Value, result: LoginResult, tab_uuid: String) {
        let data = serde_json::to_value(&result).ok();
        self.send_now(
            conn,
            Outbound::Text(Response::ok(id, data).to_json().into()),
        );
        self.emit_to_conns(&[conn], &Event::Ready { tab_uuid });
    }

    fn disconnected(&mut self, conn: ConnId) {
        self.unsubscribe(conn);
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        if c.role == Role::Trunk {
            self.trunks.retain(|t| *t != conn);
            let owned: Vec<String> = self
                .sessions
                .values()
                .filter(|s| s.trunk == Some(conn) && !s.is_ended())
                .map(|s| s.id.clone())
                .collect();
            for sid in owned {
                if let Some(s) = self.sessions.get_mut(&sid) {
                    s.trunk = None;
                }
                let _ = self.end_session(
                    &sid,
                    CloseBy::Client,
                    Some("trunkDisconnected".into()),
                    None,
                );
            }
            return;
        }
        let Some(agent) = self.agents.get_mut(&c.user) else {
            return;
        };
        agent.tabs.retain(|t| *t != conn);
        if !agent.tabs.is_empty() {
            return;
        }
        agent.grace_gen += 1;
        let gen = agent.grace_gen;
        let offer = agent.offer.clone();
        let user = c.user.clone();
        // An offer to an agent who is gone goes to the next agent at once.
        if let Some(sid) = offer {
            self.withdraw_offer(&user, &sid, Withdraw::Gone);
        }
        let grace = Duration::from_secs(self.cfg.center.reconnect_grace);
        self.schedule(grace, TimerKind::Grace { agent: user, gen });
    }

    // ----- timers ---------------------------------------------------------

    fn fire(&mut self, kind: TimerKind) {
        match kind {
            TimerKind::Ring { session, gen } => {
                let Some(s) = self.sessions.get(&session) else {
                    return;
                };
                if s.ring_gen != gen || s.state != SessionState::Ringing {
                    return;
                }
                let Some(agent) = s.ringing_to.clone() else {
                    return;
                };
                self.emit_to_user(
                    &agent,
                    &Event::AutoTransfer {
                        session_id: session.clone(),
                    },
                );
                self.withdraw_offer(&agent, &session, Withdraw::Missed);
            }
            TimerKind::Dial { session, gen } => {
                if self
                    .sessions
                    .get(&session)
                    .is_some_and(|s| s.ring_gen == gen && s.state == SessionState::Dialing)
                {
                    let _ =
                        self.end_session(&session, CloseBy::Timer, Some("noAnswer".into()), None);
                }
            }
            TimerKind::MaxLength { session } => {
                if self.sessions.get(&session).is_some_and(|s| s.in_progress()) {
                    let _ = self.end_session(
                        &session,
                        CloseBy::Timer,
                        Some("maxSessionLength".into()),
                        None,
                    );
                }
            }
            TimerKind::Speech { session } => self.speak_step(&session),
            TimerKind::BoardMinute => self.board_minute(),
            TimerKind::AfterCallWork { agent, gen } => {
                let Some(a) = self.agents.get(&agent) else {
                    return;
                };
                if a.gen == gen && a.status == AgentStatus::Arrange {
                    let back = a.return_status;
                    self.set_status(&agent, back, None);
                }
            }
            TimerKind::Grace { agent, gen } => {
                let Some(a) = self.agents.get(&agent) else {
                    return;
                };
                if a.grace_gen != gen || !a.tabs.is_empty() {
                    return;
                }
                let active = a.active.clone();
                if let Some(sid) = active {
                    let _ = self.end_session(
                        &sid,
                        CloseBy::Admin,
                        Some("agentDisconnected".into()),
                        None,
                    );
                }
                self.stop_all_monitors(&agent);
                if let Some(a) = self.agents.get_mut(&agent) {
                    a.status = AgentStatus::Offline;
                    a.rest_reason = None;
                    a.status_since = self.clock.instant();
                    a.acw_for = None;
                }
            }
        }
    }

    /// Take an offer back from `agent` and queue the session again (or end
    /// it, when there is no queue to go back to).
    fn withdraw_offer(&mut self, agent: &str, sid: &str, why: Withdraw) {
        let max_missed = self.cfg.center.max_missed_offers;
        if let Some(a) = self.agents.get_mut(agent) {
            if a.offer.as_deref() == Some(sid) {
                a.offer = None;
            }
            a.sessions.retain(|s| s != sid);
        }
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        s.ring_gen += 1;
        s.ringing_to = None;
        if s.kind == CallType::Internal || s.group.is_none() {
            // Nobody else to offer it to (an internal call, or a call
            // transferred to one agent with no skill group behind it): it ends.
            let (close_by, reason) = match why {
                Withdraw::Missed => (CloseBy::Timer, "notAnswered"),
                Withdraw::Declined => (CloseBy::Seat, "declined"),
                Withdraw::Gone => (CloseBy::Admin, "agentDisconnected"),
            };
            let _ = self.end_session(sid, close_by, Some(reason.into()), None);
            return;
        }
        s.state = SessionState::Queued;
        match why {
            Withdraw::Missed => {
                s.declined.push(agent.to_string());
                s.missed_offers += 1;
            }
            Withdraw::Declined => s.refused.push(agent.to_string()),
            Withdraw::Gone => {}
        }
        let group = s.group.clone();
        let key = s.queue_key;
        if let Some(g) = group {
            if let Some(q) = self.queues.get_mut(&g) {
                routing::enqueue(q, &self.sessions, sid, key);
            }
        }
        if why == Withdraw::Missed {
            let mut to_not_ready = false;
            if let Some(a) = self.agents.get_mut(agent) {
                a.missed_in_row += 1;
                to_not_ready = max_missed > 0 && a.missed_in_row >= max_missed;
            }
            if to_not_ready {
                self.set_status(agent, AgentStatus::NotReady, None);
            }
        }
    }

    // ----- status and routing --------------------------------------------

    fn set_status(&mut self, user: &str, status: AgentStatus, reason: Option<String>) {
        let now = self.clock.instant();
        let Some(a) = self.agents.get_mut(user) else {
            return;
        };
        let changed = a.status != status || a.rest_reason != reason;
        if a.status == AgentStatus::Arrange && status != AgentStatus::Arrange {
            if let Some((sid, since)) = a.acw_for.take() {
                let ms = now.saturating_duration_since(since).as_millis() as u64;
                self.kpi_after_call_work(ms);
                match self.sessions.get_mut(&sid).filter(|s| !s.is_ended()) {
                    // Transferred or intercepted away and still going: it is
                    // written with the session's record.
                    Some(s) => s.acw_ms += ms,
                    None => {
                        if let Err(e) = self.records.add_acw(&sid, ms) {
                            tracing::error!(session = %sid, error = %e, "could not record after-call work");
                        }
                    }
                }
            }
        }
        let Some(a) = self.agents.get_mut(user) else {
            return;
        };
        a.gen += 1;
        if status == AgentStatus::Free && (a.status != AgentStatus::Free) {
            a.free_since = now;
            a.missed_in_row = 0;
        }
        if changed {
            a.status_since = now;
        }
        a.status = status;
        a.rest_reason = reason.clone();
        if changed {
            self.emit_to_user(
                user,
                &Event::StatusChanged {
                    status,
                    rest_reason: reason,
                },
            );
        }
    }

    /// Make every offer that can be made now.
    fn dispatch(&mut self) {
        while let Some((sid, agent)) =
            routing::next_offer(&self.queues, &self.members, &self.agents, &self.sessions)
        {
            self.offer(&sid, &agent);
        }
    }

    fn offer(&mut self, sid: &str, agent: &str) {
        let ring = self.cfg.center.ring_timeout;
        let now_ms = self.clock.now_ms();
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        if let Some(g) = &s.group {
            if let Some(q) = self.queues.get_mut(g) {
                q.retain(|x| x != sid);
            }
        }
        s.state = SessionState::Ringing;
        s.ringing_to = Some(agent.to_string());
        s.ring_gen += 1;
        s.offered_ms.get_or_insert(now_ms);
        s.call_in.timeout = ring;
        if s.call_in.server_type.is_some() {
            // Where the audio goes depends on whose seat it rings at.
            s.call_in.server_type = Some(self.cfg.seat_type(agent).as_str().into());
        }
        let gen = s.ring_gen;
        let call_in = s.snapshot(agent, None).call_in;
        if let Some(a) = self.agents.get_mut(agent) {
            a.offer = Some(sid.to_string());
            if !a.sessions.iter().any(|x| x == sid) {
                a.sessions.push(sid.to_string());
            }
        }
        self.emit_to_user(agent, &Event::CallIn(call_in));
        if ring > 0 {
            self.schedule(
                Duration::from_secs(ring),
                TimerKind::Ring {
                    session: sid.to_string(),
                    gen,
                },
            );
        }
    }

    fn queue_session(&mut self, sid: &str) {
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        s.state = SessionState::Queued;
        s.ringing_to = None;
        s.ring_gen += 1;
        let key = s.queue_key;
        if let Some(g) = s.group.clone() {
            if let Some(q) = self.queues.get_mut(&g) {
                routing::enqueue(q, &self.sessions, sid, key);
            }
        }
    }

    // ----- ending ---------------------------------------------------------

    /// End a session: write its record, tell everyone, free its agents.
    /// The error is the record's: the session ends regardless.
    fn end_session(
        &mut self,
        sid: &str,
        close_by: CloseBy,
        main: Option<String>,
        sub: Option<String>,
    ) -> Result<(), ProtoError> {
        let now = self.clock.instant();
        let now_ms = self.clock.wall_ms(now);
        let Some(s) = self.sessions.get_mut(sid) else {
            return Ok(());
        };
        if s.is_ended() {
            return Ok(());
        }
        let was_talking = s.in_progress();
        self.kpi_ended(sid);
        let Some(s) = self.sessions.get_mut(sid) else {
            return Ok(());
        };
        s.stop_hold(now);
        s.state = SessionState::Ended;
        s.ring_gen += 1;
        s.speech.clear();
        s.end = Some(EndInfo {
            close_by,
            main_reason: main.clone(),
            sub_reason: sub.clone(),
            at_ms: now_ms,
        });
        let rec = record_of(s);
        if let Some(g) = &s.group {
            if let Some(q) = self.queues.get_mut(g) {
                q.retain(|x| x != sid);
            }
        }
        let saved = self.records.save(&rec).map_err(|e| {
            tracing::error!(session = %sid, error = %e, "could not write the session record");
            ProtoError::internal(format!(
                "session {sid} ended but its record could not be written: {e}"
            ))
        });
        if saved.is_ok() {
            tracing::info!(session = %sid, close_by = close_by.as_str(), "session ended and recorded");
        }
        let ev = Event::SessionEnded(SessionEnded {
            session_id: sid.to_string(),
            close_by,
            main_reason: main,
            sub_reason: sub,
        });
        let s = &self.sessions[sid];
        let parties = s.parties();
        let customer = s.kind != CallType::Internal;
        let monitors: Vec<String> = s.monitors.iter().map(|m| m.user.clone()).collect();
        for p in &parties {
            self.emit_to_user(p, &ev);
        }
        self.emit_to_monitors(sid, &ev);
        self.emit_to_trunk(sid, &ev);
        for m in monitors {
            self.stop_monitor(&m, sid);
        }
        for p in parties {
            self.release_agent(&p, sid, customer && was_talking);
        }
        self.prune(sid);
        saved
    }

    /// An agent is done with a session: after-call work, or back to work.
    fn release_agent(&mut self, user: &str, sid: &str, acw: bool) {
        let acw_secs = self.cfg.center.after_call_work;
        let now = self.clock.instant();
        let Some(a) = self.agents.get_mut(user) else {
            return;
        };
        if a.offer.as_deref() == Some(sid) {
            a.offer = None;
        }
        if a.active.as_deref() != Some(sid) {
            return;
        }
        a.active = None;
        let back = a.return_status;
        if a.tabs.is_empty() {
            a.status = AgentStatus::Offline;
            a.rest_reason = None;
            a.status_since = now;
            return;
        }
        if acw && acw_secs > 0 {
            self.set_status(user, AgentStatus::Arrange, None);
            if let Some(a) = self.agents.get_mut(user) {
                a.acw_for = Some((sid.to_string(), now));
                let gen = a.gen;
                self.schedule(
                    Duration::from_secs(acw_secs),
                    TimerKind::AfterCallWork {
                        agent: user.to_string(),
                        gen,
                    },
                );
            }
        } else {
            self.set_status(user, back, None);
        }
    }

    /// Seats whose lists may hold this session.
    fn listers(&self, sid: &str) -> Vec<String> {
        let Some(s) = self.sessions.get(sid) else {
            return Vec::new();
        };
        let mut users = s.handled_by.clone();
        for u in [&s.agent, &s.caller_agent, &s.ringing_to]
            .into_iter()
            .flatten()
        {
            if !users.contains(u) {
                users.push(u.clone());
            }
        }
        users.retain(|u| {
            self.agents
                .get(u)
                .is_some_and(|a| a.sessions.iter().any(|x| x == sid))
        });
        users
    }

    /// Drop ended sessions nobody lists any more, and trim long lists.
    fn prune(&mut self, sid: &str) {
        let max = self.cfg.center.max_ended_sessions;
        for user in self.listers(sid) {
            let ended: Vec<String> = {
                let a = &self.agents[&user];
                a.sessions
                    .iter()
                    .filter(|s| self.sessions.get(*s).is_none_or(|x| x.is_ended()))
                    .cloned()
                    .collect()
            };
            if ended.len() > max {
                let drop: Vec<String> = ended[..ended.len() - max].to_vec();
                if let Some(a) = self.agents.get_mut(&user) {
                    a.sessions.retain(|s| !drop.contains(s));
                }
                for d in drop {
                    self.forget_if_unlisted(&d);
                }
            }
        }
        self.forget_if_unlisted(sid);
    }

    fn forget_if_unlisted(&mut self, sid: &str) {
        if self.sessions.get(sid).is_some_and(|s| s.is_ended()) && self.listers(sid).is_empty() {
            self.sessions.remove(sid);
        }
    }

    // ----- monitoring -----------------------------------------------------

    fn stop_monitor(&mut self, user: &str, sid: &str) {
        if let Some(s) = self.sessions.get_mut(sid) {
            s.monitors.retain(|m| m.user != user);
        }
        if let Some(a) = self.agents.get_mut(user) {
            a.monitoring.retain(|s| s != sid);
            if a.audio_monitor.as_deref() == Some(sid) {
                a.audio_monitor = None;
            }
        }
    }

    fn stop_all_monitors(&mut self, user: &str) {
        let list = self
            .agents
            .get(user)
            .map(|a| a.monitoring.clone())
            .unwrap_or_default();
        for sid in list {
            self.stop_monitor(user, &sid);
        }
    }

    // ----- the text transcript path ----------------------------------------

    fn speak(&mut self, sid: &str, flow: Flow, text: &str) {
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        if words.is_empty() {
            return;
        }
        let slot = flow_slot(flow);
        let index = s.next_index[slot];
        s.next_index[slot] += 1;
        let idle = s.speech.is_empty();
        s.speech.push_back(Utterance {
            flow,
            index,
            words,
            shown: 0,
            start_ms: 0, // set when it starts being spoken
        });
        if idle {
            self.speak_step(sid);
        }
    }

    /// One `asr` slice, recognised or from text: to the parties and the
    /// monitors, and the finals to the session's record.
    fn send_asr(&mut self, sid: &str, flow: Flow, result: AsrResult) {
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        if s.is_ended() {
            return;
        }
        if result.slice_type == 2 {
            s.transcript.push(TranscriptLine {
                flow,
                index: result.index,
                start_time: result.start_time,
                end_time: result.end_time,
                text: result.text.clone(),
            });
        }
        let parties = s.parties();
        let ev = Event::Asr {
            session_id: sid.to_string(),
            flow,
            result,
        };
        for p in &parties {
            self.emit_to_user(p, &ev);
        }
        self.emit_to_monitors(sid, &ev);
    }

    /// Emit the next slice of the sentence being spoken.
    fn speak_step(&mut self, sid: &str) {
        let word_ms = self.cfg.center.asr_word_ms;
        loop {
            let now = self.clock.instant();
            let Some(s) = self.sessions.get_mut(sid) else {
                return;
            };
            if s.is_ended() {
                return;
            }
            let elapsed = s.elapsed_ms(now);
            let Some(u) = s.speech.front_mut() else {
                return;
            };
            if u.shown == 0 {
                u.start_ms = elapsed;
            }
            // 0 with the first word, partials (1) growing word by word, 2 with
            // the whole sentence; a one-word sentence still gets 0 then 2.
            u.shown += 1;
            let n = u.words.len();
            let steps = n.max(2);
            let slice_type = if u.shown == 1 {
                0
            } else if u.shown < steps {
                1
            } else {
                2
            };
            let per_word = if word_ms > 0 { word_ms } else { 300 };
            let said = u.shown.min(n);
            let result = AsrResult {
                index: u.index,
                slice_type,
                start_time: u.start_ms,
                end_time: u.start_ms + per_word * said as u64,
                text: u.words[..said].join(" "),
            };
            let flow = u.flow;
            if slice_type == 2 {
                s.speech.pop_front();
            }
            let more = !s.speech.is_empty();
            self.send_asr(sid, flow, result);
            if !more {
                return;
            }
            if word_ms > 0 {
                self.schedule(
                    Duration::from_millis(word_ms),
                    TimerKind::Speech {
                        session: sid.to_string(),
                    },
                );
                return;
            }
        }
    }

    // ----- requests ---------------------------------------------------------

    fn request(&mut self, conn: ConnId, req: &Request) -> Reply {
        let Some(c) = self.conns.get(&conn) else {
            return Err(ProtoError::unauthorized("log in first"));
        };
        let user = c.user.clone();
        match req {
            Request::Login(_) => Err(ProtoError::invalid_state(
                "this connection is already logged in",
            )),
            Request::CallAccept(p) => self.accept(conn, &user, &p.session_id, Ns::Call),
            Request::ChatAccept(p) => self.accept(conn, &user, &p.session_id, Ns::Chat),
            Request::VideoAccept(p) => self.accept(conn, &user, &p.session_id, Ns::Video),
            Request::CallHungUp(p) => self.hang_up(&user, &p.session_id, Ns::Call),
            Request::ChatEnd(p) => self.hang_up(&user, &p.session_id, Ns::Chat),
            Request::VideoEnd(p) => self.hang_up(&user, &p.session_id, Ns::Video),
            Request::CallTransfer(p) => self.transfer(&user, p, Ns::Call),
            Request::ChatTransfer(p) => self.transfer(&user, p, Ns::Chat),
            Request::VideoTransfer(p) => self.transfer(&user, p, Ns::Video),
            Request::CallMuteMic(p) => self.mute(&user, &p.session_id, Ns::Call, Some(true), None),
            Request::CallUnmuteMic(p) => {
                self.mute(&user, &p.session_id, Ns::Call, Some(false), None)
            }
            Request::VideoMuteMic(p) => {
                self.mute(&user, &p.session_id, Ns::Video, Some(true), None)
            }
            Request::VideoUnmuteMic(p) => {
                self.mute(&user, &p.session_id, Ns::Video, Some(false), None)
            }
            Request::VideoMuteVideo(p) => {
                self.mute(&user, &p.session_id, Ns::Video, None, Some(true))
            }
            Request::VideoUnmuteVideo(p) => {
                self.mute(&user, &p.session_id, Ns::Video, None, Some(false))
            }
            Request::CallIsMicMuted(p) => {
                let s = self.party_session(&user, &p.session_id, Ns::Call)?;
                Ok(Some(json!({ "muted": s.muted_for(&user) })))
            }
            Request::CallHold(p) => self.hold(&user, &p.session_id, true),
            Request::CallUnHold(p) => self.hold(&user, &p.session_id, false),
            Request::CallSendDigits(p) => self.send_digits(&user, p),
            Request::CallDeleteCall(p) => self.delete_call(&user, &p.session_id),
            Request::CallStartOutboundCall(p) => self.start_outbound(conn, &user, p),
            Request::CallStartInternalCall(p) => self.start_internal(&user, p),
            Request::CallMonitor(p) => self.monitor(&user, p),
            Request::CallIntercept(p) => self.intercept(conn, &user, &p.session_id),
            Request::SupervisorListSessions(_) => {
                Ok(Some(json!({ "sessions": self.list_sessions() })))
            }
            Request::SupervisorSubscribe(_) => {
                let board = self.subscribe(conn);
                Ok(serde_json::to_value(board).ok())
            }
            Request::SupervisorUnsubscribe(_) => {
                self.unsubscribe(conn);
                Ok(None)
            }
            Request::SupervisorStopMonitor(p) => {
                let watching = self
                    .agents
                    .get(&user)
                    .is_some_and(|a| a.monitoring.contains(&p.session_id));
                if !watching {
                    return Err(ProtoError::not_found(format!(
                        "you are not monitoring session {}",
                        p.session_id
                    )));
                }
                self.stop_monitor(&user, &p.session_id);
                Ok(None)
            }
            Request::ChatSendMessage(p) => self.seat_message(&user, p),
            Request::AgentOnline(_) => self.change_status(&user, "free", None),
            Request::AgentOffline(_) => self.change_status(&user, "offline", None),
            Request::AgentSetStatus(p) => {
                self.change_status(&user, &p.status, p.rest_reason.clone())
            }
            Request::AgentGetStatus(_) => {
                let a = self
                    .agents
                    .get(&user)
                    .ok_or_else(|| ProtoError::not_found("no such agent"))?;
                let mut v = json!({ "status": a.status.as_str() });
                if let Some(r) = &a.rest_reason {
                    v["restReason"] = json!(r);
                }
                Ok(Some(v))
            }
            Request::CustomerCall(p) => self.customer_call(conn, p),
            Request::CustomerHangUp(p) => {
                self.trunk_session(conn, &p.session_id)?;
                self.end_session(&p.session_id, CloseBy::Client, None, None)
                    .map(|_| None)
            }
            Request::CustomerSay(p) => {
                let s = self.trunk_session(conn, &p.session_id)?;
                if !s.kind.is_voice() {
                    return Err(ProtoError::invalid_state(format!(
                        "session {} is a chat: use Customer.sendMessage",
                        s.id
                    )));
                }
                if s.state != SessionState::Talking {
                    return Err(ProtoError::invalid_state(format!(
                        "session {} is {}, not talking: nobody hears the customer",
                        s.id,
                        s.state.as_str()
                    )));
                }
                check_text(&p.text)?;
                // The caller's number picks the voice (the nickname for VoIP).
                let caller = s
                    .call_in
                    .caller_phone_number
                    .clone()
                    .or_else(|| s.call_in.nickname.clone())
                    .unwrap_or_default();
                let voice = self
                    .speech
                    .voice(p.voice.as_deref(), &caller)
                    .map_err(|m| ProtoError::bad_request(format!("parameter `voice`: {m}")))?;
                // Spoken into the call when it has audio and a voice; the
                // recogniser then writes the transcript. Otherwise (and
                // when nothing recognises it) the words go out as text.
                let spoken = self.speech.tts.is_some()
                    && self.bridges.get(&p.session_id).is_some_and(|b| {
                        b.tx.send(BridgeCmd::Say {
                            text: p.text.clone(),
                            voice,
                        })
                        .is_ok()
                    });
                if !spoken || self.speech.model.is_none() {
                    self.speak(&p.session_id, Flow::In, &p.text);
                }
                Ok(None)
            }
            Request::CustomerSendMessage(p) => self.customer_message(conn, p),
            Request::CustomerPlay(p) => self.customer_play(conn, p),
            // `handle` gives Media.offer to `media_offer`, never here.
            Request::MediaOffer(_) => Err(ProtoError::new(
                ErrorCode::Internal,
                "Media.offer is answered by its own path",
            )),
            Request::CustomerAnswer(p) => {
                let s = self.trunk_session(conn, &p.session_id)?;
                if s.state != SessionState::Dialing || s.direction != Direction::Outbound {
                    return Err(ProtoError::invalid_state(format!(
                        "session {} is not an outbound call being dialled",
                        s.id
                    )));
                }
                let agent = s.agent.clone();
                self.start_talking(&p.session_id);
                if let Some(a) = agent {
                    self.emit_to_user(
                        &a,
                        &Event::CalloutAccepted {
                            session_id: p.session_id.clone(),
                        },
                    );
                }
                Ok(None)
            }
            Request::CustomerReject(p) => {
                let s = self.trunk_session(conn, &p.session_id)?;
                if s.state != SessionState::Dialing || s.direction != Direction::Outbound {
                    return Err(ProtoError::invalid_state(format!(
                        "session {} is not an outbound call being dialled",
                        s.id
                    )));
                }
                self.end_session(
                    &p.session_id,
                    CloseBy::Client,
                    Some("rejected".into()),
                    None,
                )
                .map(|_| None)
            }
        }
    }

    // ----- media ------------------------------------------------------------

    /// `Customer.play`: the customer's side plays a sound or tones.
    fn customer_play(&mut self, conn: ConnId, p: &PlayParams) -> Reply {
        let s = self.trunk_session(conn, &p.session_id)?;
        if !s.kind.is_voice() {
            return Err(ProtoError::invalid_state(format!(
                "session {} is a chat: it has no audio",
                s.id
            )));
        }
        let sound = match (&p.sound, &p.tones) {
            (Some(name), None) => {
                if !media::sound::ASSETS.iter().any(|(n, _)| n == name) {
                    let known: Vec<&str> = media::sound::ASSETS.iter().map(|(n, _)| *n).collect();
                    return Err(ProtoError::bad_request(format!(
                        "parameter `sound`: no sound `{}`; the server has {}",
                        shorten_for_error(name),
                        known.join(", ")
                    )));
                }
                Sound::Asset(name.clone())
            }
            (None, Some(t)) => {
                media::sound::check_tones(t).map_err(ProtoError::bad_request)?;
                Sound::Tones(t.clone())
            }
            _ => {
                return Err(ProtoError::bad_request(
                    "give exactly one of `sound` and `tones`",
                ))
            }
        };
        if let Some(s) = self.sessions.get_mut(&p.session_id) {
            let gen = s
                .sound
                .as_ref()
                .map(|(g, _)| g.wrapping_add(1))
                .unwrap_or(0);
            s.sound = Some((gen, sound));
        }
        Ok(None)
    }

    /// `Media.offer`: check who asks, then negotiate off the actor; the
    /// answer goes straight to the connection when it exists.
    fn media_offer(
        &mut self,
        conn: ConnId,
        id: Value,
        p: MediaOfferParams,
    ) -> Result<(), ProtoError> {
        let Some(c) = self.conns.get(&conn) else {
            return Err(ProtoError::unauthorized("log in first"));
        };
        let user = c.user.clone();
        let tx = c.tx.clone();
        if !self.cfg.media.enabled {
            return Err(ProtoError::invalid_state(
                "audio is off on this server (media.enabled = false)",
            ));
        }
        let s = self.sessions.get(&p.session_id).ok_or_else(|| {
            ProtoError::not_found(format!("session {} does not exist", p.session_id))
        })?;
        if !s.kind.is_voice() {
            return Err(ProtoError::invalid_state(format!(
                "session {} is a chat: it has no audio",
                s.id
            )));
        }
        if s.is_ended() {
            return Err(ProtoError::invalid_state(format!(
                "session {} has ended",
                s.id
            )));
        }
        if !mix_of(s).has(&user) {
            return Err(ProtoError::invalid_state(format!(
                "`{user}` is not in the conversation of session {} (it is {}): audio starts once you are",
                s.id,
                s.state.as_str()
            )));
        }
        let seat = self.cfg.seat_type(&user);
        if !seat.audio_in_terminal() {
            return Err(ProtoError::invalid_state(format!(
                "`{user}` is a {} seat: the call's audio goes to the phone",
                seat.as_str()
            )));
        }
        if p.sdp.len() > 64 * 1024 {
            return Err(ProtoError::bad_request(
                "parameter `sdp` is longer than 64 KiB",
            ));
        }
        let sid = p.session_id.clone();
        if !self.bridges.contains_key(&sid) {
            let recording = self
                .recordings
                .as_ref()
                .map(|d| d.join(format!("{sid}.wav")));
            let me = self
                .me
                .clone()
                .unwrap_or_else(|| mpsc::unbounded_channel().0.downgrade());
            let report: Report = Arc::new(move |ev: BridgeEvent| {
                if let Some(tx) = me.upgrade() {
                    let _ = tx.send(Command::from(ev));
                }
            });
            let now = self.clock.instant();
            let since_start = self.sessions.get(&sid).map_or(0, |s| s.elapsed_ms(now));
            let bridge = Bridge::spawn(
                &sid,
                recording.clone(),
                report,
                self.speech.clone(),
                since_start,
            );
            if let Some(s) = self.sessions.get_mut(&sid) {
                s.recording = recording;
            }
            self.bridges.insert(sid.clone(), bridge);
        }
        self.sync_media();
        let Some(bridge_tx) = self.bridges.get(&sid).map(|b| b.tx.clone()) else {
            return Err(ProtoError::new(ErrorCode::Internal, "no media bridge"));
        };
        let ip = self.cfg.media_ip();
        tokio::spawn(async move {
            let answer = async {
                let mut peer = crate::media::rtc::Peer::new(ip).await?;
                let sdp = peer.accept_offer(&p.sdp).await?;
                Ok::<_, crate::media::MediaError>((peer, sdp))
            }
            .await;
            let resp = match answer {
                Ok((peer, sdp)) => {
                    let r = Response::ok(id, serde_json::to_value(MediaAnswer { sdp }).ok());
                    let _ = bridge_tx.send(media::BridgeCmd::Leg { user, peer });
                    r
                }
                Err(e) => {
                    tracing::debug!(session = %sid, error = %e, "Media.offer refused");
                    Response::error(id, &ProtoError::bad_request(format!("Media.offer: {e}")))
                }
            };
            let _ = tx.send(Outbound::Text(resp.to_json().into())).await;
        });
        Ok(())
    }

    /// Tell each bridge who is in its call now; end the bridges of ended sessions.
    fn sync_media(&mut self) {
        if self.bridges.is_empty() {
            return;
        }
        let mut ended = Vec::new();
        for (sid, b) in self.bridges.iter_mut() {
            match self.sessions.get(sid) {
                Some(s) if !s.is_ended() => b.update(mix_of(s)),
                _ => ended.push(sid.clone()),
            }
        }
        for sid in ended {
            if let Some(b) = self.bridges.remove(&sid) {
                let _ = b.tx.send(media::BridgeCmd::End);
            }
        }
    }

    /// A digit in a seat's audio: to the trunk, as `Call.sendDigits` would.
    fn heard_digit(&mut self, d: HeardDigit) {
        let Some(s) = self.sessions.get(&d.session) else {
            return;
        };
        if s.state != SessionState::Talking || !s.is_party(&d.user) {
            return;
        }
        tracing::debug!(session = %d.session, user = %d.user, digit = %d.digit, "DTMF heard in the audio");
        self.emit_to_trunk(
            &d.session,
            &Event::Digits {
                session_id: d.session.clone(),
                dtmf_text: d.digit.to_string(),
            },
        );
    }

    /// A session `user` takes part in, of a type the namespace may act on.
    fn party_session(&self, user: &str, sid: &str, ns: Ns) -> Result<&Session, ProtoError> {
        let s = self
            .sessions
            .get(sid)
            .ok_or_else(|| ProtoError::not_found(format!("session {sid} does not exist")))?;
        if !s.is_party(user)
            && !self
                .agents
                .get(user)
                .is_some_and(|a| a.sessions.iter().any(|x| x == sid))
        {
            return Err(ProtoError::forbidden(format!("session {sid} is not yours")));
        }
        ns.check(s)?;
        Ok(s)
    }

    fn trunk_session(&self, conn: ConnId, sid: &str) -> Result<&Session, ProtoError> {
        let s = self
            .sessions
            .get(sid)
            .ok_or_else(|| ProtoError::not_found(format!("session {sid} does not exist")))?;
        if s.trunk != Some(conn) {
            return Err(ProtoError::forbidden(format!(
                "session {sid} belongs to another trunk connection"
            )));
        }
        if s.is_ended() {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} has ended"
            )));
        }
        Ok(s)
    }

    fn accept(&mut self, conn: ConnId, user: &str, sid: &str, ns: Ns) -> Reply {
        let s = self.party_session(user, sid, ns)?;
        match s.state {
            SessionState::Ringing if s.ringing_to.as_deref() == Some(user) => {}
            SessionState::Ringing | SessionState::Queued => {
                return Err(ProtoError::forbidden(format!(
                    "session {sid} is not offered to you"
                )))
            }
            SessionState::Talking | SessionState::Held if s.agent.as_deref() == Some(user) => {
                return Err(ProtoError::invalid_state(format!(
                    "session {sid} is already accepted"
                )))
            }
            st => {
                return Err(ProtoError::invalid_state(format!(
                    "session {sid} is {}; only a ringing session can be accepted",
                    st.as_str()
                )))
            }
        }
        let internal_caller = s.caller_agent.clone();
        let had_messages = !s.messages.is_empty();
        if let Some(a) = self.agents.get_mut(user) {
            a.offer = None;
            a.active = Some(sid.to_string());
            a.missed_in_row = 0;
            a.return_status = if a.status == AgentStatus::NotReady {
                AgentStatus::NotReady
            } else {
                AgentStatus::Free
            };
        }
        if let Some(s) = self.sessions.get_mut(sid) {
            s.agent = Some(user.to_string());
            s.ringing_to = None;
            if !s.handled_by.iter().any(|u| u == user) {
                s.handled_by.push(user.to_string());
            }
        }
        self.set_status(user, AgentStatus::Busy, None);
        self.start_talking(sid);
        let tab = self.tab_of(conn);
        self.emit_to_user(
            user,
            &Event::UserAccessed {
                session_id: sid.to_string(),
                tab_uuid: tab,
            },
        );
        self.emit_to_trunk(
            sid,
            &Event::UserAccessed {
                session_id: sid.to_string(),
                tab_uuid: None,
            },
        );
        if let Some(caller) = internal_caller {
            self.emit_to_user(
                &caller,
                &Event::CalloutAccepted {
                    session_id: sid.to_string(),
                },
            );
        }
        if had_messages {
            self.emit_session_updated(sid);
        }
        Ok(None)
    }

    /// The conversation starts (or resumes with a new agent).
    fn start_talking(&mut self, sid: &str) {
        let now = self.clock.instant();
        let now_ms = self.clock.wall_ms(now);
        let max = self.cfg.center.max_session_length;
        let Some(s) = self.sessions.get_mut(sid) else {
            return;
        };
        s.state = SessionState::Talking;
        s.ring_gen += 1;
        if s.accepted.is_none() {
            s.accepted = Some(now);
            s.accepted_ms = Some(now_ms);
            if max > 0 {
                self.schedule(
                    Duration::from_secs(max),
                    TimerKind::MaxLength {
                        session: sid.to_string(),
                    },
                );
            }
            self.kpi_answered(sid);
        }
    }

    fn hang_up(&mut self, user: &str, sid: &str, ns: Ns) -> Reply {
        let s = self.party_session(user, sid, ns)?;
        match s.state {
            SessionState::Ended => Err(ProtoError::invalid_state(format!(
                "session {sid} has already ended"
            ))),
            SessionState::Ringing if s.ringing_to.as_deref() == Some(user) => {
                // Hanging up a ringing offer declines it: it is not offered to
                // this agent again, and all their tabs learn it has gone.
                self.emit_to_user(
                    user,
                    &Event::AutoTransfer {
                        session_id: sid.to_string(),
                    },
                );
                self.withdraw_offer(user, sid, Withdraw::Declined);
                Ok(None)
            }
            SessionState::Queued | SessionState::Ringing if !s.is_party(user) => {
                Err(ProtoError::forbidden(format!("session {sid} is not yours")))
            }
            _ => self
                .end_session(sid, CloseBy::Seat, None, None)
                .map(|_| None),
        }
    }

    /// A session in progress that `user` handles.
    fn active_session(&self, user: &str, sid: &str, ns: Ns) -> Result<&Session, ProtoError> {
        let s = self.party_session(user, sid, ns)?;
        if s.ringing_to.as_deref() == Some(user) && s.agent.as_deref() != Some(user) {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is ringing: accept it first"
            )));
        }
        if !s.in_progress() {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is {}, not in progress",
                s.state.as_str()
            )));
        }
        Ok(s)
    }

    fn mute(
        &mut self,
        user: &str,
        sid: &str,
        ns: Ns,
        mic: Option<bool>,
        video: Option<bool>,
    ) -> Reply {
        let s = self.active_session(user, sid, ns)?;
        if !s.kind.is_voice() {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is a chat: it has no microphone"
            )));
        }
        let is_caller = s.caller_agent.as_deref() == Some(user);
        let Some(s) = self.sessions.get_mut(sid) else {
            return Ok(None);
        };
        if let Some(m) = mic {
            if is_caller {
                s.caller_mic_muted = m;
            } else {
                s.mic_muted = m;
            }
        }
        if let Some(v) = video {
            s.video_muted = v;
        }
        self.emit_session_updated(sid);
        Ok(None)
    }

    fn hold(&mut self, user: &str, sid: &str, hold: bool) -> Reply {
        let s = self.active_session(user, sid, Ns::Call)?;
        if !s.kind.is_voice() {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is a chat: it cannot be held"
            )));
        }
        let now = self.clock.instant();
        match (hold, s.state) {
            (true, SessionState::Talking) => {
                if let Some(s) = self.sessions.get_mut(sid) {
                    s.state = SessionState::Held;
                    s.hold_started = Some(now);
                }
            }
            (false, SessionState::Held) => {
                if let Some(s) = self.sessions.get_mut(sid) {
                    s.stop_hold(now);
                    s.state = SessionState::Talking;
                }
            }
            (true, _) => {
                return Err(ProtoError::invalid_state(format!(
                    "session {sid} is already held"
                )))
            }
            (false, _) => {
                return Err(ProtoError::invalid_state(format!(
                    "session {sid} is not held"
                )))
            }
        }
        self.emit_session_updated(sid);
        Ok(None)
    }

    fn send_digits(&mut self, user: &str, p: &SendDigitsParams) -> Reply {
        let digits = p.dtmf_text.as_deref().unwrap_or("");
        if digits.is_empty()
            || digits.len() > 64
            || !digits
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D' | 'a'..='d'))
        {
            return Err(ProtoError::bad_request(
                "Call.sendDigits: parameter `dtmfText` must be 1 to 64 of 0-9 * # A-D",
            ));
        }
        let s = self.active_session(user, &p.session_id, Ns::Call)?;
        if s.state != SessionState::Talking {
            return Err(ProtoError::invalid_state(format!(
                "session {} is held: unhold it to send digits",
                s.id
            )));
        }
        let ev = Event::Digits {
            session_id: p.session_id.clone(),
            dtmf_text: digits.to_string(),
        };
        self.emit_to_trunk(&p.session_id, &ev);
        Ok(None)
    }

    fn delete_call(&mut self, user: &str, sid: &str) -> Reply {
        let listed = self
            .agents
            .get(user)
            .is_some_and(|a| a.sessions.iter().any(|s| s == sid));
        if !listed {
            return Err(ProtoError::not_found(format!(
                "session {sid} is not in your list"
            )));
        }
        if self.sessions.get(sid).is_some_and(|s| !s.is_ended()) {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} has not ended: end it before deleting it"
            )));
        }
        if let Some(a) = self.agents.get_mut(user) {
            a.sessions.retain(|s| s != sid);
        }
        self.forget_if_unlisted(sid);
        Ok(None)
    }

    fn transfer(&mut self, user: &str, p: &TransferParams, ns: Ns) -> Reply {
        let method = ns.transfer_name();
        let target = match (&p.skill_group_id, &p.user_id) {
            (Some(g), None) if !g.is_empty() => Target::Group(g.clone()),
            (None, Some(u)) if !u.is_empty() => Target::User(u.clone()),
            (Some(_), Some(_)) => {
                return Err(ProtoError::bad_request(format!(
                    "{method}: give either `skillGroupId` or `userId`, not both"
                )))
            }
            _ => {
                return Err(ProtoError::bad_request(format!(
                    "{method}: missing parameter `skillGroupId` or `userId`"
                )))
            }
        };
        let s = self.active_session(user, &p.session_id, ns)?;
        if s.kind == CallType::Internal {
            return Err(ProtoError::invalid_state(format!(
                "session {} is an internal call and cannot be transferred",
                s.id
            )));
        }
        let sid = s.id.clone();
        match &target {
            Target::Group(g) => {
                if !self.queues.contains_key(g) {
                    return Err(ProtoError::not_found(format!(
                        "skill group `{g}` does not exist"
                    )));
                }
            }
            Target::User(u) => {
                if u == user {
                    return Err(ProtoError::bad_request(format!(
                        "{method}: parameter `userId` is yourself"
                    )));
                }
                let a = self
                    .agents
                    .get(u)
                    .ok_or_else(|| ProtoError::not_found(format!("agent `{u}` does not exist")))?;
                if !a.available() {
                    return Err(ProtoError::invalid_state(format!(
                        "agent `{u}` is not available ({})",
                        availability(a)
                    )));
                }
            }
        }
        let now = self.clock.instant();
        let now_ms = self.clock.wall_ms(now);
        if let Some(s) = self.sessions.get_mut(&sid) {
            s.stop_hold(now);
            s.agent = None;
            s.mic_muted = false;
            s.video_muted = false;
            s.declined.clear();
            s.refused.clear();
            s.transfers.push(TransferRecord {
                from: user.to_string(),
                to_user: match &target {
                    Target::User(u) => Some(u.clone()),
                    _ => None,
                },
                to_skill_group: match &target {
                    Target::Group(g) => Some(g.clone()),
                    _ => None,
                },
                at: now_ms,
            });
            if let Target::Group(g) = &target {
                s.group = Some(g.clone());
            }
        }
        self.emit_to_user(
            user,
            &Event::Transfer {
                session_id: sid.clone(),
            },
        );
        if let Some(a) = self.agents.get_mut(user) {
            a.sessions.retain(|x| *x != sid);
        }
        self.release_agent(user, &sid, true);
        match target {
            Target::User(u) => self.offer(&sid, &u),
            Target::Group(_) => self.queue_session(&sid),
        }
        Ok(None)
    }

    fn start_outbound(&mut self, conn: ConnId, user: &str, p: &StartOutboundCallParams) -> Reply {
        let number = p.phone_number.trim();
        if !valid_number(number) {
            return Err(ProtoError::bad_request("Call.startOutboundCall: parameter `phoneNumber` must be 1 to 32 of digits, +, -, spaces, ( ) * #"));
        }
        if let Some(g) = &p.skill_group_id {
            if !self.queues.contains_key(g) {
                return Err(ProtoError::not_found(format!(
                    "skill group `{g}` does not exist"
                )));
            }
        }
        self.can_place_call(user)?;
        let trunk = *self.trunks.first().ok_or_else(|| {
            ProtoError::invalid_state("no trunk is connected: outbound calls need one")
        })?;
        let caller = p
            .caller_phone_number
            .clone()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| self.cfg.center.caller_phone_number.clone());
        let sid = self.new_session_id();
        let now = self.clock.instant();
        let mut s = Session::new(
            sid.clone(),
            CallType::Phone,
            Direction::Outbound,
            now,
            self.clock.wall_ms(now),
            self.seq,
        );
        s.state = SessionState::Dialing;
        s.trunk = Some(trunk);
        s.agent = Some(user.to_string());
        s.handled_by.push(user.to_string());
        s.group = p.skill_group_id.clone();
        s.call_in.callee_phone_number = Some(number.to_string());
        s.call_in.caller_phone_number = Some(caller.clone());
        s.call_in.remark = p.phone_desc.clone();
        s.call_in.server_type = Some(self.cfg.seat_type(user).as_str().into());
        s.ring_gen = 1;
        self.sessions.insert(sid.clone(), s);
        self.occupy(user, &sid);
        let resp = CallResponse {
            session_id: sid.clone(),
            callee_location: None,
            callee_phone_number: number.to_string(),
            caller_phone_number: caller.clone(),
            server_type: self.cfg.seat_type(user).as_str().into(),
            remark: p.phone_desc.clone(),
        };
        let tab = self.tab_of(conn);
        self.emit_to_user(
            user,
            &Event::CallOuted(CallOuted {
                session_id: sid.clone(),
                caller_phone_number: caller.clone(),
                callee_phone_number: number.to_string(),
                server_type: self.cfg.seat_type(user).as_str().into(),
                tab_uuid: tab,
            }),
        );
        self.emit_to_conns(
            &[trunk],
            &Event::Dial {
                session_id: sid.clone(),
                phone_number: number.to_string(),
                caller_phone_number: caller,
            },
        );
        let dial = self.cfg.center.dial_timeout;
        if dial > 0 {
            self.schedule(
                Duration::from_secs(dial),
                TimerKind::Dial {
                    session: sid,
                    gen: 1,
                },
            );
        }
        serde_json::to_value(resp)
            .map(Some)
            .map_err(|e| ProtoError::internal(e.to_string()))
    }

    /// May `user` place a call now (outbound or internal)?
    fn can_place_call(&self, user: &str) -> Result<(), ProtoError> {
        let a = self
            .agents
            .get(user)
            .ok_or_else(|| ProtoError::not_found("no such agent"))?;
        if a.active.is_some() || a.offer.is_some() {
            return Err(ProtoError::invalid_state(format!(
                "you are {}: finish it before placing a call",
                availability(a)
            )));
        }
        if !matches!(
            a.status,
            AgentStatus::Free | AgentStatus::NotReady | AgentStatus::Arrange
        ) {
            return Err(ProtoError::invalid_state(format!(
                "status {} does not allow calls: set free or notReady",
                a.status.as_str()
            )));
        }
        Ok(())
    }

    /// `user` is now in session `sid`: busy until it ends.
    fn occupy(&mut self, user: &str, sid: &str) {
        if let Some(a) = self.agents.get_mut(user) {
            a.return_status = if a.status == AgentStatus::NotReady {
                AgentStatus::NotReady
            } else {
                AgentStatus::Free
            };
            a.active = Some(sid.to_string());
            if !a.sessions.iter().any(|x| x == sid) {
                a.sessions.push(sid.to_string());
            }
        }
        self.set_status(user, AgentStatus::Busy, None);
    }

    fn start_internal(&mut self, user: &str, p: &StartInternalCallParams) -> Reply {
        let callee = p.callee_user_id.as_str();
        if callee == user {
            return Err(ProtoError::bad_request(
                "Call.startInternalCall: parameter `calleeUserId` is yourself",
            ));
        }
        let a = self
            .agents
            .get(callee)
            .ok_or_else(|| ProtoError::not_found(format!("agent `{callee}` does not exist")))?;
        if !a.available() {
            return Err(ProtoError::invalid_state(format!(
                "agent `{callee}` is not available ({})",
                availability(a)
            )));
        }
        self.can_place_call(user)?;
        let sid = self.new_session_id();
        let now = self.clock.instant();
        let mut s = Session::new(
            sid.clone(),
            CallType::Internal,
            Direction::Internal,
            now,
            self.clock.wall_ms(now),
            self.seq,
        );
        s.caller_agent = Some(user.to_string());
        s.handled_by.push(user.to_string());
        self.sessions.insert(sid.clone(), s);
        self.occupy(user, &sid);
        self.offer(&sid, callee);
        Ok(Some(json!({ "sessionId": sid })))
    }

    fn monitor(&mut self, user: &str, p: &MonitorParams) -> Reply {
        let sid = &p.session_id;
        let s = self
            .sessions
            .get(sid)
            .ok_or_else(|| ProtoError::not_found(format!("session {sid} does not exist")))?;
        if !s.in_progress() {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is {}: only a session in progress can be monitored",
                s.state.as_str()
            )));
        }
        if s.is_party(user) {
            return Err(ProtoError::invalid_state(format!(
                "you are a party to session {sid}"
            )));
        }
        let a = self
            .agents
            .get(user)
            .ok_or_else(|| ProtoError::not_found("no such supervisor"))?;
        if !p.text_only {
            if let Some(other) = a.audio_monitor.as_ref().filter(|o| *o != sid) {
                return Err(ProtoError::invalid_state(format!(
                    "already monitoring session {other} with audio: one audio monitor at a time"
                )));
            }
        }
        let text_only = p.text_only;
        if let Some(s) = self.sessions.get_mut(sid) {
            s.monitors.retain(|m| m.user != user);
            s.monitors.push(Monitor {
                user: user.to_string(),
                text_only,
            });
        }
        if let Some(a) = self.agents.get_mut(user) {
            if !a.monitoring.contains(sid) {
                a.monitoring.push(sid.clone());
            }
            if !text_only {
                a.audio_monitor = Some(sid.clone());
            } else if a.audio_monitor.as_deref() == Some(sid) {
                a.audio_monitor = None;
            }
        }
        Ok(None)
    }

    fn intercept(&mut self, conn: ConnId, user: &str, sid: &str) -> Reply {
        let s = self
            .sessions
            .get(sid)
            .ok_or_else(|| ProtoError::not_found(format!("session {sid} does not exist")))?;
        if !s.monitors.iter().any(|m| m.user == user) {
            return Err(ProtoError::invalid_state(format!(
                "intercept needs monitoring: call Call.monitor on {sid} first"
            )));
        }
        if !s.in_progress() {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is not in progress"
            )));
        }
        if s.kind == CallType::Internal {
            return Err(ProtoError::invalid_state(format!(
                "session {sid} is an internal call and cannot be intercepted"
            )));
        }
        let old = s.agent.clone();
        self.can_place_call(user)?;
        self.stop_monitor(user, sid);
        if let Some(s) = self.sessions.get_mut(sid) {
            s.agent = Some(user.to_string());
            s.mic_muted = false;
            s.handled_by.push(user.to_string());
        }
        if let Some(old) = old {
            self.emit_to_user(
                &old,
                &Event::SessionEnded(SessionEnded {
                    session_id: sid.to_string(),
                    close_by: CloseBy::Admin,
                    main_reason: Some("intercepted".into()),
                    sub_reason: Some(format!("taken over by {user}")),
                }),
            );
            if let Some(a) = self.agents.get_mut(&old) {
                a.sessions.retain(|x| x != sid);
            }
            self.release_agent(&old, sid, true);
        }
        self.occupy(user, sid);
        let tab = self.tab_of(conn);
        self.emit_to_user(
            user,
            &Event::UserAccessed {
                session_id: sid.to_string(),
                tab_uuid: tab,
            },
        );
        let snap = self.snapshot_for(sid, user);
        Ok(snap.and_then(|s| serde_json::to_value(s).ok()))
    }

    fn list_sessions(&self) -> Vec<SessionSummary> {
        let mut list: Vec<SessionSummary> = self
            .sessions
            .values()
            .filter(|s| !s.is_ended())
            .map(|s| SessionSummary {
                session_id: s.id.clone(),
                kind: s.kind,
                state: s.state,
                user_id: s
                    .agent
                    .clone()
                    .or_else(|| s.ringing_to.clone())
                    .or_else(|| s.caller_agent.clone()),
                skill_group_id: s.group.clone(),
                caller_phone_number: s.call_in.caller_phone_number.clone(),
                started_at: s.created_ms,
            })
            .collect();
        list.sort_by(|a, b| (a.started_at, &a.session_id).cmp(&(b.started_at, &b.session_id)));
        list
    }

    fn seat_message(&mut self, user: &str, p: &TextParams) -> Reply {
        check_text(&p.text)?;
        self.active_session(user, &p.session_id, Ns::Chat)?;
        let msg = ChatMessage {
            session_id: p.session_id.clone(),
            from: ChatFrom::Seat,
            user_id: Some(user.to_string()),
            text: p.text.clone(),
            timestamp: self.clock.now_ms(),
        };
        self.post_message(msg);
        Ok(None)
    }

    fn customer_message(&mut self, conn: ConnId, p: &TextParams) -> Reply {
        check_text(&p.text)?;
        let s = self.trunk_session(conn, &p.session_id)?;
        if s.kind != CallType::Im {
            return Err(ProtoError::invalid_state(format!(
                "session {} is not a chat: use Customer.say",
                s.id
            )));
        }
        let msg = ChatMessage {
            session_id: p.session_id.clone(),
            from: ChatFrom::Client,
            user_id: s.call_in.user_id.clone(),
            text: p.text.clone(),
            timestamp: self.clock.now_ms(),
        };
        self.post_message(msg);
        Ok(None)
    }

    fn post_message(&mut self, msg: ChatMessage) {
        let sid = msg.session_id.clone();
        let Some(s) = self.sessions.get_mut(&sid) else {
            return;
        };
        s.messages.push(msg.clone());
        if s.messages.len() > MAX_MESSAGES {
            s.messages.remove(0);
        }
        let agent = if s.in_progress() {
            s.agent.clone()
        } else {
            None
        };
        let ev = Event::ChatMessage(msg.clone());
        if let Some(a) = agent {
            self.emit_to_user(&a, &ev);
        }
        self.emit_to_monitors(&sid, &ev);
        if msg.from == ChatFrom::Seat {
            self.emit_to_trunk(&sid, &ev);
        }
    }

    fn change_status(&mut self, user: &str, status: &str, reason: Option<String>) -> Reply {
        let a = self
            .agents
            .get(user)
            .ok_or_else(|| ProtoError::not_found("no such agent"))?;
        let target = match status {
            "free" => AgentStatus::Free,
            "rest" => AgentStatus::Rest,
            "arrange" => AgentStatus::Arrange,
            "notReady" => AgentStatus::NotReady,
            "offline" => AgentStatus::Offline,
            "stopNotReady" => {
                if a.status != AgentStatus::NotReady {
                    return Err(ProtoError::invalid_state(format!("status is {}, not notReady", a.status.as_str())));
                }
                AgentStatus::Free
            }
            other => {
                return Err(ProtoError::bad_request(format!(
                    "Agent.setStatus: parameter `status` must be free, rest, arrange, notReady or stopNotReady, not `{}`",
                    crate::protocol::shorten_for_error(other)
                )))
            }
        };
        let reason = if target == AgentStatus::Rest {
            let r = reason.ok_or_else(|| {
                ProtoError::bad_request(format!(
                    "Agent.setStatus: rest needs parameter `restReason`, one of {}",
                    self.cfg.center.break_reasons.join(", ")
                ))
            })?;
            if !self.cfg.center.break_reasons.contains(&r) {
                return Err(ProtoError::bad_request(format!(
                    "Agent.setStatus: parameter `restReason` `{}` is not one of {}",
                    crate::protocol::shorten_for_error(&r),
                    self.cfg.center.break_reasons.join(", ")
                )));
            }
            Some(r)
        } else {
            None
        };
        if let Some(sid) = &a.active {
            return Err(ProtoError::invalid_state(format!(
                "you are in session {sid}: end it before changing status"
            )));
        }
        if let Some(sid) = a.offer.clone() {
            if target != AgentStatus::Free {
                // Leaving free while an offer rings takes the offer back.
                self.emit_to_user(
                    user,
                    &Event::AutoTransfer {
                        session_id: sid.clone(),
                    },
                );
                self.withdraw_offer(user, &sid, Withdraw::Declined);
            }
        }
        self.set_status(user, target, reason);
        Ok(None)
    }

    fn customer_call(&mut self, conn: ConnId, p: &CustomerCallParams) -> Reply {
        let need = |field: &Option<String>, name: &str, t: &str| -> Result<String, ProtoError> {
            match field {
                Some(v) if !v.is_empty() => Ok(v.clone()),
                _ => Err(ProtoError::bad_request(format!(
                    "Customer.call: type {t} needs parameter `{name}`"
                ))),
            }
        };
        if !self.queues.contains_key(&p.skill_group_id) {
            return Err(ProtoError::not_found(format!(
                "skill group `{}` does not exist",
                crate::protocol::shorten_for_error(&p.skill_group_id)
            )));
        }
        let mut call_in = CallIn {
            kind: p.kind,
            remark: p.remark.clone(),
            ..Default::default()
        };
        match p.kind {
            CallType::Phone => {
                call_in.callee_phone_number =
                    Some(need(&p.callee_phone_number, "calleePhoneNumber", "phone")?);
                call_in.caller_phone_number = p.caller_phone_number.clone();
                call_in.caller_location = p.caller_location.clone();
                call_in.ivr_path = p.ivr_path.clone();
                call_in.protected_callee = p.protected_callee.clone();
                call_in.protected_caller = p.protected_caller.clone();
                call_in.server_type = Some("staffSeat".into());
            }
            CallType::Im => {
                call_in.nickname = Some(need(&p.nickname, "nickname", "im")?);
                call_in.avatar = p.avatar.clone();
                call_in.peer_source = p.peer_source.clone();
                call_in.channel_name = p.channel_name.clone();
                call_in.client_data = p.client_data.clone();
                call_in.user_id = p.user_id.clone();
            }
            CallType::Voip => {
                call_in.callee = Some(need(&p.callee, "callee", "voip")?);
                call_in.user_id = Some(need(&p.user_id, "userId", "voip")?);
                call_in.callee_remark = p.callee_remark.clone();
                call_in.nickname = p.nickname.clone();
                call_in.avatar = p.avatar.clone();
                call_in.peer_source = p.peer_source.clone();
                call_in.ivr_path = p.ivr_path.clone();
                call_in.client_data = p.client_data.clone();
            }
            CallType::Video => {
                call_in.user_id = Some(need(&p.user_id, "userId", "video")?);
                call_in.nickname = p.nickname.clone();
                call_in.avatar = p.avatar.clone();
            }
            CallType::Internal => {
                return Err(ProtoError::bad_request("Customer.call: parameter `type` internal is for agents: use Call.startInternalCall"));
            }
        }
        let sid = self.new_session_id();
        let now = self.clock.instant();
        let mut s = Session::new(
            sid.clone(),
            p.kind,
            Direction::Inbound,
            now,
            self.clock.wall_ms(now),
            self.seq,
        );
        call_in.session_id = sid.clone();
        s.call_in = call_in;
        s.trunk = Some(conn);
        s.group = Some(p.skill_group_id.clone());
        let key = s.queue_key;
        self.sessions.insert(sid.clone(), s);
        if let Some(q) = self.queues.get_mut(&p.skill_group_id) {
            routing::enqueue(q, &self.sessions, &sid, key);
        }
        self.kpi_offered();
        Ok(Some(json!({ "sessionId": sid })))
    }
}

/// Which SDK namespace a method came from: it decides the session types it may act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Call,
    Chat,
    Video,
}

impl Ns {
    fn check(self, s: &Session) -> Result<(), ProtoError> {
        let ok = match self {
            Ns::Call => s.kind != CallType::Im,
            Ns::Chat => s.kind == CallType::Im,
            Ns::Video => s.kind == CallType::Video,
        };
        if ok {
            return Ok(());
        }
        let hint = match s.kind {
            CallType::Im => "Chat.*",
            CallType::Video => "Video.* or Call.*",
            _ => "Call.*",
        };
        Err(ProtoError::invalid_state(format!(
            "session {} is of type {}: use {hint}",
            s.id,
            s.kind.as_str()
        )))
    }
    fn transfer_name(self) -> &'static str {
        match self {
            Ns::Call => "Call.transfer",
            Ns::Chat => "Chat.transfer",
            Ns::Video => "Video.transfer",
        }
    }
}

/// Why an offer is taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Withdraw {
    /// Not accepted within the ring timeout.
    Missed,
    /// The agent hung up on it, or left `free` while it rang.
    Declined,
    /// The agent's last connection closed.
    Gone,
}

enum Target {
    Group(String),
    User(String),
}

fn flow_slot(flow: Flow) -> usize {
    match flow {
        Flow::In => 0,
        Flow::Out => 1,
    }
}

fn availability(a: &Agent) -> String {
    if a.tabs.is_empty() {
        "not connected".into()
    } else if let Some(s) = &a.active {
        format!("in session {s}")
    } else if let Some(s) = &a.offer {
        format!("being offered session {s}")
    } else {
        format!("status {}", a.status.as_str())
    }
}

fn check_text(text: &str) -> Result<(), ProtoError> {
    if text.trim().is_empty() {
        return Err(ProtoError::bad_request("parameter `text` is empty"));
    }
    if text.chars().count() > 4096 {
        return Err(ProtoError::bad_request(
            "parameter `text` is longer than 4096 characters",
        ));
    }
    Ok(())
}

fn valid_number(n: &str) -> bool {
    !n.is_empty()
        && n.chars().count() <= 32
        && n.chars().any(|c| c.is_ascii_digit())
        && n.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '*' | '#'))
}

fn radix36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Who is in a session's call, for its media bridge.
fn mix_of(s: &Session) -> Mix {
    let mut talkers = Vec::new();
    if !s.is_ended() {
        if let Some(c) = &s.caller_agent {
            talkers.push((c.clone(), s.caller_mic_muted));
        }
        if let Some(a) = &s.agent {
            let in_call = matches!(
                s.state,
                SessionState::Talking | SessionState::Held | SessionState::Dialing
            );
            if in_call && !talkers.iter().any(|(u, _)| u == a) {
                talkers.push((a.clone(), s.mic_muted));
            }
        }
    }
    Mix {
        customer: s.kind != CallType::Internal,
        talkers,
        listeners: s
            .monitors
            .iter()
            .filter(|m| !m.text_only)
            .map(|m| m.user.clone())
            .collect(),
        held: s.state == SessionState::Held,
        sound: s.sound.clone(),
    }
}

fn record_of(s: &Session) -> SessionRecord {
    let end = s.end.clone();
    let caller = match s.kind {
        CallType::Internal => s.caller_agent.clone(),
        CallType::Im => s
            .call_in
            .nickname
            .clone()
            .or_else(|| s.call_in.user_id.clone()),
        CallType::Voip | CallType::Video => s.call_in.user_id.clone(),
        CallType::Phone => s.call_in.caller_phone_number.clone(),
    };
    let callee = match s.kind {
        CallType::Internal => s.agent.clone().or_else(|| s.ringing_to.clone()),
        CallType::Voip => s.call_in.callee.clone(),
        _ => s.call_in.callee_phone_number.clone(),
    };
    let mut agents = s.handled_by.clone();
    if s.kind == CallType::Internal {
        if let Some(a) = &s.agent {
            if !agents.contains(a) {
                agents.push(a.clone());
            }
        }
    }
    SessionRecord {
        session_id: s.id.clone(),
        kind: s.kind.as_str().into(),
        direction: match s.direction {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::Internal => "internal",
        }
        .into(),
        skill_group: s.group.clone(),
        agents,
        caller,
        callee,
        created_at: s.created_ms,
        offered_at: s.offered_ms,
        accepted_at: s.accepted_ms,
        ended_at: end.as_ref().map(|e| e.at_ms).unwrap_or(s.created_ms),
        hold_ms: s.hold_total.as_millis() as u64,
        acw_ms: (s.acw_ms > 0).then_some(s.acw_ms),
        close_by: end
            .as_ref()
            .map(|e| e.close_by.as_str())
            .unwrap_or("admin")
            .into(),
        main_reason: end.as_ref().and_then(|e| e.main_reason.clone()),
        sub_reason: end.as_ref().and_then(|e| e.sub_reason.clone()),
        missed_offers: s.missed_offers,
        transfers: s.transfers.clone(),
        recording: s.recording.as_ref().map(|p| p.display().to_string()),
        transcript: s.transcript.clone(),
    }
}
