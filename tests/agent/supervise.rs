//! End to end: the real `ccdesk supervise` binary in a pseudo-terminal
//! against a real server. Agents and a trunk make traffic over the
//! protocol; the supervisor sees it, monitors two sessions as text,
//! intercepts one and hangs it up, all from the keyboard.

use std::time::Duration;

use ccdesk::protocol::{CloseBy, Event};
use serde_json::json;

use crate::e2e::{Center, Peer};
use crate::pty::Pty;

const WAIT: Duration = Duration::from_secs(10);

/// The trunk says `text` in session `sid` until the console shows it: what
/// is said before the server has started the monitor is not sent to it.
fn say_until_seen(trunk: &Peer, p: &Pty, sid: &str, text: &str) -> String {
    for _ in 0..50 {
        trunk.call("Customer.say", json!({"sessionId": sid, "text": text}));
        if let Some(screen) = p.try_wait_for(Duration::from_millis(200), |s| s.contains(text)) {
            return screen;
        }
    }
    p.wait_text(text)
}

/// `agent` takes the next call from the trunk: its session id.
fn answered(trunk: &Peer, agent: &mut Peer, masked: &str) -> String {
    let sid = trunk.phone_call(masked);
    agent.wait_event(
        "callIn",
        |e| matches!(e, Event::CallIn(c) if c.session_id == sid),
    );
    agent.call("Call.accept", json!({"sessionId": sid}));
    sid
}

#[test]
fn a_supervisor_watches_monitors_and_takes_over() {
    let center = Center::start();
    let mut trunk = center.peer("pstn", false);
    let mut sup = center.terminal("supervise", "sam", &[], None, (120, 40));
    let p = &sup.pty;
    // The wallboard lists every seat, logged in or not.
    p.wait_for("the wallboard's agents", WAIT, |s| {
        s.contains("alice") && s.contains("bob") && s.contains("dave")
    });

    // Two agents take a call each; the console sees both sessions talking.
    let mut alice = center.peer("alice", false);
    let one = answered(&trunk, &mut alice, "138****1111");
    let mut bob = center.peer("bob", false);
    let two = answered(&trunk, &mut bob, "139****2222");
    let screen = p.wait_for("two talking sessions", WAIT, |s| {
        s.contains("138****1111") && s.contains("139****2222")
    });
    assert!(screen.contains("talking"), "{screen}");

    // Tab to the live sessions; monitor the first and the second as text.
    p.tab();
    p.key("w");
    p.down();
    p.key("w");
    let first = say_until_seen(&trunk, p, &one, "my card was stolen yesterday");
    let both = say_until_seen(&trunk, p, &two, "I want the family plan");
    assert!(
        both.contains("my card was stolen yesterday"),
        "both panels stay: {both}"
    );
    assert!(first.contains(&one) || both.contains(&one), "{both}");
    // What the customer says is told apart from the agent (flow IN).
    assert!(both.contains("IN"), "{both}");

    // Tab to the first monitor panel; intercept it (with confirmation).
    p.tab();
    p.key("I");
    p.wait_text("Take session");
    p.key("y");
    let ended = alice.wait_event("sessionEnded", |e| matches!(e, Event::SessionEnded(_)));
    match ended {
        Event::SessionEnded(e) => {
            assert_eq!(e.session_id, one);
            assert_eq!(e.close_by, CloseBy::Admin);
            assert_eq!(e.main_reason.as_deref(), Some("intercepted"));
            assert_eq!(e.sub_reason.as_deref(), Some("taken over by sam"));
        }
        _ => unreachable!(),
    }
    // The console is now the call bar of that session, transcript included.
    let screen = p.wait_text("talking");
    assert!(
        screen.contains("my card was stolen yesterday"),
        "the monitored words carry over: {screen}"
    );
    // The customer keeps talking, now to sam.
    trunk.call(
        "Customer.say",
        json!({"sessionId": one, "text": "hello is someone new there"}),
    );
    p.wait_text("hello is someone new there");

    // Hang up from the keyboard: the customer's side ends, closed by the seat.
    p.key("h");
    let ev = trunk.wait_event(
        "sessionEnded",
        |e| matches!(e, Event::SessionEnded(x) if x.session_id == one),
    );
    match ev {
        Event::SessionEnded(e) => assert_eq!(e.close_by, CloseBy::Seat),
        _ => unreachable!(),
    }
    p.wait_text("ended");

    // Back to the floor: bob's call is still monitored; quit.
    p.key("g");
    p.wait_text("I want the family plan");
    p.key("q");
    assert_eq!(sup.pty.wait_exit(WAIT), 0);
    drop(bob);
}

#[test]
fn a_supervisor_listens_to_a_call_then_goes_back_to_text() {
    let center = Center::start();
    let trunk = center.peer("pstn", false);
    let mut sup = center.terminal("supervise", "sam", &[], None, (120, 40));
    let p = &sup.pty;
    p.wait_text("alice");
    let mut alice = center.peer("alice", false);
    answered(&trunk, &mut alice, "138****1111");
    p.wait_text("138****1111");

    // `l` on the live session: an audio monitor, connected over WebRTC
    // (a silent device here: there is no sound card), ALSA kept off screen.
    p.tab();
    p.key("l");
    let screen = p.wait_for("the audio monitor", WAIT, |s| {
        s.contains("listening") && s.contains("audio ok")
    });
    assert!(
        screen.contains("text only"),
        "the hint offers the way back: {screen}"
    );
    assert!(
        !p.raw_output().windows(8).any(|w| w == b"ALSA lib"),
        "{screen}"
    );
    // `l` again: the panel stays, as text only.
    p.key("l");
    let screen = p.wait_for("text only again", WAIT, |s| !s.contains("listening"));
    assert!(screen.contains("138****1111"), "{screen}");
    p.key("q");
    assert_eq!(sup.pty.wait_exit(WAIT), 0);
}

#[test]
fn an_agent_cannot_open_the_console() {
    let center = Center::start();
    let mut t = center.terminal("supervise", "alice", &[], None, (80, 24));
    assert_eq!(t.pty.wait_exit(WAIT), 2, "refused");
    // The message is printed after the screen is restored (and wraps at 80).
    let screen = t.pty.screen().replace('\n', "");
    assert!(
        screen.contains("for admins and inspectors; alice has role agent"),
        "{screen}"
    );
}
