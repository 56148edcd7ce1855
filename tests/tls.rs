//! `serve --tls-cert --tls-key` (spec/operations.md §6.6): the board speaks
//! HTTPS with a certificate it is given, a client that trusts that
//! certificate submits and reads over it, and plain HTTP on the same port
//! gets no answer.

#[path = "server/harness.rs"]
#[allow(dead_code)]
mod harness;

use harness::Server;
use std::io::{Read, Write};
use std::sync::Arc;

/// A self-signed certificate for 127.0.0.1, written as PEM files the
/// board reads; returns the certificate to trust.
fn certificate(dir: &std::path::Path) -> rustls::pki_types::CertificateDer<'static> {
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("certificate");
    std::fs::write(dir.join("cert.pem"), cert.pem()).expect("cert");
    std::fs::write(dir.join("key.pem"), key_pair.serialize_pem()).expect("key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("key.pem"), std::fs::Permissions::from_mode(0o600))
            .expect("chmod");
    }
    cert.der().clone()
}

fn agent(trusted: rustls::pki_types::CertificateDer<'static>) -> ureq::Agent {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(trusted).expect("root");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    ureq::AgentBuilder::new()
        .tls_config(Arc::new(config))
        .timeout(std::time::Duration::from_secs(60))
        .build()
}

#[test]
fn the_board_serves_https_with_the_certificate_it_is_given() {
    let certs = tempfile::tempdir().expect("tempdir");
    let trusted = certificate(certs.path());
    let cert = certs.path().join("cert.pem");
    let key = certs.path().join("key.pem");
    let s = Server::start(
        3,
        &[
            "--tls-cert",
            cert.to_str().expect("utf-8"),
            "--tls-key",
            key.to_str().expect("utf-8"),
        ],
    );
    assert!(s.url.starts_with("https://127.0.0.1:"), "{}", s.url);
    let a = agent(trusted);
    // A station submits over HTTPS and gets its receipt.
    let setup =
        std::iter::once(s.e.commitment_entry()).chain((0..3).map(|i| s.e.registration_entry(i)));
    for entry in setup {
        let r = a
            .post(&format!("{}/api/v1/entries", s.url))
            .set("Content-Type", "text/plain")
            .send_bytes(&entry)
            .expect("setup over TLS");
        assert_eq!(r.status(), 201);
    }
    let r = a
        .post(&format!("{}/api/v1/entries", s.url))
        .set("Content-Type", "text/plain")
        .send_bytes(&s.e.signed_tally(0))
        .expect("submitted over TLS");
    assert_eq!(r.status(), 201);
    let checkpoint = a
        .get(&format!("{}/checkpoint", s.url))
        .call()
        .expect("checkpoint over TLS")
        .into_string()
        .expect("text");
    assert!(
        checkpoint.starts_with(&format!("{}\n", s.origin())),
        "{checkpoint}"
    );

    // A client that does not trust the certificate is refused by its TLS.
    let untrusted = ureq::AgentBuilder::new().build();
    assert!(untrusted
        .get(&format!("{}/checkpoint", s.url))
        .call()
        .is_err());

    // Plain HTTP on the TLS port gets no HTTP answer.
    let addr = s.url.trim_start_matches("https://");
    let mut tcp = std::net::TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .expect("timeout");
    let _ = tcp.write_all(b"GET /checkpoint HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer);
    assert!(
        !answer.starts_with(b"HTTP/1.1 200"),
        "plain HTTP was served"
    );
}

#[test]
fn a_tls_key_others_may_read_is_refused() {
    let certs = tempfile::tempdir().expect("tempdir");
    let _ = certificate(certs.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = certs.path().join("key.pem");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let out = std::process::Command::new(harness::BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(certs.path().join("no-board"))
            .args(["--log-key", "keys/demo/log.key", "--tls-cert"])
            .arg(certs.path().join("cert.pem"))
            .arg("--tls-key")
            .arg(&key)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("run serve");
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("chmod 600"), "{err}");
        assert!(!err.contains("PRIVATE KEY"), "the key leaked: {err}");
    }
}
