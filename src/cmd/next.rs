//! `git kitty next`: claim the best ready work package and set up its worktree.

use crate::board;
use crate::error::{Error, ErrorKind, Result};
use crate::model::ids::{FeatureSlug, WpId};
use crate::model::plan::Feature;
use crate::ui::Ctx;
use crate::workflow::implement::{self, Request};
use crate::workspace::Workspace;

/// Claim the next ready work package and set up its worktree, in one step
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Claim the next work package that is ready to start (planned, every dependency \
approved or done) and set up its branch and worktree, as `git kitty implement` does. The WP \
that unblocks the most remaining work goes first, ties by id.

Safe when many agents call it at once: each claim is a compare-and-swap, so no two agents get \
the same WP; an agent that loses a race simply takes the next one.

When nothing is ready it exits with status 3 and says what the remaining WPs wait on.",
    after_long_help = concat!(
        "Examples:
  cd \"$(git kitty next --agent claude | tail -1)\"
  git kitty next -f 001-auth --json

",
        crate::exit_codes_help!()
    )
)]
pub struct Args {
    /// Only this feature (default: the feature the current directory implies, else all)
    #[arg(long, short = 'f', value_name = "FEATURE")]
    pub feature: Option<FeatureSlug>,

    /// Who is claiming (default: $KITTY_AGENT, else git config user.name)
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,

    /// Confirm the claim with the remote (default: git config kitty.syncClaims)
    #[arg(long)]
    pub sync: bool,

    /// Print the outcome as JSON (docs/json.md)
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json;
    let ws = Workspace::open(&ctx.cwd, args.feature.as_ref())?;
    let actor = ws.actor(args.agent.as_deref())?;
    let features = ws.selected_features(args.feature.as_ref())?;
    let remote = if crate::sync::claims_synced(&ws.repo, args.sync) {
        let remote = crate::sync::remote_name(&ws.repo, None)?;
        for f in &features {
            crate::sync::refresh(&ws, &remote, &f.slug, &actor)?;
        }
        Some(remote)
    } else {
        None
    };
    let (states, state_problems) = ws.read_states(Some(&features))?;

    // Every ready WP of the selected features, best first.
    let mut candidates: Vec<(usize, &Feature, WpId)> = Vec::new();
    let mut waiting: Vec<String> = Vec::new();
    for f in &features {
        let b = board::feature_board(f, &ws.lanes_with_runtime(f, &states, &state_problems));
        for id in &b.ready {
            let view = b.work_packages.iter().find(|w| &w.id == id);
            let unblocks = view.map_or(0, |w| w.unblocks);
            if let Ok(wp) = id.parse::<WpId>() {
                candidates.push((unblocks, f, wp));
            }
        }
        for w in &b.waiting {
            let on: Vec<String> = w
                .waiting_on
                .iter()
                .map(|d| match d.lane {
                    Some(l) => format!("{} ({l})", d.id),
                    None => format!("{} (not in the plan)", d.id),
                })
                .collect();
            waiting.push(format!("{} {} waits on {}", f.slug, w.id, on.join(", ")));
        }
    }
    candidates.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(a.1.slug.cmp(&b.1.slug))
            .then(a.2.cmp(&b.2))
    });

    let mut lost = Vec::new();
    for (_, feature, wp) in &candidates {
        let request = Request {
            feature,
            wp: wp.clone(),
            bases: Vec::new(),
            actor: actor.clone(),
            force: false,
            reason: None,
            remote: remote.clone(),
        };
        match implement::implement(&ws, &states, &request) {
            Ok(done) => {
                if !lost.is_empty() && !args.json {
                    ctx.ui
                        .note(&format!("taken by others meanwhile: {}", lost.join(", ")));
                }
                super::implement::print(&mut ctx.ui, &ws, &done, args.json);
                return Ok(0);
            }
            // Another agent claimed it between our read and our claim, or its dependencies'
            // work conflicts: that one needs a person; take the next one.
            Err(e) if matches!(e.kind, ErrorKind::Refused | ErrorKind::Conflict) => {
                if e.kind == ErrorKind::Conflict && !args.json {
                    ctx.ui.warn(&format!("skipping {wp}: {}", e.message));
                }
                lost.push(format!("{} ({})", wp, e.message));
            }
            Err(e) => return Err(e),
        }
    }

    let scope = match features.as_slice() {
        [one] => one.slug.to_string(),
        _ => "any feature".to_owned(),
    };
    let mut err = Error::new(
        ErrorKind::NothingReady,
        format!("nothing is ready to start in {scope}"),
    )
    .details(serde_json::json!({ "waiting": waiting, "lost_races": lost }));
    if !lost.is_empty() {
        err = err.cause(format!(
            "every ready WP was claimed by someone else first: {}",
            lost.join("; ")
        ));
    }
    if waiting.is_empty() {
        err = err.hint(
            "every work package is started, in review or done: `git kitty status` shows where",
        );
    }
    for w in waiting.iter().take(10) {
        err = err.hint(w.clone());
    }
    Err(err)
}
