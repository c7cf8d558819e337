//! The demo's timeline: what customers, colleagues and the autopilot did, in
//! order, with the (virtual, in headless runs) time since the start.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub at: Duration,
    pub who: String,
    pub text: String,
}

impl Entry {
    /// `  02:13.4  Ann Lee      calls support (phone)`
    pub fn line(&self) -> String {
        let ms = self.at.as_millis();
        format!(
            "{:02}:{:02}.{}  {:<14} {}",
            ms / 60_000,
            (ms / 1000) % 60,
            (ms / 100) % 10,
            self.who,
            self.text
        )
    }
}

/// A cloneable writer of timeline entries.
#[derive(Debug, Clone)]
pub struct Timeline {
    tx: mpsc::UnboundedSender<Entry>,
    start: Instant,
}

impl Timeline {
    pub fn new(start: Instant) -> (Timeline, mpsc::UnboundedReceiver<Entry>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Timeline { tx, start }, rx)
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    pub fn log(&self, who: &str, text: impl Into<String>) {
        let e = Entry {
            at: Instant::now().saturating_duration_since(self.start),
            who: who.to_string(),
            text: text.into(),
        };
        tracing::info!(target: "ccdesk::demo", "{}", e.line());
        let _ = self.tx.send(e);
    }
}
