//! Measures what the supervisor console writes to its terminal on a busy
//! floor, the figure that matters over a slow SSH link.
//!
//! The real binary runs `ccdesk demo --supervise --scenario floor` (twenty
//! agents, a customer about every four seconds) in a pseudo-terminal. After
//! a warm-up, the bench monitors two talking sessions as text (Tab, w, down,
//! w) and counts the bytes written over a measured window; then it does the
//! same with `--full-redraw`, which clears and redraws the whole screen every
//! frame, for comparison.
//!
//! Run: `make bench-supervise` (builds the release binary first). With
//! `quick` (what CI runs, against the binary of the same profile): a 3 s
//! window after 5 s, to check it completes.
//! Environment: BENCH_SECONDS (window, default 60), BENCH_WARMUP (default
//! 30), BENCH_SIZE (`80x24` default, or e.g. `120x40`).

#[path = "../tests/agent/pty.rs"]
mod pty;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

/// The selected row of the live-sessions pane (the right-hand `▶`).
fn selected_session(screen: &str) -> Option<String> {
    screen.lines().find_map(|l| {
        let chars: Vec<char> = l.chars().collect();
        let at = chars.iter().skip(20).position(|c| *c == '▶')?;
        Some(chars[20 + at..].iter().collect())
    })
}

fn env_u64(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Figures {
    frames: usize,
    bytes: usize,
    secs: f64,
}

fn measure(bin: &Path, size: (u16, u16), full_redraw: bool, warmup: u64, window: u64) -> Figures {
    let home = tempfile::tempdir().expect("home");
    let mut args = vec!["demo", "--supervise", "--scenario", "floor", "--seed", "5"];
    if full_redraw {
        args.push("--full-redraw");
    }
    let p = pty::Pty::spawn(
        bin,
        &args,
        &[
            ("HOME", &home.path().to_string_lossy()),
            ("XDG_CONFIG_HOME", &home.path().join("c").to_string_lossy()),
            ("XDG_STATE_HOME", &home.path().join("s").to_string_lossy()),
        ],
        home.path(),
        size.0,
        size.1,
    )
    .expect("spawn ccdesk demo --supervise");
    p.wait_for("the wallboard", Duration::from_secs(20), |s| {
        s.contains("alice") && s.contains("Live sessions")
    });
    // Warm-up: the agents log in and the first calls are answered. A
    // measurement window, not a synchronisation: just let time pass.
    std::thread::sleep(Duration::from_secs(warmup));
    // Monitor the two newest talking sessions: to the end of the list, then
    // up to a talking row, `w`, up to the next, `w`.
    p.tab();
    for _ in 0..3 {
        p.send(b"\x1b[6~"); // PageDown
    }
    for _ in 0..2 {
        for _ in 0..40 {
            let screen = p.screen();
            if selected_session(&screen).is_some_and(|r| r.contains("talking") && !r.contains('◉'))
            {
                break;
            }
            p.up();
            p.try_wait_for(Duration::from_millis(300), |s| {
                selected_session(s) != selected_session(&screen)
            });
        }
        p.key("w");
        p.try_wait_for(Duration::from_secs(1), |s| {
            selected_session(s).is_some_and(|r| r.contains('◉'))
        });
    }
    std::thread::sleep(Duration::from_secs(1));
    let before = p.output_len();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(window));
    let secs = t0.elapsed().as_secs_f64();
    let raw = p.raw_output();
    let out = &raw[before..];
    let screen = p.screen();
    let live = screen.matches("IN  ▸").count();
    if live == 0 {
        eprintln!("note: no monitored words on screen at the end:\n{screen}");
    }
    p.key("q");
    Figures {
        frames: count(out, b"\x1b[?2026h"),
        bytes: out.len(),
        secs,
    }
}

fn main() {
    let exe = std::env::current_exe().expect("exe");
    let bin: PathBuf = exe
        .parent()
        .and_then(|d| d.parent())
        .map(|d| d.join("ccdesk"))
        .expect("target dir");
    let quick = std::env::args().any(|a| a == "quick");
    let window = env_u64("BENCH_SECONDS", if quick { 3 } else { 60 });
    let warmup = env_u64("BENCH_WARMUP", if quick { 5 } else { 30 });
    let size = std::env::var("BENCH_SIZE")
        .ok()
        .and_then(|s| {
            let (c, r) = s.split_once('x')?;
            Some((c.parse().ok()?, r.parse().ok()?))
        })
        .unwrap_or((80u16, 24u16));
    println!(
        "supervisor console, floor scenario, {}x{}, two text monitors, {window} s window after {warmup} s",
        size.0, size.1
    );
    let mut rows = Vec::new();
    for full in [false, true] {
        let f = measure(&bin, size, full, warmup, window);
        assert!(f.frames > 0, "no frame drawn in the window");
        let per_min = f.bytes as f64 * 60.0 / f.secs;
        println!(
            "{:<28} {:>5} frames  {:>9} bytes  {:>9.0} bytes/min  {:>6.0} bytes/frame",
            if full {
                "full redraw every frame"
            } else {
                "changes only (default)"
            },
            f.frames,
            f.bytes,
            per_min,
            f.bytes as f64 / f.frames.max(1) as f64
        );
        rows.push(per_min);
    }
    if rows[0] > 0.0 {
        println!(
            "the full redraw writes {:.1} times as much",
            rows[1] / rows[0]
        );
    }
}
