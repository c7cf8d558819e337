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

mod convert;
mod find;
mod paced;
mod system;
#[cfg(test)]
mod tests;

use self::convert::*;
use self::find::*;
use self::paced::*;
use self::system::*;

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
