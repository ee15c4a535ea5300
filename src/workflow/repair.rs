//! `repair`: replace a WP's damaged state ref (here, on the remote, or both) with a sound
//! history.
//!
//! Damage is judged by `state::verify`, the server's own check: a ref pointing at something
//! other than a state commit of this WP, or a history holding a commit its event does not
//! lead to (a forged state), names that are not the WP's own, or `done` without landed work.
//! What is kept is the newest sound commit of each side's first-parent chain (joined when both
//! have one, the remote's state as the arbiter, as `pull` does); on top of it goes a note
//! whose `replaces` names the damaged object. A server takes that history in place of its
//! damaged value, and only then: a rewrite of a sound history is still refused. Pushed with a
//! lease on the damaged value, so nothing that arrived meanwhile is dropped.
//!
//! State from a newer git kitty is not damage: it is refused here, never replaced.

use serde::Serialize;

use super::{base, landing};
use crate::error::{Error, Result};
use crate::git::remote::{Lease, Pushed};
use crate::git::{Cas, Oid};
use crate::model::ids::WpId;
use crate::model::lane::Lane;
use crate::model::plan::Feature;
use crate::state::relation::tracking_prefix;
use crate::state::schema::{EventKind, WpState};
use crate::state::verify::{self, Judgement, RepoCommits, Subject};
use crate::state::{rules, store};
use crate::workspace::Workspace;

pub struct Request<'a> {
    pub feature: &'a Feature,
    pub wp: WpId,
    pub actor: String,
    /// The remote whose copy is repaired too (fetched first); `None`: this clone only.
    pub remote: Option<String>,
}

/// What `repair` did (the `--json` document).
#[derive(Debug, Serialize)]
pub struct Repaired {
    pub wp: String,
    pub feature: String,
    /// Whether anything was damaged (and so replaced).
    pub repaired: bool,
    pub replaced: Vec<Replaced>,
    /// The newest sound commit kept, with its history; `None`: the history starts again.
    pub kept: Option<String>,
    /// The repair note now at the tip.
    pub commit: Option<String>,
    pub remote: Option<String>,
    pub pushed: bool,
    pub lane: Lane,
}

/// One damaged value that was replaced.
#[derive(Debug, Serialize)]
pub struct Replaced {
    /// The remote's name, or `local`.
    #[serde(rename = "where")]
    pub at: String,
    pub object: String,
    pub why: String,
}

/// One side's value of the WP's ref, judged.
struct Side {
    at: String,
    /// The ref's direct value.
    value: Option<Oid>,
    judgement: Option<Judgement>,
}

impl Side {
    fn damage(&self, req: &Request<'_>) -> Option<Replaced> {
        let (value, finding) = (self.value?, self.judgement.as_ref()?.flaw.as_ref()?);
        Some(Replaced {
            at: self.at.clone(),
            object: value.to_string(),
            why: finding.describe(&req.feature.slug, &req.wp),
        })
    }

    fn sound(&self) -> Option<Oid> {
        self.judgement.as_ref().and_then(|j| j.sound)
    }
}

pub fn repair(ws: &Workspace, req: &Request<'_>) -> Result<Repaired> {
    let (feature, wp) = (&req.feature.slug, &req.wp);
    let name = store::ref_name(feature, wp);
    let tracking = req
        .remote
        .as_ref()
        .map(|r| format!("{}{feature}/{wp}", tracking_prefix(r)));
    if let Some(r) = &req.remote {
        ws.repo
            .fetch(r, &[crate::sync::fetch_spec(r, Some(feature))])?;
    }
    let mut sides = vec![judge(ws, req, "local", &name)?];
    if let (Some(r), Some(t)) = (&req.remote, &tracking) {
        sides.push(judge(ws, req, r, t)?);
    }
    if let Some(newer) = sides.iter().find(|s| {
        s.judgement
            .as_ref()
            .and_then(|j| j.flaw.as_ref())
            .is_some_and(|f| f.flaw.is_newer())
    }) {
        return Err(Error::refused(format!(
            "the state of {wp} ({}) was written by a newer git kitty: it is not damage",
            newer.at
        ))
        .hint("upgrade git kitty to read it; never replace another version's live state"));
    }
    let replaced: Vec<Replaced> = sides.iter().filter_map(|s| s.damage(req)).collect();
    let mut done = Repaired {
        wp: wp.to_string(),
        feature: feature.to_string(),
        repaired: !replaced.is_empty(),
        replaced,
        kept: None,
        commit: None,
        remote: req.remote.clone(),
        pushed: false,
        lane: current_lane(ws, req)?,
    };
    if !done.repaired {
        return Ok(done);
    }
    let kept = keep(ws, req, &sides)?;
    let (commit, state) = write_repair(ws, req, kept, &done.replaced)?;
    if ws
        .repo
        .cas_ref(&name, sides[0].value, commit, "git kitty repair")?
        == Cas::Raced
    {
        return Err(Error::failed(format!(
            "{name} moved while it was being repaired: nothing was changed"
        ))
        .hint(format!("run `git kitty repair {wp} -f {feature}` again")));
    }
    done.kept = kept.map(|k| k.to_string());
    done.commit = Some(commit.to_string());
    done.lane = state.lane;
    if let (Some(remote), Some(tracking), Some(side)) = (&req.remote, &tracking, sides.get(1)) {
        push(ws, remote, &name, tracking, side.value, commit)?;
        done.pushed = true;
    }
    Ok(done)
}

/// Judge the value of `refname` (`at`: where it is, for people).
fn judge(ws: &Workspace, req: &Request<'_>, at: &str, refname: &str) -> Result<Side> {
    let value = ws.repo.ref_target(refname)?;
    let judgement = match value {
        None => None,
        Some(tip) => {
            let mut src = RepoCommits::new(&ws.repo);
            let mut landed = || has_landed(ws, req);
            let mut subject = Subject {
                feature: &req.feature.slug,
                wp: &req.wp,
                landed: &mut landed,
            };
            Some(verify::judge(&mut src, &mut subject, tip)?)
        }
    };
    Ok(Side {
        at: at.to_owned(),
        value,
        judgement,
    })
}

/// Whether the WP's work is on its target branch (here, or on the remote as last fetched).
fn has_landed(ws: &Workspace, req: &Request<'_>) -> Result<bool> {
    let (target, tip) = base::target_branch(ws, req.feature, Some(&req.wp))?;
    let mut tips = vec![tip];
    if let Some(r) = &req.remote {
        tips.extend(ws.repo.ref_tip(&format!("refs/remotes/{r}/{target}"))?);
    }
    let key = landing::Key {
        feature: req.feature.slug.to_string(),
        number: req.wp.number(),
    };
    Ok(landing::landed_on(&ws.repo.history(), &tips)?.contains(&key))
}

/// The sound history to keep: each side's newest sound commit, joined when they diverged.
fn keep(ws: &Workspace, req: &Request<'_>, sides: &[Side]) -> Result<Option<Oid>> {
    let local = sides.first().and_then(Side::sound);
    let remote = sides.get(1).and_then(Side::sound);
    Ok(match (local, remote) {
        (None, None) => None,
        (Some(one), None) | (None, Some(one)) => Some(one),
        (Some(l), Some(r)) if l == r || ws.repo.is_ancestor(l, r)? => Some(r),
        (Some(l), Some(r)) if ws.repo.is_ancestor(r, l)? => Some(l),
        (Some(l), Some(r)) => {
            let joined = store::join(&ws.repo, l, r, &req.feature.slug, &req.wp, &req.actor)?;
            Some(joined.commit)
        }
    })
}

/// Write the repair note on top of `kept` (or as a first event): its commit and state.
fn write_repair(
    ws: &Workspace,
    req: &Request<'_>,
    kept: Option<Oid>,
    replaced: &[Replaced],
) -> Result<(Oid, WpState)> {
    let (feature, wp) = (&req.feature.slug, &req.wp);
    let before = match kept {
        Some(k) => {
            let commit = ws.repo.read_commit(k)?;
            store::decode_for(&commit, feature, wp)
                .map_err(|why| Error::failed(format!("cannot read {k}: {why}")))?
                .1
        }
        None => ws.initial_state(req.feature, wp),
    };
    // The server's value is the one it must see replaced; else the local one.
    let replaces = replaced
        .iter()
        .find(|r| r.at != "local")
        .or(replaced.first())
        .map(|r| r.object.clone());
    let mut event = store::draft(EventKind::Note, &req.actor);
    event.replaces = replaces;
    let lines: Vec<String> = replaced
        .iter()
        .map(|r| format!("replaced {} ({}): {}", &r.object[..7], r.at, r.why))
        .collect();
    event.note = Some(format!("repaired: {}", lines.join("; ")));
    store::stamp(&mut event, &before);
    let state = rules::apply(&before, &event)
        .map_err(|r| Error::failed(format!("cannot repair {wp}: {}", r.message(wp.as_str()))))?;
    let parents: Vec<Oid> = kept.into_iter().collect();
    let commit = store::write(&ws.repo, &event, &state, &parents)?;
    Ok((commit, state))
}

/// Push the repaired history over the remote's damaged value (a lease on it), and record it.
fn push(
    ws: &Workspace,
    remote: &str,
    name: &str,
    tracking: &str,
    expected: Option<Oid>,
    commit: Oid,
) -> Result<()> {
    let lease = Lease {
        name: name.to_owned(),
        expected,
        new: commit,
    };
    match ws.repo.push_leases(remote, std::slice::from_ref(&lease))? {
        Pushed::Accepted => {
            let current = ws.repo.ref_target(tracking)?;
            ws.repo
                .cas_ref(tracking, current, commit, "git kitty repair")?;
            Ok(())
        }
        Pushed::Stale(_) => Err(Error::refused(format!(
            "{remote}'s {name} moved meanwhile: the repair is here, not on {remote}"
        ))
        .hint("run `git kitty repair` again: it judges what the remote has now")),
        Pushed::Declined(said) => Err(Error::refused(format!(
            "{remote} refused the repair of {name}: it is here, not on {remote}"
        ))
        .cause(said)),
    }
}

/// The WP's lane as it stands (a damaged state reads as the plan's).
fn current_lane(ws: &Workspace, req: &Request<'_>) -> Result<Lane> {
    Ok(store::read(&ws.repo, &req.feature.slug, &req.wp)
        .ok()
        .flatten()
        .map_or_else(
            || ws.initial_state(req.feature, &req.wp).lane,
            |t| t.state.lane,
        ))
}
