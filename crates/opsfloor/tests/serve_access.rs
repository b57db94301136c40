//! `opsfloor serve --access FILE`, run as the real binary on loopback: the access
//! layer wraps every route (API, live stream, dashboard) but `/health` and the
//! configured public paths; off loopback without access the floor refuses to start
//! (exit 78) and says how to fix it.

mod common;

use std::process::Command;

use common::Spawned;
use opsfloor_access::sha256_hex;

const TOKEN: &str = "a-test-token-that-is-long-enough-for-a-floor";

fn inventory(dir: &std::path::Path) -> String {
    let path = dir.join("floor.toml");
    std::fs::write(
        &path,
        "[floor]\ncalendar = \"always-open\"\n\n[[services]]\nname = \"md\"\nkind = \"marketdata\"\nurl = \"http://127.0.0.1:9\"\n",
    )
    .expect("write inventory");
    path.display().to_string()
}

fn access_file(dir: &std::path::Path) -> String {
    let path = dir.join("access.toml");
    let text = format!(
        "[access]\nbearer_tokens_sha256 = [\"{}\"]\npublic = [\"/metrics\"]\n",
        sha256_hex(TOKEN)
    );
    std::fs::write(&path, text).expect("write access");
    path.display().to_string()
}

#[test]
fn off_loopback_without_access_is_78_with_the_fix() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = inventory(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .args(["serve", "--config", &config, "--no-history"])
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .expect("run opsfloor serve");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    for hint in [
        "refusing to serve on 0.0.0.0:0",
        "[access]",
        "--insecure-public",
    ] {
        assert!(err.contains(hint), "{hint} missing from {err}");
    }
}

#[test]
fn a_broken_access_file_is_78_naming_the_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = inventory(dir.path());
    let access = dir.path().join("access.toml");
    std::fs::write(&access, "[access]\nbearer_tokens_sha256 = [\"xyz\"]\n").expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .args(["serve", "--config", &config, "--no-history"])
        .args(["--access", &access.display().to_string()])
        .output()
        .expect("run opsfloor serve");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(err.contains("access.bearer_tokens_sha256[0]"), "{err}");
}

#[tokio::test]
async fn every_route_but_health_and_public_paths_needs_the_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = inventory(dir.path());
    let access = access_file(dir.path());
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsfloor"));
    command
        .args(["serve", "--config", &config, "--no-history"])
        .args(["--listen", "127.0.0.1:0", "--access", &access]);
    let mut floor = Spawned::new(command);
    let addr = floor.printed_addr("API at");
    let client = reqwest::Client::new();
    let get = |path: &str, token: Option<&str>| {
        let mut request = client.get(format!("http://{addr}{path}"));
        if let Some(t) = token {
            request = request.bearer_auth(t.to_owned());
        }
        request.send()
    };
    for open in ["/health", "/metrics"] {
        let r = get(open, None).await.expect("request");
        assert_ne!(r.status(), 401, "{open} is open");
    }
    for closed in [
        "/api/v1/floor",
        "/api/v1/services/md",
        "/api/v1/stream",
        "/ops/status",
        "/",
    ] {
        let r = get(closed, None).await.expect("request");
        assert_eq!(r.status(), 401, "{closed} without a token");
        let challenge = r.headers().get("www-authenticate").expect("challenge");
        assert!(challenge.to_str().expect("ascii").starts_with("Bearer"));
        assert_eq!(
            r.headers()
                .get("x-content-type-options")
                .map(|v| v.as_bytes()),
            Some(&b"nosniff"[..]),
            "the 401 carries the shared headers too"
        );
        let body: serde_json::Value = r.json().await.expect("JSON 401");
        assert!(body["error"].is_string(), "{body}");
        let r = get(closed, Some("wrong")).await.expect("request");
        assert_eq!(r.status(), 401, "{closed} with a wrong token");
    }
    for path in ["/api/v1/floor", "/api/v1/services/md", "/"] {
        let r = get(path, Some(TOKEN)).await.expect("request");
        assert_eq!(r.status(), 200, "{path} with the token: {}", floor.output());
    }
    let stream = get("/api/v1/stream", Some(TOKEN)).await.expect("request");
    assert_eq!(stream.status(), 200);
}

#[tokio::test]
async fn insecure_public_serves_without_access() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = inventory(dir.path());
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsfloor"));
    command
        .args(["serve", "--config", &config, "--no-history"])
        .args(["--listen", "0.0.0.0:0", "--insecure-public"]);
    let mut floor = Spawned::new(command);
    let addr = floor.printed_addr("API at");
    let port = addr.rsplit(':').next().expect("port");
    let r = reqwest::get(format!("http://127.0.0.1:{port}/api/v1/floor"))
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
}

/// The floor's own accept loop gives the access layer each request's peer, so a
/// trusted proxy's header counts from the proxy's address (here loopback) and
/// from nowhere else.
#[tokio::test]
async fn the_trusted_proxy_header_counts_from_its_peer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = inventory(dir.path());
    let trusted = dir.path().join("trusted.toml");
    std::fs::write(
        &trusted,
        "[access]\ntrusted_proxy_header = \"X-Forwarded-User\"\ntrusted_proxies = [\"127.0.0.1/32\"]\n",
    )
    .expect("write");
    let elsewhere = dir.path().join("elsewhere.toml");
    std::fs::write(
        &elsewhere,
        "[access]\ntrusted_proxy_header = \"X-Forwarded-User\"\ntrusted_proxies = [\"10.0.0.0/8\"]\n",
    )
    .expect("write");
    for (file, expected) in [(&trusted, 200), (&elsewhere, 401)] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_opsfloor"));
        command
            .args(["serve", "--config", &config, "--no-history"])
            .args(["--listen", "127.0.0.1:0", "--access"])
            .arg(file);
        let mut floor = Spawned::new(command);
        let addr = floor.printed_addr("API at");
        let r = reqwest::Client::new()
            .get(format!("http://{addr}/api/v1/floor"))
            .header("X-Forwarded-User", "alice")
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), expected, "{}", file.display());
    }
}

#[test]
fn the_demo_stays_on_loopback() {
    let out = Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .args(["demo", "--listen", "0.0.0.0:0"])
        .output()
        .expect("run opsfloor demo");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "{err}");
    assert!(err.contains("opsfloor serve --access"), "{err}");
}

/// On start the floor raises its soft open-files limit to the hard one (and
/// derives its connection cap from it).
#[test]
fn serve_raises_the_soft_open_files_limit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = inventory(dir.path());
    let script = format!(
        "ulimit -S -n 256 && exec {} serve --config {config} --no-history --listen 127.0.0.1:0",
        env!("CARGO_BIN_EXE_opsfloor")
    );
    let mut command = Command::new("sh");
    command.args(["-c", &script]);
    let mut floor = Spawned::new(command);
    floor.printed_addr("API at");
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", floor.id())).expect("limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("open files line");
    let numbers: Vec<&str> = line["Max open files".len()..].split_whitespace().collect();
    assert_eq!(numbers[0], numbers[1], "soft raised to hard: {line}");
    assert_ne!(numbers[0], "256", "{line}");
}
