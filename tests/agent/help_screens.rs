//! A paused recording on the agent's screen, built as scenes.rs builds the
//! others and snapshotted at 80x24 and 120x40: the recording paused while
//! the customer reads out a card number.

use crate::scenes::*;
use crate::screens::{find, render, snapshot, text};
use ccdesk::app::state::{Caps, State};
use ratatui::style::{Color, Modifier};

const ID: &str = "s-1001";

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
    vec![("recording_paused", recording_paused())]
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
