//! Who is calling: contact attributes in `callIn` and the record, and the
//! contact's earlier sessions (`Contact.history`).

use ccdesk::protocol::{ErrorCode, Event};
use serde_json::json;

use crate::harness::*;

/// A call from `number` with `attributes`, taken by alice, wrapped up with
/// `code` and hung up by the caller.
async fn handled_call(
    alice: &mut Client,
    trunk: &Client,
    number: &str,
    attributes: serde_json::Value,
    code: &str,
) -> String {
    let v = trunk
        .ok(
            "Customer.call",
            json!({"type": "phone", "skillGroupId": "support", "calleePhoneNumber": "4000",
                   "callerPhoneNumber": number, "attributes": attributes}),
        )
        .await
        .expect("sessionId");
    let sid = v["sessionId"].as_str().expect("sessionId").to_string();
    alice.wait_for("callIn").await;
    alice.ok("Call.accept", json!({"sessionId": sid})).await;
    alice
        .ok("Call.setWrapUp", json!({"sessionId": sid, "code": code}))
        .await;
    trunk.ok("Customer.hangUp", json!({"sessionId": sid})).await;
    alice.wait_for("sessionEnded").await;
    alice.ok("Agent.setStatus", json!({"status": "free"})).await;
    sid
}

#[tokio::test]
async fn attributes_reach_the_agent_and_the_record_and_history_lists_earlier_calls() {
    let s = TestServer::start().await;
    let mut alice = s.login("alice").await;
    let trunk = s.login("pstn").await;
    let first = handled_call(
        &mut alice,
        &trunk,
        "+15550009999",
        json!({"tier": "gold", "order": "8812"}),
        "Resolved",
    )
    .await;
    let second = handled_call(&mut alice, &trunk, "+15550009999", json!({}), "Escalated").await;
    // Someone else's call is not in this contact's history.
    handled_call(&mut alice, &trunk, "+15550001111", json!({}), "Resolved").await;

    // The third call from the number: its attributes come with callIn.
    let v = trunk
        .ok(
            "Customer.call",
            json!({"type": "phone", "skillGroupId": "support", "calleePhoneNumber": "4000",
                   "callerPhoneNumber": "+15550009999", "attributes": {"tier": "gold"}}),
        )
        .await
        .expect("sessionId");
    let Event::CallIn(ci) = alice.wait_for("callIn").await else {
        unreachable!()
    };
    assert_eq!(ci.session_id, v["sessionId"].as_str().unwrap());
    assert_eq!(ci.attributes.get("tier").map(String::as_str), Some("gold"));
    // Its history: the two earlier ones, newest first, with their wrap-up.
    let h = alice
        .ok("Contact.history", json!({"phoneNumber": "+15550009999"}))
        .await
        .expect("history");
    let rows = h["sessions"].as_array().expect("sessions");
    let ids: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["sessionId"].as_str())
        .collect();
    assert_eq!(ids, [second.as_str(), first.as_str()], "{h}");
    assert_eq!(rows[0]["wrapUpCode"], "Escalated");
    assert_eq!(rows[1]["wrapUpCode"], "Resolved");
    assert_eq!(rows[0]["agents"], json!(["alice"]));
    assert!(rows[0]["talkMs"].is_u64(), "{h}");
    let limited = alice
        .ok(
            "Contact.history",
            json!({"phoneNumber": "+15550009999", "limit": 1}),
        )
        .await
        .expect("history");
    assert_eq!(limited["sessions"].as_array().map(Vec::len), Some(1));
    // The record keeps the attributes.
    let rec = s.records().get(&first).unwrap().expect("recorded");
    assert_eq!(
        rec.attributes.get("order").map(String::as_str),
        Some("8812")
    );
}

#[tokio::test]
async fn bad_attributes_and_history_requests_are_refused() {
    let s = TestServer::start().await;
    let alice = s.login("alice").await;
    let trunk = s.login("pstn").await;
    let many: serde_json::Map<String, serde_json::Value> =
        (0..21).map(|i| (format!("k{i}"), json!("v"))).collect();
    for attrs in [json!(many), json!({"": "x"}), json!({"k": "v".repeat(257)})] {
        let (code, msg) = trunk
            .err(
                "Customer.call",
                json!({"type": "phone", "skillGroupId": "support", "calleePhoneNumber": "4000",
                       "attributes": attrs}),
            )
            .await;
        assert_eq!(code, ErrorCode::BadRequest);
        assert!(msg.contains("attribute"), "{msg}");
    }
    for params in [
        json!({}),
        json!({"phoneNumber": "+1555", "userId": "u1"}),
        json!({"phoneNumber": "+1555", "limit": 0}),
        json!({"phoneNumber": "+1555", "limit": 51}),
    ] {
        let (code, _) = alice.err("Contact.history", params).await;
        assert_eq!(code, ErrorCode::BadRequest);
    }
    // Trunks are not seats.
    let (code, _) = trunk
        .err("Contact.history", json!({"phoneNumber": "+1555"}))
        .await;
    assert_eq!(code, ErrorCode::Forbidden);
    // Nobody called from there: an empty list.
    let h = alice
        .ok("Contact.history", json!({"userId": "nobody"}))
        .await
        .expect("history");
    assert_eq!(h["sessions"], json!([]));
}
