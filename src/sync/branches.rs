//! WP branches travel with their state.
//!
//! A WP branch is git kitty's to send when it is the WP's own (`<feature>-<WP>`, derived from
//! the id), the WP's state names it and the WP is neither done nor canceled: no other branch
//! is ever pushed. `push` sends each such
//! local branch with a lease on the value last fetched (`refs/remotes/<remote>/<branch>`, the
//! ordinary tracking ref): the remote takes it only if nobody pushed meanwhile, and one
//! refusal does not hold back the others. A branch whose remote copy has commits it lacks is
//! not sent (that would drop them), unless it was restacked here: the base its state records
//! is in the local branch and not in the remote's copy. `pull` fetches the WP branches into
//! the tracking refs and fast-forwards local WP branches that no worktree has checked out;
//! the others are reported. A local branch is never made by a pull: `review` makes one when
//! it is needed, and `merge` lands from the tracking ref.

use serde::Serialize;

use crate::error::Result;
use crate::git::remote::{Lease, RefPushed};
use crate::git::{Cas, Oid};
use crate::model::ids::{FeatureSlug, WpId, wp_branch};
use crate::model::lane::Lane;
use crate::state::schema::WpState;
use crate::workspace::Workspace;
use crate::workspace::branches::remote_branch_ref;

/// At most this many branches per `git push`.
const PUSH_CHUNK: usize = 256;

/// What happened to one WP's branch.
#[derive(Debug, Clone, Serialize)]
pub struct BranchSync {
    pub feature: String,
    pub wp: String,
    pub branch: String,
    pub outcome: BranchOutcome,
    /// Where the branch is checked out (`checked_out`), or what the remote said (`declined`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What `pull` or `push` did to one WP branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BranchOutcome {
    /// Sent to the remote.
    Pushed,
    /// The local branch was moved to the remote's copy.
    FastForward,
    /// The remote's copy is ahead, but the branch is checked out in a worktree: not moved.
    CheckedOut,
    /// The local branch has commits the remote's copy lacks (`push` sends them).
    Ahead,
    /// The remote's copy has commits the local branch lacks: nothing to send.
    Behind,
    /// Both have commits the other lacks: neither side was changed.
    Diverged,
    /// The remote's branch moved since it was last fetched: not sent (pull first).
    Stale,
    /// The remote refused it.
    Declined,
}

impl BranchOutcome {
    /// The name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            BranchOutcome::Pushed => "pushed",
            BranchOutcome::FastForward => "fast_forward",
            BranchOutcome::CheckedOut => "checked_out",
            BranchOutcome::Ahead => "ahead",
            BranchOutcome::Behind => "behind",
            BranchOutcome::Diverged => "diverged",
            BranchOutcome::Stale => "stale",
            BranchOutcome::Declined => "declined",
        }
    }

    /// Whether it is worth a warning: something the user may have to act on.
    pub fn is_problem(self) -> bool {
        matches!(
            self,
            BranchOutcome::CheckedOut
                | BranchOutcome::Diverged
                | BranchOutcome::Stale
                | BranchOutcome::Declined
        )
    }
}

/// What `pull` fetches besides state: the WP branches of `feature` (else of every feature of
/// the plan) into the ordinary tracking refs. A pattern per feature, so a WP whose branch is
/// not on the remote does not fail the fetch.
pub fn fetch_specs(ws: &Workspace, remote: &str, feature: Option<&FeatureSlug>) -> Vec<String> {
    let spec = |f: &FeatureSlug| format!("+refs/heads/{f}-WP*:refs/remotes/{remote}/{f}-WP*");
    match feature {
        Some(f) => vec![spec(f)],
        None => ws.plan.features.iter().map(|f| spec(&f.slug)).collect(),
    }
}

/// One WP whose branch is git kitty's: its state names its own branch.
struct Owned {
    feature: FeatureSlug,
    wp: WpId,
    branch: String,
    state: WpState,
}

impl Owned {
    fn entry(&self, outcome: BranchOutcome, detail: Option<String>) -> BranchSync {
        BranchSync {
            feature: self.feature.to_string(),
            wp: self.wp.to_string(),
            branch: self.branch.clone(),
            outcome,
            detail,
        }
    }
}

/// The WPs (of `feature`, else all) whose local state names their own branch, while their
/// work goes on (not done or canceled).
fn owned(ws: &Workspace, feature: Option<&FeatureSlug>) -> Result<Vec<Owned>> {
    let slugs: Option<Vec<&FeatureSlug>> = feature.map(|f| vec![f]);
    let (states, _) = crate::state::store::read_all(&ws.repo, slugs.as_deref())?;
    let mut out = Vec::new();
    for ((f, w), tip) in states {
        let branch = wp_branch(&f, &w);
        // Landed or canceled work has nothing left to share: a branch deleted from the
        // remote after landing is not sent back.
        let live = !matches!(tip.state.lane, Lane::Done | Lane::Canceled);
        if !live || tip.state.branch.as_deref() != Some(branch.as_str()) {
            continue;
        }
        // A branch left here by a claim that lost has the winner's name but not its work:
        // sending it would put the loser's commits where the winner's belong.
        if crate::state::lost::read(&ws.repo, &f, &w, tip.commit)?.is_some() {
            continue;
        }
        out.push(Owned {
            feature: f,
            wp: w,
            branch,
            state: tip.state,
        });
    }
    out.sort_by(|a, b| (&a.feature, &a.wp).cmp(&(&b.feature, &b.wp)));
    Ok(out)
}

/// After a fetch: fast-forward each local WP branch that the remote's copy is ahead of,
/// unless a worktree has it checked out. A missing local branch is left missing.
pub fn update_local(
    ws: &Workspace,
    remote: &str,
    feature: Option<&FeatureSlug>,
) -> Result<Vec<BranchSync>> {
    let mut out = Vec::new();
    let mut worktrees = None;
    for o in owned(ws, feature)? {
        let (Some(local), Some(theirs)) = (
            ws.repo.branch_tip(&o.branch)?,
            ws.repo.ref_tip(&remote_branch_ref(remote, &o.branch))?,
        ) else {
            continue;
        };
        match relation(ws, &o.state, local, theirs)? {
            Relation::Same => continue,
            Relation::Ahead => {
                out.push(o.entry(BranchOutcome::Ahead, None));
                continue;
            }
            Relation::Diverged => {
                out.push(o.entry(BranchOutcome::Diverged, None));
                continue;
            }
            Relation::Behind => {}
        }
        let list = match &worktrees {
            Some(list) => list,
            None => worktrees.insert(ws.repo.worktrees()?),
        };
        if let Some(w) = list
            .iter()
            .find(|w| w.branch.as_deref() == Some(o.branch.as_str()))
        {
            let path = w.path.display().to_string();
            out.push(o.entry(BranchOutcome::CheckedOut, Some(path)));
            continue;
        }
        let name = format!("refs/heads/{}", o.branch);
        if ws
            .repo
            .cas_ref(&name, Some(local), theirs, "git kitty pull: fast-forward")?
            == Cas::Done
        {
            out.push(o.entry(BranchOutcome::FastForward, None));
        }
    }
    Ok(out)
}

/// Send every local WP branch the remote's copy (as last fetched) lacks commits of, each with
/// a lease on that copy; one refused does not hold back the others.
pub fn push(
    ws: &Workspace,
    remote: &str,
    feature: Option<&FeatureSlug>,
) -> Result<Vec<BranchSync>> {
    let mut out = Vec::new();
    let mut sending: Vec<(Owned, Lease)> = Vec::new();
    for o in owned(ws, feature)? {
        let Some(local) = ws.repo.branch_tip(&o.branch)? else {
            continue;
        };
        let tracking = remote_branch_ref(remote, &o.branch);
        let theirs = ws.repo.ref_tip(&tracking)?;
        match decide(ws, &o, local, theirs)? {
            Some(outcome) => {
                if outcome != BranchOutcome::Pushed {
                    out.push(o.entry(outcome, None));
                }
                continue;
            }
            None => {
                let lease = Lease {
                    name: format!("refs/heads/{}", o.branch),
                    expected: theirs,
                    new: local,
                };
                sending.push((o, lease));
            }
        }
    }
    for chunk in sending.chunks(PUSH_CHUNK) {
        let leases: Vec<Lease> = chunk.iter().map(|(_, l)| l.clone()).collect();
        let results = ws.repo.push_leases_each(remote, &leases)?;
        for ((o, lease), result) in chunk.iter().zip(results) {
            out.push(match result {
                RefPushed::Accepted => {
                    let tracking = remote_branch_ref(remote, &o.branch);
                    let current = ws.repo.ref_tip(&tracking)?;
                    let _ = ws
                        .repo
                        .cas_ref(&tracking, current, lease.new, "git kitty push")?;
                    o.entry(BranchOutcome::Pushed, None)
                }
                RefPushed::Stale => o.entry(BranchOutcome::Stale, None),
                RefPushed::Declined(said) => o.entry(BranchOutcome::Declined, Some(said)),
            });
        }
    }
    Ok(out)
}

/// Whether to send a branch at `local` whose remote copy is `theirs`: `None` to send it, else
/// why not (`Pushed` meaning "nothing to do": already there).
fn decide(
    ws: &Workspace,
    o: &Owned,
    local: Oid,
    theirs: Option<Oid>,
) -> Result<Option<BranchOutcome>> {
    let Some(theirs) = theirs else {
        return Ok(None);
    };
    Ok(match relation(ws, &o.state, local, theirs)? {
        Relation::Same => Some(BranchOutcome::Pushed),
        Relation::Ahead => None,
        Relation::Behind => Some(BranchOutcome::Behind),
        Relation::Diverged => Some(BranchOutcome::Diverged),
    })
}

/// How a local WP branch stands to the remote's copy.
enum Relation {
    Same,
    /// The local branch has commits the remote's copy lacks, or was restacked here.
    Ahead,
    /// The remote's copy has commits the local branch lacks.
    Behind,
    Diverged,
}

/// Where the local branch at `local` of a WP in `state` stands to the remote's copy `theirs`.
/// A branch restacked here is ahead: `push` replaces the remote's old copy.
fn relation(ws: &Workspace, state: &WpState, local: Oid, theirs: Oid) -> Result<Relation> {
    Ok(if local == theirs {
        Relation::Same
    } else if ws.repo.is_ancestor(theirs, local)? {
        Relation::Ahead
    } else if ws.repo.is_ancestor(local, theirs)? {
        Relation::Behind
    } else if restacked_here(ws, state, local, theirs)? {
        Relation::Ahead
    } else {
        Relation::Diverged
    })
}

/// Whether a branch at `local` that diverged from the remote's copy `theirs` was restacked
/// here: the base its state records is in the local branch and not in the remote's copy,
/// which is then the branch as it was before the rebase (a push's lease still guards
/// against anything newer).
fn restacked_here(ws: &Workspace, state: &WpState, local: Oid, theirs: Oid) -> Result<bool> {
    let base = state
        .base
        .as_ref()
        .and_then(|b| crate::git::parse_oid(&b.commit));
    Ok(match base {
        Some(base) => ws.repo.is_ancestor(base, local)? && !ws.repo.is_ancestor(base, theirs)?,
        None => false,
    })
}

/// The branch results of a `sync`: the pull's, less what the push then sent, and the push's.
pub fn combine(pulled: Vec<BranchSync>, pushed: Vec<BranchSync>) -> Vec<BranchSync> {
    let mut out: Vec<BranchSync> = pulled
        .into_iter()
        .filter(|p| {
            p.outcome != BranchOutcome::Ahead || !pushed.iter().any(|q| q.branch == p.branch)
        })
        .collect();
    for q in pushed {
        if !out
            .iter()
            .any(|p| p.branch == q.branch && p.outcome == q.outcome)
        {
            out.push(q);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_keep_their_json_names() {
        use BranchOutcome::*;
        for o in [
            Pushed,
            FastForward,
            CheckedOut,
            Ahead,
            Behind,
            Diverged,
            Stale,
            Declined,
        ] {
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
    }

    fn entry(branch: &str, outcome: BranchOutcome) -> BranchSync {
        BranchSync {
            feature: "001-x".into(),
            wp: "WP01".into(),
            branch: branch.into(),
            outcome,
            detail: None,
        }
    }

    #[test]
    fn a_sync_reports_each_branch_once() {
        use BranchOutcome::*;
        let pulled = vec![
            entry("a", Ahead),
            entry("b", Diverged),
            entry("c", FastForward),
            entry("d", Ahead),
        ];
        let pushed = vec![entry("a", Pushed), entry("b", Diverged), entry("d", Stale)];
        let got: Vec<(String, BranchOutcome)> = combine(pulled, pushed)
            .into_iter()
            .map(|b| (b.branch, b.outcome))
            .collect();
        let want: Vec<(String, BranchOutcome)> = [
            ("b", Diverged),
            ("c", FastForward),
            ("a", Pushed),
            ("d", Stale),
        ]
        .into_iter()
        .map(|(b, o)| (b.to_owned(), o))
        .collect();
        assert_eq!(got, want);
    }
}
