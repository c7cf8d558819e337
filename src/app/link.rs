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
    cfg: LinkConfig,
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
                    match serve(conn, &actions, &mut requests).await {
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
) -> Served {
    let handle = conn.handle();
    loop {
        tokio::select! {
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
