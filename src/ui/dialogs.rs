//! Dialogs drawn over the panes: transfer, DTMF pad, dial, internal call,
//! status and break reason menus, settings, asking for help, an agent's
//! skill groups (console), quit confirmation, the key list.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::theme::Theme;
use crate::app::state::{
    seat_type_words, DeviceDir, Dialog, NewUser, SettingChoice, State, StatusChoice, TransferTo,
    UsersDialog, SEAT_TYPES,
};

fn popup(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    let [r] = Layout::horizontal([Constraint::Length(w)])
        .flex(Flex::Center)
        .areas(area);
    let [r] = Layout::vertical([Constraint::Length(h)])
        .flex(Flex::Center)
        .areas(r);
    r
}

fn frame(f: &mut Frame, area: Rect, title: &str, lines: Vec<Line<'static>>, theme: &Theme) {
    let w = lines
        .iter()
        .map(|l| l.width() as u16)
        .max()
        .unwrap_or(20)
        .max(title.len() as u16 + 4)
        + 4;
    let r = popup(area, w, lines.len() as u16 + 2);
    f.render_widget(Clear, r);
    let block = theme
        .block()
        .border_style(theme.focused_border())
        .title(Span::styled(format!(" {title} "), theme.title()));
    f.render_widget(
        Paragraph::new(lines).block(block.padding(ratatui::widgets::Padding::horizontal(1))),
        r,
    );
}

fn field(label: &str, value: &str, theme: &Theme) -> Line<'static> {
    let cursor = if theme.unicode { "▏" } else { "_" };
    Line::from(vec![
        Span::raw(format!("{label} ")),
        Span::styled(format!("{value}{cursor}"), theme.bold()),
    ])
}

/// The groups or colleagues matching what is typed (all of them when
/// nothing is), with who can take a call now; the one picked marked.
fn directory_lines(
    state: &State,
    to: TransferTo,
    typed: &str,
    theme: &Theme,
) -> Vec<Line<'static>> {
    const SHOWN: usize = 6;
    let typed = typed.trim().to_lowercase();
    let matches = |id: &str, name: Option<&String>| {
        typed.is_empty()
            || id.to_lowercase().contains(&typed)
            || name.is_some_and(|n| n.to_lowercase().contains(&typed))
    };
    let exact = |id: &str| id.eq_ignore_ascii_case(typed.as_str());
    let mut rows: Vec<(bool, String, bool)> = Vec::new();
    match to {
        TransferTo::SkillGroup => {
            for g in &state.directory.groups {
                if matches(&g.skill_group_id, g.name.as_ref()) {
                    rows.push((
                        exact(&g.skill_group_id),
                        format!(
                            "{}  {} free · {} waiting",
                            g.skill_group_id, g.free, g.waiting
                        ),
                        g.free > 0,
                    ));
                }
            }
        }
        TransferTo::Number => {}
        TransferTo::Agent => {
            for a in &state.directory.agents {
                if a.user_id == state.me.user_id || !matches(&a.user_id, a.name.as_ref()) {
                    continue;
                }
                let name = a
                    .name
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default();
                let how = if a.available {
                    "free now".to_string()
                } else {
                    a.status.as_str().to_string()
                };
                rows.push((
                    exact(&a.user_id),
                    format!("{}{name}  {how}", a.user_id),
                    a.available,
                ));
            }
        }
    }
    let more = rows.len().saturating_sub(SHOWN);
    let mut out: Vec<Line<'static>> = rows
        .into_iter()
        .take(SHOWN)
        .map(|(picked, text, ready)| {
            let style = if picked {
                theme.selected()
            } else if ready {
                theme.info()
            } else {
                theme.dim()
            };
            let mark = if picked {
                theme.marker().to_string()
            } else {
                "  ".to_string()
            };
            Line::from(Span::styled(format!("{mark}{text}"), style))
        })
        .collect();
    if more > 0 {
        out.push(hint(&format!("  {more} more: type to narrow"), theme));
    }
    out
}

fn hint(text: &str, theme: &Theme) -> Line<'static> {
    Line::from(Span::styled(text.to_string(), theme.dim()))
}

fn menu(items: &[String], cursor: usize, theme: &Theme) -> Vec<Line<'static>> {
    items
        .iter()
        .enumerate()
        .map(|(i, t)| {
            if i == cursor {
                Line::from(Span::styled(
                    format!("{}{t}", theme.marker()),
                    theme.selected(),
                ))
            } else {
                Line::from(Span::raw(format!("  {t}")))
            }
        })
        .collect()
}

pub fn draw(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(d) = &state.dialog else {
        return;
    };
    match d {
        Dialog::Transfer {
            session_id,
            to,
            input,
            consult,
        } => {
            let mut choices = vec![
                (TransferTo::SkillGroup, "skill group"),
                (TransferTo::Agent, "agent"),
            ];
            if *consult {
                choices.push((TransferTo::Number, "number"));
            }
            let picked = if theme.unicode { "(•)" } else { "(x)" };
            let radios: Vec<String> = choices
                .iter()
                .map(|(c, name)| {
                    let mark = if c == to { picked } else { "( )" };
                    format!("{mark} {name}")
                })
                .collect();
            let label = match to {
                TransferTo::SkillGroup => "Skill group:",
                TransferTo::Agent => "Agent:",
                TransferTo::Number => "Number:",
            };
            let with = if *consult { "With" } else { "To" };
            let mut lines = vec![
                Line::from(format!("{with}: {}   (tab switches)", radios.join("  "))),
                field(label, input, theme),
            ];
            let listed = directory_lines(state, *to, input, theme);
            if listed.is_empty()
                && *to == TransferTo::SkillGroup
                && !state.me.skill_groups.is_empty()
            {
                lines.push(hint(
                    &format!(
                        "groups: {} (up/down picks)",
                        state.me.skill_groups.join(", ")
                    ),
                    theme,
                ));
            }
            lines.extend(listed);
            if *consult {
                lines.push(hint(
                    if *to == TransferTo::Number {
                        "enter calls the number (the customer holds), esc cancels"
                    } else {
                        "up/down picks, enter consults (the customer holds), esc cancels"
                    },
                    theme,
                ));
                frame(f, area, &format!("Consult on {session_id}"), lines, theme);
            } else {
                lines.push(hint("up/down picks, enter transfers, esc cancels", theme));
                frame(f, area, &format!("Transfer {session_id}"), lines, theme);
            }
        }
        Dialog::Dtmf { session_id } => {
            let sent = state
                .session(session_id)
                .map(|s| s.digits.clone())
                .unwrap_or_default();
            let lines = vec![
                Line::from(Span::styled("  1   2   3", theme.bold())),
                Line::from(Span::styled("  4   5   6", theme.bold())),
                Line::from(Span::styled("  7   8   9", theme.bold())),
                Line::from(Span::styled("  *   0   #", theme.bold())),
                Line::from(format!("sent: {sent}")),
                hint("digits are sent as typed; enter/esc closes", theme),
            ];
            frame(f, area, &format!("DTMF {session_id}"), lines, theme);
        }
        Dialog::Dial { number } => {
            let lines = vec![
                field("Number:", number, theme),
                hint("enter calls, esc cancels", theme),
            ];
            frame(f, area, "Call out", lines, theme);
        }
        Dialog::Internal { user } => {
            let mut lines = vec![field("Agent:", user, theme)];
            lines.extend(directory_lines(state, TransferTo::Agent, user, theme));
            lines.push(hint(
                "up/down picks, enter calls the agent, esc cancels",
                theme,
            ));
            frame(f, area, "Internal call", lines, theme);
        }
        Dialog::Status { cursor } => {
            let current = match state.status {
                Some(crate::protocol::AgentStatus::Free) => Some(StatusChoice::Free),
                Some(crate::protocol::AgentStatus::Rest) => Some(StatusChoice::Rest),
                Some(crate::protocol::AgentStatus::Arrange) => Some(StatusChoice::Arrange),
                Some(crate::protocol::AgentStatus::NotReady) => Some(StatusChoice::NotReady),
                Some(crate::protocol::AgentStatus::Offline) => Some(StatusChoice::Offline),
                _ => None,
            };
            let items: Vec<String> = StatusChoice::ALL
                .iter()
                .map(|c| {
                    if Some(*c) == current {
                        format!("{} (now)", c.label())
                    } else {
                        c.label().to_string()
                    }
                })
                .collect();
            let mut lines = menu(&items, *cursor, theme);
            lines.push(hint("up/down, enter sets, esc cancels", theme));
            frame(f, area, "Status", lines, theme);
        }
        Dialog::WrapUp {
            codes,
            cursor,
            code,
            notes,
            on_notes,
            ..
        } => {
            let mut lines = if codes.is_empty() {
                vec![if *on_notes {
                    Line::from(format!("Code: {code}"))
                } else {
                    field("Code:", code, theme)
                }]
            } else {
                menu(codes, *cursor, theme)
            };
            // The notes line shows its cursor when it has the keyboard.
            let shown: String = {
                let n = notes.chars().count();
                notes.chars().skip(n.saturating_sub(40)).collect()
            };
            lines.push(if *on_notes {
                field("Notes:", &shown, theme)
            } else {
                Line::from(format!("Notes: {shown}"))
            });
            let keys = if codes.is_empty() {
                "tab: notes, enter saves, esc later"
            } else {
                "up/down picks, tab: notes, enter saves, esc later"
            };
            lines.push(hint(keys, theme));
            frame(f, area, "Wrap-up", lines, theme);
        }
        Dialog::RestReason { cursor } => {
            let mut lines = menu(&state.rest_reasons, *cursor, theme);
            lines.push(hint("enter takes the break, esc cancels", theme));
            frame(f, area, "Break reason", lines, theme);
        }
        Dialog::Settings { cursor } => {
            let s = &state.settings;
            let check = |on: bool| if on { "[x]" } else { "[ ]" };
            let items: Vec<String> = SettingChoice::ALL
                .iter()
                .map(|c| match c {
                    SettingChoice::CallAudio => format!(
                        "    call audio goes to: {}",
                        state
                            .me
                            .seat
                            .as_ref()
                            .map_or("terminal", |d| seat_type_words(&d.server_type))
                    ),
                    SettingChoice::Ringtone => {
                        format!(
                            "{} ringtone: terminal bell on a new session",
                            check(!s.disable_ringtone)
                        )
                    }
                    SettingChoice::Notification => format!(
                        "{} desktop notification on a new session",
                        check(!s.disable_notification)
                    ),
                    SettingChoice::Toolbar => format!("{} call bar", check(s.toolbar)),
                    SettingChoice::Microphone => format!(
                        "    microphone: {}",
                        state
                            .audio
                            .microphone
                            .as_deref()
                            .unwrap_or("system default")
                    ),
                    SettingChoice::Speaker => format!(
                        "    speaker: {}",
                        state.audio.speaker.as_deref().unwrap_or("system default")
                    ),
                })
                .collect();
            let mut lines = menu(&items, *cursor, theme);
            lines.push(hint("enter/space toggles or picks, esc closes", theme));
            frame(f, area, "Settings", lines, theme);
        }
        Dialog::SeatType { cursor } => {
            let seat = state.me.seat.as_ref();
            let items: Vec<String> = SEAT_TYPES
                .iter()
                .map(|t| {
                    let mut item = match *t {
                        "staffExtensionSeat" => {
                            let reg = if seat.is_some_and(|d| d.desk_phone) {
                                "registered"
                            } else {
                                "none registered"
                            };
                            format!("desk phone ({reg})")
                        }
                        "staffPhoneSeat" => {
                            if seat.is_some_and(|d| d.mobile) {
                                "mobile, dialled when you take a call".to_string()
                            } else {
                                "mobile (none configured)".to_string()
                            }
                        }
                        _ => "this terminal (headset)".to_string(),
                    };
                    if seat.is_some_and(|d| d.server_type == *t) {
                        item.push_str(" (now)");
                    }
                    item
                })
                .collect();
            let mut lines = menu(&items, *cursor, theme);
            lines.push(hint("enter chooses, esc cancels", theme));
            frame(f, area, "Call audio goes to", lines, theme);
        }
        Dialog::Device {
            dir,
            cursor,
            devices,
        } => {
            let title = match dir {
                DeviceDir::Microphone => "Microphone",
                DeviceDir::Speaker => "Speaker",
            };
            let Some(devices) = devices else {
                let lines = vec![
                    Line::from(Span::styled(
                        format!("looking for devices{}", theme.ellipsis()),
                        theme.info(),
                    )),
                    hint("esc closes", theme),
                ];
                return frame(f, area, title, lines, theme);
            };
            let mut items = vec!["system default".to_string()];
            items.extend(devices.iter().map(|d| {
                if d.is_default {
                    format!("{} (default)", d.name)
                } else {
                    d.name.clone()
                }
            }));
            let mut lines = menu(&items, *cursor, theme);
            if devices.is_empty() {
                lines.push(Line::from(Span::styled(
                    "no sound card found: calls use a silent device",
                    theme.dim(),
                )));
            }
            let saved = if state.audio.config.is_some() {
                "enter picks (saved to the config)"
            } else {
                "enter picks (until you quit)"
            };
            lines.push(hint(&format!("{saved}, esc cancels"), theme));
            frame(f, area, title, lines, theme);
        }
        Dialog::ConfirmQuit => {
            let lines = vec![
                Line::from("A session is in progress."),
                Line::from(vec![
                    Span::raw("Quit anyway? "),
                    Span::styled("y", theme.key()),
                    Span::raw(" quits, any other key stays"),
                ]),
            ];
            frame(f, area, "Quit", lines, theme);
        }
        Dialog::AskHelp { session_id, text } => {
            let about = match session_id.as_deref().and_then(|id| state.session(id)) {
                Some(s) => format!("About: {} ({})", s.peer(), s.id),
                None => "About: no session in particular".to_string(),
            };
            let lines = vec![
                Line::from(about),
                field("Note (optional):", text, theme),
                hint("enter asks a supervisor, esc cancels", theme),
            ];
            frame(f, area, "Ask for help", lines, theme);
        }
        Dialog::SkillGroups {
            user_id,
            groups,
            checked,
            cursor,
        } => skill_groups(f, area, state, (user_id, groups, checked, *cursor), theme),
        Dialog::Users(d) => users(f, area, d, theme),
        Dialog::ConfirmIntercept { session_id } => {
            let who = state
                .board
                .as_ref()
                .and_then(|b| b.live_session(session_id))
                .and_then(|s| s.user_id.clone())
                .unwrap_or_else(|| "its agent".into());
            let lines = vec![
                Line::from(format!("Take session {session_id} over from {who}?")),
                Line::from(Span::styled(
                    format!("{who} is told and goes to after-call work."),
                    theme.dim(),
                )),
                Line::from(vec![
                    Span::styled("y", theme.key()),
                    Span::raw(" takes it over, any other key cancels"),
                ]),
            ];
            frame(f, area, "Intercept", lines, theme);
        }
        Dialog::Help { scroll } => help(f, area, state, *scroll, theme),
    }
}

/// The console's user management: the menu, the password (as dots, typed
/// twice), the removal's question, the new user's fields.
fn users(f: &mut Frame, area: Rect, d: &UsersDialog, theme: &Theme) {
    let dots = |p: &str| if theme.unicode { "•" } else { "*" }.repeat(p.chars().count());
    match d {
        UsersDialog::Menu { user_id, cursor } => {
            let mut lines = menu(&UsersDialog::menu(user_id.as_deref()), *cursor, theme);
            lines.push(hint("enter opens, esc closes (admins only)", theme));
            frame(f, area, "Users", lines, theme);
        }
        UsersDialog::Password {
            user_id,
            first,
            again,
            on_again,
        } => {
            let line = |label: &str, value: &str, on: bool| {
                if on {
                    field(label, &dots(value), theme)
                } else {
                    Line::from(format!("{label} {}", dots(value)))
                }
            };
            let lines = vec![
                line("Password:", first, !on_again),
                line("Again:   ", again, *on_again),
                hint("enter: next / set it; tab switches; esc cancels", theme),
            ];
            frame(f, area, &format!("{user_id}'s password"), lines, theme);
        }
        UsersDialog::Remove { user_id } => {
            let lines = vec![
                Line::from(format!("Remove {user_id} from the center?")),
                Line::from(Span::styled(
                    "They can no longer log in; their records stay.",
                    theme.dim(),
                )),
                Line::from(vec![
                    Span::styled("y", theme.key()),
                    Span::raw(" removes, any other key cancels"),
                ]),
            ];
            frame(f, area, "Remove a user", lines, theme);
        }
        UsersDialog::Add(u) => {
            let role = NewUser::ROLES.get(u.role).copied().unwrap_or("agent");
            let values = [
                u.id.clone(),
                u.name.clone(),
                format!("< {role} >"),
                u.groups.clone(),
                dots(&u.password),
            ];
            let mut lines: Vec<Line<'static>> = NewUser::FIELDS
                .iter()
                .zip(values)
                .enumerate()
                .map(|(i, (label, value))| {
                    let label = format!("{label:<13}");
                    if i == u.field {
                        field(&label, &value, theme)
                    } else {
                        Line::from(format!("{label} {value}"))
                    }
                })
                .collect();
            lines.push(hint(
                "tab: next field; ←/→ the role; groups: ids, commas between; enter adds",
                theme,
            ));
            frame(f, area, "Add a user", lines, theme);
        }
    }
}

/// The console's skill groups dialog: a check box a group, with the
/// group's name from the wallboard where it has one.
fn skill_groups(
    f: &mut Frame,
    area: Rect,
    state: &State,
    (user_id, groups, checked, cursor): (&str, &[String], &[bool], usize),
    theme: &Theme,
) {
    let wall = state.board.as_ref().map(|b| &b.wall);
    let name_of = |id: &str| {
        wall.and_then(|w| w.groups.iter().find(|g| g.skill_group_id == id))
            .and_then(|g| g.name.clone())
    };
    let idw = groups.iter().map(|g| g.chars().count()).max().unwrap_or(0);
    let on = if theme.unicode { "[✓]" } else { "[x]" };
    let items: Vec<String> = groups
        .iter()
        .zip(checked)
        .map(|(g, c)| {
            let mark = if *c { on } else { "[ ]" };
            match name_of(g) {
                Some(n) if n != *g => format!("{mark} {g:<idw$}  {n}"),
                _ => format!("{mark} {g}"),
            }
        })
        .collect();
    let mut lines = menu(&items, cursor, theme);
    if !checked.iter().any(|c| *c) {
        lines.push(Line::from(Span::styled(
            "none checked: no offers from any group",
            theme.info(),
        )));
    }
    lines.push(hint(
        "up/down, space checks, enter saves, esc cancels",
        theme,
    ));
    let who = wall
        .and_then(|w| w.agents.iter().find(|a| a.user_id == user_id))
        .and_then(|a| a.name.clone())
        .map_or_else(|| user_id.to_string(), |n| format!("{user_id} ({n})"));
    frame(f, area, &format!("Skill groups of {who}"), lines, theme);
}

fn help(f: &mut Frame, area: Rect, state: &State, scroll: usize, theme: &Theme) {
    let rows = state.keymap.help_rows(state.board.is_some());
    let kw = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(4).min(16);
    let mut lines: Vec<Line> = rows
        .into_iter()
        .map(|(k, h)| {
            Line::from(vec![
                Span::styled(format!("{k:>kw$}  "), theme.key()),
                Span::raw(h),
            ])
        })
        .collect();
    lines.push(hint("in dialogs: esc cancels, enter confirms", theme));
    lines.push(hint(
        "keys are set in the [keys] table of the config file",
        theme,
    ));
    let room = area.height.saturating_sub(4) as usize;
    let total = lines.len();
    let start = scroll.min(total.saturating_sub(room));
    let mut shown: Vec<Line> = lines.into_iter().skip(start).take(room).collect();
    if total > room && room > 1 {
        shown.pop();
        let more = total - start - shown.len();
        shown.push(hint(
            &if more > 0 {
                format!("{more} more: down scrolls")
            } else {
                "up scrolls back".to_string()
            },
            theme,
        ));
    }
    frame(f, area, "Keys (? or esc closes)", shown, theme);
}
