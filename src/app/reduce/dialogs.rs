//! Keys in the terminal's dialogs: transfer, DTMF pad, dial, internal
//! call, the status and break menus, settings and devices, wrap-up, quit.

use super::*;

pub(super) fn dialog_key(
    state: &mut State,
    d: Dialog,
    k: KeyEvent,
    now: u64,
    fx: &mut Vec<Effect>,
) {
    if k.code == KeyCode::Esc {
        return; // closed
    }
    let up = matches!(k.code, KeyCode::Up | KeyCode::BackTab);
    let down = matches!(k.code, KeyCode::Down);
    let enter = k.code == KeyCode::Enter;
    // Menus take Enter or Space.
    let pick = enter || k.code == KeyCode::Char(' ');
    match d {
        Dialog::Transfer {
            session_id,
            mut to,
            mut input,
            consult,
        } => {
            if k.code == KeyCode::Tab {
                // A consult can also call an outside number.
                to = match to {
                    TransferTo::SkillGroup => TransferTo::Agent,
                    TransferTo::Agent if consult => TransferTo::Number,
                    TransferTo::Agent | TransferTo::Number => TransferTo::SkillGroup,
                };
                if to == TransferTo::Number {
                    input.retain(dial_char);
                }
            } else if enter {
                let target = input.trim().to_string();
                if target.is_empty() {
                    let what = if consult {
                        "a skill group, an agent or a number to consult"
                    } else {
                        "a skill group or an agent to transfer to"
                    };
                    info(state, now, format!("type {what}"));
                } else if consult {
                    return super::consult::send(state, session_id, to, target, fx);
                } else {
                    let kind = state.session(&session_id).map(|s| s.kind);
                    let method = match kind {
                        Some(CallType::Im) => "Chat.transfer",
                        Some(CallType::Video) => "Video.transfer",
                        _ => "Call.transfer",
                    };
                    let params = match to {
                        TransferTo::SkillGroup => {
                            json!({ "sessionId": session_id, "skillGroupId": target })
                        }
                        TransferTo::Agent => json!({ "sessionId": session_id, "userId": target }),
                        // Not offered for a transfer (Tab skips it).
                        TransferTo::Number => {
                            json!({ "sessionId": session_id, "phoneNumber": target })
                        }
                    };
                    request(state, method, params, Purpose::Plain, fx);
                    return;
                }
            } else if let Some(next) = step_through(&transfer_targets(state, to), &input, up, down)
            {
                input = next;
            } else if to == TransferTo::Number {
                text_edit(&mut input, &k, dial_char);
            } else {
                text_edit(&mut input, &k, |c| !c.is_control());
            }
            state.dialog = Some(Dialog::Transfer {
                session_id,
                to,
                input,
                consult,
            });
        }
        Dialog::Dtmf { session_id } => {
            if enter {
                return;
            }
            if let KeyCode::Char(c) = k.code {
                if c.is_ascii_digit() || c == '*' || c == '#' {
                    if let Some(s) = state.session_mut(&session_id) {
                        s.digits.push(c);
                        if s.digits.len() > 32 {
                            s.digits.remove(0);
                        }
                    }
                    // In the call's audio (RFC 4733) when it is up, else by signalling.
                    if !audio::digits(state, &session_id, &c.to_string(), fx) {
                        request(
                            state,
                            "Call.sendDigits",
                            json!({ "sessionId": session_id, "dtmfText": c.to_string() }),
                            Purpose::Plain,
                            fx,
                        );
                    }
                }
            }
            state.dialog = Some(Dialog::Dtmf { session_id });
        }
        Dialog::Dial { mut number } => {
            if enter {
                let n = number.trim().to_string();
                if n.is_empty() {
                    info(state, now, "type the number to call");
                } else {
                    request(
                        state,
                        "Call.startOutboundCall",
                        json!({ "phoneNumber": n }),
                        Purpose::Outbound,
                        fx,
                    );
                    return;
                }
            } else {
                text_edit(&mut number, &k, dial_char);
            }
            state.dialog = Some(Dialog::Dial { number });
        }
        Dialog::Internal { mut user } => {
            if enter {
                let u = user.trim().to_string();
                if u.is_empty() {
                    info(state, now, "type the agent's user id");
                } else {
                    request(
                        state,
                        "Call.startInternalCall",
                        json!({ "calleeUserId": u }),
                        Purpose::InternalCall { callee: u.clone() },
                        fx,
                    );
                    return;
                }
            } else if let Some(next) =
                step_through(&transfer_targets(state, TransferTo::Agent), &user, up, down)
            {
                user = next;
            } else {
                text_edit(&mut user, &k, |c| !c.is_control() && !c.is_whitespace());
            }
            state.dialog = Some(Dialog::Internal { user });
        }
        Dialog::Status { cursor } => {
            let n = StatusChoice::ALL.len();
            if !pick {
                let cursor = menu_step(cursor, n, up, down);
                state.dialog = Some(Dialog::Status { cursor });
                return;
            }
            let set = |status: &str| json!({ "status": status });
            match StatusChoice::ALL[cursor.min(n - 1)] {
                StatusChoice::Free => plain(state, "Agent.setStatus", set("free"), fx),
                StatusChoice::Rest => {
                    let cursor = state
                        .rest_reason
                        .as_ref()
                        .and_then(|r| state.rest_reasons.iter().position(|x| x == r))
                        .unwrap_or(0);
                    state.dialog = Some(Dialog::RestReason { cursor });
                }
                StatusChoice::Arrange => plain(state, "Agent.setStatus", set("arrange"), fx),
                StatusChoice::NotReady => plain(state, "Agent.setStatus", set("notReady"), fx),
                StatusChoice::StopNotReady => {
                    plain(state, "Agent.setStatus", set("stopNotReady"), fx)
                }
                StatusChoice::Online => plain(state, "Agent.online", json!({}), fx),
                StatusChoice::Offline => plain(state, "Agent.offline", json!({}), fx),
            }
        }
        Dialog::WrapUp {
            session_id,
            codes,
            cursor,
            code,
            notes,
            on_notes,
        } => wrapup::key(
            state, session_id, codes, cursor, code, notes, on_notes, k, now, fx,
        ),
        Dialog::RestReason { cursor } => {
            if !pick {
                let cursor = menu_step(cursor, state.rest_reasons.len(), up, down);
                state.dialog = Some(Dialog::RestReason { cursor });
                return;
            }
            let params = match state.rest_reasons.get(cursor) {
                Some(r) => json!({ "status": "rest", "restReason": r }),
                None => json!({ "status": "rest" }),
            };
            plain(state, "Agent.setStatus", params, fx);
        }
        Dialog::Settings { cursor } => {
            let n = SettingChoice::ALL.len();
            if pick {
                let s = &mut state.settings;
                match SettingChoice::ALL[cursor.min(n - 1)] {
                    SettingChoice::CallAudio => {
                        let now_type = state
                            .me
                            .seat
                            .as_ref()
                            .map_or("staffSeat", |d| d.server_type.as_str());
                        let cursor = SEAT_TYPES.iter().position(|t| *t == now_type).unwrap_or(0);
                        state.dialog = Some(Dialog::SeatType { cursor });
                        return;
                    }
                    SettingChoice::Ringtone => s.disable_ringtone = !s.disable_ringtone,
                    SettingChoice::Notification => s.disable_notification = !s.disable_notification,
                    SettingChoice::Toolbar => s.toolbar = !s.toolbar,
                    SettingChoice::Microphone => {
                        return audio::open_picker(state, DeviceDir::Microphone, fx)
                    }
                    SettingChoice::Speaker => {
                        return audio::open_picker(state, DeviceDir::Speaker, fx)
                    }
                }
            }
            let cursor = menu_step(cursor, n, up, down);
            state.dialog = Some(Dialog::Settings { cursor });
        }
        Dialog::SeatType { cursor } => {
            if !pick {
                let cursor = menu_step(cursor, SEAT_TYPES.len(), up, down);
                state.dialog = Some(Dialog::SeatType { cursor });
                return;
            }
            let t = SEAT_TYPES[cursor.min(SEAT_TYPES.len() - 1)];
            plain(state, "Agent.setServerType", json!({ "serverType": t }), fx);
        }
        Dialog::Device {
            dir,
            cursor,
            devices,
        } => {
            let Some(devices) = devices else {
                // Still listing: only Esc (above) does anything.
                state.dialog = Some(Dialog::Device {
                    dir,
                    cursor,
                    devices: None,
                });
                return;
            };
            if pick {
                let name = cursor
                    .checked_sub(1)
                    .and_then(|i| devices.get(i))
                    .map(|d| d.name.clone());
                return audio::pick_device(state, dir, name, now, fx);
            }
            let cursor = menu_step(cursor, devices.len() + 1, up, down);
            state.dialog = Some(Dialog::Device {
                dir,
                cursor,
                devices: Some(devices),
            });
        }
        Dialog::AskHelp { session_id, text } => {
            super::help::key(state, session_id, text, k, now, fx)
        }
        Dialog::SkillGroups {
            user_id,
            groups,
            checked,
            cursor,
        } => super::staffing::key(state, user_id, groups, checked, cursor, k, fx),
        Dialog::Users(d) => super::users::key(state, d, k, now, fx),
        Dialog::ConfirmIntercept { session_id } => {
            board::confirm_intercept(state, &k, session_id, fx)
        }
        Dialog::ConfirmQuit => match k.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => quit(state, 0, None, fx),
            _ => {} // anything else keeps working
        },
        Dialog::Help { scroll } => {
            let close = matches!(k.code, KeyCode::Char('?') | KeyCode::Char('q'))
                || state.keymap.lookup(&k) == Some(Command::Help);
            if close {
                return;
            }
            let scroll = if up {
                scroll.saturating_sub(1)
            } else if down {
                (scroll + 1).min(state.keymap.help_rows(state.board.is_some()).len())
            } else {
                scroll
            };
            state.dialog = Some(Dialog::Help { scroll });
        }
    }
}

/// A menu's cursor after Up/Down (wrapping); unchanged for other keys.
pub(super) fn menu_step(cursor: usize, n: usize, up: bool, down: bool) -> usize {
    let n = n.max(1);
    match (up, down) {
        (true, _) => (cursor + n - 1) % n,
        (_, true) => (cursor + 1) % n,
        _ => cursor,
    }
}

/// Up/Down through `targets` from `current`: the next (or previous) one,
/// wrapping, the first when `current` is none of them; None for other
/// keys or an empty list.
fn step_through(targets: &[String], current: &str, up: bool, down: bool) -> Option<String> {
    if !(up || down) || targets.is_empty() {
        return None;
    }
    let i = match targets.iter().position(|t| t == current) {
        None => 0,
        Some(i) => menu_step(i, targets.len(), up, down),
    };
    targets.get(i).cloned()
}

/// What Up/Down cycles through in the transfer dialog: the skill groups
/// (the server's list, else our own groups), or the colleagues (not us).
pub(crate) fn transfer_targets(state: &State, to: TransferTo) -> Vec<String> {
    match to {
        TransferTo::SkillGroup if !state.directory.groups.is_empty() => state
            .directory
            .groups
            .iter()
            .map(|g| g.skill_group_id.clone())
            .collect(),
        TransferTo::SkillGroup => state.me.skill_groups.clone(),
        TransferTo::Number => Vec::new(),
        TransferTo::Agent => state
            .directory
            .agents
            .iter()
            .filter(|a| a.user_id != state.me.user_id)
            .map(|a| a.user_id.clone())
            .collect(),
    }
}
