//! One task per socket: the WebSocket handshake, login, decoding and
//! validating frames, rate limiting, and writing what the center sends.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::handshake::server::{
    ErrorResponse, Request as HsRequest, Response as HsResponse,
};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::protocol::{decode_request, Audience, ErrorCode, Event, ProtoError, Request, Response};

use super::auth::{self, TokenError};
use super::center::{CenterHandle, Command, ConnId, LoginAsk, Outbound};
use super::clock::Clock;
use super::config::{Role, ServerConfig};

/// What every connection task shares.
pub struct ServerCtx {
    pub cfg: Arc<ServerConfig>,
    /// `wss://`: the TLS every connection starts with.
    pub tls: Option<tokio_rustls::TlsAcceptor>,
    /// Reads users' password hashes from the server's database.
    pub reader: Option<super::records::SharedReader>,
    /// Failed password logins, per user and per address.
    pub failures: super::passwords::Failures,
    /// The users as they are now (supervisors change them).
    pub users: Arc<super::users::Users>,
    pub clock: Clock,
    pub center: CenterHandle,
    pub next_conn: AtomicU64,
}

/// Seconds a new connection has to log in.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames above this are refused by the WebSocket layer itself (closing the
/// connection); frames up to it get a `badRequest` answer and the connection
/// stays open.
const HARD_FRAME_LIMIT: usize = 4 << 20;

/// Bytes read from a socket at a time. Frames are requests of a few
/// hundred bytes, and most connections are idle agents: a small buffer
/// (tungstenite's default is 128 KiB, allocated and zeroed for every
/// connection) keeps ten thousand of them in a few megabytes. A larger
/// frame still arrives whole: the buffer grows for it.
const READ_BUFFER: usize = 1024;

pub fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(HARD_FRAME_LIMIT))
        .max_frame_size(Some(HARD_FRAME_LIMIT))
        .write_buffer_size(0)
        .read_buffer_size(READ_BUFFER)
}

struct RateLimit {
    tokens: f64,
    per_sec: f64,
    burst: f64,
    last: Instant,
}

impl RateLimit {
    fn new(per_sec: u32, burst: u32) -> RateLimit {
        RateLimit {
            tokens: burst as f64,
            per_sec: per_sec as f64,
            burst: burst as f64,
            last: Instant::now(),
        }
    }
    fn allow(&mut self) -> bool {
        let now = Instant::now();
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + dt * self.per_sec).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub(super) enum Phase {
    LoggedOut,
    LoggedIn {
        role: Role,
        user: String,
        expires: Instant,
    },
}

// The handshake callback's error type is tungstenite's, large by design.
#[allow(clippy::result_large_err)]
pub async fn handle(stream: TcpStream, peer: SocketAddr, ctx: Arc<ServerCtx>) {
    let _ = stream.set_nodelay(true);
    match ctx.tls.clone() {
        None => serve(stream, peer, ctx).await,
        Some(tls) => {
            // The handshake gets the login's time: a peer that never
            // finishes it is dropped as one that never logs in.
            match tokio::time::timeout(LOGIN_TIMEOUT, tls.accept(stream)).await {
                Ok(Ok(s)) => serve(s, peer, ctx).await,
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        }
    }
}

// The handshake callback's error type is tungstenite's, large by design.
#[allow(clippy::result_large_err)]
async fn serve<S>(stream: S, peer: SocketAddr, ctx: Arc<ServerCtx>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let check_path = |req: &HsRequest, resp: HsResponse| -> Result<HsResponse, ErrorResponse> {
        if req.uri().path() == "/ws" {
            Ok(resp)
        } else {
            let mut err = ErrorResponse::new(Some("ccdesk speaks WebSocket on /ws\n".into()));
            *err.status_mut() = StatusCode::NOT_FOUND;
            Err(err)
        }
    };
    let ws = match tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        check_path,
        Some(ws_config()),
    )
    .await
    {
        Ok(ws) => ws,
        Err(e) => {
            tracing::debug!(%peer, error = %e, "handshake failed");
            return;
        }
    };
    let conn: ConnId = ctx.next_conn.fetch_add(1, Ordering::Relaxed);
    tracing::debug!(%peer, conn, "connected");
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::channel::<Outbound>(ctx.cfg.server.outbound_queue);
    // Handed to the center at login: from then on only the center holds a
    // sender, so when it drops this connection the queue closes and so do we.
    let mut tx = Some(tx);
    let mut phase = Phase::LoggedOut;
    let mut limiter = RateLimit::new(
        ctx.cfg.server.rate_limit_per_second,
        ctx.cfg.server.rate_limit_burst,
    );
    let ping_every = ctx.cfg.server.ping_interval;
    let mut last_heard = Instant::now();
    let mut ping = tokio::time::interval_at(
        Instant::now() + Duration::from_secs(ping_every.max(1)),
        Duration::from_secs(ping_every.max(1)),
    );
    let login_deadline = tokio::time::sleep(LOGIN_TIMEOUT);
    tokio::pin!(login_deadline);

    'conn: loop {
        let expires = match &phase {
            Phase::LoggedIn { expires, .. } => Some(*expires),
            Phase::LoggedOut => None,
        };
        let mut out: Vec<Message> = Vec::new();
        let mut close = false;
        tokio::select! {
            frame = stream.next() => {
                let Some(frame) = frame else { break 'conn };
                let frame = match frame {
                    Ok(f) => f,
                    Err(e) => {
                        tracing::debug!(conn, error = %e, "read failed");
                        if let tokio_tungstenite::tungstenite::Error::Capacity(_) = e {
                            let err = ProtoError::bad_request(format!("frame larger than {HARD_FRAME_LIMIT} bytes; closing"));
                            let _ = sink.send(Message::text(Response::error(Value::Null, &err).to_json())).await;
                        }
                        break 'conn;
                    }
                };
                last_heard = Instant::now();
                match frame {
                    Message::Text(text) => {
                        let mut step = on_text(&ctx, conn, &text, &mut phase, &mut limiter, &mut tx);
                        if let Step::Password { id, user, password, shared } = step {
                            // Checked off this task (argon2 takes a while);
                            // nothing else is pending before a login.
                            step = super::passwords::log_in(&ctx, conn, peer, id, (user, password, shared), &mut phase, &mut tx).await;
                        }
                        if let Step::LookUp { id, user, exp, shared } = step {
                            step = look_up(&ctx, conn, id, (user, exp, shared), &mut phase, &mut tx).await;
                        }
                        if let Step::HashPassword { id, params } = step {
                            step = hash_then_forward(&ctx, conn, id, params).await;
                        }
                        match step {
                            Step::Reply(r) => out.push(Message::text(r.to_json())),
                            Step::ReplyAndClose(msgs) => {
                                out.extend(msgs.into_iter().map(Message::text));
                                close = true;
                            }
                            Step::Forwarded
                            | Step::Password { .. }
                            | Step::HashPassword { .. }
                            | Step::LookUp { .. } => {}
                        }
                    }
                    Message::Binary(_) => {
                        let err = ProtoError::bad_request("binary frames are not part of the protocol: send JSON text frames");
                        out.push(Message::text(Response::error(Value::Null, &err).to_json()));
                    }
                    Message::Close(_) => break 'conn,
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                }
            }
            msg = rx.recv() => {
                match msg {
                    Some(first) => {
                        let mut next = Some(first);
                        // Drain what is queued into one flush.
                        while let Some(m) = next.take() {
                            match m {
                                Outbound::Text(t) => out.push(Message::text(t.to_string())),
                                Outbound::Close => { close = true; break; }
                            }
                            if out.len() >= 64 { break; }
                            next = rx.try_recv().ok();
                        }
                    }
                    None => close = true,
                }
            }
            _ = ping.tick(), if ping_every > 0 => {
                if last_heard.elapsed() > Duration::from_secs(ping_every * 2 + 5) {
                    tracing::info!(conn, "peer silent for two ping intervals; dropping it");
                    break 'conn;
                }
                out.push(Message::Ping(Default::default()));
            }
            _ = &mut login_deadline, if matches!(phase, Phase::LoggedOut) => {
                let err = ProtoError::unauthorized(format!("no login within {} seconds", LOGIN_TIMEOUT.as_secs()));
                out.push(Message::text(Response::error(Value::Null, &err).to_json()));
                close = true;
            }
            _ = sleep_until_opt(expires) => {
                let ev = Event::TokenExpired { message: "the login token has expired: log in again with a new token".into() };
                out.push(Message::text(ev.to_json()));
                close = true;
            }
        }
        for m in out {
            if sink.feed(m).await.is_err() {
                break 'conn;
            }
        }
        if sink.flush().await.is_err() {
            break 'conn;
        }
        if close {
            let _ = sink.send(Message::Close(None)).await;
            break 'conn;
        }
    }
    if let Phase::LoggedIn { .. } = phase {
        let _ = ctx.center.tx.send(Command::Disconnected { conn });
    }
    tracing::debug!(conn, "disconnected");
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Log `user` in on this connection, its token expiring at `exp` (unix s);
/// `issued`: the token a password login made, for the result.
pub(super) fn enter(
    ctx: &ServerCtx,
    conn: ConnId,
    id: Value,
    (user, exp, shared, issued): (&crate::server::config::User, u64, bool, Option<String>),
    phase: &mut Phase,
    tx: &mut Option<mpsc::Sender<Outbound>>,
) -> Step {
    let Some(tx) = tx.take() else {
        return Step::Reply(Response::error(
            id,
            &ProtoError::invalid_state("already logging in"),
        ));
    };
    let left = exp.saturating_mul(1000).saturating_sub(ctx.clock.now_ms());
    *phase = Phase::LoggedIn {
        role: user.role,
        user: user.id.clone(),
        expires: Instant::now() + Duration::from_millis(left),
    };
    let _ = ctx.center.tx.send(Command::Login {
        conn,
        login: LoginAsk {
            id,
            user: user.id.clone(),
            role: user.role,
            enable_shared: shared,
            issued: issued.map(|t| (t, exp)),
            dials: true,
            phones: false,
            node: None,
        },
        tx,
    });
    Step::Forwarded
}

pub(super) enum Step {
    Reply(Response),
    ReplyAndClose(Vec<String>),
    Forwarded,
    /// A login with a password: checked by the connection's loop.
    Password {
        id: Value,
        user: String,
        password: String,
        shared: bool,
    },
    /// A token login for a user this node does not know: looked up in the
    /// database by the connection's loop.
    LookUp {
        id: Value,
        user: String,
        exp: u64,
        shared: bool,
    },
    /// A new password to hash before the center takes it.
    HashPassword {
        id: Value,
        params: crate::protocol::SetPasswordParams,
    },
}

fn on_text(
    ctx: &ServerCtx,
    conn: ConnId,
    text: &str,
    phase: &mut Phase,
    limiter: &mut RateLimit,
    tx: &mut Option<mpsc::Sender<Outbound>>,
) -> Step {
    let (id, req) = match decode_request(text) {
        Ok(v) => v,
        Err(e) => return Step::Reply(Response::error(e.id, &e.error)),
    };
    if !limiter.allow() {
        return Step::Reply(Response::error(
            id,
            &ProtoError::new(
                ErrorCode::RateLimited,
                format!(
                    "more than {} requests a second: slow down",
                    ctx.cfg.server.rate_limit_per_second
                ),
            ),
        ));
    }
    match phase {
        Phase::LoggedOut => {
            let Request::Login(p) = req else {
                return Step::Reply(Response::error(
                    id,
                    &ProtoError::unauthorized(format!(
                        "log in first: `{}` needs a login",
                        req.method()
                    )),
                ));
            };
            if let Some(password) = p.password {
                return Step::Password {
                    id,
                    user: p.user_id,
                    password,
                    shared: p.enable_shared,
                };
            }
            let now = ctx.clock.now_secs();
            let claims = match auth::verify(&ctx.cfg.auth.secret, &p.token, now) {
                Ok(c) => c,
                Err(TokenError::Expired(at)) => {
                    let msg = format!("the login token expired at unix time {at}");
                    let ev = Event::TokenExpired {
                        message: msg.clone(),
                    };
                    return Step::ReplyAndClose(vec![
                        ev.to_json(),
                        Response::error(id, &ProtoError::unauthorized(msg)).to_json(),
                    ]);
                }
                Err(e) => {
                    return Step::ReplyAndClose(vec![Response::error(
                        id,
                        &ProtoError::unauthorized(e.to_string()),
                    )
                    .to_json()]);
                }
            };
            if claims.sub != p.user_id {
                let err = ProtoError::unauthorized(format!(
                    "the token is not for user `{}`",
                    crate::protocol::shorten_for_error(&p.user_id)
                ));
                return Step::ReplyAndClose(vec![Response::error(id, &err).to_json()]);
            }
            let Some(user) = ctx.users.get(&p.user_id) else {
                if ctx.reader.is_some() && ctx.cfg.cluster.nats.is_some() {
                    // Perhaps added since this node read its users (by
                    // the owner of a cluster's center): the database says.
                    return Step::LookUp {
                        id,
                        user: p.user_id,
                        exp: claims.exp,
                        shared: p.enable_shared,
                    };
                }
                return Step::ReplyAndClose(vec![unknown_user(id, &p.user_id)]);
            };
            enter(
                ctx,
                conn,
                id,
                (&user, claims.exp, p.enable_shared, None),
                phase,
                tx,
            )
        }
        Phase::LoggedIn { user, expires, .. } if matches!(req, Request::AgentRenewToken(_)) => {
            // A fresh token, and this connection lives as long as it does.
            let now = ctx.clock.now_secs();
            let ttl = ctx.cfg.auth.default_ttl;
            let token = auth::issue(&ctx.cfg.auth.secret, user, now, ttl);
            *expires = Instant::now() + Duration::from_secs(ttl);
            let renewed = crate::protocol::RenewedToken {
                token,
                expires_at: now + ttl,
            };
            Step::Reply(Response::ok(id, serde_json::to_value(renewed).ok()))
        }
        Phase::LoggedIn { role, user, .. } => {
            let allowed = match req.audience() {
                Audience::Anyone => true,
                Audience::Seat => role.is_seat(),
                Audience::Supervisor => role.is_supervisor(),
                Audience::Trunk => *role == Role::Trunk,
            };
            if !allowed {
                let who = match req.audience() {
                    Audience::Seat => "agents, admins and inspectors",
                    Audience::Supervisor => "admins and inspectors",
                    Audience::Trunk => "trunks",
                    Audience::Anyone => "anyone",
                };
                return Step::Reply(Response::error(
                    id,
                    &ProtoError::forbidden(format!(
                        "`{}` is for {who}; `{user}` has role {}",
                        req.method(),
                        role.as_str()
                    )),
                ));
            }
            if let (Request::SupervisorSetPassword(p), Role::Admin) = (&req, *role) {
                return Step::HashPassword {
                    id,
                    params: p.clone(),
                };
            }
            let _ = ctx.center.tx.send(Command::Request { conn, id, req });
            Step::Forwarded
        }
    }
}

fn unknown_user(id: Value, user: &str) -> String {
    let err = ProtoError::unauthorized(format!(
        "unknown user `{}`",
        crate::protocol::shorten_for_error(user)
    ));
    Response::error(id, &err).to_json()
}

/// A token login for a user this node's directory does not have: the
/// database's users are read off this task; one found there joins the
/// directory and logs in.
async fn look_up(
    ctx: &ServerCtx,
    conn: ConnId,
    id: Value,
    (user, exp, shared): (String, u64, bool),
    phase: &mut Phase,
    tx: &mut Option<mpsc::Sender<Outbound>>,
) -> Step {
    match super::passwords::stored_user(ctx, &user).await {
        Some(u) => {
            ctx.users.put(u.clone());
            enter(ctx, conn, id, (&u, exp, shared, None), phase, tx)
        }
        None => Step::ReplyAndClose(vec![unknown_user(id, &user)]),
    }
}

/// `Supervisor.setPassword` from an administrator: the password is hashed
/// here, off the center's task, and only the hash goes on to the center.
async fn hash_then_forward(
    ctx: &ServerCtx,
    conn: ConnId,
    id: Value,
    mut p: crate::protocol::SetPasswordParams,
) -> Step {
    let password = std::mem::take(&mut p.password);
    match tokio::task::spawn_blocking(move || super::passwords::hash(&password)).await {
        Ok(Ok(hash)) => {
            p.hash = Some(hash);
            let req = Request::SupervisorSetPassword(p);
            let _ = ctx.center.tx.send(Command::Request { conn, id, req });
            Step::Forwarded
        }
        Ok(Err(e)) => Step::Reply(Response::error(
            id,
            &ProtoError::bad_request(format!("Supervisor.setPassword: {e}")),
        )),
        Err(_) => Step::Reply(Response::error(
            id,
            &ProtoError::new(
                ErrorCode::Internal,
                "Supervisor.setPassword: the password could not be hashed",
            ),
        )),
    }
}
