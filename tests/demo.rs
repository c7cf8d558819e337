//! Headless runs of every shipped scenario, with the summary's figures
//! asserted: exactly where the scenario and its seed fix them, within
//! bounds where timing decides. Plus the command line and bad scenarios.

use std::collections::BTreeMap;
use std::process::Command;

use ccdesk::demo::{headless, Speed, Summary};
use ccdesk::sim::scenario::{Kind, Scenario};

fn run(name: &str, seed: Option<u64>) -> (Summary, String) {
    let sc = Scenario::load(name).expect("shipped scenario");
    let seed = seed.unwrap_or(sc.seed);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("runtime");
    let mut out: Vec<u8> = Vec::new();
    let s = rt
        .block_on(headless(sc, seed, Speed::Max, &mut out))
        .unwrap_or_else(|e| panic!("{name}: {e:#}"));
    (s, String::from_utf8_lossy(&out).into_owned())
}

/// What the scenario and seed fix: inbound arrivals by wire type.
fn arrivals_by_type(name: &str, seed: Option<u64>) -> BTreeMap<String, u32> {
    let sc = Scenario::load(name).expect("scenario");
    let mut m = BTreeMap::new();
    for (_, _, k) in sc.arrivals(seed.unwrap_or(sc.seed)) {
        if k != Kind::Internal {
            *m.entry(k.wire().to_string()).or_insert(0) += 1;
        }
    }
    m
}

#[test]
fn training_confirms_by_dtmf_then_transfers_to_bob() {
    let (s, out) = run("training", None);
    assert_eq!(
        (s.offered, s.answered, s.abandoned, s.transferred),
        (1, 1, 0, 1),
        "{out}"
    );
    assert_eq!(s.by_agent.get("alice"), Some(&1), "{out}");
    assert_eq!(s.by_agent.get("bob"), Some(&1), "{out}");
    assert_eq!(s.auto_transfers, 0);
    // The autopilot accepts 3 s after the offer; the wire adds milliseconds.
    assert!((3.0..3.5).contains(&s.avg_wait), "avg wait {}", s.avg_wait);
    for line in [
        "Grace Hopper   calls support (phone)",
        "alice          presses a to accept 555****1906",
        "\"Good morning, I need to change the address on my account\"",
        "\"For security please press 1 on your keypad to confirm it is really you\"",
        "alice          opens the DTMF pad and presses 1",
        "Grace Hopper   hears the digits 1",
        "\"Thank you, I am confirmed now\"",
        "alice          transfers 555****1906 to bob",
        "bob            accepts",
    ] {
        assert!(out.contains(line), "missing `{line}` in\n{out}");
    }
    // In this order.
    let pos = |t: &str| out.find(t).unwrap_or(usize::MAX);
    assert!(pos("presses 1") < pos("hears the digits 1"));
    assert!(pos("I am confirmed now") < pos("transfers 555****1906 to bob"));
    assert!(
        out.contains("Summary") && out.contains("offered      1"),
        "{out}"
    );
}

#[test]
fn the_default_day_shows_every_kind_of_session() {
    let (s, out) = run("default", None);
    let fixed = arrivals_by_type("default", None);
    assert_eq!(s.by_type, fixed, "arrivals are fixed by the seed\n{out}");
    assert_eq!(s.offered, fixed.values().sum::<u32>());
    assert_eq!(s.answered + s.abandoned, s.offered, "{out}");
    assert_eq!(s.abandoned, 0, "nobody waits long on a normal day\n{out}");
    assert!(s.transferred >= 1, "Raj Patel goes to sales\n{out}");
    assert_eq!(
        (s.outbound, s.outbound_answered),
        (1, 1),
        "the call-back\n{out}"
    );
    assert!(
        s.by_agent.get("alice").copied().unwrap_or(0) >= 4,
        "{:?}",
        s.by_agent
    );
    assert!(
        s.by_agent.contains_key("dave"),
        "sales takes the transfer: {:?}",
        s.by_agent
    );
    assert!(s.avg_wait < 10.0 && s.avg_handle > 5.0, "{s:?}");
    assert_eq!((s.callbacks, s.consults), (1, 1), "{out}");
    for line in [
        "Tom Berg       asks to be called back and hangs up",
        "Tom Berg       phone rings: the callback",
        "alice          presses a to accept Noor",
        "alice          turns to the chat with",
        "alice          consults support about +49 30 ****0004",
        "bob            takes the consult about",
        "alice          brings +49 30 ****0004 into a conference with bob",
        "alice          leaves +49 30 ****0004 with bob",
        "bob            takes s-",
        "\"Hi, I lost my card yesterday evening at the station\"",
        "\"Hi! Where is my parcel? Order 4471.\"",
        "alice          writes \"Hello Mia, let me check order 4471 for you.\"",
        "Mia            reads \"Hello Mia, let me check order 4471 for you.\"",
        "alice          transfers 555****0003 to sales",
        "alice          calls 5550142",
        "callee 5550142 answers the agent's call",
        "bob            logs in",
    ] {
        assert!(out.contains(line), "missing `{line}` in\n{out}");
    }
    // Two chats at once: Noor is taken while Mia's chat goes on.
    let pos = |t: &str| out.find(t).unwrap_or(usize::MAX);
    assert!(
        pos("accept Noor") < pos("Mia            says goodbye"),
        "{out}"
    );
    // The callback is dialled when alice accepts it, after Ann's call.
    assert!(pos("asks to be called back") < pos("phone rings: the callback"));
}

#[test]
fn rush_hour_builds_a_queue_with_abandons_and_offers_passed_on() {
    let (s, out) = run("rush", None);
    let fixed = arrivals_by_type("rush", None);
    assert_eq!(s.by_type, fixed, "{out}");
    assert_eq!(s.offered, fixed.values().sum::<u32>());
    assert_eq!(s.answered + s.abandoned, s.offered, "{out}");
    assert!(s.abandoned >= 5, "impatient callers give up: {s:?}");
    assert!(
        s.auto_transfers >= 3,
        "carol and alice let offers ring out: {s:?}"
    );
    assert!(s.avg_wait > 10.0, "the queue builds up: {s:?}");
    assert!(out.contains("gives up after"), "{out}");
    assert!(out.contains("lets") && out.contains("ring"), "{out}");
}

#[test]
fn another_seed_brings_other_arrivals() {
    let a = arrivals_by_type("rush", Some(1));
    let b = arrivals_by_type("rush", Some(2));
    let sa: u32 = a.values().sum();
    let sb: u32 = b.values().sum();
    let sc = Scenario::load("rush").expect("rush");
    assert_ne!(sc.arrivals(1), sc.arrivals(2));
    assert!(sa > 10 && sb > 10, "{sa} {sb}");
}

#[test]
fn the_command_line_prints_the_timeline_and_the_summary() {
    let out = Command::new(env!("CARGO_BIN_EXE_ccdesk"))
        .args([
            "demo",
            "--headless",
            "--scenario",
            "training",
            "--speed",
            "max",
        ])
        .output()
        .expect("run ccdesk demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("ccdesk demo, headless: Training"),
        "{stdout}"
    );
    assert!(stdout.contains("transfers 555****1906 to bob"), "{stdout}");
    assert!(stdout.contains("answered     1"), "{stdout}");
}

#[test]
fn a_bad_scenario_file_is_refused_with_file_line_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mine.toml");
    std::fs::write(
        &path,
        "description = \"x\"\nduration = 60\n\n[[caller]]\nname = \"Zed\"\nnumber = \"1\"\npatience = \"soon\"\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_ccdesk"))
        .args(["demo", "--headless", "--scenario"])
        .arg(&path)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("mine.toml") && err.contains("line 7") && err.contains("patience"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_ccdesk"))
        .args(["demo", "--headless", "--speed", "0"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a speed"));
}
