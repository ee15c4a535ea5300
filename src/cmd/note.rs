//! `git kitty note`: add a note to a work package's history.

use super::{resolve_wp_and, write_outcome};
use crate::cmd::args::{AgentArg, FeatureArg, JsonArg};
use crate::error::{Error, Result};
use crate::state::schema::EventKind;
use crate::state::store;
use crate::ui::Ctx;
use crate::workspace::Workspace;

/// Add a note to a work package's history (its lane does not change)
#[derive(clap::Args, Debug)]
#[command(
    override_usage = "git kitty note [OPTIONS] [WP] <TEXT>",
    long_about = "Add a note to a work package's history, in any lane, without moving it: \
progress, a decision, a question for the reviewer. Notes show in `git kitty log`. Inside a WP's \
worktree the WP can be left out.",
    after_long_help = concat!(
        "Examples:
  git kitty note WP02 \"switched to the v2 payment API\"
  git kitty note \"blocked on credentials, asked ops\"     (inside the WP's worktree)

",
        crate::exit_codes_help!()
    )
)]
pub struct Args {
    /// The work package (left out inside its worktree), then the note
    #[arg(value_name = "ARGS", num_args = 1..=2, required = true)]
    pub targets: Vec<String>,

    #[command(flatten)]
    pub feature: FeatureArg,

    #[command(flatten)]
    pub agent: AgentArg,

    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json.enabled;
    // Naming the feature spares reading the others.
    let ws = Workspace::open(&ctx.cwd, args.feature.get())?;
    let (feature, wp, text) =
        resolve_wp_and(&ws, &args.targets, args.feature.get(), ("note", "TEXT"))?;
    if text.trim().is_empty() {
        return Err(Error::usage("the note is empty"));
    }
    let actor = args.agent.actor(&ws)?;
    let initial = || ws.initial_state(feature, &wp);
    let outcome = store::append(&ws.repo, &feature.slug, &wp, &initial, &mut |_| {
        let mut event = store::draft(EventKind::Note, &actor);
        event.note = Some(text.trim().to_owned());
        Ok(Some(event))
    })?;
    if args.json.enabled {
        let mut doc = serde_json::json!({ "feature": feature.slug, "wp": wp });
        if let (Some(obj), serde_json::Value::Object(more)) =
            (doc.as_object_mut(), write_outcome(&outcome))
        {
            obj.extend(more);
        }
        ctx.ui.out_json(&doc);
    } else {
        ctx.ui.out(&format!("{wp}: note added ({actor})\n"));
    }
    Ok(0)
}
