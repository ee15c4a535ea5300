//! `git kitty note`: add a note to a work package's history.

use super::{resolve_wp_and, write_outcome};
use crate::error::{Error, Result};
use crate::model::ids::FeatureSlug;
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

    /// The feature of the WP (needed only when several features have that WP id)
    #[arg(long, short = 'f', value_name = "FEATURE")]
    pub feature: Option<FeatureSlug>,

    /// Who is writing (default: $KITTY_AGENT, else git config user.name)
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,

    /// Print the outcome as JSON (docs/json.md)
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json;
    // Naming the feature spares reading the others.
    let ws = Workspace::open(&ctx.cwd, args.feature.as_ref())?;
    let (feature, wp, text) = resolve_wp_and(&ws, &args.targets, args.feature.as_ref(), "TEXT")?;
    if text.trim().is_empty() {
        return Err(Error::usage("the note is empty"));
    }
    let actor = ws.actor(args.agent.as_deref())?;
    let initial = || ws.initial_state(feature, &wp);
    let outcome = store::append(&ws.repo, &feature.slug, &wp, &initial, &mut |_| {
        let mut event = store::draft(EventKind::Note, &actor);
        event.note = Some(text.trim().to_owned());
        Ok(Some(event))
    })?;
    if args.json {
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
