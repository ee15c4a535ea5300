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
state) and `git kitty pull --no-fetch` merges it; `git push` sends local state, refused by the remote \
when it is not a fast-forward (`git kitty sync` merges first). Running it again changes nothing.

WP branches (`<feature>-<WP>`) are fetched by a clone's own refspec \
(+refs/heads/*:refs/remotes/<remote>/*) into refs/remotes/<remote>/, where `git kitty pull`, \
`review` and `merge` find them. A clone that fetches only some branches gets \
+refs/heads/<feature>-WP*:refs/remotes/<remote>/<feature>-WP* for each feature of the plan (run \
init again after adding a feature). Pushing them is `git kitty push`'s: git's refspecs cannot say \
\"only the branches whose state names them\"; inside a WP's worktree the HEAD refspec pushes its \
branch too.

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
    // WP branches: a clone's own `+refs/heads/*:refs/remotes/<remote>/*` fetches them
    // already; a clone that fetches some branches only gets one pattern per feature.
    let fetches = values(&fetch_key)?;
    let every_branch = format!("refs/heads/*:refs/remotes/{remote}/*");
    if !fetches
        .iter()
        .any(|f| f.trim_start_matches('+') == every_branch)
    {
        let ws = crate::workspace::Workspace::open(&ctx.cwd, None).ok();
        for f in ws.iter().flat_map(|ws| &ws.plan.features) {
            wanted.push((
                fetch_key.clone(),
                format!(
                    "+refs/heads/{}-WP*:refs/remotes/{remote}/{}-WP*",
                    f.slug, f.slug
                ),
            ));
        }
    }
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
        "`git fetch {remote}` now brings git kitty's state and WP branches (merge them with `git kitty pull --no-fetch`), and `git push {remote}` sends the state (in a WP's worktree, its branch too)\n"
    ));
    ctx.ui.out(&text);
    Ok(0)
}
