//! A real server on 127.0.0.1:0 and real WebSocket clients.

use std::time::Duration;

use ccdesk::client::{ClientError, Connection};
use ccdesk::protocol::{ErrorCode, Event, LoginResult};
use ccdesk::server::auth;
use ccdesk::server::config::ServerConfig;
use ccdesk::server::records::{RecordStore, SqliteRecords};
use ccdesk::server::Server;
use serde_json::{json, Value};

pub const CONFIG: &str = include_str!("../../config/server.toml");

pub struct TestServer {
    pub url: String,
    pub cfg: ServerConfig,
    pub dir: tempfile::TempDir,
    /// How long to wait for an event before failing: virtual time when the
    /// clock is paused, so it must outlast every server timer a test waits for.
    pub wait: Duration,
    /// Where SIP listens, when the config turned it on.
    pub sip: Option<std::net::SocketAddr>,
    /// The private CA clients trust, for a server speaking `wss://`
    /// ([`TestServer::over_tls`]).
    pub ca: Option<std::path::PathBuf>,
    _server: Server,
}

/// The shipped config with test-friendly changes applied by `edit`.
pub fn config(edit: impl FnOnce(&mut ServerConfig)) -> ServerConfig {
    let mut cfg = ServerConfig::parse(CONFIG).expect("shipped config parses");
    cfg.server.ping_interval = 0;
    cfg.center.asr_word_ms = 0;
    // The transcript from text, as the protocol's tests expect; the speech
    // tests turn recognition and synthesis back on.
    cfg.speech.recognition = false;
    cfg.speech.synthesis = false;
    edit(&mut cfg);
    cfg
}

impl TestServer {
    pub async fn start() -> TestServer {
        Self::with(|_| {}).await
    }

    pub async fn with(edit: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let records = SqliteRecords::open_dir(dir.path()).expect("records");
        Self::with_records(edit, Box::new(records), dir).await
    }

    /// For tests under `#[tokio::test(start_paused = true)]`: waits are in
    /// virtual time and must outlast the server timers the test waits for.
    pub async fn paused(edit: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let mut s = Self::with(edit).await;
        s.wait = Duration::from_secs(3000);
        s
    }

    pub async fn with_records(
        edit: impl FnOnce(&mut ServerConfig),
        records: Box<dyn RecordStore>,
        dir: tempfile::TempDir,
    ) -> TestServer {
        let cfg = config(edit);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let mut server = Server::start(cfg.clone(), listener, records).expect("server starts");
        server.start_sip().await.expect("SIP starts");
        TestServer {
            url: format!("ws://{}/ws", server.addr),
            sip: server.sip.as_ref().map(|s| s.addr),
            cfg,
            dir,
            wait: Duration::from_secs(10),
            ca: None,
            _server: server,
        }
    }

    /// Wait until every RTP port is back in the pool, at most `within`.
    pub async fn sip_ports_back(&self, within: std::time::Duration) {
        let deadline = std::time::Instant::now() + within;
        while self.sip_ports_in_use() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "{} RTP ports still held",
                self.sip_ports_in_use()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// RTP ports the SIP gateway holds now (0 without SIP).
    pub fn sip_ports_in_use(&self) -> usize {
        self._server.sip.as_ref().map_or(0, |s| s.ports.in_use())
    }

    pub fn token(&self, user: &str) -> String {
        auth::issue(&self.cfg.auth.secret, user, now_secs(), 48 * 3600)
    }

    /// Clients connect with `wss://` and trust `ca`: the config has a
    /// certificate for 127.0.0.1 that `ca` signed.
    pub fn over_tls(mut self, ca: std::path::PathBuf) -> TestServer {
        self.url = self.url.replacen("ws://", "wss://", 1);
        self.ca = Some(ca);
        self
    }

    pub async fn connect(&self) -> Client {
        let conn = Connection::connect_with_ca(&self.url, self.ca.as_deref())
            .await
            .expect("connect");
        Client {
            conn,
            user: String::new(),
            tab: String::new(),
            wait: self.wait,
            login: None,
        }
    }

    /// Connect and log in, consuming `ready`.
    pub async fn login(&self, user: &str) -> Client {
        self.login_opts(user, false).await
    }

    pub async fn login_opts(&self, user: &str, shared: bool) -> Client {
        let mut c = self.connect().await;
        let res = c
            .conn
            .login(user, &self.token(user), shared)
            .await
            .expect("login");
        c.user = user.to_string();
        c.tab = res.tab_uuid.clone();
        c.login = Some(res);
        match c.event().await {
            Event::Ready { tab_uuid } => assert_eq!(tab_uuid, c.tab),
            other => panic!("expected ready, got {other:?}"),
        }
        c
    }

    pub fn records(&self) -> SqliteRecords {
        SqliteRecords::open_dir(self.dir.path()).expect("records")
    }
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub struct Client {
    pub conn: Connection,
    pub user: String,
    pub tab: String,
    pub wait: Duration,
    pub login: Option<LoginResult>,
}

impl Client {
    /// A request that must succeed.
    pub async fn ok(&self, method: &str, params: Value) -> Option<Value> {
        match self.conn.call(method, params.clone()).await {
            Ok(v) => v,
            Err(e) => panic!("{} {method} {params}: {e}", self.user),
        }
    }

    /// A request that must fail: its code and message.
    pub async fn err(&self, method: &str, params: Value) -> (ErrorCode, String) {
        match self.conn.call(method, params.clone()).await {
            Ok(v) => panic!(
                "{} {method} {params}: expected an error, got {v:?}",
                self.user
            ),
            Err(ClientError::Server(e)) => (e.code, e.message),
            Err(e) => panic!("{} {method}: {e}", self.user),
        }
    }

    /// The next event.
    pub async fn event(&mut self) -> Event {
        match tokio::time::timeout(self.wait, self.conn.events.recv()).await {
            Ok(Some(ev)) => ev,
            Ok(None) => panic!(
                "{}: connection closed while waiting for an event",
                self.user
            ),
            Err(_) => panic!("{}: no event within {:?}", self.user, self.wait),
        }
    }

    /// The next event, which must have this name.
    pub async fn expect(&mut self, name: &str) -> Event {
        let ev = self.event().await;
        assert_eq!(
            ev.name(),
            name,
            "{}: expected {name}, got {ev:?}",
            self.user
        );
        ev
    }

    /// Skip events until one with this name.
    pub async fn wait_for(&mut self, name: &str) -> Event {
        loop {
            let ev = self.event().await;
            if ev.name() == name {
                return ev;
            }
        }
    }

    /// Wait until the connection is closed by the server; the events before it.
    pub async fn closed(&mut self) -> Vec<Event> {
        let mut seen = Vec::new();
        loop {
            match tokio::time::timeout(self.wait, self.conn.events.recv()).await {
                Ok(Some(ev)) => seen.push(ev),
                Ok(None) => return seen,
                Err(_) => panic!(
                    "{}: still open after {:?}; saw {seen:?}",
                    self.user, self.wait
                ),
            }
        }
    }

    /// A round trip through the center: every event sent before it has arrived.
    pub async fn sync(&self) {
        let _ = self
            .conn
            .request("Customer.hangUp", json!({"sessionId": "-"}))
            .await;
        let _ = self.conn.request("Agent.getStatus", json!({})).await;
    }

    /// After a round trip, no event is waiting.
    pub async fn quiet(&mut self) {
        self.sync().await;
        if let Ok(ev) = self.conn.events.try_recv() {
            panic!("{}: expected no event, got {ev:?}", self.user);
        }
    }

    /// The statusChanged events' statuses until a sync, in order.
    pub async fn drain(&mut self) -> Vec<Event> {
        self.sync().await;
        let mut out = Vec::new();
        while let Ok(ev) = self.conn.events.try_recv() {
            out.push(ev);
        }
        out
    }

    pub async fn status(&self) -> String {
        let v = self
            .ok("Agent.getStatus", json!({}))
            .await
            .expect("status data");
        v["status"].as_str().unwrap_or_default().to_string()
    }
}

/// The session id of a callIn (or any event carrying one).
pub fn sid(ev: &Event) -> String {
    match ev {
        Event::CallIn(c) => c.session_id.clone(),
        Event::UserAccessed { session_id, .. }
        | Event::AutoTransfer { session_id }
        | Event::CalloutAccepted { session_id }
        | Event::Transfer { session_id }
        | Event::Asr { session_id, .. }
        | Event::Dial { session_id, .. }
        | Event::Digits { session_id, .. } => session_id.clone(),
        Event::SessionEnded(e) => e.session_id.clone(),
        Event::CallOuted(c) => c.session_id.clone(),
        Event::ChatMessage(m) => m.session_id.clone(),
        Event::SessionUpdated(s) => s.session_id.clone(),
        other => panic!("no session id in {other:?}"),
    }
}

/// A phone call from the trunk to a skill group: its session id.
pub async fn phone_call(trunk: &Client, group: &str) -> String {
    let v = trunk
        .ok(
            "Customer.call",
            json!({
                "type": "phone", "skillGroupId": group, "calleePhoneNumber": "4000",
                "callerPhoneNumber": "+15551234567", "callerLocation": "Lisbon",
                "protectedCaller": "+1555****567",
                "ivrPath": [{"key": "1", "label": "Billing"}]
            }),
        )
        .await
        .expect("sessionId");
    v["sessionId"].as_str().expect("sessionId").to_string()
}

/// alice takes a phone call from the trunk: (session id, alice, trunk).
pub async fn talking(s: &TestServer, agent: &str) -> (String, Client, Client) {
    let mut a = s.login(agent).await;
    let trunk = s.login("pstn").await;
    let group = if agent == "dave" { "sales" } else { "support" };
    let id = phone_call(&trunk, group).await;
    let ev = a.wait_for("callIn").await;
    assert_eq!(sid(&ev), id);
    a.ok("Call.accept", json!({"sessionId": id})).await;
    a.wait_for("userAccessed").await;
    (id, a, trunk)
}
