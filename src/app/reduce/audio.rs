//! Call audio in the reducer. Which sessions have audio is worked out from
//! the state after every action ([`sync`]): a voice session in progress
//! whose audio goes to this terminal (`serverType` staffSeat, and taken in
//! this tab rather than another tab of a shared login) gets an audio
//! task; one that leaves that state loses it; mute and hold follow the
//! session as the server reports it. The task's offer goes out as
//! `Media.offer`, and the answer comes back to it.
//!
//! A consult leg's audio is carried in its customer session's bridge: the
//! consulting agent keeps the customer session's audio throughout (not
//! held while the colleague is on the line) and the leg gets none; the
//! colleague consulted has the leg's audio, and moves it to the customer's
//! session when that is handed over.

use serde_json::{json, Value};

use crate::media::call::{CallCmd, CallEvent};
use crate::protocol::{CallType, ProtoError};

use super::super::action::Effect;
use super::super::state::{
    AudioPhase, AudioSetting, CallAudio, DeviceDir, Dialog, Phase, Purpose, Session, State,
};
use super::{info, request};
use crate::media::device::DeviceList;

/// Does this session's audio belong in this terminal now?
fn wants_audio(state: &State, s: &Session) -> bool {
    // A consult leg's audio is its customer's session's, when that is ours.
    let carried_by_customer = s
        .consult_of()
        .and_then(|of| state.session(of))
        .is_some_and(|x| !x.is_ended() && !x.local_only);
    if carried_by_customer
        || state.audio.setting == AudioSetting::Off
        || s.kind == CallType::Im
        || s.local_only
        || s.audio_elsewhere
    {
        return false;
    }
    let here = s
        .call_in
        .server_type
        .as_deref()
        .is_none_or(|t| t == "staffSeat");
    here && matches!(s.phase, Phase::Dialing | Phase::Talking | Phase::Held)
}

/// The supervisor console's audio monitor: the session it listens to (at
/// most one), confirmed by the server and not ended, and whether the
/// microphone stays muted. Listening is receive-only; coaching and barging
/// in are heard (by the agent, or by everyone), so the microphone opens,
/// on the same audio.
fn listening(state: &State) -> Option<(String, bool)> {
    if state.audio.setting == AudioSetting::Off {
        return None;
    }
    let b = state.board.as_ref()?;
    b.watches
        .iter()
        .find(|w| w.audio() && w.confirmed && w.ended.is_none() && w.session.kind != CallType::Im)
        .map(|w| {
            let muted = w.mode == crate::protocol::MonitorMode::Listen;
            (w.session.id.clone(), muted)
        })
}

/// The audio is held (nothing sent) while the session is, unless it
/// carries a consult the colleague has answered.
fn held(state: &State, s: &Session) -> bool {
    let consulting = state
        .consult_for(&s.id)
        .is_some_and(|c| c.phase != crate::protocol::ConsultPhase::Ringing);
    s.phase == Phase::Held && !consulting
}

/// Start, stop and steer the audio of every session to match the state.
pub(super) fn sync(state: &mut State, fx: &mut Vec<Effect>) {
    let mut wanted: Vec<(String, bool, bool)> = state
        .sessions
        .iter()
        .filter(|s| wants_audio(state, s))
        .map(|s| (s.id.clone(), s.mic_muted, held(state, s)))
        .collect();
    if let Some((id, muted)) = listening(state) {
        if !wanted.iter().any(|(w, _, _)| *w == id) {
            wanted.push((id, muted, false));
        }
    }
    let gone: Vec<String> = state
        .audio
        .calls
        .keys()
        .filter(|id| !wanted.iter().any(|(w, _, _)| w == *id))
        .cloned()
        .collect();
    for id in gone {
        state.audio.calls.remove(&id);
        fx.push(Effect::AudioStop { session_id: id });
    }
    for (id, muted, held) in wanted {
        match state.audio.calls.get_mut(&id) {
            None => {
                state.audio.calls.insert(
                    id.clone(),
                    CallAudio {
                        phase: AudioPhase::Starting,
                        muted,
                        held,
                        stats: Default::default(),
                    },
                );
                fx.push(Effect::AudioStart {
                    session_id: id.clone(),
                });
                // The task starts unmuted and not held.
                if muted {
                    fx.push(Effect::AudioCmd {
                        session_id: id.clone(),
                        cmd: CallCmd::Mute(true),
                    });
                }
                if held {
                    fx.push(Effect::AudioCmd {
                        session_id: id,
                        cmd: CallCmd::Hold(true),
                    });
                }
            }
            Some(c) => {
                if c.muted != muted {
                    c.muted = muted;
                    fx.push(Effect::AudioCmd {
                        session_id: id.clone(),
                        cmd: CallCmd::Mute(muted),
                    });
                }
                if c.held != held {
                    c.held = held;
                    fx.push(Effect::AudioCmd {
                        session_id: id,
                        cmd: CallCmd::Hold(held),
                    });
                }
            }
        }
    }
}

/// News from an audio task.
pub(super) fn event(
    state: &mut State,
    session_id: String,
    ev: CallEvent,
    now: u64,
    fx: &mut Vec<Effect>,
) {
    match ev {
        CallEvent::Devices { kind, notice } => {
            state.audio.device = Some(kind);
            if notice.is_some() && state.audio.notice != notice {
                if let Some(n) = &notice {
                    info(state, now, n.clone());
                }
                state.audio.notice = notice;
            }
        }
        CallEvent::Offer(sdp) => {
            let Some(c) = state.audio.calls.get_mut(&session_id) else {
                // Stopped meanwhile.
                return;
            };
            c.phase = AudioPhase::Offered;
            request(
                state,
                "Media.offer",
                json!({ "sessionId": session_id, "sdp": sdp }),
                Purpose::MediaOffer { session_id },
                fx,
            );
        }
        CallEvent::Stats(st) => {
            if let Some(c) = state.audio.calls.get_mut(&session_id) {
                c.stats = st;
            }
        }
        CallEvent::Failed(why) => {
            if let Some(c) = state.audio.calls.get_mut(&session_id) {
                c.phase = AudioPhase::Failed(why.clone());
                info(
                    state,
                    now,
                    format!("audio stopped: {why}; the call goes on"),
                );
            }
        }
    }
}

/// The answer to `Media.offer`.
pub(super) fn answered(
    state: &mut State,
    session_id: String,
    result: Result<Option<Value>, ProtoError>,
    now: u64,
    fx: &mut Vec<Effect>,
) {
    let Some(c) = state.audio.calls.get_mut(&session_id) else {
        return;
    };
    let sdp = match &result {
        Ok(Some(v)) => v.get("sdp").and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    match sdp {
        Some(sdp) => {
            c.phase = AudioPhase::Running;
            fx.push(Effect::AudioCmd {
                session_id,
                cmd: CallCmd::Answer(sdp),
            });
        }
        None => {
            let why = match result {
                Err(e) => e.message,
                Ok(_) => "the server's answer has no sdp".into(),
            };
            c.phase = AudioPhase::Failed(why.clone());
            fx.push(Effect::AudioStop {
                session_id: session_id.clone(),
            });
            info(state, now, format!("no audio: {why}"));
        }
    }
}

/// Digits from the DTMF pad: in the audio when it can carry them.
pub(super) fn digits(state: &State, session_id: &str, text: &str, fx: &mut Vec<Effect>) -> bool {
    let Some(c) = state.audio.calls.get(session_id) else {
        return false;
    };
    let up = c.phase == AudioPhase::Running
        && c.stats.dtmf
        && c.stats.state == Some(crate::media::rtc::PeerState::Connected);
    if up {
        fx.push(Effect::AudioCmd {
            session_id: session_id.to_string(),
            cmd: CallCmd::Digits(text.to_string()),
        });
    }
    up
}

/// Settings → microphone or speaker: the picker opens at once and fills in
/// when the devices are listed (probing them takes a moment).
pub(super) fn open_picker(state: &mut State, dir: DeviceDir, fx: &mut Vec<Effect>) {
    state.dialog = Some(Dialog::Device {
        dir,
        cursor: 0,
        devices: None,
    });
    fx.push(Effect::ListDevices);
}

/// The devices arrived: the open picker shows them, its cursor on the
/// device in use (else on "system default").
pub(super) fn devices_listed(state: &mut State, list: DeviceList) {
    let Some(Dialog::Device {
        dir, devices: None, ..
    }) = state.dialog
    else {
        return;
    };
    let (found, current) = match dir {
        DeviceDir::Microphone => (list.microphones, &state.audio.microphone),
        DeviceDir::Speaker => (list.speakers, &state.audio.speaker),
    };
    let cursor = current
        .as_ref()
        .and_then(|c| found.iter().position(|d| d.name == *c))
        .map_or(0, |i| i + 1);
    state.dialog = Some(Dialog::Device {
        dir,
        cursor,
        devices: Some(found),
    });
}

/// A device was picked (None: the system default). It is kept in the
/// state, saved to the config, and takes over at once: the audio of calls
/// in progress restarts on it (a new `Media.offer` replaces the old path).
pub(super) fn pick_device(
    state: &mut State,
    dir: DeviceDir,
    name: Option<String>,
    now: u64,
    fx: &mut Vec<Effect>,
) {
    let slot = match dir {
        DeviceDir::Microphone => &mut state.audio.microphone,
        DeviceDir::Speaker => &mut state.audio.speaker,
    };
    let changed = *slot != name;
    *slot = name.clone();
    let shown = name.as_deref().unwrap_or("the system default");
    let text = match state.audio.setting {
        AudioSetting::System => format!("{}: {shown}", dir.as_str()),
        _ => format!(
            "{}: {shown} (used with --audio system; this terminal has it {})",
            dir.as_str(),
            if state.audio.setting == AudioSetting::Off {
                "off"
            } else {
                "on a null device"
            }
        ),
    };
    info(state, now, text);
    if !changed {
        return;
    }
    if let Some(path) = state.audio.config.clone() {
        fx.push(Effect::SaveDevices {
            path,
            microphone: state.audio.microphone.clone(),
            speaker: state.audio.speaker.clone(),
        });
    }
    if state.audio.setting == AudioSetting::System {
        // Stopped here, started again by `sync` with the new device.
        for id in std::mem::take(&mut state.audio.calls).into_keys() {
            fx.push(Effect::AudioStop { session_id: id });
        }
    }
}
