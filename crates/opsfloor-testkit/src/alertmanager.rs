//! [`Alertmanager`]: a throwaway Prometheus Alertmanager from Debian's
//! `prometheus-alertmanager` package (`/usr/bin/prometheus-alertmanager`).
//!
//! The server runs with a temporary `--storage.path`, a config the test chooses,
//! clustering off (`--cluster.listen-address=` empty) and its web API on
//! `127.0.0.1`. Alertmanager cannot listen on port 0, so the harness binds
//! `127.0.0.1:0` itself, reads the port the kernel chose, drops the listener and
//! starts the server there; when another process took the port in between, the
//! server exits with "address already in use" and the harness tries a new port.
//! Readiness is `GET /-/ready` in a loop with a deadline. Choosing a port and
//! starting the server happen under one process-wide lock: otherwise two tests could
//! be handed the same just-freed port, and the loser, polling `/-/ready`, would take
//! the winner's answer for its own server's. The server can be stopped
//! and started again on the same port (to test a sink against an Alertmanager that
//! was down). Drop kills it and deletes the directory.
//!
//! [`Alertmanager::start_tls`] serves the API over HTTPS (Alertmanager's
//! `--web.config.file` with `tls_server_config`) with a certificate the test made;
//! readiness is then the listener answering a plain-HTTP probe the way Go's TLS
//! server does, with 400 ("Client sent an HTTP request to an HTTPS server").

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::postgres::{HarnessError, err};

/// Debian's binary, unless `OPSFLOOR_ALERTMANAGER` names another.
const DEBIAN_BIN: &str = "/usr/bin/prometheus-alertmanager";

/// How long the server may take to become ready.
const READY_DEADLINE: Duration = Duration::from_secs(30);

/// How many ports to try before giving up.
const PORT_ATTEMPTS: u32 = 10;

/// Held from choosing a port until the server on it is ready (or has failed).
static STARTING: Mutex<()> = Mutex::new(());

fn starting() -> MutexGuard<'static, ()> {
    // A test that panicked while holding it left nothing half-done that matters.
    STARTING.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The smallest useful config: one receiver that sends nowhere, short group wait.
pub const MINIMAL_CONFIG: &str = "\
route:
  receiver: blackhole
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: blackhole
";

/// A running Alertmanager, killed and deleted on drop.
#[derive(Debug)]
pub struct Alertmanager {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
    /// Serving HTTPS (`--web.config.file`).
    tls: bool,
}

impl Alertmanager {
    /// Starts a server with [`MINIMAL_CONFIG`].
    pub fn start() -> Result<Alertmanager, HarnessError> {
        Alertmanager::start_with_config(MINIMAL_CONFIG)
    }

    /// Starts a server with this YAML config; returns once it is ready.
    pub fn start_with_config(config: &str) -> Result<Alertmanager, HarnessError> {
        let mut am = Alertmanager::prepare(config)?;
        am.start_on_a_free_port()?;
        Ok(am)
    }

    /// A server with this YAML config in a new directory, not started yet.
    fn prepare(config: &str) -> Result<Alertmanager, HarnessError> {
        let bin = std::env::var_os("OPSFLOOR_ALERTMANAGER")
            .map_or_else(|| PathBuf::from(DEBIAN_BIN), PathBuf::from);
        if !bin.is_file() {
            return Err(err(format!(
                "Alertmanager is not installed (no {}): run ./scripts/test, which installs \
                 Debian's prometheus-alertmanager package",
                bin.display()
            )));
        }
        let dir = tempfile::Builder::new()
            .prefix("opsfloor-am-")
            .tempdir()
            .map_err(|e| err(format!("cannot create a temporary directory: {e}")))?;
        let path = dir.path().join("alertmanager.yml");
        std::fs::write(&path, config).map_err(|e| err(format!("{}: {e}", path.display())))?;
        Ok(Alertmanager {
            bin,
            dir,
            port: 0,
            child: None,
            tls: false,
        })
    }

    /// Starts a server with [`MINIMAL_CONFIG`] serving HTTPS with `server` (a
    /// certificate for `127.0.0.1` and `localhost`, as [`crate::pki::Ca::issue`]
    /// makes). [`Alertmanager::url`] is then `https://`; [`Alertmanager::get`]
    /// speaks plain HTTP only and is not for this server.
    pub fn start_tls(server: &crate::pki::Pem) -> Result<Alertmanager, HarnessError> {
        let mut am = Alertmanager::prepare(MINIMAL_CONFIG)?;
        let (cert, key) = server.write(am.dir.path(), "server");
        let web = am.dir.path().join("web.yml");
        let text = format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\n",
            cert.display(),
            key.display()
        );
        std::fs::write(&web, text).map_err(|e| err(format!("{}: {e}", web.display())))?;
        am.tls = true;
        am.start_on_a_free_port()?;
        Ok(am)
    }

    /// Chooses a port and starts the server there, trying again when another
    /// process took the port in between.
    fn start_on_a_free_port(&mut self) -> Result<(), HarnessError> {
        let mut last = String::new();
        let _starting = starting();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port()?;
            match self.try_port(port)? {
                None => return Ok(()),
                Some(why) => last = why,
            }
        }
        Err(err(format!(
            "Alertmanager: no free port after {PORT_ATTEMPTS} attempts; last: {last}"
        )))
    }

    /// The base URL of its API, e.g. `http://127.0.0.1:41234` (`https` for
    /// [`Alertmanager::start_tls`]).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Its TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server (SIGKILL); its storage stays, so [`Alertmanager::restart`]
    /// brings it back on the same port.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port after [`Alertmanager::stop`].
    pub fn restart(&mut self) -> Result<(), HarnessError> {
        self.stop();
        let _starting = starting();
        // The port was just released by our own server: retry briefly in case the
        // kernel has not let go of it yet.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.try_port(self.port)? {
                None => return Ok(()),
                Some(why) if Instant::now() > deadline => {
                    return Err(err(format!("Alertmanager restart: {why}")));
                }
                Some(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// `GET path` on the server; returns the body of a 200 answer.
    pub fn get(&self, path: &str) -> Result<String, HarnessError> {
        let (status, body) = http_get(self.port, path)?;
        if status == 200 {
            Ok(body)
        } else {
            Err(err(format!("GET {path}: status {status}: {body}")))
        }
    }

    /// Starts the server on `port`: `Ok(None)` once ready, `Ok(Some(log))` when the
    /// port was taken, `Err` on any other failure.
    fn try_port(&mut self, port: u16) -> Result<Option<String>, HarnessError> {
        let log = self.dir.path().join(format!("alertmanager-{port}.log"));
        let logfile =
            std::fs::File::create(&log).map_err(|e| err(format!("{}: {e}", log.display())))?;
        let errfile = logfile
            .try_clone()
            .map_err(|e| err(format!("{}: {e}", log.display())))?;
        let mut command = Command::new(&self.bin);
        if self.tls {
            command.arg(format!(
                "--web.config.file={}",
                self.dir.path().join("web.yml").display()
            ));
        }
        let child = command
            .arg(format!(
                "--config.file={}",
                self.dir.path().join("alertmanager.yml").display()
            ))
            .arg(format!(
                "--storage.path={}",
                self.dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdin(Stdio::null())
            .stdout(logfile)
            .stderr(errfile)
            .spawn()
            .map_err(|e| err(format!("cannot start {}: {e}", self.bin.display())))?;
        self.child = Some(child);
        self.port = port;
        let server = crate::ready::Server {
            name: "alertmanager",
            log: &log,
            port_taken: "address already in use",
            deadline: READY_DEADLINE,
        };
        let ready = if self.tls { 400 } else { 200 };
        crate::ready::wait_until_ready(&mut self.child, &server, || {
            Ok(matches!(http_get(port, "/-/ready"), Ok((status, _)) if status == ready))
        })
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port the kernel just handed out on 127.0.0.1 (free a moment ago).
fn free_port() -> Result<u16, HarnessError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| err(format!("cannot bind 127.0.0.1:0: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| err(format!("local_addr: {e}")))?
        .port();
    Ok(port)
}

/// A minimal HTTP/1.0 GET (no client library in the harness): status and body.
fn http_get(port: u16, path: &str) -> Result<(u16, String), HarnessError> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .map_err(|e| err(format!("connect 127.0.0.1:{port}: {e}")))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| err(format!("set_read_timeout: {e}")))?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n\r\n"
    )
    .map_err(|e| err(format!("GET {path}: {e}")))?;
    let mut text = String::new();
    stream
        .read_to_string(&mut text)
        .map_err(|e| err(format!("GET {path}: {e}")))?;
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| err(format!("GET {path}: not an HTTP answer: {text:?}")))?;
    let body = text
        .split_once("\r\n\r\n")
        .map_or_else(String::new, |(_, b)| b.to_owned());
    Ok((status, body))
}
