//! A supervisor's help and a paused recording on the agent's screen, built
//! as scenes.rs builds the others and snapshotted at 80x24 and 120x40:
//! who monitors the call and how (listening, coaching, barged in), a
//! request for help from the dialog to "sam is coming", and the recording
//! paused while the customer reads out a card number.

use crate::scenes::*;
use crate::screens::{find, render, snapshot, text};
use ccdesk::app::state::{Caps, State};
use ccdesk::protocol::{Event, MonitorInfo, MonitorMode};
use crossterm::event::KeyCode;
use ratatui::style::{Color, Modifier};

const ID: &str = "s-1001";

/// The talking call (2:14 in, muted) with `by` monitoring it.
fn monitored(by: &[(&str, MonitorMode)]) -> State {
    let mut s = talking();
    let at = s.now;
    let ev = updated(&s, ID, |x| {
        x.monitored_by = by
            .iter()
            .map(|(u, m)| MonitorInfo {
                user_id: u.to_string(),
                mode: *m,
            })
            .collect()
    });
    server(&mut s, ev, at);
    tick(&mut s, at + SECOND);
    s
}

/// `!` on the talking call, a note typed.
fn help_dialog() -> State {
    let mut s = talking();
    let at = s.now;
    chr(&mut s, '!', at);
    type_text(&mut s, "refund over my limit", at);
    s
}

/// Enter: asked, 42 s ago.
fn help_asked() -> State {
    let mut s = help_dialog();
    let at = s.now;
    let fx = press(&mut s, KeyCode::Enter, at);
    answer_ok(&mut s, request_id(&fx), None, at);
    tick(&mut s, at + 42 * SECOND);
    s
}

/// sam acknowledged it.
fn help_coming() -> State {
    let mut s = help_asked();
    let at = s.now + SECOND;
    server(
        &mut s,
        Event::HelpAcknowledged {
            user_id: "alice".into(),
            by: "sam".into(),
        },
        at,
    );
    tick(&mut s, at + 2 * SECOND);
    s
}

/// `p` on the talking call: the server paused the recording 12 s ago.
fn recording_paused() -> State {
    let mut s = talking();
    let at = s.now;
    let fx = chr(&mut s, 'p', at);
    answer_ok(&mut s, request_id(&fx), None, at);
    let ev = updated(&s, ID, |x| {
        x.recording_paused = true;
        x.mic_muted = true;
    });
    server(&mut s, ev, at);
    tick(&mut s, at + 12 * SECOND);
    s
}

/// Every screen of this file, by name (for the no-panic sweep).
pub(crate) fn screens() -> Vec<(&'static str, State)> {
    vec![
        (
            "monitored_listen",
            monitored(&[("sam", MonitorMode::Listen)]),
        ),
        ("monitored_coach", monitored(&[("sam", MonitorMode::Coach)])),
        ("monitored_barge", monitored(&[("sam", MonitorMode::Barge)])),
        ("help_dialog", help_dialog()),
        ("help_asked", help_asked()),
        ("help_coming", help_coming()),
        ("recording_paused", recording_paused()),
    ]
}

#[test]
fn the_status_pane_says_who_monitors_and_how() {
    for (name, mode, words) in [
        ("monitored_listen", MonitorMode::Listen, "sam is listening"),
        ("monitored_coach", MonitorMode::Coach, "sam is coaching you"),
        ("monitored_barge", MonitorMode::Barge, "sam barged in"),
    ] {
        let s = monitored(&[("sam", mode)]);
        for buf in snapshot(name, &format!("the call, {words}"), &s) {
            let t = text(&buf);
            assert!(t.contains(&format!("busy for 2m · {words}")), "{t}");
            let (x, y) = find(&buf, words).expect("on screen");
            let barge = mode == MonitorMode::Barge;
            assert_eq!(buf[(x, y)].fg == Color::Red, barge, "{words}");
        }
    }
    // A supervisor reading along, and two at once.
    let s = monitored(&[("sam", MonitorMode::Coach), ("ivy", MonitorMode::Text)]);
    let t = text(&render(&s, 120, 40));
    assert!(t.contains("sam is coaching you · ivy reads along"), "{t}");
}

#[test]
fn help_is_asked_from_a_dialog_and_answered() {
    for buf in snapshot(
        "help_dialog",
        "! on the call: the dialog, a note typed",
        &help_dialog(),
    ) {
        let t = text(&buf);
        assert!(t.contains("Ask for help"), "{t}");
        assert!(t.contains("About: Ann Lee 138****5678 (s-1001)"), "{t}");
        assert!(t.contains("Note (optional): refund over my limit"), "{t}");
    }
    for buf in snapshot(
        "help_asked",
        "help asked 42 s ago, no supervisor yet",
        &help_asked(),
    ) {
        let t = text(&buf);
        assert!(t.contains("⚑ help asked 0:42"), "{t}");
    }
    for buf in snapshot(
        "help_coming",
        "sam acknowledged the request",
        &help_coming(),
    ) {
        let t = text(&buf);
        assert!(t.contains("sam is coming"), "{t}");
        assert!(!t.contains("help asked"), "{t}");
    }
}

#[test]
fn a_paused_recording_cannot_be_missed() {
    for buf in snapshot(
        "recording_paused",
        "the call's recording paused for a card payment",
        &recording_paused(),
    ) {
        let t = text(&buf);
        assert!(t.contains("RECORDING PAUSED · p resumes"), "{t}");
        assert!(t.contains("talking 2:26 [RECORDING PAUSED] [MUTED]"), "{t}");
        assert!(t.contains("p resume recording"), "{t}");
        let (x, y) = find(&buf, "[RECORDING PAUSED]").expect("the flag");
        assert_eq!((buf[(x, y)].fg, buf[(x, y)].bg), (Color::White, Color::Red));
    }
    // Without colours it is reversed.
    let mut s = recording_paused();
    s.caps = Caps {
        unicode: false,
        color: false,
    };
    let buf = render(&s, 80, 24);
    let (x, y) = find(&buf, "[RECORDING PAUSED]").expect("the flag");
    assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED));
    // The compact line says it too.
    let mut s = recording_paused();
    let at = s.now;
    chr(&mut s, 'z', at);
    let t = text(&render(&s, 120, 40));
    assert!(t.contains("[REC PAUSED]"), "{t}");
}
