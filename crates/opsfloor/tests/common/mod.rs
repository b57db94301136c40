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
