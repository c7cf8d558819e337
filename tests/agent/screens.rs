//! Screen snapshots (see main.rs).
//!
//! Every screen is built the way the program builds it: a `State` fed through
//! the pure reducer (login results, server events, key presses, answers),
//! with explicit times, then drawn by `ccdesk::ui::draw` into a
//! `TestBackend`. The buffer is snapshotted as plain text (one row a line,
//! trailing spaces trimmed), at 80x24 and at 120x40; what text cannot show
//! (reverse video, colours) is asserted on the cells.

use ccdesk::app::keymap::Keymap;
use ccdesk::app::state::{Caps, Phase, State};
use ccdesk::app::{reduce, Action, Effect};
use ccdesk::protocol::{
    AgentStatus, AsrResult, CallIn, CallOuted, CallType, ChatFrom, ChatMessage, CloseBy, ErrorCode,
    Event, Flow, IvrNode, LoginResult, ProtoError, SessionEnded, SessionSnapshot, SessionState,
};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use ratatui::Terminal;
use serde_json::json;
use unicode_width::UnicodeWidthStr;

// ---------------------------------------------------------------- building states

/// A fixed start: every time on screen is measured from here.
const T0: u64 = 1_700_000_000_000;
const SECOND: u64 = 1_000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
const TAB: &str = "7f3c9a2e-5b1d-4e8a-9c6f-0123456789ab";

/// The two sizes every screen is snapshotted at.
const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn login_result(sessions: Vec<SessionSnapshot>) -> LoginResult {
    LoginResult {
        tab_uuid: TAB.into(),
        user_id: "alice".into(),
        role: "agent".into(),
        status: "free".into(),
        rest_reason: None,
        skill_groups: vec!["support".into(), "sales".into(), "billing".into()],
        sessions,
        seat: None,
        after_call_work: None,
    }
}

/// Before the login answer: connecting for the first time.
fn fresh() -> State {
    let mut s = State::new(
        "ws://127.0.0.1:7070/ws".into(),
        "alice".into(),
        Keymap::default(),
        T0,
    );
    // Audio has screens of its own below.
    s.audio.setting = ccdesk::app::state::AudioSetting::Off;
    s
}

/// Logged in at T0, free, no sessions.
fn logged_in() -> State {
    let mut s = fresh();
    act(&mut s, Action::LoggedIn(login_result(vec![])), T0);
    s
}

/// Feed one action; returns the effects.
fn act(s: &mut State, a: Action, at: u64) -> Vec<Effect> {
    reduce(s, a, at)
}

/// Move the clock (what timers are drawn against).
fn tick(s: &mut State, at: u64) {
    act(s, Action::Tick, at);
}

fn server(s: &mut State, e: Event, at: u64) {
    act(s, Action::Server(e), at);
}

fn press(s: &mut State, c: KeyCode, at: u64) -> Vec<Effect> {
    act(s, Action::Key(KeyEvent::new(c, KeyModifiers::NONE)), at)
}

fn chr(s: &mut State, c: char, at: u64) -> Vec<Effect> {
    press(s, KeyCode::Char(c), at)
}

fn type_text(s: &mut State, text: &str, at: u64) {
    for c in text.chars() {
        chr(s, c, at);
    }
}

/// The id of the one request among the effects (the directory's
/// subscription, which follows the dialogs by itself, aside).
fn request_id(fx: &[Effect]) -> u64 {
    let ids: Vec<u64> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Request { method, .. }
                if matches!(
                    *method,
                    "Agent.subscribeDirectory" | "Agent.unsubscribeDirectory"
                ) =>
            {
                None
            }
            Effect::Request { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(ids.len(), 1, "expected one request in {fx:?}");
    ids[0]
}

fn answer_ok(s: &mut State, id: u64, data: Option<serde_json::Value>, at: u64) {
    act(
        s,
        Action::Response {
            id,
            result: Ok(data),
        },
        at,
    );
}

fn answer_err(s: &mut State, id: u64, code: ErrorCode, message: &str, at: u64) {
    act(
        s,
        Action::Response {
            id,
            result: Err(ProtoError::new(code, message)),
        },
        at,
    );
}

/// The phone offer used by most screens: nickname, masked number, location,
/// IVR path, the hotline dialled, a remark.
fn phone_offer(id: &str) -> CallIn {
    CallIn {
        session_id: id.into(),
        kind: CallType::Phone,
        timeout: 30,
        callee_phone_number: Some("400-800-1234".into()),
        caller_phone_number: Some("13812345678".into()),
        protected_caller: Some("138****5678".into()),
        caller_location: Some("Shenzhen, Guangdong".into()),
        nickname: Some("Ann Lee".into()),
        remark: Some("VIP since 2019".into()),
        ivr_path: Some(vec![
            IvrNode {
                key: "1".into(),
                label: "English".into(),
            },
            IvrNode {
                key: "3".into(),
                label: "Lost or stolen card".into(),
            },
        ]),
        ..CallIn::default()
    }
}

fn offer(id: &str, kind: CallType, nickname: &str) -> CallIn {
    CallIn {
        session_id: id.into(),
        kind,
        timeout: 60,
        nickname: Some(nickname.into()),
        user_id: Some(format!("visitor-{id}")),
        ..CallIn::default()
    }
}

/// The server makes the agent busy, then says the session is accepted.
fn accessed(s: &mut State, id: &str, at: u64) {
    busy(s, at);
    server(
        s,
        Event::UserAccessed {
            session_id: id.into(),
            tab_uuid: Some(TAB.into()),
        },
        at,
    );
}

fn busy(s: &mut State, at: u64) {
    server(
        s,
        Event::StatusChanged {
            status: AgentStatus::Busy,
            rest_reason: None,
            after_call_work: None,
        },
        at,
    );
}

/// What the server would send in `sessionUpdated` for a session as this
/// terminal knows it, changed by `f`.
fn updated(s: &State, id: &str, f: impl FnOnce(&mut SessionSnapshot)) -> Event {
    let x = s.session(id).expect("session");
    let mut snap = SessionSnapshot {
        session_id: x.id.clone(),
        kind: x.kind,
        state: match x.phase {
            Phase::Ringing => SessionState::Ringing,
            Phase::Dialing => SessionState::Dialing,
            Phase::Talking => SessionState::Talking,
            Phase::Held => SessionState::Held,
            Phase::Ended => SessionState::Ended,
        },
        direction: x.direction,
        call_in: x.call_in.clone(),
        started_at: x.started_at,
        accepted_at: x.accepted_at,
        ended_at: x.ended_at,
        mic_muted: x.mic_muted,
        video_muted: x.video_muted,
        close_by: x.close_by,
        messages: x.messages.clone(),
        consult: None,
    };
    f(&mut snap);
    Event::SessionUpdated(snap)
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

fn chat_message(id: &str, from: ChatFrom, text: &str, at: u64) -> Event {
    Event::ChatMessage(ChatMessage {
        session_id: id.into(),
        from,
        user_id: match from {
            ChatFrom::Client => None,
            ChatFrom::Seat => Some("alice".into()),
        },
        text: text.into(),
        timestamp: at,
    })
}

// ---------------------------------------------------------------- the screens

/// When the offer rings in.
const RING_AT: u64 = T0 + 3 * MINUTE;
/// When the agent accepts it.
const ACCEPT_AT: u64 = RING_AT + 6 * SECOND;

fn idle() -> State {
    let mut s = logged_in();
    tick(&mut s, T0 + 5 * MINUTE + 12 * SECOND);
    s
}

/// A phone offer, 7 seconds in: 23 s left of 30.
fn ringing() -> State {
    let mut s = logged_in();
    server(&mut s, Event::CallIn(phone_offer("s-1001")), RING_AT);
    tick(&mut s, RING_AT + 7 * SECOND);
    s
}

/// Accepted, a transcript with IN/OUT finals and an IN partial, muted;
/// 2:14 into the call.
fn talking() -> State {
    let mut s = logged_in();
    let id = "s-1001";
    server(&mut s, Event::CallIn(phone_offer(id)), RING_AT);
    let fx = chr(&mut s, 'a', RING_AT + 5 * SECOND);
    answer_ok(&mut s, request_id(&fx), None, RING_AT + 5 * SECOND);
    accessed(&mut s, id, ACCEPT_AT);
    let lines = [
        (Flow::Out, 0, 1, "Thank you for calling, this is Alice. How can I help?"),
        (Flow::In, 0, 5, "Hi, I lost my card yesterday evening, I think it was at the station, and I need to block it right away."),
        (Flow::Out, 1, 14, "I am sorry to hear that. I can block it for you now."),
        (Flow::Out, 2, 19, "Could you confirm the last four digits of the card?"),
        (Flow::In, 1, 25, "Yes, it is 4 4 1 7."),
    ];
    for (flow, index, at, text) in lines {
        // A sentence starts, grows, and ends.
        let first_word = text.split(' ').next().unwrap_or(text);
        server(
            &mut s,
            asr(id, flow, index, 0, at, first_word),
            ACCEPT_AT + at * SECOND,
        );
        server(
            &mut s,
            asr(id, flow, index, 2, at, text),
            ACCEPT_AT + (at + 2) * SECOND,
        );
    }
    server(
        &mut s,
        asr(id, Flow::In, 2, 1, 30, "And could you also send me"),
        ACCEPT_AT + 31 * SECOND,
    );
    let fx = chr(&mut s, 'm', ACCEPT_AT + 40 * SECOND);
    answer_ok(&mut s, request_id(&fx), None, ACCEPT_AT + 40 * SECOND);
    let muted = updated(&s, id, |x| x.mic_muted = true);
    server(&mut s, muted, ACCEPT_AT + 40 * SECOND);
    tick(&mut s, ACCEPT_AT + 134 * SECOND);
    s
}

/// The talking call put on hold.
fn held() -> State {
    let mut s = talking();
    let at = s.now + SECOND;
    let fx = chr(&mut s, 'o', at);
    answer_ok(&mut s, request_id(&fx), None, at);
    let ev = updated(&s, "s-1001", |x| x.state = SessionState::Held);
    server(&mut s, ev, at);
    tick(&mut s, at + 9 * SECOND);
    s
}

/// The customer hung up; the server put the agent in after-call work.
fn after_call_work() -> State {
    let mut s = talking();
    let at = s.now + SECOND;
    server(
        &mut s,
        Event::SessionEnded(SessionEnded {
            session_id: "s-1001".into(),
            close_by: CloseBy::Client,
            main_reason: None,
            sub_reason: None,
        }),
        at,
    );
    server(
        &mut s,
        Event::StatusChanged {
            status: AgentStatus::Arrange,
            rest_reason: None,
            after_call_work: None,
        },
        at,
    );
    tick(&mut s, at + 45 * SECOND);
    s
}

/// After-call work from a server that sends its wrap-up codes: 30 s, a
/// code required; 12 s in. The wrap-up dialog opened by itself.
fn wrap_up() -> State {
    let mut s = talking();
    let at = s.now + SECOND;
    server(
        &mut s,
        Event::SessionEnded(SessionEnded {
            session_id: "s-1001".into(),
            close_by: CloseBy::Client,
            main_reason: None,
            sub_reason: None,
        }),
        at,
    );
    server(
        &mut s,
        Event::StatusChanged {
            status: AgentStatus::Arrange,
            rest_reason: None,
            after_call_work: Some(ccdesk::protocol::AfterCallWork {
                session_id: "s-1001".into(),
                seconds: 30,
                ends_at: at + 30 * SECOND,
                codes: vec![
                    "Resolved".into(),
                    "Callback needed".into(),
                    "Escalated".into(),
                ],
                required: true,
                code: None,
            }),
        },
        at,
    );
    tick(&mut s, at + 12 * SECOND);
    s
}

/// The talking call with the contact's attributes from the trunk and two
/// earlier sessions from `Contact.history`.
fn contact_history() -> State {
    let mut s = talking();
    let now = s.now;
    let earlier = |sid: &str, ago_ms: u64, agent: &str, talk: u64, code: Option<&str>| {
        ccdesk::protocol::HistoryEntry {
            session_id: sid.into(),
            kind: "phone".into(),
            direction: "inbound".into(),
            skill_group_id: Some("support".into()),
            started_at: now - ago_ms - talk,
            ended_at: now - ago_ms,
            agents: vec![agent.into()],
            talk_ms: Some(talk),
            close_by: "client".into(),
            wrap_up_code: code.map(str::to_string),
            wrap_up_notes: code.map(|_| "card blocked, new one posted".to_string()),
        }
    };
    if let Some(x) = s.session_mut("s-1001") {
        x.call_in.attributes = [
            ("tier".to_string(), "gold".to_string()),
            ("order".to_string(), "8812".to_string()),
        ]
        .into();
        x.history = Some(vec![
            earlier(
                "s-0990",
                3 * HOUR,
                "bob",
                4 * MINUTE + 12 * SECOND,
                Some("Escalated"),
            ),
            earlier("s-0801", 4 * DAY, "alice", 95 * SECOND, None),
        ]);
    }
    s
}

/// A ringing chat, a talking phone call (selected: the middle row) and a
/// video offer that went to another agent.
fn queue() -> State {
    let mut s = logged_in();
    let t = T0 + 10 * MINUTE;
    server(
        &mut s,
        Event::CallIn(offer("s-2001", CallType::Im, "Bo Chen")),
        t,
    );
    server(&mut s, Event::CallIn(phone_offer("s-2002")), t + 5 * SECOND);
    let fx = chr(&mut s, 'a', t + 8 * SECOND);
    answer_ok(&mut s, request_id(&fx), None, t + 8 * SECOND);
    accessed(&mut s, "s-2002", t + 8 * SECOND);
    server(
        &mut s,
        Event::CallIn(offer("s-2003", CallType::Video, "Dana Smith")),
        t + 12 * SECOND,
    );
    server(
        &mut s,
        Event::AutoTransfer {
            session_id: "s-2003".into(),
        },
        t + 30 * SECOND,
    );
    tick(&mut s, t + 41 * SECOND);
    s
}

/// A talking chat with messages both ways; the agent is writing.
fn chat() -> State {
    let mut s = logged_in();
    let id = "s-3001";
    let t = T0 + 20 * MINUTE;
    server(&mut s, Event::CallIn(offer(id, CallType::Im, "Bo Chen")), t);
    let fx = chr(&mut s, 'a', t + 2 * SECOND);
    answer_ok(&mut s, request_id(&fx), None, t + 2 * SECOND);
    accessed(&mut s, id, t + 2 * SECOND);
    let msgs = [
        (ChatFrom::Client, 3, "Hello? My parcel was due on Monday and it has still not arrived."),
        (ChatFrom::Seat, 20, "Hi Bo, sorry about that. Could you give me the order number?"),
        (ChatFrom::Client, 41, "It is 58-2231-07"),
        (ChatFrom::Client, 44, "The tracking page has said 'in transit' for four days now, which seems odd for a domestic parcel."),
        (ChatFrom::Seat, 70, "Thanks, I can see it. It is held at the depot; let me check why."),
    ];
    for (from, after, text) in msgs {
        server(
            &mut s,
            chat_message(id, from, text, t + after * SECOND),
            t + after * SECOND,
        );
    }
    let at = t + 95 * SECOND;
    press(&mut s, KeyCode::Enter, at);
    type_text(&mut s, "It was missing a customs form; I have", at);
    tick(&mut s, at);
    s
}

/// A chat reply longer than the input line.
fn chat_long_draft() -> State {
    let mut s = chat();
    let at = s.now + 5 * SECOND;
    type_text(
        &mut s,
        " asked the depot to send it on today, so it should reach you by Thursday",
        at,
    );
    s
}

/// A long call scrolled back one page.
fn transcript_scrolled() -> State {
    let mut s = talking();
    let id = "s-1001";
    let at = s.now;
    for i in 0..30u32 {
        let flow = if i % 2 == 0 { Flow::In } else { Flow::Out };
        let text = format!("Sentence number {i} of a long conversation about the card.");
        server(
            &mut s,
            asr(id, flow, 10 + i, 2, 140 + u64::from(i) * 3, &text),
            at,
        );
    }
    press(&mut s, KeyCode::PageUp, at);
    s
}

/// The caller answered the agent's question with the phone's keypad: two
/// presses, then a third after a pause in which nothing was said.
fn caller_keys() -> State {
    let mut s = talking();
    let id = "s-1001";
    let at = s.now;
    for (i, d) in ["4", "4", "1", "7"].into_iter().enumerate() {
        server(
            &mut s,
            Event::Digits {
                session_id: id.into(),
                dtmf_text: d.into(),
            },
            at + i as u64 * 300,
        );
    }
    server(
        &mut s,
        asr(
            id,
            Flow::Out,
            9,
            2,
            136,
            "Thank you, the card ending 4417 is blocked.",
        ),
        at + 2 * SECOND,
    );
    server(
        &mut s,
        Event::Digits {
            session_id: id.into(),
            dtmf_text: "#".into(),
        },
        at + 4 * SECOND,
    );
    tick(&mut s, at + 5 * SECOND);
    s
}

/// A video call with the camera turned off.
fn video_camera_off() -> State {
    let mut s = logged_in();
    let id = "s-4001";
    let t = T0 + 30 * MINUTE;
    server(
        &mut s,
        Event::CallIn(offer(id, CallType::Video, "Dana Smith")),
        t,
    );
    let fx = chr(&mut s, 'a', t + 3 * SECOND);
    answer_ok(&mut s, request_id(&fx), None, t + 3 * SECOND);
    accessed(&mut s, id, t + 3 * SECOND);
    server(
        &mut s,
        asr(id, Flow::In, 0, 2, 2, "Can you see my screen?"),
        t + 6 * SECOND,
    );
    let fx = chr(&mut s, 'v', t + 20 * SECOND);
    answer_ok(&mut s, request_id(&fx), None, t + 20 * SECOND);
    let ev = updated(&s, id, |x| x.video_muted = true);
    server(&mut s, ev, t + 20 * SECOND);
    tick(&mut s, t + 65 * SECOND);
    s
}

/// Calling out: the number typed, the CallResponse, then `callOuted`.
fn dialing() -> State {
    let mut s = logged_in();
    let t = T0 + 40 * MINUTE;
    chr(&mut s, 'c', t);
    type_text(&mut s, "+1 555 0100", t + SECOND);
    let fx = press(&mut s, KeyCode::Enter, t + 2 * SECOND);
    answer_ok(
        &mut s,
        request_id(&fx),
        Some(json!({
            "sessionId": "s-5001",
            "calleePhoneNumber": "+1 555 0100",
            "callerPhoneNumber": "400-800-1234",
            "serverType": "staffSeat",
            "calleeLocation": "Seattle, WA",
            "remark": "callback requested"
        })),
        t + 2 * SECOND,
    );
    busy(&mut s, t + 2 * SECOND);
    server(
        &mut s,
        Event::CallOuted(CallOuted {
            session_id: "s-5001".into(),
            caller_phone_number: "400-800-1234".into(),
            callee_phone_number: "+1 555 0100".into(),
            server_type: "staffSeat".into(),
            tab_uuid: Some(TAB.into()),
        }),
        t + 2 * SECOND,
    );
    tick(&mut s, t + 6 * SECOND);
    s
}

/// Requests that failed, with an info line after them.
fn request_errors() -> State {
    let mut s = talking();
    let at = s.now + SECOND;
    // Transfer to a group with nobody free.
    chr(&mut s, 't', at);
    press(&mut s, KeyCode::Down, at);
    press(&mut s, KeyCode::Down, at);
    press(&mut s, KeyCode::Down, at);
    let transfer = request_id(&press(&mut s, KeyCode::Enter, at));
    // DTMF on a call the server thinks is gone.
    chr(&mut s, 'd', at + SECOND);
    let dtmf = request_id(&chr(&mut s, '5', at + SECOND));
    press(&mut s, KeyCode::Esc, at + SECOND);
    answer_err(
        &mut s,
        transfer,
        ErrorCode::InvalidState,
        "skill group billing has no free agent",
        at + 2 * SECOND,
    );
    answer_err(
        &mut s,
        dtmf,
        ErrorCode::InvalidState,
        "session s-1001 is not talking",
        at + 3 * SECOND,
    );
    // `a` with nothing ringing: an info line.
    chr(&mut s, 'a', at + 4 * SECOND);
    tick(&mut s, at + 5 * SECOND);
    s
}

fn lost() -> State {
    let mut s = talking();
    let at = s.now + SECOND;
    act(
        &mut s,
        Action::Lost {
            reason: "connection reset by peer".into(),
            attempt: 2,
            retry_in_ms: 4_000,
        },
        at,
    );
    tick(&mut s, at + 1_500);
    s
}

fn reconnecting() -> State {
    let mut s = lost();
    let at = s.now + 3 * SECOND;
    act(&mut s, Action::Connecting { attempt: 3 }, at);
    s
}

fn monochrome() -> State {
    let mut s = talking();
    s.caps = Caps {
        unicode: false,
        color: false,
    };
    s
}

/// Press `keys`, then type `text`; every request they make succeeds.
fn with_keys(mut s: State, keys: &[KeyCode], text: &str) -> State {
    let at = s.now;
    let mut ids = Vec::new();
    for k in keys.iter().copied().chain(text.chars().map(KeyCode::Char)) {
        for e in press(&mut s, k, at) {
            if let Effect::Request { id, .. } = e {
                ids.push(id);
            }
        }
    }
    for id in ids {
        answer_ok(&mut s, id, None, at);
    }
    s
}

fn key(c: char) -> KeyCode {
    KeyCode::Char(c)
}

/// Every screen of this file, by name (for the no-panic sweep).
fn all_screens() -> Vec<(&'static str, State)> {
    let mut v = vec![
        ("connecting", fresh()),
        ("idle", idle()),
        ("ringing", ringing()),
        ("talking", talking()),
        ("held", held()),
        ("after_call_work", after_call_work()),
        ("wrap_up_needed", with_keys(wrap_up(), &[KeyCode::Esc], "")),
        ("contact_history", contact_history()),
        ("queue", queue()),
        ("chat", chat()),
        ("chat_long_draft", chat_long_draft()),
        ("transcript_scrolled", transcript_scrolled()),
        ("caller_keys", caller_keys()),
        ("video_camera_off", video_camera_off()),
        ("dialing", dialing()),
        ("request_errors", request_errors()),
        ("lost", lost()),
        ("reconnecting", reconnecting()),
        ("monochrome", monochrome()),
        ("compact", with_keys(talking(), &[key('z')], "")),
        ("hidden", with_keys(ringing(), &[key('H')], "")),
        ("call_bar_off", with_keys(talking(), &[key('b')], "")),
        (
            "desk_phone",
            with_seat(talking(), "staffExtensionSeat", true, false),
        ),
        (
            "desk_phone_unregistered",
            with_seat(idle(), "staffExtensionSeat", false, false),
        ),
    ];
    v.extend(dialogs());
    v
}

/// The server says where the seat's call audio goes (`seatChanged`).
fn with_seat(mut s: State, server_type: &str, desk_phone: bool, mobile: bool) -> State {
    let at = s.now;
    server(
        &mut s,
        Event::SeatChanged(ccdesk::protocol::SeatDevices {
            server_type: server_type.into(),
            desk_phone,
            mobile,
        }),
        at,
    );
    s
}

/// Settings → microphone: the devices listed, the cursor on the headset.
fn device_picker() -> State {
    use ccdesk::media::device::{DeviceInfo, DeviceList};
    use KeyCode::{Down, Enter};
    let mut s = with_keys(idle(), &[key(','), Down, Down, Down, Enter], "");
    s.audio.config = Some("agent.toml".into());
    let d = |name: &str, is_default: bool| DeviceInfo {
        name: name.into(),
        is_default,
    };
    let list = DeviceList {
        microphones: vec![
            d("Built-in Audio Analog Stereo", true),
            d("Jabra Evolve2 40 Mono [hw:2,0]", false),
        ],
        speakers: vec![],
    };
    let at = s.now;
    ccdesk::app::reduce::reduce(&mut s, Action::Devices(list), at);
    with_keys(s, &[Down, Down], "")
}

/// The talking call, with the colleagues and groups the server listed.
fn with_directory(mut s: State) -> State {
    use ccdesk::protocol::{DirectoryAgent, DirectoryGroup};
    let agent = |id: &str, name: &str, status: AgentStatus, available: bool| DirectoryAgent {
        user_id: id.into(),
        name: Some(name.into()),
        status,
        rest_reason: None,
        skill_groups: vec!["support".into()],
        available,
    };
    s.directory.agents = vec![
        agent("alice", "Alice Archer", AgentStatus::Busy, false),
        agent("bianca", "Bianca Berg", AgentStatus::Busy, false),
        agent("bob", "Bob Baker", AgentStatus::Free, true),
        agent("carol", "Carol Chen", AgentStatus::Rest, false),
    ];
    s.directory.groups = vec![
        DirectoryGroup {
            skill_group_id: "support".into(),
            name: Some("Customer support".into()),
            free: 1,
            waiting: 3,
        },
        DirectoryGroup {
            skill_group_id: "billing".into(),
            name: None,
            free: 0,
            waiting: 0,
        },
    ];
    s
}

/// Every dialog, open over a realistic screen.
fn dialogs() -> Vec<(&'static str, State)> {
    use KeyCode::{Down, Enter, Tab};
    vec![
        (
            "dialog_transfer_group",
            with_keys(talking(), &[key('t'), Down, Down], ""),
        ),
        (
            "dialog_transfer_agent",
            with_keys(talking(), &[key('t'), Tab], "bob"),
        ),
        (
            "dialog_transfer_directory",
            with_keys(with_directory(talking()), &[key('t'), Tab], "b"),
        ),
        ("dialog_dtmf", with_keys(talking(), &[key('d')], "12#")),
        (
            "dialog_dial",
            with_keys(idle(), &[key('c')], "+44 20 7946 0958"),
        ),
        ("dialog_internal", with_keys(idle(), &[key('i')], "bob")),
        (
            "dialog_status",
            with_keys(idle(), &[key('s'), Down, Down], ""),
        ),
        (
            "dialog_rest_reason",
            with_keys(idle(), &[key('s'), Down, Enter, Down], ""),
        ),
        (
            "dialog_wrap_up",
            with_keys(wrap_up(), &[Down, KeyCode::Tab], "new address confirmed"),
        ),
        (
            "dialog_settings",
            with_keys(idle(), &[key(','), Enter, Down], ""),
        ),
        ("dialog_device", device_picker()),
        (
            "dialog_call_audio",
            with_keys(
                with_seat(idle(), "staffSeat", true, false),
                &[key(','), Down, Down, Down, Down, Down, Enter],
                "",
            ),
        ),
        ("dialog_quit", with_keys(talking(), &[key('q')], "")),
        ("dialog_help", with_keys(idle(), &[key('?')], "")),
    ]
}

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
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
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
fn snapshot(name: &str, what: &str, state: &State) -> [Buffer; 2] {
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
fn queue_row(buf: &Buffer, needle: &str) -> u16 {
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

fn modifier_at(buf: &Buffer, needle: &str) -> Modifier {
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
