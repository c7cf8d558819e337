//! Several nodes on NATS (docs/ARCHITECTURE.md, "Several nodes"): every
//! node is a gateway for its own connections, and the node holding the
//! lease runs the center. Talks to the center only through its command
//! channel.

pub mod gateway;
pub mod lease;
pub mod media;
pub mod owner;
pub mod wire;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::center::{Center, CenterHandle, CenterState, Command};
use super::clock::Clock;
use super::config::ServerConfig;
use super::records::RecordStore;

/// The bucket of the centers' states (what a new owner restores).
pub const STATE_BUCKET: &str = "ccdesk-state";

/// How often the owner writes the center's state (when it changed).
const STATE_EVERY: Duration = Duration::from_millis(100);

/// Opens the center's records for a term of ownership (PostgreSQL, which
/// every node shares).
pub type OpenRecords = Arc<dyn Fn() -> anyhow::Result<Box<dyn RecordStore>> + Send + Sync>;

/// This node's name: `[cluster] node`, else the host name and process id.
pub fn node_name(cfg: &ServerConfig) -> String {
    cfg.cluster.node.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        let host: String = host
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!(
            "{}-{}",
            if host.is_empty() { "node" } else { &host },
            std::process::id()
        )
    })
}

/// A node in a cluster: stops its bid for the center (and gives the lease
/// up) when dropped.
pub struct Node {
    pub name: String,
    stop: CancellationToken,
    bid: Option<tokio::task::JoinHandle<()>>,
}

impl Node {
    /// Leave the cluster cleanly: stop bidding and, when this node owns
    /// the center, give the lease up and wait (at most two seconds) until
    /// it is given, so that another node takes over at once instead of
    /// waiting for the lease to age out.
    pub async fn leave(mut self) {
        self.stop.cancel();
        if let Some(bid) = self.bid.take() {
            let _ = tokio::time::timeout(Duration::from_secs(2), bid).await;
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Join the cluster: the gateway handle this node's connections send
/// their commands to, and the node, which bids for the center's lease and
/// runs the center while it holds it.
pub async fn join(
    cfg: Arc<ServerConfig>,
    clock: Clock,
    open_records: OpenRecords,
) -> anyhow::Result<(CenterHandle, Node)> {
    let url = cfg
        .cluster
        .nats
        .clone()
        .ok_or_else(|| anyhow::anyhow!("[cluster] nats is not set"))?;
    let name = node_name(&cfg);
    let client = async_nats::ConnectOptions::new()
        .name(format!("ccdesk {name}"))
        .connect(url.as_str())
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach NATS at {url}: {e}"))?;
    let js = async_nats::jetstream::new(client.clone());
    let lease_len = Duration::from_millis(cfg.cluster.lease_ms);
    let kv = lease::bucket(&js, lease_len).await?;
    let state = lease::kv_bucket(
        &js,
        STATE_BUCKET,
        "ccdesk: each center's state, for its next owner",
        None,
    )
    .await?;
    let stop = CancellationToken::new();
    // The bridges of the calls that land here, whoever owns the center.
    let speech = if cfg.media.enabled {
        super::speech::Speech::load(&cfg.speech)
    } else {
        super::speech::Speech::default()
    };
    let lines = media::serve(
        client.clone(),
        &cfg.cluster.center,
        &name,
        cfg.media_ip(),
        speech,
        stop.clone(),
    )
    .await?;
    let handle = gateway::start(
        client.clone(),
        &cfg.cluster.center,
        &name,
        lease_len / 3,
        lines,
    )
    .await?;
    let bid = Bid {
        client,
        kv,
        state,
        cfg,
        clock,
        open_records,
        node: name.clone(),
        stop: stop.clone(),
    };
    let bid = tokio::spawn(bid.run());
    Ok((
        handle,
        Node {
            name,
            stop,
            bid: Some(bid),
        },
    ))
}

struct Bid {
    client: async_nats::Client,
    kv: async_nats::jetstream::kv::Store,
    /// Where the owner keeps the center's state for the next owner.
    state: async_nats::jetstream::kv::Store,
    cfg: Arc<ServerConfig>,
    clock: Clock,
    open_records: OpenRecords,
    node: String,
    stop: CancellationToken,
}

impl Bid {
    /// Try for the lease every third of its length; while held, renew it
    /// as often and run the center.
    async fn run(self) {
        let every = Duration::from_millis(self.cfg.cluster.lease_ms / 3);
        let key = self.cfg.cluster.center.clone();
        loop {
            match lease::take(&self.kv, &key, &self.node).await {
                Ok(Some(held)) => self.own(held, every).await,
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "cluster: the lease could not be asked for"),
            }
            tokio::select! {
                _ = self.stop.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
        }
    }

    /// A term of ownership: until the lease is lost or the node stops.
    async fn own(&self, mut held: lease::Held, every: Duration) {
        let term = self.stop.child_token();
        let center = match self.start_center(&term).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cluster: this node took the lease but cannot run the center; giving it up");
                lease::give_up(&self.kv, &held).await;
                return;
            }
        };
        tracing::info!(node = %self.node, center = %self.cfg.cluster.center, "cluster: this node owns the center");
        let _ = self
            .client
            .publish(
                wire::owners(&self.cfg.cluster.center),
                self.node.clone().into(),
            )
            .await;
        loop {
            tokio::select! {
                _ = self.stop.cancelled() => {
                    lease::give_up(&self.kv, &held).await;
                    break;
                }
                _ = tokio::time::sleep(every) => {
                    if let Err(e) = lease::renew(&self.kv, &mut held).await {
                        tracing::error!(error = %e, "cluster: this node no longer owns the center");
                        break;
                    }
                }
            }
        }
        term.cancel();
        drop(center);
    }

    /// The center's actor and the subscription that feeds it.
    async fn start_center(&self, term: &CancellationToken) -> anyhow::Result<CenterHandle> {
        let open = self.open_records.clone();
        let cfg = self.cfg.clone();
        // Opening a database blocks.
        let (records, users) = tokio::task::spawn_blocking(move || {
            let mut records = open()?;
            let users = super::users::load_or_seed(records.as_mut(), &cfg);
            anyhow::Ok((records, users))
        })
        .await??;
        let users = super::users::Users::new(users);
        let nodes =
            media::NatsMedia::new(self.client.clone(), &self.cfg.cluster.center, term.clone());
        let center = Center::new(self.cfg.clone(), self.clock, records, users)
            .with_media_nodes(self.node.clone(), Arc::new(nodes))
            .spawn();
        media::forward_events(
            self.client.clone(),
            &self.cfg.cluster.center,
            center.clone(),
            term.clone(),
        )
        .await?;
        tokio::spawn(media::publish_live(
            self.client.clone(),
            self.cfg.cluster.center.clone(),
            center.clone(),
            Duration::from_millis(self.cfg.cluster.lease_ms),
            term.clone(),
        ));
        // The previous owner's state, first thing.
        let key = &self.cfg.cluster.center;
        match self.state.entry(key.as_str()).await {
            Ok(Some(e)) if e.operation == async_nats::jetstream::kv::Operation::Put => {
                match serde_json::from_slice::<CenterState>(&e.value) {
                    Ok(mut st) => {
                        media::keep_live_bridges(&self.client, key, &mut st).await;
                        let _ = center.tx.send(Command::Restore(Box::new(st)));
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cluster: the center's state does not parse; starting without it")
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(error = %e, "cluster: the center's state cannot be read; starting without it")
            }
        }
        tokio::spawn(keep_state(
            center.clone(),
            self.state.clone(),
            key.clone(),
            term.clone(),
        ));
        let sub = self
            .client
            .subscribe(wire::commands(&self.cfg.cluster.center))
            .await
            .map_err(|e| anyhow::anyhow!("cannot subscribe to the center's commands: {e}"))?;
        let alive = self
            .client
            .subscribe(wire::alive(&self.cfg.cluster.center))
            .await
            .map_err(|e| anyhow::anyhow!("cannot subscribe to the gateways' heartbeats: {e}"))?;
        let owner = owner::Owner::new(
            self.client.clone(),
            &self.cfg.cluster.center,
            center.clone(),
            Arc::new(AtomicU64::new(1)),
            self.cfg.server.outbound_queue,
            Duration::from_millis(self.cfg.cluster.lease_ms),
            term.clone(),
        );
        tokio::spawn(owner.run(sub, alive));
        Ok(center)
    }
}

/// While this node owns the center: its state, written to `kv` whenever it
/// changed, at most every [`STATE_EVERY`].
async fn keep_state(
    center: CenterHandle,
    kv: async_nats::jetstream::kv::Store,
    key: String,
    term: CancellationToken,
) {
    let mut last: Vec<u8> = Vec::new();
    let mut tick = tokio::time::interval(STATE_EVERY);
    loop {
        tokio::select! {
            _ = term.cancelled() => return,
            _ = tick.tick() => {}
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        if center.tx.send(Command::State(tx)).is_err() {
            return;
        }
        let Ok(state) = rx.await else { return };
        let Ok(bytes) = serde_json::to_vec(&state) else {
            continue;
        };
        if bytes == last {
            continue;
        }
        if term.is_cancelled() {
            // No longer the owner: another node's state is not ours to write.
            return;
        }
        match kv.put(key.as_str(), bytes.clone().into()).await {
            Ok(_) => last = bytes,
            Err(e) => tracing::warn!(error = %e, "cluster: the center's state was not written"),
        }
    }
}
