//! The ACD strategy: which waiting session goes to which free agent.
//! Oldest waiting session first; within its skill group, the agent who has
//! been free the longest, preferring agents who have not already let this
//! session's offer time out.

use std::collections::{HashMap, VecDeque};

use tokio::time::Instant;

use super::agent::Agent;
use super::session::Session;

/// Choose the agent for a waiting session of `group`.
pub fn pick_agent<'a>(
    group: &str,
    members: &[String],
    agents: &'a HashMap<String, Agent>,
    declined: &[String],
    refused: &[String],
) -> Option<&'a Agent> {
    let candidates = members
        .iter()
        .filter_map(|id| agents.get(id))
        .filter(|a| a.available() && a.in_group(group) && !refused.contains(&a.id));
    let mut fresh: Option<&Agent> = None;
    let mut any: Option<&Agent> = None;
    for a in candidates {
        let older = |best: Option<&Agent>| {
            best.is_none_or(|b| (a.free_since, &a.id) < (b.free_since, &b.id))
        };
        if older(any) {
            any = Some(a);
        }
        if !declined.contains(&a.id) && older(fresh) {
            fresh = Some(a);
        }
    }
    fresh.or(any)
}

/// Insert a session into a queue, keeping it ordered by when it first queued.
pub fn enqueue(
    queue: &mut VecDeque<String>,
    sessions: &HashMap<String, Session>,
    id: &str,
    key: (Instant, u64),
) {
    if queue.iter().any(|s| s == id) {
        return;
    }
    let pos = queue
        .iter()
        .position(|s| sessions.get(s).is_some_and(|other| other.queue_key > key))
        .unwrap_or(queue.len());
    queue.insert(pos, id.to_string());
}

/// The next offer to make: the oldest queue head that has an agent for it.
pub fn next_offer(
    queues: &HashMap<String, VecDeque<String>>,
    members: &HashMap<String, Vec<String>>,
    agents: &HashMap<String, Agent>,
    sessions: &HashMap<String, Session>,
) -> Option<(String, String)> {
    let mut best: Option<((Instant, u64), String, String)> = None;
    for (group, queue) in queues {
        let Some(head) = queue.front().and_then(|id| sessions.get(id)) else {
            continue;
        };
        if best.as_ref().is_some_and(|(k, _, _)| *k <= head.queue_key) {
            continue;
        }
        let empty = Vec::new();
        let m = members.get(group).unwrap_or(&empty);
        if let Some(agent) = pick_agent(group, m, agents, &head.declined, &head.refused) {
            best = Some((head.queue_key, head.id.clone(), agent.id.clone()));
        }
    }
    best.map(|(_, s, a)| (s, a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{AgentStatus, CallType, Direction};
    use crate::server::config::Role;
    use std::time::Duration;

    fn agent(id: &str, free_for: u64, now: Instant) -> Agent {
        let mut a = Agent::new(id.into(), Role::Agent, vec!["g".into()], now);
        a.status = AgentStatus::Free;
        a.tabs = vec![1];
        a.free_since = now - Duration::from_secs(free_for);
        a
    }

    #[tokio::test(start_paused = true)]
    async fn longest_idle_first_and_declined_last() {
        let now = Instant::now() + Duration::from_secs(1000);
        let mut agents = HashMap::new();
        for (id, idle) in [("a", 10), ("b", 50), ("c", 30)] {
            agents.insert(id.to_string(), agent(id, idle, now));
        }
        let members: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        assert_eq!(
            pick_agent("g", &members, &agents, &[], &[]).unwrap().id,
            "b"
        );
        assert_eq!(
            pick_agent("g", &members, &agents, &["b".into()], &[])
                .unwrap()
                .id,
            "c"
        );
        // Everyone declined: still offered, to the longest idle.
        let all: Vec<String> = members.clone();
        assert_eq!(
            pick_agent("g", &members, &agents, &all, &[]).unwrap().id,
            "b"
        );
        // Agents who declined it are never offered it.
        assert_eq!(
            pick_agent("g", &members, &agents, &[], &["b".into()])
                .unwrap()
                .id,
            "c"
        );
        // Busy, ringing, not free or disconnected agents get nothing.
        agents.get_mut("b").unwrap().active = Some("s".into());
        agents.get_mut("c").unwrap().offer = Some("s".into());
        agents.get_mut("a").unwrap().tabs.clear();
        assert!(pick_agent("g", &members, &agents, &[], &[]).is_none());
        agents.get_mut("a").unwrap().tabs.push(2);
        agents.get_mut("a").unwrap().status = AgentStatus::Rest;
        assert!(pick_agent("g", &members, &agents, &[], &[]).is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn oldest_session_first_across_groups() {
        let now = Instant::now();
        let mut sessions = HashMap::new();
        let mut queues: HashMap<String, VecDeque<String>> = HashMap::new();
        for (i, (id, g)) in [("s1", "x"), ("s2", "y"), ("s3", "x")].iter().enumerate() {
            let s = Session::new(
                id.to_string(),
                CallType::Phone,
                Direction::Inbound,
                now + Duration::from_secs(i as u64),
                0,
                i as u64,
            );
            let key = s.queue_key;
            sessions.insert(id.to_string(), s);
            let q = queues.entry(g.to_string()).or_default();
            enqueue(q, &sessions, id, key);
        }
        let mut agents = HashMap::new();
        let mut a = agent("a", 5, now + Duration::from_secs(10));
        a.groups = vec!["x".into(), "y".into()];
        agents.insert("a".to_string(), a);
        let members: HashMap<String, Vec<String>> = [
            ("x".to_string(), vec!["a".to_string()]),
            ("y".to_string(), vec!["a".to_string()]),
        ]
        .into();
        assert_eq!(
            next_offer(&queues, &members, &agents, &sessions),
            Some(("s1".into(), "a".into()))
        );
        queues.get_mut("x").unwrap().pop_front();
        assert_eq!(
            next_offer(&queues, &members, &agents, &sessions),
            Some(("s2".into(), "a".into()))
        );
        // Re-queued sessions go back to their place, not to the end.
        let key = sessions["s1"].queue_key;
        enqueue(queues.get_mut("x").unwrap(), &sessions, "s1", key);
        assert_eq!(
            queues["x"],
            VecDeque::from(vec!["s1".to_string(), "s3".to_string()])
        );
    }
}
