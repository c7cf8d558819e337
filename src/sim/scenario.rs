//! The scenario format: who calls, when, what they say and do, and what the
//! simulated colleagues and the autopilot do. TOML files under
//! `config/scenarios/`; the format is described in docs/DEMO.md.

use std::path::Path;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use toml::Spanned;

/// Session types a scenario can bring in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Phone,
    Voip,
    Video,
    Chat,
    Internal,
}

impl Kind {
    pub fn wire(self) -> &'static str {
        match self {
            Kind::Phone => "phone",
            Kind::Voip => "voip",
            Kind::Video => "video",
            Kind::Chat => "im",
            Kind::Internal => "internal",
        }
    }
    pub fn word(self) -> &'static str {
        match self {
            Kind::Phone => "phone",
            Kind::Voip => "voip",
            Kind::Video => "video",
            Kind::Chat => "chat",
            Kind::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// One line shown when the demo starts.
    pub description: String,
    /// Seed of the random arrivals (overridden by `--seed`).
    #[serde(default)]
    pub seed: u64,
    /// Seconds during which customers arrive; the scenario ends when the
    /// last of them is done.
    pub duration: f64,
    /// The skill group customers call unless their profile names one.
    #[serde(default = "default_group")]
    pub skill_group: String,
    #[serde(default)]
    pub arrivals: Arrivals,
    #[serde(default)]
    pub mix: Mix,
    #[serde(default, rename = "caller")]
    pub callers: Vec<Caller>,
    #[serde(default, rename = "callee")]
    pub callees: Vec<Callee>,
    #[serde(default, rename = "colleague")]
    pub colleagues: Vec<Colleague>,
    #[serde(default)]
    pub autopilot: Autopilot,
}

fn default_group() -> String {
    "support".into()
}

/// When customers arrive: random at `rate` a minute, and/or at fixed times.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arrivals {
    /// Random arrivals a minute (exponential gaps, seeded); 0: none.
    #[serde(default)]
    pub rate: f64,
    /// Fixed arrivals.
    #[serde(default)]
    pub timeline: Vec<Arrival>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arrival {
    /// Seconds from the start.
    pub at: f64,
    /// A caller's `name`.
    pub caller: Spanned<String>,
    /// The session type (default: the caller's first kind).
    pub kind: Option<Kind>,
}

/// Weights of the session types of random arrivals.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mix {
    #[serde(default)]
    pub phone: u32,
    #[serde(default)]
    pub voip: u32,
    #[serde(default)]
    pub video: u32,
    #[serde(default)]
    pub chat: u32,
    #[serde(default)]
    pub internal: u32,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            phone: 1,
            voip: 0,
            video: 0,
            chat: 0,
            internal: 0,
        }
    }
}

/// A line of a script: said (voice) or written (chat) `after` seconds from
/// the moment the agent answers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    pub after: f64,
    pub say: String,
}

/// An IVR-style question: the caller says `prompt`, waits for the agent's
/// DTMF digits, and says `reply` when they equal `expect`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DtmfPrompt {
    #[serde(default = "one")]
    pub after: f64,
    pub prompt: String,
    pub expect: String,
    pub reply: String,
    /// Said when other digits arrive.
    #[serde(default)]
    pub wrong: Option<String>,
}

fn one() -> f64 {
    1.0
}

/// A caller profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Caller {
    pub name: String,
    /// Full number (callerPhoneNumber).
    pub number: String,
    /// The masked number agents see (protectedCaller).
    pub masked: Option<String>,
    pub location: Option<String>,
    /// IVR path steps, "key label": ["1 Billing", "3 Lost card"].
    #[serde(default)]
    pub ivr: Vec<String>,
    pub client_data: Option<String>,
    /// The contact's attributes, sent with every call (`Customer.call`
    /// `attributes`): the agent sees them on the call bar.
    #[serde(default)]
    pub attributes: std::collections::BTreeMap<String, String>,
    /// Overrides the scenario's skill group.
    pub skill_group: Option<String>,
    /// Queue priority (`Customer.call`'s `priority`): higher is offered first.
    pub priority: Option<u32>,
    /// The session types this caller uses (default: any).
    #[serde(default)]
    pub kinds: Vec<Kind>,
    /// Relative weight among callers for random arrivals (default 1); 0:
    /// never a random arrival, only in the fixed timeline.
    #[serde(default = "one_u32")]
    pub weight: u32,
    /// Seconds the caller waits to be answered before hanging up (default: forever).
    pub patience: Option<f64>,
    /// Seconds a phone caller waits before asking to be called back
    /// instead (`Customer.requestCallback`; default: never). The callback
    /// is answered after three seconds and the script is said then.
    pub callback_after: Option<f64>,
    /// Seconds after answer when the caller hangs up if the agent has not
    /// (default: one minute after the last line).
    pub talk: Option<f64>,
    #[serde(default)]
    pub script: Vec<Line>,
    pub dtmf: Option<DtmfPrompt>,
}

fn one_u32() -> u32 {
    1
}

/// Who answers an agent's outbound call.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Callee {
    pub number: String,
    /// Seconds until they answer (Customer.answer).
    pub answer_after: Option<f64>,
    /// They reject the call (Customer.reject) after 2 s.
    #[serde(default)]
    pub reject: bool,
    #[serde(default)]
    pub script: Vec<Line>,
    pub talk: Option<f64>,
}

/// A simulated colleague: another agent of the demo center.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Colleague {
    pub user: String,
    /// Seconds before accepting an offer (more than the ring timeout: the
    /// offer is missed and passed on).
    #[serde(default = "two")]
    pub accept_after: f64,
    /// Seconds of talk before hanging up.
    #[serde(default = "twenty")]
    pub talk: f64,
    /// Hold the call for this many seconds halfway through.
    pub hold: Option<f64>,
    /// Transfer every call to this agent instead of hanging up.
    pub transfer_to: Option<String>,
    #[serde(default, rename = "break")]
    pub breaks: Vec<Break>,
    /// Seconds from the start when the colleague logs in (default 0).
    #[serde(default)]
    pub joins_at: f64,
}

fn two() -> f64 {
    2.0
}
fn twenty() -> f64 {
    20.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Break {
    pub at: f64,
    pub reason: String,
    pub length: f64,
}

/// How the autopilot plays the demo agent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Autopilot {
    /// Seconds before accepting an offer.
    #[serde(default = "one_and_half")]
    pub accept_after: f64,
    /// Leave every Nth offer ringing until it is passed on (0: never).
    #[serde(default)]
    pub miss_every: u32,
    /// Seconds of talk before the agent hangs up (callers usually end first).
    #[serde(default = "ninety")]
    pub talk: f64,
    /// Chat replies, used in turn.
    #[serde(default = "default_replies")]
    pub replies: Vec<String>,
    /// Outbound calls the agent places.
    #[serde(default)]
    pub call_out: Vec<CallOut>,
    /// Transfers: a caller whose clientData contains `when` goes to `to`
    /// (an agent or a skill group).
    #[serde(default)]
    pub transfer: Vec<TransferRule>,
    /// Consults: on a caller whose clientData contains `when`, the agent
    /// consults `to` (an agent, a skill group or a number), then makes a
    /// conference and/or completes the transfer (or cancels).
    #[serde(default)]
    pub consult: Vec<ConsultRule>,
    /// What the agent says on a voice call with audio, `after` seconds from
    /// the answer (spoken with flite into the call's microphone stream).
    #[serde(default = "default_lines")]
    pub say: Vec<Line>,
}

fn default_lines() -> Vec<Line> {
    vec![
        Line {
            after: 0.5,
            say: "Thank you for calling. How can I help you today?".into(),
        },
        Line {
            after: 9.0,
            say: "Let me check that for you.".into(),
        },
    ]
}

fn one_and_half() -> f64 {
    1.5
}
fn ninety() -> f64 {
    90.0
}
fn default_replies() -> Vec<String> {
    vec![
        "Hello, thanks for writing. Let me look into it.".into(),
        "Done: is there anything else I can do?".into(),
    ]
}

impl Default for Autopilot {
    fn default() -> Self {
        Autopilot {
            accept_after: one_and_half(),
            miss_every: 0,
            talk: ninety(),
            replies: default_replies(),
            call_out: Vec::new(),
            transfer: Vec::new(),
            consult: Vec::new(),
            say: default_lines(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallOut {
    pub at: f64,
    pub number: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsultRule {
    pub when: String,
    /// `agent:bob`, `group:support` or `number:5550199`.
    pub to: String,
    /// Seconds after accept before consulting.
    #[serde(default = "two")]
    pub after: f64,
    /// Seconds after the colleague answers before the conference (none:
    /// no conference).
    pub conference_after: Option<f64>,
    /// Seconds after the colleague answers (or the conference starts)
    /// before handing the customer over (none: not handed over).
    pub complete_after: Option<f64>,
    /// Seconds after the colleague answers before the consult is
    /// cancelled, when it is neither conferenced nor completed.
    pub cancel_after: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferRule {
    pub when: String,
    /// `agent:bob` or `group:sales`.
    pub to: String,
    /// Seconds after accept (or after the caller's DTMF answer) before transferring.
    #[serde(default = "two")]
    pub after: f64,
    /// Wait until the caller has asked for DTMF digits and heard them.
    #[serde(default)]
    pub after_dtmf: bool,
}

/// The scenarios shipped in config/scenarios/.
pub const SHIPPED: &[(&str, &str)] = &[
    (
        "default",
        include_str!("../../config/scenarios/default.toml"),
    ),
    ("rush", include_str!("../../config/scenarios/rush.toml")),
    ("floor", include_str!("../../config/scenarios/floor.toml")),
    (
        "training",
        include_str!("../../config/scenarios/training.toml"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("no scenario `{0}`: the shipped ones are default, rush and training, or give a path to a .toml file")]
    Unknown(String),
}

/// Line and column (1-based) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map(|i| offset - i).unwrap_or(offset + 1);
    (line, col)
}

impl Scenario {
    /// A shipped scenario by name, or a file by path.
    pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
        if let Some((_, text)) = SHIPPED.iter().find(|(n, _)| *n == name_or_path) {
            return Scenario::parse(text, &format!("config/scenarios/{name_or_path}.toml"));
        }
        let p = Path::new(name_or_path);
        if p.extension().is_some_and(|e| e == "toml") || p.exists() {
            let text = std::fs::read_to_string(p).map_err(|source| ScenarioError::Read {
                path: name_or_path.to_string(),
                source,
            })?;
            return Scenario::parse(&text, name_or_path);
        }
        Err(ScenarioError::Unknown(name_or_path.to_string()))
    }

    /// Parse and check; errors name the file, the line and the key.
    pub fn parse(text: &str, path: &str) -> Result<Scenario, ScenarioError> {
        let invalid = |message: String| ScenarioError::Invalid {
            path: path.to_string(),
            message,
        };
        let s: Scenario = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|r| {
                    let (l, c) = line_col(text, r.start);
                    // Name the key written on that line, when there is one.
                    let key = text
                        .lines()
                        .nth(l.saturating_sub(1))
                        .and_then(|line| line.split_once('='))
                        .map(|(k, _)| k.trim().trim_matches('"'))
                        .filter(|k| !k.is_empty() && !k.contains(['{', '[']))
                        .map(|k| format!("key `{k}`: "))
                        .unwrap_or_default();
                    format!("line {l}, column {c}: {key}")
                })
                .unwrap_or_default();
            invalid(format!("{at}{}", e.message()))
        })?;
        if s.duration.is_nan() || s.duration <= 0.0 || !s.duration.is_finite() {
            return Err(invalid(
                "key `duration`: must be a positive number of seconds".into(),
            ));
        }
        if s.arrivals.rate < 0.0 || !s.arrivals.rate.is_finite() {
            return Err(invalid(
                "key `arrivals.rate`: must be 0 or more a minute".into(),
            ));
        }
        if s.arrivals.rate > 0.0 && s.callers.is_empty() {
            return Err(invalid(
                "key `arrivals.rate`: random arrivals need at least one [[caller]]".into(),
            ));
        }
        for (i, c) in s.callers.iter().enumerate() {
            for step in &c.ivr {
                if step.split_once(' ').is_none() {
                    return Err(invalid(format!(
                        "key `caller[{i}].ivr`: step `{step}` must be \"<key> <label>\", like \"1 Billing\""
                    )));
                }
            }
            if c.kinds.contains(&Kind::Internal) {
                return Err(invalid(format!(
                    "key `caller[{i}].kinds`: internal calls come from colleagues, not callers"
                )));
            }
        }
        for (i, a) in s.arrivals.timeline.iter().enumerate() {
            if !s.callers.iter().any(|c| c.name == *a.caller.get_ref()) {
                let (l, c) = line_col(text, a.caller.span().start);
                return Err(invalid(format!(
                    "line {l}, column {c}: key `arrivals.timeline[{i}].caller`: no [[caller]] is named `{}`",
                    a.caller.get_ref()
                )));
            }
            if a.at < 0.0 {
                return Err(invalid(format!(
                    "key `arrivals.timeline[{i}].at`: must be 0 or more"
                )));
            }
        }
        let m = &s.mix;
        if s.arrivals.rate > 0.0 && m.phone + m.voip + m.video + m.chat + m.internal == 0 {
            return Err(invalid("key `mix`: all weights are 0".into()));
        }
        if m.internal > 0 && s.colleagues.is_empty() {
            return Err(invalid(
                "key `mix.internal`: internal calls need a [[colleague]] to place them".into(),
            ));
        }
        for (i, r) in s.autopilot.transfer.iter().enumerate() {
            if !(r.to.starts_with("agent:") || r.to.starts_with("group:")) {
                return Err(invalid(format!(
                    "key `autopilot.transfer[{i}].to`: `{}` must be `agent:<user>` or `group:<skill group>`",
                    r.to
                )));
            }
        }
        for (i, r) in s.autopilot.consult.iter().enumerate() {
            let ok = ["agent:", "group:", "number:"]
                .iter()
                .any(|p| r.to.strip_prefix(p).is_some_and(|t| !t.is_empty()));
            if !ok {
                return Err(invalid(format!(
                    "key `autopilot.consult[{i}].to`: `{}` must be `agent:<user>`, `group:<skill group>` or `number:<phone number>`",
                    r.to
                )));
            }
        }
        if s.autopilot.replies.is_empty() {
            return Err(invalid(
                "key `autopilot.replies`: give at least one reply".into(),
            ));
        }
        Ok(s)
    }

    /// Every arrival of a run with `seed`, sorted by time: (seconds, caller index, kind).
    pub fn arrivals(&self, seed: u64) -> Vec<(f64, usize, Kind)> {
        let mut out = Vec::new();
        for a in &self.arrivals.timeline {
            let Some(i) = self
                .callers
                .iter()
                .position(|c| c.name == *a.caller.get_ref())
            else {
                continue;
            };
            let kind = a
                .kind
                .or_else(|| self.callers[i].kinds.first().copied())
                .unwrap_or(Kind::Phone);
            out.push((a.at, i, kind));
        }
        if self.arrivals.rate > 0.0 {
            let mut rng = StdRng::seed_from_u64(seed);
            let mean = 60.0 / self.arrivals.rate;
            let mut t = 0.0;
            loop {
                let u: f64 = rng.gen_range(f64::EPSILON..1.0);
                t += -mean * u.ln();
                if t >= self.duration {
                    break;
                }
                let kind = self.pick_kind(&mut rng);
                let i = self.pick_caller(&mut rng, kind);
                out.push(((t * 10.0).round() / 10.0, i, kind));
            }
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        out
    }

    fn pick_kind(&self, rng: &mut StdRng) -> Kind {
        let m = &self.mix;
        let table = [
            (Kind::Phone, m.phone),
            (Kind::Voip, m.voip),
            (Kind::Video, m.video),
            (Kind::Chat, m.chat),
            (Kind::Internal, m.internal),
        ];
        let total: u32 = table.iter().map(|(_, w)| w).sum();
        let mut x = rng.gen_range(0..total.max(1));
        for (k, w) in table {
            if x < w {
                return k;
            }
            x -= w;
        }
        Kind::Phone
    }

    fn pick_caller(&self, rng: &mut StdRng, kind: Kind) -> usize {
        let fits: Vec<usize> = (0..self.callers.len())
            .filter(|&i| {
                let c = &self.callers[i];
                // Weight 0: only where the fixed timeline names them.
                c.weight > 0 && (c.kinds.is_empty() || c.kinds.contains(&kind))
            })
            .collect();
        let pool = if fits.is_empty() {
            (0..self.callers.len()).collect()
        } else {
            fits
        };
        let total: u32 = pool.iter().map(|&i| self.callers[i].weight.max(1)).sum();
        let mut x = rng.gen_range(0..total.max(1));
        for &i in &pool {
            let w = self.callers[i].weight.max(1);
            if x < w {
                return i;
            }
            x -= w;
        }
        pool.first().copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_scenarios_parse() {
        for (name, text) in SHIPPED {
            let s = Scenario::parse(text, name).unwrap_or_else(|e| panic!("{e}"));
            assert!(!s.arrivals(s.seed).is_empty(), "{name} has arrivals");
        }
    }

    #[test]
    fn arrivals_are_fixed_by_the_seed() {
        let s = Scenario::load("default").expect("default");
        assert_eq!(s.arrivals(7), s.arrivals(7));
        assert_ne!(s.arrivals(7), s.arrivals(8));
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = Scenario::parse(
            "description = \"x\"\nduration = 10\ncolor = 1\n",
            "bad.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("bad.toml: line 3"), "{e}");
        assert!(e.contains("color"), "{e}");
        let e = Scenario::parse(
            "description = \"x\"\nduration = 10\n[[arrivals.timeline]]\nat = 1\ncaller = \"nobody\"\n",
            "t.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("line 5")
                && e.contains("arrivals.timeline[0].caller")
                && e.contains("nobody"),
            "{e}"
        );
        let e = Scenario::parse("description = \"x\"\nduration = \"long\"\n", "d.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("d.toml"), "{e}");
        let e = Scenario::load("nope").unwrap_err().to_string();
        assert!(e.contains("default, rush and training"), "{e}");
        let e = Scenario::parse(
            "description = \"x\"\nduration = 10\n[autopilot]\nconsult = [{ when = \"a\", to = \"bob\" }]\n",
            "c.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("autopilot.consult[0].to") && e.contains("number:<phone number>"),
            "{e}"
        );
    }

    #[test]
    fn a_weight_of_zero_keeps_a_caller_out_of_random_arrivals() {
        let s = Scenario::load("default").expect("default");
        let tom = s
            .callers
            .iter()
            .position(|c| c.name == "Tom Berg")
            .expect("Tom Berg");
        for seed in 0..20 {
            let random = s
                .arrivals(seed)
                .into_iter()
                .filter(|&(_, c, _)| c == tom)
                .count();
            assert_eq!(random, 1, "seed {seed}: only the fixed arrival");
        }
    }
}
