//! `ccdesk demo`: a contact center on a free loopback port with simulated
//! customers and colleagues, and the agent terminal logged in as the demo
//! agent, all over real sockets. `--autopilot` plays the agent through its
//! keys; `--headless` runs without a terminal, prints the timeline and a
//! summary, and can run faster than real time.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::app::keymap::Keymap;
use crate::app::link::LinkConfig;
use crate::app::run::{run, FramePace, NullScreen};
use crate::app::state::State;
use crate::server::auth;
use crate::server::clock::Clock;
use crate::server::config::{Role, ServerConfig, User};
use crate::server::records::{SessionRecord, SqliteRecords};
use crate::server::Server;
use crate::sim::colleague::{self, ColleagueCmd, ColleagueReport};
use crate::sim::pilot::Autopilot;
use crate::sim::scenario::Scenario;
use crate::sim::timeline::{Entry, Timeline};
use crate::sim::trunk::{self, TrunkReport};

/// The demo contact center's config.
pub const DEMO_CONFIG: &str = include_str!("../config/demo.toml");
/// The agent the demo logs in as.
pub const DEMO_AGENT: &str = "alice";

#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// A shipped scenario (default, rush, training) or a path to a .toml file.
    #[arg(long, default_value = "default")]
    pub scenario: String,
    /// Seed of the random arrivals (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Play the demo agent automatically, through the same keys an agent presses.
    #[arg(long)]
    pub autopilot: bool,
    /// No terminal UI: print the timeline and a summary, exit when the scenario ends.
    #[arg(long)]
    pub headless: bool,
    /// With --headless: how many times faster than real time, or `max` (default).
    #[arg(long, value_parser = parse_speed)]
    pub speed: Option<Speed>,
    /// Open the supervisor console (as sam) instead of the agent terminal;
    /// the autopilot plays alice. Best with `--scenario floor`.
    #[arg(long)]
    pub supervise: bool,
    /// With --supervise: frames a second at most (default 10).
    #[arg(long)]
    pub fps: Option<f64>,
    /// Clear and redraw the whole screen every frame (for measuring only).
    #[arg(long, hide = true)]
    pub full_redraw: bool,
    /// Call audio in the terminal: the sound card (`system`, silent when
    /// there is none), `null`, or `off`; headless runs have none.
    #[arg(long, value_enum)]
    pub audio: Option<crate::app::config::AudioBackendName>,
    /// Take SIP calls on this address (UDP and TCP) while the demo runs: a
    /// softphone calling any number there reaches alice's queue. Port 0
    /// picks a free one; the status pane shows where to call.
    #[arg(long, value_name = "ADDR")]
    pub sip: Option<std::net::SocketAddr>,
}

/// The supervisor of the demo center.
pub const DEMO_SUPERVISOR: &str = "sam";

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Speed {
    Max,
    Times(f64),
}

fn parse_speed(s: &str) -> Result<Speed, String> {
    if s == "max" {
        return Ok(Speed::Max);
    }
    match s.parse::<f64>() {
        Ok(x) if x > 0.0 && x.is_finite() => Ok(Speed::Times(x)),
        _ => Err(format!(
            "`{s}` is not a speed: give a number above 0 (10 = ten times real time) or `max`"
        )),
    }
}

/// The figures of a run, from the server's own session records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Customer sessions that reached the center (inbound).
    pub offered: u32,
    pub answered: u32,
    /// The customer hung up before anyone answered.
    pub abandoned: u32,
    /// Sessions transferred at least once.
    pub transferred: u32,
    /// Offers that rang out and were passed on (autoTransfer).
    pub auto_transfers: u32,
    pub internal: u32,
    pub outbound: u32,
    pub outbound_answered: u32,
    /// Inbound calls whose caller asked to be called back.
    pub callbacks: u32,
    /// Consults (their legs, to a colleague or a number).
    pub consults: u32,
    /// Sessions each agent handled (answered by, or transferred to).
    pub by_agent: BTreeMap<String, u32>,
    pub by_type: BTreeMap<String, u32>,
    /// Mean seconds from arrival to answer, over answered inbound sessions.
    pub avg_wait: f64,
    /// Mean seconds from answer to end, over answered sessions.
    pub avg_handle: f64,
    pub trunk: TrunkReport,
    pub colleagues: ColleagueReport,
}

impl Summary {
    pub fn from_records(recs: &[SessionRecord]) -> Summary {
        let mut s = Summary::default();
        let (mut wait, mut nwait, mut handle, mut nhandle) = (0.0, 0u32, 0.0, 0u32);
        for r in recs {
            match r.direction.as_str() {
                "inbound" => {
                    s.offered += 1;
                    *s.by_type.entry(r.kind.clone()).or_default() += 1;
                    match r.accepted_at {
                        Some(a) => {
                            s.answered += 1;
                            wait += a.saturating_sub(r.created_at) as f64 / 1000.0;
                            nwait += 1;
                        }
                        None if r.close_by == "client" => s.abandoned += 1,
                        None => {}
                    }
                }
                "internal" => s.internal += 1,
                "outbound" => {
                    s.outbound += 1;
                    if r.accepted_at.is_some() {
                        s.outbound_answered += 1;
                    }
                }
                _ => {}
            }
            if let Some(a) = r.accepted_at {
                handle += r.ended_at.saturating_sub(a) as f64 / 1000.0;
                nhandle += 1;
            }
            if !r.transfers.is_empty() {
                s.transferred += 1;
            }
            if r.callback.is_some() {
                s.callbacks += 1;
            }
            if r.consult_of.is_some() {
                s.consults += 1;
            }
            s.auto_transfers += r.missed_offers;
            if r.accepted_at.is_some() {
                for a in &r.agents {
                    *s.by_agent.entry(a.clone()).or_default() += 1;
                }
            }
        }
        s.avg_wait = if nwait > 0 { wait / nwait as f64 } else { 0.0 };
        s.avg_handle = if nhandle > 0 {
            handle / nhandle as f64
        } else {
            0.0
        };
        s
    }

    pub fn print(&self, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(out, "\nSummary")?;
        writeln!(out, "  offered      {}", self.offered)?;
        writeln!(out, "  answered     {}", self.answered)?;
        writeln!(out, "  abandoned    {}", self.abandoned)?;
        writeln!(out, "  transferred  {}", self.transferred)?;
        writeln!(
            out,
            "  rang out     {} (offers passed on by autoTransfer)",
            self.auto_transfers
        )?;
        writeln!(out, "  internal     {}", self.internal)?;
        writeln!(
            out,
            "  outbound     {} ({} answered)",
            self.outbound, self.outbound_answered
        )?;
        writeln!(out, "  callbacks    {}", self.callbacks)?;
        writeln!(out, "  consults     {}", self.consults)?;
        writeln!(out, "  avg wait     {:.1} s", self.avg_wait)?;
        writeln!(out, "  avg handle   {:.1} s", self.avg_handle)?;
        let types: Vec<String> = self
            .by_type
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(out, "  by type      {}", types.join(", "))?;
        let agents: Vec<String> = self
            .by_agent
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        writeln!(out, "  by agent     {}", agents.join(", "))?;
        Ok(())
    }
}

/// A running demo center: server, simulated customers and colleagues.
pub struct DemoCenter {
    pub url: String,
    pub tokens: HashMap<String, String>,
    pub records: PathBuf,
    /// Where the demo takes SIP calls (`--sip`).
    pub sip: Option<std::net::SocketAddr>,
    server: Option<Server>,
    _dir: tempfile::TempDir,
    stop: watch::Sender<bool>,
    trunk: Option<tokio::task::JoinHandle<anyhow::Result<TrunkReport>>>,
    colleagues: Option<tokio::task::JoinHandle<ColleagueReport>>,
}

impl DemoCenter {
    /// Start the server on 127.0.0.1:0 and the simulation (inside a
    /// runtime); with `sip`, the server also takes SIP calls there from
    /// anyone, to any number, on the scenario's skill group.
    pub async fn start(
        sc: Arc<Scenario>,
        seed: u64,
        tl: Timeline,
        sip: Option<std::net::SocketAddr>,
    ) -> anyhow::Result<DemoCenter> {
        let mut cfg = ServerConfig::parse(DEMO_CONFIG).context("the demo config")?;
        cfg.auth.secret = uuid::Uuid::new_v4().to_string();
        if let Some(addr) = sip {
            if addr.ip().is_unspecified() {
                anyhow::bail!(
                    "--sip {addr}: give the address phones reach (such as 127.0.0.1:5060 or this machine's LAN address), not a wildcard"
                );
            }
            cfg.sip.listen = Some(addr.to_string());
            cfg.sip.allow_any_caller = true;
            cfg.sip.numbers.push(crate::server::config::SipNumber {
                number: "*".into(),
                skill_group: sc.skill_group.clone(),
                priority: None,
            });
            // RTP on the address the phone reaches.
            cfg.media.ip = Some(addr.ip());
        }
        let dir = tempfile::tempdir().context("a directory for the demo's records")?;
        let records = SqliteRecords::open_dir(dir.path())?;
        let records_path = records.path().to_path_buf();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot listen on 127.0.0.1")?;
        // Colleagues the demo center does not know join the scenario's group.
        if !cfg.skill_groups.iter().any(|g| g.id == sc.skill_group) {
            anyhow::bail!(
                "skill group `{}` is not in the demo center (support, sales)",
                sc.skill_group
            );
        }
        for c in &sc.colleagues {
            match cfg.user(&c.user) {
                Some(u) if u.role != Role::Agent => anyhow::bail!(
                    "colleague `{}` is a {} of the demo center, not an agent",
                    c.user,
                    u.role.as_str()
                ),
                Some(_) => {}
                None => cfg.users.push(User {
                    id: c.user.clone(),
                    role: Role::Agent,
                    skill_groups: vec![sc.skill_group.clone()],
                    name: None,
                    seat_type: Default::default(),
                    sip_password: None,
                    mobile: None,
                    password_hash: None,
                    max_chats: crate::server::config::DEFAULT_MAX_CHATS,
                }),
            }
        }
        let mut server = Server::start(cfg.clone(), listener, Box::new(records))?;
        if sip.is_some() {
            server.start_sip().await?;
        }
        let sip = server.sip.as_ref().map(|s| s.addr);
        let url = format!("ws://{}/ws", server.addr);
        let now = Clock::new().now_secs();
        let tokens: HashMap<String, String> = cfg
            .users
            .iter()
            .map(|u| {
                (
                    u.id.clone(),
                    auth::issue(&cfg.auth.secret, &u.id, now, 86_400),
                )
            })
            .collect();
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel::<ColleagueCmd>();
        let (stop, stop_rx) = watch::channel(false);
        let colleagues = tokio::spawn(colleague::run(
            url.clone(),
            tokens.clone(),
            sc.clone(),
            DEMO_AGENT.to_string(),
            tl.clone(),
            cmd_rx,
            stop_rx,
        ));
        let trunk = tokio::spawn(trunk::run(
            url.clone(),
            tokens.get("pstn").cloned().unwrap_or_default(),
            sc,
            seed,
            tl,
            cmd_tx,
            stop.subscribe(),
        ));
        Ok(DemoCenter {
            url,
            tokens,
            records: records_path,
            sip,
            server: Some(server),
            _dir: dir,
            stop,
            trunk: Some(trunk),
            colleagues: Some(colleagues),
        })
    }

    /// Stop the colleagues and the server; the summary from the records.
    pub async fn finish(mut self, trunk: TrunkReport) -> anyhow::Result<Summary> {
        let _ = self.stop.send(true);
        // Customers still on the line hang up, so their sessions are recorded.
        let mut trunk = trunk;
        if let Some(t) = self.trunk.take() {
            if let Ok(Ok(Ok(r))) = tokio::time::timeout(Duration::from_secs(5), t).await {
                trunk = r;
            }
        }
        let colleagues = match self.colleagues.take() {
            Some(c) => c.await.unwrap_or_default(),
            None => ColleagueReport::default(),
        };
        if let Some(s) = self.server.take() {
            s.stop();
        }
        let db = SqliteRecords::open(&self.records)?;
        let mut s = Summary::from_records(&db.list(0)?);
        s.trunk = trunk;
        s.colleagues = colleagues;
        Ok(s)
    }
}

fn link(center: &DemoCenter, user: &str) -> LinkConfig {
    LinkConfig {
        url: center.url.clone(),
        user: user.to_string(),
        token: center.tokens.get(user).cloned().unwrap_or_default(),
        enable_shared: false,
        ca: None,
        keep: None,
    }
}

/// A headless run: the autopilot plays the agent with no screen; the
/// timeline goes to `out` as it happens, then the summary.
pub async fn headless(
    sc: Scenario,
    seed: u64,
    speed: Speed,
    out: &mut (dyn Write + Send),
) -> anyhow::Result<Summary> {
    let sc = Arc::new(sc);
    let start = Instant::now();
    let (tl, mut entries) = Timeline::new(start);
    writeln!(
        out,
        "ccdesk demo, headless: {} (seed {seed})",
        sc.description
    )?;
    let mut center = DemoCenter::start(sc.clone(), seed, tl.clone(), None).await?;
    let clock = Clock::new();
    let mut state = State::new(
        center.url.clone(),
        DEMO_AGENT.into(),
        Keymap::default(),
        clock.now_ms(),
    );
    state.caps.color = false;
    // Virtual time: no real audio (the text transcript carries the words).
    state.audio.setting = crate::app::state::AudioSetting::Off;
    let pilot = Autopilot::new(
        sc.autopilot.clone(),
        clock.now_ms(),
        DEMO_AGENT,
        Some(tl.clone()),
    );
    let (key_tx, key_rx) = mpsc::unbounded_channel::<crossterm::event::Event>();
    let input = futures_util::stream::unfold(key_rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok(e), rx))
    })
    .boxed();
    let mut screen = NullScreen::default();
    let link = link(&center, DEMO_AGENT);
    let longest_colleague_call = sc.colleagues.iter().map(|c| c.talk).fold(0.0, f64::max);
    let print = |out: &mut (dyn Write + Send), e: &Entry| writeln!(out, "{}", e.line());
    let app = run(
        &mut screen,
        state,
        input,
        link,
        Some(Box::new(pilot)),
        FramePace::AGENT,
    );
    tokio::pin!(app);
    let pacing = pace(speed, start);
    tokio::pin!(pacing);
    let mut trunk_report = None;
    let mut quit_at: Option<Instant> = None;
    let mut trunk_task = center.trunk.take();
    let exit = loop {
        let q = quit_at;
        tokio::select! {
            exit = &mut app => break exit,
            e = entries.recv() => if let Some(e) = e { print(out, &e)?; },
            r = async {
                match trunk_task.as_mut() {
                    Some(t) => t.await,
                    None => std::future::pending().await,
                }
            }, if trunk_report.is_none() => {
                trunk_task = None;
                trunk_report = Some(r.context("the trunk task")??);
                // Internal calls and outbound callees may still be going on.
                quit_at = Some(Instant::now() + Duration::from_secs_f64(longest_colleague_call + 10.0));
            }
            _ = async { match q { Some(t) => tokio::time::sleep_until(t).await, None => std::future::pending().await } } => {
                quit_at = None;
                let q = |c| crossterm::event::Event::Key(crossterm::event::KeyEvent::new(
                    crossterm::event::KeyCode::Char(c), crossterm::event::KeyModifiers::NONE));
                let _ = key_tx.send(q('q'));
                let _ = key_tx.send(q('y'));
            }
            _ = &mut pacing => {}
        }
    };
    while let Ok(e) = entries.try_recv() {
        print(out, &e)?;
    }
    if exit.code != 0 {
        anyhow::bail!(
            "the demo agent's terminal ended with status {}: {}",
            exit.code,
            exit.message.unwrap_or_default()
        );
    }
    let s = center.finish(trunk_report.unwrap_or_default()).await?;
    writeln!(
        out,
        "\nscenario over after {:.0} s of demo time",
        Instant::now()
            .saturating_duration_since(start)
            .as_secs_f64()
    )?;
    s.print(out)?;
    Ok(s)
}

/// The heartbeat of demo time on a paused clock, and its pace.
///
/// tokio moves a paused clock to the next timer whenever the runtime waits,
/// even while a socket has data on the way; a timer that is always due
/// within `STEP` keeps those jumps (the demo's "network latency") that
/// short. With `Speed::Times(x)` it also keeps demo time at most x times
/// real time.
async fn pace(speed: Speed, start: Instant) {
    const STEP: Duration = Duration::from_millis(1);
    let real = std::time::Instant::now();
    loop {
        tokio::time::sleep(STEP).await;
        let Speed::Times(x) = speed else {
            continue;
        };
        let virt = Instant::now()
            .saturating_duration_since(start)
            .as_secs_f64();
        let ahead = virt / x - real.elapsed().as_secs_f64();
        if ahead > 0.0 {
            // Blocking on purpose: nothing in the demo may move while the
            // wall clock catches up with demo time.
            std::thread::sleep(Duration::from_secs_f64(ahead));
        }
    }
}

/// `ccdesk demo`.
pub fn main(args: DemoArgs) -> anyhow::Result<u8> {
    let sc = Scenario::load(&args.scenario)?;
    let seed = args.seed.unwrap_or(sc.seed);
    if args.headless {
        if args.sip.is_some() {
            anyhow::bail!("--sip needs the terminal: a headless run is not in real time");
        }
        let speed = args.speed.unwrap_or(Speed::Max);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()?;
        let mut out = std::io::stdout();
        rt.block_on(headless(sc, seed, speed, &mut out))?;
        return Ok(0);
    }
    if args.speed.is_some() {
        anyhow::bail!("--speed needs --headless: the terminal runs in real time");
    }
    let mode = if args.supervise {
        Mode::Supervise {
            fps: args.fps,
            full_redraw: args.full_redraw,
        }
    } else {
        Mode::Play {
            autopilot: args.autopilot,
        }
    };
    interactive(sc, seed, mode, args.audio, args.sip)
}

/// Who the terminal of an interactive demo is.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// The agent terminal as alice (played by you or the autopilot).
    Play { autopilot: bool },
    /// The supervisor console as sam; the autopilot plays alice unseen.
    Supervise { fps: Option<f64>, full_redraw: bool },
}

fn interactive(
    sc: Scenario,
    seed: u64,
    mode: Mode,
    audio: Option<crate::app::config::AudioBackendName>,
    sip: Option<std::net::SocketAddr>,
) -> anyhow::Result<u8> {
    let (check, log) = crate::agent_cli::prepare()?;
    let sc = Arc::new(sc);
    // The center and the simulation run on their own runtime and thread.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (tl, mut entries) = Timeline::new(Instant::now());
    let center = rt.block_on(DemoCenter::start(sc.clone(), seed, tl.clone(), sip))?;
    // The timeline goes to the log file (never the screen).
    rt.spawn(async move { while entries.recv().await.is_some() {} });
    let clock = Clock::new();
    let cfg = crate::app::config::default_path()
        .and_then(|p| crate::app::config::ClientConfig::load_or_create(&p).ok())
        .map(|(c, _)| c)
        .unwrap_or_default();
    let autopilot = || {
        Autopilot::new(
            sc.autopilot.clone(),
            clock.now_ms(),
            DEMO_AGENT,
            Some(tl.clone()),
        )
    };
    let user = match mode {
        Mode::Play { .. } => DEMO_AGENT,
        Mode::Supervise { .. } => DEMO_SUPERVISOR,
    };
    let mut state = State::new(
        center.url.clone(),
        user.into(),
        cfg.keymap().unwrap_or_default(),
        clock.now_ms(),
    );
    state.caps = check.caps;
    state.warnings = check.warnings;
    state.settings = cfg.initial_settings();
    state.audio = cfg.audio(audio);
    if let Some(addr) = center.sip {
        state
            .warnings
            .push(format!("call sip:{}@{addr}", sc.skill_group));
    }
    let (pilot, screen): (Option<Box<dyn crate::app::run::Pilot>>, _) = match mode {
        Mode::Play { autopilot: on } => {
            state.warnings.push(format!(
                "demo: {} ({}); customers and colleagues are simulated",
                sc.description,
                if on {
                    "autopilot plays you"
                } else {
                    "you play alice"
                }
            ));
            let pilot = on.then(|| Box::new(autopilot()) as Box<dyn crate::app::run::Pilot>);
            (pilot, crate::agent_cli::Screen::agent())
        }
        Mode::Supervise { fps, full_redraw } => {
            // alice, played by the autopilot with no screen.
            let mut alice = State::new(
                center.url.clone(),
                DEMO_AGENT.into(),
                Keymap::default(),
                clock.now_ms(),
            );
            // Her audio flows (a supervisor can listen in); no sound card of hers.
            alice.audio.setting = crate::app::state::AudioSetting::Null;
            let (alice_link, pilot) = (link(&center, DEMO_AGENT), autopilot());
            rt.spawn(async move {
                let mut screen = NullScreen::default();
                let input =
                    futures_util::stream::pending::<std::io::Result<crossterm::event::Event>>();
                run(
                    &mut screen,
                    alice,
                    input,
                    alice_link,
                    Some(Box::new(pilot)),
                    FramePace::AGENT,
                )
                .await
            });
            state.board = Some(crate::app::board::Board::default());
            state.warnings.push(format!(
                "demo: {}; you are sam, the supervisor",
                sc.description
            ));
            let pace = FramePace::supervisor(fps.or(cfg.supervise.frame_rate));
            (None, crate::agent_cli::Screen { pace, full_redraw })
        }
    };
    if log.is_none() {
        state
            .warnings
            .push("no log file: the state directory is not writable".into());
    }
    let exit = crate::agent_cli::run_terminal(
        state,
        link(&center, user),
        cfg.notification,
        pilot,
        screen,
    )?;
    let summary = rt.block_on(center.finish(TrunkReport::default()))?;
    if let Some(m) = &exit.message {
        eprintln!("ccdesk: {m}");
    }
    let mut out = std::io::stdout();
    let title = match mode {
        Mode::Play { .. } => "ccdesk demo",
        Mode::Supervise { .. } => "ccdesk demo --supervise",
    };
    writeln!(out, "{title}: {} (seed {seed})", sc.description)?;
    summary.print(&mut out)?;
    rt.shutdown_timeout(Duration::from_millis(200));
    Ok(exit.code)
}
