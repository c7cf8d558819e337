//! Several nodes on NATS: three in-process nodes sharing one NATS server
//! (nats-server -js) and one records database; agents and the trunk on
//! different nodes; the center runs on whichever holds the lease.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ccdesk::client::Connection;
use ccdesk::protocol::Event;
use ccdesk::server::auth;
use ccdesk::server::cluster::OpenRecords;
use ccdesk::server::records::{RecordStore, SqliteRecords};
use ccdesk::server::Server;
use serde_json::json;

use crate::harness::*;

use crate::nats::Nats;

struct Cluster {
    nodes: Vec<Option<Server>>,
    urls: Vec<String>,
    cfg: ccdesk::server::config::ServerConfig,
    _dir: tempfile::TempDir,
}

/// `n` nodes named a, b, c... on `nats`, records in one SQLite database.
async fn cluster(nats: &Nats, n: usize) -> Cluster {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_path_buf();
    let open: OpenRecords = Arc::new(move || {
        let r: Box<dyn RecordStore> = Box::new(SqliteRecords::open_dir(&data)?);
        Ok(r)
    });
    let mut nodes = Vec::new();
    let mut urls = Vec::new();
    let mut cfg0 = None;
    for i in 0..n {
        let name = ((b'a' + i as u8) as char).to_string();
        let cfg = config(|c| {
            c.cluster.nats = Some(nats.url.clone());
            c.cluster.node = Some(name.clone());
            c.cluster.lease_ms = 1500;
            c.center.after_call_work = 0;
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let s = Server::start_node(cfg.clone(), listener, open.clone())
            .await
            .expect("the node starts");
        urls.push(format!("ws://{}/ws", s.addr));
        nodes.push(Some(s));
        cfg0 = Some(cfg);
    }
    Cluster {
        nodes,
        urls,
        cfg: cfg0.expect("a node"),
        _dir: dir,
    }
}

impl Cluster {
    /// Log `user` in at node `i` (waiting for an owner if there is none
    /// yet), consuming `ready`.
    async fn login(&self, i: usize, user: &str) -> Client {
        login_url(&self.urls[i], &self.cfg, user).await
    }
}

/// Log `user` in at the node at `url` (waiting for an owner if there is
/// none yet), consuming `ready`.
pub(crate) async fn login_url(
    url: &str,
    cfg: &ccdesk::server::config::ServerConfig,
    user: &str,
) -> Client {
    let conn = Connection::connect(url).await.expect("connect");
    let token = auth::issue(&cfg.auth.secret, user, now_secs(), 3600);
    let res = tokio::time::timeout(Duration::from_secs(15), conn.login(user, &token, false))
        .await
        .expect("an owner answers the login")
        .expect("login");
    let mut c = Client {
        conn,
        user: user.into(),
        tab: res.tab_uuid.clone(),
        wait: Duration::from_secs(10),
        login: Some(res),
    };
    match c.event().await {
        Event::Ready { tab_uuid } => assert_eq!(tab_uuid, c.tab),
        other => panic!("expected ready, got {other:?}"),
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_from_node_a_is_answered_on_c_held_and_transferred_to_b() {
    let Some(nats) = Nats::start() else { return };
    let c = cluster(&nats, 3).await;
    let trunk = c.login(0, "pstn").await;
    let mut alice = c.login(2, "alice").await;
    alice.expect("statusChanged").await;
    let mut bob = c.login(1, "bob").await;
    bob.expect("statusChanged").await;
    // bob is busy elsewhere first, so that the call goes to alice.
    bob.ok(
        "Agent.setStatus",
        json!({"status": "rest", "restReason": "Meal"}),
    )
    .await;
    let id = phone_call(&trunk, "support").await;
    let ev = alice.wait_for("callIn").await;
    assert_eq!(sid(&ev), id);
    alice.ok("Call.accept", json!({"sessionId": id})).await;
    alice.ok("Call.hold", json!({"sessionId": id})).await;
    alice.ok("Call.unHold", json!({"sessionId": id})).await;
    bob.ok("Agent.setStatus", json!({"status": "free"})).await;
    alice
        .ok("Call.transfer", json!({"sessionId": id, "userId": "bob"}))
        .await;
    assert_eq!(sid(&alice.wait_for("transfer").await), id);
    let ev = bob.wait_for("callIn").await;
    assert_eq!(sid(&ev), id);
    bob.ok("Call.accept", json!({"sessionId": id})).await;
    match bob.wait_for("userAccessed").await {
        Event::UserAccessed { session_id, .. } => assert_eq!(session_id, id),
        _ => unreachable!(),
    }
    bob.ok("Call.hungUp", json!({"sessionId": id})).await;
    match bob.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => assert_eq!(e.session_id, id),
        _ => unreachable!(),
    }
    drop(c.nodes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_owner_stops_another_node_takes_over_and_agents_stay_connected() {
    let Some(nats) = Nats::start() else { return };
    let mut c = cluster(&nats, 3).await;
    let trunk = c.login(0, "pstn").await;
    drop(trunk);
    // Who owns it? The node whose name the lease holds.
    let (kv, owner, owner_i) = owner_of(&nats).await;
    let other = (owner_i + 1) % 3;
    let mut alice = c.login(other, "alice").await;
    alice.expect("statusChanged").await;
    // The owner goes away (its node stops).
    let t0 = Instant::now();
    c.nodes[owner_i] = None;
    // alice stays connected and is logged in again at the new owner: the
    // snapshot a reconnect gets, then a fresh ready.
    match alice.wait_for("loggedInAgain").await {
        Event::LoggedInAgain(r) => {
            assert_eq!((r.user_id.as_str(), r.status.as_str()), ("alice", "free"));
        }
        _ => unreachable!(),
    }
    alice.expect("ready").await;
    let moved = t0.elapsed();
    let now = ccdesk::server::cluster::lease::holder(&kv, "main")
        .await
        .expect("read")
        .expect("a new owner");
    assert_ne!(now, owner, "the lease moved");
    // New calls are routed: a trunk on a surviving node calls, alice gets
    // the offer.
    let trunk = c.login((owner_i + 2) % 3, "pstn").await;
    let id = phone_call(&trunk, "support").await;
    assert_eq!(sid(&alice.wait_for("callIn").await), id);
    eprintln!("failover: the owner stopped; alice had a new owner's ready after {moved:?}");
    assert!(moved < Duration::from_secs(5), "{moved:?}");
}

/// A `ccdesk serve` node in its own process.
pub(crate) struct Process {
    pub(crate) child: std::process::Child,
    pub(crate) url: String,
    /// Its SIP address, when the config has `[sip] listen`.
    pub(crate) sip: Option<std::net::SocketAddr>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn serve_process(
    cfg: &ccdesk::server::config::ServerConfig,
    dir: &std::path::Path,
    name: &str,
) -> Process {
    use std::io::BufRead;
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, toml::to_string(cfg).expect("the config as TOML")).expect("write");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ccdesk"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(dir.join(format!("{name}.log"))).expect("log"))
        .spawn()
        .expect("ccdesk serve runs");
    let out = child.stdout.take().expect("stdout");
    let mut out = std::io::BufReader::new(out);
    let mut line = String::new();
    out.read_line(&mut line)
        .expect("the node prints its address");
    assert!(line.starts_with("ws://"), "{line:?}: see {}", dir.display());
    let sip = cfg.sip.listen.as_ref().map(|_| {
        let mut sip = String::new();
        out.read_line(&mut sip)
            .expect("the node prints its SIP address");
        sip.trim()
            .strip_prefix("sip:")
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("{sip:?}: see {}", dir.display()))
    });
    Process {
        child,
        url: line.trim().to_string(),
        sip,
    }
}

/// Three `ccdesk serve` processes on `nats`, their records in PostgreSQL
/// at `records`, else in SQLite in `dir`.
fn processes(
    nats: &Nats,
    dir: &std::path::Path,
    records: Option<String>,
) -> (Vec<Option<Process>>, ccdesk::server::config::ServerConfig) {
    processes_with(nats, dir, records, 1500)
}

fn processes_with(
    nats: &Nats,
    dir: &std::path::Path,
    records: Option<String>,
    lease_ms: u64,
) -> (Vec<Option<Process>>, ccdesk::server::config::ServerConfig) {
    processes_edit(nats, dir, records, lease_ms, |_| {})
}

/// Three nodes as [`processes`], each config edited by `edit`.
pub(crate) fn processes_edit(
    nats: &Nats,
    dir: &std::path::Path,
    records: Option<String>,
    lease_ms: u64,
    edit: impl Fn(&mut ccdesk::server::config::ServerConfig),
) -> (Vec<Option<Process>>, ccdesk::server::config::ServerConfig) {
    let mut procs = Vec::new();
    let mut base = None;
    for name in ["a", "b", "c"] {
        let cfg = config(|c| {
            c.cluster.nats = Some(nats.url.clone());
            c.cluster.node = Some(name.into());
            c.cluster.lease_ms = lease_ms;
            c.center.after_call_work = 0;
            c.center.reconnect_grace = 30;
            c.server.data_dir = Some(dir.join("data"));
            c.records.url = records.clone();
            edit(c);
        });
        procs.push(Some(serve_process(&cfg, dir, name)));
        base = Some(cfg);
    }
    (procs, base.expect("a config"))
}

/// The lease bucket, and the node (index) that holds the lease now.
pub(crate) async fn owner_of(nats: &Nats) -> (async_nats::jetstream::kv::Store, String, usize) {
    let client = async_nats::connect(nats.url.as_str()).await.expect("nats");
    let kv = async_nats::jetstream::new(client)
        .get_key_value(ccdesk::server::cluster::lease::BUCKET)
        .await
        .expect("the lease bucket");
    let owner = ccdesk::server::cluster::lease::holder(&kv, "main")
        .await
        .expect("read")
        .expect("an owner");
    let i = (owner.as_bytes()[0] - b'a') as usize;
    (kv, owner, i)
}

/// Wait until the center's state in JetStream has session `id` in `state`.
async fn state_written(nats: &Nats, id: &str, state: &str) {
    state_has(nats, id, state, |s| s["state"] == state).await
}

/// Wait until the owner has written session `id` (what: for the message)
/// the way `pred` wants it.
pub(crate) async fn state_has(
    nats: &Nats,
    id: &str,
    what: &str,
    pred: impl Fn(&serde_json::Value) -> bool,
) {
    use futures_util::StreamExt;
    let client = async_nats::connect(nats.url.as_str()).await.expect("nats");
    let kv = async_nats::jetstream::new(client)
        .get_key_value(ccdesk::server::cluster::STATE_BUCKET)
        .await
        .expect("the state bucket");
    let mut watch = kv.watch_with_history("main").await.expect("watch");
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(e)) = watch.next().await {
            let v: serde_json::Value = serde_json::from_slice(&e.value).unwrap_or_default();
            let has = v["sessions"]
                .as_array()
                .is_some_and(|l| l.iter().any(|s| s["id"] == id && pred(s)));
            if has {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "the state never had {id} {what}");
}

/// The customer (the trunk) plays `hz` for 600 ms in session `id`, and
/// the seat's `audio` hears it (`what`, when it does not).
async fn the_customer_plays(
    trunk: &Client,
    id: &str,
    hz: f32,
    audio: &crate::media::SeatAudio,
    what: &str,
) {
    trunk
        .ok(
            "Customer.play",
            json!({"sessionId": id, "tones": [{"hz": [hz], "ms": 600}]}),
        )
        .await;
    audio
        .until(|h| crate::media::has_tone(h, hz, &TONES), what)
        .await;
}

/// The tones the audio tests tell apart.
const TONES: [f32; 4] = [440.0, 700.0, 900.0, 1200.0];

pub(crate) fn urls_of(procs: &[Option<Process>]) -> Vec<String> {
    procs
        .iter()
        .map(|p| p.as_ref().map(|p| p.url.clone()).unwrap_or_default())
        .collect()
}

pub(crate) fn kill_9(p: &mut Option<Process>) {
    if let Some(mut p) = p.take() {
        let _ = p.child.kill();
        let _ = p.child.wait();
    }
}

/// kill -9 of the owner: the lease moves within the failover time, agents
/// on the other nodes stay connected and see their sessions (the call in
/// progress goes on at the new owner), a new call is routed, and the calls
/// that ended on either owner are in PostgreSQL; the time from the kill to
/// the new call's offer is printed (docs/BENCHMARKS.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_the_owner_moves_the_center_and_new_calls_are_routed() {
    let Some(nats) = Nats::start() else { return };
    let Some(db) = crate::pg::database("failover") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut procs, cfg) = processes(&nats, dir.path(), Some(db));
    let urls = urls_of(&procs);
    // The first login waits for an owner.
    drop(login_url(&urls[0], &cfg, "ivy").await);
    let (kv, owner, o) = owner_of(&nats).await;
    let (x, y) = ((o + 1) % 3, (o + 2) % 3);
    let mut alice = login_url(&urls[x], &cfg, "alice").await;
    alice.expect("statusChanged").await;
    let trunk = login_url(&urls[y], &cfg, "pstn").await;
    // One call ends before the owner dies.
    let before = phone_call(&trunk, "support").await;
    assert_eq!(sid(&alice.wait_for("callIn").await), before);
    alice.ok("Call.accept", json!({"sessionId": before})).await;
    alice.ok("Call.hungUp", json!({"sessionId": before})).await;
    alice.wait_for("sessionEnded").await;
    // Another is in progress when it dies.
    let id = phone_call(&trunk, "support").await;
    assert_eq!(sid(&alice.wait_for("callIn").await), id);
    alice.ok("Call.accept", json!({"sessionId": id})).await;
    // Its audio: the bridge runs on the node where the call landed (the
    // trunk's), not on the owner.
    let voice = ccdesk::media::analysis::tone(crate::media::RATE, &[700.0], 60_000, 0.4);
    let audio = crate::media::SeatAudio::start(&alice, &id, voice).await;
    the_customer_plays(
        &trunk,
        &id,
        1200.0,
        &audio,
        "the customer's 1200 Hz before the failover",
    )
    .await;
    // The owner writes its state a tenth of a second apart: wait until it
    // has written the call as talking, with its bridge's node (a kill
    // before that loses it).
    let landed = format!("talking, its bridge on {}", (b'a' + y as u8) as char);
    state_has(&nats, &id, &landed, |s| {
        s["state"] == "talking" && s["bridgeNode"] == ((b'a' + y as u8) as char).to_string()
    })
    .await;

    let t0 = Instant::now();
    kill_9(&mut procs[o]);
    // alice is still connected: the new owner's snapshot reaches her, with
    // her call in progress (the state the old owner kept in JetStream).
    match alice.wait_for("loggedInAgain").await {
        Event::LoggedInAgain(r) => {
            let mine = r.sessions.iter().find(|x| x.session_id == id);
            assert_eq!(
                mine.map(|x| x.state),
                Some(ccdesk::protocol::SessionState::Talking),
                "{r:?}"
            );
            assert!(
                mine.is_some_and(|x| x.audio_running),
                "its bridge runs on: no need to offer again"
            );
            assert_eq!(r.status, "busy");
        }
        _ => unreachable!(),
    }
    let relogged = t0.elapsed();
    let now = ccdesk::server::cluster::lease::holder(&kv, "main")
        .await
        .expect("read")
        .expect("a new owner");
    assert_ne!(now, owner, "the lease moved");
    // The call kept its audio: the same peer connection, never offered
    // again, hears what the customer plays through the new owner.
    the_customer_plays(
        &trunk,
        &id,
        900.0,
        &audio,
        "the customer's 900 Hz after the failover, on the same connection",
    )
    .await;
    drop(audio);
    // A new call is routed: to bob, who logs in on a surviving node (alice
    // is busy with the call that survived).
    let mut bob = login_url(&urls[y], &cfg, "bob").await;
    let id2 = phone_call(&trunk, "support").await;
    assert_eq!(sid(&bob.wait_for("callIn").await), id2);
    let routed = t0.elapsed();
    eprintln!(
        "failover after kill -9 (lease 1.5 s): agents logged in again at the new owner after {relogged:?}; first new call offered after {routed:?}"
    );
    assert!(routed < Duration::from_secs(3), "failover took {routed:?}");
    // The surviving call goes on: alice holds it and hangs up, and the
    // trunk (logged in again) hears the end.
    alice.ok("Call.hold", json!({"sessionId": id})).await;
    alice.ok("Call.hungUp", json!({"sessionId": id})).await;
    let mut trunk = trunk;
    loop {
        match trunk.wait_for("sessionEnded").await {
            Event::SessionEnded(e) if e.session_id == id => break,
            _ => {}
        }
    }
    bob.ok("Call.accept", json!({"sessionId": id2})).await;
    bob.ok("Call.hungUp", json!({"sessionId": id2})).await;
    bob.wait_for("sessionEnded").await;
    // The new owner writes to the same database: the calls that ended on
    // either owner are there.
    let mut reader = ccdesk::server::records::open_reader(&cfg).expect("the records");
    let ended: Vec<String> = reader
        .ended_since(0)
        .expect("read")
        .into_iter()
        .map(|r| r.session_id)
        .collect();
    assert!(ended.contains(&before), "{ended:?}");
    assert!(ended.contains(&id), "the call that survived: {ended:?}");
    assert!(ended.contains(&id2), "{ended:?}");
}

/// kill -9 of a gateway: its agent reconnects to another node within the
/// grace period, gets her call back and carries on with it there; the
/// owner drops the dead gateway's other connections once it falls silent
/// (the wallboard shows bob, who was there, disconnected).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_whose_gateway_dies_reconnects_elsewhere_and_gets_her_call_back() {
    let Some(nats) = Nats::start() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut procs, cfg) = processes(&nats, dir.path(), None);
    let urls = urls_of(&procs);
    drop(login_url(&urls[0], &cfg, "ivy").await);
    let (_kv, _owner, o) = owner_of(&nats).await;
    let (x, y) = ((o + 1) % 3, (o + 2) % 3);
    let mut alice = login_url(&urls[x], &cfg, "alice").await;
    alice.expect("statusChanged").await;
    let mut bob = login_url(&urls[x], &cfg, "bob").await;
    bob.expect("statusChanged").await;
    bob.ok(
        "Agent.setStatus",
        json!({"status": "rest", "restReason": "Meal"}),
    )
    .await;
    let mut trunk = login_url(&urls[y], &cfg, "pstn").await;
    let mut ivy = login_url(&urls[y], &cfg, "ivy").await;
    let v = ivy
        .ok("Supervisor.subscribe", json!({}))
        .await
        .expect("a wallboard");
    let mut wall: ccdesk::protocol::Wallboard = serde_json::from_value(v).expect("a Wallboard");
    let id = phone_call(&trunk, "support").await;
    assert_eq!(sid(&alice.wait_for("callIn").await), id);
    alice.ok("Call.accept", json!({"sessionId": id})).await;

    // alice's node dies; her terminal reconnects to another node.
    kill_9(&mut procs[x]);
    drop(alice);
    let again = login_url(&urls[y], &cfg, "alice").await;
    let snap = &again.login.as_ref().expect("login").sessions;
    assert_eq!(snap.len(), 1, "{snap:?}");
    assert_eq!(snap[0].session_id, id);
    assert_eq!(snap[0].state, ccdesk::protocol::SessionState::Talking);
    // bob's connection died with the node: once the node is silent for a
    // lease, the owner says so.
    let bob_connected = |w: &ccdesk::protocol::Wallboard| {
        w.agents
            .iter()
            .find(|a| a.user_id == "bob")
            .map(|a| a.connected)
    };
    drop(bob);
    while bob_connected(&wall) != Some(false) {
        if let Event::Wallboard(d) = ivy.wait_for("wallboard").await {
            wall.apply(d);
        }
    }
    // The call carries on from the new node.
    again.ok("Call.hold", json!({"sessionId": id})).await;
    again.ok("Call.hungUp", json!({"sessionId": id})).await;
    match trunk.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => assert_eq!(e.session_id, id),
        _ => unreachable!(),
    }
}

/// A user an administrator adds at the owner logs in at any node, though
/// the other nodes read their users before she existed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_added_while_the_cluster_runs_logs_in_at_every_node() {
    let Some(nats) = Nats::start() else { return };
    let c = cluster(&nats, 3).await;
    let sam = c.login(0, "sam").await;
    sam.ok(
        "Supervisor.addUser",
        json!({"userId": "nina", "skillGroups": ["support"]}),
    )
    .await;
    for i in 0..3 {
        let nina = c.login(i, "nina").await;
        let groups = &nina.login.as_ref().expect("login").skill_groups;
        assert_eq!(groups, &vec!["support".to_string()], "at node {i}");
        nina.conn.close();
    }
    // Someone no one added is still unknown.
    let conn = Connection::connect(&c.urls[2]).await.expect("connect");
    let token = auth::issue(&c.cfg.auth.secret, "mallory", now_secs(), 3600);
    let err = conn
        .login("mallory", &token, false)
        .await
        .expect_err("unknown");
    assert!(err.to_string().contains("unknown user"), "{err}");
}

/// SIGTERM (systemd's stop) of the owner: it gives the lease up before it
/// exits, so another node takes over well before the lease (3 s here)
/// would have aged out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_owner_hands_over_at_once() {
    let Some(nats) = Nats::start() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut procs, cfg) = processes_with(&nats, dir.path(), None, 3000);
    let urls = urls_of(&procs);
    drop(login_url(&urls[0], &cfg, "ivy").await);
    let (_kv, _owner, o) = owner_of(&nats).await;
    let mut alice = login_url(&urls[(o + 1) % 3], &cfg, "alice").await;
    alice.expect("statusChanged").await;
    let mut owner = procs[o].take().expect("the owner's process");
    let t0 = Instant::now();
    // SAFETY: signals a child process this test started and still owns.
    let sent = unsafe { libc::kill(owner.child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(sent, 0, "SIGTERM sent");
    alice.wait_for("loggedInAgain").await;
    let took = t0.elapsed();
    assert!(
        took < Duration::from_millis(2000),
        "the handover took {took:?}"
    );
    let status = tokio::task::spawn_blocking(move || owner.child.wait())
        .await
        .expect("joined")
        .expect("the owner exits");
    assert!(status.success(), "{status:?}");
}

/// What the new owner restores besides calls in progress: a seat's break
/// (status and reason) and a call waiting in its queue, offered with the
/// same session id once someone is free.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_owner_keeps_breaks_and_the_queue() {
    let Some(nats) = Nats::start() else { return };
    let mut c = cluster(&nats, 3).await;
    drop(c.login(0, "ivy").await);
    let (_kv, _owner, o) = owner_of(&nats).await;
    let (x, y) = ((o + 1) % 3, (o + 2) % 3);
    let mut bob = c.login(x, "bob").await;
    bob.expect("statusChanged").await;
    bob.ok(
        "Agent.setStatus",
        json!({"status": "rest", "restReason": "Meal"}),
    )
    .await;
    let trunk = c.login(y, "pstn").await;
    let id = phone_call(&trunk, "support").await;
    state_written(&nats, &id, "queued").await;
    // The owner goes away.
    c.nodes[o] = None;
    match bob.wait_for("loggedInAgain").await {
        Event::LoggedInAgain(r) => {
            assert_eq!(
                (r.status.as_str(), r.rest_reason.as_deref()),
                ("rest", Some("Meal")),
                "bob's break is kept"
            );
        }
        _ => unreachable!(),
    }
    // alice comes in free: the waiting call is offered to her, same id.
    let mut alice = c.login(x, "alice").await;
    assert_eq!(sid(&alice.wait_for("callIn").await), id);
}

/// A call's bridge runs where its customer connected: when that was the
/// owner, and the owner is killed, the bridge is gone with it. The new
/// owner does not count on it (the node does not answer), and the
/// agent's next offer, once the customer is back on another node, opens
/// a bridge there: they hear each other again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_bridge_died_with_the_owner_gets_its_audio_back() {
    let Some(nats) = Nats::start() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut procs, cfg) = processes(&nats, dir.path(), None);
    let urls = urls_of(&procs);
    drop(login_url(&urls[0], &cfg, "ivy").await);
    let (_kv, owner, o) = owner_of(&nats).await;
    let (x, y) = ((o + 1) % 3, (o + 2) % 3);
    let mut alice = login_url(&urls[x], &cfg, "alice").await;
    alice.expect("statusChanged").await;
    let trunk = login_url(&urls[o], &cfg, "pstn").await;
    let id = phone_call(&trunk, "support").await;
    assert_eq!(sid(&alice.wait_for("callIn").await), id);
    alice.ok("Call.accept", json!({"sessionId": id})).await;
    let voice = || ccdesk::media::analysis::tone(crate::media::RATE, &[700.0], 60_000, 0.4);
    let audio = crate::media::SeatAudio::start(&alice, &id, voice()).await;
    the_customer_plays(&trunk, &id, 1200.0, &audio, "the customer's 1200 Hz").await;
    state_has(&nats, &id, &format!("its bridge on {owner}"), |s| {
        s["bridgeNode"] == owner.as_str()
    })
    .await;

    kill_9(&mut procs[o]);
    drop(trunk);
    match alice.wait_for("loggedInAgain").await {
        Event::LoggedInAgain(r) => {
            let mine = r.sessions.iter().find(|x| x.session_id == id);
            assert!(
                mine.is_some_and(|x| !x.audio_running),
                "its bridge died: the terminal is to offer again: {r:?}"
            );
        }
        _ => unreachable!(),
    }
    drop(audio);
    // The customer's side connects again, at another node, and the agent
    // offers her audio again (what the terminal does on loggedInAgain).
    let trunk = login_url(&urls[y], &cfg, "pstn").await;
    let audio = crate::media::SeatAudio::start(&alice, &id, voice()).await;
    the_customer_plays(
        &trunk,
        &id,
        900.0,
        &audio,
        "the customer's 900 Hz through a new bridge",
    )
    .await;
}

/// A gateway that logs its connections in again at the owner they are
/// already logged in at (an owner's news that came after a command had
/// made the gateway log them in there first, as in a failover): the owner
/// takes it as done, so the connections stay and a trunk's calls go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_again_at_the_same_owner_keeps_the_connections_and_the_calls() {
    use ccdesk::server::cluster::wire::{self, Envelope, What};
    use futures_util::StreamExt;
    let Some(nats) = Nats::start() else { return };
    let c = cluster(&nats, 2).await;
    drop(c.login(0, "ivy").await);
    let (_kv, owner, o) = owner_of(&nats).await;
    let x = 1 - o;
    let trunk = c.login(x, "pstn").await;
    let mut alice = c.login(x, "alice").await;
    alice.expect("statusChanged").await;
    let id = phone_call(&trunk, "support").await;
    assert_eq!(sid(&alice.wait_for("callIn").await), id);
    alice.ok("Call.accept", json!({"sessionId": id})).await;
    // Watch the gateways' commands (a plain subscriber: the owner still
    // answers them), then repeat the owner's news.
    let client = async_nats::connect(nats.url.as_str()).await.expect("nats");
    let mut commands = client
        .subscribe(wire::commands("main"))
        .await
        .expect("subscribed");
    client.flush().await.expect("flushed");
    client
        .publish(wire::owners("main"), owner.clone().into())
        .await
        .expect("published");
    // The trunk's login again goes by.
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(m) = commands.next().await {
            let envs: Vec<Envelope> = serde_json::from_slice(&m.payload).unwrap_or_default();
            if envs
                .iter()
                .any(|e| matches!(&e.what, What::Login(l) if l.user == "pstn"))
            {
                return;
            }
        }
    })
    .await
    .expect("the trunk is logged in again");
    // Sent after it, handled after it: the call is still there.
    alice.ok("Call.hold", json!({"sessionId": id})).await;
    alice.ok("Call.unHold", json!({"sessionId": id})).await;
    trunk
        .ok(
            "Customer.say",
            json!({"sessionId": id, "text": "still here"}),
        )
        .await;
}

/// The sessions whose bridges run on `node`'s media service.
async fn bridges_on(nats: &Nats, node: &str) -> Vec<String> {
    use ccdesk::server::cluster::{media::MediaMsg, wire};
    let client = async_nats::connect(nats.url.as_str()).await.expect("nats");
    let ask = serde_json::to_vec(&MediaMsg::Bridges).expect("json");
    let reply = client
        .request(wire::media("main", node), ask.into())
        .await
        .expect("the media service answers");
    serde_json::from_slice(&reply.payload).expect("a list")
}

/// A bridge no owner knows (its session ended in the moments before its
/// owner was killed, so the next owner never heard of it) is ended by its
/// node within two of the owner's lists; the bridges the owner knows run
/// on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_no_owner_knows_is_ended_and_the_others_run_on() {
    use ccdesk::server::cluster::{media::MediaMsg, wire};
    use ccdesk::server::media::NodeCmd;
    let Some(nats) = Nats::start() else { return };
    let c = cluster(&nats, 2).await;
    drop(c.login(0, "ivy").await);
    let (_kv, _owner, o) = owner_of(&nats).await;
    let x = 1 - o;
    let node = ((b'a' + x as u8) as char).to_string();
    let trunk = c.login(x, "pstn").await;
    let mut alice = c.login(o, "alice").await;
    alice.expect("statusChanged").await;
    let id = phone_call(&trunk, "support").await;
    assert_eq!(sid(&alice.wait_for("callIn").await), id);
    alice.ok("Call.accept", json!({"sessionId": id})).await;
    let voice = ccdesk::media::analysis::tone(crate::media::RATE, &[700.0], 60_000, 0.4);
    let audio = crate::media::SeatAudio::start(&alice, &id, voice).await;
    the_customer_plays(&trunk, &id, 1200.0, &audio, "the customer's 1200 Hz").await;
    // A bridge the owner never opened, as a dead owner would leave it.
    let client = async_nats::connect(nats.url.as_str()).await.expect("nats");
    let open = MediaMsg::Cmd {
        sid: "s-orphan".into(),
        cmd: NodeCmd::Open {
            recording: None,
            since_start_ms: 0,
        },
    };
    client
        .publish(
            wire::media("main", &node),
            serde_json::to_vec(&open).expect("json").into(),
        )
        .await
        .expect("published");
    let start = Instant::now();
    let mut seen = false;
    loop {
        let now = bridges_on(&nats, &node).await;
        assert!(
            now.contains(&id),
            "the call's bridge runs on {node}: {now:?}"
        );
        if now.iter().any(|s| s == "s-orphan") {
            seen = true;
        } else if seen {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the orphan still runs: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The call's own bridge carries on.
    the_customer_plays(
        &trunk,
        &id,
        900.0,
        &audio,
        "the customer's 900 Hz afterwards",
    )
    .await;
}

/// A burst of one connection's requests crosses to the owner several to a
/// NATS request, in the order they were sent: forty status changes sent
/// without waiting are made, and announced, in that order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_requests_reaches_the_owner_in_order() {
    let Some(nats) = Nats::start() else { return };
    let c = cluster(&nats, 2).await;
    drop(c.login(0, "ivy").await);
    let (_kv, _owner, o) = owner_of(&nats).await;
    let mut alice = c.login(1 - o, "alice").await;
    alice.expect("statusChanged").await;
    let reason = |i: usize| {
        if i.is_multiple_of(2) {
            "Meal"
        } else {
            "Training"
        }
    };
    let sent = (0..40).map(|i| {
        alice.conn.call(
            "Agent.setStatus",
            json!({"status": "rest", "restReason": reason(i)}),
        )
    });
    let answers = futures_util::future::join_all(sent).await;
    assert!(answers.iter().all(|a| a.is_ok()), "{answers:?}");
    let mut told = Vec::new();
    for _ in 0..40 {
        match alice.wait_for("statusChanged").await {
            Event::StatusChanged { rest_reason, .. } => told.push(rest_reason.unwrap_or_default()),
            _ => unreachable!(),
        }
    }
    let sent: Vec<&str> = (0..40).map(reason).collect();
    assert_eq!(told, sent);
}
