//! The center's clock. Timers use tokio's clock (paused in tests); wall-clock
//! timestamps are derived from it, so a test that advances tokio's clock
//! moves both.

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
    start_wall_ms: u64,
}

impl Clock {
    pub fn new() -> Clock {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        Clock {
            start: Instant::now(),
            start_wall_ms: wall.as_millis() as u64,
        }
    }
    pub fn instant(&self) -> Instant {
        Instant::now()
    }
    /// Unix milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.wall_ms(Instant::now())
    }
    /// Unix seconds.
    pub fn now_secs(&self) -> u64 {
        self.now_ms() / 1000
    }
    /// Unix milliseconds of an instant of this clock.
    pub fn wall_ms(&self, at: Instant) -> u64 {
        self.start_wall_ms + at.saturating_duration_since(self.start).as_millis() as u64
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}
