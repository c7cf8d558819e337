//! Agents log in with a password: argon2id hashes kept with the users, a
//! login `{userId, password}` checked off the connection's task and
//! answered with a token, and failed attempts limited per user and per
//! address (the same answer for an unknown user and a wrong password).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Argon2, PasswordVerifier};
use serde_json::Value;
use tokio::time::Instant;

use super::auth;
use super::conn::{ConnId, Outbound};
use super::connection::{enter, Phase, ServerCtx, Step};
use crate::protocol::{ErrorCode, ProtoError, Response};

/// The shortest password taken.
pub const MIN_PASSWORD: usize = crate::protocol::MIN_PASSWORD;

/// Failed logins that lock a user out for the rest of the window...
const PER_USER: u32 = 5;
/// ... and an address (agents behind one NAT share it).
const PER_ADDRESS: u32 = 30;
/// The window failures are counted in.
const WINDOW: Duration = Duration::from_secs(300);

/// An argon2id hash (PHC string) of `password`.
pub fn hash(password: &str) -> anyhow::Result<String> {
    if password.chars().count() < MIN_PASSWORD {
        anyhow::bail!("a password needs at least {MIN_PASSWORD} characters");
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

/// Does `password` match `hash` (a PHC string)? A hash that does not parse
/// matches nothing.
pub fn verify(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash checked when the user has none (or does not exist), so that
/// the answer takes as long either way.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash("no user has this password").unwrap_or_default())
}

/// Failed logins per user and per address, in a sliding window.
#[derive(Default)]
pub struct Failures {
    counts: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Failures {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Instant)>> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Seconds until `key` may try again, if it is locked out now.
    fn locked(&self, key: &str, limit: u32) -> Option<u64> {
        let now = Instant::now();
        let mut m = self.lock();
        match m.get(key) {
            Some((_, since)) if now.saturating_duration_since(*since) >= WINDOW => {
                m.remove(key);
                None
            }
            Some((n, since)) if *n >= limit => {
                Some((WINDOW - now.saturating_duration_since(*since)).as_secs() + 1)
            }
            _ => None,
        }
    }

    fn failed(&self, key: String) {
        let now = Instant::now();
        let mut m = self.lock();
        let e = m.entry(key).or_insert((0, now));
        e.0 += 1;
    }

    fn clear(&self, key: &str) {
        self.lock().remove(key);
    }
}

/// The user `id` as the server's database has it now, read off this task
/// (None: not there, no database, or it cannot be read).
pub(super) async fn stored_user(ctx: &ServerCtx, id: &str) -> Option<crate::server::config::User> {
    let reader = ctx.reader.clone()?;
    let who = id.to_string();
    tokio::task::spawn_blocking(move || {
        reader
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stored_user(&who)
    })
    .await
    .ok()
    .and_then(Result::ok)
    .flatten()
}

/// A login with a password on connection `conn` from `peer`.
pub(super) async fn log_in(
    ctx: &ServerCtx,
    conn: ConnId,
    peer: SocketAddr,
    id: Value,
    (user, password, shared): (String, String, bool),
    phase: &mut Phase,
    tx: &mut Option<tokio::sync::mpsc::Sender<Outbound>>,
) -> Step {
    let by_user = format!("user:{user}");
    let by_address = format!("address:{}", peer.ip());
    let locked = ctx
        .failures
        .locked(&by_user, PER_USER)
        .or_else(|| ctx.failures.locked(&by_address, PER_ADDRESS));
    if let Some(wait) = locked {
        let err = ProtoError::new(
            ErrorCode::RateLimited,
            format!("too many failed logins: try again in {wait} s"),
        );
        return Step::ReplyAndClose(vec![Response::error(id, &err).to_json()]);
    }
    // The hash as the server's database has it now (`ccdesk user passwd`
    // takes effect at once), else as the center started with.
    let stored = stored_user(ctx, &user).await;
    let known = ctx.users.get(&user);
    let hash = stored
        .and_then(|u| u.password_hash)
        .or_else(|| known.as_ref().and_then(|u| u.password_hash.clone()))
        .filter(|_| known.is_some());
    let matched = {
        let hash = hash.clone().unwrap_or_else(|| decoy().to_string());
        tokio::task::spawn_blocking(move || verify(&hash, &password))
            .await
            .unwrap_or(false)
    };
    let (Some(u), true, true) = (known, hash.is_some(), matched) else {
        ctx.failures.failed(by_user);
        ctx.failures.failed(by_address);
        tracing::info!(%peer, "a password login failed");
        let err = ProtoError::unauthorized("wrong user or password");
        return Step::ReplyAndClose(vec![Response::error(id, &err).to_json()]);
    };
    ctx.failures.clear(&by_user);
    let now = ctx.clock.now_secs();
    let exp = now + ctx.cfg.auth.default_ttl;
    let token = auth::issue(&ctx.cfg.auth.secret, &u.id, now, ctx.cfg.auth.default_ttl);
    tracing::info!(user = %u.id, %peer, "logged in with a password");
    enter(ctx, conn, id, (&u, exp, shared, Some(token)), phase, tx)
}
