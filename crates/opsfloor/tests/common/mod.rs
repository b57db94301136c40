//! What the binary's integration tests share.

#![allow(dead_code, missing_docs)]

/// Compares `actual` with `tests/golden/NAME`; `UPDATE_GOLDEN=1` rewrites the file.
pub fn golden(name: &str, actual: &str) {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden");
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{name} differs from its golden file:\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

/// A child process killed when the test ends, even on panic.
pub struct Child(pub std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A child process whose stdout and stderr are collected as it runs, so that a
/// failure message can show what the child said. Killed when the test ends.
pub struct Spawned {
    child: std::process::Child,
    stdout: std::sync::Arc<std::sync::Mutex<String>>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

fn collect(
    stream: Option<impl std::io::Read + Send + 'static>,
) -> std::sync::Arc<std::sync::Mutex<String>> {
    let text = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    if let Some(stream) = stream {
        let sink = std::sync::Arc::clone(&text);
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut reader = std::io::BufReader::new(stream);
            let mut line = Vec::new();
            while reader.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                if let Ok(mut t) = sink.lock() {
                    t.push_str(&String::from_utf8_lossy(&line));
                }
                line.clear();
            }
        });
    }
    text
}

impl Spawned {
    /// Spawns `command` with stdout and stderr piped and collected.
    pub fn new(mut command: std::process::Command) -> Spawned {
        use std::process::Stdio;
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let stdout = collect(child.stdout.take());
        let stderr = collect(child.stderr.take());
        Spawned {
            child,
            stdout,
            stderr,
        }
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// What the child wrote to stdout so far.
    pub fn stdout(&self) -> String {
        self.stdout.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// What the child wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Both outputs, for a failure message.
    pub fn output(&self) -> String {
        format!(
            "--- child stdout\n{}--- child stderr\n{}",
            self.stdout(),
            self.stderr()
        )
    }

    /// Waits (bounded) for the child to exit and returns its status.
    pub fn wait(&mut self, within: std::time::Duration) -> std::process::ExitStatus {
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the reader threads drain the pipes.
                std::thread::sleep(std::time::Duration::from_millis(50));
                return status;
            }
            assert!(
                start.elapsed() < within,
                "child did not exit within {within:?}\n{}",
                self.output()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Polls `condition` until it returns `Some`, for at most `within`; on timeout
    /// fails with `what` and the child's output (also if the child exited).
    pub fn wait_for<T>(
        &mut self,
        what: &str,
        within: std::time::Duration,
        mut condition: impl FnMut(&Spawned) -> Option<T>,
    ) -> T {
        let start = std::time::Instant::now();
        loop {
            if let Some(value) = condition(self) {
                return value;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(std::time::Duration::from_millis(50));
                panic!("{what}: child exited with {status}\n{}", self.output());
            }
            assert!(
                start.elapsed() < within,
                "{what}: not within {within:?}\n{}",
                self.output()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Waits for a stdout line containing `marker` and returns the `http://HOST:PORT`
    /// address that follows it on that line (the child bound port 0 and printed it).
    pub fn printed_addr(&mut self, marker: &str) -> String {
        self.wait_for(
            &format!("a line with {marker:?} on stdout"),
            std::time::Duration::from_secs(20),
            |c| {
                let out = c.stdout();
                let line = out.lines().find(|l| l.contains(marker))?;
                let at = line.find("://")?;
                let rest = &line[at + "://".len()..];
                let end = rest.find('/').unwrap_or(rest.len());
                Some(rest[..end].to_owned())
            },
        )
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `url`s of an inventory file, in order (empty while it is not written yet).
pub fn inventory_urls(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.strip_prefix("url = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .map(str::to_owned)
        .collect()
}

/// A minimal HTTP/1.0 GET over a std TcpStream (keeps the CLI tests free of an
/// async runtime): the body of a 200, else an error with the response head.
pub fn http_get(url: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut stream = std::net::TcpStream::connect(host)?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    if !head.starts_with("HTTP/1.0 200") && !head.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(head.to_owned()));
    }
    Ok(body.to_owned())
}

/// A transition as the live stream shows it: (service or `floor`, state, instant).
pub type Seen = (String, String, String);

/// A thread reading a floor's live stream.
pub struct Follower {
    /// Ends when the server dies.
    pub handle: std::thread::JoinHandle<()>,
    /// Set once the stream's first event (the snapshot) arrived: from then on,
    /// every transition the server publishes is collected.
    pub connected: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Reads `/api/v1/stream` at `addr` until the server dies, appending every
/// `transition` event to `seen`.
pub fn follow(addr: String, seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>>) -> Follower {
    use std::io::{BufRead, Write};
    let connected = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let snapshot = std::sync::Arc::clone(&connected);
    let handle = std::thread::spawn(move || {
        let Ok(mut stream) = std::net::TcpStream::connect(&addr) else {
            return;
        };
        let request = format!(
            "GET /api/v1/stream HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
        );
        if stream.write_all(request.as_bytes()).is_err() {
            return;
        }
        let mut event = String::new();
        for line in std::io::BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            if let Some(name) = line.strip_prefix("event: ") {
                event = name.to_owned();
                if event == "snapshot" {
                    snapshot.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            } else if let Some(data) = line.strip_prefix("data: ")
                && event == "transition"
                && let Ok(t) = serde_json::from_str::<serde_json::Value>(data)
            {
                let subject = t["service"].as_str().unwrap_or("floor").to_owned();
                let to = t["to"].as_str().unwrap_or_default().to_owned();
                let at = t["at"].as_str().unwrap_or_default().to_owned();
                if let Ok(mut s) = seen.lock() {
                    s.push((subject, to, at));
                }
            }
        }
    });
    Follower { handle, connected }
}

/// `opsfloor fleet` (five services on port 0) whose kill switch a thread toggles
/// every `every`, and a floor inventory for it (always open, 200 ms polls, OFFLINE
/// after one failure). The fleet stops flapping and exits when dropped.
pub struct FlappingFleet {
    /// The floor's inventory.
    pub inventory: std::path::PathBuf,
    flapping: std::sync::Arc<std::sync::atomic::AtomicBool>,
    flapper: Option<std::thread::JoinHandle<()>>,
    _fleet: Spawned,
}

impl FlappingFleet {
    /// Starts the fleet in `dir` and waits for its inventory.
    pub fn start(dir: &std::path::Path, every: std::time::Duration) -> FlappingFleet {
        use std::sync::atomic::{AtomicBool, Ordering};
        let control = dir.join("control");
        let fleet_inventory = dir.join("fleet.toml");
        let mut fleet = std::process::Command::new(env!("CARGO_BIN_EXE_opsfloor"));
        fleet
            .args(["fleet", "--base-port", "0"])
            .arg("--dir")
            .arg(&control)
            .arg("--write-inventory")
            .arg(&fleet_inventory);
        let mut fleet = Spawned::new(fleet);
        fleet.wait_for(
            "the fleet's inventory",
            std::time::Duration::from_secs(20),
            |_| (inventory_urls(&fleet_inventory).len() == 5).then_some(()),
        );
        let inventory = dir.join("floor.toml");
        let services = std::fs::read_to_string(&fleet_inventory).expect("fleet inventory");
        std::fs::write(
            &inventory,
            format!("[floor]\ncalendar = \"always-open\"\npoll_interval_ms = 200\ntimeout_ms = 500\nfailure_threshold = 1\n{services}"),
        )
        .expect("inventory");
        let flapping = std::sync::Arc::new(AtomicBool::new(true));
        let flapper = {
            let flapping = std::sync::Arc::clone(&flapping);
            let switch = control.join("kill-switch");
            std::thread::spawn(move || {
                let mut on = false;
                while flapping.load(Ordering::Relaxed) {
                    on = !on;
                    let _ = std::fs::write(&switch, if on { "on\n" } else { "off\n" });
                    std::thread::sleep(every);
                }
            })
        };
        FlappingFleet {
            inventory,
            flapping,
            flapper: Some(flapper),
            _fleet: fleet,
        }
    }

    /// Stops toggling the kill switch (the fleet keeps serving).
    pub fn stop_flapping(&mut self) {
        self.flapping
            .store(false, std::sync::atomic::Ordering::Relaxed);
        if let Some(flapper) = self.flapper.take() {
            let _ = flapper.join();
        }
    }
}

impl Drop for FlappingFleet {
    fn drop(&mut self) {
        self.stop_flapping();
    }
}
