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
