//! `wss://` with certificates made in the test (rcgen): a login over TLS,
//! a certificate for another host refused, an unknown CA refused, a plain
//! client refused by a TLS server, and plain `ws://` beyond loopback
//! refused at start.

use std::path::{Path, PathBuf};

use ccdesk::client::{ClientError, Connection};

use crate::harness::*;

struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// A CA, and a server certificate it signed for `names`.
    fn new(names: &[&str]) -> Pki {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "ccdesk test CA");
        let ca_key = rcgen::KeyPair::generate().expect("CA key");
        let ca = ca_params.self_signed(&ca_key).expect("CA");
        let params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("params");
        let key = rcgen::KeyPair::generate().expect("key");
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let cert = params.signed_by(&key, &issuer).expect("signed");
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("write");
        std::fs::write(dir.path().join("cert.pem"), cert.pem()).expect("write");
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).expect("write");
        Pki { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    async fn server(&self) -> TestServer {
        let (c, k) = (self.path("cert.pem"), self.path("key.pem"));
        TestServer::with(|cfg| {
            cfg.server.tls_cert = Some(c);
            cfg.server.tls_key = Some(k);
        })
        .await
    }
}

fn wss(s: &TestServer, host: &str) -> String {
    let port = s.url.rsplit(':').next().expect("port");
    format!("wss://{host}:{port}")
}

#[tokio::test]
async fn a_login_over_wss_with_a_private_ca() {
    let pki = Pki::new(&["127.0.0.1", "localhost"]);
    let s = pki.server().await;
    let url = wss(&s, "localhost");
    let c = Connection::connect_with_ca(&url, Some(&pki.path("ca.pem")))
        .await
        .expect("TLS connects");
    let res = c
        .login("alice", &s.token("alice"), false)
        .await
        .expect("login over TLS");
    assert_eq!(res.user_id, "alice");
    // By IP address too (the certificate names it).
    let c = Connection::connect_with_ca(&wss(&s, "127.0.0.1"), Some(&pki.path("ca.pem")))
        .await
        .expect("TLS connects");
    c.login("bob", &s.token("bob"), false).await.expect("login");
}

#[tokio::test]
async fn a_certificate_for_another_host_or_from_an_unknown_ca_is_refused() {
    let pki = Pki::new(&["agents.example.org"]);
    let s = pki.server().await;
    let err =
        match Connection::connect_with_ca(&wss(&s, "localhost"), Some(&pki.path("ca.pem"))).await {
            Err(e) => e,
            Ok(_) => panic!("a certificate for another host was taken"),
        };
    assert!(matches!(err, ClientError::Tls { .. }), "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");
    // The system's roots alone do not know the test CA.
    let pki = Pki::new(&["localhost"]);
    let s = pki.server().await;
    let err = match Connection::connect(&wss(&s, "localhost")).await {
        Err(e) => e,
        Ok(_) => panic!("an unknown CA was taken"),
    };
    assert!(err.to_string().contains("certificate"), "{err}");
    // A CA file that is not PEM is said so.
    let bad = pki.path("not-a-ca.pem");
    std::fs::write(&bad, "hello").expect("write");
    let err = match Connection::connect_with_ca(&wss(&s, "localhost"), Some(&bad)).await {
        Err(e) => e,
        Ok(_) => panic!("a broken CA file was taken"),
    };
    assert!(err.to_string().contains("not-a-ca.pem"), "{err}");
}

#[tokio::test]
async fn a_plain_client_is_refused_by_a_tls_server() {
    let pki = Pki::new(&["localhost"]);
    let s = pki.server().await;
    assert!(s.url.starts_with("ws://"));
    assert!(Connection::connect(&s.url).await.is_err());
}

#[test]
fn beyond_loopback_plain_ws_needs_allow_plaintext_and_tls_needs_both_files() {
    let any: std::net::SocketAddr = "0.0.0.0:7070".parse().expect("addr");
    let mut cfg = config(|c| c.auth.secret = "0123456789abcdef0123456789abcdef".into());
    let err = cfg
        .check_exposure(any)
        .expect_err("plain ws beyond loopback");
    assert!(err.to_string().contains("tls_cert"), "{err}");
    cfg.server.allow_plaintext = true;
    assert!(cfg.check_exposure(any).is_ok());
    cfg.server.allow_plaintext = false;
    cfg.server.tls_cert = Some(Path::new("cert.pem").into());
    cfg.server.tls_key = Some(Path::new("key.pem").into());
    assert!(cfg.check_exposure(any).is_ok());
    // One without the other is refused when the config is read.
    let text = "[server]\ntls_cert = \"cert.pem\"\n[auth]\nsecret = \"0123456789abcdef\"\n";
    let err = ccdesk::server::config::ServerConfig::parse(text).expect_err("half TLS");
    assert!(err.to_string().contains("tls_key"), "{err}");
}

/// A desk phone (baresip) that registers over SIP over TLS, trusting the
/// test CA, rings with an offer and answers; a plain SIP client on the
/// TLS port gets no SIP answer; and the config says what SIP over TLS
/// needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_phone_registers_and_answers_over_sip_tls() {
    use ccdesk::protocol::Event;
    use serde_json::json;
    use std::io::{Read, Write};

    let pki = Pki::new(&["127.0.0.1"]);
    let sips: std::net::SocketAddr = format!("127.0.0.1:{}", crate::baresip::free_port())
        .parse()
        .expect("addr");
    let (c, k) = (pki.path("cert.pem"), pki.path("key.pem"));
    let s = TestServer::with(|cfg| {
        cfg.server.tls_cert = Some(c);
        cfg.server.tls_key = Some(k);
        cfg.sip.listen = Some("127.0.0.1:0".into());
        cfg.sip.tls_listen = Some(sips.to_string());
        cfg.center.after_call_work = 0;
        for u in cfg.users.iter_mut() {
            if u.id == "alice" {
                u.sip_password = Some("alice-desk-pw".into());
            }
        }
    })
    .await
    .over_tls(pki.path("ca.pem"));
    let mut alice = s.login("alice").await;
    alice.expect("statusChanged").await;
    let phone = crate::baresip::Baresip::start_tls(
        sips,
        "alice",
        "alice-desk-pw",
        440,
        &pki.path("ca.pem"),
    );
    match alice.wait_for("seatChanged").await {
        Event::SeatChanged(d) => assert!(d.desk_phone, "registered over TLS"),
        _ => unreachable!(),
    }
    alice
        .ok(
            "Agent.setServerType",
            json!({"serverType": "staffExtensionSeat"}),
        )
        .await;
    alice.expect("seatChanged").await;
    // The INVITE goes down the phone's TLS connection; it answers.
    let trunk = s.login("pstn").await;
    let sid = phone_call(&trunk, "support").await;
    alice.wait_for("callIn").await;
    match alice.wait_for("userAccessed").await {
        Event::UserAccessed { session_id, .. } => assert_eq!(session_id, sid),
        _ => unreachable!(),
    }
    phone.command("hangup");
    match alice.wait_for("sessionEnded").await {
        Event::SessionEnded(e) => assert_eq!(e.session_id, sid),
        _ => unreachable!(),
    }

    // Plain SIP on the TLS port: the handshake fails, no SIP comes back.
    let answer = tokio::task::spawn_blocking(move || {
        let mut t = std::net::TcpStream::connect(sips).expect("the TLS port listens");
        t.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .ok();
        let _ = t.write_all(
            b"OPTIONS sip:alice@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK1\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:alice@127.0.0.1>\r\nCall-ID: plain\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        );
        let mut got = Vec::new();
        let _ = t.read_to_end(&mut got);
        String::from_utf8_lossy(&got).into_owned()
    })
    .await
    .expect("plain client ran");
    assert!(!answer.contains("SIP/2.0"), "a plain client got {answer:?}");

    // The config: SIP over TLS needs the certificate, and a port.
    let text = "[auth]\nsecret = \"0123456789abcdef\"\n[sip]\nlisten = \"127.0.0.1:5060\"\ntls_listen = \"127.0.0.1:5061\"\n";
    let err = ccdesk::server::config::ServerConfig::parse(text).expect_err("no certificate");
    assert!(err.to_string().contains("tls_cert"), "{err}");
}
