//! `Contact.history` and `Supervisor.report`: a contact's earlier sessions,
//! and the figures of a period, from the records, read off the actor (a
//! blocking task on a connection of its own), so a slow disk never holds
//! up the center. The answer goes straight to the connection, as
//! `Media.offer`'s does.

use super::*;
use crate::protocol::{HistoryEntry, HistoryParams, DEFAULT_HISTORY, MAX_HISTORY};

impl Center {
    pub(super) fn contact_history(
        &mut self,
        conn: ConnId,
        id: Value,
        p: &HistoryParams,
    ) -> Result<(), ProtoError> {
        let Some(c) = self.conns.get(&conn) else {
            return Err(ProtoError::unauthorized("log in first"));
        };
        let tx = c.tx.clone();
        let who = match (&p.phone_number, &p.user_id) {
            (Some(n), None) if !n.trim().is_empty() => n.trim().to_string(),
            (None, Some(u)) if !u.trim().is_empty() => u.trim().to_string(),
            _ => {
                return Err(ProtoError::bad_request(
                    "Contact.history needs exactly one of `phoneNumber` and `userId`",
                ))
            }
        };
        if who.chars().count() > 128 {
            return Err(ProtoError::bad_request(
                "Contact.history: the contact is longer than 128 characters",
            ));
        }
        let limit = p.limit.unwrap_or(DEFAULT_HISTORY);
        if limit == 0 || limit > MAX_HISTORY {
            return Err(ProtoError::bad_request(format!(
                "Contact.history: parameter `limit` must be 1 to {MAX_HISTORY}, not {limit}"
            )));
        }
        let Some(reader) = self.reader.clone() else {
            return Err(ProtoError::invalid_state(
                "this server keeps no records to read history from",
            ));
        };
        answer_from_records(reader, tx, id, "Contact.history", move |r| {
            let recs = r.history(&who, limit as usize)?;
            let sessions: Vec<HistoryEntry> = recs.into_iter().map(entry).collect();
            Ok(json!({ "sessions": sessions }))
        });
        Ok(())
    }
}

impl Center {
    /// `Supervisor.report`: the figures of the sessions that ended since
    /// `since` (default: since the wallboard's day started).
    pub(super) fn report(
        &mut self,
        conn: ConnId,
        id: Value,
        p: &ReportParams,
    ) -> Result<(), ProtoError> {
        let Some(c) = self.conns.get(&conn) else {
            return Err(ProtoError::unauthorized("log in first"));
        };
        let tx = c.tx.clone();
        let Some(reader) = self.reader.clone() else {
            return Err(ProtoError::invalid_state(
                "this server keeps no records to report from",
            ));
        };
        let now = self.clock.now_ms();
        let since = p
            .since
            .unwrap_or_else(|| self.board.kpi_at(now).day_start());
        let by = p.by;
        let threshold_ms = self.cfg.center.service_level_threshold * 1000;
        answer_from_records(reader, tx, id, "Supervisor.report", move |r| {
            let recs = r.ended_since(since)?;
            let rows = crate::server::report::report(&recs, by, threshold_ms);
            Ok(json!({ "since": since, "rows": rows }))
        });
        Ok(())
    }
}

type Reader = crate::server::records::SharedReader;

/// Answer request `id` of `method` on `tx` with what `read` makes of the
/// records, read on a blocking task; a read that fails is an `internal`
/// error naming why.
fn answer_from_records(
    reader: Reader,
    tx: mpsc::Sender<Outbound>,
    id: Value,
    method: &'static str,
    read: impl FnOnce(&mut dyn crate::server::records::RecordReader) -> anyhow::Result<Value>
        + Send
        + 'static,
) {
    tokio::task::spawn_blocking(move || {
        let mut guard = reader
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let resp = match read(guard.as_mut()) {
            Ok(v) => Response::ok(id, Some(v)),
            Err(e) => {
                tracing::warn!(error = %e, "{method}: the records could not be read");
                Response::error(
                    id,
                    &ProtoError::new(
                        ErrorCode::Internal,
                        format!("the records could not be read: {e}"),
                    ),
                )
            }
        };
        drop(guard);
        let _ = tx.blocking_send(Outbound::Text(resp.to_json().into()));
    });
}

fn entry(r: SessionRecord) -> HistoryEntry {
    HistoryEntry {
        talk_ms: r.accepted_at.map(|a| r.ended_at.saturating_sub(a)),
        session_id: r.session_id,
        kind: r.kind,
        direction: r.direction,
        skill_group_id: r.skill_group,
        started_at: r.created_at,
        ended_at: r.ended_at,
        agents: r.agents,
        close_by: r.close_by,
        wrap_up_code: r.wrap_up_code,
        wrap_up_notes: r.wrap_up_notes,
    }
}
