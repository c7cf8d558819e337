//! The reducer's call audio: when it starts and stops, the offer and
//! answer, mute and hold following the session, DTMF in-band or not.

use serde_json::json;

use crate::app::action::{Action, Effect};
use crate::app::keymap::Keymap;
use crate::app::reduce::reduce;
use crate::app::reduce_tests::{key, req};
use crate::app::state::{AudioPhase, AudioSetting, State};
use crate::media::call::{AudioStats, CallCmd, CallEvent};
use crate::media::rtc::PeerState;
use crate::protocol::{
    CallIn, CallType, CloseBy, Direction, Event, LoginResult, SessionEnded, SessionSnapshot,
    SessionState,
};

const T0: u64 = 1_700_000_000_000;

fn logged_in(setting: AudioSetting) -> State {
    let mut s = State::new("ws://t/ws".into(), "alice".into(), Keymap::default(), T0);
    s.audio.setting = setting;
    reduce(
        &mut s,
        Action::LoggedIn(LoginResult {
            tab_uuid: "tab-1".into(),
            user_id: "alice".into(),
            role: "agent".into(),
            status: "free".into(),
            rest_reason: None,
            skill_groups: vec!["support".into()],
            sessions: vec![],
            seat: None,
            after_call_work: None,
            token: None,
            token_expires_at: None,
        }),
        T0,
    );
    s
}

fn call_in(id: &str, kind: CallType, server_type: Option<&str>) -> Action {
    Action::Server(Event::CallIn(CallIn {
        session_id: id.into(),
        kind,
        timeout: 30,
        caller_phone_number: Some("13800000000".into()),
        server_type: server_type.map(str::to_string),
        ..CallIn::default()
    }))
}

fn accessed(id: &str) -> Action {
    Action::Server(Event::UserAccessed {
        session_id: id.into(),
        tab_uuid: Some("tab-1".into()),
    })
}

fn starts(fx: &[Effect]) -> Vec<String> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::AudioStart { session_id } => Some(session_id.clone()),
            _ => None,
        })
        .collect()
}

fn cmds(fx: &[Effect]) -> Vec<CallCmd> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::AudioCmd { cmd, .. } => Some(cmd.clone()),
            _ => None,
        })
        .collect()
}

fn stops(fx: &[Effect]) -> usize {
    fx.iter()
        .filter(|e| matches!(e, Effect::AudioStop { .. }))
        .count()
}

fn snapshot(id: &str, st: SessionState, muted: bool) -> SessionSnapshot {
    SessionSnapshot {
        audio_running: false,
        session_id: id.into(),
        kind: CallType::Phone,
        state: st,
        direction: Direction::Inbound,
        call_in: CallIn {
            session_id: id.into(),
            kind: CallType::Phone,
            server_type: Some("staffSeat".into()),
            ..CallIn::default()
        },
        started_at: T0,
        accepted_at: Some(T0 + 1000),
        ended_at: None,
        mic_muted: muted,
        video_muted: false,
        close_by: None,
        consult: None,
        messages: vec![],
        recording_paused: false,
        monitored_by: Vec::new(),
    }
}

/// alice talking on s-1 with her audio running and connected.
fn connected() -> State {
    let mut s = logged_in(AudioSetting::System);
    reduce(
        &mut s,
        call_in("s-1", CallType::Phone, Some("staffSeat")),
        T0,
    );
    reduce(&mut s, accessed("s-1"), T0 + 1);
    let fx = reduce(
        &mut s,
        Action::Audio {
            session_id: "s-1".into(),
            event: CallEvent::Offer("v=0 offer".into()),
        },
        T0 + 2,
    );
    let (id, _, _) = req(&fx);
    reduce(
        &mut s,
        Action::Response {
            id,
            result: Ok(Some(json!({"sdp": "v=0 answer"}))),
        },
        T0 + 3,
    );
    reduce(
        &mut s,
        Action::Audio {
            session_id: "s-1".into(),
            event: CallEvent::Stats(AudioStats {
                state: Some(PeerState::Connected),
                dtmf: true,
                ..AudioStats::default()
            }),
        },
        T0 + 4,
    );
    s
}

#[test]
fn audio_starts_when_the_call_is_answered_not_while_it_rings() {
    let mut s = logged_in(AudioSetting::System);
    let fx = reduce(
        &mut s,
        call_in("s-1", CallType::Phone, Some("staffSeat")),
        T0,
    );
    assert!(starts(&fx).is_empty(), "no audio while ringing");
    let fx = reduce(&mut s, accessed("s-1"), T0 + 1);
    assert_eq!(starts(&fx), vec!["s-1"]);
    assert_eq!(s.audio.calls["s-1"].phase, AudioPhase::Starting);
    // Only once.
    let fx = reduce(&mut s, Action::Tick, T0 + 2);
    assert!(starts(&fx).is_empty());
}

#[test]
fn the_offer_goes_out_and_the_answer_comes_back_to_the_audio() {
    let mut s = logged_in(AudioSetting::Null);
    reduce(&mut s, call_in("s-1", CallType::Voip, None), T0);
    reduce(&mut s, accessed("s-1"), T0 + 1);
    let fx = reduce(
        &mut s,
        Action::Audio {
            session_id: "s-1".into(),
            event: CallEvent::Offer("v=0 offer".into()),
        },
        T0 + 2,
    );
    let (id, method, params) = req(&fx);
    assert_eq!(method, "Media.offer");
    assert_eq!(params, json!({"sessionId": "s-1", "sdp": "v=0 offer"}));
    assert_eq!(s.audio.calls["s-1"].phase, AudioPhase::Offered);
    let fx = reduce(
        &mut s,
        Action::Response {
            id,
            result: Ok(Some(json!({"sdp": "v=0 answer"}))),
        },
        T0 + 3,
    );
    assert_eq!(cmds(&fx), vec![CallCmd::Answer("v=0 answer".into())]);
    assert_eq!(s.audio.calls["s-1"].phase, AudioPhase::Running);
}

#[test]
fn a_refused_offer_stops_the_audio_and_says_why() {
    let mut s = logged_in(AudioSetting::System);
    reduce(&mut s, call_in("s-1", CallType::Phone, None), T0);
    reduce(&mut s, accessed("s-1"), T0 + 1);
    let fx = reduce(
        &mut s,
        Action::Audio {
            session_id: "s-1".into(),
            event: CallEvent::Offer("v=0".into()),
        },
        T0 + 2,
    );
    let (id, _, _) = req(&fx);
    let fx = reduce(
        &mut s,
        Action::Response {
            id,
            result: Err(crate::protocol::ProtoError::invalid_state(
                "audio is off on this server",
            )),
        },
        T0 + 3,
    );
    assert_eq!(stops(&fx), 1);
    assert!(matches!(s.audio.calls["s-1"].phase, AudioPhase::Failed(_)));
    let info = s.info.as_ref().map(|i| i.text.clone()).unwrap_or_default();
    assert!(info.contains("audio is off on this server"), "{info}");
    // It is not restarted on the next action.
    let fx = reduce(&mut s, Action::Tick, T0 + 4);
    assert!(starts(&fx).is_empty());
}

#[test]
fn mute_and_hold_follow_the_session_and_the_end_stops_it() {
    let mut s = connected();
    let fx = reduce(
        &mut s,
        Action::Server(Event::SessionUpdated(snapshot(
            "s-1",
            SessionState::Talking,
            true,
        ))),
        T0 + 10,
    );
    assert_eq!(cmds(&fx), vec![CallCmd::Mute(true)]);
    let fx = reduce(
        &mut s,
        Action::Server(Event::SessionUpdated(snapshot(
            "s-1",
            SessionState::Held,
            true,
        ))),
        T0 + 11,
    );
    assert_eq!(cmds(&fx), vec![CallCmd::Hold(true)]);
    let fx = reduce(
        &mut s,
        Action::Server(Event::SessionUpdated(snapshot(
            "s-1",
            SessionState::Talking,
            false,
        ))),
        T0 + 12,
    );
    assert_eq!(cmds(&fx), vec![CallCmd::Mute(false), CallCmd::Hold(false)]);
    let fx = reduce(
        &mut s,
        Action::Server(Event::SessionEnded(SessionEnded {
            session_id: "s-1".into(),
            close_by: CloseBy::Client,
            main_reason: None,
            sub_reason: None,
        })),
        T0 + 13,
    );
    assert_eq!(stops(&fx), 1);
    assert!(s.audio.calls.is_empty());
}

#[test]
fn dtmf_goes_in_the_audio_when_it_is_up_else_by_signalling() {
    let mut s = connected();
    reduce(&mut s, key('d'), T0 + 10);
    let fx = reduce(&mut s, key('5'), T0 + 11);
    assert_eq!(cmds(&fx), vec![CallCmd::Digits("5".into())]);
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Request { .. })),
        "no Call.sendDigits as well: {fx:?}"
    );
    assert_eq!(s.session("s-1").map(|x| x.digits.as_str()), Some("5"));

    // The audio failed: digits go by signalling.
    reduce(
        &mut s,
        Action::Audio {
            session_id: "s-1".into(),
            event: CallEvent::Failed("the audio connection failed".into()),
        },
        T0 + 12,
    );
    let fx = reduce(&mut s, key('#'), T0 + 13);
    let (_, method, params) = req(&fx);
    assert_eq!(method, "Call.sendDigits");
    assert_eq!(params["dtmfText"], "#");
}

#[test]
fn no_audio_for_phone_seats_chats_or_when_off() {
    let mut s = logged_in(AudioSetting::System);
    reduce(
        &mut s,
        call_in("s-1", CallType::Phone, Some("staffPhoneSeat")),
        T0,
    );
    let fx = reduce(&mut s, accessed("s-1"), T0 + 1);
    assert!(starts(&fx).is_empty(), "the audio goes to the phone");

    let mut s = logged_in(AudioSetting::System);
    reduce(&mut s, call_in("c-1", CallType::Im, None), T0);
    let fx = reduce(&mut s, accessed("c-1"), T0 + 1);
    assert!(starts(&fx).is_empty(), "a chat has no audio");

    let mut s = logged_in(AudioSetting::Off);
    reduce(&mut s, call_in("s-1", CallType::Phone, None), T0);
    let fx = reduce(&mut s, accessed("s-1"), T0 + 1);
    assert!(starts(&fx).is_empty(), "audio is off");
}

#[test]
fn the_no_sound_card_notice_is_said_once() {
    let mut s = connected();
    let notice = "no sound card (ALSA: x): audio is off, calls still work".to_string();
    for t in 0..2 {
        reduce(
            &mut s,
            Action::Audio {
                session_id: "s-1".into(),
                event: CallEvent::Devices {
                    kind: crate::media::device::AudioKind::Null,
                    notice: Some(notice.clone()),
                },
            },
            T0 + 20 + t,
        );
    }
    assert_eq!(s.audio.notice.as_deref(), Some(notice.as_str()));
    assert_eq!(s.info.as_ref().map(|i| i.at), Some(T0 + 20), "said once");
}

#[test]
fn the_audio_stays_in_the_tab_that_took_the_call() {
    // Another tab accepted: this one shows the call but has no audio.
    let mut s = logged_in(AudioSetting::System);
    reduce(&mut s, call_in("s-1", CallType::Phone, None), T0);
    let fx = reduce(
        &mut s,
        Action::Server(Event::UserAccessed {
            session_id: "s-1".into(),
            tab_uuid: Some("tab-2".into()),
        }),
        T0 + 1,
    );
    assert!(starts(&fx).is_empty(), "{fx:?}");

    // A shared tab logging in during a call leaves the audio where it is.
    let mut s = State::new("ws://t/ws".into(), "alice".into(), Keymap::default(), T0);
    s.me.enable_shared = true;
    let fx = reduce(
        &mut s,
        Action::LoggedIn(LoginResult {
            tab_uuid: "tab-3".into(),
            user_id: "alice".into(),
            role: "agent".into(),
            status: "busy".into(),
            rest_reason: None,
            skill_groups: vec!["support".into()],
            sessions: vec![snapshot("s-1", SessionState::Talking, false)],
            seat: None,
            after_call_work: None,
            token: None,
            token_expires_at: None,
        }),
        T0,
    );
    assert!(starts(&fx).is_empty(), "{fx:?}");

    // Without a shared login, the one terminal takes its call's audio back.
    let mut s = State::new("ws://t/ws".into(), "alice".into(), Keymap::default(), T0);
    let fx = reduce(
        &mut s,
        Action::LoggedIn(LoginResult {
            tab_uuid: "tab-4".into(),
            user_id: "alice".into(),
            role: "agent".into(),
            status: "busy".into(),
            rest_reason: None,
            skill_groups: vec!["support".into()],
            sessions: vec![snapshot("s-1", SessionState::Talking, false)],
            seat: None,
            after_call_work: None,
            token: None,
            token_expires_at: None,
        }),
        T0,
    );
    assert_eq!(starts(&fx), vec!["s-1"]);
}

fn devices() -> crate::media::device::DeviceList {
    use crate::media::device::{DeviceInfo, DeviceList};
    let d = |name: &str, is_default: bool| DeviceInfo {
        name: name.into(),
        is_default,
    };
    DeviceList {
        microphones: vec![d("Built-in Mic", true), d("USB Headset", false)],
        speakers: vec![d("Built-in Speakers", true)],
    }
}

/// `,` then Down to the microphone row and Enter.
fn open_microphone_picker(s: &mut State) -> Vec<Effect> {
    use crate::app::state::{SettingChoice, SettingChoice as C};
    use crossterm::event::KeyCode;
    reduce(s, key(','), T0 + 10);
    let row = SettingChoice::ALL
        .iter()
        .position(|c| *c == C::Microphone)
        .expect("a microphone row");
    for _ in 0..row {
        reduce(s, crate::app::reduce_tests::code(KeyCode::Down), T0 + 10);
    }
    reduce(s, crate::app::reduce_tests::code(KeyCode::Enter), T0 + 10)
}

#[test]
fn a_device_picked_in_settings_is_saved_and_the_call_moves_to_it() {
    use crate::app::state::{DeviceDir, Dialog};
    use crossterm::event::KeyCode;
    let mut s = connected();
    s.audio.config = Some("/cfg/agent.toml".into());
    let fx = open_microphone_picker(&mut s);
    assert!(fx.contains(&Effect::ListDevices), "{fx:?}");
    assert!(matches!(
        s.dialog,
        Some(Dialog::Device {
            dir: DeviceDir::Microphone,
            devices: None,
            ..
        })
    ));
    // Keys wait while the devices are listed.
    reduce(
        &mut s,
        crate::app::reduce_tests::code(KeyCode::Enter),
        T0 + 11,
    );
    assert!(s.dialog.is_some());
    reduce(&mut s, Action::Devices(devices()), T0 + 12);
    let Some(Dialog::Device {
        cursor,
        devices: Some(found),
        ..
    }) = &s.dialog
    else {
        panic!("the picker shows the devices: {:?}", s.dialog);
    };
    assert_eq!((*cursor, found.len()), (0, 2), "on the system default");
    // Down twice: "USB Headset"; Enter picks it.
    reduce(
        &mut s,
        crate::app::reduce_tests::code(KeyCode::Down),
        T0 + 13,
    );
    reduce(
        &mut s,
        crate::app::reduce_tests::code(KeyCode::Down),
        T0 + 13,
    );
    let fx = reduce(
        &mut s,
        crate::app::reduce_tests::code(KeyCode::Enter),
        T0 + 14,
    );
    assert_eq!(s.dialog, None);
    assert_eq!(s.audio.microphone.as_deref(), Some("USB Headset"));
    assert!(fx.contains(&Effect::SaveDevices {
        path: "/cfg/agent.toml".into(),
        microphone: Some("USB Headset".into()),
        speaker: None,
    }));
    // The call's audio restarts on the new device, and offers again.
    assert_eq!(stops(&fx), 1);
    assert_eq!(starts(&fx), ["s-1"]);
    assert_eq!(s.audio.calls["s-1"].phase, AudioPhase::Starting);
    assert!(s
        .info
        .as_ref()
        .is_some_and(|i| i.text == "microphone: USB Headset"));

    // Opening it again puts the cursor on the device in use; picking the
    // same one changes nothing.
    open_microphone_picker(&mut s);
    reduce(&mut s, Action::Devices(devices()), T0 + 20);
    assert!(matches!(s.dialog, Some(Dialog::Device { cursor: 2, .. })));
    let fx = reduce(
        &mut s,
        crate::app::reduce_tests::code(KeyCode::Enter),
        T0 + 21,
    );
    assert!(fx.is_empty(), "{fx:?}");
}

#[test]
fn a_device_list_that_comes_late_or_empty_is_handled() {
    use crate::app::state::Dialog;
    use crossterm::event::KeyCode;
    let mut s = logged_in(AudioSetting::Null);
    // Not asked for: ignored.
    reduce(&mut s, Action::Devices(devices()), T0 + 1);
    assert_eq!(s.dialog, None);
    // No sound card: only the system default, and the pick is kept (there
    // is no config file here) but said to need --audio system.
    open_microphone_picker(&mut s);
    reduce(&mut s, Action::Devices(Default::default()), T0 + 12);
    assert!(matches!(
        &s.dialog,
        Some(Dialog::Device { devices: Some(d), .. }) if d.is_empty()
    ));
    reduce(
        &mut s,
        crate::app::reduce_tests::code(KeyCode::Down),
        T0 + 13,
    );
    let fx = reduce(
        &mut s,
        crate::app::reduce_tests::code(KeyCode::Enter),
        T0 + 14,
    );
    assert!(fx.is_empty(), "nothing to save, no call to move: {fx:?}");
    assert_eq!(s.audio.microphone, None);
    assert!(s
        .info
        .as_ref()
        .is_some_and(|i| i.text.contains("used with --audio system")));
    // Esc while listing closes the picker; a late list does not reopen it.
    open_microphone_picker(&mut s);
    reduce(
        &mut s,
        crate::app::reduce_tests::code(KeyCode::Esc),
        T0 + 15,
    );
    reduce(&mut s, Action::Devices(devices()), T0 + 16);
    assert_eq!(s.dialog, None);
}
