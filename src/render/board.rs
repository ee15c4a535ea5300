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
    // Each feature laid out on its own, on every core (a plan of 412 features took ~8 ms on
    // one), then joined in order.
    let parts = crate::util::parallel::in_parallel(&board.features, &|f: &FeatureBoard| {
        let marks = Marks {
            feature: &f.slug,
            set: marked,
        };
        let mut part = String::new();
        render_feature(&mut part, f, paint, (total_width, now), marks);
        part
    });
    out.reserve(parts.iter().map(|p| p.len() + 1).sum());
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(part);
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
    write_sections(out, f, paint, total_width);
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
    if let (None, Some(remote)) = (&f.remote, &f.unfetched_remote) {
        let _ = writeln!(
            out,
            "  {} {}",
            paint.yellow(&format!("state of {remote} never fetched here:")),
            paint.dim(&format!(
                "`git kitty pull` brings it (or `git kitty init` once, then `git fetch {remote}`)"
            ))
        );
    }
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
        for d in card_detail(w, col, now) {
            let painted = paint.dim(&d);
            lines.push((d, painted));
        }
    }
    lines
}

/// The sections under the columns (ready, waiting, stale...), each shown only when it has
/// rows; a blank line separates them from the columns.
fn write_sections(out: &mut String, f: &FeatureBoard, paint: Paint, total_width: usize) {
    let mut sections = Sections {
        out,
        paint,
        first: true,
        total_width,
    };
    sections.add("Ready to start", ready_rows(f, paint));
    sections.add("Waiting", waiting_rows(f, paint));
    sections.add("Feedback", feedback_rows(f, paint));
    sections.add("Stale", stale_rows(f, paint));
    sections.add("No worktree", no_worktree_rows(f, paint));
    sections.add("Lost claims", lost_claim_rows(f, paint));
    sections.add("Landed", landed_rows(f, paint));
    sections.add("Elsewhere", elsewhere_rows(f, paint));
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
    /// Rows wider than this wrap at spaces, continuing under the row's text.
    total_width: usize,
}

impl Sections<'_> {
    const LABEL_WIDTH: usize = 16;
    /// Where a wrapped row continues: under the title, after the label and the WP id.
    const CONTINUE_AT: usize = 2 + Self::LABEL_WIDTH + 6;

    fn add(&mut self, label: &str, rows: Vec<String>) {
        if rows.is_empty() {
            return;
        }
        if std::mem::take(&mut self.first) {
            self.out.push('\n');
        }
        let first_width = self.total_width.saturating_sub(2 + Self::LABEL_WIDTH);
        let rest_width = self.total_width.saturating_sub(Self::CONTINUE_AT);
        for (i, row) in rows.iter().enumerate() {
            let label = if i == 0 { label } else { "" };
            let mut lines = wrap_at_spaces(row, first_width, rest_width).into_iter();
            let first = lines.next().unwrap_or_default();
            let _ = writeln!(
                self.out,
                "  {}{first}",
                self.paint.bold(&pad(label, Self::LABEL_WIDTH))
            );
            for more in lines {
                let _ = writeln!(self.out, "{}{more}", " ".repeat(Self::CONTINUE_AT));
            }
        }
    }
}

/// `text` in lines of at most `first` then `rest` visible columns, broken at spaces outside
/// backticks (a word or a quoted command longer than a line stays whole). Colour codes take
/// no width.
fn wrap_at_spaces(text: &str, first: usize, rest: usize) -> Vec<String> {
    let visible = |s: &str| width(&strip_colours(s));
    if first == 0 || rest == 0 || visible(text) <= first {
        return vec![text.to_owned()];
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut started = false;
    for word in &words(text) {
        let word = word.as_str();
        let limit = if lines.is_empty() { first } else { rest };
        if started && !word.is_empty() && visible(&line) + 1 + visible(word) > limit {
            lines.push(std::mem::take(&mut line).trim_end().to_owned());
            started = false;
        }
        if !started && word.is_empty() && !lines.is_empty() {
            continue;
        }
        if started {
            line.push(' ');
        }
        line.push_str(word);
        started = true;
    }
    lines.push(line);
    lines
}

/// `text` split on single spaces (so runs of padding survive inside a line), except inside
/// backticks: a command to copy is never broken across lines.
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut open = false;
    for word in text.split(' ') {
        match out.last_mut() {
            Some(last) if open => {
                last.push(' ');
                last.push_str(word);
            }
            _ => out.push(word.to_owned()),
        }
        if word.matches('`').count() % 2 == 1 {
            open = !open;
        }
    }
    out
}

/// `s` without ANSI colour sequences (`ESC [ ... m`).
fn strip_colours(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
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
                paint.dim(&format!("(git kitty restack {})", w.arg))
            )
        })
        .collect()
}

/// ` --agent <name>` for a command that must run as `agent`, if the WP names one.
fn as_agent(agent: Option<&str>) -> String {
    agent.map_or_else(String::new, |a| {
        format!(" --agent {}", crate::util::shell::quote(&clean(a)))
    })
}

fn no_worktree_rows(f: &FeatureBoard, paint: Paint) -> Vec<String> {
    f.work_packages
        .iter()
        .filter(|w| w.worktree_missing)
        .map(|w| {
            let id = &w.arg;
            // Only a command that works in the WP's lane.
            let hint = match w.lane {
                Lane::ForReview => format!("`git kitty review {id}` reviews it in a new worktree"),
                Lane::InReview => format!(
                    "`git kitty review {id}{}` makes it again",
                    as_agent(w.reviewer.as_deref())
                ),
                Lane::Approved => format!("`git kitty merge {id}` lands it, no worktree needed"),
                // As its holder: run by anyone else, `implement` refuses a claimed WP.
                _ => format!(
                    "`git kitty implement {id}{}` makes it again",
                    as_agent(w.agent.as_deref())
                ),
            };
            format!("{}  {}", wp_label(w, TITLE_WIDTH, paint), paint.dim(&hint))
        })
        .collect()
}

/// WPs whose worktree is on another machine: who has it, and what can be done here.
fn elsewhere_rows(f: &FeatureBoard, paint: Paint) -> Vec<String> {
    f.work_packages
        .iter()
        .filter(|w| w.worktree_elsewhere)
        .map(|w| {
            let id = &w.arg;
            let who = |name: Option<&String>| {
                name.map(|n| format!(" ({})", clean(n))).unwrap_or_default()
            };
            let by = who(w.agent.as_ref());
            let text = match w.lane {
                Lane::ForReview => format!(
                    "implemented on another machine{by}: `git kitty review {id}` reviews it here"
                ),
                Lane::InReview => format!(
                    "implemented on another machine{by}, in review{}",
                    who(w.reviewer.as_ref())
                ),
                Lane::Approved => {
                    format!(
                        "implemented on another machine{by}: `git kitty merge {id}` lands it here"
                    )
                }
                _ => format!("on another machine{by}"),
            };
            format!("{}  {}", wp_label(w, TITLE_WIDTH, paint), paint.dim(&text))
        })
        .collect()
}

/// WPs whose claim made here lost to another machine's, with what it left here and the
/// command that gives that back.
fn lost_claim_rows(f: &FeatureBoard, paint: Paint) -> Vec<String> {
    f.work_packages
        .iter()
        .filter_map(|w| Some((w, w.lost_claim.as_ref()?)))
        .map(|(w, l)| {
            let winner = l
                .holder
                .as_deref()
                .map(|h| format!(" to {}", clean(h)))
                .unwrap_or_default();
            format!(
                "{}  {}  {}",
                wp_label(w, TITLE_WIDTH, paint),
                paint.yellow(&format!("{}'s claim lost{winner}", clean(&l.agent))),
                paint.dim(&format!(
                    "`{}` gives back its {} here",
                    l.next,
                    left_behind(l.worktree.is_some(), l.branch.is_some())
                ))
            )
        })
        .collect()
}

/// Done WPs whose worktree or branch is still here, with the command that removes them.
fn landed_rows(f: &FeatureBoard, paint: Paint) -> Vec<String> {
    f.work_packages
        .iter()
        .filter_map(|w| Some((w, w.left_here.as_ref()?)))
        .map(|(w, l)| {
            format!(
                "{}  {}",
                wp_label(w, TITLE_WIDTH, paint),
                paint.dim(&format!(
                    "`{}` removes its {} left here",
                    l.next,
                    left_behind(l.worktree.is_some(), l.branch.is_some())
                ))
            )
        })
        .collect()
}

/// What a WP left in this clone: `worktree`, `branch`, or `worktree and branch`.
fn left_behind(worktree: bool, branch: bool) -> &'static str {
    match (worktree, branch) {
        (true, true) => "worktree and branch",
        (true, false) => "worktree",
        (false, true) => "branch",
        (false, false) => "",
    }
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

/// WPs whose review was sent back, with the first line of the feedback: what to fix.
fn feedback_rows(f: &FeatureBoard, paint: Paint) -> Vec<String> {
    f.work_packages
        .iter()
        .filter(|w| !matches!(w.lane, Lane::Done | Lane::Canceled))
        .filter_map(|w| Some((w, w.feedback.as_deref()?)))
        .map(|(w, note)| {
            format!("{}  {}", wp_label(w, TITLE_WIDTH, paint), first_line(note))
                .trim_end()
                .to_owned()
        })
        .collect()
}

/// The WPs in `lane` (blocked, canceled), with who holds them and why they are blocked.
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
            let why = w
                .blocked_reason
                .as_deref()
                .map(|r| format!("  {}", first_line(r)))
                .unwrap_or_default();
            format!("{}{who}{why}", wp_label(w, TITLE_WIDTH, paint))
                .trim_end()
                .to_owned()
        })
        .collect()
}

/// The first line of a note, made safe for the terminal, with `…` when there is more.
fn first_line(note: &str) -> String {
    let mut lines = note.trim().lines();
    let first = clean(lines.next().unwrap_or_default());
    if lines.next().is_some() {
        format!("{first} …")
    } else {
        first
    }
}

/// `WP02 API layer` cut to the column.
fn card_title(w: &WpView, col: usize) -> String {
    truncate(&format!("{} {}", w.id, clean(&w.title)), col)
}

/// The card's detail lines: marker for claimed / in review, who, how long ago. The facts are
/// joined with ` · ` and wrap between facts, so a narrow column (80-column terminals) shows
/// each whole rather than cutting the line short.
fn card_detail(w: &WpView, col: usize, now: i128) -> Vec<String> {
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
    if w.worktree_elsewhere {
        parts.push("elsewhere".into());
    }
    if let Some(t) = w.updated_at.as_deref().and_then(parse_rfc3339) {
        parts.push(ago(t, now));
    }
    let mut lines: Vec<String> = Vec::new();
    for part in parts {
        match lines.last_mut() {
            Some(line) if width(line) + 3 + width(&part) <= col => {
                line.push_str(" · ");
                line.push_str(&part);
            }
            _ => lines.push(format!("  {part}")),
        }
    }
    lines.iter().map(|l| truncate(l, col)).collect()
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

/// `2 errors, 1 warning, 3 notes`: the counts that are not zero, coloured.
pub fn severity_counts(problems: &[Problem], paint: Paint) -> Vec<String> {
    let count = |s: Severity| problems.iter().filter(|p| p.severity == s).count();
    let mut counts = Vec::new();
    for (severity, word) in [
        (Severity::Error, "error"),
        (Severity::Warning, "warning"),
        (Severity::Info, "note"),
    ] {
        let n = count(severity);
        if n > 0 {
            let text = plural(n, word);
            counts.push(match severity {
                Severity::Error => paint.red(&text),
                Severity::Warning => paint.yellow(&text),
                Severity::Info => paint.dim(&text),
            });
        }
    }
    counts
}

/// The problems under the board: counted, each on a line.
pub fn problems_summary(problems: &[Problem], paint: Paint) -> String {
    let mut out = String::new();
    let counts = severity_counts(problems, paint);
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
        Severity::Info => paint.dim(&format!("info[{}]", p.code.as_str())),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_wrap_at_spaces_but_not_inside_backticks_or_colours() {
        let row = "WP01  Core    deleted by hand? `git kitty implement WP01` makes it again";
        assert_eq!(
            wrap_at_spaces(row, 40, 30),
            [
                "WP01  Core    deleted by hand?",
                "`git kitty implement WP01`",
                "makes it again"
            ]
        );
        assert_eq!(wrap_at_spaces(row, 200, 10), [row]);
        let painted = "\x1b[1mWP01\x1b[0m short";
        assert_eq!(wrap_at_spaces(painted, 10, 10), [painted]);
        assert_eq!(strip_colours(painted), "WP01 short");
    }
}
