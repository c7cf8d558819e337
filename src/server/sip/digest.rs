//! Digest authentication of requests to the server (RFC 2617/7616 with
//! MD5 and `qop=auth`, as rsipstack verifies it): a request without
//! credentials is challenged (401 with a fresh nonce), one with a stale
//! nonce is challenged again (`stale=true`), one whose credentials do not
//! match gets 403. Desk phones' REGISTERs and INVITEs from trunks that are
//! not at a trunk's address use it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rsipstack::dialog::authenticate::verify_digest;
use rsipstack::sip::{Header, Method, Request, StatusCode};

/// The digest realm of the server.
pub const REALM: &str = "ccdesk";
/// How long a challenge's nonce may be answered.
const NONCE_LIFE: Duration = Duration::from_secs(300);
/// Nonces kept at most (a flood of requests does not grow memory).
const MAX_NONCES: usize = 10_000;

/// The nonces handed out in challenges, and when.
#[derive(Debug, Default)]
pub struct Nonces {
    issued: HashMap<String, Instant>,
}

impl Nonces {
    /// A fresh nonce for a challenge.
    fn issue(&mut self, now: Instant) -> String {
        if self.issued.len() >= MAX_NONCES {
            self.issued
                .retain(|_, at| now.duration_since(*at) < NONCE_LIFE);
            if self.issued.len() >= MAX_NONCES {
                self.issued.clear();
            }
        }
        let n: String = (0..4)
            .map(|_| format!("{:08x}", rand::random::<u32>()))
            .collect();
        self.issued.insert(n.clone(), now);
        n
    }

    fn fresh(&self, nonce: &str, now: Instant) -> bool {
        self.issued
            .get(nonce)
            .is_some_and(|at| now.duration_since(*at) < NONCE_LIFE)
    }
}

/// What a request's credentials come to.
#[derive(Debug)]
pub enum Verdict {
    /// They match: the username.
    Passed(String),
    /// None, or a stale nonce: answer 401 with these headers.
    Challenge(Vec<Header>),
    /// Wrong, or not parseable: answer this code; the reason is for logs.
    Refused(StatusCode, &'static str),
}

/// Check `req`'s `Authorization` against `password_of(username)`.
pub fn check(
    nonces: &mut Nonces,
    req: &Request,
    password_of: impl Fn(&str) -> Option<String>,
    now: Instant,
) -> Verdict {
    let auth = req.headers.iter().find_map(|h| match h {
        Header::Authorization(a) => Some(a.value().to_string()),
        _ => None,
    });
    let challenge = |nonces: &mut Nonces, stale: bool| {
        let nonce = nonces.issue(now);
        let stale = if stale { ", stale=true" } else { "" };
        let value = format!(
            "Digest realm=\"{REALM}\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\"{stale}"
        );
        Verdict::Challenge(vec![Header::Other("WWW-Authenticate".into(), value)])
    };
    let Some(raw) = auth else {
        return challenge(nonces, false);
    };
    let Ok(digest) = rsipstack::sip::typed::Authorization::parse(&raw) else {
        return Verdict::Refused(
            StatusCode::BadRequest,
            "the Authorization header does not parse",
        );
    };
    if !nonces.fresh(&digest.nonce, now) {
        return challenge(nonces, true);
    }
    let Some(password) = password_of(&digest.username) else {
        return Verdict::Refused(StatusCode::Forbidden, "unknown username");
    };
    let method: &Method = &req.method;
    if digest.realm != REALM || !verify_digest(&digest, &password, method, &raw) {
        return Verdict::Refused(StatusCode::Forbidden, "wrong credentials");
    }
    Verdict::Passed(digest.username)
}
