//! The accept loop's bounds over real loopback TCP: clients that drip header bytes
//! are dropped at the header-read timeout, silent connections at the idle timeout,
//! and while many slow clients hold connections (even all of them, at the cap,
//! where the oldest slow one is evicted) `/health` still answers within a second;
//! live-stream clients are capped apart from connections, and one more is a JSON
//! 503 with `Retry-After`.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use opsfloor_server::listener::Limits;
use opsfloor_server::server::{Running, ServeConfig, start};

async fn floor(dir: &std::path::Path, limits: Limits) -> Running {
    let inventory = dir.join("floor.toml");
    std::fs::write(
        &inventory,
        "[floor]\ncalendar = \"always-open\"\n\n[[services]]\nname = \"md\"\nkind = \"marketdata\"\nurl = \"http://127.0.0.1:9\"\n",
    )
    .expect("write inventory");
    start(ServeConfig {
        inventory,
        listen: "127.0.0.1:0".parse().expect("addr"),
        db: None,
        retention: Duration::from_secs(86_400),
        now: Arc::new(jiff::Timestamp::now),
        pages: None,
        subscribers: Vec::new(),
        replica: "test".into(),
        guard: None,
        limits,
        tls: None,
    })
    .await
    .expect("floor starts")
}

/// Sends the start of a request head and then one header byte every 100 ms, until
/// the server closes the connection; returns how long the server held it.
/// `on_connect` runs once the start of the head is sent.
fn drip_until_closed(
    addr: SocketAddr,
    give_up: Duration,
    on_connect: impl FnOnce(),
) -> Option<Duration> {
    let start = Instant::now();
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .ok()?;
    stream.write_all(b"GET /health HTTP/1.1\r\nX-Slow: ").ok()?;
    on_connect();
    let mut buf = [0u8; 256];
    while start.elapsed() < give_up {
        if stream.write_all(b"a").is_err() {
            return Some(start.elapsed());
        }
        match stream.read(&mut buf) {
            // Closed (0 bytes), reset, or an error status before closing.
            Ok(_) => return Some(start.elapsed()),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

/// `n` threads that drip header bytes and reconnect whenever they are dropped,
/// until `stop` is set: the slow-loris load, held for as long as the test runs.
/// Returns once every one of them has connected and sent its first bytes, so the
/// load is in place (not hoped to be, after a sleep) when the test measures.
fn slow_clients(
    addr: SocketAddr,
    n: usize,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<()>> {
    let connected = Arc::new(AtomicUsize::new(0));
    let threads = (0..n)
        .map(|_| {
            let (stop, connected) = (Arc::clone(stop), Arc::clone(&connected));
            std::thread::spawn(move || {
                let mut first = true;
                while !stop.load(Ordering::Relaxed) {
                    let on_connect = || {
                        if std::mem::take(&mut first) {
                            connected.fetch_add(1, Ordering::Relaxed);
                        }
                    };
                    if drip_until_closed(addr, Duration::from_secs(30), on_connect).is_none() {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while connected.load(Ordering::Relaxed) < n {
        assert!(
            Instant::now() < deadline,
            "slow clients did not all connect"
        );
        std::thread::sleep(Duration::from_millis(5)); // polling the count, not hoping
    }
    threads
}

async fn health_latency(addr: SocketAddr) -> Duration {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let start = Instant::now();
    let response = client
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .expect("/health answers");
    assert!(response.status().as_u16() < 600);
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_dripping_header_bytes_is_dropped_at_the_header_read_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let limits = Limits {
        header_read_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let running = floor(dir.path(), limits).await;
    let addr = running.addr;
    let held = tokio::task::spawn_blocking(move || {
        drip_until_closed(addr, Duration::from_secs(10), || ())
    })
    .await
    .expect("thread")
    .expect("the server closes the connection");
    assert!(
        held >= Duration::from_millis(900) && held < Duration::from_secs(4),
        "held {held:?} with a 1 s header-read timeout"
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_connection_is_dropped_at_the_idle_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let limits = Limits {
        header_read_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let running = floor(dir.path(), limits).await;
    let addr = running.addr;
    let held = tokio::task::spawn_blocking(move || {
        let start = Instant::now();
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut buf = [0u8; 16];
        let n = stream.read(&mut buf).unwrap_or(0);
        assert_eq!(n, 0, "closed without an answer");
        start.elapsed()
    })
    .await
    .expect("thread");
    assert!(
        held >= Duration::from_millis(900) && held < Duration::from_secs(4),
        "held {held:?} with a 1 s idle timeout"
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_within_a_second_under_200_slow_clients() {
    let dir = tempfile::tempdir().expect("temp dir");
    let limits = Limits {
        header_read_timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let running = floor(dir.path(), limits).await;
    let stop = Arc::new(AtomicBool::new(false));
    let threads = slow_clients(running.addr, 200, &stop);
    for _ in 0..5 {
        let took = health_latency(running.addr).await;
        assert!(took < Duration::from_secs(1), "/health took {took:?}");
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_cap_slow_clients_are_evicted_and_health_answers_within_a_second() {
    let dir = tempfile::tempdir().expect("temp dir");
    let limits = Limits {
        // Long enough that waiting for it would fail the assertion below.
        header_read_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(60),
        max_connections: 16,
        ..Limits::default()
    };
    let running = floor(dir.path(), limits).await;
    let stop = Arc::new(AtomicBool::new(false));
    // Twice the cap: every permit is held by a slow client at all times.
    let threads = slow_clients(running.addr, 32, &stop);
    for _ in 0..5 {
        let took = health_latency(running.addr).await;
        // The oldest slow client makes room; nobody waits for the timeout.
        assert!(took < Duration::from_secs(1), "/health took {took:?}");
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    running.shutdown().await;
}

/// Opens the live stream over raw TCP and reads until its first `snapshot` event
/// (so the server holds the stream's place); `None` when the answer is not a stream.
fn open_stream(addr: SocketAddr) -> Option<TcpStream> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    stream
        .write_all(
            b"GET /api/v1/stream HTTP/1.1\r\nHost: floor\r\nAccept: text/event-stream\r\n\r\n",
        )
        .ok()?;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("event: snapshot") {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        seen.extend_from_slice(&buf[..n]);
        if seen.starts_with(b"HTTP/1.1 503") {
            return None;
        }
    }
    Some(stream)
}

async fn get_stream_status(addr: SocketAddr) -> reqwest::Response {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
        .get(format!("http://{addr}/api/v1/stream"))
        .send()
        .await
        .expect("the stream answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_stream_clients_beyond_the_cap_get_a_json_503_with_retry_after() {
    let dir = tempfile::tempdir().expect("temp dir");
    let limits = Limits {
        max_sse_clients: 2,
        ..Limits::default()
    };
    let running = floor(dir.path(), limits).await;
    let addr = running.addr;
    let (first, second) =
        tokio::task::spawn_blocking(move || (open_stream(addr), open_stream(addr)))
            .await
            .expect("thread");
    let (first, second) = (first.expect("first stream"), second.expect("second stream"));

    let refused = get_stream_status(addr).await;
    assert_eq!(refused.status().as_u16(), 503);
    assert_eq!(
        refused
            .headers()
            .get("retry-after")
            .map(|v| v.as_bytes().to_vec()),
        Some(b"5".to_vec())
    );
    assert_eq!(
        refused
            .headers()
            .get("content-type")
            .map(|v| v.as_bytes().to_vec()),
        Some(b"application/json".to_vec())
    );
    let body: serde_json::Value = refused.json().await.expect("a JSON body");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("live-stream")),
        "{body}"
    );
    // Other routes are not counted against the stream cap.
    assert!(health_latency(addr).await < Duration::from_secs(1));

    // A closed stream frees its place: a new client gets in (polled, with a deadline).
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(10);
    let third = loop {
        let opened = tokio::task::spawn_blocking(move || open_stream(addr))
            .await
            .expect("thread");
        if let Some(stream) = opened {
            break stream;
        }
        assert!(
            Instant::now() < deadline,
            "no place freed after a stream closed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    drop((second, third));
    running.shutdown().await;
}
