//! A supervisor's help and a paused recording on the agent's screen, built
//! as scenes.rs builds the others and snapshotted at 80x24 and 120x40:
//! who monitors the call and how (listening, coaching, barged in), and the
//! recording paused while the customer reads out a card number.

use crate::scenes::*;
use crate::screens::{find, render, snapshot, text};
use ccdesk::app::state::{Caps, State};
use ccdesk::protocol::{MonitorInfo, MonitorMode};
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
