//! A running `git kitty dashboard` and a plain HTTP client for it (raw sockets: the tests
//! see exactly the bytes a browser would).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::Repo;

/// A dashboard started with `--port 0 --json`, stopped (SIGKILL) when dropped.
pub struct Dashboard {
    child: Child,
    pub url: String,
    pub port: u16,
    pub ready: serde_json::Value,
    stderr: Arc<Mutex<String>>,
}

impl Dashboard {
    /// `git kitty dashboard --port 0 --json` in the repository root.
    pub fn start(repo: &Repo) -> Dashboard {
        Dashboard::start_in(repo, &repo.root, &["--port", "0"], &[])
    }

    /// `git kitty dashboard --json <args>` in `dir`, with extra environment.
    pub fn start_in(repo: &Repo, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Dashboard {
        let mut all = vec!["dashboard", "--json"];
        all.extend_from_slice(args);
        let mut cmd = repo.kitty_command(dir, &all);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the dashboard");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().unwrap();
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(out).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let ready: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| {
            let _ = child.kill();
            std::thread::sleep(Duration::from_millis(100));
            panic!(
                "the dashboard did not say where it serves: {line:?}\n--- stderr\n{}",
                stderr.lock().unwrap()
            )
        });
        Dashboard {
            url: ready["url"].as_str().unwrap().to_owned(),
            port: u16::try_from(ready["port"].as_u64().unwrap()).unwrap(),
            ready,
            child,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// `GET path` with this server's own Host.
    pub fn get(&self, path: &str) -> Response {
        self.request(&format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.port
        ))
    }

    /// Send `raw` as is and read the whole answer.
    pub fn request(&self, raw: &str) -> Response {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        let mut bytes = Vec::new();
        let _ = s.read_to_end(&mut bytes);
        Response::parse(&bytes)
    }

    /// Resident memory of the server process, in KiB: all of it (`VmRSS` in /proc) and the
    /// part it allocated (`RssAnon`: without the pages of its binary and libraries, which grow
    /// as code runs for the first time).
    pub fn rss_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap()
        };
        (field("VmRSS:"), field("RssAnon:"))
    }

    /// Ctrl-C (SIGINT), then wait for the process: its exit status and stderr.
    pub fn interrupt(mut self) -> (ExitStatus, String) {
        let kill = std::process::Command::new("kill")
            .args(["-INT", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50));
                return (status, self.stderr());
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "the dashboard did not stop on SIGINT"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer, split.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Response {
    fn parse(bytes: &[u8]) -> Response {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Response {
            status,
            head: head.to_owned(),
            body: body.to_owned(),
        }
    }

    /// A header's value (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.head, self.body))
    }
}

/// One `GET /api/events` stream, read event by event.
pub struct Events {
    reader: BufReader<TcpStream>,
    pub head: String,
}

/// One Server-Sent Event.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

impl Event {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap()
    }
}

impl Events {
    pub fn open(port: u16) -> Events {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.write_all(
            format!("GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut reader = BufReader::new(s);
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            head.push_str(&line);
        }
        Events { reader, head }
    }

    /// The next event with data (`retry:` and comments are skipped); `None` when the stream
    /// ends or nothing comes within the read timeout.
    pub fn next(&mut self) -> Option<Event> {
        let mut event = Event {
            id: None,
            event: None,
            data: String::new(),
        };
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if !event.data.is_empty() {
                    return Some(event);
                }
                continue;
            }
            match line.split_once(':') {
                Some(("id", v)) => event.id = Some(v.trim_start().to_owned()),
                Some(("event", v)) => event.event = Some(v.trim_start().to_owned()),
                Some(("data", v)) => event.data.push_str(v.strip_prefix(' ').unwrap_or(v)),
                _ => {}
            }
        }
    }

    pub fn set_timeout(&mut self, t: Duration) {
        self.reader.get_ref().set_read_timeout(Some(t)).unwrap();
    }
}

/// The lane the dashboard's document (or `/api/board`) gives `feature`/`id`.
pub fn lane_in(board: &serde_json::Value, feature: &str, id: &str) -> String {
    super::wp(board, feature, id)["lane"]
        .as_str()
        .unwrap()
        .to_owned()
}
