//! The live directory, for agents choosing whom to transfer to or call:
//! `Agent.list` and `SkillGroup.list`, and a subscription for the
//! terminal's transfer and call dialogs while they are open
//! (`Agent.subscribeDirectory`): a snapshot, then `directory` events with
//! the rows that changed. Only subscribed connections get them, so the
//! cost follows the dialogs open, not the size of the floor.

use std::collections::HashMap;

use super::board::changed;
use super::*;
use crate::protocol::{DirectoryAgent, DirectoryDelta, DirectoryGroup};

/// The connections subscribed, and the rows last sent to them.
#[derive(Debug, Default)]
pub(super) struct DirectorySubs {
    subscribers: Vec<ConnId>,
    agents: HashMap<String, DirectoryAgent>,
    groups: HashMap<String, DirectoryGroup>,
}

impl Center {
    fn directory_agent(&self, id: &str) -> Option<DirectoryAgent> {
        let a = self.agents.get(id)?;
        Some(DirectoryAgent {
            user_id: a.id.clone(),
            name: self.users.get(id).and_then(|u| u.name),
            status: a.status,
            rest_reason: a.rest_reason.clone(),
            skill_groups: a.groups.clone(),
            available: a.available(),
        })
    }

    fn directory_group(&self, id: &str) -> DirectoryGroup {
        let b = self.board_group(id);
        DirectoryGroup {
            skill_group_id: b.skill_group_id,
            name: b.name,
            free: b.free,
            waiting: b.waiting,
        }
    }

    /// `Agent.list`: every seat, as a colleague sees it.
    pub(super) fn directory_agents(&self) -> Vec<DirectoryAgent> {
        let mut out: Vec<_> = self
            .users
            .all()
            .iter()
            .filter(|u| u.role.is_seat())
            .filter_map(|u| self.directory_agent(&u.id))
            .collect();
        out.sort_by(|x, y| x.user_id.cmp(&y.user_id));
        out
    }

    /// `SkillGroup.list`: every group, in config order.
    pub(super) fn directory_groups(&self) -> Vec<DirectoryGroup> {
        self.cfg
            .skill_groups
            .iter()
            .map(|g| self.directory_group(&g.id))
            .collect()
    }

    /// `Agent.subscribeDirectory`: the snapshot; `directory` events follow.
    pub(super) fn directory_subscribe(&mut self, conn: ConnId) -> Value {
        let agents = self.directory_agents();
        let groups = self.directory_groups();
        if self.directory.subscribers.is_empty() {
            // Nothing was sent yet: the rows last sent are this snapshot.
            self.directory.agents = agents
                .iter()
                .map(|a| (a.user_id.clone(), a.clone()))
                .collect();
            self.directory.groups = groups
                .iter()
                .map(|g| (g.skill_group_id.clone(), g.clone()))
                .collect();
        }
        if !self.directory.subscribers.contains(&conn) {
            self.directory.subscribers.push(conn);
        }
        json!({ "agents": agents, "skillGroups": groups })
    }

    /// `Agent.unsubscribeDirectory`, or the connection closed.
    pub(super) fn directory_unsubscribe(&mut self, conn: ConnId) {
        self.directory.subscribers.retain(|c| *c != conn);
        if self.directory.subscribers.is_empty() {
            self.directory.agents.clear();
            self.directory.groups.clear();
        }
    }

    /// Send the subscribers the rows this command changed.
    pub(super) fn publish_directory(&mut self) {
        if self.directory.subscribers.is_empty() {
            return;
        }
        let mut ids: Vec<&String> = self.changes.agents.iter().collect();
        ids.sort();
        let agents: Vec<DirectoryAgent> = ids
            .into_iter()
            .filter_map(|id| self.directory_agent(id))
            .collect();
        let groups: Vec<DirectoryGroup> = self
            .cfg
            .skill_groups
            .iter()
            .filter(|g| self.changes.groups.contains(&g.id))
            .map(|g| self.directory_group(&g.id))
            .collect();
        let d = DirectoryDelta {
            agents: changed(&mut self.directory.agents, agents, |a| &a.user_id),
            skill_groups: changed(&mut self.directory.groups, groups, |g| &g.skill_group_id),
        };
        if !d.agents.is_empty() || !d.skill_groups.is_empty() {
            let subs = self.directory.subscribers.clone();
            self.emit_to_conns(&subs, &Event::Directory(d));
        }
    }
}
