//! Measures the agent terminal as an agent uses it: the real binary in a
//! pseudo-terminal, against a real server on 127.0.0.1.
//!
//! - key press to changed screen (p50/p99/max): `o` (hold/unhold, a round
//!   trip to the server) and `?` (help, local only), on a busy 120x40 screen;
//! - resident memory of the agent process during a call;
//! - frames drawn and CPU used while nothing happens.
//!
//! Run: `make bench-agent` (builds the release binary first). With
//! `quick` (what CI runs, against the binary of the same profile): ten of
//! each key and one-second idle windows, to check it completes.
//!
//! The transcript is filled with `Customer.say` as text: the server's
//! speech is off here, so the screen shows the words the trunk sent (with
//! speech on, they would be spoken into the call and recognised).

#[path = "../tests/agent/pty.rs"]
mod pty;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ccdesk::client::Connection;
use ccdesk::protocol::Event;
use ccdesk::server::auth;
use ccdesk::server::config::ServerConfig;
use ccdesk::server::records::SqliteRecords;
use ccdesk::server::Server;
use serde_json::json;

const CONFIG: &str = include_str!("../config/server.toml");

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<44} n={:<4} p50 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms",
        v.len(),
        ms(percentile(&v, 0.50)),
        ms(percentile(&v, 0.99)),
        ms(*v.last().unwrap_or(&Duration::ZERO))
    );
}

fn proc_status(pid: u32, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// utime + stime of a process, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// Frames and CPU while idle for `secs`.
fn idle(p: &pty::Pty, pid: u32, secs: u64, label: &str) {
    let before = p.output_len();
    let cpu0 = cpu_ticks(pid).unwrap_or(0);
    let t0 = Instant::now();
    // A measurement window, not a synchronisation: just let time pass.
    std::thread::sleep(Duration::from_secs(secs));
    let took = t0.elapsed();
    let cpu1 = cpu_ticks(pid).unwrap_or(0);
    let raw = p.raw_output();
    let frames = count(&raw[before..], b"\x1b[?2026h");
    println!(
        "{label:<44} {:.1} s: {frames} frames, {} bytes, CPU {} ms",
        took.as_secs_f64(),
        raw.len() - before,
        (cpu1 - cpu0) * 10
    );
}

/// Press `?` `n` times (help on, off, ...), each time until the screen
/// shows the change; `pace` waits between presses as a person would.
fn toggle_help(p: &pty::Pty, n: usize, pace: Option<Duration>) -> Vec<Duration> {
    let title = "Keys (? or esc closes)";
    let mut out = Vec::new();
    for i in 0..n {
        if let Some(pace) = pace {
            std::thread::sleep(pace);
        }
        let t0 = Instant::now();
        p.key("?");
        let open = i % 2 == 0;
        p.wait_for("help toggled", Duration::from_secs(5), |s| {
            s.contains(title) == open
        });
        out.push(t0.elapsed());
    }
    out
}

fn main() {
    let quick = std::env::args().any(|a| a == "quick");
    let (keys, sentences, idle_secs) = if quick { (10, 10, 1) } else { (300, 60, 5) };
    let exe = std::env::current_exe().expect("exe");
    let bin: PathBuf = exe
        .parent()
        .and_then(|d| d.parent())
        .map(|d| d.join("ccdesk"))
        .expect("target dir");
    assert!(
        bin.exists(),
        "{} is missing: build it first (cargo build --release)",
        bin.display()
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut cfg = ServerConfig::parse(CONFIG).expect("config");
    cfg.server.ping_interval = 0;
    cfg.center.asr_word_ms = 0;
    // The transcript from the trunk's text, not recognised speech.
    cfg.speech.synthesis = false;
    cfg.speech.recognition = false;
    let dir = tempfile::tempdir().expect("tempdir");
    let records = SqliteRecords::open_dir(dir.path()).expect("records");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (server, trunk) = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let server = Server::start(cfg.clone(), l, Box::new(records)).expect("server");
        let trunk = Connection::connect(&format!("ws://{}/ws", server.addr))
            .await
            .expect("connect");
        trunk
            .login(
                "pstn",
                &auth::issue(&cfg.auth.secret, "pstn", now, 3600),
                false,
            )
            .await
            .expect("trunk login");
        (server, trunk)
    });
    let url = format!("ws://{}/ws", server.addr);
    let home = tempfile::tempdir().expect("home");
    let token = auth::issue(&cfg.auth.secret, "alice", now, 3600);
    let p = pty::Pty::spawn(
        &bin,
        &["agent", "--server", &url, "--user", "alice"],
        &[
            ("HOME", &home.path().to_string_lossy()),
            ("XDG_CONFIG_HOME", &home.path().join("c").to_string_lossy()),
            ("XDG_STATE_HOME", &home.path().join("s").to_string_lossy()),
            ("CCDESK_TOKEN", &token),
        ],
        home.path(),
        120,
        40,
    )
    .expect("spawn");
    let pid = p.pid().expect("pid");
    p.wait_text("online");
    idle(&p, pid, idle_secs, "idle, logged in, no session");

    let r = rt
        .block_on(trunk.call(
            "Customer.call",
            json!({"type": "phone", "skillGroupId": "support",
                   "callerPhoneNumber": "13800001111", "calleePhoneNumber": "4006000000",
                   "protectedCaller": "138****1111", "callerLocation": "Shenzhen"}),
        ))
        .expect("call")
        .expect("data");
    let sid = r["sessionId"].as_str().expect("sessionId").to_string();
    p.wait_text("ringing");
    p.key("a");
    p.wait_text("talking");
    for i in 0..sentences {
        rt.block_on(trunk.call(
            "Customer.say",
            json!({"sessionId": sid, "text": format!("sentence {i} of a long complaint about the bill that goes on")}),
        ))
        .expect("say");
    }
    p.wait_text(&format!("sentence {} of a long complaint", sentences - 1));

    // An agent presses at most about ten keys a second.
    let pace = Duration::from_millis(100);
    let mut hold = Vec::new();
    for i in 0..keys {
        std::thread::sleep(pace);
        let t0 = Instant::now();
        p.key("o");
        if i % 2 == 0 {
            p.wait_for("held", Duration::from_secs(5), |s| s.contains("held (call"));
        } else {
            p.wait_for("talking", Duration::from_secs(5), |s| {
                !s.contains("held (call")
            });
        }
        hold.push(t0.elapsed());
    }
    let help = toggle_help(&p, keys, Some(pace));
    report("key o (hold/unhold via server) -> screen", hold);
    report("key ? (help, local) -> screen", help);
    // Unpaced: keys as fast as the screen answers (the frame rate cap shows).
    let burst = toggle_help(&p, keys / 3, None);
    report("key ? unpaced (30 frames/s cap applies)", burst);
    println!(
        "{:<44} VmRSS {} KiB, VmHWM {} KiB",
        "agent memory during a call",
        proc_status(pid, "VmRSS:").unwrap_or(0),
        proc_status(pid, "VmHWM:").unwrap_or(0)
    );
    idle(&p, pid, idle_secs, "idle during a call (call timer ticks)");
    rt.block_on(trunk.call("Customer.hangUp", json!({"sessionId": sid})))
        .expect("hang up");
    let _ = rt.block_on(async {
        let mut t = trunk;
        tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(e) = t.events.recv().await {
                if matches!(e, Event::SessionEnded(_)) {
                    break;
                }
            }
        })
        .await
    });
    drop(p);
    drop(server);
}
