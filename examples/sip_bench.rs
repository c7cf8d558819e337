//! Telephony figures, on loopback: SIP calls from sipp bridged to agents'
//! WebRTC/Opus legs.
//!
//! 1. **Concurrent calls.** sipp (an independent SIP user agent) places N
//!    calls at the server's SIP gateway, each with G.711 A-law RTP (the
//!    recording sipp ships, 30 ms packets, played over and over). Each is
//!    queued, offered to one of N agents, accepted, and bridged to the
//!    agent's WebRTC peer connection: the caller's audio is decoded,
//!    resampled to 16 kHz and encoded to Opus for the agent; the agent's
//!    Opus (a second of speech, looped) is decoded, resampled to 8 kHz and
//!    encoded to G.711 for the caller. Measured over `seconds` once every
//!    call is up: the lateness of every frame the agents receive, the
//!    server's punctuality (each bridge tick, due to handed over), and the
//!    server's CPU (its runtime's threads) per call.
//! 2. **Call set-up time.** While the N calls run, a second caller (this
//!    program, on rsipstack) places a call every 100 ms to another number
//!    whose agent is free, and measures INVITE → 200 OK and INVITE →
//!    `callIn` at the agent; then hangs up.
//!
//! Run: `cargo run --release --example sip_bench -- [calls] [seconds]
//! [norecord] [fair] [threads=N] [quick]` (default 150 calls for 20 s;
//! `make bench-sip`). `threads=N` sets the server's `[media] threads`. The load generator (the agents' side and sipp) runs at nice
//! 10 so that the server it measures gets the cores first; `fair` runs it
//! at the server's priority.
//! `quick` (what CI runs): 4 calls for 2 s. Needs sipp (`scripts/setup.sh`
//! installs it).

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use ccdesk::client::Connection;
use ccdesk::protocol::Event;
use ccdesk::server::config::ServerConfig;
use ccdesk::server::records::SqliteRecords;
use ccdesk::server::Server;
use common::{cpu_seconds, login, peer, percentile, receive, server_cpu_seconds, speech_frames};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invitation::InviteOption;
use rsipstack::transport::udp::UdpConnection;
use rsipstack::transport::TransportLayer;
use rsipstack::EndpointBuilder;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const SECRET: &str = "sip-bench-secret-0123456789";
/// The recording sipp ships: G.711 A-law, 30 ms packets, 7.05 s.
const PCAP: &str = "/usr/share/sip-tester/g711a.pcap";
/// Calls sipp starts a second while the calls come up.
const RAMP_PER_SECOND: usize = 25;
/// A set-up probe every this often.
const PROBE_EVERY: Duration = Duration::from_millis(100);

/// The load generator's niceness (see `main`).
const LOAD_NICE: i32 = 10;

/// Lower the calling thread's priority to `nice` (on Linux, niceness is
/// per thread).
fn lower_priority(nice: i32) {
    if nice == 0 {
        return;
    }
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority(PRIO_PROCESS, 0, n) changes the calling thread's
    // niceness; no memory is passed.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, nice);
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::UdpSocket::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn config(
    calls: usize,
    record: bool,
    threads: usize,
    sipp_port: u16,
    probe_port: u16,
) -> anyhow::Result<ServerConfig> {
    let mut cfg = format!(
        "[server]\nping_interval = 0\nrate_limit_per_second = 100000\nrate_limit_burst = 100000\noutbound_queue = 100000\n\
         [auth]\nsecret = \"{SECRET}\"\n\
         [center]\nring_timeout = 60\nafter_call_work = 0\nmax_session_length = 0\n\
         [speech]\nrecognition = false\nsynthesis = false\n\
         [media]\nrecord = {record}\nthreads = {threads}\n\
         [sip]\nlisten = \"127.0.0.1:0\"\nrtp_ports = [30000, 32999]\nmax_invites_per_second = 1000\n\
         [[sip.trunks]]\nid = \"sipp\"\naddress = \"127.0.0.1:{sipp_port}\"\n\
         [[sip.trunks]]\nid = \"probe\"\naddress = \"127.0.0.1:{probe_port}\"\n\
         [[sip.numbers]]\nnumber = \"4000\"\nskill_group = \"load\"\n\
         [[sip.numbers]]\nnumber = \"4001\"\nskill_group = \"probe\"\n\
         [[skill_groups]]\nid = \"load\"\n[[skill_groups]]\nid = \"probe\"\n\
         [[users]]\nid = \"p0\"\nrole = \"agent\"\nskill_groups = [\"probe\"]\n"
    );
    for i in 0..calls {
        cfg.push_str(&format!(
            "[[users]]\nid = \"a{i}\"\nrole = \"agent\"\nskill_groups = [\"load\"]\n"
        ));
    }
    ServerConfig::parse(&cfg)
}

/// The A-law audio of the recording sipp ships (its RTP payloads, in
/// order), written to `dir` as a raw file for sipp's `rtp_stream`.
fn caller_audio(dir: &Path) -> anyhow::Result<PathBuf> {
    let pcap = std::fs::read(PCAP).with_context(|| format!("{PCAP}: install sip-tester"))?;
    // pcap: a 24-byte file header, then for each packet a 16-byte header
    // (its captured length at 8..12) and the frame: Ethernet (14), IPv4
    // (20), UDP (8), RTP (12), then the payload.
    let mut audio = Vec::new();
    let mut at = 24;
    while let Some(h) = pcap.get(at..at + 16) {
        let len = u32::from_le_bytes([h[8], h[9], h[10], h[11]]) as usize;
        if let Some(payload) = pcap.get(at + 16 + 54..at + 16 + len) {
            audio.extend_from_slice(payload);
        }
        at += 16 + len;
    }
    anyhow::ensure!(!audio.is_empty(), "no audio in {PCAP}");
    let path = dir.join("caller.alaw");
    std::fs::write(&path, audio)?;
    Ok(path)
}

/// sipp's scenario: INVITE (G.711 A-law, telephone-event), ACK, then the
/// caller talks (sipp's own RTP stream, looped) for `talk_ms`, BYE.
fn scenario(dir: &Path, talk_ms: u64) -> anyhow::Result<PathBuf> {
    let audio = caller_audio(dir)?;
    let talk = format!(
        "  <nop><action><exec rtp_stream=\"{},-1,8\"/></action></nop>\n  <pause milliseconds=\"{talk_ms}\"/>\n",
        audio.display()
    );
    let xml = format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="ccdesk sip_bench caller">
  <send retrans="500"><![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+1555[call_number]@[local_ip]:[local_port]>;tag=[pid]b[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[local_ip_type] [local_ip]
      t=0 0
      m=audio [auto_media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15

    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+1555[call_number]@[local_ip]:[local_port]>;tag=[pid]b[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
{talk}  <send retrans="500"><![CDATA[

      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+1555[call_number]@[local_ip]:[local_port]>;tag=[pid]b[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200" crlf="true"/>
</scenario>
"#
    );
    let path = dir.join("sip_bench_caller.xml");
    std::fs::write(&path, xml)?;
    Ok(path)
}

/// sipp, running; killed if still running when dropped.
struct Sipp {
    child: std::process::Child,
}

impl Sipp {
    fn start(
        nice: i32,
        xml: &Path,
        server: SocketAddr,
        port: u16,
        calls: usize,
        dir: &Path,
    ) -> anyhow::Result<Sipp> {
        let child = std::process::Command::new("nice")
            .args(["-n", &nice.to_string(), "sipp", "-sf"])
            .arg(xml)
            .arg(server.to_string())
            .args(["-s", "4000", "-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .args(["-p", &port.to_string(), "-mp", &free_port()?.to_string()])
            .args(["-m", &calls.to_string(), "-l", &calls.to_string()])
            .args(["-r", &RAMP_PER_SECOND.to_string(), "-nostdin"])
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .context("sipp does not run: scripts/setup.sh installs sip-tester")?;
        Ok(Sipp { child })
    }

    /// sipp's CPU time so far (its threads included), seconds.
    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let after = stat.rsplit(')').next().unwrap_or("");
        let f: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        (ticks(11) + ticks(12)) / 100.0
    }

    /// Wait for sipp to place and end every call: whether all succeeded.
    fn wait(mut self, limit: Duration) -> anyhow::Result<bool> {
        let end = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status.success());
            }
            if Instant::now() > end {
                anyhow::bail!("sipp did not finish its calls within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An agent who takes the next call and talks: her audio peer, once up.
async fn agent(
    mut a: Connection,
    up: mpsc::UnboundedSender<(Arc<Connection>, String, ccdesk::media::rtc::Peer)>,
) -> anyhow::Result<()> {
    let sid = loop {
        match a.events.recv().await.context("connection closed")? {
            Event::CallIn(ci) => break ci.session_id,
            _ => continue,
        }
    };
    a.call("Call.accept", json!({"sessionId": sid})).await?;
    let p = peer(&a, &sid).await?;
    let _ = up.send((Arc::new(a), sid, p));
    Ok(())
}

/// Set-up times of probe calls: (INVITE → 200 OK, INVITE → callIn), ms.
type Probes = Arc<Mutex<Vec<(f64, f64)>>>;

/// Place a call every [`PROBE_EVERY`] to number 4001 until `until`, from
/// 127.0.0.1:`port`; agent `p0` notes each `callIn`.
async fn probes(
    server: SocketAddr,
    port: u16,
    mut agent: Connection,
    until: Instant,
    out: Probes,
) -> anyhow::Result<()> {
    // The agent's events, each stamped when it arrives.
    let (stamped, mut p0) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(ev) = agent.events.recv().await {
            if stamped.send((Instant::now(), ev)).is_err() {
                break;
            }
        }
    });
    let cancel = CancellationToken::new();
    let transport = TransportLayer::new(cancel.clone());
    let local: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let udp = UdpConnection::create_connection(local, None, Some(cancel.child_token()))
        .await
        .map_err(|e| anyhow::anyhow!("the probe's SIP socket: {e}"))?;
    transport.add_transport(udp.into());
    let endpoint = EndpointBuilder::new()
        .with_cancel_token(cancel.clone())
        .with_transport_layer(transport)
        .with_user_agent("ccdesk-sip-bench")
        .build();
    let serve = endpoint.inner.clone();
    tokio::spawn(async move { serve.serve().await });
    let dialogs = DialogLayer::new(endpoint.inner.clone());
    let (state_tx, mut states) = dialogs.new_dialog_state_channel();
    tokio::spawn(async move { while states.recv().await.is_some() {} });
    // Where the probe says it takes RTP (nothing is read from it).
    let rtp = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
    let rtp_port = rtp.local_addr()?.port();
    let sdp = format!(
        "v=0\r\no=probe 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {rtp_port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
    );
    let mut tick = tokio::time::interval(PROBE_EVERY);
    let uri = |s: String| {
        rsipstack::sip::Uri::try_from(s.as_str()).map_err(|e| anyhow::anyhow!("{s}: {e}"))
    };
    let mut n = 0u64;
    while Instant::now() < until {
        tick.tick().await;
        n += 1;
        let opt = InviteOption {
            callee: uri(format!("sip:4001@{server}"))?,
            caller: uri(format!("sip:+1444{n}@{local}"))?,
            destination: Some(rsipstack::transport::SipAddr::new(
                rsipstack::sip::Transport::Udp,
                server.into(),
            )),
            content_type: Some("application/sdp".into()),
            offer: Some(sdp.clone().into_bytes()),
            contact: uri(format!("sip:probe@{local}"))?,
            ..Default::default()
        };
        let t0 = Instant::now();
        let (dialog, resp) = dialogs
            .do_invite(opt, state_tx.clone())
            .await
            .map_err(|e| anyhow::anyhow!("probe INVITE: {e}"))?;
        let answered = t0.elapsed();

        let code = resp.map(|r| u16::from(r.status_code));
        anyhow::ensure!(code == Some(200), "a probe call was answered {code:?}");
        let rang = loop {
            let (at, ev) = tokio::time::timeout(Duration::from_secs(5), p0.recv())
                .await
                .context("no callIn at the probe agent")?
                .context("the probe agent's connection closed")?;
            if let Event::CallIn(_) = ev {
                break at.saturating_duration_since(t0);
            }
        };
        if let Ok(mut o) = out.lock() {
            o.push((answered.as_secs_f64() * 1000.0, rang.as_secs_f64() * 1000.0));
        }
        let _ = dialog.bye().await;
        // The offer is withdrawn: the agent is free for the next probe.
        loop {
            let (_, ev) = tokio::time::timeout(Duration::from_secs(5), p0.recv())
                .await
                .context("no sessionEnded at the probe agent")?
                .context("the probe agent's connection closed")?;
            if let Event::SessionEnded(_) = ev {
                break;
            }
        }
    }
    cancel.cancel();
    Ok(())
}

/// Run [`probes`] until `until` on a thread and runtime of their own, so
/// that their clocks are not read behind the load generator's tasks.
fn spawn_probes(
    url: &str,
    sip: SocketAddr,
    port: u16,
    until: Instant,
    out: Probes,
) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<()>>> {
    let url = url.to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let thread = std::thread::Builder::new()
        .name("probe".into())
        .spawn(move || {
            rt.block_on(async move {
                let p0 = login(&url, SECRET, "p0").await?;
                probes(sip, port, p0, until, out).await
            })
        })?;
    Ok(tokio::task::spawn_blocking(move || {
        thread
            .join()
            .map_err(|_| anyhow::anyhow!("the probe thread panicked"))?
    }))
}

/// Set-up times, as printed: INVITE -> 200 OK and INVITE -> callIn.
fn setup_line(p: &[(f64, f64)]) -> String {
    let mut answered: Vec<f64> = p.iter().map(|x| x.0).collect();
    let mut rang: Vec<f64> = p.iter().map(|x| x.1).collect();
    answered.sort_by(|x, y| x.total_cmp(y));
    rang.sort_by(|x, y| x.total_cmp(y));
    format!(
        "{} probe calls: INVITE -> 200 OK p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; INVITE -> callIn at the agent p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        p.len(),
        percentile(&answered, 0.5),
        percentile(&answered, 0.99),
        answered.last().copied().unwrap_or(f64::NAN),
        percentile(&rang, 0.5),
        percentile(&rang, 0.99),
        rang.last().copied().unwrap_or(f64::NAN),
    )
}

/// The machine's own scheduling delay, for comparison with set-up times:
/// a thread at normal priority sleeps 2 ms again and again until `until`;
/// how late it wakes each time, ms.
fn wakeups(until: Instant) -> std::thread::JoinHandle<Vec<f64>> {
    std::thread::spawn(move || {
        let mut late = Vec::new();
        let nap = Duration::from_millis(2);
        while Instant::now() < until {
            let t = std::time::Instant::now();
            std::thread::sleep(nap);
            late.push((t.elapsed().saturating_sub(nap)).as_secs_f64() * 1000.0);
        }
        late
    })
}

/// The wake-up delays, as printed.
fn wakeup_line(handle: std::thread::JoinHandle<Vec<f64>>) -> String {
    let mut l = handle.join().unwrap_or_default();
    l.sort_by(|x, y| x.total_cmp(y));
    format!(
        "a thread sleeping 2 ms wakes late by p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&l, 0.5),
        percentile(&l, 0.99),
        l.last().copied().unwrap_or(f64::NAN)
    )
}

struct Run {
    nice: i32,
    threads: usize,
    calls: usize,
    seconds: u64,
    record: bool,
}

async fn run(
    url: &str,
    sip: SocketAddr,
    r: &Run,
    sipp_port: u16,
    probe_port: u16,
) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut agents = Vec::new();
    for i in 0..r.calls {
        agents.push(login(url, SECRET, &format!("a{i}")).await?);
    }
    let (up_tx, mut up_rx) = mpsc::unbounded_channel();
    for a in agents {
        tokio::spawn(agent(a, up_tx.clone()));
    }
    drop(up_tx);
    // The floor: set-up times with no other call, for 2 s.
    let floor: Probes = Arc::default();
    let until = Instant::now() + Duration::from_secs(2);
    let woke = wakeups(until);
    spawn_probes(url, sip, probe_port, until, floor.clone())?.await??;
    let p = floor.lock().map(|p| p.clone()).unwrap_or_default();
    println!("set-up with no other call (the floor), {}", setup_line(&p));
    println!("  the machine, meanwhile: {}", wakeup_line(woke));
    // Each call lasts long enough to come up, settle and be measured.
    let ramp_s = (r.calls / RAMP_PER_SECOND) as u64 + 1;
    let length_ms = (ramp_s + 10 + 2 + r.seconds + 2) * 1000;
    let xml = scenario(dir.path(), length_ms)?;
    let t = Instant::now();
    let sipp = Sipp::start(r.nice, &xml, sip, sipp_port, r.calls, dir.path())?;
    let mut legs = Vec::new();
    while legs.len() < r.calls {
        let next = tokio::time::timeout(Duration::from_secs(ramp_s + 30), up_rx.recv()).await;
        match next {
            Ok(Some(leg)) => legs.push(leg),
            Ok(None) => anyhow::bail!("an agent stopped before her call was up"),
            Err(_) => anyhow::bail!("only {} of {} calls came up", legs.len(), r.calls),
        }
    }
    println!(
        "{} SIP calls up and bridged to agents' WebRTC legs in {:.1} s",
        r.calls,
        t.elapsed().as_secs_f64()
    );
    let speech = speech_frames()?;
    let from = Instant::now() + Duration::from_secs(2);
    let until = from + Duration::from_secs(r.seconds);
    let lateness = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for (_conn, _sid, mut p) in legs {
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
            drop(_conn);
        }));
    }
    tokio::time::sleep_until(from.into()).await;
    let probed: Probes = Arc::default();
    let probe = spawn_probes(url, sip, probe_port, until, probed.clone())?;
    let woke = wakeups(until);
    let cpu0 = cpu_seconds();
    let server0 = server_cpu_seconds();
    let sipp0 = sipp.cpu_seconds();
    ccdesk::server::media::reset_tick_stats();
    let t0 = Instant::now();
    for t in tasks {
        let _ = t.await;
    }
    let ticks = ccdesk::server::media::tick_stats();
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let server_cpu = server_cpu_seconds() - server0;
    let sipp_cpu = sipp.cpu_seconds() - sipp0;
    probe.await??;

    let mut l = lateness.lock().map(|l| l.clone()).unwrap_or_default();
    l.sort_by(|x, y| x.total_cmp(y));
    let over = l.iter().filter(|x| **x > 20.0).count();
    let record = match (r.record, r.threads) {
        (true, 0) => "recorded".to_string(),
        (false, 0) => "not recorded".to_string(),
        (rec, n) => format!(
            "{}, {n} media threads",
            if rec { "recorded" } else { "not recorded" }
        ),
    };
    let nice = if r.nice == 0 {
        "load generator at the server's priority".to_string()
    } else {
        format!("load generator at nice {}", r.nice)
    };
    println!(
        "{} SIP calls ({record}; {nice}) for {} s: {} frames received by agents (expected {}), lateness p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms; {} frames ({:.3}%) later than 20 ms",
        r.calls,
        r.seconds,
        l.len(),
        r.calls as u64 * r.seconds * 50,
        percentile(&l, 0.5),
        percentile(&l, 0.99),
        percentile(&l, 0.999),
        l.last().copied().unwrap_or(f64::NAN),
        over,
        100.0 * over as f64 / l.len().max(1) as f64
    );
    println!(
        "  server: {} bridge ticks, due to handed over: p50 {} ms, p99 {} ms, p99.9 {} ms, max {:.1} ms; {} ({:.3}%) later than 20 ms",
        ticks.ticks,
        ticks.percentile_ms(0.5),
        ticks.percentile_ms(0.99),
        ticks.percentile_ms(0.999),
        ticks.worst_us as f64 / 1000.0,
        ticks.late,
        100.0 * ticks.late as f64 / ticks.ticks.max(1) as f64
    );
    println!(
        "  CPU: server {:.2} cores ({:.1} ms of CPU per call-second, G.711 <-> Opus included), load generator {:.2}, sipp {:.2} (of 2)",
        server_cpu / wall,
        server_cpu * 1000.0 / wall / r.calls.max(1) as f64,
        (cpu - server_cpu) / wall,
        sipp_cpu / wall
    );
    let p = probed.lock().map(|p| p.clone()).unwrap_or_default();
    println!("  set-up beside the calls, {}", setup_line(&p));
    println!("  the machine, meanwhile: {}", wakeup_line(woke));
    let ok = tokio::task::spawn_blocking(move || sipp.wait(Duration::from_secs(60))).await??;
    println!(
        "  sipp: every call {}",
        if ok {
            "ended with a BYE answered 200"
        } else {
            "did NOT succeed (see sipp's error log)"
        }
    );
    anyhow::ensure!(ok, "sipp reported failed calls");
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let word = |w: &str| args.iter().any(|a| a == w);
    let mut numbers = args.iter().filter_map(|a| a.parse::<u64>().ok());
    let quick = word("quick");
    let mut calls = numbers.next().unwrap_or(150) as usize;
    let mut seconds = numbers.next().unwrap_or(20);
    if quick {
        calls = calls.min(4);
        seconds = seconds.min(2);
    }
    let record = !word("norecord");
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("ccdesk-server")
        .enable_all()
        .build()?;
    // The load generator (its runtime and sipp) runs at a lower priority,
    // nice 10: it shares the server's two cores, and what is measured is
    // the server, which in service has its machine to itself. The probe
    // caller keeps the normal priority (its clock is the measure). `fair`
    // runs everything at the same priority.
    let nice = if word("fair") { 0 } else { LOAD_NICE };
    let load_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("load")
        .on_thread_start(move || lower_priority(nice))
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    let (sipp_port, probe_port) = (free_port()?, free_port()?);
    // `threads=N`: the server's media runtime threads (0, the default: one
    // per core).
    let threads = args
        .iter()
        .find_map(|a| a.strip_prefix("threads="))
        .map_or(Ok(0), str::parse)
        .context("threads=N")?;
    let cfg = config(calls, record, threads, sipp_port, probe_port)?;
    let server = server_rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let records = Box::new(SqliteRecords::open_dir(dir.path())?);
        let mut s = Server::start(cfg, listener, records)?;
        s.start_sip().await?;
        anyhow::Ok(s)
    })?;
    let url = format!("ws://{}/ws", server.addr);
    let sip = server.sip.as_ref().context("SIP is on")?.addr;
    let r = Run {
        nice,
        threads,
        calls,
        seconds,
        record,
    };
    load_rt.block_on(run(&url, sip, &r, sipp_port, probe_port))?;
    server_rt.block_on(async { server.stop() });
    Ok(())
}
