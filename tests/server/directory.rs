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
