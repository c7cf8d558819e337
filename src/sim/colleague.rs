//! Simulated colleagues: other agents of the demo center who take calls from
//! the same queues, hold, transfer, go on breaks, and now and then call the
//! demo agent (internal calls).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::scenario::{Colleague, Scenario};
use super::timeline::Timeline;
use crate::client::Connection;
use crate::protocol::{CallType, Event};

/// Orders from the trunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColleagueCmd {
    /// A free colleague places an internal call to the demo agent.
    CallTheAgent,
    /// (internal) the trunk has gone.
    Closed,
}

#[derive(Debug, Clone, PartialEq)]
enum Timer {
    Join(usize),
    Accept(usize, String, CallType),
    Hold(usize, String),
    Unhold(usize, String),
    Transfer(usize, String, CallType, String),
    HangUp(usize, String, CallType),
    BreakStart(usize, usize),
    BreakEnd(usize),
}

struct Mate {
    cfg: Colleague,
    conn: Option<Arc<Connection>>,
    session: Option<String>,
    on_break: bool,
}

/// How many calls each colleague handled, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColleagueReport {
    pub accepted: u32,
    pub transferred: u32,
    pub internal_calls: u32,
}

pub async fn run(
    url: String,
    tokens: HashMap<String, String>,
    sc: Arc<Scenario>,
    demo_agent: String,
    tl: Timeline,
    mut cmds: mpsc::UnboundedReceiver<ColleagueCmd>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> ColleagueReport {
    let start = tl.start();
    let (ev_tx, mut ev_rx) = mpsc::unbounded_channel::<(usize, Option<Event>)>();
    let mut mates: Vec<Mate> = sc
        .colleagues
        .iter()
        .map(|c| Mate {
            cfg: c.clone(),
            conn: None,
            session: None,
            on_break: false,
        })
        .collect();
    let mut heap: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
    let mut kinds: HashMap<u64, Timer> = HashMap::new();
    let mut seq = 0u64;
    let mut report = ColleagueReport::default();
    let mut next_caller = 0usize;
    // Consult legs offered to a colleague: the customer's session each is about.
    let mut consults: HashMap<String, String> = HashMap::new();
    let mut cmds_open = true;
    let mut retries = 0u32;
    let (retry_tx, mut retry_rx) = mpsc::unbounded_channel::<ColleagueCmd>();
    let mut push = |heap: &mut BinaryHeap<Reverse<(Instant, u64)>>,
                    kinds: &mut HashMap<u64, Timer>,
                    at: Instant,
                    t: Timer| {
        seq += 1;
        kinds.insert(seq, t);
        heap.push(Reverse((at, seq)));
    };
    for (i, m) in mates.iter().enumerate() {
        push(
            &mut heap,
            &mut kinds,
            start + secs(m.cfg.joins_at),
            Timer::Join(i),
        );
        for (b, br) in m.cfg.breaks.iter().enumerate() {
            push(
                &mut heap,
                &mut kinds,
                start + secs(br.at),
                Timer::BreakStart(i, b),
            );
        }
    }
    loop {
        let next = heap.peek().map(|Reverse((w, _))| *w);
        tokio::select! {
            _ = stop.changed() => break,
            c = async {
                tokio::select! {
                    c = cmds.recv(), if cmds_open => c.or(Some(ColleagueCmd::Closed)),
                    c = retry_rx.recv() => c,
                }
            } => match c {
                Some(ColleagueCmd::CallTheAgent) => {
                    let n = mates.len();
                    let free = (0..n)
                        .map(|k| (next_caller + k) % n.max(1))
                        .find(|&i| mates[i].conn.is_some() && mates[i].session.is_none() && !mates[i].on_break);
                    next_caller += 1;
                    let Some(i) = free else {
                        tl.log("colleagues", format!("nobody is free to call {demo_agent}"));
                        continue;
                    };
                    let Some(conn) = mates[i].conn.clone() else { continue };
                    let user = mates[i].cfg.user.clone();
                    match conn.call("Call.startInternalCall", json!({"calleeUserId": demo_agent})).await {
                        Ok(Some(d)) => {
                            let sid = d.get("sessionId").and_then(|v| v.as_str()).unwrap_or_default().to_string();
                            tl.log(&user, format!("calls {demo_agent} (internal) {sid}"));
                            report.internal_calls += 1;
                            mates[i].session = Some(sid);
                        }
                        Ok(None) => {}
                        Err(e) => {
                            tl.log(&user, format!("cannot call {demo_agent} now ({e}); tries again in 20 s"));
                            if retries < 3 {
                                retries += 1;
                                let tx = retry_tx.clone();
                                tokio::spawn(async move {
                                    tokio::time::sleep(Duration::from_secs(20)).await;
                                    let _ = tx.send(ColleagueCmd::CallTheAgent);
                                });
                            }
                        }
                    }
                }
                Some(ColleagueCmd::Closed) => cmds_open = false,
                None => {}
            },
            ev = ev_rx.recv() => {
                let Some((i, ev)) = ev else { continue };
                let Some(ev) = ev else {
                    mates[i].conn = None;
                    continue;
                };
                let user = mates[i].cfg.user.clone();
                match ev {
                    Event::CallIn(ci) => {
                        if let Some(of) = &ci.consult_of {
                            consults.insert(ci.session_id.clone(), of.clone());
                        }
                        let at = Instant::now() + secs(mates[i].cfg.accept_after);
                        push(&mut heap, &mut kinds, at, Timer::Accept(i, ci.session_id, ci.kind));
                    }
                    Event::AutoTransfer { session_id } => {
                        tl.log(&user, format!("lets {session_id} ring out; it is passed on"));
                    }
                    Event::CalloutAccepted { session_id } => {
                        // The demo agent took the internal call: talk a bit, then hang up.
                        let at = Instant::now() + secs(mates[i].cfg.talk / 2.0);
                        push(&mut heap, &mut kinds, at, Timer::HangUp(i, session_id, CallType::Internal));
                    }
                    // A consult this colleague took became theirs
                    // (completeTransfer): they talk with the customer, then
                    // end the call.
                    Event::SessionUpdated(snap)
                        if snap.consult.is_none()
                            && mates[i].session.as_ref().and_then(|leg| consults.get(leg)) == Some(&snap.session_id) =>
                    {
                        if let Some(leg) = mates[i].session.take() {
                            consults.remove(&leg);
                        }
                        tl.log(&user, format!("takes {} over from the consult", snap.session_id));
                        mates[i].session = Some(snap.session_id.clone());
                        let at = Instant::now() + secs(mates[i].cfg.talk);
                        push(&mut heap, &mut kinds, at, Timer::HangUp(i, snap.session_id, snap.kind));
                    }
                    Event::SessionEnded(e) if mates[i].session.as_deref() == Some(e.session_id.as_str()) => {
                        mates[i].session = None;
                    }
                    Event::Transfer { session_id } if mates[i].session.as_deref() == Some(session_id.as_str()) => {
                        mates[i].session = None;
                    }
                    _ => {}
                }
            }
            _ = async {
                match next {
                    Some(w) => tokio::time::sleep_until(w).await,
                    None => std::future::pending().await,
                }
            } => {
                let Some(Reverse((_, id))) = heap.pop() else { continue };
                let Some(t) = kinds.remove(&id) else { continue };
                match t {
                    Timer::Join(i) => {
                        let user = mates[i].cfg.user.clone();
                        let token = tokens.get(&user).cloned().unwrap_or_default();
                        match Connection::connect(&url).await {
                            Ok(mut c) => match c.login(&user, &token, false).await {
                                Ok(_) => {
                                    tl.log(&user, "logs in");
                                    let tx = ev_tx.clone();
                                    let mut events = std::mem::replace(&mut c.events, mpsc::unbounded_channel().1);
                                    tokio::spawn(async move {
                                        while let Some(e) = events.recv().await {
                                            if tx.send((i, Some(e))).is_err() { return; }
                                        }
                                        let _ = tx.send((i, None));
                                    });
                                    mates[i].conn = Some(Arc::new(c));
                                }
                                Err(e) => tl.log(&user, format!("cannot log in: {e}")),
                            },
                            Err(e) => tl.log(&user, format!("cannot connect: {e}")),
                        }
                    }
                    Timer::Accept(i, sid, kind) => {
                        let Some(conn) = mates[i].conn.clone() else { continue };
                        let user = mates[i].cfg.user.clone();
                        let method = match kind {
                            CallType::Im => "Chat.accept",
                            CallType::Video => "Video.accept",
                            _ => "Call.accept",
                        };
                        if conn.call(method, json!({"sessionId": sid})).await.is_ok() {
                            report.accepted += 1;
                            mates[i].session = Some(sid.clone());
                            let talk = mates[i].cfg.talk;
                            let now = Instant::now();
                            if let Some(of) = consults.get(&sid) {
                                // A consult: the consulting agent decides
                                // what comes next; hung up only if nothing does.
                                tl.log(&user, format!("takes the consult about {of}"));
                                push(&mut heap, &mut kinds, now + secs(talk * 3.0), Timer::HangUp(i, sid, kind));
                                continue;
                            }
                            tl.log(&user, format!("accepts {sid}"));
                            if let Some(h) = mates[i].cfg.hold {
                                if kind.is_voice() {
                                    push(&mut heap, &mut kinds, now + secs(talk / 3.0), Timer::Hold(i, sid.clone()));
                                    push(&mut heap, &mut kinds, now + secs(talk / 3.0 + h), Timer::Unhold(i, sid.clone()));
                                }
                            }
                            match mates[i].cfg.transfer_to.clone() {
                                Some(to) => push(&mut heap, &mut kinds, now + secs(talk), Timer::Transfer(i, sid, kind, to)),
                                None => push(&mut heap, &mut kinds, now + secs(talk), Timer::HangUp(i, sid, kind)),
                            }
                        }
                    }
                    Timer::Hold(i, sid) | Timer::Unhold(i, sid) if mates[i].session.as_deref() != Some(sid.as_str()) => {}
                    Timer::Hold(i, sid) => {
                        if let Some(conn) = mates[i].conn.clone() {
                            if conn.call("Call.hold", json!({"sessionId": sid})).await.is_ok() {
                                tl.log(&mates[i].cfg.user, format!("puts {sid} on hold"));
                            }
                        }
                    }
                    Timer::Unhold(i, sid) => {
                        if let Some(conn) = mates[i].conn.clone() {
                            if conn.call("Call.unHold", json!({"sessionId": sid})).await.is_ok() {
                                tl.log(&mates[i].cfg.user, format!("takes {sid} off hold"));
                            }
                        }
                    }
                    Timer::Transfer(i, sid, kind, to) => {
                        if mates[i].session.as_deref() != Some(sid.as_str()) { continue; }
                        let Some(conn) = mates[i].conn.clone() else { continue };
                        let method = match kind {
                            CallType::Im => "Chat.transfer",
                            CallType::Video => "Video.transfer",
                            _ => "Call.transfer",
                        };
                        match conn.call(method, json!({"sessionId": sid, "userId": to})).await {
                            Ok(_) => {
                                report.transferred += 1;
                                tl.log(&mates[i].cfg.user, format!("transfers {sid} to {to}"));
                            }
                            Err(e) => {
                                tl.log(&mates[i].cfg.user, format!("cannot transfer {sid}: {e}; hangs up"));
                                let _ = conn.call("Call.hungUp", json!({"sessionId": sid})).await;
                            }
                        }
                    }
                    Timer::HangUp(i, sid, kind) => {
                        if mates[i].session.as_deref() != Some(sid.as_str()) { continue; }
                        let Some(conn) = mates[i].conn.clone() else { continue };
                        let method = match kind {
                            CallType::Im => "Chat.end",
                            CallType::Video => "Video.end",
                            _ => "Call.hungUp",
                        };
                        if conn.call(method, json!({"sessionId": sid})).await.is_ok() {
                            tl.log(&mates[i].cfg.user, format!("ends {sid}"));
                        }
                        mates[i].session = None;
                    }
                    Timer::BreakStart(i, b) => {
                        let Some(conn) = mates[i].conn.clone() else { continue };
                        let Some(br) = mates[i].cfg.breaks.get(b).cloned() else { continue };
                        if mates[i].session.is_some() {
                            // Busy: try again shortly.
                            push(&mut heap, &mut kinds, Instant::now() + Duration::from_secs(5), Timer::BreakStart(i, b));
                            continue;
                        }
                        match conn.call("Agent.setStatus", json!({"status": "rest", "restReason": br.reason})).await {
                            Ok(_) => {
                                mates[i].on_break = true;
                                tl.log(&mates[i].cfg.user, format!("goes on a break ({}) for {:.0} s", br.reason, br.length));
                                push(&mut heap, &mut kinds, Instant::now() + secs(br.length), Timer::BreakEnd(i));
                            }
                            Err(_) => push(&mut heap, &mut kinds, Instant::now() + Duration::from_secs(5), Timer::BreakStart(i, b)),
                        }
                    }
                    Timer::BreakEnd(i) => {
                        if let Some(conn) = mates[i].conn.clone() {
                            if conn.call("Agent.setStatus", json!({"status": "free"})).await.is_ok() {
                                mates[i].on_break = false;
                                tl.log(&mates[i].cfg.user, "is back from the break");
                            }
                        }
                    }
                }
            }
        }
    }
    for m in &mates {
        if let Some(c) = &m.conn {
            c.close();
        }
    }
    report
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}
