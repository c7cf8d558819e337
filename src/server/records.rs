//! Session records: every ended session is written to SQLite before its end
//! is acknowledged. The center does not write them itself: its writer
//! (`server::writer`) commits them in batches on a thread of its own. WAL
//! mode with synchronous=FULL: a committed batch is on disk (one fsync per
//! batch), so it survives a crash of the process or of the machine.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

/// Where a session was sent on: for the record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferRecord {
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_skill_group: Option<String>,
    /// A transfer to an outside number (after a consult).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_phone_number: Option<String>,
    /// Unix ms.
    pub at: u64,
    /// A transfer completed after a consult (`Call.completeTransfer`):
    /// the consult leg's session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consult: Option<String>,
}

/// One ended session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    pub session_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub direction: String,
    pub skill_group: Option<String>,
    /// Every seat that handled it, in order.
    pub agents: Vec<String>,
    /// Caller number (or chat nickname / user id, or calling agent).
    pub caller: Option<String>,
    pub callee: Option<String>,
    /// Unix ms.
    pub created_at: u64,
    pub offered_at: Option<u64>,
    pub accepted_at: Option<u64>,
    pub ended_at: u64,
    pub hold_ms: u64,
    /// After-call work, filled in when it ends.
    pub acw_ms: Option<u64>,
    pub close_by: String,
    pub main_reason: Option<String>,
    pub sub_reason: Option<String>,
    pub missed_offers: u32,
    pub transfers: Vec<TransferRecord>,
    /// The audio recording (WAV: left the customer, right the seats), when
    /// the session had audio through the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
    /// The final sentences of the transcript (`asr` sliceType 2), both
    /// flows, in the order they were said.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transcript: Vec<TranscriptLine>,
    /// `Call.startOutboundCall`'s user-to-user information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uui: Option<String>,
    /// The wrap-up code the agent set (`Call.setWrapUp`), and its notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrap_up_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrap_up_notes: Option<String>,
    /// The contact's attributes (`Customer.call` `attributes`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub attributes: std::collections::BTreeMap<String, String>,
    /// A consult leg (`Call.consult`): the customer's session it was about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consult_of: Option<String>,
    /// A queued callback (`Customer.requestCallback`): the number called back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<String>,
    /// When the recording and the transcript were paused (card payments).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recording_pauses: Vec<RecordingPause>,
}

/// A span during which the recording and the transcript were paused
/// (`Call.pauseRecording` to `Call.resumeRecording`, or the session's end).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingPause {
    /// Unix ms.
    pub start: u64,
    pub end: u64,
}

/// One final sentence of a session's transcript.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TranscriptLine {
    pub flow: crate::protocol::Flow,
    pub index: u32,
    /// Milliseconds from the session's first accept.
    pub start_time: u64,
    pub end_time: u64,
    pub text: String,
    /// Keys the caller pressed on the phone (RFC 4733), not speech: `text`
    /// is the keys, in order.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keys: bool,
}

/// One write to the records.
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// An ended session (replaces an earlier record of it).
    Save(Box<SessionRecord>),
    /// After-call work to add to a recorded session.
    AddAcw { session_id: String, acw_ms: u64 },
    /// A wrap-up set after the session was recorded (in after-call work).
    SetWrapUp {
        session_id: String,
        code: String,
        notes: Option<String>,
    },
    /// A user added or changed while the center runs (`Supervisor.*`).
    User(Box<crate::server::config::User>),
    /// A user removed while the center runs.
    RemoveUser(String),
    /// A user's new password hash (`Supervisor.setPassword`). Only this
    /// write changes a stored password: `User` keeps the one stored, so
    /// that a change of skill groups cannot bring back an old password.
    Password { user_id: String, hash: String },
}

impl Write {
    /// A change to a user, not to a session's record.
    pub fn is_user(&self) -> bool {
        matches!(
            self,
            Write::User(_) | Write::RemoveUser(_) | Write::Password { .. }
        )
    }

    /// What the write is about: a session's id, or a user's.
    pub fn session_id(&self) -> &str {
        match self {
            Write::Save(r) => &r.session_id,
            Write::AddAcw { session_id, .. } | Write::SetWrapUp { session_id, .. } => session_id,
            Write::User(u) => &u.id,
            Write::RemoveUser(id) | Write::Password { user_id: id, .. } => id,
        }
    }
}

/// A reader shared by the tasks that read off the center's (history,
/// reports, password logins).
pub type SharedReader = std::sync::Arc<std::sync::Mutex<Box<dyn RecordReader>>>;

/// Reads the records beside the writer (the center asks it off its own
/// task): a contact's earlier sessions, and the sessions of a period.
pub trait RecordReader: Send {
    /// `caller`'s sessions, newest first, at most `limit`.
    fn history(&mut self, caller: &str, limit: usize) -> anyhow::Result<Vec<SessionRecord>>;
    /// The sessions that ended since `since_ms`, oldest first (reports).
    fn ended_since(&mut self, since_ms: u64) -> anyhow::Result<Vec<SessionRecord>>;
    /// The user `id` as the database keeps it now (password logins).
    fn stored_user(&mut self, id: &str) -> anyhow::Result<Option<crate::server::config::User>>;
}

impl RecordReader for SqliteRecords {
    fn history(&mut self, caller: &str, limit: usize) -> anyhow::Result<Vec<SessionRecord>> {
        SqliteRecords::history(self, caller, limit)
    }
    fn ended_since(&mut self, since_ms: u64) -> anyhow::Result<Vec<SessionRecord>> {
        self.list(since_ms)
    }
    fn stored_user(&mut self, id: &str) -> anyhow::Result<Option<crate::server::config::User>> {
        let json: Option<String> = self
            .conn
            .query_row("SELECT user FROM users WHERE id = ?1", params![id], |r| {
                r.get(0)
            })
            .optional()?;
        Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
    }
}

/// Where records go. The server writes through this, so tests can supply a
/// store that fails.
pub trait RecordStore: Send {
    fn save(&mut self, rec: &SessionRecord) -> anyhow::Result<()>;
    /// Add after-call work to a recorded session.
    fn add_acw(&mut self, session_id: &str, acw_ms: u64) -> anyhow::Result<()>;
    /// Set a recorded session's wrap-up code and notes.
    fn set_wrap_up(
        &mut self,
        session_id: &str,
        code: &str,
        notes: Option<&str>,
    ) -> anyhow::Result<()>;
    /// Apply `batch` in order, all or nothing where the store can (one
    /// transaction); the first error otherwise. The default applies each.
    fn write_batch(&mut self, batch: &[&Write]) -> anyhow::Result<()> {
        for w in batch {
            match w {
                Write::Save(r) => self.save(r)?,
                Write::AddAcw { session_id, acw_ms } => self.add_acw(session_id, *acw_ms)?,
                Write::SetWrapUp {
                    session_id,
                    code,
                    notes,
                } => self.set_wrap_up(session_id, code, notes.as_deref())?,
                Write::User(u) => self.save_user(u)?,
                Write::RemoveUser(id) => self.remove_user(id)?,
                Write::Password { user_id, hash } => self.set_password(user_id, hash)?,
            }
        }
        Ok(())
    }
    /// The users kept in the store (None: it was never seeded, or keeps
    /// none): once seeded, they are the center's users at start.
    fn users(&mut self) -> anyhow::Result<Option<Vec<crate::server::config::User>>> {
        Ok(None)
    }
    /// Keep `users` as the users (the first start seeds them from the config).
    fn seed_users(&mut self, _users: &[crate::server::config::User]) -> anyhow::Result<()> {
        Ok(())
    }
    fn save_user(&mut self, _user: &crate::server::config::User) -> anyhow::Result<()> {
        Ok(())
    }
    fn remove_user(&mut self, _id: &str) -> anyhow::Result<()> {
        Ok(())
    }
    /// Set the stored user `id`'s password hash (the rest of it as stored).
    fn set_password(&mut self, _id: &str, _hash: &str) -> anyhow::Result<()> {
        Ok(())
    }
    /// Where audio recordings go (None: not recorded).
    fn recordings_dir(&self) -> Option<PathBuf> {
        None
    }
    /// A reader of the records (None: the store keeps none to read).
    fn reader(&self) -> Option<Box<dyn RecordReader>> {
        None
    }
}

/// The server's records as its config says: PostgreSQL when `[records]
/// url` is set (recordings then go to `<data_dir>/recordings` on this
/// node, when there is a data directory), else SQLite in the data
/// directory. Safe to call from async code.
pub fn open_records(
    cfg: &crate::server::config::ServerConfig,
) -> anyhow::Result<Box<dyn RecordStore>> {
    match cfg.records.url.as_deref() {
        Some(url) => {
            let mut pg = crate::server::pg_records::PgRecords::open(url)?;
            match cfg.data_dir() {
                Ok(dir) => pg = pg.with_recordings_dir(dir.join("recordings")),
                Err(e) if cfg.media.record => {
                    tracing::warn!(error = %e, "no recordings: no data directory to keep them in")
                }
                Err(_) => {}
            }
            tracing::info!(url = %pg.url(), "session records in PostgreSQL");
            Ok(Box::new(pg))
        }
        None => {
            let db = SqliteRecords::open_dir(&cfg.data_dir()?)?;
            tracing::info!(path = %db.path().display(), "session records");
            Ok(Box::new(db))
        }
    }
}

/// The server's records to read (`ccdesk records`, `ccdesk report`):
/// PostgreSQL when `[records] url` is set, else SQLite in the data
/// directory.
pub fn open_reader(
    cfg: &crate::server::config::ServerConfig,
) -> anyhow::Result<Box<dyn RecordReader>> {
    match cfg.records.url.as_deref() {
        Some(url) => Ok(Box::new(crate::server::pg_records::PgRecords::open(url)?)),
        None => Ok(Box::new(SqliteRecords::open_dir(&cfg.data_dir()?)?)),
    }
}

pub struct SqliteRecords {
    conn: Connection,
    path: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    session_id    TEXT PRIMARY KEY,
    type          TEXT NOT NULL,
    direction     TEXT NOT NULL,
    skill_group   TEXT,
    agents        TEXT NOT NULL,
    caller        TEXT,
    callee        TEXT,
    created_at    INTEGER NOT NULL,
    offered_at    INTEGER,
    accepted_at   INTEGER,
    ended_at      INTEGER NOT NULL,
    hold_ms       INTEGER NOT NULL,
    acw_ms        INTEGER,
    close_by      TEXT NOT NULL,
    main_reason   TEXT,
    sub_reason    TEXT,
    missed_offers INTEGER NOT NULL,
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
CREATE INDEX IF NOT EXISTS sessions_ended_at ON sessions(ended_at);
CREATE TABLE IF NOT EXISTS users (
    id   TEXT PRIMARY KEY,
    user TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

impl SqliteRecords {
    /// Open (creating if needed) `records.sqlite3` in `dir`.
    pub fn open_dir(dir: &Path) -> anyhow::Result<SqliteRecords> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create data directory {}", dir.display()))?;
        Self::open(&dir.join("records.sqlite3"))
    }

    pub fn open(path: &Path) -> anyhow::Result<SqliteRecords> {
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open records database {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)
            .with_context(|| format!("cannot create tables in {}", path.display()))?;
        // Databases written before recordings existed lack the column.
        let has_recording = conn
            .prepare("SELECT recording FROM sessions LIMIT 0")
            .is_ok();
        if !has_recording {
            conn.execute_batch("ALTER TABLE sessions ADD COLUMN recording TEXT")
                .with_context(|| {
                    format!("cannot add the recording column in {}", path.display())
                })?;
        }
        // ... and before transcripts (and user-to-user data) were kept, these.
        for column in [
            "transcript",
            "uui",
            "wrap_up_code",
            "wrap_up_notes",
            "attributes",
            "consult_of",
            "callback",
            "recording_pauses",
        ] {
            let has = conn
                .prepare(&format!("SELECT {column} FROM sessions LIMIT 0"))
                .is_ok();
            if !has {
                conn.execute_batch(&format!("ALTER TABLE sessions ADD COLUMN {column} TEXT"))
                    .with_context(|| {
                        format!("cannot add the {column} column in {}", path.display())
                    })?;
            }
        }
        // A contact's history is looked up by caller.
        conn.execute_batch(
            "CREATE INDEX IF NOT EXISTS sessions_caller ON sessions(caller, ended_at)",
        )
        .with_context(|| format!("cannot index callers in {}", path.display()))?;
        Ok(SqliteRecords {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records that ended at or after `since_ms`, oldest first.
    pub fn list(&self, since_ms: u64) -> anyhow::Result<Vec<SessionRecord>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM sessions WHERE ended_at >= ?1 ORDER BY ended_at, session_id"
        ))?;
        // Saturated: a time past i64's would wrap to a negative one, before every record.
        let since = i64::try_from(since_ms).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![since], record_of_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// A contact's sessions (`caller`: the number, or a chat's or video's
    /// user), newest first, at most `limit`.
    pub fn history(&self, caller: &str, limit: usize) -> anyhow::Result<Vec<SessionRecord>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM sessions WHERE caller = ?1 ORDER BY ended_at DESC, session_id DESC LIMIT ?2"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = stmt.query_map(params![caller, limit], record_of_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    pub fn get(&self, session_id: &str) -> anyhow::Result<Option<SessionRecord>> {
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT ended_at FROM sessions WHERE session_id = ?1",
                params![session_id],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            None => Ok(None),
            Some(ended) => Ok(self
                .list(ended as u64)?
                .into_iter()
                .find(|r| r.session_id == session_id)),
        }
    }
}

/// The columns [`record_of_row`] reads, in its order.
const COLUMNS: &str =
    "session_id, type, direction, skill_group, agents, caller, callee, created_at,
    offered_at, accepted_at, ended_at, hold_ms, acw_ms, close_by, main_reason,
    sub_reason, missed_offers, transfers, recording, transcript, uui,
    wrap_up_code, wrap_up_notes, attributes, consult_of, callback, recording_pauses";

fn record_of_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionRecord> {
    let agents: String = r.get(4)?;
    let transfers: String = r.get(17)?;
    Ok(SessionRecord {
        session_id: r.get(0)?,
        kind: r.get(1)?,
        direction: r.get(2)?,
        skill_group: r.get(3)?,
        agents: serde_json::from_str(&agents).unwrap_or_default(),
        caller: r.get(5)?,
        callee: r.get(6)?,
        created_at: r.get::<_, i64>(7)? as u64,
        offered_at: r.get::<_, Option<i64>>(8)?.map(|v| v as u64),
        accepted_at: r.get::<_, Option<i64>>(9)?.map(|v| v as u64),
        ended_at: r.get::<_, i64>(10)? as u64,
        hold_ms: r.get::<_, i64>(11)? as u64,
        acw_ms: r.get::<_, Option<i64>>(12)?.map(|v| v as u64),
        close_by: r.get(13)?,
        main_reason: r.get(14)?,
        sub_reason: r.get(15)?,
        missed_offers: r.get::<_, i64>(16)? as u32,
        transfers: serde_json::from_str(&transfers).unwrap_or_default(),
        recording: r.get(18)?,
        transcript: r
            .get::<_, Option<String>>(19)?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default(),
        uui: r.get(20)?,
        wrap_up_code: r.get(21)?,
        wrap_up_notes: r.get(22)?,
        attributes: r
            .get::<_, Option<String>>(23)?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default(),
        consult_of: r.get(24)?,
        callback: r.get(25)?,
        recording_pauses: r
            .get::<_, Option<String>>(26)?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default(),
    })
}

impl RecordStore for SqliteRecords {
    fn save(&mut self, r: &SessionRecord) -> anyhow::Result<()> {
        save_on(&self.conn, r)
    }

    fn add_acw(&mut self, session_id: &str, acw_ms: u64) -> anyhow::Result<()> {
        add_acw_on(&self.conn, session_id, acw_ms)
    }

    fn set_wrap_up(
        &mut self,
        session_id: &str,
        code: &str,
        notes: Option<&str>,
    ) -> anyhow::Result<()> {
        set_wrap_up_on(&self.conn, session_id, code, notes)
    }

    /// One transaction: one fsync for the whole batch.
    fn write_batch(&mut self, batch: &[&Write]) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        for w in batch {
            match w {
                Write::Save(r) => save_on(&tx, r)?,
                Write::AddAcw { session_id, acw_ms } => add_acw_on(&tx, session_id, *acw_ms)?,
                Write::SetWrapUp {
                    session_id,
                    code,
                    notes,
                } => set_wrap_up_on(&tx, session_id, code, notes.as_deref())?,
                Write::User(u) => save_user_on(&tx, u)?,
                Write::RemoveUser(id) => {
                    tx.execute("DELETE FROM users WHERE id = ?1", params![id])?;
                }
                Write::Password { user_id, hash } => set_password_on(&tx, user_id, hash)?,
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn users(&mut self) -> anyhow::Result<Option<Vec<crate::server::config::User>>> {
        let seeded: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'users_seeded'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if seeded.is_none() {
            return Ok(None);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT id, user FROM users ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, json) = row?;
            match serde_json::from_str(&json) {
                Ok(u) => out.push(u),
                Err(e) => {
                    tracing::warn!(user = %id, error = %e, "a stored user cannot be read; skipped")
                }
            }
        }
        Ok(Some(out))
    }

    fn seed_users(&mut self, users: &[crate::server::config::User]) -> anyhow::Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM users", [])?;
        for u in users {
            save_user_on(&tx, u)?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('users_seeded', ?1)",
            params![std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0)
                .to_string()],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn save_user(&mut self, user: &crate::server::config::User) -> anyhow::Result<()> {
        save_user_on(&self.conn, user)
    }

    fn remove_user(&mut self, id: &str) -> anyhow::Result<()> {
        self.conn
            .execute("DELETE FROM users WHERE id = ?1", params![id])?;
        Ok(())
    }

    fn set_password(&mut self, id: &str, hash: &str) -> anyhow::Result<()> {
        set_password_on(&self.conn, id, hash)
    }

    fn recordings_dir(&self) -> Option<PathBuf> {
        self.path.parent().map(|d| d.join("recordings"))
    }

    /// A second connection to the same database, for reading (WAL lets it
    /// read while the writer writes).
    fn reader(&self) -> Option<Box<dyn RecordReader>> {
        match SqliteRecords::open(&self.path) {
            Ok(r) => Some(Box::new(r)),
            Err(e) => {
                tracing::warn!(error = %e, "no contact history: the records cannot be opened for reading");
                None
            }
        }
    }
}

/// Keep `u`; a user already stored keeps its stored password hash (only
/// [`set_password_on`] changes that).
fn save_user_on(conn: &Connection, u: &crate::server::config::User) -> anyhow::Result<()> {
    conn.execute(
        "INSERT INTO users (id, user) VALUES (?1, ?2)
         ON CONFLICT(id) DO UPDATE SET user = json_set(excluded.user, '$.password_hash',
             json_extract(users.user, '$.password_hash'))",
        params![u.id, serde_json::to_string(u)?],
    )?;
    Ok(())
}

fn set_password_on(conn: &Connection, id: &str, hash: &str) -> anyhow::Result<()> {
    let n = conn.execute(
        "UPDATE users SET user = json_set(user, '$.password_hash', ?2) WHERE id = ?1",
        params![id, hash],
    )?;
    if n == 0 {
        anyhow::bail!("user `{id}` is not in the database");
    }
    Ok(())
}

fn save_on(conn: &Connection, r: &SessionRecord) -> anyhow::Result<()> {
    {
        conn.execute(
            "INSERT OR REPLACE INTO sessions (session_id, type, direction, skill_group, agents,
                caller, callee, created_at, offered_at, accepted_at, ended_at, hold_ms, acw_ms,
                close_by, main_reason, sub_reason, missed_offers, transfers, recording, transcript, uui,
                wrap_up_code, wrap_up_notes, attributes, consult_of, callback, recording_pauses)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)",
            params![
                r.session_id,
                r.kind,
                r.direction,
                r.skill_group,
                serde_json::to_string(&r.agents)?,
                r.caller,
                r.callee,
                r.created_at as i64,
                r.offered_at.map(|v| v as i64),
                r.accepted_at.map(|v| v as i64),
                r.ended_at as i64,
                r.hold_ms as i64,
                r.acw_ms.map(|v| v as i64),
                r.close_by,
                r.main_reason,
                r.sub_reason,
                r.missed_offers as i64,
                serde_json::to_string(&r.transfers)?,
                r.recording,
                if r.transcript.is_empty() {
                    None
                } else {
                    Some(serde_json::to_string(&r.transcript)?)
                },
                r.uui,
                r.wrap_up_code,
                r.wrap_up_notes,
                if r.attributes.is_empty() {
                    None
                } else {
                    Some(serde_json::to_string(&r.attributes)?)
                },
                r.consult_of,
                r.callback,
                if r.recording_pauses.is_empty() {
                    None
                } else {
                    Some(serde_json::to_string(&r.recording_pauses)?)
                },
            ],
        )?;
    }
    Ok(())
}

fn set_wrap_up_on(
    conn: &Connection,
    session_id: &str,
    code: &str,
    notes: Option<&str>,
) -> anyhow::Result<()> {
    conn.execute(
        "UPDATE sessions SET wrap_up_code = ?2, wrap_up_notes = ?3 WHERE session_id = ?1",
        params![session_id, code, notes],
    )?;
    Ok(())
}

fn add_acw_on(conn: &Connection, session_id: &str, acw_ms: u64) -> anyhow::Result<()> {
    conn.execute(
        "UPDATE sessions SET acw_ms = COALESCE(acw_ms, 0) + ?2 WHERE session_id = ?1",
        params![session_id, acw_ms as i64],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, ended: u64) -> SessionRecord {
        SessionRecord {
            session_id: id.into(),
            kind: "phone".into(),
            direction: "inbound".into(),
            skill_group: Some("support".into()),
            agents: vec!["alice".into(), "bob".into()],
            caller: Some("+1555".into()),
            callee: None,
            created_at: 1,
            offered_at: Some(2),
            accepted_at: Some(3),
            ended_at: ended,
            hold_ms: 40,
            acw_ms: None,
            close_by: "seat".into(),
            main_reason: None,
            sub_reason: None,
            missed_offers: 1,
            transfers: vec![TransferRecord {
                from: "alice".into(),
                to_user: Some("bob".into()),
                to_skill_group: None,
                to_phone_number: None,
                at: 5,
                consult: Some("s-2".into()),
            }],
            recording: Some("/data/recordings/s-1.wav".into()),
            transcript: vec![TranscriptLine {
                flow: crate::protocol::Flow::In,
                index: 0,
                start_time: 1200,
                end_time: 2900,
                text: "my card was stolen".into(),
                keys: false,
            }],
            uui: Some("ticket=42".into()),
            wrap_up_code: Some("Resolved".into()),
            wrap_up_notes: None,
            attributes: [("tier".to_string(), "gold".to_string())].into(),
            consult_of: Some("s-0".into()),
            callback: Some("+1555".into()),
            recording_pauses: vec![RecordingPause { start: 10, end: 20 }],
        }
    }

    #[test]
    fn save_list_and_acw_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut db = SqliteRecords::open_dir(dir.path()).unwrap();
            db.save(&rec("s-1", 100)).unwrap();
            db.save(&rec("s-2", 200)).unwrap();
            db.add_acw("s-1", 1000).unwrap();
            db.add_acw("s-1", 500).unwrap();
            db.set_wrap_up("s-2", "Callback needed", Some("call after 5"))
                .unwrap();
        }
        let db = SqliteRecords::open_dir(dir.path()).unwrap();
        let all = db.list(0).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].acw_ms, Some(1500));
        assert_eq!(all[0].transfers, rec("s-1", 100).transfers);
        assert_eq!(all[0].consult_of.as_deref(), Some("s-0"));
        assert_eq!(all[0].callback.as_deref(), Some("+1555"));
        assert_eq!(all[0].recording_pauses, rec("s-1", 100).recording_pauses);
        assert_eq!(all[0].transcript, rec("s-1", 100).transcript);
        assert_eq!(db.list(150).unwrap().len(), 1);
        assert_eq!(db.get("s-2").unwrap().unwrap().agents, vec!["alice", "bob"]);
        assert_eq!(
            all[0].attributes.get("tier").map(String::as_str),
            Some("gold")
        );
        // A contact's history: newest first, as many as asked.
        let h = db.history("+1555", 5).unwrap();
        assert_eq!(
            h.iter().map(|r| r.session_id.as_str()).collect::<Vec<_>>(),
            ["s-2", "s-1"]
        );
        assert_eq!(db.history("+1555", 1).unwrap().len(), 1);
        assert!(db.history("+1999", 5).unwrap().is_empty());
        // The wrap-up saved with the record, and the one set afterwards.
        assert_eq!(all[0].wrap_up_code.as_deref(), Some("Resolved"));
        assert_eq!(
            (
                all[1].wrap_up_code.as_deref(),
                all[1].wrap_up_notes.as_deref()
            ),
            (Some("Callback needed"), Some("call after 5"))
        );
        assert!(db.get("nope").unwrap().is_none());
        assert_eq!(
            all[0].recording.as_deref(),
            Some("/data/recordings/s-1.wav")
        );
    }

    #[test]
    fn an_old_database_gains_the_recording_transcript_and_uui_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("records.sqlite3");
        {
            let c = Connection::open(&path).unwrap();
            let old = SCHEMA
                .replace(",\n    uui           TEXT", "")
                .replace(",\n    transcript    TEXT", "")
                .replace(",\n    recording     TEXT", "");
            c.execute_batch(&old).unwrap();
            assert!(c.prepare("SELECT recording FROM sessions").is_err());
            assert!(c.prepare("SELECT transcript FROM sessions").is_err());
            assert!(c.prepare("SELECT uui FROM sessions").is_err());
        }
        let mut db = SqliteRecords::open(&path).unwrap();
        db.save(&rec("s-1", 100)).unwrap();
        let got = db.get("s-1").unwrap().unwrap();
        assert!(got.recording.is_some());
        assert_eq!(got.transcript.len(), 1);
        assert_eq!(got.uui.as_deref(), Some("ticket=42"));
    }
}
