//! Headless Chromium driven over the DevTools protocol, through a pipe
//! (`--remote-debugging-pipe`: commands on the browser's fd 3, answers on its fd 4, one JSON
//! message per NUL byte). No WebSocket and no driver binary: a few dozen lines.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Where test artifacts (screenshots) go: under target/.
pub fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The Chromium binary: `$KITTY_CHROMIUM`, else `chromium`, `chromium-browser` or
/// `google-chrome` on PATH.
pub fn find() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KITTY_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// A browser, or `None` (with the reason printed) when there is none and this is not CI.
/// In CI (`CI=true`) a missing browser fails the test: it must never pass by skipping.
pub fn browser_or_skip(test: &str) -> Option<Browser> {
    match find() {
        Some(bin) => Some(Browser::launch(&bin)),
        None if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
            panic!("{test}: chromium is required in CI (apt-get install chromium); none on PATH")
        }
        None => {
            eprintln!("skipping {test}: no chromium on PATH (apt-get install chromium)");
            None
        }
    }
}

pub struct Browser {
    child: Child,
    commands: ChildStdin,
    messages: mpsc::Receiver<Value>,
    /// Protocol events received while waiting for answers, oldest first.
    pub events: Vec<Value>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub fn launch(bin: &Path) -> Browser {
        let profile = tempfile::Builder::new()
            .prefix("kitty-chromium-")
            .tempdir()
            .unwrap();
        // fd 3 <- our stdin (commands), fd 4 -> our stdout (answers); the browser's own
        // stdout and stderr go to a log file.
        let log = profile.path().join("chromium.log");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(r#"log=$1; shift; exec "$@" 3<&0 4>&1 0</dev/null 1>>"$log" 2>&1"#)
            .arg("sh")
            .arg(&log)
            .arg(bin)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--mute-audio",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .env("HOME", profile.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        let commands = child.stdin.take().unwrap();
        let mut answers = child.stdout.take().unwrap();
        let (tx, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 65536];
            while let Ok(n) = answers.read(&mut chunk) {
                if n == 0 {
                    return;
                }
                buf.extend_from_slice(&chunk[..n]);
                while let Some(end) = buf.iter().position(|b| *b == 0) {
                    let message: Vec<u8> = buf.drain(..=end).take(end).collect();
                    if let Ok(v) = serde_json::from_slice(&message)
                        && tx.send(v).is_err()
                    {
                        return;
                    }
                }
            }
        });
        Browser {
            child,
            commands,
            messages,
            events: Vec::new(),
            next_id: 0,
            _profile: profile,
        }
    }

    /// Send a command and wait for its answer (`result`); panics on a protocol error.
    pub fn call(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            message["sessionId"] = s.into();
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.commands.write_all(&bytes).unwrap();
        self.commands.flush().unwrap();
        loop {
            let m = self
                .messages
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("chromium did not answer {method}"));
            if m["id"] == id {
                assert!(m.get("error").is_none(), "{method}: {}", m["error"]);
                return m["result"].clone();
            }
            self.events.push(m);
        }
    }

    /// Open `url` in a new tab and attach to it.
    pub fn open(&mut self, url: &str) -> Page<'_> {
        let target = self.call("Target.createTarget", json!({"url": "about:blank"}), None);
        let attached = self.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
            None,
        );
        let session = attached["sessionId"].as_str().unwrap().to_owned();
        let mut page = Page {
            browser: self,
            session,
        };
        page.call("Page.enable", json!({}));
        page.call("Runtime.enable", json!({}));
        // Anything that tries to raise a dialog is recorded, not shown.
        page.call(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": "window.__dialogs = []; for (const f of ['alert', 'confirm', 'prompt']) window[f] = (m) => { window.__dialogs.push(String(m)); };"}),
        );
        page.set_size(1440, 1000);
        page.call("Page.navigate", json!({"url": url}));
        page
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.next_id += 1;
        let close = json!({"id": self.next_id, "method": "Browser.close", "params": {}});
        let mut bytes = serde_json::to_vec(&close).unwrap();
        bytes.push(0);
        let _ = self.commands.write_all(&bytes);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One tab.
pub struct Page<'b> {
    browser: &'b mut Browser,
    session: String,
}

impl Page<'_> {
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        self.browser.call(method, params, Some(&session))
    }

    /// The protocol events received for this tab so far.
    pub fn events(&self) -> Vec<Value> {
        self.browser
            .events
            .iter()
            .filter(|e| e["sessionId"] == self.session.as_str())
            .cloned()
            .collect()
    }

    /// Evaluate `expression` in the page (promises awaited) and return its value as JSON.
    pub fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        assert!(
            r.get("exceptionDetails").is_none(),
            "{expression}: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }

    /// Evaluate `expression` until it is truthy; its value, or a panic after `timeout`.
    pub fn wait_for(&mut self, expression: &str, timeout: Duration) -> Value {
        let start = Instant::now();
        loop {
            let v = self.eval(expression);
            let truthy =
                !matches!(&v, Value::Null | Value::Bool(false)) && v != json!(0) && v != json!("");
            if truthy {
                return v;
            }
            assert!(
                start.elapsed() < timeout,
                "waited {timeout:?} for {expression}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn set_size(&mut self, width: u32, height: u32) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
    }

    /// A PNG of the whole page (the viewport grown to the document's height) into `path`.
    pub fn screenshot(&mut self, path: &Path) {
        let height = self
            .eval("document.documentElement.scrollHeight")
            .as_u64()
            .unwrap_or(1000);
        self.set_size(1440, u32::try_from(height.clamp(600, 4000)).unwrap());
        // Let layout settle at the new size.
        self.eval("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))");
        let shot = self.call("Page.captureScreenshot", json!({"format": "png"}));
        let png = base64_decode(shot["data"].as_str().unwrap());
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::write(path, png).unwrap();
        self.set_size(1440, 1000);
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let v: Vec<u32> = chunk.iter().map(|c| u32::from(value(*c))).collect();
        let n = v
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, x)| acc | (x << (18 - 6 * i)));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    out
}

#[test]
fn base64_round_trip() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("aGk="), b"hi");
    assert_eq!(base64_decode("YWJj"), b"abc");
}
