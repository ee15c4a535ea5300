//! `git kitty status`: the board.

use crate::board::{self, Board};
use crate::error::Result;
use crate::model::ids::FeatureSlug;
use crate::render;
use crate::ui::Ctx;
use crate::workspace::Workspace;

/// Show the board: lanes, who works on what, what is ready to start, what waits
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Show the board of each feature: its work packages in five columns (Planned, \
Doing, For Review, Approved, Done), progress, the WPs ready to start (all dependencies approved \
or done; the one that unblocks the most work first) and the WPs still waiting, with what they \
wait on. Blocked and canceled WPs are listed under the board, and problems in the plan after it: \
a broken WP file never hides the rest.

Inside a WP's worktree (or under kitty-specs/<feature>/), only that feature is shown.",
    after_long_help = concat!(
        "Examples:
  git kitty status                  every feature
  git kitty status -f 001-auth      one feature
  git kitty status --graph          the dependency graph as a tree
  git kitty status --json | jq '.features[].ready'

",
        crate::exit_codes_help!()
    )
)]
pub struct Args {
    /// Show only this feature (a folder name under kitty-specs/)
    #[arg(long, short = 'f', value_name = "FEATURE")]
    pub feature: Option<FeatureSlug>,

    /// Print the board as JSON (schema in docs/json.md)
    #[arg(long)]
    pub json: bool,

    /// Draw the dependency graph of each feature instead of the columns
    #[arg(long, conflicts_with = "json")]
    pub graph: bool,

    /// Show every feature, even inside a WP's worktree
    #[arg(long, conflicts_with = "feature")]
    pub all: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json;
    let ws = Workspace::open(&ctx.cwd, args.feature.as_ref())?;
    let features: Vec<&crate::model::plan::Feature> = if args.all {
        ws.plan.features.iter().collect()
    } else {
        ws.selected_features(args.feature.as_ref())?
    };
    let showing_all = features.len() == ws.plan.features.len() && args.feature.is_none();
    let (states, state_problems) = ws.read_states((!showing_all).then_some(&features[..]))?;
    let remote = crate::sync::remote_name(&ws.repo, None).ok();
    let mut boards: Vec<_> = features
        .iter()
        .map(|f| board::feature_board(f, &ws.lanes_with_runtime(f, &states, &state_problems)))
        .collect();
    if let Some(remote) = &remote {
        for (f, b) in features.iter().zip(boards.iter_mut()) {
            compare_with_remote(&ws, remote, f, b)?;
        }
    }
    let problems = ws
        .plan
        .problems
        .iter()
        .chain(state_problems.iter())
        .filter(|p| match &p.feature {
            Some(slug) => features.iter().any(|f| f.slug.as_str() == slug),
            None => showing_all,
        })
        .cloned()
        .collect();
    let board = Board {
        schema: 1,
        features: boards,
        problems,
    };
    if args.json {
        ctx.ui.out_json(&board);
    } else if args.graph {
        let mut text = String::new();
        for (i, (f, b)) in features.iter().zip(&board.features).enumerate() {
            if i > 0 {
                text.push('\n');
            }
            text.push_str(&render::graph::render(f, b, ctx.ui.paint));
        }
        if !board.problems.is_empty() {
            text.push('\n');
            text.push_str(&render::board::problems_summary(
                &board.problems,
                ctx.ui.paint,
            ));
        }
        ctx.ui.out(&text);
    } else {
        let now = crate::util::time::now_nanos();
        let text = render::board::render(&board, ctx.ui.paint, render::output_width(), now);
        ctx.ui.out(&text);
    }
    Ok(0)
}

/// Fill in how each WP's state compares with `remote`'s last fetched state.
fn compare_with_remote(
    ws: &Workspace,
    remote: &str,
    feature: &crate::model::plan::Feature,
    board: &mut board::FeatureBoard,
) -> Result<()> {
    use crate::state::relation::Relation;
    let relations = crate::state::relation::relations(&ws.repo, remote, &feature.slug)?;
    if relations.is_empty() {
        return Ok(());
    }
    let mut summary = board::RemoteSummary {
        name: remote.to_owned(),
        ..Default::default()
    };
    for (wp, rel) in &relations {
        match rel {
            Relation::InSync => summary.in_sync += 1,
            Relation::Ahead => summary.ahead += 1,
            Relation::Behind => summary.behind += 1,
            Relation::Diverged => summary.diverged += 1,
            Relation::LocalOnly => summary.local_only += 1,
            Relation::RemoteOnly => summary.remote_only += 1,
        }
        if let Some(view) = board.work_packages.iter_mut().find(|v| &v.id == wp) {
            view.sync = Some(*rel);
        }
    }
    board.remote = Some(summary);
    Ok(())
}
