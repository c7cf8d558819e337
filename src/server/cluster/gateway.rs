//! The gateway: what this node's connections send the center goes to the
//! owner over NATS, one request at a time carrying what queued meanwhile,
//! in order (so a connection's requests keep their order), retried until
//! an owner takes it; the owner's frames come
//! back on this node's subject and go into the connections' queues. The
//! connections do not know: they send `Command`s to the handle this
//! returns, as they would to a center in this process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::wire::{self, Envelope, What};
use crate::protocol::Request;
use crate::server::center::{CenterHandle, Command, ConnId, LoginAsk};
use crate::server::conn::Outbound;

/// The id a gateway's own re-login carries; its response becomes a
/// `loggedInAgain` event here.
pub const RELOGIN_ID: &str = "ccdesk-relogin";

/// The most commands sent to the owner in one request.
const MAX_BATCH: usize = 64;

/// How long the owner has to acknowledge a command before it is sent
/// again.
const ACK_WITHIN: Duration = Duration::from_secs(1);

/// A connection of this node: its queue, and its login (sent again to a
/// new owner).
struct Conn {
    tx: mpsc::Sender<Outbound>,
    login: LoginAsk,
}

type Conns = Arc<Mutex<HashMap<ConnId, Conn>>>;

fn lock(c: &Conns) -> std::sync::MutexGuard<'_, HashMap<ConnId, Conn>> {
    c.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Start the gateway of `node` for `center`: the handle connections send
/// their commands to.
/// A customer's phone line (this node's SIP) goes to `lines`, this node's
/// media service.
pub async fn start(
    client: async_nats::Client,
    center: &str,
    node: &str,
    heartbeat: Duration,
    lines: super::media::LocalLines,
) -> anyhow::Result<CenterHandle> {
    let conns: Conns = Arc::default();
    let boot: u64 = rand::random();
    let frames = client
        .subscribe(wire::frames(center, node))
        .await
        .map_err(|e| anyhow::anyhow!("cannot subscribe to this node's frames: {e}"))?;
    let owners = client
        .subscribe(wire::owners(center))
        .await
        .map_err(|e| anyhow::anyhow!("cannot subscribe to the owner's news: {e}"))?;
    let (tx, rx) = mpsc::unbounded_channel();
    let (relogin_tx, relogin_rx) = mpsc::unbounded_channel();
    tokio::spawn(frames_in(frames, conns.clone(), boot));
    tokio::spawn(beat(
        client.clone(),
        wire::alive(center),
        wire::Alive {
            node: node.to_string(),
            boot,
        },
        heartbeat,
    ));
    tokio::spawn(new_owners(owners, conns.clone(), relogin_tx));
    let fwd = Forwarder {
        client,
        subject: wire::commands(center),
        node: node.to_string(),
        boot,
        seq: 0,
        conns,
        lines,
    };
    tokio::spawn(fwd.run(rx, relogin_rx));
    Ok(CenterHandle { tx })
}

/// The owner's frames into the connections' queues. A queue that is full
/// closes its connection (dropping the only sender), as the center would.
async fn frames_in(mut sub: async_nats::Subscriber, conns: Conns, boot: u64) {
    while let Some(msg) = sub.next().await {
        let for_boot = msg
            .headers
            .as_ref()
            .and_then(|h| h.get(wire::BOOT))
            .and_then(|v| v.as_str().parse::<u64>().ok());
        if for_boot != Some(boot) {
            // For this node's predecessor (same name, an earlier process).
            continue;
        }
        let conn = msg
            .headers
            .as_ref()
            .and_then(|h| h.get(wire::CONN))
            .and_then(|v| v.as_str().parse::<ConnId>().ok());
        let Some(conn) = conn else {
            tracing::warn!(subject = %msg.subject, "cluster: a frame without a connection; dropped");
            continue;
        };
        let close = msg
            .headers
            .as_ref()
            .is_some_and(|h| h.get(wire::CLOSE).is_some());
        let out = if close {
            Outbound::Close
        } else {
            let Ok(text) = std::str::from_utf8(&msg.payload) else {
                tracing::warn!(conn, "cluster: a frame that is not UTF-8; dropped");
                continue;
            };
            if is_relogin_reply(text) {
                // The new owner's login result goes to the client as the
                // snapshot a reconnect gets; a refusal (the user was
                // removed) closes the connection, whose reconnect hears why.
                match relogged(text) {
                    Some(ev) => Outbound::Text(ev.into()),
                    None => Outbound::Close,
                }
            } else {
                Outbound::Text(text.into())
            }
        };
        let mut map = lock(&conns);
        let full = match map.get(&conn) {
            Some(c) => c.tx.try_send(out).is_err(),
            None => false,
        };
        if full {
            tracing::info!(
                conn,
                "cluster: a connection's queue is full or closed; dropping it"
            );
            map.remove(&conn);
        }
    }
}

/// This gateway is alive: said every `every` while the process runs.
async fn beat(client: async_nats::Client, subject: String, me: wire::Alive, every: Duration) {
    let Ok(payload) = serde_json::to_vec(&me) else {
        return;
    };
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if let Err(e) = client
            .publish(subject.clone(), payload.clone().into())
            .await
        {
            tracing::debug!(error = %e, "cluster: a heartbeat was not sent");
        }
    }
}

/// The response to a gateway's re-login: dropped.
fn is_relogin_reply(text: &str) -> bool {
    text.contains(RELOGIN_ID)
        && serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .is_some_and(|v| v.get("id").and_then(|i| i.as_str()) == Some(RELOGIN_ID))
}

/// The `loggedInAgain` event for a successful re-login's response.
fn relogged(text: &str) -> Option<String> {
    let resp: crate::protocol::Response = serde_json::from_str(text).ok()?;
    let result: crate::protocol::LoginResult = serde_json::from_value(resp.data?).ok()?;
    Some(crate::protocol::Event::LoggedInAgain(result).to_json())
}

/// A new owner: every connection of this node logs in again there.
async fn new_owners(
    mut sub: async_nats::Subscriber,
    conns: Conns,
    relogin: mpsc::UnboundedSender<ConnId>,
) {
    while let Some(msg) = sub.next().await {
        let owner = String::from_utf8_lossy(&msg.payload).into_owned();
        let ids: Vec<ConnId> = lock(&conns).keys().copied().collect();
        tracing::debug!(?ids, "cluster: the connections logged in again");
        tracing::info!(%owner, connections = ids.len(), "cluster: a new owner; logging this node's connections in again");
        for id in ids {
            if relogin.send(id).is_err() {
                return;
            }
        }
    }
}

struct Forwarder {
    client: async_nats::Client,
    subject: String,
    node: String,
    boot: u64,
    seq: u64,
    conns: Conns,
    lines: super::media::LocalLines,
}

impl Forwarder {
    async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<Command>,
        mut relogin: mpsc::UnboundedReceiver<ConnId>,
    ) {
        loop {
            let first = tokio::select! {
                biased;
                Some(conn) = relogin.recv() => match self.login_of(conn) {
                    Some(login) => (conn, login),
                    None => continue,
                },
                cmd = rx.recv() => match cmd {
                    Some(cmd) => match self.take(cmd) {
                        Some(x) => x,
                        None => continue,
                    },
                    None => return,
                },
            };
            // What queued meanwhile goes in the same request: one round
            // trip for a burst, in the order the connections sent it.
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(cmd) => batch.extend(self.take(cmd)),
                    Err(_) => break,
                }
            }
            self.deliver(batch).await;
        }
    }

    /// A connection's login as a re-login (its response is dropped).
    fn login_of(&self, conn: ConnId) -> Option<What> {
        let map = lock(&self.conns);
        let mut login = map.get(&conn)?.login.clone();
        login.id = serde_json::Value::from(RELOGIN_ID);
        Some(What::Login(login))
    }

    /// A connection's command as it goes on the wire.
    fn take(&mut self, cmd: Command) -> Option<(ConnId, What)> {
        match cmd {
            Command::Login { conn, login, tx } => {
                lock(&self.conns).insert(
                    conn,
                    Conn {
                        tx,
                        login: login.clone(),
                    },
                );
                Some((conn, What::Login(login)))
            }
            Command::Request { conn, id, req } => {
                let password_hash = match &req {
                    Request::SupervisorSetPassword(p) => p.hash.clone(),
                    _ => None,
                };
                Some((
                    conn,
                    What::Request {
                        id,
                        method: req.method().to_string(),
                        params: req.params_json(),
                        password_hash,
                    },
                ))
            }
            Command::Disconnected { conn } => {
                lock(&self.conns).remove(&conn);
                Some((conn, What::Disconnected))
            }
            // A SIP call's RTP stays here: the line goes to this node's
            // media service, where the owner opens the call's bridge; the
            // owner hears only that the session has a line.
            Command::CustomerLine {
                conn,
                session,
                line,
            } => {
                if let Some(line) = line {
                    let _ = self.lines.send((session.clone(), line));
                }
                Some((conn, What::CustomerLine { session }))
            }
            _ => {
                // Seats' phones are not rung in a cluster; bridges report
                // to the owner directly.
                tracing::warn!("cluster: a command a gateway does not forward; dropped");
                None
            }
        }
    }

    /// Send commands (in order, in one request) until the owner takes
    /// them. A new owner that does not know a connection gets its login
    /// first, then that connection's commands again.
    async fn deliver(&mut self, batch: Vec<(ConnId, What)>) {
        for (conn, what) in &batch {
            // Never the command itself: a login carries its token.
            let kind = match what {
                What::Login(_) => "login",
                What::Request { method, .. } => method.as_str(),
                What::Disconnected => "disconnected",
                What::CustomerLine { .. } => "customer line",
            };
            tracing::debug!(conn, kind, "cluster: forwarding");
        }
        let acks = self.send(batch.clone()).await;
        let mut relogged = std::collections::HashSet::new();
        for ((conn, what), ack) in batch.into_iter().zip(acks) {
            let again = matches!(ack, Delivered::UnknownConn)
                && !matches!(what, What::Login(_) | What::Disconnected);
            if !again {
                continue;
            }
            if relogged.insert(conn) {
                match self.login_of(conn) {
                    Some(login) => {
                        self.send(vec![(conn, login)]).await;
                    }
                    None => continue,
                }
            }
            self.send(vec![(conn, what)]).await;
        }
    }

    /// One request with `batch` until an owner answers it: what it did
    /// with each command.
    async fn send(&mut self, batch: Vec<(ConnId, What)>) -> Vec<Delivered> {
        let n = batch.len();
        let envs: Vec<Envelope> = batch
            .into_iter()
            .map(|(conn, what)| {
                self.seq += 1;
                Envelope {
                    node: self.node.clone(),
                    boot: self.boot,
                    conn,
                    seq: self.seq,
                    what,
                }
            })
            .collect();
        let payload: Bytes = match serde_json::to_vec(&envs) {
            Ok(p) => p.into(),
            Err(e) => {
                tracing::error!(error = %e, "cluster: commands that do not serialise; dropped");
                return (0..n).map(|_| Delivered::Taken).collect();
            }
        };
        let mut wait = Duration::from_millis(50);
        loop {
            let req = async_nats::client::Request::new()
                .payload(payload.clone())
                .timeout(Some(ACK_WITHIN));
            match self.client.send_request(self.subject.clone(), req).await {
                Ok(reply) => {
                    let acks: Vec<String> = match serde_json::from_slice(&reply.payload) {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::error!(error = %e, "cluster: the owner's acknowledgement does not parse; taken as taken");
                            Vec::new()
                        }
                    };
                    return (0..n)
                        .map(|i| match acks.get(i) {
                            Some(a) if a == wire::UNKNOWN => Delivered::UnknownConn,
                            _ => Delivered::Taken,
                        })
                        .collect();
                }
                Err(e) => {
                    tracing::debug!(error = %e, "cluster: no owner took a command; trying again");
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_millis(400));
                }
            }
        }
    }
}

enum Delivered {
    Taken,
    UnknownConn,
}
