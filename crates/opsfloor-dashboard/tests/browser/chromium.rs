//! Headless Chromium driven through the DevTools protocol: a small hand-written
//! client over the browser's websocket (commands by id, events broadcast), and a
//! tab attached with a flat session.
//!
//! The browser is Debian's chromium, at `$OPSFLOOR_CHROMIUM` (set by
//! `scripts/test`) or `chromium` on the PATH. A missing browser fails the test with
//! what to run; it never skips. The browser is killed when [`Browser`] drops, on a
//! panic too.

#![allow(dead_code, missing_docs)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long one DevTools command may take before the test fails.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, Value>>>>>;
type Sink = SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, Message>;

/// The chromium binary: `$OPSFLOOR_CHROMIUM`, else `chromium` on the PATH.
pub fn chromium_path() -> PathBuf {
    const HOW: &str = "The dashboard's browser tests need Debian's chromium. Run `./scripts/test` \
                       (it installs chromium and axe-core, then runs every test), or set \
                       OPSFLOOR_CHROMIUM to a chromium binary.";
    if let Some(path) = std::env::var_os("OPSFLOOR_CHROMIUM").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "OPSFLOOR_CHROMIUM={} is not a file. {HOW}",
            path.display()
        );
        return path;
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromium"))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| panic!("chromium was not found on the PATH. {HOW}"))
}

/// A headless Chromium and the DevTools connection to it.
pub struct Browser {
    child: Child,
    profile: tempfile::TempDir,
    sink: tokio::sync::Mutex<Sink>,
    pending: Pending,
    events: broadcast::Sender<Value>,
    next_id: AtomicU64,
    reader: JoinHandle<()>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.reader.abort();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    /// Starts chromium headless with a fresh profile and connects to it.
    pub async fn launch() -> Browser {
        let path = chromium_path();
        let profile = tempfile::tempdir().expect("a temporary profile directory");
        let mut child = Command::new(&path)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--mute-audio",
                "--hide-scrollbars",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "could not start {}: {e}. Run `./scripts/test`, which installs chromium.",
                    path.display()
                )
            });

        // The DevTools address is printed on stderr; keep draining it afterwards so
        // that chromium never blocks on a full pipe, and keep it for failure messages.
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let (found, address) = oneshot::channel();
        {
            let pipe = child.stderr.take().expect("stderr is piped");
            let lines = Arc::clone(&stderr);
            std::thread::spawn(move || {
                let mut found = Some(found);
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Some(at) = line.find("ws://")
                        && line.contains("DevTools listening on")
                        && let Some(tx) = found.take()
                    {
                        let _ = tx.send(line[at..].trim().to_owned());
                    }
                    if let Ok(mut l) = lines.lock() {
                        l.push(line);
                    }
                }
            });
        }
        let url = match tokio::time::timeout(Duration::from_secs(30), address).await {
            Ok(Ok(url)) => url,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} did not print its DevTools address within 30 s; its stderr:\n{}",
                    path.display(),
                    stderr.lock().map(|l| l.join("\n")).unwrap_or_default()
                );
            }
        };
        let (socket, _) = match tokio_tungstenite::connect_async(url.as_str()).await {
            Ok(s) => s,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("connecting to chromium's DevTools at {url}: {e}");
            }
        };
        let (sink, mut stream) = socket.split();
        let pending: Pending = Arc::default();
        let (events, _) = broadcast::channel(4096);
        let reader = {
            let pending = Arc::clone(&pending);
            let events = events.clone();
            tokio::spawn(async move {
                while let Some(Ok(message)) = stream.next().await {
                    let Message::Text(text) = message else {
                        continue;
                    };
                    let Ok(value) = serde_json::from_str::<Value>(text.as_str()) else {
                        continue;
                    };
                    if let Some(id) = value.get("id").and_then(Value::as_u64) {
                        let waiter = pending.lock().ok().and_then(|mut p| p.remove(&id));
                        if let Some(tx) = waiter {
                            let answer = match value.get("error") {
                                Some(e) => Err(e.clone()),
                                None => Ok(value.get("result").cloned().unwrap_or(Value::Null)),
                            };
                            let _ = tx.send(answer);
                        }
                    } else {
                        let _ = events.send(value);
                    }
                }
                // The connection ended: fail whoever still waits.
                if let Ok(mut p) = pending.lock() {
                    p.clear();
                }
            })
        };
        Browser {
            child,
            profile,
            sink: tokio::sync::Mutex::new(sink),
            pending,
            events,
            next_id: AtomicU64::new(1),
            reader,
            stderr,
        }
    }

    /// Sends one command (to a tab when `session` is given) and waits for its result.
    pub async fn call(&self, session: Option<&str>, method: &str, params: Value) -> Value {
        match self.try_call(session, method, params).await {
            Ok(v) => v,
            Err(e) => panic!("DevTools {method} failed: {e}"),
        }
    }

    /// Like [`Browser::call`], with the protocol's error as an `Err`.
    pub async fn try_call(
        &self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        let (tx, rx) = oneshot::channel();
        self.pending.lock().expect("pending").insert(id, tx);
        self.sink
            .lock()
            .await
            .send(Message::text(message.to_string()))
            .await
            .unwrap_or_else(|e| panic!("sending {method} to chromium: {e}"));
        match tokio::time::timeout(COMMAND_TIMEOUT, rx).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => panic!(
                "chromium closed the DevTools connection during {method}; its stderr:\n{}",
                self.stderr_text()
            ),
            Err(_) => panic!("DevTools {method} took more than {COMMAND_TIMEOUT:?}"),
        }
    }

    /// What chromium printed on stderr so far.
    pub fn stderr_text(&self) -> String {
        self.stderr.lock().map(|l| l.join("\n")).unwrap_or_default()
    }

    /// A new tab (about:blank), attached with a flat session, its page domain on.
    pub async fn tab(&self) -> Tab<'_> {
        let target = self
            .call(None, "Target.createTarget", json!({ "url": "about:blank" }))
            .await["targetId"]
            .as_str()
            .expect("targetId")
            .to_owned();
        let session = self
            .call(
                None,
                "Target.attachToTarget",
                json!({ "targetId": target, "flatten": true }),
            )
            .await["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_owned();
        let tab = Tab {
            browser: self,
            target,
            session,
        };
        tab.call("Page.enable", json!({})).await;
        tab
    }
}

/// One tab of the browser.
pub struct Tab<'b> {
    browser: &'b Browser,
    target: String,
    session: String,
}

impl Tab<'_> {
    /// A command to this tab.
    pub async fn call(&self, method: &str, params: Value) -> Value {
        self.browser.call(Some(&self.session), method, params).await
    }

    /// Sets the viewport (CSS pixels), as a phone when `mobile`.
    pub async fn viewport(&self, width: u32, height: u32, scale: f64, mobile: bool) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile }),
        )
        .await;
    }

    /// Emulates `prefers-color-scheme` (`"light"` or `"dark"`).
    pub async fn color_scheme(&self, scheme: &str) {
        self.call(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        )
        .await;
    }

    /// Navigates to `url` and waits for its load event.
    pub async fn goto(&self, url: &str) {
        let mut events = self.browser.events.subscribe();
        let answer = self.call("Page.navigate", json!({ "url": url })).await;
        if let Some(error) = answer.get("errorText").and_then(Value::as_str) {
            panic!("navigating to {url}: {error}");
        }
        let session = self.session.clone();
        let loaded = async {
            loop {
                match events.recv().await {
                    Ok(e) if e["method"] == "Page.loadEventFired" && e["sessionId"] == session => {
                        return;
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => {
                        panic!("the DevTools connection closed while loading {url}")
                    }
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), loaded)
            .await
            .unwrap_or_else(|_| panic!("{url} did not finish loading within 20 s"));
    }

    /// Evaluates `expression` in the page (promises awaited) and returns its value as
    /// JSON. An exception fails the test with its text.
    pub async fn eval(&self, expression: &str) -> Value {
        let answer = self
            .call(
                "Runtime.evaluate",
                json!({
                    "expression": expression,
                    "returnByValue": true,
                    "awaitPromise": true,
                }),
            )
            .await;
        if let Some(ex) = answer.get("exceptionDetails") {
            let text = ex["exception"]["description"]
                .as_str()
                .or_else(|| ex["text"].as_str())
                .unwrap_or("?");
            let shown: String = expression.chars().take(200).collect();
            panic!("evaluating {shown:?} threw: {text}");
        }
        answer["result"]["value"].clone()
    }

    /// Saves a PNG of the viewport at `path` (creating its directory).
    pub async fn screenshot(&self, path: &Path) {
        let answer = self
            .call(
                "Page.captureScreenshot",
                json!({ "format": "png", "captureBeyondViewport": false }),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(answer["data"].as_str().expect("screenshot data"))
            .expect("the screenshot is base64");
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create the screenshot directory");
        }
        std::fs::write(path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    /// Closes the tab.
    pub async fn close(self) {
        let _ = self
            .browser
            .try_call(
                None,
                "Target.closeTarget",
                json!({ "targetId": self.target }),
            )
            .await;
    }
}
