//! What the dashboard shows, computed once per change for every open page: the board (the
//! `status --json` document, from the same [`board::read_with_remote`] as `status`), and
//! around it the dependency graph with its critical path, the latest review feedback, the
//! activity feed and the agents at work. docs/json.md documents it.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::board::{self, Board, FeatureBoard};
use crate::error::Result;
use crate::git::Oid;
use crate::model::ids::{FeatureSlug, WpId};
use crate::model::lane::Lane;
use crate::model::plan::Feature;
use crate::state::activity::{self, Activity, Entry, Feed};
use crate::state::schema::EventKind;
use crate::workspace::Workspace;

/// How many events of the activity feed a page gets.
pub const FEED_LENGTH: usize = 60;

/// The board's inputs, read again on every change. Histories are cached by state commit.
pub struct Source {
    cwd: PathBuf,
    feed: Feed,
}

/// One computation: the board alone (`/api/board`) and the page's whole document.
pub struct Computed {
    /// The `status --json` document, as `status --json` prints it.
    pub board: String,
    /// [`Document`]'s fields, without its version and time (the caller adds them when it
    /// differs from the previous one).
    pub document: serde_json::Map<String, serde_json::Value>,
}

/// The page's document (docs/json.md, `git kitty dashboard`).
#[derive(Serialize)]
struct Document<'a> {
    repository: String,
    board: &'a Board,
    /// Per feature, in the board's order: what the page draws besides the columns.
    features: Vec<Extras>,
    activity: Vec<Entry<'a>>,
    agents: Vec<Agent>,
}

#[derive(Serialize)]
struct Extras {
    slug: String,
    graph: Graph,
    /// The latest review feedback of each WP sent back from review (`has_feedback`).
    feedback: BTreeMap<String, Feedback>,
}

#[derive(Serialize)]
struct Graph {
    /// Each WP's level: the length of the longest chain of dependencies below it.
    levels: BTreeMap<String, usize>,
    /// `[dependency, dependent]`, without the edges other edges imply.
    edges: Vec<[String; 2]>,
    /// The chain of not-yet-done WPs that takes longest, dependencies first.
    critical_path: Vec<String>,
}

#[derive(Serialize)]
struct Feedback {
    note: String,
    actor: String,
    at: String,
}

/// Someone holding WPs now: implementing (claimed, in progress) or reviewing (in review).
#[derive(Serialize)]
struct Agent {
    name: String,
    work_packages: Vec<Held>,
    /// Time of this agent's latest event, when the feed has one.
    last_event_at: Option<String>,
}

#[derive(Serialize)]
struct Held {
    feature: String,
    wp: String,
    lane: Lane,
}

impl Source {
    pub fn new(cwd: &Path) -> Source {
        Source {
            cwd: cwd.to_path_buf(),
            feed: Feed::default(),
        }
    }

    /// Read the workspace and compute both documents.
    pub fn compute(&mut self) -> Result<Computed> {
        let ws = Workspace::open(&self.cwd, None)?;
        let features: Vec<&Feature> = ws.plan.features.iter().collect();
        let snapshot = board::read_with_remote(&ws, features, true)?;
        let in_plan = |f: &FeatureSlug, w: &WpId| ws.plan.feature(f.as_str())?.wp(w).map(|_| ());
        let mut tips: Vec<(FeatureSlug, WpId, Oid)> = snapshot
            .states
            .iter()
            .filter(|((f, w), _)| in_plan(f, w).is_some())
            .map(|((f, w), tip)| (f.clone(), w.clone(), tip.commit))
            .collect();
        tips.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        // A damaged ref is already a problem on the board; its history is left out.
        let (feed, _unreadable) = self.feed.update(&ws.repo, &tips);
        let refused = activity::refused(&feed);
        let document = Document {
            repository: repository_name(&ws),
            features: snapshot
                .features
                .iter()
                .zip(&snapshot.board.features)
                .map(|(f, b)| extras(f, b, &feed))
                .collect(),
            activity: feed
                .iter()
                .take(FEED_LENGTH)
                .map(|a| a.entry(&refused))
                .collect(),
            agents: agents(&snapshot.board, &feed),
            board: &snapshot.board,
        };
        let document = match serde_json::to_value(&document) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        let mut board = serde_json::to_string_pretty(&snapshot.board).unwrap_or_default();
        board.push('\n');
        Ok(Computed { board, document })
    }
}

/// The main worktree's folder name: what people call the repository.
fn repository_name(ws: &Workspace) -> String {
    ws.plan_root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn extras(feature: &Feature, board: &FeatureBoard, feed: &[Activity]) -> Extras {
    let graph = feature.graph();
    let levels = graph.levels();
    let ids: Vec<String> = feature.wps.iter().map(|w| w.id.to_string()).collect();
    let lane_of = |i: usize| board.work_packages.get(i).map(|v| v.lane);
    let remaining = |i: usize| u32::from(!matches!(lane_of(i), Some(Lane::Done | Lane::Canceled)));
    let mut edges = Vec::new();
    for i in 0..graph.len() {
        for d in graph.direct_deps(i) {
            edges.push([ids[d].clone(), ids[i].clone()]);
        }
    }
    let sent_back: HashSet<&str> = board
        .work_packages
        .iter()
        .filter(|v| {
            v.state
                .as_ref()
                .is_some_and(|s| s["review_status"] == "has_feedback")
        })
        .map(|v| v.id.as_str())
        .collect();
    let mut feedback = BTreeMap::new();
    for a in feed.iter().filter(|a| a.feature == feature.slug) {
        let e = &a.event;
        let from_review = matches!(e.from, Some(Lane::ForReview | Lane::InReview));
        if e.kind == EventKind::Lane
            && from_review
            && sent_back.contains(a.wp.as_str())
            && !feedback.contains_key(a.wp.as_str())
            && let Some(note) = &e.note
        {
            feedback.insert(
                a.wp.to_string(),
                Feedback {
                    note: note.clone(),
                    actor: e.actor.clone(),
                    at: e.at.clone(),
                },
            );
        }
    }
    Extras {
        slug: feature.slug.to_string(),
        graph: Graph {
            levels: ids.iter().cloned().zip(levels).collect(),
            edges,
            critical_path: graph
                .critical_path(remaining)
                .into_iter()
                .map(|i| ids[i].clone())
                .collect(),
        },
        feedback,
    }
}

/// Who holds WPs now, the most recently active first.
fn agents(board: &Board, feed: &[Activity]) -> Vec<Agent> {
    let mut by_name: BTreeMap<String, Vec<Held>> = BTreeMap::new();
    for f in &board.features {
        for v in &f.work_packages {
            let who = match v.lane {
                Lane::Claimed | Lane::InProgress => v.agent.as_ref(),
                Lane::InReview => v.reviewer.as_ref().or(v.agent.as_ref()),
                _ => None,
            };
            if let Some(who) = who {
                by_name.entry(who.clone()).or_default().push(Held {
                    feature: f.slug.clone(),
                    wp: v.id.clone(),
                    lane: v.lane,
                });
            }
        }
    }
    // The feed is newest first: an agent's first event in it is its latest.
    let latest = |name: &str| feed.iter().position(|a| a.event.actor == name);
    let mut agents: Vec<(Option<usize>, Agent)> = by_name
        .into_iter()
        .map(|(name, work_packages)| {
            let at = latest(&name);
            let agent = Agent {
                last_event_at: at.map(|i| feed[i].event.at.clone()),
                name,
                work_packages,
            };
            (at, agent)
        })
        .collect();
    // Most recently active first (in the feed's order); agents without events last, by name.
    agents.sort_by_key(|(at, _)| at.unwrap_or(usize::MAX));
    agents.into_iter().map(|(_, a)| a).collect()
}
