//! `opsfloor token new`, run as the real binary: the token is fresh, the digest is
//! its SHA-256, and the printed `[access]` lines, pasted as they are, let that
//! token (and no other) through a real server on loopback.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::{Command, Output, Stdio};

use opsfloor_access::{AccessConfig, AccessLayer, sha256_hex};

fn token_new(format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .args(["token", "new", "--format", format])
        .output()
        .expect("run opsfloor");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The value after `label` on its line.
fn field<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {label} in {text}"))
}

#[tokio::test]
async fn the_printed_lines_accept_the_printed_token() {
    let text = token_new("text");
    let token = field(&text, "token:");
    let digest = field(&text, "sha256:");
    assert_eq!(token.len(), 43, "32 bytes as unpadded base64url: {token}");
    assert_eq!(digest, sha256_hex(token));
    let snippet = &text[text.find("[access]").expect("snippet")..];
    let config = AccessConfig::from_toml_str(snippet).expect("the lines paste as they are");

    let app = axum::Router::new()
        .route("/api/v1/floor", axum::routing::get(|| async { "floor" }))
        .layer(AccessLayer::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/api/v1/floor");
    let with = |t: &str| client.get(&url).bearer_auth(t.to_owned()).send();
    assert_eq!(with(token).await.expect("request").status(), 200);
    assert_eq!(with(digest).await.expect("request").status(), 401);
    let other = field(&token_new("text"), "token:").to_owned();
    assert_ne!(other, token, "every token is fresh");
    assert_eq!(with(&other).await.expect("request").status(), 401);
}

#[test]
fn json_for_scripts() {
    let value: serde_json::Value = serde_json::from_str(&token_new("json")).expect("JSON");
    let token = value["token"].as_str().expect("token");
    assert_eq!(value["sha256"].as_str(), Some(sha256_hex(token).as_str()));
}

fn token_basic(user: &str, stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsfloor"))
        .args(["token", "basic", "--user", user])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run opsfloor");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

#[test]
fn basic_users_from_a_password_on_stdin() {
    use argon2::PasswordVerifier as _;
    let out = token_basic("alice", "wonderland\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(
        text.starts_with("[access.basic_users]\n\"alice\" = \"$argon2id$"),
        "{text}"
    );
    let config = AccessConfig::from_toml_str(&format!("[access]\n{text}")).expect("pastes");
    let phc = &config.basic_users["alice"];
    let hash = argon2::PasswordHash::new(phc).expect("PHC");
    assert!(
        argon2::Argon2::default()
            .verify_password(b"wonderland", &hash)
            .is_ok()
    );
    assert!(
        !text.contains("wonderland"),
        "the password is never printed"
    );

    for (user, stdin) in [("alice", ""), ("a:b", "pw\n")] {
        let out = token_basic(user, stdin);
        assert_eq!(out.status.code(), Some(64), "{user:?} {stdin:?}");
        assert!(String::from_utf8_lossy(&out.stderr).starts_with("opsfloor: error: "));
    }
}
