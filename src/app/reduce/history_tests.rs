//! The reducer's contact history: each new offer asks `Contact.history`
//! about its caller, the answer is kept with the session, a failure is
//! silent.

use serde_json::json;

use crate::app::action::Action;
use crate::app::reduce::reduce;
use crate::app::reduce_tests::{call_in, ok, req, reqs, state};
use crate::protocol::{CallType, ErrorCode, ProtoError};

const T0: u64 = 1_700_000_000_000;

#[test]
fn an_offer_asks_for_the_callers_history_and_shows_the_earlier_sessions() {
    let mut s = state();
    let fx = reduce(&mut s, call_in("s-1", CallType::Phone), T0);
    let (id, method, params) = req(&fx);
    assert_eq!(method, "Contact.history");
    assert_eq!(params, json!({"phoneNumber": "13800000000", "limit": 3}));
    // The answer is kept with the session (the session itself left out).
    let entry = |sid: &str, code: &str| {
        json!({"sessionId": sid, "type": "phone", "direction": "inbound", "startedAt": T0 - 90_000,
               "endedAt": T0 - 60_000, "agents": ["bob"], "talkMs": 20_000, "closeBy": "client",
               "wrapUpCode": code})
    };
    ok(
        &mut s,
        id,
        Some(json!({"sessions": [entry("s-1", "x"), entry("s-0", "Resolved")]})),
    );
    let h = s
        .session("s-1")
        .and_then(|x| x.history.clone())
        .expect("history");
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].wrap_up_code.as_deref(), Some("Resolved"));
    // Offered again (passed on and back): not asked twice.
    let fx = reduce(&mut s, call_in("s-1", CallType::Phone), T0 + 1_000);
    assert!(reqs(&fx).is_empty(), "{fx:?}");
}

#[test]
fn a_history_that_fails_is_not_an_error_and_internal_calls_ask_none() {
    let mut s = state();
    let (id, ..) = req(&reduce(&mut s, call_in("s-1", CallType::Phone), T0));
    reduce(
        &mut s,
        Action::Response {
            id,
            result: Err(ProtoError::new(ErrorCode::BadRequest, "unknown method")),
        },
        T0,
    );
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert!(s.pending.is_empty());
    let fx = reduce(&mut s, call_in("s-2", CallType::Internal), T0);
    assert!(reqs(&fx).is_empty(), "{fx:?}");
}
