//! One suite for every record store: each test below runs against SQLite
//! (`record_store::sqlite::*`) and against PostgreSQL (`record_store::pg::*`,
//! a database of its own on the harness's server, see `crate::pg`). Then
//! what only PostgreSQL has: connecting (errors, async code, a lost
//! connection), and a server that keeps its records there.

use std::collections::BTreeMap;

use ccdesk::protocol::Flow;
use ccdesk::server::config::{Role, SeatType, User};
use ccdesk::server::pg_records::PgRecords;
use ccdesk::server::records::{
    RecordReader, RecordStore, RecordingPause, SessionRecord, SqliteRecords, TranscriptLine,
    TransferRecord, Write,
};

/// A store and a reader beside it.
struct Backend {
    store: Box<dyn RecordStore>,
    reader: Box<dyn RecordReader>,
    _dir: Option<tempfile::TempDir>,
}

fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteRecords::open_dir(dir.path()).expect("SQLite opens");
    let reader = store.reader().expect("a reader");
    Backend {
        store: Box::new(store),
        reader,
        _dir: Some(dir),
    }
}

/// None when PostgreSQL is not installed (the harness says so).
fn postgres(label: &str) -> Option<Backend> {
    let url = crate::pg::database(label)?;
    let store = PgRecords::open(&url).expect("PostgreSQL opens");
    let reader = store.reader().expect("a reader");
    Some(Backend {
        store: Box::new(store),
        reader,
        _dir: None,
    })
}

/// Each test of the suite, once per store.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let mut b = super::sqlite();
                    super::$name(b.store.as_mut(), b.reader.as_mut());
                }
            )*
        }
        mod pg {
            $(
                #[test]
                fn $name() {
                    let Some(mut b) = super::postgres(stringify!($name)) else {
                        return;
                    };
                    super::$name(b.store.as_mut(), b.reader.as_mut());
                }
            )*
        }
    };
}

suite!(
    every_field_of_a_session_is_kept,
    saving_a_session_again_replaces_its_record,
    after_call_work_adds_up_and_a_wrap_up_is_set_later,
    a_batch_is_written_whole_or_not_at_all,
    history_is_a_contacts_sessions_newest_first,
    ended_since_lists_sessions_oldest_first,
    users_are_kept_once_seeded,
    a_saved_user_keeps_its_stored_password_hash,
    text_with_a_nul_character_is_kept,
);

/// A session with every field set.
fn full(id: &str, caller: &str, ended: u64) -> SessionRecord {
    SessionRecord {
        session_id: id.into(),
        kind: "phone".into(),
        direction: "inbound".into(),
        skill_group: Some("support".into()),
        agents: vec!["alice".into(), "bob".into()],
        caller: Some(caller.into()),
        callee: Some("4000".into()),
        created_at: ended - 100,
        offered_at: Some(ended - 90),
        accepted_at: Some(ended - 80),
        ended_at: ended,
        hold_ms: 40,
        acw_ms: Some(7),
        close_by: "seat".into(),
        main_reason: Some("billing".into()),
        sub_reason: Some("refund".into()),
        missed_offers: 2,
        transfers: vec![
            TransferRecord {
                from: "alice".into(),
                to_user: Some("bob".into()),
                to_skill_group: None,
                to_phone_number: None,
                at: ended - 50,
                consult: Some("s-consult".into()),
            },
            TransferRecord {
                from: "bob".into(),
                to_user: None,
                to_skill_group: Some("sales".into()),
                to_phone_number: Some("+15550000000".into()),
                at: ended - 40,
                consult: None,
            },
        ],
        recording: Some(format!("/data/recordings/{id}.wav")),
        transcript: vec![
            TranscriptLine {
                flow: Flow::In,
                index: 0,
                start_time: 1200,
                end_time: 2900,
                text: "my card was stolen — «urgent»".into(),
                keys: false,
            },
            TranscriptLine {
                flow: Flow::Out,
                index: 1,
                start_time: 3000,
                end_time: 3100,
                text: "12#".into(),
                keys: true,
            },
        ],
        uui: Some("ticket=42".into()),
        wrap_up_code: Some("Resolved".into()),
        wrap_up_notes: Some("called back\nline two".into()),
        attributes: BTreeMap::from([
            ("tier".to_string(), "gold".to_string()),
            ("order".to_string(), "8812".to_string()),
        ]),
        consult_of: Some("s-0".into()),
        callback: Some("+15559990000".into()),
        recording_pauses: vec![
            RecordingPause { start: 10, end: 20 },
            RecordingPause { start: 30, end: 45 },
        ],
    }
}

/// A session with nothing optional set.
fn bare(id: &str, caller: Option<&str>, ended: u64) -> SessionRecord {
    SessionRecord {
        session_id: id.into(),
        kind: "chat".into(),
        direction: "outbound".into(),
        skill_group: None,
        agents: Vec::new(),
        caller: caller.map(str::to_string),
        callee: None,
        created_at: ended,
        offered_at: None,
        accepted_at: None,
        ended_at: ended,
        hold_ms: 0,
        acw_ms: None,
        close_by: "client".into(),
        main_reason: None,
        sub_reason: None,
        missed_offers: 0,
        transfers: Vec::new(),
        recording: None,
        transcript: Vec::new(),
        uui: None,
        wrap_up_code: None,
        wrap_up_notes: None,
        attributes: BTreeMap::new(),
        consult_of: None,
        callback: None,
        recording_pauses: Vec::new(),
    }
}

fn user(id: &str, groups: &[&str], hash: Option<&str>) -> User {
    User {
        id: id.into(),
        role: Role::Agent,
        skill_groups: groups.iter().map(|g| g.to_string()).collect(),
        name: Some(format!("{id} Smith")),
        seat_type: SeatType::StaffSeat,
        sip_password: Some(format!("{id}-sip")),
        mobile: None,
        password_hash: hash.map(str::to_string),
        max_chats: 3,
    }
}

/// Every record, oldest first, by the reader.
fn all(reader: &mut dyn RecordReader) -> Vec<SessionRecord> {
    reader.ended_since(0).expect("the records read")
}

fn one(reader: &mut dyn RecordReader, id: &str) -> SessionRecord {
    all(reader)
        .into_iter()
        .find(|r| r.session_id == id)
        .unwrap_or_else(|| panic!("{id} is not recorded"))
}

fn ids(recs: &[SessionRecord]) -> Vec<&str> {
    recs.iter().map(|r| r.session_id.as_str()).collect()
}

fn every_field_of_a_session_is_kept(store: &mut dyn RecordStore, reader: &mut dyn RecordReader) {
    let rich = full("s-full", "+15551234567", 1_700_000_000_000);
    let plain = bare("s-bare", None, 1_700_000_000_500);
    store.save(&rich).expect("saved");
    store.save(&plain).expect("saved");
    assert_eq!(all(reader), vec![rich, plain]);
}

fn saving_a_session_again_replaces_its_record(
    store: &mut dyn RecordStore,
    reader: &mut dyn RecordReader,
) {
    store.save(&full("s-1", "+1555", 100)).expect("saved");
    // The same session, recorded again with less in it: nothing of the
    // first record stays.
    let again = bare("s-1", Some("+1666"), 300);
    store.save(&again).expect("saved");
    assert_eq!(all(reader), vec![again]);
    assert!(reader.history("+1555", 10).expect("reads").is_empty());
}

fn after_call_work_adds_up_and_a_wrap_up_is_set_later(
    store: &mut dyn RecordStore,
    reader: &mut dyn RecordReader,
) {
    store.save(&bare("s-1", None, 100)).expect("saved");
    store.save(&full("s-2", "+1555", 200)).expect("saved");
    store.add_acw("s-1", 1000).expect("acw");
    store.add_acw("s-1", 500).expect("acw");
    store.add_acw("s-2", 3).expect("acw");
    assert_eq!(one(reader, "s-1").acw_ms, Some(1500));
    assert_eq!(one(reader, "s-2").acw_ms, Some(10));

    store
        .set_wrap_up("s-1", "Callback needed", Some("call after 5"))
        .expect("wrap-up");
    let r = one(reader, "s-1");
    assert_eq!(
        (r.wrap_up_code.as_deref(), r.wrap_up_notes.as_deref()),
        (Some("Callback needed"), Some("call after 5"))
    );
    // A later wrap-up without notes clears the notes.
    store
        .set_wrap_up("s-2", "Escalated", None)
        .expect("wrap-up");
    let r = one(reader, "s-2");
    assert_eq!(
        (r.wrap_up_code.as_deref(), r.wrap_up_notes.as_deref()),
        (Some("Escalated"), None)
    );
    // Of a session not recorded: nothing, and no error.
    store.add_acw("nope", 5).expect("no error");
    store.set_wrap_up("nope", "X", None).expect("no error");
    assert_eq!(ids(&all(reader)), ["s-1", "s-2"]);
}

fn a_batch_is_written_whole_or_not_at_all(
    store: &mut dyn RecordStore,
    reader: &mut dyn RecordReader,
) {
    store
        .seed_users(&[user("alice", &["support"], None)])
        .expect("seeded");
    // Its last write fails (no such user): none of it is written.
    let save_a = Write::Save(Box::new(full("s-a", "+1555", 100)));
    let save_b = Write::Save(Box::new(bare("s-b", None, 200)));
    let carol = Write::User(Box::new(user("carol", &["sales"], Some("h-carol"))));
    let bad = Write::Password {
        user_id: "nobody".into(),
        hash: "h".into(),
    };
    let err = store
        .write_batch(&[&save_a, &save_b, &carol, &bad])
        .expect_err("a write of the batch fails");
    assert!(format!("{err:#}").contains("nobody"), "{err:#}");
    assert!(all(reader).is_empty(), "part of a failed batch was written");
    assert_eq!(reader.stored_user("carol").expect("reads"), None);

    // A good batch: every write, in order.
    let acw = Write::AddAcw {
        session_id: "s-b".into(),
        acw_ms: 250,
    };
    let wrap = Write::SetWrapUp {
        session_id: "s-b".into(),
        code: "Sale".into(),
        notes: Some("two seats".into()),
    };
    let password = Write::Password {
        user_id: "carol".into(),
        hash: "h-carol-2".into(),
    };
    let gone = Write::RemoveUser("alice".into());
    store
        .write_batch(&[&save_a, &save_b, &acw, &wrap, &carol, &password, &gone])
        .expect("the batch is written");
    assert_eq!(ids(&all(reader)), ["s-a", "s-b"]);
    let b = one(reader, "s-b");
    assert_eq!(b.acw_ms, Some(250));
    assert_eq!(b.wrap_up_code.as_deref(), Some("Sale"));
    assert_eq!(b.wrap_up_notes.as_deref(), Some("two seats"));
    let carol = reader.stored_user("carol").expect("reads").expect("stored");
    assert_eq!(carol.password_hash.as_deref(), Some("h-carol-2"));
    assert_eq!(reader.stored_user("alice").expect("reads"), None);
    let users = store.users().expect("reads").expect("seeded");
    assert_eq!(
        users.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["carol"]
    );
}

fn history_is_a_contacts_sessions_newest_first(
    store: &mut dyn RecordStore,
    reader: &mut dyn RecordReader,
) {
    let mut batch = vec![
        Write::Save(Box::new(full("s-1", "+1555", 100))),
        Write::Save(Box::new(full("s-3", "+1555", 300))),
        Write::Save(Box::new(full("s-2", "+1555", 200))),
        // Two that ended in the same millisecond: the greater id first.
        Write::Save(Box::new(bare("s-4a", Some("+1555"), 400))),
        Write::Save(Box::new(bare("s-4b", Some("+1555"), 400))),
        Write::Save(Box::new(full("s-other", "+1999", 500))),
        Write::Save(Box::new(bare("s-none", None, 600))),
    ];
    // A prefix of the number is another contact.
    batch.push(Write::Save(Box::new(bare("s-prefix", Some("+155"), 700))));
    let refs: Vec<&Write> = batch.iter().collect();
    store.write_batch(&refs).expect("written");

    let h = reader.history("+1555", 10).expect("reads");
    assert_eq!(ids(&h), ["s-4b", "s-4a", "s-3", "s-2", "s-1"]);
    assert_eq!(h[2], full("s-3", "+1555", 300));
    let h = reader.history("+1555", 2).expect("reads");
    assert_eq!(ids(&h), ["s-4b", "s-4a"]);
    assert_eq!(
        ids(&reader.history("+1999", 10).expect("reads")),
        ["s-other"]
    );
    assert!(reader.history("+1777", 10).expect("reads").is_empty());
    assert!(reader.history("+1555", 0).expect("reads").is_empty());
    assert_eq!(reader.history("+1555", usize::MAX).expect("reads").len(), 5);
}

fn ended_since_lists_sessions_oldest_first(
    store: &mut dyn RecordStore,
    reader: &mut dyn RecordReader,
) {
    for (id, ended) in [
        ("s-300", 300),
        ("s-100", 100),
        // Same end: by id, byte order (an upper-case letter first).
        ("b-200", 200),
        ("B-200", 200),
        ("a-200", 200),
    ] {
        store.save(&bare(id, Some("+1"), ended)).expect("saved");
    }
    let since = |reader: &mut dyn RecordReader, ms| {
        let recs = reader.ended_since(ms).expect("reads");
        recs.iter()
            .map(|r| r.session_id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        since(reader, 0),
        ["s-100", "B-200", "a-200", "b-200", "s-300"]
    );
    // From the given time on, that millisecond included.
    assert_eq!(since(reader, 200), ["B-200", "a-200", "b-200", "s-300"]);
    assert_eq!(since(reader, 201), ["s-300"]);
    assert!(since(reader, 301).is_empty());
    assert!(since(reader, u64::MAX).is_empty());
}

fn users_are_kept_once_seeded(store: &mut dyn RecordStore, reader: &mut dyn RecordReader) {
    // Never seeded: no users (the config's are used, then seed the store).
    assert_eq!(store.users().expect("reads"), None);
    // Seeded with none: seeded all the same.
    store.seed_users(&[]).expect("seeded");
    assert_eq!(store.users().expect("reads"), Some(Vec::new()));

    let bob = user("bob", &["sales"], Some("h-bob"));
    let alice = user("alice", &["support", "sales"], None);
    store
        .seed_users(&[bob.clone(), alice.clone()])
        .expect("seeded");
    assert_eq!(
        store.users().expect("reads"),
        Some(vec![alice.clone(), bob.clone()])
    );
    assert_eq!(reader.stored_user("bob").expect("reads"), Some(bob.clone()));
    assert_eq!(reader.stored_user("nobody").expect("reads"), None);

    let mut dave = user("dave", &[], Some("h-dave"));
    dave.role = Role::Admin;
    dave.seat_type = SeatType::StaffPhoneSeat;
    dave.mobile = Some("+15550001".into());
    dave.max_chats = 12;
    store.save_user(&dave).expect("saved");
    store.remove_user("alice").expect("removed");
    store.remove_user("nobody").expect("no error");
    assert_eq!(
        store.users().expect("reads"),
        Some(vec![bob.clone(), dave.clone()])
    );
    assert_eq!(reader.stored_user("dave").expect("reads"), Some(dave));
    assert_eq!(reader.stored_user("alice").expect("reads"), None);

    // Seeding again replaces every user.
    store
        .seed_users(std::slice::from_ref(&alice))
        .expect("seeded");
    assert_eq!(store.users().expect("reads"), Some(vec![alice]));
    assert_eq!(reader.stored_user("bob").expect("reads"), None);
}

fn a_saved_user_keeps_its_stored_password_hash(
    store: &mut dyn RecordStore,
    reader: &mut dyn RecordReader,
) {
    store
        .seed_users(&[
            user("alice", &["support"], Some("h-alice")),
            user("bob", &["sales"], None),
        ])
        .expect("seeded");
    let hash = |reader: &mut dyn RecordReader, id: &str| {
        reader
            .stored_user(id)
            .expect("reads")
            .unwrap_or_else(|| panic!("{id} stored"))
            .password_hash
    };

    // A change of skill groups, made from a copy with an old hash: the
    // rest changes, the stored hash stays.
    store
        .save_user(&user("alice", &["support", "vip"], Some("h-old")))
        .expect("saved");
    let alice = reader.stored_user("alice").expect("reads").expect("stored");
    assert_eq!(alice.skill_groups, ["support", "vip"]);
    assert_eq!(alice.password_hash.as_deref(), Some("h-alice"));
    // So through a batch's `Write::User`.
    let change = Write::User(Box::new(user("alice", &["vip"], None)));
    store.write_batch(&[&change]).expect("written");
    assert_eq!(hash(reader, "alice").as_deref(), Some("h-alice"));
    assert_eq!(
        store.users().expect("reads").expect("seeded")[0].password_hash,
        Some("h-alice".to_string())
    );
    // A user without a password does not get one by a save.
    store
        .save_user(&user("bob", &["sales"], Some("h-sneaky")))
        .expect("saved");
    assert_eq!(hash(reader, "bob"), None);

    // Only `Write::Password` (set_password) changes it.
    store.set_password("alice", "h-alice-2").expect("set");
    assert_eq!(hash(reader, "alice").as_deref(), Some("h-alice-2"));
    let set = Write::Password {
        user_id: "bob".into(),
        hash: "h-bob".into(),
    };
    store.write_batch(&[&set]).expect("written");
    assert_eq!(hash(reader, "bob").as_deref(), Some("h-bob"));
    assert_eq!(
        reader
            .stored_user("bob")
            .expect("reads")
            .expect("stored")
            .skill_groups,
        ["sales"]
    );

    // A new user keeps the hash it comes with.
    store
        .save_user(&user("carol", &[], Some("h-carol")))
        .expect("saved");
    assert_eq!(hash(reader, "carol").as_deref(), Some("h-carol"));

    // Of a user not stored: an error naming it.
    let err = store.set_password("nobody", "h").expect_err("no such user");
    assert!(format!("{err:#}").contains("`nobody`"), "{err:#}");
    assert_eq!(reader.stored_user("nobody").expect("reads"), None);
}

fn text_with_a_nul_character_is_kept(store: &mut dyn RecordStore, reader: &mut dyn RecordReader) {
    // A customer's text can hold anything: the record is kept (PostgreSQL
    // has U+FFFD where the NUL was).
    let mut r = full("s-nul", "+1\0", 100);
    r.wrap_up_notes = Some("before\0after".into());
    r.transcript[0].text = "nul \0 here".into();
    store.save(&r).expect("saved");
    let got = one(reader, "s-nul");
    let back = |s: &str| s.replace('\u{FFFD}', "\0");
    assert_eq!(
        got.wrap_up_notes.as_deref().map(back).as_deref(),
        Some("before\0after")
    );
    assert_eq!(got.caller.as_deref().map(back).as_deref(), Some("+1\0"));
    assert_eq!(got.transcript[0].text, "nul \0 here");
    assert_eq!(reader.history("+1\0", 5).expect("reads").len(), 1);
}

/// What only PostgreSQL has.
mod pg_only {
    use std::time::{Duration, Instant};

    use ccdesk::server::pg_records::PgRecords;
    use ccdesk::server::records::{open_records, RecordStore};
    use serde_json::json;

    use super::{bare, full, user};
    use crate::harness::{config, talking, TestServer};
    use crate::pg::{database, free_port, shared, PASSWORD};

    fn open_err(url: &str) -> String {
        match PgRecords::open(url) {
            Ok(_) => panic!("{url} opened"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn errors_name_what_is_wrong_and_never_the_password() {
        // Nothing listens there.
        let port = free_port();
        let e = open_err(&format!("postgres://ccdesk:{PASSWORD}@127.0.0.1:{port}/x"));
        assert!(
            e.contains(&format!("cannot connect to PostgreSQL at 127.0.0.1:{port}")),
            "{e}"
        );
        assert!(!e.contains(PASSWORD), "{e}");
        assert!(e.contains("ccdesk:***@"), "{e}");
        // Not a URL of PostgreSQL.
        let e = open_err(&format!("postgres://ccdesk:{PASSWORD}@127.0.0.1:99999/x"));
        assert!(e.contains("not a valid PostgreSQL URL"), "{e}");
        assert!(!e.contains(PASSWORD), "{e}");

        let Some(server) = shared() else {
            return;
        };
        let place = format!("127.0.0.1:{}", server.port);
        // A wrong password.
        let wrong = "Wrong-Password-93";
        let e = open_err(&server.url("postgres").replace(PASSWORD, wrong));
        assert!(
            e.contains(&format!(
                "PostgreSQL at {place} refused user `ccdesk`: authentication failed"
            )),
            "{e}"
        );
        assert!(!e.contains(wrong) && !e.contains(PASSWORD), "{e}");
        // A database that is not there.
        let e = open_err(&server.url("no_such_db"));
        assert!(
            e.contains(&format!(
                "PostgreSQL at {place} has no database `no_such_db`"
            )),
            "{e}"
        );
        assert!(!e.contains(PASSWORD), "{e}");
    }

    #[test]
    fn open_records_picks_postgresql_when_the_url_is_set() {
        let Some(url) = database("open_records") else {
            return;
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().to_path_buf();
        let cfg = config(|c| {
            c.records.url = Some(url.clone());
            c.server.data_dir = Some(data.clone());
        });
        let mut store = open_records(&cfg).expect("opens");
        store.save(&full("s-1", "+1555", 100)).expect("saved");
        let check = PgRecords::open(&url).expect("opens");
        assert!(
            check.get("s-1").expect("reads").is_some(),
            "not in PostgreSQL"
        );
        assert!(
            !data.join("records.sqlite3").exists(),
            "SQLite was opened too"
        );
        assert_eq!(store.recordings_dir(), Some(data.join("recordings")));

        // Without a URL: SQLite in the data directory.
        let cfg = config(|c| c.server.data_dir = Some(data.clone()));
        let mut store = open_records(&cfg).expect("opens");
        store.save(&bare("s-2", None, 100)).expect("saved");
        assert!(data.join("records.sqlite3").exists());
        assert!(check.get("s-2").expect("reads").is_none());

        // A bad URL is refused, not replaced by SQLite.
        let cfg = config(|c| c.records.url = Some(format!("mysql://root:{PASSWORD}@db/x")));
        let e = match open_records(&cfg) {
            Ok(_) => panic!("a MySQL URL opened"),
            Err(e) => format!("{e:#}"),
        };
        assert!(e.contains("postgres://") && !e.contains(PASSWORD), "{e}");
    }

    /// The blocking client panics on a runtime's thread ("Cannot start a
    /// runtime from within a runtime"): the store must not.
    #[tokio::test]
    async fn opening_using_and_dropping_in_async_code_is_safe() {
        let Some(url) = database("async") else {
            return;
        };
        let mut store = PgRecords::open(&url).expect("opens on a runtime thread");
        assert_eq!(store.users().expect("reads"), None);
        store
            .seed_users(&[user("alice", &["support"], Some("h"))])
            .expect("seeded");
        store.save(&full("s-1", "+1555", 100)).expect("saved");
        let mut reader = store.reader().expect("a reader");
        assert_eq!(reader.history("+1555", 5).expect("reads").len(), 1);
        // On a task, and dropped there.
        let task = tokio::spawn(async move {
            store.add_acw("s-1", 5).expect("acw");
            let acw = reader.ended_since(0).expect("reads")[0].acw_ms;
            drop(store);
            drop(reader);
            acw
        });
        assert_eq!(task.await.expect("no panic"), Some(12));
    }

    #[test]
    fn a_lost_connection_is_made_again() {
        let Some(server) = shared() else {
            return;
        };
        let url = server.create_database("lost");
        let db = url.rsplit('/').next().expect("a database").to_string();
        let mut store = PgRecords::open(&url).expect("opens");
        let mut reader = store.reader().expect("a reader");
        store.save(&bare("s-1", None, 100)).expect("saved");
        assert_eq!(reader.ended_since(0).expect("reads").len(), 1);

        // The server ends both connections (a restart, a failover).
        let ended = server.admin(|c| {
            let sql = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                       WHERE datname = $1 AND pid <> pg_backend_pid()";
            let ended = c.query(sql, &[&db]).expect("terminates").len();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let left: i64 = c
                    .query_one(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = $1",
                        &[&db],
                    )
                    .expect("counts")
                    .get(0);
                if left == 0 {
                    break;
                }
                assert!(Instant::now() < deadline, "{left} connections stay");
                std::thread::sleep(Duration::from_millis(10));
            }
            ended
        });
        assert_eq!(ended, 2);
        // The first use finds the connection gone; the next connects again.
        let lost = store
            .save(&bare("s-2", None, 200))
            .expect_err("the connection was ended");
        assert!(
            format!("{lost:#}").contains("terminating connection"),
            "{lost:#}"
        );
        store
            .save(&bare("s-2", None, 200))
            .expect("saved on a new connection");
        assert!(reader.ended_since(0).is_err(), "the connection was ended");
        let recs = reader.ended_since(0).expect("read on a new connection");
        assert_eq!(super::ids(&recs), ["s-1", "s-2"]);
    }

    #[test]
    fn nodes_that_open_one_database_together_all_get_its_tables() {
        let Some(url) = database("together") else {
            return;
        };
        let stores: Vec<PgRecords> = std::thread::scope(|s| {
            let opening: Vec<_> = (0..4).map(|_| s.spawn(|| PgRecords::open(&url))).collect();
            opening
                .into_iter()
                .map(|h| h.join().expect("no panic").expect("opens"))
                .collect()
        });
        let mut stores = stores.into_iter();
        let mut first = stores.next().expect("four");
        first.save(&bare("s-1", None, 100)).expect("saved");
        for s in stores {
            assert!(s.get("s-1").expect("reads").is_some());
        }
    }

    /// The server with its records in PostgreSQL: a call that ends is
    /// there once its end is answered, and `Contact.history` reads it.
    #[tokio::test]
    async fn a_call_that_ends_is_in_postgresql_and_in_the_contact_history() {
        let Some(url) = database("server") else {
            return;
        };
        let store = PgRecords::open(&url).expect("opens");
        let dir = tempfile::tempdir().expect("tempdir");
        let s =
            TestServer::with_records(|c| c.center.after_call_work = 0, Box::new(store), dir).await;
        let (id, alice, _trunk) = talking(&s, "alice").await;
        alice.ok("Call.hungUp", json!({"sessionId": id})).await;

        // The answer has come: the record is in PostgreSQL.
        let check = PgRecords::open(&url).expect("opens");
        let rec = check.get(&id).expect("reads").expect("recorded");
        assert_eq!(rec.kind, "phone");
        assert_eq!(rec.agents, ["alice"]);
        assert_eq!(rec.caller.as_deref(), Some("+15551234567"));
        assert_eq!(rec.skill_group.as_deref(), Some("support"));
        assert_eq!(rec.close_by, "seat");
        assert!(rec.accepted_at.is_some());

        let h = alice
            .ok("Contact.history", json!({"phoneNumber": "+15551234567"}))
            .await
            .expect("history");
        let rows = h["sessions"].as_array().expect("sessions");
        let ids: Vec<&str> = rows
            .iter()
            .filter_map(|r| r["sessionId"].as_str())
            .collect();
        assert_eq!(ids, [id.as_str()], "{h}");

        // The server seeded its users there at its start.
        let mut check = check;
        let users = check.users().expect("reads").expect("seeded");
        assert!(users.iter().any(|u| u.id == "alice"), "{users:?}");
    }
}
