//! `git kitty next`: claim the best ready work package and set up its worktree.

use crate::board;
use crate::cmd::args::{AgentArg, ClaimSyncArg, FeatureArg, JsonArg};
use crate::error::{Error, ErrorKind, Result};
use crate::model::ids::WpId;
use crate::model::plan::Feature;
use crate::ui::Ctx;
use crate::workflow::implement::{self, Request};
use crate::workspace::Workspace;

/// Claim the next ready work package and set up its worktree, in one step
#[derive(clap::Args, Debug)]
#[command(
    mut_arg("feature", |a| a.help("Only this feature (default: the feature the current directory implies, else all)")),
    long_about = "Claim the next work package that is ready to start (planned, every dependency \
approved or done) and set up its branch and worktree, as `git kitty implement` does. The WP \
that unblocks the most remaining work goes first, ties by id.

Safe when many agents call it at once in one clone: each claim is a compare-and-swap, so no \
two agents get the same WP; an agent that loses a race simply takes the next one. Across \
machines a claim is local until `git kitty push` sends it (the first to reach the remote wins; \
the other clone's push says its claim lost and exits 1); with --sync it is confirmed with the \
remote first: atomic across machines.

When nothing is ready it exits with status 3 and says what the remaining WPs wait on.",
    after_long_help = concat!(
        "Examples:
  dir=$(git kitty next --agent claude) && cd \"$dir\"     (exit 3, no cd, when nothing is ready)
  git kitty next -f 001-auth --json

",
        crate::exit_codes_help!()
    )
)]
pub struct Args {
    #[command(flatten)]
    pub feature: FeatureArg,

    #[command(flatten)]
    pub agent: AgentArg,

    #[command(flatten)]
    pub sync: ClaimSyncArg,

    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json.enabled;
    let ws = Workspace::open(&ctx.cwd, args.feature.get())?;
    let actor = args.agent.actor(&ws)?;
    let features = ws.selected_features(args.feature.get())?;
    let remote = args
        .sync
        .remote(&ws, features.iter().map(|f| &f.slug), &actor)?;
    let snapshot = board::read(&ws, features, false)?;
    let (features, states) = (&snapshot.features, &snapshot.states);

    let (candidates, waiting) = ready_and_waiting(&snapshot);
    let mut lost = Vec::new();
    for (_, feature, wp) in &candidates {
        // A WP whose state on the remote is damaged cannot be confirmed: pass over it.
        if let Some(remote) = &remote
            && let Err(e) = crate::sync::check_remote_state(&ws, remote, &feature.slug, wp)
        {
            if !args.json.enabled {
                ctx.ui.warn(&format!("skipping {wp}: {}", e.message));
            }
            lost.push(format!("{wp} ({})", e.message));
            continue;
        }
        let request = Request {
            feature,
            wp: wp.clone(),
            bases: Vec::new(),
            actor: actor.clone(),
            force: false,
            reason: None,
            remote: remote.clone(),
            provenance: Default::default(),
        };
        match implement::implement(&ws, states, &request) {
            Ok(done) => {
                if !lost.is_empty() && !args.json.enabled {
                    ctx.ui
                        .note(&format!("taken by others meanwhile: {}", lost.join(", ")));
                }
                super::implement::print(&mut ctx.ui, &ws, &done, args.json.enabled);
                return Ok(0);
            }
            // Another agent claimed it between our read and our claim, or its dependencies'
            // work conflicts: that one needs a person; take the next one.
            Err(e) if matches!(e.kind, ErrorKind::Refused | ErrorKind::Conflict) => {
                if e.kind == ErrorKind::Conflict && !args.json.enabled {
                    ctx.ui.warn(&format!("skipping {wp}: {}", e.message));
                }
                lost.push(format!("{} ({})", wp, e.message));
            }
            Err(e) => return Err(e),
        }
    }

    Err(nothing_ready(features, &waiting, &lost))
}

/// Every ready WP of the snapshot's features, best first (the one that unblocks the most
/// work), and a line for each WP that still waits.
fn ready_and_waiting<'s>(
    snapshot: &'s board::Snapshot<'_>,
) -> (Vec<(usize, &'s Feature, WpId)>, Vec<String>) {
    let mut candidates: Vec<(usize, &Feature, WpId)> = Vec::new();
    let mut waiting: Vec<String> = Vec::new();
    for (f, b) in snapshot.features.iter().zip(&snapshot.board.features) {
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

    (candidates, waiting)
}

/// The error when no WP could be claimed: what waits on what, and the races lost.
fn nothing_ready(features: &[&Feature], waiting: &[String], lost: &[String]) -> Error {
    let scope = match features {
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
    if features.iter().all(|f| f.wps.is_empty()) {
        err = err.cause("the plan has no work packages").hint(
            "plan them as kitty-specs/<feature>/tasks/WP01-<name>.md (YAML frontmatter: work_package_id, title, dependencies), then `git kitty check`",
        );
    } else if waiting.is_empty() {
        err = err.hint(
            "every work package is started, in review or done: `git kitty status` shows where",
        );
    }
    for w in waiting.iter().take(10) {
        err = err.hint(w.clone());
    }
    err
}
