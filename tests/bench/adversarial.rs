//! Plans made to break a careless algorithm (issue 10): one WP file listing 100,000
//! dependencies, and a dense graph of 300 WPs each depending on all earlier ones. Target:
//! `status`, `status --graph` and `check` under 1 s each.

use std::path::Path;
use std::time::Duration;

use super::{git, report, time};

/// A plan: its label, its directory, its WP count, and what writes it.
type Plan = (&'static str, &'static str, usize, fn(&Path));

pub fn cases(base: &Path, runs: usize, wanted: &dyn Fn(&str) -> bool) {
    let plans: [Plan; 2] = [
        (
            "100k dependencies in one WP",
            "adversarial-deps",
            2,
            many_dependencies,
        ),
        ("dense 300-WP graph", "adversarial-dense", 300, dense),
    ];
    for (label, dir, wps, generate) in plans {
        let names: Vec<String> = ["status", "status --graph", "check"]
            .iter()
            .flat_map(|c| {
                ["warm", "cold"].map(|mode| format!("adversarial: {label}: {c} ({mode})"))
            })
            .collect();
        if !names.iter().any(|n| wanted(n)) {
            continue;
        }
        let repo = base.join(dir);
        if !repo.join(".git").exists() {
            generate(&repo);
            git(&repo, &["init", "-q", "-b", "main"]);
            git(&repo, &["add", "-A"]);
            git(&repo, &["commit", "-q", "-m", "plan"]);
            std::thread::sleep(Duration::from_millis(2100));
        }
        for (command, args) in [
            ("status", &["status"][..]),
            ("status --graph", &["status", "--graph"][..]),
            ("check", &["check"][..]),
        ] {
            for (mode, no_cache) in [("warm", false), ("cold", true)] {
                let case = format!("adversarial: {label}: {command} ({mode})");
                if wanted(&case) {
                    report(&case, wps, &time(&repo, &[args], runs.min(10), no_cache));
                }
            }
        }
    }
}

/// WP02 lists WP01, then 50,000 unknown ids, then the same ids again in reverse: 100,001
/// dependency lines, 50,000 problems.
fn many_dependencies(root: &Path) {
    let dir = root.join("kitty-specs/001-many/tasks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("WP01-core.md"),
        "---\nwork_package_id: WP01\ntitle: Core\n---\n",
    )
    .unwrap();
    let unknown: Vec<String> = (0..50_000).map(|k| format!("WP{}", 100_000 + k)).collect();
    let mut text = String::from("---\nwork_package_id: WP02\ntitle: Many\ndependencies:\n- WP01\n");
    for id in unknown.iter().chain(unknown.iter().rev()) {
        text.push_str("- ");
        text.push_str(id);
        text.push('\n');
    }
    text.push_str("---\n");
    std::fs::write(dir.join("WP02-many.md"), text).unwrap();
}

/// 300 WPs, each depending on every earlier one (44,850 edges).
fn dense(root: &Path) {
    let dir = root.join("kitty-specs/001-dense/tasks");
    std::fs::create_dir_all(&dir).unwrap();
    for i in 1..=300 {
        let deps: Vec<String> = (1..i).map(|j| format!("WP{j:03}")).collect();
        std::fs::write(
            dir.join(format!("WP{i:03}-task.md")),
            format!(
                "---\nwork_package_id: WP{i:03}\ntitle: Task {i}\ndependencies: [{}]\n---\n",
                deps.join(", ")
            ),
        )
        .unwrap();
    }
}
