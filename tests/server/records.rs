//! 11. Records: every ended session is in SQLite before its end is acknowledged.

use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn an_ended_session_is_recorded_before_the_hang_up_is_answered() {
    let s = TestServer::with(|c| c.center.after_call_work = 0).await;
    let (id, alice, _trunk) = talking(&s, "alice").await;
    let mut bob = s.login("bob").await;
    alice.ok("Call.hold", json!({"sessionId": id})).await;
    alice.ok("Call.unHold", json!({"sessionId": id})).await;
    alice
        .ok("Call.transfer", json!({"sessionId": id, "userId": "bob"}))
        .await;
    bob.wait_for("callIn").await;
    bob.ok("Call.accept", json!({"sessionId": id})).await;
    bob.ok("Call.hungUp", json!({"sessionId": id})).await;
    // The answer has come: the record must already be readable.
    let rec = s.records().get(&id).unwrap().expect("recorded");
    assert_eq!(rec.kind, "phone");
    assert_eq!(rec.direction, "inbound");
    assert_eq!(rec.skill_group.as_deref(), Some("support"));
    assert_eq!(rec.agents, vec!["alice", "bob"]);
    assert_eq!(rec.caller.as_deref(), Some("+15551234567"));
    assert_eq!(rec.close_by, "seat");
    assert!(rec.offered_at.is_some() && rec.accepted_at.is_some());
    assert!(rec.ended_at >= rec.accepted_at.unwrap());
    assert_eq!(rec.transfers.len(), 1);
    assert_eq!(rec.transfers[0].from, "alice");
    assert_eq!(rec.transfers[0].to_user.as_deref(), Some("bob"));
}

#[tokio::test]
async fn abandoned_calls_are_recorded_and_the_cli_prints_them() {
    let s = TestServer::start().await;
    let trunk = s.login("pstn").await;
    let id = phone_call(&trunk, "sales").await;
    trunk.ok("Customer.hangUp", json!({"sessionId": id})).await;
    let rec = s.records().get(&id).unwrap().expect("recorded");
    assert_eq!(rec.close_by, "client");
    assert!(rec.agents.is_empty());

    // `ccdesk records` reads the same database through a config naming it.
    let cfg = s.dir.path().join("server.toml");
    std::fs::write(
        &cfg,
        format!(
            "[server]\ndata_dir = \".\"\n[auth]\nsecret = \"{}\"\n",
            s.cfg.auth.secret
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ccdesk"))
        .args(["records", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(&id) && text.contains("client"), "{text}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ccdesk"))
        .args(["records", "--json", "--since", "1h", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    let line = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    assert_eq!(v["sessionId"], json!(id));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ccdesk"))
        .args(["records", "--since", "yesterday-ish", "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));
}

/// The real server process, killed with SIGKILL while calls end: every
/// session whose end anyone was told of is in the records afterwards.
#[tokio::test]
async fn no_acknowledged_end_is_lost_when_the_server_is_killed() {
    use ccdesk::client::Connection;
    use ccdesk::protocol::Event;
    use std::collections::HashSet;
    use std::io::{BufRead, BufReader};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    const SECRET: &str = "crash-test-secret-0123456789";
    const AGENTS: usize = 20;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = format!(
        "[server]\ndata_dir = \"data\"\nping_interval = 0\nrate_limit_per_second = 10000\nrate_limit_burst = 10000\n\
         [auth]\nsecret = \"{SECRET}\"\n\
         [center]\nafter_call_work = 0\n\
         [media]\nenabled = false\n[speech]\nsynthesis = false\nrecognition = false\n\
         [[skill_groups]]\nid = \"g\"\n[[users]]\nid = \"trunk\"\nrole = \"trunk\"\n"
    );
    for i in 0..AGENTS {
        cfg.push_str(&format!(
            "[[users]]\nid = \"a{i}\"\nrole = \"agent\"\nskill_groups = [\"g\"]\n"
        ));
    }
    let path = dir.path().join("server.toml");
    std::fs::write(&path, cfg).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ccdesk"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_string();
    assert!(url.starts_with("ws://"), "{url}");
    let token = |u: &str| ccdesk::server::auth::issue(SECRET, u, now_secs(), 3600);

    // Ends anyone was told of: hang-up answers and sessionEnded events.
    let told: Arc<Mutex<HashSet<String>>> = Arc::default();
    let mut tasks = Vec::new();
    for i in 0..AGENTS {
        let id = format!("a{i}");
        let mut c = Connection::connect(&url).await.unwrap();
        c.login(&id, &token(&id), false).await.unwrap();
        let told = told.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(ev) = c.events.recv().await {
                match ev {
                    Event::CallIn(ci) => {
                        let sid = json!({"sessionId": ci.session_id});
                        if c.call("Call.accept", sid.clone()).await.is_err() {
                            continue;
                        }
                        if c.call("Call.hungUp", sid).await.is_ok() {
                            told.lock().unwrap().insert(ci.session_id);
                        }
                    }
                    Event::SessionEnded(e) => {
                        told.lock().unwrap().insert(e.session_id);
                    }
                    _ => {}
                }
            }
        }));
    }
    let mut trunk = Connection::connect(&url).await.unwrap();
    trunk.login("trunk", &token("trunk"), false).await.unwrap();
    let trunk_told = told.clone();
    let trunk_events = tokio::spawn(async move {
        while let Some(ev) = trunk.events.recv().await {
            if let Event::SessionEnded(e) = ev {
                trunk_told.lock().unwrap().insert(e.session_id);
            }
        }
    });
    // Calls keep arriving and ending; the kill comes in the middle of it.
    let caller = Connection::connect(&url).await.unwrap();
    caller.login("trunk", &token("trunk"), false).await.unwrap();
    let placing = tokio::spawn(async move {
        loop {
            let call = json!({"type": "phone", "skillGroupId": "g", "calleePhoneNumber": "4000"});
            if caller.call("Customer.call", call).await.is_err() {
                break;
            }
        }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while told.lock().unwrap().len() < 300 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let _ = placing.await;
    let _ = trunk_events.await;
    for t in tasks {
        let _ = t.await;
    }
    let told = told.lock().unwrap().clone();
    assert!(
        told.len() >= 300,
        "only {} ends before the kill",
        told.len()
    );
    let db = ccdesk::server::records::SqliteRecords::open_dir(&dir.path().join("data")).unwrap();
    let kept: HashSet<String> = db
        .list(0)
        .unwrap()
        .into_iter()
        .map(|r| r.session_id)
        .collect();
    let lost: Vec<&String> = told.iter().filter(|s| !kept.contains(*s)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged ends lost: {lost:?}",
        lost.len(),
        told.len()
    );
}
