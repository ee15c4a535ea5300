//! `git kitty dashboard`: the board, live, in a browser.

use crate::cmd::args::JsonArg;
use crate::dashboard;
use crate::error::Result;
use crate::ui::Ctx;

/// Serve a live dashboard of every feature on 127.0.0.1, until Ctrl-C
#[derive(clap::Args, Debug)]
#[command(
    mut_arg("json", |a| a.help("Print where it serves as one line of JSON once ready: {\"url\", \"address\", \"port\"}")),
    long_about = "Serve a live dashboard of the repository's features on the loopback interface \
(127.0.0.1 only), until Ctrl-C: each feature's board (lanes as columns, cards with agent, age, \
subtasks, review state and latest feedback, stale, blocked and ready markers), progress, the \
dependency graph with its critical path, the activity of every WP, the agents at work now and \
how state compares with the remote. A card opens the WP: its prompt, history, branch and \
worktree.

The page changes nothing. It updates itself within a second of any change (a `git kitty lane` \
in another terminal, an edited WP file, a pull): the server watches the state refs and the plan \
and pushes each new board to every open page. Scripts can read GET /api/board (the `status \
--json` document) and GET /api/events (a Server-Sent Events stream, an event per change); \
docs/json.md describes both.

Without --port, the first free port from 9237 is used, and said. The page answers only \
requests addressed to 127.0.0.1:<port> or localhost:<port>, loads nothing from the network, \
and shows every text from WP files, notes and agent names as text.",
    after_long_help = concat!(
        "Examples:
  git kitty dashboard                  serve on http://127.0.0.1:9237/ (or the next free port)
  git kitty dashboard --open           and open it in the browser ($BROWSER, else xdg-open)
  git kitty dashboard --port 0 --json  any free port; print {\"url\", \"port\", ...} when ready
  curl -s http://127.0.0.1:9237/api/board | jq '.features[].ready'

",
        crate::exit_codes_help!()
    )
)]
pub struct Args {
    /// Listen on this port of 127.0.0.1 (0: any free port); in use is an error
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,

    /// Open the page in a browser once it is served ($BROWSER, else xdg-open or open)
    #[arg(long)]
    pub open: bool,

    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json.enabled;
    dashboard::serve(&ctx.cwd, args.port, |ready| {
        if let Some(taken) = ready.instead_of {
            ctx.ui.warn(&format!(
                "port {taken} is in use: serving on port {} instead",
                ready.port
            ));
        }
        if args.json.enabled {
            ctx.ui.out(&format!("{}\n", serde_json::json!(ready)));
        } else {
            // Narration first: whoever reads the address has it all.
            ctx.ui
                .note("Serving the dashboard (read-only); Ctrl-C stops it.");
            ctx.ui.out(&format!("{}\n", ready.url));
        }
        ctx.ui.flush();
        if args.open
            && let Err(e) = dashboard::browser::open(&ready.url)
        {
            ctx.ui
                .warn(&format!("{} ({})", e.message, e.hints.join("; ")));
        }
    })?;
    ctx.ui.note("Dashboard stopped.");
    Ok(0)
}
