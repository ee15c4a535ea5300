//! The board for people: five columns, then what is ready, what waits, what is stuck.

use std::fmt::Write as _;

use super::{Paint, clean, pad, truncate, width};
use crate::board::{Board, FeatureBoard, WpView};
use crate::model::lane::Lane;
use crate::model::problem::{Problem, Severity};
use crate::util::time::{ago, parse_rfc3339};

/// The columns and the lanes each one holds; the second lane of a column gets a marker.
const COLUMNS: [(&str, &[Lane]); 5] = [
    ("Planned", &[Lane::Planned]),
    ("Doing", &[Lane::Claimed, Lane::InProgress]),
    ("For Review", &[Lane::ForReview, Lane::InReview]),
    ("Approved", &[Lane::Approved]),
    ("Done", &[Lane::Done]),
];

pub fn render(board: &Board, paint: Paint, total_width: usize, now: i128) -> String {
    render_marked(board, paint, total_width, now, &Marked::new())
}

/// WPs whose cards stand out, as (feature slug, WP id): what just moved, in
/// `status --watch`.
pub type Marked = std::collections::HashSet<(String, String)>;

/// [`render`], with the cards in `marked` drawn as `» WP01 ...` (and reversed, in colour).
pub fn render_marked(
    board: &Board,
    paint: Paint,
    total_width: usize,
    now: i128,
    marked: &Marked,
) -> String {
    let mut out = String::new();
    if board.features.is_empty() {
        out.push_str(
            "No features found: work packages go in kitty-specs/<feature>/tasks/WP01-name.md\n",
        );
    }
    for (i, f) in board.features.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let marks = Marks {
            feature: &f.slug,
            set: marked,
        };
        render_feature(&mut out, f, paint, (total_width, now), marks);
    }
    if !board.problems.is_empty() {
        out.push('\n');
        out.push_str(&problems_summary(&board.problems, paint));
    }
    out
}

/// The marked WPs of one feature.
#[derive(Clone, Copy)]
struct Marks<'a> {
    feature: &'a str,
    set: &'a Marked,
}

impl Marks<'_> {
    fn has(&self, wp: &str) -> bool {
        !self.set.is_empty() && self.set.contains(&(self.feature.to_owned(), wp.to_owned()))
    }
}

fn render_feature(
    out: &mut String,
    f: &FeatureBoard,
    paint: Paint,
    (total_width, now): (usize, i128),
    marks: Marks,
) {
    write_header(out, f, paint);
    if f.work_packages.is_empty() {
        out.push_str("  (no work packages yet)\n");
        return;
    }
    write_columns(out, f, paint, (total_width, now), marks);
    write_sections(out, f, paint);
}

/// The feature's name and progress, and how its state compares with the remote.
fn write_header(out: &mut String, f: &FeatureBoard, paint: Paint) {
    let p = &f.progress;
    let _ = writeln!(
        out,
        "{}  {}/{} done ({}%) · {}% weighted",
        paint.bold(&f.slug),
        p.done,
        p.total,
        fmt_pct(p.percent),
        fmt_pct(p.weighted_percent),
    );
    let Some(r) = &f.remote else { return };
    let mut parts = Vec::new();
    for (n, what) in [
        (r.ahead + r.local_only, "ahead"),
        (r.behind + r.remote_only, "behind"),
        (r.diverged, "diverged"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    if parts.is_empty() {
        let _ = writeln!(
            out,
            "  {}",
            paint.dim(&format!("state in sync with {}", r.name))
        );
    } else {
        let _ = writeln!(
            out,
            "  {} {}",
            paint.yellow(&format!("state vs {}: {}", r.name, parts.join(", "))),
            paint.dim("(`git kitty sync`)")
        );
    }
}

/// The five columns of cards, under their names and a rule.
fn write_columns(
    out: &mut String,
    f: &FeatureBoard,
    paint: Paint,
    (total_width, now): (usize, i128),
    marks: Marks,
) {
    // Five columns with two spaces between them, after a two-space indent.
    let col = ((total_width.saturating_sub(2 + 4 * 2)) / 5).clamp(14, 40);
    let mut header = String::from(" ");
    let mut rule = String::from(" ");
    for (name, _) in COLUMNS {
        let _ = write!(header, " {} ", paint.bold(&pad(name, col)));
        let _ = write!(rule, " {} ", paint.dim(&"─".repeat(col)));
    }
    let _ = writeln!(out, "{}", header.trim_end());
    let _ = writeln!(out, "{}", rule.trim_end());

    // Each card is one or two lines; lay the columns out line by line.
    let lines: Vec<Vec<(String, String)>> = COLUMNS
        .iter()
        .map(|(_, lanes)| column_lines(f, lanes, paint, (col, now), marks))
        .collect();
    let height = lines.iter().map(Vec::len).max().unwrap_or(0);
    for row in 0..height {
        let mut line = String::from(" ");
        for column in &lines {
            match column.get(row) {
                Some((plain, painted)) => {
                    let _ = write!(
                        line,
                        " {painted}{} ",
                        " ".repeat(col.saturating_sub(width(plain)))
                    );
                }
                None => {
                    let _ = write!(line, " {} ", " ".repeat(col));
                }
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// The lines of one column's cards, each plain (to measure) and painted (to print).
fn column_lines(
    f: &FeatureBoard,
    lanes: &[Lane],
    paint: Paint,
    (col, now): (usize, i128),
    marks: Marks,
) -> Vec<(String, String)> {
    let mut lines = Vec::new();
    for w in f.work_packages.iter().filter(|w| lanes.contains(&w.lane)) {
        let (title, painted) = if marks.has(&w.id) {
            let title = truncate(&format!("» {} {}", w.id, clean(&w.title)), col);
            let painted = paint.style(&title, owo_colors::Style::new().reversed().bold());
            (title, painted)
        } else {
            let title = card_title(w, col);
            let painted = paint.lane(w.lane, &title);
            (title, painted)
        };
        lines.push((title, painted));
        if let Some(d) = card_detail(w, col, now) {
            let painted = paint.dim(&d);
            lines.push((d, painted));
        }
    }
    lines
}

/// The sections under the columns (ready, waiting, stale...), each shown only when it has
/// rows; a blank line separates them from the columns.
fn write_sections(out: &mut String, f: &FeatureBoard, paint: Paint) {
    let mut sections = Sections {
        out,
        paint,
        first: true,
    };
    sections.add("Ready to start", ready_rows(f, paint));
    sections.add("Waiting", waiting_rows(f, paint));
    sections.add("Stale", stale_rows(f, paint));
    sections.add("No worktree", no_worktree_rows(f, paint));
    sections.add("Needs fixing", needs_fixing_rows(f, paint));
    for (label, lane) in [("Blocked", Lane::Blocked), ("Canceled", Lane::Canceled)] {
        sections.add(label, lane_rows(f, lane, paint));
    }
}

/// Writes labelled sections: the label on the first row, a blank line before the first.
struct Sections<'a> {
    out: &'a mut String,
    paint: Paint,
    first: bool,
}

impl Sections<'_> {
    const LABEL_WIDTH: usize = 16;

    fn add(&mut self, label: &str, rows: Vec<String>) {
        if rows.is_empty() {
            return;
        }
        if std::mem::take(&mut self.first) {
            self.out.push('\n');
        }
        for (i, row) in rows.iter().enumerate() {
            let label = if i == 0 { label } else { "" };
            let _ = writeln!(
                self.out,
                "  {}{row}",
                self.paint.bold(&pad(label, Self::LABEL_WIDTH))
            );
        }
    }
}

/// Width of a WP's title in the section rows.
const TITLE_WIDTH: usize = 28;

fn by_id<'a>(f: &'a FeatureBoard, id: &str) -> Option<&'a WpView> {
    f.work_packages.iter().find(|w| w.id == id)
}

fn ready_rows(f: &FeatureBoard, paint: Paint) -> Vec<String> {
    f.ready
        .iter()
        .filter_map(|id| by_id(f, id))
        .map(|w| {
            let unblocks = match w.unblocks {
                0 => String::new(),
                n => paint.dim(&format!("unblocks {n}")),
            };
            format!("{}  {unblocks}", wp_label(w, TITLE_WIDTH, paint))
                .trim_end()
                .to_owned()
        })
        .collect()
}

fn waiting_rows(f: &FeatureBoard, paint: Paint) -> Vec<String> {
    f.waiting
        .iter()
        .filter_map(|wait| Some((by_id(f, &wait.id)?, wait)))
        .map(|(w, wait)| {
            let on: Vec<String> = wait
                .waiting_on
                .iter()
                .map(|d| match d.lane {
                    Some(l) => format!("{} ({})", d.id, paint.lane(l, l.as_str())),
                    None => format!("{} ({})", d.id, paint.red("not in the plan")),
                })
                .collect();
            format!("{}  on {}", wp_label(w, TITLE_WIDTH, paint), on.join(", "))
        })
        .collect()
}

fn stale_rows(f: &FeatureBoard, paint: Paint) -> Vec<String> {
    f.work_packages
        .iter()
        .filter(|w| !w.stale.is_empty())
        .map(|w| {
            let why: Vec<String> = w
                .stale
                .iter()
                .map(crate::state::stale::describe_stale)
                .collect();
            format!(
                "{} stale: {}  {}",
                paint.bold(&w.id),
                why.join(", "),
                paint.dim(&format!("(git kitty restack {})", w.id))
            )
        })
        .collect()
}

fn no_worktree_rows(f: &FeatureBoard, paint: Paint) -> Vec<String> {
    f.work_packages
        .iter()
        .filter(|w| w.worktree_missing)
        .map(|w| {
            format!(
                "{}  {}",
                wp_label(w, TITLE_WIDTH, paint),
                paint.dim(&format!(
                    "deleted by hand? `git kitty implement {}` makes it again",
                    w.id
                ))
            )
        })
        .collect()
}

fn needs_fixing_rows(f: &FeatureBoard, paint: Paint) -> Vec<String> {
    f.work_packages
        .iter()
        .filter(|w| w.has_errors)
        .map(|w| {
            format!(
                "{}  {}",
                wp_label(w, TITLE_WIDTH, paint),
                paint.red("file has errors")
            )
        })
        .collect()
}

/// The WPs in `lane` (blocked, canceled), with who holds them.
fn lane_rows(f: &FeatureBoard, lane: Lane, paint: Paint) -> Vec<String> {
    f.work_packages
        .iter()
        .filter(|w| w.lane == lane)
        .map(|w| {
            let who = w
                .agent
                .as_deref()
                .map(|a| format!("  {}", paint.dim(&clean(a))))
                .unwrap_or_default();
            format!("{}{who}", wp_label(w, TITLE_WIDTH, paint))
                .trim_end()
                .to_owned()
        })
        .collect()
}

/// `WP02 API layer` cut to the column.
fn card_title(w: &WpView, col: usize) -> String {
    truncate(&format!("{} {}", w.id, clean(&w.title)), col)
}

/// The card's second line: marker for claimed / in review, who, how long ago.
fn card_detail(w: &WpView, col: usize, now: i128) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    match w.lane {
        Lane::Claimed => parts.push("claimed".into()),
        Lane::InReview => parts.push("in review".into()),
        _ => {}
    }
    let who = match w.lane {
        Lane::InReview | Lane::Approved => w.reviewer.as_ref().or(w.agent.as_ref()),
        _ => w.agent.as_ref(),
    };
    if let Some(who) = who {
        parts.push(clean(who));
    }
    if w.has_errors {
        parts.push("file has errors".into());
    }
    if !w.stale.is_empty() {
        parts.push("stale".into());
    }
    if w.worktree_missing {
        parts.push("no worktree".into());
    }
    if let Some(t) = w.updated_at.as_deref().and_then(parse_rfc3339) {
        parts.push(ago(t, now));
    }
    if parts.is_empty() {
        None
    } else {
        Some(truncate(&format!("  {}", parts.join(" · ")), col))
    }
}

fn wp_label(w: &WpView, title_width: usize, paint: Paint) -> String {
    format!(
        "{} {}",
        paint.bold(&pad(&w.id, 5)),
        pad(&truncate(&clean(&w.title), title_width), title_width)
    )
}

fn fmt_pct(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// The problems under the board: counted, each on a line.
pub fn problems_summary(problems: &[Problem], paint: Paint) -> String {
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let warnings = problems.len() - errors;
    let mut out = String::new();
    let mut counts = Vec::new();
    if errors > 0 {
        counts.push(paint.red(&plural(errors, "error")));
    }
    if warnings > 0 {
        counts.push(paint.yellow(&plural(warnings, "warning")));
    }
    let _ = writeln!(
        out,
        "{} in the plan (`git kitty check` explains each):",
        counts.join(", ")
    );
    for p in problems {
        let _ = writeln!(out, "  {}", problem_line(p, paint));
    }
    out
}

pub fn problem_line(p: &Problem, paint: Paint) -> String {
    let sev = match p.severity {
        Severity::Error => paint.red(&format!("error[{}]", p.code.as_str())),
        Severity::Warning => paint.yellow(&format!("warning[{}]", p.code.as_str())),
    };
    match p.location() {
        Some(loc) => format!("{}: {sev}: {}", paint.bold(&loc), p.message),
        None => format!("{sev}: {}", p.message),
    }
}

pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
