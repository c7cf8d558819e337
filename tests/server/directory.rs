//! The live directory's lists: every seat with its availability
//! (`Agent.list`) and every skill group with its free agents and queue
//! (`SkillGroup.list`), for the terminal's transfer and call dialogs.

use ccdesk::protocol::ErrorCode;
use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn agents_and_groups_are_listed_with_who_can_take_a_call_now() {
    let s = TestServer::start().await;
    let (id, alice, _trunk) = talking(&s, "alice").await;
    let mut bob = s.login("bob").await;
    bob.expect("statusChanged").await;
    let v = bob.ok("Agent.list", json!({})).await.expect("agents");
    let agents = v["agents"].as_array().expect("agents");
    let row = |user: &str| {
        agents
            .iter()
            .find(|a| a["userId"] == user)
            .cloned()
            .unwrap_or_else(|| panic!("{user} listed: {v}"))
    };
    // Every seat of the config, sorted; trunks are not seats.
    let ids: Vec<&str> = agents.iter().filter_map(|a| a["userId"].as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
    assert!(!ids.contains(&"pstn"), "{v}");
    // alice is in a call; bob is free and connected; dave never logged in.
    assert_eq!(
        (
            row("alice")["status"].clone(),
            row("alice")["available"].clone()
        ),
        (json!("busy"), json!(false))
    );
    assert_eq!(
        (
            row("bob")["status"].clone(),
            row("bob")["available"].clone()
        ),
        (json!("free"), json!(true))
    );
    assert_eq!(
        (
            row("dave")["status"].clone(),
            row("dave")["available"].clone()
        ),
        (json!("offline"), json!(false))
    );
    assert_eq!(row("bob")["name"], "Bob Baker");
    assert!(row("alice")["skillGroups"]
        .as_array()
        .is_some_and(|g| !g.is_empty()));

    let g = alice
        .ok("SkillGroup.list", json!({}))
        .await
        .expect("groups");
    let groups = g["skillGroups"].as_array().expect("groups");
    let support = groups
        .iter()
        .find(|x| x["skillGroupId"] == "support")
        .expect("support");
    assert_eq!(support["waiting"], 0, "{g}");
    assert!(
        support["free"].as_u64().is_some_and(|n| n >= 1),
        "bob is free: {g}"
    );
    let _ = id;
}

#[tokio::test]
async fn only_seats_may_list() {
    let s = TestServer::start().await;
    let trunk = s.login("pstn").await;
    for m in ["Agent.list", "SkillGroup.list"] {
        let (code, _) = trunk.err(m, json!({})).await;
        assert_eq!(code, ErrorCode::Forbidden, "{m}");
    }
}

#[tokio::test]
async fn a_subscription_gets_the_snapshot_then_the_rows_that_change_until_it_ends() {
    let s = TestServer::start().await;
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    let mut bob = s.login("bob").await;
    bob.expect("statusChanged").await;
    let snap = bob
        .ok("Agent.subscribeDirectory", json!({}))
        .await
        .expect("a snapshot");
    assert!(
        snap["agents"].as_array().is_some_and(|a| a.len() >= 3),
        "{snap}"
    );
    assert!(
        snap["skillGroups"]
            .as_array()
            .is_some_and(|g| !g.is_empty()),
        "{snap}"
    );
    // alice takes a break: bob hears of her row (and her groups' free count).
    alice
        .ok(
            "Agent.setStatus",
            json!({"status": "rest", "restReason": "Meal"}),
        )
        .await;
    match bob.wait_for("directory").await {
        ccdesk::protocol::Event::Directory(d) => {
            let row = d
                .agents
                .iter()
                .find(|a| a.user_id == "alice")
                .expect("alice's row");
            assert_eq!(row.status.as_str(), "rest");
            assert!(!row.available);
            assert!(
                d.skill_groups.iter().any(|g| g.skill_group_id == "support"),
                "{d:?}"
            );
        }
        _ => unreachable!(),
    }
    // Unsubscribed: no more.
    bob.ok("Agent.unsubscribeDirectory", json!({})).await;
    alice.ok("Agent.setStatus", json!({"status": "free"})).await;
    alice.sync().await;
    bob.sync().await;
    let late: Vec<_> = bob
        .drain()
        .await
        .into_iter()
        .filter(|e| matches!(e, ccdesk::protocol::Event::Directory(_)))
        .collect();
    assert!(late.is_empty(), "{late:?}");
}
