//! User management in the console (admins): the users key opens a menu
//! — the selected agent's password or removal, or a new user — whose
//! dialogs send `Supervisor.setPassword`, `Supervisor.removeUser` and
//! `Supervisor.addUser`. The server checks who may (admins only) and what
//! (ids, groups, password length); its refusal shows as the request's
//! error, its success as a line in the status bar. Passwords are typed
//! twice, shown as dots, and leave the state once sent.

use super::*;
use crate::app::state::{NewUser, UsersDialog};
use crate::protocol::MIN_PASSWORD;

/// The users key on the floor.
pub(super) fn open(state: &mut State) {
    let user_id = state
        .board
        .as_ref()
        .and_then(|b| b.selected_agent())
        .map(|a| a.user_id.clone());
    state.dialog = Some(Dialog::Users(UsersDialog::Menu { user_id, cursor: 0 }));
}

/// A key in one of the dialogs (Esc has closed it already).
pub(super) fn key(state: &mut State, d: UsersDialog, k: KeyEvent, now: u64, fx: &mut Vec<Effect>) {
    let next = match d {
        UsersDialog::Menu { user_id, cursor } => menu_key(user_id, cursor, &k),
        UsersDialog::Password {
            user_id,
            first,
            again,
            on_again,
        } => password_key(state, (user_id, first, again, on_again), &k, now, fx),
        UsersDialog::Remove { user_id } => {
            if matches!(k.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                request(
                    state,
                    "Supervisor.removeUser",
                    json!({ "userId": user_id }),
                    Purpose::Done {
                        text: format!("{user_id} is removed from the center"),
                    },
                    fx,
                );
            }
            None
        }
        UsersDialog::Add(u) => add_key(state, u, &k, now, fx),
    };
    state.dialog = next.map(Dialog::Users);
}

fn menu_key(user_id: Option<String>, cursor: usize, k: &KeyEvent) -> Option<UsersDialog> {
    let n = UsersDialog::menu(user_id.as_deref()).len();
    match k.code {
        KeyCode::Enter | KeyCode::Char(' ') => Some(match (user_id, cursor) {
            (Some(user_id), 0) => UsersDialog::Password {
                user_id,
                first: String::new(),
                again: String::new(),
                on_again: false,
            },
            (Some(user_id), 1) => UsersDialog::Remove { user_id },
            _ => UsersDialog::Add(NewUser::default()),
        }),
        KeyCode::Up | KeyCode::BackTab => Some(UsersDialog::Menu {
            user_id,
            cursor: menu_step(cursor, n, true, false),
        }),
        KeyCode::Down | KeyCode::Tab => Some(UsersDialog::Menu {
            user_id,
            cursor: menu_step(cursor, n, false, true),
        }),
        _ => Some(UsersDialog::Menu { user_id, cursor }),
    }
}

/// A password fit to send, or why not.
fn check_password(p: &str) -> Result<(), String> {
    if p.chars().count() < MIN_PASSWORD {
        return Err(format!(
            "a password needs at least {MIN_PASSWORD} characters"
        ));
    }
    Ok(())
}

fn password_key(
    state: &mut State,
    (user_id, mut first, mut again, mut on_again): (String, String, String, bool),
    k: &KeyEvent,
    now: u64,
    fx: &mut Vec<Effect>,
) -> Option<UsersDialog> {
    match k.code {
        KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => on_again = !on_again,
        KeyCode::Enter if !on_again => {
            if let Err(why) = check_password(&first) {
                info(state, now, why);
            } else {
                on_again = true;
            }
        }
        KeyCode::Enter if first != again => {
            info(state, now, "the two passwords differ: type them again");
            first.clear();
            again.clear();
            on_again = false;
        }
        KeyCode::Enter => {
            if let Err(why) = check_password(&first) {
                info(state, now, why);
                return Some(UsersDialog::Password {
                    user_id,
                    first,
                    again,
                    on_again: false,
                });
            }
            request(
                state,
                "Supervisor.setPassword",
                json!({ "userId": user_id, "password": first }),
                Purpose::Done {
                    text: format!("{user_id}'s password is set"),
                },
                fx,
            );
            return None;
        }
        _ if on_again => text_edit(&mut again, k, |c| !c.is_control()),
        _ => text_edit(&mut first, k, |c| !c.is_control()),
    }
    Some(UsersDialog::Password {
        user_id,
        first,
        again,
        on_again,
    })
}

fn add_key(
    state: &mut State,
    mut u: NewUser,
    k: &KeyEvent,
    now: u64,
    fx: &mut Vec<Effect>,
) -> Option<UsersDialog> {
    let n = NewUser::FIELDS.len();
    let role_field = 2;
    match k.code {
        KeyCode::Tab | KeyCode::Down => u.field = (u.field + 1) % n,
        KeyCode::BackTab | KeyCode::Up => u.field = (u.field + n - 1) % n,
        KeyCode::Left if u.field == role_field => {
            u.role = (u.role + NewUser::ROLES.len() - 1) % NewUser::ROLES.len()
        }
        KeyCode::Right | KeyCode::Char(' ') if u.field == role_field => {
            u.role = (u.role + 1) % NewUser::ROLES.len()
        }
        KeyCode::Enter => return send_new_user(state, u, now, fx),
        _ => match u.field {
            0 => text_edit(&mut u.id, k, |c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
            }),
            1 => text_edit(&mut u.name, k, |c| !c.is_control()),
            3 => text_edit(&mut u.groups, k, |c| !c.is_control()),
            4 => text_edit(&mut u.password, k, |c| !c.is_control()),
            _ => {}
        },
    }
    Some(UsersDialog::Add(u))
}

/// Enter in the add dialog: `Supervisor.addUser`, then the password when
/// one was typed (the center takes them in order).
fn send_new_user(
    state: &mut State,
    mut u: NewUser,
    now: u64,
    fx: &mut Vec<Effect>,
) -> Option<UsersDialog> {
    let id = u.id.trim().to_string();
    if id.is_empty() {
        info(state, now, "a new user needs a user id");
        u.field = 0;
        return Some(UsersDialog::Add(u));
    }
    if !u.password.is_empty() {
        if let Err(why) = check_password(&u.password) {
            info(state, now, why);
            u.field = 4;
            return Some(UsersDialog::Add(u));
        }
    }
    let groups: Vec<&str> = u
        .groups
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|g| !g.is_empty())
        .collect();
    let mut params = json!({
        "userId": id,
        "role": NewUser::ROLES.get(u.role).copied().unwrap_or("agent"),
        "skillGroups": groups,
    });
    let name = u.name.trim();
    if !name.is_empty() {
        params["name"] = json!(name);
    }
    request(
        state,
        "Supervisor.addUser",
        params,
        Purpose::Done {
            text: format!("{id} is added"),
        },
        fx,
    );
    if !u.password.is_empty() {
        request(
            state,
            "Supervisor.setPassword",
            json!({ "userId": id, "password": u.password }),
            Purpose::Done {
                text: format!("{id} is added, with a password"),
            },
            fx,
        );
    }
    None
}

/// A wallboard delta removed seats: a dialog about one of them closes.
pub(super) fn removed(state: &mut State, gone: &[String], now: u64) {
    let about = match &state.dialog {
        Some(Dialog::Users(
            UsersDialog::Menu {
                user_id: Some(u), ..
            }
            | UsersDialog::Password { user_id: u, .. }
            | UsersDialog::Remove { user_id: u },
        )) => u.clone(),
        _ => return,
    };
    if gone.contains(&about) {
        state.dialog = None;
        info(state, now, format!("{about} was removed from the center"));
    }
}
