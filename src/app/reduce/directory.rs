//! The live directory in the terminal: while the transfer or internal-call
//! dialog is open the connection is subscribed (`Agent.subscribeDirectory`:
//! a snapshot, then `directory` events), and unsubscribed when it closes,
//! so the server sends the floor's changes only to dialogs that show them.

use serde_json::{json, Value};

use super::super::action::Effect;
use super::super::state::{Dialog, Purpose, State};
use super::request;
use crate::protocol::DirectoryDelta;

/// After every action: subscribed exactly while a dialog lists the directory.
pub(super) fn sync(state: &mut State, fx: &mut Vec<Effect>) {
    let wants = state.is_online()
        && matches!(
            state.dialog,
            Some(Dialog::Transfer { .. }) | Some(Dialog::Internal { .. })
        );
    if wants == state.directory.subscribed {
        return;
    }
    state.directory.subscribed = wants;
    if wants {
        request(
            state,
            "Agent.subscribeDirectory",
            json!({}),
            Purpose::Directory,
            fx,
        );
    } else {
        request(
            state,
            "Agent.unsubscribeDirectory",
            json!({}),
            Purpose::Undirectory,
            fx,
        );
    }
}

/// The subscription's answer: every colleague and group.
pub(super) fn snapshot(state: &mut State, data: Option<Value>) {
    let Some(d) = data else { return };
    if let Some(a) = d
        .get("agents")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
    {
        state.directory.agents = a;
    }
    if let Some(g) = d
        .get("skillGroups")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
    {
        state.directory.groups = g;
    }
}

/// A `directory` event: replace the rows with the same id, add new ones.
pub(super) fn delta(state: &mut State, d: DirectoryDelta) {
    for a in d.agents {
        match state
            .directory
            .agents
            .iter_mut()
            .find(|x| x.user_id == a.user_id)
        {
            Some(row) => *row = a,
            None => state.directory.agents.push(a),
        }
    }
    for g in d.skill_groups {
        match state
            .directory
            .groups
            .iter_mut()
            .find(|x| x.skill_group_id == g.skill_group_id)
        {
            Some(row) => *row = g,
            None => state.directory.groups.push(g),
        }
    }
}
