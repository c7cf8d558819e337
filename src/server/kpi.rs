//! The wallboard's figures: today's totals and the last hour, minute by
//! minute. Pure arithmetic on unix-ms timestamps; the center feeds it what
//! happens and says when a new day starts.
//!
//! Rules (also in docs/PROTOCOL.md, "Wallboard figures"):
//! - Only inbound customer sessions count (phone, voip, video, chat); outbound
//!   and internal calls do not.
//! - A session is *offered* when it arrives. Its outcome counts at the moment
//!   it happens: *answered* at the first accept, *abandoned* when the customer
//!   leaves before any accept. A session that arrives before midnight and is
//!   answered after counts as answered (not offered) on the new day; one that
//!   arrives at 10:59:50 and is answered at 11:00:25 is in the 10:59 minute as
//!   offered and in the 11:00 minute as answered.
//! - Wait = outcome time - arrival. "In threshold" means wait <= threshold.
//! - Service level = answered in threshold / (answered + abandoned after the
//!   threshold): a customer who gives up within the threshold was never
//!   given the chance, so counts neither way.
//! - ASA = total wait of answered sessions / answered.
//! - AHT = (talk + hold + after-call work) / handled, where a session is
//!   handled when it ends after being answered; after-call work that ends
//!   later is added when it ends.
//! - Occupancy = time seats spent busy or in after-call work / (that + time
//!   they spent free), over today; rest, notReady and offline count for
//!   neither.

use std::collections::VecDeque;

use crate::protocol::{AgentStatus, HistoryPoint, Kpis, HISTORY_POINTS};

const MINUTE: u64 = 60_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Outcomes {
    answered: u64,
    answered_in: u64,
    abandoned: u64,
    abandoned_in: u64,
}

impl Outcomes {
    fn answer(&mut self, in_threshold: bool) {
        self.answered += 1;
        self.answered_in += in_threshold as u64;
    }
    fn abandon(&mut self, in_threshold: bool) {
        self.abandoned += 1;
        self.abandoned_in += in_threshold as u64;
    }
    /// Percent, or None while nothing counts.
    fn service_level(&self) -> Option<f64> {
        let counted = self.answered + self.abandoned - self.abandoned_in;
        (counted > 0).then(|| self.answered_in as f64 * 100.0 / counted as f64)
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Minute {
    at: u64,
    queue: u32,
    offered: u64,
    outcomes: Outcomes,
}

/// The seats' status intervals not yet closed, summed by kind: how many,
/// and the sum of when each started today (unix ms, a start before today
/// counting as today's start). Today's time in them at `now` is
/// `count × now − sum`, so the figures need no walk over the seats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpenTime {
    /// Busy or in after-call work: (count, sum of starts).
    pub handling: (u64, u64),
    /// Free: (count, sum of starts).
    pub free: (u64, u64),
}

impl OpenTime {
    fn slot(&mut self, status: AgentStatus) -> Option<&mut (u64, u64)> {
        match status {
            AgentStatus::Busy | AgentStatus::Arrange => Some(&mut self.handling),
            AgentStatus::Free => Some(&mut self.free),
            _ => None,
        }
    }

    /// A seat is in `status` since `start` (already no earlier than today's start).
    pub fn open(&mut self, status: AgentStatus, start: u64) {
        if let Some((n, sum)) = self.slot(status) {
            *n += 1;
            *sum += start;
        }
    }

    /// The interval opened with the same arguments is over.
    pub fn close(&mut self, status: AgentStatus, start: u64) {
        if let Some((n, sum)) = self.slot(status) {
            *n = n.saturating_sub(1);
            *sum = sum.saturating_sub(start);
        }
    }

    /// A new day started at `day_start`: every open interval now counts from it.
    pub fn restart_at(&mut self, day_start: u64) {
        self.handling.1 = self.handling.0 * day_start;
        self.free.1 = self.free.0 * day_start;
    }
}

/// Today's counters and the last hour.
#[derive(Debug, Clone, PartialEq)]
pub struct Kpi {
    threshold_ms: u64,
    day_start: u64,
    day_end: u64,
    offered: u64,
    outcomes: Outcomes,
    wait_ms: u64,
    handled: u64,
    handle_ms: u64,
    handling_ms: u64,
    free_ms: u64,
    queue_now: u32,
    minutes: VecDeque<Minute>,
}

impl Kpi {
    /// `day_start..day_end` is today (unix ms, local midnight to midnight).
    pub fn new(threshold_ms: u64, day_start: u64, day_end: u64) -> Kpi {
        Kpi {
            threshold_ms,
            day_start,
            day_end: day_end.max(day_start + 1),
            offered: 0,
            outcomes: Outcomes::default(),
            wait_ms: 0,
            handled: 0,
            handle_ms: 0,
            handling_ms: 0,
            free_ms: 0,
            queue_now: 0,
            minutes: VecDeque::new(),
        }
    }

    pub fn day_end(&self) -> u64 {
        self.day_end
    }

    pub fn day_start(&self) -> u64 {
        self.day_start
    }

    /// A new day: today's totals start from zero (the last hour is kept).
    pub fn roll_day(&mut self, day_start: u64, day_end: u64) {
        *self = Kpi {
            minutes: std::mem::take(&mut self.minutes),
            queue_now: self.queue_now,
            ..Kpi::new(self.threshold_ms, day_start, day_end)
        };
    }

    /// The minute bucket of `at`, creating it (and any minutes skipped).
    fn minute(&mut self, at: u64) -> &mut Minute {
        let start = at - at % MINUTE;
        let last = self.minutes.back().map(|m| m.at);
        match last {
            Some(l) if l >= start => {}
            _ => {
                // Minutes with nothing in them still had a queue.
                let mut next = match last {
                    Some(l) if start - l <= MINUTE * HISTORY_POINTS as u64 => l + MINUTE,
                    _ => start,
                };
                while next <= start {
                    self.minutes.push_back(Minute {
                        at: next,
                        queue: self.queue_now,
                        offered: 0,
                        outcomes: Outcomes::default(),
                    });
                    next += MINUTE;
                }
                while self.minutes.len() > HISTORY_POINTS {
                    self.minutes.pop_front();
                }
            }
        }
        // Events arrive in time order; an older one lands in its own minute
        // if that is still kept, else in the oldest.
        let idx = self
            .minutes
            .iter()
            .rposition(|m| m.at <= start)
            .unwrap_or(0);
        &mut self.minutes[idx]
    }

    pub fn offered(&mut self, at: u64) {
        self.offered += 1;
        self.minute(at).offered += 1;
    }

    pub fn answered(&mut self, arrived: u64, at: u64) {
        let wait = at.saturating_sub(arrived);
        let within = wait <= self.threshold_ms;
        self.outcomes.answer(within);
        self.wait_ms += wait;
        self.minute(at).outcomes.answer(within);
    }

    pub fn abandoned(&mut self, arrived: u64, at: u64) {
        let within = at.saturating_sub(arrived) <= self.threshold_ms;
        self.outcomes.abandon(within);
        self.minute(at).outcomes.abandon(within);
    }

    /// An answered session ended after `talk_ms` (hold included).
    pub fn handled(&mut self, talk_ms: u64) {
        self.handled += 1;
        self.handle_ms += talk_ms;
    }

    /// After-call work of a handled session ended.
    pub fn after_call_work(&mut self, acw_ms: u64) {
        self.handle_ms += acw_ms;
    }

    /// The time today of `from..to`.
    fn today(&self, from: u64, to: u64) -> u64 {
        to.min(self.day_end)
            .saturating_sub(from.max(self.day_start))
    }

    /// A seat was in `status` from `from` to `to`.
    pub fn agent_time(&mut self, status: AgentStatus, from: u64, to: u64) {
        let ms = self.today(from, to);
        match status {
            AgentStatus::Busy | AgentStatus::Arrange => self.handling_ms += ms,
            AgentStatus::Free => self.free_ms += ms,
            _ => {}
        }
    }

    /// How many sessions wait in all queues together, now.
    pub fn queue_length(&mut self, waiting: u32, at: u64) {
        let m = self.minute(at);
        m.queue = m.queue.max(waiting);
        self.queue_now = waiting;
    }

    /// Today's figures at `now`; `open` is every seat's current status and
    /// since when (the intervals not yet closed by `agent_time`).
    pub fn figures(&self, now: u64, open: &[(AgentStatus, u64)]) -> Kpis {
        let mut sum = OpenTime::default();
        for &(status, since) in open {
            sum.open(status, since.max(self.day_start));
        }
        self.figures_with(now, &sum)
    }

    /// Today's figures at `now`, with the open intervals summed.
    pub fn figures_with(&self, now: u64, open: &OpenTime) -> Kpis {
        let end = now.min(self.day_end);
        let today = |(n, sum): (u64, u64)| (n * end).saturating_sub(sum);
        let handling = self.handling_ms + today(open.handling);
        let free = self.free_ms + today(open.free);
        let o = &self.outcomes;
        Kpis {
            day_start: self.day_start,
            threshold: self.threshold_ms / 1000,
            offered: self.offered,
            answered: o.answered,
            answered_in_threshold: o.answered_in,
            abandoned: o.abandoned,
            abandoned_in_threshold: o.abandoned_in,
            service_level: o.service_level(),
            asa_ms: (o.answered > 0).then(|| self.wait_ms / o.answered),
            handled: self.handled,
            aht_ms: (self.handled > 0).then(|| self.handle_ms / self.handled),
            occupancy: (handling + free > 0)
                .then(|| handling as f64 * 100.0 / (handling + free) as f64),
        }
    }

    /// The last hour up to `now`'s minute, oldest first: one point a
    /// minute since the first event, at most 60.
    pub fn history(&self, now: u64) -> Vec<HistoryPoint> {
        let end = now - now % MINUTE;
        let first = end.saturating_sub(MINUTE * (HISTORY_POINTS as u64 - 1));
        let oldest = self.minutes.front().map_or(end, |m| m.at);
        let mut out = Vec::with_capacity(HISTORY_POINTS);
        let mut kept = self.minutes.iter().peekable();
        let mut t = first.max(oldest);
        while t <= end {
            while kept.peek().is_some_and(|m| m.at < t) {
                kept.next();
            }
            out.push(match kept.peek() {
                Some(m) if m.at == t => point(m),
                // A minute with no event: the queue stood as it is now.
                _ => HistoryPoint {
                    at: t,
                    queue: self.queue_now,
                    service_level: None,
                },
            });
            t += MINUTE;
        }
        out
    }
}

fn point(m: &Minute) -> HistoryPoint {
    HistoryPoint {
        at: m.at,
        queue: m.queue,
        service_level: m.outcomes.service_level(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1000;
    /// 2026-11-21 10:00:00 UTC, as a day that started at midnight.
    const DAY: u64 = 1_795_219_200_000;
    const TEN: u64 = DAY + 10 * 3600 * S;

    fn kpi() -> Kpi {
        Kpi::new(20 * S, DAY, DAY + 24 * 3600 * S)
    }

    #[test]
    fn summed_open_intervals_give_the_same_occupancy_as_each_one() {
        let k = kpi();
        // Intervals from yesterday (clamped to today's start), this morning,
        // and statuses that count for neither.
        let open = [
            (AgentStatus::Busy, DAY - 3600 * S),
            (AgentStatus::Free, TEN - 600 * S),
            (AgentStatus::Arrange, TEN - 30 * S),
            (AgentStatus::Free, DAY - 60 * S),
            (AgentStatus::Rest, TEN - 99 * S),
            (AgentStatus::Offline, DAY - 5 * S),
        ];
        let mut sum = OpenTime::default();
        for &(st, since) in &open {
            sum.open(st, since.max(DAY));
        }
        let one_by_one = k.figures(TEN, &open);
        assert_eq!(k.figures_with(TEN, &sum), one_by_one);
        let occ = one_by_one.occupancy.unwrap_or(-1.0);
        // handling: 10 h + 30 s; free: 600 s + 10 h.
        let expect = (36_000.0 + 30.0) * 100.0 / (36_030.0 + 36_600.0);
        assert!((occ - expect).abs() < 1e-9, "{occ} vs {expect}");
        // Closing what was opened leaves nothing.
        for &(st, since) in &open {
            sum.close(st, since.max(DAY));
        }
        assert_eq!(sum, OpenTime::default());
        // A new day: every open interval counts from its start.
        let mut sum = OpenTime::default();
        sum.open(AgentStatus::Free, TEN);
        let tomorrow = DAY + 24 * 3600 * S;
        sum.restart_at(tomorrow);
        assert_eq!(sum.free, (1, tomorrow));
    }

    #[test]
    fn service_level_leaves_out_abandons_within_the_threshold() {
        let mut k = kpi();
        // Four arrive. One answered after 5 s, one after 30 s, one hangs up
        // after 10 s (within 20 s), one after 45 s.
        for i in 0..4 {
            k.offered(TEN + i * S);
        }
        k.answered(TEN, TEN + 5 * S);
        k.answered(TEN + S, TEN + 31 * S);
        k.abandoned(TEN + 2 * S, TEN + 12 * S);
        k.abandoned(TEN + 3 * S, TEN + 48 * S);
        let f = k.figures(TEN + 60 * S, &[]);
        assert_eq!(f.offered, 4);
        assert_eq!((f.answered, f.answered_in_threshold), (2, 1));
        assert_eq!((f.abandoned, f.abandoned_in_threshold), (2, 1));
        // 1 answered in time / (2 answered + 1 abandoned late) = 33.3 %.
        let sl = f.service_level.unwrap_or(-1.0);
        assert!((sl - 100.0 / 3.0).abs() < 1e-9, "{sl}");
        // ASA: (5 + 30) / 2 = 17.5 s.
        assert_eq!(f.asa_ms, Some(17_500));
        assert_eq!(f.threshold, 20);
    }

    #[test]
    fn the_threshold_itself_is_in_time() {
        let mut k = kpi();
        k.offered(TEN);
        k.answered(TEN, TEN + 20 * S);
        let f = k.figures(TEN + 21 * S, &[]);
        assert_eq!(f.answered_in_threshold, 1);
        assert_eq!(f.service_level, Some(100.0));
    }

    #[test]
    fn only_early_abandons_mean_no_service_level_yet() {
        let mut k = kpi();
        k.offered(TEN);
        k.abandoned(TEN, TEN + 3 * S);
        let f = k.figures(TEN + 4 * S, &[]);
        assert_eq!(f.service_level, None);
        assert_eq!(f.asa_ms, None);
        assert_eq!(f.abandoned, 1);
    }

    #[test]
    fn a_session_crossing_the_hour_counts_where_each_thing_happened() {
        let mut k = kpi();
        let arrive = TEN - 10 * S; // 09:59:50
        k.queue_length(1, arrive);
        k.offered(arrive);
        k.queue_length(0, TEN + 25 * S);
        k.answered(arrive, TEN + 25 * S); // waited 35 s
        let h = k.history(TEN + 30 * S);
        let nine59 = h.iter().find(|p| p.at == TEN - 60 * S).cloned();
        let ten00 = h.iter().find(|p| p.at == TEN).cloned();
        assert_eq!(
            nine59,
            Some(HistoryPoint {
                at: TEN - 60 * S,
                queue: 1,
                service_level: None
            }),
            "09:59 had the caller waiting and no outcome"
        );
        assert_eq!(
            ten00,
            Some(HistoryPoint {
                at: TEN,
                queue: 1,
                service_level: Some(0.0)
            }),
            "10:00 has the late answer (the queue was 1 when the minute began)"
        );
        assert_eq!(h.last().map(|p| p.at), Some(TEN));
    }

    #[test]
    fn a_new_day_starts_from_zero_and_keeps_the_last_hour() {
        let mut k = kpi();
        let late = DAY + 24 * 3600 * S - 30 * S; // 23:59:30
        k.offered(late);
        let midnight = DAY + 24 * 3600 * S;
        k.roll_day(midnight, midnight + 24 * 3600 * S);
        k.answered(late, midnight + 5 * S);
        let f = k.figures(midnight + 10 * S, &[]);
        assert_eq!(f.day_start, midnight);
        assert_eq!(
            (f.offered, f.answered),
            (0, 1),
            "answered today, offered yesterday"
        );
        assert_eq!(f.answered_in_threshold, 0, "waited 35 s");
        let h = k.history(midnight + 10 * S);
        assert!(h.iter().any(|p| p.at == midnight - 60 * S));
    }

    #[test]
    fn handle_time_adds_after_call_work_to_talk() {
        let mut k = kpi();
        k.handled(120 * S);
        k.after_call_work(30 * S);
        k.handled(60 * S);
        let f = k.figures(TEN, &[]);
        assert_eq!(f.handled, 2);
        assert_eq!(f.aht_ms, Some(105 * S)); // (120 + 30 + 60) / 2
    }

    #[test]
    fn occupancy_counts_busy_and_arrange_against_free() {
        let mut k = kpi();
        k.agent_time(AgentStatus::Free, TEN, TEN + 60 * S);
        k.agent_time(AgentStatus::Busy, TEN + 60 * S, TEN + 150 * S);
        k.agent_time(AgentStatus::Rest, TEN + 150 * S, TEN + 900 * S);
        // Still in after-call work since 10:02:30 at 10:03:00.
        let f = k.figures(TEN + 180 * S, &[(AgentStatus::Arrange, TEN + 150 * S)]);
        // handling 90 + 30 = 120 s, free 60 s: 66.7 %.
        let occ = f.occupancy.unwrap_or(-1.0);
        assert!((occ - 200.0 / 3.0).abs() < 1e-9, "{occ}");
    }

    #[test]
    fn time_before_midnight_is_not_today() {
        let mut k = kpi();
        // Free from 23:00 yesterday to 00:30 today: 30 minutes count.
        k.agent_time(AgentStatus::Free, DAY - 3600 * S, DAY + 1800 * S);
        let f = k.figures(DAY + 1800 * S, &[(AgentStatus::Busy, DAY + 1800 * S)]);
        assert_eq!(f.occupancy, Some(0.0));
        let f = k.figures(DAY + 3600 * S, &[(AgentStatus::Busy, DAY + 1800 * S)]);
        assert_eq!(f.occupancy, Some(50.0));
    }

    #[test]
    fn history_is_one_point_a_minute_for_an_hour() {
        let mut k = kpi();
        k.queue_length(3, TEN);
        k.queue_length(1, TEN + 30 * S);
        // Two hours later nothing happened: 60 points, the queue still 1.
        let h = k.history(TEN + 2 * 3600 * S + 5 * S);
        assert_eq!(h.len(), HISTORY_POINTS);
        assert!(h.iter().all(|p| p.queue == 1 && p.service_level.is_none()));
        assert_eq!(h[59].at, TEN + 2 * 3600 * S);
        assert_eq!(h[0].at, TEN + 2 * 3600 * S - 59 * 60 * S);
        // Within the hour the peak shows.
        let h = k.history(TEN + 5 * 60 * S);
        assert_eq!(h.iter().find(|p| p.at == TEN).map(|p| p.queue), Some(3));
        assert_eq!(h.last().map(|p| (p.at, p.queue)), Some((TEN + 300 * S, 1)));
    }
}
