//! SIP in a cluster: a carrier's call lands on one node's SIP, its RTP
//! stays in that node's media service, an agent on another node answers
//! it, and it keeps talking through the owner's kill -9.

use ccdesk::media::analysis;
use ccdesk::protocol::Event;
use serde_json::json;

use crate::baresip::free_port;
use crate::cluster::{kill_9, login_url, owner_of, processes_edit, state_has, urls_of};
use crate::media::SeatAudio;
use crate::nats::Nats;
use crate::sip::{carrier, sipp, sipp_done, sipp_trunk};

/// Whether the last of what alice heard has her own 700 Hz, echoed by the
/// caller's phone.
fn echoed(heard: &[i16]) -> bool {
    heard
        .chunks(1600)
        .any(|w| analysis::dominant(w, 16_000, &[440.0, 700.0, 1200.0]) == Some(700.0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sip_call_landed_on_one_node_keeps_talking_through_the_owners_kill_9() {
    let Some(nats) = Nats::start() else { return };
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut procs, cfg) = processes_edit(&nats, dir.path(), None, 1500, |c| carrier(c, port));
    let urls = urls_of(&procs);
    drop(login_url(&urls[0], &cfg, "ivy").await);
    let (_kv, _owner, o) = owner_of(&nats).await;
    let (x, y) = ((o + 1) % 3, (o + 2) % 3);
    let landing = ((b'a' + y as u8) as char).to_string();
    let mut alice = login_url(&urls[x], &cfg, "alice").await;
    alice.expect("statusChanged").await;
    // The caller's phone sends back everything it hears (-rtp_echo); it
    // calls node y, neither alice's node nor the owner.
    let sip = procs[y].as_ref().and_then(|p| p.sip).expect("node y's SIP");
    let run = sipp("uac_echo_wait_bye.xml", sip, port, "4000", &["-rtp_echo"]);
    let Event::CallIn(ci) = alice.wait_for("callIn").await else {
        unreachable!()
    };
    let id = ci.session_id.clone();
    alice.ok("Call.accept", json!({"sessionId": id})).await;
    let voice = analysis::tone(16_000, &[700.0], 60_000, 0.4);
    let audio = SeatAudio::start(&alice, &id, voice).await;
    // alice's 700 Hz went to the caller and came back, through node y.
    audio
        .until(echoed, "alice's tone echoed by the caller")
        .await;
    state_has(&nats, &id, &format!("a phone line on {landing}"), |s| {
        s["state"] == "talking" && s["bridgeNode"] == landing.as_str() && s["line"] == true
    })
    .await;

    kill_9(&mut procs[o]);
    match alice.wait_for("loggedInAgain").await {
        Event::LoggedInAgain(r) => assert!(
            r.sessions.iter().any(|s| s.session_id == id),
            "the call goes on: {r:?}"
        ),
        _ => unreachable!(),
    }
    // The same peer connection, never offered again, still makes the trip
    // to the caller and back.
    let n = audio.heard().len();
    audio
        .until(
            |h| echoed(&h[n.min(h.len())..]),
            "the echo after the owner's kill -9",
        )
        .await;
    // alice hangs up through the new owner: node y's SIP sends the caller
    // its BYE, which ends sipp's scenario.
    alice.ok("Call.hungUp", json!({"sessionId": id})).await;
    sipp_done(run).await;
}

/// An agent's outbound call in a cluster: one node's SIP places it, and
/// its audio runs on that node (the far end echoes what it hears).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbound_call_runs_its_audio_on_the_node_that_placed_it() {
    let Some(nats) = Nats::start() else { return };
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let (procs, cfg) = processes_edit(&nats, dir.path(), None, 1500, |c| carrier(c, port));
    let urls = urls_of(&procs);
    let run = sipp_trunk("uas_answer.xml", port, &["-rtp_echo"]).await;
    let mut alice = login_url(&urls[1], &cfg, "alice").await;
    alice.expect("statusChanged").await;
    let v = alice
        .ok(
            "Call.startOutboundCall",
            json!({"phoneNumber": "555 0100", "uui": "ticket=42"}),
        )
        .await
        .expect("a CallResponse");
    let id = v["sessionId"].as_str().expect("sessionId").to_string();
    alice.wait_for("calloutAccepted").await;
    let voice = analysis::tone(16_000, &[700.0], 30_000, 0.4);
    let audio = SeatAudio::start(&alice, &id, voice).await;
    audio
        .until(echoed, "alice's tone echoed by the far end")
        .await;
    // The call's bridge is on a node with SIP (each has), with its line.
    state_has(&nats, &id, "a phone line on a node", |s| {
        s["line"] == true
            && s["bridgeNode"]
                .as_str()
                .is_some_and(|n| ["a", "b", "c"].contains(&n))
    })
    .await;
    alice.ok("Call.hungUp", json!({"sessionId": id})).await;
    sipp_done(run).await;
}
