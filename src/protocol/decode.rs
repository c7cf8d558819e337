//! Turning a client's text frame into a typed request, with an error that
//! names what was wrong.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{ProtoError, Request, MAX_FRAME_BYTES};

/// A frame that could not be decoded: the id to answer with (when the frame
/// had a usable one) and the error.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError {
    pub id: Value,
    pub error: ProtoError,
}

/// Decode one text frame: `{"id", "method", "params"}`.
pub fn decode_request(text: &str) -> Result<(Value, Request), DecodeError> {
    let fail = |id: Value, msg: String| DecodeError {
        id,
        error: ProtoError::bad_request(msg),
    };
    if text.len() > MAX_FRAME_BYTES {
        return Err(fail(
            Value::Null,
            format!(
                "frame of {} bytes is larger than the limit of {} bytes",
                text.len(),
                MAX_FRAME_BYTES
            ),
        ));
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|e| fail(Value::Null, format!("frame is not valid JSON: {e}")))?;
    let Value::Object(mut obj) = value else {
        return Err(fail(
            Value::Null,
            "frame must be a JSON object with id, method and params".into(),
        ));
    };
    let id = match obj.remove("id") {
        Some(id @ (Value::Number(_) | Value::String(_))) => id,
        Some(_) => {
            return Err(fail(
                Value::Null,
                "parameter `id` must be a number or a string".into(),
            ))
        }
        None => return Err(fail(Value::Null, "missing parameter `id`".into())),
    };
    let method = match obj.remove("method") {
        Some(Value::String(m)) => m,
        Some(_) => return Err(fail(id, "parameter `method` must be a string".into())),
        None => return Err(fail(id, "missing parameter `method`".into())),
    };
    let params = match obj.remove("params") {
        None | Some(Value::Null) => Value::Object(Default::default()),
        Some(p @ Value::Object(_)) => p,
        Some(_) => return Err(fail(id, "parameter `params` must be an object".into())),
    };
    match Request::from_parts(&method, params) {
        Ok(req) => Ok((id, req)),
        Err(error) => Err(DecodeError { id, error }),
    }
}

/// Deserialize a method's params, naming the parameter at fault.
pub(crate) fn params<T: DeserializeOwned>(method: &str, params: Value) -> Result<T, ProtoError> {
    serde_path_to_error::deserialize(params).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde names missing fields itself ("missing field `sessionId`");
        // for type errors the path says which parameter it was.
        if path == "." || path.is_empty() {
            ProtoError::bad_request(format!("{method}: {}", describe(&inner)))
        } else {
            ProtoError::bad_request(format!("{method}: parameter `{path}`: {inner}"))
        }
    })
}

fn describe(serde_msg: &str) -> String {
    match serde_msg.strip_prefix("missing field ") {
        Some(rest) => format!("missing parameter {rest}"),
        None => serde_msg.to_string(),
    }
}

/// Keep echoed input short in error messages.
pub fn shorten(s: &str) -> String {
    const MAX: usize = 64;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(MAX).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ErrorCode;

    fn err(text: &str) -> DecodeError {
        decode_request(text).expect_err("should fail")
    }

    #[test]
    fn decodes_a_request() {
        let (id, req) =
            decode_request(r#"{"id":7,"method":"Call.accept","params":{"sessionId":"s-42"}}"#)
                .unwrap();
        assert_eq!(id, Value::from(7));
        assert_eq!(
            req,
            Request::CallAccept(crate::protocol::SessionParams {
                session_id: "s-42".into()
            })
        );
    }

    #[test]
    fn missing_params_is_empty_object() {
        let (_, req) = decode_request(r#"{"id":"a","method":"Agent.getStatus"}"#).unwrap();
        assert_eq!(req.method(), "Agent.getStatus");
    }

    #[test]
    fn names_the_missing_parameter() {
        let e = err(r#"{"id":1,"method":"Call.accept","params":{}}"#);
        assert_eq!(e.id, Value::from(1));
        assert_eq!(e.error.code, ErrorCode::BadRequest);
        assert!(e.error.message.contains("sessionId"), "{}", e.error.message);
    }

    #[test]
    fn names_the_ill_typed_parameter() {
        let e =
            err(r#"{"id":1,"method":"Call.monitor","params":{"sessionId":"s","textOnly":"yes"}}"#);
        assert!(e.error.message.contains("textOnly"), "{}", e.error.message);
        let e = err(
            r#"{"id":1,"method":"Customer.call","params":{"type":"phone","skillGroupId":"x","ivrPath":[{"key":1}]}}"#,
        );
        assert!(
            e.error.message.contains("ivrPath[0].key"),
            "{}",
            e.error.message
        );
    }

    #[test]
    fn rejects_unknown_methods_and_bad_envelopes() {
        assert!(err(r#"{"id":1,"method":"Call.fly"}"#)
            .error
            .message
            .contains("Call.fly"));
        assert!(err("not json").error.message.contains("not valid JSON"));
        assert!(err("[1,2]").error.message.contains("JSON object"));
        assert!(err(r#"{"method":"Agent.online"}"#)
            .error
            .message
            .contains("`id`"));
        assert!(err(r#"{"id":{},"method":"x"}"#)
            .error
            .message
            .contains("`id`"));
        assert!(err(r#"{"id":1}"#).error.message.contains("`method`"));
        assert!(err(r#"{"id":1,"method":"Agent.online","params":[]}"#)
            .error
            .message
            .contains("`params`"));
    }

    #[test]
    fn rejects_oversized_frames() {
        let big = format!(
            r#"{{"id":1,"method":"Chat.sendMessage","params":{{"sessionId":"s","text":"{}"}}}}"#,
            "x".repeat(MAX_FRAME_BYTES)
        );
        assert!(err(&big).error.message.contains("larger than the limit"));
    }

    #[test]
    fn every_method_name_is_decodable_shape() {
        // Every method answers a missing-parameter error or decodes: never "unknown".
        for m in crate::protocol::METHOD_NAMES {
            let frame = format!(r#"{{"id":1,"method":"{m}","params":{{}}}}"#);
            if let Err(e) = decode_request(&frame) {
                assert!(!e.error.message.contains("unknown method"), "{m}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_text(s in "\\PC{0,300}") {
            let _ = decode_request(&s);
        }

        #[test]
        fn never_panics_on_envelopes(
            id in proptest::prop_oneof![proptest::strategy::Just("1".to_string()), "\"[a-z]{0,5}\"", "null", "\\[\\]"],
            method in proptest::sample::select(crate::protocol::METHOD_NAMES.to_vec()),
            key in "[a-zA-Z]{1,12}",
            val in proptest::prop_oneof![
                proptest::strategy::Just("1".to_string()),
                proptest::strategy::Just("true".to_string()),
                proptest::strategy::Just("null".to_string()),
                "\"[ -~]{0,20}\"",
                proptest::strategy::Just("[{\"key\":\"1\",\"label\":\"x\"}]".to_string()),
                proptest::strategy::Just("{}".to_string()),
            ],
        ) {
            let frame = format!(r#"{{"id":{id},"method":"{method}","params":{{"{key}":{val},"sessionId":{val}}}}}"#);
            match decode_request(&frame) {
                Ok((_, req)) => proptest::prop_assert_eq!(req.method(), method),
                Err(e) => proptest::prop_assert_eq!(e.error.code, ErrorCode::BadRequest),
            }
        }
    }
}
