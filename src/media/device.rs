//! Audio devices: microphones and speakers as 20 ms mono frames.
//!
//! Everything above this module sees one audio model: mono `i16` frames of
//! [`FRAME_MS`] milliseconds ([`frame_len`] samples) at a rate Opus accepts
//! (8, 12, 16, 24 or 48 kHz). A device whose native rate is one of those is
//! used at that rate; any other device (44.1 kHz, 96 kHz, ...) is driven at
//! its own rate and this module resamples linearly to and from 48 kHz.
//! Sample formats (integer or float) and channel counts are converted here
//! too: capture is downmixed to mono, playback is copied to every channel.
//!
//! Three backends sit behind [`open`]:
//!
//! * [`Backend::System`]: the sound card through cpal. Its streams are not
//!   `Send`, so they live on a dedicated thread until the [`Capture`] and
//!   [`Playback`] handles are dropped. With no usable device it falls back to
//!   [`Backend::Null`] and says why in [`Audio::notice`].
//! * [`Backend::Null`]: silence in, nothing out, paced by tokio time.
//! * [`Backend::Memory`]: a fixed recording in, everything played collected,
//!   for tests and benches.
//!
//! ALSA writes its diagnostics straight to stderr, which would wreck the
//! full-screen terminal UI; [`silence_alsa`] turns that off and every entry
//! point here calls it before touching cpal.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, Sample, SampleFormat, SizedSample};
use tokio::sync::mpsc;

use super::{frame_len, FRAME_MS};

/// Sample rates Opus encodes natively.
const OPUS_RATES: [u32; 5] = [8_000, 12_000, 16_000, 24_000, 48_000];
/// Frame rate used when the device's rate is not an Opus rate, and by Null.
const FALLBACK_RATE: u32 = 48_000;
/// Captured frames waiting for the consumer before new ones are dropped.
const CAPTURE_QUEUE_FRAMES: usize = 10;
/// Playback queue bound: older samples are dropped beyond this.
const MAX_QUEUED_MS: u32 = 200;

/// Which devices to use. `None` means the system default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceChoice {
    /// Microphone by name (as [`list`] reports it, or the backend's device
    /// id such as `hw:CARD=PCH,DEV=0`); `None` for the system default.
    pub microphone: Option<String>,
    /// Speaker by name (as [`list`] reports it, or the backend's device id);
    /// `None` for the system default.
    pub speaker: Option<String>,
}

/// One usable device, as shown to the agent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeviceInfo {
    /// Name to show and to put in [`DeviceChoice`]. Unique within its list:
    /// when several devices share a description, the backend id is appended
    /// in brackets.
    pub name: String,
    /// Whether this is the system default for its direction.
    pub is_default: bool,
}

/// The usable microphones and speakers.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeviceList {
    /// Devices that can capture.
    pub microphones: Vec<DeviceInfo>,
    /// Devices that can play.
    pub speakers: Vec<DeviceInfo>,
}

/// Devices.getMicrophones / Devices.getSpeakers.
///
/// Never panics. Only devices whose default configuration can be read are
/// kept, so with no sound card the lists are empty (ALSA's pseudo devices
/// that cannot open are filtered out, and so is its `null` sink). Probing
/// opens each device briefly, which can take a moment: call it off the UI
/// thread (e.g. `spawn_blocking`).
pub fn list() -> DeviceList {
    silence_alsa();
    let Ok(host) = system_host() else {
        return DeviceList::default();
    };
    let info = |found: Vec<Found>| found.into_iter().map(|f| f.info).collect();
    DeviceList {
        microphones: info(enumerate(&host, Dir::Input)),
        speakers: info(enumerate(&host, Dir::Output)),
    }
}

/// What `ccdesk devices` prints: a "Microphones" and a "Speakers" section,
/// one device per line with the defaults marked, or the [`DeviceList`] as
/// JSON when `json` is set.
pub fn print_devices(json: bool) -> String {
    format_devices(&list(), json)
}

fn format_devices(devices: &DeviceList, json: bool) -> String {
    if json {
        return serde_json::to_string_pretty(devices).unwrap_or_else(|_| "{}".to_owned()) + "\n";
    }
    let mut out = String::new();
    for (title, section) in [
        ("Microphones", &devices.microphones),
        ("Speakers", &devices.speakers),
    ] {
        out.push_str(title);
        out.push('\n');
        if section.is_empty() {
            out.push_str("  none found (no sound card?)\n");
        }
        for device in section {
            out.push_str("  ");
            out.push_str(&device.name);
            if device.is_default {
                out.push_str(" (default)");
            }
            out.push('\n');
        }
    }
    out
}

/// 20 ms mono frames from a microphone.
pub struct Capture {
    /// Sample rate of the frames (an Opus rate); each frame holds
    /// `frame_len(rate)` samples.
    pub rate: u32,
    /// The frames, in order. When the consumer falls more than about ten
    /// frames behind, newer frames are dropped (a real device cannot wait).
    /// The sender closes when the source ends for good.
    pub frames: mpsc::Receiver<Vec<i16>>,
    /// Tells the system audio thread to stop the stream on drop.
    _stop: Option<StopOnDrop>,
}

impl fmt::Debug for Capture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Capture")
            .field("rate", &self.rate)
            .field("buffered_frames", &self.frames.len())
            .finish()
    }
}

/// Where frames to play go.
pub struct Playback {
    /// Sample rate the pushed frames must have (an Opus rate).
    pub rate: u32,
    queue: Arc<PlayQueue>,
    /// Tells the system audio thread to stop the stream on drop.
    _stop: Option<StopOnDrop>,
}

impl Playback {
    /// Queues mono samples at [`Playback::rate`] for playing. Never blocks;
    /// when more than 200 ms are queued the oldest samples are dropped, so
    /// the latency stays bounded.
    pub fn push(&self, frame: &[i16]) {
        self.queue.push(frame);
    }

    /// How much audio is queued and not yet handed to the device, in
    /// milliseconds (the device's own buffer is not counted).
    pub fn queued_ms(&self) -> u32 {
        self.queue.queued_ms()
    }
}

impl fmt::Debug for Playback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Playback")
            .field("rate", &self.rate)
            .field("queued_ms", &self.queued_ms())
            .finish()
    }
}

/// Where audio comes from and goes to.
#[derive(Debug, Clone)]
pub enum Backend {
    /// The sound card through cpal, falling back to Null with a notice when
    /// there is none.
    System(DeviceChoice),
    /// No sound: capture yields silence every 20 ms (tokio interval, real
    /// pacing), playback discards (but still counts).
    Null,
    /// Tests and benches: capture plays `source` (at `rate`) once then
    /// silence, paced every 20 ms by tokio; playback appends everything
    /// played to `heard` (at `rate`).
    ///
    /// `rate` should be an Opus rate. Capture frames are never dropped here:
    /// the pacing waits for a slow consumer. Playback drains one frame of
    /// the queue per 20 ms tick, like a device would; `heard` receives the
    /// queued samples only (no silence for underruns), so after enough ticks
    /// it holds exactly what was pushed minus what the 200 ms bound dropped.
    Memory {
        /// Sample rate of `source`, of the frames, and of `heard`.
        rate: u32,
        /// What the microphone "hears", played once.
        source: Vec<i16>,
        /// Everything the speaker played, appended as it is played.
        heard: Arc<Mutex<Vec<i16>>>,
    },
}

/// Which backend an [`Audio`] ended up with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioKind {
    /// A real sound card.
    System,
    /// Silence, either asked for or after a fallback (see [`Audio::notice`]).
    Null,
    /// The in-memory test backend.
    Memory,
}

/// An open microphone and speaker.
#[derive(Debug)]
pub struct Audio {
    /// Frames from the microphone.
    pub capture: Capture,
    /// Frames to the speaker.
    pub playback: Playback,
    /// The backend actually in use.
    pub kind: AudioKind,
    /// Set when the system backend fell back: e.g. "no sound card (ALSA:
    /// ...): audio is off, calls still work".
    pub notice: Option<String>,
}

/// Opens capture and playback.
///
/// Must be called inside a tokio runtime (Null and Memory spawn a pacing
/// task; outside one they get a small thread of their own). Never panics;
/// System falls back to Null with a notice on any device error. Opening a
/// sound card blocks the caller until both streams run (typically tens of
/// milliseconds).
pub fn open(backend: Backend) -> Audio {
    match backend {
        Backend::Null => {
            let (capture, playback) = paced(FALLBACK_RATE, None, None);
            Audio {
                capture,
                playback,
                kind: AudioKind::Null,
                notice: None,
            }
        }
        Backend::Memory {
            rate,
            source,
            heard,
        } => {
            let (capture, playback) = paced(rate, Some(source), Some(heard));
            Audio {
                capture,
                playback,
                kind: AudioKind::Memory,
                notice: None,
            }
        }
        Backend::System(choice) => {
            silence_alsa();
            match open_system(choice) {
                Ok((capture, playback)) => Audio {
                    capture,
                    playback,
                    kind: AudioKind::System,
                    notice: None,
                },
                Err(reason) => {
                    let notice = format!("{reason}: audio is off, calls still work");
                    tracing::warn!("{notice}");
                    let mut audio = open(Backend::Null);
                    audio.notice = Some(notice);
                    audio
                }
            }
        }
    }
}

/// Linear resampling of mono samples from `from` Hz to `to` Hz.
///
/// The output has `input.len() * to / from` samples (rounded down); output
/// sample `j` interpolates the input at position `j * from / to`. Returns the
/// input unchanged when the rates are equal or either is zero. No low-pass
/// filter: fine for voice between nearby rates (44.1/48 kHz), aliases when
/// decimating by large factors.
pub fn resample(input: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to || from == 0 || to == 0 || input.is_empty() {
        return input.to_vec();
    }
    let (from, to) = (u64::from(from), u64::from(to));
    let out_len = (input.len() as u64 * to / from) as usize;
    (0..out_len as u64)
        .map(|j| {
            let t = j * from;
            let i = (t / to) as usize;
            let a = input[i];
            let b = input.get(i + 1).copied().unwrap_or(a);
            lerp(a, b, t % to, to)
        })
        .collect()
}

/// Stops ALSA from printing its diagnostics ("cannot find card '0'", ...)
/// on stderr, once per process. Does nothing off Linux.
///
/// alsa-lib reports through a process-wide handler of type
/// `void (*)(const char *file, int line, const char *function, int err,
/// const char *fmt, ...)`. Defining a C-variadic function needs the unstable
/// `c_variadic` feature, so the handler is written with the five fixed
/// parameters and its pointer transmuted to the variadic type alsa-sys
/// declares. On the C ABIs ALSA runs on (x86, x86-64 System V, AArch64 and
/// 32-bit ARM AAPCS, RISC-V, PowerPC) the fixed arguments of a variadic call
/// are passed exactly as for a non-variadic one and the caller cleans up any
/// extra ones, so a callee that reads none of its arguments is called
/// soundly.
pub fn silence_alsa() {
    #[cfg(target_os = "linux")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            use std::ffi::{c_char, c_int};

            unsafe extern "C" fn ignore_alsa_error(
                _file: *const c_char,
                _line: c_int,
                _function: *const c_char,
                _err: c_int,
                _fmt: *const c_char,
            ) {
            }

            type Fixed =
                unsafe extern "C" fn(*const c_char, c_int, *const c_char, c_int, *const c_char);
            type Variadic = unsafe extern "C" fn(
                *const c_char,
                c_int,
                *const c_char,
                c_int,
                *const c_char,
                ...
            );
            // SAFETY: see the doc comment: same fixed-argument passing, and
            // the callee touches none of its arguments. The function lives
            // for the whole program.
            let handler: Variadic =
                unsafe { std::mem::transmute::<Fixed, Variadic>(ignore_alsa_error) };
            // SAFETY: sets a process-wide pointer; done once, before any
            // other ALSA use by this module.
            unsafe {
                alsa_sys::snd_lib_error_set_handler(Some(handler));
            }
        });
    }
}

// ---------------------------------------------------------------------------
// Rates and sample conversion.

/// The frame rate for a device running at `device_rate`.
fn frame_rate_for(device_rate: u32) -> u32 {
    if OPUS_RATES.contains(&device_rate) {
        device_rate
    } else {
        FALLBACK_RATE
    }
}

/// `a + (b - a) * num / den`.
fn lerp(a: i16, b: i16, num: u64, den: u64) -> i16 {
    let (a, b) = (i64::from(a), i64::from(b));
    (a + (b - a) * num as i64 / den as i64) as i16
}

/// Streaming form of [`resample`]: chunks in, the same samples out as if
/// the whole signal had been resampled at once.
struct Resampler {
    from: u64,
    to: u64,
    /// Last sample of the previous chunk.
    prev: i16,
    /// Position of the next output sample relative to the first sample of
    /// the next chunk, in 1/`to` input samples; in `-to < t <= 0` between
    /// chunks (negative: between `prev` and that first sample).
    t: i64,
}

impl Resampler {
    fn new(from: u32, to: u32) -> Self {
        Resampler {
            from: u64::from(from.max(1)),
            to: u64::from(to.max(1)),
            prev: 0,
            t: 0,
        }
    }

    fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        let Some(&last) = input.last() else {
            return;
        };
        let to = self.to as i64;
        let n = input.len() as i64;
        while self.t <= (n - 1) * to {
            let i = self.t.div_euclid(to);
            let frac = self.t.rem_euclid(to);
            let a = if i < 0 { self.prev } else { input[i as usize] };
            let b = if frac == 0 {
                a
            } else {
                input[(i + 1) as usize]
            };
            out.push(lerp(a, b, frac as u64, self.to));
            self.t += self.from as i64;
        }
        self.t -= n * to;
        self.prev = last;
    }
}

/// Pull-mode linear resampler for playback: produces output samples on
/// demand, pulling input samples as the position advances.
struct PullResampler {
    from: u64,
    to: u64,
    /// Position between `a` and `b`, in 1/`to` input samples.
    acc: u64,
    a: i16,
    b: i16,
}

impl PullResampler {
    fn new(from: u32, to: u32) -> Self {
        PullResampler {
            from: u64::from(from.max(1)),
            to: u64::from(to.max(1)),
            acc: 0,
            a: 0,
            b: 0,
        }
    }

    fn next(&mut self, mut pull: impl FnMut() -> i16) -> i16 {
        let out = lerp(self.a, self.b, self.acc, self.to);
        self.acc += self.from;
        while self.acc >= self.to {
            self.acc -= self.to;
            self.a = self.b;
            self.b = pull();
        }
        out
    }
}

/// The capture callback's state: device samples in, frames out.
struct CaptureSink {
    channels: usize,
    frame: usize,
    resampler: Option<Resampler>,
    mono: Vec<i16>,
    pending: Vec<i16>,
    tx: mpsc::Sender<Vec<i16>>,
    dropped: u64,
}

impl CaptureSink {
    fn new(channels: u16, device_rate: u32, rate: u32, tx: mpsc::Sender<Vec<i16>>) -> Self {
        CaptureSink {
            channels: usize::from(channels.max(1)),
            frame: frame_len(rate).max(1),
            resampler: (device_rate != rate).then(|| Resampler::new(device_rate, rate)),
            mono: Vec::new(),
            pending: Vec::new(),
            tx,
            dropped: 0,
        }
    }

    /// Converts, downmixes, resamples and cuts into frames; sends each frame
    /// unless the consumer is too far behind.
    fn feed<T>(&mut self, data: &[T])
    where
        T: Sample,
        i16: FromSample<T>,
    {
        self.mono.clear();
        for chunk in data.chunks(self.channels) {
            let sum: i32 = chunk.iter().map(|s| i32::from(i16::from_sample(*s))).sum();
            self.mono.push((sum / chunk.len() as i32) as i16);
        }
        match &mut self.resampler {
            Some(r) => r.process(&self.mono, &mut self.pending),
            None => self.pending.extend_from_slice(&self.mono),
        }
        let mut sent = 0;
        while self.pending.len() - sent >= self.frame {
            let frame = self.pending[sent..sent + self.frame].to_vec();
            sent += self.frame;
            match self.tx.try_send(frame) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.dropped += 1;
                    if self.dropped.is_power_of_two() {
                        tracing::debug!(dropped = self.dropped, "capture consumer behind");
                    }
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        self.pending.drain(..sent);
    }
}

/// The playback callback's state: queued frames in, device samples out.
struct PlaySource {
    queue: Arc<PlayQueue>,
    channels: usize,
    resampler: Option<PullResampler>,
    scratch: Vec<i16>,
}

impl PlaySource {
    fn new(queue: Arc<PlayQueue>, channels: u16, device_rate: u32) -> Self {
        let resampler =
            (device_rate != queue.rate).then(|| PullResampler::new(queue.rate, device_rate));
        PlaySource {
            queue,
            channels: usize::from(channels.max(1)),
            resampler,
            scratch: Vec::new(),
        }
    }

    /// Fills a device buffer: resample, copy to every channel, zeros when
    /// the queue runs dry.
    fn fill<T>(&mut self, data: &mut [T])
    where
        T: Sample + FromSample<i16>,
    {
        let frames = data.len() / self.channels;
        self.scratch.clear();
        {
            let mut queue = self.queue.lock();
            match &mut self.resampler {
                None => self
                    .scratch
                    .extend((0..frames).map(|_| queue.pop_front().unwrap_or(0))),
                Some(r) => self
                    .scratch
                    .extend((0..frames).map(|_| r.next(|| queue.pop_front().unwrap_or(0)))),
            }
        }
        for (out, &s) in data.chunks_mut(self.channels).zip(&self.scratch) {
            out.fill(T::from_sample(s));
        }
        // A trailing partial frame (should not happen) gets silence.
        let whole = frames * self.channels;
        for out in &mut data[whole..] {
            *out = T::EQUILIBRIUM;
        }
    }
}

// ---------------------------------------------------------------------------
// The playback queue.

/// Mono samples waiting to be played, bounded to [`MAX_QUEUED_MS`].
struct PlayQueue {
    rate: u32,
    max: usize,
    samples: Mutex<VecDeque<i16>>,
}

impl PlayQueue {
    fn new(rate: u32) -> Self {
        let max = (u64::from(rate) * u64::from(MAX_QUEUED_MS) / 1000) as usize;
        PlayQueue {
            rate,
            max,
            samples: Mutex::new(VecDeque::with_capacity(max + frame_len(rate))),
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<i16>> {
        self.samples.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, frame: &[i16]) {
        let mut samples = self.lock();
        samples.extend(frame.iter().copied());
        let excess = samples.len().saturating_sub(self.max);
        samples.drain(..excess);
    }

    fn take(&self, n: usize) -> Vec<i16> {
        let mut samples = self.lock();
        let n = n.min(samples.len());
        samples.drain(..n).collect()
    }

    fn queued_ms(&self) -> u32 {
        let len = self.lock().len() as u64;
        (len * 1000 / u64::from(self.rate.max(1))) as u32
    }
}

// ---------------------------------------------------------------------------
// Null and Memory: tokio-paced.

/// Builds a capture and playback paced by 20 ms tokio intervals. With a
/// `source`, capture plays it once then silence, waiting for the consumer;
/// without, capture is silence and frames are dropped when nobody reads.
/// Playback drains one frame per tick into `heard` (or nowhere).
fn paced(
    rate: u32,
    source: Option<Vec<i16>>,
    heard: Option<Arc<Mutex<Vec<i16>>>>,
) -> (Capture, Playback) {
    let (tx, frames) = mpsc::channel(CAPTURE_QUEUE_FRAMES);
    let queue = Arc::new(PlayQueue::new(rate));
    let capture_task = pace_capture(rate, source, tx);
    let playback_task = pace_playback(Arc::downgrade(&queue), heard);
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            handle.spawn(capture_task);
            handle.spawn(playback_task);
        }
        Err(_) => {
            // No runtime: run the pacing on a small thread of its own.
            let spawned = std::thread::Builder::new()
                .name("ccdesk-audio-pace".to_owned())
                .spawn(move || {
                    match tokio::runtime::Builder::new_current_thread()
                        .enable_time()
                        .build()
                    {
                        Ok(rt) => rt.block_on(async {
                            tokio::join!(capture_task, playback_task);
                        }),
                        Err(e) => tracing::warn!("audio pacing runtime: {e}"),
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!("audio pacing thread: {e}");
            }
        }
    }
    (
        Capture {
            rate,
            frames,
            _stop: None,
        },
        Playback {
            rate,
            queue,
            _stop: None,
        },
    )
}

fn frame_interval() -> tokio::time::Interval {
    tokio::time::interval(Duration::from_millis(u64::from(FRAME_MS)))
}

async fn pace_capture(rate: u32, source: Option<Vec<i16>>, tx: mpsc::Sender<Vec<i16>>) {
    let n = frame_len(rate);
    let lossless = source.is_some();
    let source = source.unwrap_or_default();
    let mut pos = 0;
    let mut ticks = frame_interval();
    loop {
        tokio::select! {
            _ = tx.closed() => return,
            _ = ticks.tick() => {}
        }
        let mut frame = vec![0i16; n];
        let end = (pos + n).min(source.len());
        if pos < end {
            frame[..end - pos].copy_from_slice(&source[pos..end]);
            pos = end;
        }
        if lossless {
            if tx.send(frame).await.is_err() {
                return;
            }
        } else if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send(frame) {
            return;
        }
    }
}

async fn pace_playback(queue: Weak<PlayQueue>, heard: Option<Arc<Mutex<Vec<i16>>>>) {
    let mut ticks = frame_interval();
    loop {
        ticks.tick().await;
        let Some(queue) = queue.upgrade() else {
            return;
        };
        let played = queue.take(frame_len(queue.rate));
        drop(queue);
        if let Some(heard) = &heard {
            heard
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(&played);
        }
    }
}

// ---------------------------------------------------------------------------
// System: cpal on a dedicated thread.

/// Which stream a [`StopOnDrop`] stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Capture,
    Playback,
}

/// Sends its side to the audio thread when dropped.
struct StopOnDrop {
    side: Side,
    tx: std::sync::mpsc::Sender<Side>,
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.tx.send(self.side);
    }
}

/// What the audio thread reports once its streams run.
struct Started {
    capture_rate: u32,
    playback: Arc<PlayQueue>,
}

fn open_system(choice: DeviceChoice) -> Result<(Capture, Playback), String> {
    let (frames_tx, frames) = mpsc::channel(CAPTURE_QUEUE_FRAMES);
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel::<Result<Started, String>>(1);
    let (stop_tx, stop_rx) = std::sync::mpsc::channel::<Side>();
    std::thread::Builder::new()
        .name("ccdesk-audio".to_owned())
        .spawn(move || {
            let (input, output, started) = match start_streams(&choice, frames_tx) {
                Ok(running) => running,
                Err(reason) => {
                    let _ = ready_tx.send(Err(reason));
                    return;
                }
            };
            if ready_tx.send(Ok(started)).is_err() {
                return;
            }
            let (mut input, mut output) = (Some(input), Some(output));
            while input.is_some() || output.is_some() {
                match stop_rx.recv() {
                    Ok(Side::Capture) => input = None,
                    Ok(Side::Playback) => output = None,
                    Err(_) => break,
                }
            }
        })
        .map_err(|e| format!("cannot start the audio thread: {e}"))?;
    let started = ready_rx
        .recv()
        .map_err(|_| "the audio thread failed".to_owned())??;
    let playback_rate = started.playback.rate;
    Ok((
        Capture {
            rate: started.capture_rate,
            frames,
            _stop: Some(StopOnDrop {
                side: Side::Capture,
                tx: stop_tx.clone(),
            }),
        },
        Playback {
            rate: playback_rate,
            queue: started.playback,
            _stop: Some(StopOnDrop {
                side: Side::Playback,
                tx: stop_tx,
            }),
        },
    ))
}

/// On the audio thread: finds the devices, builds and starts both streams.
fn start_streams(
    choice: &DeviceChoice,
    frames: mpsc::Sender<Vec<i16>>,
) -> Result<(cpal::Stream, cpal::Stream, Started), String> {
    let host = system_host()?;
    let backend = host.id().name();

    let mic = pick(&host, Dir::Input, choice.microphone.as_deref())?;
    let mic_config = mic.config.config();
    let capture_rate = frame_rate_for(mic_config.sample_rate);
    let sink = CaptureSink::new(
        mic_config.channels,
        mic_config.sample_rate,
        capture_rate,
        frames,
    );
    let input = build_input(&mic.device, mic.config, sink)
        .map_err(|e| format!("cannot open microphone \"{}\" ({backend}: {e})", mic.name))?;

    let speaker = pick(&host, Dir::Output, choice.speaker.as_deref())?;
    let speaker_config = speaker.config.config();
    let queue = Arc::new(PlayQueue::new(frame_rate_for(speaker_config.sample_rate)));
    let source = PlaySource::new(
        queue.clone(),
        speaker_config.channels,
        speaker_config.sample_rate,
    );
    let output = build_output(&speaker.device, speaker.config, source)
        .map_err(|e| format!("cannot open speaker \"{}\" ({backend}: {e})", speaker.name))?;

    input
        .play()
        .map_err(|e| format!("cannot start microphone \"{}\" ({backend}: {e})", mic.name))?;
    output
        .play()
        .map_err(|e| format!("cannot start speaker \"{}\" ({backend}: {e})", speaker.name))?;
    tracing::info!(
        microphone = %mic.name,
        microphone_config = ?mic.config,
        speaker = %speaker.name,
        speaker_config = ?speaker.config,
        "audio devices open"
    );
    Ok((
        input,
        output,
        Started {
            capture_rate,
            playback: queue,
        },
    ))
}

fn stream_error(direction: &'static str) -> impl FnMut(cpal::Error) + Send + 'static {
    move |e: cpal::Error| {
        if e.kind() == cpal::ErrorKind::Xrun {
            tracing::debug!("{direction} stream: {e}");
        } else {
            tracing::warn!("{direction} stream: {e}");
        }
    }
}

fn build_input(
    device: &cpal::Device,
    config: cpal::SupportedStreamConfig,
    sink: CaptureSink,
) -> Result<cpal::Stream, cpal::Error> {
    fn build<T>(
        device: &cpal::Device,
        config: cpal::StreamConfig,
        mut sink: CaptureSink,
    ) -> Result<cpal::Stream, cpal::Error>
    where
        T: SizedSample,
        i16: FromSample<T>,
    {
        device.build_input_stream::<T, _, _>(
            config,
            move |data: &[T], _: &cpal::InputCallbackInfo| sink.feed(data),
            stream_error("capture"),
            None,
        )
    }
    let stream_config = config.config();
    match config.sample_format() {
        SampleFormat::I8 => build::<i8>(device, stream_config, sink),
        SampleFormat::I16 => build::<i16>(device, stream_config, sink),
        SampleFormat::I24 => build::<cpal::I24>(device, stream_config, sink),
        SampleFormat::I32 => build::<i32>(device, stream_config, sink),
        SampleFormat::U8 => build::<u8>(device, stream_config, sink),
        SampleFormat::U16 => build::<u16>(device, stream_config, sink),
        SampleFormat::U32 => build::<u32>(device, stream_config, sink),
        SampleFormat::F32 => build::<f32>(device, stream_config, sink),
        SampleFormat::F64 => build::<f64>(device, stream_config, sink),
        other => Err(unsupported_format(other)),
    }
}

fn build_output(
    device: &cpal::Device,
    config: cpal::SupportedStreamConfig,
    source: PlaySource,
) -> Result<cpal::Stream, cpal::Error> {
    fn build<T>(
        device: &cpal::Device,
        config: cpal::StreamConfig,
        mut source: PlaySource,
    ) -> Result<cpal::Stream, cpal::Error>
    where
        T: SizedSample + FromSample<i16>,
    {
        device.build_output_stream::<T, _, _>(
            config,
            move |data: &mut [T], _: &cpal::OutputCallbackInfo| source.fill(data),
            stream_error("playback"),
            None,
        )
    }
    let stream_config = config.config();
    match config.sample_format() {
        SampleFormat::I8 => build::<i8>(device, stream_config, source),
        SampleFormat::I16 => build::<i16>(device, stream_config, source),
        SampleFormat::I24 => build::<cpal::I24>(device, stream_config, source),
        SampleFormat::I32 => build::<i32>(device, stream_config, source),
        SampleFormat::U8 => build::<u8>(device, stream_config, source),
        SampleFormat::U16 => build::<u16>(device, stream_config, source),
        SampleFormat::U32 => build::<u32>(device, stream_config, source),
        SampleFormat::F32 => build::<f32>(device, stream_config, source),
        SampleFormat::F64 => build::<f64>(device, stream_config, source),
        other => Err(unsupported_format(other)),
    }
}

fn unsupported_format(format: SampleFormat) -> cpal::Error {
    cpal::Error::with_message(
        cpal::ErrorKind::UnsupportedConfig,
        format!("sample format {format} is not supported"),
    )
}

// ---------------------------------------------------------------------------
// Finding devices.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    Input,
    Output,
}

impl Dir {
    fn noun(self) -> &'static str {
        match self {
            Dir::Input => "microphone",
            Dir::Output => "speaker",
        }
    }
}

/// The platform's audio host, without cpal's panic when none works.
fn system_host() -> Result<cpal::Host, String> {
    let mut last = None;
    for id in cpal::available_hosts() {
        match cpal::host_from_id(id) {
            Ok(host) => return Ok(host),
            Err(e) => last = Some(format!("{}: {e}", id.name())),
        }
    }
    Err(format!(
        "no sound system ({})",
        last.unwrap_or_else(|| "no audio host on this platform".to_owned())
    ))
}

fn default_config(
    device: &cpal::Device,
    dir: Dir,
) -> Result<cpal::SupportedStreamConfig, cpal::Error> {
    match dir {
        Dir::Input => device.default_input_config(),
        Dir::Output => device.default_output_config(),
    }
}

/// A usable device and how it is shown.
struct Found {
    info: DeviceInfo,
    /// The device's description, before disambiguation.
    description: String,
    /// The backend's device id (e.g. ALSA `hw:CARD=PCH,DEV=0`), if any.
    id: Option<String>,
    device: cpal::Device,
}

/// ALSA's `null` PCM accepts any stream without a sound card: not a device
/// anyone means to talk through.
fn is_pseudo(id: Option<&str>) -> bool {
    id == Some("null")
}

/// The usable devices of one direction, with unique names.
fn enumerate(host: &cpal::Host, dir: Dir) -> Vec<Found> {
    let devices: Result<Vec<cpal::Device>, cpal::Error> = match dir {
        Dir::Input => host.input_devices().map(Iterator::collect),
        Dir::Output => host.output_devices().map(Iterator::collect),
    };
    let devices = devices.unwrap_or_else(|e| {
        tracing::debug!("listing {}s: {e}", dir.noun());
        Vec::new()
    });
    let default = match dir {
        Dir::Input => host.default_input_device(),
        Dir::Output => host.default_output_device(),
    };
    let default_id = default.and_then(|d| d.id().ok());
    let mut found: Vec<Found> = devices
        .into_iter()
        .filter_map(|device| {
            let device_id = device.id().ok();
            let id = device_id.as_ref().map(|i| i.id().to_owned());
            if is_pseudo(id.as_deref()) || default_config(&device, dir).is_err() {
                return None;
            }
            let description = device
                .description()
                .map(|d| d.name().trim().to_owned())
                .ok()
                .filter(|name| !name.is_empty())
                .or_else(|| id.clone())
                .unwrap_or_else(|| format!("unnamed {}", dir.noun()));
            let is_default = device_id.is_some() && device_id == default_id;
            Some(Found {
                info: DeviceInfo {
                    name: description.clone(),
                    is_default,
                },
                description,
                id,
                device,
            })
        })
        .collect();
    // Several ALSA PCMs share a description (hw:, plughw:, front:, ...):
    // tell them apart by id.
    for i in 0..found.len() {
        let shared = found
            .iter()
            .filter(|f| f.description == found[i].description)
            .count()
            > 1;
        if shared {
            if let Some(id) = &found[i].id {
                found[i].info.name = format!("{} [{id}]", found[i].description);
            }
        }
    }
    for i in 0..found.len() {
        let mut n = 1;
        while found[..i].iter().any(|f| f.info.name == found[i].info.name) {
            n += 1;
            found[i].info.name = format!("{} #{n}", found[i].description);
        }
    }
    found
}

/// The device chosen for one direction, with its configuration.
struct Picked {
    name: String,
    device: cpal::Device,
    config: cpal::SupportedStreamConfig,
}

fn pick(host: &cpal::Host, dir: Dir, wanted: Option<&str>) -> Result<Picked, String> {
    let backend = host.id().name();
    let noun = dir.noun();
    let Some(wanted) = wanted else {
        let device = match dir {
            Dir::Input => host.default_input_device(),
            Dir::Output => host.default_output_device(),
        }
        .ok_or_else(|| format!("no {noun} ({backend} has no default {noun})"))?;
        let config = default_config(&device, dir).map_err(|e| match e.kind() {
            cpal::ErrorKind::DeviceNotAvailable | cpal::ErrorKind::HostUnavailable => {
                format!("no sound card ({backend}: {e})")
            }
            _ => format!("default {noun} unusable ({backend}: {e})"),
        })?;
        let name = device
            .description()
            .map(|d| d.name().to_owned())
            .unwrap_or_else(|_| format!("default {noun}"));
        return Ok(Picked {
            name,
            device,
            config,
        });
    };
    let mut found = enumerate(host, dir);
    let position = found
        .iter()
        .position(|f| f.info.name == wanted)
        .or_else(|| found.iter().position(|f| f.id.as_deref() == Some(wanted)))
        .or_else(|| found.iter().position(|f| f.description == wanted));
    let Some(position) = position else {
        let available = if found.is_empty() {
            "none".to_owned()
        } else {
            found
                .iter()
                .map(|f| format!("\"{}\"", f.info.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(format!(
            "{noun} \"{wanted}\" not found ({backend} {noun}s: {available})"
        ));
    };
    let chosen = found.swap_remove(position);
    let config = default_config(&chosen.device, dir)
        .map_err(|e| format!("{noun} \"{wanted}\" unusable ({backend}: {e})"))?;
    Ok(Picked {
        name: chosen.info.name,
        device: chosen.device,
        config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, len: usize) -> Vec<i16> {
        (0..len)
            .map(|i| {
                let t = i as f64 / f64::from(rate);
                (10_000.0 * (2.0 * std::f64::consts::PI * freq * t).sin()) as i16
            })
            .collect()
    }

    /// Sign changes from negative to non-negative.
    fn rising_crossings(samples: &[i16]) -> usize {
        samples.windows(2).filter(|w| w[0] < 0 && w[1] >= 0).count()
    }

    fn no_sound_card() -> bool {
        cfg!(target_os = "linux")
            && std::fs::read_to_string("/proc/asound/cards")
                .map(|cards| cards.contains("no soundcards"))
                .unwrap_or(true)
    }

    #[tokio::test(start_paused = true)]
    async fn memory_capture_plays_source_in_frames_then_silence() {
        let rate = 8_000;
        let n = frame_len(rate);
        let source: Vec<i16> = (1..=(2 * n + n / 2) as i16).collect();
        let mut audio = open(Backend::Memory {
            rate,
            source: source.clone(),
            heard: Arc::default(),
        });
        assert_eq!(audio.kind, AudioKind::Memory);
        assert_eq!(audio.capture.rate, rate);
        assert!(audio.notice.is_none());
        let start = tokio::time::Instant::now();
        let mut got = Vec::new();
        for _ in 0..3 {
            let frame = audio.capture.frames.recv().await.expect("frame");
            assert_eq!(frame.len(), n);
            got.extend(frame);
        }
        assert_eq!(&got[..source.len()], &source[..]);
        assert!(got[source.len()..].iter().all(|&s| s == 0));
        for _ in 0..2 {
            let frame = audio.capture.frames.recv().await.expect("frame");
            assert_eq!(frame, vec![0; n]);
        }
        // Five frames: the first at once, then one every 20 ms.
        assert_eq!(start.elapsed(), Duration::from_millis(80));
    }

    #[tokio::test(start_paused = true)]
    async fn memory_playback_collects_what_is_pushed() {
        let rate = 16_000;
        let n = frame_len(rate);
        let heard = Arc::new(Mutex::new(Vec::new()));
        let audio = open(Backend::Memory {
            rate,
            source: Vec::new(),
            heard: heard.clone(),
        });
        assert_eq!(audio.playback.rate, rate);
        let pushed: Vec<i16> = (0..5 * n as i16).collect();
        for frame in pushed.chunks(n) {
            audio.playback.push(frame);
        }
        assert_eq!(audio.playback.queued_ms(), 100);
        // Played at device pace: one frame per 20 ms of (virtual) time.
        for _ in 0..10 {
            if heard.lock().unwrap().len() >= pushed.len() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(u64::from(FRAME_MS))).await;
        }
        assert_eq!(*heard.lock().unwrap(), pushed);
        assert_eq!(audio.playback.queued_ms(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn null_capture_yields_silent_frames() {
        let mut audio = open(Backend::Null);
        assert_eq!(audio.kind, AudioKind::Null);
        assert!(audio.notice.is_none());
        assert_eq!(audio.capture.rate, 48_000);
        for _ in 0..3 {
            let frame = audio.capture.frames.recv().await.expect("frame");
            assert_eq!(frame, vec![0; frame_len(audio.capture.rate)]);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn playback_queue_is_bounded_to_200ms_keeping_the_newest() {
        let rate = 8_000;
        let n = frame_len(rate);
        let heard = Arc::new(Mutex::new(Vec::new()));
        let audio = open(Backend::Memory {
            rate,
            source: Vec::new(),
            heard: heard.clone(),
        });
        // 500 ms, frame k filled with k.
        for k in 0..25i16 {
            audio.playback.push(&vec![k; n]);
        }
        let queued = audio.playback.queued_ms();
        assert!(queued <= 200, "queued {queued} ms");
        assert_eq!(queued, 200);
        for _ in 0..20 {
            if audio.playback.queued_ms() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(u64::from(FRAME_MS))).await;
        }
        let expected: Vec<i16> = (15..25i16).flat_map(|k| vec![k; n]).collect();
        assert_eq!(*heard.lock().unwrap(), expected);

        let null = open(Backend::Null);
        null.playback.push(&vec![1; 48_000 / 2]);
        assert_eq!(null.playback.queued_ms(), 200);
    }

    #[tokio::test(start_paused = true)]
    async fn dropping_the_handles_ends_the_pacing() {
        let heard = Arc::new(Mutex::new(Vec::new()));
        let audio = open(Backend::Memory {
            rate: 8_000,
            source: vec![1; 10_000],
            heard: heard.clone(),
        });
        let Audio {
            mut capture,
            playback,
            ..
        } = audio;
        assert!(capture.frames.recv().await.is_some());
        assert_eq!(Arc::strong_count(&heard), 2, "held by the playback task");
        drop(capture);
        drop(playback);
        // The playback task notices at its next tick and lets go of `heard`.
        for _ in 0..5 {
            if Arc::strong_count(&heard) == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(u64::from(FRAME_MS))).await;
        }
        assert_eq!(Arc::strong_count(&heard), 1);
    }

    #[test]
    fn null_works_without_a_runtime() {
        let mut audio = open(Backend::Null);
        let frame = audio.capture.frames.blocking_recv().expect("frame");
        assert_eq!(frame.len(), frame_len(audio.capture.rate));
    }

    #[test]
    fn resample_lengths() {
        assert_eq!(resample(&[1; 441], 44_100, 48_000).len(), 480);
        assert_eq!(resample(&[1; 480], 48_000, 44_100).len(), 441);
        assert_eq!(resample(&[1; 160], 8_000, 48_000).len(), 960);
        assert_eq!(resample(&[1; 960], 48_000, 8_000).len(), 160);
        assert_eq!(resample(&[5, 6, 7], 16_000, 16_000), vec![5, 6, 7]);
        assert!(resample(&[], 44_100, 48_000).is_empty());
        // Linear between neighbours, constant stays constant.
        assert_eq!(resample(&[0, 100], 1_000, 2_000), vec![0, 50, 100, 100]);
        assert!(resample(&[-7; 300], 44_100, 48_000)
            .iter()
            .all(|&s| s == -7));
    }

    #[test]
    fn resample_keeps_a_tone_frequency() {
        // One second of 440 Hz at 44.1 kHz.
        let input = sine(440.0, 44_100, 44_100);
        let output = resample(&input, 44_100, 48_000);
        assert_eq!(output.len(), 48_000);
        let crossings = rising_crossings(&output);
        assert!(
            (439..=441).contains(&crossings),
            "{crossings} rising zero crossings in one second"
        );
        // And the waveform matches a tone generated at 48 kHz.
        let reference = sine(440.0, 48_000, 48_000);
        let worst = output
            .iter()
            .zip(&reference)
            .map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs())
            .max()
            .unwrap();
        assert!(worst < 200, "worst error {worst}");
    }

    #[test]
    fn streaming_resampler_matches_the_pure_one() {
        let input = sine(440.0, 44_100, 10_000);
        let whole = resample(&input, 44_100, 48_000);
        let mut r = Resampler::new(44_100, 48_000);
        let mut streamed = Vec::new();
        let mut rest = &input[..];
        for size in [1, 7, 441, 512, 3, 1000].iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at((*size).min(rest.len()));
            r.process(chunk, &mut streamed);
            rest = tail;
        }
        assert!(whole.len() - streamed.len() <= 1);
        assert_eq!(streamed[..], whole[..streamed.len()]);
    }

    #[test]
    fn capture_sink_downmixes_resamples_and_frames() {
        let (tx, mut rx) = mpsc::channel(100);
        let mut sink = CaptureSink::new(2, 44_100, frame_rate_for(44_100), tx);
        // 100 ms of stereo f32: left 0.5, right -0.25 -> mono 0.125.
        let stereo: Vec<f32> = (0..4_410).flat_map(|_| [0.5f32, -0.25]).collect();
        for chunk in stereo.chunks(2 * 441) {
            sink.feed(chunk);
        }
        let mut frames = Vec::new();
        while let Ok(frame) = rx.try_recv() {
            frames.push(frame);
        }
        // 4410 samples at 44.1 kHz -> 4800 at 48 kHz, minus the last one
        // still waiting for its right neighbour: four whole frames.
        assert_eq!(frames.len(), 4);
        let expected = i16::from_sample(0.125f32);
        for frame in &frames {
            assert_eq!(frame.len(), 960);
        }
        assert!(frames.iter().flatten().all(|&s| s == expected));
    }

    #[test]
    fn capture_sink_drops_frames_when_the_consumer_is_behind() {
        let (tx, mut rx) = mpsc::channel(2);
        let mut sink = CaptureSink::new(1, 16_000, 16_000, tx);
        let n = frame_len(16_000);
        let input: Vec<i16> = (0..5 * n as i16).collect();
        sink.feed(&input);
        assert_eq!(rx.try_recv().unwrap(), input[..n].to_vec());
        assert_eq!(rx.try_recv().unwrap(), input[n..2 * n].to_vec());
        assert!(rx.try_recv().is_err());
        assert_eq!(sink.dropped, 3);
    }

    #[test]
    fn play_source_duplicates_channels_converts_and_zero_fills() {
        let queue = Arc::new(PlayQueue::new(48_000));
        queue.push(&[1000, -1000, 2000]);
        let mut source = PlaySource::new(queue.clone(), 2, 48_000);
        let mut out = [0u16; 10];
        source.fill(&mut out);
        let u = |s: i16| u16::from_sample(s);
        assert_eq!(
            out,
            [
                u(1000),
                u(1000),
                u(-1000),
                u(-1000),
                u(2000),
                u(2000),
                u(0),
                u(0),
                u(0),
                u(0)
            ]
        );
        assert_eq!(queue.queued_ms(), 0);
    }

    #[test]
    fn play_source_resamples_to_the_device_rate() {
        let queue = Arc::new(PlayQueue::new(48_000));
        let tone = sine(440.0, 48_000, 9_600);
        queue.push(&tone);
        // 44.1 kHz stereo f32 device: 200 ms of tone -> 8820 device frames.
        let mut source = PlaySource::new(queue.clone(), 2, 44_100);
        let mut out = vec![0f32; 2 * 8_000];
        source.fill(&mut out);
        let left: Vec<i16> = out.chunks(2).map(|c| i16::from_sample(c[0])).collect();
        assert!(out.chunks(2).all(|c| c[0] == c[1]));
        // 8000 samples at 44.1 kHz drew ~8707 from the queue.
        let left_in_queue = queue.lock().len();
        assert!((9_600 - 8_710..=9_600 - 8_705).contains(&left_in_queue));
        let crossings = rising_crossings(&left);
        // 8000 / 44100 s of 440 Hz: 79.8 periods.
        assert!((79..=81).contains(&crossings), "{crossings}");
    }

    #[test]
    fn frame_rates_follow_opus() {
        assert_eq!(frame_rate_for(48_000), 48_000);
        assert_eq!(frame_rate_for(16_000), 16_000);
        assert_eq!(frame_rate_for(8_000), 8_000);
        assert_eq!(frame_rate_for(44_100), 48_000);
        assert_eq!(frame_rate_for(96_000), 48_000);
    }

    #[tokio::test]
    async fn system_without_sound_card_falls_back_to_null_with_a_notice() {
        let mut audio = open(Backend::System(DeviceChoice::default()));
        match audio.kind {
            AudioKind::Null => {
                let notice = audio.notice.as_deref().expect("notice");
                assert!(
                    notice.ends_with("audio is off, calls still work"),
                    "{notice}"
                );
            }
            AudioKind::System => assert!(!no_sound_card(), "opened audio without a card"),
            AudioKind::Memory => panic!("memory backend from System"),
        }
        if no_sound_card() {
            assert_eq!(audio.kind, AudioKind::Null);
            assert!(audio.notice.as_deref().unwrap().contains("no sound card"));
        }
        // The fallback still works.
        if audio.kind == AudioKind::Null {
            let frame = audio.capture.frames.recv().await.expect("frame");
            assert_eq!(frame.len(), frame_len(audio.capture.rate));
        }
    }

    #[tokio::test]
    async fn a_missing_named_device_falls_back_naming_it() {
        let audio = open(Backend::System(DeviceChoice {
            microphone: Some("No Such Microphone 3000".to_owned()),
            speaker: None,
        }));
        assert_eq!(audio.kind, AudioKind::Null);
        let notice = audio.notice.expect("notice");
        assert!(notice.contains("\"No Such Microphone 3000\""), "{notice}");
        assert!(notice.contains("not found"), "{notice}");

        let audio = open(Backend::System(DeviceChoice {
            microphone: None,
            speaker: Some("No Such Speaker".to_owned()),
        }));
        assert_eq!(audio.kind, AudioKind::Null);
        if !no_sound_card() {
            let notice = audio.notice.expect("notice");
            assert!(notice.contains("No Such Speaker"), "{notice}");
        }
    }

    #[test]
    fn device_list_on_this_machine() {
        let devices = list();
        if no_sound_card() {
            assert_eq!(devices, DeviceList::default());
        }
        let text = print_devices(false);
        assert!(text.starts_with("Microphones\n"));
        assert!(text.contains("\nSpeakers\n"));
        let json: serde_json::Value = serde_json::from_str(&print_devices(true)).unwrap();
        assert!(json["microphones"].is_array());
    }

    #[test]
    fn print_devices_formats() {
        let empty = format_devices(&DeviceList::default(), false);
        assert_eq!(
            empty,
            "Microphones\n  none found (no sound card?)\nSpeakers\n  none found (no sound card?)\n"
        );
        assert_eq!(
            format_devices(&DeviceList::default(), true).trim(),
            "{\n  \"microphones\": [],\n  \"speakers\": []\n}"
        );
        let devices = DeviceList {
            microphones: vec![
                DeviceInfo {
                    name: "Headset".into(),
                    is_default: true,
                },
                DeviceInfo {
                    name: "Webcam".into(),
                    is_default: false,
                },
            ],
            speakers: vec![DeviceInfo {
                name: "Headset".into(),
                is_default: false,
            }],
        };
        assert_eq!(
            format_devices(&devices, false),
            "Microphones\n  Headset (default)\n  Webcam\nSpeakers\n  Headset\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(&format_devices(&devices, true)).unwrap();
        assert_eq!(json["microphones"][0]["name"], "Headset");
        assert_eq!(json["microphones"][0]["is_default"], true);
    }

    /// Set in the child process of `system_audio_is_quiet_on_stderr`.
    const CHILD: &str = "CCDESK_DEVICE_STDERR_CHILD";

    /// Runs in a child process only: opens the system audio and lists the
    /// devices, so the parent can check nothing reached stderr.
    #[test]
    fn stderr_child_opens_system_audio() {
        if std::env::var_os(CHILD).is_none() {
            return;
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let _devices = list();
            let audio = open(Backend::System(DeviceChoice::default()));
            let named = open(Backend::System(DeviceChoice {
                microphone: Some("missing".into()),
                speaker: Some("missing".into()),
            }));
            drop((audio, named));
        });
    }

    #[test]
    fn system_audio_is_quiet_on_stderr() {
        if std::env::var_os(CHILD).is_some() {
            return;
        }
        let exe = std::env::current_exe().unwrap();
        let out = std::process::Command::new(exe)
            .args([
                "--exact",
                "media::device::tests::stderr_child_opens_system_audio",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "child failed: {stdout}\n{stderr}");
        assert!(stdout.contains("1 passed"), "child did not run: {stdout}");
        assert!(stderr.trim().is_empty(), "stderr: {stderr}");
    }

    #[test]
    fn silence_alsa_is_idempotent() {
        silence_alsa();
        silence_alsa();
    }

    #[test]
    fn handles_are_send() {
        fn send<T: Send + 'static>() {}
        send::<Audio>();
        send::<Backend>();
    }
}
