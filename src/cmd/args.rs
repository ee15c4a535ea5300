//! Arguments that several commands share, declared once and flattened into each command's
//! `Args`, so `--feature`, `--agent` and `--json` mean the same everywhere. A command whose
//! flag needs other words in its `--help` says so with `mut_arg`.

use crate::error::Result;
use crate::model::ids::FeatureSlug;
use crate::workspace::Workspace;

/// `-f, --feature <FEATURE>`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct FeatureArg {
    /// The feature of the WP (needed only when several features have that WP id)
    #[arg(id = "feature", long = "feature", short = 'f', value_name = "FEATURE")]
    pub slug: Option<FeatureSlug>,
}

impl FeatureArg {
    pub fn get(&self) -> Option<&FeatureSlug> {
        self.slug.as_ref()
    }
}

/// `--agent <NAME>`: who is acting.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AgentArg {
    /// Who is acting (default: $KITTY_AGENT, else the WP's agent inside its worktree, else git config user.name)
    #[arg(id = "agent", long = "agent", value_name = "NAME")]
    pub name: Option<String>,
}

impl AgentArg {
    /// The acting agent: `--agent`, else `$KITTY_AGENT`, else `git config user.name`.
    pub fn actor(&self, ws: &Workspace) -> Result<String> {
        ws.actor(self.name.as_deref())
    }
}

/// `--json`: the result as one JSON document on stdout (docs/json.md), errors included.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub struct JsonArg {
    /// Print the result as JSON (schema in docs/json.md)
    #[arg(id = "json", long = "json")]
    pub enabled: bool,
}

/// `[REMOTE] --agent --json`: what `pull`, `push` and `sync` share.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RemoteArgs {
    /// The remote (default: git config kitty.remote, else origin)
    #[arg(value_name = "REMOTE")]
    pub remote: Option<String>,

    #[command(flatten)]
    pub agent: AgentArg,

    #[command(flatten)]
    pub json: JsonArg,
}

impl RemoteArgs {
    /// The workspace, the remote (checked to exist) and the acting agent.
    pub fn open(&self, cwd: &std::path::Path) -> Result<(Workspace, String, String)> {
        let ws = Workspace::open(cwd, None)?;
        let remote = crate::sync::remote_name(&ws.repo, self.remote.as_deref())?;
        let actor = self.agent.actor(&ws)?;
        Ok((ws, remote, actor))
    }
}

/// `--sync` of the commands that claim (`implement`, `next`).
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub struct ClaimSyncArg {
    /// Confirm the claim with the remote before making the worktree: atomic across machines.
    /// Without it the claim is local until `git kitty push`; `git config kitty.syncClaims
    /// true` turns it on by default
    #[arg(id = "sync", long = "sync")]
    pub enabled: bool,
}

impl ClaimSyncArg {
    /// When claims go through the remote (`--sync`, or `git config kitty.syncClaims true`):
    /// that remote, with the state of `features` fetched from it first. `None`: the claim
    /// stays local until a push.
    pub fn remote<'f>(
        &self,
        ws: &Workspace,
        features: impl IntoIterator<Item = &'f FeatureSlug>,
        actor: &str,
    ) -> Result<Option<String>> {
        if !crate::sync::claims_synced(&ws.repo, self.enabled) {
            return Ok(None);
        }
        let remote = crate::sync::remote_name(&ws.repo, None)?;
        for f in features {
            crate::sync::refresh(ws, &remote, f, actor)?;
        }
        Ok(Some(remote))
    }
}
