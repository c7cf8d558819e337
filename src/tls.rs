//! TLS for the WebSocket (rustls): the server's acceptor from PEM files,
//! and the clients' connector, which verifies the server against the
//! system's roots plus, optionally, a private CA. A certificate that does
//! not verify is an error naming why; there is no fallback to plain text.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server's TLS from a certificate chain and its private key (PEM).
pub fn acceptor(cert: &Path, key: &Path) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read the TLS certificate {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("the TLS certificate {} is not PEM", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("no certificate in {}", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read a private key (PEM) from {}", key.display()))?;
    let cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("the TLS certificate and key do not go together")?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(cfg)))
}

/// The clients' TLS: the system's roots, plus the certificates of `ca`
/// (PEM) when given (a private CA).
pub fn connector(ca: Option<&Path>) -> anyhow::Result<tokio_rustls::TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for c in native.certs {
        // A system certificate rustls cannot use is skipped, as browsers do.
        let _ = roots.add(c);
    }
    if let Some(ca) = ca {
        let mut n = 0;
        for c in CertificateDer::pem_file_iter(ca)
            .with_context(|| format!("cannot read the CA file {}", ca.display()))?
        {
            let c = c.with_context(|| format!("the CA file {} is not PEM", ca.display()))?;
            roots
                .add(c)
                .with_context(|| format!("a certificate in {} is not a usable CA", ca.display()))?;
            n += 1;
        }
        if n == 0 {
            anyhow::bail!("no certificate in the CA file {}", ca.display());
        }
    }
    let cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("TLS versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(cfg)))
}

/// The name a `wss://` URL's host is checked against.
pub fn server_name(host: &str) -> anyhow::Result<ServerName<'static>> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(host.to_string())
        .with_context(|| format!("`{host}` is not a host name or an IP address"))
}
