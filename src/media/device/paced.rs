//! The Null and Memory backends, paced by tokio time.

use super::*;

// ---------------------------------------------------------------------------
// Null and Memory: tokio-paced.

/// Builds a capture and playback paced by 20 ms tokio intervals. With a
/// `source`, capture plays it once then silence, waiting for the consumer;
/// without, capture is silence and frames are dropped when nobody reads.
/// Playback drains one frame per tick into `heard` (or nowhere).
pub(super) fn paced(
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

pub(super) fn frame_interval() -> tokio::time::Interval {
    tokio::time::interval(Duration::from_millis(u64::from(FRAME_MS)))
}

pub(super) async fn pace_capture(rate: u32, source: Option<Vec<i16>>, tx: mpsc::Sender<Vec<i16>>) {
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

pub(super) async fn pace_playback(queue: Weak<PlayQueue>, heard: Option<Arc<Mutex<Vec<i16>>>>) {
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
