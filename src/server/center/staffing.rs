//! Live staffing: administrators change who is in which skill group, and
//! add and remove users and set their passwords, while the center runs
//! (`Supervisor.setSkillGroups`, `Supervisor.addUser`,
//! `Supervisor.removeUser`, `Supervisor.setPassword`). Applied at once to
//! routing and the wallboard, and kept in the server's database (the
//! config seeds it the first time); the reply waits until it is written.

use super::*;
use crate::server::config::{User, MAX_CHATS};

impl Center {
    pub(super) fn staffing_request(&mut self, user: &str, req: &Request) -> Reply {
        let admin = self.users.get(user).is_some_and(|u| u.role == Role::Admin);
        if !admin {
            return Err(ProtoError::forbidden(format!(
                "{}: only administrators change the staffing",
                req.method()
            )));
        }
        match req {
            Request::SupervisorSetSkillGroups(p) => self.set_skill_groups(p),
            Request::SupervisorAddUser(p) => self.add_user(p),
            Request::SupervisorRemoveUser(p) => self.remove_user(user, &p.user_id),
            Request::SupervisorSetPassword(p) => self.set_password(user, p),
            other => Err(misrouted(other)),
        }
    }

    /// The groups named, checked and without repeats.
    fn groups_of(&self, method: &str, groups: &[String]) -> Result<Vec<String>, ProtoError> {
        let mut out: Vec<String> = Vec::with_capacity(groups.len());
        for g in groups {
            if !self.queues.has_group(g) {
                return Err(ProtoError::not_found(format!(
                    "{method}: skill group `{}` does not exist",
                    crate::protocol::shorten_for_error(g)
                )));
            }
            if !out.contains(g) {
                out.push(g.clone());
            }
        }
        Ok(out)
    }

    fn set_skill_groups(&mut self, p: &SkillGroupsParams) -> Reply {
        let method = "Supervisor.setSkillGroups";
        let mut u = self
            .users
            .get(&p.user_id)
            .filter(|u| u.role.is_seat())
            .ok_or_else(|| ProtoError::not_found(format!("seat `{}` does not exist", p.user_id)))?;
        let groups = self.groups_of(method, &p.skill_groups)?;
        u.skill_groups = groups.clone();
        if let Some(a) = self.agents.get_mut(&p.user_id) {
            a.groups = groups;
        }
        tracing::info!(user = %p.user_id, groups = ?u.skill_groups, "skill groups changed");
        self.keep_user(u);
        Ok(None)
    }

    fn add_user(&mut self, p: &AddUserParams) -> Reply {
        let method = "Supervisor.addUser";
        let id = p.user_id.trim();
        let ok_id = !id.is_empty()
            && id.chars().count() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !ok_id {
            return Err(ProtoError::bad_request(format!(
                "{method}: parameter `userId` must be 1 to 64 of letters, digits, . _ -"
            )));
        }
        if self.users.get(id).is_some() {
            return Err(ProtoError::invalid_state(format!(
                "{method}: user `{id}` exists already"
            )));
        }
        let role = match p.role.as_deref().unwrap_or("agent") {
            "agent" => Role::Agent,
            "admin" => Role::Admin,
            "inspector" => Role::Inspector,
            other => {
                return Err(ProtoError::bad_request(format!(
                    "{method}: parameter `role` must be agent, admin or inspector, not `{}`",
                    crate::protocol::shorten_for_error(other)
                )))
            }
        };
        let max_chats = p
            .max_chats
            .unwrap_or(crate::server::config::DEFAULT_MAX_CHATS);
        if !(1..=MAX_CHATS).contains(&max_chats) {
            return Err(ProtoError::bad_request(format!(
                "{method}: parameter `maxChats` must be 1 to {MAX_CHATS}"
            )));
        }
        let name = p.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
        if name.is_some_and(|n| n.chars().count() > 100) {
            return Err(ProtoError::bad_request(format!(
                "{method}: parameter `name` is longer than 100 characters"
            )));
        }
        let groups = self.groups_of(method, &p.skill_groups)?;
        let u = User {
            id: id.to_string(),
            role,
            skill_groups: groups.clone(),
            name: name.map(str::to_string),
            seat_type: Default::default(),
            sip_password: None,
            mobile: None,
            password_hash: None,
            max_chats,
        };
        let mut a = Agent::new(u.id.clone(), role, groups, self.clock.instant());
        a.max_chats = max_chats;
        self.agents.insert(u.id.clone(), a);
        tracing::info!(user = %u.id, role = role.as_str(), "user added");
        self.keep_user(u);
        Ok(None)
    }

    fn remove_user(&mut self, by: &str, id: &str) -> Reply {
        if id == by {
            return Err(ProtoError::bad_request(
                "Supervisor.removeUser: you cannot remove yourself",
            ));
        }
        let u = self
            .users
            .get(id)
            .filter(|u| u.role.is_seat())
            .ok_or_else(|| ProtoError::not_found(format!("seat `{id}` does not exist")))?;
        if let Some(a) = self.agents.get(id) {
            if !a.tabs.is_empty() || a.in_session() || a.offer.is_some() {
                return Err(ProtoError::invalid_state(format!(
                    "`{id}` is logged in ({}): they log out first",
                    availability(a)
                )));
            }
        }
        self.agents.remove(id);
        self.users.remove(&u.id);
        tracing::info!(user = %id, by, "user removed");
        let ticket = self.write_record(Write::RemoveUser(u.id.clone()));
        self.reply_after(ticket, id);
        Ok(None)
    }

    /// A user's new password, hashed by the connection task (argon2 is
    /// slow: not on this task). Trunks have none: they log in with tokens.
    fn set_password(&mut self, by: &str, p: &SetPasswordParams) -> Reply {
        let mut u = self
            .users
            .get(&p.user_id)
            .filter(|u| u.role != Role::Trunk)
            .ok_or_else(|| {
                ProtoError::not_found(format!(
                    "Supervisor.setPassword: user `{}` does not exist",
                    crate::protocol::shorten_for_error(&p.user_id)
                ))
            })?;
        let Some(hash) = p.hash.clone() else {
            return Err(ProtoError::new(
                ErrorCode::Internal,
                "Supervisor.setPassword: the password was not hashed",
            ));
        };
        u.password_hash = Some(hash.clone());
        tracing::info!(user = %u.id, by, "password set");
        let id = u.id.clone();
        self.users.put(u);
        let ticket = self.write_record(Write::Password {
            user_id: id.clone(),
            hash,
        });
        self.reply_after(ticket, &id);
        Ok(None)
    }

    /// Keep `u` as the user it now is, and write it down.
    fn keep_user(&mut self, u: User) {
        let id = u.id.clone();
        self.users.put(u.clone());
        let ticket = self.write_record(Write::User(Box::new(u)));
        self.reply_after(ticket, &id);
    }
}
