//! What a careful operator needs of a server reachable from other
//! machines: no known or short secret beyond loopback, a fresh secret from
//! `serve --init`, connections that do not log in closed, a cap on
//! connections per address, and no secret in the logs.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use ccdesk::client::Connection;
use serde_json::json;

use crate::harness::*;

fn ccdesk() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ccdesk"))
}

#[test]
fn beyond_loopback_the_shipped_or_a_short_secret_is_refused_and_init_writes_a_fresh_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/server.toml");
    // The example config's secret, on every interface: refused before
    // anything listens.
    let out = ccdesk()
        .args(["serve", "--listen", "0.0.0.0:0", "--config"])
        .arg(&example)
        .output()
        .expect("ccdesk runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("refusing to listen on 0.0.0.0:0") && err.contains("shipped with ccdesk"),
        "{err}"
    );
    // A short one, from the environment.
    let out = ccdesk()
        .args(["serve", "--listen", "0.0.0.0:0", "--config"])
        .arg(&example)
        .env("CCDESK_SECRET", "only-twenty-chars-ab")
        .output()
        .expect("ccdesk runs");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("shorter than 32 bytes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // --init writes a config of its own with a fresh secret...
    let fresh = dir.path().join("server.toml");
    let out = ccdesk()
        .args(["serve", "--init", "--config"])
        .arg(&fresh)
        .output()
        .expect("ccdesk runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&fresh).expect("written");
    let cfg = ccdesk::server::config::ServerConfig::parse(&text).expect("it parses");
    assert_eq!(cfg.auth.secret.len(), 64);
    assert!(cfg.auth.secret.chars().all(|c| c.is_ascii_hexdigit()));
    // Its secret passes; beyond loopback it then asks for TLS.
    let err = cfg
        .check_exposure("0.0.0.0:7070".parse().expect("addr"))
        .expect_err("plain ws:// beyond loopback");
    assert!(err.to_string().contains("tls_cert"), "{err}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&fresh)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only its owner reads the secret");
    }
    // ... a second one is different, and an existing file is left alone.
    let again = dir.path().join("again.toml");
    ccdesk()
        .args(["serve", "--init", "--config"])
        .arg(&again)
        .output()
        .expect("ccdesk runs");
    let other = ccdesk::server::config::ServerConfig::parse(
        &std::fs::read_to_string(&again).expect("written"),
    )
    .expect("parses");
    assert_ne!(other.auth.secret, cfg.auth.secret);
    let out = ccdesk()
        .args(["serve", "--init", "--config"])
        .arg(&fresh)
        .output()
        .expect("ccdesk runs");
    assert!(!out.status.success());
    assert_eq!(std::fs::read_to_string(&fresh).expect("still there"), text);
}

#[tokio::test(start_paused = true)]
async fn a_connection_that_does_not_log_in_is_closed_after_ten_seconds() {
    let s = TestServer::paused(|_| {}).await;
    let mut c = s.connect().await;
    let started = tokio::time::Instant::now();
    let seen = c.closed().await;
    let waited = started.elapsed();
    assert!(
        (Duration::from_secs(10)..Duration::from_secs(11)).contains(&waited),
        "{waited:?}"
    );
    assert!(seen.is_empty(), "{seen:?}");
}

#[tokio::test]
async fn connections_per_address_are_capped() {
    let s = TestServer::with(|c| c.server.max_connections_per_address = 3).await;
    let mut open = Vec::new();
    for u in ["alice", "bob", "dave"] {
        open.push(s.login(u).await);
    }
    // The fourth is closed at once, before the WebSocket handshake.
    assert!(Connection::connect(&s.url).await.is_err());
    // One leaves: a place is free again once the server has seen it go.
    let gone = open.pop().expect("one");
    gone.conn.close();
    drop(gone);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(c) = Connection::connect(&s.url).await {
            c.close();
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no place came free after a connection closed"
        );
        tokio::task::yield_now().await;
    }
}

/// A whole scripted run against a `ccdesk serve` process with debug logs:
/// neither the secret, nor a token (good or bad), nor a desk phone's
/// password appears anywhere in them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_token_or_password_reaches_the_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2";
    let desk_pw = "desk-phone-pw-77";
    let cfg = dir.path().join("server.toml");
    std::fs::write(
        &cfg,
        format!(
            "[server]\ndata_dir = \".\"\n[auth]\nsecret = \"{secret}\"\n\
             [[skill_groups]]\nid = \"support\"\n\
             [[users]]\nid = \"alice\"\nrole = \"agent\"\nskill_groups = [\"support\"]\nsip_password = \"{desk_pw}\"\n\
             [[users]]\nid = \"sam\"\nrole = \"admin\"\n\
             [[users]]\nid = \"pstn\"\nrole = \"trunk\"\n"
        ),
    )
    .expect("config");
    let mut child = ccdesk()
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ccdesk serve runs");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("the address line");
    let url = first.trim().to_string();
    let mut stderr = child.stderr.take().expect("stderr");
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });

    let now = now_secs();
    let token = |u: &str| ccdesk::server::auth::issue(secret, u, now, 3600);
    let (alice_token, trunk_token, sam_token) = (token("alice"), token("pstn"), token("sam"));
    let wrong = ccdesk::server::auth::issue("another-secret-of-some-length", "alice", now, 3600);
    // A wrong token, then the right ones.
    let c = Connection::connect(&url).await.expect("connect");
    assert!(c.login("alice", &wrong, false).await.is_err());
    let mut alice = Connection::connect(&url).await.expect("connect");
    alice
        .login("alice", &alice_token, false)
        .await
        .expect("login");
    let trunk = Connection::connect(&url).await.expect("connect");
    trunk
        .login("pstn", &trunk_token, false)
        .await
        .expect("login");
    let sam = Connection::connect(&url).await.expect("connect");
    sam.login("sam", &sam_token, false).await.expect("login");
    // A call, a monitor, a help request, a hang-up, a report.
    let v = trunk
        .call(
            "Customer.call",
            json!({"type": "phone", "skillGroupId": "support", "calleePhoneNumber": "4000",
                   "callerPhoneNumber": "+15550001"}),
        )
        .await
        .expect("call")
        .expect("sessionId");
    let id = v["sessionId"].as_str().expect("id").to_string();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), alice.events.recv()).await {
            Ok(Some(ccdesk::protocol::Event::CallIn(_))) => break,
            Ok(Some(_)) => {}
            other => panic!("no callIn: {other:?}"),
        }
    }
    alice
        .call("Call.accept", json!({"sessionId": id}))
        .await
        .expect("accept");
    sam.call("Call.monitor", json!({"sessionId": id, "textOnly": true}))
        .await
        .expect("monitor");
    alice
        .call(
            "Agent.requestHelp",
            json!({"sessionId": id, "text": "refund"}),
        )
        .await
        .expect("help");
    alice
        .call("Call.hungUp", json!({"sessionId": id}))
        .await
        .expect("hang up");
    sam.call("Supervisor.report", json!({"by": "agent"}))
        .await
        .expect("report");
    let _ = child.kill();
    let _ = child.wait();
    let log = log.join().expect("the log");
    assert!(log.contains("session ended"), "the run was logged:\n{log}");
    for (what, s) in [
        ("the secret", secret),
        ("alice's token", alice_token.as_str()),
        ("the trunk's token", trunk_token.as_str()),
        ("sam's token", sam_token.as_str()),
        ("the wrong token", wrong.as_str()),
        ("the desk phone's password", desk_pw),
    ] {
        assert!(!log.contains(s), "{what} is in the log:\n{log}");
    }
}

/// `systemctl stop` sends SIGTERM: the server stops as on Ctrl-C, says
/// so, and exits 0 (a node of a cluster also gives its lease up first).
#[tokio::test]
async fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(|c| c.server.data_dir = Some(dir.path().join("data")));
    let mut server = crate::cluster::serve_process(&cfg, dir.path(), "one");
    // It serves: a login works.
    let conn = Connection::connect(&server.url).await.expect("connect");
    let token = ccdesk::server::auth::issue(&cfg.auth.secret, "alice", now_secs(), 3600);
    conn.login("alice", &token, false).await.expect("login");
    // SAFETY: signals a child process this test started and still owns.
    let sent = unsafe { libc::kill(server.child.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(sent, 0, "SIGTERM sent");
    let status = tokio::task::spawn_blocking(move || server.child.wait())
        .await
        .expect("joined")
        .expect("the server exits");
    assert!(status.success(), "{status:?}");
    let log = std::fs::read_to_string(dir.path().join("one.log")).expect("the log");
    assert!(log.contains("stopping"), "{log}");
}
