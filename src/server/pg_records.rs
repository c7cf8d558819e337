//! Session records and users in PostgreSQL (`[records] url`): the store
//! that several nodes share. The same tables and the same meaning as
//! [`SqliteRecords`](super::records::SqliteRecords): an ended session is one
//! row of `sessions` (its lists and maps as JSON text), a batch of writes is
//! one transaction, and a stored user keeps its password hash when it is
//! saved again: only [`Write::Password`] changes it (the hash is a column of
//! its own, which a save of the user does not touch).
//!
//! The `postgres` client is blocking, and runs a small tokio runtime of its
//! own: used, or dropped, on a thread that runs async tasks, it panics
//! ("Cannot start a runtime from within a runtime"). So each connection
//! lives on a thread of its own and the store hands it jobs: a [`PgRecords`]
//! can be opened, used and dropped anywhere, async code included (the
//! server asks its store for the users and for readers while it starts).
//! A connection that was lost is opened again by the next job.
//!
//! Recordings are files on the node that recorded them: a store opened
//! with [`PgRecords::with_recordings_dir`] has them written there (and
//! the record names that node's file); without it, nothing is recorded.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use anyhow::{anyhow, Context};
use postgres::config::{Host, SslMode};
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, GenericClient, NoTls, Row, Statement};

use super::config::User;
use super::records::{RecordReader, RecordStore, SessionRecord, Write};

/// How long a connection attempt may take when the URL does not say
/// (`connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long sent data may stay unacknowledged before the connection is
/// given up (Linux; `tcp_user_timeout` in the URL overrides it): a server
/// gone from the network fails writes in this long, not TCP's minutes.
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(30);

/// Taken (for its transaction) by whoever creates the tables, so that
/// nodes starting together do not race on them.
const SCHEMA_LOCK: i64 = 0x6363_6465_736b; // "ccdesk"

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS sessions (
    session_id    TEXT COLLATE "C" PRIMARY KEY,
    type          TEXT NOT NULL,
    direction     TEXT NOT NULL,
    skill_group   TEXT,
    agents        TEXT NOT NULL,
    caller        TEXT COLLATE "C",
    callee        TEXT,
    created_at    BIGINT NOT NULL,
    offered_at    BIGINT,
    accepted_at   BIGINT,
    ended_at      BIGINT NOT NULL,
    hold_ms       BIGINT NOT NULL,
    acw_ms        BIGINT,
    close_by      TEXT NOT NULL,
    main_reason   TEXT,
    sub_reason    TEXT,
    missed_offers BIGINT NOT NULL,
    transfers     TEXT NOT NULL,
    recording     TEXT,
    transcript    TEXT,
    uui           TEXT,
    wrap_up_code  TEXT,
    wrap_up_notes TEXT,
    attributes    TEXT,
    consult_of    TEXT,
    callback      TEXT,
    recording_pauses TEXT
);
CREATE INDEX IF NOT EXISTS sessions_ended_at ON sessions (ended_at);
CREATE INDEX IF NOT EXISTS sessions_caller ON sessions (caller, ended_at);
CREATE TABLE IF NOT EXISTS users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    "user"        TEXT NOT NULL,
    password_hash TEXT
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"#;

/// The columns of `sessions`, in the order [`record_of_row`] reads them
/// and [`save_on`] writes them.
const COLUMNS: [&str; 27] = [
    "session_id",
    "type",
    "direction",
    "skill_group",
    "agents",
    "caller",
    "callee",
    "created_at",
    "offered_at",
    "accepted_at",
    "ended_at",
    "hold_ms",
    "acw_ms",
    "close_by",
    "main_reason",
    "sub_reason",
    "missed_offers",
    "transfers",
    "recording",
    "transcript",
    "uui",
    "wrap_up_code",
    "wrap_up_notes",
    "attributes",
    "consult_of",
    "callback",
    "recording_pauses",
];

/// Records and users in PostgreSQL; see the module's documentation.
pub struct PgRecords {
    conn: Worker,
    target: Arc<Target>,
    recordings: Option<PathBuf>,
}

/// Check `url` as [`PgRecords::open`] would, without connecting: for the
/// config's validation (same messages, the password hidden).
pub fn check_url(url: &str) -> anyhow::Result<()> {
    Target::parse(url).map(|_| ())
}

impl PgRecords {
    /// Connect to `url` (`postgres://user:password@host:port/database`)
    /// and create the tables that are not there yet. The error says what
    /// was wrong (the URL, the host, the password, the database), and
    /// never shows the password. Safe to call from async code (it blocks
    /// the calling thread while it connects, as opening SQLite does).
    pub fn open(url: &str) -> anyhow::Result<PgRecords> {
        let target = Arc::new(Target::parse(url)?);
        let conn = Worker::start(target.clone())?;
        // The first job connects and creates the tables.
        conn.run(|_| Ok(()))?;
        Ok(PgRecords {
            conn,
            target,
            recordings: None,
        })
    }

    /// Write audio recordings under `dir` (on this node).
    pub fn with_recordings_dir(mut self, dir: PathBuf) -> PgRecords {
        self.recordings = Some(dir);
        self
    }

    /// The URL, its password hidden (for logs).
    pub fn url(&self) -> &str {
        &self.target.shown
    }

    /// Records that ended at or after `since_ms`, oldest first.
    pub fn list(&self, since_ms: u64) -> anyhow::Result<Vec<SessionRecord>> {
        self.conn.run(move |c| {
            let rows = c
                .client
                .query(&c.st.ended_since, &[&int(since_ms)])
                .context("cannot read the session records")?;
            rows.iter().map(record_of_row).collect()
        })
    }

    /// A contact's sessions, newest first, at most `limit`.
    pub fn history(&self, caller: &str, limit: usize) -> anyhow::Result<Vec<SessionRecord>> {
        let caller = clean(caller).into_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.conn.run(move |c| {
            let rows = c
                .client
                .query(&c.st.history, &[&caller, &limit])
                .context("cannot read a contact's history")?;
            rows.iter().map(record_of_row).collect()
        })
    }

    /// The record of `session_id`, if there is one.
    pub fn get(&self, session_id: &str) -> anyhow::Result<Option<SessionRecord>> {
        let id = clean(session_id).into_owned();
        self.conn.run(move |c| {
            let row = c
                .client
                .query_opt(&c.st.get, &[&id])
                .context("cannot read a session record")?;
            row.as_ref().map(record_of_row).transpose()
        })
    }

    /// Apply `writes` in one transaction.
    fn write_owned(&self, writes: Vec<Write>) -> anyhow::Result<()> {
        self.conn.run(move |c| {
            let st = &c.st;
            let mut tx = c
                .client
                .transaction()
                .context("cannot begin writing the records")?;
            for w in &writes {
                apply(&mut tx, st, w)?;
            }
            tx.commit().context("cannot commit the records")?;
            Ok(())
        })
    }
}

/// One write, inside the batch's transaction.
fn apply(tx: &mut impl GenericClient, st: &Statements, w: &Write) -> anyhow::Result<()> {
    match w {
        Write::Save(r) => {
            save_on(tx, st, r).with_context(|| format!("cannot save session `{}`", r.session_id))?
        }
        Write::AddAcw { session_id, acw_ms } => {
            tx.execute(&st.add_acw, &[&clean(session_id), &int(*acw_ms)])
                .with_context(|| format!("cannot add after-call work to `{session_id}`"))?;
        }
        Write::SetWrapUp {
            session_id,
            code,
            notes,
        } => {
            let notes = notes.as_deref().map(clean);
            tx.execute(&st.set_wrap_up, &[&clean(session_id), &clean(code), &notes])
                .with_context(|| format!("cannot set the wrap-up of `{session_id}`"))?;
        }
        Write::User(u) => save_user_on(tx, st, u)?,
        Write::RemoveUser(id) => {
            tx.execute(&st.remove_user, &[&clean(id)])
                .with_context(|| format!("cannot remove user `{id}`"))?;
        }
        Write::Password { user_id, hash } => {
            let n = tx
                .execute(&st.set_password, &[&clean(user_id), &clean(hash)])
                .with_context(|| format!("cannot set the password of `{user_id}`"))?;
            if n == 0 {
                anyhow::bail!("user `{user_id}` is not in the database");
            }
        }
    }
    Ok(())
}

fn save_on(tx: &mut impl GenericClient, st: &Statements, r: &SessionRecord) -> anyhow::Result<()> {
    let session_id = clean(&r.session_id);
    let kind = clean(&r.kind);
    let direction = clean(&r.direction);
    let skill_group = opt(&r.skill_group);
    let agents = serde_json::to_string(&r.agents)?;
    let caller = opt(&r.caller);
    let callee = opt(&r.callee);
    let created_at = int(r.created_at);
    let offered_at = r.offered_at.map(int);
    let accepted_at = r.accepted_at.map(int);
    let ended_at = int(r.ended_at);
    let hold_ms = int(r.hold_ms);
    let acw_ms = r.acw_ms.map(int);
    let close_by = clean(&r.close_by);
    let main_reason = opt(&r.main_reason);
    let sub_reason = opt(&r.sub_reason);
    let missed_offers = i64::from(r.missed_offers);
    let transfers = serde_json::to_string(&r.transfers)?;
    let recording = opt(&r.recording);
    let transcript = json_unless_empty(r.transcript.is_empty(), &r.transcript)?;
    let uui = opt(&r.uui);
    let wrap_up_code = opt(&r.wrap_up_code);
    let wrap_up_notes = opt(&r.wrap_up_notes);
    let attributes = json_unless_empty(r.attributes.is_empty(), &r.attributes)?;
    let consult_of = opt(&r.consult_of);
    let callback = opt(&r.callback);
    let recording_pauses = json_unless_empty(r.recording_pauses.is_empty(), &r.recording_pauses)?;
    let params: [&(dyn ToSql + Sync); 27] = [
        &session_id,
        &kind,
        &direction,
        &skill_group,
        &agents,
        &caller,
        &callee,
        &created_at,
        &offered_at,
        &accepted_at,
        &ended_at,
        &hold_ms,
        &acw_ms,
        &close_by,
        &main_reason,
        &sub_reason,
        &missed_offers,
        &transfers,
        &recording,
        &transcript,
        &uui,
        &wrap_up_code,
        &wrap_up_notes,
        &attributes,
        &consult_of,
        &callback,
        &recording_pauses,
    ];
    tx.execute(&st.save, &params)?;
    Ok(())
}

/// An optional text column, NUL-free.
fn opt(v: &Option<String>) -> Option<Cow<'_, str>> {
    v.as_deref().map(clean)
}

/// A list or map as JSON text; NULL when it is empty (as SQLite keeps it).
fn json_unless_empty<T: serde::Serialize>(empty: bool, v: &T) -> anyhow::Result<Option<String>> {
    Ok(if empty {
        None
    } else {
        Some(serde_json::to_string(v)?)
    })
}

/// Keep `u`: a new user with its password hash; a user already stored
/// keeps the hash stored (the upsert does not touch that column).
fn save_user_on(tx: &mut impl GenericClient, st: &Statements, u: &User) -> anyhow::Result<()> {
    let hash = u.password_hash.as_deref().map(clean);
    let mut rest = u.clone();
    rest.password_hash = None;
    let json = serde_json::to_string(&rest)?;
    tx.execute(&st.save_user, &[&clean(&u.id), &clean(&json), &hash])
        .with_context(|| format!("cannot save user `{}`", u.id))?;
    Ok(())
}

/// A stored user: its JSON, with the hash of its own column.
fn user_of(json: &str, hash: Option<String>) -> serde_json::Result<User> {
    let mut u: User = serde_json::from_str(json)?;
    u.password_hash = hash;
    Ok(u)
}

fn record_of_row(r: &Row) -> anyhow::Result<SessionRecord> {
    let ms = |i: usize| -> anyhow::Result<u64> {
        Ok(u64::try_from(r.try_get::<_, i64>(i)?).unwrap_or(0))
    };
    let opt_ms = |i: usize| -> anyhow::Result<Option<u64>> {
        Ok(r.try_get::<_, Option<i64>>(i)?
            .map(|v| u64::try_from(v).unwrap_or(0)))
    };
    let json = |i: usize| -> anyhow::Result<Option<String>> { Ok(r.try_get(i)?) };
    Ok(SessionRecord {
        session_id: r.try_get(0)?,
        kind: r.try_get(1)?,
        direction: r.try_get(2)?,
        skill_group: r.try_get(3)?,
        agents: from_json(json(4)?),
        caller: r.try_get(5)?,
        callee: r.try_get(6)?,
        created_at: ms(7)?,
        offered_at: opt_ms(8)?,
        accepted_at: opt_ms(9)?,
        ended_at: ms(10)?,
        hold_ms: ms(11)?,
        acw_ms: opt_ms(12)?,
        close_by: r.try_get(13)?,
        main_reason: r.try_get(14)?,
        sub_reason: r.try_get(15)?,
        missed_offers: u32::try_from(r.try_get::<_, i64>(16)?).unwrap_or(u32::MAX),
        transfers: from_json(json(17)?),
        recording: r.try_get(18)?,
        transcript: from_json(json(19)?),
        uui: r.try_get(20)?,
        wrap_up_code: r.try_get(21)?,
        wrap_up_notes: r.try_get(22)?,
        attributes: from_json(json(23)?),
        consult_of: r.try_get(24)?,
        callback: r.try_get(25)?,
        recording_pauses: from_json(json(26)?),
    })
}

/// A JSON column as SQLite's store reads it: empty when absent or unreadable.
fn from_json<T: serde::de::DeserializeOwned + Default>(text: Option<String>) -> T {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Unix ms (or a count) as PostgreSQL's BIGINT.
fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// PostgreSQL's text cannot hold NUL: it becomes U+FFFD, so that a record
/// with one (a chat's text, a note) is kept rather than refused.
fn clean(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

impl RecordStore for PgRecords {
    fn save(&mut self, rec: &SessionRecord) -> anyhow::Result<()> {
        self.write_owned(vec![Write::Save(Box::new(rec.clone()))])
    }

    fn add_acw(&mut self, session_id: &str, acw_ms: u64) -> anyhow::Result<()> {
        self.write_owned(vec![Write::AddAcw {
            session_id: session_id.to_string(),
            acw_ms,
        }])
    }

    fn set_wrap_up(
        &mut self,
        session_id: &str,
        code: &str,
        notes: Option<&str>,
    ) -> anyhow::Result<()> {
        self.write_owned(vec![Write::SetWrapUp {
            session_id: session_id.to_string(),
            code: code.to_string(),
            notes: notes.map(str::to_string),
        }])
    }

    /// One transaction: all or nothing.
    fn write_batch(&mut self, batch: &[&Write]) -> anyhow::Result<()> {
        self.write_owned(batch.iter().map(|w| (*w).clone()).collect())
    }

    fn users(&mut self) -> anyhow::Result<Option<Vec<User>>> {
        self.conn.run(|c| {
            let seeded = c
                .client
                .query_opt("SELECT value FROM meta WHERE key = 'users_seeded'", &[])
                .context("cannot read whether the users were seeded")?;
            if seeded.is_none() {
                return Ok(None);
            }
            let rows = c
                .client
                .query(&c.st.users, &[])
                .context("cannot read the users")?;
            let mut out = Vec::new();
            for row in rows {
                let id: String = row.try_get(0)?;
                let json: String = row.try_get(1)?;
                match user_of(&json, row.try_get(2)?) {
                    Ok(u) => out.push(u),
                    Err(e) => {
                        tracing::warn!(user = %id, error = %e, "a stored user cannot be read; skipped")
                    }
                }
            }
            Ok(Some(out))
        })
    }

    fn seed_users(&mut self, users: &[User]) -> anyhow::Result<()> {
        let users = users.to_vec();
        self.conn.run(move |c| {
            let st = &c.st;
            let mut tx = c.client.transaction()?;
            tx.execute("DELETE FROM users", &[])?;
            for u in &users {
                save_user_on(&mut tx, st, u)?;
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0)
                .to_string();
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('users_seeded', $1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&now],
            )?;
            tx.commit().context("cannot commit the seeded users")?;
            Ok(())
        })
    }

    fn save_user(&mut self, user: &User) -> anyhow::Result<()> {
        self.write_owned(vec![Write::User(Box::new(user.clone()))])
    }

    fn remove_user(&mut self, id: &str) -> anyhow::Result<()> {
        self.write_owned(vec![Write::RemoveUser(id.to_string())])
    }

    fn set_password(&mut self, id: &str, hash: &str) -> anyhow::Result<()> {
        self.write_owned(vec![Write::Password {
            user_id: id.to_string(),
            hash: hash.to_string(),
        }])
    }

    fn recordings_dir(&self) -> Option<PathBuf> {
        self.recordings.clone()
    }

    /// A second connection, for reading beside the writer.
    fn reader(&self) -> Option<Box<dyn RecordReader>> {
        let open = Worker::start(self.target.clone()).and_then(|conn| {
            conn.run(|_| Ok(()))?;
            Ok(conn)
        });
        match open {
            Ok(conn) => Some(Box::new(PgRecords {
                conn,
                target: self.target.clone(),
                recordings: None,
            })),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "no contact history: the records cannot be opened for reading");
                None
            }
        }
    }
}

impl RecordReader for PgRecords {
    fn history(&mut self, caller: &str, limit: usize) -> anyhow::Result<Vec<SessionRecord>> {
        PgRecords::history(self, caller, limit)
    }

    fn ended_since(&mut self, since_ms: u64) -> anyhow::Result<Vec<SessionRecord>> {
        self.list(since_ms)
    }

    fn stored_user(&mut self, id: &str) -> anyhow::Result<Option<User>> {
        let id = clean(id).into_owned();
        self.conn.run(move |c| {
            let row = c
                .client
                .query_opt(&c.st.stored_user, &[&id])
                .context("cannot read a stored user")?;
            Ok(match row {
                Some(row) => user_of(&row.try_get::<_, String>(0)?, row.try_get(1)?).ok(),
                None => None,
            })
        })
    }
}

/// The statements a connection prepares once (after the tables exist).
struct Statements {
    save: Statement,
    add_acw: Statement,
    set_wrap_up: Statement,
    save_user: Statement,
    remove_user: Statement,
    set_password: Statement,
    get: Statement,
    history: Statement,
    ended_since: Statement,
    users: Statement,
    stored_user: Statement,
}

impl Statements {
    fn prepare(client: &mut Client) -> Result<Statements, postgres::Error> {
        let cols = COLUMNS.join(", ");
        let marks = (1..=COLUMNS.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let replace = COLUMNS[1..]
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(Statements {
            save: client.prepare(&format!(
                "INSERT INTO sessions ({cols}) VALUES ({marks})
                 ON CONFLICT (session_id) DO UPDATE SET {replace}"
            ))?,
            add_acw: client.prepare(
                "UPDATE sessions SET acw_ms = COALESCE(acw_ms, 0) + $2 WHERE session_id = $1",
            )?,
            set_wrap_up: client.prepare(
                "UPDATE sessions SET wrap_up_code = $2, wrap_up_notes = $3 WHERE session_id = $1",
            )?,
            save_user: client.prepare(
                r#"INSERT INTO users (id, "user", password_hash) VALUES ($1, $2, $3)
                   ON CONFLICT (id) DO UPDATE SET "user" = excluded."user""#,
            )?,
            remove_user: client.prepare("DELETE FROM users WHERE id = $1")?,
            set_password: client.prepare("UPDATE users SET password_hash = $2 WHERE id = $1")?,
            get: client.prepare(&format!(
                "SELECT {cols} FROM sessions WHERE session_id = $1"
            ))?,
            history: client.prepare(&format!(
                "SELECT {cols} FROM sessions WHERE caller = $1
                 ORDER BY ended_at DESC, session_id DESC LIMIT $2"
            ))?,
            ended_since: client.prepare(&format!(
                "SELECT {cols} FROM sessions WHERE ended_at >= $1 ORDER BY ended_at, session_id"
            ))?,
            users: client.prepare(r#"SELECT id, "user", password_hash FROM users ORDER BY id"#)?,
            stored_user: client
                .prepare(r#"SELECT "user", password_hash FROM users WHERE id = $1"#)?,
        })
    }
}

/// Where the records are: the parsed URL, and how messages name it.
struct Target {
    config: postgres::Config,
    /// The URL with its password hidden.
    shown: String,
    /// `host:port` (each of them, when the URL names several).
    place: String,
    /// Kept out of every message.
    password: Option<String>,
}

impl Target {
    fn parse(url: &str) -> anyhow::Result<Target> {
        let url = url.trim();
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            let shown = if url.contains("://") {
                format!(", not `{}`", redact(url))
            } else {
                String::new()
            };
            anyhow::bail!(
                "the [records] url must be a PostgreSQL URL, postgres://user:password@host:port/database{shown}"
            );
        }
        let shown = redact(url);
        let mut config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
            anyhow!(
                "the [records] url `{shown}` is not a valid PostgreSQL URL: {}",
                chain(&e)
            )
        })?;
        let password = config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
            anyhow::bail!("the [records] url `{shown}` names no host");
        }
        if config.get_user().is_none() {
            anyhow::bail!("the [records] url `{shown}` names no user (postgres://user:password@host:port/database)");
        }
        if config.get_ssl_mode() == SslMode::Require {
            anyhow::bail!(
                "the [records] url `{shown}` asks for sslmode=require: ccdesk connects to PostgreSQL without TLS (reach it over a private network or a local TLS tunnel)"
            );
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(TCP_USER_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("ccdesk");
        }
        let ports = config.get_ports();
        let port = |i: usize| ports.get(i).or(ports.first()).copied().unwrap_or(5432);
        let mut places: Vec<String> = config
            .get_hosts()
            .iter()
            .enumerate()
            .map(|(i, h)| match h {
                Host::Tcp(h) if h.contains(':') => format!("[{h}]:{}", port(i)),
                Host::Tcp(h) => format!("{h}:{}", port(i)),
                Host::Unix(dir) => format!("{}/.s.PGSQL.{}", dir.display(), port(i)),
            })
            .collect();
        if places.is_empty() {
            places = config
                .get_hostaddrs()
                .iter()
                .enumerate()
                .map(|(i, a)| std::net::SocketAddr::new(*a, port(i)).to_string())
                .collect();
        }
        Ok(Target {
            place: places.join(", "),
            config,
            shown,
            password,
        })
    }

    fn connect(&self) -> anyhow::Result<Client> {
        self.config
            .connect(NoTls)
            .map_err(|e| self.connect_error(&e))
    }

    /// What went wrong in connecting, the password kept out.
    fn connect_error(&self, e: &postgres::Error) -> anyhow::Error {
        let user = self.config.get_user().unwrap_or_default();
        let db = self.config.get_dbname().unwrap_or(user);
        let place = &self.place;
        let what = match e.code() {
            Some(c)
                if *c == SqlState::INVALID_PASSWORD
                    || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
            {
                format!("PostgreSQL at {place} refused user `{user}`: authentication failed")
            }
            Some(c) if *c == SqlState::INVALID_CATALOG_NAME => {
                format!("PostgreSQL at {place} has no database `{db}`")
            }
            Some(_) => format!("PostgreSQL at {place} refused the connection"),
            None => format!("cannot connect to PostgreSQL at {place}"),
        };
        anyhow!(self.scrub(format!(
            "{what} ([records] url `{}`): {}",
            self.shown,
            chain(e)
        )))
    }

    /// `msg` with the password replaced, should anything have echoed it.
    fn scrub(&self, msg: String) -> String {
        match &self.password {
            Some(p) if p.len() >= 4 => msg.replace(p.as_str(), "***"),
            _ => msg,
        }
    }

    /// The tables, created if absent (one node at a time).
    fn create_schema(&self, client: &mut Client) -> anyhow::Result<()> {
        let mut tx = client.transaction()?;
        tx.batch_execute("SET LOCAL client_min_messages = warning")?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
        tx.batch_execute(SCHEMA)?;
        tx.commit()?;
        Ok(())
    }
}

/// The URL as messages show it: the password (in the credentials or a
/// `password=` parameter) replaced by `***`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(not a URL)".to_string();
    };
    let mut out = format!("{scheme}://");
    // As the URL parser reads it: the credentials end at the first `@`.
    let rest = match rest.split_once('@') {
        Some((creds, after)) => {
            match creds.split_once(':') {
                Some((user, _)) => out.push_str(&format!("{user}:***@")),
                None => out.push_str(&format!("{creds}@")),
            }
            after
        }
        None => rest,
    };
    match rest.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            out.push_str(path);
            out.push('?');
            out.push_str(&query.join("&"));
        }
        None => out.push_str(rest),
    }
    out
}

/// An error and its causes, `: `-separated.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// A connection as its thread holds it.
struct Conn {
    client: Client,
    st: Statements,
}

/// A job for a connection's thread.
type Job = Box<dyn FnOnce(&mut Session) + Send>;

/// A connection's thread's state: the connection, once made (again).
struct Session {
    target: Arc<Target>,
    conn: Option<Conn>,
}

impl Session {
    /// The connection; a new one if there was none or it was lost.
    fn conn(&mut self) -> anyhow::Result<&mut Conn> {
        let conn = match self.conn.take() {
            Some(c) if !c.client.is_closed() => c,
            lost => {
                if lost.is_some() {
                    tracing::warn!(url = %self.target.shown, "the connection to PostgreSQL was lost: connecting again");
                }
                let mut client = self.target.connect()?;
                let place = &self.target.place;
                self.target.create_schema(&mut client).with_context(|| {
                    format!("cannot create the tables in PostgreSQL at {place}")
                })?;
                let st = Statements::prepare(&mut client).with_context(|| {
                    format!("cannot prepare the statements in PostgreSQL at {place}")
                })?;
                Conn { client, st }
            }
        };
        Ok(self.conn.insert(conn))
    }
}

/// The handle on a connection's thread. Dropping it ends the thread, which
/// closes the connection.
struct Worker {
    jobs: mpsc::Sender<Job>,
}

impl Worker {
    fn start(target: Arc<Target>) -> anyhow::Result<Worker> {
        let (jobs, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("ccdesk-postgres".into())
            .spawn(move || {
                let mut session = Session { target, conn: None };
                for job in rx {
                    job(&mut session);
                }
            })
            .context("cannot start a thread for the PostgreSQL connection")?;
        Ok(Worker { jobs })
    }

    /// Run `f` on the connection (made first if need be), and wait for it.
    fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Conn) -> anyhow::Result<R> + Send + 'static,
    ) -> anyhow::Result<R> {
        let (done, result) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |s: &mut Session| {
            let _ = done.send(s.conn().and_then(f));
        });
        self.jobs
            .send(job)
            .map_err(|_| anyhow!("the PostgreSQL connection's thread has stopped"))?;
        result
            .recv()
            .map_err(|_| anyhow!("the PostgreSQL connection's thread stopped in a query"))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_hidden_in_urls() {
        assert_eq!(
            redact("postgres://ccdesk:s3cret@db:5432/records"),
            "postgres://ccdesk:***@db:5432/records"
        );
        assert_eq!(
            redact("postgresql://db/records?user=a&password=s3cret&sslmode=disable"),
            "postgresql://db/records?user=a&password=***&sslmode=disable"
        );
        assert_eq!(redact("postgres://a@db/x"), "postgres://a@db/x");
        assert_eq!(redact("host=db password=s3cret"), "(not a URL)");
    }

    #[test]
    fn bad_urls_are_named_without_their_password() {
        let err = |url: &str| match Target::parse(url) {
            Ok(_) => panic!("{url} parsed"),
            Err(e) => format!("{e:#}"),
        };
        let e = err("mysql://root:s3cret@db/x");
        assert!(
            e.contains("postgres://") && e.contains("mysql://root:***@db/x"),
            "{e}"
        );
        assert!(!e.contains("s3cret"), "{e}");
        let e = err("host=db user=a password=s3cret");
        assert!(
            e.contains("must be a PostgreSQL URL") && !e.contains("s3cret"),
            "{e}"
        );
        let e = err("postgres://a:s3cret@db:notaport/x");
        assert!(
            e.contains("not a valid PostgreSQL URL") && e.contains("port"),
            "{e}"
        );
        assert!(!e.contains("s3cret"), "{e}");
        let e = err("postgres://a:s3cret@db/x?sslmode=require");
        assert!(
            e.contains("sslmode=require") && !e.contains("s3cret"),
            "{e}"
        );
        let e = err("postgres:///x");
        assert!(e.contains("names no host"), "{e}");
        let e = err("postgres://db/x");
        assert!(e.contains("names no user"), "{e}");
    }

    #[test]
    fn where_a_url_points_is_named_host_and_port() {
        let t = Target::parse("postgres://a:s3cret@db.example:6543/x").expect("parses");
        assert_eq!(t.place, "db.example:6543");
        assert_eq!(t.config.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
        assert_eq!(t.config.get_tcp_user_timeout(), Some(&TCP_USER_TIMEOUT));
        assert!(check_url("postgres://a:s3cret@db.example:6543/x").is_ok());
        assert!(check_url("postgres://a:s3cret@db.example:x/x").is_err());
        let t = Target::parse("postgres://a:s3cret@db1,db2:7000/x").expect("parses");
        assert_eq!(t.place, "db1:5432, db2:7000");
        let t = Target::parse("postgres://a@[::1]/x?connect_timeout=3").expect("parses");
        assert_eq!(t.place, "[::1]:5432");
        assert_eq!(
            t.config.get_connect_timeout(),
            Some(&Duration::from_secs(3))
        );
    }

    #[test]
    fn nul_characters_become_replacement_characters() {
        assert_eq!(clean("a\0b"), "a\u{FFFD}b");
        assert!(matches!(clean("ab"), Cow::Borrowed("ab")));
    }
}
