//! The server as media anchor: one bridge task per voice session with
//! audio. Each seat in the session (and each audio monitor) holds one WebRTC
//! peer connection with it; the customer's side is a sound player on the
//! server. Every 20 ms the bridge takes one frame from each side, works out
//! what each side hears (mute, hold, monitors), sends it, and writes the
//! recording.
//!
//! The center decides *who* is in the call; the bridge only carries audio.
//! After every command the center compares each bridged session's [`Mix`]
//! with the one it last sent and sends the new one when it differs (the
//! same diffing as the wallboard), so no code path can forget to tell the
//! media.

mod bridge;
pub mod sound;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::media::rtc::Peer;
use crate::protocol::{AsrResult, Flow, ToneSpec};

static MEDIA: std::sync::OnceLock<tokio::runtime::Handle> = std::sync::OnceLock::new();

/// The runtime the media runs on: every bridge's 20 ms loop, the WebRTC
/// peer connections and the phone lines' sockets. Apart from the runtime
/// of the signalling (WebSocket connections, the center, SIP), so a call
/// being set up does not wait behind the ticks of the calls in progress.
/// Its threads are named `ccdesk-media`; there are [`start_runtime`]'s
/// number of them, else one per core.
pub fn runtime() -> &'static tokio::runtime::Handle {
    MEDIA.get_or_init(|| new_runtime(0))
}

/// Start the media runtime with `threads` threads (0: one per core). The
/// runtime is the process's: when it is already running (a second server
/// in the same process), this does nothing.
pub fn start_runtime(threads: usize) {
    MEDIA.get_or_init(|| new_runtime(threads));
}

fn new_runtime(threads: usize) -> tokio::runtime::Handle {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let (tx, rx) = std::sync::mpsc::channel();
    // The runtime lives on a thread of its own for the whole process (a
    // runtime may not be dropped from within another).
    std::thread::Builder::new()
        .name("ccdesk-media".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .thread_name("ccdesk-media")
                .enable_all()
                .build();
            match rt {
                Ok(rt) => {
                    let _ = tx.send(Some(rt.handle().clone()));
                    rt.block_on(std::future::pending::<()>());
                }
                Err(e) => {
                    tracing::error!(error = %e, "no media runtime; media shares the server's");
                    let _ = tx.send(None);
                }
            }
        })
        .ok()
        .and_then(|_| rx.recv().ok().flatten())
        .unwrap_or_else(tokio::runtime::Handle::current)
}

/// The server mixes and records at 16 kHz (wideband speech; what speech
/// recognisers take).
pub const RATE: u32 = 16_000;

/// What the customer's side plays.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Sound {
    Asset(String),
    Tones(Vec<ToneSpec>),
}

/// Who is in the call and how: all the bridge needs to know.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Mix {
    /// The session has a customer (every type but internal calls).
    pub customer: bool,
    /// Seats in the conversation, each with whether its microphone is muted.
    pub talkers: Vec<(String, bool)>,
    /// Audio monitors: hear both sides, send nothing that is heard.
    pub listeners: Vec<String>,
    /// Coaching supervisors: hear both sides; the seats hear them, the
    /// customer (and the recording) does not.
    pub coaches: Vec<String>,
    /// The recording and the recogniser get silence (`Call.pauseRecording`).
    pub recording_paused: bool,
    /// On hold: the customer hears hold music, nothing else is carried.
    pub held: bool,
    /// Waiting for an agent (queued or ringing): the customer hears the
    /// queue's music (a phone line's caller; a simulated customer hears
    /// nothing either way).
    pub waiting: bool,
    /// The sound the customer last asked to play, with a number that changes
    /// on every `Customer.play` (so the same sound twice plays twice).
    pub sound: Option<(u32, Sound)>,
}

impl Mix {
    pub fn has(&self, user: &str) -> bool {
        self.talkers.iter().any(|(u, _)| u == user)
            || self.listeners.iter().any(|u| u == user)
            || self.coaches.iter().any(|u| u == user)
    }
}

/// A phone line (a SIP call's RTP): the customer's side of a session, or
/// a seat's desk phone or mobile. What the phone's user says, frame by
/// frame, and what they are sent. The bridge calls it every 20 ms from its
/// task; nothing here may block.
pub trait PhoneLine: Send {
    /// The next 20 ms heard from the phone at [`RATE`], or `None` when
    /// nothing came in time (heard as silence).
    fn next_frame(&mut self) -> Option<Vec<i16>>;
    /// Keys pressed on the phone (RFC 4733) since the last call.
    fn digits(&mut self) -> Vec<char>;
    /// Send the phone 20 ms at [`RATE`].
    fn send_frame(&mut self, pcm: &[i16]);
    /// Send the phone a DTMF digit (RFC 4733, after what is queued).
    fn send_digit(&mut self, digit: char);
}

impl std::fmt::Debug for dyn PhoneLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhoneLine")
    }
}

/// What the center tells a bridge.
pub enum BridgeCmd {
    Mix(Mix),
    /// The customer's side is this phone line (replaces an earlier one).
    Line(Box<dyn PhoneLine>),
    /// Digits to send the customer's phone line (`Call.sendDigits`).
    SendDigits(String),
    /// A negotiated peer connection for `user` (replaces an earlier one).
    Leg {
        user: String,
        peer: Peer,
    },
    /// `user`'s answered desk phone or mobile as the seat's audio (replaces
    /// an earlier leg).
    PhoneLeg {
        user: String,
        line: Box<dyn PhoneLine>,
    },
    /// The customer says `text` in `voice` (synthesised off the audio task,
    /// played after what is already queued).
    Say {
        text: String,
        voice: crate::speech::Voice,
    },
    /// The session ended: close the peers, finish the recording.
    End,
}

/// What a bridge has to tell whoever runs it (the center maps it to a
/// command of its own).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum BridgeEvent {
    /// A seat sent a DTMF digit in its audio.
    Digit(HeardDigit),
    /// The recogniser heard one side of the session say something.
    Asr {
        session: String,
        flow: Flow,
        result: AsrResult,
    },
    /// A sentence the customer was to say could not be synthesised: it is
    /// to go out as text.
    SayAsText { session: String, text: String },
    /// The caller on the customer's phone line pressed a key (RFC 4733).
    CustomerDigit { session: String, digit: char },
}

/// Where a bridge sends its [`BridgeEvent`]s (called from the bridge's
/// task and from recognition threads).
pub type Report = Arc<dyn Fn(BridgeEvent) + Send + Sync>;

/// The center's handle on a session's bridge: a task of this process, or
/// one on the node of a cluster where the call landed.
pub struct Bridge {
    place: Place,
    pub last: Mix,
    pub recording: Option<PathBuf>,
}

/// Where a bridge runs: a task of this process, or another node's media
/// service. A copy answers a `Media.offer` for it ([`Place::answer`]).
#[derive(Clone)]
pub enum Place {
    Here(mpsc::UnboundedSender<BridgeCmd>),
    There {
        node: String,
        sid: String,
        nodes: Arc<dyn MediaNodes>,
    },
}

/// What a center tells a bridge on another node: [`BridgeCmd`] without
/// what cannot travel (peer connections and phone lines are made on the
/// bridge's node).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NodeCmd {
    /// Start the session's bridge unless it runs already (a new owner says
    /// it again for a bridge that outlived the old one).
    #[serde(rename_all = "camelCase")]
    Open {
        recording: Option<PathBuf>,
        since_start_ms: u64,
    },
    Mix(Mix),
    SendDigits(String),
    Say {
        text: String,
        voice: crate::speech::Voice,
    },
    End,
}

/// The other nodes' bridges, as a center reaches them (a cluster's
/// transport implements it; the center knows only this).
pub trait MediaNodes: Send + Sync {
    /// Send `cmd` to the bridge of session `sid` on `node`, after what was
    /// sent there before.
    fn command(&self, node: &str, sid: &str, cmd: NodeCmd);
    /// Negotiate `user`'s WebRTC offer with the bridge of `sid` on `node`:
    /// the answer, or why not.
    fn offer(&self, node: &str, sid: &str, user: &str, sdp: String) -> Answer;
}

/// A remote bridge's answer to an offer, to come: the SDP, or why not.
pub type Answer =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, String>> + Send>>;

impl Place {
    /// The answer to `user`'s `sdp`; the leg joins the bridge. `ip` is the
    /// address this process's peer connections bind.
    pub async fn answer(
        self,
        ip: std::net::IpAddr,
        user: String,
        sdp: String,
    ) -> Result<String, String> {
        match self {
            Place::Here(tx) => negotiate_leg(&tx, ip, user, &sdp)
                .await
                .map_err(|e| e.to_string()),
            Place::There { node, sid, nodes } => nodes.offer(&node, &sid, &user, sdp).await,
        }
    }
}

/// Answer `user`'s WebRTC offer with a peer connection bound to `ip`,
/// which joins the bridge behind `tx`.
async fn negotiate_leg(
    tx: &mpsc::UnboundedSender<BridgeCmd>,
    ip: std::net::IpAddr,
    user: String,
    sdp: &str,
) -> Result<String, crate::media::MediaError> {
    let mut peer = Peer::new(ip).await?;
    let answer = peer.accept_offer(sdp).await?;
    let _ = tx.send(BridgeCmd::Leg { user, peer });
    Ok(answer)
}

impl Bridge {
    /// Start the bridge of session `sid`. `recording` is the file to write
    /// (its folder is created); `report` hears the DTMF digits, the
    /// recognised speech and the sentences that could not be spoken.
    /// `speech` says which engines run; `since_start_ms` is how far into
    /// the session (from its first accept) the bridge starts, for the
    /// transcript's times.
    pub fn spawn(
        sid: &str,
        recording: Option<PathBuf>,
        report: Report,
        speech: crate::server::speech::Speech,
        since_start_ms: u64,
    ) -> Bridge {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = bridge::Task::new(
            sid.to_string(),
            recording.clone(),
            report,
            speech,
            since_start_ms,
        );
        runtime().spawn(task.run(rx));
        Bridge {
            place: Place::Here(tx),
            last: Mix::default(),
            recording,
        }
    }

    /// The bridge of session `sid` on another node of the cluster, started
    /// there unless it runs already. Its events reach the center the way
    /// the cluster carries them.
    pub fn remote(
        sid: &str,
        node: &str,
        nodes: Arc<dyn MediaNodes>,
        recording: Option<PathBuf>,
        since_start_ms: u64,
    ) -> Bridge {
        nodes.command(
            node,
            sid,
            NodeCmd::Open {
                recording: recording.clone(),
                since_start_ms,
            },
        );
        Bridge {
            place: Place::There {
                node: node.to_string(),
                sid: sid.to_string(),
                nodes,
            },
            last: Mix::default(),
            recording,
        }
    }

    /// The node the bridge runs on, when not this process.
    pub fn node(&self) -> Option<&str> {
        match &self.place {
            Place::Here(_) => None,
            Place::There { node, .. } => Some(node),
        }
    }

    /// Tell the bridge `cmd`. Peer connections and phone lines only join a
    /// bridge of this process (a remote bridge makes its own).
    pub fn send(&self, cmd: BridgeCmd) {
        match &self.place {
            Place::Here(tx) => {
                let _ = tx.send(cmd);
            }
            Place::There { node, sid, nodes } => {
                let cmd = match cmd {
                    BridgeCmd::Mix(m) => NodeCmd::Mix(m),
                    BridgeCmd::SendDigits(d) => NodeCmd::SendDigits(d),
                    BridgeCmd::Say { text, voice } => NodeCmd::Say { text, voice },
                    BridgeCmd::End => NodeCmd::End,
                    BridgeCmd::Leg { .. } | BridgeCmd::Line(_) | BridgeCmd::PhoneLeg { .. } => {
                        tracing::warn!(session = %sid, %node, "a peer connection or phone line is not carried to a bridge on another node");
                        return;
                    }
                };
                nodes.command(node, sid, cmd);
            }
        }
    }

    /// How to answer an offer for this bridge.
    pub fn negotiator(&self) -> Place {
        self.place.clone()
    }

    /// Send `mix` if it differs from the last one sent.
    pub fn update(&mut self, mix: Mix) {
        if mix != self.last {
            self.last = mix.clone();
            self.send(BridgeCmd::Mix(mix));
        }
    }
}

/// How punctually the bridges of this process send their frames: every
/// 20 ms tick of every bridge counts, and its lateness is the time from the
/// moment it was due to the moment its frames were handed to the peer
/// connections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TickStats {
    /// Ticks run.
    pub ticks: u64,
    /// Ticks whose frames went out more than 20 ms after they were due.
    pub late: u64,
    /// The worst lateness seen, in microseconds.
    pub worst_us: u64,
    /// Lateness histogram: `buckets[i]` counts ticks late by `i` ms (the
    /// last bucket: 99 ms or more).
    pub buckets: Vec<u64>,
}

impl TickStats {
    /// The lateness (ms, bucket resolution) under which `p` (0..1) of the
    /// ticks fell; 0 when there were none.
    pub fn percentile_ms(&self, p: f64) -> u64 {
        if self.ticks == 0 {
            return 0;
        }
        let want = (self.ticks as f64 * p).ceil() as u64;
        let mut seen = 0;
        for (ms, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= want.max(1) {
                return ms as u64;
            }
        }
        self.buckets.len() as u64
    }
}

/// The counters behind [`tick_stats`] (process-wide, lock-free).
pub(crate) mod punctuality {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

    static TICKS: AtomicU64 = AtomicU64::new(0);
    static LATE: AtomicU64 = AtomicU64::new(0);
    static WORST_US: AtomicU64 = AtomicU64::new(0);
    static BUCKETS: [AtomicU64; 100] = [const { AtomicU64::new(0) }; 100];

    pub(crate) fn record(late_us: u64) {
        TICKS.fetch_add(1, Relaxed);
        if late_us > 20_000 {
            LATE.fetch_add(1, Relaxed);
        }
        WORST_US.fetch_max(late_us, Relaxed);
        let i = ((late_us / 1000) as usize).min(BUCKETS.len() - 1);
        BUCKETS[i].fetch_add(1, Relaxed);
    }

    pub(crate) fn read() -> super::TickStats {
        let mut s = super::TickStats {
            ticks: TICKS.load(Relaxed),
            late: LATE.load(Relaxed),
            worst_us: WORST_US.load(Relaxed),
            ..Default::default()
        };
        s.buckets = BUCKETS.iter().map(|b| b.load(Relaxed)).collect();
        s
    }

    pub(crate) fn reset() {
        TICKS.store(0, Relaxed);
        LATE.store(0, Relaxed);
        WORST_US.store(0, Relaxed);
        for b in &BUCKETS {
            b.store(0, Relaxed);
        }
    }
}

/// The bridges' punctuality since the process started (or the last reset).
pub fn tick_stats() -> TickStats {
    punctuality::read()
}

/// Start counting [`tick_stats`] afresh (benchmarks measure a window).
pub fn reset_tick_stats() {
    punctuality::reset()
}

/// A DTMF digit a seat sent in-band (RFC 4733) on a session's audio.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct HeardDigit {
    pub session: String,
    pub user: String,
    pub digit: char,
}

#[cfg(test)]
mod tests {
    use super::TickStats;

    #[test]
    fn tick_percentiles_come_from_the_histogram() {
        let mut buckets = vec![0; 100];
        buckets[0] = 90;
        buckets[3] = 9;
        buckets[42] = 1;
        let s = TickStats {
            ticks: 100,
            late: 1,
            worst_us: 42_500,
            buckets,
        };
        assert_eq!(s.percentile_ms(0.5), 0);
        assert_eq!(s.percentile_ms(0.9), 0);
        assert_eq!(s.percentile_ms(0.95), 3);
        assert_eq!(s.percentile_ms(0.99), 3);
        assert_eq!(s.percentile_ms(1.0), 42);
        assert_eq!(TickStats::default().percentile_ms(0.5), 0, "no ticks");
    }
}
