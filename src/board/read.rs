//! The board as a workspace has it now: the plan, the state refs, what git says about branches
//! and worktrees, and how state compares with a remote. `status` and `next` both start here.

use std::collections::HashMap;

use super::{Board, FeatureBoard, RemoteSummary, feature_board};
use crate::error::Result;
use crate::model::plan::Feature;
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

/// Read the board of `features`. `all`: they are every feature, so every state ref is read and
/// problems that belong to no feature are shown too.
pub fn read<'w>(ws: &'w Workspace, features: Vec<&'w Feature>, all: bool) -> Result<Snapshot<'w>> {
    let (states, state_problems) = ws.read_states((!all).then_some(&features[..]))?;
    let mut boards: Vec<FeatureBoard> = features
        .iter()
        .map(|f| feature_board(f, &ws.lanes_with_runtime(f, &states, &state_problems)))
        .collect();
    let marked = crate::state::lost::marked(&ws.repo)?;
    for (f, b) in features.iter().zip(boards.iter_mut()) {
        // The board names each WP by its id (`feature_board`): the ambiguous ones get more.
        for (w, view) in f.wps.iter().zip(b.work_packages.iter_mut()) {
            if ws.id_is_ambiguous(f, &w.id) {
                view.arg = ws.wp_arg(f, &w.id);
            }
        }
        super::lost::mark(ws, f, &marked, &states, b)?;
        super::landed::mark(ws, f, &states, b)?;
    }
    let problems = ws
        .plan
        .problems
        .iter()
        .chain(state_problems.iter())
        .filter(|p| match &p.feature {
            Some(slug) => features.iter().any(|f| f.slug.as_str() == slug),
            None => all,
        })
        .cloned()
        .collect();
    Ok(Snapshot {
        features,
        board: Board {
            schema: 1,
            features: boards,
            problems,
        },
        states,
    })
}

/// What `git kitty status` shows (and the dashboard serves): [`read`], then compared with
/// the configured remote's last fetched state when there is such a remote.
pub fn read_with_remote<'w>(
    ws: &'w Workspace,
    features: Vec<&'w Feature>,
    all: bool,
) -> Result<Snapshot<'w>> {
    let mut snapshot = read(ws, features, all)?;
    if let Ok(remote) = remote_name(&ws.repo, None) {
        snapshot.compare_with_remote(ws, &remote)?;
        if never_fetched(&ws.repo, &remote)? {
            for b in &mut snapshot.board.features {
                b.unfetched_remote = Some(remote.clone());
            }
        }
    }
    Ok(snapshot)
}

impl Snapshot<'_> {
    /// Fill in how each WP's state compares with `remote`'s last fetched state.
    pub fn compare_with_remote(&mut self, ws: &Workspace, remote: &str) -> Result<()> {
        let relations = relations(&ws.repo, remote)?;
        for (f, b) in self.features.iter().zip(self.board.features.iter_mut()) {
            if let Some(rels) = relations.get(&f.slug) {
                compare_feature(remote, rels, b);
            }
        }
        Ok(())
    }
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
