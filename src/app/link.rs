//! The link to the server: connect, log in, forward events as actions, send
//! requests, and reconnect with backoff when the connection drops. After
//! `kickedOut`, `tokenExpired` or a refused login it stops for good.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

use super::action::Action;
use crate::client::{ClientError, Connection};
use crate::protocol::{ErrorCode, Event, ProtoError};

/// Where and who to log in as.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    pub url: String,
    pub user: String,
    pub token: String,
    pub enable_shared: bool,
    /// A private CA for a `wss://` server, beside the system's roots.
    pub ca: Option<std::path::PathBuf>,
    /// Where a renewed token is kept (`ccdesk login`'s file), if anywhere.
    pub keep: Option<std::path::PathBuf>,
}

/// When to renew a token that expires at `exp` (unix s), seen at `now`:
/// with a tenth of its life left, and at least a minute before it ends.
pub fn renew_in(iat: u64, exp: u64, now: u64) -> Duration {
    let life = exp.saturating_sub(iat);
    let margin = (life / 10).max(60);
    Duration::from_secs(exp.saturating_sub(margin).saturating_sub(now))
}

/// A request from the reducer's effects.
#[derive(Debug)]
pub struct Outgoing {
    pub id: u64,
    pub method: &'static str,
    pub params: Value,
}

/// The wait before reconnect attempt `attempt` (2, 3, ...): 0.5 s doubling to 15 s.
pub fn backoff(attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(2).min(5);
    Duration::from_millis((500u64 << exp).min(15_000))
}

fn not_connected(id: u64) -> Action {
    Action::Response {
        id,
        result: Err(ProtoError::new(
            ErrorCode::Internal,
            "not sent: the connection to the server is down",
        )),
    }
}

/// Run the link until it stops for good or the app goes away.
pub async fn run(
    mut cfg: LinkConfig,
    actions: mpsc::UnboundedSender<Action>,
    mut requests: mpsc::UnboundedReceiver<Outgoing>,
) {
    let mut attempt: u32 = 1;
    loop {
        if actions.send(Action::Connecting { attempt }).is_err() {
            return;
        }
        let reason = match Connection::connect_with_ca(&cfg.url, cfg.ca.as_deref()).await {
            Err(e) => e.to_string(),
            Ok(mut conn) => match conn.login(&cfg.user, &cfg.token, cfg.enable_shared).await {
                Err(e) => {
                    // An expired token: the server sends tokenExpired, then refuses.
                    while let Ok(ev) = conn.events.try_recv() {
                        if matches!(ev, Event::TokenExpired { .. }) {
                            let _ = actions.send(Action::Server(ev));
                            return;
                        }
                    }
                    match e {
                        ClientError::Server(e)
                            if e.code == ErrorCode::Unauthorized
                                || e.code == ErrorCode::Forbidden =>
                        {
                            let _ = actions.send(Action::Refused {
                                message: format!(
                                    "the server refused the login of {}: {}",
                                    cfg.user, e.message
                                ),
                            });
                            return;
                        }
                        e => e.to_string(),
                    }
                }
                Ok(result) => {
                    attempt = 1;
                    if actions.send(Action::LoggedIn(result)).is_err() {
                        return;
                    }
                    match serve(conn, &actions, &mut requests, &mut cfg).await {
                        Served::Stop => return,
                        Served::Lost(reason) => reason,
                    }
                }
            },
        };
        attempt += 1;
        let wait = backoff(attempt);
        tracing::info!(%reason, attempt, wait_ms = wait.as_millis() as u64, "connection lost");
        if actions
            .send(Action::Lost {
                reason,
                attempt,
                retry_in_ms: wait.as_millis() as u64,
            })
            .is_err()
        {
            return;
        }
        // Requests made while the link is down fail at once.
        let sleep = tokio::time::sleep(wait);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                r = requests.recv() => match r {
                    Some(r) => { let _ = actions.send(not_connected(r.id)); }
                    None => return,
                },
            }
        }
    }
}

enum Served {
    Stop,
    Lost(String),
}

async fn serve(
    mut conn: Connection,
    actions: &mpsc::UnboundedSender<Action>,
    requests: &mut mpsc::UnboundedReceiver<Outgoing>,
    cfg: &mut LinkConfig,
) -> Served {
    let handle = conn.handle();
    // The token is renewed before it ends, so a shift is never cut off by
    // tokenExpired in the middle of a call.
    let renew_at = |token: &str| {
        crate::server::auth::peek(token).map(|c| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            tokio::time::Instant::now() + renew_in(c.iat, c.exp, now)
        })
    };
    let mut renew = renew_at(&cfg.token);
    loop {
        tokio::select! {
            _ = async {
                match renew {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => {
                renew = None;
                match handle.call("Agent.renewToken", serde_json::json!({})).await {
                    Ok(Some(v)) => {
                        if let Some(t) = v["token"].as_str() {
                            cfg.token = t.to_string();
                            renew = renew_at(t);
                            if let Some(path) = &cfg.keep {
                                let kept = crate::login_cli::StoredLogin {
                                    server: cfg.url.clone(),
                                    user: cfg.user.clone(),
                                    token: t.to_string(),
                                    expires_at: v["expiresAt"].as_u64().unwrap_or(0),
                                };
                                if let Err(e) = kept.save(path) {
                                    tracing::warn!(error = %e, "the renewed token could not be kept");
                                }
                            }
                            tracing::info!("login token renewed");
                        }
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "the login token could not be renewed"),
                }
            }
            ev = conn.events.recv() => match ev {
                Some(ev) => {
                    let last = matches!(ev, Event::KickedOut { .. } | Event::TokenExpired { .. });
                    if actions.send(Action::Server(ev)).is_err() {
                        return Served::Stop;
                    }
                    if last {
                        return Served::Stop;
                    }
                }
                None => return Served::Lost("the server closed the connection".into()),
            },
            r = requests.recv() => match r {
                Some(r) => {
                    let handle = handle.clone();
                    let actions = actions.clone();
                    tokio::spawn(async move {
                        let result = match handle.call(r.method, r.params).await {
                            Ok(v) => Ok(v),
                            Err(ClientError::Server(e)) => Err(e),
                            Err(e) => Err(ProtoError::new(ErrorCode::Internal, format!("not answered: {e}"))),
                        };
                        let _ = actions.send(Action::Response { id: r.id, result });
                    });
                }
                None => {
                    handle.close();
                    return Served::Stop;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_renewed_with_a_tenth_of_its_life_left_and_a_minute_at_least() {
        // A 12-hour token seen as it is issued: renewed after 10.8 hours.
        assert_eq!(renew_in(0, 43_200, 0), Duration::from_secs(38_880));
        // Seen later: the same moment, nearer.
        assert_eq!(renew_in(0, 43_200, 30_000), Duration::from_secs(8_880));
        // A 5-minute token: a minute before it ends.
        assert_eq!(renew_in(1_000, 1_300, 1_000), Duration::from_secs(240));
        // Nearly over already: at once.
        assert_eq!(renew_in(0, 43_200, 43_190), Duration::ZERO);
    }

    #[test]
    fn backoff_doubles_to_fifteen_seconds() {
        assert_eq!(backoff(2), Duration::from_millis(500));
        assert_eq!(backoff(3), Duration::from_secs(1));
        assert_eq!(backoff(20), Duration::from_secs(15));
    }
}
