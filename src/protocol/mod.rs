//! Wire types of the ccdesk signalling protocol: the envelope, every method's
//! parameters and result, every event and the error codes. This is the one
//! place where JSON shapes live; names are the TCCC Web SDK's, letter for letter.

mod decode;
mod events;
mod methods;
mod report;
mod wallboard;

pub use decode::{decode_request, shorten as shorten_for_error, DecodeError};
pub use events::*;
pub use methods::*;
pub use report::*;
pub use wallboard::*;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The largest text frame the server reads; a larger one is answered with `badRequest`.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// The `errorCode` of an error response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    InvalidState,
    RateLimited,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "badRequest",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "notFound",
            ErrorCode::InvalidState => "invalidState",
            ErrorCode::RateLimited => "rateLimited",
            ErrorCode::Internal => "internal",
        }
    }
}

/// An error answer: a code from the contract and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct ProtoError {
    pub code: ErrorCode,
    pub message: String,
}

impl ProtoError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ProtoError {
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }
    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidState, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}

/// `status` of a response (the SDK's CommonSDKResponse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    Success,
    Error,
}

/// A response frame: exactly one per request, with the request's `id` echoed
/// (`null` when the frame was too broken to carry one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub id: Value,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_msg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<ErrorCode>,
}

impl Response {
    pub fn ok(id: Value, data: Option<Value>) -> Self {
        Response {
            id,
            status: Status::Success,
            data,
            error_msg: None,
            error_code: None,
        }
    }
    pub fn error(id: Value, err: &ProtoError) -> Self {
        Response {
            id,
            status: Status::Error,
            data: None,
            error_msg: Some(err.message.clone()),
            error_code: Some(err.code),
        }
    }
    pub fn to_json(&self) -> String {
        // Serialising a Response cannot fail: every field is plain data.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

/// Anything the server sends: an event or a response to a request.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ServerMessage {
    Event(Event),
    Response(Response),
}

impl ServerMessage {
    /// Parse a frame sent by the server.
    pub fn parse(text: &str) -> Result<ServerMessage, serde_json::Error> {
        let v: Value = serde_json::from_str(text)?;
        if v.get("event").is_some() {
            Ok(ServerMessage::Event(serde_json::from_value(v)?))
        } else {
            Ok(ServerMessage::Response(serde_json::from_value(v)?))
        }
    }
}

/// A request frame as a client writes it.
#[derive(Debug, Clone, Serialize)]
pub struct RequestFrame<'a> {
    pub id: Value,
    pub method: &'a str,
    pub params: Value,
}
