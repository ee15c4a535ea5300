//! The dashboard in a real browser (headless Chromium over the DevTools protocol): cards in
//! their columns, the graph, hostile text shown as text, a lane move appearing without a
//! reload within a second. Screenshots go to target/tmp/dashboard/; `UPDATE_SCREENSHOTS=1`
//! also refreshes docs/dashboard.png, the README's picture.
//!
//! Without chromium these tests skip locally (saying so) and fail in CI (`CI=true`).

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::common::Repo;
use crate::common::chromium::{Page, artifacts, browser_or_skip};
use crate::common::live::Dashboard;

const LOAD: Duration = Duration::from_secs(20);

/// The column a lane's card sits in (the page's `data-column`).
fn column(lane: &str) -> &'static str {
    match lane {
        "planned" => "planned",
        "claimed" | "in_progress" => "doing",
        "for_review" | "in_review" => "review",
        "approved" => "approved",
        "done" => "done",
        "blocked" => "blocked",
        "canceled" => "canceled",
        other => panic!("unknown lane {other}"),
    }
}

/// Wait until the page shows a document; its version.
fn loaded(page: &mut Page) -> u64 {
    page.wait_for("window.kitty && window.kitty.version", LOAD)
        .as_u64()
        .unwrap()
}

/// Every card on the page as (feature, column, WP).
fn cards_on_page(page: &mut Page) -> BTreeSet<(String, String, String)> {
    let v = page.eval(
        r##"[...document.querySelectorAll(".feature .card")].map((c) =>
            [c.closest(".feature").dataset.feature, c.closest(".column").dataset.column, c.dataset.wp])"##,
    );
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let s = |i: usize| t[i].as_str().unwrap().to_owned();
            (s(0), s(1), s(2))
        })
        .collect()
}

/// A board with some life in it: work in progress, a review sent back with feedback, notes.
fn showcase() -> Repo {
    let repo = Repo::with_fixture("example");
    let act = |agent: &str, args: &[&str]| {
        repo.kitty_env(&[("KITTY_AGENT", Some(agent))], args).ok();
    };
    act(
        "alice",
        &[
            "lane",
            "WP02",
            "in_progress",
            "-f",
            "002-search",
            "-m",
            "parser skeleton first",
        ],
    );
    act("rev", &["lane", "WP07", "in_review", "-f", "001-checkout"]);
    act(
        "rev",
        &[
            "lane",
            "WP07",
            "in_progress",
            "-f",
            "001-checkout",
            "-m",
            "The load profile misses the checkout burst: add a 10x spike scenario.",
        ],
    );
    // Shared with a remote, then one more event that is only local.
    let remote = repo.sandbox.path().join("origin.git");
    repo.git(&["init", "-q", "--bare", remote.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    act("alice", &["push"]);
    act(
        "claude",
        &[
            "note",
            "WP03",
            "-f",
            "001-checkout",
            "sandbox keys rotated; retrying the webhook tests",
        ],
    );
    repo
}

#[test]
fn cards_sit_in_their_lanes_columns_with_the_graph_and_the_feeds() {
    let Some(mut browser) = browser_or_skip("cards_sit_in_their_lanes_columns") else {
        return;
    };
    let repo = showcase();
    let dash = Dashboard::start(&repo);
    let mut page = browser.open(&dash.url);
    page.call("Network.enable", serde_json::json!({}));
    assert_eq!(loaded(&mut page), 1);

    assert_eq!(cards_on_page(&mut page), cards_of_status(&repo));

    // The card sent back from review carries the feedback, and its agent.
    let wp07 = page.eval(
        r##"(() => { const c = document.querySelector('[data-feature="001-checkout"] [data-wp="WP07"]');
             return [c.querySelector(".feedback").textContent, c.querySelector(".who").textContent,
                     [...c.querySelectorAll(".tag")].map((t) => t.textContent)]; })()"##,
    );
    assert_eq!(
        wp07,
        serde_json::json!([
            "The load profile misses the checkout burst: add a 10x spike scenario. — rev",
            "gemini",
            ["changes requested"]
        ])
    );
    // The graph: a node per WP, the critical path drawn.
    let graph = page.eval(
        r##"(() => { const g = document.querySelector("svg#graph-001-checkout");
             return [g.querySelectorAll("g.node").length,
                     [...g.querySelectorAll("g.node.critical")].map((n) => n.dataset.wp),
                     g.querySelectorAll("path.edge").length,
                     g.querySelectorAll("path.edge.critical").length]; })()"##,
    );
    assert_eq!(
        graph,
        serde_json::json!([8, ["WP02", "WP04", "WP06"], 7, 2])
    );
    let ready = page.eval(
        r##"[...document.querySelectorAll('[data-feature="002-search"] .ready li')].map((l) => l.dataset.wp)"##,
    );
    assert_eq!(ready, serde_json::json!([]));
    let agents = page
        .eval(r##"[...document.querySelectorAll("#agents > li")].map((l) => l.dataset.agent)"##);
    // The most recent first: alice and claude acted at the same (test) time; gemini, known
    // from the plan only, last.
    let agents: Vec<&str> = agents
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(
        agents == ["claude", "alice", "gemini"] || agents == ["alice", "claude", "gemini"],
        "{agents:?}"
    );
    let remote = page
        .eval(r##"[...document.querySelectorAll(".feature .remote")].map((r) => r.textContent)"##);
    assert_eq!(
        remote,
        serde_json::json!([
            "state vs origin: 1 ahead (git kitty sync)",
            "in sync with origin"
        ])
    );
    let feed = page.eval(r##"document.querySelectorAll("#activity > li.event").length"##);
    assert_eq!(feed, 4);

    // Only the dashboard's own address was asked for anything.
    let asked: Vec<String> = browser_requests(&page_events(&mut page));
    assert!(!asked.is_empty());
    for url in &asked {
        assert!(
            url.starts_with(&dash.url) || url.starts_with("data:"),
            "asked {url}"
        );
    }
    page.screenshot(&artifacts().join("board.png"));
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/dashboard.png");
        std::fs::copy(artifacts().join("board.png"), docs).unwrap();
    }

    a_card_opens_its_wp(&mut page);
}

/// Where `status --json` puts every card, as (feature, column, WP).
fn cards_of_status(repo: &Repo) -> BTreeSet<(String, String, String)> {
    let status = repo.kitty(&["status", "--json", "--all"]).ok().json();
    let mut expected = BTreeSet::new();
    for f in status["features"].as_array().unwrap() {
        for w in f["work_packages"].as_array().unwrap() {
            expected.insert((
                f["slug"].as_str().unwrap().to_owned(),
                column(w["lane"].as_str().unwrap()).to_owned(),
                w["id"].as_str().unwrap().to_owned(),
            ));
        }
    }
    expected
}

/// A click on a card opens the WP: its prompt and its history.
fn a_card_opens_its_wp(page: &mut Page) {
    page.eval(
        r##"document.querySelector('[data-feature="002-search"] [data-wp="WP02"]').click()"##,
    );
    let title = page.wait_for(
        r##"document.querySelector("#detail:not([hidden]) #detail-title")?.textContent"##,
        LOAD,
    );
    assert_eq!(title, "WP02 Query parser");
    let detail = page.eval(
        r##"[document.querySelector(".prompt h3").textContent,
            [...document.querySelectorAll("#detail-body .activity .note")].map((n) => n.textContent)]"##,
    );
    assert_eq!(
        detail,
        serde_json::json!(["WP02: Query parser", ["parser skeleton first"]])
    );
    page.screenshot(&artifacts().join("detail.png"));
}

/// The protocol events the browser sent so far, for this page.
fn page_events(page: &mut Page) -> Vec<serde_json::Value> {
    // A round trip makes sure every event before it was received.
    page.eval("1");
    page.events()
}

fn browser_requests(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["method"] == "Network.requestWillBeSent")
        .map(|e| e["params"]["request"]["url"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn hostile_text_is_shown_as_text() {
    let Some(mut browser) = browser_or_skip("hostile_text_is_shown_as_text") else {
        return;
    };
    let repo = Repo::with_fixture("linear");
    repo.write(
        "kitty-specs/001-linear/tasks/WP04-evil.md",
        "---\nwork_package_id: WP04\ntitle: \"<img src=x onerror=alert(1)>\"\ndependencies: [WP03]\n---\n\
         # Heading <b>not bold</b>\n\nSome **bold** and `code`.\n\n- [ ] T001 first\n- [x] T002 done\n\n\
         <script>alert(3)</script>\n\n[click](javascript:alert(4)) and [docs](https://example.com/docs)\n",
    );
    repo.commit_all("an evil WP");
    repo.kitty_env(
        &[("KITTY_AGENT", Some("mallory"))],
        &["note", "WP04", "<img src=y onerror=alert(2)>"],
    )
    .ok();
    let dash = Dashboard::start(&repo);
    let mut page = browser.open(&dash.url);
    loaded(&mut page);
    let card = page.eval(
        r##"(() => { const c = document.querySelector('[data-wp="WP04"].card');
             return [c.querySelector(".title").textContent, c.querySelectorAll("img").length]; })()"##,
    );
    assert_eq!(card, serde_json::json!(["<img src=x onerror=alert(1)>", 0]));
    let note = page.eval(r##"document.querySelector("#activity .note").textContent"##);
    assert_eq!(note, "<img src=y onerror=alert(2)>");
    let graph_label =
        page.eval(r##"document.querySelector('g.node[data-wp="WP04"] title').textContent"##);
    assert_eq!(graph_label, "WP04 <img src=x onerror=alert(1)> (planned)");

    page.eval("location.hash = '#wp/001-linear/WP04'");
    page.wait_for(r##"document.querySelector(".prompt")"##, LOAD);
    let prompt = page.eval(
        r##"(() => { const p = document.querySelector(".prompt");
             return [p.querySelector("h3").textContent, p.querySelector("strong").textContent,
                     p.querySelector("code").textContent,
                     [...p.querySelectorAll("li")].map((l) => l.textContent),
                     p.querySelectorAll("script, img, b").length,
                     [...p.querySelectorAll("a")].map((a) => a.getAttribute("href")),
                     p.textContent.includes("<script>alert(3)</script>"),
                     p.textContent.includes("click and docs")]; })()"##,
    );
    assert_eq!(
        prompt,
        serde_json::json!([
            "Heading <b>not bold</b>",
            "bold",
            "code",
            ["☐ T001 first", "☑ T002 done"],
            0,
            ["https://example.com/docs"],
            true,
            true
        ])
    );
    assert_eq!(page.eval("document.querySelectorAll('img').length"), 0);
    assert_eq!(
        page.eval("window.__dialogs"),
        serde_json::json!([]),
        "nothing ran"
    );
    page.screenshot(&artifacts().join("hostile.png"));
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

/// A lane move made by `git kitty lane` shows on an open page, without a reload, within a
/// second. `KITTY_LATENCY_MOVES=100` measures the figure of docs/performance.md.
#[test]
fn a_lane_move_shows_without_a_reload_within_a_second() {
    let Some(mut browser) = browser_or_skip("a_lane_move_shows_without_a_reload") else {
        return;
    };
    let moves: usize = std::env::var("KITTY_LATENCY_MOVES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(12);
    let repo = Repo::with_fixture("fan-out");
    let dash = Dashboard::start(&repo);
    let mut page = browser.open(&dash.url);
    loaded(&mut page);
    page.eval("window.__same_page = true");
    let lanes = ["in_progress", "for_review"];
    let mut latencies = Vec::with_capacity(moves);
    for i in 0..moves {
        let lane = if i == 0 { "in_progress" } else { lanes[i % 2] };
        // Back from review needs the feedback as a note.
        repo.kitty(&["lane", "WP01", lane, "--note", "again"]).ok();
        let moved_at = now_ms();
        // When the page applied the update that put the card in its new column.
        let shown_at = page.wait_for(
            &format!(
                r##"document.querySelector('[data-feature="001-fan-out"] [data-column="{}"] [data-wp="WP01"]')
                   && window.kitty.updates[window.kitty.updates.length - 1].at"##,
                column(lane)
            ),
            Duration::from_secs(5),
        );
        latencies.push(shown_at.as_f64().unwrap() - moved_at);
    }
    assert_eq!(
        page.eval("window.__same_page"),
        true,
        "the page was not reloaded"
    );
    assert_eq!(
        page.eval("performance.getEntriesByType('navigation').length"),
        1
    );
    let mut sorted = latencies.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let max = sorted[sorted.len() - 1];
    println!(
        "lane move -> page: {moves} moves, median {median:.0} ms, p90 {:.0} ms, max {max:.0} ms",
        sorted[sorted.len() * 9 / 10]
    );
    assert!(
        max < 1000.0,
        "a move took {max:.0} ms to show: {latencies:?}"
    );
    page.screenshot(&artifacts().join("after-moves.png"));
}
