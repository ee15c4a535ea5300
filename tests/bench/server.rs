//! Benchmark: what the server hook (`hooks install --server`, `pre-receive`) costs a push.
//!
//! `cargo bench --bench server` builds the release binaries and generates a clone with 300
//! WPs (12 features x 25), a state ref for each (two events), and a `main` on which 299 of
//! them have landed, one commit each with its `Kitty-WP` trailer; and two bare servers
//! holding the same, one with git kitty's hook and one without. It times whole pushes, as a
//! user runs them: landing the last WP on `main` (`git push`), all 300 state refs to a server
//! that has none (`git kitty push`: two pushes of at most 256 refs), and one new event
//! (`git kitty push`). Method and figures: docs/performance.md. `KITTY_BENCH_RUNS` sets the
//! runs per case (default 10); `KITTY_BENCH_DIR=<empty dir>` keeps the repositories.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FEATURES: usize = 12;
const WPS_PER_FEATURE: usize = 25;

fn main() {
    let runs: usize = std::env::var("KITTY_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    // KITTY_BENCH_DIR keeps the generated repositories (for profiling); else a temp dir.
    let tmp = tempfile::tempdir().unwrap();
    let kept = std::env::var_os("KITTY_BENCH_DIR").map(std::path::PathBuf::from);
    let base = kept.as_deref().unwrap_or(tmp.path());
    let clone = base.join("clone");
    generate(&clone);
    println!(
        "git kitty server benchmark: {runs} runs per case (median, min, max), {} CPUs",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!();
    println!("| case | server | median | min | max |");
    println!("|---|---|---:|---:|---:|");
    let wps = FEATURES * WPS_PER_FEATURE;
    for hooked in [true, false] {
        let name = if hooked { "hooked" } else { "plain" };
        let server = base.join(format!("{name}.git"));
        make_server(&clone, &server, hooked);
        git(&clone, &["remote", "remove", "origin"]).ok();
        git(
            &clone,
            &["remote", "add", "origin", server.to_str().unwrap()],
        )
        .unwrap();
        let samples = landing_push(&clone, &server, runs);
        report(
            &format!("git push: main lands 1 WP ({wps}-WP plan)"),
            name,
            &samples,
        );
        let samples = all_state_refs(&clone, &server, runs);
        report(
            &format!("git kitty push: {wps} new state refs"),
            name,
            &samples,
        );
        let samples = one_event(&clone, runs);
        report("git kitty push: 1 new event", name, &samples);
    }
}

/// The clone: plan, 299 WPs landed on main, the last one's commit on a side branch, state
/// for every WP.
fn generate(root: &Path) {
    std::fs::create_dir_all(root).unwrap();
    for f in 0..FEATURES {
        let slug = slug(f);
        let tasks = root.join("kitty-specs").join(&slug).join("tasks");
        std::fs::create_dir_all(&tasks).unwrap();
        for w in 1..=WPS_PER_FEATURE {
            let deps: Vec<String> = [w.saturating_sub(1), w / 2]
                .iter()
                .filter(|&&d| d >= 1 && d < w)
                .map(|d| format!("WP{d:02}"))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let text = format!(
                "---\nwork_package_id: WP{w:02}\ntitle: Work package {w} of {slug}\ndependencies: [{}]\nsubtasks: [T001, T002]\n---\n\n# WP{w:02}\n\n{}",
                deps.join(", "),
                "Objectives, context, subtasks and acceptance criteria.\n".repeat(40)
            );
            std::fs::write(tasks.join(format!("WP{w:02}-work.md")), text).unwrap();
        }
    }
    git(root, &["init", "-q", "-b", "main"]).unwrap();
    git(root, &["add", "-A"]).unwrap();
    git(root, &["commit", "-q", "-m", "plan"]).unwrap();
    // Every WP's work, one commit each, in dependency order; the last one on a side branch.
    let mut input = String::new();
    let mut n = 0;
    for f in 0..FEATURES {
        for w in 1..=WPS_PER_FEATURE {
            n += 1;
            let last = f == FEATURES - 1 && w == WPS_PER_FEATURE;
            let msg = format!("work {n}\n\nKitty-WP: {}/WP{w:02}\n", slug(f));
            let branch = if last { "side" } else { "main" };
            let from = if n == 1 {
                "from refs/heads/main^0\n".to_owned()
            } else if last {
                "from refs/heads/main\n".to_owned()
            } else {
                String::new()
            };
            let content = format!("{n}\n");
            input.push_str(&format!(
                "commit refs/heads/{branch}\ncommitter bench <bench@example.invalid> {} +0000\ndata {}\n{msg}{from}M 644 inline work/{n}.txt\ndata {}\n{content}\n",
                1_700_000_000 + n,
                msg.len(),
                content.len()
            ));
        }
    }
    let mut child = Command::new("git")
        .args(["fast-import", "--quiet"])
        .current_dir(root)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    git(root, &["reset", "-q", "--hard", "main"]).unwrap();
    add_states(root);
}

fn slug(f: usize) -> String {
    format!("{:03}-feature-{f}", f + 1)
}

/// Two events per WP (claimed, in progress), written through the library.
fn add_states(root: &Path) {
    use git_kitty::model::lane::Lane;
    use git_kitty::state::schema::{EventKind, WpState};
    use git_kitty::state::store;
    let repo = git_kitty::git::Repo::discover(root).unwrap();
    for f in 0..FEATURES {
        let feature: git_kitty::model::ids::FeatureSlug = slug(f).parse().unwrap();
        for w in 1..=WPS_PER_FEATURE {
            let wp: git_kitty::model::ids::WpId = format!("WP{w:02}").parse().unwrap();
            for to in [Lane::Claimed, Lane::InProgress] {
                let initial = || WpState::initial(feature.clone(), wp.clone(), Lane::Planned, None);
                store::append(&repo, &feature, &wp, &initial, &mut |state| {
                    let mut e = store::draft(EventKind::Lane, "bench");
                    e.from = Some(state.lane);
                    e.to = Some(to);
                    Ok(Some(e))
                })
                .unwrap();
            }
        }
    }
}

/// A bare copy of the clone's main, with git kitty's hook or without.
fn make_server(clone: &Path, server: &Path, hooked: bool) {
    git(
        clone,
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            server.to_str().unwrap(),
        ],
    )
    .unwrap();
    git(clone, &["push", "-q", server.to_str().unwrap(), "main"]).unwrap();
    if hooked {
        kitty(server, &["hooks", "install", "--server"]);
    }
}

/// Push the last WP's landing; the server's main is put back (no hook) between runs.
fn landing_push(clone: &Path, server: &Path, runs: usize) -> Vec<Duration> {
    let before = git(server, &["rev-parse", "main"]).unwrap();
    let mut samples = Vec::new();
    for i in 0..runs + 2 {
        git(server, &["update-ref", "refs/heads/main", before.trim()]).unwrap();
        let start = Instant::now();
        git(clone, &["push", "-q", "origin", "side:main"]).unwrap();
        if i >= 2 {
            samples.push(start.elapsed());
        }
    }
    samples
}

/// Push every state ref to a server that has none.
fn all_state_refs(clone: &Path, server: &Path, runs: usize) -> Vec<Duration> {
    let mut samples = Vec::new();
    for i in 0..runs + 1 {
        for (dir, prefix) in [(server, "refs/kitty/"), (clone, "refs/kitty-remotes/")] {
            let refs = git(dir, &["for-each-ref", "--format=delete %(refname)", prefix]).unwrap();
            let mut child = Command::new("git")
                .args(["update-ref", "--stdin"])
                .current_dir(dir)
                .stdin(Stdio::piped())
                .spawn()
                .unwrap();
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(refs.as_bytes())
                .unwrap();
            assert!(child.wait().unwrap().success());
        }
        let start = Instant::now();
        kitty(clone, &["push", "--agent", "bench"]);
        if i >= 1 {
            samples.push(start.elapsed());
        }
    }
    samples
}

/// One note, then time the push that sends it.
fn one_event(clone: &Path, runs: usize) -> Vec<Duration> {
    let mut samples = Vec::new();
    for i in 0..runs + 2 {
        kitty(
            clone,
            &["note", "WP07", "bench", "-f", &slug(3), "--agent", "bench"],
        );
        let start = Instant::now();
        kitty(clone, &["push", "--agent", "bench"]);
        if i >= 2 {
            samples.push(start.elapsed());
        }
    }
    samples
}

fn report(name: &str, server: &str, samples: &[Duration]) {
    let mut s = samples.to_vec();
    s.sort();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    println!(
        "| {name} | {server} | {} | {} | {} |",
        ms(s[s.len() / 2]),
        ms(s[0]),
        ms(s[s.len() - 1])
    );
}

/// Run `git-kitty` and require success.
fn kitty(dir: &Path, args: &[&str]) {
    let bin = Path::new(env!("CARGO_BIN_EXE_git-kitty"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git kitty {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run git with the release binaries first on PATH (the hook finds `git-kitty` there); its
/// stdout, or an error with its stderr.
fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let bin = Path::new(env!("CARGO_BIN_EXE_git-kitty"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("PATH", path)
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.invalid")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.invalid")
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
