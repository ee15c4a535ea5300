//! `git kitty status`: the board, read from a real repository.

use crate::common::{Repo, feature, strings, wp};

#[test]
fn example_board() {
    let repo = Repo::with_fixture("example");
    let run = repo.kitty(&["status"]);
    run.ok();
    assert_eq!(run.stderr, "");
    let expected = "\
001-checkout  1/7 done (14.3%) · 40% weighted
  Planned             Doing               For Review          Approved            Done
  ──────────────────  ──────────────────  ──────────────────  ──────────────────  ──────────────────
  WP04 Checkout API   WP03 Payment gate…  WP07 Load tests     WP02 Pricing rules  WP01 Cart model
  WP05 Receipt emai…    claude              gemini              codex               claude
  WP06 Checkout UI

  Ready to start  WP05  Receipt emails
  Waiting         WP04  Checkout API                  on WP03 (in_progress)
                  WP06  Checkout UI                   on WP04 (planned)
  Canceled        WP08  Legacy CSV export

002-search  0/4 done (0%) · 2.5% weighted
  Planned             Doing               For Review          Approved            Done
  ──────────────────  ──────────────────  ──────────────────  ──────────────────  ──────────────────
  WP02 Query parser   WP01 Index schema
  WP03 Ranking          claimed · gemini

  Ready to start  WP02  Query parser                  unblocks 2
  Waiting         WP03  Ranking                       on WP01 (claimed), WP02 (planned)
  Blocked         WP04  Search page                   codex
";
    assert_eq!(run.stdout, expected);
}

#[test]
fn json_shape_is_documented_and_stable() {
    let repo = Repo::with_fixture("example");
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(status["schema"], 1);
    let keys: Vec<&str> = status
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["schema", "features", "problems"]);
    let f = feature(&status, "001-checkout");
    for key in ["slug", "work_packages", "progress", "ready", "waiting"] {
        assert!(f.get(key).is_some(), "feature lacks {key}");
    }
    let w = wp(&status, "001-checkout", "WP04");
    for key in [
        "id",
        "title",
        "lane",
        "dependencies",
        "ready",
        "waiting_on",
        "agent",
        "file",
    ] {
        assert!(w.get(key).is_some(), "wp lacks {key}");
    }
    assert_eq!(w["lane"], "planned");
    assert_eq!(strings(&w["dependencies"]), ["WP02", "WP03"]);
    assert_eq!(strings(&w["waiting_on"]), ["WP03"]);
    assert_eq!(w["ready"], false);
    assert_eq!(
        w["file"],
        "kitty-specs/001-checkout/tasks/WP04-checkout-api.md"
    );
    let p = &f["progress"];
    assert_eq!(
        (p["done"].as_u64(), p["total"].as_u64()),
        (Some(1), Some(7))
    );
    assert_eq!(p["weighted_percent"], 40.0);
    assert_eq!(p["by_lane"]["canceled"], 1);
    // `doing` is read as in_progress.
    assert_eq!(wp(&status, "001-checkout", "WP03")["lane"], "in_progress");
}

#[test]
fn fan_out_waits_on_the_root_then_all_become_ready() {
    let repo = Repo::with_fixture("fan-out");
    let status = repo.kitty(&["status", "--json"]).ok().json();
    let f = feature(&status, "001-fan-out");
    assert_eq!(strings(&f["ready"]), ["WP01"]);
    let waiting: Vec<(String, Vec<String>)> = f["waiting"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            let on = w["waiting_on"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| {
                    format!(
                        "{} {}",
                        d["id"].as_str().unwrap(),
                        d["lane"].as_str().unwrap()
                    )
                })
                .collect();
            (w["id"].as_str().unwrap().to_owned(), on)
        })
        .collect();
    assert_eq!(
        waiting,
        [
            ("WP02".to_owned(), vec!["WP01 planned".to_owned()]),
            ("WP03".to_owned(), vec!["WP01 planned".to_owned()]),
            ("WP04".to_owned(), vec!["WP01 planned".to_owned()]),
        ]
    );
    assert_eq!(wp(&status, "001-fan-out", "WP01")["unblocks"], 3);

    // Approving WP01 (here: in the frontmatter) makes the three ready at once.
    let path = "kitty-specs/001-fan-out/tasks/WP01-core.md";
    let text = std::fs::read_to_string(repo.path(path)).unwrap();
    repo.write(
        path,
        &text.replace("dependencies: []\n", "dependencies: []\nlane: approved\n"),
    );
    let status = repo.kitty(&["status", "--json"]).ok().json();
    let f = feature(&status, "001-fan-out");
    assert_eq!(strings(&f["ready"]), ["WP02", "WP03", "WP04"]);
    assert_eq!(f["waiting"].as_array().unwrap().len(), 0);
}

#[test]
fn diamond_waits_on_both_branches() {
    let repo = Repo::with_fixture("diamond");
    let path = "kitty-specs/001-diamond/tasks/WP01-schema.md";
    let text = std::fs::read_to_string(repo.path(path)).unwrap();
    repo.write(
        path,
        &text.replace("dependencies: []\n", "dependencies: []\nlane: done\n"),
    );
    let path = "kitty-specs/001-diamond/tasks/WP02-backend.md";
    let text = std::fs::read_to_string(repo.path(path)).unwrap();
    repo.write(
        path,
        &text.replace(
            "dependencies: [WP01]\n",
            "dependencies: [WP01]\nlane: approved\n",
        ),
    );

    let status = repo.kitty(&["status", "--json"]).ok().json();
    let f = feature(&status, "001-diamond");
    assert_eq!(strings(&f["ready"]), ["WP03"]);
    assert_eq!(
        strings(&wp(&status, "001-diamond", "WP04")["waiting_on"]),
        ["WP03"]
    );

    let run = repo.kitty(&["status"]);
    run.ok()
        .stdout_has("Ready to start  WP03  Frontend                      unblocks 1")
        .stdout_has("Waiting         WP04  Integration                   on WP03 (planned)");
}

#[test]
fn graph_draws_fan_out_and_diamond() {
    let repo = Repo::with_fixture("fan-out");
    let run = repo.kitty(&["status", "--graph"]);
    run.ok();
    assert_eq!(
        run.stdout,
        "\
001-fan-out
WP01 Core     planned
├─ WP02 API   planned
├─ WP03 CLI   planned
└─ WP04 Docs  planned
"
    );

    let repo = Repo::with_fixture("diamond");
    let run = repo.kitty(&["status", "--graph"]);
    run.ok();
    assert_eq!(
        run.stdout,
        "\
001-diamond
WP01 Schema             planned
├─ WP02 Backend         planned
│  └─ WP04 Integration  planned  + needs WP03
└─ WP03 Frontend        planned
   └─ WP04 (see above)  planned
"
    );
}

#[test]
fn status_and_status_binary_agree() {
    let repo = Repo::with_fixture("example");
    for args in [&["--json"][..], &[][..], &["--graph"][..]] {
        let mut multi = vec!["status"];
        multi.extend_from_slice(args);
        let a = repo.kitty(&multi);
        let b = repo.bin_in("git-kitty-status", &repo.root, args);
        a.ok();
        b.ok();
        assert_eq!(a.stdout, b.stdout, "args {args:?}");
        assert_eq!(a.stderr, b.stderr);
    }
    // And through git itself, which finds git-kitty on PATH.
    let via_git = repo
        .command_in("git", &repo.root)
        .args(["kitty", "status", "--json"])
        .output()
        .unwrap();
    assert!(via_git.status.success());
    assert_eq!(
        String::from_utf8(via_git.stdout).unwrap(),
        repo.kitty(&["status", "--json"]).stdout
    );
    // The usage line reads `git kitty status` whichever binary prints it.
    repo.bin_in("git-kitty-status", &repo.root, &["--help"])
        .ok()
        .stdout_has("Usage: git kitty status");
}

#[test]
fn works_from_a_subdirectory_and_defaults_to_that_feature() {
    let repo = Repo::with_fixture("example");
    let deep = repo.path("kitty-specs/002-search/tasks");
    let status = repo.kitty_in(&deep, &["status", "--json"]).ok().json();
    let slugs: Vec<&str> = status["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["002-search"]);

    std::fs::create_dir_all(repo.path("src/deep")).unwrap();
    let status = repo
        .kitty_in(&repo.path("src/deep"), &["status", "--json"])
        .ok()
        .json();
    assert_eq!(status["features"].as_array().unwrap().len(), 2);
}

#[test]
fn a_linked_worktree_reads_the_main_worktrees_plan() {
    let repo = Repo::with_fixture("fan-out");
    let wt = repo.sandbox.path().join("wt");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "001-fan-out-WP02",
        wt.to_str().unwrap(),
    ]);
    // A WP added in the main worktree, not committed: the linked worktree sees it anyway.
    repo.write(
        "kitty-specs/001-fan-out/tasks/WP05-extra.md",
        "---\nwork_package_id: WP05\ntitle: Extra\n---\n",
    );
    let status = repo.kitty_in(&wt, &["status", "--json"]).ok().json();
    // Inside the WP02 worktree the board defaults to WP02's feature.
    assert_eq!(status["features"].as_array().unwrap().len(), 1);
    assert_eq!(wp(&status, "001-fan-out", "WP05")["title"], "Extra");
    assert_eq!(
        wp(&status, "001-fan-out", "WP05")["file"],
        "kitty-specs/001-fan-out/tasks/WP05-extra.md"
    );
}

#[test]
fn a_broken_file_does_not_hide_the_board() {
    let repo = Repo::with_fixture("fan-out");
    repo.write(
        "kitty-specs/001-fan-out/tasks/WP01-core.md",
        "---\nwork_package_id: WP01\ntitle: [oops\n---\n",
    );
    let run = repo.kitty(&["status"]);
    run.ok()
        .stdout_has("WP04 Docs")
        .stdout_has("1 error in the plan (`git kitty check` explains each):")
        .stdout_has("kitty-specs/001-fan-out/tasks/WP01-core.md:3: error[malformed-yaml]")
        // The broken WP stays on the board under its file name, and is never ready...
        .stdout_has("Needs fixing    WP01  core                          file has errors");
    assert!(!run.stdout.contains("Ready to start"), "{}", run.stdout);
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(status["problems"][0]["code"], "malformed-yaml");
    assert_eq!(status["problems"][0]["line"], 3);
    let w1 = wp(&status, "001-fan-out", "WP01");
    assert_eq!(
        (w1["has_errors"].as_bool(), w1["ready"].as_bool()),
        (Some(true), Some(false))
    );
    // ...and its dependents wait on it instead of reporting an unknown dependency.
    assert_eq!(
        strings(&wp(&status, "001-fan-out", "WP02")["waiting_on"]),
        ["WP01"]
    );
    repo.kitty(&["check", "--json"]).code(1).json()["errors"]
        .as_u64()
        .map(|n| assert_eq!(n, 1))
        .unwrap();
}

#[test]
fn a_wp_with_a_malformed_dependency_or_lane_is_never_ready() {
    let repo = Repo::with_fixture("fan-out");
    repo.write(
        "kitty-specs/001-fan-out/tasks/WP01-core.md",
        "---\nwork_package_id: WP01\ntitle: Core\ndependencies: [WP-00]\n---\n",
    );
    repo.write(
        "kitty-specs/001-fan-out/tasks/WP05-odd.md",
        "---\nwork_package_id: WP05\ntitle: Odd\nlane: finished\n---\n",
    );
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert!(strings(&feature(&status, "001-fan-out")["ready"]).is_empty());
    assert_eq!(wp(&status, "001-fan-out", "WP05")["has_errors"], true);
}

#[test]
fn numbers_match_whatever_the_spelling() {
    let repo = Repo::with_fixture("fan-out");
    repo.write(
        "kitty-specs/001-fan-out/tasks/WP5-late.md",
        "---\nwork_package_id: WP5\ntitle: Late\ndependencies: [WP1]\n---\n",
    );
    repo.write(
        "kitty-specs/001-fan-out/tasks/WP05-again.md",
        "---\nwork_package_id: WP05\ntitle: Again\n---\n",
    );
    let check = repo.kitty(&["check", "--json"]).code(1).json();
    let codes: Vec<&str> = check["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["duplicate-id"], "{check:#}");
    assert_eq!(
        check["problems"][0]["message"],
        "WP5 is already defined as WP05 by kitty-specs/001-fan-out/tasks/WP05-again.md"
    );
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-fan-out", "WP05")["title"], "Again");

    // `WP1` in a dependency list is the plan's WP01, for check and board alike.
    repo.write(
        "kitty-specs/001-fan-out/tasks/WP5-late.md",
        "---\nwork_package_id: WP6\ntitle: Late\ndependencies: [WP1]\n---\n",
    );
    std::fs::rename(
        repo.path("kitty-specs/001-fan-out/tasks/WP5-late.md"),
        repo.path("kitty-specs/001-fan-out/tasks/WP6-late.md"),
    )
    .unwrap();
    repo.kitty(&["check"]).ok();
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(
        strings(&wp(&status, "001-fan-out", "WP6")["waiting_on"]),
        ["WP01"]
    );
}

#[test]
fn colours_only_when_asked_or_on_a_terminal() {
    let repo = Repo::with_fixture("example");
    let plain = repo.kitty(&["status"]);
    assert!(!plain.stdout.contains('\x1b'));
    let coloured = repo.kitty(&["status", "--color", "always"]);
    assert!(coloured.stdout.contains("\x1b["));
    // NO_COLOR is set by the test environment; --color=never wins over CLICOLOR_FORCE.
    let mut cmd = repo.command_in(
        assert_cmd::cargo::cargo_bin("git-kitty").to_str().unwrap(),
        &repo.root,
    );
    cmd.env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .args(["status", "--color=never"]);
    let out = cmd.output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\x1b'));
    let mut cmd = repo.command_in(
        assert_cmd::cargo::cargo_bin("git-kitty").to_str().unwrap(),
        &repo.root,
    );
    cmd.env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .arg("status");
    let out = cmd.output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains('\x1b'));
}

#[test]
fn messy_real_world_files_all_load() {
    let repo = Repo::with_fixture("messy");
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(
        status["problems"].as_array().unwrap().len(),
        0,
        "{:#}",
        status["problems"]
    );
    let lanes: Vec<(&str, &str, &str)> = ["010-legacy", "020-events"]
        .iter()
        .flat_map(|slug| {
            let f = feature(&status, slug);
            f["work_packages"].as_array().unwrap().iter().map(move |w| {
                (
                    *slug,
                    w["id"].as_str().unwrap(),
                    w["lane"].as_str().unwrap(),
                )
            })
        })
        .collect();
    assert_eq!(
        lanes,
        [
            ("010-legacy", "WP01", "done"),
            ("010-legacy", "WP02", "in_progress"),
            ("010-legacy", "WP03", "planned"),
            ("010-legacy", "WP04", "for_review"),
            ("020-events", "WP01", "approved"),
            ("020-events", "WP02", "in_progress"),
            ("020-events", "WP03", "planned"),
        ]
    );
    // CRLF and quoted titles come through clean; a BOM does not hide the first key.
    assert_eq!(
        wp(&status, "010-legacy", "WP02")["title"],
        "Migration Tests: template source validation"
    );
    assert_eq!(
        strings(&wp(&status, "010-legacy", "WP03")["dependencies"]),
        ["WP01"]
    );
    assert_eq!(
        strings(&wp(&status, "010-legacy", "WP04")["dependencies"]),
        ["WP02", "WP03"]
    );
    assert_eq!(wp(&status, "010-legacy", "WP04")["title"], "Docs");
    assert_eq!(
        wp(&status, "020-events", "WP01")["lane_source"],
        "spec_kitty_events"
    );
    assert_eq!(
        wp(&status, "010-legacy", "WP01")["lane_source"],
        "frontmatter"
    );
    assert_eq!(wp(&status, "020-events", "WP03")["lane_source"], "default");
    assert_eq!(
        wp(&status, "020-events", "WP01")["updated_at"],
        "2026-04-23T16:13:36Z"
    );
    repo.kitty(&["check"]).ok();
}

#[test]
fn unknown_feature_and_outside_a_repository_are_usage_errors() {
    let repo = Repo::with_fixture("example");
    let run = repo.kitty(&["status", "--feature", "999-nope"]);
    run.code(2)
        .stderr_has("error: no feature `999-nope` in kitty-specs/")
        .stderr_has("hint: features: 001-checkout, 002-search");
    let run = repo.kitty(&["status", "--feature", "../etc"]);
    run.code(2).stderr_has("is not a safe feature name");

    let outside = repo.sandbox.path().join("not-a-repo");
    std::fs::create_dir_all(&outside).unwrap();
    let mut cmd = repo.command_in(
        assert_cmd::cargo::cargo_bin("git-kitty").to_str().unwrap(),
        &outside,
    );
    cmd.env("GIT_CEILING_DIRECTORIES", repo.sandbox.path())
        .arg("status");
    let run = crate::common::Run::new(cmd.output().unwrap(), &repo.root);
    run.code(2).stderr_has("error: not in a git repository");
    let run = repo.kitty(&["status", "--json", "-f", "999-nope"]);
    run.code(2);
    assert_eq!(run.json()["error"]["kind"], "usage");
}

#[test]
fn an_empty_repository_says_where_work_packages_go() {
    let repo = Repo::new();
    repo.kitty(&["status"]).ok().stdout_has(
        "No features found: work packages go in kitty-specs/<feature>/tasks/WP01-name.md",
    );
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(status["features"].as_array().unwrap().len(), 0);
}

#[test]
fn the_demo_script_of_the_quick_start_works() {
    let sandbox = crate::common::Sandbox::new();
    let dir = sandbox.path().join("demo");
    let mut cmd = std::process::Command::new(crate::common::fixtures().join("demo-repo"));
    crate::common::hermetic(&mut cmd, &sandbox.home());
    let out = cmd.arg(&dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut cmd = std::process::Command::new("git");
    crate::common::hermetic(&mut cmd, &sandbox.home());
    let out = cmd
        .arg("-C")
        .arg(&dir)
        .args(["kitty", "status"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("001-checkout  1/7 done"));
}

/// The names of the sections of a cache file.
fn cache_sections(path: &std::path::Path) -> Vec<String> {
    let bytes = std::fs::read(path).expect("cache not written");
    crate::common::cache_sections(&bytes)
        .into_iter()
        .map(|(name, _)| name)
        .collect()
}

/// `status --json` and `check --json` with the caches off, as references.
fn uncached(repo: &Repo) -> (String, String) {
    let off = [("KITTY_NO_CACHE", Some("1"))];
    (
        repo.kitty_env(&off, &["status", "--json"]).stdout.clone(),
        repo.kitty_env(&off, &["check", "--json"]).stdout.clone(),
    )
}

/// With the caches, both answer what they answer without.
fn assert_cache_invisible(repo: &Repo, why: &str) {
    let (status, check) = uncached(repo);
    assert_eq!(repo.kitty(&["status", "--json"]).stdout, status, "{why}");
    assert_eq!(repo.kitty(&["check", "--json"]).stdout, check, "{why}");
}

#[test]
fn the_plan_cache_never_changes_the_answer() {
    let repo = Repo::with_fixture("messy");
    // Files younger than two seconds are never cached (racy-git rule): let them settle.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let fresh = repo.kitty(&["status", "--json"]).ok().stdout.clone();
    let cache = repo.path(".git/kitty/plan.cache");
    assert!(cache_sections(&cache).contains(&"010-legacy".to_owned()));
    let cached = repo.kitty(&["status", "--json"]).ok().stdout.clone();
    assert_eq!(fresh, cached);
    assert_cache_invisible(&repo, "settled");

    // An edited file is read again, even when its size does not change.
    let path = "kitty-specs/010-legacy/tasks/WP04-docs.md";
    let text = std::fs::read_to_string(repo.path(path)).unwrap();
    let edited = text.replace("title: Docs", "title: Dots");
    assert_eq!(edited.len(), text.len());
    repo.write(path, &edited);
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "010-legacy", "WP04")["title"], "Dots");

    // A corrupt cache is ignored, and a deleted WP disappears.
    std::fs::write(&cache, "{garbage").unwrap();
    std::fs::remove_file(repo.path("kitty-specs/020-events/tasks/WP03-state.md")).unwrap();
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(
        feature(&status, "020-events")["work_packages"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_cache_invisible(&repo, "after damage");
    // A cache file damaged inside one feature's section: that feature is read again.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    repo.kitty(&["status"]).ok();
    let mut bytes = std::fs::read(&cache).unwrap();
    let at = bytes
        .windows(11)
        .position(|w| w == b"020-events\t")
        .unwrap();
    let middle = at + 100.min((bytes.len() - at) / 2);
    bytes[middle] ^= 0x55;
    std::fs::write(&cache, bytes).unwrap();
    assert_cache_invisible(&repo, "a damaged section");
}

/// Spec Kitty appends to `status.events.jsonl`: the cached replay goes on with the new lines,
/// and answers what a full replay answers, whatever happened to the file.
#[test]
fn the_cached_event_log_follows_appends_and_rewrites() {
    let repo = Repo::with_fixture("messy");
    let log = "kitty-specs/020-events/status.events.jsonl";
    let settle = || std::thread::sleep(std::time::Duration::from_millis(2100));
    let append = |line: &str| {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(repo.path(log))
            .unwrap();
        writeln!(f, "{line}").unwrap();
    };
    let lane = |status: &serde_json::Value, id: &str| wp(status, "020-events", id)["lane"].clone();
    // Long enough for the cache to keep what going on needs (a shorter log is replayed whole
    // when it grows): a quarter of a megabyte of annotations.
    let padding: Vec<String> = (0..2600)
        .map(|i| format!(r#"{{"event_id": "P{i:05}", "kind": "annotation", "wp_id": "WP01", "delta": {{"note": "padding padding padding"}}}}"#))
        .collect();
    append(&padding.join("\n"));
    assert!(std::fs::metadata(repo.path(log)).unwrap().len() > 256 * 1024);
    settle();
    repo.kitty(&["status"]).ok();

    // Appended: a move, a malformed line, an annotation.
    append(
        r#"{"actor": "x", "at": "2026-05-01T00:00:00Z", "event_id": "Z1", "from_lane": "planned", "to_lane": "for_review", "wp_id": "WP02"}"#,
    );
    append("{oops");
    append(r#"{"event_id": "Z2", "kind": "annotation", "wp_id": "WP02", "delta": {}}"#);
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(lane(&status, "WP02"), "for_review");
    assert_cache_invisible(&repo, "appended, not settled");
    settle();
    assert_cache_invisible(&repo, "appended, settled");

    // A line repeating an earlier event id is skipped, as a full replay skips it.
    settle();
    repo.kitty(&["status"]).ok();
    append(
        r#"{"actor": "x", "at": "2026-06-01T00:00:00Z", "event_id": "Z1", "from_lane": "planned", "to_lane": "done", "wp_id": "WP02"}"#,
    );
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(lane(&status, "WP02"), "for_review");
    assert_cache_invisible(&repo, "a repeated id appended");

    // Rewritten in place, longer, with other lines: read again from the start.
    settle();
    repo.kitty(&["status"]).ok();
    let text = std::fs::read_to_string(repo.path(log)).unwrap();
    let rewritten = text.replace(
        "\"to_lane\": \"for_review\"",
        "\"to_lane\": \"blocked\"    ",
    );
    assert!(rewritten.len() > text.len());
    std::fs::write(repo.path(log), format!("{rewritten}\n")).unwrap();
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(lane(&status, "WP02"), "blocked");
    assert_cache_invisible(&repo, "rewritten");
    // Shortened: read again.
    settle();
    repo.kitty(&["status"]).ok();
    std::fs::write(repo.path(log), "").unwrap();
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_ne!(lane(&status, "WP02"), "blocked");
    assert_cache_invisible(&repo, "emptied");
}

/// A feature none of whose files changed comes whole from the plan cache, as assembled
/// before; one file edited, added or removed makes it assembled again, so what depends on
/// several files at once (unknown dependencies, cycles, lanes from the log) follows at once.
#[test]
fn a_feature_is_assembled_again_when_any_of_its_files_changes() {
    let repo = Repo::with_fixture("messy");
    let tasks = "kitty-specs/020-events/tasks";
    let problem_codes = |repo: &Repo| -> Vec<String> {
        let check = repo.kitty_env(&[], &["check", "--json"]).json();
        check["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["feature"] == "020-events")
            .map(|p| p["code"].as_str().unwrap().to_owned())
            .collect()
    };
    // Settled and read twice: the second run takes the feature whole.
    let warm = |repo: &Repo| {
        std::thread::sleep(std::time::Duration::from_millis(2100));
        repo.kitty(&["status"]).ok();
        repo.kitty(&["status"]).ok();
    };
    warm(&repo);
    assert_cache_invisible(&repo, "unchanged");
    assert!(!problem_codes(&repo).contains(&"dependency-cycle".to_owned()));

    // One file edited: with WP02's dependency on WP01, a cycle across two files.
    let wp01 = repo.path(&format!("{tasks}/WP01-client.md"));
    let text = std::fs::read_to_string(&wp01).unwrap();
    let edited = text.replacen("dependencies: []", "dependencies: [WP02]", 1);
    assert_ne!(edited, text);
    std::fs::write(&wp01, edited).unwrap();
    assert!(problem_codes(&repo).contains(&"dependency-cycle".to_owned()));
    assert_cache_invisible(&repo, "a WP file edited");
    // Its problems come whole from the cache too.
    warm(&repo);
    assert!(problem_codes(&repo).contains(&"dependency-cycle".to_owned()));
    assert_cache_invisible(&repo, "a cycle, from the cache");

    // The event log edited: the lane replayed from it.
    warm(&repo);
    let log = repo.path("kitty-specs/020-events/status.events.jsonl");
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str(
        r#"{"actor": "x", "at": "2026-07-01T00:00:00Z", "event_id": "W1", "from_lane": "planned", "to_lane": "blocked", "wp_id": "WP03"}"#,
    );
    text.push('\n');
    std::fs::write(&log, text).unwrap();
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "020-events", "WP03")["lane"], "blocked");
    assert_cache_invisible(&repo, "the event log edited");

    // A WP file added that depends on one that does not exist (before the log and
    // meta.json here; after every other file in 010-legacy, which has neither), then removed.
    for (feature, id) in [("020-events", "WP04"), ("010-legacy", "WP05")] {
        warm(&repo);
        let file = format!("kitty-specs/{feature}/tasks/{id}-new.md");
        repo.write(
            &file,
            &format!("---\nwork_package_id: {id}\ndependencies: [WP09]\n---\n"),
        );
        let run = repo.kitty_env(&[], &["check", "--json"]).json();
        let unknown = |p: &&serde_json::Value| p["code"] == "unknown-dependency" && p["wp"] == id;
        assert!(
            run["problems"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| unknown(&p))
        );
        assert_cache_invisible(&repo, "a WP file added");
        warm(&repo);
        std::fs::remove_file(repo.path(&file)).unwrap();
        assert_cache_invisible(&repo, "a WP file removed");
    }
    assert!(!problem_codes(&repo).contains(&"unknown-dependency".to_owned()));

    // meta.json edited, then removed.
    warm(&repo);
    repo.write(
        "kitty-specs/020-events/meta.json",
        r#"{"slug": "020-events", "target_branch": "release"}"#,
    );
    assert_cache_invisible(&repo, "meta.json edited");
    warm(&repo);
    std::fs::remove_file(repo.path("kitty-specs/020-events/meta.json")).unwrap();
    assert_cache_invisible(&repo, "meta.json removed");
}

/// The files `check --json` reports an `ignored-entry` about.
fn problem_files(repo: &Repo) -> Vec<String> {
    let run = repo.kitty(&["check", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "ignored-entry")
        .map(|p| p["file"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The listing of each `tasks/` folder is kept by the folder's stamp: a WP file added,
/// removed, renamed or replaced by a symlink (each changes the folder) is seen at once, and
/// so is a WP file edited in place (its own stamp).
#[test]
fn the_tasks_listing_cache_follows_the_folder() {
    let repo = Repo::with_fixture("messy");
    let settle = || std::thread::sleep(std::time::Duration::from_millis(2100));
    let tasks = "kitty-specs/020-events/tasks";
    let ids = |repo: &Repo| -> Vec<String> {
        let status = repo.kitty(&["status", "--json"]).ok().json();
        feature(&status, "020-events")["work_packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_str().unwrap().to_owned())
            .collect()
    };
    settle();
    repo.kitty(&["status"]).ok();
    let cache = repo.path(".git/kitty/listing.cache");
    assert_eq!(cache_sections(&cache), ["010-legacy", "020-events"]);
    assert_eq!(ids(&repo), ["WP01", "WP02", "WP03"]);

    // Added (right after a cached listing: the folder's stamp changed).
    repo.write(
        &format!("{tasks}/WP04-new.md"),
        "---\nwork_package_id: WP04\ntitle: New\n---\n",
    );
    assert_eq!(ids(&repo), ["WP01", "WP02", "WP03", "WP04"]);
    assert_cache_invisible(&repo, "a WP file added");
    // Edited in place, the folder untouched.
    settle();
    repo.kitty(&["status"]).ok();
    repo.write(
        &format!("{tasks}/WP04-new.md"),
        "---\nwork_package_id: WP04\ntitle: Newer\n---\n",
    );
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "020-events", "WP04")["title"], "Newer");
    // Renamed to a name that is not read: reported instead.
    settle();
    repo.kitty(&["status"]).ok();
    std::fs::rename(
        repo.path(&format!("{tasks}/WP04-new.md")),
        repo.path(&format!("{tasks}/wp04-new.md")),
    )
    .unwrap();
    assert_eq!(ids(&repo), ["WP01", "WP02", "WP03"]);
    assert!(problem_files(&repo).contains(&format!("{tasks}/wp04-new.md")));
    assert_cache_invisible(&repo, "a WP file renamed");
    // Replaced by a symlink: not followed, reported.
    settle();
    repo.kitty(&["status"]).ok();
    std::fs::remove_file(repo.path(&format!("{tasks}/WP03-state.md"))).unwrap();
    std::os::unix::fs::symlink(
        "WP02-models.md",
        repo.path(&format!("{tasks}/WP03-state.md")),
    )
    .unwrap();
    assert_eq!(ids(&repo), ["WP01", "WP02"]);
    assert!(problem_files(&repo).contains(&format!("{tasks}/WP03-state.md")));
    assert_cache_invisible(&repo, "a WP file replaced by a symlink");
    // The whole folder replaced by a symlink: its section goes.
    settle();
    repo.kitty(&["status"]).ok();
    std::fs::rename(repo.path(tasks), repo.path("elsewhere")).unwrap();
    std::os::unix::fs::symlink(repo.path("elsewhere"), repo.path(tasks)).unwrap();
    assert_eq!(ids(&repo), Vec::<String>::new());
    assert_eq!(cache_sections(&cache), ["010-legacy"]);
    assert_cache_invisible(&repo, "tasks/ replaced by a symlink");
}

/// `status -f` reads and caches one feature, and leaves the others' cache as it was.
#[test]
fn one_feature_reads_its_own_part_of_the_cache() {
    let repo = Repo::with_fixture("messy");
    std::thread::sleep(std::time::Duration::from_millis(2100));
    repo.kitty(&["status", "-f", "020-events"]).ok();
    let cache = repo.path(".git/kitty/plan.cache");
    assert_eq!(cache_sections(&cache), ["020-events"]);
    repo.kitty(&["status"]).ok();
    assert_eq!(cache_sections(&cache), ["010-legacy", "020-events"]);
    let all = repo.kitty(&["status", "--json"]).json();
    let one = repo.kitty(&["status", "--json", "-f", "020-events"]).json();
    assert_eq!(one["features"][0], *feature(&all, "020-events"));
    // A feature folder removed: its section goes at the next full read.
    std::fs::remove_dir_all(repo.path("kitty-specs/010-legacy")).unwrap();
    repo.kitty(&["status"]).ok();
    assert_eq!(cache_sections(&cache), ["020-events"]);
}

#[test]
fn odd_titles_and_agents_cannot_break_the_board() {
    let repo = Repo::with_fixture("fan-out");
    repo.write(
        "kitty-specs/001-fan-out/tasks/WP01-core.md",
        "---\nwork_package_id: WP01\ntitle: \"⚠️ Security: rotate all the API keys\\tnow\\nplease\"\nlane: doing\nagent: \"\\e[31mred\"\n---\n",
    );
    repo.write(
        "kitty-specs/001-fan-out/tasks/WP02-api.md",
        "---\nwork_package_id: WP02\ntitle: 日本語のとても長いタイトルです、本当に長い\ndependencies: [WP01]\n---\n",
    );
    for width in ["40", "100", "250"] {
        let run = repo.kitty_env(&[("COLUMNS", Some(width))], &["status"]);
        run.ok();
        assert!(
            !run.stdout.contains('\x1b'),
            "escape sequence reached the terminal"
        );
        assert!(!run.stdout.contains('\t'));
        for line in run.stdout.lines() {
            assert!(
                unicode_width::UnicodeWidthStr::width(line)
                    <= width.parse::<usize>().unwrap().max(80) + 2,
                "line wider than the terminal: {line:?}"
            );
        }
    }
    repo.kitty(&["status", "--graph"]).ok();
    // JSON keeps the text as written.
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-fan-out", "WP01")["agent"], "\u{1b}[31mred");
}

#[test]
fn symlinked_folders_and_misnamed_files_are_reported_not_followed() {
    let repo = Repo::with_fixture("fan-out");
    let outside = repo.sandbox.path().join("outside-tasks");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("WP01-x.md"),
        "---\nwork_package_id: WP01\n---\n",
    )
    .unwrap();
    std::fs::create_dir_all(repo.path("kitty-specs/002-linked")).unwrap();
    std::os::unix::fs::symlink(&outside, repo.path("kitty-specs/002-linked/tasks")).unwrap();
    repo.write(
        "kitty-specs/001-fan-out/tasks/wp05-lower.md",
        "---\nwork_package_id: WP05\n---\n",
    );
    let json = repo.kitty(&["check", "--json"]).ok().json();
    let got: Vec<(&str, &str)> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["code"].as_str().unwrap(), p["file"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "ignored-entry",
                "kitty-specs/001-fan-out/tasks/wp05-lower.md"
            ),
            ("ignored-entry", "kitty-specs/002-linked/tasks"),
        ]
    );
    assert_eq!(json["work_packages"], 4);

    // A symlinked kitty-specs is not followed at all.
    let repo = Repo::new();
    let elsewhere = repo.sandbox.path().join("specs");
    crate::common::copy_dir(&crate::common::fixtures().join("fan-out/kitty-specs"), {
        std::fs::create_dir_all(&elsewhere).unwrap();
        &elsewhere
    });
    std::os::unix::fs::symlink(&elsewhere, repo.path("kitty-specs")).unwrap();
    let json = repo.kitty(&["check", "--json"]).ok().json();
    assert_eq!(json["features"], 0);
    assert_eq!(json["problems"][0]["file"], "kitty-specs");
}

#[test]
fn all_shows_every_feature_even_inside_a_worktree() {
    let repo = Repo::with_fixture("example");
    let wt = repo.sandbox.path().join("wt");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "002-search-WP02",
        wt.to_str().unwrap(),
    ]);
    let one = repo.kitty_in(&wt, &["status", "--json"]).ok().json();
    assert_eq!(one["features"].as_array().unwrap().len(), 1);
    let all = repo
        .kitty_in(&wt, &["status", "--json", "--all"])
        .ok()
        .json();
    assert_eq!(all["features"].as_array().unwrap().len(), 2);
}

#[test]
fn on_a_terminal_colours_are_on_unless_no_color() {
    // `script` gives the command a real terminal (util-linux, on every Debian).
    let repo = Repo::with_fixture("example");
    let kitty = assert_cmd::cargo::cargo_bin("git-kitty");
    let line = format!("{} status", kitty.display());
    let tty = |no_color: bool| {
        let mut cmd = repo.command_in("script", &repo.root);
        if !no_color {
            cmd.env_remove("NO_COLOR");
        }
        cmd.env("TERM", "xterm").args(["-qec", &line, "/dev/null"]);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = tty(false);
    assert!(
        coloured.contains("\x1b["),
        "no colour on a terminal: {coloured}"
    );
    assert!(coloured.contains("001-checkout"));
    let plain = tty(true);
    assert!(!plain.contains("\x1b["), "NO_COLOR ignored: {plain}");
}

#[test]
fn help_is_a_command_too() {
    let repo = Repo::new();
    repo.kitty(&["help", "status"])
        .ok()
        .stdout_has("Usage: git kitty status");
}

#[test]
fn usage_errors_answer_in_json_when_json_was_asked() {
    let repo = Repo::with_fixture("example");
    let run = repo.kitty(&["status", "--json", "-f", "../etc"]);
    run.code(2).stderr_has("is not a safe feature name");
    let json = run.json();
    assert_eq!(json["error"]["kind"], "usage");
    assert_eq!(json["error"]["exit_code"], 2);
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("../etc")
    );
    let run = repo.kitty(&["lane", "--json"]);
    run.code(2);
    assert_eq!(run.json()["error"]["kind"], "usage");
}

/// A WP listing 20,000 dependencies (reading it was once quadratic): repeats are dropped and
/// the first occurrence of each is kept, in order, with its line.
#[test]
fn twenty_thousand_dependencies_keep_their_first_occurrences() {
    let repo = Repo::new();
    let dir = "kitty-specs/001-many/tasks";
    repo.write(
        &format!("{dir}/WP01-core.md"),
        "---\nwork_package_id: WP01\ntitle: Core\n---\n",
    );
    let unknown: Vec<String> = (0..10_000).map(|k| format!("WP{}", 10_000 + k)).collect();
    let mut text = String::from("---\nwork_package_id: WP02\ntitle: Many\ndependencies:\n- WP01\n");
    for id in unknown.iter().chain(unknown.iter().rev()) {
        text.push_str(&format!("- {id}\n"));
    }
    text.push_str("- WP01\n---\n");
    repo.write(&format!("{dir}/WP02-many.md"), &text);
    repo.commit_all("plan");

    let status = repo.kitty(&["status", "--json"]).ok().json();
    let deps = strings(&wp(&status, "001-many", "WP02")["dependencies"]);
    assert_eq!(deps.len(), 1 + unknown.len());
    assert_eq!(deps[0], "WP01");
    assert_eq!(deps[1..], unknown[..]);
    let problems = status["problems"].as_array().unwrap();
    assert_eq!(problems.len(), unknown.len());
    // The unknown ids start on line 6; each is reported at its first occurrence.
    for (k, p) in problems.iter().enumerate() {
        assert_eq!(p["code"], "unknown-dependency");
        assert_eq!(p["line"].as_u64(), Some(6 + k as u64));
    }
}

/// A dense plan, each of 200 WPs depending on all earlier ones (drawing it was once
/// O(n⁴)): the graph shows only the edges a reader cannot infer, a chain.
#[test]
fn a_dense_plan_draws_as_a_chain() {
    let repo = Repo::new();
    let n = 200;
    for i in 1..=n {
        let deps: Vec<String> = (1..i).map(|j| format!("WP{j:03}")).collect();
        repo.write(
            &format!("kitty-specs/001-dense/tasks/WP{i:03}-task.md"),
            &format!(
                "---\nwork_package_id: WP{i:03}\ntitle: Task {i}\ndependencies: [{}]\n---\n",
                deps.join(", ")
            ),
        );
    }
    repo.commit_all("plan");

    let run = repo.kitty(&["status", "--graph"]);
    run.ok();
    // Labels are cut to 60 columns (every character here is one column wide).
    let column = |label: String| -> String {
        if label.chars().count() <= 60 {
            format!("{label:<60}")
        } else {
            let cut: String = label.chars().take(59).collect();
            format!("{cut}…")
        }
    };
    let mut expected = String::from("001-dense\n");
    for i in 1..=n {
        let label = match i {
            1 => "WP001 Task 1".to_owned(),
            _ => format!("{}└─ WP{i:03} Task {i}", "   ".repeat(i - 2)),
        };
        expected.push_str(&format!("{}  planned\n", column(label)));
    }
    assert_eq!(run.stdout, expected);

    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(strings(&feature(&status, "001-dense")["ready"]), ["WP001"]);
    let last = wp(&status, "001-dense", "WP200");
    assert_eq!(strings(&last["dependencies"]).len(), n - 1);
    assert_eq!(strings(&last["waiting_on"]).len(), n - 1);
}

#[test]
fn an_80_column_board_wraps_card_details_instead_of_cutting_them() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01", "--agent", "claude-opus"])
        .ok();
    std::fs::remove_dir_all(repo.worktree("001-fan-out-WP01")).unwrap();
    let run = repo.kitty_env(&[("COLUMNS", Some("80"))], &["status"]);
    run.ok();
    let board: Vec<&str> = run.stdout.lines().take(7).collect();
    assert_eq!(
        board,
        [
            "001-fan-out  0/4 done (0%) · 7.5% weighted",
            "  Planned         Doing           For Review      Approved        Done",
            "  ──────────────  ──────────────  ──────────────  ──────────────  ──────────────",
            "  WP02 API        WP01 Core",
            "  WP03 CLI          claude-opus",
            "  WP04 Docs         no worktree",
            "                    just now",
        ]
    );
    // Sections wrap at spaces, never inside a command to copy.
    run.stdout_has(
        "  No worktree     WP01  Core\n\
         \x20                       `git kitty implement WP01 --agent claude-opus` makes it\n\
         \x20                       again\n",
    );
    assert!(
        run.stdout.lines().all(|l| l.chars().count() <= 80),
        "{}",
        run.stdout
    );
}

/// The README's "An agent's loop" block, run as written (the work step replaced by a commit):
/// it works when a WP is ready and fails safe, staying where it was, when none is.
#[test]
fn the_readme_agent_loop_runs_as_written() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let section = readme.split("## An agent's loop").nth(1).unwrap();
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap();
    let script = block.replace(
        "# ... work, commit (the hooks know the agent inside its worktree) ...",
        "echo work > work.txt && git add work.txt && git commit -q -m work && pwd > \"$OUT\"",
    );
    let repo = Repo::with_fixture("linear");
    repo.kitty(&["hooks", "install"]).ok();
    let out = repo.sandbox.path().join("where");
    let run = |script: &str| {
        repo.command_in("sh", &repo.root)
            .env_remove("KITTY_AGENT")
            .env("OUT", &out)
            .arg("-c")
            .arg(script)
            .output()
            .unwrap()
    };
    let first = run(&script);
    assert!(first.status.success(), "{first:?}");
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .trim()
            .ends_with(".worktrees/001-linear-WP01")
    );
    assert_eq!(repo.lane("001-linear", "WP01"), "for_review");
    // WP02 waits on WP01 (for review): nothing is ready, so no cd and no lane move.
    std::fs::remove_file(&out).unwrap();
    let second = run(&script);
    assert_eq!(second.status.code(), Some(3), "{second:?}");
    assert!(!out.exists(), "the loop went on without a worktree");
    assert_eq!(repo.lane("001-linear", "WP02"), "planned");
}

/// The README's flow with two agents and a reviewer, hooks installed, no KITTY_AGENT: each
/// agent takes its own WP with the loop as written, commits with the machine's git identity,
/// and the reviewed work lands in dependency order.
#[test]
fn the_readme_flow_with_two_agents_lands_their_work() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let block = readme
        .split("## An agent's loop")
        .nth(1)
        .and_then(|s| s.split("```sh\n").nth(1))
        .and_then(|b| b.split("```").next())
        .unwrap()
        .to_owned();
    let loop_for = |agent: &str| {
        block
            .replace("--agent claude", &format!("--agent {agent}"))
            .replace(
                "# ... work, commit (the hooks know the agent inside its worktree) ...",
                &format!(
                    "f={agent}-$(basename \"$dir\").txt && echo {agent} > \"$f\" && git add \"$f\" && git commit -q -m {agent}"
                ),
            )
    };
    let repo = Repo::with_fixture("fan-out");
    repo.git(&["config", "user.name", "Build Machine"]);
    repo.kitty(&["hooks", "install"]).ok();
    let sh = |script: &str| {
        let out = repo
            .command_in("sh", &repo.root)
            .env_remove("KITTY_AGENT")
            .arg("-c")
            .arg(script)
            .output()
            .unwrap();
        assert!(out.status.success(), "{script}\n{out:?}");
    };
    let review = |wp: &str| {
        for lane in ["in_review", "approved"] {
            repo.kitty(&["lane", wp, lane, "--agent", "rev"]).ok();
        }
    };
    sh(&loop_for("claude"));
    review("WP01");
    repo.kitty(&["merge", "--agent", "rev"]).ok();
    // WP01 landed: WP02, WP03 and WP04 are ready; two agents take two of them.
    sh(&loop_for("claude"));
    sh(&loop_for("codex"));
    let status = repo.kitty(&["status", "--json"]).ok().json();
    let taken: Vec<(String, String)> = status["features"][0]["work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["lane"] == "for_review")
        .map(|w| {
            (
                w["id"].as_str().unwrap().to_owned(),
                w["agent"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(taken.len(), 2, "{taken:?}");
    assert_ne!(taken[0].1, taken[1].1, "one WP each: {taken:?}");
    for (wp, _) in &taken {
        review(wp);
    }
    repo.kitty(&["merge", "--agent", "rev"]).ok();
    for (wp, agent) in &taken {
        let file = format!("{agent}-001-fan-out-{wp}.txt");
        assert!(repo.path(&file).exists(), "{file} did not land on main");
        assert_eq!(repo.lane("001-fan-out", wp), "done");
    }
    assert!(repo.path("claude-001-fan-out-WP01.txt").exists());
    // The agents' commits (made with the machine's identity) carry their WPs' trailers.
    let log = repo.git(&[
        "log",
        "--format=%s%n%(trailers:key=Kitty-WP,valueonly)",
        "main",
    ]);
    let codex_wp = &taken.iter().find(|(_, a)| a == "codex").unwrap().0;
    assert!(
        log.contains(&format!("codex\n001-fan-out/{codex_wp}\n")),
        "{log}"
    );
}
