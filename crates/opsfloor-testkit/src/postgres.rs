//! [`Postgres`]: a throwaway PostgreSQL server from Debian's `postgresql` package.
//!
//! `initdb` refuses to run as root, so when the tests run as root the server's
//! programs run as the `postgres` user the package creates (`runuser -u postgres
//! --`), in a fresh temporary directory owned by that user. The server listens on
//! `127.0.0.1` (password authentication, SCRAM) and on a Unix socket in that
//! directory (trust, used by the harness itself). PostgreSQL cannot bind port 0, so
//! the harness picks a port and, when the server reports the address in use, tries
//! another. Readiness is `pg_isready` in a loop with a deadline. Drop stops the
//! server (`pg_ctl stop -m immediate`) and deletes the directory.

use std::fmt;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Where Debian installs each PostgreSQL version's programs.
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// The superuser the harness creates, and its password for TCP connections.
const SUPERUSER: &str = "postgres";
const PASSWORD: &str = "harness-secret-pw";

/// How long a server may take to accept connections.
const READY_DEADLINE: Duration = Duration::from_secs(60);

/// How many ports to try before giving up.
const PORT_ATTEMPTS: u32 = 20;

/// Ports are chosen from this range (below Linux's ephemeral range, 32768+).
const PORT_RANGE: (u32, u32) = (20_000, 32_000);

static STARTED: AtomicU32 = AtomicU32::new(0);

/// Why a server could not be started or used.
#[derive(Debug)]
pub struct HarnessError(String);

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HarnessError {}

/// A harness error with this message (shared by every harness in the crate).
pub(crate) fn err(msg: impl Into<String>) -> HarnessError {
    HarnessError(msg.into())
}

/// A running PostgreSQL server, stopped and deleted on drop.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
    child: Option<Child>,
}

impl Postgres {
    /// Initialises a cluster in a fresh temporary directory and starts a server on
    /// a free loopback port; returns once it accepts connections.
    pub fn start() -> Result<Postgres, HarnessError> {
        let bin = find_bin()?;
        let as_postgres = running_as_root();
        let dir = tempfile::Builder::new()
            .prefix("opsfloor-pg-")
            .tempdir()
            .map_err(|e| err(format!("cannot create a temporary directory: {e}")))?;
        if as_postgres {
            run(Command::new("chown")
                .arg(format!("{SUPERUSER}:"))
                .arg(dir.path()))?;
        }
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, PASSWORD).map_err(|e| err(format!("{}: {e}", pwfile.display())))?;
        if as_postgres {
            run(Command::new("chown")
                .arg(format!("{SUPERUSER}:"))
                .arg(&pwfile))?;
        }
        let mut pg = Postgres {
            bin,
            dir,
            port: 0,
            as_postgres,
            child: None,
        };
        let data = pg.data_dir();
        let mut initdb = pg.command("initdb");
        initdb
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .args(["--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]);
        run(&mut initdb)?;
        let mut last = String::new();
        for attempt in 0..PORT_ATTEMPTS {
            let port = pick_port(attempt);
            match pg.try_port(port)? {
                None => return Ok(pg),
                Some(why) => last = why,
            }
        }
        Err(err(format!(
            "PostgreSQL: no free port after {PORT_ATTEMPTS} attempts; last: {last}"
        )))
    }

    /// Starts the server on `port`: `Ok(None)` once ready, `Ok(Some(log))` when the
    /// port was taken, `Err` on any other failure.
    fn try_port(&mut self, port: u16) -> Result<Option<String>, HarnessError> {
        let log = self.dir.path().join(format!("postgres-{port}.log"));
        let logfile =
            std::fs::File::create(&log).map_err(|e| err(format!("{}: {e}", log.display())))?;
        let errfile = logfile
            .try_clone()
            .map_err(|e| err(format!("{}: {e}", log.display())))?;
        let mut server = self.command("postgres");
        server
            .arg("-D")
            .arg(self.data_dir())
            .arg("-p")
            .arg(port.to_string())
            .arg("-k")
            .arg(self.dir.path())
            .args(["-c", "listen_addresses=127.0.0.1"])
            .stdin(Stdio::null())
            .stdout(logfile)
            .stderr(errfile);
        let child = server
            .spawn()
            .map_err(|e| err(format!("cannot start postgres: {e}")))?;
        self.child = Some(child);
        self.port = port;
        let (bin, port_text) = (self.bin.join("pg_isready"), port.to_string());
        let server = crate::ready::Server {
            name: "postgres",
            log: &log,
            port_taken: "Address already in use",
            deadline: READY_DEADLINE,
        };
        crate::ready::wait_until_ready(&mut self.child, &server, || {
            Command::new(&bin)
                .args(["-q", "-h", "127.0.0.1", "-p", &port_text])
                .status()
                .map(|s| s.success())
                .map_err(|e| err(format!("pg_isready: {e}")))
        })
    }

    /// The server's TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The superuser's password for TCP connections.
    pub fn password(&self) -> &'static str {
        PASSWORD
    }

    /// The URL of database `db` over TCP, with the superuser and its password.
    pub fn url(&self, db: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{PASSWORD}@127.0.0.1:{}/{db}",
            self.port
        )
    }

    /// The URL of database `db` without a password (supply it with `PGPASSWORD`).
    pub fn url_without_password(&self, db: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates an empty database `name` (a fresh one per test) and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, HarnessError> {
        run(Command::new(self.bin.join("createdb"))
            .arg("-h")
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string(), "-U", SUPERUSER, name]))?;
        Ok(self.url(name))
    }

    /// Runs one SQL command as the superuser in database `db` (over the socket).
    pub fn psql(&self, db: &str, sql: &str) -> Result<String, HarnessError> {
        let out = run(Command::new(self.bin.join("psql"))
            .arg("-h")
            .arg(self.dir.path())
            .args(["-p", &self.port.to_string(), "-U", SUPERUSER, "-d", db])
            .args(["-v", "ON_ERROR_STOP=1", "-At", "-c", sql]))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A command for one of the server's programs, as the `postgres` user when root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", SUPERUSER, "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let mut stop = self.command("pg_ctl");
            stop.arg("-D")
                .arg(self.data_dir())
                .args(["stop", "-m", "immediate", "-w"])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            if !stop.status().is_ok_and(|s| s.success()) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` with a `postgres` in it, or
/// `OPSFLOOR_PG_BIN` when set.
fn find_bin() -> Result<PathBuf, HarnessError> {
    if let Some(dir) = std::env::var_os("OPSFLOOR_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let missing = || {
        err(format!(
            "PostgreSQL is not installed (no {DEBIAN_ROOT}/*/bin/postgres): \
             run ./scripts/test, which installs Debian's postgresql package"
        ))
    };
    let entries = std::fs::read_dir(DEBIAN_ROOT).map_err(|_| missing())?;
    let mut versions: Vec<(u32, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(missing)
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A port for attempt `n`: spread by process, start order and time, so parallel
/// test binaries rarely collide (and a collision is retried anyway).
fn pick_port(n: u32) -> u16 {
    let started = STARTED.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let seed = std::process::id()
        .wrapping_mul(7919)
        .wrapping_add(started.wrapping_mul(104_729))
        .wrapping_add(n.wrapping_mul(15_485_863))
        .wrapping_add(nanos);
    let span = PORT_RANGE.1 - PORT_RANGE.0;
    u16::try_from(PORT_RANGE.0 + seed % span).unwrap_or(29_999)
}

fn run(c: &mut Command) -> Result<Output, HarnessError> {
    let out = c
        .output()
        .map_err(|e| err(format!("{:?}: {e}", c.get_program())))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(err(format!(
            "{:?} {:?} failed ({}): {}{}",
            c.get_program(),
            c.get_args().collect::<Vec<_>>(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}
