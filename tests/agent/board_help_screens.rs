//! The console's help requests and its coach and barge modes, built as
//! board_screens.rs builds the floor (and with its helpers), snapshotted at
//! 80x24 and 120x40: two agents asking for help (the flags, the count in
//! the header), the answer key listening to alice's call, and the monitor
//! panel coaching and barged in.

use crate::board_screens::*;
use crate::screens::{render, text};
use ccdesk::app::state::{AudioPhase, AudioSetting, State};
use ccdesk::media::rtc::PeerState;
use ccdesk::protocol::{Event, HelpRequest, MonitorMode};
use ratatui::style::Color;

/// alice's call.
fn alice() -> String {
    sid(141)
}

/// The floor; alice asked for help about her call 42 s ago with a note,
/// bob 10 s ago about nothing in particular.
fn asking() -> State {
    let mut s = floor();
    for (user, session, text, ago) in [
        ("alice", Some(alice()), Some("refund over my limit"), 42),
        ("bob", None, None, 10),
    ] {
        server(
            &mut s,
            Event::HelpRequested {
                user_id: user.into(),
                request: HelpRequest {
                    session_id: session,
                    text: text.map(str::to_string),
                    at: NOW - ago * SECOND,
                },
            },
            NOW - ago * SECOND,
        );
    }
    tick(&mut s, NOW);
    s
}

/// The console's audio on a silent device, connected for `id`.
fn connected(s: &mut State, id: &str) {
    let call = s.audio.calls.get_mut(id).expect("the monitor's audio");
    call.phase = AudioPhase::Running;
    call.stats.state = Some(PeerState::Connected);
}

/// `A`: alice's request acknowledged, her call listened to.
fn answered() -> State {
    let mut s = asking();
    s.audio.setting = AudioSetting::Null;
    let at = NOW + SECOND;
    let fx = chr(&mut s, 'A', at);
    answer_ok(&mut s, request_for(&fx, "Supervisor.ackHelp"), None, at);
    answer_ok(&mut s, request_for(&fx, "Call.monitor"), None, at);
    server(
        &mut s,
        Event::HelpAcknowledged {
            user_id: "alice".into(),
            by: "sam".into(),
        },
        at,
    );
    connected(&mut s, &alice());
    tick(&mut s, at + SECOND);
    s
}

/// Two monitors (board_screens' `monitoring`); alice's call listened to,
/// then switched with `keys` (each answered by the server).
fn switched(keys: &[char]) -> State {
    let mut s = monitoring();
    s.audio.setting = AudioSetting::Null;
    let at = s.now;
    for c in std::iter::once('l').chain(keys.iter().copied()) {
        let fx = chr(&mut s, c, at);
        answer_ok(&mut s, request_for(&fx, "Call.monitor"), None, at);
    }
    connected(&mut s, &alice());
    tick(&mut s, at + SECOND);
    s
}

#[test]
fn agents_asking_for_help_are_flagged_and_counted() {
    let s = asking();
    assert_eq!(board(&s).asking().len(), 2);
    for buf in snapshot(
        "help_flags",
        "alice (with a note) and bob ask for help; the cursor on dave",
        &s,
    ) {
        let t = text(&buf);
        assert!(t.contains("⚑ 2 asking for help"), "{t}");
        assert!(t.contains("A answer help"), "{t}");
        for user in ["alice", "bob"] {
            let y = row_in(&buf, "Agents", user);
            let x = pane(&buf, "Agents").x + 2;
            assert_eq!(buf[(x, y)].symbol(), "⚑", "{user}'s row:\n{t}");
            assert_eq!(buf[(x, y)].bg, Color::Red);
        }
        // judy, without a tab open, keeps her mark beside the flags.
        let y = row_in(&buf, "Agents", "judy");
        assert_eq!(buf[(pane(&buf, "Agents").x + 3, y)].symbol(), "✗");
    }
    // Wide enough, the note and how long ago.
    let t = text(&render(&s, 200, 40));
    assert!(t.contains("0:42 refund over"), "{t}");
    // The bell's words on the status line.
    assert!(t.contains("bob asks for help (A answers)"), "{t}");
}

#[test]
fn the_answer_key_listens_to_the_call_in_question() {
    let s = answered();
    let b = board(&s);
    assert_eq!(b.agent.as_deref(), Some("alice"));
    assert_eq!(b.watches.len(), 1);
    assert_eq!(b.watches[0].mode, MonitorMode::Listen);
    for buf in snapshot(
        "help_answered",
        "A: alice's request acknowledged, her call listened to; bob still asks",
        &s,
    ) {
        let t = text(&buf);
        assert!(t.contains("⚑ 1 asking for help"), "{t}");
        assert!(t.contains("listening · audio ok"), "{t}");
        assert!(t.contains("W coach") && t.contains("B barge"), "{t}");
    }
}

#[test]
fn the_monitor_panel_says_coaching_and_barged_in() {
    let s = switched(&['W']);
    assert_eq!(
        board(&s).watch(&alice()).map(|w| w.mode),
        Some(MonitorMode::Coach)
    );
    assert!(!s.audio.calls[&alice()].muted, "the microphone is open");
    for buf in snapshot(
        "coaching",
        "alice's call coached: she hears sam, the customer does not",
        &s,
    ) {
        let t = text(&buf);
        assert!(t.contains("coaching (the agent hears you) · audi"), "{t}");
        assert!(t.contains("l listen") && t.contains("B barge"), "{t}");
    }
    let s = switched(&['W', 'B']);
    assert_eq!(
        board(&s).watch(&alice()).map(|w| w.mode),
        Some(MonitorMode::Barge)
    );
    for buf in snapshot("barged", "sam barged into alice's call", &s) {
        let t = text(&buf);
        assert!(t.contains("barged in (everyone hears you) · au"), "{t}");
        assert!(t.contains("l listen") && t.contains("W coach"), "{t}");
        let (x, y) = crate::screens::find(&buf, "barged in").expect("on screen");
        assert_eq!(buf[(x, y)].fg, Color::Red);
    }
}
