//! `git kitty dashboard` over plain HTTP: the endpoints, the safety rules, the live stream,
//! the errors, and a bounded load test. The page itself is tested in a browser (browser.rs).

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::common::live::{Dashboard, Events, lane_in};
use crate::common::{Repo, Run};

#[test]
fn api_board_is_exactly_status_json() {
    let repo = Repo::with_fixture("example");
    repo.kitty(&["lane", "WP02", "claimed", "-f", "002-search"])
        .ok();
    let dash = Dashboard::start(&repo);
    assert_eq!(
        dash.ready,
        serde_json::json!({"url": dash.url, "address": "127.0.0.1", "port": dash.port})
    );
    let board = dash.get("/api/board");
    assert_eq!(board.status, 200);
    assert_eq!(board.header("content-type"), Some("application/json"));
    let status = repo
        .kitty(&["status", "--json", "--all"])
        .ok()
        .stdout
        .clone();
    assert_eq!(
        board.body, status,
        "/api/board is `status --json --all`, byte for byte"
    );

    let doc = dash.get("/api/dashboard").json();
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["board"], board.json());
    assert_eq!(doc["repository"], "repo");
    assert_eq!(doc["activity"][0]["wp"], "WP02");
    assert_eq!(doc["activity"][0]["to"], "claimed");
    assert_eq!(doc["agents"][0]["name"], "tester");
    let checkout = &doc["features"][0];
    assert_eq!(checkout["slug"], "001-checkout");
    assert_eq!(
        checkout["graph"]["critical_path"],
        serde_json::json!(["WP02", "WP04", "WP06"])
    );
    assert!(
        checkout["graph"]["edges"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(["WP03", "WP04"]))
    );
}

#[test]
fn the_page_loads_only_its_own_files_under_a_strict_policy() {
    let repo = Repo::with_fixture("linear");
    let dash = Dashboard::start(&repo);
    let page = dash.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        page.body
            .contains(r#"<script src="/app.js" defer></script>"#)
    );
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.starts_with("default-src 'none'; script-src 'self'; style-src 'self';"));
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("connection"), Some("close"));
    for (path, kind) in [
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/app.css", "text/css; charset=utf-8"),
    ] {
        let asset = dash.get(path);
        assert_eq!(asset.status, 200, "{path}");
        assert_eq!(asset.header("content-type"), Some(kind));
    }
    // Nothing from the network: no absolute URL in the page, its script or its style (but
    // SVG's namespace name, which is a name), no imports, no HTML parsing of data.
    for path in ["/", "/app.js", "/app.css"] {
        let body = dash.get(path).body;
        let urls: Vec<&str> = body
            .match_indices("//")
            .map(|(i, _)| &body[i.saturating_sub(6)..(i + 30).min(body.len())])
            .filter(|s| s.contains("://") && !s.contains("http://www.w3.org/2000/svg"))
            .collect();
        assert!(urls.is_empty(), "{path} names {urls:?}");
        for risky in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "@import",
            "url(",
            "eval(",
        ] {
            assert!(!body.contains(risky), "{path} uses {risky}");
        }
    }
    let head = dash.request(&format!(
        "HEAD /api/board HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
        dash.port
    ));
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[test]
fn only_requests_for_its_own_address_are_answered() {
    let repo = Repo::with_fixture("linear");
    let dash = Dashboard::start(&repo);
    let port = dash.port;
    let ask = |raw: String| dash.request(&raw);

    // DNS rebinding: evil.example resolves to 127.0.0.1, but the browser says evil.example.
    let r = ask(format!(
        "GET /api/board HTTP/1.1\r\nHost: evil.example:{port}\r\n\r\n"
    ));
    assert_eq!(r.status, 403);
    assert_eq!(
        r.body,
        format!(
            "git kitty dashboard answers only requests for http://127.0.0.1:{port}/ (Host: evil.example:{port})\n"
        )
    );
    for host in [
        format!("127.0.0.1:{}", port.wrapping_add(1)),
        "127.0.0.1".to_owned(),
        format!("0.0.0.0:{port}"),
    ] {
        let r = ask(format!("GET / HTTP/1.1\r\nHost: {host}\r\n\r\n"));
        assert_eq!(r.status, 403, "Host: {host}");
    }
    let r = ask("GET / HTTP/1.1\r\n\r\n".into());
    assert_eq!(r.status, 403, "no Host at all");
    let r = ask(format!("GET / HTTP/1.1\r\nHost: LOCALHOST:{port}\r\n\r\n"));
    assert_eq!(r.status, 200, "localhost is this address too");

    let r = ask(format!(
        "GET http://evil.example/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    ));
    assert_eq!(
        (r.status, r.body.as_str()),
        (400, "the target must be a path\n")
    );
    let r = ask(format!(
        "POST /api/board HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 2\r\n\r\n{{}}"
    ));
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    assert_eq!(r.body, "the dashboard is read-only: GET and HEAD only\n");
    let r = ask(format!(
        "GET /../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n"
    ));
    assert_eq!(r.status, 404);
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Pad: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    assert_eq!(ask(huge).status, 431);
}

#[test]
fn each_change_is_pushed_to_every_open_stream() {
    let repo = Repo::with_fixture("fan-out");
    let dash = Dashboard::start(&repo);
    let mut a = Events::open(dash.port);
    let mut b = Events::open(dash.port);
    assert!(a.head.starts_with("HTTP/1.1 200 OK\r\n"));
    assert!(a.head.contains("Content-Type: text/event-stream"));
    let first = a.next().unwrap();
    assert_eq!(
        (first.id.as_deref(), first.event.as_deref()),
        (Some("1"), Some("board"))
    );
    assert_eq!(
        lane_in(&first.json()["board"], "001-fan-out", "WP01"),
        "planned"
    );
    assert_eq!(b.next().unwrap().id.as_deref(), Some("1"));

    let moved = Instant::now();
    repo.kitty(&["lane", "WP01", "in_progress"]).ok();
    for stream in [&mut a, &mut b] {
        let next = stream.next().unwrap();
        assert_eq!(next.id.as_deref(), Some("2"));
        let doc = next.json();
        assert_eq!(doc["version"], 2);
        assert_eq!(lane_in(&doc["board"], "001-fan-out", "WP01"), "in_progress");
        assert_eq!(doc["activity"][0]["to"], "in_progress");
    }
    assert!(moved.elapsed() < Duration::from_secs(2));

    // An edit of the plan is a change too; an unrelated file is not.
    repo.write("notes.txt", "not part of the plan\n");
    repo.write(
        "kitty-specs/001-fan-out/tasks/WP05-extra.md",
        "---\nwork_package_id: WP05\ntitle: Added later\ndependencies: [WP04]\n---\n",
    );
    let next = a.next().unwrap();
    assert_eq!(next.id.as_deref(), Some("3"));
    assert_eq!(
        crate::common::wp(&next.json()["board"], "001-fan-out", "WP05")["title"],
        "Added later"
    );
    // A state ref packed away by `git pack-refs` is the same board: no event.
    repo.git(&["pack-refs", "--all"]);
    a.set_timeout(Duration::from_millis(600));
    assert!(a.next().is_none(), "no change, no event");
    // A move of a packed ref is seen.
    repo.kitty(&["lane", "WP01", "for_review"]).ok();
    a.set_timeout(Duration::from_secs(5));
    assert_eq!(
        lane_in(&a.next().unwrap().json()["board"], "001-fan-out", "WP01"),
        "for_review"
    );
}

#[test]
fn a_plan_made_after_start_is_seen() {
    let repo = Repo::new();
    let dash = Dashboard::start(&repo);
    let mut events = Events::open(dash.port);
    let first = events.next().unwrap().json();
    assert_eq!(first["board"]["features"], serde_json::json!([]));
    // kitty-specs/ does not exist yet: it is watched through its parent until it does.
    repo.write(
        "kitty-specs/001-late/tasks/WP01-first.md",
        "---\nwork_package_id: WP01\ntitle: First\n---\n",
    );
    let doc = std::iter::from_fn(|| events.next())
        .take(5)
        .map(|e| e.json())
        .find(|d| !d["board"]["features"].as_array().unwrap().is_empty())
        .expect("the new plan reached the stream");
    assert_eq!(lane_in(&doc["board"], "001-late", "WP01"), "planned");
    // And once there, its files are watched too.
    repo.kitty(&["lane", "WP01", "claimed"]).ok();
    repo.write(
        "kitty-specs/001-late/tasks/WP02-second.md",
        "---\nwork_package_id: WP02\ntitle: Second\n---\n",
    );
    let seen = std::iter::from_fn(|| events.next()).take(5).any(|e| {
        crate::common::feature(&e.json()["board"], "001-late")["work_packages"]
            .as_array()
            .unwrap()
            .len()
            == 2
    });
    assert!(seen, "a WP added later reached the stream");
}

#[test]
fn a_wp_in_detail_has_its_prompt_history_branch_and_worktree() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01"]).ok();
    repo.kitty(&["note", "WP01", "<b>not bold</b>"]).ok();
    let dash = Dashboard::start(&repo);
    let detail = dash.get("/api/wp/001-fan-out/WP01");
    assert_eq!(detail.status, 200);
    let d = detail.json();
    assert_eq!(d["id"], "WP01");
    assert_eq!(d["title"], "Core");
    assert_eq!(d["file"], "kitty-specs/001-fan-out/tasks/WP01-core.md");
    assert_eq!(
        d["prompt"],
        "\n# WP01: Core\n\nThe prompt for the agent that implements this work package.\n"
    );
    assert_eq!(d["state"]["branch"], "001-fan-out-WP01");
    assert_eq!(d["state"]["worktree"], ".worktrees/001-fan-out-WP01");
    assert_eq!(
        d["worktree_path"],
        repo.worktree("001-fan-out-WP01").display().to_string()
    );
    let history = d["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["note"], "<b>not bold</b>");
    assert_eq!(history[1]["kind"], "implement");

    for missing in [
        "/api/wp/001-fan-out/WP09",
        "/api/wp/001-fan-out/wp01",
        "/api/wp/nope/WP01",
        "/api/wp/..%2F..%2Fetc/WP01",
        "/api/wp/001-fan-out",
    ] {
        assert_eq!(dash.get(missing).status, 404, "{missing}");
    }
}

#[test]
fn a_port_in_use_is_a_clear_error() {
    let repo = Repo::with_fixture("linear");
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let next = (taken.local_addr().unwrap().port().wrapping_add(1)).max(1024);
    repo.kitty(&["dashboard", "--port", &port])
        .code(2)
        .stderr_is(&format!(
            "error: port {port} on 127.0.0.1 is in use (another dashboard, or another program)\n\
             hint: pick another: `git kitty dashboard --port {next}`, or `--port 0` for any free port\n"
        ));
    let run = repo.kitty(&["dashboard", "--port", &port, "--json"]);
    run.code(2);
    assert_eq!(run.json()["error"]["kind"], "usage");
}

#[test]
fn without_a_port_the_next_free_one_is_used_and_said() {
    let repo = Repo::with_fixture("linear");
    // Hold the default port (unless something else already does: the answer is the same).
    let _held = TcpListener::bind("127.0.0.1:9237");
    let dash = Dashboard::start_in(&repo, &repo.root, &[], &[]);
    assert_ne!(dash.port, 9237);
    assert_eq!(dash.ready["instead_of"], 9237);
    assert_eq!(dash.url, format!("http://127.0.0.1:{}/", dash.port));
    let start = Instant::now();
    while !dash.stderr().contains("instead") && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        dash.stderr(),
        format!(
            "warning: port 9237 is in use: serving on port {} instead\n",
            dash.port
        )
    );
}

#[test]
fn ctrl_c_stops_it_cleanly_and_frees_the_port() {
    let repo = Repo::with_fixture("linear");
    let dash = Dashboard::start(&repo);
    let port = dash.port;
    let mut stream = Events::open(port);
    assert!(stream.next().is_some());
    let (status, stderr) = dash.interrupt();
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(stderr, "Dashboard stopped.\n");
    assert!(stream.next().is_none(), "open streams end");
    TcpListener::bind(("127.0.0.1", port)).expect("the port is free again");
}

#[test]
fn without_json_it_prints_the_url_and_how_to_stop() {
    let repo = Repo::with_fixture("linear");
    let mut child = repo.spawn_kitty(&["dashboard", "--port", "0"]);
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    let port: u16 = line
        .trim()
        .strip_prefix("http://127.0.0.1:")
        .and_then(|r| r.strip_suffix('/'))
        .unwrap()
        .parse()
        .unwrap();
    assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Serving the dashboard (read-only); Ctrl-C stops it.\n"
    );
}

#[test]
fn it_works_from_a_wp_worktree_and_shows_every_feature() {
    let repo = Repo::with_fixture("example");
    repo.kitty(&["implement", "WP02", "-f", "002-search"]).ok();
    let wt = repo.worktree("002-search-WP02");
    let dash = Dashboard::start_in(&repo, &wt, &["--port", "0"], &[]);
    let board = dash.get("/api/board");
    let status = repo
        .kitty(&["status", "--json", "--all"])
        .ok()
        .stdout
        .clone();
    assert_eq!(board.body, status);
    // A move made in the main worktree reaches a dashboard started in the WP's worktree.
    let mut events = Events::open(dash.port);
    events.next().unwrap();
    repo.kitty(&["lane", "WP02", "blocked", "-f", "002-search"])
        .ok();
    let doc = events.next().unwrap().json();
    assert_eq!(lane_in(&doc["board"], "002-search", "WP02"), "blocked");
    // The worktree it was started in goes away: it keeps serving, from the main worktree.
    repo.kitty(&["abandon", "WP02", "-f", "002-search"]).ok();
    assert!(!wt.exists());
    // (Removing the worktree and the branch may show before the release does.)
    let planned = std::iter::from_fn(|| events.next())
        .take(5)
        .any(|e| lane_in(&e.json()["board"], "002-search", "WP02") == "planned");
    assert!(planned, "the release reached the stream");
    assert_eq!(dash.get("/api/wp/002-search/WP02").status, 200);
}

#[test]
fn open_hands_the_address_to_the_browser() {
    let repo = Repo::with_fixture("linear");
    let seen = repo.sandbox.path().join("browser-saw");
    let script = repo.sandbox.path().join("fake-browser");
    std::fs::write(
        &script,
        format!("#!/bin/sh\nprintf '%s' \"$1\" > '{}'\n", seen.display()),
    )
    .unwrap();
    let chmod = std::process::Command::new("chmod")
        .args(["+x", script.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(chmod.success());
    let dash = Dashboard::start_in(
        &repo,
        &repo.root,
        &["--port", "0", "--open"],
        &[("BROWSER", script.to_str().unwrap())],
    );
    let start = Instant::now();
    while !seen.exists() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(std::fs::read_to_string(&seen).unwrap(), dash.url);

    let missing = Dashboard::start_in(
        &repo,
        &repo.root,
        &["--port", "0", "--open"],
        &[("BROWSER", "/nonexistent/browser")],
    );
    let start = Instant::now();
    while !missing.stderr().contains("warning") && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        missing.stderr().starts_with(
            "warning: cannot start `/nonexistent/browser` to open the page (open http://127.0.0.1:"
        ),
        "{}",
        missing.stderr()
    );
    assert_eq!(missing.get("/api/board").status, 200, "still serving");
}

#[test]
fn outside_a_repository_it_says_so() {
    let repo = Repo::new();
    let outside = repo.sandbox.path().join("elsewhere");
    std::fs::create_dir_all(&outside).unwrap();
    let mut cmd = repo.kitty_command(&outside, &["dashboard", "--port", "0"]);
    cmd.env("GIT_CEILING_DIRECTORIES", repo.sandbox.path());
    Run::new(cmd.output().unwrap(), &repo.root)
        .code(2)
        .stderr_has("error: not in a git repository");
}

#[test]
fn connections_are_bounded() {
    let repo = Repo::with_fixture("linear");
    let dash = Dashboard::start(&repo);
    // Idle connections hold a thread each until their request arrives (or 5 s pass).
    let idle: Vec<TcpStream> = (0..128)
        .map(|_| TcpStream::connect(("127.0.0.1", dash.port)).unwrap())
        .collect();
    let r = dash.get("/api/board");
    assert_eq!(
        (r.status, r.body.as_str()),
        (503, "too many open connections\n")
    );
    drop(idle);
    let start = Instant::now();
    while dash.get("/api/board").status != 200 {
        assert!(start.elapsed() < Duration::from_secs(5), "never recovered");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The last version and WP01 a stream received.
type Latest = Option<(u64, serde_json::Value)>;

/// 50 open event streams, 100 lane moves: every stream ends with the final board and the
/// server's memory stays flat. Bounded: loopback only, a few seconds.
#[test]
fn fifty_streams_and_a_hundred_moves() {
    const STREAMS: usize = 50;
    const MOVES: usize = 100;
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["lane", "WP01", "in_progress"]).ok();
    let dash = Dashboard::start(&repo);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, u64, serde_json::Value)>();
    for n in 0..STREAMS {
        let (tx, port) = (tx.clone(), dash.port);
        std::thread::spawn(move || {
            let mut events = Events::open(port);
            while let Some(e) = events.next() {
                let doc = e.json();
                let wp = crate::common::wp(&doc["board"], "001-fan-out", "WP01").clone();
                if tx.send((n, doc["version"].as_u64().unwrap(), wp)).is_err() {
                    return;
                }
            }
        });
    }
    let mut latest = vec![None; STREAMS];
    let receive_until = |latest: &mut Vec<Latest>, done: &dyn Fn(&[Latest]) -> bool| {
        let start = Instant::now();
        while !done(latest) {
            let left = Duration::from_secs(20).saturating_sub(start.elapsed());
            let (n, version, wp) = rx.recv_timeout(left).expect("streams went quiet");
            latest[n] = Some((version, wp));
        }
    };
    receive_until(&mut latest, &|l| l.iter().all(Option::is_some));
    let lanes = ["for_review", "in_progress"];
    // Resident memory with every stream open, then after every 10 moves.
    let mut rss = vec![dash.rss_kib()];
    let start = Instant::now();
    for i in 0..MOVES {
        // Back from review needs the feedback as a note.
        repo.kitty(&["lane", "WP01", lanes[i % 2], "--note", "again"])
            .ok();
        if i % 10 == 9 {
            rss.push(dash.rss_kib());
        }
    }
    let moving = start.elapsed();
    // The final state: the last lane, and every event counted (the initial move + 100).
    let final_lane = lanes[(MOVES - 1) % 2];
    let expected_events = 1 + MOVES as u64;
    receive_until(&mut latest, &|l| {
        l.iter().all(|s| {
            s.as_ref().is_some_and(|(_, wp)| {
                wp["lane"] == final_lane && wp["state"]["events"] == expected_events
            })
        })
    });
    rss.push(dash.rss_kib());
    let versions: Vec<u64> = latest.iter().map(|s| s.as_ref().unwrap().0).collect();
    assert!(versions.iter().all(|v| *v == versions[0]), "{versions:?}");
    // The feed, kept up to date a few events at a time, is what `log` reads from scratch.
    let log = repo.kitty(&["log", "--json", "-n", "60"]).ok().json();
    assert_eq!(dash.get("/api/dashboard").json()["activity"], log["events"]);
    let total: Vec<u64> = rss.iter().map(|r| r.0).collect();
    let allocated: Vec<u64> = rss.iter().map(|r| r.1).collect();
    println!(
        "load: {STREAMS} streams, {MOVES} moves in {moving:?}; {} updates; server memory \
         (KiB) at 0, 10, ..., 100 moves and at the end: VmRSS {total:?}, RssAnon {allocated:?}",
        versions[0]
    );
    // Flat: what the server allocated after 100 moves is what it held after 20 (give or take
    // the allocator's arenas and WP01's history, which grows by an event per move).
    let (warm, end) = (allocated[2], allocated[allocated.len() - 1]);
    assert!(
        end <= warm + 1536,
        "server memory kept growing: {warm} KiB after 20 moves, {end} KiB after 100 ({allocated:?})"
    );
    assert!(total[total.len() - 1] < 64 * 1024, "{total:?}");
}

#[test]
fn a_first_pull_from_a_remote_without_state_clears_the_never_fetched_note() {
    let repo = Repo::with_fixture("fan-out");
    let remote = repo.sandbox.path().join("remote.git");
    repo.git(&["clone", "-q", "--bare", ".", remote.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    // No common-dir `kitty/` yet: where the note will be written is watched all the same.
    let kitty_dir = repo.root.join(".git/kitty");
    let _ = std::fs::remove_dir_all(&kitty_dir);
    let dash = Dashboard::start(&repo);
    let mut events = Events::open(dash.port);
    let first = events.next().unwrap().json();
    let feature = &first["board"]["features"][0];
    assert_eq!(feature["unfetched_remote"], "origin");
    // The remote has no state at all: only the note of the pull changes.
    repo.kitty(&["pull"]).ok();
    let next = events.next().expect("the pull reached the stream").json();
    assert!(next["board"]["features"][0]["unfetched_remote"].is_null());
}
