//! `git kitty merge --dry-run` is the plan the real run carries out: on the same repository,
//! the dry run's "would land" list, its predicted conflicts, its skipped WPs and its exit
//! status are what the real run lands, hits, skips and exits with.

use crate::common::{Repo, Run};

/// Implement `id` (stacked on `bases`), commit `file` with `content`, get it approved.
fn approved(repo: &Repo, id: &str, bases: &[&str], file: &str, content: &str) {
    let mut args = vec!["implement", id];
    for b in bases {
        args.extend(["--base", b]);
    }
    repo.kitty(&args).ok();
    let feature = repo
        .git(&[
            "branch",
            "--list",
            &format!("*-{id}"),
            "--format=%(refname:short)",
        ])
        .trim()
        .to_owned();
    repo.commit_in(&repo.worktree(&feature), file, content);
    repo.kitty(&["lane", id, "for_review"]).ok();
    repo.kitty(&["lane", id, "approved", "--agent", "reviewer"])
        .ok();
}

/// What a run reports: landed WPs with their commits, conflicts with their paths, skipped
/// WPs with why, and the exit status.
#[derive(Debug, PartialEq)]
struct Result {
    code: i32,
    landed: Vec<(String, String)>,
    conflicts: Vec<(String, Vec<String>)>,
    skipped: Vec<(String, String)>,
}

fn result(run: &Run) -> Result {
    let json = run.json();
    let list = |key: &str| json[key].as_array().cloned().unwrap_or_default();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    Result {
        code: run.code,
        landed: list("merged")
            .iter()
            .map(|m| (text(&m["wp"]), text(&m["commit"])))
            .collect(),
        conflicts: list("conflicts")
            .iter()
            .map(|c| {
                let paths = c["paths"].as_array().unwrap().iter().map(text).collect();
                (text(&c["wp"]), paths)
            })
            .collect(),
        skipped: list("skipped")
            .iter()
            .map(|s| (text(&s["wp"]), text(&s["reason"])))
            .collect(),
    }
}

/// Build `scenario` twice (identically: fixed dates, fixed clock), run `merge --dry-run
/// --json` on one and `merge --json` on the other, and require the same result; that result.
fn dry_run_equals_real_run(fixture: &str, scenario: impl Fn(&Repo)) -> (Result, Repo) {
    let (dry, real) = (Repo::with_fixture(fixture), Repo::with_fixture(fixture));
    scenario(&dry);
    scenario(&real);
    let before = dry.git(&["rev-parse", "main"]);
    let planned = result(&dry.kitty(&["merge", "--dry-run", "--json"]));
    assert_eq!(
        dry.git(&["rev-parse", "main"]),
        before,
        "the dry run moved main"
    );
    let landed = result(&real.kitty(&["merge", "--json"]));
    assert_eq!(planned, landed, "the dry run and the real run differ");
    // What the real run reports is what happened: main's landings, in order.
    let trailers = real.git(&[
        "log",
        "--first-parent",
        "--reverse",
        "--format=%(trailers:key=Kitty-Landed,valueonly)",
        &format!("{}..main", before.trim()),
    ]);
    let on_main: Vec<String> = trailers
        .lines()
        .filter_map(|l| l.split('/').nth(1).map(str::to_owned))
        .collect();
    let reported: Vec<String> = landed.landed.iter().map(|(w, _)| w.clone()).collect();
    assert_eq!(on_main, reported);
    (landed, real)
}

fn wps(r: &Result) -> Vec<&str> {
    r.landed.iter().map(|(w, _)| w.as_str()).collect()
}

#[test]
fn a_fan_out_with_a_conflict_lands_every_independent_wp() {
    // WP02 and WP03 (both on WP01) write the same file; WP04 (on WP01) is independent of both.
    let (r, repo) = dry_run_equals_real_run("fan-out", |repo| {
        approved(repo, "WP01", &[], "core.rs", "core\n");
        approved(repo, "WP02", &["WP01"], "shared.txt", "api\n");
        approved(repo, "WP03", &["WP01"], "shared.txt", "cli\n");
        approved(repo, "WP04", &["WP01"], "docs.md", "docs\n");
    });
    assert_eq!(wps(&r), ["WP01", "WP02", "WP04"]);
    assert_eq!(r.conflicts, [("WP03".into(), vec!["shared.txt".into()])]);
    assert_eq!(r.code, 4);
    assert_eq!(repo.lane("001-fan-out", "WP03"), "approved");
    assert_eq!(repo.lane("001-fan-out", "WP04"), "done");
    // For people: what landed on stdout, the conflict and the way out on stderr.
    let run = conflicted_fan_out_text();
    run.code(4)
        .stdout_has("WP04: merged into main as ")
        .stdout_has("  WP03  skipped: conflicts with main: shared.txt")
        .stderr_has("error: WP03 conflicts with main\n")
        .stderr_has("caused by: landed all the same: WP01, WP02, WP04")
        .stderr_has("caused by: WP03: shared.txt")
        .stderr_has("hint: main is unchanged by WP03. 001-fan-out-WP03 needs main's latest work: `git kitty lane WP03 in_progress -f 001-fan-out --note \"conflicts with main\"`");
}

/// The conflicting fan-out, merged without `--json`.
fn conflicted_fan_out_text() -> Run {
    let repo = Repo::with_fixture("fan-out");
    approved(&repo, "WP01", &[], "core.rs", "core\n");
    approved(&repo, "WP02", &["WP01"], "shared.txt", "api\n");
    approved(&repo, "WP03", &["WP01"], "shared.txt", "cli\n");
    approved(&repo, "WP04", &["WP01"], "docs.md", "docs\n");
    repo.kitty(&["merge", "--dry-run"])
        .code(4)
        .stdout_has("would land, in this order: WP01, WP02, WP04")
        .stdout_has("  WP03  would conflict with main: shared.txt")
        .stderr_has("error: WP03 would conflict with main\n");
    repo.kitty(&["merge"])
}

#[test]
fn a_diamond_with_a_conflict_holds_back_the_join() {
    let (r, _) = dry_run_equals_real_run("diamond", |repo| {
        approved(repo, "WP01", &[], "schema.sql", "schema\n");
        approved(repo, "WP02", &["WP01"], "backend.rs", "backend\n");
        approved(repo, "WP03", &["WP01"], "README.md", "WP03's readme\n");
        approved(repo, "WP04", &["WP02", "WP03"], "integration.rs", "x\n");
        // main changes what WP03 changed: WP03 (and so WP04) conflicts, WP02 does not.
        repo.write("README.md", "main's readme\n");
        repo.commit_all("readme");
    });
    assert_eq!(wps(&r), ["WP01", "WP02"]);
    assert_eq!(r.conflicts, [("WP03".into(), vec!["README.md".into()])]);
    assert_eq!(
        r.skipped,
        [("WP04".into(), "waits on unmerged WP03 (conflicts)".into())]
    );
    assert_eq!(r.code, 4);
}

#[test]
fn a_clean_diamond_and_a_clean_chain_land_whole() {
    let (r, _) = dry_run_equals_real_run("diamond", |repo| {
        approved(repo, "WP01", &[], "schema.sql", "schema\n");
        approved(repo, "WP02", &[], "backend.rs", "backend\n");
        approved(repo, "WP03", &[], "frontend.ts", "frontend\n");
        approved(repo, "WP04", &["WP02", "WP03"], "integration.rs", "x\n");
    });
    assert_eq!(wps(&r), ["WP01", "WP02", "WP03", "WP04"]);
    assert_eq!((r.code, r.conflicts.len()), (0, 0));
    let (r, _) = dry_run_equals_real_run("linear", |repo| {
        approved(repo, "WP01", &[], "one.txt", "1\n");
        approved(repo, "WP02", &["WP01"], "two.txt", "2\n");
        approved(repo, "WP03", &["WP02"], "three.txt", "3\n");
    });
    assert_eq!(wps(&r), ["WP01", "WP02", "WP03"]);
    assert_eq!(r.code, 0);
}

#[test]
fn a_chain_with_a_conflict_in_the_middle_stops_that_branch_of_it() {
    // WP02 (stacked on WP01) edits a file main changed meanwhile; WP03 is stacked on WP02.
    let (r, _) = dry_run_equals_real_run("linear", |repo| {
        approved(repo, "WP01", &[], "one.txt", "1\n");
        approved(repo, "WP02", &["WP01"], "README.md", "WP02's readme\n");
        approved(repo, "WP03", &["WP02"], "three.txt", "3\n");
        repo.write("README.md", "main's readme\n");
        repo.commit_all("readme");
    });
    assert_eq!(wps(&r), ["WP01"]);
    assert_eq!(r.conflicts, [("WP02".into(), vec!["README.md".into()])]);
    assert_eq!(
        r.skipped,
        [("WP03".into(), "waits on unmerged WP02 (conflicts)".into())]
    );
    assert_eq!(r.code, 4);
}

#[test]
fn a_dirty_target_checkout_is_refused_by_the_dry_run_too() {
    for args in [&["merge", "--dry-run"][..], &["merge"]] {
        let repo = Repo::with_fixture("linear");
        approved(&repo, "WP01", &[], "one.txt", "1\n");
        std::fs::write(repo.path("README.md"), "edited\n").unwrap();
        let head = repo.git(&["rev-parse", "main"]);
        repo.kitty(args)
            .code(1)
            .stderr_has("error: main is checked out in $REPO with uncommitted changes: README.md");
        assert_eq!(repo.git(&["rev-parse", "main"]), head);
        assert_eq!(repo.lane("001-linear", "WP01"), "approved");
    }
}
