//! The plan: every feature under `kitty-specs/` and its work packages, with the problems found.
//!
//! Loading is split in two so the same code reads a working tree and a git tree (the server
//! hook has no working tree): a *listing* says which files exist, a *reader* returns their
//! bytes. Files are parsed in parallel; the result does not depend on the thread count.

use std::collections::HashMap;
use std::io;
use std::str::FromStr;

use super::graph::Graph;
use super::ids::{FeatureSlug, WpId, is_safe_branch_name};
use super::problem::{self, Code, Problem};
use super::spec_kitty::{self, Replay, ReplayedLane};
use super::wp::{self, WorkPackage};
use crate::util::codec::{Decode, Encode, Reader, Writer};
use crate::util::hash::{FxHashMap, FxHashSet};
use crate::util::parallel::in_parallel;

/// Where features live, relative to the top of the repository.
pub const SPECS_DIR: &str = "kitty-specs";

/// One folder under `kitty-specs/`, as listed (nothing read yet).
#[derive(Debug, Clone)]
pub struct FeatureListing {
    pub name: String,
    /// `kitty-specs/<name>` with `/` separators.
    pub dir: String,
    /// `WP*.md` files directly in `tasks/`, repository-relative, sorted.
    pub wp_files: Vec<String>,
    pub events_file: Option<String>,
    pub meta_file: Option<String>,
}

impl FeatureListing {
    pub fn new(name: &str) -> FeatureListing {
        FeatureListing {
            name: name.to_owned(),
            dir: format!("{SPECS_DIR}/{name}"),
            wp_files: Vec::new(),
            events_file: None,
            meta_file: None,
        }
    }

    /// Sort a file found in the feature folder into its place. `rel` is relative to the
    /// feature folder (`tasks/WP01-x.md`, `status.events.jsonl`). Returns false when the
    /// file is not one git kitty reads.
    pub fn add_file(&mut self, rel: &str) -> bool {
        let path = format!("{}/{rel}", self.dir);
        match rel {
            "status.events.jsonl" => self.events_file = Some(path),
            "meta.json" => self.meta_file = Some(path),
            _ => match rel.strip_prefix("tasks/") {
                Some(name) if is_wp_file_name(name) => self.wp_files.push(path),
                _ => return false,
            },
        }
        true
    }
}

impl FeatureListing {
    /// The files listed, in the order they are read: WP files, then the event log and the
    /// meta file when present.
    pub fn files(&self) -> impl Iterator<Item = (&str, FileKind)> {
        let files = self.wp_files.iter().map(|p| (p.as_str(), FileKind::Wp));
        let events = self
            .events_file
            .iter()
            .map(|p| (p.as_str(), FileKind::Events));
        let meta = self.meta_file.iter().map(|p| (p.as_str(), FileKind::Meta));
        files.chain(events).chain(meta)
    }
}

/// `WP01-x.md`, `WP7.md`: a WP file. `WP02.md.bak`, `README.md`, `WP01/` are not.
pub fn is_wp_file_name(name: &str) -> bool {
    name.starts_with("WP") && name.ends_with(".md") && !name.contains('/')
}

#[derive(Debug)]
pub struct Feature {
    pub slug: FeatureSlug,
    pub dir: String,
    /// Sorted by id; at most one WP per id (the first file, by path, wins a duplicate).
    pub wps: Vec<WorkPackage>,
    /// Lanes replayed from Spec Kitty's `status.events.jsonl`, when the feature has one.
    pub replayed: HashMap<WpId, ReplayedLane>,
    /// `target_branch` from Spec Kitty's `meta.json`, when valid.
    pub target_branch: Option<String>,
}

/// Cache encoding (`util::codec`): the plan cache keeps each feature as assembled.
impl Encode for Feature {
    fn encode(&self, w: &mut Writer) {
        w.put(self.slug.as_str());
        w.put(&self.dir);
        w.put(&self.wps);
        w.uint(self.replayed.len() as u64);
        for (wp, lane) in &self.replayed {
            w.put(wp);
            w.put(lane);
        }
        w.put(&self.target_branch);
    }
}

impl Decode for Feature {
    fn decode(r: &mut Reader) -> Option<Self> {
        let slug = FeatureSlug::from_str(r.str()?).ok()?;
        let dir = r.get()?;
        let wps = r.get()?;
        let count = r.usize()?;
        let mut replayed = HashMap::with_capacity(count.min(4096));
        for _ in 0..count {
            replayed.insert(r.get()?, r.get()?);
        }
        Some(Feature {
            slug,
            dir,
            wps,
            replayed,
            target_branch: r.get()?,
        })
    }
}

impl Feature {
    pub fn wp(&self, id: &WpId) -> Option<&WorkPackage> {
        self.index_of(id).map(|i| &self.wps[i])
    }

    /// Exact id first, then the same number (`WP1` finds `WP01`).
    pub fn index_of(&self, id: &WpId) -> Option<usize> {
        self.wps
            .iter()
            .position(|w| w.id == *id)
            .or_else(|| self.wps.iter().position(|w| w.id.number() == id.number()))
    }

    pub fn graph(&self) -> Graph {
        Graph::new(&self.wps)
    }
}

#[derive(Debug, Default)]
pub struct Plan {
    pub features: Vec<Feature>,
    pub problems: Vec<Problem>,
}

impl Plan {
    pub fn feature(&self, slug: &str) -> Option<&Feature> {
        self.features.iter().find(|f| f.slug.as_str() == slug)
    }

    /// Read and check every listed feature. `read` returns a file's bytes by its
    /// repository-relative path; it is called from several threads.
    pub fn load<R>(listings: Vec<FeatureListing>, read: &R) -> Plan
    where
        R: Fn(&str) -> io::Result<Vec<u8>> + Sync,
    {
        let jobs = file_jobs(&listings);
        let reads = in_parallel(&jobs, &|job: &FileJob| match read(job.path) {
            Ok(bytes) => read_file(job, Ok(&bytes)),
            Err(e) => read_file(job, Err(e)),
        });
        Plan::assemble(listings, reads)
    }

    /// Build the plan from its files already read: `reads` holds one result per entry of
    /// [`file_jobs`], in that order.
    pub fn assemble(
        listings: Vec<FeatureListing>,
        reads: impl IntoIterator<Item = FileRead>,
    ) -> Plan {
        Plan::assemble_cached(listings, reads, &mut |_| None, &mut |_, _| {})
    }

    /// [`Self::assemble`], some features as a cache kept them: `cached(i)` gives listing
    /// `i`'s feature when none of its files were read (`reads` then holds nothing of it), and
    /// `fresh(i, &feature)` sees each feature assembled from its reads.
    pub fn assemble_cached(
        listings: Vec<FeatureListing>,
        reads: impl IntoIterator<Item = FileRead>,
        cached: &mut dyn FnMut(usize) -> Option<Assembled>,
        fresh: &mut dyn FnMut(usize, &Assembled),
    ) -> Plan {
        let mut plan = Plan::default();
        let mut accepted = Vec::new();
        for (i, listing) in listings.iter().enumerate() {
            match FeatureSlug::from_str(&listing.name) {
                Ok(slug) => accepted.push((i, slug, listing)),
                Err(why) => plan.problems.push(
                    Problem::new(Code::UnsafeName, format!("{why}; the folder is skipped"))
                        .at(&listing.dir, None),
                ),
            }
        }

        let mut reads = reads.into_iter();
        for (i, slug, listing) in accepted {
            let (feature, problems) = cached(i).unwrap_or_else(|| {
                let (feature, mut problems) = assemble_feature(&slug, listing, &mut reads);
                for p in &mut problems {
                    p.feature = Some(slug.to_string());
                }
                let assembled = (feature, problems);
                fresh(i, &assembled);
                assembled
            });
            plan.problems.extend(problems);
            plan.features.push(feature);
        }
        plan.features.sort_by(|a, b| a.slug.cmp(&b.slug));
        problem::sort(&mut plan.problems);
        plan
    }
}

/// One feature as assembled from its files, and the problems found in them.
pub type Assembled = (Feature, Vec<Problem>);

/// Which of a feature's files a [`FileJob`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Wp,
    /// Spec Kitty's `status.events.jsonl`.
    Events,
    /// Spec Kitty's `meta.json`.
    Meta,
}

/// One file of the plan to read.
#[derive(Clone, Copy, Debug)]
pub struct FileJob<'a> {
    pub feature: &'a str,
    /// Repository-relative, `/`-separated.
    pub path: &'a str,
    pub kind: FileKind,
    /// The listing it comes from (its index in the listings), and its place among that
    /// listing's files in [`FeatureListing::files`] order.
    pub listing: usize,
    pub file: usize,
}

/// What one file of the plan says, once read (what the plan cache keeps). Boxed, so that the
/// thousands of them a plan has are small to move between the cache, the readers and the
/// assembly (a WP is a few hundred bytes).
#[derive(Clone, Debug)]
pub enum FileRead {
    Wp(Box<Parsed>),
    Events(Box<Replay>),
    /// The event log could not be read.
    EventsUnreadable(Box<Problem>),
    /// `target_branch` of `meta.json`, when valid.
    Meta(Option<String>),
}

/// Cache encoding (`util::codec`): a tag, then the value.
impl Encode for FileRead {
    fn encode(&self, w: &mut Writer) {
        match self {
            FileRead::Wp(parsed) => {
                w.bytes.push(0);
                w.put(&**parsed);
            }
            FileRead::Events(replay) => {
                w.bytes.push(1);
                w.put(&**replay);
            }
            FileRead::EventsUnreadable(problem) => {
                w.bytes.push(2);
                w.put(&**problem);
            }
            FileRead::Meta(target) => {
                w.bytes.push(3);
                w.put(target);
            }
        }
    }
}

impl Decode for FileRead {
    fn decode(r: &mut Reader) -> Option<Self> {
        Some(match r.byte()? {
            0 => FileRead::Wp(Box::new(r.get()?)),
            1 => FileRead::Events(Box::new(r.get()?)),
            2 => FileRead::EventsUnreadable(Box::new(r.get()?)),
            3 => FileRead::Meta(r.get()?),
            _ => return None,
        })
    }
}

/// The files [`Plan::assemble`] expects results for, in order: for each listing whose name
/// is a valid feature slug, its WP files, then its event log and meta file when present.
pub fn file_jobs(listings: &[FeatureListing]) -> Vec<FileJob<'_>> {
    let mut jobs = Vec::new();
    for (n, l) in listings.iter().enumerate() {
        if FeatureSlug::from_str(&l.name).is_err() {
            continue;
        }
        jobs.extend(l.files().enumerate().map(|(i, (path, kind))| FileJob {
            feature: l.name.as_str(),
            path,
            kind,
            listing: n,
            file: i,
        }));
    }
    jobs
}

/// Read one file of the plan from the result of reading its bytes.
pub fn read_file(job: &FileJob, bytes: io::Result<&[u8]>) -> FileRead {
    match job.kind {
        FileKind::Wp => FileRead::Wp(Box::new(parse_file(job.path, bytes))),
        FileKind::Events => match bytes {
            // No cache keeps this replay (a plan read from a commit): nothing to go on from.
            Ok(bytes) => FileRead::Events(Box::new(spec_kitty::replay_whole(
                job.path,
                &text_of(bytes),
                false,
            ))),
            Err(e) => FileRead::EventsUnreadable(Box::new(
                Problem::new(Code::UnreadableFile, format!("cannot read: {e}")).at(job.path, None),
            )),
        },
        FileKind::Meta => FileRead::Meta(
            bytes
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(b).ok())
                .and_then(|v| v.get("target_branch")?.as_str().map(str::to_owned))
                .filter(|b| is_safe_branch_name(b)),
        ),
    }
}

/// Text as UTF-8, invalid sequences replaced (checked the fast way first).
pub fn text_of(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match crate::util::utf8::str_of(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// One feature of [`Plan::assemble`]: its WPs and Spec Kitty's files (taken from `reads`, in
/// [`file_jobs`] order), and every problem found, in the order they are found.
fn assemble_feature(
    slug: &FeatureSlug,
    listing: &FeatureListing,
    reads: &mut impl Iterator<Item = FileRead>,
) -> (Feature, Vec<Problem>) {
    let mut feature = Feature {
        slug: slug.clone(),
        dir: listing.dir.clone(),
        wps: Vec::with_capacity(listing.wp_files.len()),
        replayed: HashMap::new(),
        target_branch: None,
    };
    let mut problems = Vec::new();
    let parsed = reads
        .by_ref()
        .take(listing.wp_files.len())
        .filter_map(|r| match r {
            FileRead::Wp(parsed) => Some(*parsed),
            _ => None,
        });
    add_wps(&mut feature, parsed, &mut problems);
    feature.wps.sort_by(|a, b| a.id.cmp(&b.id));
    respell_dependencies(&mut feature.wps);
    let extras =
        usize::from(listing.events_file.is_some()) + usize::from(listing.meta_file.is_some());
    for read in reads.by_ref().take(extras) {
        match read {
            FileRead::Events(replay) => {
                let mut replay = *replay;
                problems.append(&mut replay.problems);
                feature.replayed = replay.into_lanes();
            }
            FileRead::EventsUnreadable(problem) => problems.push(*problem),
            FileRead::Meta(target) => feature.target_branch = target,
            FileRead::Wp(_) => {}
        }
    }
    problems.extend(check_dependencies(&feature));
    (feature, problems)
}

/// Add the parsed WPs to `feature`, in file order, keeping the first of each number.
fn add_wps(
    feature: &mut Feature,
    parsed: impl Iterator<Item = Parsed>,
    problems: &mut Vec<Problem>,
) {
    // Index of the WP holding each number, so a large feature is not scanned per file.
    let mut by_number: FxHashMap<u32, usize> = FxHashMap::default();
    for (wp, found) in parsed {
        problems.extend(found);
        let Some(wp) = wp else { continue };
        // `WP1` and `WP01` are one WP to people (and to `--base WP1`): a repeat of the
        // number is a duplicate even when the spelling differs.
        match by_number.get(&wp.id.number()) {
            Some(&i) => {
                let first = &feature.wps[i];
                let same = if first.id == wp.id {
                    String::new()
                } else {
                    format!(" as {}", first.id)
                };
                problems.push(
                    Problem::new(
                        Code::DuplicateId,
                        format!("{} is already defined{same} by {}", wp.id, first.file),
                    )
                    .at(&wp.file, wp.id_line)
                    .for_wp(wp.id.as_str()),
                );
            }
            None => {
                by_number.insert(wp.id.number(), feature.wps.len());
                feature.wps.push(wp);
            }
        }
    }
}

/// Dependencies use the plan's spelling (`WP1` in a list means the plan's `WP01`). `wps`
/// are sorted by id, and hold one WP per number.
fn respell_dependencies(wps: &mut [WorkPackage]) {
    // Nearly every dependency is spelled as the plan spells it: found in a set of borrowed
    // ids, nothing cloned. The others are looked up by number and fixed after.
    let ids: FxHashSet<&WpId> = wps.iter().map(|w| &w.id).collect();
    let mut fixes: Vec<(usize, usize, WpId)> = Vec::new();
    for (i, wp) in wps.iter().enumerate() {
        for (k, (dep, _)) in wp.dependency_lines.iter().enumerate() {
            if ids.contains(dep) {
                continue;
            }
            // The first WP with that number, in id order (as `by_number` kept it before).
            if let Some(same) = wps.iter().find(|w| w.id.number() == dep.number()) {
                fixes.push((i, k, same.id.clone()));
            }
        }
    }
    for (i, k, id) in fixes {
        wps[i].dependency_lines[k].0 = id;
    }
}

/// One parsed WP file: the WP when it could be identified, and the problems found.
pub type Parsed = (Option<WorkPackage>, Vec<Problem>);

/// Parse a WP file from the result of reading it.
pub fn parse_file(path: &str, bytes: io::Result<&[u8]>) -> Parsed {
    match bytes {
        Ok(bytes) => wp::parse(path, bytes),
        Err(e) => (
            None,
            vec![Problem::new(Code::UnreadableFile, format!("cannot read: {e}")).at(path, None)],
        ),
    }
}

/// Unknown dependencies, self-dependencies and cycles of one feature.
fn check_dependencies(feature: &Feature) -> Vec<Problem> {
    let mut problems = Vec::new();
    let known: FxHashSet<&WpId> = feature.wps.iter().map(|w| &w.id).collect();
    for wp in &feature.wps {
        for (dep, line) in &wp.dependency_lines {
            let problem = if *dep == wp.id {
                Problem::new(Code::SelfDependency, format!("{} depends on itself", wp.id))
            } else if known.contains(dep) {
                continue;
            } else {
                Problem::new(
                    Code::UnknownDependency,
                    format!(
                        "{} depends on {dep}, which is not a work package of {}",
                        wp.id, feature.slug
                    ),
                )
            };
            problems.push(problem.at(&wp.file, Some(*line)).for_wp(wp.id.as_str()));
        }
    }
    for cycle in feature.graph().cycles() {
        let first = &cycle[0];
        let Some(wp) = feature.wp(first) else {
            continue;
        };
        let line = wp
            .dependency_lines
            .iter()
            .find(|(d, _)| *d == cycle[1])
            .map(|(_, l)| *l);
        let path: Vec<&str> = cycle.iter().map(WpId::as_str).collect();
        problems.push(
            Problem::new(
                Code::DependencyCycle,
                format!("dependency cycle: {}", path.join(" -> ")),
            )
            .at(&wp.file, line)
            .for_wp(first.as_str()),
        );
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(files: &[(&str, &str)]) -> Plan {
        let mut listings: Vec<FeatureListing> = Vec::new();
        for (path, _) in files {
            let rest = path.strip_prefix("kitty-specs/").unwrap();
            let (name, rel) = rest.split_once('/').unwrap();
            if !listings.iter().any(|l| l.name == name) {
                listings.push(FeatureListing::new(name));
            }
            listings
                .iter_mut()
                .find(|l| l.name == name)
                .unwrap()
                .add_file(rel);
        }
        let map: HashMap<String, String> = files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect();
        Plan::load(listings, &|p: &str| {
            map.get(p)
                .map(|t| t.clone().into_bytes())
                .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
        })
    }

    #[test]
    fn listing_ignores_backups_and_readmes() {
        let mut l = FeatureListing::new("001-a");
        assert!(l.add_file("tasks/WP01-x.md"));
        assert!(!l.add_file("tasks/WP02-x.md.bak"));
        assert!(!l.add_file("tasks/README.md"));
        assert!(!l.add_file("tasks/WP01-x/review-cycle-1.md"));
        assert!(l.add_file("status.events.jsonl"));
        assert_eq!(l.wp_files, ["kitty-specs/001-a/tasks/WP01-x.md"]);
    }

    #[test]
    fn dependency_problems_and_duplicates() {
        let plan = plan_of(&[
            (
                "kitty-specs/001-a/tasks/WP01-a.md",
                "---\nwork_package_id: WP01\ndependencies: [WP01, WP09]\n---\n",
            ),
            (
                "kitty-specs/001-a/tasks/WP02-b.md",
                "---\nwork_package_id: WP02\ndependencies: [WP03]\n---\n",
            ),
            (
                "kitty-specs/001-a/tasks/WP03-c.md",
                "---\nwork_package_id: WP03\ndependencies: [WP02]\n---\n",
            ),
            (
                "kitty-specs/001-a/tasks/WP03-d.md",
                "---\nwork_package_id: WP03\n---\n",
            ),
            ("kitty-specs/bad name/tasks/WP01.md", "---\n---\n"),
        ]);
        let got: Vec<(&str, Option<usize>, &str)> = plan
            .problems
            .iter()
            .map(|p| (p.code.as_str(), p.line, p.message.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "unknown-dependency",
                    Some(3),
                    "WP01 depends on WP09, which is not a work package of 001-a"
                ),
                ("self-dependency", Some(3), "WP01 depends on itself"),
                (
                    "dependency-cycle",
                    Some(3),
                    "dependency cycle: WP02 -> WP03 -> WP02"
                ),
                (
                    "duplicate-id",
                    Some(2),
                    "WP03 is already defined by kitty-specs/001-a/tasks/WP03-c.md"
                ),
                (
                    "unsafe-name",
                    None,
                    "`bad name` is not a safe feature name: ' ' is not allowed (only ASCII letters, digits, `.`, `_`, `-`); the folder is skipped"
                ),
            ]
        );
        assert_eq!(plan.features.len(), 1);
        assert_eq!(plan.features[0].wps.len(), 3);
        assert!(plan.problems.iter().any(
            |p| p.code == Code::UnsafeName && p.file.as_deref() == Some("kitty-specs/bad name")
        ));
    }

    #[test]
    fn dependencies_take_the_plans_spelling_and_the_first_file_wins_a_number() {
        let plan = plan_of(&[
            (
                "kitty-specs/001-a/tasks/WP01-a.md",
                "---\nwork_package_id: WP01\n---\n",
            ),
            (
                "kitty-specs/001-a/tasks/WP1-b.md",
                "---\nwork_package_id: WP1\n---\n",
            ),
            (
                "kitty-specs/001-a/tasks/WP02-c.md",
                "---\nwork_package_id: WP02\ndependencies: [WP1, WP3, WP002]\n---\n",
            ),
        ]);
        let f = &plan.features[0];
        let ids: Vec<&str> = f.wps.iter().map(|w| w.id.as_str()).collect();
        assert_eq!(ids, ["WP01", "WP02"]);
        let deps: Vec<&str> = f.wps[1].dependencies().map(WpId::as_str).collect();
        assert_eq!(deps, ["WP01", "WP3", "WP02"]);
        let got: Vec<&str> = plan.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            got,
            [
                "WP02 depends on WP3, which is not a work package of 001-a",
                "WP02 depends on itself",
                "WP1 is already defined as WP01 by kitty-specs/001-a/tasks/WP01-a.md",
            ]
        );
    }
}
