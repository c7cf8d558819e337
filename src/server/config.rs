//! The server's TOML configuration (see docs/CONFIG.md for every key).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default)]
    pub server: ServerSection,
    pub auth: AuthSection,
    #[serde(default)]
    pub center: CenterSection,
    #[serde(default)]
    pub media: MediaSection,
    #[serde(default)]
    pub speech: SpeechSection,
    #[serde(default)]
    pub sip: SipSection,
    #[serde(default)]
    pub records: RecordsSection,
    #[serde(default)]
    pub cluster: ClusterSection,
    #[serde(default)]
    pub skill_groups: Vec<SkillGroup>,
    #[serde(default)]
    pub users: Vec<User>,
}

/// Real audio: WebRTC between terminals and the server, Opus, recordings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaSection {
    /// Take `Media.offer` at all; false: voice sessions are signalling only.
    pub enabled: bool,
    /// The address the media (UDP) sockets bind and announce in ICE
    /// candidates; unset: the host of `listen` (all interfaces when that is
    /// 0.0.0.0).
    pub ip: Option<std::net::IpAddr>,
    /// Write every voice session with audio to `<data_dir>/recordings/<sessionId>.wav`.
    pub record: bool,
    /// Threads of the media runtime; 0: one per core.
    pub threads: usize,
}

impl Default for MediaSection {
    fn default() -> Self {
        MediaSection {
            enabled: true,
            ip: None,
            record: true,
            threads: 0,
        }
    }
}

/// Telephony: SIP trunks in and out (see docs/TELEPHONY.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SipSection {
    /// The address SIP listens on, UDP and TCP; unset: no SIP.
    pub listen: Option<String>,
    /// SIP over TLS (`sips:`, usually port 5061) on its own port, with the
    /// certificate and key of `[server] tls_cert`/`tls_key`; unset: none.
    pub tls_listen: Option<String>,
    /// The UDP ports calls' RTP may use, first and last (even ports are
    /// taken, one a call).
    pub rtp_ports: [u16; 2],
    /// INVITEs a second the server takes before it answers 503.
    pub max_invites_per_second: u32,
    /// Take INVITEs from any address, not only trunks' (a demo, a lab: a
    /// softphone calls straight in).
    pub allow_any_caller: bool,
    pub trunks: Vec<SipTrunk>,
    pub numbers: Vec<SipNumber>,
}

impl Default for SipSection {
    fn default() -> Self {
        SipSection {
            listen: None,
            tls_listen: None,
            rtp_ports: [20000, 20999],
            max_invites_per_second: 50,
            allow_any_caller: false,
            trunks: Vec::new(),
            numbers: Vec::new(),
        }
    }
}

/// Where the records (sessions, users) are kept (see docs/CONFIG.md).
/// Its Debug never shows the URL (it may hold a password).
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordsSection {
    /// `postgres://user:password@host:port/db`: PostgreSQL, which every
    /// node of a cluster shares. Unset: SQLite in `[server] data_dir`.
    pub url: Option<String>,
}

impl std::fmt::Debug for RecordsSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordsSection")
            .field("url", &self.url.as_ref().map(|_| "postgres://…"))
            .finish()
    }
}

/// Several nodes (see docs/ARCHITECTURE.md, "Several nodes"). Unset
/// `nats`: one node, the center in this process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterSection {
    /// The NATS server(s), `nats://host:4222` (comma-separated for
    /// several). Needs JetStream (`nats-server -js`).
    pub nats: Option<String>,
    /// This node's name, unique in the cluster; unset: the host name and
    /// the process id.
    pub node: Option<String>,
    /// The center's name: the NATS subjects and the lease's key.
    pub center: String,
    /// How long the owner's lease lasts without renewal, in ms: a dead
    /// owner's center moves within about this long.
    pub lease_ms: u64,
}

impl Default for ClusterSection {
    fn default() -> Self {
        ClusterSection {
            nats: None,
            node: None,
            center: "main".into(),
            lease_ms: 2000,
        }
    }
}

/// A SIP trunk: a carrier, or a PBX in front of the center.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipTrunk {
    pub id: String,
    /// Where outbound INVITEs go, and where inbound ones are accepted from
    /// (`host:port`).
    pub address: String,
    /// Digest credentials: answered when the trunk challenges an outbound
    /// INVITE, and accepted from callers that are not at `address`.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The caller number of outbound calls that name none.
    #[serde(default)]
    pub caller_id: Option<String>,
}

/// A dialled number (DID): INVITEs to it queue on a skill group. `*`
/// takes every number not listed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SipNumber {
    pub number: String,
    pub skill_group: String,
    /// Queue priority of its calls (as `Customer.call`'s).
    #[serde(default)]
    pub priority: Option<u32>,
}

/// Speech on calls with audio: the customer's side speaks (flite) and both
/// sides are recognised (pocketsphinx) into `asr` events.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpeechSection {
    /// `Customer.say` on a session with audio is spoken into the call.
    pub synthesis: bool,
    /// The audio of each side is recognised into the transcript.
    pub recognition: bool,
    /// The recogniser's model directory (laid out as Debian's
    /// pocketsphinx-en-us); unset: `CCDESK_ASR_MODEL`, else Debian's.
    pub model: Option<PathBuf>,
    /// Decoders (about 95 MB each) in existence at most: one per person
    /// speaking at the same moment; a sentence that starts when all are
    /// busy waits for one.
    pub max_decoders: usize,
    /// Decoders kept for the next sentence when one ends; more are freed.
    pub idle_decoders: usize,
}

impl Default for SpeechSection {
    fn default() -> Self {
        SpeechSection {
            synthesis: true,
            recognition: true,
            model: None,
            max_decoders: 8,
            idle_decoders: 2,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSection {
    /// Address to listen on when `--listen` is not given.
    pub listen: String,
    /// Where the session records live; relative paths are taken from the
    /// config file's folder; unset: the platform's data directory.
    pub data_dir: Option<PathBuf>,
    /// Seconds between WebSocket pings; a peer silent for two intervals is
    /// dropped. 0 turns pings off.
    pub ping_interval: u64,
    /// Requests a connection may make per second on average...
    pub rate_limit_per_second: u32,
    /// ...and in one burst.
    pub rate_limit_burst: u32,
    /// Frames queued for a connection that does not read before it is dropped.
    pub outbound_queue: usize,
    /// Open connections one source address may have; more are closed at
    /// once. 0: no cap.
    pub max_connections_per_address: usize,
    /// The certificate chain and private key (PEM) of `wss://`; without
    /// them the server speaks `ws://`.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Plain `ws://` beyond loopback (behind a TLS-terminating proxy, say);
    /// refused otherwise.
    pub allow_plaintext: bool,
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            listen: "127.0.0.1:7070".into(),
            data_dir: None,
            ping_interval: 30,
            rate_limit_per_second: 50,
            rate_limit_burst: 100,
            outbound_queue: 4096,
            max_connections_per_address: 256,
            tls_cert: None,
            tls_key: None,
            allow_plaintext: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    /// The key tokens are signed with (at least 16 characters). The
    /// environment variable CCDESK_SECRET overrides it.
    pub secret: String,
    /// Lifetime in seconds of a token issued without `--ttl`.
    #[serde(default = "default_ttl")]
    pub default_ttl: u64,
}

fn default_ttl() -> u64 {
    12 * 3600
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CenterSection {
    /// Seconds an agent has to accept an offer (callIn's `timeout`); 0: no limit.
    pub ring_timeout: u64,
    /// Seconds of after-call work (`arrange`) after a session ends; 0: none.
    pub after_call_work: u64,
    /// Offers missed in a row after which an agent is set `notReady`; 0: never.
    pub max_missed_offers: u32,
    /// Seconds a session may last once accepted before the server ends it
    /// (closeBy `timer`); 0: no limit.
    pub max_session_length: u64,
    /// Seconds a session is kept after its agent's last tab disconnects.
    pub reconnect_grace: u64,
    /// Seconds an outbound call may ring at the far end before it is given up.
    pub dial_timeout: u64,
    /// The break reasons `Agent.setStatus` rest accepts.
    pub break_reasons: Vec<String>,
    /// Caller number of outbound calls that don't name one.
    pub caller_phone_number: String,
    /// Status an agent has after logging in when no tab of theirs was open.
    pub login_status: String,
    /// Milliseconds between the partial `asr` results of `Customer.say`
    /// (one word each); 0 sends them all at once.
    pub asr_word_ms: u64,
    /// Ended sessions kept in an agent's list until `Call.deleteCall`.
    pub max_ended_sessions: usize,
    /// Seconds within which an answer counts toward the service level
    /// (the wallboard's figures).
    pub service_level_threshold: u64,
    /// Seconds an agent who let an offer ring out, or declined it, is not
    /// offered anything; 0: offered again at once.
    pub no_answer_delay: u64,
    /// The key a phone caller waiting in a queue presses to be called back
    /// at their number instead of waiting (one of 0-9 * #); none: callers
    /// cannot ask by key.
    pub callback_key: Option<String>,
}

impl Default for CenterSection {
    fn default() -> Self {
        CenterSection {
            ring_timeout: 30,
            after_call_work: 15,
            max_missed_offers: 3,
            max_session_length: 7200,
            reconnect_grace: 30,
            dial_timeout: 45,
            break_reasons: vec!["Meal".into(), "Meeting".into(), "Training".into()],
            caller_phone_number: "+15550100".into(),
            login_status: "free".into(),
            asr_word_ms: 250,
            max_ended_sessions: 20,
            service_level_threshold: 20,
            no_answer_delay: 5,
            callback_key: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillGroup {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Seconds a session waits before the agents of `overflow_to` may be
    /// offered it too (its own group's agents still may).
    #[serde(default)]
    pub overflow_after: Option<u64>,
    /// The skill group sessions overflow to.
    #[serde(default)]
    pub overflow_to: Option<String>,
    /// Seconds a session may wait before it ends, closeBy `admin`,
    /// mainReason `queueTimeout`.
    #[serde(default)]
    pub max_wait: Option<u64>,
    /// The wrap-up codes agents pick from for its sessions (`Call.setWrapUp`).
    #[serde(default)]
    pub wrap_up_codes: Vec<String>,
    /// After-call work does not end, and the agent cannot go back to work,
    /// until a code is set.
    #[serde(default)]
    pub wrap_up_required: bool,
}

/// The longest a wrap-up code may be, characters.
pub const MAX_WRAP_UP_CODE: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    Agent,
    Admin,
    Inspector,
    Trunk,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Admin => "admin",
            Role::Inspector => "inspector",
            Role::Trunk => "trunk",
        }
    }
    pub fn is_seat(self) -> bool {
        !matches!(self, Role::Trunk)
    }
    pub fn is_supervisor(self) -> bool {
        matches!(self, Role::Admin | Role::Inspector)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub id: String,
    pub role: Role,
    #[serde(default)]
    pub skill_groups: Vec<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// Where this seat's audio goes: `staffSeat` (the terminal, over
    /// WebRTC), `staffPhoneSeat` or `staffExtensionSeat` (a phone: the
    /// terminal only controls the call). Sessions carry it as `serverType`.
    #[serde(default)]
    pub seat_type: SeatType,
    /// The password of the seat's SIP desk phone (it registers as the user id).
    #[serde(default)]
    pub sip_password: Option<String>,
    /// The seat's mobile number, dialled through the trunk.
    #[serde(default)]
    pub mobile: Option<String>,
    /// The argon2id hash (PHC string) of the user's password, for logging
    /// in with it (`ccdesk user passwd` sets it in the server's database).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    /// How many chats the agent handles at once (1 to 20): an agent in
    /// chats, and in no call, may be offered chats up to this number.
    #[serde(default = "default_max_chats")]
    pub max_chats: usize,
}

fn default_max_chats() -> usize {
    DEFAULT_MAX_CHATS
}

/// Chats an agent handles at once unless the config says otherwise.
pub const DEFAULT_MAX_CHATS: usize = 3;
/// The most chats the config lets an agent handle at once.
pub const MAX_CHATS: usize = 20;

/// Secrets that ship with ccdesk (the example config's, the demo's): never
/// accepted for a server reachable from other machines.
pub const SHIPPED_SECRETS: &[&str] = &["ccdesk-demo-secret-change-me", "replaced-at-start"];

/// The shortest secret (bytes) a server reachable from other machines takes.
pub const MIN_EXPOSED_SECRET: usize = 32;

/// The config `ccdesk serve --init` writes: the example config with a fresh
/// random secret (64 hex digits: 32 random bytes).
pub fn init_config() -> String {
    let bytes: [u8; 32] = rand::random();
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let example = include_str!("../../config/server.toml");
    example
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("secret = ") {
                format!("secret = \"{secret}\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The shortest `sip_password` taken: a desk phone's digest is exposed to
/// anyone who can send it a REGISTER.
pub const MIN_SIP_PASSWORD: usize = 8;

impl User {
    /// A seat's phone settings: a desk phone seat has a password to
    /// register with, a mobile seat a number to dial; trunks have neither.
    fn validate_phones(&self) -> anyhow::Result<()> {
        let id = &self.id;
        if !self.role.is_seat() && (self.sip_password.is_some() || self.mobile.is_some()) {
            bail!("users: `{id}` is a trunk: sip_password and mobile are for seats");
        }
        if let Some(pw) = &self.sip_password {
            if pw.chars().count() < MIN_SIP_PASSWORD {
                bail!(
                    "users: `{id}` sip_password must be at least {MIN_SIP_PASSWORD} characters long"
                );
            }
        }
        if let Some(m) = &self.mobile {
            if !super::center::valid_number(m.trim()) {
                bail!(
                    "users: `{id}` mobile `{m}` is not a phone number (1-32 of 0-9 + - ( ) * # and space, with a digit)"
                );
            }
        }
        match self.seat_type {
            SeatType::StaffExtensionSeat if self.sip_password.is_none() => bail!(
                "users: `{id}` is a staffExtensionSeat but has no sip_password for its desk phone to register with"
            ),
            SeatType::StaffPhoneSeat if self.mobile.is_none() => {
                bail!("users: `{id}` is a staffPhoneSeat but has no mobile number")
            }
            _ => Ok(()),
        }
    }
}

/// The SDK's serverType values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SeatType {
    #[default]
    StaffSeat,
    StaffPhoneSeat,
    StaffExtensionSeat,
}

impl SeatType {
    pub fn as_str(self) -> &'static str {
        match self {
            SeatType::StaffSeat => "staffSeat",
            SeatType::StaffPhoneSeat => "staffPhoneSeat",
            SeatType::StaffExtensionSeat => "staffExtensionSeat",
        }
    }
    /// The value named on the wire, if it is one.
    pub fn parse(s: &str) -> Option<SeatType> {
        [
            SeatType::StaffSeat,
            SeatType::StaffPhoneSeat,
            SeatType::StaffExtensionSeat,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
    /// Audio flows through the terminal (WebRTC with the server).
    pub fn audio_in_terminal(self) -> bool {
        self == SeatType::StaffSeat
    }
}

impl ServerConfig {
    /// Read, parse and check a config file; errors name the file and what is wrong.
    pub fn load(path: &Path) -> anyhow::Result<ServerConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        let mut cfg = ServerConfig::parse(&text)
            .with_context(|| format!("invalid config file {}", path.display()))?;
        if let Some(dir) = &cfg.server.data_dir {
            if dir.is_relative() {
                let base = path.parent().unwrap_or(Path::new("."));
                cfg.server.data_dir = Some(base.join(dir));
            }
        }
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut cfg.server.tls_cert, &mut cfg.server.tls_key]
            .into_iter()
            .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        if let Some(dir) = &cfg.speech.model {
            if dir.is_relative() {
                let base = path.parent().unwrap_or(Path::new("."));
                cfg.speech.model = Some(base.join(dir));
            }
        }
        Ok(cfg)
    }

    /// Parse and check config text.
    pub fn parse(text: &str) -> anyhow::Result<ServerConfig> {
        let mut cfg: ServerConfig = toml::from_str(text)?;
        if let Ok(secret) = std::env::var("CCDESK_SECRET") {
            if !secret.is_empty() {
                cfg.auth.secret = secret;
            }
        }
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.auth.secret.chars().count() < 16 {
            bail!("auth.secret must be at least 16 characters long");
        }
        if self.server.tls_cert.is_some() != self.server.tls_key.is_some() {
            bail!(
                "server.tls_cert and server.tls_key go together: set both for wss://, or neither"
            );
        }
        for u in &self.users {
            if !(1..=MAX_CHATS).contains(&u.max_chats) {
                bail!(
                    "users: `{}` has max_chats = {}: it must be 1 to {MAX_CHATS}",
                    u.id,
                    u.max_chats
                );
            }
        }
        if let Some(k) = &self.center.callback_key {
            let mut chars = k.chars();
            let one = matches!((chars.next(), chars.next()), (Some(c), None) if c.is_ascii_digit() || c == '*' || c == '#');
            if !one {
                bail!("center.callback_key must be one key of 0-9 * #, not `{k}`");
            }
        }
        self.listen_addr()?;
        let mut groups = HashSet::new();
        for g in &self.skill_groups {
            if g.id.is_empty() {
                bail!("skill_groups: an id is empty");
            }
            if !groups.insert(g.id.as_str()) {
                bail!("skill_groups: id `{}` appears twice", g.id);
            }
        }
        for g in &self.skill_groups {
            let mut seen = HashSet::new();
            for c in &g.wrap_up_codes {
                if c.trim().is_empty() || c.chars().count() > MAX_WRAP_UP_CODE {
                    bail!(
                        "skill_groups: `{}` has a wrap-up code that is blank or longer than {MAX_WRAP_UP_CODE} characters",
                        g.id
                    );
                }
                if !seen.insert(c.as_str()) {
                    bail!("skill_groups: `{}` lists wrap-up code `{c}` twice", g.id);
                }
            }
            if g.wrap_up_required && g.wrap_up_codes.is_empty() {
                bail!(
                    "skill_groups: `{}` has wrap_up_required but no wrap_up_codes",
                    g.id
                );
            }
            match (&g.overflow_after, &g.overflow_to) {
                (Some(_), Some(to)) => {
                    if to == &g.id {
                        bail!("skill_groups: `{}` overflows to itself", g.id);
                    }
                    if !groups.contains(to.as_str()) {
                        bail!(
                            "skill_groups: `{}` overflows to `{to}`, which is not in skill_groups",
                            g.id
                        );
                    }
                }
                (None, None) => {}
                _ => bail!(
                    "skill_groups: `{}` needs both overflow_after and overflow_to, or neither",
                    g.id
                ),
            }
        }
        let mut users = HashSet::new();
        for u in &self.users {
            if u.id.is_empty() {
                bail!("users: an id is empty");
            }
            if !users.insert(u.id.as_str()) {
                bail!("users: id `{}` appears twice", u.id);
            }
            for g in &u.skill_groups {
                if !groups.contains(g.as_str()) {
                    bail!(
                        "users: `{}` names skill group `{g}`, which is not in skill_groups",
                        u.id
                    );
                }
            }
            u.validate_phones()?;
        }
        if !matches!(
            self.center.login_status.as_str(),
            "free" | "notReady" | "offline"
        ) {
            bail!(
                "center.login_status must be free, notReady or offline, not `{}`",
                self.center.login_status
            );
        }
        if self.server.rate_limit_per_second == 0 || self.server.rate_limit_burst == 0 {
            bail!("server.rate_limit_per_second and server.rate_limit_burst must be above 0");
        }
        self.validate_sip(&groups)?;
        self.validate_cluster()?;
        if let Some(url) = &self.records.url {
            crate::server::pg_records::check_url(url).context("records.url")?;
        }
        if self.speech.max_decoders == 0 {
            bail!("speech.max_decoders must be above 0");
        }
        if self.speech.idle_decoders > self.speech.max_decoders {
            bail!("speech.idle_decoders must not be above speech.max_decoders");
        }
        if self.server.outbound_queue == 0 {
            bail!("server.outbound_queue must be above 0");
        }
        Ok(())
    }

    fn validate_cluster(&self) -> anyhow::Result<()> {
        let c = &self.cluster;
        let Some(url) = &c.nats else {
            return Ok(());
        };
        if !url
            .split(',')
            .all(|u| u.trim().starts_with("nats://") || u.trim().starts_with("tls://"))
        {
            bail!("cluster.nats `{url}` must be nats://host:port (commas between several)");
        }
        // Names are NATS subject tokens and a KV key.
        let token = |s: &str| {
            !s.is_empty()
                && s.len() <= 64
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if !token(&c.center) {
            bail!(
                "cluster.center `{}` must be 1 to 64 of letters, digits, - and _",
                c.center
            );
        }
        if let Some(n) = &c.node {
            if !token(n) {
                bail!("cluster.node `{n}` must be 1 to 64 of letters, digits, - and _");
            }
        }
        if c.lease_ms < 300 {
            bail!("cluster.lease_ms must be at least 300");
        }
        // A seat's phone rings through the SIP of one node while the
        // call's audio is on the node where the call landed.
        for u in &self.users {
            if u.seat_type != SeatType::StaffSeat {
                bail!(
                    "users: `{}` is a {}: desk phones and mobiles are not available in a cluster yet, only SIP trunks (docs/ARCHITECTURE.md, \"Several nodes\")",
                    u.id,
                    u.seat_type.as_str()
                );
            }
        }
        Ok(())
    }

    fn validate_sip(&self, groups: &HashSet<&str>) -> anyhow::Result<()> {
        let sip = &self.sip;
        if let Some(l) = &sip.listen {
            l.parse::<SocketAddr>()
                .with_context(|| format!("sip.listen `{l}` is not an address:port"))?;
        }
        if let Some(l) = &sip.tls_listen {
            l.parse::<SocketAddr>()
                .with_context(|| format!("sip.tls_listen `{l}` is not an address:port"))?;
            if sip.listen.is_none() {
                bail!("sip.tls_listen needs sip.listen (SIP over UDP and TCP) as well");
            }
            if !self.tls() {
                bail!(
                    "sip.tls_listen needs a certificate: set [server] tls_cert and tls_key (SIP over TLS uses the same ones as wss://)"
                );
            }
        }
        let [lo, hi] = sip.rtp_ports;
        if lo == 0 || lo > hi || hi - lo < 1 {
            bail!("sip.rtp_ports must be two ports, the first below the second, not [{lo}, {hi}]");
        }
        if sip.max_invites_per_second == 0 {
            bail!("sip.max_invites_per_second must be above 0");
        }
        let mut ids = HashSet::new();
        for t in &sip.trunks {
            if t.id.is_empty() || !ids.insert(t.id.as_str()) {
                bail!("sip.trunks: id `{}` is empty or appears twice", t.id);
            }
            if !t.address.contains(':') {
                bail!(
                    "sip.trunks: `{}` address `{}` must be host:port",
                    t.id,
                    t.address
                );
            }
            if t.username.is_some() != t.password.is_some() {
                bail!(
                    "sip.trunks: `{}` needs both username and password, or neither",
                    t.id
                );
            }
        }
        let mut numbers = HashSet::new();
        for n in &sip.numbers {
            if n.number.is_empty() || !numbers.insert(n.number.as_str()) {
                bail!(
                    "sip.numbers: number `{}` is empty or appears twice",
                    n.number
                );
            }
            if !groups.contains(n.skill_group.as_str()) {
                bail!(
                    "sip.numbers: `{}` queues on skill group `{}`, which is not in skill_groups",
                    n.number,
                    n.skill_group
                );
            }
        }
        Ok(())
    }

    /// Refuse to serve beyond this machine with a secret anyone may know:
    /// one shipped with ccdesk, or shorter than [`MIN_EXPOSED_SECRET`]
    /// bytes. On loopback any secret of the usual length serves (the demo,
    /// tests, a machine's own tools).
    pub fn check_exposure(&self, addr: SocketAddr) -> anyhow::Result<()> {
        if addr.ip().is_loopback() {
            return Ok(());
        }
        let secret = &self.auth.secret;
        let why = if SHIPPED_SECRETS.contains(&secret.as_str()) {
            "the secret shipped with ccdesk (anyone can sign tokens with it)"
        } else if secret.len() < MIN_EXPOSED_SECRET {
            "a secret shorter than 32 bytes"
        } else if !self.tls() && !self.server.allow_plaintext {
            bail!(
                "refusing to serve plain ws:// on {addr}, beyond this machine: set [server] tls_cert and tls_key (wss://), or allow_plaintext = true behind a proxy that terminates TLS"
            );
        } else {
            return Ok(());
        };
        bail!(
            "refusing to listen on {addr}, beyond this machine, with {why}: set [auth] secret (or the CCDESK_SECRET environment variable) to at least {MIN_EXPOSED_SECRET} random bytes; `ccdesk serve --init --config <file>` writes a config with a fresh one"
        )
    }

    /// `wss://`: a certificate and key are configured.
    pub fn tls(&self) -> bool {
        self.server.tls_cert.is_some() && self.server.tls_key.is_some()
    }

    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.server.listen.parse().with_context(|| {
            format!(
                "server.listen `{}` is not an address:port",
                self.server.listen
            )
        })
    }

    /// The IP media sockets bind: `media.ip`, else the host of `listen`.
    pub fn media_ip(&self) -> std::net::IpAddr {
        self.media
            .ip
            .or_else(|| self.listen_addr().ok().map(|a| a.ip()))
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
    }

    /// Where `id`'s audio goes (staffSeat for users the config does not know).
    pub fn seat_type(&self, id: &str) -> SeatType {
        self.user(id).map(|u| u.seat_type).unwrap_or_default()
    }

    pub fn skill_group(&self, id: &str) -> Option<&SkillGroup> {
        self.skill_groups.iter().find(|g| g.id == id)
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }

    /// The folder records are kept in.
    pub fn data_dir(&self) -> anyhow::Result<PathBuf> {
        if let Some(dir) = &self.server.data_dir {
            return Ok(dir.clone());
        }
        directories::ProjectDirs::from("", "", "ccdesk")
            .map(|d| d.data_dir().to_path_buf())
            .context("no home directory to keep data in: set server.data_dir")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = "[auth]\nsecret = \"0123456789abcdef\"\n";

    #[test]
    fn shipped_config_parses() {
        let text = include_str!("../../config/server.toml");
        let cfg = ServerConfig::parse(text).unwrap();
        assert_eq!(cfg.users.len(), 6);
        assert!(cfg.center.break_reasons.contains(&"Meal".to_string()));
    }

    #[test]
    fn errors_name_the_problem() {
        let e = ServerConfig::parse("[auth]\nsecret = \"short\"\n").unwrap_err();
        assert!(e.to_string().contains("auth.secret"));
        let e = ServerConfig::parse(&format!("{MIN}[center]\nring_timeot = 3\n")).unwrap_err();
        assert!(format!("{e:#}").contains("ring_timeot"), "{e:#}");
        let e = ServerConfig::parse(&format!(
            "{MIN}[[users]]\nid = \"a\"\nrole = \"agent\"\nskill_groups = [\"nope\"]\n"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("nope"));
        let e = ServerConfig::parse(&format!("{MIN}[[users]]\nid = \"a\"\nrole = \"boss\"\n"))
            .unwrap_err();
        assert!(format!("{e:#}").contains("boss"), "{e:#}");
    }

    #[test]
    fn seat_phone_settings_are_checked() {
        let user = |extra: &str| {
            ServerConfig::parse(&format!(
                "{MIN}[[users]]\nid = \"a\"\nrole = \"agent\"\n{extra}"
            ))
        };
        let cfg = user(
            "seat_type = \"staffExtensionSeat\"\nsip_password = \"desk-phone\"\nmobile = \"+49 170 1234567\"\n",
        )
        .unwrap();
        assert_eq!(cfg.seat_type("a"), SeatType::StaffExtensionSeat);
        for (extra, names) in [
            ("sip_password = \"short\"\n", "at least 8"),
            ("mobile = \"call me\"\n", "`call me` is not a phone number"),
            ("seat_type = \"staffExtensionSeat\"\n", "no sip_password"),
            ("seat_type = \"staffPhoneSeat\"\n", "no mobile"),
        ] {
            let e = user(extra).unwrap_err();
            assert!(e.to_string().contains(names), "{extra}: {e}");
        }
        let e = ServerConfig::parse(&format!(
            "{MIN}[[users]]\nid = \"t\"\nrole = \"trunk\"\nmobile = \"123\"\n"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("is a trunk"), "{e}");
        // A cluster takes SIP trunks, not seats' phones.
        let cluster = "[cluster]\nnats = \"nats://127.0.0.1:4222\"\n";
        let e = ServerConfig::parse(&format!(
            "{MIN}{cluster}[[users]]\nid = \"a\"\nrole = \"agent\"\nseat_type = \"staffPhoneSeat\"\nmobile = \"+49 170 1234567\"\n"
        ))
        .unwrap_err();
        assert!(
            e.to_string().contains("`a` is a staffPhoneSeat")
                && e.to_string().contains("not available in a cluster"),
            "{e}"
        );
        let sip = "[sip]\nlisten = \"127.0.0.1:5060\"\n";
        ServerConfig::parse(&format!(
            "{MIN}{cluster}{sip}[[users]]\nid = \"a\"\nrole = \"agent\"\n"
        ))
        .expect("SIP trunks in a cluster");
    }

    #[test]
    fn overflow_must_name_another_group_and_come_with_its_delay() {
        let groups = "[[skill_groups]]\nid = \"a\"\n[[skill_groups]]\nid = \"b\"\n";
        let with = |extra: &str| {
            ServerConfig::parse(&format!(
                "{MIN}{groups}[[skill_groups]]\nid = \"c\"\n{extra}"
            ))
        };
        let cfg = with("overflow_after = 30\noverflow_to = \"a\"\nmax_wait = 600\n").unwrap();
        let c = cfg.skill_group("c").unwrap();
        assert_eq!(
            (c.overflow_after, c.overflow_to.as_deref(), c.max_wait),
            (Some(30), Some("a"), Some(600))
        );
        for (extra, names) in [
            ("overflow_after = 30\noverflow_to = \"zz\"\n", "`zz`"),
            ("overflow_after = 30\noverflow_to = \"c\"\n", "itself"),
            ("overflow_after = 30\n", "both"),
            ("overflow_to = \"a\"\n", "both"),
        ] {
            let e = with(extra).unwrap_err();
            assert!(e.to_string().contains(names), "{extra}: {e}");
        }
    }
}
