//! The records writer: session records are written off the center's task,
//! in batches (group commit).
//!
//! The center hands each write to [`RecordWriter::submit`] and gets a ticket
//! (a number that grows with every write). The writer's task takes every
//! write waiting, writes them in one transaction on a blocking thread
//! (`RecordStore::write_batch`: one fsync for the batch), and reports the
//! highest ticket now durable, with the tickets that failed, through its
//! [`Report`] callback. The center holds back whatever tells anyone that a
//! session ended until its ticket is durable, so no disk latency sits in the
//! routing path and no acknowledged end is lost if the process is killed.
//!
//! A batch that fails as a whole is written again one write at a time, so
//! that the good records are kept and each failure names its session. If
//! the store panics, every write of that batch and every later one is
//! reported failed (nothing waits for a report that never comes).

use std::sync::Arc;

use tokio::sync::mpsc;

use super::records::{RecordStore, Write};

/// The most writes in one transaction (more wait for the next).
pub const MAX_BATCH: usize = 1024;

/// What the writer reports after each batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Durable {
    /// Every ticket up to this one is done (written, or failed below).
    pub upto: u64,
    /// The tickets that could not be written, with the session and why.
    pub failed: Vec<Failed>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub ticket: u64,
    /// The session the write was about (a user's id for a user's change).
    pub session_id: String,
    /// A change to a user, not a session's record.
    pub user: bool,
    pub error: String,
}

/// Where the writer sends its [`Durable`] reports.
pub type Report = Arc<dyn Fn(Durable) + Send + Sync>;

/// The center's handle on the writer.
pub struct RecordWriter {
    tx: mpsc::UnboundedSender<(u64, Write)>,
    next: u64,
}

impl RecordWriter {
    /// Start the writer's task (on the current tokio runtime) over `store`.
    pub fn spawn(store: Box<dyn RecordStore>, report: Report) -> RecordWriter {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(store, rx, report));
        RecordWriter { tx, next: 0 }
    }

    /// Queue a write; its ticket. A writer that has stopped (its task ended
    /// with the runtime) reports nothing for it.
    pub fn submit(&mut self, w: Write) -> u64 {
        self.next += 1;
        if self.tx.send((self.next, w)).is_err() {
            tracing::error!(ticket = self.next, "the records writer has stopped");
        }
        self.next
    }
}

async fn run(
    store: Box<dyn RecordStore>,
    mut rx: mpsc::UnboundedReceiver<(u64, Write)>,
    report: Report,
) {
    let mut store = Some(store);
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(w) => batch.push(w),
                Err(_) => break,
            }
        }
        let upto = batch.last().map_or(0, |(t, _)| *t);
        let every: Vec<(u64, String, bool)> = batch
            .iter()
            .map(|(t, w)| (*t, w.session_id().to_string(), w.is_user()))
            .collect();
        let all_failed = |why: &str| {
            every
                .iter()
                .map(|(ticket, sid, user)| Failed {
                    ticket: *ticket,
                    session_id: sid.clone(),
                    user: *user,
                    error: why.to_string(),
                })
                .collect::<Vec<_>>()
        };
        let Some(mut s) = store.take() else {
            report(Durable {
                upto,
                failed: all_failed("the records writer failed earlier"),
            });
            continue;
        };
        // On a blocking thread: tokio's paused clock does not move on while
        // it runs, so tests in virtual time see writes as instant.
        let done = tokio::task::spawn_blocking(move || {
            let failed = write(s.as_mut(), &batch);
            (s, failed)
        })
        .await;
        let failed = match done {
            Ok((s, failed)) => {
                store = Some(s);
                failed
            }
            Err(e) => {
                // The store panicked: nothing more can be written.
                tracing::error!(error = %e, "the records writer failed");
                all_failed("the records writer failed")
            }
        };
        report(Durable { upto, failed });
    }
}

/// Write a batch in one go; if that fails, one by one. The failures.
fn write(store: &mut dyn RecordStore, batch: &[(u64, Write)]) -> Vec<Failed> {
    let writes: Vec<&Write> = batch.iter().map(|(_, w)| w).collect();
    if store.write_batch(&writes).is_ok() {
        return Vec::new();
    }
    let mut failed = Vec::new();
    for (ticket, w) in batch {
        if let Err(e) = store.write_batch(&[w]) {
            tracing::error!(session = %w.session_id(), error = %e, "could not write the session record");
            failed.push(Failed {
                ticket: *ticket,
                session_id: w.session_id().to_string(),
                user: w.is_user(),
                error: format!("{e:#}"),
            });
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::records::SessionRecord;
    use std::sync::Mutex;

    /// A store that fails the sessions named `bad*` and counts batches.
    #[derive(Default)]
    struct Picky {
        saved: Arc<Mutex<Vec<String>>>,
        batches: Arc<Mutex<Vec<usize>>>,
    }

    impl RecordStore for Picky {
        fn save(&mut self, rec: &SessionRecord) -> anyhow::Result<()> {
            if rec.session_id.starts_with("bad") {
                anyhow::bail!("disk full");
            }
            if let Ok(mut s) = self.saved.lock() {
                s.push(rec.session_id.clone());
            }
            Ok(())
        }
        fn add_acw(&mut self, _: &str, _: u64) -> anyhow::Result<()> {
            Ok(())
        }
        fn set_wrap_up(&mut self, _: &str, _: &str, _: Option<&str>) -> anyhow::Result<()> {
            Ok(())
        }
        fn write_batch(&mut self, batch: &[&Write]) -> anyhow::Result<()> {
            if let Ok(mut b) = self.batches.lock() {
                b.push(batch.len());
            }
            // All or nothing, as a transaction would be.
            if batch.iter().any(|w| w.session_id().starts_with("bad")) {
                anyhow::bail!("disk full");
            }
            for w in batch {
                if let Write::Save(r) = w {
                    self.save(r)?;
                }
            }
            Ok(())
        }
    }

    fn record(id: &str) -> SessionRecord {
        SessionRecord {
            session_id: id.into(),
            kind: "phone".into(),
            direction: "inbound".into(),
            skill_group: None,
            agents: vec![],
            caller: None,
            callee: None,
            created_at: 0,
            offered_at: None,
            accepted_at: None,
            ended_at: 0,
            hold_ms: 0,
            acw_ms: None,
            close_by: "client".into(),
            main_reason: None,
            sub_reason: None,
            missed_offers: 0,
            transfers: vec![],
            recording: None,
            transcript: vec![],
            uui: None,
            wrap_up_code: None,
            wrap_up_notes: None,
            attributes: Default::default(),
            consult_of: None,
            callback: None,
            recording_pauses: Vec::new(),
        }
    }

    /// A store whose disk driver panics.
    struct Panicky;
    impl RecordStore for Panicky {
        fn save(&mut self, _: &SessionRecord) -> anyhow::Result<()> {
            panic!("the driver fell over")
        }
        fn add_acw(&mut self, _: &str, _: u64) -> anyhow::Result<()> {
            Ok(())
        }
        fn set_wrap_up(&mut self, _: &str, _: &str, _: Option<&str>) -> anyhow::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_panicking_store_fails_every_write_then_and_after() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let report: Report = Arc::new(move |d| {
            let _ = tx.send(d);
        });
        let mut w = RecordWriter::spawn(Box::new(Panicky), report);
        for id in ["s1", "s2"] {
            w.submit(Write::Save(Box::new(record(id))));
        }
        let d = rx.recv().await.expect("a report");
        assert_eq!(d.upto, 2);
        let failed: Vec<(u64, &str)> = d
            .failed
            .iter()
            .map(|f| (f.ticket, f.session_id.as_str()))
            .collect();
        assert_eq!(failed, vec![(1, "s1"), (2, "s2")]);
        // Later writes are answered too, failed, instead of never.
        w.submit(Write::AddAcw {
            session_id: "s3".into(),
            acw_ms: 5,
        });
        let d = rx.recv().await.expect("a report");
        assert_eq!(d.upto, 3);
        assert_eq!(d.failed.len(), 1);
        assert!(d.failed[0].error.contains("failed earlier"));
    }

    #[tokio::test]
    async fn writes_waiting_together_go_in_one_batch_and_failures_are_named() {
        let store = Picky::default();
        let saved = store.saved.clone();
        let batches = store.batches.clone();
        let (tx, mut rx) = mpsc::unbounded_channel();
        let report: Report = Arc::new(move |d| {
            let _ = tx.send(d);
        });
        // Queue before the task runs: all of them wait together.
        let mut w = RecordWriter::spawn(Box::new(store), report);
        let tickets: Vec<u64> = ["s1", "bad2", "s3"]
            .iter()
            .map(|id| w.submit(Write::Save(Box::new(record(id)))))
            .collect();
        assert_eq!(tickets, vec![1, 2, 3]);
        let d = rx.recv().await.expect("a report");
        assert_eq!(d.upto, 3);
        assert_eq!(d.failed.len(), 1);
        assert_eq!(d.failed[0].ticket, 2);
        assert_eq!(d.failed[0].session_id, "bad2");
        assert!(d.failed[0].error.contains("disk full"));
        // The good ones were kept.
        assert_eq!(*saved.lock().unwrap(), vec!["s1".to_string(), "s3".into()]);
        // One batch of three, then one by one.
        assert_eq!(*batches.lock().unwrap(), vec![3, 1, 1, 1]);
        // Later writes get later tickets and their own report.
        assert_eq!(w.submit(Write::Save(Box::new(record("s4")))), 4);
        let d = rx.recv().await.expect("a report");
        assert_eq!(
            d,
            Durable {
                upto: 4,
                failed: vec![]
            }
        );
    }
}
