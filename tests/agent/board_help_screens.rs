//! The console's coach and barge modes, built as board_screens.rs builds
//! the floor (and with its helpers), snapshotted at 80x24 and 120x40: the
//! monitor panel coaching and barged in.

use crate::board_screens::*;
use crate::screens::text;
use ccdesk::app::state::{AudioPhase, AudioSetting, State};
use ccdesk::media::rtc::PeerState;
use ccdesk::protocol::MonitorMode;
use ratatui::style::Color;

/// alice's call.
fn alice() -> String {
    sid(141)
}

/// The console's audio on a silent device, connected for `id`.
fn connected(s: &mut State, id: &str) {
    let call = s.audio.calls.get_mut(id).expect("the monitor's audio");
    call.phase = AudioPhase::Running;
    call.stats.state = Some(PeerState::Connected);
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
