//! Polling `https://` (issue 13, TLS and outgoing credentials), against real
//! rustls servers on loopback with certificates from a throwaway CA: a trusted
//! server answers; a wrong CA or an expired certificate is no answer, with
//! rustls's words; mutual TLS presents the service's or the floor's client
//! certificate; a bearer token is sent and never shown.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use opsfloor_engine::Outcome;
use opsfloor_inventory::{Format, Inventory};
use opsfloor_poller::{CredentialsError, Poller, PollerSettings};
use opsfloor_testkit::pki::{Ca, Pem, Usage};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// An HTTPS server on a loopback port answering `{}` to every request; it
/// records each request's `Authorization` header. With `clients`, it requires a
/// client certificate issued by that CA.
struct Server {
    url: String,
    authorization: Arc<Mutex<Vec<Option<String>>>>,
}

async fn https_server(pem: &Pem, clients: Option<&Ca>) -> Server {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let certs = CertificateDer::pem_slice_iter(pem.cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .expect("certificate");
    let key = PrivateKeyDer::from_pem_slice(pem.key.as_bytes()).expect("key");
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("versions");
    let builder = match clients {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(ca.cert_pem().as_bytes()) {
                roots.add(cert.expect("CA")).expect("root");
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder.with_single_cert(certs, key).expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let authorization = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&authorization);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, seen) = (acceptor.clone(), Arc::clone(&seen));
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
                    let header = request
                        .headers()
                        .get("authorization")
                        .map(|v| v.to_str().unwrap_or("?").to_owned());
                    seen.lock().expect("lock").push(header);
                    async {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(
                            http_body_util::Full::new(&b"{}"[..]),
                        ))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    Server {
        url: format!("https://localhost:{port}"),
        authorization,
    }
}

fn inventory(dir: &Path, floor: &str, services: &[(&str, &str, &str)]) -> Inventory {
    let mut text = format!("[floor]\n{floor}\n");
    for (name, url, extra) in services {
        text.push_str(&format!(
            "\n[[services]]\nname = \"{name}\"\nkind = \"strategy\"\nurl = \"{url}\"\n{extra}\n"
        ));
    }
    opsfloor_inventory::parse(&text, &dir.join("inventory.toml"), Format::Toml).expect("inventory")
}

fn poller(inventory: &Inventory, env: &[(&str, &str)]) -> Poller {
    let settings = PollerSettings::for_inventory(inventory, |name| {
        env.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    })
    .expect("settings");
    Poller::new(settings).expect("poller")
}

async fn poll(poller: &Poller, service: &str, url: &str) -> Outcome {
    let url = format!("{url}/ops/status");
    poller
        .poll_service(service, &url, Duration::from_secs(5))
        .await
        .outcome
}

fn no_answer(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::NoAnswer { error } => error,
        other => panic!("expected no answer, got {other:?}"),
    }
}

#[tokio::test]
async fn a_server_signed_by_the_ca_file_answers_and_an_unknown_ca_is_no_answer_in_rustls_words() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = Ca::new("floor test CA");
    std::fs::write(dir.path().join("ca.pem"), ca.cert_pem()).expect("write CA");
    let server = https_server(&ca.issue(Usage::Server, false), None).await;
    let services = [("s", server.url.as_str(), "")];

    let trusted = inventory(dir.path(), "ca_file = \"ca.pem\"", &services);
    let outcome = poll(&poller(&trusted, &[]), "s", &server.url).await;
    assert!(matches!(outcome, Outcome::Document { .. }), "{outcome:?}");

    // The system roots alone do not know the test CA.
    let system_only = inventory(dir.path(), "", &services);
    let outcome = poll(&poller(&system_only, &[]), "s", &server.url).await;
    let error = no_answer(&outcome);
    assert!(
        error.contains("invalid peer certificate: UnknownIssuer"),
        "{error}"
    );

    // A CA file holding another authority is no better.
    std::fs::write(
        dir.path().join("other.pem"),
        Ca::new("another CA").cert_pem(),
    )
    .expect("write");
    let wrong = inventory(dir.path(), "ca_file = \"other.pem\"", &services);
    let outcome = poll(&poller(&wrong, &[]), "s", &server.url).await;
    let error = no_answer(&outcome);
    assert!(
        error.contains("invalid peer certificate: UnknownIssuer"),
        "{error}"
    );
}

#[tokio::test]
async fn an_expired_certificate_is_no_answer_saying_it_expired() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = Ca::new("floor test CA");
    std::fs::write(dir.path().join("ca.pem"), ca.cert_pem()).expect("write CA");
    let server = https_server(&ca.issue(Usage::Server, true), None).await;
    let inv = inventory(
        dir.path(),
        "ca_file = \"ca.pem\"",
        &[("s", &server.url, "")],
    );
    let outcome = poll(&poller(&inv, &[]), "s", &server.url).await;
    let error = no_answer(&outcome);
    assert!(error.contains("certificate expired"), "{error}");
}

#[tokio::test]
async fn mutual_tls_presents_the_services_own_certificate_or_else_the_floors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = Ca::new("floor test CA");
    std::fs::write(dir.path().join("ca.pem"), ca.cert_pem()).expect("write CA");
    let server = https_server(&ca.issue(Usage::Server, false), Some(&ca)).await;
    ca.issue(Usage::Client, false).write(dir.path(), "floor");
    ca.issue(Usage::Client, false).write(dir.path(), "own");
    // Signed by a CA the server does not accept.
    Ca::new("stranger")
        .issue(Usage::Client, false)
        .write(dir.path(), "stranger");
    let url = server.url.as_str();
    let services = [
        (
            "own",
            url,
            "client_cert = \"own.pem\"\nclient_key = \"own.key\"",
        ),
        ("inherits", url, ""),
        ("also-inherits", url, ""),
        (
            "stranger",
            url,
            "client_cert = \"stranger.pem\"\nclient_key = \"stranger.key\"",
        ),
    ];
    let floor = "ca_file = \"ca.pem\"\nclient_cert = \"floor.pem\"\nclient_key = \"floor.key\"";
    let inv = inventory(dir.path(), floor, &services);
    let poller = poller(&inv, &[]);
    // One client per distinct identity (own, floor, stranger) plus the plain one.
    assert_eq!(poller.clients(), 4);
    for service in ["own", "inherits", "also-inherits"] {
        let outcome = poll(&poller, service, url).await;
        assert!(
            matches!(outcome, Outcome::Document { .. }),
            "{service}: {outcome:?}"
        );
    }
    let outcome = poll(&poller, "stranger", url).await;
    no_answer(&outcome);

    // Without any client certificate the server refuses the handshake.
    let plain = inventory(dir.path(), "ca_file = \"ca.pem\"", &[("s", url, "")]);
    let outcome = poll(&self::poller(&plain, &[]), "s", url).await;
    no_answer(&outcome);
}

#[tokio::test]
async fn the_bearer_token_is_sent_from_its_variable_and_never_shown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = Ca::new("floor test CA");
    std::fs::write(dir.path().join("ca.pem"), ca.cert_pem()).expect("write CA");
    let server = https_server(&ca.issue(Usage::Server, false), None).await;
    let url = server.url.as_str();
    let services = [
        ("child", url, "bearer_token_env = \"CHILD_FLOOR_TOKEN\""),
        ("anonymous", url, ""),
    ];
    let inv = inventory(dir.path(), "ca_file = \"ca.pem\"", &services);
    let token = "tok-7f3a9c-very-secret";
    let poller = poller(&inv, &[("CHILD_FLOOR_TOKEN", token)]);
    for service in ["child", "anonymous"] {
        let outcome = poll(&poller, service, url).await;
        assert!(matches!(outcome, Outcome::Document { .. }), "{outcome:?}");
    }
    assert_eq!(
        *server.authorization.lock().expect("lock"),
        [Some(format!("Bearer {token}")), None]
    );
    let shown = format!("{poller:?} {:?}", poller.settings());
    assert!(!shown.contains(token), "{shown}");
    assert!(shown.contains("Secret(<redacted>)"), "{shown}");

    // An unset or empty variable names the entry and the variable.
    for env in [&[][..], &[("CHILD_FLOOR_TOKEN", "  ")][..]] {
        let lookup = |name: &str| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v): &(&str, &str)| (*v).to_owned())
        };
        let error = PollerSettings::for_inventory(&inv, lookup).expect_err("missing token");
        assert!(matches!(error, CredentialsError::Env { .. }));
        let text = error.to_string();
        assert!(
            text.contains(
                "service \"child\": bearer_token_env: the environment variable CHILD_FLOOR_TOKEN is"
            ),
            "{text}"
        );
    }
}

#[test]
fn an_unreadable_or_empty_certificate_file_is_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let services = [("s", "https://localhost:9", "")];
    let inv = inventory(dir.path(), "ca_file = \"missing.pem\"", &services);
    let error = PollerSettings::for_inventory(&inv, |_| None).expect_err("missing CA file");
    assert!(
        error.to_string().contains("missing.pem: cannot read"),
        "{error}"
    );
    std::fs::write(dir.path().join("empty.pem"), "not a certificate\n").expect("write");
    let inv = inventory(dir.path(), "ca_file = \"empty.pem\"", &services);
    let error = PollerSettings::for_inventory(&inv, |_| None).expect_err("empty CA file");
    assert!(
        error
            .to_string()
            .contains("empty.pem: no certificate in the file"),
        "{error}"
    );
}
