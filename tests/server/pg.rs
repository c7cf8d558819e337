//! A private PostgreSQL for tests, from the Debian package's binaries
//! (`/usr/lib/postgresql/<newest>/bin`): its data and its socket in a
//! temporary directory, listening on 127.0.0.1 on a port picked for it,
//! password authentication (scram-sha-256) for user [`USER`].
//!
//! [`database`] gives a test a database of its own on a server shared by
//! the tests of this binary (started once, stopped when the binary exits);
//! [`PgServer::start`] a server of its own, stopped when dropped.
//!
//! PostgreSQL refuses to run as root: as root (here, and in CI), initdb and
//! postgres run as the `postgres` user of the package, the temporary
//! directory theirs. Without the binaries, tests print [`NOT_INSTALLED`]
//! and return early.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const USER: &str = "ccdesk";
/// The user's password: tests check that no message shows it.
pub const PASSWORD: &str = "pg-harness-Secret-4a7f";
pub const NOT_INSTALLED: &str =
    "PostgreSQL is not installed: scripts/setup.sh installs postgresql (test skipped)";

/// How long a server may take to start answering.
const READY_WITHIN: Duration = Duration::from_secs(30);
/// How long a server may take to stop after SIGINT before it is killed.
const STOP_WITHIN: Duration = Duration::from_secs(10);

pub struct PgServer {
    pub port: u16,
    child: Mutex<Option<Child>>,
    dir: tempfile::TempDir,
}

/// The newest PostgreSQL's binaries, when the package is installed.
pub fn bin_dir() -> Option<PathBuf> {
    let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let version: Vec<u32> = name
                .split('.')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?;
            let bin = e.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("postgres").is_file())
                .then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// The ids to run PostgreSQL as: the `postgres` user's when we are root.
fn run_as() -> Option<(u32, u32)> {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let name = std::ffi::CString::new("postgres").expect("no NUL");
    // SAFETY: a valid C string; the result is read at once, on this thread.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    assert!(
        !pw.is_null(),
        "tests run as root and PostgreSQL refuses root, but there is no `postgres` user to run it as (the postgresql package creates it)"
    );
    // SAFETY: not null, checked above.
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Some((uid, gid))
}

/// Run `f` on a plain thread: the blocking `postgres` client panics on a
/// thread that runs async tasks.
pub fn off_runtime<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| match s.spawn(f).join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Start `cmd` from a thread that lives as long as the process, the child
/// set to get SIGINT (a fast shutdown) when that thread dies: a server is
/// stopped even when the test binary is killed.
fn spawn_kept(mut cmd: Command) -> std::io::Result<Child> {
    static KEEPER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("postgres-keeper".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("the keeper thread starts");
        Mutex::new(tx)
    });
    // SAFETY: prctl is async-signal-safe; this runs after the uid change,
    // which would otherwise clear the setting.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let (reply, answer) = mpsc::channel();
    keeper
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .send((cmd, reply))
        .expect("the keeper thread runs");
    answer.recv().expect("the keeper thread answers")
}

/// A port free on 127.0.0.1 now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl PgServer {
    /// A server of its own (stopped when dropped); None, after saying so,
    /// when PostgreSQL is not installed. Panics when it is but cannot start.
    pub fn start() -> Option<PgServer> {
        let Some(bin) = bin_dir() else {
            eprintln!("{NOT_INSTALLED}");
            return None;
        };
        Some(off_runtime(|| start_with(&bin)))
    }

    /// `postgres://ccdesk:<password>@127.0.0.1:<port>/<db>`.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{USER}:{PASSWORD}@127.0.0.1:{}/{db}", self.port)
    }

    /// A connection to the `postgres` database, for `f` (off the runtime).
    pub fn admin<R: Send>(&self, f: impl FnOnce(&mut postgres::Client) -> R + Send) -> R {
        off_runtime(|| {
            let mut c = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
                .expect("the test PostgreSQL accepts its admin");
            f(&mut c)
        })
    }

    /// A new, empty database named after `label`: its URL.
    pub fn create_database(&self, label: &str) -> String {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let mut name: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        name.push_str(&format!("_{}", NEXT.fetch_add(1, Ordering::Relaxed)));
        self.admin(|c| {
            c.batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e:?}"))
        });
        self.url(&name)
    }

    /// The server's process, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(Child::id)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stop the server: SIGINT (a fast shutdown: clients are disconnected),
    /// then SIGKILL if it has not stopped within [`STOP_WITHIN`].
    pub fn stop(&self) {
        let child = self
            .child
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(child) = child {
            stop_child(child);
        }
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn stop_child(mut child: Child) {
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: our child, not yet waited for: the pid is still its.
        unsafe { libc::kill(pid, libc::SIGINT) };
    }
    let deadline = Instant::now() + STOP_WITHIN;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// initdb, then postgres on a free port (another, if someone took it first).
fn start_with(bin: &Path) -> PgServer {
    let ids = run_as();
    let dir = tempfile::Builder::new()
        .prefix("ccdesk-pg-")
        .tempdir()
        .expect("a temporary directory");
    let own = |p: &Path| {
        if let Some((uid, gid)) = ids {
            std::os::unix::fs::chown(p, Some(uid), Some(gid))
                .unwrap_or_else(|e| panic!("chown {} to postgres: {e}", p.display()));
        }
    };
    own(dir.path());
    let pwfile = dir.path().join("pwfile");
    std::fs::write(&pwfile, format!("{PASSWORD}\n")).expect("write the password file");
    own(&pwfile);
    let data = dir.path().join("data");
    let command = |name: &str| {
        let mut cmd = Command::new(bin.join(name));
        cmd.current_dir(dir.path())
            .env("LC_ALL", "C")
            .env_remove("PGDATA")
            .env_remove("PGPORT")
            .env_remove("PGHOST")
            .stdin(Stdio::null());
        if let Some((uid, gid)) = ids {
            cmd.uid(uid).gid(gid);
        }
        cmd
    };
    let out = command("initdb")
        .arg("-D")
        .arg(&data)
        .args(["-U", USER, "--auth=scram-sha-256", "--pwfile"])
        .arg(&pwfile)
        .args(["-E", "UTF8", "--no-locale", "--no-sync"])
        .output()
        .expect("initdb runs");
    assert!(
        out.status.success(),
        "initdb failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let log_path = dir.path().join("postgres.log");
    for attempt in 1..=3 {
        let port = free_port();
        let log = std::fs::File::create(&log_path).expect("create the server's log");
        let mut cmd = command("postgres");
        cmd.arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-h", "127.0.0.1", "-k"])
            .arg(dir.path())
            // A test server: durability is not what is tested here.
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .stdout(Stdio::null())
            .stderr(log);
        let mut child = spawn_kept(cmd).expect("postgres starts");
        match wait_ready(&mut child, port) {
            Ok(()) => {
                return PgServer {
                    port,
                    child: Mutex::new(Some(child)),
                    dir,
                }
            }
            Err(exited) => {
                stop_child(child);
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                // Someone may have taken the port between the pick and the
                // bind: then another.
                let taken = log.contains("could not bind") || log.contains("already in use");
                assert!(
                    exited && taken && attempt < 3,
                    "PostgreSQL did not start on port {port}:\n{log}"
                );
            }
        }
    }
    unreachable!("the loop returns or panics")
}

/// Poll a connection until the server answers: Err(true) when it exited
/// first, Err(false) when it did not answer within [`READY_WITHIN`].
fn wait_ready(child: &mut Child, port: u16) -> Result<(), bool> {
    let deadline = Instant::now() + READY_WITHIN;
    let mut config = postgres::Config::new();
    config
        .host("127.0.0.1")
        .port(port)
        .user(USER)
        .password(PASSWORD)
        .dbname("postgres")
        .connect_timeout(Duration::from_secs(2));
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return Err(true);
        }
        if config.connect(postgres::NoTls).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    Err(false)
}

/// The server the tests of this binary share: started by the first test
/// that asks, stopped (and its directory removed) when the binary exits.
pub fn shared() -> Option<&'static PgServer> {
    static SHARED: OnceLock<Option<PgServer>> = OnceLock::new();
    extern "C" fn stop_shared() {
        if let Some(Some(s)) = SHARED.get() {
            s.stop();
            let _ = std::fs::remove_dir_all(s.dir());
        }
    }
    let server = SHARED
        .get_or_init(|| {
            let bin = bin_dir()?;
            let server = off_runtime(|| start_with(&bin));
            // SAFETY: registers a plain function; statics are never
            // dropped, so this is how the shared server stops.
            unsafe { libc::atexit(stop_shared) };
            Some(server)
        })
        .as_ref();
    if server.is_none() {
        eprintln!("{NOT_INSTALLED}");
    }
    server
}

/// A new database on the shared server, for one test: its URL (with the
/// password). None, after saying so, when PostgreSQL is not installed.
pub fn database(label: &str) -> Option<String> {
    shared().map(|s| s.create_database(label))
}

#[test]
fn a_private_server_answers_with_a_password_and_stops_when_dropped() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let url = server.create_database("private");
    let pid = server.pid().expect("running");
    let dir = server.dir().to_path_buf();
    let two: i32 = off_runtime(|| {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connects");
        c.query_one("SELECT 1 + 1", &[]).expect("answers").get(0)
    });
    assert_eq!(two, 2);
    // The password is asked for: a wrong one is refused.
    let wrong = url.replace(PASSWORD, "not-the-password");
    let refused = off_runtime(|| postgres::Client::connect(&wrong, postgres::NoTls).err());
    let refused = refused.expect("a wrong password is refused");
    assert_eq!(
        refused.code(),
        Some(&postgres::error::SqlState::INVALID_PASSWORD),
        "{refused:?}"
    );
    let port = server.port;
    drop(server);
    // SAFETY: signal 0 only asks whether the process exists.
    let alive = unsafe { libc::kill(pid as libc::pid_t, 0) } == 0;
    assert!(!alive, "postgres {pid} still runs after the drop");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "something still listens on {port}"
    );
    assert!(!dir.exists(), "{} was not removed", dir.display());
}
