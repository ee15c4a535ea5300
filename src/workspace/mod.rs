//! The workspace a command runs in: the repository, the plan read from it, and the rules
//! that say which feature and WP a command means when the user did not say.
//!
//! The plan is read from the **main worktree** even when git kitty runs in a linked one (a
//! WP's worktree): every worktree of a clone then sees one plan, the one being coordinated,
//! not the copy frozen in a WP branch. A bare repository has no working tree; its plan is read
//! from the target branch (used by the server hook).

pub mod branches;
pub mod plan_cache;
pub mod plan_files;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::git::Repo;
use crate::model::ids::{FeatureSlug, WpId};
use crate::model::lane::Lane;
use crate::model::plan::{
    Feature, FeatureListing, FileJob, FileKind, FileRead, Plan, SPECS_DIR, file_jobs, read_file,
    text_of,
};
use crate::model::spec_kitty;
use crate::state::lane_info::LaneInfo;
use crate::state::schema::WpState;
use crate::util::cache_file::content_hash;
use crate::util::hash::FxHashMap;
use crate::util::parallel::for_each_in_parallel;
use plan_cache::{Hashed, Loaded, PlanCache, Prefix, Stamp};

pub struct Workspace {
    pub repo: Repo,
    /// Where the plan was read from (the main worktree's top).
    pub plan_root: PathBuf,
    pub plan: Plan,
    /// The directory the command was started in.
    pub cwd: PathBuf,
    /// Every folder under `kitty-specs/`, loaded or not (for "did you mean" hints).
    pub feature_names: Vec<String>,
    /// The features that came whole from the plan cache (none of their files changed), each
    /// with the key of its cache section: what is computed from such a feature alone can be
    /// kept under that key (`render::status_json`).
    pub unchanged: FxHashMap<String, u64>,
    /// How many features have a WP of each number ([`Self::wp_arg`]), counted once when first
    /// needed: a search of every feature per WP made the board quadratic (half of a warm
    /// `status` on 2,537 WPs).
    features_by_wp_number: std::cell::OnceCell<HashMap<u32, u32>>,
}

impl Workspace {
    /// Open the repository around `cwd` and read the plan (one feature only with `only`).
    pub fn open(cwd: &Path, only: Option<&FeatureSlug>) -> Result<Workspace> {
        let repo = Repo::discover(cwd)?;
        let plan_root = repo
            .main_workdir()
            .or(repo.workdir())
            .ok_or_else(|| {
                Error::usage(
                    "this is a bare repository: there is no working tree to read a plan from",
                )
                .hint("run git kitty in a clone with a working tree")
            })?
            .to_path_buf();
        let cache_file = plan_cache::file(repo.common_dir());
        let listed = plan_files::list(
            &plan_root,
            repo.common_dir(),
            only.map(FeatureSlug::as_str),
            &|feature| cache_file.get(feature).is_some(),
        );
        let mut problems = listed.problems;
        let (mut plan, unchanged) = load_plan(
            cache_file,
            &plan_root,
            listed.listings,
            &listed.stamps,
            only.is_none(),
        );
        problems.append(&mut plan.problems);
        plan.problems = problems;
        crate::model::problem::sort(&mut plan.problems);
        let feature_names = listed.feature_names;
        Ok(Workspace {
            repo,
            plan_root,
            plan,
            cwd: std::path::absolute(cwd).unwrap_or_else(|_| cwd.to_path_buf()),
            feature_names,
            unchanged,
            features_by_wp_number: std::cell::OnceCell::new(),
        })
    }

    /// The feature the current directory implies: inside a WP's worktree (its branch is
    /// `<feature>-WPnn`), or inside `kitty-specs/<feature>/` of the main worktree.
    pub fn implied_feature(&self) -> Option<&Feature> {
        if let Some(branch) = self.repo.current_branch()
            && let Some((feature, _)) = self.split_wp_branch(&branch)
        {
            return Some(feature);
        }
        let specs = self.plan_root.join(SPECS_DIR);
        let cwd = std::fs::canonicalize(&self.cwd).unwrap_or_else(|_| self.cwd.clone());
        let rel = cwd.strip_prefix(&specs).ok()?;
        let first = rel.components().next()?.as_os_str().to_str()?;
        self.plan.feature(first)
    }

    /// The WP a command names, as typed (`WP1`, `wp01`): parsed, found in the named feature
    /// or else in exactly one, and returned as the plan spells it (`WP01`).
    pub fn resolve_wp(&self, typed: &str, named: Option<&FeatureSlug>) -> Result<(&Feature, WpId)> {
        let wp: WpId = typed
            .parse()
            .map_err(|why: String| Error::usage(why).hint("work package ids look like WP01"))?;
        let feature = self.feature_of_wp(&wp, named)?;
        let wp = feature
            .index_of(&wp)
            .map_or(wp, |i| feature.wps[i].id.clone());
        Ok((feature, wp))
    }

    /// [`Workspace::resolve_wp`] when a WP is named; else the WP whose worktree the command
    /// runs in. `example` is the command line the error suggests (`git kitty restack WP02`).
    pub fn resolve_wp_or_here(
        &self,
        typed: Option<&str>,
        named: Option<&FeatureSlug>,
        example: &str,
    ) -> Result<(&Feature, WpId)> {
        match typed {
            Some(t) => self.resolve_wp(t, named),
            None => self.implied_wp().ok_or_else(|| {
                Error::usage("which work package? Name it, or run this inside its worktree")
                    .hint(example.to_owned())
            }),
        }
    }

    /// Inside a WP's worktree, the agent the WP's state records as its holder (the reviewer
    /// while it is in review, whose worktree `review` made), else its implementer: agents
    /// commit with the machine's git identity, so the worktree, not `user.name`, says who
    /// works there. Read from the state (one ref), so a takeover with `--force` moves it too.
    fn worktree_agent(&self) -> Option<String> {
        let (feature, wp) = self.implied_wp()?;
        let tip = crate::state::store::read(&self.repo, &feature.slug, &wp).ok()??;
        // A worktree left here by a claim that lost to another machine's is that agent's, not
        // the winner's: nothing run in it acts for the winner.
        if let Ok(Some(lost)) = crate::state::lost::read(&self.repo, &feature.slug, &wp, tip.commit)
        {
            return Some(lost.agent);
        }
        tip.state.holder().map(str::to_owned).or(tip.state.agent)
    }

    /// How a command line names this WP so that it works from anywhere: `WP01`, or
    /// `WP01 --feature 001-auth` when another feature has a WP with that id (or may have:
    /// a workspace opened for one feature did not read the others).
    pub fn wp_arg(&self, feature: &Feature, wp: &WpId) -> String {
        if self.id_is_ambiguous(feature, wp) {
            format!("{wp} --feature {}", feature.slug)
        } else {
            wp.to_string()
        }
    }

    /// Whether `wp` alone may name a WP of another feature than `feature` ([`Self::wp_arg`]).
    pub fn id_is_ambiguous(&self, feature: &Feature, wp: &WpId) -> bool {
        let narrowed = self.plan.features.len() < self.feature_names.len();
        // Features with a WP that `wp` finds (`Feature::wp`: the same number), but this one.
        let having = self.features_by_wp_number().get(&wp.number()).copied();
        let others = having
            .unwrap_or(0)
            .saturating_sub(u32::from(feature.wp(wp).is_some()));
        others > 0 || narrowed
    }

    /// How many features have a WP of each number.
    fn features_by_wp_number(&self) -> &HashMap<u32, u32> {
        self.features_by_wp_number.get_or_init(|| {
            let mut counts = HashMap::new();
            for f in &self.plan.features {
                let numbers: HashSet<u32> = f.wps.iter().map(|w| w.id.number()).collect();
                for n in numbers {
                    *counts.entry(n).or_insert(0) += 1;
                }
            }
            counts
        })
    }

    /// `err` with each `git kitty <command> WPnn` of its hints naming `feature` where the id
    /// alone would be ambiguous ([`Self::wp_arg`]): the failing code knows the WP by id only,
    /// the command knows which feature the run is about.
    pub fn qualify_hints(&self, feature: &Feature, err: Error) -> Error {
        err.map_hints(|h| qualify_hint(h, &|id| self.wp_arg(feature, id)))
    }

    /// The WP whose worktree the command runs in, if any.
    pub fn implied_wp(&self) -> Option<(&Feature, WpId)> {
        let branch = self.repo.current_branch()?;
        self.split_wp_branch(&branch)
    }

    /// `001-auth-WP02` -> (feature 001-auth, WP02), when that feature exists.
    pub fn split_wp_branch(&self, branch: &str) -> Option<(&Feature, WpId)> {
        let (feature, wp) = branch.rsplit_once('-')?;
        let wp = WpId::from_str(wp).ok()?;
        if !wp.as_str().starts_with("WP") || !branch.ends_with(wp.as_str()) {
            return None;
        }
        Some((self.plan.feature(feature)?, wp))
    }

    /// The state tips of `features`' WPs (every feature with `None`), with problems about
    /// unusable refs.
    pub fn read_states(
        &self,
        features: Option<&[&Feature]>,
    ) -> Result<(States, Vec<crate::model::problem::Problem>)> {
        let slugs: Option<Vec<&FeatureSlug>> =
            features.map(|fs| fs.iter().map(|f| &f.slug).collect());
        crate::state::store::read_all(&self.repo, slugs.as_deref())
    }

    /// The lanes of a feature's WPs (in `feature.wps` order): state refs first, else the plan.
    pub fn lanes(&self, feature: &Feature, states: &States) -> Vec<LaneInfo> {
        feature
            .wps
            .iter()
            .map(|w| LaneInfo::of(feature, w, state_of(states, feature, w)))
            .collect()
    }

    /// [`Self::lanes`] plus what git knows: stale bases, missing worktrees, and state refs
    /// that could not be read (`state_problems` from [`Self::read_states`]).
    pub fn lanes_with_runtime(
        &self,
        feature: &Feature,
        states: &States,
        state_problems: &[crate::model::problem::Problem],
    ) -> Vec<LaneInfo> {
        let mut lanes = self.lanes(feature, states);
        for (info, wp) in lanes.iter_mut().zip(&feature.wps) {
            info.runtime.state_unreadable = state_problems.iter().any(|p| {
                p.feature.as_deref() == Some(feature.slug.as_str())
                    && p.wp.as_deref() == Some(wp.id.as_str())
            });
        }
        for (info, wp) in lanes.iter_mut().zip(&feature.wps) {
            let Some(tip) = state_of(states, feature, wp) else {
                continue;
            };
            let s = &tip.state;
            if matches!(s.lane, Lane::Done | Lane::Canceled) {
                continue;
            }
            let at = self.worktree_at(s);
            info.runtime.worktree_missing = at == Some(branches::WorktreeAt::MissingHere);
            info.runtime.worktree_elsewhere = at == Some(branches::WorktreeAt::Elsewhere);
            if let Some(base) = &s.base {
                info.runtime.stale = crate::state::stale::staleness(&self.repo, base, |b| {
                    self.branch_oid_anywhere(b).ok().flatten()
                });
            }
        }
        lanes
    }

    /// The state names a worktree for work still going on (not done or canceled), and this
    /// clone made it but it is not there: a claim interrupted before its worktree was made, or
    /// a worktree deleted by hand. (One made on another machine is not missing:
    /// [`Self::worktree_at`].)
    pub fn worktree_missing(&self, state: &WpState) -> bool {
        self.worktree_at(state) == Some(branches::WorktreeAt::MissingHere)
    }

    /// The state a WP has before its first event: what the plan says.
    pub fn initial_state(&self, feature: &Feature, wp: &WpId) -> WpState {
        let (lane, agent) = match feature.wp(wp) {
            Some(w) => {
                let info = LaneInfo::from_plan(feature, w);
                (info.lane, info.agent)
            }
            None => (Lane::Planned, None),
        };
        WpState::initial(feature.slug.clone(), wp.clone(), lane, agent)
    }

    /// The lane a WP is in now: its state ref's, else what the plan says.
    pub fn current_lane(&self, feature: &Feature, wp: &WpId) -> Lane {
        match crate::state::store::read(&self.repo, &feature.slug, wp) {
            Ok(Some(tip)) => tip.state.lane,
            _ => self.initial_state(feature, wp).lane,
        }
    }

    /// Who is acting: `--agent`, else `KITTY_AGENT`, else (inside a WP's worktree) the WP's
    /// implementer, else git's `user.name`.
    pub fn actor(&self, explicit: Option<&str>) -> Result<String> {
        let from_env = std::env::var("KITTY_AGENT").ok();
        let name = explicit
            .map(str::to_owned)
            .or(from_env.filter(|v| !v.trim().is_empty()))
            .or_else(|| self.worktree_agent())
            .or_else(|| self.repo.config_string("user.name"));
        let Some(name) = name else {
            return Err(Error::usage(
                "who is acting? git kitty records an agent with every change",
            )
            .hint("pass `--agent <name>`, set KITTY_AGENT, or `git config user.name <name>`"));
        };
        validate_agent(&name)
    }

    /// The features a read command shows: the one named, else the implied one, else all.
    pub fn selected_features(&self, named: Option<&FeatureSlug>) -> Result<Vec<&Feature>> {
        match named {
            Some(slug) => Ok(vec![self.feature(slug)?]),
            None => Ok(match self.implied_feature() {
                Some(f) => vec![f],
                None => self.plan.features.iter().collect(),
            }),
        }
    }

    /// What `status` shows: every feature with `all`, else [`Self::selected_features`]; and
    /// whether that is every feature of the plan (then problems of no feature show too).
    pub fn shown_features(
        &self,
        named: Option<&FeatureSlug>,
        all: bool,
    ) -> Result<(Vec<&Feature>, bool)> {
        let features: Vec<&Feature> = if all {
            self.plan.features.iter().collect()
        } else {
            self.selected_features(named)?
        };
        let every = features.len() == self.plan.features.len() && named.is_none();
        Ok((features, every))
    }

    /// A feature by name, or a usage error that lists the ones that exist.
    pub fn feature(&self, slug: &FeatureSlug) -> Result<&Feature> {
        self.plan.feature(slug.as_str()).ok_or_else(|| {
            let known: Vec<&str> = self.feature_names.iter().map(String::as_str).collect();
            let err = Error::usage(format!("no feature `{slug}` in {SPECS_DIR}/"));
            if known.is_empty() {
                err.hint(format!(
                    "there are no features yet: WP files go in {SPECS_DIR}/<feature>/tasks/WP01-name.md"
                ))
            } else {
                err.hint(format!("features: {}", known.join(", ")))
            }
        })
    }

    /// Find the feature of a WP: `--feature` if given, else the implied feature, else the
    /// only feature that has such a WP.
    pub fn feature_of_wp(&self, wp: &WpId, named: Option<&FeatureSlug>) -> Result<&Feature> {
        if let Some(slug) = named {
            let f = self.feature(slug)?;
            return match f.wp(wp) {
                Some(_) => Ok(f),
                None => Err(unknown_wp(wp, f)),
            };
        }
        if let Some(f) = self.implied_feature()
            && f.wp(wp).is_some()
        {
            return Ok(f);
        }
        let with: Vec<&Feature> = self
            .plan
            .features
            .iter()
            .filter(|f| f.wp(wp).is_some())
            .collect();
        match with.as_slice() {
            [one] => Ok(one),
            [] => Err(Error::usage(format!("no work package {wp} in any feature"))
                .hint("`git kitty status` lists the work packages")),
            many => {
                let names: Vec<&str> = many.iter().map(|f| f.slug.as_str()).collect();
                let mut err = Error::usage(format!(
                    "{wp} exists in several features: {}",
                    names.join(", ")
                ));
                // One hint per feature, with the WP's title: which one is meant is the
                // user's call, not the alphabet's.
                for f in many {
                    let title = f.wp(wp).map_or("", |w| w.title.as_str());
                    err = err.hint(format!("`--feature {}` for {wp} {title}", f.slug));
                }
                Err(err)
            }
        }
    }
}

/// The state tip of a WP, if any. The key is built only when there are states to look in: a
/// plan with no state refs yet (a Spec Kitty repository) has thousands of WPs to ask about.
fn state_of<'a>(
    states: &'a States,
    feature: &Feature,
    wp: &crate::model::wp::WorkPackage,
) -> Option<&'a crate::state::store::Tip> {
    if states.is_empty() {
        return None;
    }
    states.get(&(feature.slug.clone(), wp.id.clone()))
}

/// Read the listed features' files through the plan cache: features none of whose files
/// changed as assembled before, unchanged files from the cache, event logs that only grew
/// from where the cache left them, the others read and parsed, in parallel, largest first.
/// `stamps` come from the listing; `complete`: every feature is listed.
fn load_plan(
    cache_file: crate::util::cache_file::Sections,
    root: &Path,
    listings: Vec<FeatureListing>,
    stamps: &[Vec<Option<Stamp>>],
    complete: bool,
) -> (Plan, FxHashMap<String, u64>) {
    let jobs = file_jobs(&listings);
    let stamps: Vec<Option<Stamp>> = jobs
        .iter()
        .map(|job| stamps[job.listing].get(job.file).copied().flatten())
        .collect();
    let mut cache = PlanCache::open(cache_file, &jobs, &stamps);
    let (reads, meta) = read_changed(root, &jobs, &stamps, &mut cache);
    let whole_job: Vec<bool> = jobs.iter().map(|j| cache.is_whole(j.listing)).collect();
    let mut whole = cache.take_whole();
    let keys = cache
        .unchanged_keys()
        .iter()
        .map(|(listing, key)| (listings[*listing].name.clone(), *key))
        .collect();
    let mut pending = cache.pending(&jobs, &reads, &meta, complete);
    drop(jobs);
    let reads = reads
        .into_iter()
        .zip(whole_job)
        .filter_map(|(read, whole)| (!whole).then_some(read));
    let plan = Plan::assemble_cached(
        listings,
        reads,
        &mut |listing| whole.remove(&listing),
        &mut |listing, assembled| pending.assembled(listing, assembled),
    );
    // Written while the command goes on with the plan (a first run's largest extra cost). A
    // thread is started only for that: its start and end cost more than a warm run saves.
    if pending.has_work() {
        crate::util::background::run(move || pending.save());
    }
    (plan, keys)
}

/// Each job's file as the cache has it or as read now (one slot per job; the jobs of
/// features that come whole from the cache get a stand-in, never used), and how it was had.
fn read_changed(
    root: &Path,
    jobs: &[FileJob],
    stamps: &[Option<Stamp>],
    cache: &mut PlanCache,
) -> (Vec<FileRead>, Vec<Loaded>) {
    let mut reads: Vec<FileRead> = Vec::with_capacity(jobs.len());
    let mut meta: Vec<Loaded> = Vec::with_capacity(jobs.len());
    // A cached prefix is rare (a long event log that grew): boxed, so that the list of the
    // files to read stays small (a first run lists every file).
    let mut misses: Vec<(usize, Option<Stamp>, Option<Box<Prefix>>)> = Vec::new();
    for (i, (job, stamp)) in jobs.iter().zip(stamps).enumerate() {
        let stamp = *stamp;
        let whole = cache.is_whole(job.listing);
        let (read, hash, cached) = match stamp.and_then(|s| cache.take(i, s)) {
            _ if whole => (FileRead::Meta(None), None, true),
            Some((read, hash)) => (read, hash, true),
            None => {
                let prefix = stamp
                    .filter(|_| job.kind == FileKind::Events)
                    .and_then(|s| cache.take_prefix(i, s))
                    .map(Box::new);
                misses.push((i, stamp, prefix));
                (FileRead::Meta(None), None, false)
            }
        };
        reads.push(read);
        meta.push(Loaded {
            stamp,
            hash,
            cached,
        });
    }
    // Event logs are the long jobs (megabytes of JSON): first, so no core waits at the end.
    // In place (a stable sort would allocate a copy of the list); the order of files of one
    // size does not matter.
    misses.sort_unstable_by_key(|(i, stamp, _)| {
        let events = jobs[*i].kind == FileKind::Events;
        (!events, std::cmp::Reverse(stamp.map_or(0, |s| s.size())))
    });
    let reading = Reading {
        root,
        dir: open_root(root),
        hashing: cache.enabled(),
    };
    let read = |(i, stamp, prefix): &(usize, Option<Stamp>, Option<Box<Prefix>>)| {
        reading.job(&jobs[*i], *stamp, prefix.as_deref())
    };
    // Each result goes straight to its job's slot (no list of results in order first).
    for_each_in_parallel(&misses, &read, |m, (read, hash, taken)| {
        let i = misses[m].0;
        reads[i] = read;
        meta[i].hash = hash;
        if taken.is_some() {
            meta[i].stamp = taken;
        }
    });
    (reads, meta)
}

/// How long an event log must be for a cache to keep what going on from it needs (the hash of
/// its bytes, a Bloom filter of its ids): a shorter one is replayed whole when it grows, in
/// a fraction of a millisecond, and a first run does not hash it (on the real-shaped plan,
/// 402 of 404 logs, 82 % of the bytes).
const CONTINUED_FROM: usize = 256 * 1024;

/// How the plan's files are read: relative to a handle on the working tree's top (shorter
/// lookups than full paths), and hashed only when a cache will keep the hash.
struct Reading<'a> {
    root: &'a Path,
    dir: Option<std::os::fd::OwnedFd>,
    hashing: bool,
}

fn open_root(root: &Path) -> Option<std::os::fd::OwnedFd> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    rustix::fs::open(root, flags, Mode::empty()).ok()
}

impl Reading<'_> {
    /// Read one file of the plan; an event log goes on from `prefix` when it only grew. With
    /// the length and hash of an event log's bytes.
    fn job(
        &self,
        job: &FileJob,
        stamp: Option<Stamp>,
        prefix: Option<&Prefix>,
    ) -> (FileRead, Option<Hashed>, Option<Stamp>) {
        thread_local! {
            /// Each thread reads into one buffer, grown to its largest file: fresh buffers
            /// per file cost the kernel ~12,000 zeroed pages on a cold run (51 MB read).
            static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        BUFFER.with_borrow_mut(|buffer| {
            let head_only = job.kind == FileKind::Wp;
            let read = self.bytes(job.path, stamp, head_only, buffer);
            let taken = read.as_ref().ok().copied().flatten();
            let bytes = read.map(|_| &buffer[..]);
            let (read, hash) = match (job.kind, bytes) {
                (FileKind::Events, Ok(bytes)) => {
                    let continuable = self.hashing && bytes.len() >= CONTINUED_FROM;
                    let hash = continuable.then(|| Hashed {
                        len: bytes.len() as u64,
                        hash: content_hash(bytes),
                    });
                    let replay = prefix
                        .and_then(|p| continue_replay(job.path, bytes, p))
                        .unwrap_or_else(|| {
                            spec_kitty::replay_whole(job.path, &text_of(bytes), continuable)
                        });
                    (FileRead::Events(Box::new(replay)), hash)
                }
                (_, bytes) => (read_file(job, bytes), None),
            };
            (read, hash, taken)
        })
    }

    /// Read the file at `path` (relative to the root) into `buffer` (emptied first), as much
    /// as its stamp says, in one `read` straight into the buffer's spare capacity: no last
    /// `read` to find the end, no zeroing (std's `read_to_end` on a `take` reads 8 KB first,
    /// then the rest: two calls per file). A file not stamped yet (`stamp` is `None`: the
    /// cache has nothing to compare it with) is stamped here through its handle, and its
    /// stamp returned. A file that grew since its stamp was taken changed its stamp too, so
    /// the cache never keeps what was read here for the new content.
    ///
    /// With `head_only` (a WP file), reading stops after the frontmatter's first [`HEAD`]
    /// bytes when they hold it whole: the prompt below is never read (~93 % of the bytes).
    fn bytes(
        &self,
        path: &str,
        stamp: Option<Stamp>,
        head_only: bool,
        buffer: &mut Vec<u8>,
    ) -> std::io::Result<Option<Stamp>> {
        use std::io::Read;
        buffer.clear();
        let file = match &self.dir {
            Some(dir) => {
                // Not through a symlink: the listing found a regular file here.
                let flags = rustix::fs::OFlags::RDONLY
                    | rustix::fs::OFlags::CLOEXEC
                    | rustix::fs::OFlags::NOFOLLOW;
                std::fs::File::from(rustix::fs::openat(
                    dir,
                    path,
                    flags,
                    rustix::fs::Mode::empty(),
                )?)
            }
            None => std::fs::File::open(self.root.join(path))?,
        };
        let taken = match stamp {
            Some(_) => None,
            None => Stamp::of_open(&file)
                .filter(|(_, kind)| *kind == rustix::fs::FileType::RegularFile)
                .map(|(stamp, _)| stamp),
        };
        let Some(size) = stamp.or(taken).and_then(|s| usize::try_from(s.size()).ok()) else {
            (&file).read_to_end(buffer)?;
            return Ok(None);
        };
        if head_only && size > HEAD {
            // Bounded: the buffer may have room for megabytes (an event log read before).
            (&file).take(HEAD as u64).read_to_end(buffer)?;
            let whole = buffer.len() < HEAD;
            match crate::model::frontmatter::head_len(buffer) {
                // A fence line cut by the end of the read may go on: read on.
                Some(end) if end < buffer.len() || buffer.ends_with(b"\n") => return Ok(taken),
                _ if whole => return Ok(taken),
                _ => {}
            }
        }
        read_up_to(&file, buffer, size)?;
        Ok(taken)
    }
}

/// How much of a WP file is read first: one page holds the frontmatter of nearly every WP
/// file (Spec Kitty's are ~1 KB); a longer one is read on to the end.
const HEAD: usize = 4096;

/// Read `file` on into `buffer` until it holds `size` bytes, straight into its spare
/// capacity. A file that grew may give more (cut back to `size`), one that shrank ends
/// with a read of nothing.
fn read_up_to(file: &std::fs::File, buffer: &mut Vec<u8>, size: usize) -> std::io::Result<()> {
    buffer.reserve(size.saturating_sub(buffer.len()));
    while buffer.len() < size {
        match rustix::io::read(file, rustix::buffer::spare_capacity(buffer)) {
            Ok(0) => break,
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    buffer.truncate(size);
    Ok(())
}

/// The cached replay of the first `prefix.read.len` bytes, gone on with the rest, when those
/// bytes are still the ones replayed.
fn continue_replay(path: &str, bytes: &[u8], prefix: &Prefix) -> Option<spec_kitty::Replay> {
    let len = usize::try_from(prefix.read.len).ok()?;
    let old = bytes.get(..len)?;
    if content_hash(old) != prefix.read.hash {
        return None;
    }
    let mut replay = prefix.replay.clone();
    replay
        .continue_with(path, &text_of(&bytes[len..]))
        .ok()
        .map(|()| replay)
}

/// An agent name becomes a commit author and a board label: one short line of text.
pub fn validate_agent(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty()
        || name.len() > 100
        || name.chars().any(|c| c.is_control() || c == '<' || c == '>')
    {
        return Err(Error::usage(format!(
            "`{}` is not usable as an agent name (one line, at most 100 characters, no `<` or `>`)",
            name.escape_debug()
        )));
    }
    Ok(name.to_owned())
}

pub use crate::state::store::States;

fn unknown_wp(wp: &WpId, feature: &Feature) -> Error {
    let ids: Vec<&str> = feature.wps.iter().map(|w| w.id.as_str()).collect();
    Error::usage(format!("no work package {wp} in feature {}", feature.slug)).hint(
        if ids.is_empty() {
            format!("{} has no work packages yet", feature.slug)
        } else {
            format!("work packages of {}: {}", feature.slug, ids.join(", "))
        },
    )
}

/// `hint` with the WP id that follows each `git kitty <command> ` replaced by `arg(id)`,
/// unless the command line already names a feature.
fn qualify_hint(hint: &str, arg: &dyn Fn(&WpId) -> String) -> String {
    const PREFIX: &str = "git kitty ";
    let mut out = String::with_capacity(hint.len());
    let mut rest = hint;
    while let Some(at) = rest.find(PREFIX) {
        let after = at + PREFIX.len();
        out.push_str(&rest[..after]);
        rest = &rest[after..];
        // `<command> WPnn`, then the rest of that command line (up to its closing backtick).
        let Some(space) = rest.find(' ') else { break };
        let id_len = rest[space + 1..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len() - space - 1);
        let token = &rest[space + 1..space + 1 + id_len];
        let line_end = rest.find('`').unwrap_or(rest.len());
        let named = rest[..line_end].contains("--feature") || rest[..line_end].contains(" -f ");
        if let (Ok(id), false) = (token.parse::<WpId>(), named || !token.starts_with("WP")) {
            out.push_str(&rest[..space + 1]);
            out.push_str(&arg(&id));
            rest = &rest[space + 1 + id_len..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod qualify_tests {
    use super::*;

    #[test]
    fn only_ids_after_a_command_without_a_feature_are_qualified() {
        let arg = |id: &WpId| format!("{id} --feature 002-search");
        let q = |h: &str| qualify_hint(h, &arg);
        assert_eq!(
            q("WP01 has not been started: `git kitty implement WP01`"),
            "WP01 has not been started: `git kitty implement WP01 --feature 002-search`"
        );
        assert_eq!(
            q(
                "or `git kitty implement WP03 --force --reason \"...\"`; `git kitty lane WP02 planned`"
            ),
            "or `git kitty implement WP03 --feature 002-search --force --reason \"...\"`; `git kitty lane WP02 --feature 002-search planned`"
        );
        for same in [
            "`git kitty lane WP01 --feature 001-a planned`",
            "`git kitty repair WP01 -f 001-a`",
            "`git kitty next` finds work",
            "`git kitty merge` lands it",
            "git kitty push",
            "`git kitty implement WPx`",
        ] {
            assert_eq!(q(same), same);
        }
    }
}

#[cfg(test)]
mod reading_tests {
    use super::*;

    /// A WP file read from its start parses as the whole file does, wherever its closing
    /// fence falls around the first read's end; the rest of its prompt is not read when the
    /// first read holds the frontmatter whole.
    #[test]
    fn a_wp_file_is_read_to_its_frontmatter_and_parses_as_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let reading = Reading {
            root: dir.path(),
            dir: open_root(dir.path()),
            hashing: false,
        };
        let mut buffer = Vec::new();
        for eol in ["\n", "\r\n"] {
            for fence_end in HEAD - 8..HEAD + 8 {
                // The frontmatter padded so that its closing fence line ends at `fence_end`.
                let top = format!("---{eol}work_package_id: WP01{eol}title: t{eol}history: '");
                let close = format!("'{eol}lane: for_review{eol}--- {eol}");
                let pad = fence_end - top.len() - close.len();
                let head = format!("{top}{}{close}", "x".repeat(pad));
                assert_eq!(head.len(), fence_end);
                // A prompt that is not UTF-8 is not read, so it does not matter.
                let whole = [head.as_bytes(), b"# Prompt \xff\n---\n", &[b'y'; 9000]].concat();
                std::fs::write(dir.path().join("WP01-a.md"), &whole).unwrap();
                reading.bytes("WP01-a.md", None, true, &mut buffer).unwrap();
                // Within the first read, the prompt is left; past it, the file is read on.
                if fence_end <= HEAD {
                    assert_eq!(buffer.len(), HEAD, "{fence_end}");
                } else {
                    assert_eq!(buffer, whole, "{fence_end}");
                }
                assert!(whole.starts_with(&buffer));
                let read = crate::model::wp::parse("WP01-a.md", &buffer);
                let from_whole = crate::model::wp::parse("WP01-a.md", &whole);
                assert_eq!(
                    format!("{read:?}"),
                    format!("{from_whole:?}"),
                    "{fence_end}"
                );
                assert_eq!(read.0.unwrap().lane, Some(Lane::ForReview));
                assert!(read.1.is_empty(), "{:?}", read.1);
                reading
                    .bytes("WP01-a.md", None, false, &mut buffer)
                    .unwrap();
                assert_eq!(buffer, whole);
            }
        }
        // With no frontmatter closed, the whole file is read, and parsed as before.
        let open = [b"---\nlane: doing\n".as_slice(), &[b'z'; 9000]].concat();
        std::fs::write(dir.path().join("WP02-b.md"), &open).unwrap();
        reading.bytes("WP02-b.md", None, true, &mut buffer).unwrap();
        assert_eq!(buffer, open);
    }
}
