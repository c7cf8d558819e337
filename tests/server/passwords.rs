//! Agents log in with a password (`login {userId, password}`), get a
//! token, renew it during a call (`Agent.renewToken`), and failed attempts
//! are limited per user and per address.

use std::time::Duration;

use ccdesk::client::{ClientError, Connection};
use ccdesk::protocol::{ErrorCode, Event};
use ccdesk::server::passwords;
use serde_json::json;

use crate::harness::*;

const PASSWORD: &str = "correct horse battery";

async fn server() -> TestServer {
    let hash = passwords::hash(PASSWORD).expect("hash");
    TestServer::paused(move |c| {
        for u in c.users.iter_mut() {
            if u.id == "alice" {
                u.password_hash = Some(hash.clone());
            }
        }
    })
    .await
}

async fn with_password(
    s: &TestServer,
    user: &str,
    password: &str,
) -> Result<Connection, ClientError> {
    let c = Connection::connect(&s.url).await.expect("connect");
    let r = c
        .call("login", json!({"userId": user, "password": password}))
        .await?;
    let token = r
        .as_ref()
        .and_then(|v| v["token"].as_str())
        .map(str::to_string);
    assert!(
        token.is_some(),
        "a password login answers with a token: {r:?}"
    );
    Ok(c)
}

fn refused(r: Result<Connection, ClientError>) -> (ErrorCode, String) {
    match r {
        Err(ClientError::Server(e)) => (e.code, e.message),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("logged in"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_password_login_answers_with_a_token_that_logs_in_too() {
    let s = server().await;
    let c = Connection::connect(&s.url).await.expect("connect");
    let v = c
        .call("login", json!({"userId": "alice", "password": PASSWORD}))
        .await
        .expect("login")
        .expect("result");
    let token = v["token"].as_str().expect("token").to_string();
    let exp = v["tokenExpiresAt"].as_u64().expect("tokenExpiresAt");
    assert!(exp >= now_secs() + s.cfg.auth.default_ttl - 5, "{exp}");
    // The token works as any other.
    let other = Connection::connect(&s.url).await.expect("connect");
    other
        .login("alice", &token, true)
        .await
        .expect("the issued token logs in");
    // A wrong password and an unknown user get the same answer.
    let (code, wrong) = refused(with_password(&s, "alice", "not the password").await);
    assert_eq!(code, ErrorCode::Unauthorized);
    let (_, unknown) = refused(with_password(&s, "mallory", PASSWORD).await);
    assert_eq!(wrong, unknown);
    assert_eq!(wrong, "wrong user or password");
    // bob has no password: the same answer.
    let (_, nopass) = refused(with_password(&s, "bob", PASSWORD).await);
    assert_eq!(nopass, wrong);
}

#[tokio::test(start_paused = true)]
async fn failed_logins_lock_the_user_out_for_a_while() {
    let s = server().await;
    for _ in 0..5 {
        let (code, _) = refused(with_password(&s, "alice", "guess guess guess").await);
        assert_eq!(code, ErrorCode::Unauthorized);
    }
    // Even the right password waits now.
    let (code, msg) = refused(with_password(&s, "alice", PASSWORD).await);
    assert_eq!(code, ErrorCode::RateLimited, "{msg}");
    assert!(msg.contains("try again in"), "{msg}");
    tokio::time::sleep(Duration::from_secs(301)).await;
    with_password(&s, "alice", PASSWORD)
        .await
        .expect("after the window, the right password logs in");
}

#[tokio::test(start_paused = true)]
async fn a_token_renewed_during_a_call_keeps_the_connection_past_the_old_expiry() {
    let s = server().await;
    let trunk = s.login("pstn").await;
    // alice's token lasts a minute.
    let mut alice = s.connect().await;
    let short = ccdesk::server::auth::issue(&s.cfg.auth.secret, "alice", now_secs(), 60);
    alice
        .conn
        .login("alice", &short, false)
        .await
        .expect("login");
    // bob's lasts a minute too, and he does not renew it.
    let mut bob = s.connect().await;
    let bob_token = ccdesk::server::auth::issue(&s.cfg.auth.secret, "bob", now_secs(), 60);
    bob.conn
        .login("bob", &bob_token, false)
        .await
        .expect("login");
    let id = phone_call(&trunk, "support").await;
    loop {
        if let Event::CallIn(_) = alice.event().await {
            break;
        }
    }
    alice.ok("Call.accept", json!({"sessionId": id})).await;
    let v = alice
        .ok("Agent.renewToken", json!({}))
        .await
        .expect("renewed");
    assert!(v["token"].as_str().is_some_and(|t| t != short), "{v}");
    assert!(v["expiresAt"].as_u64().expect("expiresAt") > now_secs() + 3600);
    // Two minutes on, past the first token's end: still connected and in the call.
    tokio::time::sleep(Duration::from_secs(120)).await;
    alice.ok("Call.hold", json!({"sessionId": id})).await;
    alice.ok("Call.hungUp", json!({"sessionId": id})).await;
    // Without renewing, the same minute ended bob's connection.
    let seen = bob.closed().await;
    assert!(
        seen.iter().any(|e| matches!(e, Event::TokenExpired { .. })),
        "{seen:?}"
    );
}

fn ccdesk(args: &[&str], stdin: &str, state: &std::path::Path) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ccdesk"))
        .args(args)
        .env("XDG_STATE_HOME", state)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("ccdesk runs");
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(stdin.as_bytes());
    }
    child.wait_with_output().expect("ccdesk ends")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_commands_set_passwords_and_ccdesk_login_keeps_the_token() {
    let data = tempfile::tempdir().expect("tempdir");
    let state = tempfile::tempdir().expect("tempdir");
    let cfg = data.path().join("server.toml");
    std::fs::write(
        &cfg,
        "[server]\ndata_dir = \".\"\n[auth]\nsecret = \"0123456789abcdef0123\"\n\
         [[skill_groups]]\nid = \"support\"\n\
         [[users]]\nid = \"alice\"\nrole = \"agent\"\nskill_groups = [\"support\"]\n\
         [[users]]\nid = \"pstn\"\nrole = \"trunk\"\n",
    )
    .expect("config");
    let c = cfg.to_str().expect("path");
    let out = ccdesk(
        &[
            "user",
            "passwd",
            "--config",
            c,
            "--user",
            "alice",
            "--password-stdin",
        ],
        "first-password-1\n",
        state.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ccdesk(
        &[
            "user",
            "add",
            "--config",
            c,
            "--user",
            "erin",
            "--groups",
            "support",
            "--password-stdin",
        ],
        "erins-password-1\n",
        state.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ccdesk(
        &[
            "user",
            "passwd",
            "--config",
            c,
            "--user",
            "nobody",
            "--password-stdin",
        ],
        "whatever-password\n",
        state.path(),
    );
    assert!(!out.status.success());
    let out = ccdesk(
        &[
            "user",
            "passwd",
            "--config",
            c,
            "--user",
            "alice",
            "--password-stdin",
        ],
        "short\n",
        state.path(),
    );
    assert!(!out.status.success(), "a short password is refused");
    // A server on that database knows both, with their passwords.
    let records = ccdesk::server::records::SqliteRecords::open_dir(data.path()).expect("records");
    let s = TestServer::with_records(|_| {}, Box::new(records), tempfile::tempdir().expect("dir"))
        .await;
    with_password(&s, "alice", "first-password-1")
        .await
        .expect("alice");
    with_password(&s, "erin", "erins-password-1")
        .await
        .expect("erin");
    // ccdesk login keeps a token, readable by its owner only.
    let out = ccdesk(
        &[
            "login",
            "--server",
            &s.url,
            "--user",
            "alice",
            "--password-stdin",
        ],
        "first-password-1\n",
        state.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept_path = state.path().join("ccdesk").join("login.json");
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&kept_path).expect("kept")).expect("json");
    assert_eq!(kept["user"], "alice");
    let token = kept["token"].as_str().expect("token");
    let again = Connection::connect(&s.url).await.expect("connect");
    again
        .login("alice", token, true)
        .await
        .expect("the kept token logs in");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kept_path)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A new password takes effect at once on the running server.
    let out = ccdesk(
        &[
            "user",
            "passwd",
            "--config",
            c,
            "--user",
            "alice",
            "--password-stdin",
        ],
        "second-password-2\n",
        state.path(),
    );
    assert!(out.status.success());
    with_password(&s, "alice", "second-password-2")
        .await
        .expect("the new one");
    let (code, _) = refused(with_password(&s, "alice", "first-password-1").await);
    assert_eq!(code, ErrorCode::Unauthorized);
    // ccdesk logout forgets the token.
    let out = ccdesk(&["logout"], "", state.path());
    assert!(out.status.success());
    assert!(!kept_path.exists());
}

/// `Supervisor.setPassword`: an administrator sets a user's password from
/// the console; it logs in at once, survives a later change of the user's
/// skill groups (which keeps the stored user), and is refused to anyone
/// else, for a trunk, and when too short.
#[tokio::test(start_paused = true)]
async fn an_admin_sets_a_password_that_logs_in_and_outlives_a_change_of_groups() {
    let s = server().await;
    let sam = s.login("sam").await;
    let new = "a brand new passphrase";
    sam.ok(
        "Supervisor.setPassword",
        json!({"userId": "bob", "password": new}),
    )
    .await;
    with_password(&s, "bob", new).await.expect("bob logs in");
    // A change of groups writes the user again: the password stays.
    sam.ok(
        "Supervisor.setSkillGroups",
        json!({"userId": "bob", "skillGroups": ["sales"]}),
    )
    .await;
    with_password(&s, "bob", new)
        .await
        .expect("still bob's password");
    // The same for a password set outside the center (`ccdesk user
    // passwd` writes the database): a change of groups does not undo it.
    let other = "changed on the server machine";
    ccdesk::server::records::RecordStore::set_password(
        &mut s.records(),
        "alice",
        &passwords::hash(other).expect("hash"),
    )
    .expect("stored");
    sam.ok(
        "Supervisor.setSkillGroups",
        json!({"userId": "alice", "skillGroups": ["sales"]}),
    )
    .await;
    with_password(&s, "alice", other)
        .await
        .expect("the password set on the server machine stays");

    let (code, msg) = sam
        .err(
            "Supervisor.setPassword",
            json!({"userId": "bob", "password": "short"}),
        )
        .await;
    assert_eq!(code, ErrorCode::BadRequest, "{msg}");
    assert!(msg.contains("at least 10 characters"), "{msg}");
    let (code, _) = sam
        .err(
            "Supervisor.setPassword",
            json!({"userId": "pstn", "password": new}),
        )
        .await;
    assert_eq!(code, ErrorCode::NotFound, "trunks log in with tokens");
    let (code, _) = sam
        .err(
            "Supervisor.setPassword",
            json!({"userId": "nobody", "password": new}),
        )
        .await;
    assert_eq!(code, ErrorCode::NotFound);
    for who in ["ivy", "alice"] {
        let c = s.login(who).await;
        let (code, msg) = c
            .err(
                "Supervisor.setPassword",
                json!({"userId": "bob", "password": "mallory's choice"}),
            )
            .await;
        assert_eq!(code, ErrorCode::Forbidden, "{who}: {msg}");
    }
    with_password(&s, "bob", new)
        .await
        .expect("nobody else changed it");
}
