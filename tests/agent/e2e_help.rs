//! End to end (as e2e.rs): an agent asks for help from her terminal, the
//! supervisor's console answers (acknowledges and listens), coaches, then
//! barges in; each screen is checked, and what the server shows of the
//! session (`monitoredBy`) through a second tab of the agent's.

use std::time::Duration;

use ccdesk::protocol::{Event, MonitorMode};

use crate::e2e::{Center, Peer};

const WAIT: Duration = Duration::from_secs(10);

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// The next `sessionUpdated` of `sid` that shows sam monitoring in `mode`.
fn sam_monitors(tab: &mut Peer, sid: &str, mode: MonitorMode) {
    let what = format!("sam monitoring {sid} ({})", mode.as_str());
    tab.wait_event(&what, |e| {
        matches!(e, Event::SessionUpdated(s) if s.session_id == sid
            && s.monitored_by.len() == 1
            && s.monitored_by[0].user_id == "sam"
            && s.monitored_by[0].mode == mode)
    });
}

#[test]
fn an_agent_asks_for_help_and_the_supervisor_listens_coaches_and_barges_in() {
    let center = Center::start();
    let mut trunk = center.peer("pstn", false);
    let a = center.terminal("agent", "alice", &["--enable-shared"], None, (80, 24));
    let p = &a.pty;
    p.wait_text("free for");
    // A second tab of alice's: what the server tells her tabs.
    let mut tab = center.peer("alice", true);
    let mut s = center.terminal("supervise", "sam", &[], None, (120, 40));
    let q = &s.pty;
    q.wait_text("alice");

    // alice takes a call.
    let sid = trunk.phone_call("138****1111");
    p.wait_text("ringing");
    p.key("a");
    trunk.wait_event("userAccessed", |e| matches!(e, Event::UserAccessed { .. }));
    p.wait_text("talking");
    q.wait_text("138****1111");

    // She asks for help about it, with a note.
    p.key("!");
    p.wait_text("Ask for help");
    p.key("refund over my limit");
    p.wait_text("refund over my limit");
    let bells = count(&q.raw_output(), b"\x07");
    p.enter();
    p.wait_text("help asked");

    // The console rings, flags her row and counts the request.
    let screen = q.wait_text("alice asks for help with 138****1111");
    assert!(
        screen.contains("\"refund over my limit\" (A answers)"),
        "{screen}"
    );
    q.wait_for("the flag, the count and the key", WAIT, |s| {
        s.contains("⚑ 1 asking for help") && s.contains("⚑  alice") && s.contains("A answer help")
    });
    // The bell went out before the words were drawn.
    assert_eq!(count(&q.raw_output(), b"\x07"), bells + 1, "the bell");

    // A: acknowledged and listened to; alice sees sam coming, then listening.
    q.key("A");
    let screen = q.wait_text("listening · audio ok");
    assert!(screen.contains("◉ PHONE alice 138****1111"), "{screen}");
    q.wait_gone("asking for help");
    sam_monitors(&mut tab, &sid, MonitorMode::Listen);
    p.wait_for("sam listening, help no longer asked", WAIT, |s| {
        s.contains("sam is listening") && !s.contains("help asked")
    });

    // W: sam coaches, on the same audio.
    q.key("W");
    q.wait_text("coaching (the agent hears you) · audio ok");
    sam_monitors(&mut tab, &sid, MonitorMode::Coach);
    p.wait_text("sam is coaching you");

    // B: sam barges in.
    q.key("B");
    q.wait_text("barged in (everyone hears you) · audio ok");
    sam_monitors(&mut tab, &sid, MonitorMode::Barge);
    p.wait_text("sam barged in");

    // l: back to listening.
    q.key("l");
    q.wait_text("listening · audio ok");
    sam_monitors(&mut tab, &sid, MonitorMode::Listen);
    p.wait_text("sam is listening");

    // w on the panel: sam stops; alice is told nobody monitors any more.
    q.key("w");
    tab.wait_event("no monitor", |e| {
        matches!(e, Event::SessionUpdated(x) if x.session_id == sid && x.monitored_by.is_empty())
    });
    p.wait_gone("sam is listening");
    q.key("q");
    assert_eq!(s.pty.wait_exit(WAIT), 0);
}
