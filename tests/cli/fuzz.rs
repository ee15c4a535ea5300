//! Fuzzing the plan reader through the real binaries: WP files made from the fixtures' real
//! shapes, then damaged (bit flips, truncation, duplicated and deleted lines, tabs, NUL,
//! invalid UTF-8, huge scalars, deep nesting, YAML alias bombs, stray YAML tokens, splices of
//! other files, fields of the wrong type), many per repository. `check` and `status` must
//! never panic, never hang, answer valid JSON under `--json`, and print nothing a terminal
//! would act on.
//!
//! Deterministic: a small PRNG (SplitMix64) from a fixed seed. `KITTY_FUZZ_CASES` (default
//! 2000) and `KITTY_FUZZ_SEED` change the run; `KITTY_FUZZ_SEEDS=<dir>:<dir>` adds seed files
//! (any `*.md` under a `tasks/` folder), e.g. a checkout of real Spec Kitty plans. A failure
//! is narrowed down to one file, written to `target/fuzz-failures/`, and named.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{Repo, Run, fixtures};

/// Cases per repository (one process run of each command covers all of them).
const BATCH: usize = 500;
/// Files per feature folder.
const PER_FEATURE: usize = 100;
/// A command that takes longer than this on a batch hangs.
const TIMEOUT: Duration = Duration::from_secs(60);

/// SplitMix64: tiny, fast, good enough to pick mutations reproducibly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Every `*.md` under a `tasks/` folder below `dir`.
fn collect_seeds(dir: &Path, out: &mut Vec<Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.path());
    for e in entries {
        let path = e.path();
        if path.is_dir() {
            collect_seeds(&path, out);
        } else if path.extension().is_some_and(|x| x == "md")
            && path.components().any(|c| c.as_os_str() == "tasks")
        {
            out.push(std::fs::read(&path).unwrap());
        }
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    collect_seeds(&fixtures(), &mut out);
    if let Ok(extra) = std::env::var("KITTY_FUZZ_SEEDS") {
        for dir in extra.split(':').filter(|d| !d.is_empty()) {
            collect_seeds(Path::new(dir), &mut out);
        }
    }
    assert!(out.len() > 20, "too few seed files: {}", out.len());
    out
}

/// The byte offset where the frontmatter ends (or the whole file): most damage goes there.
fn frontmatter_end(text: &[u8]) -> usize {
    let s = String::from_utf8_lossy(text);
    match s.get(3..).and_then(|rest| rest.find("\n---")) {
        Some(i) => (i + 7).min(text.len()),
        None => text.len(),
    }
}

/// A position in `text`, in the frontmatter four times out of five.
fn position(rng: &mut Rng, text: &[u8]) -> usize {
    let end = if rng.chance(80) {
        frontmatter_end(text)
    } else {
        text.len()
    };
    rng.below(end + 1)
}

/// Line boundaries of `text`: the start of each line.
fn line_starts(text: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        text.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1)
            .filter(|i| *i < text.len()),
    );
    starts
}

/// A line range `start..end` (up to `max` lines), mostly in the frontmatter.
fn some_lines(rng: &mut Rng, text: &[u8], max: usize) -> (usize, usize) {
    let starts = line_starts(text);
    let fm = frontmatter_end(text);
    let in_fm = starts.iter().filter(|s| **s < fm).count().max(1);
    let first = if rng.chance(80) {
        rng.below(in_fm)
    } else {
        rng.below(starts.len())
    };
    let last = (first + 1 + rng.below(max)).min(starts.len());
    let end = starts.get(last).copied().unwrap_or(text.len());
    (starts[first], end)
}

#[allow(clippy::ptr_arg)] // the signature of every mutator
fn flip_bits(rng: &mut Rng, text: &mut Vec<u8>, _: &[Vec<u8>]) {
    for _ in 0..1 + rng.below(8) {
        if !text.is_empty() {
            let at = position(rng, text).min(text.len() - 1);
            text[at] ^= 1 << rng.below(8);
        }
    }
}

fn truncate(rng: &mut Rng, text: &mut Vec<u8>, _: &[Vec<u8>]) {
    let at = position(rng, text);
    text.truncate(at);
}

fn duplicate_lines(rng: &mut Rng, text: &mut Vec<u8>, _: &[Vec<u8>]) {
    let (start, end) = some_lines(rng, text, 3);
    let chunk = text[start..end].to_vec();
    let copies = if rng.chance(10) {
        100
    } else {
        1 + rng.below(3)
    };
    for _ in 0..copies {
        text.splice(end..end, chunk.iter().copied());
    }
}

fn delete_lines(rng: &mut Rng, text: &mut Vec<u8>, _: &[Vec<u8>]) {
    let (start, end) = some_lines(rng, text, 3);
    text.drain(start..end);
}

fn tabs(rng: &mut Rng, text: &mut Vec<u8>, _: &[Vec<u8>]) {
    if rng.chance(50) {
        let at = position(rng, text);
        text.insert(at, b'\t');
    } else {
        // Indentation by tabs (YAML forbids it).
        let (start, _) = some_lines(rng, text, 1);
        let spaces = text[start..].iter().take_while(|b| **b == b' ').count();
        text.splice(start..start + spaces, [b'\t']);
    }
}

fn nul(rng: &mut Rng, text: &mut Vec<u8>, _: &[Vec<u8>]) {
    let at = position(rng, text);
    text.insert(at, 0);
}

fn invalid_utf8(rng: &mut Rng, text: &mut Vec<u8>, _: &[Vec<u8>]) {
    const BAD: &[&[u8]] = &[
        b"\xff",
        b"\xc3",
        b"\xe2\x82",
        b"\xed\xa0\x80",
        b"\xc0\xaf",
        b"\xf8\x88\x80\x80\x80",
        b"\xfe\xfe",
    ];
    let at = position(rng, text);
    let bad = *rng.pick(BAD);
    text.splice(at..at, bad.iter().copied());
}

/// A value of the frontmatter made huge.
fn huge_scalar(rng: &mut Rng, text: &mut Vec<u8>, _: &[Vec<u8>]) {
    let n = 1_000 + rng.below(60_000);
    let value = match rng.below(5) {
        0 => "x".repeat(n),
        1 => "9".repeat(n),
        2 => format!("\"{}\"", "\\u0041\\t".repeat(n / 8)),
        3 => {
            // Long enough to be quadratic-sensitive, short enough for a debug build: the
            // benchmark (tests/bench) times 100k dependencies in a release build.
            let ids: Vec<String> = (0..n / 16).map(|i| format!("WP{:02}", i % 120)).collect();
            format!("[{}]", ids.join(", "))
        }
        _ => format!("|\n{}", "  line of a block scalar\n".repeat(n / 25)),
    };
    let key = *rng.pick(&[
        "title",
        "dependencies",
        "lane",
        "agent",
        "subtasks",
        "history",
    ]);
    set_field(rng, text, key, &value);
}

fn deep_nesting(rng: &mut Rng, text: &mut Vec<u8>, _: &[Vec<u8>]) {
    let depth = 50 + rng.below(5_000);
    let value = match rng.below(3) {
        0 => format!("{}{}", "[".repeat(depth), "]".repeat(depth)),
        1 => format!("{}x{}", "{a: ".repeat(depth), "}".repeat(depth)),
        _ => {
            // Block mappings, each level indented one more.
            let depth = depth.min(400);
            let mut s = String::new();
            for level in 0..depth {
                s.push('\n');
                s.push_str(&" ".repeat(level + 1));
                s.push_str("k:");
            }
            s.push_str(" end");
            s
        }
    };
    let key = *rng.pick(&["title", "dependencies", "subtasks", "history", "extra"]);
    set_field(rng, text, key, &value);
}

fn alias_bomb(rng: &mut Rng, text: &mut Vec<u8>, _: &[Vec<u8>]) {
    let mut bomb = String::from(
        "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let levels = 3 + rng.below(9);
    for i in 1..=levels {
        let refs = vec![format!("*a{}", i - 1); 9].join(",");
        bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let target = *rng.pick(&[
        "dependencies",
        "title",
        "subtasks",
        "lane",
        "history",
        "agent",
    ]);
    bomb.push_str(&format!("{target}: *a{levels}\n"));
    let at = after_first_line(text);
    text.splice(at..at, bomb.into_bytes());
}

fn yaml_tokens(rng: &mut Rng, text: &mut Vec<u8>, _: &[Vec<u8>]) {
    const TOKENS: &[&str] = &[
        "---",
        "...",
        "%YAML 1.2\n",
        "%TAG ! tag:x,2000:\n",
        "? ",
        "- ",
        "&x ",
        "*x",
        "*nope",
        "!!binary ",
        "!<tag:x> ",
        "|",
        ">-",
        "{",
        "[",
        "]",
        "}",
        "'",
        "\"",
        "#",
        "@",
        "`",
        "\u{feff}",
        "\r",
        ": ",
        "<<: *x\n",
        "!!python/object:os.system ",
        "\\",
        "\u{2028}",
        "\x1b]0;OWNED\x07",
        "\u{202e}",
    ];
    let at = if rng.chance(50) {
        some_lines(rng, text, 1).0
    } else {
        position(rng, text)
    };
    let token = rng.pick(TOKENS);
    text.splice(at..at, token.bytes());
}

fn line_ends(rng: &mut Rng, text: &mut Vec<u8>, _: &[Vec<u8>]) {
    if rng.chance(50) {
        let crlf: Vec<u8> = text
            .iter()
            .flat_map(|b| {
                if *b == b'\n' {
                    vec![b'\r', b'\n']
                } else {
                    vec![*b]
                }
            })
            .collect();
        *text = crlf;
    } else {
        text.retain(|b| *b != b'\n' || rng.chance(90));
    }
}

fn splice_other(rng: &mut Rng, text: &mut Vec<u8>, others: &[Vec<u8>]) {
    let other = rng.pick(others);
    if other.is_empty() {
        return;
    }
    let (start, end) = some_lines(rng, other, 10);
    let at = position(rng, text);
    text.splice(at..at, other[start..end].iter().copied());
}

/// A known field given a value of the wrong shape.
fn wrong_type(rng: &mut Rng, text: &mut Vec<u8>, _: &[Vec<u8>]) {
    const FIELDS: &[(&str, &[&str])] = &[
        (
            "work_package_id",
            &[
                "[WP01]",
                "WP0000001",
                "wp01",
                "\"\"",
                "~",
                "WP1e3",
                "{a: b}",
            ],
        ),
        (
            "dependencies",
            &[
                "WP01",
                "{a: b}",
                "[[WP01]]",
                "[WP9999999]",
                "[\"../x\"]",
                "[WP01, WP01, WP01]",
                "null",
                "[-1]",
            ],
        ),
        (
            "lane",
            &[
                "42",
                "doing",
                "\"\"",
                "[planned]",
                "DONE",
                "in-progress",
                "~",
            ],
        ),
        ("title", &["~", "[a, b]", "{x: 1}", "!!binary aGk=", "''"]),
        ("subtasks", &["[[[]]]", "x", "{a: [b, {c: d}]}"]),
        ("agent", &["[1, 2]", "\"a\\nb\"", "\"\\e[2J\""]),
        (
            "merge_target_branch",
            &[
                "\"-rf\"",
                "\"a..b\"",
                "\"x.lock\"",
                "\"../../etc\"",
                "[main]",
            ],
        ),
        (
            "planning_base_branch",
            &["\"@{-1}\"", "\" \"", "\"refs/heads/x\""],
        ),
        ("review_status", &["[approved]", "maybe"]),
    ];
    let (key, values) = rng.pick(FIELDS);
    let value = *rng.pick(values);
    set_field(rng, text, key, value);
}

/// The offset after the first line (the opening `---`), or 0.
fn after_first_line(text: &[u8]) -> usize {
    text.iter().position(|b| *b == b'\n').map_or(0, |i| i + 1)
}

/// Replace `key:`'s line (the first one) with `key: value`, or add it after the first line.
fn set_field(rng: &mut Rng, text: &mut Vec<u8>, key: &str, value: &str) {
    let line = format!("{key}: {value}\n");
    let prefix = format!("{key}:");
    let starts = line_starts(text);
    let found = starts
        .iter()
        .position(|s| text[*s..].starts_with(prefix.as_bytes()));
    match found {
        Some(i) if rng.chance(80) => {
            let start = starts[i];
            let end = starts.get(i + 1).copied().unwrap_or(text.len());
            text.splice(start..end, line.into_bytes());
        }
        _ => {
            let at = after_first_line(text);
            text.splice(at..at, line.into_bytes());
        }
    }
}

type Mutator = fn(&mut Rng, &mut Vec<u8>, &[Vec<u8>]);

const MUTATORS: &[(&str, Mutator)] = &[
    ("flip bits", flip_bits),
    ("truncate", truncate),
    ("duplicate lines", duplicate_lines),
    ("delete lines", delete_lines),
    ("tabs", tabs),
    ("NUL", nul),
    ("invalid UTF-8", invalid_utf8),
    ("huge scalar", huge_scalar),
    ("deep nesting", deep_nesting),
    ("alias bomb", alias_bomb),
    ("YAML tokens", yaml_tokens),
    ("line ends", line_ends),
    ("splice", splice_other),
    ("wrong type", wrong_type),
];

/// One case: a seed given the case's id and dependencies on other cases of its feature,
/// then damaged one to three times.
fn make_case(
    rng: &mut Rng,
    seeds: &[Vec<u8>],
    id: usize,
    feature_size: usize,
) -> (Vec<u8>, String) {
    let mut text = rng.pick(seeds).clone();
    let wp = format!("WP{id:03}");
    set_field(rng, &mut text, "work_package_id", &wp);
    let deps: Vec<String> = (0..rng.below(4))
        .map(|_| format!("WP{:03}", rng.below(feature_size) + 1))
        .collect();
    set_field(
        rng,
        &mut text,
        "dependencies",
        &format!("[{}]", deps.join(", ")),
    );
    let mut applied = Vec::new();
    for _ in 0..1 + rng.below(3) {
        let (name, mutate) = rng.pick(MUTATORS);
        mutate(rng, &mut text, seeds);
        applied.push(*name);
    }
    (text, applied.join(", "))
}

/// A file of one case: where it goes in the repository, its bytes, what was done to it.
struct Case {
    rel: String,
    bytes: Vec<u8>,
    what: String,
}

fn make_batch(rng: &mut Rng, seeds: &[Vec<u8>], first: usize, count: usize) -> Vec<Case> {
    let events =
        std::fs::read(fixtures().join("messy/kitty-specs/020-events/status.events.jsonl")).unwrap();
    let mut cases = Vec::new();
    for n in 0..count {
        let feature = format!("{:03}-fuzz", (first + n) / PER_FEATURE);
        let id = n % PER_FEATURE + 1;
        let (bytes, what) = make_case(rng, seeds, id, PER_FEATURE);
        let name = if rng.chance(3) {
            "x\x1b]0;OWNED\x07"
        } else {
            "fuzz"
        };
        cases.push(Case {
            rel: format!("kitty-specs/{feature}/tasks/WP{id:03}-{name}.md"),
            bytes,
            what,
        });
        // Spec Kitty's event log and meta file, damaged too, in some features.
        if id == 1 && rng.chance(50) {
            let mut log = events.clone();
            let (_, mutate) = rng.pick(MUTATORS);
            mutate(rng, &mut log, seeds);
            cases.push(Case {
                rel: format!("kitty-specs/{feature}/status.events.jsonl"),
                bytes: log,
                what: "event log".into(),
            });
            let mut meta = br#"{"slug": "x", "target_branch": "main"}"#.to_vec();
            flip_bits(rng, &mut meta, seeds);
            cases.push(Case {
                rel: format!("kitty-specs/{feature}/meta.json"),
                bytes: meta,
                what: "meta.json".into(),
            });
        }
    }
    cases
}

/// Replace the plan in `repo` with `cases`.
fn write_plan(repo: &Repo, cases: &[&Case]) {
    let _ = std::fs::remove_dir_all(repo.path("kitty-specs"));
    for c in cases {
        let path = repo.path(&c.rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &c.bytes).unwrap();
    }
}

/// Run `git-kitty <args>` with a deadline: `None` when it had to be killed.
fn run_bounded(repo: &Repo, args: &[&str]) -> Option<Run> {
    let mut child = repo
        .kitty_command(&repo.root, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the pipes on threads so a big output cannot block the child.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut v).unwrap();
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut v).unwrap();
        v
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let output = std::process::Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    Some(Run::new(output, &repo.root))
}

/// What is wrong with one command's answer on the current plan, if anything.
fn judge(repo: &Repo, args: &[&str]) -> Option<String> {
    let Some(run) = run_bounded(repo, args) else {
        return Some(format!("hung (killed after {TIMEOUT:?})"));
    };
    let allowed: &[i32] = if args[0] == "check" { &[0, 1] } else { &[0] };
    if !allowed.contains(&run.code) {
        return Some(format!("exit code {}\n{}", run.code, run.stderr));
    }
    if run.stderr.contains("panicked") {
        return Some(format!("panic\n{}", run.stderr));
    }
    if args.contains(&"--json")
        && let Err(e) = serde_json::from_str::<serde_json::Value>(&run.stdout)
    {
        return Some(format!(
            "invalid JSON ({e})\n{}",
            &run.stdout[..run.stdout.len().min(2000)]
        ));
    }
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        if let Some(c) = text.chars().find(|c| c.is_control() && *c != '\n') {
            return Some(format!("raw control character {c:?} on {name}"));
        }
    }
    None
}

const COMMANDS: &[&[&str]] = &[
    &["check", "--json"],
    &["status", "--json", "--all"],
    &["check"],
    &["status", "--all"],
    &["status", "--graph"],
];

/// The smallest set of `cases` (down to one file) on which `args` still fails.
fn narrow<'a>(repo: &Repo, args: &[&str], mut cases: Vec<&'a Case>) -> Vec<&'a Case> {
    while cases.len() > 1 {
        let half = cases.len() / 2;
        let (a, b) = cases.split_at(half);
        let (a, b) = (a.to_vec(), b.to_vec());
        write_plan(repo, &a);
        if judge(repo, args).is_some() {
            cases = a;
            continue;
        }
        write_plan(repo, &b);
        if judge(repo, args).is_some() {
            cases = b;
            continue;
        }
        break; // only together: keep both halves
    }
    cases
}

/// Save the failing files under `target/fuzz-failures/` and say what failed.
fn report(repo: &Repo, args: &[&str], cases: &[&Case], seed: u64) -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
    std::fs::create_dir_all(&dir).unwrap();
    write_plan(repo, cases);
    let what = judge(repo, args).unwrap_or_else(|| "(no longer fails alone)".into());
    let mut names = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let path = dir.join(format!("seed-{seed}-{i}.md"));
        std::fs::write(&path, &c.bytes).unwrap();
        names.push(format!("{} <- {} ({})", path.display(), c.rel, c.what));
    }
    format!(
        "`git kitty {}` failed: {what}\nfiles:\n{}",
        args.join(" "),
        names.join("\n")
    )
}

#[test]
fn damaged_plans_never_crash_hang_or_garble_check_and_status() {
    let total = env_number("KITTY_FUZZ_CASES", 2000) as usize;
    let seed = env_number("KITTY_FUZZ_SEED", 0x006b_6974_7479);
    let seeds = seeds();
    let repo = Repo::new();
    // The judge itself catches a failing command.
    assert!(judge(&repo, &["status", "--no-such-flag"]).is_some());
    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut done = 0;
    while done < total {
        let count = BATCH.min(total - done);
        let cases = make_batch(&mut rng, &seeds, done, count);
        let all: Vec<&Case> = cases.iter().collect();
        for args in COMMANDS {
            write_plan(&repo, &all);
            if judge(&repo, args).is_some() {
                let culprits = narrow(&repo, args, all.clone());
                panic!("{}", report(&repo, args, &culprits, seed));
            }
        }
        done += count;
    }
    eprintln!(
        "fuzz: {total} cases from {} seeds in {:?}",
        seeds.len(),
        started.elapsed()
    );
}
