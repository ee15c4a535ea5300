//! `git kitty check`: every problem, with file and line, and the exit status.

use crate::common::Repo;

#[test]
fn clean_plans_pass() {
    for fixture in ["example", "fan-out", "diamond", "linear", "messy"] {
        let repo = Repo::with_fixture(fixture);
        let run = repo.kitty(&["check"]);
        run.ok();
        assert!(run.stdout.starts_with("ok: "), "{fixture}: {}", run.stdout);
    }
    let repo = Repo::with_fixture("example");
    repo.kitty(&["check"])
        .ok()
        .stdout_has("ok: 2 features, 12 work packages: no problems");
}

#[test]
fn every_problem_is_reported_with_file_and_line() {
    let repo = Repo::with_fixture("invalid");
    let run = repo.kitty(&["check", "--json"]);
    run.code(1);
    let json = run.json();
    assert_eq!(json["ok"], false);
    let got: Vec<(String, String, Option<u64>)> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["code"].as_str().unwrap().to_owned(),
                p["file"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("kitty-specs/")
                    .to_owned(),
                p["line"].as_u64(),
            )
        })
        .collect();
    let expected: Vec<(String, String, Option<u64>)> = [
        (
            "malformed-yaml",
            "001-broken/tasks/WP02-malformed-yaml.md",
            Some(4),
        ),
        ("missing-id", "001-broken/tasks/WP03-missing-id.md", Some(1)),
        ("malformed-id", "001-broken/tasks/WP04-bad-id.md", Some(2)),
        ("id-mismatch", "001-broken/tasks/WP05-mismatch.md", Some(2)),
        ("duplicate-id", "001-broken/tasks/WP06-second.md", Some(2)),
        (
            "unknown-dependency",
            "001-broken/tasks/WP07-unknown-dep.md",
            Some(6),
        ),
        (
            "self-dependency",
            "001-broken/tasks/WP08-self-dep.md",
            Some(4),
        ),
        (
            "dependency-cycle",
            "001-broken/tasks/WP09-cycle-a.md",
            Some(4),
        ),
        ("unknown-lane", "001-broken/tasks/WP11-bad-lane.md", Some(4)),
        (
            "unsafe-name",
            "001-broken/tasks/WP12-unsafe-branch.md",
            Some(4),
        ),
        (
            "missing-frontmatter",
            "001-broken/tasks/WP13-no-frontmatter.md",
            Some(1),
        ),
        ("unsafe-name", "bad slug", None),
    ]
    .iter()
    .map(|(c, f, l)| (c.to_string(), f.to_string(), *l))
    .collect();
    assert_eq!(got, expected);
    assert_eq!(json["errors"], 12);
    assert_eq!(json["warnings"], 0);
}

#[test]
fn human_output_names_the_cycle_and_counts() {
    let repo = Repo::with_fixture("invalid");
    let run = repo.kitty(&["check"]);
    run.code(1)
        .stdout_has(
            "kitty-specs/001-broken/tasks/WP09-cycle-a.md:4: error[dependency-cycle]: dependency cycle: WP09 -> WP10 -> WP09",
        )
        .stdout_has(
            "kitty-specs/001-broken/tasks/WP05-mismatch.md:2: error[id-mismatch]: `work_package_id: WP50` disagrees with the file name, which says WP05",
        )
        .stdout_has("kitty-specs/bad slug: error[unsafe-name]: `bad slug` is not a safe feature name")
        .stdout_has("\n12 errors in 1 feature, 13 work packages\n");
}

#[test]
fn a_longer_cycle_is_printed_in_full() {
    let repo = Repo::with_fixture("linear");
    let path = "kitty-specs/001-linear/tasks/WP01-first.md";
    let text = std::fs::read_to_string(repo.path(path)).unwrap();
    repo.write(
        path,
        &text.replace("dependencies: []", "dependencies: [WP03]"),
    );
    repo.kitty(&["check"])
        .code(1)
        .stdout_has("dependency cycle: WP01 -> WP03 -> WP02 -> WP01");
}

#[test]
fn feature_filter_and_warnings() {
    let repo = Repo::with_fixture("invalid");
    // Only the named feature is checked; the bad folder name belongs to no feature.
    let json = repo
        .kitty(&["check", "-f", "001-broken", "--json"])
        .code(1)
        .json();
    assert_eq!(json["errors"], 11);
    repo.kitty(&["check", "-f", "nope"])
        .code(2)
        .stderr_has("error: no feature `nope` in kitty-specs/")
        .stderr_has("hint: features: 001-broken, bad slug");

    // A malformed line in Spec Kitty's event log is a warning: exit 0, 1 with --strict.
    let repo = Repo::with_fixture("messy");
    let log = repo.path("kitty-specs/020-events/status.events.jsonl");
    let mut text = std::fs::read_to_string(&log).unwrap();
    text.push_str("{not json\n");
    std::fs::write(&log, text).unwrap();
    repo.kitty(&["check"])
        .ok()
        .stdout_has("kitty-specs/020-events/status.events.jsonl:10: warning[malformed-event]");
    repo.kitty(&["check", "--strict"]).code(1);
}

#[test]
fn symlinks_are_not_followed() {
    let repo = Repo::with_fixture("fan-out");
    let outside = repo.sandbox.path().join("outside.md");
    std::fs::write(&outside, "---\nwork_package_id: WP09\n---\n").unwrap();
    std::os::unix::fs::symlink(
        &outside,
        repo.path("kitty-specs/001-fan-out/tasks/WP09-link.md"),
    )
    .unwrap();
    let json = repo.kitty(&["check", "--json"]).ok().json();
    assert_eq!(json["warnings"], 1);
    assert_eq!(json["problems"][0]["code"], "ignored-entry");
    assert_eq!(json["work_packages"], 4);
}

#[test]
fn dependencies_written_as_a_string_are_read_as_meant() {
    // Three real Spec Kitty files say `dependencies: "[]"`.
    let repo = Repo::with_fixture("linear");
    let tasks = "kitty-specs/001-linear/tasks";
    for (file, deps) in [
        ("WP01-first.md", "\"\""),
        ("WP02-second.md", "\"[]\""),
        ("WP03-third.md", "\"[WP02]\""),
    ] {
        let path = repo.path(&format!("{tasks}/{file}"));
        let text = std::fs::read_to_string(&path).unwrap();
        let text: String = text
            .lines()
            .map(|l| {
                if l.starts_with("dependencies:") {
                    format!("dependencies: {deps}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        std::fs::write(&path, text).unwrap();
    }
    repo.commit_all("quoted lists");
    repo.kitty(&["check"]).ok().stdout_is(
        "kitty-specs/001-linear/tasks/WP01-first.md:4: warning[quoted-list]: `dependencies` is the string \"\", read as no dependencies; write `dependencies: []`\n\
         kitty-specs/001-linear/tasks/WP02-second.md:4: warning[quoted-list]: `dependencies` is the string \"[]\", read as no dependencies; write `dependencies: []`\n\
         kitty-specs/001-linear/tasks/WP03-third.md:4: warning[quoted-list]: `dependencies` is the string \"[WP02]\", read as the list [WP02]; write it without quotes\n\
         \n3 warnings in 1 feature, 3 work packages\n",
    );
    repo.kitty(&["check", "--strict"]).code(1);
    let status = repo.kitty(&["status", "--json"]).ok().json();
    let f = &status["features"][0];
    assert_eq!(
        f["work_packages"][2]["dependencies"],
        serde_json::json!(["WP02"])
    );
    assert_eq!(f["work_packages"][1]["dependencies"], serde_json::json!([]));
}

/// A WP file is read to the end of its frontmatter: the prompt below is the agent's, and
/// bytes there that are not UTF-8 change nothing, however long the prompt. The same bytes
/// in the frontmatter are an error, on their line; a frontmatter longer than the first read
/// is read on.
#[test]
fn only_the_frontmatter_of_a_wp_file_is_read() {
    let repo = Repo::with_fixture("linear");
    let file = |name: &str| repo.path(&format!("kitty-specs/001-linear/tasks/{name}"));
    let mut prompt = std::fs::read(file("WP02-second.md")).unwrap();
    prompt.extend_from_slice(b"Latin-1 in the prompt: caf\xe9\n");
    prompt.extend(std::iter::repeat_n(b'x', 20_000));
    std::fs::write(file("WP02-second.md"), &prompt).unwrap();
    let long = format!(
        "---\nwork_package_id: WP03\ntitle: Third\nhistory:\n{}dependencies: [WP02]\nlane: for_review\n---\nbody ",
        "- note: a long history line of a WP that moved many times\n".repeat(200)
    );
    std::fs::write(file("WP03-third.md"), [long.as_bytes(), b"\xff\n"].concat()).unwrap();
    repo.kitty(&["check"])
        .ok()
        .stdout_has("ok: 1 feature, 3 work packages: no problems");
    let status = repo.kitty(&["status", "--json"]).ok().json();
    let wp = |id| crate::common::wp(&status, "001-linear", id).clone();
    assert_eq!(wp("WP02")["title"], "Second");
    assert_eq!(wp("WP03")["lane"], "for_review");
    assert_eq!(wp("WP03")["dependencies"], serde_json::json!(["WP02"]));

    let mut bad = std::fs::read(file("WP01-first.md")).unwrap();
    let at = bad.iter().position(|b| *b == b'\n').unwrap() + 1;
    bad.splice(at..at, b"owner: caf\xe9\n".iter().copied());
    std::fs::write(file("WP01-first.md"), &bad).unwrap();
    let run = repo.kitty(&["check", "--json"]);
    run.code(1);
    let problems = &run.json()["problems"];
    assert_eq!(problems[0]["code"], "unreadable-file", "{problems}");
    assert_eq!(problems[0]["line"], 2, "{problems}");
    assert_eq!(
        problems[0]["message"], "the frontmatter is not valid UTF-8",
        "{problems}"
    );
    assert_eq!(problems.as_array().unwrap().len(), 1, "{problems}");
}
