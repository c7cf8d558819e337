//! The owner's side: commands from every gateway go to the center in this
//! process, each remote connection with a local `ConnId` whose outbound
//! queue a task publishes to the connection's node. Runs while this node
//! holds the lease; `stop` ends it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::wire::{self, Envelope, What};
use crate::protocol::{ProtoError, Request, Response};
use crate::server::center::{CenterHandle, Command, ConnId};
use crate::server::conn::Outbound;

/// One remote connection: (its node, that gateway's boot, its number there).
type Remote = (String, u64, u64);

pub struct Owner {
    client: async_nats::Client,
    center_name: String,
    center: CenterHandle,
    next_conn: Arc<AtomicU64>,
    queue: usize,
    conns: HashMap<Remote, ConnId>,
    /// The last command taken from each gateway (`seq`): a command sent
    /// again after a lost acknowledgement is acknowledged, not taken twice.
    seen: HashMap<(String, u64), u64>,
    /// Each gateway's process (boot) and when it was last heard of.
    gateways: HashMap<String, (u64, Instant)>,
    /// A gateway not heard of for this long is gone: its connections are
    /// dropped (their agents reconnect elsewhere, within the grace period).
    silent: Duration,
    stop: CancellationToken,
}

impl Owner {
    pub fn new(
        client: async_nats::Client,
        center_name: &str,
        center: CenterHandle,
        next_conn: Arc<AtomicU64>,
        queue: usize,
        silent: Duration,
        stop: CancellationToken,
    ) -> Owner {
        Owner {
            client,
            center_name: center_name.into(),
            center,
            next_conn,
            queue,
            conns: HashMap::new(),
            seen: HashMap::new(),
            gateways: HashMap::new(),
            silent,
            stop,
        }
    }

    /// Take commands (`sub`) and heartbeats (`alive`) until stopped.
    pub async fn run(mut self, mut sub: async_nats::Subscriber, mut alive: async_nats::Subscriber) {
        let mut sweep = tokio::time::interval(self.silent / 3);
        loop {
            let msg = tokio::select! {
                _ = self.stop.cancelled() => break,
                m = sub.next() => match m {
                    Some(m) => m,
                    None => break,
                },
                Some(a) = alive.next() => {
                    if let Ok(a) = serde_json::from_slice::<wire::Alive>(&a.payload) {
                        self.heard(&a.node, a.boot);
                    }
                    continue;
                }
                _ = sweep.tick() => {
                    self.sweep();
                    continue;
                }
            };
            // Commands come in order, several to a request; each gets its
            // acknowledgement, in the same order.
            let acks: Vec<&str> = match serde_json::from_slice::<Vec<Envelope>>(&msg.payload) {
                Ok(envs) => envs.into_iter().map(|env| self.take(env)).collect(),
                Err(e) => {
                    tracing::warn!(error = %e, "cluster: commands that do not parse; dropped");
                    Vec::new()
                }
            };
            if let (Some(reply), Ok(bytes)) = (msg.reply, serde_json::to_vec(&acks)) {
                let _ = self.client.publish(reply, bytes.into()).await;
            }
        }
        let _ = sub.unsubscribe().await;
    }

    /// A gateway's heartbeat or command: one that restarted under the same
    /// name leaves its predecessor's connections behind, dropped here.
    fn heard(&mut self, node: &str, boot: u64) {
        let now = Instant::now();
        match self.gateways.get_mut(node) {
            Some((b, at)) if *b == boot => *at = now,
            Some(_) => {
                self.drop_gateway(node);
                self.gateways.insert(node.to_string(), (boot, now));
            }
            None => {
                self.gateways.insert(node.to_string(), (boot, now));
            }
        }
    }

    /// Gateways silent for too long are gone.
    fn sweep(&mut self) {
        let now = Instant::now();
        let gone: Vec<String> = self
            .gateways
            .iter()
            .filter(|(_, (_, at))| now.duration_since(*at) > self.silent)
            .map(|(n, _)| n.clone())
            .collect();
        for node in gone {
            tracing::warn!(%node, "cluster: a gateway fell silent; its connections are dropped");
            self.drop_gateway(&node);
            self.gateways.remove(&node);
        }
    }

    /// Every connection of `node` leaves the center (as if closed).
    fn drop_gateway(&mut self, node: &str) {
        let mine: Vec<Remote> = self
            .conns
            .keys()
            .filter(|(n, _, _)| n == node)
            .cloned()
            .collect();
        for r in mine {
            if let Some(conn) = self.conns.remove(&r) {
                let _ = self.center.tx.send(Command::Disconnected { conn });
            }
        }
    }

    fn take(&mut self, env: Envelope) -> &'static str {
        self.heard(&env.node, env.boot);
        let gateway = (env.node.clone(), env.boot);
        if self.seen.get(&gateway).is_some_and(|&last| env.seq <= last) {
            return wire::TAKEN;
        }
        let remote = (env.node.clone(), env.boot, env.conn);
        let cmd = match env.what {
            What::Login(mut login) => {
                login.node = Some(env.node.clone());
                if self.conns.contains_key(&remote) {
                    // Logged in here already: its gateway logged it in
                    // again on this owner's news after a command of its
                    // had done so first. The connection is the same one;
                    // logging it in twice would end a trunk's calls.
                    tracing::debug!(conn = env.conn, node = %env.node, "cluster: a login again of a connection this owner has; taken as done");
                    self.seen.insert(gateway, env.seq);
                    return wire::TAKEN;
                }
                let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
                let (tx, rx) = mpsc::channel(self.queue);
                tokio::spawn(publish(
                    self.client.clone(),
                    wire::frames(&self.center_name, &env.node),
                    (env.boot, env.conn),
                    rx,
                    self.stop.clone(),
                ));
                self.conns.insert(remote, conn);
                Command::Login { conn, login, tx }
            }
            What::Request {
                id,
                method,
                params,
                password_hash,
            } => {
                let Some(&conn) = self.conns.get(&remote) else {
                    return wire::UNKNOWN;
                };
                match Request::from_parts(&method, params) {
                    Ok(mut req) => {
                        if let Request::SupervisorSetPassword(p) = &mut req {
                            p.hash = password_hash;
                        }
                        Command::Request { conn, id, req }
                    }
                    Err(e) => {
                        // The gateway decoded it: only a node of another
                        // version sends what this one does not know.
                        self.refuse(&remote, id, e);
                        self.seen.insert(gateway, env.seq);
                        return wire::TAKEN;
                    }
                }
            }
            What::CustomerLine { session } => {
                let Some(&conn) = self.conns.get(&remote) else {
                    return wire::UNKNOWN;
                };
                Command::CustomerLine {
                    conn,
                    session,
                    line: None,
                }
            }
            What::Disconnected => match self.conns.remove(&remote) {
                Some(conn) => Command::Disconnected { conn },
                None => return wire::TAKEN,
            },
        };
        self.seen.insert(gateway, env.seq);
        let _ = self.center.tx.send(cmd);
        wire::TAKEN
    }

    /// An error response straight to a remote connection.
    fn refuse(&self, (node, boot, conn): &Remote, id: serde_json::Value, e: ProtoError) {
        let client = self.client.clone();
        let subject = wire::frames(&self.center_name, node);
        let text = Response::error(id, &e).to_json();
        let to = (*boot, *conn);
        tokio::spawn(async move {
            let _ = client
                .publish_with_headers(subject, headers(to, false), text.into())
                .await;
        });
    }
}

fn headers((boot, conn): (u64, u64), close: bool) -> async_nats::HeaderMap {
    let mut h = async_nats::HeaderMap::new();
    h.insert(wire::BOOT, boot.to_string().as_str());
    h.insert(wire::CONN, conn.to_string().as_str());
    if close {
        h.insert(wire::CLOSE, "1");
    }
    h
}

/// One remote connection's frames, in order, to its node; when the center
/// drops the connection (its queue closes) the gateway is told to close it.
async fn publish(
    client: async_nats::Client,
    subject: String,
    to: (u64, u64),
    mut rx: mpsc::Receiver<Outbound>,
    stop: CancellationToken,
) {
    loop {
        let out = tokio::select! {
            _ = stop.cancelled() => return,
            o = rx.recv() => o,
        };
        let (close, payload) = match out {
            Some(Outbound::Text(t)) => (false, bytes::Bytes::copy_from_slice(t.as_bytes())),
            Some(Outbound::Close) | None => (true, bytes::Bytes::new()),
        };
        if let Err(e) = client
            .publish_with_headers(subject.clone(), headers(to, close), payload)
            .await
        {
            tracing::warn!(conn = to.1, error = %e, "cluster: a frame could not be published");
        }
        if close {
            return;
        }
    }
}
