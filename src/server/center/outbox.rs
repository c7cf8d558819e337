//! What the center sends, and what it holds back until the records it
//! depends on are durable.
//!
//! A command that writes records (a session ended, after-call work ended)
//! hands them to the records writer and goes on; the reply and the events
//! of that command are held until the writer reports those records
//! durable, so nobody hears of an end that a crash could still lose, and
//! no disk latency sits in the actor. Each connection's frames keep their
//! order: once one is held, the frames after it wait behind it, while other
//! connections are served at once.

use std::collections::{HashMap, VecDeque};

use super::*;
use crate::server::writer::{Durable, RecordWriter};

/// A frame waiting for the writer.
enum Pending {
    Ready(Outbound),
    /// A request's reply that depends on records: success once they are
    /// written, `internal` naming the session if one could not be.
    Reply {
        id: Value,
        data: Option<Value>,
        waits: Vec<(u64, String)>,
    },
}

struct Held {
    /// Sent once every ticket up to this one is done.
    gate: u64,
    frame: Pending,
}

#[derive(Default)]
pub(super) struct Outbox {
    /// Events queued by the command being handled.
    queued: Vec<(ConnId, Outbound)>,
    /// The highest record ticket of the command being handled (0: none).
    gate: u64,
    /// The records the current request's reply depends on: (ticket, session).
    reply_waits: Vec<(u64, String)>,
    /// Every ticket up to this one is done.
    durable: u64,
    /// Frames held, per connection, in order.
    held: HashMap<ConnId, VecDeque<Held>>,
    /// Tickets that failed and whose replies are not yet resolved.
    failed: HashMap<u64, String>,
}

impl Outbox {
    /// A new command (or timer batch) starts.
    pub(super) fn begin(&mut self) {
        self.gate = 0;
        self.reply_waits.clear();
    }

    /// The events queued so far, taken out (to send something before them).
    pub(super) fn take_queued(&mut self) -> Vec<(ConnId, Outbound)> {
        std::mem::take(&mut self.queued)
    }

    /// Put events taken out back, after any queued since.
    pub(super) fn requeue(&mut self, events: Vec<(ConnId, Outbound)>) {
        self.queued.extend(events);
    }
}

impl Center {
    /// Hand a write to the records writer; its ticket. The command's frames
    /// wait for it.
    pub(super) fn write_record(&mut self, w: Write) -> u64 {
        let sid = w.session_id().to_string();
        let ticket = match self.writer.as_mut() {
            Some(writer) => writer.submit(w),
            None => {
                // Not spawned (cannot happen in a running center): nothing
                // writes it.
                tracing::error!(session = %sid, "no records writer");
                0
            }
        };
        self.outbox.gate = self.outbox.gate.max(ticket);
        ticket
    }

    /// The reply to the request being handled waits for `ticket`; it is an
    /// `internal` error naming `sid` if that record cannot be written.
    pub(super) fn reply_after(&mut self, ticket: u64, sid: &str) {
        if ticket > 0 {
            self.outbox.reply_waits.push((ticket, sid.to_string()));
        }
    }

    /// Queue an event for after the reply.
    pub(super) fn queue(&mut self, conn: ConnId, msg: Outbound) {
        self.outbox.queued.push((conn, msg));
    }

    /// Send a frame now (a reply, ahead of the queued events), or hold it.
    pub(super) fn send_now(&mut self, conn: ConnId, msg: Outbound) {
        self.post(conn, Pending::Ready(msg));
    }

    /// The reply to a request.
    pub(super) fn reply(&mut self, conn: ConnId, id: Value, reply: Reply) {
        let waits = std::mem::take(&mut self.outbox.reply_waits);
        let frame = match reply {
            Ok(data) if !waits.is_empty() => Pending::Reply { id, data, waits },
            Ok(data) => Pending::Ready(text(Response::ok(id, data))),
            Err(e) => Pending::Ready(text(Response::error(id, &e))),
        };
        self.post(conn, frame);
    }

    fn post(&mut self, conn: ConnId, frame: Pending) {
        let gate = self.outbox.gate;
        if gate > self.outbox.durable || self.outbox.held.contains_key(&conn) {
            self.outbox
                .held
                .entry(conn)
                .or_default()
                .push_back(Held { gate, frame });
            return;
        }
        let msg = self.resolve(frame);
        self.deliver(conn, msg);
    }

    /// Send the queued events (held where they must wait).
    pub(super) fn flush(&mut self) {
        // Delivering can disconnect a slow peer, which can queue more events.
        while !self.outbox.queued.is_empty() {
            let batch = std::mem::take(&mut self.outbox.queued);
            for (conn, msg) in batch {
                self.post(conn, Pending::Ready(msg));
            }
        }
    }

    /// The writer's report: send what no longer has to wait.
    pub(super) fn records_durable(&mut self, d: Durable) {
        self.outbox.durable = self.outbox.durable.max(d.upto);
        for f in d.failed {
            let what = if f.session_id.is_empty() {
                f.error
            } else if f.user {
                format!(
                    "the change to user {} could not be written: {}",
                    f.session_id, f.error
                )
            } else {
                format!(
                    "session {} ended but its record could not be written: {}",
                    f.session_id, f.error
                )
            };
            self.outbox.failed.insert(f.ticket, what);
        }
        let durable = self.outbox.durable;
        let mut conns: Vec<ConnId> = self.outbox.held.keys().copied().collect();
        conns.sort_unstable();
        for conn in conns {
            let mut ready = Vec::new();
            if let Some(q) = self.outbox.held.get_mut(&conn) {
                while q.front().is_some_and(|h| h.gate <= durable) {
                    if let Some(h) = q.pop_front() {
                        ready.push(h.frame);
                    }
                }
                if q.is_empty() {
                    self.outbox.held.remove(&conn);
                }
            }
            for frame in ready {
                let msg = self.resolve(frame);
                self.deliver(conn, msg);
            }
        }
        // Replies still held wait behind other frames, and have their own
        // tickets: resolve those that are done before forgetting failures.
        let Outbox { held, failed, .. } = &mut self.outbox;
        for h in held.values_mut().flat_map(|q| q.iter_mut()) {
            let done = match &h.frame {
                Pending::Reply { waits, .. } => waits.iter().all(|(t, _)| *t <= durable),
                Pending::Ready(_) => false,
            };
            if done {
                let frame = std::mem::replace(&mut h.frame, Pending::Ready(Outbound::Close));
                h.frame = Pending::Ready(resolve_with(failed, frame));
            }
        }
        self.outbox.failed.retain(|t, _| *t > durable);
    }

    /// A connection went: nothing more is sent to it.
    pub(super) fn forget_held(&mut self, conn: ConnId) {
        self.outbox.held.remove(&conn);
    }

    fn resolve(&self, frame: Pending) -> Outbound {
        resolve_with(&self.outbox.failed, frame)
    }

    /// Start the records writer (from `spawn`, on the runtime).
    pub(super) fn start_writer(&mut self, me: mpsc::WeakUnboundedSender<Command>) {
        let Some(store) = self.store.take() else {
            return;
        };
        let report = Arc::new(move |d: Durable| {
            if let Some(tx) = me.upgrade() {
                let _ = tx.send(Command::RecordsDurable(d));
            }
        });
        self.writer = Some(RecordWriter::spawn(store, report));
    }
}

fn text(r: Response) -> Outbound {
    Outbound::Text(r.to_json().into())
}

fn resolve_with(failed: &HashMap<u64, String>, frame: Pending) -> Outbound {
    match frame {
        Pending::Ready(msg) => msg,
        Pending::Reply { id, data, waits } => {
            let errors: Vec<&str> = waits
                .iter()
                .filter_map(|(t, _)| failed.get(t).map(String::as_str))
                .collect();
            if errors.is_empty() {
                text(Response::ok(id, data))
            } else {
                text(Response::error(
                    id,
                    &ProtoError::internal(errors.join("; ")),
                ))
            }
        }
    }
}
