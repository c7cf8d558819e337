//! Live staffing in the console: the skill groups key opens a dialog with
//! every skill group of the wallboard, checked where the selected agent is
//! a member; Space checks and unchecks, Enter sends the checked ones
//! (`Supervisor.setSkillGroups`, admins only: the server refuses anyone
//! else, which shows as the request's error). The row changes when the
//! server's `wallboard` delta says so, not before.

use super::*;

/// The skill groups key on the floor: the selected agent's groups.
pub(super) fn open(state: &mut State, now: u64) {
    let Some(b) = state.board.as_ref() else {
        return;
    };
    let Some(agent) = b.selected_agent() else {
        return info(state, now, "no agent selected");
    };
    // The wallboard's groups in its order, then any other the agent is in
    // (so that sending does not drop a group the wallboard does not list).
    let mut groups: Vec<String> = b
        .wall
        .groups
        .iter()
        .map(|g| g.skill_group_id.clone())
        .collect();
    for g in &agent.skill_groups {
        if !groups.contains(g) {
            groups.push(g.clone());
        }
    }
    if groups.is_empty() {
        return info(state, now, "the wallboard has no skill groups");
    }
    let checked = groups
        .iter()
        .map(|g| agent.skill_groups.contains(g))
        .collect();
    state.dialog = Some(Dialog::SkillGroups {
        user_id: agent.user_id.clone(),
        groups,
        checked,
        cursor: 0,
    });
}

/// A key in the dialog (Esc has closed it already): Up/Down move, Space
/// toggles, Enter sends, anything else leaves it as it is.
pub(super) fn key(
    state: &mut State,
    user_id: String,
    groups: Vec<String>,
    mut checked: Vec<bool>,
    mut cursor: usize,
    k: KeyEvent,
    fx: &mut Vec<Effect>,
) {
    match k.code {
        KeyCode::Enter => {
            let ids: Vec<&String> = groups
                .iter()
                .zip(&checked)
                .filter(|(_, on)| **on)
                .map(|(g, _)| g)
                .collect();
            return request(
                state,
                "Supervisor.setSkillGroups",
                json!({ "userId": user_id, "skillGroups": ids }),
                Purpose::Plain,
                fx,
            );
        }
        KeyCode::Char(' ') => {
            if let Some(on) = checked.get_mut(cursor) {
                *on = !*on;
            }
        }
        KeyCode::Up | KeyCode::BackTab => cursor = menu_step(cursor, groups.len(), true, false),
        KeyCode::Down | KeyCode::Tab => cursor = menu_step(cursor, groups.len(), false, true),
        _ => {}
    }
    state.dialog = Some(Dialog::SkillGroups {
        user_id,
        groups,
        checked,
        cursor,
    });
}

/// A wallboard delta removed seats: a dialog about one of them closes.
pub(super) fn removed(state: &mut State, gone: &[String], now: u64) {
    let Some(Dialog::SkillGroups { user_id, .. }) = &state.dialog else {
        return;
    };
    if gone.contains(user_id) {
        let text = format!("{user_id} was removed from the center");
        state.dialog = None;
        info(state, now, text);
    }
}
