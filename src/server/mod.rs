//! The contact center: `ccdesk serve`.

pub mod agent;
pub mod auth;
pub mod center;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod conn;
pub mod connection;
pub mod kpi;
pub mod media;
pub mod passwords;
pub mod pg_records;
pub mod records;
pub mod report;
pub mod routing;
pub mod session;
pub mod sip;
pub mod speech;
pub mod tracked;
pub mod users;
pub mod writer;

use std::net::SocketAddr;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use self::center::Center;
use self::clock::Clock;
use self::config::ServerConfig;
use self::connection::ServerCtx;
use self::records::RecordStore;

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    ctx: Arc<ServerCtx>,
    /// Telephony, once started ([`Server::start_sip`]).
    pub sip: Option<sip::Sip>,
    /// This node, in a cluster ([`Server::start_node`]).
    pub node: Option<cluster::Node>,
}

impl Server {
    /// Start serving on an already bound listener, writing records to `records`.
    pub fn start(
        cfg: ServerConfig,
        listener: TcpListener,
        records: Box<dyn RecordStore>,
    ) -> std::io::Result<Server> {
        media::start_runtime(cfg.media.threads);
        let cfg = Arc::new(cfg);
        let clock = Clock::new();
        let mut records = records;
        let users = users::Users::new(users::load_or_seed(records.as_mut(), &cfg));
        // Password logins read hashes beside the center.
        let reader = records.reader().map(|r| Arc::new(std::sync::Mutex::new(r)));
        let center = Center::new(cfg.clone(), clock, records, users.clone()).spawn();
        // Parsing a large config leaves freed heap behind: hand it back.
        crate::memory::give_back();
        Self::serve(listener, (cfg, clock, users, reader), center, None)
            .map_err(|e| std::io::Error::other(format!("{e:#}")))
    }

    /// Accept connections on `listener` for `center` (this process's
    /// center, or a cluster's gateway).
    fn serve(
        listener: TcpListener,
        (cfg, clock, users, reader): (
            Arc<ServerConfig>,
            Clock,
            Arc<users::Users>,
            Option<records::SharedReader>,
        ),
        center: center::CenterHandle,
        node: Option<cluster::Node>,
    ) -> anyhow::Result<Server> {
        let addr = listener.local_addr()?;
        let tls = match (&cfg.server.tls_cert, &cfg.server.tls_key) {
            (Some(c), Some(k)) => Some(crate::tls::acceptor(c, k)?),
            _ => None,
        };
        let ctx = Arc::new(ServerCtx {
            tls,
            reader,
            failures: Default::default(),
            cfg,
            users,
            clock,
            center,
            next_conn: AtomicU64::new(1),
        });
        let task = tokio::spawn(accept_loop(listener, ctx.clone()));
        Ok(Server {
            addr,
            task,
            ctx,
            sip: None,
            node,
        })
    }

    /// Start a node of a cluster (`[cluster] nats`): its connections go to
    /// whichever node owns the center, and it bids to own it, opening the
    /// records with `open_records` for each term (docs/ARCHITECTURE.md).
    pub async fn start_node(
        cfg: ServerConfig,
        listener: TcpListener,
        open_records: cluster::OpenRecords,
    ) -> anyhow::Result<Server> {
        media::start_runtime(cfg.media.threads);
        let cfg = Arc::new(cfg);
        let clock = Clock::new();
        // The gateway's own view of the users (logins) and a reader of
        // their password hashes.
        let open = open_records.clone();
        let cfg2 = cfg.clone();
        let (users, reader) = tokio::task::spawn_blocking(move || {
            let mut records = open()?;
            let users = users::load_or_seed(records.as_mut(), &cfg2);
            anyhow::Ok((users, records.reader()))
        })
        .await??;
        let users = users::Users::new(users);
        let reader = reader.map(|r| Arc::new(std::sync::Mutex::new(r)));
        let (center, node) = cluster::join(cfg.clone(), clock, open_records).await?;
        Self::serve(listener, (cfg, clock, users, reader), center, Some(node))
    }

    /// Start telephony, when the config has `[sip] listen`: an error names
    /// what could not be set up (an address in use, say).
    pub async fn start_sip(&mut self) -> anyhow::Result<()> {
        let conn = self
            .ctx
            .next_conn
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let node = self.node.as_ref().map(|n| n.name.clone());
        self.sip = sip::start(
            self.ctx.cfg.clone(),
            self.ctx.users.clone(),
            self.ctx.center.clone(),
            conn,
            node.as_deref(),
        )
        .await?;
        Ok(())
    }

    /// Stop accepting; open connections end as their peers go.
    pub fn stop(mut self) {
        self.task.abort();
        self.sip = None;
        self.node = None;
    }

    /// Wait until the accept loop ends (it runs until stopped).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Open connections per source address, against
/// `server.max_connections_per_address`.
#[derive(Clone)]
struct PerAddress {
    cap: usize,
    open: Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>,
}

/// One connection's place in [`PerAddress`], given back when dropped.
struct Slot {
    of: PerAddress,
    ip: std::net::IpAddr,
}

impl PerAddress {
    fn new(cap: usize) -> PerAddress {
        PerAddress {
            cap,
            open: Default::default(),
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<std::net::IpAddr, usize>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A place for one more connection from `ip`, if under the cap.
    fn take(&self, ip: std::net::IpAddr) -> Option<Slot> {
        if self.cap > 0 {
            let mut open = self.lock();
            let n = open.entry(ip).or_insert(0);
            if *n >= self.cap {
                return None;
            }
            *n += 1;
        }
        Some(Slot {
            of: self.clone(),
            ip,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.of.cap == 0 {
            return;
        }
        let mut open = self.of.lock();
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

async fn accept_loop(listener: TcpListener, ctx: Arc<ServerCtx>) {
    let per_address = PerAddress::new(ctx.cfg.server.max_connections_per_address);
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let Some(slot) = per_address.take(peer.ip()) else {
                    tracing::info!(%peer, cap = ctx.cfg.server.max_connections_per_address, "too many connections from one address; closed");
                    drop(stream);
                    continue;
                };
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    connection::handle(stream, peer, ctx).await;
                    drop(slot);
                });
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::error!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
