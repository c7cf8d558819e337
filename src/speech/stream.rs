//! Running legs' recognition off the audio task: a pool of worker threads.
//!
//! Recognition costs a fraction of a core per talking leg, too much for the
//! 20 ms audio task. [`spawn_leg`] hands a leg to an [`AsrPool`]: a fixed
//! set of worker threads (by default one per core, [`AsrPool::global`])
//! serving every leg. [`LegHandle::push`] copies the frame into the leg's
//! unbounded queue and, if the leg is not already waiting for a worker,
//! puts it on the pool's run queue; it never blocks and never drops audio.
//! A worker takes a leg, decodes up to [`TURN_FRAMES`] of its frames and
//! puts it back at the end of the run queue if more are waiting, so that
//! one busy leg does not starve the others; a leg is only ever on one
//! worker at a time. When a leg is behind (more than [`BEHIND_FRAMES`]
//! frames waiting) its partials are skipped — every frame is still
//! decoded, so the finals are unchanged — until it has caught up.
//!
//! The leg's recogniser is made on the worker, not in `spawn_leg`, so the
//! audio task never waits for a model to load (the [`Model`] keeps the
//! decoders of finished legs, so this is usually free). Dropping the
//! [`LegHandle`] ends the leg: the worker decodes what is queued, sends the
//! open sentence's final, and gives the decoder back.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::asr::Model;
use super::leg::{AsrEvent, LegRecognizer};
use super::vad::VadConfig;
use super::SpeechError;

/// Frames waiting beyond which a leg's partials are skipped (100 ms).
pub const BEHIND_FRAMES: usize = 5;
/// Frames a worker decodes for one leg before serving the next (1 s).
pub const TURN_FRAMES: usize = 50;

/// What a leg's queue carries.
enum Msg {
    Frame(Vec<i16>),
    End,
}

type MakeLeg = Box<dyn FnOnce() -> Result<LegRecognizer, SpeechError> + Send>;
type OnEvent = Box<dyn Fn(AsrEvent) + Send>;

enum LegState {
    /// Not started: the recogniser is made by the first worker to serve it.
    New(MakeLeg),
    Running(Box<LegRecognizer>),
    /// Ended, or could not start: frames are dropped.
    Done,
}

/// A leg's side that only its current worker touches.
struct LegWork {
    rx: mpsc::Receiver<Msg>,
    state: LegState,
    on_event: OnEvent,
}

/// A leg as the pool sees it.
struct Leg {
    /// Messages sent and not yet taken by a worker.
    pending: AtomicUsize,
    /// On the run queue or on a worker.
    scheduled: AtomicBool,
    partials_skipped: AtomicU64,
    work: Mutex<LegWork>,
    run: mpsc::Sender<Arc<Leg>>,
}

impl Leg {
    /// Puts the leg on the run queue unless it already is (or is on a
    /// worker, which will see the new message before letting it go).
    fn schedule(self: &Arc<Self>) {
        if !self.scheduled.swap(true, Ordering::SeqCst) {
            // Fails only when every worker is gone; nothing to do then.
            let _ = self.run.send(Arc::clone(self));
        }
    }

    /// One turn on a worker.
    fn serve(self: &Arc<Self>) {
        let mut work = self.work.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            let mut budget = TURN_FRAMES;
            while budget > 0 {
                let Ok(msg) = work.rx.try_recv() else {
                    break;
                };
                let waiting = self
                    .pending
                    .fetch_sub(1, Ordering::SeqCst)
                    .saturating_sub(1);
                match msg {
                    Msg::Frame(f) => {
                        budget -= 1;
                        let behind = waiting > BEHIND_FRAMES;
                        if behind {
                            self.partials_skipped.fetch_add(1, Ordering::Relaxed);
                        }
                        work.frame(&f, !behind);
                    }
                    Msg::End => work.end(),
                }
            }
            if budget == 0 && self.pending.load(Ordering::SeqCst) > 0 {
                // More to do: to the back of the queue, still scheduled.
                drop(work);
                let _ = self.run.send(Arc::clone(self));
                return;
            }
            self.scheduled.store(false, Ordering::SeqCst);
            // A push between the last try_recv and the store above saw the
            // leg scheduled and left it to us: take it back if so.
            if self.pending.load(Ordering::SeqCst) == 0
                || self.scheduled.swap(true, Ordering::SeqCst)
            {
                return;
            }
        }
    }
}

impl LegWork {
    fn frame(&mut self, f: &[i16], partials: bool) {
        if let LegState::New(_) = self.state {
            let LegState::New(make) = std::mem::replace(&mut self.state, LegState::Done) else {
                return;
            };
            match make() {
                Ok(r) => self.state = LegState::Running(Box::new(r)),
                Err(e) => {
                    tracing::warn!(error = %e, "speech: no recogniser for a leg; its audio goes untranscribed");
                }
            }
        }
        if let LegState::Running(r) = &mut self.state {
            r.set_partials(partials);
            for e in r.push(f) {
                (self.on_event)(e);
            }
        }
    }

    fn end(&mut self) {
        if let LegState::Running(mut r) = std::mem::replace(&mut self.state, LegState::Done) {
            for e in r.finish() {
                (self.on_event)(e);
            }
        }
    }
}

/// Worker threads that run legs' recognition. See the module's
/// documentation.
#[derive(Debug)]
pub struct AsrPool {
    run: mpsc::Sender<Arc<Leg>>,
    threads: usize,
}

impl std::fmt::Debug for Leg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leg")
            .field("pending", &self.pending.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl AsrPool {
    /// A pool of `threads` workers (at least one). The workers end when the
    /// pool and every leg it served are gone.
    pub fn new(threads: usize) -> AsrPool {
        let (tx, rx) = mpsc::channel::<Arc<Leg>>();
        let rx = Arc::new(Mutex::new(rx));
        let mut started = 0;
        for n in 0..threads.max(1) {
            let rx = Arc::clone(&rx);
            let spawned = std::thread::Builder::new()
                .name(format!("ccdesk-asr-{n}"))
                .spawn(move || worker(&rx));
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::error!(error = %e, "speech: cannot start a recognition worker"),
            }
        }
        AsrPool {
            run: tx,
            threads: started,
        }
    }

    /// The process's pool, one worker per core, started on first use.
    pub fn global() -> &'static AsrPool {
        static GLOBAL: OnceLock<AsrPool> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            let n = std::thread::available_parallelism().map_or(2, |n| n.get());
            AsrPool::new(n)
        })
    }

    /// Worker threads running.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Starts a leg: its frames go to [`LegHandle::push`], its events to
    /// `on_event` (called on a worker thread, in order; keep it short, e.g.
    /// a channel send).
    pub fn spawn_leg(
        &self,
        model: &Arc<Model>,
        on_event: impl Fn(AsrEvent) + Send + 'static,
    ) -> LegHandle {
        self.spawn_leg_with(model, VadConfig::default(), on_event)
    }

    /// [`AsrPool::spawn_leg`] with these voice-activity settings.
    pub fn spawn_leg_with(
        &self,
        model: &Arc<Model>,
        vad: VadConfig,
        on_event: impl Fn(AsrEvent) + Send + 'static,
    ) -> LegHandle {
        let model = Arc::clone(model);
        self.spawn_with(
            Box::new(move || LegRecognizer::with_vad(&model, vad)),
            Box::new(on_event),
        )
    }

    fn spawn_with(&self, make: MakeLeg, on_event: OnEvent) -> LegHandle {
        let (tx, rx) = mpsc::channel();
        let leg = Arc::new(Leg {
            pending: AtomicUsize::new(0),
            scheduled: AtomicBool::new(false),
            partials_skipped: AtomicU64::new(0),
            work: Mutex::new(LegWork {
                rx,
                state: LegState::New(make),
                on_event,
            }),
            run: self.run.clone(),
        });
        LegHandle { leg, tx }
    }
}

fn worker(rx: &Mutex<mpsc::Receiver<Arc<Leg>>>) {
    loop {
        let next = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(leg) = next else {
            return;
        };
        if std::panic::catch_unwind(AssertUnwindSafe(|| leg.serve())).is_err() {
            // A panic in a callback: drop that leg, keep the worker.
            tracing::error!("speech: a leg's recognition panicked; its transcript stops");
            let mut work = leg.work.lock().unwrap_or_else(PoisonError::into_inner);
            work.state = LegState::Done;
            while work.rx.try_recv().is_ok() {
                leg.pending.fetch_sub(1, Ordering::SeqCst);
            }
            leg.scheduled.store(false, Ordering::SeqCst);
        }
    }
}

/// Starts a leg on the process's pool ([`AsrPool::global`]).
pub fn spawn_leg(model: &Arc<Model>, on_event: impl Fn(AsrEvent) + Send + 'static) -> LegHandle {
    AsrPool::global().spawn_leg(model, on_event)
}

/// The audio task's end of a leg. Dropping it ends the leg (the open
/// sentence's final still comes).
#[derive(Debug)]
pub struct LegHandle {
    leg: Arc<Leg>,
    tx: mpsc::Sender<Msg>,
}

impl LegHandle {
    /// Queues a frame (16 kHz mono, normally 320 samples). Never blocks,
    /// never drops audio.
    pub fn push(&self, frame: &[i16]) {
        self.send(Msg::Frame(frame.to_vec()));
    }

    /// Frames queued and not yet decoded.
    pub fn backlog(&self) -> usize {
        self.leg.pending.load(Ordering::SeqCst)
    }

    /// Frames whose partial look was skipped because the leg was behind.
    pub fn partials_skipped(&self) -> u64 {
        self.leg.partials_skipped.load(Ordering::Relaxed)
    }

    fn send(&self, msg: Msg) {
        // Counted before it is sent, so a worker never takes more than
        // the count says.
        self.leg.pending.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(msg).is_err() {
            self.leg.pending.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        self.leg.schedule();
    }
}

impl Drop for LegHandle {
    fn drop(&mut self) {
        self.send(Msg::End);
    }
}

#[cfg(test)]
mod tests {
    use super::super::leg::testing::*;
    use super::super::leg::*;
    use super::*;
    use std::time::Duration;

    fn counting_leg(pool: &AsrPool, tx: mpsc::Sender<AsrEvent>) -> LegHandle {
        pool.spawn_with(
            Box::new(|| Ok(leg())),
            Box::new(move |e| {
                let _ = tx.send(e);
            }),
        )
    }

    /// Receives until the channel closes (the leg ended), with a deadline.
    fn collect(rx: &mpsc::Receiver<AsrEvent>) -> Vec<AsrEvent> {
        let mut ev = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(10)) {
                Ok(e) => ev.push(e),
                Err(mpsc::RecvTimeoutError::Disconnected) => return ev,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("leg did not end: {ev:?}"),
            }
        }
    }

    #[test]
    fn pool_legs_give_the_same_finals_as_inline() {
        let pool = AsrPool::new(2);
        assert_eq!(pool.threads(), 2);
        let frames = script(&[40, 25, 60, 33]);
        let mut inline = leg();
        let mut want = Vec::new();
        for f in &frames {
            want.extend(inline.push(f));
        }
        want.extend(inline.finish());
        let want = check(&want);

        // Many legs at once, every frame pushed in a burst (so the workers
        // are behind and skip partials), then the handles dropped.
        let mut legs = Vec::new();
        for _ in 0..12 {
            let (tx, rx) = mpsc::channel();
            let h = counting_leg(&pool, tx);
            for f in &frames {
                h.push(f);
            }
            legs.push((h, rx));
        }
        for (h, rx) in legs {
            drop(h);
            let got = collect(&rx);
            assert_eq!(check(&got), want);
        }
    }

    #[test]
    fn dropping_the_handle_ends_an_open_sentence() {
        let pool = AsrPool::new(1);
        let (tx, rx) = mpsc::channel();
        let h = counting_leg(&pool, tx);
        for f in script(&[]) {
            h.push(&f);
        }
        for _ in 0..30 {
            h.push(&loud());
        }
        drop(h);
        let finals = check(&collect(&rx));
        assert_eq!(finals.len(), 1);
        assert_eq!(finals[0].text, "w1 w2 w3");
    }

    #[test]
    fn a_behind_leg_skips_partials_but_not_frames() {
        let pool = AsrPool::new(1);
        let (tx, rx) = mpsc::channel();
        // Hold the only worker until every frame is queued.
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        let blocker = pool.spawn_with(
            Box::new(move || {
                let _ = gate_rx.recv_timeout(Duration::from_secs(10));
                Ok(leg())
            }),
            Box::new(|_| {}),
        );
        blocker.push(&quiet());
        let h = counting_leg(&pool, tx);
        for f in script(&[40]) {
            h.push(&f);
        }
        assert!(h.backlog() > BEHIND_FRAMES);
        let _ = gate_tx.send(());
        let skipped = {
            drop(blocker);
            // Wait for the final, then read the count before ending the leg.
            let mut ev = Vec::new();
            while !ev.iter().any(|e: &AsrEvent| e.slice_type == SLICE_FINAL) {
                ev.push(
                    rx.recv_timeout(Duration::from_secs(10))
                        .expect("final in time"),
                );
            }
            assert_eq!(check(&ev)[0].text, "w1 w2 w3 w4");
            assert!(!ev.iter().any(|e| e.slice_type == SLICE_PARTIAL), "{ev:?}");
            h.partials_skipped()
        };
        assert!(skipped > 0);
        drop(h);
        assert!(collect(&rx).is_empty());
    }

    #[test]
    fn a_panicking_callback_loses_its_leg_not_the_worker() {
        let pool = AsrPool::new(1);
        let bad = pool.spawn_with(Box::new(|| Ok(leg())), Box::new(|_| panic!("callback")));
        for f in script(&[40]) {
            bad.push(&f);
        }
        let (tx, rx) = mpsc::channel();
        let good = counting_leg(&pool, tx);
        for f in script(&[40]) {
            good.push(&f);
        }
        drop(good);
        assert_eq!(check(&collect(&rx)).len(), 1);
        drop(bad);
    }
}
