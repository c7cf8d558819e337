//! Telephony against an independent SIP peer: sipp (Debian `sip-tester`)
//! calls the server's numbers from a configured trunk, with G.711 RTP, and
//! an agent takes the calls with the terminal's own WebRTC audio. The
//! scenarios are in tests/sip/.

use std::net::SocketAddr;
use std::path::PathBuf;

use ccdesk::media::analysis;
use ccdesk::media::call::CallCmd;
use ccdesk::protocol::{CloseBy, Event};
use ccdesk::server::config::{SipNumber, SipTrunk};
use serde_json::json;

use super::baresip::{free_port, Baresip};
use super::harness::*;
use super::media::{is_subsequence, runs, windows, SeatAudio};

/// A server whose SIP listens on 127.0.0.1:0, with the trunk `carrier` at
/// 127.0.0.1:`trunk_port` and the number 4000 queueing on support.
async fn sip_server(trunk_port: u16) -> (TestServer, SocketAddr) {
    sip_server_with(trunk_port, |_| {}).await
}

pub(crate) async fn sip_server_with(
    trunk_port: u16,
    edit: impl FnOnce(&mut ccdesk::server::config::ServerConfig),
) -> (TestServer, SocketAddr) {
    let s = TestServer::with(|c| {
        carrier(c, trunk_port);
        c.center.after_call_work = 0;
        edit(c);
    })
    .await;
    let sip = s.sip.expect("SIP is on");
    (s, sip)
}

/// SIP on 127.0.0.1:0, with the trunk `carrier` at 127.0.0.1:`trunk_port`
/// and the number 4000 queueing on support.
pub(crate) fn carrier(c: &mut ccdesk::server::config::ServerConfig, trunk_port: u16) {
    c.sip.listen = Some("127.0.0.1:0".into());
    c.sip.trunks.push(SipTrunk {
        id: "carrier".into(),
        address: format!("127.0.0.1:{trunk_port}"),
        username: None,
        password: None,
        caller_id: None,
    });
    c.sip.numbers.push(SipNumber {
        number: "4000".into(),
        skill_group: "support".into(),
        priority: None,
    });
}

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sip")
        .join(name)
}

/// Run sipp: one call of `scenario` to `service` at the server, from
/// 127.0.0.1:`port`. Its exit status and what it printed.
pub(crate) fn sipp(
    name: &str,
    sip: SocketAddr,
    port: u16,
    service: &str,
    extra: &[&str],
) -> tokio::task::JoinHandle<(bool, String)> {
    let mut cmd = std::process::Command::new("sipp");
    cmd.arg("-sf")
        .arg(scenario(name))
        .arg(sip.to_string())
        .args(["-s", service, "-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args(["-p", &port.to_string(), "-mp", &free_port().to_string()])
        .args(["-m", "1", "-nostdin", "-timeout", "40s", "-timeout_error"])
        .args(extra)
        .current_dir(std::env::temp_dir());
    tokio::task::spawn_blocking(move || match cmd.output() {
        Ok(out) => {
            let text = format!(
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.success(), text)
        }
        Err(e) => panic!("sipp does not run ({e}): scripts/setup.sh installs sip-tester"),
    })
}

pub(crate) async fn sipp_done(run: tokio::task::JoinHandle<(bool, String)>) {
    let (ok, out) = run.await.expect("sipp ran");
    let tail: String = out.lines().rev().take(30).collect::<Vec<_>>().join("\n");
    assert!(ok, "sipp failed:\n{tail}");
}

/// alice takes the next SIP call: its callIn, and her audio once connected.
async fn answer(
    alice: &mut Client,
    source: Vec<i16>,
) -> (String, ccdesk::protocol::CallIn, SeatAudio) {
    let Event::CallIn(ci) = alice.wait_for("callIn").await else {
        unreachable!()
    };
    let sid = ci.session_id.clone();
    alice.ok("Call.accept", json!({"sessionId": sid})).await;
    let audio = SeatAudio::start(alice, &sid, source).await;
    (sid, ci, audio)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sip_caller_is_queued_answered_heard_and_hangs_up() {
    let port = free_port();
    let (s, sip) = sip_server(port).await;
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    let run = sipp("uac_pcap.xml", sip, port, "4000", &[]);
    let quiet = vec![0i16; 16_000 * 20];
    let (sid, ci, audio) = answer(&mut alice, quiet).await;
    // The callIn is a phone call from the caller to the number dialled.
    assert_eq!(ci.kind.as_str(), "phone");
    assert_eq!(ci.caller_phone_number.as_deref(), Some("+15551230001"));
    assert_eq!(ci.callee_phone_number.as_deref(), Some("4000"));
    // The caller's recording (G.711 A-law through the server, to Opus)
    // reaches alice: speech-level energy, not silence.
    audio
        .until(
            |h| h.chunks(1600).any(|w| analysis::dbfs(w) > -35.0),
            "the caller's voice at the agent",
        )
        .await;
    // The key the caller presses (RFC 4733) reaches alice.
    match alice.wait_for("digits").await {
        Event::Digits {
            session_id,
            dtmf_text,
        } => assert_eq!(
            (session_id.as_str(), dtmf_text.as_str()),
            (sid.as_str(), "1")
        ),
        _ => unreachable!(),
    }
    // The caller hangs up: the session ends, closeBy client.
    match alice.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => {
            assert_eq!(e.session_id, sid);
            assert_eq!(e.close_by, CloseBy::Client);
        }
        _ => unreachable!(),
    }
    sipp_done(run).await;
    let rec = s.records().get(&sid).unwrap().expect("recorded");
    assert_eq!(rec.caller.as_deref(), Some("+15551230001"));
    assert_eq!(rec.close_by, "client");
    assert!(rec.accepted_at.is_some());
    // The record's transcript keeps the key, marked as keys, not speech.
    let keys: Vec<&str> = rec
        .transcript
        .iter()
        .filter(|l| l.keys)
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(keys, ["1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agents_voice_and_keys_reach_the_caller_and_her_hang_up_is_a_bye() {
    let port = free_port();
    let (s, sip) = sip_server(port).await;
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    // The caller's phone sends back everything it hears (-rtp_echo).
    let run = sipp("uac_echo_wait_bye.xml", sip, port, "4000", &["-rtp_echo"]);
    // alice says 700 Hz.
    let voice = analysis::tone(16_000, &[700.0], 30_000, 0.4);
    let (sid, ci, audio) = answer(&mut alice, voice).await;
    // P-Asserted-Identity names the caller; the PBX's X- headers are the
    // contact's attributes.
    assert_eq!(ci.caller_phone_number.as_deref(), Some("+15557654321"));
    assert_eq!(
        ci.attributes.get("Account").map(String::as_str),
        Some("88-1204")
    );
    assert_eq!(
        ci.attributes.get("Ivr-Choice").map(String::as_str),
        Some("billing")
    );
    // Her 700 Hz went to the caller as G.711 µ-law and came back: it made
    // the trip Opus -> 8 kHz µ-law -> RTP -> the caller and back.
    audio
        .until(
            |h| {
                h.chunks(1600)
                    .any(|w| analysis::dominant(w, 16_000, &[440.0, 700.0, 1200.0]) == Some(700.0))
            },
            "alice's tone echoed by the caller's phone",
        )
        .await;
    // Her keys go to the caller as RFC 4733 events (and come back the same
    // way, which the server reports as the caller's keys).
    alice
        .ok(
            "Call.sendDigits",
            json!({"sessionId": sid, "dtmfText": "5"}),
        )
        .await;
    match alice.wait_for("digits").await {
        Event::Digits { dtmf_text, .. } => assert_eq!(dtmf_text, "5"),
        _ => unreachable!(),
    }
    audio.cmd.send(CallCmd::Digits("7".into())).expect("audio");
    match alice.wait_for("digits").await {
        Event::Digits { dtmf_text, .. } => assert_eq!(dtmf_text, "7"),
        _ => unreachable!(),
    }
    // alice hangs up: the caller gets a BYE, answers it, and sipp succeeds.
    alice.ok("Call.hungUp", json!({"sessionId": sid})).await;
    sipp_done(run).await;
    let rec = s.records().get(&sid).unwrap().expect("recorded");
    assert_eq!(rec.close_by, "seat");
    // Both echoed keys came back within 3 s of each other: one entry.
    let keys: Vec<&str> = rec
        .transcript
        .iter()
        .filter(|l| l.keys)
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(keys, ["57"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_caller_holds_and_changes_codec_by_re_invite() {
    let port = free_port();
    let (s, sip) = sip_server(port).await;
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    // The caller's phone echoes what it hears; it holds the call by a
    // re-INVITE (sendonly), then takes it back with another codec (sipp
    // checks the server's answers: recvonly, then u-law sendrecv).
    let run = sipp("uac_reinvite.xml", sip, port, "4000", &["-rtp_echo"]);
    let voice = analysis::tone(16_000, &[700.0], 30_000, 0.4);
    let (sid, _, audio) = answer(&mut alice, voice).await;
    // alice's 700 Hz comes back through A-law; while the caller holds,
    // the server sends it nothing, so nothing comes back; off hold it
    // comes back through u-law.
    audio
        .until(
            |h| {
                let heard = runs(&windows(h, 16_000, &[440.0, 700.0, 1200.0]));
                is_subsequence(&[Some(700.0), None, Some(700.0)], &heard)
            },
            "alice's tone echoed, not while held, then again in u-law",
        )
        .await;
    sipp_done(run).await;
    match alice.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => {
            assert_eq!(e.session_id, sid);
            assert_eq!(e.close_by, CloseBy::Client);
        }
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_speaking_opus_is_heard_and_hears_the_agent() {
    let port = free_port();
    let (s, sip) = sip_server(port).await;
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    // baresip on the trunk's address calls the number offering only Opus;
    // its microphone is 700 Hz.
    let mut phone = Baresip::caller(port, "opus", 700);
    phone.dial(&format!("sip:4000@{sip}"));
    let voice = analysis::tone(16_000, &[440.0], 30_000, 0.4);
    let (sid, _, audio) = answer(&mut alice, voice).await;
    let tones = [440.0, 700.0, 1200.0];
    // The caller's Opus, decoded by the server, reaches alice.
    audio
        .until(
            |h| {
                h.chunks(1600)
                    .any(|w| analysis::dominant(w, 16_000, &tones) == Some(700.0))
            },
            "the Opus caller's tone at the agent",
        )
        .await;
    audio.play_out(1000).await;
    alice.ok("Call.hungUp", json!({"sessionId": sid})).await;
    // alice's 440 Hz reached the caller in the server's Opus.
    phone.quit();
    let (rate, heard) = phone.heard();
    assert!(
        heard
            .chunks(rate as usize / 10)
            .any(|w| analysis::dominant(w, rate, &tones) == Some(440.0)),
        "the caller heard the agent ({rate} Hz, {} samples)",
        heard.len()
    );
    let rec = s.records().get(&sid).unwrap().expect("recorded");
    assert_eq!(rec.caller.as_deref(), Some("caller"));
}

#[tokio::test]
async fn an_invite_from_elsewhere_is_forbidden_and_an_unknown_number_not_found() {
    let port = free_port();
    let (s, sip) = sip_server(port).await;
    // From another port than the trunk's: 403.
    sipp_done(sipp("uac_refused_403.xml", sip, free_port(), "4000", &[])).await;
    // From the trunk, to a number that is not configured: 404.
    sipp_done(sipp("uac_refused_404.xml", sip, port, "5999", &[])).await;
    // Nothing reached the center.
    let sam = s.login("sam").await;
    let v = sam
        .ok("Supervisor.listSessions", json!({}))
        .await
        .expect("a list");
    assert_eq!(v["sessions"].as_array().map(Vec::len), Some(0), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_elsewhere_gets_in_only_with_a_trunks_digest_credentials() {
    let port = free_port();
    let (s, sip) = sip_server_with(port, |c| {
        c.sip.trunks[0].username = Some("pbx".into());
        c.sip.trunks[0].password = Some("pbx-secret-1".into());
    })
    .await;
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    // Not from the trunk's address: challenged (401); the wrong password
    // then gets 403 (sipp checks both).
    let wrong = ["-au", "pbx", "-ap", "not-the-secret"];
    sipp_done(sipp("uac_auth_wrong.xml", sip, free_port(), "4000", &wrong)).await;
    // The trunk's credentials: challenged, then answered and queued.
    let right = ["-au", "pbx", "-ap", "pbx-secret-1"];
    let run = sipp("uac_auth.xml", sip, free_port(), "4000", &right);
    let Event::CallIn(ci) = alice.wait_for("callIn").await else {
        unreachable!()
    };
    assert_eq!(ci.caller_phone_number.as_deref(), Some("+15551230004"));
    sipp_done(run).await;
    match alice.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => assert_eq!(e.session_id, ci.session_id),
        _ => unreachable!(),
    }
    // Only the one call reached the center.
    let rec = s.records().get(&ci.session_id).unwrap().expect("recorded");
    assert_eq!(rec.close_by, "client");
    let sam = s.login("sam").await;
    let v = sam
        .ok("Supervisor.listSessions", json!({}))
        .await
        .expect("a list");
    assert_eq!(v["sessions"].as_array().map(Vec::len), Some(0), "{v}");
}

#[tokio::test]
async fn the_sip_config_is_checked() {
    use ccdesk::server::config::ServerConfig;
    let base = "[auth]\nsecret = \"0123456789abcdef\"\n[[skill_groups]]\nid = \"support\"\n";
    for (extra, names) in [
        ("[sip]\nlisten = \"nowhere\"\n", "sip.listen"),
        ("[sip]\nrtp_ports = [3000, 2000]\n", "sip.rtp_ports"),
        (
            "[[sip.numbers]]\nnumber = \"1\"\nskill_group = \"nope\"\n",
            "`nope`",
        ),
        (
            "[[sip.trunks]]\nid = \"t\"\naddress = \"10.0.0.1\"\n",
            "host:port",
        ),
        (
            "[[sip.trunks]]\nid = \"t\"\naddress = \"10.0.0.1:5060\"\nusername = \"u\"\n",
            "both username and password",
        ),
    ] {
        let e = ServerConfig::parse(&format!("{base}{extra}")).unwrap_err();
        assert!(format!("{e:#}").contains(names), "{extra}: {e:#}");
    }
    let ok = ServerConfig::parse(&format!(
        "{base}[sip]\nlisten = \"127.0.0.1:5060\"\n[[sip.trunks]]\nid = \"carrier\"\naddress = \"127.0.0.1:5080\"\n[[sip.numbers]]\nnumber = \"4008001234\"\nskill_group = \"support\"\n"
    ))
    .unwrap();
    assert_eq!(ok.sip.numbers[0].skill_group, "support");
    assert_eq!(ok.sip.rtp_ports, [20000, 20999]);
}

/// sipp as the trunk (a UAS) on 127.0.0.1:`port`, once it listens.
pub(crate) async fn sipp_trunk(
    name: &str,
    port: u16,
    extra: &[&str],
) -> tokio::task::JoinHandle<(bool, String)> {
    let mut cmd = std::process::Command::new("sipp");
    cmd.arg("-sf")
        .arg(scenario(name))
        .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args(["-p", &port.to_string(), "-mp", &free_port().to_string()])
        .args(["-m", "1", "-nostdin", "-timeout", "40s", "-timeout_error"])
        .args(extra)
        .current_dir(std::env::temp_dir());
    let run = tokio::task::spawn_blocking(move || match cmd.output() {
        Ok(out) => {
            let text = format!(
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.success(), text)
        }
        Err(e) => panic!("sipp does not run ({e}): scripts/setup.sh installs sip-tester"),
    });
    // Listening once the port can no longer be bound.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
        assert!(std::time::Instant::now() < deadline, "sipp never listened");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_calls_out_through_the_trunk_with_uui_and_hangs_up() {
    let port = free_port();
    let (s, _sip) = sip_server(port).await;
    let run = sipp_trunk("uas_answer.xml", port, &["-rtp_echo"]).await;
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    let v = alice
        .ok(
            "Call.startOutboundCall",
            json!({"phoneNumber": "555 0100", "uui": "ticket=42"}),
        )
        .await
        .expect("a CallResponse");
    let sid = v["sessionId"].as_str().expect("sessionId").to_string();
    alice.wait_for("callOuted").await;
    // The far end rings, then answers: calloutAccepted.
    let Event::CalloutAccepted { session_id } = alice.wait_for("calloutAccepted").await else {
        unreachable!()
    };
    assert_eq!(session_id, sid);
    // Her voice makes the trip to the far end and back.
    let voice = analysis::tone(16_000, &[700.0], 30_000, 0.4);
    let audio = SeatAudio::start(&alice, &sid, voice).await;
    audio
        .until(
            |h| {
                h.chunks(1600)
                    .any(|w| analysis::dominant(w, 16_000, &[440.0, 700.0, 1200.0]) == Some(700.0))
            },
            "alice's tone echoed by the far end",
        )
        .await;
    alice.ok("Call.hungUp", json!({"sessionId": sid})).await;
    sipp_done(run).await;
    let rec = s.records().get(&sid).unwrap().expect("recorded");
    assert_eq!(rec.direction, "outbound");
    assert_eq!(rec.uui.as_deref(), Some("ticket=42"));
    assert_eq!(rec.close_by, "seat");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbound_call_answers_the_trunks_digest_challenge() {
    let port = free_port();
    let (s, _sip) = sip_server_with(port, |c| {
        c.sip.trunks[0].username = Some("ccdesk-out".into());
        c.sip.trunks[0].password = Some("out-secret-9".into());
    })
    .await;
    // sipp challenges the INVITE, checks the credentials of the next one
    // and answers only when they are right.
    let run = sipp_trunk("uas_auth_answer.xml", port, &[]).await;
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    let v = alice
        .ok("Call.startOutboundCall", json!({"phoneNumber": "555 0101"}))
        .await
        .expect("a CallResponse");
    let sid = v["sessionId"].as_str().expect("sessionId").to_string();
    alice.wait_for("callOuted").await;
    // Answered, not refused.
    loop {
        match alice.event().await {
            Event::CalloutAccepted { session_id } => {
                assert_eq!(session_id, sid);
                break;
            }
            Event::SessionEnded(e) => panic!("the trunk refused the credentials: {e:?}"),
            _ => {}
        }
    }
    alice.ok("Call.hungUp", json!({"sessionId": sid})).await;
    sipp_done(run).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_media_is_heard_and_hanging_up_while_it_rings_cancels() {
    let port = free_port();
    let (s, _sip) = sip_server(port).await;
    // The far end: 183 with SDP, its recording as early media, never an
    // answer; sipp checks the CANCEL, sends 487 and checks its ACK.
    let run = sipp_trunk("uas_early_cancel.xml", port, &[]).await;
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    let v = alice
        .ok("Call.startOutboundCall", json!({"phoneNumber": "555 0102"}))
        .await
        .expect("a CallResponse");
    let sid = v["sessionId"].as_str().expect("sessionId").to_string();
    alice.wait_for("callOuted").await;
    // Her audio while it dials: the far end's recording reaches her.
    let audio = SeatAudio::start(&alice, &sid, vec![0i16; 16_000 * 20]).await;
    audio
        .until(
            |h| h.chunks(1600).any(|w| analysis::dbfs(w) > -35.0),
            "the early media at the agent",
        )
        .await;
    // She gives up while it rings: a CANCEL.
    alice.ok("Call.hungUp", json!({"sessionId": sid})).await;
    match alice.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => {
            assert_eq!(e.session_id, sid);
            assert_eq!(e.close_by, CloseBy::Seat);
        }
        _ => unreachable!(),
    }
    sipp_done(run).await;
    let rec = s.records().get(&sid).unwrap().expect("recorded");
    assert!(rec.accepted_at.is_none(), "never answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_far_end_ends_the_call_with_reason_busy() {
    let port = free_port();
    let (s, _sip) = sip_server(port).await;
    let run = sipp_trunk("uas_busy.xml", port, &[]).await;
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    let v = alice
        .ok("Call.startOutboundCall", json!({"phoneNumber": "5550199"}))
        .await
        .expect("a CallResponse");
    let sid = v["sessionId"].as_str().expect("sessionId").to_string();
    match alice.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => {
            assert_eq!(e.session_id, sid);
            assert_eq!(e.close_by, CloseBy::Client);
            assert_eq!(e.main_reason.as_deref(), Some("busy"));
            assert!(
                e.sub_reason.as_deref().is_some_and(|r| r.contains("486")),
                "{e:?}"
            );
        }
        _ => unreachable!(),
    }
    sipp_done(run).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_short_calls_leave_no_rtp_port_and_no_session_behind() {
    let port = free_port();
    let (s, sip) = sip_server_with(port, |c| c.sip.max_invites_per_second = 10_000).await;
    let run = sipp(
        "uac_short.xml",
        sip,
        port,
        "4000",
        &["-m", "1000", "-r", "250", "-l", "100"],
    );
    sipp_done(run).await;
    // Every dialog ended with its session, and gave its port back.
    s.sip_ports_back(std::time::Duration::from_secs(20)).await;
    let sam = s.login("sam").await;
    let v = sam
        .ok("Supervisor.listSessions", json!({}))
        .await
        .expect("a list");
    assert_eq!(v["sessions"].as_array().map(Vec::len), Some(0), "{v}");
    let ended = s.records().list(0).unwrap();
    assert_eq!(ended.len(), 1000);
    assert!(ended.iter().all(|r| r.close_by == "client"));
    // Nobody answered: the wallboard counts every one as abandoned.
    let board = sam
        .ok("Supervisor.subscribe", json!({}))
        .await
        .expect("a wallboard");
    assert_eq!(board["kpis"]["offered"], 1000, "{}", board["kpis"]);
    assert_eq!(board["kpis"]["abandoned"], 1000, "{}", board["kpis"]);
}

/// Send `text` over UDP from `sock` to the server; the responses that come
/// back within `wait`, as text.
async fn udp_exchange(
    sock: &tokio::net::UdpSocket,
    sip: SocketAddr,
    texts: &[String],
    want: usize,
) -> Vec<String> {
    for t in texts {
        sock.send_to(t.as_bytes(), sip).await.expect("sent");
    }
    let mut out = Vec::new();
    let mut buf = vec![0u8; 4096];
    while out.len() < want {
        match tokio::time::timeout(std::time::Duration::from_secs(5), sock.recv(&mut buf)).await {
            Ok(Ok(n)) => out.push(String::from_utf8_lossy(&buf[..n]).to_string()),
            _ => break,
        }
    }
    out
}

fn invite(n: usize, sip: SocketAddr, from: SocketAddr, body: &str) -> String {
    format!(
        "INVITE sip:4000@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {from};branch=z9hG4bK-flood{n}\r\n\
         From: <sip:flood@{from}>;tag=f{n}\r\nTo: <sip:4000@{sip}>\r\nCall-ID: flood-{n}@test\r\n\
         CSeq: 1 INVITE\r\nContact: <sip:flood@{from}>\r\nMax-Forwards: 70\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn garbage_is_survived_bad_sdp_is_refused_and_a_flood_gets_503() {
    let sock = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let from = sock.local_addr().expect("addr");
    let (_s, sip) = sip_server_with(from.port(), |c| c.sip.max_invites_per_second = 3).await;
    // Not SIP at all, and SIP that does not parse: nothing comes back, and
    // the server goes on.
    for junk in ["hello", "INVITE\r\n\r\n", "SIP/2.0 200\r\nVia: ?\r\n\r\n"] {
        sock.send_to(junk.as_bytes(), sip).await.expect("sent");
    }
    let options = format!(
        "OPTIONS sip:ccdesk@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {from};branch=z9hG4bK-opt\r\n\
         From: <sip:probe@{from}>;tag=o1\r\nTo: <sip:ccdesk@{sip}>\r\nCall-ID: opt@test\r\n\
         CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    let r = udp_exchange(&sock, sip, &[options], 1).await;
    assert!(
        r.first().is_some_and(|r| r.starts_with("SIP/2.0 200")),
        "{r:?}"
    );
    // An offer that is not SDP: 400; one with no common codec: 488.
    let g729 = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 18\r\n";
    let r = udp_exchange(
        &sock,
        sip,
        &[invite(1, sip, from, "not sdp"), invite(2, sip, from, g729)],
        2,
    )
    .await;
    let finals: Vec<&str> = r
        .iter()
        .filter_map(|r| r.lines().next())
        .filter(|l| !l.contains(" 100 "))
        .collect();
    assert!(finals.iter().any(|l| l.contains(" 400 ")), "{r:?}");
    assert!(finals.iter().any(|l| l.contains(" 488 ")), "{r:?}");
    // A burst above max_invites_per_second: the excess gets 503 with Retry-After.
    let burst: Vec<String> = (10..20).map(|n| invite(n, sip, from, "x")).collect();
    let r = udp_exchange(&sock, sip, &burst, 10).await;
    let busy: Vec<&String> = r.iter().filter(|r| r.starts_with("SIP/2.0 503")).collect();
    assert!(!busy.is_empty(), "no 503 in {r:?}");
    assert!(
        busy.iter().all(|r| r.contains("Retry-After: 1")),
        "{busy:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sip_caller_holds_through_a_consult_and_ends_up_with_the_colleague() {
    let port = free_port();
    let (s, sip) = sip_server(port).await;
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    let tones = [440.0, 700.0, 1200.0];
    let mut phone = Baresip::caller(port, "pcmu", 440);
    phone.dial(&format!("sip:4000@{sip}"));
    let (x, _, a) = answer(&mut alice, analysis::tone(16_000, &[700.0], 40_000, 0.3)).await;
    let heard_tone = |h: &[i16], hz: f32| {
        h.chunks(1600)
            .any(|w| analysis::dominant(w, 16_000, &tones) == Some(hz))
    };
    a.until(|h| heard_tone(h, 440.0), "the caller at alice")
        .await;
    let mut bob = s.login("bob").await;
    let v = alice
        .ok("Call.consult", json!({"sessionId": x, "userId": "bob"}))
        .await
        .expect("result");
    let c = v["consultSessionId"].as_str().expect("leg").to_string();
    bob.wait_for("callIn").await;
    bob.ok("Call.accept", json!({"sessionId": c})).await;
    let b = SeatAudio::start(&bob, &c, analysis::tone(16_000, &[1200.0], 40_000, 0.3)).await;
    b.until(|h| heard_tone(h, 700.0), "alice at bob").await;
    b.play_out(600).await;
    assert!(
        !heard_tone(&b.heard(), 440.0),
        "bob does not hear the held caller"
    );
    // Conference (alice muted: bob hears the caller alone), then the
    // caller goes to bob.
    alice.ok("Call.muteMic", json!({"sessionId": x})).await;
    alice.ok("Call.conference", json!({"sessionId": x})).await;
    b.until(
        |h| heard_tone(h, 440.0),
        "the caller at bob in the conference",
    )
    .await;
    alice
        .ok("Call.completeTransfer", json!({"sessionId": x}))
        .await;
    b.play_out(1000).await;
    bob.ok("Call.hungUp", json!({"sessionId": x})).await;
    phone.quit();
    let (rate, heard) = phone.heard();
    let w: Vec<Option<f32>> = heard
        .chunks(rate as usize / 10)
        .map(|w| {
            if analysis::rms(w) < 0.01 {
                None
            } else {
                Some(analysis::dominant(w, rate, &tones).unwrap_or(0.0))
            }
        })
        .collect();
    let r = runs(&w);
    // alice, the hold sound while they consult, then bob.
    assert!(
        is_subsequence(&[Some(700.0), Some(0.0), Some(1200.0)], &r),
        "what the caller heard ({rate} Hz): {r:?}"
    );
    let rec = s.records().get(&x).unwrap().expect("recorded");
    assert_eq!(rec.agents, vec!["alice", "bob"]);
}
