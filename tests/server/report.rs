//! Reports (`Supervisor.report`, and `ccdesk report` on the same
//! computation) against a scripted day figured by hand, and against the
//! wallboard's own figures for the same day.

use std::time::Duration;

use ccdesk::protocol::{ErrorCode, Event, ReportRow, Wallboard};
use serde_json::json;

use crate::harness::*;

async fn report(c: &Client, by: &str) -> Vec<ReportRow> {
    let v = c
        .ok("Supervisor.report", json!({ "by": by }))
        .await
        .expect("a report");
    serde_json::from_value(v["rows"].clone()).expect("rows")
}

/// alice's next statusChanged.
async fn status(c: &mut Client) -> String {
    match c.wait_for("statusChanged").await {
        Event::StatusChanged { status, .. } => status.as_str().to_string(),
        _ => unreachable!(),
    }
}

fn secs(ms: Option<u64>) -> f64 {
    ms.map_or(-1.0, |m| m as f64 / 1000.0)
}

#[tokio::test(start_paused = true)]
async fn a_scripted_day_reports_what_was_figured_by_hand_and_what_the_wallboard_shows() {
    let s = TestServer::paused(|c| {
        c.center.after_call_work = 10;
        c.center.ring_timeout = 0;
        c.center.service_level_threshold = 20;
        for g in c.skill_groups.iter_mut() {
            if g.id == "support" {
                g.wrap_up_codes = vec!["Resolved".into(), "Escalated".into()];
            }
        }
    })
    .await;
    let mut alice = s.login("alice").await;
    alice.drain().await;
    let trunk = s.login("pstn").await;
    let sam = s.login("sam").await;

    // A: answered after 10 s, 100 s of talk, 10 s of after-call work, Resolved.
    let a = phone_call(&trunk, "support").await;
    alice.wait_for("callIn").await;
    tokio::time::sleep(Duration::from_secs(10)).await;
    alice.ok("Call.accept", json!({"sessionId": a})).await;
    tokio::time::sleep(Duration::from_secs(100)).await;
    alice
        .ok(
            "Call.setWrapUp",
            json!({"sessionId": a, "code": "Resolved"}),
        )
        .await;
    alice.ok("Call.hungUp", json!({"sessionId": a})).await;
    alice.drain().await;
    assert_eq!(status(&mut alice).await, "free", "after-call work ends");

    // B: answered after 30 s, 50 s of talk, the customer hangs up; Escalated.
    let b = phone_call(&trunk, "support").await;
    alice.wait_for("callIn").await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    alice.ok("Call.accept", json!({"sessionId": b})).await;
    tokio::time::sleep(Duration::from_secs(50)).await;
    alice
        .ok(
            "Call.setWrapUp",
            json!({"sessionId": b, "code": "Escalated"}),
        )
        .await;
    trunk.ok("Customer.hangUp", json!({"sessionId": b})).await;
    alice.drain().await;
    assert_eq!(status(&mut alice).await, "free");

    // Nobody takes calls now: C gives up after 5 s, D after 40 s.
    alice
        .ok("Agent.setStatus", json!({"status": "notReady"}))
        .await;
    let c = phone_call(&trunk, "support").await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    trunk.ok("Customer.hangUp", json!({"sessionId": c})).await;
    let d = phone_call(&trunk, "support").await;
    tokio::time::sleep(Duration::from_secs(40)).await;
    trunk.ok("Customer.hangUp", json!({"sessionId": d})).await;

    let rows = report(&sam, "all").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!((r.offered, r.answered, r.abandoned), (4, 2, 2), "{r:?}");
    // A answered within the threshold; A, B and D count (C gave up within
    // it): 1 of 3.
    let sl = r.service_level.expect("service level");
    assert!((sl - 100.0 / 3.0).abs() < 0.01, "{sl}");
    // ASA (10 + 30) / 2 s; AHT (100 + 10 + 50 + 10) / 2 s. The requests
    // themselves take a few ms of the test's clock.
    assert!((20.0..20.5).contains(&secs(r.asa_ms)), "{r:?}");
    assert!((85.0..85.5).contains(&secs(r.aht_ms)), "{r:?}");
    assert_eq!(r.transfers, 0);
    assert_eq!(
        r.wrap_up_codes,
        [("Escalated".to_string(), 1), ("Resolved".to_string(), 1)].into()
    );
    // The same figures as the wallboard's today.
    let v = sam
        .ok("Supervisor.subscribe", json!({}))
        .await
        .expect("wallboard");
    let w: Wallboard = serde_json::from_value(v).expect("a Wallboard");
    let k = &w.kpis;
    assert_eq!(
        (
            k.offered,
            k.answered,
            k.abandoned,
            k.service_level,
            k.asa_ms,
            k.aht_ms
        ),
        (
            r.offered,
            r.answered,
            r.abandoned,
            r.service_level,
            r.asa_ms,
            r.aht_ms
        )
    );
    // By agent: alice handled A and B; the abandoned had nobody.
    let rows = report(&sam, "agent").await;
    let keys: Vec<(&str, u64)> = rows.iter().map(|r| (r.key.as_str(), r.offered)).collect();
    assert_eq!(keys, [("-", 2), ("alice", 2)]);
    let rows = report(&sam, "wrapup").await;
    let keys: Vec<(&str, u64)> = rows.iter().map(|r| (r.key.as_str(), r.offered)).collect();
    assert_eq!(keys, [("-", 2), ("Escalated", 1), ("Resolved", 1)]);
    // Agents may not read reports; a bad grouping is refused.
    let (code, _) = alice.err("Supervisor.report", json!({"by": "agent"})).await;
    assert_eq!(code, ErrorCode::Forbidden);
    let (code, _) = sam.err("Supervisor.report", json!({"by": "weather"})).await;
    assert_eq!(code, ErrorCode::BadRequest);
    // `ccdesk report` reads the same records and figures them the same way.
    let cfg = s.dir.path().join("server.toml");
    std::fs::write(
        &cfg,
        format!(
            "[server]\ndata_dir = \".\"\n[auth]\nsecret = \"{}\"\n[center]\nservice_level_threshold = 20\n",
            s.cfg.auth.secret
        ),
    )
    .expect("config");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ccdesk"))
        .args(["report", "--by", "group", "--format", "csv", "--config"])
        .arg(&cfg)
        .output()
        .expect("ccdesk report runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("support,"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.starts_with("support,4,2,2,33.33,20.") && line.ends_with(",0,Escalated=1;Resolved=1"),
        "{line}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ccdesk"))
        .args(["report", "--by", "weather", "--config"])
        .arg(&cfg)
        .output()
        .expect("ccdesk report runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("weather"));
    // Since a time after the day: nothing.
    let v = sam
        .ok(
            "Supervisor.report",
            json!({"since": now_secs() * 1000 + 3_600_000}),
        )
        .await
        .expect("a report");
    assert_eq!(v["rows"], json!([]));
}
