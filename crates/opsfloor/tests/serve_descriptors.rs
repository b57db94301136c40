//! Descriptor exhaustion (issue 13, limits): `opsfloor serve` runs under
//! `ulimit -n 1024` while 1,100 clients drip header bytes at it (each reconnects
//! when dropped). Meanwhile `/health` answers every time (within a second when
//! run alone: SECURITY.md's table), and a
//! real `opsfloor probe` that is killed and restarted on its port is polled again
//! (the floor shows its new build) and is never recorded OFFLINE in the history:
//! serving load cannot take the descriptors polling and history need.
//!
//! The drip lasts `OPSFLOOR_DRIP_SECS` (10 s by default; the 30 s with
//! `OPSFLOOR_DRIP_SECS=30`), against a header-read timeout of
//! `OPSFLOOR_HEADER_TIMEOUT_SECS` (5 s by default), so every slow client is dropped
//! and reconnects at least once within the drip.

mod common;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::Spawned;
use opsfloor_contract::State;
use opsfloor_history::History;

const SLOW_CLIENTS: usize = 1_100;

fn env_secs(name: &str, default: u64) -> Duration {
    let secs = std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Duration::from_secs(secs)
}

/// One plain HTTP/1.1 GET on a fresh connection: the status and body, or why not.
fn get(addr: &str, path: &str) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: floor\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("write: {e}"))?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no response head")?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line: {head}"))?;
    Ok((status, body.to_owned()))
}

/// A probe for an ingest job; `listen` is `127.0.0.1:0` the first time, then the
/// port it got, so the restarted probe is the same service at the same URL.
fn probe(dir: &Path, listen: &str, build: &str) -> Spawned {
    let heartbeat = dir.join("heartbeat");
    std::fs::write(&heartbeat, "ok\n").expect("heartbeat file");
    let mut command = Command::new(env!("CARGO_BIN_EXE_opsfloor"));
    command
        .args(["probe", "--listen", listen])
        .env("SERVICE_NAME", "bars-ingest")
        .env("SERVICE_KIND", "ingest")
        .env("REPO_ID", "acme/ingest")
        .env("BUILD_ID", build)
        // Its own market always open: the test's OK must not depend on the day.
        .env("OPS_CALENDAR", "always-open")
        .env("OPS_HEARTBEAT_FILE", heartbeat)
        .env("OPS_HEARTBEAT_TTL_S", "3600");
    Spawned::new(command)
}

/// The floor under `ulimit -n 1024` (soft and hard, so it cannot raise it).
fn floor(dir: &Path, probe_addr: &str, header_timeout: Duration) -> Spawned {
    let inventory = dir.join("floor.toml");
    std::fs::write(
        &inventory,
        format!(
            "[floor]\ncalendar = \"always-open\"\npoll_interval_ms = 1000\ntimeout_ms = 1000\n\
             failure_threshold = 3\n\n[[services]]\nname = \"bars-ingest\"\nkind = \"ingest\"\n\
             url = \"http://{probe_addr}\"\n"
        ),
    )
    .expect("inventory");
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg("ulimit -n 1024 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_opsfloor"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.join("history.sqlite"))
        .arg("--config")
        .arg(&inventory)
        .arg("--header-read-timeout")
        .arg(header_timeout.as_secs().to_string());
    Spawned::new(command)
}

/// One slow client: sends the start of a request head, then a header byte every
/// 200 ms; when the floor drops it, it connects again, until `stop`.
fn drip(addr: SocketAddr, stop: &AtomicBool, connects: &AtomicUsize) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        connects.fetch_add(1, Ordering::Relaxed);
        if stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .is_err()
            || stream
                .write_all(b"GET /health HTTP/1.1\r\nX-Slow: ")
                .is_err()
        {
            continue;
        }
        let mut buf = [0u8; 256];
        while !stop.load(Ordering::Relaxed) {
            match stream.read(&mut buf) {
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    if stream.write_all(b"a").is_err() {
                        break;
                    }
                }
                // Closed, reset or answered: the floor let go of this one.
                _ => break,
            }
        }
    }
}

/// The restarted probe's build, once the floor shows it.
fn shows_build(floor: &str, build: &str) -> bool {
    get(floor, "/api/v1/services/bars-ingest").is_ok_and(|(status, body)| {
        status == 200
            && serde_json::from_str::<serde_json::Value>(&body)
                .is_ok_and(|v| v["build"]["build_id"] == build && v["status"]["state"] == "OK")
    })
}

#[test]
fn under_ulimit_1024_slow_clients_starve_neither_health_nor_polling() {
    let drip_for = env_secs("OPSFLOOR_DRIP_SECS", 10);
    let header_timeout = env_secs("OPSFLOOR_HEADER_TIMEOUT_SECS", 5);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut service = probe(dir.path(), "127.0.0.1:0", "run-1");
    let probe_addr = service.printed_addr("serving");
    let mut floor = floor(dir.path(), &probe_addr, header_timeout);
    let addr = floor.printed_addr("API at");
    floor.wait_for("the probe OK on the floor", Duration::from_secs(30), |_| {
        shows_build(&addr, "run-1").then_some(())
    });

    let stop = Arc::new(AtomicBool::new(false));
    let connects = Arc::new(AtomicUsize::new(0));
    let socket: SocketAddr = addr.parse().expect("floor address");
    let clients: Vec<_> = (0..SLOW_CLIENTS)
        .map(|_| {
            let (stop, connects) = (Arc::clone(&stop), Arc::clone(&connects));
            std::thread::Builder::new()
                .stack_size(128 * 1024)
                .spawn(move || drip(socket, &stop, &connects))
                .expect("slow client thread")
        })
        .collect();

    let start = Instant::now();
    let mut latencies = Vec::new();
    let mut restarted = None;
    while start.elapsed() < drip_for {
        let asked = Instant::now();
        let answer = get(&addr, "/health");
        let took = asked.elapsed();
        assert!(
            matches!(answer, Ok((200, _))),
            "/health after {:?} of dripping: {answer:?}\n{}",
            start.elapsed(),
            floor.output()
        );
        // Starvation is what this test catches: `/health` unanswered (the read
        // timeout of `get`, 5 s) or refused. How fast it answers is a budget, measured
        // with this test run alone (`--nocapture` prints median and worst) and
        // reported in SECURITY.md, not asserted here, where 1,100 dripping threads
        // share 2 cores with the rest of the suite.
        assert!(
            took < Duration::from_secs(5),
            "/health took {took:?} after {:?} of dripping",
            start.elapsed()
        );
        latencies.push(took);
        // A third of the way in, the service restarts on the same port.
        if restarted.is_none() && start.elapsed() >= drip_for / 3 {
            drop(service); // SIGKILL, reaped
            service = probe(dir.path(), &probe_addr, "run-2");
            let _ = service.printed_addr("serving");
            restarted = Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while !shows_build(&addr, "run-2") {
        assert!(
            Instant::now() < deadline,
            "the floor never polled the restarted probe\n{}",
            floor.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        let _ = client.join();
    }
    drop(floor); // SIGKILL: what is stored is stored
    drop(service);

    latencies.sort();
    eprintln!(
        "{SLOW_CLIENTS} slow clients for {drip_for:?} ({} connects), restart at {restarted:?}: \
         /health median {:?}, worst {:?} over {} requests",
        connects.load(Ordering::Relaxed),
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1],
        latencies.len()
    );
    assert!(
        connects.load(Ordering::Relaxed) > SLOW_CLIENTS,
        "the slow clients were dropped and reconnected"
    );
    let history = dir.path().join("history.sqlite").display().to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let stored = runtime.block_on(async {
        let history = History::connect(&history).await.expect("history");
        let all = history.all_in_order().await.expect("read");
        history.close().await;
        all
    });
    let offline: Vec<_> = stored.iter().filter(|t| t.to == State::Offline).collect();
    assert!(
        offline.is_empty(),
        "recorded OFFLINE while the floor was under load: {offline:?}"
    );
}
