//! `git kitty status`: the board.

use crate::board;
use crate::cmd::args::{FeatureArg, JsonArg};
use crate::error::Result;
use crate::render;
use crate::ui::Ctx;
use crate::workspace::Workspace;

/// Show the board: lanes, who works on what, what is ready to start, what waits
#[derive(clap::Args, Debug)]
#[command(
    mut_arg("feature", |a| a.help("Show only this feature (a folder name under kitty-specs/)")),
    long_about = "Show the board of each feature: its work packages in five columns (Planned, \
Doing, For Review, Approved, Done), progress, the WPs ready to start (all dependencies approved \
or done; the one that unblocks the most work first) and the WPs still waiting, with what they \
wait on. Blocked and canceled WPs are listed under the board, and problems in the plan after it: \
a broken WP file never hides the rest.

Inside a WP's worktree (or under kitty-specs/<feature>/), only that feature is shown.

With --watch the board stays on screen and is redrawn whenever it changes (a lane move in \
any worktree, an edited WP file, a pull): the state refs and the plan are watched, nothing is \
polled. What just moved is marked with », and named on top. q or Ctrl-C quits and gives the \
terminal back as it was.",
    after_long_help = concat!(
        "Examples:
  git kitty status                  every feature
  git kitty status -f 001-auth      one feature
  git kitty status --graph          the dependency graph as a tree
  git kitty status --watch          the board, redrawn on every change (q quits)
  git kitty status --json | jq '.features[].ready'

",
        crate::exit_codes_help!()
    )
)]
pub struct Args {
    #[command(flatten)]
    pub feature: FeatureArg,

    #[command(flatten)]
    pub json: JsonArg,

    /// Draw the dependency graph of each feature instead of the columns
    #[arg(long, conflicts_with = "json")]
    pub graph: bool,

    /// Show every feature, even inside a WP's worktree
    #[arg(long, conflicts_with = "feature")]
    pub all: bool,

    /// Keep the board on screen, redrawn whenever it changes, with what just moved marked
    /// (q or Ctrl-C quits)
    #[arg(long, short = 'w', conflicts_with_all = ["json", "graph"])]
    pub watch: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json.enabled;
    if args.watch {
        ctx.ui.flush();
        crate::dashboard::terminal::watch(&crate::dashboard::terminal::Request {
            cwd: &ctx.cwd,
            feature: args.feature.get(),
            all: args.all,
            paint: ctx.ui.paint,
        })?;
        return Ok(0);
    }
    let ws = Workspace::open(&ctx.cwd, args.feature.get())?;
    let (features, showing_all) = ws.shown_features(args.feature.get(), args.all)?;
    if args.json.enabled {
        let document = render::status_json::document(&ws, &features, showing_all)?;
        ctx.ui.out_json_document(|out| document.write(out));
        drop(features);
        super::keep_until_exit((document, ws));
        return Ok(0);
    }
    let snapshot = board::read_with_remote(&ws, features, showing_all)?;
    let (features, board) = (snapshot.features, snapshot.board);
    if args.graph {
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
    drop(features);
    super::keep_until_exit((board, snapshot.states, ws));
    Ok(0)
}
