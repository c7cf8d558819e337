//! Call audio figures, on loopback, with no sound card:
//!
//! 1. mouth-to-ear latency: agent A's frames through the server to agent B
//!    in an internal call (A encodes a tone burst every half second; B's
//!    jitter buffer plays it out and the time from A's encoder to B's
//!    decoder output is measured), median and p99;
//! 2. how many concurrent voice sessions the server relays with no frame
//!    later than 20 ms: N customers (the server plays the greeting, then
//!    silence) and N agents (each sending a frame every 20 ms, which the
//!    server decodes and records), lateness measured on every frame the
//!    agents receive;
//! 3. the terminal's CPU per call: Opus encode + decode of one second of
//!    speech at 48 kHz.
//!
//! 4. with `speech`: the server's memory per recognised call. Recognition
//!    is on; the calls come up silent, then each agent talks (a second of
//!    speech in every four, at staggered moments), then all fall silent:
//!    the process's RSS above what it was before the calls, at each stage.
//!
//! Run: `cargo run --release --example media_bench -- [sessions] [seconds]
//! [norecord] [speech] [quick]` (default 300 sessions for 20 s). The server
//! runs in this process on a runtime of its own (threads named
//! `ccdesk-server`, so its CPU is counted apart); the agents' side shares
//! the two cores with it, so the agents' lateness is pessimistic. The
//! server's own punctuality (from the moment a frame is due to the moment
//! it is handed to the peer connection) is reported too. Recording is on
//! unless `norecord`; speech is off unless `speech` (recognition's speed is
//! measured by `make bench-asr`). `quick` (what CI runs): the latency
//! stage for 2 s, and the other stages with 4 sessions for 2 s.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use ccdesk::client::Connection;
use ccdesk::media::analysis;
use ccdesk::media::codec::{Decoder, Encoder};
use ccdesk::media::jitter::{JitterBuffer, Playout};
use ccdesk::protocol::Event;
use ccdesk::server::config::ServerConfig;
use ccdesk::server::records::SqliteRecords;
use ccdesk::server::Server;
use serde_json::json;
use tokio::sync::mpsc;

mod common;

use common::{
    cpu_seconds, login, peer, percentile, receive, server_cpu_seconds, speech_frames, RATE,
};

const SECRET: &str = "media-bench-secret-0123456789";

fn config(agents: usize, record: bool, speech: bool) -> anyhow::Result<ServerConfig> {
    let mut cfg = format!(
        "[server]\nping_interval = 0\nrate_limit_per_second = 100000\nrate_limit_burst = 100000\noutbound_queue = 100000\n\
         [auth]\nsecret = \"{SECRET}\"\n\
         [center]\nring_timeout = 60\nafter_call_work = 0\nmax_session_length = 0\n\
         [speech]\nrecognition = {speech}\nsynthesis = false\n\
         [media]\nrecord = {record}\n\
         [[users]]\nid = \"trunk\"\nrole = \"trunk\"\n"
    );
    for i in 0..agents {
        cfg.push_str(&format!(
            "[[skill_groups]]\nid = \"g{i}\"\n[[users]]\nid = \"a{i}\"\nrole = \"agent\"\nskill_groups = [\"g{i}\"]\n"
        ));
    }
    ServerConfig::parse(&cfg)
}

async fn next_session(c: &mut Connection, name: &str) -> anyhow::Result<String> {
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(30), c.events.recv())
            .await
            .with_context(|| format!("no {name}"))?
            .context("connection closed")?;
        if let Event::CallIn(ci) = ev {
            return Ok(ci.session_id);
        }
    }
}

/// A call from the trunk to group `g{i}`, answered by its agent `a`: the
/// session id.
async fn answered_call(trunk: &Connection, a: &mut Connection, i: usize) -> anyhow::Result<String> {
    let v = trunk
        .call(
            "Customer.call",
            json!({"type": "phone", "skillGroupId": format!("g{i}"), "calleePhoneNumber": "4000", "callerPhoneNumber": "+15550000"}),
        )
        .await?
        .context("no session")?;
    let sid = v["sessionId"].as_str().context("sessionId")?.to_string();
    next_session(a, "callIn").await?;
    a.call("Call.accept", json!({"sessionId": sid})).await?;
    Ok(sid)
}

async fn latency(url: &str, seconds: u64) -> anyhow::Result<()> {
    let a = login(url, SECRET, "a0").await?;
    let mut b = login(url, SECRET, "a1").await?;
    let v = a
        .call("Call.startInternalCall", json!({"calleeUserId": "a1"}))
        .await?
        .context("no session")?;
    let sid = v["sessionId"].as_str().context("sessionId")?.to_string();
    next_session(&mut b, "callIn at a1").await?;
    b.call("Call.accept", json!({"sessionId": sid})).await?;
    let pa = peer(&a, &sid).await?;
    let mut pb = peer(&b, &sid).await?;
    let mut inbound = pb.take_inbound().context("inbound")?;
    let sent: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(Vec::new()));

    // A: a 20 ms burst of 1 kHz every 25 frames, silence between.
    let mut writer = pa.writer()?;
    let sent_a = sent.clone();
    let sender = tokio::spawn(async move {
        let mut enc = Encoder::new(RATE)?;
        let burst = analysis::tone(RATE, &[1000.0], 20, 0.5);
        let quiet = vec![0i16; burst.len()];
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        for n in 0u64.. {
            tick.tick().await;
            let is_burst = n % 25 == 10;
            let t = Instant::now();
            let pkt = enc.encode(if is_burst { &burst } else { &quiet })?;
            writer.send_frame(Bytes::from(pkt)).await;
            if is_burst {
                if let Ok(mut s) = sent_a.lock() {
                    s.push(t);
                }
            }
        }
        anyhow::Ok(())
    });

    // B: jitter buffer, a playout tick every 20 ms, onset detection.
    let mut dec = Decoder::new(RATE)?;
    let mut jb = JitterBuffer::new(10);
    let epoch = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    let mut heard: Vec<Instant> = Vec::new();
    let mut loud = false;
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        tokio::select! {
            p = inbound.recv() => {
                let Some(p) = p else { break };
                let at = p.arrived.duration_since(epoch).as_secs_f64() * 1000.0;
                jb.push(p.seq, p.timestamp, p.payload.to_vec(), at);
            }
            _ = tick.tick() => {
                let pcm = match jb.pop() {
                    Playout::Packet(p) => dec.decode(&p).unwrap_or_else(|_| dec.conceal()),
                    Playout::Lost { .. } => dec.conceal(),
                    Playout::Empty => continue,
                };
                let now_loud = analysis::rms(&pcm) > 0.05;
                if now_loud && !loud {
                    heard.push(Instant::now());
                }
                loud = now_loud;
            }
        }
    }
    sender.abort();
    let sent = sent.lock().map(|s| s.clone()).unwrap_or_default();
    let mut lat: Vec<f64> = Vec::new();
    for h in &heard {
        if let Some(s) = sent.iter().rev().find(|s| *s <= h) {
            let ms = h.duration_since(*s).as_secs_f64() * 1000.0;
            if ms < 400.0 {
                lat.push(ms);
            }
        }
    }
    lat.sort_by(|x, y| x.total_cmp(y));
    println!(
        "latency (A's encoder to B's decoder, through the server, {} bursts): median {:.1} ms, p99 {:.1} ms, max {:.1} ms; jitter at B {:.2} ms, lost {}",
        lat.len(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        lat.last().copied().unwrap_or(f64::NAN),
        jb.stats().jitter_ms,
        jb.stats().lost
    );
    println!("  (add 20 ms of capture framing and the sound card's buffer for mouth to ear)");
    a.call("Call.hungUp", json!({"sessionId": sid})).await?;
    Ok(())
}

async fn scale(url: &str, sessions: usize, seconds: u64) -> anyhow::Result<()> {
    let trunk = login(url, SECRET, "trunk").await?;
    let mut agents = Vec::new();
    for i in 0..sessions {
        agents.push(login(url, SECRET, &format!("a{i}")).await?);
    }
    let mut sids = Vec::new();
    for (i, a) in agents.iter_mut().enumerate() {
        sids.push(answered_call(&trunk, a, i).await?);
    }
    println!("{sessions} sessions talking; negotiating audio");
    let t = Instant::now();
    let agents: Vec<Arc<Connection>> = agents.into_iter().map(Arc::new).collect();
    let mut peers = Vec::new();
    for chunk in agents.iter().zip(&sids).collect::<Vec<_>>().chunks(25) {
        let mut tasks = Vec::new();
        for (a, sid) in chunk {
            let (a, sid) = ((*a).clone(), (*sid).clone());
            tasks.push(tokio::spawn(async move { peer(&a, &sid).await }));
        }
        for t in tasks {
            peers.push(t.await??);
        }
    }
    println!(
        "  {} peer connections up in {:.1} s",
        peers.len(),
        t.elapsed().as_secs_f64()
    );
    // Agents talk: one pre-encoded second of speech, looped.
    let speech = speech_frames()?;
    for sid in &sids {
        trunk
            .call(
                "Customer.play",
                json!({"sessionId": sid, "sound": "greeting"}),
            )
            .await?;
    }
    // Two seconds to settle, then measure.
    let from = Instant::now() + Duration::from_secs(2);
    let until = from + Duration::from_secs(seconds);
    let lateness = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for mut p in peers {
        let inbound = p.take_inbound().context("inbound")?;
        tasks.push(tokio::spawn(receive(
            inbound,
            from,
            until,
            lateness.clone(),
        )));
        let mut w = p.writer()?;
        let speech = speech.clone();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let mut n = 0usize;
            while Instant::now() < until {
                tick.tick().await;
                w.send_frame(speech[n % speech.len()].clone()).await;
                n += 1;
            }
            drop(p);
        }));
    }
    tokio::time::sleep_until(from.into()).await;
    let cpu0 = cpu_seconds();
    let server0 = server_cpu_seconds();
    ccdesk::server::media::reset_tick_stats();
    let t0 = Instant::now();
    for t in tasks {
        let _ = t.await;
    }
    let ticks = ccdesk::server::media::tick_stats();
    let cpu = cpu_seconds() - cpu0;
    let server_cpu = server_cpu_seconds() - server0;
    let wall = t0.elapsed().as_secs_f64();
    let mut l = lateness.lock().map(|l| l.clone()).unwrap_or_default();
    l.sort_by(|x, y| x.total_cmp(y));
    let over = l.iter().filter(|x| **x > 20.0).count();
    println!(
        "{sessions} sessions for {seconds} s: {} frames received by agents (expected {}), lateness p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms; {} frames ({:.3}%) later than 20 ms",
        l.len(),
        sessions as u64 * seconds * 50,
        percentile(&l, 0.5),
        percentile(&l, 0.99),
        percentile(&l, 0.999),
        l.last().copied().unwrap_or(f64::NAN),
        over,
        100.0 * over as f64 / l.len().max(1) as f64
    );
    println!(
        "  server: {} frames sent, due to handed over: p50 {} ms, p99 {} ms, p99.9 {} ms, max {:.1} ms; {} ({:.3}%) later than 20 ms",
        ticks.ticks,
        ticks.percentile_ms(0.5),
        ticks.percentile_ms(0.99),
        ticks.percentile_ms(0.999),
        ticks.worst_us as f64 / 1000.0,
        ticks.late,
        100.0 * ticks.late as f64 / ticks.ticks.max(1) as f64
    );
    println!(
        "  CPU: server {:.2} cores, load generator {:.2} cores (of 2)",
        server_cpu / wall,
        (cpu - server_cpu) / wall
    );
    Ok(())
}

/// The process's resident memory, MiB.
fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// Memory per recognised call: `calls` calls with audio, recognition on;
/// silent, then talking in turns for `seconds`, then silent again.
async fn speech_memory(url: &str, calls: usize, seconds: u64) -> anyhow::Result<()> {
    let before = rss_mib();
    let trunk = login(url, SECRET, "trunk").await?;
    let finals = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut agents = Vec::new();
    let mut sids = Vec::new();
    for i in 0..calls {
        let mut a = login(url, SECRET, &format!("a{i}")).await?;
        let sid = answered_call(&trunk, &mut a, i).await?;
        // Count the recognised sentences the agent is sent.
        let mut events = std::mem::replace(&mut a.events, mpsc::unbounded_channel().1);
        let finals = finals.clone();
        tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                if let Event::Asr { result, .. } = ev {
                    if result.slice_type == 2 {
                        finals.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }
        });
        agents.push(Arc::new(a));
        sids.push(sid);
    }
    let mut writers = Vec::new();
    let mut peers = Vec::new();
    for (a, sid) in agents.iter().zip(&sids) {
        let p = peer(a, sid).await?;
        writers.push(p.writer()?);
        peers.push(p);
    }
    let silence = Bytes::from(ccdesk::media::codec::silence_packet(RATE)?);
    let speech = speech_frames()?;
    let settle = Duration::from_secs(3);
    let start = Instant::now();
    let talk_from = start + settle;
    let talk_until = talk_from + Duration::from_secs(seconds);
    let end = talk_until + settle;
    let mut tasks = Vec::new();
    for (i, mut w) in writers.into_iter().enumerate() {
        let (speech, silence) = (speech.clone(), silence.clone());
        // Each talks one second in every four, staggered.
        let offset = (i as u64 * 200) % 4000;
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let mut n = 0u64;
            while Instant::now() < end {
                tick.tick().await;
                let now = Instant::now();
                let into = (n * 20 + 4000 - offset) % 4000;
                let talking = now >= talk_from && now < talk_until && into < 1000;
                let frame = if talking {
                    speech[(into / 20) as usize % speech.len()].clone()
                } else {
                    silence.clone()
                };
                w.send_frame(frame).await;
                n += 1;
            }
        }));
    }
    tokio::time::sleep_until(talk_from.into()).await;
    let silent = rss_mib();
    let mut peak: f64 = silent;
    while Instant::now() < talk_until {
        tokio::time::sleep(Duration::from_millis(250)).await;
        peak = peak.max(rss_mib());
    }
    for t in tasks {
        let _ = t.await;
    }
    let after = rss_mib();
    drop(peers);
    let per = |mib: f64| (mib - before) / calls.max(1) as f64;
    println!(
        "speech: {calls} calls with audio and recognition; RSS {before:.1} MiB before the calls"
    );
    println!(
        "  calls up, silent:      +{:.1} MiB ({:.2} MiB a call)",
        silent - before,
        per(silent)
    );
    println!(
        "  talking in turns, {seconds} s: peak +{:.1} MiB ({:.2} MiB a call); {} sentences recognised",
        peak - before,
        per(peak),
        finals.load(std::sync::atomic::Ordering::Relaxed)
    );
    println!(
        "  silent again:          +{:.1} MiB ({:.2} MiB a call)",
        after - before,
        per(after)
    );
    Ok(())
}

fn codec_cost() -> anyhow::Result<()> {
    let pcm = ccdesk::server::media::sound::read_wav(include_bytes!("../assets/greeting.wav"))?;
    let pcm = ccdesk::media::device::resample(&pcm, 16_000, RATE);
    let frames: Vec<&[i16]> = pcm.chunks_exact(960).take(50).collect();
    let mut enc = Encoder::new(RATE)?;
    let mut dec = Decoder::new(RATE)?;
    let rounds = 100;
    let t = Instant::now();
    for _ in 0..rounds {
        for f in &frames {
            let p = enc.encode(f)?;
            let _ = dec.decode(&p)?;
        }
    }
    let per_sec = t.elapsed().as_secs_f64() / rounds as f64;
    println!(
        "terminal codec: encode + decode of 1 s of speech at 48 kHz takes {:.2} ms ({:.2}% of one core per call)",
        per_sec * 1000.0,
        per_sec * 100.0
    );
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let word = |w: &str| args.iter().any(|a| a == w);
    let mut numbers = args.iter().filter_map(|a| a.parse::<u64>().ok());
    let quick = word("quick");
    let mut sessions = numbers.next().unwrap_or(300) as usize;
    let mut seconds = numbers.next().unwrap_or(20);
    if quick {
        sessions = sessions.min(4);
        seconds = seconds.min(2);
    }
    codec_cost()?;
    // The server on a runtime of its own (threads named ccdesk-server, so
    // its CPU can be told apart), the agents on another.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("ccdesk-server")
        .enable_all()
        .build()?;
    let load_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("load")
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    // `norecord` turns recording off (then the server decodes only what it
    // must mix); `speech` turns recognition on and measures memory.
    let record = !word("norecord");
    let speech = word("speech");
    let cfg = config(sessions.max(2), record, speech)?;
    let server = server_rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let records = Box::new(SqliteRecords::open_dir(dir.path())?);
        anyhow::Ok(Server::start(cfg, listener, records)?)
    })?;
    let url = format!("ws://{}/ws", server.addr);
    load_rt.block_on(async {
        latency(&url, if quick { 2 } else { 10 }).await?;
        if speech {
            speech_memory(&url, sessions, seconds).await
        } else {
            scale(&url, sessions, seconds).await
        }
    })?;
    server_rt.block_on(async { server.stop() });
    Ok(())
}
