//! The ACD strategy: which waiting session goes to which free agent.
//!
//! Highest priority first, then the session waiting longest; within its
//! skill group, the agent who has been free the longest, preferring agents
//! who have not already let this session's offer ring out, and never one
//! who declined it.
//!
//! Both sides are kept ordered as things change, so that making an offer
//! costs O(log n) in the number of agents and sessions, not a walk over the
//! floor: [`Queues`] holds each skill group's waiting sessions in offer
//! order (and the groups' heads in the same order), [`Floor`] holds each
//! group's offerable agents by how long they have been free, with the
//! counts the wallboard shows.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use tokio::time::Instant;

use super::agent::Agent;

/// A session's place in the queues: higher `priority` first, then the
/// moment it first queued, then a sequence number (the order of arrival).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QueueKey {
    priority: Reverse<u32>,
    pub at: Instant,
    pub seq: u64,
}

impl QueueKey {
    pub fn new(priority: u32, at: Instant, seq: u64) -> QueueKey {
        QueueKey {
            priority: Reverse(priority),
            at,
            seq,
        }
    }
    pub fn priority(&self) -> u32 {
        self.priority.0
    }
}

/// Where a queued session waits.
#[derive(Debug, Clone)]
struct Waiting {
    key: QueueKey,
    /// Its own skill group (first), then groups it overflowed to.
    groups: Vec<String>,
    /// When it arrived (unix ms), for the wallboard's "oldest waiting".
    created_ms: u64,
}

#[derive(Debug, Default)]
struct GroupQueue {
    /// Every session that may be offered to this group's agents, in offer order.
    order: BTreeMap<QueueKey, String>,
    /// The group's own sessions (not those overflowing into it), by arrival.
    own: BTreeSet<(u64, String)>,
}

/// Every skill group's queue.
#[derive(Debug, Default)]
pub struct Queues {
    groups: HashMap<String, GroupQueue>,
    waiting: HashMap<String, Waiting>,
    /// The first session of each non-empty queue, in offer order.
    heads: BTreeSet<(QueueKey, String)>,
}

/// What the wallboard shows of one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QueueStats {
    /// The group's own sessions waiting.
    pub waiting: u32,
    /// Sessions of other groups that overflowed here and wait.
    pub overflow_in: u32,
    /// When the group's longest-waiting own session arrived (unix ms).
    pub oldest_since: Option<u64>,
}

impl Queues {
    pub fn new<'a>(groups: impl IntoIterator<Item = &'a str>) -> Queues {
        let mut q = Queues::default();
        for g in groups {
            q.groups.insert(g.to_string(), GroupQueue::default());
        }
        q
    }

    pub fn has_group(&self, group: &str) -> bool {
        self.groups.contains_key(group)
    }

    /// Sessions waiting, in all queues together (each counted once).
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    pub fn is_queued(&self, sid: &str) -> bool {
        self.waiting.contains_key(sid)
    }

    /// The groups `sid` waits in (its own first), empty when not queued.
    pub fn groups_of(&self, sid: &str) -> &[String] {
        self.waiting.get(sid).map_or(&[], |w| &w.groups)
    }

    /// Queue `sid` in `groups` (its own group first) at `key`. Returns the
    /// groups whose queue changed. A session already queued keeps its place.
    pub fn enqueue(
        &mut self,
        sid: &str,
        key: QueueKey,
        groups: &[String],
        created_ms: u64,
    ) -> Vec<String> {
        if self.waiting.contains_key(sid) {
            return Vec::new();
        }
        let groups: Vec<String> = groups
            .iter()
            .filter(|g| self.groups.contains_key(g.as_str()))
            .cloned()
            .collect();
        if groups.is_empty() {
            return Vec::new();
        }
        for (i, g) in groups.iter().enumerate() {
            self.insert(g, sid, key, (i == 0).then_some(created_ms));
        }
        self.waiting.insert(
            sid.to_string(),
            Waiting {
                key,
                groups: groups.clone(),
                created_ms,
            },
        );
        groups
    }

    /// A queued session may now also be offered to `group`'s agents.
    /// Returns whether anything changed.
    pub fn overflow(&mut self, sid: &str, group: &str) -> bool {
        if !self.groups.contains_key(group) {
            return false;
        }
        let Some(w) = self.waiting.get_mut(sid) else {
            return false;
        };
        if w.groups.iter().any(|g| g == group) {
            return false;
        }
        w.groups.push(group.to_string());
        let key = w.key;
        self.insert(group, sid, key, None);
        true
    }

    /// Take `sid` out of every queue. Returns the groups whose queue changed.
    pub fn remove(&mut self, sid: &str) -> Vec<String> {
        let Some(w) = self.waiting.remove(sid) else {
            return Vec::new();
        };
        for (i, g) in w.groups.iter().enumerate() {
            let Some(q) = self.groups.get_mut(g) else {
                continue;
            };
            let head_before = q.order.first_key_value().map(|(k, _)| *k);
            q.order.remove(&w.key);
            if i == 0 {
                q.own.remove(&(w.created_ms, sid.to_string()));
            }
            let head_after = q.order.first_key_value().map(|(k, _)| *k);
            if head_before != head_after {
                if let Some(k) = head_before {
                    self.heads.remove(&(k, g.clone()));
                }
                if let Some(k) = head_after {
                    self.heads.insert((k, g.clone()));
                }
            }
        }
        w.groups
    }

    fn insert(&mut self, group: &str, sid: &str, key: QueueKey, own: Option<u64>) {
        let Some(q) = self.groups.get_mut(group) else {
            return;
        };
        let head_before = q.order.first_key_value().map(|(k, _)| *k);
        q.order.insert(key, sid.to_string());
        if let Some(created) = own {
            q.own.insert((created, sid.to_string()));
        }
        if head_before.is_none_or(|h| key < h) {
            if let Some(h) = head_before {
                self.heads.remove(&(h, group.to_string()));
            }
            self.heads.insert((key, group.to_string()));
        }
    }

    /// Each non-empty queue's first session, in offer order: (group, session).
    pub fn heads(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.heads.iter().filter_map(|(k, g)| {
            let sid = self.groups.get(g)?.order.get(k)?;
            Some((g.as_str(), sid.as_str()))
        })
    }

    pub fn stats(&self, group: &str) -> QueueStats {
        let Some(q) = self.groups.get(group) else {
            return QueueStats::default();
        };
        QueueStats {
            waiting: q.own.len() as u32,
            overflow_in: (q.order.len() - q.own.len()) as u32,
            oldest_since: q.own.first().map(|(at, _)| *at),
        }
    }
}

/// What the floor index last saw of an agent.
#[derive(Debug, Clone, Default, PartialEq)]
struct Seen {
    /// In the groups' free lists, since when.
    offerable: Option<Instant>,
    /// In the groups' chat lists: with how many chats, free since when.
    chat: Option<(usize, Instant)>,
    staffed: bool,
    groups: Vec<String>,
}

/// Each skill group's offerable agents, longest free first, and how many
/// of its agents are staffed; updated agent by agent as they change.
#[derive(Debug, Default)]
pub struct Floor {
    free: HashMap<String, BTreeSet<(Instant, String)>>,
    /// Each group's agents who may be offered a chat: fewest chats first,
    /// then longest free.
    chat: HashMap<String, BTreeSet<(usize, Instant, String)>>,
    staffed: HashMap<String, u32>,
    seen: HashMap<String, Seen>,
}

/// Logged in and not offline: counts as staffed on the wallboard.
pub fn staffed(a: &Agent) -> bool {
    !a.tabs.is_empty() && a.status != crate::protocol::AgentStatus::Offline
}

impl Floor {
    /// Take `a` as it is now. Returns the groups whose free or staffed
    /// count changed (for the wallboard).
    pub fn update(&mut self, a: &Agent) -> Vec<String> {
        let now = Seen {
            offerable: a.offerable().then_some(a.free_since),
            chat: a.chat_offerable().then_some((a.chats.len(), a.free_since)),
            staffed: staffed(a),
            groups: a.groups.clone(),
        };
        let before = self.seen.get(&a.id).cloned().unwrap_or_default();
        if before == now {
            return Vec::new();
        }
        let mut touched = Vec::new();
        for g in &before.groups {
            if let Some(since) = before.offerable {
                if let Some(set) = self.free.get_mut(g) {
                    set.remove(&(since, a.id.clone()));
                }
            }
            if let Some((n, since)) = before.chat {
                if let Some(set) = self.chat.get_mut(g) {
                    set.remove(&(n, since, a.id.clone()));
                }
            }
            if before.staffed {
                if let Some(n) = self.staffed.get_mut(g) {
                    *n = n.saturating_sub(1);
                }
            }
            touched.push(g.clone());
        }
        for g in &now.groups {
            if let Some(since) = now.offerable {
                self.free
                    .entry(g.clone())
                    .or_default()
                    .insert((since, a.id.clone()));
            }
            if let Some((n, since)) = now.chat {
                self.chat
                    .entry(g.clone())
                    .or_default()
                    .insert((n, since, a.id.clone()));
            }
            if now.staffed {
                *self.staffed.entry(g.clone()).or_default() += 1;
            }
            if !touched.contains(g) {
                touched.push(g.clone());
            }
        }
        self.seen.insert(a.id.clone(), now);
        touched
    }

    /// Forget a seat removed from the center. Returns the groups whose
    /// free or staffed count changed.
    pub fn forget(&mut self, id: &str) -> Vec<String> {
        let Some(before) = self.seen.remove(id) else {
            return Vec::new();
        };
        for g in &before.groups {
            if let Some(since) = before.offerable {
                if let Some(set) = self.free.get_mut(g) {
                    set.remove(&(since, id.to_string()));
                }
            }
            if let Some((n, since)) = before.chat {
                if let Some(set) = self.chat.get_mut(g) {
                    set.remove(&(n, since, id.to_string()));
                }
            }
            if before.staffed {
                if let Some(n) = self.staffed.get_mut(g) {
                    *n = n.saturating_sub(1);
                }
            }
        }
        before.groups
    }

    /// Agents of `group` who can be offered a session now.
    pub fn free(&self, group: &str) -> u32 {
        self.free.get(group).map_or(0, |s| s.len() as u32)
    }

    /// Agents of `group` logged in and not offline.
    pub fn staffed(&self, group: &str) -> u32 {
        self.staffed.get(group).copied().unwrap_or(0)
    }

    /// The agent of `group` to offer a session to: the longest free who has
    /// not let it ring out (`declined`), else the longest free of those who
    /// have; never one who declined it outright (`refused`). Looks at no
    /// more agents than the two lists name, plus one.
    pub fn pick(&self, group: &str, declined: &[String], refused: &[String]) -> Option<&str> {
        let set = self.free.get(group)?;
        first_willing(set.iter().map(|(_, id)| id), declined, refused)
    }

    /// Agents of `group` who can be offered a chat now.
    pub fn chat_free(&self, group: &str) -> u32 {
        self.chat.get(group).map_or(0, |s| s.len() as u32)
    }

    /// The agent of `group` to offer a chat to: as [`Floor::pick`], over
    /// the agents who may take one more chat, those with the fewest chats
    /// first.
    pub fn pick_chat(&self, group: &str, declined: &[String], refused: &[String]) -> Option<&str> {
        let set = self.chat.get(group)?;
        first_willing(set.iter().map(|(_, _, id)| id), declined, refused)
    }
}

/// The first of `ids` that has not let the session ring out, else the
/// first of those who have; never one who declined it outright.
fn first_willing<'a>(
    ids: impl Iterator<Item = &'a String>,
    declined: &[String],
    refused: &[String],
) -> Option<&'a str> {
    let mut fallback = None;
    for id in ids {
        if refused.contains(id) {
            continue;
        }
        if declined.contains(id) {
            fallback = fallback.or(Some(id.as_str()));
            continue;
        }
        return Some(id);
    }
    fallback
}

/// What [`next_offer`] needs of a waiting session: the agents who let it
/// ring out or declined it, and whether it is a chat.
pub struct Refusals<'a> {
    pub declined: &'a [String],
    pub refused: &'a [String],
    pub chat: bool,
}

/// The next offer to make: the session first in offer order, over all
/// queues, that one of its group's offerable agents may take. A session
/// none of them may take (each let it ring out or declined it) does not
/// hold up the sessions behind it. `refusals` gives a session's
/// `declined` and `refused` lists (see [`Floor::pick`]). Returns
/// (session, agent).
///
/// Groups with nobody offerable cost nothing; within a group the walk
/// stops at the first session that can be offered, so it only passes
/// sessions refused by every agent free now.
pub fn next_offer<'a>(
    queues: &Queues,
    floor: &Floor,
    refusals: impl Fn(&str) -> Option<Refusals<'a>>,
) -> Option<(String, String)> {
    let mut best: Option<(QueueKey, &str, &str)> = None;
    for (head, group) in &queues.heads {
        if best.is_some_and(|(k, _, _)| k < *head) {
            break;
        }
        let (free, chat) = (floor.free(group) > 0, floor.chat_free(group) > 0);
        if !free && !chat {
            continue;
        }
        let Some(q) = queues.groups.get(group) else {
            continue;
        };
        for (key, sid) in &q.order {
            if best.is_some_and(|(k, _, _)| k < *key) {
                break;
            }
            let Some(r) = refusals(sid) else {
                continue;
            };
            // With nobody free for a call, only chats can go.
            let pick = if r.chat {
                floor.pick_chat(group, r.declined, r.refused)
            } else if free {
                floor.pick(group, r.declined, r.refused)
            } else {
                None
            };
            if let Some(agent) = pick {
                best = Some((*key, sid, agent));
                break;
            }
        }
    }
    best.map(|(_, s, a)| (s.to_string(), a.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{AgentStatus, CallType, Direction};
    use crate::server::config::Role;
    use crate::server::session::Session;
    use std::time::Duration;

    fn agent(id: &str, free_for: u64, now: Instant) -> Agent {
        let mut a = Agent::new(id.into(), Role::Agent, vec!["g".into()], now);
        a.status = AgentStatus::Free;
        a.tabs = vec![1];
        a.free_since = now - Duration::from_secs(free_for);
        a
    }

    fn refusals<'a>(
        sessions: &'a HashMap<String, Session>,
    ) -> impl Fn(&str) -> Option<Refusals<'a>> + 'a {
        move |sid| {
            sessions.get(sid).map(|s| Refusals {
                declined: &s.declined,
                refused: &s.refused,
                chat: s.kind == CallType::Im,
            })
        }
    }

    fn floor_of(agents: &HashMap<String, Agent>) -> Floor {
        let mut f = Floor::default();
        for a in agents.values() {
            f.update(a);
        }
        f
    }

    #[tokio::test(start_paused = true)]
    async fn longest_idle_first_and_declined_last() {
        let now = Instant::now() + Duration::from_secs(1000);
        let mut agents = HashMap::new();
        for (id, idle) in [("a", 10), ("b", 50), ("c", 30)] {
            agents.insert(id.to_string(), agent(id, idle, now));
        }
        let mut floor = floor_of(&agents);
        assert_eq!(floor.pick("g", &[], &[]), Some("b"));
        assert_eq!(floor.pick("g", &["b".into()], &[]), Some("c"));
        // Everyone declined: still offered, to the longest idle.
        let all: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(floor.pick("g", &all, &[]), Some("b"));
        // Agents who declined it are never offered it.
        assert_eq!(floor.pick("g", &[], &["b".into()]), Some("c"));
        assert_eq!(floor.free("g"), 3);
        assert_eq!(floor.staffed("g"), 3);
        // Busy, ringing, not free or disconnected agents get nothing.
        let change = |agents: &mut HashMap<String, Agent>, id: &str, f: &dyn Fn(&mut Agent)| {
            f(agents.get_mut(id).unwrap());
        };
        change(&mut agents, "b", &|a| a.active = Some("s".into()));
        change(&mut agents, "c", &|a| a.offer = Some("s".into()));
        change(&mut agents, "a", &|a| a.tabs.clear());
        for id in ["a", "b", "c"] {
            assert_eq!(floor.update(&agents[id]), vec!["g".to_string()]);
        }
        assert_eq!(floor.pick("g", &[], &[]), None);
        assert_eq!((floor.free("g"), floor.staffed("g")), (0, 2));
        change(&mut agents, "a", &|a| {
            a.tabs.push(2);
            a.status = AgentStatus::Rest;
        });
        floor.update(&agents["a"]);
        assert_eq!(floor.pick("g", &[], &[]), None);
        // Waiting out a no-answer delay: free, but not offered anything.
        change(&mut agents, "a", &|a| {
            a.status = AgentStatus::Free;
            a.no_answer_until = Some(now);
        });
        floor.update(&agents["a"]);
        assert_eq!(floor.pick("g", &[], &[]), None);
        change(&mut agents, "a", &|a| a.no_answer_until = None);
        floor.update(&agents["a"]);
        assert_eq!(floor.pick("g", &[], &[]), Some("a"));
        // Unchanged: nothing to tell the wallboard.
        assert!(floor.update(&agents["a"]).is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn picking_walks_only_past_the_agents_it_must_skip() {
        // 10,000 free agents; the session was declined by the three longest
        // free: the fourth is picked without looking at the rest.
        let now = Instant::now() + Duration::from_secs(100_000);
        let mut floor = Floor::default();
        for i in 0..10_000u64 {
            floor.update(&agent(&format!("a{i}"), 50_000 - i, now));
        }
        let declined: Vec<String> = vec!["a0".into(), "a2".into()];
        let refused: Vec<String> = vec!["a1".into()];
        assert_eq!(floor.pick("g", &declined, &refused), Some("a3"));
        assert_eq!(floor.free("g"), 10_000);
    }

    fn session(id: &str, at: Instant, seq: u64) -> Session {
        Session::new(
            id.to_string(),
            CallType::Phone,
            Direction::Inbound,
            at,
            seq * 1000,
            seq,
        )
    }

    #[tokio::test(start_paused = true)]
    async fn oldest_session_first_across_groups() {
        let now = Instant::now();
        let mut sessions = HashMap::new();
        let mut queues = Queues::new(["x", "y"]);
        for (i, (id, g)) in [("s1", "x"), ("s2", "y"), ("s3", "x")].iter().enumerate() {
            let s = session(id, now + Duration::from_secs(i as u64), i as u64);
            queues.enqueue(id, s.queue_key, &[g.to_string()], s.created_ms);
            sessions.insert(id.to_string(), s);
        }
        let mut agents = HashMap::new();
        let mut a = agent("a", 5, now + Duration::from_secs(10));
        a.groups = vec!["x".into(), "y".into()];
        agents.insert("a".to_string(), a);
        let floor = floor_of(&agents);
        assert_eq!(
            next_offer(&queues, &floor, refusals(&sessions)),
            Some(("s1".into(), "a".into()))
        );
        assert_eq!(queues.remove("s1"), vec!["x".to_string()]);
        assert_eq!(
            next_offer(&queues, &floor, refusals(&sessions)),
            Some(("s2".into(), "a".into()))
        );
        // Re-queued sessions go back to their place, not to the end.
        let s1 = &sessions["s1"];
        queues.enqueue("s1", s1.queue_key, &["x".into()], s1.created_ms);
        let order: Vec<&str> = queues.heads().map(|(_, s)| s).collect();
        assert_eq!(order, vec!["s1", "s2"]);
        assert_eq!(queues.stats("x").waiting, 2);
        assert_eq!(queues.stats("x").oldest_since, Some(0));
        assert_eq!(queues.waiting(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_nobody_free_may_take_does_not_hold_up_the_queue() {
        let now = Instant::now() + Duration::from_secs(100);
        let mut sessions = HashMap::new();
        let mut queues = Queues::new(["g"]);
        for (i, id) in ["s1", "s2"].iter().enumerate() {
            let s = session(id, now + Duration::from_secs(i as u64), i as u64);
            queues.enqueue(id, s.queue_key, &["g".to_string()], s.created_ms);
            sessions.insert(id.to_string(), s);
        }
        // The only free agent declined s1: s2 is offered to her.
        if let Some(s1) = sessions.get_mut("s1") {
            s1.refused.push("a".into());
        }
        let mut agents = HashMap::new();
        agents.insert("a".to_string(), agent("a", 5, now));
        let floor = floor_of(&agents);
        let next = next_offer(&queues, &floor, refusals(&sessions));
        assert_eq!(next, Some(("s2".into(), "a".into())));
    }

    #[tokio::test(start_paused = true)]
    async fn an_agent_in_chats_is_offered_chats_up_to_the_limit_and_no_calls() {
        let now = Instant::now() + Duration::from_secs(100);
        let mut sessions = HashMap::new();
        let mut queues = Queues::new(["g"]);
        // A call waits ahead of a chat.
        for (i, (id, kind)) in [("call", CallType::Phone), ("chat", CallType::Im)]
            .iter()
            .enumerate()
        {
            let mut s = session(id, now + Duration::from_secs(i as u64), i as u64);
            s.kind = *kind;
            queues.enqueue(id, s.queue_key, &["g".to_string()], s.created_ms);
            sessions.insert(id.to_string(), s);
        }
        // a is in one chat, b in two (of three each): busy, so neither
        // takes the call; the chat goes to a, who has fewer.
        let mut agents = HashMap::new();
        for (id, chats) in [("a", 1), ("b", 2)] {
            let mut x = agent(id, 5, now);
            x.status = AgentStatus::Busy;
            x.max_chats = 3;
            x.chats = (0..chats).map(|n| format!("{id}-chat-{n}")).collect();
            agents.insert(id.to_string(), x);
        }
        let floor = floor_of(&agents);
        assert_eq!(floor.free("g"), 0);
        assert_eq!(floor.chat_free("g"), 2);
        assert_eq!(
            next_offer(&queues, &floor, refusals(&sessions)),
            Some(("chat".into(), "a".into()))
        );
        // At the limit: no more chats for anyone.
        for x in agents.values_mut() {
            x.chats = (0..3).map(|n| format!("{}-chat-{n}", x.id)).collect();
        }
        let floor = floor_of(&agents);
        assert_eq!(floor.chat_free("g"), 0);
        assert_eq!(next_offer(&queues, &floor, refusals(&sessions)), None);
        // A free agent takes either, the call first (it waited longer).
        agents.insert("c".to_string(), agent("c", 5, now));
        let floor = floor_of(&agents);
        assert_eq!(
            next_offer(&queues, &floor, refusals(&sessions)),
            Some(("call".into(), "c".into()))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn priority_first_then_first_come_and_overflow_joins_in_order() {
        let now = Instant::now();
        let mut q = Queues::new(["x", "y"]);
        let k = |p: u32, s: u64| QueueKey::new(p, now + Duration::from_secs(s), s);
        q.enqueue("old", k(0, 1), &["x".into()], 1);
        q.enqueue("vip", k(5, 3), &["x".into()], 3);
        q.enqueue("vip2", k(5, 4), &["x".into()], 4);
        q.enqueue("y1", k(0, 2), &["y".into()], 2);
        let heads: Vec<(&str, &str)> = q.heads().collect();
        assert_eq!(heads, vec![("x", "vip"), ("y", "y1")]);
        // `old` overflows to y, where it is older than y1.
        assert!(q.overflow("old", "y"));
        assert!(!q.overflow("old", "y"), "once");
        assert!(!q.overflow("old", "nowhere"));
        let heads: Vec<(&str, &str)> = q.heads().collect();
        assert_eq!(heads, vec![("x", "vip"), ("y", "old")]);
        assert_eq!(
            q.stats("y"),
            QueueStats {
                waiting: 1,
                overflow_in: 1,
                oldest_since: Some(2)
            }
        );
        assert_eq!(q.stats("x").oldest_since, Some(1));
        // Offered from y: gone from both queues.
        assert_eq!(q.remove("old"), vec!["x".to_string(), "y".to_string()]);
        assert_eq!(q.stats("x").waiting, 2);
        assert_eq!(q.stats("y").overflow_in, 0);
        let heads: Vec<(&str, &str)> = q.heads().collect();
        assert_eq!(heads, vec![("x", "vip"), ("y", "y1")]);
        for s in ["vip", "vip2", "y1"] {
            q.remove(s);
        }
        assert_eq!(q.heads().count(), 0);
        assert_eq!(q.waiting(), 0);
    }
}
