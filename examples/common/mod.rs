//! What the call-audio benchmarks share: logging in, an agent's audio
//! peer, lateness of what it receives, the speech it sends, percentiles
//! and CPU time.
#![allow(dead_code)] // each benchmark uses its part

use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use bytes::Bytes;
use ccdesk::client::Connection;
use ccdesk::media::codec::Encoder;
use ccdesk::media::rtc::{Peer, RtpIn};
use ccdesk::server::auth;
use serde_json::json;
use tokio::sync::mpsc;

/// The agents' sample rate (the terminal's).
pub const RATE: u32 = 48_000;

pub async fn login(url: &str, secret: &str, user: &str) -> anyhow::Result<Connection> {
    let c = Connection::connect(url).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    c.login(user, &auth::issue(secret, user, now, 3600), false)
        .await?;
    Ok(c)
}

/// A bench-side audio peer for `sid`, negotiated through `c`.
pub async fn peer(c: &Connection, sid: &str) -> anyhow::Result<Peer> {
    let mut p = Peer::new("127.0.0.1".parse()?).await?;
    let offer = p.create_offer().await?;
    let answer = c
        .call("Media.offer", json!({"sessionId": sid, "sdp": offer}))
        .await?
        .context("no answer")?;
    let sdp = answer["sdp"].as_str().context("no sdp")?;
    p.accept_answer(sdp).await?;
    p.connected().await?;
    Ok(p)
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// One agent's measurements: lateness of each received frame, ms.
pub async fn receive(
    mut inbound: mpsc::Receiver<RtpIn>,
    from: Instant,
    until: Instant,
    out: Arc<Mutex<Vec<f64>>>,
) {
    let mut first: Option<(Instant, u32)> = None;
    let mut offsets = Vec::new();
    while let Ok(Some(p)) = tokio::time::timeout_at(until.into(), inbound.recv()).await {
        if p.arrived < from {
            // Set-up time: not measured.
            continue;
        }
        let (t0, ts0) = *first.get_or_insert((p.arrived, p.timestamp));
        let expected_ms = p.timestamp.wrapping_sub(ts0) as f64 / 48.0;
        let actual_ms = p.arrived.duration_since(t0).as_secs_f64() * 1000.0;
        offsets.push(actual_ms - expected_ms);
    }
    // Lateness against the earliest frame (the stream's best case).
    let best = offsets.iter().copied().fold(f64::INFINITY, f64::min);
    if let Ok(mut o) = out.lock() {
        o.extend(offsets.iter().map(|x| x - best));
    }
}

/// One second of the greeting, encoded: what the agents say, looped.
pub fn speech_frames() -> anyhow::Result<Arc<Vec<Bytes>>> {
    let pcm = ccdesk::server::media::sound::read_wav(include_bytes!("../../assets/greeting.wav"))?;
    let pcm = ccdesk::media::device::resample(&pcm, 16_000, RATE);
    let mut enc = Encoder::new(RATE)?;
    let mut frames = Vec::new();
    for f in pcm.chunks_exact(960).take(50) {
        frames.push(Bytes::from(enc.encode(f)?));
    }
    Ok(Arc::new(frames))
}

/// The server's threads' CPU time (its runtime's threads are named
/// `ccdesk-server`) and its media runtime's (`ccdesk-media`), from
/// /proc/self/task/*/stat.
pub fn server_cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut total = 0.0;
    for t in tasks.flatten() {
        let stat = std::fs::read_to_string(t.path().join("stat")).unwrap_or_default();
        let name = stat.split_once('(').and_then(|(_, r)| r.rsplit_once(')'));
        let Some((comm, after)) = name else { continue };
        if comm.starts_with("ccdesk-server") || comm.starts_with("ccdesk-media") {
            total += stat_cpu(after);
        }
    }
    total
}

/// utime + stime (fields 14 and 15 of a stat line), in seconds, from the
/// part after the command name.
fn stat_cpu(after: &str) -> f64 {
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    stat_cpu(stat.rsplit(')').next().unwrap_or(""))
}
