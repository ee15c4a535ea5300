//! The dashboard's server: a listener on 127.0.0.1, a thread per connection (at most
//! [`MAX_CONNECTIONS`]), and a hub that holds the current documents. The file watcher wakes
//! one updater thread, which recomputes the documents once and wakes every open event stream.

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::time::Duration;

use serde::Serialize;

use super::document::{Computed, Source};
use super::http::{self, Bad, Status};
use super::watch;
use crate::error::{Error, Result};
use crate::workspace::Workspace;

/// The port tried first, then the next ones (Spec Kitty's dashboard uses the same).
pub const DEFAULT_PORT: u16 = 9237;
/// How many ports after [`DEFAULT_PORT`] are tried when no port is named.
const PORT_TRIES: u16 = 20;
/// Open connections (event streams included) beyond which requests get a 503.
pub const MAX_CONNECTIONS: usize = 128;
/// An idle event stream gets a comment this often, so a closed page is noticed.
const KEEPALIVE: Duration = Duration::from_secs(15);
/// Connection threads need little stack: they parse a request head and copy bytes.
const THREAD_STACK: usize = 256 * 1024;

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

/// Where the dashboard serves, once it does (`dashboard --json` prints it).
#[derive(Debug, Clone, Serialize)]
pub struct Ready {
    pub url: String,
    pub address: String,
    pub port: u16,
    /// The default port, when it was taken and the next free one is used instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instead_of: Option<u16>,
}

/// A bound, ready server that is not accepting yet.
pub struct Server {
    listener: TcpListener,
    hub: Arc<Hub>,
    cwd: PathBuf,
    pub ready: Ready,
}

/// Bind to `port` on 127.0.0.1 (or the first free one from [`DEFAULT_PORT`]), compute the
/// first documents and start watching the repository around `cwd`.
pub fn start(cwd: &Path, port: Option<u16>) -> Result<Server> {
    let ws = Workspace::open(cwd, None)?;
    let targets = watch::Targets::of(&ws);
    // Read from the worktree the plan comes from from now on: the one the dashboard was
    // started in may be a WP's, which `merge` or `abandon` can remove while it runs.
    let cwd = ws.plan_root.clone();
    drop(ws);
    // The process itself leaves it too: git (and gix) resolve paths against the current
    // directory, which fails once that directory is gone.
    std::env::set_current_dir(&cwd)
        .map_err(|e| Error::failed(format!("cannot run in {}", cwd.display())).cause(e))?;
    let cwd = cwd.as_path();
    let (listener, instead_of) = bind(port)?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::failed("cannot read the listening address").cause(e))?
        .port();

    let (wake, woken) = mpsc::sync_channel::<()>(1);
    // Watch before the first computation: a change made meanwhile wakes the updater.
    watch::start(targets, move || {
        // Full means a recomputation is already due: it will see this change too.
        let _ = wake.try_send(());
    })?;
    let mut source = Source::new(cwd);
    let hub = Arc::new(Hub::new(port));
    hub.publish(source.compute()?);
    let updater = Arc::clone(&hub);
    std::thread::Builder::new()
        .name("kitty-update".into())
        .spawn(move || {
            while woken.recv().is_ok() {
                match source.compute() {
                    Ok(computed) => {
                        updater.publish(computed);
                    }
                    Err(e) => {
                        let _ = writeln!(
                            std::io::stderr(),
                            "warning: the board could not be read again: {}",
                            e.message
                        );
                    }
                }
            }
        })
        .map_err(|e| Error::failed("cannot start the dashboard").cause(e))?;
    Ok(Server {
        listener,
        hub,
        cwd: cwd.to_path_buf(),
        ready: Ready {
            url: format!("http://127.0.0.1:{port}/"),
            address: "127.0.0.1".into(),
            port,
            instead_of,
        },
    })
}

impl Server {
    /// Accept connections from a thread of its own until [`Stopper::stop`].
    pub fn serve(self) -> Result<Stopper> {
        let hub = Arc::clone(&self.hub);
        let cwd = Arc::new(self.cwd);
        let listener = self.listener;
        std::thread::Builder::new()
            .name("kitty-accept".into())
            .spawn(move || accept_loop(&listener, &hub, &cwd))
            .map_err(|e| Error::failed("cannot start the dashboard").cause(e))?;
        Ok(Stopper { hub: self.hub })
    }
}

/// Ends every event stream (so pages see the server stop).
pub struct Stopper {
    hub: Arc<Hub>,
}

impl Stopper {
    pub fn stop(&self) {
        self.hub.lock().stopping = true;
        self.hub.changed.notify_all();
    }
}

fn bind(port: Option<u16>) -> Result<(TcpListener, Option<u16>)> {
    let at = |p: u16| TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, p));
    let cannot = |p: u16, e: std::io::Error| {
        Error::failed(format!("cannot listen on 127.0.0.1:{p}")).cause(e)
    };
    if let Some(p) = port {
        return match at(p) {
            Ok(l) => Ok((l, None)),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(Error::usage(format!(
                "port {p} on 127.0.0.1 is in use (another dashboard, or another program)"
            ))
            .hint(format!(
                "pick another: `git kitty dashboard --port {}`, or `--port 0` for any free port",
                p.wrapping_add(1).max(1024)
            ))),
            Err(e) => Err(cannot(p, e)),
        };
    }
    for p in DEFAULT_PORT..DEFAULT_PORT + PORT_TRIES {
        match at(p) {
            Ok(l) => return Ok((l, (p != DEFAULT_PORT).then_some(DEFAULT_PORT))),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {}
            Err(e) => return Err(cannot(p, e)),
        }
    }
    at(0)
        .map(|l| (l, Some(DEFAULT_PORT)))
        .map_err(|e| cannot(0, e))
}

/// The current documents, shared by every connection.
struct Hub {
    current: Mutex<Current>,
    changed: Condvar,
    /// Open connections.
    open: AtomicUsize,
    /// The `Host` values a request may carry: this server's address, by number or name.
    hosts: [String; 2],
}

struct Current {
    /// Bumped whenever the document changes; also the event id of the stream.
    version: u64,
    board: Arc<String>,
    document: Arc<String>,
    /// The event a stream sends for this version.
    frame: Arc<String>,
    /// The last document without its version and time, to tell a real change.
    content: String,
    stopping: bool,
}

impl Hub {
    fn new(port: u16) -> Hub {
        Hub {
            current: Mutex::new(Current {
                version: 0,
                board: Arc::default(),
                document: Arc::default(),
                frame: Arc::default(),
                content: String::new(),
                stopping: false,
            }),
            changed: Condvar::new(),
            open: AtomicUsize::new(0),
            hosts: [format!("127.0.0.1:{port}"), format!("localhost:{port}")],
        }
    }

    fn lock(&self) -> MutexGuard<'_, Current> {
        // A panicking connection thread cannot leave the documents half-written: every
        // field is replaced whole. Keep serving.
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Make `computed` current if it differs from what is; wake every stream. Returns whether
    /// it was a change.
    fn publish(&self, computed: Computed) -> bool {
        let content = serde_json::to_string(&computed.document).unwrap_or_default();
        let mut current = self.lock();
        if current.version > 0 && content == current.content {
            return false;
        }
        let version = current.version + 1;
        let mut document = serde_json::Map::new();
        document.insert("schema".into(), 1.into());
        document.insert("version".into(), version.into());
        document.insert(
            "generated_at".into(),
            crate::util::time::format_rfc3339(crate::util::time::now_nanos()).into(),
        );
        document.extend(computed.document);
        let document = serde_json::to_string(&document).unwrap_or_default();
        current.frame = Arc::new(format!("id: {version}\nevent: board\ndata: {document}\n\n"));
        current.document = Arc::new(document);
        current.board = Arc::new(computed.board);
        current.content = content;
        current.version = version;
        drop(current);
        self.changed.notify_all();
        true
    }
}

fn accept_loop(listener: &TcpListener, hub: &Arc<Hub>, cwd: &Arc<PathBuf>) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        if hub.open.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
            http::respond_text(
                &mut stream,
                Status::Unavailable,
                "too many open connections",
            );
            continue;
        }
        hub.open.fetch_add(1, Ordering::SeqCst);
        let (own_hub, own_cwd) = (Arc::clone(hub), Arc::clone(cwd));
        let spawned = std::thread::Builder::new()
            .name("kitty-conn".into())
            .stack_size(THREAD_STACK)
            .spawn(move || {
                handle(stream, &own_hub, &own_cwd);
                own_hub.open.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            // Out of threads: the connection is dropped (closed) with the closure.
            hub.open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Answer one connection.
fn handle(mut stream: TcpStream, hub: &Hub, cwd: &Path) {
    let request = match http::read_request(&mut stream) {
        Ok(r) => r,
        Err(Bad::Gone) => return,
        Err(Bad::TooLarge) => {
            return http::respond_text(&mut stream, Status::HeadersTooLarge, "request too large");
        }
        Err(Bad::Malformed(why)) => {
            return http::respond_text(&mut stream, Status::BadRequest, why);
        }
    };
    // DNS rebinding: a page from elsewhere whose name now resolves to 127.0.0.1 sends its own
    // name as Host. Only this server's own address is accepted.
    let host_ok = request
        .host
        .as_deref()
        .is_some_and(|h| hub.hosts.iter().any(|ok| ok.eq_ignore_ascii_case(h)));
    if !host_ok {
        let text = format!(
            "git kitty dashboard answers only requests for http://{}/ (Host: {})",
            hub.hosts[0],
            request.host.as_deref().unwrap_or("missing")
        );
        return http::respond_text(&mut stream, Status::Forbidden, &text);
    }
    let head_only = match request.method.as_str() {
        "GET" => false,
        "HEAD" => true,
        _ => {
            return http::respond_text(
                &mut stream,
                Status::MethodNotAllowed,
                "the dashboard is read-only: GET and HEAD only",
            );
        }
    };
    route(&mut stream, &request.path, head_only, hub, cwd);
}

fn route(stream: &mut TcpStream, path: &str, head_only: bool, hub: &Hub, cwd: &Path) {
    const JSON: &str = "application/json";
    let mut send = |content_type: &str, body: &[u8]| {
        let _ = http::respond(stream, Status::Ok, content_type, body, head_only);
    };
    match path {
        "/" | "/index.html" => send("text/html; charset=utf-8", INDEX_HTML.as_bytes()),
        "/app.js" => send("text/javascript; charset=utf-8", APP_JS.as_bytes()),
        "/app.css" => send("text/css; charset=utf-8", APP_CSS.as_bytes()),
        "/api/board" => {
            let board = Arc::clone(&hub.lock().board);
            send(JSON, board.as_bytes());
        }
        "/api/dashboard" => {
            let document = Arc::clone(&hub.lock().document);
            send(JSON, document.as_bytes());
        }
        "/api/events" if head_only => send("text/event-stream", b""),
        "/api/events" => event_stream(stream, hub),
        _ => match path
            .strip_prefix("/api/wp/")
            .and_then(|r| r.split_once('/'))
        {
            Some((feature, wp)) => match super::detail::detail(cwd, feature, wp) {
                Ok(Some(json)) => send(JSON, json.as_bytes()),
                Ok(None) => http::respond_text(stream, Status::NotFound, "no such work package"),
                Err(e) => http::respond_text(stream, Status::InternalError, &e.message),
            },
            None => http::respond_text(stream, Status::NotFound, "not found"),
        },
    }
}

/// Send the current document now, then each new one, until the page goes away or the
/// server stops.
fn event_stream(stream: &mut TcpStream, hub: &Hub) {
    if http::start_event_stream(stream).is_err() {
        return;
    }
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    // A page that lost the stream tries again after a second.
    if stream.write_all(b"retry: 1000\n\n").is_err() {
        return;
    }
    let mut sent = 0;
    loop {
        let next = {
            let mut current = hub.lock();
            while current.version == sent && !current.stopping {
                let (guard, waited) = hub
                    .changed
                    .wait_timeout(current, KEEPALIVE)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                current = guard;
                if waited.timed_out() {
                    break;
                }
            }
            if current.stopping {
                return;
            }
            (current.version != sent).then(|| (current.version, Arc::clone(&current.frame)))
        };
        let written = match next {
            Some((version, frame)) => {
                sent = version;
                stream.write_all(frame.as_bytes())
            }
            None => stream.write_all(b": keepalive\n\n"),
        };
        if written.and_then(|()| stream.flush()).is_err() {
            return;
        }
    }
}
