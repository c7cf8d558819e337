//! The autopilot: plays the demo agent by pressing the keys an agent would
//! press, decided from the terminal's own State. It never talks to the
//! server itself: every action goes through the keymap and the reducer, so
//! what it does is what the screen shows.

use std::collections::{HashMap, HashSet, VecDeque};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::scenario::Autopilot as Config;
use super::timeline::Timeline;
use crate::app::keymap::Command;
use crate::app::run::Pilot;
use crate::app::state::{Dialog, Phase, Session, State};
use crate::protocol::{AgentStatus, CallType, ChatFrom, ConsultPhase, Flow};

/// Time between two keys of a sequence (typing speed).
const TYPE_MS: u64 = 90;

pub struct Autopilot {
    cfg: Config,
    start: u64,
    seen: HashMap<String, u64>,
    done: HashSet<String>,
    offers_seen: HashSet<String>,
    offers: u32,
    missed: HashSet<String>,
    replies: usize,
    /// Wrap-ups set so far (codes are picked in turn).
    wrapups: usize,
    queue: VecDeque<KeyEvent>,
    last_key: u64,
    planned: Option<(String, Vec<KeyEvent>, String)>,
    log: Option<Timeline>,
    user: String,
    errors_seen: Option<(u64, String)>,
    /// Lines said, by session and line number.
    said: HashSet<(String, usize)>,
    /// The call-out last dialled, until its call is placed: refused (an
    /// offer rang in first, say), it is tried again when idle.
    dialled: Option<String>,
}

fn ch(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

fn code(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn typed(s: &str) -> Vec<KeyEvent> {
    s.chars().map(ch).collect()
}

/// The key event of a command's first binding (so remapped keys work too).
fn bound(state: &State, cmd: Command) -> KeyEvent {
    state
        .keymap
        .keys_for(cmd)
        .into_iter()
        .next()
        .map(|c| c.to_event())
        .unwrap_or_else(|| code(KeyCode::Null))
}

/// The digit a caller asks for ("... press 1 ...").
fn asked_digit(text: &str) -> Option<char> {
    let lower = text.to_ascii_lowercase();
    let i = lower.find("press ")?;
    lower[i + 6..]
        .chars()
        .find(|c| c.is_ascii_digit() || *c == '*' || *c == '#')
}

impl Autopilot {
    pub fn new(cfg: Config, start: u64, user: &str, log: Option<Timeline>) -> Self {
        Autopilot {
            cfg,
            start,
            seen: HashMap::new(),
            done: HashSet::new(),
            offers_seen: HashSet::new(),
            offers: 0,
            missed: HashSet::new(),
            replies: 0,
            wrapups: 0,
            queue: VecDeque::new(),
            last_key: 0,
            planned: None,
            log,
            user: user.to_string(),
            errors_seen: None,
            said: HashSet::new(),
            dialled: None,
        }
    }

    fn first_seen(&mut self, situation: &str, now: u64) -> u64 {
        *self.seen.entry(situation.to_string()).or_insert(now)
    }

    fn plan(
        &mut self,
        situation: String,
        at: u64,
        keys: Vec<KeyEvent>,
        what: String,
    ) -> Option<(u64, KeyEvent)> {
        let first = *keys.first()?;
        self.planned = Some((situation, keys, what));
        Some((at, first))
    }

    fn s(x: f64) -> u64 {
        (x.max(0.0) * 1000.0) as u64
    }

    fn decide(&mut self, state: &State, now: u64) -> Option<(u64, KeyEvent)> {
        if state.exit.is_some() || !state.is_online() {
            return None;
        }
        // The wrap-up dialog after a call: pick a code (in turn) and save.
        if let Some(Dialog::WrapUp {
            session_id, codes, ..
        }) = &state.dialog
        {
            let sit = format!("wrapup:{session_id}");
            if !codes.is_empty() && !self.done.contains(&sit) {
                let pick = self.wrapups % codes.len();
                let at = self.first_seen(&sit, now) + 1500;
                let mut keys = vec![code(KeyCode::Down); pick];
                keys.push(code(KeyCode::Enter));
                let what = format!("sets the wrap-up code {}", codes[pick]);
                return self.plan(sit, at, keys, what);
            }
        }
        // Something open that the pilot did not plan: close it.
        if state.dialog.is_some() || state.typing {
            let at = self.first_seen("!close", now) + 400;
            return self.plan(
                "!close".into(),
                at,
                vec![code(KeyCode::Esc)],
                "closes the dialog".into(),
            );
        }
        self.seen.remove("!close");
        if state.sessions.iter().any(|s| s.phase == Phase::Dialing) {
            self.dialled = None; // placed
        }
        // A consult under way: conference, hand over or cancel, as the rule
        // that started it says (these keys act from either session).
        if let Some(plan) = self.consult_step(state, now) {
            return Some(plan);
        }
        let active = state.has_active();
        // In chats only: more chats may be accepted.
        let chats_only = state
            .sessions
            .iter()
            .filter(|s| s.phase.is_active())
            .all(|s| s.kind == CallType::Im);
        // Offers.
        let ringing: Vec<Session> = state
            .sessions
            .iter()
            .filter(|s| s.phase == Phase::Ringing)
            .cloned()
            .collect();
        for s in &ringing {
            if self.offers_seen.insert(s.id.clone()) {
                self.offers += 1;
                if self.cfg.miss_every > 0 && self.offers.is_multiple_of(self.cfg.miss_every) {
                    self.missed.insert(s.id.clone());
                    if let Some(l) = &self.log {
                        l.log(
                            &self.user,
                            format!("lets {} ring (an overloaded agent)", s.peer()),
                        );
                    }
                }
            }
        }
        if !active || chats_only {
            let take =
                |s: &&Session| !self.missed.contains(&s.id) && (!active || s.kind == CallType::Im);
            if let Some(s) = ringing.iter().find(take) {
                let sit = format!("accept:{}", s.id);
                if !self.done.contains(&sit) {
                    let at = self.first_seen(&sit, now) + Self::s(self.cfg.accept_after);
                    let mut keys = Vec::new();
                    // Select it first when another ringing session is selected.
                    let sel = state.selected_index();
                    let target = state.sessions.iter().position(|x| x.id == s.id);
                    if let (Some(sel), Some(t)) = (sel, target) {
                        let selected_rings = state.sessions[sel].phase == Phase::Ringing;
                        if selected_rings && sel != t {
                            let (k, n) = if t > sel {
                                (Command::Down, t - sel)
                            } else {
                                (Command::Up, sel - t)
                            };
                            keys.extend(std::iter::repeat_n(bound(state, k), n));
                        }
                    }
                    keys.push(bound(state, Command::Accept));
                    return self.plan(
                        sit,
                        at,
                        keys,
                        format!(
                            "presses {} to accept {}",
                            state.keymap.key_label(Command::Accept),
                            s.peer()
                        ),
                    );
                }
            }
        }
        // A chat waits for an answer while another is selected: select it.
        if let Some(plan) = self.select_waiting_chat(state, now) {
            return Some(plan);
        }
        let sel = state.selected_session().cloned();
        if let Some(s) = &sel {
            match (s.phase, s.kind) {
                (Phase::Talking, CallType::Im) => {
                    let from_client = s
                        .messages
                        .iter()
                        .filter(|m| m.from == ChatFrom::Client)
                        .count();
                    let last_is_client = s
                        .messages
                        .last()
                        .is_some_and(|m| m.from == ChatFrom::Client);
                    if last_is_client {
                        let sit = format!("reply:{}:{from_client}", s.id);
                        if !self.done.contains(&sit) {
                            let at = self.first_seen(&sit, now) + 2500;
                            let text =
                                self.cfg.replies[self.replies % self.cfg.replies.len()].clone();
                            let mut keys = vec![bound(state, Command::Chat)];
                            keys.extend(typed(&text));
                            keys.push(code(KeyCode::Enter));
                            keys.push(code(KeyCode::Esc));
                            return self.plan(sit, at, keys, format!("writes \"{text}\""));
                        }
                    }
                }
                (Phase::Talking, k) if k.is_voice() => {
                    let finals: Vec<_> = s
                        .transcript
                        .iter()
                        .filter(|l| l.flow == Flow::In && l.is_final)
                        .collect();
                    let prompt_idx = finals.iter().rposition(|l| asked_digit(&l.text).is_some());
                    if let Some(pi) = prompt_idx {
                        let digit = asked_digit(&finals[pi].text).unwrap_or('1');
                        let sit = format!("dtmf:{}:{pi}", s.id);
                        if !self.done.contains(&sit) && pi + 1 == finals.len() {
                            let at = self.first_seen(&sit, now) + 1500;
                            let keys =
                                vec![bound(state, Command::Dtmf), ch(digit), code(KeyCode::Esc)];
                            return self.plan(
                                sit,
                                at,
                                keys,
                                format!("opens the DTMF pad and presses {digit}"),
                            );
                        }
                    }
                    let hay = format!(
                        "{} {}",
                        s.call_in.remark.clone().unwrap_or_default(),
                        s.call_in.client_data.clone().unwrap_or_default()
                    );
                    let rule = self
                        .cfg
                        .transfer
                        .iter()
                        .find(|r| hay.contains(&r.when))
                        .cloned();
                    let consult = self
                        .cfg
                        .consult
                        .iter()
                        .find(|r| hay.contains(&r.when))
                        .cloned();
                    if let Some(r) = consult.filter(|_| s.consult_of().is_none()) {
                        let sit = format!("consult:{}", s.id);
                        if !self.done.contains(&sit) {
                            let at = self.first_seen(&sit, now) + Self::s(r.after);
                            // The dialog lists colleagues first; Tab goes
                            // to a number, then to the groups.
                            let mut keys = vec![bound(state, Command::Consult)];
                            let (tabs, target) = match r.to.split_once(':') {
                                Some(("number", n)) => (1, n),
                                Some(("group", g)) => (2, g),
                                Some((_, a)) => (0, a),
                                None => (0, r.to.as_str()),
                            };
                            keys.extend(std::iter::repeat_n(code(KeyCode::Tab), tabs));
                            keys.extend(typed(target));
                            keys.push(code(KeyCode::Enter));
                            return self.plan(
                                sit,
                                at,
                                keys,
                                format!("consults {target} about {}", s.peer()),
                            );
                        }
                    }
                    if let Some(r) = rule {
                        // With a DTMF question, transfer once it is answered.
                        let ready = match prompt_idx {
                            None => !r.after_dtmf,
                            Some(pi) => pi + 1 < finals.len(),
                        };
                        let sit = format!("transfer:{}", s.id);
                        if ready && !self.done.contains(&sit) {
                            let at = self.first_seen(&sit, now) + Self::s(r.after);
                            let mut keys = vec![bound(state, Command::Transfer)];
                            let target = if let Some(agent) = r.to.strip_prefix("agent:") {
                                keys.push(code(KeyCode::Tab));
                                agent.to_string()
                            } else {
                                r.to.trim_start_matches("group:").to_string()
                            };
                            keys.extend(typed(&target));
                            keys.push(code(KeyCode::Enter));
                            return self.plan(
                                sit,
                                at,
                                keys,
                                format!("transfers {} to {target}", s.peer()),
                            );
                        }
                    }
                }
                _ => {}
            }
            // Not in the middle of a consult: it ends by its own steps.
            let consulting = state.consult_for(&s.id).is_some();
            if matches!(s.phase, Phase::Talking | Phase::Held) && !consulting {
                let sit = format!("hangup:{}", s.id);
                if !self.done.contains(&sit) {
                    let at = s.accepted_at.unwrap_or(now) + Self::s(self.cfg.talk);
                    return self.plan(
                        sit,
                        at,
                        vec![bound(state, Command::HangUp)],
                        format!("hangs up on {}", s.peer()),
                    );
                }
            }
            if s.phase == Phase::Dialing {
                let sit = format!("cancel:{}", s.id);
                if !self.done.contains(&sit) {
                    // From when it began dialing (a callback was created
                    // long before).
                    let at = self.first_seen(&sit, now) + 30_000;
                    return self.plan(
                        sit,
                        at,
                        vec![bound(state, Command::HangUp)],
                        "gives up dialing".into(),
                    );
                }
            }
            if s.phase == Phase::Ended && ringing.is_empty() {
                let sit = format!("delete:{}", s.id);
                if !self.done.contains(&sit) {
                    let at = self.first_seen(&sit, now) + 3000;
                    return self.plan(
                        sit,
                        at,
                        vec![bound(state, Command::Delete)],
                        format!("clears {} from the list", s.peer()),
                    );
                }
            }
        } else if !state.sessions.is_empty() {
            return self.plan(
                "!select".into(),
                now + 500,
                vec![bound(state, Command::Down)],
                "selects a session".into(),
            );
        }
        // Outbound calls when idle.
        if !active && ringing.is_empty() && state.status == Some(AgentStatus::Free) {
            for (k, co) in self.cfg.call_out.clone().iter().enumerate() {
                let sit = format!("callout:{k}");
                if !self.done.contains(&sit) && now >= self.start + Self::s(co.at) {
                    let mut keys = vec![bound(state, Command::CallOut)];
                    keys.extend(typed(&co.number));
                    keys.push(code(KeyCode::Enter));
                    return self.plan(sit, now, keys, format!("calls {}", co.number));
                }
            }
        }
        None
    }
}

impl Autopilot {
    /// The next step of a consult this agent started by a rule: the
    /// conference, the hand-over or the cancel, each its rule's seconds
    /// after the step before.
    fn consult_step(&mut self, state: &State, now: u64) -> Option<(u64, KeyEvent)> {
        let customer = state.sessions.iter().find(|s| {
            s.consult.as_ref().is_some_and(|c| {
                c.session_id == s.id && state.consults(c) && c.phase != ConsultPhase::Ringing
            })
        })?;
        let c = customer.consult.as_ref()?;
        let hay = format!(
            "{} {}",
            customer.call_in.remark.clone().unwrap_or_default(),
            customer.call_in.client_data.clone().unwrap_or_default()
        );
        let r = self
            .cfg
            .consult
            .iter()
            .find(|r| hay.contains(&r.when))
            .cloned()?;
        let colleague = state.consult_colleague(c);
        let (sit, after, cmd, what) = match c.phase {
            ConsultPhase::Talking => match (r.conference_after, r.complete_after, r.cancel_after) {
                (Some(a), _, _) => (
                    "conference",
                    a,
                    Command::Conference,
                    format!(
                        "brings {} into a conference with {colleague}",
                        customer.peer()
                    ),
                ),
                (None, Some(a), _) => (
                    "complete",
                    a,
                    Command::CompleteTransfer,
                    format!("hands {} over to {colleague}", customer.peer()),
                ),
                (None, None, Some(a)) => (
                    "cancel",
                    a,
                    Command::CancelConsult,
                    format!("ends the consult with {colleague}"),
                ),
                _ => return None,
            },
            ConsultPhase::Conference => (
                "complete",
                r.complete_after?,
                Command::CompleteTransfer,
                format!("leaves {} with {colleague}", customer.peer()),
            ),
            ConsultPhase::Ringing => return None,
        };
        let sit = format!("{sit}:{}", customer.id);
        if self.done.contains(&sit) {
            return None;
        }
        let at = self.first_seen(&sit, now) + Self::s(after);
        self.plan(sit, at, vec![bound(state, cmd)], what)
    }

    /// A chat whose customer wrote last, not selected while the selected
    /// session needs nothing: select it (the chat it answers next).
    fn select_waiting_chat(&mut self, state: &State, now: u64) -> Option<(u64, KeyEvent)> {
        let waits = |s: &Session| {
            s.kind == CallType::Im
                && s.phase == Phase::Talking
                && s.messages
                    .last()
                    .is_some_and(|m| m.from == ChatFrom::Client)
        };
        let sel = state.selected_index()?;
        if state.sessions.get(sel).is_some_and(&waits) {
            return None;
        }
        let t = state.sessions.iter().position(waits)?;
        let sit = format!("!chat:{}", state.sessions[t].id);
        let at = self.first_seen(&sit, now) + 1000;
        let (k, n) = if t > sel {
            (Command::Down, t - sel)
        } else {
            (Command::Up, sel - t)
        };
        let keys = std::iter::repeat_n(bound(state, k), n).collect();
        let what = format!("turns to the chat with {}", state.sessions[t].peer());
        self.plan(sit, at, keys, what)
    }
}

impl Pilot for Autopilot {
    fn next(&mut self, state: &State, now: u64) -> Option<(u64, KeyEvent)> {
        // Tell the timeline about request errors the screen shows.
        if let Some(e) = state.errors.back() {
            let key = (e.at, e.text.clone());
            if self.errors_seen.as_ref() != Some(&key) {
                if let Some(l) = &self.log {
                    l.log(&self.user, format!("sees an error: {}", e.text));
                }
                if e.text.starts_with("Call.startOutboundCall") {
                    if let Some(sit) = self.dialled.take() {
                        self.done.remove(&sit);
                    }
                }
                self.errors_seen = Some(key);
            }
        }
        if let Some(k) = self.queue.front() {
            return Some((now.max(self.last_key + TYPE_MS), *k));
        }
        self.planned = None;
        self.decide(state, now)
    }

    fn speak(&mut self, state: &State, now: u64) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for s in &state.sessions {
            // Voice calls whose audio is up in this terminal.
            let up =
                state.audio.calls.get(&s.id).is_some_and(|c| {
                    c.stats.state == Some(crate::media::rtc::PeerState::Connected)
                });
            let Some(answered) = s.accepted_at else {
                continue;
            };
            if !up || s.phase != Phase::Talking {
                continue;
            }
            for (i, line) in self.cfg.say.iter().enumerate() {
                let due = answered + (line.after.max(0.0) * 1000.0) as u64;
                if now >= due && self.said.insert((s.id.clone(), i)) {
                    if let Some(l) = &self.log {
                        l.log(&self.user, format!("says \"{}\"", line.say));
                    }
                    out.push((s.id.clone(), line.say.clone()));
                }
            }
        }
        out
    }

    fn pressed(&mut self, now: u64) -> Option<String> {
        self.last_key = now;
        if self.queue.pop_front().is_some() {
            return None;
        }
        if let Some((sit, keys, what)) = self.planned.take() {
            if sit.starts_with("reply:") {
                self.replies += 1;
            }
            if sit.starts_with("wrapup:") {
                self.wrapups += 1;
            }
            if sit.starts_with("callout:") {
                self.dialled = Some(sit.clone());
            }
            if !sit.starts_with('!') {
                self.done.insert(sit);
            } else {
                self.seen.remove(&sit);
            }
            self.queue = keys.into_iter().skip(1).collect();
            if let Some(l) = &self.log {
                l.log(&self.user, what.clone());
            }
            return Some(what);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_call_back_is_dialled_again_when_idle() {
        use crate::app::keymap::Keymap;
        use crate::app::state::{Link, Notice};
        let cfg = Config {
            call_out: vec![super::super::scenario::CallOut {
                at: 0.0,
                number: "5550142".into(),
            }],
            ..Config::default()
        };
        let mut pilot = Autopilot::new(cfg, 0, "alice", None);
        let mut state = State::new("ws://x".into(), "alice".into(), Keymap::default(), 0);
        state.link = Link::Online { since: 0 };
        state.status = Some(AgentStatus::Free);
        let dial = |pilot: &mut Autopilot, state: &State, now: u64| {
            let Some((_, first)) = pilot.next(state, now) else {
                return 0;
            };
            assert_eq!(first, bound(state, Command::CallOut));
            let mut keys = 1;
            pilot.pressed(now);
            while pilot.next(state, now).is_some() && pilot.queue.front().is_some() {
                pilot.pressed(now);
                keys += 1;
            }
            keys
        };
        // The number, then Enter, after the call-out key.
        assert_eq!(dial(&mut pilot, &state, 1000), 1 + 7 + 1);
        assert!(pilot.next(&state, 2000).is_none(), "dialled once");
        // The server refuses it (an offer rang in first): dialled again.
        state.errors.push_back(Notice {
            at: 2100,
            text: "Call.startOutboundCall: you are being offered session s-1".into(),
        });
        assert_eq!(dial(&mut pilot, &state, 3000), 9);
        // Another error is not about it: nothing more.
        state.errors.push_back(Notice {
            at: 3100,
            text: "Call.hold: session s-2 is held".into(),
        });
        assert!(pilot.next(&state, 4000).is_none());
    }

    #[test]
    fn finds_the_digit_a_caller_asks_for() {
        assert_eq!(
            asked_digit("For security please press 1 on your keypad"),
            Some('1')
        );
        assert_eq!(asked_digit("Press # to finish"), Some('#'));
        assert_eq!(asked_digit("I pressed nothing"), None);
    }
}
