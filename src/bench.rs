//! `ccdesk bench`: a load generator. It starts a fresh `ccdesk serve` process
//! on loopback, connects N agents and a trunk placing R calls a second (agents
//! accept, talk briefly and hang up), and reports Customer.call → callIn
//! latency, request → response latency, calls/s sustained and the server's
//! resident memory; beside it, a bare tokio-tungstenite echo round trip as the
//! floor. `--idle N` instead holds N logged-in idle agent connections and
//! reports the server's memory. `--miss` measures how soon a colleague who
//! becomes free gets a session whose offer rang out elsewhere. `--nodes N`
//! runs the load against one node and then against N nodes of a cluster on
//! a private `nats-server -js` in the same run (agents spread over the
//! nodes), then kills the owner with SIGKILL and measures how long until a
//! new call is offered (docs/BENCHMARKS.md). `--quick`
//! cuts every mode down to seconds (what CI runs: it completes, prints its
//! figures, and fails if a call failed).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::client::Connection;
use crate::protocol::Event;
use crate::server::auth;

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Agents connected and taking calls.
    #[arg(long, default_value_t = 1000)]
    pub agents: usize,
    /// Calls placed per second by the trunk.
    #[arg(long, default_value_t = 200.0)]
    pub rate: f64,
    /// Seconds of load.
    #[arg(long, default_value_t = 20)]
    pub duration: u64,
    /// Milliseconds an agent talks before hanging up.
    #[arg(long, default_value_t = 1000)]
    pub talk_ms: u64,
    /// Instead of calls: hold this many idle logged-in agent connections and report memory.
    #[arg(long)]
    pub idle: Option<usize>,
    /// Round trips of the bare WebSocket echo floor.
    #[arg(long, default_value_t = 5000)]
    pub echo_rounds: usize,
    /// Instead of calls: after an offer rings out at one agent, how soon a
    /// colleague who becomes free gets the session (with the no-answer
    /// delay, and without it, as before it existed).
    #[arg(long)]
    pub miss: bool,
    /// Pairs of agents measured at once in `--miss` (each pair a skill group).
    #[arg(long, default_value_t = 20)]
    pub pairs: usize,
    /// Rounds of `--miss` (each about 7 s).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// With more than 1: the load against one node, then against this many
    /// nodes of a cluster (NATS), then the failover time after the owner's
    /// SIGKILL.
    #[arg(long, default_value_t = 1)]
    pub nodes: usize,
    /// Seconds, not minutes: few agents, a short run (CI checks that every
    /// mode completes and prints its figures).
    #[arg(long)]
    pub quick: bool,
}

impl BenchArgs {
    /// The arguments cut down for `--quick`.
    fn quickened(mut self) -> BenchArgs {
        if self.quick {
            self.agents = self.agents.min(50);
            self.rate = self.rate.min(50.0);
            self.duration = self.duration.min(2);
            self.talk_ms = self.talk_ms.min(200);
            self.idle = self.idle.map(|n| n.min(200));
            self.echo_rounds = self.echo_rounds.min(200);
            self.pairs = self.pairs.min(4);
            self.rounds = self.rounds.min(1);
        }
        self
    }
}

const SECRET: &str = "bench-secret-0123456789";

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Percentile of sorted samples, in milliseconds.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

fn summary(name: &str, mut v: Vec<Duration>) -> String {
    v.sort();
    format!(
        "{name:<46} n={:<7} p50={:>7.3} ms  p99={:>7.3} ms  max={:>8.3} ms",
        v.len(),
        percentile(&v, 50.0),
        percentile(&v, 99.0),
        v.last()
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(f64::NAN)
    )
}

struct ServerProc {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The bench server's config: `[center]` keys in `center`, then groups and
/// users (`[[skill_groups]]`, `[[users]]` tables).
fn bench_config(center: &str, tables: &str) -> String {
    format!(
        "[server]\ndata_dir = \"data\"\nping_interval = 0\nrate_limit_per_second = 100000\nrate_limit_burst = 100000\noutbound_queue = 100000\nmax_connections_per_address = 0\n\
         [auth]\nsecret = \"{SECRET}\"\n\
         [center]\nafter_call_work = 0\nmax_session_length = 0\nmax_ended_sessions = 5\n{center}\
         [[users]]\nid = \"trunk\"\nrole = \"trunk\"\n{tables}"
    )
}

/// `n` agents a0.. in skill group `bench`.
fn load_config(agents: usize) -> String {
    let mut tables = String::from("[[skill_groups]]\nid = \"bench\"\n");
    for i in 0..agents {
        tables.push_str(&format!(
            "[[users]]\nid = \"a{i}\"\nrole = \"agent\"\nskill_groups = [\"bench\"]\n"
        ));
    }
    bench_config("ring_timeout = 30\n", &tables)
}

impl ServerProc {
    fn start(cfg: String) -> anyhow::Result<ServerProc> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("server.toml");
        std::fs::write(&path, cfg)?;
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&path)
            .env(
                "RUST_LOG",
                std::env::var("CCDESK_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("cannot start the server process")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let url = line.trim().to_string();
        if !url.starts_with("ws://") {
            bail!("server printed `{url}` instead of its address");
        }
        Ok(ServerProc {
            child,
            url,
            _dir: dir,
        })
    }

    /// (current, peak) resident memory in KiB.
    fn rss_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let args = args.quickened();
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        println!(
            "ccdesk bench — {} cores",
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        );
        let echo = echo_floor(args.echo_rounds).await?;
        println!("{}", summary("floor: bare websocket echo rtt", echo));
        if args.miss {
            return miss(&args).await;
        }
        match args.idle {
            Some(n) => idle(n).await,
            None => load(&args).await,
        }
    })
}

async fn echo_floor(rounds: usize) -> anyhow::Result<Vec<Duration>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Ok((s, _)) = listener.accept().await {
            let _ = s.set_nodelay(true);
            if let Ok(mut ws) = tokio_tungstenite::accept_async(s).await {
                while let Some(Ok(m)) = ws.next().await {
                    if m.is_text() && ws.send(m).await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/")).await?;
    let frame = json!({"id": 1, "method": "Agent.getStatus", "params": {}}).to_string();
    let mut out = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        ws.send(Message::text(frame.clone())).await?;
        ws.next().await.context("echo closed")??;
        out.push(t.elapsed());
    }
    Ok(out)
}

/// A connection logged in as `id`.
async fn logged_in(url: &str, id: &str) -> anyhow::Result<Connection> {
    let c = Connection::connect(url).await?;
    c.login(id, &auth::issue(SECRET, id, now_secs(), 3600), false)
        .await?;
    Ok(c)
}

async fn connect_agents(url: &str, ids: Vec<String>) -> anyhow::Result<Vec<(String, Connection)>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(200) {
        let mut tasks = Vec::new();
        for id in chunk {
            let url = url.to_string();
            let id = id.clone();
            tasks.push(tokio::spawn(async move {
                let c = logged_in(&url, &id).await?;
                anyhow::Ok((id, c))
            }));
        }
        for t in tasks {
            out.push(t.await??);
        }
    }
    Ok(out)
}

async fn idle(n: usize) -> anyhow::Result<()> {
    let server = ServerProc::start(load_config(n))?;
    let (before, _) = server.rss_kib();
    let t = Instant::now();
    let conns = connect_agents(&server.url, (0..n).map(|i| format!("a{i}")).collect()).await?;
    let took = t.elapsed();
    // Let the server settle, then read its memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss, peak) = server.rss_kib();
    println!(
        "idle connections: {} logged in over {:.1} s",
        conns.len(),
        took.as_secs_f64()
    );
    println!("server RSS: {:.1} MiB before, {:.1} MiB with {} idle agents (peak {:.1} MiB), {:.1} KiB per connection",
        before as f64 / 1024.0, rss as f64 / 1024.0, conns.len(), peak as f64 / 1024.0,
        (rss.saturating_sub(before)) as f64 / conns.len().max(1) as f64);
    if conns.len() != n || rss == 0 {
        bail!(
            "{} of {n} agents logged in; RSS read {rss} KiB",
            conns.len()
        );
    }
    Ok(())
}

type Stamps = Arc<Mutex<HashMap<String, Instant>>>;

async fn load(args: &BenchArgs) -> anyhow::Result<()> {
    let server = ServerProc::start(load_config(args.agents))?;
    if args.nodes <= 1 {
        return load_on(
            args,
            std::slice::from_ref(&server.url),
            &server.url,
            &[&server],
        )
        .await;
    }
    println!("— one node —");
    load_on(
        args,
        std::slice::from_ref(&server.url),
        &server.url,
        &[&server],
    )
    .await?;
    drop(server);
    cluster_load(args).await
}

/// The load against nodes: agent `i` on `agent_urls[i % n]`, the trunk at
/// `trunk_url`; memory read from `procs`.
async fn load_on(
    args: &BenchArgs,
    agent_urls: &[String],
    trunk_url: &str,
    procs: &[&ServerProc],
) -> anyhow::Result<()> {
    let mut agents = Vec::with_capacity(args.agents);
    for (k, url) in agent_urls.iter().enumerate() {
        let ids: Vec<String> = (0..args.agents)
            .filter(|i| i % agent_urls.len() == k)
            .map(|i| format!("a{i}"))
            .collect();
        agents.extend(connect_agents(url, ids).await?);
    }
    println!(
        "{} agents logged in; placing {} calls/s for {} s, talk {} ms",
        agents.len(),
        args.rate,
        args.duration,
        args.talk_ms
    );

    let call_in_at: Stamps = Arc::new(Mutex::new(HashMap::new()));
    let rtts: Arc<Mutex<HashMap<&'static str, Vec<Duration>>>> =
        Arc::new(Mutex::new(HashMap::new()));
    let ended = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let talk = Duration::from_millis(args.talk_ms);

    let mut agent_tasks = Vec::new();
    for (_, mut conn) in agents {
        let call_in_at = call_in_at.clone();
        let rtts = rtts.clone();
        let ended = ended.clone();
        let errors = errors.clone();
        agent_tasks.push(tokio::spawn(async move {
            while let Some(ev) = conn.events.recv().await {
                let Event::CallIn(ci) = ev else { continue };
                let got = Instant::now();
                if let Ok(mut m) = call_in_at.lock() {
                    m.insert(ci.session_id.clone(), got);
                }
                let sid = json!({ "sessionId": ci.session_id });
                let t = Instant::now();
                let ok = conn.call("Call.accept", sid.clone()).await.is_ok();
                record(&rtts, "Call.accept", t.elapsed());
                if !ok {
                    errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    continue;
                }
                tokio::time::sleep(talk).await;
                let t = Instant::now();
                let ok = conn.call("Call.hungUp", sid).await.is_ok();
                record(&rtts, "Call.hungUp", t.elapsed());
                if ok {
                    ended.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                } else {
                    errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }

    let trunk = Arc::new(logged_in(trunk_url, "trunk").await?);
    let sent_at: Stamps = Arc::new(Mutex::new(HashMap::new()));
    let total = (args.rate * args.duration as f64).round() as u64;
    let period = Duration::from_secs_f64(1.0 / args.rate.max(0.001));
    let mut tick = tokio::time::interval(period);
    let start = Instant::now();
    let mut placed = Vec::new();
    for i in 0..total {
        tick.tick().await;
        let trunk = trunk.clone();
        let sent_at = sent_at.clone();
        let rtts = rtts.clone();
        let errors = errors.clone();
        placed.push(tokio::spawn(async move {
            let params = json!({ "type": "phone", "skillGroupId": "bench", "calleePhoneNumber": "4000", "callerPhoneNumber": format!("+1555{i:07}") });
            let t = Instant::now();
            match trunk.call("Customer.call", params).await {
                Ok(Some(data)) => {
                    record(&rtts, "Customer.call", t.elapsed());
                    if let Some(sid) = data.get("sessionId").and_then(|v| v.as_str()) {
                        if let Ok(mut m) = sent_at.lock() {
                            m.insert(sid.to_string(), t);
                        }
                    }
                }
                _ => {
                    errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }));
    }
    for p in placed {
        let _ = p.await;
    }
    let placing = start.elapsed();
    let rss_of = || {
        procs.iter().fold((0, 0), |(a, b), p| {
            let (x, y) = p.rss_kib();
            (a + x, b + y)
        })
    };
    let (rss_load, _) = rss_of();
    // Let the last calls finish.
    let deadline = Instant::now() + talk + Duration::from_secs(10);
    while ended.load(std::sync::atomic::Ordering::Relaxed)
        + errors.load(std::sync::atomic::Ordering::Relaxed)
        < total
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = start.elapsed();
    let (rss, peak) = rss_of();

    let sent = sent_at.lock().map(|m| m.clone()).unwrap_or_default();
    let got = call_in_at.lock().map(|m| m.clone()).unwrap_or_default();
    let mut call_in_lat = Vec::new();
    for (sid, t0) in &sent {
        if let Some(t1) = got.get(sid) {
            call_in_lat.push(t1.saturating_duration_since(*t0));
        }
    }
    let done = ended.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "placed {} calls in {:.2} s ({:.1} calls/s offered)",
        total,
        placing.as_secs_f64(),
        total as f64 / placing.as_secs_f64()
    );
    println!("completed {} calls (accepted, talked, hung up) in {:.2} s: {:.1} calls/s sustained; {} errors",
        done, elapsed.as_secs_f64(), done as f64 / placing.as_secs_f64().max(elapsed.as_secs_f64() - talk.as_secs_f64()), errors.load(std::sync::atomic::Ordering::Relaxed));
    println!("{}", summary("Customer.call -> callIn", call_in_lat));
    let r = rtts.lock().map(|m| m.clone()).unwrap_or_default();
    for name in ["Customer.call", "Call.accept", "Call.hungUp"] {
        println!(
            "{}",
            summary(
                &format!("{name} request -> response"),
                r.get(name).cloned().unwrap_or_default()
            )
        );
    }
    println!(
        "server RSS (all nodes): {:.1} MiB under load, {:.1} MiB at the end, peak {:.1} MiB",
        rss_load as f64 / 1024.0,
        rss as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    for t in agent_tasks {
        t.abort();
    }
    let failed = errors.load(std::sync::atomic::Ordering::Relaxed);
    if failed > 0 || done < total {
        bail!("{done} of {total} calls completed, {failed} requests failed");
    }
    Ok(())
}

/// A private `nats-server -js` on loopback, stopped when dropped.
struct NatsProc {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for NatsProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl NatsProc {
    async fn start() -> anyhow::Result<NatsProc> {
        let bin = ["/usr/sbin/nats-server", "/usr/bin/nats-server"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .context("nats-server is not installed (scripts/setup.sh installs it)")?;
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(bin)
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string()])
            .arg("-sd")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start nats-server")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                bail!("nats-server did not listen within 10 s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(NatsProc {
            child,
            url: format!("nats://127.0.0.1:{port}"),
            _dir: dir,
        })
    }
}

/// The lease's length in the cluster runs.
const LEASE_MS: u64 = 1500;

/// `--nodes N`: the same load against N nodes, then the owner's SIGKILL
/// and the time until a new call is offered.
async fn cluster_load(args: &BenchArgs) -> anyhow::Result<()> {
    let nats = NatsProc::start().await?;
    let shared = tempfile::tempdir()?;
    let mut procs = Vec::new();
    for i in 0..args.nodes {
        let cluster = format!(
            "[cluster]\nnats = \"{}\"\nnode = \"n{i}\"\nlease_ms = {LEASE_MS}\n",
            nats.url
        );
        let cfg = load_config(args.agents).replacen(
            "data_dir = \"data\"",
            &format!("data_dir = {:?}", shared.path().join("data")),
            1,
        );
        procs.push(Some(ServerProc::start(format!("{cluster}{cfg}"))?));
    }
    let urls: Vec<String> = procs.iter().flatten().map(|p| p.url.clone()).collect();
    // A first login waits until a node owns the center.
    drop(logged_in(&urls[0], "trunk").await?);
    let client = async_nats::connect(nats.url.as_str()).await?;
    let kv = async_nats::jetstream::new(client)
        .get_key_value(crate::server::cluster::lease::BUCKET)
        .await?;
    let owner = crate::server::cluster::lease::holder(&kv, "main")
        .await?
        .context("no node owns the center")?;
    let o: usize = owner.trim_start_matches('n').parse()?;
    let t = (o + 1) % args.nodes;
    println!(
        "— {} nodes (NATS; n{o} owns the center, the trunk is on n{t}, agents on every node) —",
        args.nodes
    );
    {
        let live: Vec<&ServerProc> = procs.iter().flatten().collect();
        load_on(args, &urls, &urls[t], &live).await?;
    }
    // Failover: fresh agents on the surviving nodes, then SIGKILL of the
    // owner, then calls until one is offered.
    let survivors: Vec<String> = (0..args.nodes)
        .filter(|&i| i != o)
        .map(|i| urls[i].clone())
        .collect();
    let mut waiting = Vec::new();
    for (k, url) in survivors.iter().enumerate() {
        for (id, c) in connect_agents(url, vec![format!("a{k}")]).await? {
            waiting.push((id, c));
        }
    }
    let trunk = logged_in(&urls[t], "trunk").await?;
    let (offered_tx, mut offered_rx) = tokio::sync::mpsc::unbounded_channel();
    for (_, c) in waiting {
        let tx = offered_tx.clone();
        tokio::spawn(async move {
            // The whole connection lives in the task (a closure that used
            // only `c.events` would drop the rest, and close it).
            let mut c = c;
            while let Some(ev) = c.events.recv().await {
                if let Event::CallIn(_) = ev {
                    let _ = tx.send(Instant::now());
                }
            }
        });
    }
    let killed = Instant::now();
    if let Some(mut p) = procs[o].take() {
        let _ = p.child.kill();
        let _ = p.child.wait();
    }
    let params = json!({ "type": "phone", "skillGroupId": "bench", "calleePhoneNumber": "4000", "callerPhoneNumber": "+15550000001" });
    let answered =
        tokio::time::timeout(Duration::from_secs(30), trunk.call("Customer.call", params))
            .await
            .context("no node took the call within 30 s of the owner's SIGKILL")?;
    answered.context("the call after the failover was refused")?;
    let at = tokio::time::timeout(Duration::from_secs(30), offered_rx.recv())
        .await
        .context("no agent was offered the call within 30 s")?
        .context("the agents' connections closed")?;
    let now = crate::server::cluster::lease::holder(&kv, "main")
        .await?
        .unwrap_or_default();
    println!(
        "failover: owner n{o} killed (SIGKILL; lease {LEASE_MS} ms); {now} owns the center; first new call offered {:.0} ms after the kill",
        at.saturating_duration_since(killed).as_secs_f64() * 1000.0
    );
    Ok(())
}

/// After an offer rings out at one agent, how soon a colleague who
/// becomes free gets the session: `pairs` skill groups of two agents (one
/// lets every offer ring, the other comes back from a break 100 ms after
/// the miss), `rounds` times; once with the no-answer delay (default 5 s),
/// once with none, which is how the center behaved before it had one.
async fn miss(args: &BenchArgs) -> anyhow::Result<()> {
    for delay in [5, 0] {
        let mut lat = miss_run(args, delay).await?;
        lat.sort();
        let label = if delay > 0 {
            format!("after a miss, colleague gets it (delay {delay} s)")
        } else {
            "after a miss, colleague gets it (no delay)".to_string()
        };
        println!("{}", summary(&label, lat));
    }
    Ok(())
}

async fn miss_run(args: &BenchArgs, delay: u64) -> anyhow::Result<Vec<Duration>> {
    let mut tables = String::new();
    for i in 0..args.pairs {
        tables.push_str(&format!(
            "[[skill_groups]]\nid = \"g{i}\"\n\
             [[users]]\nid = \"m{i}\"\nrole = \"agent\"\nskill_groups = [\"g{i}\"]\n\
             [[users]]\nid = \"c{i}\"\nrole = \"agent\"\nskill_groups = [\"g{i}\"]\n"
        ));
    }
    let center = format!("ring_timeout = 1\nmax_missed_offers = 0\nno_answer_delay = {delay}\n");
    let server = ServerProc::start(bench_config(&center, &tables))?;
    let trunk = Arc::new(logged_in(&server.url, "trunk").await?);
    let mut tasks = Vec::new();
    for i in 0..args.pairs {
        let (url, trunk, rounds) = (server.url.clone(), trunk.clone(), args.rounds);
        tasks.push(tokio::spawn(async move {
            miss_pair(&url, &trunk, i, rounds, delay).await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.extend(t.await??);
    }
    Ok(out)
}

/// The next event named `name` (others are skipped), within 30 s.
async fn next_event(c: &mut Connection, name: &str) -> anyhow::Result<Event> {
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(30), c.events.recv())
            .await
            .with_context(|| format!("no {name}"))?
            .context("connection closed")?;
        if ev.name() == name {
            return Ok(ev);
        }
    }
}

/// One pair's rounds: the latencies from the colleague's `free` to its callIn.
async fn miss_pair(
    url: &str,
    trunk: &Connection,
    i: usize,
    rounds: usize,
    delay: u64,
) -> anyhow::Result<Vec<Duration>> {
    let mut misser = logged_in(url, &format!("m{i}")).await?;
    let mut colleague = logged_in(url, &format!("c{i}")).await?;
    let mut out = Vec::new();
    for _ in 0..rounds {
        colleague
            .call(
                "Agent.setStatus",
                json!({"status": "rest", "restReason": "Meal"}),
            )
            .await?;
        let v = trunk
            .call(
                "Customer.call",
                json!({"type": "phone", "skillGroupId": format!("g{i}"), "calleePhoneNumber": "4000"}),
            )
            .await?
            .context("no session")?;
        let sid = v["sessionId"].as_str().context("sessionId")?.to_string();
        next_event(&mut misser, "callIn").await?;
        next_event(&mut misser, "autoTransfer").await?;
        // The colleague comes back from the break a moment later.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let t = Instant::now();
        colleague
            .call("Agent.setStatus", json!({"status": "free"}))
            .await?;
        let Event::CallIn(ci) = next_event(&mut colleague, "callIn").await? else {
            bail!("not a callIn");
        };
        out.push(t.elapsed());
        if ci.session_id != sid {
            bail!(
                "the colleague was offered {} instead of {sid}",
                ci.session_id
            );
        }
        colleague
            .call("Call.accept", json!({"sessionId": sid}))
            .await?;
        colleague
            .call("Call.hungUp", json!({"sessionId": sid}))
            .await?;
        // Without a delay the session rang at the misser again meanwhile.
        while misser.events.try_recv().is_ok() {}
        // The misser's delay runs out before the next round.
        tokio::time::sleep(Duration::from_millis(delay * 1000 + 300)).await;
        while misser.events.try_recv().is_ok() {}
        while colleague.events.try_recv().is_ok() {}
    }
    Ok(out)
}

fn record(
    rtts: &Arc<Mutex<HashMap<&'static str, Vec<Duration>>>>,
    name: &'static str,
    d: Duration,
) {
    if let Ok(mut m) = rtts.lock() {
        m.entry(name).or_default().push(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert!(percentile(&[], 50.0).is_nan());
    }
}
