#![allow(dead_code)]
//! Pseudo-terminal harness for end-to-end tests of the terminal app.
//!
//! [`Pty::spawn`] starts a program on a fresh pseudo-terminal (which becomes
//! its controlling terminal). A background reader thread drains the pty
//! master, keeps a copy of every raw byte, feeds a [`vt100::Parser`] of the
//! same size so tests can look at the rendered screen, and answers the
//! terminal queries crossterm may send (cursor position, primary device
//! attributes, status report). Every wait has a timeout and panics with the
//! last screen, so a misbehaving program can never hang a test forever.
//!
//! All waiting is event-driven: the reader thread notifies a condvar after
//! each chunk it has parsed, so waits wake up as soon as new output arrives.
//!
//! The wait methods block the calling thread. In a `#[tokio::test]` that also
//! runs a server on the same runtime, use the multi-thread flavour (or call
//! the harness from `spawn_blocking`), or the server will stall while a test
//! waits on the screen.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{native_pty_system, Child, CommandBuilder, ExitStatus, MasterPty, PtySize};

/// Timeout used by [`Pty::wait_text`] and [`Pty::wait_gone`].
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How much of the raw output tail is shown in panic messages.
const RAW_TAIL_IN_PANIC: usize = 2048;

/// Why a wait gave up.
enum Stopped {
    Ended,
    TimedOut,
}

/// A program running on a pseudo-terminal, with a parsed view of its screen.
pub struct Pty {
    shared: Arc<Shared>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    master: Mutex<Box<dyn MasterPty + Send>>,
    child: Mutex<ChildState>,
    reader: Option<JoinHandle<()>>,
    program: String,
}

struct ChildState {
    child: Box<dyn Child + Send + Sync>,
    status: Option<ExitStatus>,
}

impl ChildState {
    /// Non-blocking check whether the child has exited (reaps it if so).
    fn poll(&mut self) -> Option<&ExitStatus> {
        if self.status.is_none() {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.status = Some(status);
            }
        }
        self.status.as_ref()
    }
}

struct Shared {
    state: Mutex<State>,
    /// Notified after every parsed chunk and when the output ends.
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct State {
    parser: vt100::Parser<Responder>,
    /// Every byte the program has written.
    raw: Vec<u8>,
    /// (offset in `raw` of the chunk's first byte, when it was read).
    chunks: Vec<(usize, Instant)>,
    /// The reader has seen end of output (all slave fds closed) or an error.
    eof: bool,
    read_error: Option<String>,
}

/// vt100 callbacks that answer terminal queries like a real terminal would.
/// Replies are collected here and written to the pty by the reader thread
/// once the chunk has been parsed (and the state lock released).
#[derive(Default)]
struct Responder {
    replies: Vec<u8>,
}

impl vt100::Callbacks for Responder {
    fn unhandled_csi(
        &mut self,
        screen: &mut vt100::Screen,
        i1: Option<u8>,
        i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        let first = params.first().and_then(|p| p.first()).copied().unwrap_or(0);
        match (i1, i2, c) {
            // DSR 6: cursor position report, 1-based, as of this point in the stream.
            (None, None, 'n') if first == 6 => {
                let (row, col) = screen.cursor_position();
                self.replies
                    .extend_from_slice(format!("\x1b[{};{}R", row + 1, col + 1).as_bytes());
            }
            // DSR 5: device status, "OK".
            (None, None, 'n') if first == 5 => self.replies.extend_from_slice(b"\x1b[0n"),
            // DA1: primary device attributes (VT220-ish with ANSI colour).
            (None, None, 'c') if first == 0 => self.replies.extend_from_slice(b"\x1b[?62;22c"),
            // Everything else, including the kitty keyboard query `CSI ? u`,
            // goes unanswered, like a terminal without that feature.
            _ => {}
        }
    }
}

fn screen_text(screen: &vt100::Screen) -> String {
    let (_, cols) = screen.size();
    screen
        .rows(0, cols.get())
        .map(|row| row.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn reader_loop(
    mut reader: Box<dyn Read + Send>,
    shared: Arc<Shared>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => {
                // portable-pty maps EIO (slave side closed) to Ok(0).
                shared.lock().eof = true;
                shared.changed.notify_all();
                return;
            }
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let mut state = shared.lock();
                state.eof = true;
                state.read_error = Some(e.to_string());
                drop(state);
                shared.changed.notify_all();
                return;
            }
        };
        let now = Instant::now();
        let replies = {
            let mut state = shared.lock();
            let start = state.raw.len();
            state.chunks.push((start, now));
            state.raw.extend_from_slice(&buf[..n]);
            state.parser.process(&buf[..n]);
            std::mem::take(&mut state.parser.callbacks_mut().replies)
        };
        shared.changed.notify_all();
        if !replies.is_empty() {
            let mut w = writer.lock().unwrap_or_else(PoisonError::into_inner);
            // The program may already be gone; a failed reply is not our problem.
            let _ = w.write_all(&replies).and_then(|()| w.flush());
        }
    }
}

impl Pty {
    /// Spawn `program` with `args` on a new pty of `cols` x `rows`, cwd = `cwd`.
    ///
    /// The child inherits the environment, with `TERM=xterm-256color` and
    /// `LANG=C.UTF-8` (and `COLUMNS`/`LINES` removed), then `env` applied on
    /// top (so it can override those). The pty is the child's controlling
    /// terminal and it is a session leader.
    pub fn spawn(
        program: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        cwd: &Path,
        cols: u16,
        rows: u16,
    ) -> std::io::Result<Pty> {
        use std::io::{Error, ErrorKind};
        let (Some(nz_rows), Some(nz_cols)) = (
            std::num::NonZeroU16::new(rows),
            std::num::NonZeroU16::new(cols),
        ) else {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "pty size must be non-zero",
            ));
        };
        // portable-pty silently falls back to $HOME for a cwd that is not a
        // directory; make that an error instead.
        if !cwd.is_dir() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("cwd {} is not a directory", cwd.display()),
            ));
        }
        fn other(what: &str, e: impl std::fmt::Display) -> Error {
            Error::other(format!("{what}: {e:#}"))
        }
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| other("openpty", e))?;

        let mut cmd = CommandBuilder::new(program);
        cmd.args(args);
        cmd.cwd(cwd);
        cmd.env_remove("COLUMNS");
        cmd.env_remove("LINES");
        cmd.env("TERM", "xterm-256color");
        cmd.env("LANG", "C.UTF-8");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pair
            .slave
            .spawn_command(cmd)
            .map_err(|e| other(&format!("spawn {}", program.display()), e))?;
        // The parent must not keep the slave open, or the reader never sees
        // end of output when the child exits.
        drop(pair.slave);

        let reader = pair
            .master
            .try_clone_reader()
            .map_err(|e| other("clone pty reader", e))?;
        let writer: Arc<Mutex<Box<dyn Write + Send>>> = Arc::new(Mutex::new(
            pair.master
                .take_writer()
                .map_err(|e| other("take pty writer", e))?,
        ));
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                parser: vt100::Parser::new_with_callbacks(
                    nz_rows,
                    nz_cols,
                    0,
                    Responder::default(),
                ),
                raw: Vec::new(),
                chunks: Vec::new(),
                eof: false,
                read_error: None,
            }),
            changed: Condvar::new(),
        });
        let reader = {
            let shared = Arc::clone(&shared);
            let writer = Arc::clone(&writer);
            std::thread::Builder::new()
                .name("pty-reader".into())
                .spawn(move || reader_loop(reader, shared, writer))?
        };
        Ok(Pty {
            shared,
            writer,
            master: Mutex::new(pair.master),
            child: Mutex::new(ChildState {
                child,
                status: None,
            }),
            reader: Some(reader),
            program: program.display().to_string(),
        })
    }

    /// The current screen as plain text: every row (trailing spaces trimmed),
    /// joined by '\n'.
    pub fn screen(&self) -> String {
        screen_text(self.shared.lock().parser.screen())
    }

    /// Run `f` on the parsed vt100 screen (for colours, attributes, cursor,
    /// alternate-screen state, ...).
    pub fn with_screen<R>(&self, f: impl FnOnce(&vt100::Screen) -> R) -> R {
        f(self.shared.lock().parser.screen())
    }

    /// The cursor position as (row, col), 0-based.
    pub fn cursor_position(&self) -> (u16, u16) {
        self.with_screen(|s| s.cursor_position())
    }

    /// Wait (at most `timeout`) until `pred(&screen_text)` holds, re-checking
    /// whenever new output has been parsed. Returns the matching screen.
    /// Panics on timeout, or as soon as the program's output has ended with
    /// the predicate still false, with `what` and the last screen.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        match self.wait_until(timeout, pred) {
            Ok(text) => text,
            Err(Stopped::Ended) => self.fail(&format!(
                "program output ended (after {:?}) while waiting for {what}",
                start.elapsed()
            )),
            Err(Stopped::TimedOut) => {
                self.fail(&format!("timed out after {timeout:?} waiting for {what}"))
            }
        }
    }

    /// Like `wait_for`, but None on timeout instead of failing (for
    /// retrying something the screen shows only once it took effect).
    pub fn try_wait_for(&self, timeout: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        self.wait_until(timeout, pred).ok()
    }

    fn wait_until(
        &self,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> Result<String, Stopped> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            let text = screen_text(state.parser.screen());
            if pred(&text) {
                return Ok(text);
            }
            if state.eof {
                return Err(Stopped::Ended);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Stopped::TimedOut);
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Wait (at most [`DEFAULT_TIMEOUT`]) until `text` is on screen.
    pub fn wait_text(&self, text: &str) -> String {
        self.wait_for(&format!("text {text:?}"), DEFAULT_TIMEOUT, |s| {
            s.contains(text)
        })
    }

    /// Wait (at most [`DEFAULT_TIMEOUT`]) until `text` is no longer on screen.
    pub fn wait_gone(&self, text: &str) -> String {
        self.wait_for(
            &format!("text {text:?} to disappear"),
            DEFAULT_TIMEOUT,
            |s| !s.contains(text),
        )
    }

    /// Write raw bytes (keys) to the program. Panics if the write fails.
    ///
    /// Note: bytes sent in quick succession may reach the program in one
    /// read, so e.g. `esc()` immediately followed by `key("q")` can be decoded
    /// as Alt+q. Wait for the screen to react to ESC before the next key.
    pub fn send(&self, bytes: &[u8]) {
        let result = {
            let mut w = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
            w.write_all(bytes).and_then(|()| w.flush())
        };
        if let Err(e) = result {
            self.fail(&format!(
                "writing {:?} to the pty failed: {e}",
                bytes.escape_ascii().to_string()
            ));
        }
    }

    /// Send plain text / characters as typed.
    pub fn key(&self, s: &str) {
        self.send(s.as_bytes());
    }

    /// Enter (CR, as a terminal sends it).
    pub fn enter(&self) {
        self.send(b"\r");
    }

    /// Escape.
    pub fn esc(&self) {
        self.send(b"\x1b");
    }

    /// Arrow up (normal cursor-key mode).
    pub fn up(&self) {
        self.send(b"\x1b[A");
    }

    /// Arrow down (normal cursor-key mode).
    pub fn down(&self) {
        self.send(b"\x1b[B");
    }

    /// Arrow right (normal cursor-key mode).
    pub fn right(&self) {
        self.send(b"\x1b[C");
    }

    /// Arrow left (normal cursor-key mode).
    pub fn left(&self) {
        self.send(b"\x1b[D");
    }

    /// Tab.
    pub fn tab(&self) {
        self.send(b"\t");
    }

    /// Shift+Tab (back-tab).
    pub fn shift_tab(&self) {
        self.send(b"\x1b[Z");
    }

    /// Backspace (DEL, as xterm sends it).
    pub fn backspace(&self) {
        self.send(b"\x7f");
    }

    /// Ctrl+`c` for an ASCII letter, e.g. `ctrl('c')` sends 0x03.
    pub fn ctrl(&self, c: char) {
        assert!(c.is_ascii_alphabetic(), "ctrl({c:?}): only letters");
        self.send(&[(c.to_ascii_lowercase() as u8) & 0x1f]);
    }

    /// Resize the terminal: the parser first, then the pty (which sends
    /// SIGWINCH), under the state lock so that no output produced after the
    /// resize is parsed at the old size.
    pub fn resize(&self, cols: u16, rows: u16) {
        let (Some(nz_rows), Some(nz_cols)) = (
            std::num::NonZeroU16::new(rows),
            std::num::NonZeroU16::new(cols),
        ) else {
            panic!("resize to {cols}x{rows}: size must be non-zero");
        };
        let mut state = self.shared.lock();
        state.parser.set_size(nz_rows, nz_cols);
        let result = self
            .master
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            });
        drop(state);
        if let Err(e) = result {
            self.fail(&format!("resizing the pty to {cols}x{rows} failed: {e:#}"));
        }
    }

    /// Wait (at most `timeout`) for the child to exit and return its exit
    /// code (portable-pty reports 1 for death by signal; see
    /// [`Pty::exit_status`]). Also waits briefly for the reader to drain the
    /// remaining output, so `screen()`/`raw_output()` are final afterwards.
    /// Panics with the screen on timeout.
    pub fn wait_exit(&mut self, timeout: Duration) -> u32 {
        let deadline = Instant::now() + timeout;
        let code = loop {
            if let Some(status) = self.lock_child().poll() {
                break status.exit_code();
            }
            let now = Instant::now();
            if now >= deadline {
                self.fail(&format!(
                    "timed out after {timeout:?} waiting for the program to exit"
                ));
            }
            // Output ending usually coincides with exit, so this wakes
            // promptly; the cap only bounds the polling of the child status.
            let step = (deadline - now).min(Duration::from_millis(10));
            let state = self.shared.lock();
            if !state.eof {
                drop(
                    self.shared
                        .changed
                        .wait_timeout(state, step)
                        .unwrap_or_else(PoisonError::into_inner),
                );
            } else {
                drop(state);
                std::thread::sleep(step);
            }
        };
        // A surviving grandchild could hold the slave open; don't wait long.
        self.wait_eof(Duration::from_secs(2));
        code
    }

    /// The child's exit status, if it has exited (non-blocking).
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.lock_child().poll().cloned()
    }

    /// The child's process id (for reading its memory and CPU time in /proc).
    pub fn pid(&self) -> Option<u32> {
        self.lock_child().child.process_id()
    }

    /// All raw bytes the program has written so far.
    pub fn raw_output(&self) -> Vec<u8> {
        self.shared.lock().raw.clone()
    }

    /// Number of raw bytes the program has written so far.
    pub fn output_len(&self) -> usize {
        self.shared.lock().raw.len()
    }

    /// When the most recent output chunk arrived, if any.
    pub fn last_output_at(&self) -> Option<Instant> {
        self.shared.lock().chunks.last().map(|&(_, t)| t)
    }

    /// Block (at most `timeout`) until more than `len` bytes of output have
    /// arrived and been parsed; return the instant at which the chunk holding
    /// byte `len` (the first new byte) was read. For latency measurements:
    /// `let n = pty.output_len(); let t0 = Instant::now(); pty.key("x");
    /// let latency = pty.wait_output_after(n, d) - t0;`
    pub fn wait_output_after(&self, len: usize, timeout: Duration) -> Instant {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if state.raw.len() > len {
                let i = state.chunks.partition_point(|&(start, _)| start <= len);
                return state.chunks[i - 1].1;
            }
            if state.eof {
                drop(state);
                self.fail(&format!(
                    "program output ended while waiting for output beyond byte {len}"
                ));
            }
            let now = Instant::now();
            if now >= deadline {
                drop(state);
                self.fail(&format!(
                    "timed out after {timeout:?} waiting for output beyond byte {len}"
                ));
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Wait until the program has produced no output for `quiet`, at most
    /// `timeout` overall (panics on timeout). Returns the screen. Useful to
    /// let the app settle before asserting on what it does *not* print.
    pub fn wait_idle(&self, quiet: Duration, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            let now = Instant::now();
            let last = state.chunks.last().map(|&(_, t)| t);
            let idle_until = last.map_or(now, |t| t + quiet);
            if state.eof || now >= idle_until {
                return screen_text(state.parser.screen());
            }
            if now >= deadline {
                drop(state);
                self.fail(&format!(
                    "timed out after {timeout:?} waiting for {quiet:?} without output"
                ));
            }
            let wake = idle_until.min(deadline);
            state = self
                .shared
                .changed
                .wait_timeout(state, wake - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn lock_child(&self) -> MutexGuard<'_, ChildState> {
        self.child.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wait (at most `timeout`) for the reader to reach end of output.
    fn wait_eof(&self, timeout: Duration) -> bool {
        let state = self.shared.lock();
        let (state, _) = self
            .shared
            .changed
            .wait_timeout_while(state, timeout, |s| !s.eof)
            .unwrap_or_else(PoisonError::into_inner);
        state.eof
    }

    /// Panic with `msg`, the child's status, the last screen and the tail of
    /// the raw output.
    fn fail(&self, msg: &str) -> ! {
        let status = match self.child.try_lock() {
            Ok(mut c) => match c.poll() {
                Some(s) => format!("exited: {s}"),
                None => "still running".to_owned(),
            },
            Err(_) => "unknown".to_owned(),
        };
        let (screen, size, cursor, tail, read_error) = {
            let state = self.shared.lock();
            let screen = state.parser.screen();
            let (rows, cols) = screen.size();
            let tail_start = state.raw.len().saturating_sub(RAW_TAIL_IN_PANIC);
            (
                screen_text(screen),
                format!("{cols}x{rows}"),
                screen.cursor_position(),
                state.raw[tail_start..].escape_ascii().to_string(),
                state.read_error.clone(),
            )
        };
        let read_error = read_error
            .map(|e| format!("\npty read error: {e}"))
            .unwrap_or_default();
        panic!(
            "{msg}\nprogram: {} ({status}){read_error}\n\
             --- screen {size}, cursor (row, col) {cursor:?} ---\n{screen}\n\
             --- end of screen; raw output tail ---\n{tail}\n--- end of raw output ---",
            self.program
        );
    }
}

impl Drop for Pty {
    /// Kill (SIGHUP, then SIGKILL after a short grace period) and reap the
    /// child if it is still running, then let the reader thread finish.
    fn drop(&mut self) {
        {
            let mut c = self.lock_child();
            if c.poll().is_none() {
                let _ = c.child.kill();
                let deadline = Instant::now() + Duration::from_secs(5);
                while c.poll().is_none() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        // Join the reader only once it has seen end of output; a grandchild
        // holding the slave open must not hang the test, so otherwise detach.
        if self.wait_eof(Duration::from_secs(2)) {
            if let Some(reader) = self.reader.take() {
                let _ = reader.join();
            }
        }
    }
}
