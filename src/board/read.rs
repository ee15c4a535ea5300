//! The board as a workspace has it now: the plan, the state refs, what git says about branches
//! and worktrees, and how state compares with a remote. `status` and `next` both start here.

use std::collections::{HashMap, HashSet};

use super::{Board, FeatureBoard, RemoteSummary, feature_board};
use crate::error::Result;
use crate::model::ids::{FeatureSlug, WpId};
use crate::model::plan::Feature;
use crate::model::problem::Problem;
use crate::state::lane_info::LaneInfo;
use crate::state::relation::{Relation, never_fetched, relations, remote_name};
use crate::state::store::States;
use crate::workspace::Workspace;

/// The boards of some features, with the state they were computed from.
pub struct Snapshot<'w> {
    pub features: Vec<&'w Feature>,
    /// One [`FeatureBoard`] per feature, in the same order, and the problems that concern them.
    pub board: Board,
    pub states: States,
}

/// How each WP's state compares with a remote's, by feature and WP id.
type Relations = HashMap<FeatureSlug, HashMap<String, Relation>>;

/// What the boards of some features are computed from besides the plan, read once for all
/// of them.
pub struct Sources {
    pub states: States,
    /// The features with any state.
    stated: HashSet<FeatureSlug>,
    state_problems: Vec<Problem>,
    /// The WPs with a lost-claim marker, by feature.
    marked: HashMap<FeatureSlug, Vec<WpId>>,
    /// The remote compared with, and how each WP's state compares with its last fetched state.
    remote: Option<(String, Relations)>,
    /// The remote whose state was never fetched.
    unfetched: Option<String>,
}

impl Sources {
    /// Read them. `all`: every state ref (the features are all of them); `with_remote`: compare
    /// with the configured remote, if there is one.
    pub fn read(
        ws: &Workspace,
        features: &[&Feature],
        all: bool,
        with_remote: bool,
    ) -> Result<Sources> {
        let (states, state_problems) = ws.read_states((!all).then_some(features))?;
        let marked = crate::state::lost::marked(&ws.repo)?;
        let stated = states.keys().map(|(slug, _)| slug.clone()).collect();
        let mut sources = Sources {
            states,
            stated,
            state_problems,
            marked,
            remote: None,
            unfetched: None,
        };
        if with_remote && let Ok(remote) = remote_name(&ws.repo, None) {
            let relations = relations(&ws.repo, &remote)?;
            if never_fetched(&ws.repo, &remote)? {
                sources.unfetched = Some(remote.clone());
            }
            sources.remote = Some((remote, relations));
        }
        Ok(sources)
    }

    /// Whether nothing but `feature` itself and [`Self::unfetched`] decides its board: no
    /// state, no unreadable state, no lost claim, nothing to compare with a remote.
    pub fn only_the_plan(&self, feature: &Feature) -> bool {
        let slug = &feature.slug;
        !self.stated.contains(slug)
            && !self
                .state_problems
                .iter()
                .any(|p| p.feature.as_deref() == Some(slug.as_str()))
            && !self.marked.contains_key(slug)
            && self
                .remote
                .as_ref()
                .is_none_or(|(_, r)| r.get(slug).is_none_or(HashMap::is_empty))
    }

    /// The remote never fetched from, if any (every feature's board names it).
    pub fn unfetched(&self) -> Option<&str> {
        self.unfetched.as_deref()
    }

    /// The board of a feature for which [`Self::only_the_plan`] holds: [`Self::board`]'s, but
    /// every WP's `arg` is its id (the text board names a WP whose id another feature shares
    /// with `--feature`; the JSON has no `arg`). It needs nothing but the feature, so any
    /// number are built at once.
    pub fn plan_board(&self, f: &Feature) -> FeatureBoard {
        let lanes: Vec<LaneInfo> = f.wps.iter().map(|w| LaneInfo::from_plan(f, w)).collect();
        let mut b = feature_board(f, &lanes);
        b.unfetched_remote.clone_from(&self.unfetched);
        b
    }

    /// The board of one feature.
    pub fn board(&self, ws: &Workspace, f: &Feature) -> Result<FeatureBoard> {
        let lanes = ws.lanes_with_runtime(f, &self.states, &self.state_problems);
        let mut b = feature_board(f, &lanes);
        // The board names each WP by its id (`feature_board`): the ambiguous ones get more.
        for (w, view) in f.wps.iter().zip(b.work_packages.iter_mut()) {
            if ws.id_is_ambiguous(f, &w.id) {
                view.arg = ws.wp_arg(f, &w.id);
            }
        }
        super::lost::mark(ws, f, &self.marked, &self.states, &mut b)?;
        super::landed::mark(ws, f, &self.states, &mut b)?;
        if let Some((remote, relations)) = &self.remote
            && let Some(rels) = relations.get(&f.slug)
        {
            compare_feature(remote, rels, &mut b);
        }
        b.unfetched_remote.clone_from(&self.unfetched);
        Ok(b)
    }

    /// The problems shown with the boards of `features`: theirs, and with `all` those that
    /// belong to no feature.
    pub fn problems(&self, ws: &Workspace, features: &[&Feature], all: bool) -> Vec<Problem> {
        // A set: a plan with many problems and many features made this quadratic.
        let shown: HashSet<&str> = features.iter().map(|f| f.slug.as_str()).collect();
        ws.plan
            .problems
            .iter()
            .chain(self.state_problems.iter())
            .filter(|p| match &p.feature {
                Some(slug) => shown.contains(slug.as_str()),
                None => all,
            })
            .cloned()
            .collect()
    }
}

/// Read the board of `features`. `all`: they are every feature, so every state ref is read and
/// problems that belong to no feature are shown too.
pub fn read<'w>(ws: &'w Workspace, features: Vec<&'w Feature>, all: bool) -> Result<Snapshot<'w>> {
    snapshot(ws, features, all, false)
}

/// What `git kitty status` shows (and the dashboard serves): [`read`], then compared with
/// the configured remote's last fetched state when there is such a remote.
pub fn read_with_remote<'w>(
    ws: &'w Workspace,
    features: Vec<&'w Feature>,
    all: bool,
) -> Result<Snapshot<'w>> {
    snapshot(ws, features, all, true)
}

fn snapshot<'w>(
    ws: &'w Workspace,
    features: Vec<&'w Feature>,
    all: bool,
    with_remote: bool,
) -> Result<Snapshot<'w>> {
    let sources = Sources::read(ws, &features, all, with_remote)?;
    let boards = features
        .iter()
        .map(|f| sources.board(ws, f))
        .collect::<Result<Vec<_>>>()?;
    let problems = sources.problems(ws, &features, all);
    Ok(Snapshot {
        features,
        board: Board {
            schema: super::SCHEMA,
            features: boards,
            problems,
        },
        states: sources.states,
    })
}

/// Fill in how each WP of a feature (its `board`) compares with `remote`'s last fetched state.
fn compare_feature(remote: &str, relations: &HashMap<String, Relation>, board: &mut FeatureBoard) {
    if relations.is_empty() {
        return;
    }
    let mut summary = RemoteSummary {
        name: remote.to_owned(),
        ..Default::default()
    };
    for (wp, rel) in relations {
        match rel {
            Relation::InSync => summary.in_sync += 1,
            Relation::Ahead => summary.ahead += 1,
            Relation::Behind => summary.behind += 1,
            Relation::Diverged => summary.diverged += 1,
            Relation::LocalOnly => summary.local_only += 1,
            Relation::RemoteOnly => summary.remote_only += 1,
        }
        if let Some(view) = board.work_packages.iter_mut().find(|v| &v.id == wp) {
            view.sync = Some(*rel);
        }
    }
    board.remote = Some(summary);
}
