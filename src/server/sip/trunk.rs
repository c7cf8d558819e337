//! The SIP gateway's side of the center: it is a trunk, like any
//! WebSocket trunk, but on the center's command channel instead of a
//! socket. Requests are the protocol's `Customer.*` methods; the center's
//! frames (responses and the trunk's events) come back as text on an
//! outbound queue, exactly as a connection would receive them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::protocol::{Event, ProtoError, Request, Response, ServerMessage, Status};
use crate::server::center::{CenterHandle, Command, ConnId, LoginAsk, Outbound};
use crate::server::config::Role;
use crate::server::media::PhoneLine;

/// Frames queued from the center before the gateway reads them.
const QUEUE: usize = 4096;

/// The gateway's trunk connection to the center.
#[derive(Clone)]
pub struct TrunkLink {
    center: CenterHandle,
    conn: ConnId,
    next_id: Arc<AtomicU64>,
    pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Response>>>>,
}

impl TrunkLink {
    /// Log in to the center as a trunk; the events it sends come out of
    /// the receiver (responses are matched to their requests here).
    /// `dials`: outbound calls (`dial`) may be given to this trunk.
    /// `node`: the cluster's node it runs on, which names it (`sip-<node>`,
    /// so that a new owner gives each node's calls back to that node).
    pub async fn login(
        center: CenterHandle,
        conn: ConnId,
        dials: bool,
        node: Option<&str>,
    ) -> anyhow::Result<(TrunkLink, mpsc::UnboundedReceiver<Event>)> {
        // The gateway rings seats' phones (desk phones register with it),
        // but not in a cluster, where the phones' audio would be on
        // another node than the call's; it dials only with a trunk to
        // dial through.
        let (tx, mut rx) = mpsc::channel::<Outbound>(QUEUE);
        let link = TrunkLink {
            center,
            conn,
            next_id: Arc::new(AtomicU64::new(1)),
            pending: Arc::default(),
        };
        let (login_tx, login_rx) = oneshot::channel();
        link.lock().insert(0, login_tx);
        link.center
            .tx
            .send(Command::Login {
                conn,
                login: LoginAsk {
                    id: Value::from(0),
                    user: node.map_or_else(|| "sip".to_string(), |n| format!("sip-{n}")),
                    role: Role::Trunk,
                    enable_shared: false,
                    issued: None,
                    dials,
                    phones: node.is_none(),
                    node: None,
                },
                tx,
            })
            .map_err(|_| anyhow::anyhow!("the center has stopped"))?;
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let pending = link.pending.clone();
        tokio::spawn(async move {
            while let Some(frame) = rx.recv().await {
                let Outbound::Text(text) = frame else {
                    break;
                };
                match ServerMessage::parse(&text) {
                    Ok(ServerMessage::Event(ev)) => {
                        if events_tx.send(ev).is_err() {
                            break;
                        }
                    }
                    Ok(ServerMessage::Response(r)) => {
                        let id = r.id.as_u64().unwrap_or(u64::MAX);
                        let waiter = pending
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .remove(&id);
                        if let Some(w) = waiter {
                            let _ = w.send(r);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "sip: a frame from the center not understood")
                    }
                }
            }
        });
        let r = login_rx
            .await
            .map_err(|_| anyhow::anyhow!("the center did not answer the gateway's login"))?;
        if r.status != Status::Success {
            anyhow::bail!(
                "the center refused the SIP gateway's login: {}",
                r.error_msg.unwrap_or_default()
            );
        }
        Ok((link, events_rx))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<Response>>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A request to the center: its result, or the error it was answered with.
    pub async fn call(&self, req: Request) -> Result<Option<Value>, ProtoError> {
        let answer = self.submit(req)?;
        Self::answer(answer).await
    }

    /// Send a request now; its answer comes on the receiver. What is sent
    /// to the center after this is handled after it.
    pub fn submit(&self, req: Request) -> Result<oneshot::Receiver<Response>, ProtoError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.lock().insert(id, tx);
        let sent = self.center.tx.send(Command::Request {
            conn: self.conn,
            id: Value::from(id),
            req,
        });
        if sent.is_err() {
            self.lock().remove(&id);
            return Err(ProtoError::internal("the center has stopped"));
        }
        Ok(rx)
    }

    /// The result of a request [`submit`](Self::submit)ted.
    pub async fn answer(rx: oneshot::Receiver<Response>) -> Result<Option<Value>, ProtoError> {
        let r = rx
            .await
            .map_err(|_| ProtoError::internal("the center dropped the request"))?;
        match r.status {
            Status::Success => Ok(r.data),
            Status::Error => Err(ProtoError::new(
                r.error_code.unwrap_or(crate::protocol::ErrorCode::Internal),
                r.error_msg.unwrap_or_default(),
            )),
        }
    }

    /// Give a seat's answered phone to the center as the seat's audio in
    /// a session.
    pub fn seat_line(&self, session: &str, user: &str, line: Box<dyn PhoneLine>) {
        let _ = self.center.tx.send(Command::SeatLine {
            conn: self.conn,
            session: session.to_string(),
            user: user.to_string(),
            line,
        });
    }

    /// Give a session's customer side to the center as a phone line.
    pub fn line(&self, session: &str, line: Box<dyn PhoneLine>) {
        let _ = self.center.tx.send(Command::CustomerLine {
            conn: self.conn,
            session: session.to_string(),
            line: Some(line),
        });
    }
}
