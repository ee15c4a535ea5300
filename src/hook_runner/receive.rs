//! `pre-receive` on a shared bare repository: nothing a client pushes is taken on trust.
//!
//! - A target branch moves only in landing order, judged by landed work against the plan it
//!   had before the push (`workflow::landing`); with `kitty.requireTrailer`, every commit it
//!   brings names its WP or changes nothing but the plan. Target branches are never deleted.
//! - Under `refs/kitty/` there are only state refs, `refs/kitty/wp/<feature>/<WP>`, each
//!   pointing at a state commit of that WP. Every commit an update brings is checked
//!   (`state::verify`): the history must be one git kitty could have written, and a state
//!   that says `done` needs the WP's work on a target branch. A state ref only moves forward
//!   and is never deleted, except that a damaged one is replaced by a repair: a history
//!   holding a note that names the damaged value (`replaces`), written by `git kitty repair`.
//!
//! The pushed objects are in quarantine, so everything is read through `git` (`History`):
//! a handful of processes per push, whatever the number of refs.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use super::{oid, verdict};
use crate::error::{Error, Result};
use crate::git::history::History;
use crate::git::hook_env;
use crate::git::objects::ObjectKind;
use crate::git::{CommitData, Oid};
use crate::model::ids::{FeatureSlug, WpId};
use crate::model::lane::Lane;
use crate::model::plan::{Plan, SPECS_DIR};
use crate::state::store;
use crate::state::verify::{self, Commits, Finding, Subject};
use crate::ui::Ui;
use crate::workflow::landing::{self, Key, Rules};
use crate::workspace::plan_files::plan_at;

/// One line of git's input: a ref moving from `old` to `new` (`None`: absent).
struct Update {
    old: Option<Oid>,
    new: Option<Oid>,
    name: String,
}

/// What the whole push shares: git, the server's settings, and (computed when first needed)
/// the WPs whose work is on a target branch once the push is taken.
struct Server<'u> {
    history: History,
    updates: &'u [Update],
    configured: Option<String>,
    head: Option<String>,
    require_trailer: bool,
    /// `kitty.landing.requireReview` (on unless set to false): work lands only when its WP's
    /// state, as the push leaves it, is approved or done.
    require_review: bool,
    landed: Option<HashSet<Key>>,
}

/// Judge every update of the push. Any refusal refuses the whole push (git's rule for
/// `pre-receive`).
pub fn pre_receive(ui: &mut Ui) -> Result<u8> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| Error::failed("cannot read the pre-receive input").cause(e))?;
    let updates: Vec<Update> = input
        .lines()
        .filter_map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [old, new, name] => Some(Update {
                    old: oid(old),
                    new: oid(new),
                    name: name.to_owned(),
                }),
                _ => None,
            },
        )
        .collect();
    let mut server = Server {
        history: hook_env::history(),
        updates: &updates,
        configured: hook_env::config("kitty.targetBranch"),
        head: hook_env::head_branch(),
        require_trailer: hook_env::config_bool("kitty.requireTrailer").unwrap_or(false),
        require_review: hook_env::config_bool("kitty.landing.requireReview").unwrap_or(true),
        landed: None,
    };
    for u in &updates {
        if let Some(branch) = u.name.strip_prefix("refs/heads/") {
            server.branch(branch, u, ui)?;
        }
    }
    let state: Vec<&Update> = updates
        .iter()
        .filter(|u| u.name.starts_with("refs/kitty/"))
        .collect();
    server.state_refs(&state)?;
    Ok(0)
}

impl Server<'_> {
    /// A branch update: checked when the branch is a target (before or after the push).
    fn branch(&mut self, branch: &str, u: &Update, ui: &mut Ui) -> Result<()> {
        let Some(new) = u.new else {
            let targets = match u.old {
                Some(o) => self.targets(&plan_at(&self.history, o)?),
                None => Default::default(),
            };
            if targets.contains(branch) {
                return Err(Error::refused(format!(
                    "refusing to delete {branch}: it is a target branch, whose history is the order work landed in"
                )));
            }
            return Ok(());
        };
        let after = plan_at(&self.history, new)?;
        // The plan before the push, read only when the push changes it (most do not: then
        // the plan it brings is that plan).
        let before: Option<Plan> = match u.old {
            Some(o) if !self.history.same_path(o, new, SPECS_DIR)? => {
                Some(plan_at(&self.history, o)?)
            }
            _ => None,
        };
        let mut targets = self.targets(&after);
        if let Some(b) = &before {
            targets.extend(self.targets(b));
        }
        if !targets.contains(branch) {
            return Ok(());
        }
        let rules = Rules::for_update(before.as_ref(), &after, self.require_trailer);
        let mut report = landing::check_update(&self.history, &rules, u.old, new)?;
        if self.require_review {
            landing::require_review(&mut report, &rules, &mut |key| {
                self.lane_after_push(&rules, key).map(Some)
            })?;
        }
        let after = if report
            .violations
            .iter()
            .any(|v| v.kind == landing::Kind::NotApproved)
        {
            let refs: Vec<String> = report
                .violations
                .iter()
                .filter(|v| v.kind == landing::Kind::NotApproved)
                .map(|v| format!("refs/kitty/wp/{}/{}", v.feature, v.wp))
                .collect();
            vec![format!(
                "this server judges review by its own state refs, as this push leaves them: push the state with the work (`git push <remote> {branch} {}`), or `git kitty push` once the WP is approved, then push {branch}",
                refs.join(" ")
            )]
        } else {
            Vec::new()
        };
        verdict(&report, branch, ui, &after)?;
        Ok(())
    }

    /// A WP's lane once the push is taken: its state ref as the push leaves it, else (no state
    /// ref) what the plan before the update says. A state the server cannot read counts as
    /// not approved (its own update is refused by the state checks anyway).
    fn lane_after_push(&self, rules: &Rules<'_>, key: &Key) -> Result<Lane> {
        let id = rules.plan.feature(&key.feature).and_then(|f| {
            let w = f.wps.iter().find(|w| w.id.number() == key.number)?;
            Some(w.id.to_string())
        });
        let Some(id) = id else {
            return Ok(landing::plan_lane(rules.plan, key));
        };
        let name = format!("refs/kitty/wp/{}/{id}", key.feature);
        let tip = match self.updates.iter().find(|u| u.name == name) {
            Some(u) => u.new,
            None => self.history.resolve(&name)?,
        };
        let Some(tip) = tip else {
            return Ok(landing::plan_lane(rules.plan, key));
        };
        let commit = self
            .history
            .read_commits(&[tip])?
            .into_iter()
            .next()
            .flatten();
        Ok(commit
            .and_then(|c| store::decode(&c).ok())
            .map_or(Lane::Blocked, |(_, state)| state.lane))
    }

    fn targets(&self, plan: &Plan) -> std::collections::BTreeSet<String> {
        landing::target_branches(plan, [self.configured.clone(), self.head.clone()])
    }

    /// Whether `feature`/`wp` has work on a target branch, as the branches will be once the
    /// push is taken.
    fn has_landed(&mut self, feature: &FeatureSlug, wp: &WpId) -> Result<bool> {
        if self.landed.is_none() {
            self.landed = Some(self.landed_now()?);
        }
        let key = Key {
            feature: feature.to_string(),
            number: wp.number(),
        };
        Ok(self.landed.as_ref().is_some_and(|l| l.contains(&key)))
    }

    fn landed_now(&self) -> Result<HashSet<Key>> {
        let tip = |branch: &str| -> Result<Option<Oid>> {
            let name = format!("refs/heads/{branch}");
            match self.updates.iter().find(|u| u.name == name) {
                Some(u) => Ok(u.new),
                None => self.history.resolve(&name),
            }
        };
        let plan = match self.head.as_deref().map(tip).transpose()?.flatten() {
            Some(at) => plan_at(&self.history, at)?,
            None => Plan::default(),
        };
        let mut tips = Vec::new();
        for branch in self.targets(&plan) {
            tips.extend(tip(&branch)?);
        }
        landing::landed_on(&self.history, &tips)
    }

    /// Every update under `refs/kitty/`.
    fn state_refs(&mut self, updates: &[&Update]) -> Result<()> {
        let mut named = Vec::new();
        for u in updates {
            match (store::parse_ref_name(&u.name), u.new) {
                // Not state: git kitty never writes it, so it may only go (damage an older
                // server let in).
                (None, None) => {}
                (None, Some(_)) => {
                    return Err(Error::refused(format!(
                        "refusing {}: the only refs under refs/kitty/ are state refs, refs/kitty/wp/<feature>/<WP>",
                        u.name
                    ))
                    .hint("git kitty writes nothing else there; a ref of your own belongs outside refs/kitty/"));
                }
                (Some((f, w)), None) => {
                    return Err(Error::refused(format!(
                        "refusing to delete {}: state refs keep the history of every claim and move",
                        u.name
                    ))
                    .hint(format!(
                        "a damaged state ref is replaced by `git kitty repair {w} -f {f}`"
                    )));
                }
                (Some((f, w)), Some(new)) => named.push((*u, f, w, new)),
            }
        }
        if named.is_empty() {
            return Ok(());
        }
        let ids: Vec<Oid> = named
            .iter()
            .flat_map(|(u, .., new)| [Some(*new), u.old].into_iter().flatten())
            .collect();
        let kinds: HashMap<Oid, Option<ObjectKind>> = ids
            .iter()
            .copied()
            .zip(self.history.object_kinds(&ids)?)
            .collect();
        for (u, _, _, new) in &named {
            let kind = kinds.get(new).copied().flatten();
            if kind != Some(ObjectKind::Commit) {
                return Err(Error::refused(format!(
                    "refusing {}: it points at {}, not a state commit",
                    u.name,
                    kind.map_or("nothing".into(), |k| format!("a {}", k.as_str()))
                ))
                .hint("state refs are written by git kitty (`git kitty lane`, `note`, `merge`, `push`)"));
            }
        }
        // What the push brings to state refs, all at once: reachable from a new value and from
        // no old one.
        let news: Vec<Oid> = named.iter().map(|n| n.3).collect();
        let olds: Vec<Oid> = named
            .iter()
            .filter_map(|(u, ..)| u.old)
            .filter(|o| kinds.get(o).copied().flatten() == Some(ObjectKind::Commit))
            .collect();
        let brought = self.history.rev_list(&news, &olds)?;
        let mut src = Received::new(hook_env::history());
        src.prefetch(&brought)?;
        for (u, f, w, new) in named {
            self.state_ref(&mut src, &brought, u, (&f, &w), new)?;
        }
        Ok(())
    }

    /// One state ref moving to `new` (a commit).
    fn state_ref(
        &mut self,
        src: &mut Received,
        brought: &[Oid],
        u: &Update,
        (f, w): (&FeatureSlug, &WpId),
        new: Oid,
    ) -> Result<()> {
        let (mine, boundary) = src.within(new, brought)?;
        // What the walk reached outside what the push brings is this ref's old value; else
        // (a commit another updated ref already had) this ref's own share is read exactly.
        let exact = boundary.iter().all(|b| Some(*b) == u.old);
        let Some(old) = u.old else {
            let ids = if exact { mine } else { src.only_in(new, None)? };
            self.check(src, (f, w), &ids)?;
            return Ok(());
        };
        if boundary.contains(&old) || hook_env::is_ancestor(old, new)? {
            let ids = if exact {
                mine
            } else {
                src.only_in(new, Some(old))?
            };
            self.check(src, (f, w), &ids)?;
            return Ok(());
        }
        // Not a fast-forward: only a repair of a damaged value, and its whole history is
        // checked (what it keeps of the old one included).
        let all = src.only_in(new, None)?;
        let facts = self.check(src, (f, w), &all)?;
        if !facts.replaces.contains(&old.to_string()) {
            return Err(rewrite_refused(&u.name));
        }
        self.damaged(src, (f, w), &u.name, old)
    }

    /// Check `ids` (parents first) as new commits of `f`/`w`'s history.
    fn check(
        &mut self,
        src: &mut Received,
        (f, w): (&FeatureSlug, &WpId),
        ids: &[Oid],
    ) -> Result<verify::Facts> {
        let name = store::ref_name(f, w);
        let mut landed = || self.has_landed(f, w);
        let mut subject = Subject {
            feature: f,
            wp: w,
            landed: &mut landed,
        };
        match verify::check_new(src, &mut subject, ids)? {
            Ok(facts) => Ok(facts),
            Err(finding) => Err(flawed(&name, f, w, &finding)),
        }
    }

    /// A repair replaces `old` only when it is damaged, by this server's own judgement.
    fn damaged(
        &mut self,
        src: &mut Received,
        (f, w): (&FeatureSlug, &WpId),
        name: &str,
        old: Oid,
    ) -> Result<()> {
        let mut landed = || self.has_landed(f, w);
        let mut subject = Subject {
            feature: f,
            wp: w,
            landed: &mut landed,
        };
        let judged = verify::judge(src, &mut subject, old)?;
        match judged.flaw {
            None => Err(rewrite_refused(name)),
            Some(finding) if finding.flaw.is_newer() => Err(Error::refused(format!(
                "refusing to replace {name}: {}",
                finding.describe(f, w)
            ))
            .hint("it is a newer git kitty's live state: upgrade git kitty on this server, never replace it")),
            Some(_) => Ok(()),
        }
    }
}

fn rewrite_refused(name: &str) -> Error {
    Error::refused(format!(
        "refusing to rewrite {name}: the update drops events the server has"
    ))
    .hint("`git kitty pull` merges the server's events with yours; then push again")
}

/// The refusal of a flawed history, with the way out that fits the flaw.
fn flawed(name: &str, f: &FeatureSlug, w: &WpId, finding: &Finding) -> Error {
    let err = Error::refused(format!("refusing {name}: {}", finding.describe(f, w)));
    match &finding.flaw {
        // "First" is not enough when review is required and this server has not seen the
        // approval: it refuses the work alone too. One push of both always works.
        verify::Flaw::NotLanded => err.hint(format!(
            "push the target branch with the work in the same push as the state (`git push <remote> <target> {name}`)"
        )),
        flaw if flaw.is_newer() => err.hint(
            "this server runs an older git kitty than the client that wrote it: upgrade it",
        ),
        _ => err.hint(format!(
            "state is written by git kitty, each event checked by the lane rules; `git kitty repair {w} -f {f}` replaces a damaged history"
        )),
    }
}

/// Commits as the hook sees them (quarantined objects included), read in batches.
struct Received {
    history: History,
    cache: HashMap<Oid, Option<CommitData>>,
}

impl Received {
    fn new(history: History) -> Received {
        Received {
            history,
            cache: HashMap::new(),
        }
    }

    /// Read `ids` and their parents (one or two `git cat-file --batch`).
    fn prefetch(&mut self, ids: &[Oid]) -> Result<()> {
        for _ in 0..2 {
            let missing: Vec<Oid> = ids
                .iter()
                .copied()
                .chain(
                    self.cache
                        .values()
                        .flatten()
                        .flat_map(|c| c.parents.iter().copied()),
                )
                .filter(|id| !self.cache.contains_key(id))
                .collect::<HashSet<Oid>>()
                .into_iter()
                .collect();
            if missing.is_empty() {
                break;
            }
            let read = self.history.read_commits(&missing)?;
            self.cache.extend(missing.into_iter().zip(read));
        }
        Ok(())
    }

    /// Of `brought` (parents first), those reachable from `tip` (in that order), and the
    /// commits outside `brought` their walk reaches: the ref's earlier history, or another's.
    fn within(&mut self, tip: Oid, brought: &[Oid]) -> Result<(Vec<Oid>, HashSet<Oid>)> {
        let set: HashSet<Oid> = brought.iter().copied().collect();
        let mut reached = HashSet::new();
        let mut boundary = HashSet::new();
        let mut stack = vec![tip];
        while let Some(id) = stack.pop() {
            if !set.contains(&id) {
                boundary.insert(id);
                continue;
            }
            if reached.insert(id)
                && let Some(c) = self.commit(id)?
            {
                stack.extend(c.parents);
            }
        }
        let mine = brought
            .iter()
            .copied()
            .filter(|id| reached.contains(id))
            .collect();
        Ok((mine, boundary))
    }
}

impl Commits for Received {
    fn commit(&mut self, id: Oid) -> Result<Option<CommitData>> {
        if !self.cache.contains_key(&id) {
            let read = self.history.read_commits(&[id])?;
            self.cache.insert(id, read.into_iter().next().flatten());
        }
        Ok(self.cache.get(&id).cloned().flatten())
    }

    fn only_in(&mut self, tip: Oid, not: Option<Oid>) -> Result<Vec<Oid>> {
        let ids = self.history.rev_list(&[tip], not.as_slice())?;
        self.prefetch(&ids)?;
        Ok(ids)
    }
}
