//! The access layer over real loopback HTTP: a real axum server on port 0, real
//! clients, and, for the trusted-proxy rule, real peer addresses (clients bound to
//! 127.0.0.2 and 127.0.0.3, both on the loopback interface).

use std::net::{IpAddr, SocketAddr};

use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::Router;
use axum::extract::Request;
use axum::routing;
use base64::Engine as _;
use opsfloor_access::{AccessConfig, AccessLayer, AccessToml, Principal, sha256_hex};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, WWW_AUTHENTICATE};

const TOKEN: &str = "a-test-token-that-is-long-enough";
const PROXY: &str = "127.0.0.2";
const STRANGER: &str = "127.0.0.3";

/// An argon2id PHC string with cheap parameters (tests only; production hashes
/// use the recommended ones).
fn phc(password: &str) -> String {
    let params = Params::new(1024, 1, 1, None).expect("params");
    let salt = SaltString::encode_b64(b"opsfloor-test-salt").expect("salt");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .expect("hash")
        .to_string()
}

fn raw(basic: bool) -> AccessToml {
    let mut raw = AccessToml {
        bearer_tokens_sha256: vec![sha256_hex("another-token"), sha256_hex(TOKEN)],
        trusted_proxy_header: Some("X-Forwarded-User".into()),
        trusted_proxies: vec![format!("{PROXY}/32")],
        public: vec!["/metrics".into()],
        ..AccessToml::default()
    };
    if basic {
        raw.basic_users.insert("alice".into(), phc("wonderland"));
    }
    raw
}

/// Answers with who the request was allowed as, and any proxy user header the
/// handler can still see.
async fn whoami(request: Request) -> String {
    let who = match request.extensions().get::<Principal>() {
        Some(p) => format!("{p:?}"),
        None => "public".into(),
    };
    match request.headers().get("x-forwarded-user") {
        Some(user) => format!("{who} header={}", user.to_str().unwrap_or("?")),
        None => who,
    }
}

fn app(config: AccessConfig) -> Router {
    Router::new()
        .route("/health", routing::get(whoami))
        .route("/metrics", routing::get(whoami))
        .route("/api/v1/floor", routing::get(whoami))
        .route("/api/v1/events", routing::get(whoami))
        .route("/", routing::get(whoami))
        .layer(AccessLayer::new(config))
}

fn app_with(layer: AccessLayer) -> Router {
    Router::new()
        .route("/api/v1/floor", routing::get(whoami))
        .layer(layer)
}

async fn serve_router(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    addr
}

/// Serves on 127.0.0.1, port 0, with the peer address in ConnectInfo (or not).
async fn serve(raw: AccessToml, connect_info: bool) -> SocketAddr {
    let config = AccessConfig::try_from(raw).expect("valid config");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = app(config);
    if connect_info {
        let service = app.into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, service).await });
    } else {
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    addr
}

fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().expect("ip"))
        .build()
        .expect("client")
}

struct Answer {
    status: StatusCode,
    challenge: Option<String>,
    body: String,
}

async fn get_as(
    client: &reqwest::Client,
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, String)],
) -> Answer {
    let mut request = client.get(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("request");
    let status = response.status();
    let challenge = response
        .headers()
        .get(WWW_AUTHENTICATE)
        .map(|v| v.to_str().expect("ascii").to_owned());
    if status == StatusCode::UNAUTHORIZED {
        assert_eq!(
            response.headers().get("content-type").map(|v| v.as_bytes()),
            Some(&b"application/json"[..])
        );
    }
    let body = response.text().await.expect("body");
    Answer {
        status,
        challenge,
        body,
    }
}

async fn get(addr: SocketAddr, path: &str, headers: &[(&str, String)]) -> Answer {
    get_as(&client_from("127.0.0.1"), addr, path, headers).await
}

fn bearer(token: &str) -> Vec<(&'static str, String)> {
    vec![(AUTHORIZATION.as_str(), format!("Bearer {token}"))]
}

fn basic(user: &str, password: &str) -> Vec<(&'static str, String)> {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    vec![(AUTHORIZATION.as_str(), format!("Basic {encoded}"))]
}

fn assert_unauthorized(answer: &Answer, challenge: &str) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    assert_eq!(answer.challenge.as_deref(), Some(challenge));
    let body: serde_json::Value = serde_json::from_str(&answer.body).expect("JSON body");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn health_and_public_paths_need_nothing() {
    let addr = serve(raw(true), true).await;
    for path in ["/health", "/metrics", "/metrics?format=text"] {
        let answer = get(addr, path, &[]).await;
        assert_eq!(
            (answer.status, answer.body.as_str()),
            (StatusCode::OK, "public"),
            "{path}"
        );
    }
    let refused = get(addr, "/api/v1/floor", &[]).await;
    let body: serde_json::Value = serde_json::from_str(&refused.body).expect("JSON");
    assert_eq!(
        body["error"],
        "authentication required: send an Authorization: Bearer token, or basic credentials, \
         or the request through the trusted proxy"
    );
    // Public means exactly these paths.
    for path in [
        "/health/",
        "/metrics/x",
        "/",
        "/api/v1/events",
        "/no-such-route",
    ] {
        assert_unauthorized(
            &get(addr, path, &[]).await,
            "Basic realm=\"opsfloor\", charset=\"UTF-8\"",
        );
    }
}

#[tokio::test]
async fn bearer_tokens_good_and_bad() {
    let addr = serve(raw(false), true).await;
    let good = get(addr, "/api/v1/floor", &bearer(TOKEN)).await;
    assert_eq!(
        (good.status, good.body.as_str()),
        (StatusCode::OK, "Token(1)")
    );
    let lower = get(
        addr,
        "/api/v1/floor",
        &[("authorization", format!("bearer {TOKEN}"))],
    )
    .await;
    assert_eq!(lower.status, StatusCode::OK);
    for bad in [format!("{TOKEN}x"), String::new(), TOKEN[..10].to_owned()] {
        let answer = get(addr, "/api/v1/floor", &bearer(&bad)).await;
        assert_unauthorized(
            &answer,
            "Bearer realm=\"opsfloor\", error=\"invalid_token\"",
        );
    }
    // No credential at all: a plain Bearer challenge (no basic users configured).
    assert_unauthorized(
        &get(addr, "/api/v1/events", &[]).await,
        "Bearer realm=\"opsfloor\"",
    );
    // The digest itself is not a token.
    let digest = sha256_hex(TOKEN);
    assert_eq!(
        get(addr, "/", &bearer(&digest)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_proxy_header_counts_only_from_trusted_peers() {
    let addr = serve(raw(false), true).await;
    let user = vec![("X-Forwarded-User", "alice@example.com".to_owned())];
    let trusted = get_as(&client_from(PROXY), addr, "/api/v1/floor", &user).await;
    assert_eq!(
        (trusted.status, trusted.body.as_str()),
        (
            StatusCode::OK,
            "Proxy(\"alice@example.com\") header=alice@example.com"
        )
    );
    let stranger = get_as(&client_from(STRANGER), addr, "/api/v1/floor", &user).await;
    assert_unauthorized(&stranger, "Bearer realm=\"opsfloor\"");
    let local = get(addr, "/api/v1/floor", &user).await;
    assert_eq!(
        local.status,
        StatusCode::UNAUTHORIZED,
        "127.0.0.1 is not in trusted_proxies"
    );
    // The trusted proxy without the header (or with a blank one) is nobody.
    let bare = get_as(&client_from(PROXY), addr, "/api/v1/floor", &[]).await;
    assert_eq!(bare.status, StatusCode::UNAUTHORIZED);
    let blank = vec![("X-Forwarded-User", "  ".to_owned())];
    let blank = get_as(&client_from(PROXY), addr, "/api/v1/floor", &blank).await;
    assert_eq!(blank.status, StatusCode::UNAUTHORIZED);
    // Two copies of the header are ambiguous: neither counts.
    let twice = client_from(PROXY)
        .get(format!("http://{addr}/api/v1/floor"))
        .header("X-Forwarded-User", "alice")
        .header("X-Forwarded-User", "mallory")
        .send()
        .await
        .expect("request");
    assert_eq!(twice.status(), StatusCode::UNAUTHORIZED);
    // A stranger's header never reaches a handler, whatever lets the request in.
    let with_token = [bearer(TOKEN), user.clone()].concat();
    let token = get_as(&client_from(STRANGER), addr, "/api/v1/floor", &with_token).await;
    assert_eq!(
        (token.status, token.body.as_str()),
        (StatusCode::OK, "Token(1)")
    );
    let public = get_as(&client_from(STRANGER), addr, "/health", &user).await;
    assert_eq!(public.body, "public");
    // A stranger still gets in with a token.
    let token = get_as(
        &client_from(STRANGER),
        addr,
        "/api/v1/floor",
        &bearer(TOKEN),
    )
    .await;
    assert_eq!(token.status, StatusCode::OK);
}

#[tokio::test]
async fn without_connect_info_no_peer_is_trusted() {
    let addr = serve(raw(false), false).await;
    let user = vec![("X-Forwarded-User", "alice".to_owned())];
    let answer = get_as(&client_from(PROXY), addr, "/api/v1/floor", &user).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        get(addr, "/api/v1/floor", &bearer(TOKEN)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn basic_auth_good_and_bad() {
    let addr = serve(raw(true), true).await;
    let challenge = "Basic realm=\"opsfloor\", charset=\"UTF-8\"";
    // Twice: the second answer comes from the memory of verified credentials.
    for _ in 0..2 {
        let good = get(addr, "/", &basic("alice", "wonderland")).await;
        assert_eq!(
            (good.status, good.body.as_str()),
            (StatusCode::OK, "Basic(\"alice\")")
        );
    }
    assert_unauthorized(
        &get(addr, "/", &basic("alice", "Wonderland")).await,
        challenge,
    );
    assert_unauthorized(
        &get(addr, "/", &basic("bob", "wonderland")).await,
        challenge,
    );
    assert_unauthorized(&get(addr, "/", &basic("alice", "")).await, challenge);
    let garbage = vec![(AUTHORIZATION.as_str(), "Basic !!not-base64".to_owned())];
    assert_unauthorized(&get(addr, "/", &garbage).await, challenge);
    // With basic auth configured, a bad token is still refused, with the Basic
    // challenge so a browser prompts.
    assert_unauthorized(&get(addr, "/", &bearer("nope")).await, challenge);
    assert_eq!(get(addr, "/", &bearer(TOKEN)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_new_configuration_applies_to_the_next_request() {
    let layer = AccessLayer::new(AccessConfig::try_from(raw(true)).expect("valid"));
    let addr = serve_router(app_with(layer.clone())).await;
    assert_eq!(
        get(addr, "/api/v1/floor", &bearer(TOKEN)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(addr, "/api/v1/floor", &basic("alice", "wonderland"))
            .await
            .status,
        StatusCode::OK
    );

    // Rotate: only the new token, no basic users.
    let rotated = AccessToml {
        bearer_tokens_sha256: vec![sha256_hex("the-new-token")],
        ..AccessToml::default()
    };
    layer.set_config(AccessConfig::try_from(rotated).expect("valid"));
    assert_eq!(layer.config().token_digests.len(), 1);
    assert_unauthorized(
        &get(addr, "/api/v1/floor", &bearer(TOKEN)).await,
        "Bearer realm=\"opsfloor\", error=\"invalid_token\"",
    );
    // The remembered basic credential went with the old configuration.
    let old_basic = get(addr, "/api/v1/floor", &basic("alice", "wonderland")).await;
    assert_eq!(old_basic.status, StatusCode::UNAUTHORIZED);
    let new = get(addr, "/api/v1/floor", &bearer("the-new-token")).await;
    assert_eq!(
        (new.status, new.body.as_str()),
        (StatusCode::OK, "Token(0)")
    );
}
