//! The center: ONE task owns all state (agents, sessions, queues) and handles
//! commands one at a time. Connections send it commands; it answers through
//! each connection's outbound queue. Every reply goes out before the events
//! the request caused.

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::protocol::*;

use super::agent::Agent;
use super::clock::Clock;
use super::config::{Role, ServerConfig};
use super::media::{
    Bridge, BridgeCmd, BridgeEvent, HeardDigit, MediaNodes, Mix, PhoneLine, Report, Sound,
};
use super::records::{RecordStore, SessionRecord, TranscriptLine, TransferRecord, Write};
use super::routing::{self, Floor, Queues};
use super::session::{EndInfo, Monitor, Session, Utterance, MAX_MESSAGES};
use super::tracked::Tracked;
use super::writer::{self, Durable};

mod agent;
mod board;
mod call;
mod callback;
mod chat;
mod consult;
mod customer;
mod directory;
mod end;
mod failover;
mod help;
mod history;
mod login;
mod media;
mod offer;
mod outbox;
mod phone;
mod recording;
mod speech;
mod staffing;
mod supervisor;
mod video;
mod wrapup;

use self::offer::Withdraw;

pub use self::failover::CenterState;
pub use super::conn::{ConnId, Outbound};

/// What a login asks of the center, besides its connection (a cluster's
/// gateways send it to the owner as it is). Its Debug leaves the token out.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginAsk {
    pub id: Value,
    pub user: String,
    pub role: Role,
    pub enable_shared: bool,
    /// A password login's token and its expiry (unix s), for the result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued: Option<(String, u64)>,
    /// A trunk that places outbound calls (`dial`).
    pub dials: bool,
    /// A trunk that rings seats' phones (`ringPhone`): the SIP gateway.
    pub phones: bool,
    /// The node of a cluster the connection is on (its owner says).
    #[serde(skip)]
    pub node: Option<String>,
}

impl std::fmt::Debug for LoginAsk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginAsk")
            .field("id", &self.id)
            .field("user", &self.user)
            .field("role", &self.role)
            .field("enable_shared", &self.enable_shared)
            .field("dials", &self.dials)
            .field("phones", &self.phones)
            .finish_non_exhaustive()
    }
}

/// What connections tell the center.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Command {
    Login {
        conn: ConnId,
        login: LoginAsk,
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
    /// The state a new owner would need (a cluster's owner asks).
    State(tokio::sync::oneshot::Sender<CenterState>),
    /// The bridges running on other nodes' media services, by node: the
    /// sessions each node should be carrying (a cluster's owner asks).
    Bridges(tokio::sync::oneshot::Sender<HashMap<String, Vec<String>>>),
    /// Take over a previous owner's state (a fresh center, first thing).
    Restore(Box<CenterState>),
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
    /// The records writer has written (or failed) every record up to a ticket.
    RecordsDurable(Durable),
    /// The caller on a session's phone line pressed a key.
    CustomerDigit {
        session: String,
        digit: char,
    },
    /// A trunk connection gives a session's customer side as a phone line
    /// (a SIP gateway's RTP).
    CustomerLine {
        conn: ConnId,
        session: String,
        /// `None`: the line went to the media service of the trunk's node
        /// (a cluster), which runs the session's bridge.
        line: Option<Box<dyn PhoneLine>>,
    },
    /// The phone trunk gives a seat's phone, answered for a session, as the
    /// seat's audio in the session's bridge.
    SeatLine {
        conn: ConnId,
        session: String,
        user: String,
        line: Box<dyn PhoneLine>,
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
            BridgeEvent::CustomerDigit { session, digit } => {
                Command::CustomerDigit { session, digit }
            }
        }
    }
}

struct Conn {
    user: String,
    role: Role,
    tab_uuid: String,
    shared: bool,
    /// A trunk that places outbound calls.
    dials: bool,
    /// A trunk that rings seats' phones.
    phones: bool,
    /// Its node, in a cluster.
    node: Option<String>,
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
    /// An agent's no-answer delay (set at `at`) is over.
    NoAnswerDelay {
        agent: String,
        at: Instant,
    },
    /// A session has waited its group's `overflow_after`.
    Overflow {
        session: String,
        gen: u64,
    },
    /// A session has waited its group's `max_wait`.
    MaxWait {
        session: String,
        gen: u64,
    },
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
    /// The records' store, until `spawn` hands it to the writer.
    store: Option<Box<dyn RecordStore>>,
    /// Connections watching the directory, and what they were sent.
    directory: directory::DirectorySubs,
    /// Reads the records (`Contact.history`).
    reader: Option<super::records::SharedReader>,
    /// The users as they are now (seeded from the config).
    users: Arc<super::users::Users>,
    writer: Option<writer::RecordWriter>,
    conns: HashMap<ConnId, Conn>,
    trunks: Vec<ConnId>,
    agents: Tracked<Agent>,
    sessions: Tracked<Session>,
    /// Each skill group's waiting sessions, in offer order.
    queues: Queues,
    /// Each skill group's offerable agents, longest free first.
    floor: Floor,
    /// What the command being handled changed, for what follows it.
    changes: Changes,
    timers: BinaryHeap<Timer>,
    seq: u64,
    id_prefix: String,
    /// Seats' statuses a previous owner had (a cluster): taken at their
    /// next login.
    restored_status: HashMap<String, (AgentStatus, Option<String>)>,
    outbox: outbox::Outbox,
    board: board::Board,
    /// The audio of sessions that have it, by session id.
    bridges: HashMap<String, Bridge>,
    /// Our own command queue, for bridges to report to (weak: the center
    /// still ends when every connection has gone).
    me: Option<mpsc::WeakUnboundedSender<Command>>,
    recordings: Option<std::path::PathBuf>,
    speech: crate::server::speech::Speech,
    /// Seats' phones the phone trunk was asked to ring, by session and seat.
    phones: HashMap<String, HashMap<String, phone::PhoneLeg>>,
    /// A cluster's nodes, which run the bridges (each where its call's
    /// customer connected), and this node's name.
    media_nodes: Option<(String, Arc<dyn MediaNodes>)>,
}

/// What one command (or timer) changed: the figures, the wallboard and
/// the media bridges look at these alone.
#[derive(Debug, Default)]
struct Changes {
    agents: HashSet<String>,
    sessions: HashSet<String>,
    groups: HashSet<String>,
}

/// Handle to a running center.
#[derive(Clone)]
pub struct CenterHandle {
    pub tx: mpsc::UnboundedSender<Command>,
}

impl Center {
    pub fn new(
        cfg: Arc<ServerConfig>,
        clock: Clock,
        records: Box<dyn RecordStore>,
        users: Arc<super::users::Users>,
    ) -> Center {
        let now = clock.instant();
        let mut agents = Tracked::new();
        let mut floor = Floor::default();
        for u in users.all().iter().filter(|u| u.role.is_seat()) {
            let mut a = Agent::new(u.id.clone(), u.role, u.skill_groups.clone(), now);
            a.max_chats = u.max_chats;
            a.server_type = u.seat_type;
            floor.update(&a);
            agents.insert(u.id.clone(), a);
        }
        agents.take_changed();
        let queues = Queues::new(cfg.skill_groups.iter().map(|g| g.id.as_str()));
        // Random per run, so ids never repeat across restarts.
        let id_prefix = radix36(rand::random::<u32>() as u64);
        let board = board::Board::new(cfg.center.service_level_threshold, clock.now_ms());
        let recordings = if cfg.media.record {
            records.recordings_dir()
        } else {
            None
        };
        let speech = crate::server::speech::Speech::load(&cfg.speech);
        let reader = records.reader().map(|r| Arc::new(std::sync::Mutex::new(r)));
        Center {
            directory: Default::default(),
            reader,
            users,
            speech,
            cfg,
            clock,
            store: Some(records),
            writer: None,
            conns: HashMap::new(),
            trunks: Vec::new(),
            agents,
            sessions: Tracked::new(),
            queues,
            floor,
            changes: Changes::default(),
            timers: BinaryHeap::new(),
            seq: 0,
            id_prefix,
            restored_status: HashMap::new(),
            outbox: outbox::Outbox::default(),
            board,
            bridges: HashMap::new(),
            me: None,
            recordings,
            phones: HashMap::new(),
            media_nodes: None,
        }
    }

    /// Run the bridges on a cluster's nodes (`here` is this node's name):
    /// each session's where its customer's connection is.
    pub fn with_media_nodes(mut self, here: String, nodes: Arc<dyn MediaNodes>) -> Center {
        self.media_nodes = Some((here, nodes));
        self
    }

    /// Start the actor; it runs until every handle is dropped.
    pub fn spawn(mut self) -> CenterHandle {
        let (tx, rx) = mpsc::unbounded_channel();
        self.me = Some(tx.downgrade());
        self.start_writer(tx.downgrade());
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

    fn handle(&mut self, cmd: Command) {
        self.outbox.begin();
        match cmd {
            Command::Login { conn, login, tx } => self.login(
                conn,
                login.id,
                (login.user, login.role),
                login::How {
                    shared: login.enable_shared,
                    dials: login.dials,
                    phones: login.phones,
                    issued: login.issued,
                    node: login.node,
                },
                tx,
            ),
            Command::Request { conn, id, req } => {
                let method = req.method();
                let reply = match req {
                    // Answered by the negotiation task, once the answer exists.
                    Request::MediaOffer(p) => self.media_offer(conn, id.clone(), p).err().map(Err),
                    // Answered by the records' reader, off the actor.
                    Request::ContactHistory(p) => {
                        self.contact_history(conn, id.clone(), &p).err().map(Err)
                    }
                    Request::SupervisorReport(p) => {
                        self.report(conn, id.clone(), &p).err().map(Err)
                    }
                    req => Some(self.request(conn, &req)),
                };
                if let Some(reply) = reply {
                    if let Err(e) = &reply {
                        tracing::debug!(conn, method, error = %e.message, "request refused");
                    }
                    self.reply(conn, id, reply);
                }
            }
            Command::Disconnected { conn } => self.disconnected(conn),
            Command::State(tx) => {
                let _ = tx.send(self.state());
            }
            Command::Bridges(tx) => {
                let _ = tx.send(self.bridges_by_node());
            }
            Command::Restore(st) => self.restore(*st),
            Command::MediaDigit(d) => self.heard_digit(d),
            Command::Asr {
                session,
                flow,
                result,
            } => self.send_asr(&session, flow, result),
            Command::SayAsText { session, text } => self.speak(&session, Flow::In, &text),
            Command::RecordsDurable(d) => self.records_durable(d),
            Command::CustomerDigit { session, digit } => self.customer_digit(&session, digit),
            Command::CustomerLine {
                conn,
                session,
                line,
            } => self.customer_line(conn, &session, line),
            Command::SeatLine {
                conn,
                session,
                user,
                line,
            } => self.seat_line(conn, &session, &user, line),
        }
        self.settle();
    }

    fn fire_due(&mut self) {
        self.outbox.begin();
        let now = self.clock.instant();
        while self.timers.peek().is_some_and(|t| t.at <= now) {
            if let Some(t) = self.timers.pop() {
                self.fire(t.kind);
            }
        }
        self.settle();
    }

    /// What follows every command and timer: the offers that can be made
    /// now, the media bridges told who is in their call, the figures and
    /// the wallboard brought up to date — each looking only at what
    /// changed — and the outbox sent.
    ///
    /// Sending can drop a peer that does not read, which changes seats and
    /// sessions (an offer withdrawn, a session ended): those changes are
    /// settled at once too, not left for the next command.
    fn settle(&mut self) {
        loop {
            self.dispatch();
            self.changes.sessions.extend(self.sessions.take_changed());
            // Phones first: a seat's phone still ringing puts the caller
            // on the queue's music.
            self.sync_phones();
            self.sync_media();
            self.observe();
            self.publish();
            self.publish_directory();
            self.changes = Changes::default();
            self.flush();
            if !self.agents.any_changed() && !self.sessions.any_changed() {
                break;
            }
        }
    }

    /// Bring the floor's free lists up to date with the agents changed
    /// since the last look.
    fn reindex(&mut self) {
        for id in self.agents.take_changed() {
            match self.agents.get(&id) {
                Some(a) => self.changes.groups.extend(self.floor.update(a)),
                // Removed from the center.
                None => self.changes.groups.extend(self.floor.forget(&id)),
            }
            self.changes.agents.insert(id);
        }
    }

    fn schedule(&mut self, after: Duration, kind: TimerKind) {
        self.seq += 1;
        self.timers.push(Timer {
            at: self.clock.instant() + after,
            seq: self.seq,
            kind,
        });
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

    fn emit_to_conns(&mut self, conns: &[ConnId], ev: &Event) {
        if conns.is_empty() {
            return;
        }
        let text: Arc<str> = ev.to_json().into();
        for &c in conns {
            self.queue(c, Outbound::Text(text.clone()));
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
        let deadline = s.ring_deadline?;
        Some(
            deadline
                .saturating_duration_since(self.clock.instant())
                .as_secs(),
        )
    }

    fn snapshot_for(&self, sid: &str, viewer: &str) -> Option<SessionSnapshot> {
        let s = self.sessions.get(sid)?;
        let mut snap = s.snapshot(viewer, self.ring_left(s));
        snap.consult = self.consult_view(s).map(Box::new);
        snap.audio_running = self.bridges.contains_key(&self.audio_home(sid));
        Some(snap)
    }

    /// Tell one party's tabs how the session stands now.
    fn emit_session_updated_to(&mut self, sid: &str, user: &str) {
        if let Some(snap) = self.snapshot_for(sid, user) {
            self.emit_to_user(user, &Event::SessionUpdated(snap));
        }
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

    // ----- timers and requests, handed to the namespaces ----------------------

    fn fire(&mut self, kind: TimerKind) {
        match kind {
            TimerKind::Ring { session, gen } => self.ring_expired(&session, gen),
            TimerKind::Dial { session, gen } => self.dial_expired(&session, gen),
            TimerKind::MaxLength { session } => self.max_length_reached(&session),
            TimerKind::Speech { session } => self.speak_step(&session),
            TimerKind::BoardMinute => self.board_minute(),
            TimerKind::AfterCallWork { agent, gen } => self.after_call_work_ended(&agent, gen),
            TimerKind::Grace { agent, gen } => self.grace_ended(&agent, gen),
            TimerKind::NoAnswerDelay { agent, at } => self.no_answer_delay_ended(&agent, at),
            TimerKind::Overflow { session, gen } => self.overflow(&session, gen),
            TimerKind::MaxWait { session, gen } => self.max_wait_reached(&session, gen),
        }
    }

    /// A request from a logged-in connection, handed to its SDK namespace.
    fn request(&mut self, conn: ConnId, req: &Request) -> Reply {
        let Some(c) = self.conns.get(&conn) else {
            return Err(ProtoError::unauthorized("log in first"));
        };
        let user = c.user.clone();
        let namespace = req.method().split_once('.').map(|(ns, _)| ns);
        match (namespace, req) {
            (Some("Call"), _) => self.call_request(conn, &user, req),
            (Some("Chat"), _) => self.chat_request(conn, &user, req),
            (Some("Video"), _) => self.video_request(conn, &user, req),
            (Some("Agent"), Request::AgentSubscribeDirectory(_)) => {
                Ok(Some(self.directory_subscribe(conn)))
            }
            (Some("Agent"), Request::AgentUnsubscribeDirectory(_)) => {
                self.directory_unsubscribe(conn);
                Ok(None)
            }
            (Some("Agent"), _) => self.agent_request(&user, req),
            (Some("SkillGroup"), Request::SkillGroupList(_)) => {
                Ok(Some(json!({ "skillGroups": self.directory_groups() })))
            }
            (Some("Supervisor"), _) => self.supervisor_request(conn, &user, req),
            (Some("Customer"), _) => self.customer_request(conn, req),
            (Some("Phone"), _) => self.phone_request(conn, req),
            (_, Request::Login(_)) => Err(ProtoError::invalid_state(
                "this connection is already logged in",
            )),
            // `handle` gives Media.offer to `media_offer`, never here.
            (_, other) => Err(misrouted(other)),
        }
    }
}

/// Which SDK namespace a method came from: it decides the session types it may act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ns {
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

pub(super) fn availability(a: &Agent) -> String {
    if a.tabs.is_empty() {
        "not connected".into()
    } else if let Some(s) = &a.active {
        format!("in session {s}")
    } else if !a.chats.is_empty() {
        format!("in {} chats of {}", a.chats.len(), a.max_chats)
    } else if let Some(s) = &a.offer {
        format!("being offered session {s}")
    } else {
        format!("status {}", a.status.as_str())
    }
}

pub(super) fn check_text(text: &str) -> Result<(), ProtoError> {
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

pub(super) fn valid_number(n: &str) -> bool {
    !n.is_empty()
        && n.chars().count() <= 32
        && n.chars().any(|c| c.is_ascii_digit())
        && n.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | ' ' | '(' | ')' | '*' | '#'))
}

/// `phoneNumber` of `method` as a number ccdesk dials, else the error
/// naming what it must be.
pub(super) fn check_number(method: &str, n: &str) -> Result<(), ProtoError> {
    if valid_number(n) {
        Ok(())
    } else {
        Err(ProtoError::bad_request(format!(
            "{method}: parameter `phoneNumber` must be 1 to 32 of digits, +, -, spaces, ( ) * #"
        )))
    }
}

pub(super) fn radix36(mut n: u64) -> String {
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

/// A request handed to a namespace that is not its own (a bug, answered
/// rather than panicking).
pub(super) fn misrouted(req: &Request) -> ProtoError {
    ProtoError::new(
        ErrorCode::Internal,
        format!("{} is answered by its own path", req.method()),
    )
}
