//! Desk phones register here: ccdesk is the registrar for its seats
//! (`staffExtensionSeat`). A phone registers as the seat's user id with the
//! user's `sip_password` (digest authentication, MD5, qop=auth); each
//! registration (contact) lasts what it asked for, at most an hour; a seat
//! may have several, and all of them ring. The center hears how many a
//! seat has (`Phone.registered`) whenever that changes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, StatusCode, Transport};
use rsipstack::transaction::Transaction;

use super::digest::{self, Verdict};
use super::Gateway;
use crate::protocol::{PhoneRegisteredParams, Request};

/// The digest realm desk phones authenticate in.
pub const REALM: &str = digest::REALM;
/// The longest a registration lasts; a phone asking for more gets this.
pub const MAX_EXPIRES: u32 = 3600;

/// Where a registered phone is reached.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The Contact URI the phone registered, as it gave it.
    pub contact: String,
    /// Where its REGISTER came from: INVITEs go there (NATs keep it open).
    pub target: SocketAddr,
    pub transport: Transport,
    pub expires: Instant,
}

#[derive(Debug, Default)]
pub struct Registrar {
    bindings: HashMap<String, Vec<Binding>>,
}

impl Registrar {
    /// The phones registered for `user` now.
    pub fn bindings(&self, user: &str, now: Instant) -> Vec<Binding> {
        self.bindings
            .get(user)
            .map(|b| b.iter().filter(|b| b.expires > now).cloned().collect())
            .unwrap_or_default()
    }

    /// Forget expired registrations: the seats whose count changed, with
    /// their new count.
    pub fn sweep(&mut self, now: Instant) -> Vec<(String, u32)> {
        let mut changed = Vec::new();
        for (user, list) in self.bindings.iter_mut() {
            let before = list.len();
            list.retain(|b| b.expires > now);
            if list.len() != before {
                changed.push((user.clone(), list.len() as u32));
            }
        }
        self.bindings.retain(|_, l| !l.is_empty());
        changed
    }
}

/// What a REGISTER asked, parsed: its contacts (`None` for `*`) with the
/// expiry each asked for.
enum Contacts {
    All,
    Some(Vec<(String, u32)>),
}

fn contacts(tx: &Transaction) -> Result<Contacts, String> {
    let default = tx
        .original
        .expires_header()
        .and_then(|e| e.value().trim().parse::<u32>().ok())
        .unwrap_or(MAX_EXPIRES);
    let mut out = Vec::new();
    for h in tx.original.headers.iter() {
        let Header::Contact(c) = h else { continue };
        if c.value().trim() == "*" {
            return Ok(Contacts::All);
        }
        let list = rsipstack::sip::typed::Contact::parse_header_list(c.value())
            .map_err(|e| format!("a Contact header does not parse: {e}"))?;
        for c in list {
            let expires = c.expires().unwrap_or(default);
            out.push((c.uri.to_string(), expires));
        }
    }
    Ok(Contacts::Some(out))
}

impl Gateway {
    /// A REGISTER from a desk phone.
    pub(super) async fn register(self: Arc<Self>, mut tx: Transaction) {
        let (code, headers) = self.registration(&tx);
        if let Err(e) = tx.reply_with(code, headers, None).await {
            tracing::debug!(error = %e, "sip: the REGISTER's answer could not be sent");
        }
    }

    fn registration(self: &Arc<Self>, tx: &Transaction) -> (StatusCode, Vec<Header>) {
        let now = Instant::now();
        let refuse = |code: StatusCode, why: &str| {
            tracing::info!(code = u16::from(code.clone()), why, "sip: REGISTER refused");
            (code, Vec::new())
        };
        let Some(user) = tx
            .original
            .to_header()
            .ok()
            .and_then(|t| t.uri().ok())
            .and_then(|u| u.user().map(str::to_string))
        else {
            return refuse(StatusCode::BadRequest, "no user in the To header");
        };
        let Some(u) = self.users.get(&user).filter(|u| u.role.is_seat()) else {
            return refuse(StatusCode::NotFound, "not a seat of this center");
        };
        let Some(password) = u.sip_password.clone().filter(|p| !p.is_empty()) else {
            return refuse(StatusCode::Forbidden, "the seat has no sip_password");
        };
        let verdict = digest::check(
            &mut self.nonces(),
            &tx.original,
            |name| (name == user).then(|| password.clone()),
            now,
        );
        match verdict {
            Verdict::Passed(name) => tracing::debug!(%name, "sip: REGISTER authenticated"),
            Verdict::Challenge(headers) => return (StatusCode::Unauthorized, headers),
            Verdict::Refused(code, why) => {
                if code == StatusCode::Forbidden {
                    tracing::warn!(%user, source = ?Self::source(tx), "sip: a desk phone's credentials are wrong");
                }
                return refuse(code, why);
            }
        }
        let asked = match contacts(tx) {
            Ok(c) => c,
            Err(why) => return refuse(StatusCode::BadRequest, &why),
        };
        let Some(target) = Self::source(tx) else {
            return refuse(StatusCode::BadRequest, "no source address");
        };
        let transport = super::via_transport(tx);
        let (before, after, list) = {
            let mut reg = self.registrar();
            let list = reg.bindings.entry(user.clone()).or_default();
            list.retain(|b| b.expires > now);
            let before = list.len();
            match asked {
                Contacts::All => list.clear(),
                Contacts::Some(cs) => {
                    for (contact, expires) in cs {
                        list.retain(|b| b.contact != contact);
                        let expires = expires.min(MAX_EXPIRES);
                        if expires > 0 {
                            list.push(Binding {
                                contact,
                                target,
                                transport,
                                expires: now + Duration::from_secs(u64::from(expires)),
                            });
                        }
                    }
                }
            }
            let list = list.clone();
            (before, list.len(), list)
        };
        tracing::info!(%user, contacts = after, %target, "sip: desk phone registration");
        if before != after {
            self.report_registered(&user, after as u32);
        }
        let headers = list
            .iter()
            .map(|b| {
                let left = b.expires.saturating_duration_since(now).as_secs();
                Header::Other("Contact".into(), format!("<{}>;expires={left}", b.contact))
            })
            .collect();
        (StatusCode::OK, headers)
    }

    pub(super) fn registrar(&self) -> std::sync::MutexGuard<'_, Registrar> {
        self.registrar
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Tell the center how many desk phones `user` has now.
    pub(super) fn report_registered(self: &Arc<Self>, user: &str, contacts: u32) {
        let req = Request::PhoneRegistered(PhoneRegisteredParams {
            user_id: user.to_string(),
            contacts,
        });
        if let Err(e) = self.link.submit(req) {
            tracing::debug!(%user, error = %e.message, "sip: Phone.registered");
        }
    }

    /// Registrations that ran out (called every second).
    pub(super) fn sweep_registrations(self: &Arc<Self>) {
        let changed = self.registrar().sweep(Instant::now());
        for (user, n) in changed {
            tracing::info!(%user, contacts = n, "sip: a desk phone's registration expired");
            self.report_registered(&user, n);
        }
    }
}
