//! Benchmark: the cost of reading the plan and the board as the plan grows.
//!
//! `cargo bench --bench board` builds the release binaries, generates repositories of
//! F features x 25 WPs with realistic frontmatter (history, owned files, unknown fields,
//! dependencies) and times whole `git kitty` processes, as a user or an agent runs them.
//! Method and figures: docs/performance.md. `KITTY_BENCH_RUNS` sets the runs per case.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod adversarial;
mod real_shape;

const WPS_PER_FEATURE: usize = 25;

fn main() {
    // `cargo bench` passes `--bench`; anything else is a filter on case names.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let runs: usize = std::env::var("KITTY_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    // KITTY_BENCH_DIR keeps the generated repositories (for profiling); else a temp dir.
    let tmp = tempfile::tempdir().unwrap();
    let base =
        std::env::var_os("KITTY_BENCH_DIR").map_or_else(|| tmp.path().to_path_buf(), Into::into);
    println!(
        "git kitty benchmark: {} runs per case (median, min, max), {} CPUs",
        runs,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!();
    match baseline() {
        Some(old) => {
            println!("Baseline (run alternately): {}", old.display());
            println!();
            println!("| case | WPs | median | min | max | baseline | ratio |");
            println!("|---|---:|---:|---:|---:|---:|---:|");
        }
        None => {
            println!("| case | WPs | median | min | max |");
            println!("|---|---:|---:|---:|---:|");
        }
    }
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    // The real-shaped plan (128 MB to generate) runs only when a filter names it.
    let named = |name: &str| filter.iter().any(|f| name.contains(f.as_str()));

    plan_cases(&base, runs, &wanted);
    state_cases(&base, runs, &wanted);
    if wanted("implement") {
        implement_vs_worktree(&base, runs);
    }
    let (stated, wps) = (base.join("plan-100-state"), 100 * WPS_PER_FEATURE);
    let case = "pull: 2500 WPs with state, 100 diverged";
    if wanted(case) {
        report(
            case,
            wps,
            &pull_with_divergence(&base, &stated, runs.min(10)),
        );
    }
    let case = "note (one event), all WPs with state refs";
    if wanted(case) {
        let note = [
            "note",
            "WP07",
            "benchmark note",
            "-f",
            "050-feature-49",
            "--agent",
            "bench",
        ];
        report(case, wps, &time(&stated, &[&note[..]], runs, false));
    }
    adversarial::cases(&base, runs, &wanted);
    real_cases(&base, runs, &named);
}

/// The real-shaped plan (see `real_shape.rs`): each case timed alternately with
/// `git status --porcelain -- kitty-specs` on the same repository, and the ratio of medians.
fn real_cases(base: &Path, runs: usize, wanted: &dyn Fn(&str) -> bool) {
    if !real_case_list(base).iter().any(|(name, ..)| wanted(name)) {
        return;
    }
    let repo = base.join("real-shape");
    if !repo.join(".git").exists() {
        let start = Instant::now();
        let totals = real_shape::generate(&repo);
        let written = start.elapsed();
        git(&repo, &["init", "-q", "-b", "main"]);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", "plan"]);
        println!();
        println!(
            "Real-shaped plan: {} files, {:.1} MB under kitty-specs/; {} WP files ({:.1} KB on average); {} event logs, {:.1} MB (largest {:.1} MB). Written in {:.1} s, committed in {:.1} s.",
            totals.files,
            mb(totals.bytes),
            real_shape::WPS,
            totals.wp_bytes as f64 / real_shape::WPS as f64 / 1024.0,
            totals.events_files,
            mb(totals.events_bytes),
            mb(totals.largest_events),
            written.as_secs_f64(),
            (start.elapsed() - written).as_secs_f64(),
        );
        std::thread::sleep(Duration::from_millis(2100));
    }
    // A real clone has a remote: the board compares state with it (by ref listings, never the
    // network). Without one here, a listing per feature (250 ms) went unmeasured.
    let origin = base.join("real-shape-origin.git");
    if !origin.exists() {
        git(base, &["init", "-q", "--bare", "real-shape-origin.git"]);
        git(
            &repo,
            &["remote", "add", "origin", "../real-shape-origin.git"],
        );
    }
    // Listed again now that the plan exists: the `-f` cases name a feature of it.
    let cases = real_case_list(base);
    println!();
    if baseline().is_some() {
        println!(
            "| case (real-shaped plan) | WPs | median | min | max | git status | ratio | baseline | baseline ratio |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    } else {
        println!("| case (real-shaped plan) | WPs | median | min | max | git status | ratio |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
    }
    for (name, args, mode) in &cases {
        if wanted(name) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let timed = time_against_git(&repo, &args, runs, *mode);
            report_ratio(name, real_shape::WPS, &timed);
        }
    }
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1024.0 / 1024.0
}

/// The real-shaped cases: name, arguments, cache mode.
fn real_case_list(base: &Path) -> Vec<(String, Vec<String>, CacheMode)> {
    let feature = largest_log_feature(&base.join("real-shape"));
    let mut cases = Vec::new();
    for (name, args) in [
        ("status --json", vec!["status", "--json"]),
        ("status", vec!["status"]),
        ("check", vec!["check"]),
        (
            "status -f <feature with the largest log>",
            vec!["status", "-f", feature.as_str()],
        ),
        (
            "status --json -f <feature with the largest log>",
            vec!["status", "--json", "-f", feature.as_str()],
        ),
    ] {
        for mode in [CacheMode::Warm, CacheMode::NoCache, CacheMode::Fresh] {
            let args = args.iter().map(|a| (*a).to_owned()).collect();
            cases.push((format!("real-shaped: {name} ({})", mode.name()), args, mode));
        }
    }
    cases
}

/// The feature whose `status.events.jsonl` is the largest (empty before generation).
fn largest_log_feature(repo: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(repo.join("kitty-specs")) else {
        return String::new();
    };
    entries
        .filter_map(|e| {
            let e = e.ok()?;
            let size = std::fs::metadata(e.path().join("status.events.jsonl"))
                .ok()?
                .len();
            Some((size, e.file_name().into_string().ok()?))
        })
        .max()
        .map(|(_, name)| name)
        .unwrap_or_default()
}

#[derive(Clone, Copy)]
enum CacheMode {
    /// Caches filled by the warm-up runs, as in daily use.
    Warm,
    /// `KITTY_NO_CACHE=1`: every file read and parsed, nothing written.
    NoCache,
    /// The cache directory removed before each run (a fresh clone's first run: everything
    /// read and parsed, and the caches written).
    Fresh,
}

impl CacheMode {
    fn name(self) -> &'static str {
        match self {
            CacheMode::Warm => "warm",
            CacheMode::NoCache => "cold: no cache",
            CacheMode::Fresh => "cold: first run, writes the cache",
        }
    }
}

/// Samples of one real-shaped case: this build, git status, and the baseline if any.
struct Timed {
    kitty: Vec<Duration>,
    git: Vec<Duration>,
    baseline: Vec<Duration>,
}

/// Run `git-kitty <args>` and `git status --porcelain -- kitty-specs` alternately in `dir`
/// (and the baseline before them, if any), `runs` times each after three warm-up rounds.
fn time_against_git(dir: &Path, args: &[&str], runs: usize, mode: CacheMode) -> Timed {
    let mut timed = Timed {
        kitty: Vec::new(),
        git: Vec::new(),
        baseline: Vec::new(),
    };
    // The baseline in its own copy, with its own caches (see `time`).
    let old_dir = baseline().map(|_| mirror(dir));
    let kitty = |exe: &Path, dir: &Path| {
        let cache_dir = dir.join(".git").join("kitty");
        if matches!(mode, CacheMode::Fresh) && cache_dir.exists() {
            std::fs::remove_dir_all(&cache_dir).unwrap();
        }
        let start = Instant::now();
        run_kitty(exe, dir, args, matches!(mode, CacheMode::NoCache));
        start.elapsed()
    };
    for round in 0..runs + 3 {
        let old = baseline()
            .zip(old_dir.as_deref())
            .map(|(exe, d)| kitty(exe, d));
        let k = kitty(this_build(), dir);
        let start = Instant::now();
        let status = Command::new("git")
            .args(["status", "--porcelain", "--", "kitty-specs"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        let g = start.elapsed();
        assert!(status.success());
        if round >= 3 {
            timed.kitty.push(k);
            timed.git.push(g);
            timed.baseline.extend(old);
        }
    }
    timed
}

fn report_ratio(name: &str, wps: usize, timed: &Timed) {
    let ((k, kmin, kmax), (g, _, _)) = (stats(&timed.kitty), stats(&timed.git));
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    let extra = if timed.baseline.is_empty() {
        String::new()
    } else {
        let (b, _, _) = stats(&timed.baseline);
        format!(" {} | {:.2}x |", ms(b), b.as_secs_f64() / g.as_secs_f64())
    };
    println!(
        "| {name} | {wps} | {} | {} | {} | {} | {:.2}x |{extra}",
        ms(k),
        ms(kmin),
        ms(kmax),
        ms(g),
        k.as_secs_f64() / g.as_secs_f64()
    );
}

/// Reading the plan and the board at 250, 1,250 and 2,500 WPs, warm and cold.
fn plan_cases(base: &Path, runs: usize, wanted: &dyn Fn(&str) -> bool) {
    for features in [10, 50, 100] {
        let wps = features * WPS_PER_FEATURE;
        let repo = base.join(format!("plan-{features}"));
        if !repo.join(".git").exists() {
            generate_plan(&repo, features);
            // The plan cache only keeps files older than two seconds (racy-git rule).
            std::thread::sleep(Duration::from_millis(2100));
        }
        for (name, args) in [
            ("status --json", &["status", "--json"][..]),
            ("status", &["status"][..]),
            ("check", &["check"][..]),
        ] {
            // Warm: the plan cache is filled by the warm-up runs. Cold: no cache at all.
            for (mode, no_cache) in [("warm", false), ("cold", true)] {
                let case = format!("{name} ({mode})");
                if wanted(&case) {
                    report(&case, wps, &time(&repo, &[args], runs, no_cache));
                }
            }
        }
    }
}

/// Lanes in refs: every one of the 2,500 WPs has a state ref with a few events.
fn state_cases(base: &Path, runs: usize, wanted: &dyn Fn(&str) -> bool) {
    let plain = base.join("plan-100");
    let stated = base.join("plan-100-state");
    if !stated.join(".git").exists() {
        copy_tree(&plain, &stated);
        add_states(&stated);
    }
    let wps = 100 * WPS_PER_FEATURE;
    for (name, args) in [
        (
            "status --json, all WPs with state refs",
            &["status", "--json"][..],
        ),
        ("status, all WPs with state refs", &["status"][..]),
    ] {
        for (mode, no_cache) in [("warm", false), ("cold", true)] {
            let case = format!("{name} ({mode})");
            if wanted(&case) {
                report(&case, wps, &time(&stated, &[args], runs, no_cache));
            }
        }
    }
    // One lane move, in the same repository: alternately blocked and back.
    let case = "lane (one move), all WPs with state refs";
    if wanted(case) {
        let there = [
            "lane",
            "WP25",
            "blocked",
            "-f",
            "050-feature-49",
            "--agent",
            "bench",
        ];
        let back = [
            "lane",
            "WP25",
            "in_progress",
            "-f",
            "050-feature-49",
            "--agent",
            "bench",
        ];
        let samples = time(&stated, &[&there[..], &back[..]], runs, false);
        report(case, wps, &samples);
    }
}

/// `implement` against a plain `git worktree add` on the same repository (250 WPs): what git
/// kitty adds on top of the checkout (plan, state, base, claim).
fn implement_vs_worktree(base: &Path, runs: usize) {
    let repo = base.join("implement-10");
    if repo.exists() {
        std::fs::remove_dir_all(&repo).unwrap();
    }
    copy_tree(&base.join("plan-10"), &repo);
    let wps = 10 * WPS_PER_FEATURE;
    // A different planned WP each run (numbers 4, 5, 9, 10... are planned in generated
    // plans); the gate is forced: this measures the mechanics, not the plan.
    let planned: Vec<usize> = (1..=WPS_PER_FEATURE)
        .filter(|n| matches!(n % 5, 0 | 4))
        .collect();
    // A different WP for every run, the baseline's runs included.
    let implement: Vec<Vec<String>> = (0..2 * (runs + 3))
        .map(|i| {
            let f = i % 10;
            let w = planned[(i / 10) % planned.len()];
            vec![
                "implement".into(),
                format!("WP{w:02}"),
                "-f".into(),
                format!("{:03}-feature-{f}", f + 1),
                "--force".into(),
                "--reason".into(),
                "benchmark".into(),
                "--agent".into(),
                "bench".into(),
            ]
        })
        .collect();
    let lists: Vec<Vec<&str>> = implement
        .iter()
        .map(|a| a.iter().map(String::as_str).collect())
        .collect();
    let refs: Vec<&[&str]> = lists.iter().map(Vec::as_slice).collect();
    report(
        "implement (one WP, new worktree)",
        wps,
        &time(&repo, &refs, runs, false),
    );

    let mut samples = Vec::new();
    for i in 0..runs + 3 {
        let start = Instant::now();
        git(
            &repo,
            &[
                "worktree",
                "add",
                "--quiet",
                "-b",
                &format!("plain-{i}"),
                &format!(".worktrees/plain-{i}"),
                "main",
            ],
        );
        if i >= 3 {
            samples.push(start.elapsed());
        }
    }
    report("git worktree add (same repository)", wps, &samples);
}

/// `git kitty pull` of 2,500 WPs' state of which 100 diverged: a remote holding every WP's
/// state, clone A that has it all, clone B that adds an event to 100 WPs and pushes while A
/// adds one to the same 100. Each run times A's pull (fetch, 100 replay merges, 2,400 WPs
/// unchanged), then makes the next divergence on top.
fn pull_with_divergence(base: &Path, stated: &Path, runs: usize) -> Vec<Duration> {
    let dir = base.join("pull");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    let remote = dir.join("remote.git");
    git(
        &dir,
        &[
            "clone",
            "-q",
            "--bare",
            stated.to_str().unwrap(),
            remote.to_str().unwrap(),
        ],
    );
    git(
        &dir,
        &[
            "--git-dir",
            remote.to_str().unwrap(),
            "fetch",
            "-q",
            stated.to_str().unwrap(),
            "+refs/kitty/*:refs/kitty/*",
        ],
    );
    let (a, b) = (dir.join("a"), dir.join("b"));
    for c in [&a, &b] {
        git(
            &dir,
            &["clone", "-q", remote.to_str().unwrap(), c.to_str().unwrap()],
        );
        kitty(c, &["pull", "--agent", "bench"]);
    }
    let diverging: Vec<(String, String)> = (0..100)
        .map(|i| {
            (
                format!("{:03}-feature-{}", i % 100 + 1, i % 100),
                format!("WP{:02}", i / 100 + 1),
            )
        })
        .collect();
    let mut samples = Vec::new();
    for _ in 0..runs {
        add_notes(&b, &diverging, "from b");
        kitty(&b, &["push", "--agent", "bench"]);
        add_notes(&a, &diverging, "from a");
        let start = Instant::now();
        kitty(&a, &["pull", "--agent", "bench"]);
        samples.push(start.elapsed());
        kitty(&a, &["push", "--agent", "bench"]);
        kitty(&b, &["pull", "--agent", "bench"]);
    }
    samples
}

fn add_notes(root: &Path, wps: &[(String, String)], text: &str) {
    use git_kitty::state::schema::{EventKind, WpState};
    use git_kitty::state::store;
    let repo = git_kitty::git::Repo::discover(root).unwrap();
    for (f, w) in wps {
        let feature: git_kitty::model::ids::FeatureSlug = f.parse().unwrap();
        let wp: git_kitty::model::ids::WpId = w.parse().unwrap();
        let initial = || {
            WpState::initial(
                feature.clone(),
                wp.clone(),
                git_kitty::model::lane::Lane::Planned,
                None,
            )
        };
        store::append(&repo, &feature, &wp, &initial, &mut |_| {
            let mut e = store::draft(EventKind::Note, "bench");
            e.note = Some(text.into());
            Ok(Some(e))
        })
        .unwrap();
    }
}

/// Run `git-kitty` and require success.
fn kitty(dir: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_git-kitty"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git kitty {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Give every WP of the repository a state ref: claimed, then in progress (two events),
/// written in process through the library, as `git kitty lane` would.
fn add_states(root: &Path) {
    use git_kitty::state::schema::{EventKind, WpState};
    use git_kitty::state::store;
    let repo = git_kitty::git::Repo::discover(root).unwrap();
    for f in 0..100 {
        let feature: git_kitty::model::ids::FeatureSlug =
            format!("{:03}-feature-{f}", f + 1).parse().unwrap();
        for w in 1..=WPS_PER_FEATURE {
            let wp: git_kitty::model::ids::WpId = format!("WP{w:02}").parse().unwrap();
            for to in [
                git_kitty::model::lane::Lane::Claimed,
                git_kitty::model::lane::Lane::InProgress,
            ] {
                let initial = || {
                    WpState::initial(
                        feature.clone(),
                        wp.clone(),
                        git_kitty::model::lane::Lane::Planned,
                        None,
                    )
                };
                store::append(&repo, &feature, &wp, &initial, &mut |state| {
                    let mut e = store::draft(EventKind::Lane, "bench");
                    e.from = Some(state.lane);
                    e.to = Some(to);
                    e.forced = true;
                    e.reason = Some("benchmark set-up".into());
                    Ok(Some(e))
                })
                .unwrap();
            }
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-R")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

pub fn report(name: &str, wps: usize, samples: &[Duration]) {
    let (median, min, max) = stats(samples);
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    let old = std::mem::take(&mut *BASELINE_SAMPLES.lock().unwrap());
    let extra = match (baseline(), old.is_empty()) {
        (None, _) => String::new(),
        (Some(_), true) => " – | – |".to_owned(),
        (Some(_), false) => {
            let (b, _, _) = stats(&old);
            format!(
                " {} | {:.2} |",
                ms(b),
                median.as_secs_f64() / b.as_secs_f64()
            )
        }
    };
    println!(
        "| {name} | {wps} | {} | {} | {} |{extra}",
        ms(median),
        ms(min),
        ms(max)
    );
}

/// Median, min and max.
fn stats(samples: &[Duration]) -> (Duration, Duration, Duration) {
    let mut s = samples.to_vec();
    s.sort();
    (s[s.len() / 2], s[0], s[s.len() - 1])
}

/// `KITTY_BENCH_BASELINE=<another git-kitty>`: every case timed with `time` runs that binary
/// too, alternately with this one on the same repositories, and reports the ratio.
fn baseline() -> Option<&'static std::path::PathBuf> {
    static BASELINE: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    BASELINE
        .get_or_init(|| std::env::var_os("KITTY_BENCH_BASELINE").map(Into::into))
        .as_ref()
}

/// The baseline's samples of the case being timed, for `report`.
static BASELINE_SAMPLES: std::sync::Mutex<Vec<Duration>> = std::sync::Mutex::new(Vec::new());

/// This build's `git-kitty`.
fn this_build() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_git-kitty"))
}

/// Run `git-kitty <args>` in `dir` `runs` times after three warm-up runs. With several
/// argument lists, runs take them in turn (a move and its way back).
fn time(dir: &Path, arg_lists: &[&[&str]], runs: usize, no_cache: bool) -> Vec<Duration> {
    let (mut turn, mut old_turn) = (0, 0);
    let mut old = Vec::new();
    // The baseline runs in its own copy of the repository, so that each build keeps its own
    // caches (two builds with different cache formats would each find the other's and read
    // everything again). Each takes the next argument list in its copy: a command that
    // changes the repository (a move and back) never becomes a no-op.
    let old_dir = baseline().map(|_| mirror(dir));
    let mut run = |keep: bool| {
        if let (Some(exe), Some(old_dir)) = (baseline(), &old_dir) {
            let args = arg_lists[old_turn % arg_lists.len()];
            old_turn += 1;
            let start = Instant::now();
            run_kitty(exe, old_dir, args, no_cache);
            if keep {
                old.push(start.elapsed());
            }
        }
        let args = arg_lists[turn % arg_lists.len()];
        turn += 1;
        let start = Instant::now();
        run_kitty(this_build(), dir, args, no_cache);
        start.elapsed()
    };
    for _ in 0..3 {
        run(false);
    }
    let samples = (0..runs).map(|_| run(true)).collect();
    *BASELINE_SAMPLES.lock().unwrap() = old;
    samples
}

/// The baseline's copy of the repository `dir` (`<dir>-baseline`), made afresh the first time
/// this process asks for it.
fn mirror(dir: &Path) -> std::path::PathBuf {
    static MADE: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());
    let mut name = dir.file_name().unwrap().to_os_string();
    name.push("-baseline");
    let copy = dir.with_file_name(name);
    let mut made = MADE.lock().unwrap();
    if !made.contains(&copy) {
        if copy.exists() {
            std::fs::remove_dir_all(&copy).unwrap();
        }
        copy_tree(dir, &copy);
        // The plan cache keeps only files older than two seconds (racy-git rule).
        std::thread::sleep(Duration::from_millis(2100));
        made.push(copy.clone());
    }
    copy
}

/// One `git-kitty <args>` process in `dir`, output discarded; it must succeed.
pub fn run_kitty(exe: &Path, dir: &Path, args: &[&str], no_cache: bool) {
    let status = Command::new(exe)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("KITTY_NO_CACHE", if no_cache { "1" } else { "0" })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    // `check` exits 1 when it finds problems; everything else must succeed.
    let allowed = if args.first() == Some(&"check") { 1 } else { 0 };
    assert!(
        status.code().is_some_and(|c| c <= allowed),
        "{args:?} failed in {}",
        dir.display()
    );
}

/// A repository with `features` x 25 WPs, committed.
fn generate_plan(root: &Path, features: usize) {
    for f in 0..features {
        let slug = format!("{:03}-feature-{f}", f + 1);
        let tasks = root.join("kitty-specs").join(&slug).join("tasks");
        std::fs::create_dir_all(&tasks).unwrap();
        for w in 1..=WPS_PER_FEATURE {
            let id = format!("WP{w:02}");
            // Each WP depends on up to three earlier ones: chains, fan-outs and diamonds.
            let deps: Vec<String> = [w.saturating_sub(1), w / 2, w / 3]
                .iter()
                .filter(|&&d| d >= 1 && d < w)
                .map(|d| format!("WP{d:02}"))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            std::fs::write(
                tasks.join(format!("{id}-work-package-{w}.md")),
                wp_file(&slug, &id, &deps),
            )
            .unwrap();
        }
    }
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "plan"]);
}

/// A WP file shaped like Spec Kitty's 0.11 files: ~40 frontmatter lines, a 3 KB body.
fn wp_file(slug: &str, id: &str, deps: &[String]) -> String {
    let number: usize = id[2..].parse().unwrap_or(0);
    let lane = ["planned", "doing", "for_review", "done", "planned"][number % 5];
    format!(
        "---
work_package_id: {id}
title: Work package {id} of {slug}
lane: {lane}
dependencies: [{deps}]
subtasks:
- T001
- T002
- T003
phase: Phase 1 - Core Implementation
assignee: ''
agent: \"claude\"
shell_pid: \"12345\"
review_status: ''
reviewed_by: ''
history:
- timestamp: '2026-01-07T00:00:00Z'
  lane: planned
  agent: system
  shell_pid: ''
  action: Prompt generated via /spec-kitty.tasks
- timestamp: '2026-01-08T10:00:00Z'
  lane: doing
  agent: claude
  shell_pid: '12345'
  action: Started implementation
authoritative_surface: src/{slug}/
execution_mode: code_change
mission_id: 01KN2371WNZX28ME4MN97B67PS
owned_files:
- src/{slug}/{id}/mod.rs
- src/{slug}/{id}/model.rs
- src/{slug}/{id}/api.rs
- tests/{slug}/{id}_test.rs
requirement_refs:
- FR-001
- NFR-002
wp_code: {id}
---

# Work Package Prompt: {id}

{body}",
        deps = deps.join(", "),
        body = "Objectives, context, subtasks and acceptance criteria.\n".repeat(55),
    )
}

pub fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.invalid")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.invalid")
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}
