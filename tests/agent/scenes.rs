//! The agent's screens as states: each one built the way the program
//! builds it, a `State` fed through the pure reducer (login results, server
//! events, key presses, answers) with explicit times. screens.rs draws and
//! snapshots them.

use ccdesk::app::keymap::Keymap;
use ccdesk::app::state::{Caps, Phase, State};
use ccdesk::app::{reduce, Action, Effect};
use ccdesk::protocol::{
    AgentStatus, AsrResult, CallIn, CallOuted, CallType, ChatFrom, ChatMessage, CloseBy, ErrorCode,
    Event, Flow, IvrNode, LoginResult, ProtoError, SessionEnded, SessionSnapshot, SessionState,
};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;

// ---------------------------------------------------------------- building states

/// A fixed start: every time on screen is measured from here.
pub(crate) const T0: u64 = 1_700_000_000_000;
pub(crate) const SECOND: u64 = 1_000;
pub(crate) const MINUTE: u64 = 60 * SECOND;
pub(crate) const HOUR: u64 = 60 * MINUTE;
pub(crate) const DAY: u64 = 24 * HOUR;
pub(crate) const TAB: &str = "7f3c9a2e-5b1d-4e8a-9c6f-0123456789ab";

/// The two sizes every screen is snapshotted at.
pub(crate) const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

pub(crate) fn login_result(sessions: Vec<SessionSnapshot>) -> LoginResult {
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
        token: None,
        token_expires_at: None,
    }
}

/// Before the login answer: connecting for the first time.
pub(crate) fn fresh() -> State {
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
pub(crate) fn logged_in() -> State {
    let mut s = fresh();
    act(&mut s, Action::LoggedIn(login_result(vec![])), T0);
    s
}

/// Feed one action; returns the effects.
pub(crate) fn act(s: &mut State, a: Action, at: u64) -> Vec<Effect> {
    reduce(s, a, at)
}

/// Move the clock (what timers are drawn against).
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

pub(crate) fn type_text(s: &mut State, text: &str, at: u64) {
    for c in text.chars() {
        chr(s, c, at);
    }
}

/// The id of the one request among the effects (the directory's
/// subscription, which follows the dialogs by itself, aside).
pub(crate) fn request_id(fx: &[Effect]) -> u64 {
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

pub(crate) fn answer_ok(s: &mut State, id: u64, data: Option<serde_json::Value>, at: u64) {
    act(
        s,
        Action::Response {
            id,
            result: Ok(data),
        },
        at,
    );
}

pub(crate) fn answer_err(s: &mut State, id: u64, code: ErrorCode, message: &str, at: u64) {
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
pub(crate) fn phone_offer(id: &str) -> CallIn {
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

pub(crate) fn offer(id: &str, kind: CallType, nickname: &str) -> CallIn {
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
pub(crate) fn accessed(s: &mut State, id: &str, at: u64) {
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

pub(crate) fn busy(s: &mut State, at: u64) {
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
pub(crate) fn updated(s: &State, id: &str, f: impl FnOnce(&mut SessionSnapshot)) -> Event {
    let x = s.session(id).expect("session");
    let mut snap = SessionSnapshot {
        audio_running: false,
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
        recording_paused: false,
        monitored_by: Vec::new(),
    };
    f(&mut snap);
    Event::SessionUpdated(snap)
}

pub(crate) fn asr(
    id: &str,
    flow: Flow,
    index: u32,
    slice_type: u8,
    start_s: u64,
    text: &str,
) -> Event {
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

pub(crate) fn chat_message(id: &str, from: ChatFrom, text: &str, at: u64) -> Event {
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
pub(crate) const RING_AT: u64 = T0 + 3 * MINUTE;
/// When the agent accepts it.
pub(crate) const ACCEPT_AT: u64 = RING_AT + 6 * SECOND;

pub(crate) fn idle() -> State {
    let mut s = logged_in();
    tick(&mut s, T0 + 5 * MINUTE + 12 * SECOND);
    s
}

/// A phone offer, 7 seconds in: 23 s left of 30.
pub(crate) fn ringing() -> State {
    let mut s = logged_in();
    server(&mut s, Event::CallIn(phone_offer("s-1001")), RING_AT);
    tick(&mut s, RING_AT + 7 * SECOND);
    s
}

/// Accepted, a transcript with IN/OUT finals and an IN partial, muted;
/// 2:14 into the call.
pub(crate) fn talking() -> State {
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
pub(crate) fn held() -> State {
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
pub(crate) fn after_call_work() -> State {
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
pub(crate) fn wrap_up() -> State {
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
pub(crate) fn contact_history() -> State {
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
pub(crate) fn queue() -> State {
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
pub(crate) fn chat() -> State {
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
pub(crate) fn chat_long_draft() -> State {
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
pub(crate) fn transcript_scrolled() -> State {
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
pub(crate) fn caller_keys() -> State {
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
pub(crate) fn video_camera_off() -> State {
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
pub(crate) fn dialing() -> State {
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
pub(crate) fn request_errors() -> State {
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

pub(crate) fn lost() -> State {
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

pub(crate) fn reconnecting() -> State {
    let mut s = lost();
    let at = s.now + 3 * SECOND;
    act(&mut s, Action::Connecting { attempt: 3 }, at);
    s
}

pub(crate) fn monochrome() -> State {
    let mut s = talking();
    s.caps = Caps {
        unicode: false,
        color: false,
    };
    s
}

/// Press `keys`, then type `text`; every request they make succeeds.
pub(crate) fn with_keys(mut s: State, keys: &[KeyCode], text: &str) -> State {
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

pub(crate) fn key(c: char) -> KeyCode {
    KeyCode::Char(c)
}

/// Every screen of this file, by name (for the no-panic sweep).
pub(crate) fn all_screens() -> Vec<(&'static str, State)> {
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
    v.extend(crate::consult_screens::screens());
    v.extend(crate::chats_screens::screens());
    v.extend(crate::callback_screens::screens());
    v.extend(crate::help_screens::screens());
    v
}

/// The server says where the seat's call audio goes (`seatChanged`).
pub(crate) fn with_seat(mut s: State, server_type: &str, desk_phone: bool, mobile: bool) -> State {
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
pub(crate) fn device_picker() -> State {
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
pub(crate) fn with_directory(mut s: State) -> State {
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
pub(crate) fn dialogs() -> Vec<(&'static str, State)> {
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
