//! Where a WP's branch starts: the target branch, one dependency's branch, or a merge of
//! several, and whether that start has gone stale since.

use crate::error::{Error, ErrorKind, Result};
use crate::git::{NewCommit, TreeMerge};
use crate::git::{Oid, parse_oid};
use crate::model::ids::{WpId, is_safe_branch_name};
use crate::model::plan::Feature;
use crate::state::schema::{Base, BaseDependency, BaseKind};
use crate::workspace::Workspace;

/// `<feature>-<WP>`: the branch of a WP (both parts are validated names).
pub fn branch_name(feature: &Feature, wp: &WpId) -> String {
    crate::model::ids::wp_branch(&feature.slug, wp)
}

/// `.worktrees/<feature>-<WP>`, relative to the main worktree.
pub fn worktree_rel(feature: &Feature, wp: &WpId) -> String {
    crate::model::ids::wp_worktree(&feature.slug, wp)
}

/// Where finished work lands: the WP's `merge_target_branch`, else the feature's Spec Kitty
/// `target_branch`, else `git config kitty.targetBranch`, else the remote's default branch
/// ([`remote_default`]), else the branch checked out in the main worktree. Returns the name and
/// its tip; a missing branch is an error.
pub fn target_branch(
    ws: &Workspace,
    feature: &Feature,
    wp: Option<&WpId>,
) -> Result<(String, Oid)> {
    let from_wp = match wp {
        Some(w) => feature.wp(w).and_then(|w| w.merge_target_branch.clone()),
        None => declared_by_every_wp(feature),
    };
    let (name, source) = if let Some(b) = from_wp {
        (b, "the WP's merge_target_branch")
    } else if let Some(b) = feature.target_branch.clone() {
        (b, "the feature's meta.json")
    } else if let Some(b) = ws.repo.config_string("kitty.targetBranch") {
        (b, "git config kitty.targetBranch")
    } else if let Some(b) = remote_default(ws) {
        (b, "the remote's default branch")
    } else if let Some(b) = ws.repo.main_branch() {
        (b, "the branch checked out in the main worktree")
    } else {
        return Err(
            Error::usage("no target branch: the main worktree has no branch checked out")
                .hint("set one: `git config kitty.targetBranch main`"),
        );
    };
    if !is_safe_branch_name(&name) {
        return Err(Error::usage(format!(
            "the target branch `{}` (from {source}) is not a safe branch name",
            name.escape_debug()
        )));
    }
    match ws.repo.branch_tip(&name)? {
        Some(tip) => Ok((name, tip)),
        None => Err(Error::usage(format!("the target branch `{name}` (from {source}) does not exist"))
            .hint(format!("create it (`git branch {name}`), or name another with `git config kitty.targetBranch <branch>`"))),
    }
}

/// The feature as a whole (no WP named): the `merge_target_branch` its WPs declare, when every
/// one of them declares the same (then every WP lands there, whatever else is configured).
fn declared_by_every_wp(feature: &Feature) -> Option<String> {
    let mut declared = feature.wps.iter().map(|w| w.merge_target_branch.as_ref());
    let first = declared.next()??;
    declared.all(|d| d == Some(first)).then(|| first.clone())
}

/// The remote's default branch (`refs/remotes/<remote>/HEAD`, the remote `kitty.remote`, else
/// `origin`): what a clone's work lands on when nothing names a target, whichever branch the
/// main worktree has checked out.
pub fn remote_default(ws: &Workspace) -> Option<String> {
    let remote = crate::state::relation::remote_name(&ws.repo, None).ok()?;
    ws.repo
        .remote_default_branch(&remote)
        .filter(|b| is_safe_branch_name(b))
}

/// What one dependency contributes to a base.
enum Source {
    /// Already in the target branch (merged, or done and its branch gone).
    Target,
    /// Its own branch, at this commit.
    Branch(BaseDependency),
}

/// Compute the base of `wp`: the commit its branch starts from. Several unmerged dependencies
/// are merged (`git merge-tree`, no working tree touched); a conflict is a `conflict` error
/// naming the paths and the WPs involved, and leaves nothing but unreachable objects.
pub fn compute(ws: &Workspace, feature: &Feature, wp: &WpId, actor: &str) -> Result<Base> {
    let (target, target_tip) = target_branch(ws, feature, Some(wp))?;
    let deps: Vec<WpId> = feature
        .wp(wp)
        .map(|w| w.dependencies().cloned().collect())
        .unwrap_or_default();
    let mut sources = Vec::new();
    let mut landed = None;
    for dep in &deps {
        sources.push(source_of(ws, feature, dep, target_tip, &mut landed)?);
    }
    let mut dependencies: Vec<BaseDependency> = Vec::new();
    let mut uses_target = deps.is_empty();
    for s in sources {
        match s {
            Source::Target => uses_target = true,
            Source::Branch(d) => dependencies.push(d),
        }
    }
    // The commits to start from; drop any that another one already contains.
    let mut parents: Vec<(String, Oid)> = Vec::new();
    for d in &dependencies {
        let commit = parse_oid(&d.commit)
            .ok_or_else(|| Error::failed(format!("`{}` is not an object id", d.commit)))?;
        if !parents.iter().any(|(_, c)| *c == commit) {
            parents.push((d.wp.clone(), commit));
        }
    }
    if uses_target {
        parents.push((target.clone(), target_tip));
    }
    let mut kept: Vec<(String, Oid)> = Vec::new();
    for (i, (name, c)) in parents.iter().enumerate() {
        let mut contained = false;
        for (j, (_, other)) in parents.iter().enumerate() {
            if i != j && c != other && ws.repo.is_ancestor(*c, *other)? {
                contained = true;
                break;
            }
        }
        if !contained {
            kept.push((name.clone(), *c));
        }
    }
    let target_field = uses_target.then(|| target.clone());
    match kept.as_slice() {
        [] => Ok(Base {
            commit: target_tip.to_string(),
            kind: BaseKind::Target,
            target_branch: Some(target),
            dependencies,
        }),
        [(_, only)] => Ok(Base {
            commit: only.to_string(),
            kind: if *only == target_tip {
                BaseKind::Target
            } else {
                BaseKind::Dependency
            },
            target_branch: target_field,
            dependencies,
        }),
        many => {
            let commit = merge_all(ws, feature, wp, many, actor)?;
            Ok(Base {
                commit: commit.to_string(),
                kind: BaseKind::Merge,
                target_branch: target_field,
                dependencies,
            })
        }
    }
}

/// A dependency's branch is the local one, else the remote's copy last fetched: work done on
/// another machine (approved, stacked on, or landed where this clone's target has not caught
/// up yet) is still the dependent's start.
/// A branch whose work reached the target squashed is not in it by ancestry: the target's
/// trailers say it landed (`landed`: what they name, read once, when first needed).
fn source_of(
    ws: &Workspace,
    feature: &Feature,
    dep: &WpId,
    target_tip: Oid,
    landed: &mut Option<std::collections::HashSet<super::landing::Key>>,
) -> Result<Source> {
    let branch = branch_name(feature, dep);
    // No branch here nor on the remote: done work was merged (and its branch deleted), or the
    // dependency was never implemented with git kitty; either way the target is the best start.
    let Some(tip) = ws.branch_oid_anywhere(&branch)? else {
        return Ok(Source::Target);
    };
    if ws.repo.is_ancestor(tip, target_tip)? {
        return Ok(Source::Target);
    }
    if landed.is_none() {
        *landed = Some(super::landing::landed_on(
            &ws.repo.history(),
            &[target_tip],
        )?);
    }
    let key = super::landing::Key {
        feature: feature.slug.to_string(),
        number: dep.number(),
    };
    if landed.as_ref().is_some_and(|keys| keys.contains(&key)) {
        return Ok(Source::Target);
    }
    Ok(Source::Branch(BaseDependency {
        wp: dep.to_string(),
        branch,
        commit: tip.to_string(),
    }))
}

/// Merge the `commits` pairwise into one base commit, without touching a working tree.
fn merge_all(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    commits: &[(String, Oid)],
    actor: &str,
) -> Result<Oid> {
    let mut acc = commits[0].1;
    let mut merged: Vec<&str> = vec![commits[0].0.as_str()];
    for (name, commit) in &commits[1..] {
        match ws.repo.merge_trees(acc, *commit)? {
            TreeMerge::Clean(tree) => {
                merged.push(name);
                let message = format!(
                    "git kitty: base of {}/{wp}\n\nMerge of {}.\n",
                    feature.slug,
                    merged.join(", ")
                );
                acc = ws.repo.write_commit(NewCommit {
                    tree: Some(tree),
                    parents: &[acc, *commit],
                    message: &message,
                    headers: &[],
                    author_name: actor,
                    author_email: &ws
                        .repo
                        .config_string("user.email")
                        .unwrap_or_else(|| "kitty@localhost".into()),
                    time_secs: (crate::util::time::now_nanos() / 1_000_000_000) as i64,
                })?;
            }
            TreeMerge::Conflict(paths) => {
                merged.push(name);
                let shown: Vec<&str> = paths.iter().take(20).map(String::as_str).collect();
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!(
                        "{wp} depends on {}, whose work conflicts: merging them for {wp}'s base stops in {}",
                        merged.join(" and "),
                        shown.join(", ")
                    ),
                )
                .details(serde_json::json!({ "paths": paths, "dependencies": merged }))
                .hint(format!(
                    "land one of {} first, or rebase one onto the other; then run this again",
                    merged.join(", ")
                ))
                .hint("nothing was claimed or created"));
            }
        }
    }
    Ok(acc)
}

/// `main at 1a2b3c4`, `WP01's branch at 1a2b3c4`, `a merge of WP02, WP03 (1a2b3c4)`.
pub fn describe_base(base: &Base) -> String {
    let short = base.commit.get(..7).unwrap_or(&base.commit);
    match base.kind {
        BaseKind::Merge => {
            let mut parts: Vec<String> = base.dependencies.iter().map(|d| d.wp.clone()).collect();
            if let Some(t) = &base.target_branch {
                parts.push(t.clone());
            }
            format!("a merge of {} ({short})", parts.join(", "))
        }
        BaseKind::Dependency => match base.dependencies.as_slice() {
            [one] => format!("{}'s branch at {short}", one.wp),
            _ => short.to_owned(),
        },
        BaseKind::Target => format!(
            "{} at {short}",
            base.target_branch.as_deref().unwrap_or("the target branch")
        ),
    }
}
