//! The signalling client: connect, log in, correlate responses with their
//! requests, and hand events over in the order they arrived.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::protocol::{ErrorCode, Event, LoginResult, ProtoError, Response, ServerMessage, Status};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot connect to {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: Box<tokio_tungstenite::tungstenite::Error>,
    },
    /// `wss://`: TLS could not be set up, or the server's certificate did
    /// not verify (never a silent fallback to plain text).
    #[error("cannot connect to {url}: {reason}")]
    Tls { url: String, reason: String },
    #[error("the connection is closed")]
    Closed,
    #[error("{}: {}", .0.code.as_str(), .0.message)]
    Server(ProtoError),
    #[error("unexpected answer: {0}")]
    Unexpected(String),
}

/// Sends requests on a connection; clones share it.
#[derive(Clone)]
pub struct Handle {
    cmds: mpsc::UnboundedSender<Cmd>,
}

impl Handle {
    /// Send a request and wait for its response (success or error).
    pub async fn request(&self, method: &str, params: Value) -> Result<Response, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send(Cmd::Request {
                method: method.to_string(),
                params,
                reply: tx,
            })
            .map_err(|_| ClientError::Closed)?;
        rx.await.map_err(|_| ClientError::Closed)
    }

    /// Send a request; an error response becomes `ClientError::Server`.
    pub async fn call(&self, method: &str, params: Value) -> Result<Option<Value>, ClientError> {
        let r = self.request(method, params).await?;
        match r.status {
            Status::Success => Ok(r.data),
            Status::Error => Err(ClientError::Server(ProtoError::new(
                r.error_code.unwrap_or(ErrorCode::Internal),
                r.error_msg.unwrap_or_default(),
            ))),
        }
    }

    /// Close the connection.
    pub fn close(&self) {
        let _ = self.cmds.send(Cmd::Close);
    }
}

enum Cmd {
    Request {
        method: String,
        params: Value,
        reply: oneshot::Sender<Response>,
    },
    Raw(String),
    Close,
}

/// One WebSocket connection to a ccdesk server.
pub struct Connection {
    cmds: mpsc::UnboundedSender<Cmd>,
    /// Events in arrival order; `None` once the connection has closed.
    pub events: mpsc::UnboundedReceiver<Event>,
    /// Frames the client could not parse (kept for diagnostics).
    pub unparsed: mpsc::UnboundedReceiver<String>,
}

impl Connection {
    /// Connect to a `ws://` or `wss://` URL (TLS verified against the
    /// system's roots).
    pub async fn connect(url: &str) -> Result<Connection, ClientError> {
        Self::connect_with_ca(url, None).await
    }

    /// Connect; a `wss://` server's certificate is verified against the
    /// system's roots and, when given, the CA certificates in `ca` (PEM).
    pub async fn connect_with_ca(
        url: &str,
        ca: Option<&std::path::Path>,
    ) -> Result<Connection, ClientError> {
        // Reads of 8 KiB at a time (tungstenite's default zeroes 128 KiB
        // for each connection; the load generator opens thousands). A
        // larger frame, a big wallboard snapshot say, still arrives whole.
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(8 * 1024);
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let (bad_tx, bad_rx) = mpsc::unbounded_channel();
        let refused = |source| ClientError::Connect {
            url: url.to_string(),
            source: Box::new(source),
        };
        if url.starts_with("wss://") {
            let tls = |reason: String| ClientError::Tls {
                url: url.to_string(),
                reason,
            };
            let uri: tokio_tungstenite::tungstenite::http::Uri =
                url.parse().map_err(|e| tls(format!("not a URL: {e}")))?;
            let host = uri
                .host()
                .ok_or_else(|| tls("the URL has no host".into()))?
                .to_string();
            let port = uri.port_u16().unwrap_or(443);
            let connector = crate::tls::connector(ca).map_err(|e| tls(format!("{e:#}")))?;
            let name = crate::tls::server_name(&host).map_err(|e| tls(format!("{e:#}")))?;
            let tcp = tokio::net::TcpStream::connect((
                host.trim_start_matches('[').trim_end_matches(']'),
                port,
            ))
            .await
            .map_err(|e| refused(e.into()))?;
            let _ = tcp.set_nodelay(true);
            let stream = connector
                .connect(name, tcp)
                .await
                .map_err(|e| tls(format!("TLS: {e}")))?;
            let (ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(config))
                .await
                .map_err(refused)?;
            tokio::spawn(run(ws, cmd_rx, ev_tx, bad_tx));
        } else {
            let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
                .await
                .map_err(refused)?;
            tokio::spawn(run(ws, cmd_rx, ev_tx, bad_tx));
        }
        Ok(Connection {
            cmds: cmd_tx,
            events: ev_rx,
            unparsed: bad_rx,
        })
    }

    /// A cloneable sender of requests on this connection.
    pub fn handle(&self) -> Handle {
        Handle {
            cmds: self.cmds.clone(),
        }
    }

    /// Send a request and wait for its response (success or error).
    pub async fn request(&self, method: &str, params: Value) -> Result<Response, ClientError> {
        self.handle().request(method, params).await
    }

    /// Send a request; an error response becomes `ClientError::Server`.
    pub async fn call(&self, method: &str, params: Value) -> Result<Option<Value>, ClientError> {
        self.handle().call(method, params).await
    }

    pub async fn login(
        &self,
        user: &str,
        token: &str,
        enable_shared: bool,
    ) -> Result<LoginResult, ClientError> {
        let data = self
            .call(
                "login",
                json!({ "userId": user, "token": token, "enableShared": enable_shared }),
            )
            .await?
            .ok_or_else(|| ClientError::Unexpected("login answered without data".into()))?;
        serde_json::from_value(data)
            .map_err(|e| ClientError::Unexpected(format!("login data: {e}")))
    }

    /// Send a frame as it is (for testing what servers do with bad input).
    pub fn send_raw(&self, text: impl Into<String>) -> Result<(), ClientError> {
        self.cmds
            .send(Cmd::Raw(text.into()))
            .map_err(|_| ClientError::Closed)
    }

    pub fn close(&self) {
        let _ = self.cmds.send(Cmd::Close);
    }
}

async fn run<S>(
    ws: tokio_tungstenite::WebSocketStream<S>,
    mut cmds: mpsc::UnboundedReceiver<Cmd>,
    events: mpsc::UnboundedSender<Event>,
    unparsed: mpsc::UnboundedSender<String>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut stream) = ws.split();
    let mut pending: HashMap<u64, oneshot::Sender<Response>> = HashMap::new();
    let next_id = AtomicU64::new(1);
    loop {
        tokio::select! {
            cmd = cmds.recv() => match cmd {
                Some(Cmd::Request { method, params, reply }) => {
                    let id = next_id.fetch_add(1, Ordering::Relaxed);
                    pending.insert(id, reply);
                    let frame = json!({ "id": id, "method": method, "params": params }).to_string();
                    if sink.send(Message::text(frame)).await.is_err() { break; }
                }
                Some(Cmd::Raw(text)) => {
                    if sink.send(Message::text(text)).await.is_err() { break; }
                }
                Some(Cmd::Close) | None => {
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
            },
            frame = stream.next() => match frame {
                Some(Ok(Message::Text(text))) => match ServerMessage::parse(&text) {
                    Ok(ServerMessage::Event(ev)) => { let _ = events.send(ev); }
                    Ok(ServerMessage::Response(resp)) => {
                        let waiter = resp.id.as_u64().and_then(|id| pending.remove(&id));
                        match waiter {
                            Some(w) => { let _ = w.send(resp); }
                            None => { let _ = unparsed.send(text.to_string()); }
                        }
                    }
                    Err(_) => { let _ = unparsed.send(text.to_string()); }
                },
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
        }
    }
}
