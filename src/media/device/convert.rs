//! Rates and sample conversion, and the playback queue.

use super::*;

// ---------------------------------------------------------------------------
// Rates and sample conversion.

/// The frame rate for a device running at `device_rate`.
pub(super) fn frame_rate_for(device_rate: u32) -> u32 {
    if OPUS_RATES.contains(&device_rate) {
        device_rate
    } else {
        FALLBACK_RATE
    }
}

/// `a + (b - a) * num / den`.
pub(super) fn lerp(a: i16, b: i16, num: u64, den: u64) -> i16 {
    let (a, b) = (i64::from(a), i64::from(b));
    (a + (b - a) * num as i64 / den as i64) as i16
}

/// Streaming form of [`resample`]: chunks in, the same samples out as if
/// the whole signal had been resampled at once.
pub(super) struct Resampler {
    pub(super) from: u64,
    pub(super) to: u64,
    /// Last sample of the previous chunk.
    pub(super) prev: i16,
    /// Position of the next output sample relative to the first sample of
    /// the next chunk, in 1/`to` input samples; in `-to < t <= 0` between
    /// chunks (negative: between `prev` and that first sample).
    pub(super) t: i64,
}

impl Resampler {
    pub(super) fn new(from: u32, to: u32) -> Self {
        Resampler {
            from: u64::from(from.max(1)),
            to: u64::from(to.max(1)),
            prev: 0,
            t: 0,
        }
    }

    pub(super) fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
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
pub(super) struct PullResampler {
    pub(super) from: u64,
    pub(super) to: u64,
    /// Position between `a` and `b`, in 1/`to` input samples.
    pub(super) acc: u64,
    pub(super) a: i16,
    pub(super) b: i16,
}

impl PullResampler {
    pub(super) fn new(from: u32, to: u32) -> Self {
        PullResampler {
            from: u64::from(from.max(1)),
            to: u64::from(to.max(1)),
            acc: 0,
            a: 0,
            b: 0,
        }
    }

    pub(super) fn next(&mut self, mut pull: impl FnMut() -> i16) -> i16 {
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
pub(super) struct CaptureSink {
    pub(super) channels: usize,
    pub(super) frame: usize,
    pub(super) resampler: Option<Resampler>,
    pub(super) mono: Vec<i16>,
    pub(super) pending: Vec<i16>,
    pub(super) tx: mpsc::Sender<Vec<i16>>,
    pub(super) dropped: u64,
}

impl CaptureSink {
    pub(super) fn new(
        channels: u16,
        device_rate: u32,
        rate: u32,
        tx: mpsc::Sender<Vec<i16>>,
    ) -> Self {
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
    pub(super) fn feed<T>(&mut self, data: &[T])
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
pub(super) struct PlaySource {
    pub(super) queue: Arc<PlayQueue>,
    pub(super) channels: usize,
    pub(super) resampler: Option<PullResampler>,
    pub(super) scratch: Vec<i16>,
}

impl PlaySource {
    pub(super) fn new(queue: Arc<PlayQueue>, channels: u16, device_rate: u32) -> Self {
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
    pub(super) fn fill<T>(&mut self, data: &mut [T])
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
pub(super) struct PlayQueue {
    pub(super) rate: u32,
    pub(super) max: usize,
    pub(super) samples: Mutex<VecDeque<i16>>,
}

impl PlayQueue {
    pub(super) fn new(rate: u32) -> Self {
        let max = (u64::from(rate) * u64::from(MAX_QUEUED_MS) / 1000) as usize;
        PlayQueue {
            rate,
            max,
            samples: Mutex::new(VecDeque::with_capacity(max + frame_len(rate))),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, VecDeque<i16>> {
        self.samples.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn push(&self, frame: &[i16]) {
        let mut samples = self.lock();
        samples.extend(frame.iter().copied());
        let excess = samples.len().saturating_sub(self.max);
        samples.drain(..excess);
    }

    pub(super) fn take(&self, n: usize) -> Vec<i16> {
        let mut samples = self.lock();
        let n = n.min(samples.len());
        samples.drain(..n).collect()
    }

    pub(super) fn queued_ms(&self) -> u32 {
        let len = self.lock().len() as u64;
        (len * 1000 / u64::from(self.rate.max(1))) as u32
    }
}
