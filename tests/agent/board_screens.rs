//! The supervisor console's floor view (the wallboard): snapshots built the
//! way screens.rs builds the agent's (see there): a `State` with a `Board`,
//! fed through the pure reducer (login, the `Supervisor.subscribe` answer,
//! key presses, monitor and intercept answers, `asr` and `sessionEnded`
//! events) at fixed times, drawn into a `TestBackend` and kept as text at
//! 80x24 and 120x40. What text cannot show is asserted on the cells.

use crate::screens::{render, text};
use ccdesk::app::board::{Board, BoardPane, BoardView};
use ccdesk::app::keymap::Keymap;
use ccdesk::app::state::{Caps, Dialog, State};
use ccdesk::app::{reduce, Action, Effect};
use ccdesk::protocol::{
    AgentStatus, AsrResult, ChatFrom, ChatMessage, CloseBy, Event, Flow, LoginResult, SessionEnded,
    WallboardDelta,
};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;
use serde_json::{json, Value};

// ---------------------------------------------------------------- building states

/// The supervisor logs in here; every time on screen is measured from NOW.
const LOGIN_AT: u64 = 1_700_000_000_000;
pub(crate) const SECOND: u64 = 1_000;
pub(crate) const MINUTE: u64 = 60 * SECOND;
/// When the screens are drawn (unless a test moves the clock on).
pub(crate) const NOW: u64 = LOGIN_AT + 30 * SECOND;
const TAB: &str = "3c1d9e0a-8b7f-4a2e-9d6c-fedcba987654";

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

/// Session ids as the server makes them: `s-<run prefix>-<sequence>`.
pub(crate) fn sid(n: u32) -> String {
    format!("s-k9x2m-{n}")
}

pub(crate) fn act(s: &mut State, a: Action, at: u64) -> Vec<Effect> {
    reduce(s, a, at)
}

pub(crate) fn tick(s: &mut State, at: u64) {
    act(s, Action::Tick, at);
}

pub(crate) fn server(s: &mut State, e: Event, at: u64) {
    act(s, Action::Server(e), at);
}

pub(crate) fn press(s: &mut State, c: KeyCode, at: u64) -> Vec<Effect> {
    act(s, Action::Key(KeyEvent::new(c, KeyModifiers::NONE)), at)
}

pub(crate) fn chr(s: &mut State, c: char, at: u64) -> Vec<Effect> {
    press(s, KeyCode::Char(c), at)
}

/// The request among the effects, by method: its id.
pub(crate) fn request_for(fx: &[Effect], method: &str) -> u64 {
    let ids: Vec<u64> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Request { id, method: m, .. } if *m == method => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 1, "expected one {method} request in {fx:?}");
    ids[0]
}

pub(crate) fn answer_ok(s: &mut State, id: u64, data: Option<Value>, at: u64) {
    act(
        s,
        Action::Response {
            id,
            result: Ok(data),
        },
        at,
    );
}

/// The seats: user, name, status (`rest:Meal`: a break and its reason),
/// seconds in it, a tab open, the session it is in and the one ringing
/// there (0: none), skill groups.
#[rustfmt::skip]
type Seat = (&'static str, &'static str, &'static str, u64, bool, u32, u32, &'static str);
#[rustfmt::skip]
const SEATS: [Seat; 20] = [
    ("alice", "Alice Archer", "busy", 252, true, 141, 0, "support"),
    ("bob", "Bob Baker", "busy", 135, true, 143, 0, "support"),
    ("carol", "Carol Chen", "free", 48, true, 0, 0, "support,sales"),
    ("dave", "Dave Dalton", "arrange", 35, true, 0, 0, "sales"),
    ("erin", "Erin Evans", "rest:Meal", 760, true, 0, 0, "support"),
    ("frank", "Frank Fischer", "notReady", 301, true, 0, 0, "support"),
    ("grace", "Grace Gupta", "busy", 420, true, 144, 0, "support"),
    ("heidi", "Heidi Hall", "free", 95, true, 0, 147, "support"),
    ("ivan", "Ivan Ivanov", "offline", 4_805, false, 0, 0, "sales"),
    ("judy", "Judy Jones", "busy", 570, false, 139, 0, "support"),
    ("ken", "Ken Kato", "free", 12, true, 0, 0, "support,sales"),
    ("lena", "Lena Lopez", "rest:Training", 1_830, true, 0, 0, "support"),
    ("mallory", "Mallory Moss", "busy", 200, true, 145, 0, "sales"),
    ("nina", "Nina Novak", "arrange", 8, true, 0, 0, "support"),
    ("oscar", "Oscar Ortiz", "free", 600, true, 0, 0, "sales"),
    ("peggy", "Peggy Park", "busy", 22, true, 146, 0, "sales"),
    ("quinn", "Quinn Quist", "notReady", 3_700, true, 0, 0, "support"),
    ("rupert", "Rupert Reyes", "rest:Meeting", 1_500, true, 0, 0, "support"),
    ("sybil", "Sybil Stone", "free", 3, true, 0, 0, "support"),
    ("trent", "Trent Tran", "offline", 7_260, true, 0, 0, "sales"),
];

fn seat(&(user, name, status, for_s, connected, session, offer, groups): &Seat) -> Value {
    let (status, reason) = match status.split_once(':') {
        Some((s, r)) => (s, Some(r)),
        None => (status, None),
    };
    let groups: Vec<&str> = groups.split(',').collect();
    let mut a = json!({
        "userId": user,
        "name": name,
        "role": "agent",
        "skillGroups": groups,
        "status": status,
        "statusSince": NOW - for_s * SECOND,
        "connected": connected,
    });
    if let Some(r) = reason {
        a["restReason"] = json!(r);
    }
    if session > 0 {
        a["sessionId"] = json!(sid(session));
    }
    if offer > 0 {
        a["offerId"] = json!(sid(offer));
    }
    a
}

/// The live sessions: number, type, state, direction, seat ("": none),
/// group, caller, seconds since it started and since it was answered (0:
/// not yet).
#[rustfmt::skip]
type Live = (u32, &'static str, &'static str, &'static str, &'static str, &'static str, &'static str, u64, u64);
#[rustfmt::skip]
const LIVE: [Live; 10] = [
    (139, "phone", "talking", "inbound", "judy", "support", "Tom Hardy 139****0021", 570, 550),
    (144, "im", "talking", "inbound", "grace", "support", "Bo Chen", 430, 420),
    (141, "phone", "talking", "inbound", "alice", "support", "Ann Lee 138****5678", 280, 252),
    (145, "video", "talking", "inbound", "mallory", "sales", "Dana Smith", 215, 200),
    (143, "voip", "held", "inbound", "bob", "support", "Ravi Shah", 150, 135),
    (147, "phone", "ringing", "inbound", "heidi", "support", "Lu Wei 186****3301", 84, 0),
    (148, "phone", "queued", "inbound", "", "support", "139****7788", 72, 0),
    (149, "im", "queued", "inbound", "", "support", "chat visitor 7f3c", 40, 0),
    (146, "phone", "dialing", "outbound", "peggy", "sales", "+1 555 0100", 22, 0),
    (150, "phone", "queued", "inbound", "", "support", "150****2222", 5, 0),
];

fn live(&(n, kind, state, direction, user, group, caller, started_s, accepted_s): &Live) -> Value {
    let mut s = json!({
        "sessionId": sid(n),
        "type": kind,
        "state": state,
        "direction": direction,
        "skillGroupId": group,
        "caller": caller,
        "startedAt": NOW - started_s * SECOND,
    });
    if !user.is_empty() {
        s["userId"] = json!(user);
    }
    if accepted_s > 0 {
        s["acceptedAt"] = json!(NOW - accepted_s * SECOND);
    }
    s
}

/// The `Supervisor.subscribe` answer: 20 seats in every status (two without
/// a tab open), two groups, ten live sessions, today's figures and the last
/// half hour.
fn wallboard() -> Value {
    let agents: Vec<Value> = SEATS.iter().map(seat).collect();
    let sessions: Vec<Value> = LIVE.iter().map(live).collect();
    // Half an hour, a point a minute: a queue that builds up twice, and a
    // service level that dips with it (two quiet minutes have none).
    let queue = [
        0, 0, 1, 1, 2, 1, 0, 0, 0, 1, 2, 3, 4, 5, 4, 3, 2, 1, 1, 0, 0, 0, 1, 2, 2, 3, 4, 3, 3, 3,
    ];
    // 0: no outcome in that minute, so no service level.
    let level = [
        100, 0, 100, 100, 90, 95, 100, 0, 100, 100, 85, 80, 70, 60, 55, 65, 75, 85, 90, 100, 100,
        100, 95, 90, 88, 80, 72, 70, 76, 81,
    ];
    let minute0 = (NOW / MINUTE) * MINUTE - 29 * MINUTE;
    let history: Vec<Value> = (0..30)
        .map(|i| {
            let mut p = json!({ "at": minute0 + i as u64 * MINUTE, "queue": queue[i] });
            if level[i] > 0 {
                p["serviceLevel"] = json!(level[i]);
            }
            p
        })
        .collect();
    json!({
        "agents": agents,
        "groups": [
            { "skillGroupId": "support", "name": "Customer support", "waiting": 3,
              "oldestSince": NOW - 72 * SECOND, "free": 3, "staffed": 13 },
            { "skillGroupId": "sales", "name": "Sales", "waiting": 0,
              "free": 3, "staffed": 7 },
        ],
        "sessions": sessions,
        "kpis": {
            "dayStart": NOW - 9 * 60 * MINUTE,
            "threshold": 20,
            "offered": 412,
            "answered": 380,
            "answeredInThreshold": 331,
            "abandoned": 21,
            "abandonedInThreshold": 9,
            "serviceLevel": 84.438,
            "asaMs": 14_200,
            "handled": 371,
            "ahtMs": 272_400,
            "occupancy": 78.4,
        },
        "history": history,
    })
}

fn login_result() -> LoginResult {
    LoginResult {
        tab_uuid: TAB.into(),
        user_id: "sam".into(),
        role: "admin".into(),
        status: "free".into(),
        rest_reason: None,
        skill_groups: vec!["support".into(), "sales".into()],
        sessions: vec![],
        seat: None,
        after_call_work: None,
        token: None,
        token_expires_at: None,
    }
}

/// The console logged in, its subscription not answered yet.
fn subscribing() -> (State, u64) {
    let mut s = State::new(
        "ws://127.0.0.1:7070/ws".into(),
        "sam".into(),
        Keymap::default(),
        LOGIN_AT,
    );
    s.audio.setting = ccdesk::app::state::AudioSetting::Off;
    s.board = Some(Board::default());
    let fx = act(&mut s, Action::LoggedIn(login_result()), LOGIN_AT);
    let id = request_for(&fx, "Supervisor.subscribe");
    (s, id)
}

fn loading() -> State {
    let (mut s, _) = subscribing();
    tick(&mut s, LOGIN_AT + SECOND);
    s
}

/// The wallboard, the cursor moved down to dave (agents pane).
pub(crate) fn floor() -> State {
    let (mut s, id) = subscribing();
    answer_ok(&mut s, id, Some(wallboard()), LOGIN_AT + SECOND);
    for _ in 0..3 {
        press(&mut s, KeyCode::Down, LOGIN_AT + 2 * SECOND);
    }
    tick(&mut s, NOW);
    s
}

pub(crate) fn board(s: &State) -> &Board {
    s.board.as_ref().expect("the console's board")
}

fn asr(id: &str, flow: Flow, index: u32, slice_type: u8, start_s: u64, text: &str) -> Event {
    Event::Asr {
        session_id: id.into(),
        flow,
        result: AsrResult {
            index,
            slice_type,
            start_time: start_s * SECOND,
            end_time: start_s * SECOND + 2 * SECOND,
            text: text.into(),
        },
    }
}

/// Select session `n` in the sessions pane (which must have the focus).
fn select_session(s: &mut State, n: u32, at: u64) {
    let want = sid(n);
    let row = |s: &State, id: Option<&str>| {
        board(s)
            .wall
            .sessions
            .iter()
            .position(|x| Some(x.session_id.as_str()) == id)
    };
    let target = row(s, Some(&want));
    assert!(target.is_some(), "{want} is live");
    for _ in 0..20 {
        let cur = row(s, board(s).session.as_deref());
        if cur == target {
            return;
        }
        press(
            s,
            if cur > target {
                KeyCode::Up
            } else {
                KeyCode::Down
            },
            at,
        );
    }
    panic!("could not select {want}");
}

/// Monitor session `n`: select it, `w`, and the server's answer (unless
/// `confirm` is false: the panel then says it is connecting).
fn monitor(s: &mut State, n: u32, confirm: bool, at: u64) {
    select_session(s, n, at);
    let fx = chr(s, 'w', at);
    let id = request_for(&fx, "Call.monitor");
    if confirm {
        answer_ok(s, id, None, at);
    }
}

/// Two monitor panels: alice's call (live, words both ways, a partial at
/// the end) and judy's (ended by the customer). The sessions pane has the
/// focus, on alice's call.
pub(crate) fn monitoring() -> State {
    let mut s = floor();
    let at = NOW;
    press(&mut s, KeyCode::Tab, at);
    assert_eq!(board(&s).pane, BoardPane::Sessions);
    monitor(&mut s, 139, true, at);
    monitor(&mut s, 141, true, at);
    let alice = sid(141);
    let judy = sid(139);
    let lines = [
        (
            Flow::In,
            0,
            "I was charged twice for the same order last week.",
        ),
        (
            Flow::Out,
            0,
            "I am sorry about that. Let me look at your account.",
        ),
        (Flow::In, 1, "The order number is 58-2231-07."),
        (Flow::Out, 1, "Thank you. I can see both payments here."),
    ];
    for (i, (flow, index, text)) in lines.into_iter().enumerate() {
        server(
            &mut s,
            asr(&alice, flow, index, 2, 260 + i as u64 * 5, text),
            at + SECOND,
        );
    }
    server(
        &mut s,
        asr(&alice, Flow::In, 2, 1, 290, "So will I get the"),
        at + 2 * SECOND,
    );
    server(
        &mut s,
        asr(
            &judy,
            Flow::Out,
            0,
            2,
            540,
            "Is there anything else I can do?",
        ),
        at + SECOND,
    );
    server(
        &mut s,
        asr(&judy, Flow::In, 0, 2, 545, "No, that was all. Thanks, bye."),
        at + 2 * SECOND,
    );
    server(
        &mut s,
        Event::SessionEnded(SessionEnded {
            session_id: judy.clone(),
            close_by: CloseBy::Client,
            main_reason: None,
            sub_reason: None,
        }),
        at + 3 * SECOND,
    );
    server(
        &mut s,
        Event::Wallboard(WallboardDelta {
            ended: vec![judy],
            ..WallboardDelta::default()
        }),
        at + 3 * SECOND,
    );
    select_session(&mut s, 141, at + 3 * SECOND);
    tick(&mut s, at + 5 * SECOND);
    s
}

/// A third panel, on grace's chat, not confirmed yet: three do not fit side
/// by side at 80 columns.
fn monitoring_three() -> State {
    let mut s = monitoring();
    let at = s.now;
    monitor(&mut s, 144, false, at);
    let grace = sid(144);
    for (from, text) in [
        (ChatFrom::Client, "Hello, is my parcel coming today?"),
        (ChatFrom::Seat, "Let me check the tracking for you."),
    ] {
        server(
            &mut s,
            Event::ChatMessage(ChatMessage {
                session_id: grace.clone(),
                from,
                user_id: None,
                text: text.into(),
                timestamp: at,
            }),
            at,
        );
    }
    tick(&mut s, at + SECOND);
    s
}

/// `I` on alice's monitored call: the confirmation.
fn intercept_dialog() -> State {
    let mut s = monitoring();
    let at = s.now;
    chr(&mut s, 'I', at);
    s
}

/// `y`: the server hands the call over (its snapshot), the supervisor is
/// busy, and the console shows the call.
fn intercepted() -> State {
    let mut s = intercept_dialog();
    let at = s.now + SECOND;
    let fx = chr(&mut s, 'y', at);
    let id = request_for(&fx, "Call.intercept");
    let alice = sid(141);
    answer_ok(
        &mut s,
        id,
        Some(json!({
            "sessionId": alice,
            "type": "phone",
            "state": "talking",
            "direction": "inbound",
            "callIn": {
                "sessionId": alice,
                "type": "phone",
                "timeout": 0,
                "nickname": "Ann Lee",
                "callerPhoneNumber": "13812345678",
                "protectedCaller": "138****5678",
                "callerLocation": "Shenzhen, Guangdong",
                "calleePhoneNumber": "400-800-1234"
            },
            "startedAt": NOW - 280 * SECOND,
            "acceptedAt": NOW - 252 * SECOND,
            "micMuted": false,
            "videoMuted": false
        })),
        at,
    );
    server(
        &mut s,
        Event::StatusChanged {
            status: AgentStatus::Busy,
            rest_reason: None,
            after_call_work: None,
        },
        at,
    );
    tick(&mut s, at + 4 * SECOND);
    s
}

fn lost() -> State {
    let mut s = floor();
    act(
        &mut s,
        Action::Lost {
            reason: "connection reset by peer".into(),
            attempt: 2,
            retry_in_ms: 4_000,
        },
        NOW + SECOND,
    );
    tick(&mut s, NOW + 2 * SECOND);
    s
}

fn monochrome(mut s: State) -> State {
    s.caps = Caps {
        unicode: false,
        color: false,
    };
    s
}

// ---------------------------------------------------------------- drawing

/// The floor itself at any size (below 80x24 `draw` shows the compact line).
pub(crate) fn render_floor(state: &State, w: u16, h: u16) -> Buffer {
    let theme = ccdesk::ui::theme::Theme::new(state.caps);
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    t.draw(|f| {
        let area = f.area();
        ccdesk::ui::board::draw(f, area, state, board(state), &theme)
    })
    .expect("draw");
    t.backend().buffer().clone()
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

pub(crate) fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    find_in(buf, buf.area, needle)
}

/// The inside of the pane whose top border carries `title`: from the title
/// down to the pane's bottom corner.
pub(crate) fn pane(buf: &Buffer, title: &str) -> Rect {
    let (x, y) = find(buf, title).unwrap_or_else(|| panic!("the {title:?} pane"));
    let corner = ["┌", "+"];
    let mut left = x;
    while left > 0 && !corner.contains(&buf[(left, y)].symbol()) {
        left -= 1;
    }
    let mut right = x;
    while right + 1 < buf.area.width && !["┐", "+"].contains(&buf[(right, y)].symbol()) {
        right += 1;
    }
    let mut bottom = y + 1;
    while bottom + 1 < buf.area.height && !["└", "+"].contains(&buf[(left, bottom)].symbol()) {
        bottom += 1;
    }
    Rect {
        x: left + 1,
        y: y + 1,
        width: right.saturating_sub(left + 1),
        height: bottom.saturating_sub(y + 1),
    }
}

/// The row of pane `title` that shows `needle`.
pub(crate) fn row_in(buf: &Buffer, title: &str, needle: &str) -> u16 {
    find_in(buf, pane(buf, title), needle)
        .unwrap_or_else(|| panic!("{needle:?} in the {title:?} pane:\n{}", text(buf)))
        .1
}

pub(crate) fn reversed(buf: &Buffer, title: &str, y: u16) -> bool {
    let x = pane(buf, title).x;
    buf[(x, y)].modifier.contains(Modifier::REVERSED)
}

fn marked(buf: &Buffer, title: &str, y: u16, marker: &str) -> bool {
    let x = pane(buf, title).x;
    buf[(x, y)].symbol() == marker
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

fn snapshot_at(name: &str, what: &str, state: &State, w: u16, h: u16) -> Buffer {
    let buf = render(state, w, h);
    let mut settings = insta::Settings::clone_current();
    settings.set_description(format!("{what} ({w}x{h})"));
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(format!("{name}_{w}x{h}"), text(&buf)));
    buf
}

pub(crate) fn snapshot(name: &str, what: &str, state: &State) -> [Buffer; 2] {
    SIZES.map(|(w, h)| snapshot_at(name, what, state, w, h))
}

// ---------------------------------------------------------------- tests

#[test]
fn board_loading() {
    let s = loading();
    assert!(!board(&s).loaded);
    for buf in snapshot("loading", "subscribed, no wallboard yet", &s) {
        assert!(text(&buf).contains("loading the wallboard"));
    }
}

#[test]
fn board_wallboard() {
    let s = floor();
    assert_eq!(board(&s).agent.as_deref(), Some("dave"));
    let bufs = snapshot(
        "wallboard",
        "20 agents, 2 queues, 10 live sessions, today's figures and the last half hour; cursor on dave",
        &s,
    );
    for buf in &bufs {
        let t = text(buf);
        for needle in [
            "SL 84% (20s)",
            "ASA 0:14",
            "AHT 4:32",
            "Offered 412",
            "Queue 3",
            "SL 81%",
        ] {
            assert!(t.contains(needle), "{needle:?} in\n{t}");
        }
        // The focused pane reverses its selected row; the other only marks it.
        let y = row_in(buf, "Agents", "dave");
        assert!(reversed(buf, "Agents", y), "dave's row is reversed");
        assert!(marked(buf, "Agents", y, "▶"));
        let y = row_in(buf, "Agents", "carol");
        assert!(!reversed(buf, "Agents", y));
        let y = row_in(buf, "Live sessions", "Tom Hardy");
        assert!(!reversed(buf, "Live sessions", y), "not focused");
        assert!(marked(buf, "Live sessions", y, "▶"), "but marked");
        // Time in status and talk time.
        let y = row_in(buf, "Agents", "alice");
        let row = find_in(buf, pane(buf, "Agents"), "4:12").map(|p| p.1);
        assert_eq!(row, Some(y), "alice busy for 4:12 in\n{t}");
        // judy has no tab open.
        let y = row_in(buf, "Agents", "judy");
        assert_eq!(buf[(pane(buf, "Agents").x + 2, y)].symbol(), "✗");
        // The oldest wait is over the threshold.
        let (x, y) = find(buf, "1:12").expect("the oldest wait");
        assert_eq!(buf[(x, y)].fg, Color::Red);
    }
    // Tab: the sessions pane takes the keys and the reverse video.
    let mut s = s;
    press(&mut s, KeyCode::Tab, NOW);
    for (w, h) in SIZES {
        let buf = render(&s, w, h);
        let y = row_in(&buf, "Live sessions", "Tom Hardy");
        assert!(reversed(&buf, "Live sessions", y));
        let y = row_in(&buf, "Agents", "dave");
        assert!(!reversed(&buf, "Agents", y));
        assert!(marked(&buf, "Agents", y, "▶"));
    }
}

/// The wallboard with overflow and a priority caller: support overflows to
/// sales after 30 s and lets sessions wait 10 minutes at most; the queued
/// 139****7788 is priority 5 and has overflowed to sales.
fn overflowing() -> State {
    let (mut s, id) = subscribing();
    let mut wall = wallboard();
    wall["groups"][0]["overflowTo"] = json!("sales");
    wall["groups"][0]["overflowAfter"] = json!(30);
    wall["groups"][0]["maxWait"] = json!(600);
    wall["groups"][1]["overflowIn"] = json!(1);
    let sessions = wall["sessions"].as_array_mut().expect("sessions");
    let vip = sessions
        .iter_mut()
        .find(|x| x["caller"] == "139****7788")
        .expect("the queued caller");
    vip["priority"] = json!(5);
    vip["overflowTo"] = json!("sales");
    answer_ok(&mut s, id, Some(wall), LOGIN_AT + SECOND);
    press(&mut s, KeyCode::Tab, LOGIN_AT + 2 * SECOND);
    tick(&mut s, NOW);
    s
}

#[test]
fn board_shows_overflow_and_priority() {
    let s = overflowing();
    let [narrow, wide] = snapshot(
        "overflow",
        "support overflows to sales after 30 s (max wait 10 min); a priority 5 caller has overflowed",
        &s,
    );
    let t = text(&wide);
    for needle in ["→sales 0:30", "+1", "10:00", "queued P5"] {
        assert!(t.contains(needle), "{needle:?} in\n{t}");
    }
    // Wider, the sessions show their group and where they overflowed.
    let t = text(&render(&s, 200, 40));
    assert!(t.contains("support→sales"), "{t}");
    // The priority is on the caller's row, at every size.
    for buf in [&narrow, &wide] {
        let y = row_in(buf, "Live sessions", "139****77");
        let p5 = find_in(buf, pane(buf, "Live sessions"), "P5").map(|p| p.1);
        assert_eq!(p5, Some(y), "{}", text(buf));
    }
    // At 80 columns a column too narrow for its text is left out, not cut.
    assert!(!text(&narrow).contains("→sales …"));
    // Without overflow or priorities those columns are not there at all.
    let t = text(&render(&floor(), 120, 40));
    assert!(!t.contains("Overflow") && !t.contains(" P5"), "{t}");
}

#[test]
fn board_scrolls_to_the_selected_agent() {
    let mut s = floor();
    for _ in 0..30 {
        press(&mut s, KeyCode::Down, NOW);
    }
    assert_eq!(board(&s).agent.as_deref(), Some("trent"));
    let buf = render(&s, 80, 24);
    let y = row_in(&buf, "Agents", "trent");
    assert!(reversed(&buf, "Agents", y), "{}", text(&buf));
    assert!(
        find_in(&buf, pane(&buf, "Agents"), "alice").is_none(),
        "the top rows scrolled away:\n{}",
        text(&buf)
    );
}

#[test]
fn board_monitors() {
    let s = monitoring();
    let b = board(&s);
    assert_eq!(b.watches.len(), 2);
    assert!(b.watches[0].ended.is_some(), "judy's call ended");
    let bufs = snapshot(
        "monitors",
        "two monitor panels: alice's call live (partial at the end), judy's ended",
        &s,
    );
    for buf in &bufs {
        let t = text(buf);
        assert!(t.contains("ended by client"), "{t}");
        assert!(t.contains("IN  ▸") && t.contains("OUT ◂"), "{t}");
        let (x, y) = find(buf, "So will I get").expect("the partial");
        assert!(buf[(x, y)].modifier.contains(Modifier::ITALIC));
        // The monitored session is marked in the sessions pane.
        let y = row_in(buf, "Live sessions", "Ann Lee");
        assert!(reversed(buf, "Live sessions", y));
        let row: String = (0..buf.area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        assert!(row.contains("◉"), "{row}");
    }
    snapshot(
        "monitors_three",
        "three monitor panels, the third a chat still connecting",
        &monitoring_three(),
    );
    // At 80 columns two fit; the third is paged in with a count.
    let mut s3 = monitoring_three();
    let at = s3.now;
    press(&mut s3, KeyCode::Tab, at);
    let b = board(&s3);
    assert_eq!((b.pane, b.watch), (BoardPane::Monitors, 0));
    let buf = render(&s3, 80, 24);
    assert!(text(&buf).contains("1 more"), "{}", text(&buf));
}

#[test]
fn board_intercept_dialog() {
    let s = intercept_dialog();
    assert!(matches!(s.dialog, Some(Dialog::ConfirmIntercept { .. })));
    for buf in snapshot(
        "intercept_dialog",
        "I on alice's monitored call: take it over?",
        &s,
    ) {
        assert!(text(&buf).contains("from alice?"));
    }
}

#[test]
fn board_call_view_after_intercept() {
    let s = intercepted();
    assert_eq!(board(&s).view, BoardView::Call);
    for buf in snapshot(
        "call_view",
        "after intercept: the call bar of alice's call, its transcript so far",
        &s,
    ) {
        let t = text(&buf);
        assert!(t.contains("g floor"), "{t}");
        assert!(t.contains("taken over from alice"), "{t}");
        assert!(
            t.contains("Thank you. I can see both payments here."),
            "{t}"
        );
    }
    // g: back to the floor, where the call is one of the supervisor's.
    let mut s = s;
    let at = s.now;
    chr(&mut s, 'g', at);
    let buf = render(&s, 80, 24);
    let t = text(&buf);
    assert!(t.contains("g my call"), "{t}");
}

#[test]
fn board_narrow_fallback() {
    let s = floor();
    let buf = snapshot_at(
        "too_small",
        "the floor on a terminal narrower than 80 columns",
        &s,
        79,
        24,
    );
    let t = text(&buf);
    assert!(t.contains("79x24"), "{t}");
    assert!(t.contains("3 waiting"), "{t}");
    snapshot_at("too_small", "the floor on a 60x20 terminal", &s, 60, 20);
}

#[test]
fn board_connection_lost() {
    for buf in snapshot(
        "lost",
        "connection lost: the banner over the floor",
        &lost(),
    ) {
        let (x, y) = find(&buf, "Connection lost").expect("banner");
        assert_eq!(buf[(x, y)].bg, Color::Yellow);
    }
}

#[test]
fn board_monochrome_ascii() {
    let s = monochrome(monitoring());
    let bufs = snapshot("monochrome", "two monitors without colour or Unicode", &s);
    for buf in &bufs {
        no_colour_anywhere(buf);
        let t = text(buf);
        assert!(t.is_ascii(), "non-ASCII in ASCII mode:\n{t}");
        // The selection still shows without colour.
        let y = row_in(buf, "Live sessions", "Ann Lee");
        assert!(reversed(buf, "Live sessions", y));
        assert!(marked(buf, "Live sessions", y, ">"));
        assert!(t.contains("IN  >") && t.contains("OUT <"), "{t}");
    }
    let mut f = monochrome(floor());
    let buf = render(&f, 80, 24);
    no_colour_anywhere(&buf);
    let y = row_in(&buf, "Agents", "dave");
    assert!(reversed(&buf, "Agents", y));
    press(&mut f, KeyCode::Tab, NOW);
    let buf = render(&f, 120, 40);
    no_colour_anywhere(&buf);
    assert!(text(&buf).is_ascii());
    for s in [
        monochrome(lost()),
        monochrome(intercept_dialog()),
        monochrome(intercepted()),
    ] {
        no_colour_anywhere(&render(&s, 80, 24));
    }
}

/// The floor drawn at every width from 0 to 300 (24 rows high) and every
/// height from 0 to 100 (80 columns wide), then on a grid up to 300x100 in
/// Unicode and ASCII; below 80x24 `draw` shows the compact line, so the floor
/// is drawn directly. Then every screen of this file through `draw`, at the
/// sizes around the layout's thresholds. (Each size is a fresh layout, which
/// is slow in a debug build: hence not the whole 301x101 grid.)
#[test]
fn board_never_panics_at_any_size() {
    let rich = monitoring_three();
    let mono = monochrome(monitoring_three());
    let mut sizes: Vec<(u16, u16)> = (0..=300).map(|w| (w, 24)).collect();
    sizes.extend((0..=100).map(|h| (80, h)));
    for (w, h) in sizes {
        let r = std::panic::catch_unwind(|| render_floor(&rich, w, h));
        assert!(r.is_ok(), "the floor panicked at {w}x{h}");
    }
    for w in (0..=300).step_by(23) {
        for h in (0..=100).step_by(19) {
            for (name, s) in [("monitors", &rich), ("ascii", &mono)] {
                let r = std::panic::catch_unwind(|| render_floor(s, w, h));
                assert!(r.is_ok(), "the floor ({name}) panicked at {w}x{h}");
            }
        }
    }
    let states = [
        ("loading", loading()),
        ("floor", floor()),
        ("monitors", rich.clone()),
        ("dialog", intercept_dialog()),
        ("call", intercepted()),
        ("lost", lost()),
    ];
    for (name, s) in &states {
        for w in [0, 1, 30, 79, 80, 120, 300] {
            for h in [0, 1, 5, 23, 24, 40, 100] {
                let r = std::panic::catch_unwind(|| render(s, w, h));
                assert!(r.is_ok(), "{name} panicked at {w}x{h}");
            }
        }
    }
}

#[test]
fn board_listening() {
    use ccdesk::app::state::AudioPhase;
    use ccdesk::media::rtc::PeerState;
    let mut s = monitoring();
    s.audio.setting = ccdesk::app::state::AudioSetting::Null;
    let at = s.now;
    // `l` on alice's monitored call: the server switches it to audio.
    let fx = chr(&mut s, 'l', at);
    let id = request_for(&fx, "Call.monitor");
    answer_ok(&mut s, id, None, at);
    let alice = sid(141);
    let call = s.audio.calls.get_mut(&alice).expect("the monitor's audio");
    assert!(call.muted, "a monitor's microphone stays shut");
    call.phase = AudioPhase::Running;
    call.stats.state = Some(PeerState::Connected);
    let bufs = snapshot(
        "listening",
        "alice's call monitored with audio (connected), judy's ended",
        &s,
    );
    for buf in &bufs {
        let t = text(buf);
        assert!(t.contains("listening · audio ok"), "{t}");
        assert!(t.contains("l text only"), "{t}");
    }
}
