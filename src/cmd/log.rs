//! `git kitty log`: the history of a work package, or a feature's activity.

use std::str::FromStr;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::ids::{FeatureSlug, WpId};
use crate::model::lane::Lane;
use crate::render::pad;
use crate::state::schema::{Event, EventKind};
use crate::state::store;
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

    /// The feature (needed only when several features have that WP id)
    #[arg(long, short = 'f', value_name = "FEATURE")]
    pub feature: Option<FeatureSlug>,

    /// Show at most N events
    #[arg(long, short = 'n', value_name = "N")]
    pub max_count: Option<usize>,

    /// Print the events as JSON (docs/json.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Entry<'a> {
    feature: &'a str,
    wp: &'a str,
    commit: String,
    /// A merge of histories refused this event: it is kept, without effect.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    refused: bool,
    #[serde(flatten)]
    event: &'a Event,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json;
    let ws = Workspace::open(&ctx.cwd, None)?;
    // Which (feature, WP) histories to read.
    let mut targets: Vec<(FeatureSlug, WpId)> = Vec::new();
    let single_wp = args.wp.is_some();
    if let Some(raw) = &args.wp {
        let wp = WpId::from_str(raw).map_err(Error::usage)?;
        let feature = ws.feature_of_wp(&wp, args.feature.as_ref())?;
        let wp = feature
            .index_of(&wp)
            .map_or(wp, |i| feature.wps[i].id.clone());
        targets.push((feature.slug.clone(), wp));
    } else {
        for f in ws.selected_features(args.feature.as_ref())? {
            for w in &f.wps {
                targets.push((f.slug.clone(), w.id.clone()));
            }
        }
    }
    let single_feature = {
        let mut slugs: Vec<&FeatureSlug> = targets.iter().map(|(f, _)| f).collect();
        slugs.dedup();
        slugs.len() <= 1
    };

    let mut entries = Vec::new();
    for (feature, wp) in &targets {
        match store::history(&ws.repo, feature, wp) {
            Ok(history) => {
                for (commit, event) in history {
                    entries.push((feature, wp, commit, event));
                }
            }
            // One damaged ref must not hide a feature's whole activity.
            Err(e) if !single_wp => ctx
                .ui
                .warn(&format!("{feature}/{wp} skipped: {}", e.message)),
            Err(e) => return Err(e),
        }
    }
    entries.sort_by(|a, b| {
        let key = |e: &(&FeatureSlug, &WpId, crate::git::CommitData, Event)| {
            (
                crate::util::time::parse_rfc3339(&e.3.at),
                e.3.lamport,
                e.3.id.clone(),
            )
        };
        key(b).cmp(&key(a))
    });
    // Before `-n` cuts the list: the merge that refused an event may be older than `-n` shows.
    let refused: std::collections::HashSet<String> = entries
        .iter()
        .filter(|e| e.3.kind == EventKind::Merge)
        .flat_map(|e| e.3.rejected.iter().cloned())
        .collect();
    if let Some(n) = args.max_count {
        entries.truncate(n);
    }

    if args.json {
        let events: Vec<Entry> = entries
            .iter()
            .map(|(f, w, c, e)| Entry {
                feature: f.as_str(),
                wp: w.as_str(),
                commit: c.id.to_string(),
                refused: refused.contains(&e.id),
                event: e,
            })
            .collect();
        ctx.ui
            .out_json(&serde_json::json!({ "schema": 1, "events": events }));
        return Ok(0);
    }
    if entries.is_empty() {
        let what = if single_wp {
            "this work package"
        } else {
            "these work packages"
        };
        ctx.ui.out(&format!(
            "No history yet for {what}: events appear once a WP is claimed, moved or noted.\n"
        ));
        return Ok(0);
    }
    let p = ctx.ui.paint;
    let actor_width = entries
        .iter()
        .map(|e| e.3.actor.chars().count())
        .max()
        .unwrap_or(0)
        .min(24);
    let mut text = String::new();
    for (feature, wp, _, event) in &entries {
        let when = event.at.get(..19).unwrap_or(&event.at).replace('T', " ");
        let mut line = p.dim(&when);
        if !single_feature {
            line.push_str(&format!("  {feature}"));
        }
        if !single_wp || !single_feature {
            line.push_str(&format!("  {}", p.bold(wp.as_str())));
        }
        line.push_str(&format!(
            "  {}  {}",
            pad(&event.actor, actor_width),
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
    ctx.ui.out(&text);
    Ok(0)
}

/// `in_progress -> for_review (forced: why)`, `note`, `restacked`...
fn describe(event: &Event, p: crate::render::Paint) -> String {
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
