//! Bad input (10): every error code, broken frames; the connection stays
//! open and the server keeps serving everyone else.

use std::time::Duration;

use ccdesk::protocol::{ErrorCode, Response, Status, MAX_FRAME_BYTES};
use ccdesk::server::records::{RecordStore, SessionRecord};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::harness::*;

/// A raw WebSocket, to send what no well-behaved client would.
struct Raw {
    ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Raw {
    async fn connect(s: &TestServer) -> Raw {
        let (ws, _) = tokio_tungstenite::connect_async(&s.url).await.unwrap();
        Raw { ws }
    }
    async fn login(s: &TestServer, user: &str) -> Raw {
        let mut r = Raw::connect(s).await;
        let resp = r.ask(json!({"id": 1, "method": "login", "params": {"userId": user, "token": s.token(user)}}).to_string()).await;
        assert_eq!(resp.status, Status::Success);
        r
    }
    async fn send(&mut self, m: Message) {
        self.ws.send(m).await.unwrap();
    }
    /// The next response (events are skipped).
    async fn response(&mut self) -> Response {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("an answer")
                .expect("open")
                .expect("frame");
            if let Message::Text(t) = m {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v.get("event").is_none() {
                    return serde_json::from_value(v).unwrap();
                }
            }
        }
    }
    async fn ask(&mut self, text: String) -> Response {
        self.send(Message::text(text)).await;
        self.response().await
    }
    async fn bad(&mut self, text: &str) -> (Value, String) {
        let r = self.ask(text.to_string()).await;
        assert_eq!(r.status, Status::Error, "{text}");
        assert_eq!(r.error_code, Some(ErrorCode::BadRequest), "{text}: {r:?}");
        (r.id, r.error_msg.unwrap())
    }
    /// Still open and answering.
    async fn alive(&mut self) {
        let r = self
            .ask(json!({"id": "alive", "method": "Agent.getStatus"}).to_string())
            .await;
        assert_eq!(r.id, json!("alive"));
    }
}

#[tokio::test]
async fn broken_frames_get_bad_request_and_the_connection_stays_open() {
    let s = TestServer::start().await;
    let mut r = Raw::login(&s, "alice").await;
    let (id, msg) = r.bad("this is not json").await;
    assert_eq!(id, Value::Null);
    assert!(msg.contains("not valid JSON"), "{msg}");
    r.alive().await;
    assert!(r.bad("[1,2,3]").await.1.contains("object"));
    assert!(r
        .bad(r#"{"method":"Agent.getStatus"}"#)
        .await
        .1
        .contains("`id`"));
    let (id, msg) = r
        .bad(r#"{"id":5,"method":"Call.teleport","params":{}}"#)
        .await;
    assert_eq!(id, json!(5));
    assert!(msg.contains("Call.teleport"), "{msg}");
    let (_, msg) = r.bad(r#"{"id":6,"method":"Call.hold","params":{}}"#).await;
    assert!(msg.contains("sessionId"), "{msg}");
    let (_, msg) = r
        .bad(r#"{"id":7,"method":"Call.hold","params":{"sessionId":42}}"#)
        .await;
    assert!(
        msg.contains("sessionId") && msg.contains("integer"),
        "{msg}"
    );
    let (_, msg) = r
        .bad(r#"{"id":8,"method":"Call.monitor","params":{"sessionId":"x","textOnly":"yes"}}"#)
        .await;
    assert!(msg.contains("textOnly"), "{msg}");
    let (_, msg) = r
        .bad(r#"{"id":9,"method":"Call.sendDigits","params":{"sessionId":"x","dtmfText":"12x"}}"#)
        .await;
    assert!(msg.contains("dtmfText"), "{msg}");
    // Oversized: answered, not dropped.
    let big = json!({"id": 10, "method": "Chat.sendMessage", "params": {"sessionId": "x", "text": "y".repeat(MAX_FRAME_BYTES)}}).to_string();
    let (_, msg) = r.bad(&big).await;
    assert!(msg.contains("larger than"), "{msg}");
    r.send(Message::binary(vec![1, 2, 3])).await;
    let resp = r.response().await;
    assert_eq!(resp.error_code, Some(ErrorCode::BadRequest));
    assert!(resp.error_msg.unwrap().contains("binary"));
    r.alive().await;
}

#[tokio::test]
async fn a_frame_too_big_for_the_socket_closes_only_that_connection() {
    let s = TestServer::start().await;
    let mut other = s.login("bob").await;
    other.expect("statusChanged").await;
    let mut r = Raw::login(&s, "alice").await;
    let huge = "x".repeat(5 << 20);
    let _ = r.ws.send(Message::text(huge)).await;
    // The server answers what it can and closes; nothing else is affected.
    let mut closed = false;
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_secs(10), r.ws.next()).await {
        match m {
            Ok(Message::Close(_)) | Err(_) => {
                closed = true;
                break;
            }
            Ok(_) => {}
        }
    }
    assert!(closed);
    assert_eq!(other.status().await, "free");
}

#[tokio::test]
async fn every_error_code_is_reachable() {
    let s = TestServer::with(|c| {
        c.server.rate_limit_per_second = 1;
        c.server.rate_limit_burst = 40;
    })
    .await;
    let (id, alice, trunk) = talking(&s, "alice").await;
    let bob = s.login("bob").await;
    // badRequest
    assert_eq!(
        alice.err("Call.transfer", json!({"sessionId": id})).await.0,
        ErrorCode::BadRequest
    );
    // unauthorized
    let fresh = s.connect().await;
    assert_eq!(
        fresh.err("Agent.online", json!({})).await.0,
        ErrorCode::Unauthorized
    );
    // forbidden: role, and someone else's session
    assert_eq!(
        alice.err("Supervisor.listSessions", json!({})).await.0,
        ErrorCode::Forbidden
    );
    let (code, msg) = bob.err("Call.hold", json!({"sessionId": id})).await;
    assert_eq!(code, ErrorCode::Forbidden);
    assert!(msg.contains(&id));
    // notFound
    let (code, msg) = alice.err("Call.hold", json!({"sessionId": "s-nope"})).await;
    assert_eq!(code, ErrorCode::NotFound);
    assert!(msg.contains("s-nope"));
    assert_eq!(
        trunk
            .err(
                "Customer.call",
                json!({"type": "phone", "skillGroupId": "nowhere", "calleePhoneNumber": "1"})
            )
            .await
            .0,
        ErrorCode::NotFound
    );
    // invalidState: impossible transitions
    assert_eq!(
        alice.err("Call.accept", json!({"sessionId": id})).await.0,
        ErrorCode::InvalidState
    );
    assert_eq!(
        alice.err("Call.unHold", json!({"sessionId": id})).await.0,
        ErrorCode::InvalidState
    );
    alice.ok("Call.hold", json!({"sessionId": id})).await;
    assert_eq!(
        alice.err("Call.hold", json!({"sessionId": id})).await.0,
        ErrorCode::InvalidState
    );
    // rateLimited: the burst runs out; other connections are unaffected.
    let mut limited = false;
    for _ in 0..60 {
        let r = bob
            .conn
            .request("Agent.getStatus", json!({}))
            .await
            .unwrap();
        if r.error_code == Some(ErrorCode::RateLimited) {
            limited = true;
            break;
        }
    }
    assert!(limited, "never rate limited");
    alice.ok("Call.unHold", json!({"sessionId": id})).await;
}

/// A record store whose disk is full.
struct FailingStore;
impl RecordStore for FailingStore {
    fn save(&mut self, _: &SessionRecord) -> anyhow::Result<()> {
        anyhow::bail!("disk full")
    }
    fn add_acw(&mut self, _: &str, _: u64) -> anyhow::Result<()> {
        anyhow::bail!("disk full")
    }
    fn set_wrap_up(&mut self, _: &str, _: &str, _: Option<&str>) -> anyhow::Result<()> {
        anyhow::bail!("disk full")
    }
}

#[tokio::test]
async fn a_record_that_cannot_be_written_is_an_internal_error() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::with_records(|_| {}, Box::new(FailingStore), dir).await;
    let (id, mut alice, _trunk) = talking(&s, "alice").await;
    let (code, msg) = alice.err("Call.hungUp", json!({"sessionId": id})).await;
    assert_eq!(code, ErrorCode::Internal);
    assert!(msg.contains("disk full") && msg.contains(&id), "{msg}");
    // The session still ended for everyone; the server keeps going.
    assert_eq!(sid(&alice.expect("sessionEnded").await), id);
    assert_eq!(alice.status().await, "arrange");
}

#[tokio::test]
async fn garbage_on_one_connection_does_not_disturb_others() {
    let s = TestServer::start().await;
    let (id, alice, _trunk) = talking(&s, "alice").await;
    let mut junk = Raw::connect(&s).await;
    for text in [
        "",
        "{",
        "null",
        "{\"id\":[],\"method\":1}",
        "\u{0}\u{1}",
        "{\"id\":1,\"method\":\"login\",\"params\":{\"userId\":5}}",
    ] {
        junk.send(Message::text(text)).await;
        let r = junk.response().await;
        assert_eq!(r.status, Status::Error, "{text:?}");
    }
    alice.ok("Call.hold", json!({"sessionId": id})).await;
}
