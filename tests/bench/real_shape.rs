//! A plan shaped like a real Spec Kitty repository (issue 14), generated deterministically:
//! 412 features, 2,537 WP files averaging ~13 KB (20-60 frontmatter lines, long `history`
//! lists, bodies of several KB), 404 `status.events.jsonl` files of three eras (~18 MB, the
//! largest 3 MB), and everything else a feature folder holds (spec.md, plan.md, research/,
//! contracts/, checklists/, review cycles...): ~11,000 files, ~128 MB under `kitty-specs/`.
//!
//! No real files are copied: the shapes follow the samples of Spec Kitty's own repository
//! (early `lane:` frontmatter, 0.11 `.md.bak` files, 3.x event logs with annotations and
//! mission events).

use std::fmt::Write as _;
use std::path::Path;

pub const FEATURES: usize = 412;
pub const WPS: usize = 2537;
const WITH_EVENTS: usize = 404;
const EVENTS_BYTES: usize = 18 * 1024 * 1024;
const LARGEST_EVENTS: usize = 3 * 1024 * 1024;

/// splitmix64: small, fast, and the same numbers on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.range(0, items.len() - 1)]
    }

    /// A ULID-shaped id (26 characters of Crockford's base32), as Spec Kitty writes.
    fn ulid(&mut self) -> String {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let (a, b) = (self.next(), self.next());
        (0..26)
            .map(|i| {
                let bits = if i < 13 {
                    a >> (i * 5)
                } else {
                    b >> ((i - 13) * 5)
                };
                ALPHABET[(bits & 31) as usize] as char
            })
            .collect()
    }
}

/// Spec Kitty's eras: frontmatter lanes and migrated logs; 0.11 worktrees; 3.x event logs.
#[derive(Clone, Copy, PartialEq)]
enum Era {
    Early,
    Worktree,
    Modern,
}

struct FeatureShape {
    slug: String,
    era: Era,
    wps: usize,
    events_bytes: usize,
}

const WORDS: &[&str] = &[
    "workspace",
    "release",
    "review",
    "merge",
    "charter",
    "mission",
    "sync",
    "status",
    "lane",
    "widen",
    "audit",
    "guard",
    "tracker",
    "dossier",
    "ownership",
    "budget",
    "shard",
    "egress",
    "token",
    "timeout",
    "runtime",
    "planning",
    "decision",
    "interview",
    "template",
    "agent",
    "worktree",
    "dependency",
    "graph",
    "migration",
    "schema",
    "telemetry",
    "dashboard",
    "queue",
];

/// The features: slugs of the three eras, WP counts summing to [`WPS`], event-log sizes
/// summing to about [`EVENTS_BYTES`] over [`WITH_EVENTS`] features.
fn shapes(rng: &mut Rng) -> Vec<FeatureShape> {
    let mut counts = vec![WPS / FEATURES; FEATURES];
    for c in counts.iter_mut().take(WPS % FEATURES) {
        *c += 1;
    }
    // Move WPs between features, keeping the total: from 1-WP features to 20-WP ones.
    for _ in 0..FEATURES * 4 {
        let (from, to) = (rng.range(0, FEATURES - 1), rng.range(0, FEATURES - 1));
        if counts[from] > 1 && counts[to] < 22 {
            counts[from] -= 1;
            counts[to] += 1;
        }
    }
    let weights: Vec<f64> = (0..FEATURES)
        .map(|_| {
            let u = (rng.next() % 1_000_000) as f64 / 1_000_000.0;
            (1.0 - u * 0.97).powf(-1.0 / 1.2)
        })
        .collect();
    let largest = FEATURES * 3 / 4;
    let without: Vec<usize> = (0..FEATURES - WITH_EVENTS).map(|i| 5 + i * 12).collect();
    let total: f64 = (0..FEATURES)
        .filter(|i| *i != largest && !without.contains(i))
        .map(|i| weights[i])
        .sum();
    (0..FEATURES)
        .map(|i| {
            let era = match i * 3 / FEATURES {
                0 => Era::Early,
                1 => Era::Worktree,
                _ => Era::Modern,
            };
            let name = format!("{}-{}", rng.pick(WORDS), rng.pick(WORDS));
            let slug = match era {
                Era::Modern => format!("{name}-{}", &rng.ulid()[..8]),
                _ => format!("{:03}-{name}", i + 1),
            };
            let events_bytes = if without.contains(&i) {
                0
            } else if i == largest {
                LARGEST_EVENTS
            } else {
                ((EVENTS_BYTES - LARGEST_EVENTS) as f64 * weights[i] / total) as usize
            };
            FeatureShape {
                slug,
                era,
                wps: counts[i],
                events_bytes,
            }
        })
        .collect()
}

/// What was generated, for the report.
#[derive(Default)]
pub struct Totals {
    pub files: usize,
    pub bytes: usize,
    pub wp_bytes: usize,
    pub events_files: usize,
    pub events_bytes: usize,
    pub largest_events: usize,
}

/// Writes files and counts them.
struct Writer<'a> {
    root: &'a Path,
    totals: Totals,
}

impl Writer<'_> {
    fn write(&mut self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        self.totals.files += 1;
        self.totals.bytes += text.len();
    }
}

/// Generate the plan under `root/kitty-specs/` (the caller commits it).
pub fn generate(root: &Path) -> Totals {
    let mut rng = Rng::new(0x6b69_7474_795f_7265);
    let pool = text_pool(&mut rng);
    let mut w = Writer {
        root,
        totals: Totals::default(),
    };
    for shape in shapes(&mut rng) {
        let dir = format!("kitty-specs/{}", shape.slug);
        feature_documents(&mut w, &mut rng, &pool, &dir);
        let ids: Vec<String> = (1..=shape.wps).map(|n| format!("WP{n:02}")).collect();
        for (n, id) in ids.iter().enumerate() {
            let name = format!("{id}-{}-{}", rng.pick(WORDS), rng.pick(WORDS));
            let text = wp_file(&mut rng, &pool, &shape, n, &ids);
            w.totals.wp_bytes += text.len();
            w.write(&format!("{dir}/tasks/{name}.md"), &text);
            task_extras(
                &mut w,
                &mut rng,
                &pool,
                &shape,
                &format!("{dir}/tasks/{name}"),
            );
        }
        if shape.events_bytes > 0 {
            let log = events(&mut rng, &shape, &ids);
            w.totals.events_files += 1;
            w.totals.events_bytes += log.len();
            w.totals.largest_events = w.totals.largest_events.max(log.len());
            w.write(&format!("{dir}/status.events.jsonl"), &log);
        }
        let meta = format!(
            "{{\n  \"created_at\": \"2026-01-07T00:00:00Z\",\n  \"friendly_name\": \"{}\",\n  \"mission_slug\": \"{}\",\n  \"mission_type\": \"software-dev\",\n  \"target_branch\": \"main\"\n}}\n",
            shape.slug, shape.slug
        );
        w.write(&format!("{dir}/meta.json"), &meta);
    }
    w.totals
}

/// 256 KB of markdown-ish lines; documents are slices of it, each behind a unique header.
fn text_pool(rng: &mut Rng) -> String {
    let mut pool = String::with_capacity(300 * 1024);
    while pool.len() < 256 * 1024 {
        match rng.range(0, 9) {
            0 => pool.push_str("\n## "),
            1 => pool.push_str("- "),
            2 => pool.push_str("```bash\nspec-kitty agent workflow implement\n```\n"),
            _ => {}
        }
        for i in 0..rng.range(6, 16) {
            if i > 0 {
                pool.push(' ');
            }
            pool.push_str(rng.pick(WORDS));
        }
        pool.push_str(".\n");
    }
    pool
}

/// `len` bytes of text starting at a random line of the pool.
fn body(rng: &mut Rng, pool: &str, header: &str, len: usize) -> String {
    let mut out = String::with_capacity(len + 128);
    out.push_str(header);
    out.push('\n');
    let mut at = rng.range(0, pool.len() / 2);
    while !pool.is_char_boundary(at) || (at > 0 && pool.as_bytes()[at - 1] != b'\n') {
        at += 1;
    }
    while out.len() < len {
        let take = (len - out.len()).min(pool.len() - at);
        out.push_str(&pool[at..at + take]);
        at = 0;
    }
    out
}

/// spec.md, plan.md and the other documents of a feature folder (~190 KB in ~16 files).
fn feature_documents(w: &mut Writer, rng: &mut Rng, pool: &str, dir: &str) {
    for (name, lo, hi) in [
        ("spec.md", 10, 36),
        ("plan.md", 8, 30),
        ("tasks.md", 6, 26),
        ("research.md", 3, 16),
        ("data-model.md", 3, 14),
        ("quickstart.md", 2, 10),
        ("checklists/requirements.md", 2, 6),
        ("status.json", 2, 5),
        ("tasks/README.md", 1, 3),
    ] {
        let len = rng.range(lo, hi) * 1024;
        w.write(
            &format!("{dir}/{name}"),
            &body(rng, pool, &format!("# {dir}/{name}"), len),
        );
    }
    for (folder, ext, most) in [("research", "md", 6), ("contracts", "yaml", 6)] {
        for n in 0..rng.range(0, most) {
            let rel = format!("{dir}/{folder}/{folder}-{n}.{ext}");
            let len = rng.range(4, 24) * 1024;
            w.write(&rel, &body(rng, pool, &format!("# {rel}"), len));
        }
    }
}

/// What sits beside a WP file: review cycles and baselines in `tasks/WPnn-name/`, and the
/// `.md.bak` copies of the 0.11 era.
fn task_extras(w: &mut Writer, rng: &mut Rng, pool: &str, shape: &FeatureShape, stem: &str) {
    if shape.era != Era::Early {
        let most = if shape.era == Era::Modern { 2 } else { 1 };
        for n in 1..=rng.range(0, most) {
            let rel = format!("{stem}/review-cycle-{n}.md");
            let len = rng.range(3, 9) * 1024;
            w.write(&rel, &body(rng, pool, &format!("# {rel}"), len));
        }
        if shape.era == Era::Modern && rng.range(0, 3) == 0 {
            let rel = format!("{stem}/baseline-tests.json");
            let len = rng.range(1, 4) * 1024;
            w.write(&rel, &body(rng, pool, "{\"tests\": []}", len));
        }
    }
    if shape.era == Era::Worktree && rng.range(0, 5) == 0 {
        let rel = format!("{stem}.md.bak");
        w.write(
            &rel,
            &body(rng, pool, "---\nwork_package_id: old\n---", 6 * 1024),
        );
    }
}

/// One WP file: 20-60 frontmatter lines of the feature's era, a body of several KB.
fn wp_file(rng: &mut Rng, pool: &str, shape: &FeatureShape, n: usize, ids: &[String]) -> String {
    let id = &ids[n];
    let mut fm = String::with_capacity(4096);
    let _ = writeln!(fm, "---\nwork_package_id: {id}");
    let _ = writeln!(
        fm,
        "title: {} {} for {}",
        rng.pick(WORDS),
        rng.pick(WORDS),
        shape.slug
    );
    let deps: Vec<&str> = (0..n)
        .filter(|_| rng.range(0, 3) == 0)
        .map(|d| ids[d].as_str())
        .collect();
    if rng.range(0, 1) == 0 {
        let _ = writeln!(fm, "dependencies: [{}]", deps.join(", "));
    } else {
        fm.push_str("dependencies:\n");
        deps.iter().for_each(|d| {
            let _ = writeln!(fm, "- {d}");
        });
    }
    if shape.era == Era::Early {
        let lane = ["planned", "doing", "for_review", "done"][rng.range(0, 3)];
        let _ = writeln!(fm, "lane: {lane}");
    }
    fm.push_str("subtasks:\n");
    for t in 0..rng.range(2, 9) {
        let _ = writeln!(fm, "- T{:03}", n * 10 + t);
    }
    let _ = writeln!(fm, "phase: Phase {} - Core Implementation", rng.range(1, 3));
    let _ = writeln!(
        fm,
        "agent: \"claude:sonnet-4-7:implementer\"\nshell_pid: \"{}\"",
        rng.range(1000, 99999)
    );
    let lines_now = fm.lines().count();
    let target = rng.range(20, 60);
    history(
        &mut fm,
        rng,
        shape.era,
        target.saturating_sub(lines_now + 8) / 5,
    );
    let _ = writeln!(
        fm,
        "authoritative_surface: src/{}/\nexecution_mode: code_change",
        shape.slug
    );
    let _ = writeln!(fm, "mission_id: 01KN2371WNZX28ME4MN97B67PS\nowned_files:");
    for f in 0..rng.range(1, 3) {
        let _ = writeln!(fm, "- src/{}/{id}/part_{f}.py", shape.slug);
    }
    let _ = writeln!(fm, "wp_code: {id}\n---");
    let len = rng.range(4300, 20500);
    let header = format!("{fm}\n# Work Package Prompt: {id}");
    body(rng, pool, &header, fm.len() + len)
}

/// `entries` history items (five lines each, or two in the 3.x shape).
fn history(fm: &mut String, rng: &mut Rng, era: Era, entries: usize) {
    if entries == 0 {
        fm.push_str("history: []\n");
        return;
    }
    fm.push_str("history:\n");
    for e in 0..entries {
        let lane = ["planned", "doing", "for_review", "planned", "doing", "done"][e % 6];
        if era == Era::Modern && rng.range(0, 2) == 0 {
            let _ = writeln!(
                fm,
                "- date: '2026-04-{:02}T15:43:52Z'\n  event: {lane}",
                e % 28 + 1
            );
        } else {
            let _ = writeln!(
                fm,
                "- timestamp: '2026-01-{:02}T{:02}:00:00Z'\n  lane: {lane}\n  agent: {}\n  shell_pid: '{}'\n  action: {} via /spec-kitty.{}",
                e % 28 + 1,
                e % 24,
                rng.pick(&["system", "claude", "codex", "gemini"]),
                rng.range(1000, 99999),
                rng.pick(&[
                    "Prompt generated",
                    "Started implementation",
                    "Moved",
                    "Returned"
                ]),
                rng.pick(&["tasks", "implement", "review"]),
            );
        }
    }
}

/// `2026-01-07T10:00:00` for seconds since the epoch (UTC; days to civil date as in
/// Howard Hinnant's algorithm).
fn rfc3339_seconds(t: u64) -> String {
    let (days, s) = ((t / 86_400) as i64, t % 86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

const CYCLE: &[&str] = &[
    "planned",
    "claimed",
    "in_progress",
    "for_review",
    "in_review",
    "approved",
    "done",
];

/// A `status.events.jsonl` of about `shape.events_bytes`: a bootstrap line per WP, then lane
/// moves through review cycles with annotations between them (3.x), or migrated lines (early).
fn events(rng: &mut Rng, shape: &FeatureShape, ids: &[String]) -> String {
    let mut log = String::with_capacity(shape.events_bytes + 4096);
    let mut clock: u64 = 1_767_225_600 + rng.range(0, 10_000_000) as u64;
    let mut at = |rng: &mut Rng, era: Era| {
        clock += rng.range(1, 600) as u64;
        let day = rfc3339_seconds(clock);
        match era {
            Era::Modern => format!("{day}.{:06}+00:00", rng.range(0, 999_999)),
            _ => format!("{day}Z"),
        }
    };
    if shape.era == Era::Modern {
        mission_event(&mut log, rng, shape);
    }
    let mut lanes = vec![0usize; ids.len()];
    for id in ids {
        let time = at(rng, shape.era);
        transition(&mut log, rng, shape, id, ("planned", "planned"), &time);
    }
    while log.len() < shape.events_bytes {
        let w = rng.range(0, ids.len() - 1);
        let time = at(rng, shape.era);
        if shape.era == Era::Modern && rng.range(0, 2) == 0 {
            annotation(&mut log, rng, &ids[w], &time);
            continue;
        }
        let from = lanes[w];
        // A review sends a WP back now and then; a WP that is done starts a new cycle.
        let to = match from {
            4 if rng.range(0, 3) == 0 => 2,
            6 => 0,
            _ => from + 1,
        };
        lanes[w] = to;
        transition(
            &mut log,
            rng,
            shape,
            &ids[w],
            (CYCLE[from], CYCLE[to]),
            &time,
        );
    }
    log
}

fn transition(
    log: &mut String,
    rng: &mut Rng,
    shape: &FeatureShape,
    wp: &str,
    lanes: (&str, &str),
    at: &str,
) {
    let (actor, reason) = match shape.era {
        Era::Early => ("migration", "historical_frontmatter_to_jsonl:v1"),
        _ => (
            rng.pick(&[
                "claude:sonnet-4-7:python-implementer:implementer",
                "user",
                "finalize-tasks",
            ]),
            rng.pick(&[
                "canonical bootstrap",
                "Started review via action command",
                "Review passed: ruff and mypy clean, all tests pass.",
            ]),
        ),
    };
    let evidence = if lanes.1 == "approved" {
        format!(
            "{{\"review\": {{\"reference\": \"{reason}\", \"reviewer\": \"Robert Douglass\", \"verdict\": \"approved\"}}}}"
        )
    } else {
        "null".into()
    };
    let _ = writeln!(
        log,
        "{{\"actor\": \"{actor}\", \"at\": \"{at}\", \"event_id\": \"{}\", \"evidence\": {evidence}, \"execution_mode\": \"worktree\", \"force\": {}, \"from_lane\": \"{}\", \"mission_id\": \"01KPXFGJXXCV25X3T9DWGME5V1\", \"mission_slug\": \"{}\", \"policy_metadata\": null, \"reason\": \"{reason}\", \"review_ref\": null, \"review_result\": null, \"to_lane\": \"{}\", \"wp_id\": \"{wp}\"}}",
        rng.ulid(),
        rng.range(0, 1) == 0,
        lanes.0,
        shape.slug,
        lanes.1,
    );
}

fn annotation(log: &mut String, rng: &mut Rng, wp: &str, at: &str) {
    let _ = writeln!(
        log,
        "{{\"actor\": {{\"model\": null, \"profile\": null, \"role\": \"reviewer\", \"tool\": \"user\"}}, \"at\": \"{at}\", \"delta\": {{\"agent_profile\": \"__resolved_profile_absent__\", \"model\": \"__resolved_model_absent__\", \"role\": \"implementer\", \"shell_pid\": {}, \"subtasks\": {{\"T001\": \"done\", \"T002\": \"done\"}}}}, \"event_id\": \"{}\", \"kind\": \"annotation\", \"wp_id\": \"{wp}\"}}",
        rng.range(1000, 999_999),
        rng.ulid(),
    );
}

fn mission_event(log: &mut String, rng: &mut Rng, shape: &FeatureShape) {
    let _ = writeln!(
        log,
        "{{\"aggregate_id\": \"{}\", \"aggregate_type\": \"Mission\", \"event_id\": \"{}\", \"event_type\": \"MissionCreated\", \"payload\": {{\"created_at\": \"2026-07-31T11:27:56.884763+00:00\", \"friendly_name\": \"{slug}\", \"mission_slug\": \"{slug}\", \"mission_type\": \"software-dev\", \"purpose_context\": \"This mission advances {slug} so stakeholders can track the work from mission creation onward.\", \"target_branch\": \"main\", \"wp_count\": 0}}, \"project_slug\": \"spec-kitty\", \"schema_version\": \"5.0.0\", \"timestamp\": \"2026-07-31T11:27:57.700102+00:00\"}}",
        rng.ulid(),
        rng.ulid(),
        slug = shape.slug,
    );
}
