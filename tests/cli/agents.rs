//! `git kitty agents install|status|uninstall`: each agent's files in its own folder and
//! format, kept out of `git status`, and removed exactly.

use std::path::{Path, PathBuf};

use git_kitty::model::frontmatter;
use serde_json::Value;

use crate::common::Repo;

const COMMANDS: [&str; 7] = [
    "kitty-status",
    "kitty-next",
    "kitty-implement",
    "kitty-review",
    "kitty-lane",
    "kitty-note",
    "kitty-log",
];

/// The folder and extension of each agent's files (HOME is the sandbox's `home/`).
fn layout(repo: &Repo) -> Vec<(&'static str, PathBuf, &'static str)> {
    let home = repo.sandbox.home();
    vec![
        ("claude", repo.path(".claude/commands"), "md"),
        ("codex", home.join(".codex/prompts"), "md"),
        ("gemini", repo.path(".gemini/commands"), "toml"),
        ("cursor", repo.path(".cursor/commands"), "md"),
        ("opencode", repo.path(".opencode/commands"), "md"),
    ]
}

/// The frontmatter of a markdown command file: parsed as YAML (git kitty's own parser must
/// accept it), then its `key: "value"` lines; and the body after it.
fn markdown(path: &Path) -> (Vec<(String, String)>, String) {
    let text = std::fs::read_to_string(path).unwrap();
    let split = frontmatter::split(&text).unwrap_or_else(|e| panic!("{path:?}: {e:?}"));
    let fields = frontmatter::read_fields(&split).unwrap();
    assert!(fields.not_a_mapping.is_none() && fields.duplicate_keys.is_empty());
    let keys = split
        .yaml
        .lines()
        .map(|l| {
            let (k, v) = l
                .split_once(": ")
                .unwrap_or_else(|| panic!("{path:?}: {l}"));
            let v = match serde_json::from_str::<Value>(v) {
                Ok(Value::String(s)) => s,
                _ => v.to_owned(),
            };
            (k.to_owned(), v)
        })
        .collect();
    (keys, split.body.to_owned())
}

#[test]
fn install_writes_each_agents_format_and_keeps_git_status_clean() {
    let repo = Repo::new();
    repo.kitty(&[
        "agents", "install", "claude", "codex", "gemini", "cursor", "opencode",
    ])
    .ok()
    .stdout_has("claude    kitty-status     installed (written)  .claude/commands/kitty-status.md");
    for (agent, dir, ext) in layout(&repo) {
        for cmd in COMMANDS {
            let path = dir.join(format!("{cmd}.{ext}"));
            let (description, body) = if ext == "toml" {
                let doc: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
                let prompt = doc["prompt"].as_str().unwrap().to_owned();
                assert!(
                    prompt.contains("{{args}}") || cmd == "kitty-review",
                    "{path:?}"
                );
                (doc["description"].as_str().unwrap().to_owned(), prompt)
            } else {
                let (keys, body) = markdown(&path);
                assert_eq!(keys[0].0, "description", "{path:?}");
                match agent {
                    "claude" => assert!(
                        keys.contains(&("allowed-tools".into(), "Bash(git kitty:*)".into()))
                    ),
                    "opencode" => assert!(keys.contains(&("agent".into(), "build".into()))),
                    _ => assert_eq!(keys[1].0, "argument-hint"),
                }
                assert!(body.contains("$ARGUMENTS"), "{path:?}");
                (keys[0].1.clone(), body)
            };
            assert!(description.starts_with("git kitty: "), "{description}");
            let verb = cmd.trim_start_matches("kitty-");
            let runs = match verb {
                "review" => "`git kitty lane for_review".to_owned(),
                v => format!("`git kitty {v} "),
            };
            assert!(body.contains(&runs), "{path:?}: {body}");
            assert!(body.contains("Trust its output"), "{path:?}");
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.contains("git-kitty:agent-command"), "{path:?}");
        }
    }
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        "",
        "files kept out of git status"
    );
    let status = repo.kitty(&["agents", "status", "--json"]).ok().json();
    let files = status["files"].as_array().unwrap();
    assert_eq!(files.len(), 5 * 7);
    assert!(files.iter().all(|f| f["state"] == "installed"), "{status}");
    // Again: nothing to do.
    repo.kitty(&["agents", "install", "gemini"])
        .ok()
        .stdout_has("gemini    kitty-log        installed (unchanged)");
}

#[test]
fn uninstall_removes_exactly_git_kittys_files() {
    let repo = Repo::new();
    repo.write(".claude/commands/mine.md", "my own command\n");
    repo.write(".claude/commands/kitty-log.md", "my own kitty-log\n");
    repo.commit_all("my commands");
    let run = repo.kitty(&["agents", "install", "claude", "cursor"]);
    run.code(1)
        .stdout_has("claude    kitty-log        yours (skipped: not git kitty's)  .claude/commands/kitty-log.md")
        .stderr_has("1 file(s) of yours have the names of git kitty's commands and were left alone; `--force` replaces them");
    assert_eq!(
        std::fs::read_to_string(repo.path(".claude/commands/kitty-log.md")).unwrap(),
        "my own kitty-log\n"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    // A file of git kitty's from another version is "outdated", and rewritten by install.
    let next = repo.path(".cursor/commands/kitty-next.md");
    std::fs::write(&next, "<!-- git-kitty:agent-command -->\nold\n").unwrap();
    let status = repo
        .kitty(&["agents", "status", "cursor", "--json"])
        .ok()
        .json();
    assert_eq!(status["files"][1]["state"], "outdated");
    repo.kitty(&["agents", "uninstall"])
        .ok()
        .stdout_has("cursor    kitty-next       missing (removed)  .cursor/commands/kitty-next.md");
    assert!(!repo.path(".cursor").exists(), "emptied folders go too");
    assert!(repo.path(".claude/commands/mine.md").exists());
    assert!(repo.path(".claude/commands/kitty-log.md").exists());
    assert!(!repo.path(".claude/commands/kitty-status.md").exists());
    let exclude = std::fs::read_to_string(repo.path(".git/info/exclude")).unwrap();
    assert!(!exclude.contains("kitty-"), "{exclude}");
    assert!(!exclude.contains("agent commands"), "{exclude}");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    // --force replaces a file of yours.
    repo.kitty(&["agents", "install", "claude", "--force"])
        .ok()
        .stdout_has("claude    kitty-log        installed (rewritten)");
}

#[test]
fn global_installs_go_to_the_users_folders() {
    let repo = Repo::new();
    let codex_home = repo.sandbox.path().join("codex-home");
    let run = repo.kitty_env(
        &[("CODEX_HOME", Some(codex_home.to_str().unwrap()))],
        &[
            "agents", "install", "--global", "claude", "codex", "opencode", "--json",
        ],
    );
    run.ok();
    let home = repo.sandbox.home();
    assert!(home.join(".claude/commands/kitty-next.md").exists());
    assert!(
        home.join(".config/opencode/commands/kitty-lane.md")
            .exists()
    );
    assert!(codex_home.join("prompts/kitty-status.md").exists());
    assert!(!repo.path(".claude").exists());
    let exclude = std::fs::read_to_string(repo.path(".git/info/exclude")).unwrap_or_default();
    assert!(
        !exclude.contains("kitty-"),
        "nothing in the repository to exclude"
    );
    repo.kitty(&["agents", "uninstall", "--global", "claude"])
        .ok();
    assert!(!home.join(".claude/commands").exists());
    assert!(
        home.join(".config/opencode/commands/kitty-lane.md")
            .exists()
    );
    repo.kitty(&["agents", "install", "nope"])
        .code(2)
        .stderr_has("invalid value 'nope'");
}
