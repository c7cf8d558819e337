//! Seats' phones against independent SIP peers: baresip (Debian
//! `baresip-core`) as alice's registered desk phone, sipp as the trunk
//! that a mobile is dialled through and as a phone registering with
//! digest credentials.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ccdesk::media::analysis;
use ccdesk::protocol::{CloseBy, Event, SeatDevices};
use ccdesk::server::config::{SeatType, SipTrunk};
use serde_json::json;

use super::baresip::{free_port, Baresip};
use super::harness::*;
use super::media::finished_recording;

async fn phone_server(
    edit: impl FnOnce(&mut ccdesk::server::config::ServerConfig),
) -> (TestServer, SocketAddr) {
    let s = TestServer::with(|c| {
        c.sip.listen = Some("127.0.0.1:0".into());
        c.center.after_call_work = 0;
        for u in c.users.iter_mut() {
            if u.id == "alice" {
                u.sip_password = Some("alice-desk-pw".into());
            }
        }
        edit(c);
    })
    .await;
    let sip = s.sip.expect("SIP is on");
    (s, sip)
}

/// Every RTP port back in the pool (the bridge drops a phone's line as
/// the call leaves it, alongside the BYE).
async fn ports_back(s: &TestServer) {
    s.sip_ports_back(Duration::from_secs(5)).await;
}

/// The next `seatChanged` at `c`.
async fn seat_changed(c: &mut Client) -> SeatDevices {
    match c.wait_for("seatChanged").await {
        Event::SeatChanged(d) => d,
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_phone_registers_rings_with_the_offer_answers_and_hangs_up() {
    let (s, sip) = phone_server(|_| {}).await;
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    // No desk phone yet: it cannot be chosen.
    let (code, msg) = alice
        .err(
            "Agent.setServerType",
            json!({"serverType": "staffExtensionSeat"}),
        )
        .await;
    assert_eq!(code, ccdesk::protocol::ErrorCode::InvalidState, "{msg}");
    assert!(msg.contains("no desk phone is registered"), "{msg}");

    // The desk phone registers (digest, as alice): every tab hears it.
    let phone = Baresip::start(sip, "alice", "alice-desk-pw", 440);
    let d = seat_changed(&mut alice).await;
    assert_eq!((d.server_type.as_str(), d.desk_phone), ("staffSeat", true));
    alice
        .ok(
            "Agent.setServerType",
            json!({"serverType": "staffExtensionSeat"}),
        )
        .await;
    let d = seat_changed(&mut alice).await;
    assert_eq!(d.server_type, "staffExtensionSeat");

    // A call: the offer rings at alice's tabs and at her desk phone, which
    // answers (answermode=auto): that is alice accepting, told to every
    // tab without a tabUUID.
    let trunk = s.login("pstn").await;
    let sid = phone_call(&trunk, "support").await;
    let Event::CallIn(ci) = alice.wait_for("callIn").await else {
        unreachable!()
    };
    assert_eq!(ci.session_id, sid);
    assert_eq!(ci.server_type.as_deref(), Some("staffExtensionSeat"));
    match alice.wait_for("userAccessed").await {
        Event::UserAccessed {
            session_id,
            tab_uuid,
        } => assert_eq!((session_id.as_str(), tab_uuid), (sid.as_str(), None)),
        _ => unreachable!(),
    }
    // The terminal cannot take the audio: it is the phone's.
    let (code, _) = alice
        .err("Media.offer", json!({"sessionId": sid, "sdp": "v=0"}))
        .await;
    assert_eq!(code, ccdesk::protocol::ErrorCode::InvalidState);
    // The customer plays 700 Hz for two seconds; the phone says 440 Hz.
    trunk
        .ok(
            "Customer.play",
            json!({"sessionId": sid, "tones": [{"hz": [700], "ms": 2000}]}),
        )
        .await;
    // Hold from the terminal works on the phone's call (the server does it).
    alice.ok("Call.hold", json!({"sessionId": sid})).await;
    alice.ok("Call.unHold", json!({"sessionId": sid})).await;
    // Wait for the tone to have played, then hang up on the phone.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    phone.command("hangup");
    match alice.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => {
            assert_eq!(e.session_id, sid);
            assert_eq!(e.close_by, CloseBy::Seat, "the phone hung up: the seat did");
        }
        _ => unreachable!(),
    }
    // The recording: what the customer heard (right) is the phone's 440 Hz;
    // the customer (left) is the 700 Hz.
    let (left, right) = finished_recording(&s, &sid).await;
    let loud = |pcm: &[i16], hz: f32| {
        pcm.chunks(1600)
            .any(|w| analysis::dominant(w, 16_000, &[440.0, 700.0, 1200.0]) == Some(hz))
    };
    assert!(
        loud(&right, 440.0),
        "the desk phone's voice reached the call"
    );
    assert!(loud(&left, 700.0), "the customer's tone is recorded");
    // And the phone heard the customer's 700 Hz (G.711 at 8 kHz).
    phone.command("quit");
    let d = seat_changed(&mut alice).await;
    assert!(!d.desk_phone, "the phone unregistered when it quit");
    let (rate, heard) = phone.heard();
    assert!(
        heard.chunks(rate as usize / 10).any(|w| analysis::dominant(
            w,
            rate,
            &[440.0, 700.0, 1200.0]
        ) == Some(700.0)),
        "the desk phone heard the customer"
    );
}

/// Used by the mobile tests: a trunk at 127.0.0.1:`port` and bob's mobile.
fn with_trunk(c: &mut ccdesk::server::config::ServerConfig, port: u16) {
    c.sip.trunks.push(SipTrunk {
        id: "carrier".into(),
        address: format!("127.0.0.1:{port}"),
        username: None,
        password: None,
        caller_id: None,
    });
    for u in c.users.iter_mut() {
        if u.id == "bob" {
            u.mobile = Some("+15550001111".into());
        }
    }
}

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sip")
        .join(name)
}

/// sipp as the trunk (UAS) at `port`, one call of `name`.
fn sipp_uas(name: &str, port: u16, extra: &[&str]) -> tokio::task::JoinHandle<(bool, String)> {
    let mut cmd = std::process::Command::new("sipp");
    cmd.arg("-sf")
        .arg(scenario(name))
        .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args(["-p", &port.to_string(), "-mp", &free_port().to_string()])
        .args(["-m", "1", "-nostdin", "-timeout", "40s", "-timeout_error"])
        .args(extra)
        .current_dir(std::env::temp_dir());
    tokio::task::spawn_blocking(move || match cmd.output() {
        Ok(out) => (
            out.status.success(),
            format!(
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        ),
        Err(e) => panic!("sipp does not run ({e}): scripts/setup.sh installs sip-tester"),
    })
}

async fn sipp_ok(run: tokio::task::JoinHandle<(bool, String)>) {
    let (ok, out) = run.await.expect("sipp ran");
    let tail: String = out.lines().rev().take(30).collect::<Vec<_>>().join("\n");
    assert!(ok, "sipp failed:\n{tail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mobile_seat_is_dialled_through_the_trunk_on_accept_and_its_hang_up_ends_the_call() {
    let port = free_port();
    let (s, _sip) = phone_server(|c| with_trunk(c, port)).await;
    let mut bob = s.login("bob").await;
    bob.expect("statusChanged").await;
    let Some(v) = bob.ok("Agent.getStatus", json!({})).await else {
        panic!("status")
    };
    assert_eq!(v["status"], "free");
    // bob has a mobile and the center a trunk: he can choose it.
    bob.ok(
        "Agent.setServerType",
        json!({"serverType": "staffPhoneSeat"}),
    )
    .await;
    let d = seat_changed(&mut bob).await;
    assert_eq!((d.server_type.as_str(), d.mobile), ("staffPhoneSeat", true));
    // The far end: answers the INVITE to bob's mobile number, then hangs
    // up after two seconds (the mobile's user hangs up).
    let run = sipp_uas("uas_mobile_hangs_up.xml", port, &[]);
    let trunk = s.login("pstn").await;
    let sid = phone_call(&trunk, "support").await;
    let Event::CallIn(ci) = bob.wait_for("callIn").await else {
        unreachable!()
    };
    assert_eq!(ci.server_type.as_deref(), Some("staffPhoneSeat"));
    // The mobile is dialled once he accepts in the terminal.
    bob.ok("Call.accept", json!({"sessionId": sid})).await;
    match bob.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => {
            assert_eq!(e.session_id, sid);
            assert_eq!(
                e.close_by,
                CloseBy::Seat,
                "his mobile hung up: the seat did"
            );
        }
        _ => unreachable!(),
    }
    sipp_ok(run).await;
    ports_back(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_on_the_mobile_reach_the_caller_and_a_transfer_hangs_the_mobile_up() {
    let port = free_port();
    let (s, _sip) = phone_server(|c| with_trunk(c, port)).await;
    let mut bob = s.login("bob").await;
    bob.expect("statusChanged").await;
    bob.ok(
        "Agent.setServerType",
        json!({"serverType": "staffPhoneSeat"}),
    )
    .await;
    seat_changed(&mut bob).await;
    // The far end answers bob's mobile, presses 1 on it, then waits to be
    // hung up on.
    let run = sipp_uas("uas_mobile_keys.xml", port, &[]);
    let mut trunk = s.login("pstn").await;
    let sid = phone_call(&trunk, "support").await;
    bob.wait_for("callIn").await;
    bob.ok("Call.accept", json!({"sessionId": sid})).await;
    // The key pressed on his mobile reaches the caller's side, as a
    // seat's key does.
    match trunk.wait_for("digits").await {
        Event::Digits {
            session_id,
            dtmf_text,
        } => assert_eq!(
            (session_id.as_str(), dtmf_text.as_str()),
            (sid.as_str(), "1")
        ),
        _ => unreachable!(),
    }
    // He transfers the call to alice: his mobile is hung up (sipp checks
    // the BYE) and she is offered the call.
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    bob.ok(
        "Call.transfer",
        json!({"sessionId": sid, "userId": "alice"}),
    )
    .await;
    let Event::CallIn(ci) = alice.wait_for("callIn").await else {
        unreachable!()
    };
    assert_eq!(ci.session_id, sid);
    sipp_ok(run).await;
    ports_back(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sip_caller_hears_the_queues_music_while_the_agents_mobile_rings() {
    // Two trunks: sipp as the carrier the mobile is dialled through (the
    // first), and sipp as a caller on another trunk.
    let (carrier, caller_port) = (free_port(), free_port());
    let (s, sip) = phone_server(|c| {
        with_trunk(c, carrier);
        c.sip.trunks.push(SipTrunk {
            id: "callers".into(),
            address: format!("127.0.0.1:{caller_port}"),
            username: None,
            password: None,
            caller_id: None,
        });
        c.sip.numbers.push(ccdesk::server::config::SipNumber {
            number: "4000".into(),
            skill_group: "support".into(),
            priority: None,
        });
    })
    .await;
    let mut bob = s.login("bob").await;
    bob.expect("statusChanged").await;
    bob.ok(
        "Agent.setServerType",
        json!({"serverType": "staffPhoneSeat"}),
    )
    .await;
    seat_changed(&mut bob).await;
    // His mobile rings 2 s, answers, and hangs up 2 s later.
    let mobile = sipp_uas("uas_mobile_rings.xml", carrier, &[]);
    // The caller waits for the BYE.
    let mut cmd = std::process::Command::new("sipp");
    cmd.arg("-sf")
        .arg(scenario("uac_echo_wait_bye.xml"))
        .arg(sip.to_string())
        .args(["-s", "4000", "-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args([
            "-p",
            &caller_port.to_string(),
            "-mp",
            &free_port().to_string(),
        ])
        .args(["-m", "1", "-nostdin", "-timeout", "40s", "-timeout_error"])
        .current_dir(std::env::temp_dir());
    let caller = tokio::task::spawn_blocking(move || match cmd.output() {
        Ok(out) => (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ),
        Err(e) => panic!("sipp does not run ({e})"),
    });
    let Event::CallIn(ci) = bob.wait_for("callIn").await else {
        unreachable!()
    };
    bob.ok("Call.accept", json!({"sessionId": ci.session_id}))
        .await;
    match bob.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => assert_eq!(e.close_by, CloseBy::Seat, "the mobile hung up"),
        _ => unreachable!(),
    }
    sipp_ok(mobile).await;
    sipp_ok(caller).await;
    // What the caller heard (the recording's right channel): the queue's
    // music for the two seconds the mobile rang, not silence.
    let (_, right) = finished_recording(&s, &ci.session_id).await;
    let sounding = right
        .chunks(1600)
        .filter(|w| analysis::dbfs(w) > -45.0)
        .count();
    assert!(
        sounding >= 15,
        "{sounding} windows of 100 ms with sound for the caller"
    );
    ports_back(&s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_call_with_use_mobile_rings_the_callees_mobile_and_its_answer_accepts() {
    let port = free_port();
    let (s, _sip) = phone_server(|c| with_trunk(c, port)).await;
    let mut alice = s.login("alice").await;
    let mut bob = s.login("bob").await;
    alice.expect("statusChanged").await;
    bob.expect("statusChanged").await;
    // The mobile answers, then waits for the BYE.
    let run = sipp_uas("uas_mobile_answers.xml", port, &[]);
    let v = alice
        .ok(
            "Call.startInternalCall",
            json!({"calleeUserId": "bob", "useMobile": true}),
        )
        .await
        .expect("sessionId");
    let sid = v["sessionId"].as_str().expect("sessionId").to_string();
    let Event::CallIn(ci) = bob.wait_for("callIn").await else {
        unreachable!()
    };
    assert_eq!(ci.server_type.as_deref(), Some("staffPhoneSeat"));
    // bob's mobile answering is bob accepting.
    match alice.wait_for("calloutAccepted").await {
        Event::CalloutAccepted { session_id } => assert_eq!(session_id, sid),
        _ => unreachable!(),
    }
    match bob.wait_for("userAccessed").await {
        Event::UserAccessed { tab_uuid, .. } => assert_eq!(tab_uuid, None),
        _ => unreachable!(),
    }
    // alice hangs up: bob's mobile gets a BYE.
    alice.ok("Call.hungUp", json!({"sessionId": sid})).await;
    sipp_ok(run).await;
    // Without a mobile, useMobile is refused.
    let (code, msg) = bob
        .err(
            "Call.startInternalCall",
            json!({"calleeUserId": "alice", "useMobile": true}),
        )
        .await;
    assert_eq!(code, ccdesk::protocol::ErrorCode::InvalidState, "{msg}");
    assert!(msg.contains("no mobile number"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desk_phone_registrations_need_the_right_password_and_expire() {
    let (s, sip) = phone_server(|_| {}).await;
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    // sipp registers as alice with the right password for 2 seconds.
    let sipp = |password: &str, name: &str| {
        let mut cmd = std::process::Command::new("sipp");
        cmd.arg("-sf")
            .arg(scenario(name))
            .arg(sip.to_string())
            .args(["-s", "alice", "-au", "alice", "-ap", password])
            .args(["-i", "127.0.0.1", "-p", &free_port().to_string()])
            .args(["-m", "1", "-nostdin", "-timeout", "20s", "-timeout_error"])
            .current_dir(std::env::temp_dir());
        tokio::task::spawn_blocking(move || match cmd.output() {
            Ok(out) => (
                out.status.success(),
                format!(
                    "{}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            ),
            Err(e) => panic!("sipp does not run ({e})"),
        })
    };
    // A wrong password: 403, and nothing registered.
    sipp_ok(sipp("not-the-password", "uac_register_wrong.xml")).await;
    // The right one: 200, and alice's tabs hear of the desk phone...
    sipp_ok(sipp("alice-desk-pw", "uac_register.xml")).await;
    let d = seat_changed(&mut alice).await;
    assert!(d.desk_phone);
    // ...until its 2 seconds run out.
    let d = seat_changed(&mut alice).await;
    assert!(!d.desk_phone, "the registration expired");
    // The config's seat type is where a seat starts.
    assert_eq!(
        s.cfg.seat_type("alice"),
        SeatType::StaffSeat,
        "alice starts with her audio in the terminal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consult_to_an_outside_number_dials_it_and_completing_hands_the_customer_over() {
    use super::media::{has_tone, is_subsequence, runs, windows, SeatAudio};
    let port = free_port();
    let (s, _sip) = phone_server(|c| with_trunk(c, port)).await;
    // The outside number answers and echoes what it hears.
    let outside = sipp_uas("uas_outside_answers.xml", port, &["-rtp_echo"]);
    let (x, mut alice, trunk) = talking(&s, "alice").await;
    let tones = [440.0, 700.0];
    let a = SeatAudio::start(&alice, &x, analysis::tone(16_000, &[700.0], 40_000, 0.3)).await;
    trunk
        .ok(
            "Customer.play",
            json!({"sessionId": x, "tones": [{"hz": [440.0], "ms": 30000}]}),
        )
        .await;
    a.until(|h| has_tone(h, 440.0, &tones), "the customer at alice")
        .await;
    let (code, _) = alice
        .err(
            "Call.consult",
            json!({"sessionId": x, "phoneNumber": "not a number"}),
        )
        .await;
    assert_eq!(code, ccdesk::protocol::ErrorCode::BadRequest);
    let v = alice
        .ok(
            "Call.consult",
            json!({"sessionId": x, "phoneNumber": "+4930555000"}),
        )
        .await
        .expect("result");
    let c = v["consultSessionId"].as_str().expect("leg").to_string();
    // The number answers: the leg is an outbound call that was accepted.
    loop {
        if let Event::CalloutAccepted { session_id } = alice.wait_for("calloutAccepted").await {
            assert_eq!(session_id, c);
            break;
        }
    }
    let link = loop {
        if let Event::SessionUpdated(sn) = alice.wait_for("sessionUpdated").await {
            if sn.session_id == x {
                if let Some(l) = sn.consult {
                    if l.phase == ccdesk::protocol::ConsultPhase::Talking {
                        break l;
                    }
                }
            }
        }
    };
    assert_eq!(link.phone_number.as_deref(), Some("+4930555000"));
    assert_eq!(link.user_id, None);
    // alice hears herself come back from the far end, not the held customer.
    a.play_out(1500).await;
    let h = a.heard();
    let recent = &h[h.len().saturating_sub(16_000)..];
    assert!(
        has_tone(recent, 700.0, &tones),
        "the outside number's echo of alice"
    );
    assert!(!has_tone(recent, 440.0, &tones), "the customer is held");
    // Handed over: alice leaves; the customer now hears the outside number
    // (its echo of the customer's own 440 Hz).
    alice
        .ok("Call.completeTransfer", json!({"sessionId": x}))
        .await;
    assert_eq!(sid(&alice.wait_for("transfer").await), x);
    // 1.5 s of media time (alice's device plays on, silence now).
    a.play_out(1500).await;
    trunk.ok("Customer.hangUp", json!({"sessionId": x})).await;
    // The number is hung up with it (sipp waits for the BYE).
    sipp_ok(outside).await;
    let (_, right) = finished_recording(&s, &x).await;
    let r = runs(&windows(&right, 16_000, &tones));
    assert!(
        is_subsequence(&[Some(700.0), Some(440.0)], &r),
        "the customer heard alice, then the outside number: {r:?}"
    );
    let rx = s.records().get(&x).unwrap().expect("recorded");
    assert_eq!(
        rx.transfers[0].to_phone_number.as_deref(),
        Some("+4930555000")
    );
    let rc = s.records().get(&c).unwrap().expect("leg recorded");
    assert_eq!(
        (
            rc.kind.as_str(),
            rc.direction.as_str(),
            rc.consult_of.as_deref()
        ),
        ("phone", "outbound", Some(x.as_str()))
    );
    assert_eq!(rc.main_reason.as_deref(), Some("customerLeft"));
    ports_back(&s).await;
}
