//! `git kitty log`: the history of a work package, or a feature's activity.

use std::collections::HashSet;

use crate::cmd::args::{FeatureArg, JsonArg};
use crate::error::Result;
use crate::model::ids::{FeatureSlug, WpId};
use crate::model::lane::Lane;
use crate::render::Paint;
use crate::render::terminal::quote;
use crate::render::{pad, width};
use crate::state::activity::{self, Activity};
use crate::state::schema::{Event, EventKind};
use crate::ui::Ctx;
use crate::workspace::Workspace;

/// Show the history of a work package, or the activity of a feature, newest first
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Show the history of a work package (its events: claims, lane moves, notes, \
forced moves with their reasons), newest first. Without a WP, show the activity of the feature \
(the one named with --feature, else the one the current directory implies, else every feature), \
all WPs merged by time.

The same history is a plain git log: `git log refs/kitty/wp/<feature>/<WP>`.",
    after_long_help = concat!(
        "Examples:
  git kitty log WP02
  git kitty log -f 001-auth -n 20
  git kitty log --json | jq '.events[] | select(.forced)'

",
        crate::exit_codes_help!()
    )
)]
pub struct Args {
    /// The work package (default: every WP of the feature)
    #[arg(value_name = "WP")]
    pub wp: Option<String>,

    #[command(flatten)]
    pub feature: FeatureArg,

    /// Show at most N events
    #[arg(long, short = 'n', value_name = "N")]
    pub max_count: Option<usize>,

    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json.enabled;
    let ws = Workspace::open(&ctx.cwd, None)?;
    let single_wp = args.wp.is_some();
    let targets = targets(&ws, &args)?;
    let single_feature = {
        let mut slugs: Vec<&FeatureSlug> = targets.iter().map(|(f, _)| f).collect();
        slugs.dedup();
        slugs.len() <= 1
    };
    let (mut entries, unreadable) = activity::read(&ws.repo, &targets);
    for (feature, wp, e) in unreadable {
        // One damaged ref must not hide a feature's whole activity.
        if single_wp {
            return Err(e);
        }
        ctx.ui
            .warn(&format!("{feature}/{wp} skipped: {}", e.message));
    }
    // Before `-n` cuts the list: the merge that refused an event may be older than `-n` shows.
    let refused = activity::refused(&entries);
    if let Some(n) = args.max_count {
        entries.truncate(n);
    }
    if args.json.enabled {
        let events: Vec<activity::Entry> = entries.iter().map(|a| a.entry(&refused)).collect();
        ctx.ui
            .out_json(&serde_json::json!({ "schema": 1, "events": events }));
    } else if entries.is_empty() {
        let what = if single_wp {
            "this work package"
        } else {
            "these work packages"
        };
        ctx.ui.out(&format!(
            "No history yet for {what}: events appear once a WP is claimed, moved or noted.\n"
        ));
    } else {
        let shape = Shape {
            single_wp,
            single_feature,
        };
        let text = render(&entries, &refused, shape, ctx.ui.paint);
        ctx.ui.out(&text);
    }
    Ok(0)
}

/// Which (feature, WP) histories to read: the WP named, else every WP of the features shown.
fn targets(ws: &Workspace, args: &Args) -> Result<Vec<(FeatureSlug, WpId)>> {
    if let Some(raw) = &args.wp {
        let (feature, wp) = ws.resolve_wp(raw, args.feature.get())?;
        return Ok(vec![(feature.slug.clone(), wp)]);
    }
    Ok(ws
        .selected_features(args.feature.get())?
        .into_iter()
        .flat_map(|f| f.wps.iter().map(|w| (f.slug.clone(), w.id.clone())))
        .collect())
}

/// Which columns the text shows: the feature and WP only when they vary.
#[derive(Clone, Copy)]
struct Shape {
    single_wp: bool,
    single_feature: bool,
}

/// One line per event (and its note, indented), newest first.
fn render(entries: &[Activity], refused: &HashSet<String>, shape: Shape, p: Paint) -> String {
    let actor_width = entries
        .iter()
        .map(|a| width(&quote(&a.event.actor)))
        .max()
        .unwrap_or(0)
        .min(24);
    let mut text = String::new();
    for Activity {
        feature, wp, event, ..
    } in entries
    {
        let when = event.at.get(..19).unwrap_or(&event.at).replace('T', " ");
        let mut line = p.dim(&when);
        if !shape.single_feature {
            line.push_str(&format!("  {feature}"));
        }
        if !shape.single_wp || !shape.single_feature {
            line.push_str(&format!("  {}", p.bold(wp.as_str())));
        }
        line.push_str(&format!(
            "  {}  {}",
            pad(&quote(&event.actor), actor_width),
            describe(event, p)
        ));
        if refused.contains(&event.id) {
            line.push_str(&p.yellow("  (rejected when histories were merged)"));
        }
        text.push_str(line.trim_end());
        text.push('\n');
        if let Some(note) = &event.note {
            for l in note.lines() {
                text.push_str(&format!("    {l}\n"));
            }
        }
    }
    text
}

/// `in_progress -> for_review (forced: why)`, `note`, `restacked`...
fn describe(event: &Event, p: Paint) -> String {
    let lane = |l: Option<Lane>| match l {
        Some(l) => p.lane(l, l.as_str()),
        None => "?".into(),
    };
    let mut s = match event.kind {
        EventKind::Lane => format!("{} -> {}", lane(event.from), lane(event.to)),
        EventKind::Implement => format!(
            "{} -> {}  implement {}",
            lane(event.from),
            lane(event.to),
            event.branch.as_deref().unwrap_or("")
        ),
        EventKind::Note => "note".into(),
        EventKind::Restack => "restacked".into(),
        EventKind::Release => match event.to {
            Some(to) => format!("released -> {}", lane(Some(to))),
            None => "worktree released".into(),
        },
        EventKind::Merge => {
            if event.rejected.is_empty() {
                "merged histories".into()
            } else {
                format!("merged histories, rejected {}", event.rejected.join(", "))
            }
        }
    };
    if event.forced {
        s.push_str(&p.yellow(&format!(
            "  (forced: {})",
            event.reason.as_deref().unwrap_or("no reason given")
        )));
    }
    s
}
