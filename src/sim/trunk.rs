//! The simulated customers: a trunk connection that places the scenario's
//! calls, says their lines once answered, answers DTMF prompts, gives up
//! when kept waiting too long, hangs up, and answers the agent's outbound
//! calls as the scenario's callees.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::colleague::ColleagueCmd;
use super::scenario::{Kind, Line, Scenario};
use super::timeline::Timeline;
use crate::client::{ClientError, Connection};
use crate::protocol::{ChatFrom, Event};

/// The number customers dial (calleePhoneNumber of inbound phone calls).
pub const SERVICE_NUMBER: &str = "400-800-1234";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Timer {
    Arrive(usize),
    Abandon(String),
    Callback(String),
    Say(String, usize),
    Prompt(String),
    Reply(String, String),
    HangUp(String),
    Answer(String),
    Reject(String),
}

struct Call {
    name: String,
    kind: Kind,
    script: Vec<Line>,
    talk: Option<f64>,
    dtmf: Option<super::scenario::DtmfPrompt>,
    dtmf_done: bool,
    digits: String,
    answered: bool,
    placed: Instant,
}

/// What the trunk saw, for the summary's cross-check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrunkReport {
    pub placed: u32,
    pub answered: u32,
    pub abandoned: u32,
    pub internal: u32,
    pub outbound_answered: u32,
    pub outbound_rejected: u32,
    pub failed: u32,
    /// Callers who asked to be called back.
    pub callbacks: u32,
}

struct Trunk {
    conn: Connection,
    sc: Arc<Scenario>,
    tl: Timeline,
    colleagues: mpsc::UnboundedSender<ColleagueCmd>,
    calls: HashMap<String, Call>,
    /// Callers waiting to be called back, by session.
    called_back: HashMap<String, Call>,
    /// Callbacks dialled and not answered yet.
    callbacks_dialled: std::collections::HashSet<String>,
    timers: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    timer_kinds: HashMap<usize, Timer>,
    seq: u64,
    report: TrunkReport,
    arrivals: Vec<(f64, usize, Kind)>,
    arrived: usize,
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

impl Trunk {
    fn at(&mut self, when: Instant, t: Timer) {
        self.seq += 1;
        let id = self.seq as usize;
        self.timer_kinds.insert(id, t);
        self.timers.push(Reverse((when, self.seq, id)));
    }

    fn after(&mut self, s: f64, t: Timer) {
        self.at(Instant::now() + secs(s), t);
    }

    async fn call(&self, method: &str, params: Value) -> Result<Option<Value>, ClientError> {
        self.conn.call(method, params).await
    }

    async fn arrive(&mut self, i: usize) {
        let Some(&(_, ci, kind)) = self.arrivals.get(i) else {
            return;
        };
        let Some(c) = self.sc.callers.get(ci).cloned() else {
            return;
        };
        if kind == Kind::Internal {
            self.report.internal += 1;
            let _ = self.colleagues.send(ColleagueCmd::CallTheAgent);
            return;
        }
        let ivr: Vec<Value> = c
            .ivr
            .iter()
            .filter_map(|s| s.split_once(' '))
            .map(|(k, l)| json!({"key": k, "label": l}))
            .collect();
        let group = c
            .skill_group
            .clone()
            .unwrap_or_else(|| self.sc.skill_group.clone());
        let user_id = format!("cust-{}", c.name.to_lowercase().replace(' ', "-"));
        let mut p = json!({
            "type": kind.wire(),
            "skillGroupId": group,
            "nickname": c.name,
        });
        let set = |p: &mut Value, k: &str, v: Value| {
            if let Some(o) = p.as_object_mut() {
                o.insert(k.to_string(), v);
            }
        };
        if let Some(prio) = c.priority {
            set(&mut p, "priority", json!(prio));
        }
        match kind {
            Kind::Phone => {
                set(&mut p, "calleePhoneNumber", json!(SERVICE_NUMBER));
                set(&mut p, "callerPhoneNumber", json!(c.number));
                if let Some(m) = &c.masked {
                    set(&mut p, "protectedCaller", json!(m));
                }
                if let Some(l) = &c.location {
                    set(&mut p, "callerLocation", json!(l));
                }
                if !ivr.is_empty() {
                    set(&mut p, "ivrPath", json!(ivr));
                }
                if let Some(d) = &c.client_data {
                    set(&mut p, "remark", json!(d));
                }
            }
            Kind::Voip => {
                set(&mut p, "callee", json!(SERVICE_NUMBER));
                set(&mut p, "userId", json!(user_id));
                if !ivr.is_empty() {
                    set(&mut p, "ivrPath", json!(ivr));
                }
                if let Some(d) = &c.client_data {
                    set(&mut p, "clientData", json!(d));
                }
            }
            Kind::Video => set(&mut p, "userId", json!(user_id)),
            Kind::Chat => {
                set(&mut p, "userId", json!(user_id));
                set(&mut p, "peerSource", json!("web"));
                if let Some(d) = &c.client_data {
                    set(&mut p, "clientData", json!(d));
                }
            }
            Kind::Internal => {}
        }
        if !c.attributes.is_empty() && kind != Kind::Internal {
            set(&mut p, "attributes", json!(c.attributes));
        }
        match self.call("Customer.call", p).await {
            Ok(Some(d)) => {
                let Some(sid) = d
                    .get("sessionId")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                else {
                    self.report.failed += 1;
                    return;
                };
                self.report.placed += 1;
                self.tl
                    .log(&c.name, format!("calls {group} ({}) {sid}", kind.word()));
                if let Some(p) = c.patience {
                    self.after(p, Timer::Abandon(sid.clone()));
                }
                if let (Some(a), Kind::Phone) = (c.callback_after, kind) {
                    self.after(a, Timer::Callback(sid.clone()));
                }
                self.calls.insert(
                    sid,
                    Call {
                        name: c.name.clone(),
                        kind,
                        script: c.script.clone(),
                        talk: c.talk,
                        dtmf: c.dtmf.clone(),
                        dtmf_done: false,
                        digits: String::new(),
                        answered: false,
                        placed: Instant::now(),
                    },
                );
            }
            Ok(None) | Err(_) => {
                self.report.failed += 1;
                self.tl.log(&c.name, "could not get through");
            }
        }
    }

    /// Say (voice) or write (chat) a line.
    async fn speak(&mut self, sid: &str, text: &str) {
        let Some(c) = self.calls.get(sid) else {
            return;
        };
        let (method, name) = if c.kind == Kind::Chat {
            ("Customer.sendMessage", c.name.clone())
        } else {
            ("Customer.say", c.name.clone())
        };
        if self
            .call(method, json!({"sessionId": sid, "text": text}))
            .await
            .is_ok()
        {
            self.tl.log(&name, format!("\"{text}\""));
        }
    }

    async fn hang_up(&mut self, sid: &str, why: &str) {
        if let Some(c) = self.calls.get(sid) {
            let name = c.name.clone();
            if self
                .call("Customer.hangUp", json!({"sessionId": sid}))
                .await
                .is_ok()
            {
                self.tl.log(&name, why.to_string());
            }
        }
    }

    async fn fire(&mut self, t: Timer) {
        match t {
            Timer::Arrive(i) => self.arrive(i).await,
            Timer::Abandon(sid) => {
                let waiting = self.calls.get(&sid).is_some_and(|c| !c.answered);
                if waiting {
                    let secs = self
                        .calls
                        .get(&sid)
                        .map(|c| c.placed.elapsed().as_secs_f64())
                        .unwrap_or(0.0);
                    self.report.abandoned += 1;
                    self.hang_up(&sid, &format!("gives up after {secs:.0} s waiting"))
                        .await;
                }
            }
            Timer::Callback(sid) => {
                let waiting = self.calls.get(&sid).is_some_and(|c| !c.answered);
                if waiting
                    && self
                        .call("Customer.requestCallback", json!({"sessionId": sid}))
                        .await
                        .is_ok()
                {
                    if let Some(c) = self.calls.remove(&sid) {
                        self.report.callbacks += 1;
                        self.tl.log(&c.name, "asks to be called back and hangs up");
                        self.called_back.insert(sid, c);
                    }
                }
            }
            Timer::Say(sid, i) => {
                let line = self.calls.get(&sid).and_then(|c| c.script.get(i).cloned());
                if let Some(l) = line {
                    self.speak(&sid, &l.say).await;
                }
            }
            Timer::Prompt(sid) => {
                let prompt = self
                    .calls
                    .get(&sid)
                    .and_then(|c| c.dtmf.as_ref().map(|d| d.prompt.clone()));
                if let Some(p) = prompt {
                    self.speak(&sid, &p).await;
                }
            }
            Timer::Reply(sid, text) => self.speak(&sid, &text).await,
            Timer::HangUp(sid) => {
                if self.calls.get(&sid).is_some_and(|c| c.answered) {
                    self.hang_up(&sid, "says goodbye and hangs up").await;
                }
            }
            Timer::Answer(sid) => {
                if self
                    .call("Customer.answer", json!({"sessionId": sid}))
                    .await
                    .is_ok()
                {
                    // A callback is the inbound call answered at last.
                    if self.callbacks_dialled.remove(&sid) {
                        self.report.answered += 1;
                    } else {
                        self.report.outbound_answered += 1;
                    }
                    let name = self
                        .calls
                        .get(&sid)
                        .map(|c| c.name.clone())
                        .unwrap_or_default();
                    self.tl.log(&name, "answers the agent's call");
                    self.answered(&sid);
                }
            }
            Timer::Reject(sid) => {
                if self
                    .call("Customer.reject", json!({"sessionId": sid}))
                    .await
                    .is_ok()
                {
                    self.report.outbound_rejected += 1;
                    let name = self
                        .calls
                        .get(&sid)
                        .map(|c| c.name.clone())
                        .unwrap_or_default();
                    self.tl.log(&name, "rejects the agent's call");
                }
            }
        }
    }

    /// The agent is on the line: schedule the script.
    fn answered(&mut self, sid: &str) {
        let Some(c) = self.calls.get_mut(sid) else {
            return;
        };
        if c.answered {
            return;
        }
        c.answered = true;
        let script = c.script.clone();
        let dtmf = c.dtmf.clone();
        let last = script.iter().map(|l| l.after).fold(0.0, f64::max);
        let talk = c.talk;
        for (i, l) in script.iter().enumerate() {
            self.after(l.after, Timer::Say(sid.to_string(), i));
        }
        if let Some(d) = &dtmf {
            self.after(d.after, Timer::Prompt(sid.to_string()));
        }
        // Callers with a DTMF question stay until they are answered or
        // transferred; others hang up some time after their last line.
        let talk = talk.unwrap_or(if dtmf.is_some() { 600.0 } else { last + 8.0 });
        self.after(talk, Timer::HangUp(sid.to_string()));
    }

    async fn event(&mut self, ev: Event) {
        match ev {
            Event::UserAccessed { session_id, .. } => {
                let first = self.calls.get(&session_id).is_some_and(|c| !c.answered);
                if first {
                    let waited = self
                        .calls
                        .get(&session_id)
                        .map(|c| c.placed.elapsed().as_secs_f64())
                        .unwrap_or(0.0);
                    self.report.answered += 1;
                    let name = self
                        .calls
                        .get(&session_id)
                        .map(|c| c.name.clone())
                        .unwrap_or_default();
                    self.tl
                        .log(&name, format!("is answered after {waited:.1} s"));
                    self.answered(&session_id);
                    // Callers with a voice say hello in the audio too (heard
                    // by an agent whose terminal has audio; the transcript
                    // comes from the script).
                    let voice = self
                        .calls
                        .get(&session_id)
                        .is_some_and(|c| c.kind != Kind::Chat);
                    if voice {
                        let _ = self
                            .call(
                                "Customer.play",
                                json!({"sessionId": session_id, "sound": "greeting"}),
                            )
                            .await;
                    }
                }
            }
            Event::SessionEnded(e) => {
                if let Some(c) = self.calls.remove(&e.session_id) {
                    if e.close_by != crate::protocol::CloseBy::Client {
                        self.tl
                            .log(&c.name, format!("call ended by {}", e.close_by.as_str()));
                    }
                }
            }
            Event::Digits {
                session_id,
                dtmf_text,
            } => {
                let mut reply = None;
                if let Some(c) = self.calls.get_mut(&session_id) {
                    c.digits.push_str(&dtmf_text);
                    let name = c.name.clone();
                    if let Some(d) = c.dtmf.clone() {
                        if !c.dtmf_done && c.digits.ends_with(&d.expect) {
                            c.dtmf_done = true;
                            reply = Some((name, d.reply.clone(), dtmf_text));
                        } else if !c.dtmf_done && c.digits.len() >= d.expect.len() {
                            c.digits.clear();
                            if let Some(w) = d.wrong {
                                reply = Some((name, w, dtmf_text));
                            }
                        }
                    }
                }
                if let Some((name, text, digits)) = reply {
                    self.tl.log(&name, format!("hears the digits {digits}"));
                    self.after(1.0, Timer::Reply(session_id, text));
                }
            }
            Event::Dial {
                session_id,
                phone_number,
                ..
            } => {
                if let Some(mut c) = self.called_back.remove(&session_id) {
                    // The caller who asked to be called back: picks up.
                    self.tl.log(&c.name, "phone rings: the callback");
                    c.placed = Instant::now();
                    self.calls.insert(session_id.clone(), c);
                    self.callbacks_dialled.insert(session_id.clone());
                    self.after(3.0, Timer::Answer(session_id));
                    return;
                }
                let callee = self
                    .sc
                    .callees
                    .iter()
                    .find(|c| c.number == phone_number)
                    .cloned();
                let name = callee
                    .as_ref()
                    .map(|c| format!("callee {}", c.number))
                    .unwrap_or_else(|| format!("callee {phone_number}"));
                self.tl.log(&name, "phone rings");
                self.calls.insert(
                    session_id.clone(),
                    Call {
                        name,
                        kind: Kind::Phone,
                        script: callee
                            .as_ref()
                            .map(|c| c.script.clone())
                            .unwrap_or_default(),
                        talk: callee.as_ref().and_then(|c| c.talk),
                        dtmf: None,
                        dtmf_done: false,
                        digits: String::new(),
                        answered: false,
                        placed: Instant::now(),
                    },
                );
                match callee {
                    Some(c) if c.reject => self.after(2.0, Timer::Reject(session_id)),
                    Some(c) => {
                        if let Some(a) = c.answer_after {
                            self.after(a, Timer::Answer(session_id));
                        }
                    }
                    None => {}
                }
            }
            Event::ChatMessage(m) if m.from == ChatFrom::Seat => {
                if let Some(c) = self.calls.get(&m.session_id) {
                    self.tl.log(&c.name, format!("reads \"{}\"", m.text));
                }
            }
            _ => {}
        }
    }
}

/// Run the customers of `sc` until every arrival has come and gone.
pub async fn run(
    url: String,
    token: String,
    sc: Arc<Scenario>,
    seed: u64,
    tl: Timeline,
    colleagues: mpsc::UnboundedSender<ColleagueCmd>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> anyhow::Result<TrunkReport> {
    let conn = Connection::connect(&url).await?;
    conn.login("pstn", &token, false).await?;
    let arrivals = sc.arrivals(seed);
    let start = tl.start();
    let mut t = Trunk {
        conn,
        sc,
        tl,
        colleagues,
        calls: HashMap::new(),
        called_back: HashMap::new(),
        callbacks_dialled: Default::default(),
        timers: BinaryHeap::new(),
        timer_kinds: HashMap::new(),
        seq: 0,
        report: TrunkReport::default(),
        arrivals: arrivals.clone(),
        arrived: 0,
    };
    for (i, (at, ..)) in arrivals.iter().enumerate() {
        t.at(start + secs(*at), Timer::Arrive(i));
    }
    loop {
        let all_arrived = t.arrived >= t.arrivals.len();
        if all_arrived && t.calls.is_empty() {
            break;
        }
        let next = t.timers.peek().map(|Reverse((when, ..))| *when);
        tokio::select! {
            _ = stop.changed() => {
                // The demo is over: every customer still on the line hangs up.
                let open: Vec<String> = t.calls.keys().cloned().collect();
                for sid in open {
                    let _ = t.call("Customer.hangUp", json!({"sessionId": sid})).await;
                }
                break;
            }
            _ = async {
                match next {
                    Some(w) => tokio::time::sleep_until(w).await,
                    None => std::future::pending().await,
                }
            } => {
                if let Some(Reverse((_, _, id))) = t.timers.pop() {
                    if let Some(kind) = t.timer_kinds.remove(&id) {
                        if matches!(kind, Timer::Arrive(_)) {
                            t.arrived += 1;
                        }
                        t.fire(kind).await;
                    }
                }
            }
            ev = t.conn.events.recv() => match ev {
                Some(ev) => t.event(ev).await,
                None => anyhow::bail!("the trunk's connection closed"),
            },
        }
    }
    t.conn.close();
    Ok(t.report)
}
