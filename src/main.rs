use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};

use ccdesk::server::config::ServerConfig;
use ccdesk::server::records::SqliteRecords;
use ccdesk::server::{auth, Server};

/// ccdesk: a contact-center agent workstation for the terminal, and the contact center it talks to.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// The agent terminal, connected to a server (plain `ccdesk` runs it when
    /// the client config names a server).
    Agent(ccdesk::agent_cli::AgentArgs),
    /// The one-command demo: a contact center on loopback with simulated
    /// customers and colleagues, and the agent terminal logged in.
    Demo(ccdesk::demo::DemoArgs),
    /// The supervisor console (roles admin and inspector): wallboard, live
    /// sessions, text monitors, intercept. Same connection options as `agent`.
    Supervise(ccdesk::agent_cli::SuperviseArgs),
    /// Run the contact center: WebSocket signalling on /ws, routing, records.
    Serve {
        /// Server configuration (TOML).
        #[arg(long, default_value = "config/server.toml")]
        config: PathBuf,
        /// Address to listen on (overrides server.listen); port 0 picks a free
        /// port. The bound address is the first line printed on stdout.
        #[arg(long)]
        listen: Option<String>,
        /// Address SIP listens on, UDP and TCP (overrides sip.listen); port 0
        /// picks a free port. With SIP on, the second line printed on stdout
        /// is `sip:<address>`.
        #[arg(long)]
        sip: Option<String>,
        /// Write a new config to --config (the example config with a
        /// fresh random secret) and exit; an existing file is left alone.
        #[arg(long)]
        init: bool,
    },
    /// Print a signed login token for a user of the server's config.
    Token {
        #[arg(long, default_value = "config/server.toml")]
        config: PathBuf,
        /// The userId the token is for.
        #[arg(long)]
        user: String,
        /// Lifetime in seconds (default: auth.default_ttl).
        #[arg(long)]
        ttl: Option<u64>,
    },
    /// Print the records of ended sessions.
    Records {
        #[arg(long, default_value = "config/server.toml")]
        config: PathBuf,
        /// Only sessions that ended since then: an RFC 3339 time
        /// (2026-11-21T09:00:00Z) or a duration back from now (90m, 2h, 1d).
        #[arg(long)]
        since: Option<String>,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Figures of a period from the session records (the wallboard's
    /// definitions): offered, answered, abandoned, service level, ASA, AHT,
    /// transfers and wrap-up codes.
    Report {
        #[arg(long, default_value = "config/server.toml")]
        config: PathBuf,
        /// Sessions that ended since then: an RFC 3339 time or a duration
        /// back from now (90m, 2h, 1d).
        #[arg(long, default_value = "1d")]
        since: String,
        /// A row per agent, skill group, hour (UTC) or wrap-up code; one
        /// row for everything when not given.
        #[arg(long, value_parser = ["agent", "group", "hour", "wrapup"])]
        by: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: ccdesk::report_cli::Format,
    },
    /// Load generator: N agents and a trunk placing R calls a second against a
    /// fresh server process; prints latency percentiles, throughput and RSS.
    Bench(ccdesk::bench::BenchArgs),
    /// Log in to a server with your password and keep the token (in the
    /// state directory, readable by you only) for `ccdesk agent` and
    /// `ccdesk supervise`, which renew it while they run.
    Login {
        /// The server's WebSocket URL (ws:// or wss://host:port/ws).
        #[arg(long)]
        server: String,
        #[arg(long)]
        user: String,
        /// A private CA's certificate (PEM) for a wss:// server.
        #[arg(long, env = "CCDESK_CA")]
        ca: Option<PathBuf>,
        /// Read the password from the first line of stdin instead of
        /// asking on the terminal.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Forget the token `ccdesk login` kept.
    Logout,
    /// Users of the server, for an administrator on the server machine
    /// (in the server's database; while the server runs, add and remove
    /// users from the supervisor console; a new password takes effect at once).
    User {
        #[command(subcommand)]
        action: UserCmd,
    },
    /// Print a completion script for a shell (`ccdesk completions bash >
    /// /etc/bash_completion.d/ccdesk`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff: `ccdesk man > ccdesk.1; man ./ccdesk.1`).
    Man,
    /// List the microphones and speakers (Devices.getMicrophones /
    /// Devices.getSpeakers); put a name in the config's [audio] table.
    Devices {
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user.
    Add {
        #[arg(long, default_value = "config/server.toml")]
        config: PathBuf,
        #[arg(long)]
        user: String,
        /// agent, admin or inspector.
        #[arg(long, default_value = "agent")]
        role: String,
        /// Skill groups, comma-separated.
        #[arg(long, value_delimiter = ',')]
        groups: Vec<String>,
        #[arg(long)]
        name: Option<String>,
        /// Set a password too, read from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (asked twice on the terminal, or the first
    /// line of stdin).
    Passwd {
        #[arg(long, default_value = "config/server.toml")]
        config: PathBuf,
        #[arg(long)]
        user: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user.
    Remove {
        #[arg(long, default_value = "config/server.toml")]
        config: PathBuf,
        #[arg(long)]
        user: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = match cli.command {
        Some(c) => c,
        None => {
            let args = ccdesk::agent_cli::AgentArgs {
                server: None,
                user: None,
                token: std::env::var("CCDESK_TOKEN").ok(),
                enable_shared: false,
                ca: std::env::var_os("CCDESK_CA").map(PathBuf::from),
                config: std::env::var_os("CCDESK_AGENT_CONFIG").map(PathBuf::from),
                audio: None,
            };
            if ccdesk::agent_cli::config_names_server(&args) {
                Cmd::Agent(args)
            } else {
                let _ = Cli::command().print_help();
                eprintln!(
                    "\nccdesk: no command, and the client config names no server; try `ccdesk demo` or `ccdesk agent --server ...`"
                );
                return ExitCode::from(2);
            }
        }
    };
    if let Cmd::Demo(args) = command {
        return match ccdesk::demo::main(args) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("ccdesk: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if let Cmd::Agent(args) = command {
        return match ccdesk::agent_cli::run_agent(args) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("ccdesk: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if let Cmd::Supervise(args) = command {
        return match ccdesk::agent_cli::run_supervise(args) {
            Ok(code) => ExitCode::from(code),
            Err(e) => {
                eprintln!("ccdesk: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    match run(command) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`ccdesk man | head`): nothing to say.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ccdesk: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Cmd) -> anyhow::Result<()> {
    match command {
        Cmd::Agent(_) | Cmd::Demo(_) | Cmd::Supervise(_) => Ok(()),
        Cmd::Serve {
            config, init: true, ..
        } => {
            use std::io::Write as _;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            // The secret is in it: only its owner reads it.
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&config).with_context(|| {
                format!(
                    "cannot write a new config to {} (an existing file is not replaced)",
                    config.display()
                )
            })?;
            f.write_all(ccdesk::server::config::init_config().as_bytes())?;
            println!(
                "wrote {} with a fresh secret (readable by its owner only)",
                config.display()
            );
            Ok(())
        }
        Cmd::Serve {
            config,
            listen,
            sip,
            init: false,
        } => {
            init_stderr_logging();
            raise_fd_limit();
            let mut cfg = ServerConfig::load(&config)?;
            if let Some(l) = listen {
                cfg.server.listen = l;
            }
            if let Some(s) = sip {
                cfg.sip.listen = Some(s);
            }
            let addr = cfg.listen_addr()?;
            cfg.check_exposure(addr)?;
            serve(cfg, addr)
        }
        Cmd::Token { config, user, ttl } => {
            let cfg = ServerConfig::load(&config)?;
            // The server's users: its database's once it has started (they
            // change while it runs), else the config's.
            let stored = if cfg.records.url.is_some() {
                ccdesk::server::records::open_records(&cfg)?.users()?
            } else {
                let db = cfg
                    .data_dir()
                    .ok()
                    .map(|d| d.join("records.sqlite3"))
                    .filter(|p| p.exists());
                match db {
                    Some(p) => {
                        use ccdesk::server::records::RecordStore;
                        SqliteRecords::open(&p)?.users()?
                    }
                    None => None,
                }
            };
            let known = match &stored {
                Some(list) => list.iter().any(|u| u.id == user),
                None => cfg.user(&user).is_some(),
            };
            if !known {
                anyhow::bail!(
                    "user `{user}` is not a user of the server ({})",
                    if stored.is_some() {
                        "its database"
                    } else {
                        "not in the config"
                    }
                );
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .context("system clock is before 1970")?
                .as_secs();
            println!(
                "{}",
                auth::issue(
                    &cfg.auth.secret,
                    &user,
                    now,
                    ttl.unwrap_or(cfg.auth.default_ttl)
                )
            );
            Ok(())
        }
        Cmd::Login {
            server,
            user,
            ca,
            password_stdin,
        } => {
            let into = ccdesk::login_cli::stored_path()
                .context("no state directory on this platform to keep the token in")?;
            let password = ccdesk::login_cli::read_password(
                &format!("password for {user} at {server}: "),
                password_stdin,
            )?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let kept = rt.block_on(ccdesk::login_cli::login(
                &server,
                &user,
                ca.as_deref(),
                password,
                &into,
            ))?;
            println!(
                "logged in as {} at {}; the token is kept in {} (renewed while ccdesk agent or supervise runs)",
                kept.user,
                kept.server,
                into.display()
            );
            Ok(())
        }
        Cmd::Logout => {
            let path =
                ccdesk::login_cli::stored_path().context("no state directory on this platform")?;
            match std::fs::remove_file(&path) {
                Ok(()) => println!("logged out: {} removed", path.display()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => println!("not logged in"),
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot remove {}", path.display()))
                }
            }
            Ok(())
        }
        Cmd::User { action } => {
            use ccdesk::server::config::Role;
            match action {
                UserCmd::Add {
                    config,
                    user,
                    role,
                    groups,
                    name,
                    password_stdin,
                } => {
                    let cfg = ServerConfig::load(&config)?;
                    let role = match role.as_str() {
                        "agent" => Role::Agent,
                        "admin" => Role::Admin,
                        "inspector" => Role::Inspector,
                        other => {
                            anyhow::bail!("--role must be agent, admin or inspector, not `{other}`")
                        }
                    };
                    let password = password_stdin
                        .then(|| ccdesk::login_cli::read_password("", true))
                        .transpose()?;
                    ccdesk::login_cli::user_add(&cfg, &user, role, groups, name, password)?;
                    println!("added {user} (a running server takes it at its next start; add users live from the console)");
                }
                UserCmd::Passwd {
                    config,
                    user,
                    password_stdin,
                } => {
                    let cfg = ServerConfig::load(&config)?;
                    let password = ccdesk::login_cli::read_password(
                        &format!("new password for {user}: "),
                        password_stdin,
                    )?;
                    if !password_stdin {
                        let again = ccdesk::login_cli::read_password("again: ", false)?;
                        if again != password {
                            anyhow::bail!("the two passwords differ");
                        }
                    }
                    ccdesk::login_cli::user_passwd(&cfg, &user, &password)?;
                    println!("password of {user} set");
                }
                UserCmd::Remove { config, user } => {
                    let cfg = ServerConfig::load(&config)?;
                    ccdesk::login_cli::user_remove(&cfg, &user)?;
                    println!("removed {user} (a running server forgets it at its next start)");
                }
            }
            Ok(())
        }
        Cmd::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "ccdesk", &mut std::io::stdout());
            Ok(())
        }
        Cmd::Man => {
            clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
            Ok(())
        }
        Cmd::Devices { json } => {
            print!("{}", ccdesk::media::device::print_devices(json));
            Ok(())
        }
        Cmd::Records {
            config,
            since,
            json,
        } => {
            let cfg = ServerConfig::load(&config)?;
            let mut db = ccdesk::server::records::open_reader(&cfg)?;
            let since_ms = match since {
                None => 0,
                Some(s) => parse_since(&s)?,
            };
            let rows = db.ended_since(since_ms)?;
            ccdesk::records_cli::print(&rows, json, &mut std::io::stdout())?;
            Ok(())
        }
        Cmd::Report {
            config,
            since,
            by,
            format,
        } => {
            let cfg = ServerConfig::load(&config)?;
            let mut db = ccdesk::server::records::open_reader(&cfg)?;
            let by = by
                .as_deref()
                .and_then(ccdesk::protocol::ReportBy::parse)
                .unwrap_or_default();
            let rows = ccdesk::server::report::report(
                &db.ended_since(parse_since(&since)?)?,
                by,
                cfg.center.service_level_threshold * 1000,
            );
            ccdesk::report_cli::print(&rows, format, &mut std::io::stdout())?;
            Ok(())
        }
        Cmd::Bench(args) => {
            raise_fd_limit();
            ccdesk::bench::run(args)
        }
    }
}

/// `ccdesk serve`: one server, or a node of a cluster (`[cluster] nats`),
/// a gateway for its connections that runs the center while it holds the
/// lease. Prints its addresses (WebSocket, then SIP) on stdout.
fn serve(cfg: ServerConfig, addr: std::net::SocketAddr) -> anyhow::Result<()> {
    let clustered = cfg.cluster.nats.is_some();
    // One server opens its records before anything listens; a node, each
    // time it takes the lease.
    let records = if clustered {
        if cfg.records.url.is_none() {
            tracing::warn!("[cluster] without [records] url: the nodes keep their records in SQLite in data_dir, which is one place only when every node shares that folder on one machine");
        }
        None
    } else {
        Some(ccdesk::server::records::open_records(&cfg)?)
    };
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let scheme = if cfg.tls() { "wss" } else { "ws" };
        let mut server = match records {
            Some(records) => Server::start(cfg, listener, records)?,
            None => {
                let open: ccdesk::server::cluster::OpenRecords = {
                    let cfg = cfg.clone();
                    std::sync::Arc::new(move || ccdesk::server::records::open_records(&cfg))
                };
                Server::start_node(cfg, listener, open).await?
            }
        };
        println!("{scheme}://{}/ws", server.addr);
        server.start_sip().await?;
        if let Some(sip) = &server.sip {
            println!("sip:{}", sip.addr);
        }
        let node = server.node.take();
        match &node {
            Some(node) => {
                tracing::info!(addr = %server.addr, node = %node.name, "serving as a node of a cluster")
            }
            None => tracing::info!(addr = %server.addr, "serving"),
        }
        tokio::select! {
            _ = server_wait(server) => {}
            _ = stop_signal() => {
                match node {
                    Some(node) => {
                        tracing::info!("stopping: leaving the cluster");
                        node.leave().await;
                    }
                    None => tracing::info!("stopping (SIGTERM or Ctrl-C)"),
                }
            }
        }
        Ok(())
    })
}

/// Ctrl-C or SIGTERM (systemd's stop).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn server_wait(server: Server) {
    server.wait().await
}

fn parse_since(s: &str) -> anyhow::Result<u64> {
    if let Ok(t) = humantime::parse_rfc3339_weak(s) {
        let ms = t
            .duration_since(std::time::UNIX_EPOCH)
            .context("--since is before 1970")?
            .as_millis();
        return Ok(ms as u64);
    }
    let d = humantime::parse_duration(s).with_context(|| {
        format!("--since `{s}` is neither an RFC 3339 time (2026-11-21T09:00:00Z) nor a duration (90m, 2h)")
    })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .context("system clock is before 1970")?;
    Ok(now.saturating_sub(d).as_millis() as u64)
}

fn init_stderr_logging() {
    // rsipstack logs every SIP packet at info: its warnings are enough.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rsipstack=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Many connections need many file descriptors: raise the soft limit to the hard one.
fn raise_fd_limit() {
    if let Err(e) = rlimit::increase_nofile_limit(u64::MAX) {
        tracing::warn!(error = %e, "could not raise the open-files limit");
    }
}
