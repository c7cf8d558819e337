//! The center's users as they are now: seeded from the config's `[[users]]`,
//! then kept by the center (supervisors change skill groups, add and remove
//! users while it runs). Connections read it to log users in, the SIP
//! gateway to check desk phones' credentials; only the center writes it.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use super::config::{SeatType, ServerConfig, User};
use super::records::RecordStore;

/// The users the center starts with: those the store keeps once seeded,
/// else the config's (which then seed the store). Users of the config
/// that the store does not have are named in a warning: after the first
/// start, users change through the supervisors' methods.
pub fn load_or_seed(store: &mut dyn RecordStore, cfg: &ServerConfig) -> Vec<User> {
    match store.users() {
        Ok(Some(kept)) => {
            let missing: Vec<&str> = cfg
                .users
                .iter()
                .filter(|u| !kept.iter().any(|k| k.id == u.id))
                .map(|u| u.id.as_str())
                .collect();
            if !missing.is_empty() {
                tracing::warn!(
                    users = %missing.join(", "),
                    "users of the config are not in the server's database (its users were seeded from the config at the first start, then changed by supervisors): they cannot log in"
                );
            }
            kept
        }
        Ok(None) => {
            if let Err(e) = store.seed_users(&cfg.users) {
                tracing::error!(error = %e, "the users could not be stored: changes to them will not survive a restart");
            }
            cfg.users.clone()
        }
        Err(e) => {
            tracing::error!(error = %e, "the stored users cannot be read: using the config's");
            cfg.users.clone()
        }
    }
}

#[derive(Debug, Default)]
pub struct Users {
    map: RwLock<BTreeMap<String, User>>,
}

impl Users {
    pub fn new(users: impl IntoIterator<Item = User>) -> Arc<Users> {
        Arc::new(Users {
            map: RwLock::new(users.into_iter().map(|u| (u.id.clone(), u)).collect()),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, User>> {
        self.map.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The user `id`, as it is now.
    pub fn get(&self, id: &str) -> Option<User> {
        self.read().get(id).cloned()
    }

    /// Where `id`'s audio goes by the config (`staffSeat` when unknown).
    pub fn seat_type(&self, id: &str) -> SeatType {
        self.read().get(id).map(|u| u.seat_type).unwrap_or_default()
    }

    /// Every user, by id.
    pub fn all(&self) -> Vec<User> {
        self.read().values().cloned().collect()
    }

    /// Add or replace a user.
    pub fn put(&self, u: User) {
        self.map
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(u.id.clone(), u);
    }

    pub fn remove(&self, id: &str) -> Option<User> {
        self.map
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id)
    }
}
