//! Live staffing: `Supervisor.setSkillGroups`, `Supervisor.addUser` and
//! `Supervisor.removeUser`, applied at once to routing and the wallboard,
//! refused to inspectors and agents, and kept across a restart.

use ccdesk::protocol::{ErrorCode, Event, Wallboard};
use ccdesk::server::records::SqliteRecords;
use serde_json::json;

use crate::harness::*;

async fn board(c: &Client) -> Wallboard {
    let v = c
        .ok("Supervisor.subscribe", json!({}))
        .await
        .expect("a wallboard");
    serde_json::from_value(v).expect("a Wallboard")
}

async fn catch_up(c: &mut Client, w: &mut Wallboard) {
    for ev in c.drain().await {
        if let Event::Wallboard(d) = ev {
            w.apply(d);
        }
    }
}

fn groups_of(w: &Wallboard, id: &str) -> Option<Vec<String>> {
    w.agents
        .iter()
        .find(|a| a.user_id == id)
        .map(|a| a.skill_groups.clone())
}

#[tokio::test(start_paused = true)]
async fn skill_groups_change_routing_and_the_wallboard_at_once() {
    let s = TestServer::paused(|_| {}).await;
    let mut sam = s.login("sam").await;
    let mut w = board(&sam).await;
    let mut alice = s.login("alice").await;
    alice.drain().await;
    sam.ok(
        "Supervisor.setSkillGroups",
        json!({"userId": "alice", "skillGroups": ["sales", "sales"]}),
    )
    .await;
    catch_up(&mut sam, &mut w).await;
    assert_eq!(groups_of(&w, "alice"), Some(vec!["sales".to_string()]));
    let sales = w
        .groups
        .iter()
        .find(|g| g.skill_group_id == "sales")
        .expect("sales");
    assert_eq!(
        (sales.free, sales.staffed),
        (1, 1),
        "alice now staffs sales"
    );
    // A support call no longer reaches her; a sales call does.
    let trunk = s.login("pstn").await;
    let support = phone_call(&trunk, "support").await;
    let sale = phone_call(&trunk, "sales").await;
    let Event::CallIn(ci) = alice.wait_for("callIn").await else {
        unreachable!()
    };
    assert_eq!(ci.session_id, sale);
    assert_ne!(ci.session_id, support);
    // Refusals.
    let ivy = s.login("ivy").await;
    let (code, msg) = ivy
        .err(
            "Supervisor.setSkillGroups",
            json!({"userId": "alice", "skillGroups": ["support"]}),
        )
        .await;
    assert_eq!(code, ErrorCode::Forbidden, "inspectors only watch: {msg}");
    let (code, _) = alice
        .err(
            "Supervisor.setSkillGroups",
            json!({"userId": "alice", "skillGroups": ["support"]}),
        )
        .await;
    assert_eq!(code, ErrorCode::Forbidden);
    let (code, msg) = sam
        .err(
            "Supervisor.setSkillGroups",
            json!({"userId": "alice", "skillGroups": ["astrology"]}),
        )
        .await;
    assert_eq!(code, ErrorCode::NotFound, "{msg}");
    assert!(msg.contains("astrology"), "{msg}");
    let (code, _) = sam
        .err(
            "Supervisor.setSkillGroups",
            json!({"userId": "nobody", "skillGroups": []}),
        )
        .await;
    assert_eq!(code, ErrorCode::NotFound);
}

#[tokio::test(start_paused = true)]
async fn an_added_user_logs_in_and_takes_calls_and_a_removed_one_cannot() {
    let s = TestServer::paused(|_| {}).await;
    let mut sam = s.login("sam").await;
    let mut w = board(&sam).await;
    sam.ok(
        "Supervisor.addUser",
        json!({"userId": "erin", "skillGroups": ["support"], "name": "Erin Olsen"}),
    )
    .await;
    catch_up(&mut sam, &mut w).await;
    let row = w
        .agents
        .iter()
        .find(|a| a.user_id == "erin")
        .expect("erin on the wallboard");
    assert_eq!(
        (row.name.as_deref(), row.role.as_str()),
        (Some("Erin Olsen"), "agent")
    );
    for (params, want) in [
        (json!({"userId": "erin"}), ErrorCode::InvalidState),
        (json!({"userId": "no spaces"}), ErrorCode::BadRequest),
        (
            json!({"userId": "fred", "role": "trunk"}),
            ErrorCode::BadRequest,
        ),
        (
            json!({"userId": "fred", "maxChats": 0}),
            ErrorCode::BadRequest,
        ),
        (
            json!({"userId": "fred", "skillGroups": ["nope"]}),
            ErrorCode::NotFound,
        ),
    ] {
        let (code, msg) = sam.err("Supervisor.addUser", params.clone()).await;
        assert_eq!(code, want, "{params}: {msg}");
    }
    // erin works at once.
    let mut erin = s.login("erin").await;
    let trunk = s.login("pstn").await;
    let id = phone_call(&trunk, "support").await;
    let Event::CallIn(ci) = erin.wait_for("callIn").await else {
        unreachable!()
    };
    assert_eq!(ci.session_id, id);
    erin.ok("Call.accept", json!({"sessionId": id})).await;
    // Not while she is logged in.
    let (code, msg) = sam
        .err("Supervisor.removeUser", json!({"userId": "erin"}))
        .await;
    assert_eq!(code, ErrorCode::InvalidState, "{msg}");
    let (code, _) = sam
        .err("Supervisor.removeUser", json!({"userId": "sam"}))
        .await;
    assert_eq!(code, ErrorCode::BadRequest, "not oneself");
    erin.ok("Call.hungUp", json!({"sessionId": id})).await;
    erin.conn.close();
    drop(erin);
    // Gone once her connection has closed and the grace period is over.
    tokio::time::sleep(std::time::Duration::from_secs(
        s.cfg.center.reconnect_grace + 1,
    ))
    .await;
    sam.drain().await;
    let mut w = board(&sam).await;
    sam.ok("Supervisor.removeUser", json!({"userId": "erin"}))
        .await;
    catch_up(&mut sam, &mut w).await;
    assert!(
        w.agents.iter().all(|a| a.user_id != "erin"),
        "{:?}",
        w.agents
    );
    let c = s.connect().await;
    let err = c
        .conn
        .login("erin", &s.token("erin"), false)
        .await
        .expect_err("erin is no longer a user");
    assert!(err.to_string().contains("unknown user"), "{err}");
}

#[tokio::test]
async fn staffing_changes_survive_a_restart_and_the_config_seeds_only_the_first_start() {
    let data = tempfile::tempdir().expect("tempdir");
    let open = || Box::new(SqliteRecords::open_dir(data.path()).expect("records"));
    {
        let s = TestServer::with_records(|_| {}, open(), tempfile::tempdir().expect("dir")).await;
        let sam = s.login("sam").await;
        sam.ok(
            "Supervisor.setSkillGroups",
            json!({"userId": "bob", "skillGroups": ["sales"]}),
        )
        .await;
        sam.ok(
            "Supervisor.addUser",
            json!({"userId": "erin", "skillGroups": ["support"]}),
        )
        .await;
        sam.ok("Supervisor.removeUser", json!({"userId": "dave"}))
            .await;
    }
    // A second start on the same database: its users, not the config's.
    let s = TestServer::with_records(|_| {}, open(), tempfile::tempdir().expect("dir")).await;
    let sam = s.login("sam").await;
    let w = board(&sam).await;
    let ids: Vec<&str> = w.agents.iter().map(|a| a.user_id.as_str()).collect();
    assert_eq!(ids, ["alice", "bob", "erin", "ivy", "sam"]);
    assert_eq!(groups_of(&w, "bob"), Some(vec!["sales".to_string()]));
    let _erin = s.login("erin").await;
    let c = s.connect().await;
    assert!(c.conn.login("dave", &s.token("dave"), false).await.is_err());
}
