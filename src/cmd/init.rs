//! `git kitty init`: let plain `git fetch` and `git push` carry the state refs.

use serde::Serialize;

use crate::cmd::args::JsonArg;
use crate::error::Result;
use crate::git::Repo;
use crate::sync;
use crate::ui::Ctx;

/// Configure a remote so that plain `git fetch` and `git push` carry git kitty's state
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Add refspecs to a remote so that plain git carries the state refs:

  remote.<remote>.fetch  +refs/kitty/*:refs/kitty-remotes/<remote>/*
  remote.<remote>.push   refs/kitty/*:refs/kitty/*    (never forced)
  remote.<remote>.push   HEAD                          (added when no push refspec existed, so
                                                        `git push` still pushes your branch)

After that `git fetch` brings the remote's state into the tracking namespace (never over local \
state) and `git kitty pull` merges it; `git push` sends local state, refused by the remote when \
it is not a fast-forward (`git kitty sync` merges first). Running it again changes nothing.

Caveats: `git push --force` forces the state refs too (a remote with `git kitty hooks install \
--server` refuses that; without it, the remote's history of those WPs is replaced). The HEAD \
refspec pushes the current branch to the branch of the same name.",
    after_long_help = concat!("Examples:\n  git kitty init\n  git kitty init upstream\n\n", crate::exit_codes_help!())
)]
pub struct Args {
    /// The remote (default: git config kitty.remote, else origin)
    #[arg(value_name = "REMOTE")]
    pub remote: Option<String>,

    #[command(flatten)]
    pub json: JsonArg,
}

#[derive(Serialize)]
struct Done {
    remote: String,
    added: Vec<String>,
    already: Vec<String>,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json.enabled;
    let repo = Repo::discover(&ctx.cwd)?;
    let remote = sync::remote_name(&repo, args.remote.as_deref())?;
    let values = |key: &str| repo.config_get_all(key);
    let fetch_key = format!("remote.{remote}.fetch");
    let push_key = format!("remote.{remote}.push");
    let fetch_spec = format!("+refs/kitty/*:refs/kitty-remotes/{remote}/*");
    let push_spec = "refs/kitty/*:refs/kitty/*".to_owned();
    let existing_push = values(&push_key)?;
    let mut wanted = vec![(fetch_key.clone(), fetch_spec)];
    if existing_push.is_empty() {
        wanted.push((push_key.clone(), "HEAD".into()));
    }
    wanted.push((push_key.clone(), push_spec));
    let mut done = Done {
        remote: remote.clone(),
        added: Vec::new(),
        already: Vec::new(),
    };
    for (key, value) in wanted {
        let shown = format!("{key} {value}");
        if values(&key)?.contains(&value) {
            done.already.push(shown);
        } else {
            repo.config_add(&key, &value)?;
            done.added.push(shown);
        }
    }
    if args.json.enabled {
        ctx.ui.out_json(&done);
        return Ok(0);
    }
    let mut text = String::new();
    for a in &done.added {
        text.push_str(&format!("added    {a}\n"));
    }
    for a in &done.already {
        text.push_str(&format!("already  {a}\n"));
    }
    text.push_str(&format!(
        "`git fetch {remote}` now brings git kitty's state (merge it with `git kitty pull`), and `git push {remote}` sends it\n"
    ));
    ctx.ui.out(&text);
    Ok(0)
}
