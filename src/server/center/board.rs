//! The wallboard side of the center: today's figures (fed as things happen)
//! and `Supervisor.subscribe` (a snapshot, then a delta after every command
//! or timer that changed something a subscriber sees).
//!
//! Deltas are found by comparing rows with the rows last sent, so no code
//! path that changes an agent or a session can forget to publish; only the
//! rows of the agents, sessions and groups the command changed are built
//! and compared (the center's `Tracked` maps say which), so a command costs
//! the same on a floor of ten seats or ten thousand. The comparison only
//! runs while someone is subscribed.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{Local, TimeZone};

use super::{Center, ConnId, TimerKind};
use crate::protocol::*;
use crate::server::kpi::{Kpi, OpenTime};
use crate::server::session::Session;

const MINUTE_MS: u64 = 60_000;

/// What the center keeps for the wallboard.
pub(super) struct Board {
    pub kpi: Kpi,
    /// Connections subscribed, in order.
    pub subscribers: Vec<ConnId>,
    /// Rows as last sent (empty while nobody is subscribed).
    agents: HashMap<String, BoardAgent>,
    groups: HashMap<String, BoardGroup>,
    sessions: HashMap<String, BoardSession>,
    kpis: Option<Kpis>,
    point: Option<HistoryPoint>,
    /// Every seat's status and since when (unix ms), as last seen; seats
    /// never seen are offline since the start.
    seen: HashMap<String, (AgentStatus, u64)>,
    /// The seen intervals, summed for occupancy.
    open: OpenTime,
    queue_seen: u32,
    /// The minute timer is set (while someone is subscribed).
    ticking: bool,
}

/// Local midnight to midnight around `ms` (unix ms); UTC days if the local
/// time cannot be worked out.
pub(super) fn local_day(ms: u64) -> (u64, u64) {
    let utc = || {
        let start = ms - ms % 86_400_000;
        (start, start + 86_400_000)
    };
    let Some(t) = Local.timestamp_millis_opt(ms as i64).single() else {
        return utc();
    };
    let date = t.date_naive();
    let midnight = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|n| Local.from_local_datetime(&n).earliest())
            .map(|t| t.timestamp_millis().max(0) as u64)
    };
    match (midnight(date), date.succ_opt().and_then(midnight)) {
        (Some(a), Some(b)) if a <= ms && ms < b => (a, b),
        _ => utc(),
    }
}

impl Board {
    pub fn new(threshold_s: u64, now_ms: u64) -> Board {
        let (start, end) = local_day(now_ms);
        Board {
            kpi: Kpi::new(threshold_s.saturating_mul(1000), start, end),
            subscribers: Vec::new(),
            agents: HashMap::new(),
            groups: HashMap::new(),
            sessions: HashMap::new(),
            kpis: None,
            point: None,
            seen: HashMap::new(),
            open: OpenTime::default(),
            queue_seen: 0,
            ticking: false,
        }
    }

    /// The figures, rolled over to a new day first when midnight has passed.
    pub fn kpi_at(&mut self, now_ms: u64) -> &mut Kpi {
        if now_ms >= self.kpi.day_end() {
            let (start, end) = local_day(now_ms);
            self.kpi.roll_day(start, end);
            // Every interval still open began before the new day.
            self.open.restart_at(self.kpi.day_start());
        }
        &mut self.kpi
    }

    /// Today's figures at `now_ms`.
    fn figures(&mut self, now_ms: u64) -> Kpis {
        self.kpi_at(now_ms);
        self.kpi.figures_with(now_ms, &self.open)
    }
}

/// The kpis without the figure that moves with the clock alone, for
/// deciding whether a delta must carry them.
fn counters(k: &Kpis) -> Kpis {
    Kpis {
        occupancy: None,
        ..k.clone()
    }
}

impl Center {
    // ----- rows -----------------------------------------------------------

    fn board_agent(&self, id: &str) -> Option<BoardAgent> {
        let a = self.agents.get(id)?;
        Some(BoardAgent {
            user_id: a.id.clone(),
            name: self.users.get(id).and_then(|u| u.name),
            role: a.role.as_str().into(),
            skill_groups: a.groups.clone(),
            status: a.status,
            rest_reason: a.rest_reason.clone(),
            status_since: self.clock.wall_ms(a.status_since),
            connected: !a.tabs.is_empty(),
            session_id: a.active.clone().or_else(|| a.chats.first().cloned()),
            offer_id: a.offer.clone(),
            help: a.help.clone(),
        })
    }

    pub(super) fn board_group(&self, id: &str) -> BoardGroup {
        let q = self.queues.stats(id);
        let cfg = self.cfg.skill_group(id);
        BoardGroup {
            skill_group_id: id.to_string(),
            name: cfg.and_then(|g| g.name.clone()),
            waiting: q.waiting,
            oldest_since: q.oldest_since,
            free: self.floor.free(id),
            staffed: self.floor.staffed(id),
            overflow_in: q.overflow_in,
            overflow_to: cfg.and_then(|g| g.overflow_to.clone()),
            overflow_after: cfg.and_then(|g| g.overflow_after),
            max_wait: cfg.and_then(|g| g.max_wait),
        }
    }

    fn board_session(s: &Session) -> BoardSession {
        let c = &s.call_in;
        let caller = match s.kind {
            CallType::Internal => s.agent.clone().filter(|_| s.caller_agent.is_some()),
            _ => None,
        }
        .or_else(|| c.nickname.clone())
        .or_else(|| match s.direction {
            Direction::Outbound => c
                .protected_callee
                .clone()
                .or_else(|| c.callee_phone_number.clone()),
            _ => c
                .protected_caller
                .clone()
                .or_else(|| c.caller_phone_number.clone()),
        })
        .or_else(|| c.user_id.clone());
        BoardSession {
            session_id: s.id.clone(),
            kind: s.kind,
            state: s.state,
            direction: s.direction,
            user_id: s.seat(),
            skill_group_id: s.group.clone(),
            caller,
            started_at: s.created_ms,
            accepted_at: s.accepted_ms,
            priority: s.queue_key.priority(),
            overflow_to: s.overflow.clone(),
        }
    }

    /// The whole wallboard as it stands.
    pub(super) fn wallboard(&mut self) -> Wallboard {
        let now_ms = self.clock.now_ms();
        let mut agents: Vec<BoardAgent> = self
            .agents
            .keys()
            .filter_map(|id| self.board_agent(id))
            .collect();
        agents.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        let groups: Vec<BoardGroup> = self
            .cfg
            .skill_groups
            .iter()
            .map(|g| self.board_group(&g.id))
            .collect();
        let mut sessions: Vec<BoardSession> = self
            .sessions
            .values()
            .filter(|s| !s.is_ended())
            .map(Center::board_session)
            .collect();
        sessions.sort_by(|a, b| (a.started_at, &a.session_id).cmp(&(b.started_at, &b.session_id)));
        let kpis = self.board.figures(now_ms);
        Wallboard {
            agents,
            groups,
            sessions,
            kpis,
            history: self.board.kpi.history(now_ms),
        }
    }

    // ----- what happens -----------------------------------------------------

    /// Feed the figures what changed that no single call site reports: the
    /// queue length and the status intervals of the seats this command
    /// changed. Runs after every command and timer.
    pub(super) fn observe(&mut self) {
        let now_ms = self.clock.now_ms();
        let day_start = self.board.kpi_at(now_ms).day_start();
        let waiting = self.queues.waiting() as u32;
        let mut closed = Vec::new();
        for id in &self.changes.agents {
            let Some(a) = self.agents.get(id) else {
                continue;
            };
            let now = (a.status, self.clock.wall_ms(a.status_since));
            let before = self.board.seen.insert(id.clone(), now);
            if before == Some(now) {
                continue;
            }
            if let Some((st, from)) = before {
                closed.push((st, from, now.1));
                self.board.open.close(st, from.max(day_start));
            }
            self.board.open.open(now.0, now.1.max(day_start));
        }
        let queue_changed = waiting != self.board.queue_seen;
        self.board.queue_seen = waiting;
        let kpi = self.board.kpi_at(now_ms);
        for (st, from, to) in closed {
            kpi.agent_time(st, from, to);
        }
        if queue_changed {
            kpi.queue_length(waiting, now_ms);
        }
    }

    /// An inbound customer session arrived.
    pub(super) fn kpi_offered(&mut self) {
        let now = self.clock.now_ms();
        self.board.kpi_at(now).offered(now);
    }

    /// A session was accepted for the first time.
    pub(super) fn kpi_answered(&mut self, sid: &str) {
        let now = self.clock.now_ms();
        if let Some(s) = self.sessions.get(sid).filter(|s| counts(s)) {
            let arrived = s.created_ms;
            self.board.kpi_at(now).answered(arrived, now);
        }
    }

    /// A session ended.
    pub(super) fn kpi_ended(&mut self, sid: &str) {
        let now = self.clock.now_ms();
        let Some(s) = self.sessions.get(sid).filter(|s| counts(s)) else {
            return;
        };
        let (arrived, accepted) = (s.created_ms, s.accepted_ms);
        let kpi = self.board.kpi_at(now);
        match accepted {
            Some(at) => kpi.handled(now.saturating_sub(at)),
            None => kpi.abandoned(arrived, now),
        }
    }

    pub(super) fn kpi_after_call_work(&mut self, ms: u64) {
        let now = self.clock.now_ms();
        self.board.kpi_at(now).after_call_work(ms);
    }

    // ----- subscribers ------------------------------------------------------

    pub(super) fn subscribe(&mut self, conn: ConnId) -> Wallboard {
        let board = self.wallboard();
        if self.board.subscribers.is_empty() {
            // Nothing was sent yet: the rows last sent are this snapshot.
            self.board.record(board.clone());
        }
        if !self.board.subscribers.contains(&conn) {
            self.board.subscribers.push(conn);
        }
        if !self.board.ticking {
            self.schedule_board_minute();
        }
        board
    }

    pub(super) fn unsubscribe(&mut self, conn: ConnId) {
        self.board.subscribers.retain(|c| *c != conn);
        if self.board.subscribers.is_empty() {
            self.board.agents.clear();
            self.board.groups.clear();
            self.board.sessions.clear();
            self.board.kpis = None;
            self.board.point = None;
        }
    }

    fn schedule_board_minute(&mut self) {
        self.board.ticking = true;
        let now = self.clock.now_ms();
        let wait = MINUTE_MS - now % MINUTE_MS;
        self.schedule(Duration::from_millis(wait), TimerKind::BoardMinute);
    }

    /// The minute timer: the history moves on and occupancy is refreshed.
    pub(super) fn board_minute(&mut self) {
        self.board.ticking = false;
        if self.board.subscribers.is_empty() {
            return;
        }
        self.board.kpis = None; // send the figures whatever changed
        self.schedule_board_minute();
    }

    /// Send subscribers what this command changed: the rows of the agents,
    /// groups and sessions it touched that differ from those last sent.
    pub(super) fn publish(&mut self) {
        if self.board.subscribers.is_empty() {
            return;
        }
        let now_ms = self.clock.now_ms();
        let mut ids: Vec<&String> = self.changes.agents.iter().collect();
        ids.sort();
        let removed: Vec<String> = ids
            .iter()
            .filter(|id| !self.agents.contains_key(id.as_str()))
            .map(|id| id.to_string())
            .collect();
        let agents: Vec<BoardAgent> = ids
            .into_iter()
            .filter_map(|id| self.board_agent(id))
            .collect();
        let groups: Vec<BoardGroup> = self
            .cfg
            .skill_groups
            .iter()
            .filter(|g| self.changes.groups.contains(&g.id))
            .map(|g| self.board_group(&g.id))
            .collect();
        let mut sessions = Vec::new();
        let mut gone = Vec::new();
        for sid in &self.changes.sessions {
            match self.sessions.get(sid).filter(|s| !s.is_ended()) {
                Some(s) => sessions.push(Center::board_session(s)),
                None => gone.push(sid.clone()),
            }
        }
        sessions.sort_by(|a, b| (a.started_at, &a.session_id).cmp(&(b.started_at, &b.session_id)));
        let kpis = self.board.figures(now_ms);
        let point = self.board.kpi.history(now_ms).pop();
        let d = self
            .board
            .changed_rows(agents, removed, groups, sessions, gone, kpis, point);
        if !d.is_empty() {
            let subs = self.board.subscribers.clone();
            self.emit_to_conns(&subs, &Event::Wallboard(d));
        }
    }
}

impl Board {
    /// Take these rows (the changed ones) as sent; what differs from the
    /// rows sent before. `gone`: sessions that ended or went away.
    #[allow(clippy::too_many_arguments)]
    fn changed_rows(
        &mut self,
        agents: Vec<BoardAgent>,
        removed: Vec<String>,
        groups: Vec<BoardGroup>,
        sessions: Vec<BoardSession>,
        gone: Vec<String>,
        kpis: Kpis,
        point: Option<HistoryPoint>,
    ) -> WallboardDelta {
        let mut ended: Vec<String> = gone
            .into_iter()
            .filter(|id| self.sessions.remove(id).is_some())
            .collect();
        ended.sort();
        let mut d = WallboardDelta {
            agents: changed(&mut self.agents, agents, |a| &a.user_id),
            groups: changed(&mut self.groups, groups, |g| &g.skill_group_id),
            sessions: changed(&mut self.sessions, sessions, |s| &s.session_id),
            ended,
            removed: removed
                .into_iter()
                .filter(|id| self.agents.remove(id).is_some())
                .collect(),
            ..WallboardDelta::default()
        };
        if self.kpis.as_ref().map(counters) != Some(counters(&kpis)) {
            self.kpis = Some(kpis.clone());
            d.kpis = Some(kpis);
        }
        if point != self.point {
            self.point = point.clone();
            d.history.extend(point);
        }
        d
    }

    /// Take `w` as the rows sent; what differs from the rows sent before.
    fn record(&mut self, w: Wallboard) -> WallboardDelta {
        let live: HashSet<&str> = w.sessions.iter().map(|s| s.session_id.as_str()).collect();
        let mut ended: Vec<String> = self
            .sessions
            .keys()
            .filter(|id| !live.contains(id.as_str()))
            .cloned()
            .collect();
        ended.sort();
        for id in &ended {
            self.sessions.remove(id);
        }
        let mut d = WallboardDelta {
            agents: changed(&mut self.agents, w.agents, |a| &a.user_id),
            groups: changed(&mut self.groups, w.groups, |g| &g.skill_group_id),
            sessions: changed(&mut self.sessions, w.sessions, |s| &s.session_id),
            ended,
            ..WallboardDelta::default()
        };
        if self.kpis.as_ref().map(counters) != Some(counters(&w.kpis)) {
            self.kpis = Some(w.kpis.clone());
            d.kpis = Some(w.kpis);
        }
        let point = w.history.last().cloned();
        if point != self.point {
            self.point = point.clone();
            d.history.extend(point);
        }
        d
    }
}

/// The rows that differ from those last sent (which they replace), in order.
pub(super) fn changed<T: Clone + PartialEq>(
    last: &mut HashMap<String, T>,
    rows: Vec<T>,
    id: impl Fn(&T) -> &String,
) -> Vec<T> {
    rows.into_iter()
        .filter(|row| {
            let fresh = last.get(id(row)) != Some(row);
            if fresh {
                last.insert(id(row).clone(), row.clone());
            }
            fresh
        })
        .collect()
}

/// Sessions the figures count: inbound customer sessions.
fn counts(s: &Session) -> bool {
    s.direction == Direction::Inbound && s.kind != CallType::Internal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_local_day_holds_its_moment() {
        for ms in [
            0u64,
            1_795_219_200_000,
            1_795_262_399_999,
            1_800_000_000_123,
        ] {
            let (a, b) = local_day(ms);
            assert!(a <= ms && ms < b, "{a} <= {ms} < {b}");
            // 23 to 25 hours (daylight saving time).
            assert!((23 * 3_600_000..=25 * 3_600_000).contains(&(b - a)));
        }
    }
}
