//! Reports from the session records, with the wallboard's definitions: each
//! row feeds its sessions to the same [`Kpi`] the wallboard uses, as the
//! center would have when they happened (offered at arrival, answered at
//! the first accept, abandoned at an end with no accept, handled at the
//! end of an answered session, after-call work when it ended), so a figure
//! means the same on the wallboard, in `ccdesk report` and in the console.

use std::collections::BTreeMap;

use crate::protocol::{ReportBy, ReportRow};

use super::kpi::{Kpi, OpenTime};
use super::records::SessionRecord;

/// The rows of a report over `records` (the sessions that ended in the
/// period), by `by`; `threshold_ms` is the service level's threshold.
/// Rows are in key order; `-` holds sessions without one.
pub fn report(records: &[SessionRecord], by: ReportBy, threshold_ms: u64) -> Vec<ReportRow> {
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for r in records.iter().filter(|r| counts(r)) {
        for key in keys(r, by) {
            rows.entry(key)
                .or_insert_with(|| Row::new(threshold_ms))
                .add(r);
        }
    }
    rows.into_iter().map(|(key, row)| row.finish(key)).collect()
}

/// Only inbound customer sessions count, as on the wallboard.
fn counts(r: &SessionRecord) -> bool {
    r.direction == "inbound" && r.kind != "internal"
}

fn keys(r: &SessionRecord, by: ReportBy) -> Vec<String> {
    let none = || "-".to_string();
    match by {
        ReportBy::All => vec!["all".into()],
        ReportBy::Agent if r.agents.is_empty() => vec![none()],
        ReportBy::Agent => {
            let mut out: Vec<String> = Vec::with_capacity(r.agents.len());
            for a in &r.agents {
                if !out.contains(a) {
                    out.push(a.clone());
                }
            }
            out
        }
        ReportBy::Group => vec![r.skill_group.clone().unwrap_or_else(none)],
        ReportBy::Hour => vec![hour(r.created_at)],
        ReportBy::Wrapup => vec![r.wrap_up_code.clone().unwrap_or_else(none)],
    }
}

/// The UTC hour of a unix-ms time: `2026-12-01T14`.
fn hour(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    let s = humantime::format_rfc3339_seconds(t).to_string();
    s.get(..13).map_or(s.clone(), str::to_string)
}

struct Row {
    kpi: Kpi,
    transfers: u64,
    codes: BTreeMap<String, u64>,
}

impl Row {
    fn new(threshold_ms: u64) -> Row {
        Row {
            kpi: Kpi::new(threshold_ms, 0, u64::MAX),
            transfers: 0,
            codes: BTreeMap::new(),
        }
    }

    /// One session, fed as the center feeds the wallboard.
    fn add(&mut self, r: &SessionRecord) {
        self.kpi.offered(r.created_at);
        match r.accepted_at {
            Some(at) => {
                self.kpi.answered(r.created_at, at);
                self.kpi.handled(r.ended_at.saturating_sub(at));
                if let Some(acw) = r.acw_ms {
                    self.kpi.after_call_work(acw);
                }
            }
            None => self.kpi.abandoned(r.created_at, r.ended_at),
        }
        self.transfers += r.transfers.len() as u64;
        if let Some(c) = &r.wrap_up_code {
            *self.codes.entry(c.clone()).or_default() += 1;
        }
    }

    fn finish(self, key: String) -> ReportRow {
        let k = self.kpi.figures_with(0, &OpenTime::default());
        ReportRow {
            key,
            offered: k.offered,
            answered: k.answered,
            abandoned: k.abandoned,
            service_level: k.service_level,
            asa_ms: k.asa_ms,
            aht_ms: k.aht_ms,
            transfers: self.transfers,
            wrap_up_codes: self.codes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::records::TransferRecord;

    const S: u64 = 1000;
    /// 2026-12-01 14:00:00 UTC.
    const T: u64 = 1_796_133_600_000;

    fn rec(id: &str, created: u64, accepted: Option<u64>, ended: u64) -> SessionRecord {
        SessionRecord {
            session_id: id.into(),
            kind: "phone".into(),
            direction: "inbound".into(),
            skill_group: Some("support".into()),
            agents: accepted
                .map(|_| vec!["alice".to_string()])
                .unwrap_or_default(),
            caller: None,
            callee: None,
            created_at: created,
            offered_at: Some(created),
            accepted_at: accepted,
            ended_at: ended,
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
            recording_pauses: vec![],
        }
    }

    /// A small day, figured by hand:
    /// - a: waits 10 s, answered by alice, talks 100 s, 20 s of after-call
    ///   work, code Resolved;
    /// - b: waits 30 s (over the 20 s threshold), answered by bob, talks
    ///   50 s, transferred to alice (both handled it), code Escalated;
    /// - c: gives up after 5 s (within the threshold: counts neither way);
    /// - d: gives up after 40 s (after the threshold: counts against);
    /// - an outbound call and an internal call, which do not count.
    fn day() -> Vec<SessionRecord> {
        let mut a = rec("a", T, Some(T + 10 * S), T + 110 * S);
        a.acw_ms = Some(20 * S);
        a.wrap_up_code = Some("Resolved".into());
        let mut b = rec("b", T + 3600 * S, Some(T + 3630 * S), T + 3680 * S);
        b.agents = vec!["bob".into(), "alice".into()];
        b.transfers = vec![TransferRecord {
            from: "bob".into(),
            to_user: Some("alice".into()),
            to_skill_group: None,
            to_phone_number: None,
            at: T + 3650 * S,
            consult: None,
        }];
        b.wrap_up_code = Some("Escalated".into());
        let c = rec("c", T + 60 * S, None, T + 65 * S);
        let mut d = rec("d", T + 3700 * S, None, T + 3740 * S);
        d.skill_group = Some("sales".into());
        let mut out = rec("o", T, Some(T + 5 * S), T + 50 * S);
        out.direction = "outbound".into();
        let mut internal = rec("i", T, Some(T + 5 * S), T + 50 * S);
        internal.kind = "internal".into();
        internal.direction = "internal".into();
        vec![a, b, c, d, out, internal]
    }

    #[test]
    fn the_whole_day_by_hand() {
        let rows = report(&day(), ReportBy::All, 20 * S);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!((r.offered, r.answered, r.abandoned), (4, 2, 2));
        // Answered in threshold: a. Counted: a, b and d (c gave up within
        // the threshold): 1 / 3.
        let sl = r.service_level.expect("service level");
        assert!((sl - 100.0 / 3.0).abs() < 1e-9, "{sl}");
        // ASA: (10 + 30) / 2 = 20 s. AHT: (100 + 20 + 50) / 2 = 85 s.
        assert_eq!((r.asa_ms, r.aht_ms), (Some(20 * S), Some(85 * S)));
        assert_eq!(r.transfers, 1);
        assert_eq!(
            r.wrap_up_codes,
            BTreeMap::from([("Escalated".into(), 1), ("Resolved".into(), 1)])
        );
    }

    #[test]
    fn by_agent_group_hour_and_code() {
        let rows = report(&day(), ReportBy::Agent, 20 * S);
        let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, ["-", "alice", "bob"]);
        // alice: a and b; bob: b; nobody: c and d (abandoned).
        assert_eq!((rows[1].offered, rows[1].answered), (2, 2));
        assert_eq!((rows[2].offered, rows[2].asa_ms), (1, Some(30 * S)));
        assert_eq!((rows[0].offered, rows[0].abandoned), (2, 2));
        let rows = report(&day(), ReportBy::Group, 20 * S);
        let keys: Vec<(&str, u64)> = rows.iter().map(|r| (r.key.as_str(), r.offered)).collect();
        assert_eq!(keys, [("sales", 1), ("support", 3)]);
        let rows = report(&day(), ReportBy::Hour, 20 * S);
        let keys: Vec<(&str, u64)> = rows.iter().map(|r| (r.key.as_str(), r.offered)).collect();
        assert_eq!(keys, [("2026-12-01T14", 2), ("2026-12-01T15", 2)]);
        let rows = report(&day(), ReportBy::Wrapup, 20 * S);
        let keys: Vec<(&str, u64)> = rows.iter().map(|r| (r.key.as_str(), r.offered)).collect();
        assert_eq!(keys, [("-", 2), ("Escalated", 1), ("Resolved", 1)]);
    }

    #[test]
    fn nothing_gives_no_rows_and_no_figures() {
        assert!(report(&[], ReportBy::All, 20 * S).is_empty());
        let only_abandoned_early = vec![rec("c", T, None, T + 2 * S)];
        let r = &report(&only_abandoned_early, ReportBy::All, 20 * S)[0];
        assert_eq!((r.service_level, r.asa_ms, r.aht_ms), (None, None, None));
    }
}
