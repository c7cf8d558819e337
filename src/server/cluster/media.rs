//! Media on the node where a call landed (docs/ARCHITECTURE.md, "Several
//! nodes"): every node runs a media service that keeps the bridges the
//! center's owner asks it for, whoever the owner is. The owner reaches it
//! through [`NatsMedia`] (the center's [`MediaNodes`]); the bridges'
//! events go back on one subject the owner listens to. A bridge outlives
//! the owner that opened it: a new owner takes it over by name.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::wire;
use crate::server::center::{CenterHandle, Command};
use crate::server::media::{
    Answer, Bridge, BridgeCmd, BridgeEvent, MediaNodes, NodeCmd, PhoneLine, Report,
};
use crate::server::speech::Speech;

/// How long an owner waits for a node to answer an offer.
const OFFER_WAIT: Duration = Duration::from_secs(10);

/// How long a phone line waits for its bridge to be opened (the owner
/// refused the call, or there is none): then it is dropped, which ends
/// its RTP.
const LINE_WAIT: Duration = Duration::from_secs(30);

/// How many of the owner's lists in a row may leave a bridge out before
/// the bridge is ended: the owner that opened it is gone and the session
/// ended without its successor knowing (the last moments before a kill).
const MISSES: u8 = 2;

/// How long a new owner waits for a node's media service to answer.
const PING_WAIT: Duration = Duration::from_millis(500);

/// This node's SIP gives its calls' phone lines here, by session.
pub type LocalLines = mpsc::UnboundedSender<(String, Box<dyn PhoneLine>)>;

/// What an owner sends a node's media service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum MediaMsg {
    /// For the bridge of `sid` (published, in order).
    Cmd { sid: String, cmd: NodeCmd },
    /// `user`'s WebRTC offer for the bridge of `sid` (request/reply).
    Offer {
        sid: String,
        user: String,
        sdp: String,
    },
    /// Is the service there (request/reply: the node's name)?
    Ping,
    /// The sessions whose bridges run here (request/reply: a JSON list).
    Bridges,
}

/// Whether `node`'s media service answers (a new owner asks before it
/// takes over the bridges the old owner had there).
pub async fn answers(client: &async_nats::Client, center: &str, node: &str) -> bool {
    let Ok(ping) = serde_json::to_vec(&MediaMsg::Ping) else {
        return false;
    };
    matches!(
        tokio::time::timeout(PING_WAIT, client.request(wire::media(center, node), ping.into())).await,
        Ok(Ok(m)) if m.payload.as_ref() == node.as_bytes()
    )
}

/// The old owner's state without the bridges on nodes that are gone (they
/// went with their node; a call's next offer opens a new one).
pub async fn keep_live_bridges(
    client: &async_nats::Client,
    center: &str,
    st: &mut crate::server::center::CenterState,
) {
    let mut nodes: Vec<String> = st
        .sessions
        .iter()
        .filter_map(|s| s.bridge_node.clone())
        .collect();
    nodes.sort();
    nodes.dedup();
    for node in nodes {
        if !answers(client, center, &node).await {
            tracing::warn!(%node, "cluster: a node's media service is gone, and its calls' audio with it");
            for s in st.sessions.iter_mut() {
                if s.bridge_node.as_deref() == Some(node.as_str()) {
                    s.bridge_node = None;
                }
            }
        }
    }
}

/// A node's reply to an offer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OfferReply {
    Answer(String),
    Refused(String),
}

/// Run this node's media service until `stop`; the sender is where this
/// node's SIP gives it phone lines.
pub async fn serve(
    client: async_nats::Client,
    center: &str,
    node: &str,
    ip: IpAddr,
    speech: Speech,
    stop: CancellationToken,
) -> anyhow::Result<LocalLines> {
    let sub = client
        .subscribe(wire::media(center, node))
        .await
        .map_err(|e| anyhow::anyhow!("cannot subscribe to this node's media commands: {e}"))?;
    let live = client
        .subscribe(wire::live_bridges(center))
        .await
        .map_err(|e| anyhow::anyhow!("cannot subscribe to the owner's bridge lists: {e}"))?;
    // Bridges report from their tasks and from recognition threads: one
    // task publishes what they say, in order.
    let (events_tx, mut events_rx) = mpsc::unbounded_channel::<BridgeEvent>();
    let events = wire::bridge_events(center);
    let publisher = client.clone();
    let publish_stop = stop.clone();
    tokio::spawn(async move {
        loop {
            let ev = tokio::select! {
                _ = publish_stop.cancelled() => return,
                ev = events_rx.recv() => match ev {
                    Some(ev) => ev,
                    None => return,
                },
            };
            let Ok(bytes) = serde_json::to_vec(&ev) else {
                continue;
            };
            if let Err(e) = publisher.publish(events.clone(), bytes.into()).await {
                tracing::warn!(error = %e, "cluster: a bridge's event was not published");
            }
        }
    });
    let report: Report = Arc::new(move |ev| {
        let _ = events_tx.send(ev);
    });
    let service = Service {
        client,
        node: node.to_string(),
        ip,
        speech,
        report,
        bridges: HashMap::new(),
        lines: HashMap::new(),
        misses: HashMap::new(),
    };
    let (lines_tx, lines_rx) = mpsc::unbounded_channel();
    tokio::spawn(service.run((sub, live), lines_rx, stop));
    Ok(lines_tx)
}

struct Service {
    client: async_nats::Client,
    node: String,
    ip: IpAddr,
    speech: Speech,
    report: Report,
    bridges: HashMap<String, Bridge>,
    /// Phone lines whose bridge is not open yet, since when.
    lines: HashMap<String, (Box<dyn PhoneLine>, tokio::time::Instant)>,
    /// How many of the owner's lists in a row left each bridge out.
    misses: HashMap<String, u8>,
}

impl Service {
    async fn run(
        mut self,
        (mut sub, mut live): (async_nats::Subscriber, async_nats::Subscriber),
        mut lines: mpsc::UnboundedReceiver<(String, Box<dyn PhoneLine>)>,
        stop: CancellationToken,
    ) {
        let mut sweep = tokio::time::interval(LINE_WAIT);
        loop {
            let msg = tokio::select! {
                _ = stop.cancelled() => break,
                m = sub.next() => match m {
                    Some(m) => m,
                    None => break,
                },
                Some((sid, line)) = lines.recv() => {
                    self.line(sid, line);
                    continue;
                }
                Some(list) = live.next() => {
                    self.owners_list(&list.payload);
                    continue;
                }
                _ = sweep.tick() => {
                    self.drop_unclaimed_lines();
                    continue;
                }
            };
            match serde_json::from_slice::<MediaMsg>(&msg.payload) {
                Ok(MediaMsg::Cmd { sid, cmd }) => self.command(sid, cmd),
                Ok(MediaMsg::Offer { sid, user, sdp }) => {
                    let reply = msg.reply.clone();
                    self.offer(&sid, user, sdp, reply);
                }
                Ok(MediaMsg::Ping) => {
                    if let Some(reply) = msg.reply {
                        let _ = self.client.publish(reply, self.node.clone().into()).await;
                    }
                }
                Ok(MediaMsg::Bridges) => {
                    let mut sids: Vec<&String> = self.bridges.keys().collect();
                    sids.sort();
                    if let (Some(reply), Ok(bytes)) = (msg.reply, serde_json::to_vec(&sids)) {
                        let _ = self.client.publish(reply, bytes.into()).await;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cluster: a media command that does not parse; dropped")
                }
            }
        }
        for (_, b) in self.bridges.drain() {
            b.send(BridgeCmd::End);
        }
    }

    fn command(&mut self, sid: String, cmd: NodeCmd) {
        match cmd {
            NodeCmd::Open {
                recording,
                since_start_ms,
            } => {
                if !self.bridges.contains_key(&sid) {
                    tracing::debug!(session = %sid, node = %self.node, "cluster: a bridge opens here");
                    let b = Bridge::spawn(
                        &sid,
                        recording,
                        self.report.clone(),
                        self.speech.clone(),
                        since_start_ms,
                    );
                    if let Some((line, _)) = self.lines.remove(&sid) {
                        b.send(BridgeCmd::Line(line));
                    }
                    self.bridges.insert(sid, b);
                }
            }
            NodeCmd::Mix(mix) => match self.bridges.get_mut(&sid) {
                Some(b) => b.update(mix),
                None => tracing::debug!(session = %sid, "cluster: a mix for a bridge not here"),
            },
            NodeCmd::SendDigits(d) => {
                if let Some(b) = self.bridges.get(&sid) {
                    b.send(BridgeCmd::SendDigits(d));
                }
            }
            NodeCmd::Say { text, voice } => {
                if let Some(b) = self.bridges.get(&sid) {
                    b.send(BridgeCmd::Say { text, voice });
                }
            }
            NodeCmd::End => {
                self.misses.remove(&sid);
                if let Some(b) = self.bridges.remove(&sid) {
                    b.send(BridgeCmd::End);
                }
            }
        }
    }

    /// The owner's list of the bridges it has, by node.
    fn owners_list(&mut self, payload: &[u8]) {
        match serde_json::from_slice::<HashMap<String, Vec<String>>>(payload) {
            Ok(mut by_node) => {
                let mine = by_node.remove(&self.node).unwrap_or_default();
                self.keep_only(&mine);
            }
            Err(e) => tracing::warn!(error = %e, "cluster: an owner's bridge list does not parse"),
        }
    }

    /// Phone lines whose bridge was never opened within [`LINE_WAIT`]
    /// are dropped (which ends their RTP).
    fn drop_unclaimed_lines(&mut self) {
        let now = tokio::time::Instant::now();
        self.lines.retain(|sid, (_, at)| {
            let keep = now.duration_since(*at) < LINE_WAIT;
            if !keep {
                tracing::warn!(session = %sid, "cluster: a phone line whose bridge never opened; dropped");
            }
            keep
        });
    }

    /// The owner's list of the bridges it has here: a bridge it left out
    /// [`MISSES`] times in a row is ended (its session ended while no
    /// owner could say so).
    fn keep_only(&mut self, listed: &[String]) {
        let listed: std::collections::HashSet<&str> = listed.iter().map(String::as_str).collect();
        let mut orphans = Vec::new();
        for sid in self.bridges.keys() {
            if listed.contains(sid.as_str()) {
                self.misses.remove(sid);
                continue;
            }
            let m = self.misses.entry(sid.clone()).or_insert(0);
            *m += 1;
            if *m >= MISSES {
                orphans.push(sid.clone());
            }
        }
        for sid in orphans {
            tracing::warn!(session = %sid, node = %self.node, "cluster: a bridge no owner knows; ended");
            self.misses.remove(&sid);
            if let Some(b) = self.bridges.remove(&sid) {
                b.send(BridgeCmd::End);
            }
        }
    }

    /// A call's phone line from this node's SIP: into its bridge, or kept
    /// until the owner opens it.
    fn line(&mut self, sid: String, line: Box<dyn PhoneLine>) {
        match self.bridges.get(&sid) {
            Some(b) => b.send(BridgeCmd::Line(line)),
            None => {
                self.lines.insert(sid, (line, tokio::time::Instant::now()));
            }
        }
    }

    /// Negotiate off this loop; the reply goes to `reply`.
    fn offer(&self, sid: &str, user: String, sdp: String, reply: Option<async_nats::Subject>) {
        let Some(reply) = reply else {
            return;
        };
        let negotiator = self.bridges.get(sid).map(|b| b.negotiator());
        let client = self.client.clone();
        let ip = self.ip;
        let missing = format!("no bridge for session {sid} on node {}", self.node);
        crate::server::media::runtime().spawn(async move {
            let out = match negotiator {
                Some(n) => match n.answer(ip, user, sdp).await {
                    Ok(a) => OfferReply::Answer(a),
                    Err(e) => OfferReply::Refused(e),
                },
                None => OfferReply::Refused(missing),
            };
            if let Ok(bytes) = serde_json::to_vec(&out) {
                let _ = client.publish(reply, bytes.into()).await;
            }
        });
    }
}

/// The owner's way to the nodes' media services. Commands and offers go
/// out through one task, so that a bridge is opened and told its mix
/// before an offer for it arrives.
pub struct NatsMedia {
    center: String,
    tx: mpsc::UnboundedSender<Out>,
}

enum Out {
    Publish(String, Vec<u8>),
    Request(String, Vec<u8>, oneshot::Sender<Result<String, String>>),
}

impl NatsMedia {
    pub fn new(client: async_nats::Client, center: &str, stop: CancellationToken) -> NatsMedia {
        let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
        tokio::spawn(async move {
            loop {
                let out = tokio::select! {
                    _ = stop.cancelled() => return,
                    o = rx.recv() => match o {
                        Some(o) => o,
                        None => return,
                    },
                };
                match out {
                    Out::Publish(subject, bytes) => {
                        if let Err(e) = client.publish(subject, bytes.into()).await {
                            tracing::warn!(error = %e, "cluster: a media command was not published");
                        }
                    }
                    Out::Request(subject, bytes, answer) => {
                        request(&client, subject, bytes, answer).await;
                    }
                }
            }
        });
        NatsMedia {
            center: center.to_string(),
            tx,
        }
    }
}

/// Publish an offer with a reply inbox (subscribed first, so the answer
/// cannot be missed) and wait for the answer off the sending task.
async fn request(
    client: &async_nats::Client,
    subject: String,
    bytes: Vec<u8>,
    answer: oneshot::Sender<Result<String, String>>,
) {
    let inbox = client.new_inbox();
    let mut sub = match client.subscribe(inbox.clone()).await {
        Ok(s) => s,
        Err(e) => {
            let _ = answer.send(Err(format!("cannot reach the media node: {e}")));
            return;
        }
    };
    if let Err(e) = client
        .publish_with_reply(subject.clone(), inbox, bytes.into())
        .await
    {
        let _ = answer.send(Err(format!("cannot reach the media node: {e}")));
        return;
    }
    tokio::spawn(async move {
        let out = match tokio::time::timeout(OFFER_WAIT, sub.next()).await {
            Ok(Some(m)) => match serde_json::from_slice::<OfferReply>(&m.payload) {
                Ok(OfferReply::Answer(a)) => Ok(a),
                Ok(OfferReply::Refused(why)) => Err(why),
                // NATS's "no responders" status has no payload.
                Err(_) => Err(format!("no media service answers on {subject}")),
            },
            Ok(None) | Err(_) => Err(format!("no answer from {subject}")),
        };
        let _ = sub.unsubscribe().await;
        let _ = answer.send(out);
    });
}

impl MediaNodes for NatsMedia {
    fn command(&self, node: &str, sid: &str, cmd: NodeCmd) {
        let msg = MediaMsg::Cmd {
            sid: sid.to_string(),
            cmd,
        };
        if let Ok(bytes) = serde_json::to_vec(&msg) {
            let _ = self
                .tx
                .send(Out::Publish(wire::media(&self.center, node), bytes));
        }
    }

    fn offer(&self, node: &str, sid: &str, user: &str, sdp: String) -> Answer {
        let msg = MediaMsg::Offer {
            sid: sid.to_string(),
            user: user.to_string(),
            sdp,
        };
        let (tx, rx) = oneshot::channel();
        let sent = serde_json::to_vec(&msg)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                self.tx
                    .send(Out::Request(wire::media(&self.center, node), bytes, tx))
                    .map_err(|_| "the cluster's media link has stopped".to_string())
            });
        Box::pin(async move {
            sent?;
            rx.await
                .map_err(|_| "the cluster's media link has stopped".to_string())?
        })
    }
}

/// While this node owns the center: the bridges' events (from every
/// node's media service) to the center.
pub async fn forward_events(
    client: async_nats::Client,
    center_name: &str,
    center: CenterHandle,
    term: CancellationToken,
) -> anyhow::Result<()> {
    let mut sub = client
        .subscribe(wire::bridge_events(center_name))
        .await
        .map_err(|e| anyhow::anyhow!("cannot subscribe to the bridges' events: {e}"))?;
    tokio::spawn(async move {
        loop {
            let msg = tokio::select! {
                _ = term.cancelled() => break,
                m = sub.next() => match m {
                    Some(m) => m,
                    None => break,
                },
            };
            match serde_json::from_slice::<BridgeEvent>(&msg.payload) {
                Ok(ev) => {
                    if center.tx.send(Command::from(ev)).is_err() {
                        break;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cluster: a bridge's event does not parse"),
            }
        }
        let _ = sub.unsubscribe().await;
    });
    Ok(())
}

/// While this node owns the center: every `every`, the bridges it knows
/// on each node, for the media services to end those no owner knows.
pub async fn publish_live(
    client: async_nats::Client,
    center_name: String,
    center: CenterHandle,
    every: Duration,
    term: CancellationToken,
) {
    let subject = wire::live_bridges(&center_name);
    let mut tick = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = term.cancelled() => return,
            _ = tick.tick() => {}
        }
        let (tx, rx) = oneshot::channel();
        if center.tx.send(Command::Bridges(tx)).is_err() {
            return;
        }
        let Ok(by_node) = rx.await else { return };
        if term.is_cancelled() {
            return;
        }
        if let Ok(bytes) = serde_json::to_vec(&by_node) {
            let _ = client.publish(subject.clone(), bytes.into()).await;
        }
    }
}
