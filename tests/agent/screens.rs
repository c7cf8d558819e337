//! Screen snapshots (see main.rs).
//!
//! Every screen is built the way the program builds it (scenes.rs): a
//! `State` fed through the pure reducer (login results, server events, key
//! presses, answers), with explicit times, then drawn by `ccdesk::ui::draw`
//! into a `TestBackend`. The buffer is snapshotted as plain text (one row a
//! line, trailing spaces trimmed), at 80x24 and at 120x40; what text cannot
//! show (reverse video, colours) is asserted on the cells.

use crate::scenes::*;
use ccdesk::app::state::{Caps, State};
use crossterm::event::KeyCode;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;
use unicode_width::UnicodeWidthStr;

// ---------------------------------------------------------------- drawing

pub(crate) fn render(state: &State, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    t.draw(|f| ccdesk::ui::draw(state, f)).expect("draw");
    t.backend().buffer().clone()
}

/// The buffer as text: rows joined by '\n', trailing spaces trimmed. The
/// cells hidden behind a wide character are skipped.
pub(crate) fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut rows = Vec::new();
    for y in area.top()..area.bottom() {
        let mut row = String::new();
        let mut skip = 0;
        for x in area.left()..area.right() {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let sym = buf[(x, y)].symbol();
            row.push_str(sym);
            skip = sym.width().saturating_sub(1);
        }
        rows.push(row.trim_end().to_string());
    }
    rows.join("\n")
}

/// Where `needle` starts on screen (column, row), if anywhere.
pub(crate) fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    find_in(buf, buf.area, needle)
}

/// Where `needle` starts within `area` (column, row), if anywhere.
fn find_in(buf: &Buffer, area: Rect, needle: &str) -> Option<(u16, u16)> {
    for y in area.top()..area.bottom() {
        let mut row = String::new();
        let mut starts = Vec::new();
        for x in area.left()..area.right() {
            starts.push((row.len(), x));
            row.push_str(buf[(x, y)].symbol());
        }
        if let Some(i) = row.find(needle) {
            let x = starts
                .iter()
                .rev()
                .find(|(b, _)| *b <= i)
                .map_or(0, |(_, x)| *x);
            return Some((x, y));
        }
    }
    None
}

fn snapshot_at(name: &str, what: &str, state: &State, w: u16, h: u16) -> Buffer {
    let buf = render(state, w, h);
    let mut settings = insta::Settings::clone_current();
    settings.set_description(format!("{what} ({w}x{h})"));
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(format!("{name}_{w}x{h}"), text(&buf)));
    buf
}

/// Snapshot a screen at 80x24 and 120x40; returns both buffers.
pub(crate) fn snapshot(name: &str, what: &str, state: &State) -> [Buffer; 2] {
    SIZES.map(|(w, h)| snapshot_at(name, what, state, w, h))
}

fn no_colour_anywhere(buf: &Buffer) {
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let c = &buf[(x, y)];
            assert_eq!(
                (c.fg, c.bg),
                (Color::Reset, Color::Reset),
                "cell ({x},{y}) {:?} has a colour",
                c.symbol()
            );
        }
    }
}

/// The row of the session list that shows `needle`.
pub(crate) fn queue_row(buf: &Buffer, needle: &str) -> u16 {
    let (x, top) = find(buf, "Sessions").expect("the session list");
    let width = if buf.area.width >= 120 { 44 } else { 30 };
    let pane = Rect {
        x: x.saturating_sub(2),
        y: top + 1,
        width,
        height: buf.area.height - top - 1,
    };
    find_in(buf, pane, needle)
        .unwrap_or_else(|| panic!("{needle:?} in the session list"))
        .1
}

pub(crate) fn modifier_at(buf: &Buffer, needle: &str) -> Modifier {
    let (x, y) = find(buf, needle).unwrap_or_else(|| panic!("{needle:?} on screen"));
    buf[(x, y)].modifier
}

// ---------------------------------------------------------------- tests

#[test]
fn idle_after_login() {
    let [small, _] = snapshot("idle", "logged in, free, no sessions", &idle());
    assert!(find(&small, "none yet").is_some());
    snapshot(
        "connecting",
        "before the login answer: connecting for the first time",
        &fresh(),
    );
}

#[test]
fn ringing_phone_call() {
    let [small, big] = snapshot(
        "ringing",
        "a phone offer: nickname, masked number, location, IVR path, 23s left",
        &ringing(),
    );
    for buf in [&small, &big] {
        let t = text(buf);
        assert!(t.contains("23s left"), "{t}");
        assert!(t.contains("138****5678"), "{t}");
        assert!(
            !t.contains("13812345678"),
            "the full number stays hidden: {t}"
        );
        assert!(modifier_at(buf, "ringing").contains(Modifier::SLOW_BLINK));
    }
}

#[test]
fn talking_phone_call() {
    let [small, big] = snapshot(
        "talking",
        "a phone call 2:14 in, muted, transcript with IN/OUT finals and an IN partial",
        &talking(),
    );
    for buf in [&small, &big] {
        let (x, y) = find(buf, "[MUTED]").expect("muted flag");
        assert_eq!(buf[(x, y)].fg, Color::Red);
        assert!(buf[(x, y)].modifier.contains(Modifier::BOLD));
        let partial = modifier_at(buf, "And could");
        assert!(partial.contains(Modifier::ITALIC), "the partial is italic");
        let fin = modifier_at(buf, "Yes, it is");
        assert!(!fin.contains(Modifier::ITALIC), "finals are upright");
    }
}

#[test]
fn held_and_after_call_work() {
    snapshot("held", "the call on hold", &held());
    let [small, big] = snapshot(
        "after_call_work",
        "the customer hung up; after-call work for 0:45",
        &after_call_work(),
    );
    for buf in [&small, &big] {
        assert!(
            text(buf).contains("[AFTER-CALL WORK 0:45]"),
            "{}",
            text(buf)
        );
        assert!(text(buf).contains("arrange for 0:45"));
    }
}

#[test]
fn the_contacts_attributes_and_earlier_sessions_are_shown() {
    let [small, big] = snapshot(
        "contact_history",
        "a call with the trunk's attributes and two earlier sessions",
        &contact_history(),
    );
    for buf in [&small, &big] {
        let t = text(buf);
        assert!(t.contains("Earlier with this contact (2)"), "{t}");
        assert!(t.contains("3h ago") && t.contains("Escalated"), "{t}");
    }
    assert!(text(&big).contains("tier: gold"), "{}", text(&big));
}

#[test]
fn after_call_work_counts_down_and_asks_for_the_wrap_up() {
    let [small, big] = snapshot(
        "wrap_up_needed",
        "after-call work with a required code, 18 s left, the dialog put off",
        &with_keys(wrap_up(), &[KeyCode::Esc], ""),
    );
    for buf in [&small, &big] {
        let t = text(buf);
        assert!(t.contains("0:18 left"), "{t}");
        assert!(t.contains("wrap-up code needed (u)"), "{t}");
    }
}

#[test]
fn several_sessions_in_the_queue() {
    let s = queue();
    assert_eq!(s.selected_index(), Some(1), "the middle row is selected");
    let bufs = snapshot(
        "queue",
        "ringing chat, talking phone (selected), video passed on",
        &s,
    );
    for buf in &bufs {
        let y = queue_row(buf, "Ann Lee");
        for x in [1, 5, 12] {
            assert!(
                buf[(x, y)].modifier.contains(Modifier::REVERSED),
                "the selected row is in reverse video at column {x}"
            );
        }
        for other in ["Bo Chen", "Dana Smith"] {
            let y = queue_row(buf, other);
            assert!(
                !buf[(1, y)].modifier.contains(Modifier::REVERSED),
                "{other}"
            );
        }
    }
}

#[test]
fn chat_with_draft() {
    let s = chat();
    assert!(s.typing);
    let bufs = snapshot("chat", "a chat both ways; the agent is typing a reply", &s);
    for buf in &bufs {
        assert!(text(buf).contains("> It was missing a customs form; I have"));
    }
}

#[test]
fn caller_keys_in_the_transcript() {
    let bufs = snapshot(
        "caller_keys",
        "a phone caller's keys among the speech",
        &caller_keys(),
    );
    for buf in &bufs {
        let t = text(buf);
        assert!(t.contains("pressed 4 4 1 7"), "{t}");
        assert!(t.contains("pressed #"), "{t}");
    }
    let s = caller_keys();
    let lines = &s.session("s-1001").expect("session").transcript;
    let keys: Vec<&str> = lines
        .iter()
        .filter(|l| l.keys)
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(keys, ["4417", "#"], "speech in between starts a new entry");
}

#[test]
fn long_chat_draft_and_scrolled_transcript() {
    snapshot(
        "chat_long_draft",
        "a chat reply longer than the input line",
        &chat_long_draft(),
    );
    let s = transcript_scrolled();
    assert_eq!(s.session("s-1001").map(|x| x.scroll), Some(10));
    let bufs = snapshot(
        "transcript_scrolled",
        "a long transcript scrolled back one page",
        &s,
    );
    for buf in &bufs {
        assert!(text(buf).contains("(10 back; end follows)"));
    }
}

#[test]
fn video_with_camera_off() {
    let bufs = snapshot(
        "video_camera_off",
        "a video call, camera off",
        &video_camera_off(),
    );
    for buf in &bufs {
        assert!(text(buf).contains("[CAMERA OFF]"));
    }
}

#[test]
fn outbound_call_dialing() {
    snapshot(
        "dialing",
        "calling out to +1 555 0100, 4 s after the answer",
        &dialing(),
    );
}

#[test]
fn dialogs_over_the_panes() {
    let what = |name: &str| match name {
        "dialog_transfer_group" => "transfer to a skill group picked with up/down",
        "dialog_transfer_agent" => "transfer to an agent, typed",
        "dialog_transfer_directory" => {
            "transfer to an agent: the colleagues matching \"b\", who is free now"
        }
        "dialog_dtmf" => "DTMF pad after sending 1 2 #",
        "dialog_dial" => "call out: a number typed",
        "dialog_internal" => "internal call: an agent typed",
        "dialog_status" => "status menu, cursor on arrange",
        "dialog_rest_reason" => "break reason menu, cursor on Meeting",
        "dialog_wrap_up" => {
            "after-call work: the wrap-up dialog, Callback needed picked, notes typed"
        }
        "dialog_settings" => "settings: ringtone off, cursor on notifications",
        "dialog_device" => "settings, microphone: two devices, the cursor on the headset",
        "dialog_call_audio" => "settings, call audio: a desk phone registered, the terminal now",
        "dialog_quit" => "quit asked while a call is active",
        "dialog_help" => "the key help",
        _ => "a dialog",
    };
    for (name, s) in dialogs() {
        assert!(s.dialog.is_some(), "{name}: a dialog is open");
        let bufs = snapshot(name, what(name), &s);
        if name == "dialog_status" {
            for buf in &bufs {
                let m = modifier_at(buf, "arrange: after-call work");
                assert!(
                    m.contains(Modifier::REVERSED),
                    "the menu cursor is reversed"
                );
            }
        }
        if name == "dialog_call_audio" {
            for buf in &bufs {
                let t = text(buf);
                assert!(t.contains("this terminal (headset) (now)"), "{t}");
                assert!(t.contains("desk phone (registered)"), "{t}");
                assert!(t.contains("mobile (none configured)"), "{t}");
            }
        }
    }
}

#[test]
fn where_the_call_audio_goes_in_the_status_pane() {
    for (name, s, needle) in [
        (
            "desk_phone",
            with_seat(talking(), "staffExtensionSeat", true, false),
            "audio: desk phone",
        ),
        (
            "desk_phone_unregistered",
            with_seat(idle(), "staffExtensionSeat", false, false),
            "audio: desk phone (not registered)",
        ),
    ] {
        let what = if name == "desk_phone" {
            "a call taken on the desk phone"
        } else {
            "the desk phone chosen but not registered"
        };
        for buf in snapshot(name, what, &s) {
            assert!(text(&buf).contains(needle), "{name}: {}", text(&buf));
        }
    }
}

#[test]
fn view_modes() {
    snapshot(
        "compact",
        "compact one-line mode (z) during a call",
        &with_keys(talking(), &[key('z')], ""),
    );
    snapshot(
        "hidden",
        "hidden (H) while an offer rings",
        &with_keys(ringing(), &[key('H')], ""),
    );
    snapshot(
        "call_bar_off",
        "call bar turned off (b) during a call",
        &with_keys(talking(), &[key('b')], ""),
    );
    let buf = snapshot_at(
        "too_small",
        "workbench mode on a terminal smaller than 80x24",
        &talking(),
        60,
        20,
    );
    let t = text(&buf);
    assert!(t.contains("60x20"), "{t}");
    snapshot_at(
        "too_small_ringing",
        "an offer on a terminal smaller than 80x24",
        &ringing(),
        79,
        24,
    );
}

#[test]
fn connection_lost_and_reconnecting() {
    let [small, big] = snapshot(
        "lost",
        "connection lost during a call; retry in 3 s",
        &lost(),
    );
    for buf in [&small, &big] {
        let (x, y) = find(buf, "Connection lost").expect("banner");
        assert_eq!(buf[(x, y)].bg, Color::Yellow, "the banner stands out");
    }
    snapshot("reconnecting", "reconnecting, attempt 3", &reconnecting());
}

#[test]
fn request_errors_in_the_status_pane() {
    let s = request_errors();
    assert_eq!(s.errors.len(), 2);
    let bufs = snapshot(
        "request_errors",
        "two failed requests (transfer, DTMF) and an info line",
        &s,
    );
    // At 80x24 the one notice line shows the newest error (errors outrank
    // the info line) and the first line counts them.
    let small = text(&bufs[0]);
    assert!(small.contains("2 errors"), "{small}");
    assert!(
        small.contains("billing has no free agent") || small.contains("is not talking"),
        "{small}"
    );
    let big = &bufs[1];
    for e in ["session s-1001 is not talking", "billing has no free agent"] {
        let (x, y) = find(big, e).expect("the error");
        assert_eq!(big[(x, y)].fg, Color::Red, "{e}");
    }
}

#[test]
fn monochrome_ascii_theme() {
    let s = monochrome();
    let bufs = snapshot(
        "monochrome",
        "the talking screen without colour or Unicode",
        &s,
    );
    for buf in &bufs {
        no_colour_anywhere(buf);
        let t = text(buf);
        // Nothing but ASCII on screen.
        assert!(t.is_ascii(), "non-ASCII in ASCII mode:\n{t}");
        for symbol in ["●", "◂", "▸", "·", "▶", "›", "⚠", "▏", "…", "┌", "│"] {
            assert!(!t.contains(symbol), "{symbol} in ASCII mode:\n{t}");
        }
        assert!(t.contains("[MUTED]"));
    }
    // Reverse video still marks the selection without colour.
    let mut q = queue();
    q.caps = s.caps;
    let buf = render(&q, 80, 24);
    no_colour_anywhere(&buf);
    let y = queue_row(&buf, "Ann Lee");
    assert!(buf[(1, y)].modifier.contains(Modifier::REVERSED));
    // So does the lost banner.
    let mut l = lost();
    l.caps = s.caps;
    let buf = render(&l, 80, 24);
    no_colour_anywhere(&buf);
    assert!(modifier_at(&buf, "Connection lost").contains(Modifier::REVERSED));
}

#[test]
fn tiny_terminals_do_not_panic() {
    let sizes = [
        (0, 0),
        (1, 1),
        (2, 1),
        (1, 2),
        (10, 3),
        (20, 5),
        (40, 10),
        (79, 23),
        (80, 6),
        (200, 3),
        (3, 60),
        (80, 24),
        (300, 100),
    ];
    for (name, s) in all_screens() {
        for (w, h) in sizes {
            let r = std::panic::catch_unwind(|| render(&s, w, h));
            assert!(r.is_ok(), "{name} panicked at {w}x{h}");
        }
        let mut mono = s.clone();
        mono.caps = Caps {
            unicode: false,
            color: false,
        };
        for (w, h) in [(1, 1), (10, 3), (40, 10)] {
            let r = std::panic::catch_unwind(|| render(&mono, w, h));
            assert!(r.is_ok(), "{name} (ASCII) panicked at {w}x{h}");
        }
    }
}

/// The talking call with its audio running: the status pane's audio line.
fn talking_with_audio(notice: bool) -> State {
    use ccdesk::app::state::{AudioPhase, AudioSetting, CallAudio};
    use ccdesk::media::call::AudioStats;
    use ccdesk::media::device::AudioKind;
    use ccdesk::media::rtc::PeerState;
    let mut s = talking();
    s.audio.setting = AudioSetting::System;
    let id = s.selected.clone().expect("a selected session");
    s.audio.calls.insert(
        id,
        CallAudio {
            phase: AudioPhase::Running,
            muted: true,
            held: false,
            stats: AudioStats {
                state: Some(PeerState::Connected),
                loss_percent: 1.25,
                jitter_ms: 3.4,
                mic_dbfs: -24.0,
                sent: 500,
                received: 498,
                dtmf: true,
            },
        },
    );
    s.audio.device = Some(AudioKind::Null);
    if notice {
        s.audio.notice =
            Some("no sound card (ALSA: not available): audio is off, calls still work".into());
    }
    s
}

#[test]
fn call_audio_in_the_status_pane() {
    let [small, big] = snapshot(
        "audio",
        "a call with audio: connected, 1.25% loss, 3.4 ms jitter, mic at -24 dBFS, no sound card",
        &talking_with_audio(true),
    );
    assert!(
        text(&small).contains("online · audio ok"),
        "{}",
        text(&small)
    );
    let big = text(&big);
    assert!(
        big.contains("audio connected (no sound card: silent) | loss 1.2% | jitter 3.4 ms | mic ######.... muted"),
        "{big}"
    );
    let null = text(&render(&talking_with_audio(false), 120, 40));
    assert!(null.contains("audio connected (null device)"), "{null}");
}
