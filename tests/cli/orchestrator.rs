//! The real `spec-kitty-orchestrator` (PyPI, pinned) drives a feature through git kitty: the
//! `spec-kitty` shim and a fake `claude` on PATH, six WPs (fan-out and diamond) from planned
//! to landed on main, one review sent back on the way.
//!
//! The client is installed once per test run into a virtual environment under `target/`
//! (or taken from `KITTY_ORCHESTRATOR_VENV`, which `.ci/run` prepares). Without Python the
//! test is skipped with its reason, except under `CI=true`, where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::common::{Repo, bin_dir, wp};

/// The client version the contract was checked against.
const CLIENT: &str = "spec-kitty-orchestrator";
const CLIENT_VERSION: &str = "0.1.2";
const FEATURE: &str = "001-orchestrated";

/// A stand-in for Claude Code's CLI as the client runs it (`claude -p --output-format json
/// ... --allowedTools <tools>`, the prompt on stdin, in the WP's worktree). Implementing, it
/// commits `<WP>.txt`; reviewing (the review tool set), it rejects the first review of
/// `$FAKE_REJECT_WP` (exit 1, feedback on stdout) and approves everything else. Every call is
/// appended to `$FAKE_AGENT_LOG`.
const FAKE_CLAUDE: &str = r#"#!/bin/sh
prompt=$(cat)
role=implementation
case "$*" in *"--allowedTools Read,Glob,Grep,Bash"*) role=review ;; esac
wp=$(git rev-parse --abbrev-ref HEAD | sed 's/.*-\(WP[0-9]*\)$/\1/')
echo "$role $wp" >> "$FAKE_AGENT_LOG"
if [ "$role" = review ]; then
  if [ "$wp" = "$FAKE_REJECT_WP" ] && ! grep -q "^rejected $wp\$" "$FAKE_AGENT_LOG"; then
    echo "rejected $wp" >> "$FAKE_AGENT_LOG"
    echo '{"result": "changes requested: add tests"}'
    exit 1
  fi
  echo '{"result": "approved"}'
  exit 0
fi
round=$(grep -c "^implementation $wp\$" "$FAKE_AGENT_LOG")
printf '%s\n' "$prompt" | head -3 > "$wp.txt"
echo "round $round" >> "$wp.txt"
git add -- "$wp.txt" && git commit -q -m "$wp: round $round" || exit 1
echo '{"result": "implemented"}'
"#;

/// The pinned client's virtual environment, or why there is none.
fn client_venv() -> &'static Result<PathBuf, String> {
    static VENV: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    VENV.get_or_init(|| {
        let venv = match std::env::var_os("KITTY_ORCHESTRATOR_VENV") {
            Some(prepared) => PathBuf::from(prepared),
            None => cached_venv()?,
        };
        check_version(&venv)?;
        Ok(venv)
    })
}

/// `<target>/orchestrator-client/<version>`: made once (under a lock: several test processes
/// may want it), reused by every later run.
fn cached_venv() -> Result<PathBuf, String> {
    let target = bin_dir()
        .parent()
        .ok_or("no target directory")?
        .to_path_buf();
    let dir = target.join("orchestrator-client");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let lock = std::fs::File::create(dir.join("lock")).map_err(|e| e.to_string())?;
    lock.lock().map_err(|e| e.to_string())?;
    let venv = dir.join(CLIENT_VERSION);
    if venv.join("complete").exists() {
        return Ok(venv);
    }
    let _ = std::fs::remove_dir_all(&venv);
    run_host(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    run_host(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("{CLIENT}=={CLIENT_VERSION}")),
    )?;
    std::fs::write(venv.join("complete"), CLIENT_VERSION).map_err(|e| e.to_string())?;
    Ok(venv)
}

fn run_host(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The venv must hold the pinned client (a prepared one could be stale).
fn check_version(venv: &Path) -> Result<(), String> {
    let out = Command::new(venv.join("bin/python"))
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('spec-kitty-orchestrator'))",
        ])
        .output()
        .map_err(|e| format!("no python in {}: {e}", venv.display()))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if version == CLIENT_VERSION {
        Ok(())
    } else {
        Err(format!(
            "{} holds {CLIENT} {version:?}, not {CLIENT_VERSION}: {}",
            venv.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The client's venv; `None` (test skipped, reason printed) only outside CI.
fn venv_or_skip(test: &str) -> Option<PathBuf> {
    match client_venv() {
        Ok(venv) => Some(venv.clone()),
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true and the orchestrator client is not available: {why}")
        }
        Err(why) => {
            eprintln!("SKIPPED {test}: {CLIENT} {CLIENT_VERSION} is not available: {why}");
            None
        }
    }
}

/// The tools the client needs on PATH: the `spec-kitty` shim (from `--print-shim`) and the
/// fake `claude`; then git kitty's binaries and the venv.
fn tools(repo: &Repo, venv: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let dir = repo.sandbox.path().join("tools");
    std::fs::create_dir_all(&dir).unwrap();
    let shim = repo
        .kitty(&["orchestrator-api", "--print-shim"])
        .ok()
        .stdout
        .clone();
    for (name, text) in [("spec-kitty", shim.as_str()), ("claude", FAKE_CLAUDE)] {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    format!(
        "{}:{}:{}:{}",
        dir.display(),
        bin_dir().display(),
        venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A command of the venv in the repository, with the hermetic environment, the tools on
/// PATH and the real clock (event times order the WPs).
fn client(repo: &Repo, path: &str, program: &Path) -> Command {
    let mut cmd = repo.command_in(program.to_str().unwrap(), &repo.root);
    cmd.env("PATH", path)
        .env_remove("KITTY_NOW")
        .env("FAKE_AGENT_LOG", repo.sandbox.path().join("agent.log"))
        .env("FAKE_REJECT_WP", "WP03");
    cmd
}

#[test]
fn the_real_orchestrator_drives_a_feature_through_git_kitty_to_main() {
    let Some(venv) =
        venv_or_skip("the_real_orchestrator_drives_a_feature_through_git_kitty_to_main")
    else {
        return;
    };
    let repo = Repo::with_fixture("orchestrated");
    let path = tools(&repo, &venv);
    let out = client(&repo, &path, &venv.join("bin/spec-kitty-orchestrator"))
        .args(["orchestrate", "--mission", FEATURE, "--repo-root"])
        .arg(&repo.root)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success() && stdout.contains("Orchestration completed successfully."),
        "orchestrate failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let agent_log = std::fs::read_to_string(repo.sandbox.path().join("agent.log")).unwrap();
    check_reviewed(&repo, &agent_log);
    let events = repo
        .kitty(&["log", "-f", FEATURE, "-n", "1000", "--json"])
        .ok()
        .json();
    check_recorded(&events);
    check_dependency_order(&repo, &events);
    check_landed(&repo, &venv, &path);
}

/// Every WP approved by git kitty's rules, WP03 after one rework cycle.
fn check_reviewed(repo: &Repo, agent_log: &str) {
    let status = repo.kitty(&["status", "--json"]).ok().json();
    for n in 1..=6 {
        let w = wp(&status, FEATURE, &format!("WP0{n}"));
        assert_eq!(w["lane"], "approved", "WP0{n}: {w}");
        assert_eq!(w["agent"], "spec-kitty-orchestrator");
        assert_eq!(w["state"]["review_status"], "approved");
        assert_eq!(w["state"]["forced"], 0, "no move needed --force: {w}");
    }
    let count = |line: &str| agent_log.lines().filter(|l| *l == line).count();
    assert_eq!(count("rejected WP03"), 1, "{agent_log}");
    assert_eq!(count("implementation WP03"), 2, "{agent_log}");
    assert_eq!(count("review WP03"), 2, "{agent_log}");
    for other in ["WP01", "WP02", "WP04", "WP05", "WP06"] {
        assert_eq!(count(&format!("implementation {other}")), 1, "{agent_log}");
        assert_eq!(count(&format!("review {other}")), 1, "{agent_log}");
    }
}

/// The moves of one WP, oldest first, as `from -> to`.
fn moves(events: &Value, id: &str) -> Vec<String> {
    let mut list: Vec<String> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["wp"] == id && e["from"].is_string())
        .map(|e| {
            format!(
                "{} -> {}",
                e["from"].as_str().unwrap(),
                e["to"].as_str().unwrap()
            )
        })
        .collect();
    list.reverse();
    list
}

/// The claims, reviews and notes are git kitty's own events, each move with the policy.
fn check_recorded(events: &Value) {
    assert_eq!(
        moves(events, "WP03"),
        [
            "planned -> in_progress",
            "in_progress -> for_review",
            "for_review -> in_review",
            "in_review -> in_progress",
            "in_progress -> for_review",
            "for_review -> approved",
        ]
    );
    assert_eq!(
        moves(events, "WP01"),
        [
            "planned -> in_progress",
            "in_progress -> for_review",
            "for_review -> approved"
        ]
    );
    let all = events["events"].as_array().unwrap();
    let back = all
        .iter()
        .find(|e| e["wp"] == "WP03" && e["from"] == "in_review")
        .unwrap();
    assert_eq!(back["note"], "Review rejected; rework required");
    assert!(
        back["review_ref"]
            .as_str()
            .unwrap()
            .starts_with("feedback-WP03-cycle1-"),
        "{back}"
    );
    for e in all.iter().filter(|e| e["from"].is_string()) {
        assert_eq!(e["actor"], "spec-kitty-orchestrator", "{e}");
        if e["to"] != "approved" {
            assert_eq!(
                e["policy"]["orchestrator_id"], "spec-kitty-orchestrator",
                "{e}"
            );
            assert_eq!(e["policy"]["dangerous_flags"], serde_json::json!([]), "{e}");
        }
    }
    let notes = all.iter().filter(|e| e["kind"] == "note").count();
    assert!(notes >= 6 * 4, "append-history notes: {notes}");
    assert!(all.iter().any(|e| {
        e["wp"] == "WP03"
            && e["note"]
                .as_str()
                .is_some_and(|n| n.starts_with("Review cycle 1 rejected. Feedback:"))
    }));
}

/// No WP was claimed before each of its dependencies was approved.
fn check_dependency_order(repo: &Repo, events: &Value) {
    let all = events["events"].as_array().unwrap();
    let at = |id: &str, from: &str, to: &str| -> i128 {
        let e = all
            .iter()
            .find(|e| e["wp"] == id && e["from"] == from && e["to"] == to)
            .unwrap_or_else(|| panic!("{id}: no {from} -> {to}"));
        parse_time(e["at"].as_str().unwrap())
    };
    let status = repo.kitty(&["status", "--json"]).ok().json();
    for n in 1..=6 {
        let id = format!("WP0{n}");
        let claimed = at(&id, "planned", "in_progress");
        for dep in crate::common::strings(&wp(&status, FEATURE, &id)["dependencies"]) {
            let approved = at(&dep, "for_review", "approved");
            assert!(
                approved < claimed,
                "{id} started before its dependency {dep} was approved"
            );
        }
    }
}

/// `2026-12-01T14:28:45.123456789Z` as nanoseconds (enough to compare two of them).
fn parse_time(s: &str) -> i128 {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    let (secs, frac) = digits.split_at(14);
    let frac = format!("{frac:0<9}");
    secs.parse::<i128>().unwrap() * 1_000_000_000 + frac[..9].parse::<i128>().unwrap()
}

/// `accept-mission` and `merge-mission` through the client's own `HostClient` (its models
/// check the answers): everything lands on main in dependency order.
fn check_landed(repo: &Repo, venv: &Path, path: &str) {
    let script = format!(
        r#"
import json, pathlib
from spec_kitty_orchestrator.host.client import HostClient
host = HostClient(pathlib.Path.cwd(), "spec-kitty-orchestrator")
accepted = host.accept_mission("{FEATURE}")
merged = host.merge_mission("{FEATURE}", target="main", strategy="merge")
state = host.mission_state("{FEATURE}")
print(json.dumps({{"accepted": accepted.accepted, "merged": merged.model_dump(),
  "lanes": sorted({{w.lane for w in state.work_packages}}), "summary": state.summary}}))
"#
    );
    let out = client(repo, path, &venv.join("bin/python"))
        .args(["-c", &script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(doc["accepted"], true);
    assert_eq!(doc["merged"]["merged"], true);
    assert_eq!(doc["merged"]["target_branch"], "main");
    assert_eq!(doc["merged"]["worktree_removed"], true);
    assert_eq!(doc["lanes"], serde_json::json!(["done"]));
    assert_eq!(doc["summary"]["done"], 6);
    let order = crate::common::strings(&doc["merged"]["merged_wps"]);
    let landed = repo.git(&["log", "--first-parent", "--format=%s", "main"]);
    let subjects: Vec<&str> = landed.lines().take(6).collect();
    let expected: Vec<String> = order.iter().rev().map(|w| format!("Merge {w}:")).collect();
    for (s, e) in subjects.iter().zip(&expected) {
        assert!(s.starts_with(e.as_str()), "{landed}");
    }
    let pos = |w: &str| order.iter().position(|o| o == w).unwrap();
    for (w, deps) in [
        ("WP02", &["WP01"][..]),
        ("WP03", &["WP01"]),
        ("WP04", &["WP01"]),
        ("WP05", &["WP02", "WP03"]),
        ("WP06", &["WP04", "WP05"]),
    ] {
        for d in deps {
            assert!(pos(d) < pos(w), "{d} lands before {w}: {order:?}");
        }
    }
    let status = repo.kitty(&["status", "--json"]).ok().json();
    for n in 1..=6 {
        assert_eq!(wp(&status, FEATURE, &format!("WP0{n}"))["lane"], "done");
        assert!(
            repo.path(&format!("WP0{n}.txt")).exists(),
            "WP0{n}.txt on main"
        );
    }
    assert!(
        std::fs::read_to_string(repo.path("WP03.txt"))
            .unwrap()
            .contains("round 2"),
        "the rework landed"
    );
}
