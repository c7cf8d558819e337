//! End to end in a cluster: the real `ccdesk agent` in a pseudo-terminal,
//! connected to one node of three on NATS, keeps its call, its status and
//! its audio when the node that owns the center goes away.

use std::sync::Arc;
use std::time::Duration;

use ccdesk::client::Connection;
use ccdesk::protocol::Event;
use ccdesk::server::cluster::OpenRecords;
use ccdesk::server::config::ServerConfig;
use ccdesk::server::records::{RecordStore, SqliteRecords};
use ccdesk::server::Server;
use serde_json::json;

use crate::e2e::{terminal_at, Peer};

#[path = "../server/nats.rs"]
mod nats;

const CONFIG: &str = include_str!("../../config/server.toml");

fn token(cfg: &ServerConfig, user: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    ccdesk::server::auth::issue(&cfg.auth.secret, user, now, 3600)
}

#[test]
fn the_agent_keeps_its_call_and_its_audio_when_the_owner_goes_away() {
    let Some(nats) = nats::Nats::start() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_path_buf();
    let open: OpenRecords = Arc::new(move || {
        let r: Box<dyn RecordStore> = Box::new(SqliteRecords::open_dir(&data)?);
        Ok(r)
    });
    let mut cfg = ServerConfig::parse(CONFIG).expect("config");
    cfg.server.ping_interval = 0;
    cfg.speech.recognition = false;
    cfg.speech.synthesis = false;
    cfg.cluster.nats = Some(nats.url.clone());
    cfg.cluster.lease_ms = 1500;
    // Three nodes, a, b and c; a takes the lease first.
    let mut nodes: Vec<Option<Server>> = ["a", "b", "c"]
        .iter()
        .map(|name| {
            let mut c = cfg.clone();
            c.cluster.node = Some(name.to_string());
            rt.block_on(async {
                let l = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                Some(
                    Server::start_node(c, l, open.clone())
                        .await
                        .expect("the node starts"),
                )
            })
        })
        .collect();
    let url = |i: usize| {
        format!(
            "ws://{}/ws",
            nodes[i].as_ref().map(|s| s.addr).expect("a node")
        )
    };
    let (b, c) = (url(1), url(2));
    let connect = |at: &str, user: &str| {
        let conn = rt.block_on(async {
            let conn = Connection::connect(at).await.expect("connect");
            tokio::time::timeout(
                Duration::from_secs(15),
                conn.login(user, &token(&cfg, user), false),
            )
            .await
            .expect("an owner answers")
            .expect("login");
            conn
        });
        Peer::new(conn, rt.handle().clone())
    };
    // The customer's trunk on b, alice's terminal on c; a owns the center
    // (the first node to start takes the lease; checked below by its
    // going away).
    let mut trunk = connect(&b, "pstn");
    let alice = terminal_at(&c, "agent", "alice", &[], &token(&cfg, "alice"), (80, 24));
    let pty = &alice.pty;
    pty.wait_text("free for");
    let sid = trunk.phone_call("138****1111");
    pty.wait_text("ringing");
    pty.key("a");
    pty.wait_text("talking");
    pty.wait_text("audio ok");

    // The owner goes away (its node stops, and its lease with it).
    let owner = rt.block_on(async {
        let client = async_nats::connect(nats.url.as_str()).await.expect("nats");
        let kv = async_nats::jetstream::new(client)
            .get_key_value(ccdesk::server::cluster::lease::BUCKET)
            .await
            .expect("the lease bucket");
        ccdesk::server::cluster::lease::holder(&kv, "main")
            .await
            .expect("read")
            .expect("an owner")
    });
    assert_eq!(owner, "a", "the first node owns the center");
    nodes[0] = None;
    // Another node takes over: the terminal stays connected, its call
    // talking, its audio still running (its bridge is on b, where the
    // customer is).
    trunk.call(
        "Customer.say",
        json!({"sessionId": sid, "text": "are you still there"}),
    );
    let screen = pty.wait_text("are you still there");
    assert!(screen.contains("talking"), "{screen}");
    assert!(screen.contains("audio ok"), "{screen}");
    assert!(!screen.contains("offline"), "{screen}");
    // alice hangs up from the keyboard, through the new owner.
    pty.key("h");
    trunk.wait_event(
        "sessionEnded",
        |e| matches!(e, Event::SessionEnded(x) if x.session_id == sid),
    );
    drop(nodes);
}
