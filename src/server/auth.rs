//! Signed login tokens: `base64url(claims).base64url(HMAC-SHA256(secret, first part))`.
//! The claims carry the user and the expiry, so nothing is looked up to trust them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The userId the token is for.
    pub sub: String,
    /// Unix seconds when it was issued.
    pub iat: u64,
    /// Unix seconds when it stops being valid.
    pub exp: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token is malformed")]
    Malformed,
    #[error("token signature does not match")]
    BadSignature,
    #[error("token expired at unix time {0}")]
    Expired(u64),
}

fn mac(secret: &str) -> HmacSha256 {
    // HMAC accepts keys of any length.
    HmacSha256::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!())
}

/// Issue a token for `user`, valid `ttl` seconds from `now` (unix seconds).
pub fn issue(secret: &str, user: &str, now: u64, ttl: u64) -> String {
    let claims = Claims {
        sub: user.to_string(),
        iat: now,
        exp: now.saturating_add(ttl),
    };
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let mut m = mac(secret);
    m.update(body.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
    format!("{body}.{sig}")
}

/// A token's claims read without checking the signature: what a client
/// holding it may learn (when to renew it). Never for deciding access.
pub fn peek(token: &str) -> Option<Claims> {
    let (body, _) = token.split_once('.')?;
    let raw = URL_SAFE_NO_PAD.decode(body).ok()?;
    serde_json::from_slice(&raw).ok()
}

/// Check a token's signature and expiry at `now` (unix seconds).
pub fn verify(secret: &str, token: &str, now: u64) -> Result<Claims, TokenError> {
    let (body, sig) = token.split_once('.').ok_or(TokenError::Malformed)?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| TokenError::Malformed)?;
    let mut m = mac(secret);
    m.update(body.as_bytes());
    m.verify_slice(&sig).map_err(|_| TokenError::BadSignature)?;
    let raw = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| TokenError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&raw).map_err(|_| TokenError::Malformed)?;
    if claims.exp <= now {
        return Err(TokenError::Expired(claims.exp));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: &str = "0123456789abcdef";

    #[test]
    fn round_trip() {
        let t = issue(S, "alice", 1000, 60);
        let c = verify(S, &t, 1059).unwrap();
        assert_eq!(c.sub, "alice");
        assert_eq!(c.exp, 1060);
    }

    #[test]
    fn expiry_wrong_secret_and_tampering() {
        let t = issue(S, "alice", 1000, 60);
        assert_eq!(verify(S, &t, 1060), Err(TokenError::Expired(1060)));
        assert_eq!(
            verify("another-secret-000", &t, 1000),
            Err(TokenError::BadSignature)
        );
        let (body, sig) = t.split_once('.').unwrap();
        let other = issue(S, "mallory", 1000, 60);
        let (obody, _) = other.split_once('.').unwrap();
        assert_eq!(
            verify(S, &format!("{obody}.{sig}"), 1000),
            Err(TokenError::BadSignature)
        );
        assert_eq!(verify(S, body, 1000), Err(TokenError::Malformed));
        assert_eq!(verify(S, "", 1000), Err(TokenError::Malformed));
        assert_eq!(verify(S, "a.!!!", 1000), Err(TokenError::Malformed));
    }
}
