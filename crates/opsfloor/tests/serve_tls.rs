//! `opsfloor serve --tls-cert --tls-key` and outgoing credentials (issue 13), run
//! as the real binary on loopback with certificates from a throwaway CA: HTTPS
//! served and reloaded when the files change (a bad file keeps the last good
//! one), the connection bounds kept under TLS, and a parent floor polling child
//! floors over `https://` with a bearer token: a trusted child answers, an
//! expired or unknown certificate is `OFFLINE [UNREACHABLE]` with rustls's words,
//! and the token is never shown.

mod common;

use std::io::Read as _;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::Spawned;
use opsfloor_testkit::pki::{Ca, Usage};

const TOKEN: &str = "child-floor-token-5d0c2e1b9a7f4c3e8b6a";

fn inventory(dir: &Path, name: &str, floor: &str, services: &str) -> String {
    let path = dir.join(format!("{name}.toml"));
    let text = format!(
        "[floor]\nname = \"{name}\"\ncalendar = \"always-open\"\npoll_interval_ms = 200\nfailure_threshold = 1\n{floor}\n{services}"
    );
    std::fs::write(&path, text).expect("write inventory");
    path.display().to_string()
}

/// A service entry; the floor must have at least one.
fn service(name: &str, url: &str, extra: &str) -> String {
    format!("\n[[services]]\nname = \"{name}\"\nkind = \"floor\"\nurl = \"{url}\"\n{extra}\n")
}

fn serve(config: &str, more: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsfloor"));
    command
        .args([
            "serve",
            "--config",
            config,
            "--no-history",
            "--listen",
            "127.0.0.1:0",
        ])
        .args(more);
    command
}

/// A client that trusts only `ca` and opens a fresh connection for every request.
fn client(ca: &Ca) -> reqwest::Client {
    let root = reqwest::Certificate::from_pem(ca.cert_pem().as_bytes()).expect("CA");
    reqwest::Client::builder()
        .tls_certs_only([root])
        .pool_max_idle_per_host(0)
        .build()
        .expect("client")
}

async fn health(client: &reqwest::Client, port: u16) -> Result<u16, String> {
    client
        .get(format!("https://localhost:{port}/health"))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| format!("{e:?}"))
}

fn port(addr: &str) -> u16 {
    addr.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port")
}

/// Polls `condition` every 50 ms until it holds, for at most `within`.
async fn eventually<F, Fut>(what: &str, within: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<String>>,
{
    let start = Instant::now();
    loop {
        let last = condition().await;
        match last {
            None => return,
            Some(state) if start.elapsed() > within => {
                panic!("{what}: not within {within:?}: {state}")
            }
            Some(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

#[test]
fn one_tls_flag_without_the_other_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = inventory(
        dir.path(),
        "f",
        "",
        &service("md", "http://127.0.0.1:9", ""),
    );
    for flag in ["--tls-cert", "--tls-key"] {
        let out = serve(&config, &[flag, "x.pem"]).output().expect("run");
        assert_eq!(out.status.code(), Some(64), "{flag} alone");
    }
}

#[test]
fn tls_is_not_authentication_off_loopback_still_needs_access() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = inventory(
        dir.path(),
        "f",
        "",
        &service("md", "http://127.0.0.1:9", ""),
    );
    let (cert, key) = Ca::new("ca")
        .issue(Usage::Server, false)
        .write(dir.path(), "floor");
    let out = Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .args([
            "serve",
            "--config",
            &config,
            "--no-history",
            "--listen",
            "0.0.0.0:0",
        ])
        .args(["--tls-cert", &cert.display().to_string()])
        .args(["--tls-key", &key.display().to_string()])
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(err.contains("--insecure-public"), "{err}");
    // A key that is not a key is a configuration error naming the file.
    std::fs::write(&key, "junk\n").expect("write");
    let out = serve(
        &config,
        &[
            "--tls-cert",
            &cert.display().to_string(),
            "--tls-key",
            &key.display().to_string(),
        ],
    )
    .output()
    .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(err.contains("floor.key: no private key"), "{err}");
}

#[tokio::test]
async fn https_is_served_and_the_certificate_reloaded_when_its_files_change() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = inventory(
        dir.path(),
        "f",
        "",
        &service("md", "http://127.0.0.1:9", ""),
    );
    let (first, second) = (Ca::new("first CA"), Ca::new("second CA"));
    let (cert, key) = first.issue(Usage::Server, false).write(dir.path(), "floor");
    let (cert_arg, key_arg) = (cert.display().to_string(), key.display().to_string());
    let mut floor = Spawned::new(serve(
        &config,
        &[
            "--tls-cert",
            &cert_arg,
            "--tls-key",
            &key_arg,
            "--header-read-timeout",
            "1",
        ],
    ));
    let addr = floor.printed_addr("API at https://");
    let port = port(&addr);
    assert_eq!(health(&client(&first), port).await, Ok(200));
    assert!(
        health(&client(&second), port).await.is_err(),
        "signed by the first CA only"
    );
    // Plain HTTP on the TLS port gets no answer.
    let plain = reqwest::get(format!("http://{addr}/health")).await;
    assert!(plain.map(|r| r.status().is_success()).ok() != Some(true));

    // Renewed: written aside and renamed into place, as cert tooling does.
    let renewed = second
        .issue(Usage::Server, false)
        .write(dir.path(), "renewed");
    std::fs::rename(&renewed.1, &key).expect("rename key");
    std::fs::rename(&renewed.0, &cert).expect("rename cert");
    let by_second = client(&second);
    eventually(
        "the renewed certificate is served",
        Duration::from_secs(10),
        || async { health(&by_second, port).await.err() },
    )
    .await;

    // A broken file keeps the last good pair, and says so.
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\nbroken\n").expect("write");
    for _ in 0..3 {
        assert_eq!(
            health(&by_second, port).await,
            Ok(200),
            "{}",
            floor.output()
        );
    }
    floor.wait_for(
        "the failed reload is logged",
        Duration::from_secs(10),
        |f| {
            f.stderr()
                .contains("TLS certificate not reloaded, keeping the last good one")
                .then_some(())
        },
    );

    // The header-read timeout still bounds a client that never starts its handshake.
    let mut idle = std::net::TcpStream::connect(&addr).expect("connect");
    idle.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let start = Instant::now();
    let read = idle.read(&mut [0u8; 16]);
    assert!(matches!(read, Ok(0)) || read.is_err(), "{read:?}");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "held {:?}",
        start.elapsed()
    );
}

/// Waits until the parent's API shows `name` with a state other than UNKNOWN,
/// and returns its JSON.
async fn settled(parent: u16, name: &str) -> serde_json::Value {
    let url = format!("http://127.0.0.1:{parent}/api/v1/services/{name}");
    let start = Instant::now();
    loop {
        let body: Option<serde_json::Value> = match reqwest::get(&url).await {
            Ok(r) => r.json().await.ok(),
            Err(_) => None,
        };
        if let Some(body) = &body
            && body["last_poll_utc"].is_string()
            && body["status"]["state"] != "UNKNOWN"
        {
            return body.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{name} polled: not within 20 s: {body:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_parent_floor_polls_children_over_https_with_a_token_it_never_shows() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new("floor CA");
    std::fs::write(dir.path().join("ca.pem"), ca.cert_pem()).expect("write CA");
    let access = dir.path().join("access.toml");
    std::fs::write(
        &access,
        format!(
            "[access]\nbearer_tokens_sha256 = [\"{}\"]\n",
            opsfloor_access::sha256_hex(TOKEN)
        ),
    )
    .expect("write access");
    let md = service("md", "http://127.0.0.1:9", "");
    // Three children: trusted, expired, and signed by an unknown CA; the
    // trusted one answers /ops/status only with the token.
    let mut children = Vec::new();
    for (name, pem) in [
        ("good", ca.issue(Usage::Server, false)),
        ("expired", ca.issue(Usage::Server, true)),
        (
            "stranger",
            Ca::new("unknown CA").issue(Usage::Server, false),
        ),
    ] {
        let config = inventory(dir.path(), name, "", &md);
        let (cert, key) = pem.write(dir.path(), name);
        let mut child = Spawned::new(serve(
            &config,
            &[
                "--tls-cert",
                &cert.display().to_string(),
                "--tls-key",
                &key.display().to_string(),
                "--access",
                &access.display().to_string(),
            ],
        ));
        let port = port(&child.printed_addr("API at https://"));
        children.push((name, port, child));
    }
    let mut services = String::new();
    for (name, port, _) in &children {
        let url = format!("https://localhost:{port}");
        services.push_str(&service(name, &url, "bearer_token_env = \"CHILD_TOKEN\""));
    }
    let config = inventory(dir.path(), "parent", "ca_file = \"ca.pem\"", &services);

    // Without the variable the parent does not start: 78 naming entry and variable.
    let out = serve(&config, &[])
        .env_remove("CHILD_TOKEN")
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(
        err.contains(
            "service \"good\": bearer_token_env: the environment variable CHILD_TOKEN is not set"
        ),
        "{err}"
    );

    let mut command = serve(&config, &[]);
    command.env("CHILD_TOKEN", TOKEN).env("RUST_LOG", "trace");
    let mut parent = Spawned::new(command);
    let parent_port = port(&parent.printed_addr("API at http://"));

    let good = settled(parent_port, "good").await;
    // The child answered with its own document (it is OFFLINE itself: its one
    // service is a closed port), so TLS and the token both worked.
    assert_eq!(good["document"]["service_name"], "good", "{good}");
    assert_eq!(good["last_error"], serde_json::Value::Null, "{good}");
    for (name, words) in [
        ("expired", "invalid peer certificate: certificate expired"),
        ("stranger", "invalid peer certificate: UnknownIssuer"),
    ] {
        let view = settled(parent_port, name).await;
        assert_eq!(view["status"]["state"], "OFFLINE", "{view}");
        assert_eq!(
            view["status"]["reason_codes"],
            serde_json::json!(["UNREACHABLE"]),
            "{view}"
        );
        let error = view["last_error"].as_str().unwrap_or_default();
        assert!(error.contains(words), "{name}: {error}");
    }

    // The token is nowhere: not in the API, the metrics, or the logs.
    let mut shown = parent.output();
    for path in [
        "/api/v1/floor",
        "/api/v1/services",
        "/api/v1/services/good",
        "/metrics",
        "/ops/status",
    ] {
        let url = format!("http://127.0.0.1:{parent_port}{path}");
        shown.push_str(
            &reqwest::get(&url)
                .await
                .expect("get")
                .text()
                .await
                .expect("text"),
        );
    }
    assert!(
        shown.contains("CHILD_TOKEN") || shown.contains("good"),
        "the checks saw something"
    );
    assert!(!shown.contains(TOKEN), "the token leaked");
    drop(children);
}
