//! The `status --json` document, written a feature at a time, with each feature's part kept
//! for the next run when nothing but the feature's own files decides it.
//!
//! Orchestrators poll `status --json`. On a plan shaped like a real one (thousands of WPs, most
//! features finished long ago, their lanes in Spec Kitty's files) nearly every feature has no
//! state ref at all: its board is the same from one run to the next, and building and
//! encoding those boards was half of a warm run. Such a feature's part of the document is kept
//! in `<git-common-dir>/kitty/board.cache`, under
//!
//! - the key of its plan-cache section (`Workspace::unchanged`): it names the feature's files,
//!   their stamps and what was read from them, and exists only when none of them changed;
//! - the remote never fetched from, if any (every board names it).
//!
//! The part is reused only when [`Sources::only_the_plan`] holds: no state, no unreadable
//! state, no lost claim, nothing to compare with a remote. Anything else is computed each
//! time, as are features whose files changed. The cache's version covers the code that
//! computes and lays out a board, so another build never reuses a part.
//!
//! The document is laid out here around the parts, exactly as serde lays out [`Board`](crate::board::Board)
//! (`the_document_is_the_one_serde_writes`).

use std::collections::HashSet;
use std::io::{self, Write};
use std::sync::Arc;

use serde::Serialize;

use super::json::TerminalSafe;
use crate::board::{SCHEMA, Sources};
use crate::error::Result;
use crate::model::plan::Feature;
use crate::util::cache_file::Sections;
use crate::util::codec::{Reader, Writer};
use crate::util::parallel::in_parallel;
use crate::workspace::Workspace;

const FILE: &str = "board.cache";

fn version() -> String {
    const CODE: u64 = crate::util::cache_file::fingerprint(&[
        include_bytes!("status_json.rs"),
        include_bytes!("json.rs"),
        include_bytes!("../board/mod.rs"),
        include_bytes!("../board/read.rs"),
        include_bytes!("../state/lane_info.rs"),
        include_bytes!("../model/lane.rs"),
        include_bytes!("../model/graph.rs"),
        include_bytes!("../model/plan.rs"),
        include_bytes!("../model/wp.rs"),
        include_bytes!("../model/ids.rs"),
        include_bytes!("../util/time.rs"),
    ]);
    format!(
        "board-cache 1, git-kitty {}, {CODE:016x}",
        env!("CARGO_PKG_VERSION")
    )
}

/// The document for `features` (`all`: the whole plan), ready to write.
pub struct Document {
    cache: Arc<Sections>,
    /// The remote never fetched from, as the kept parts were found under.
    unfetched: Option<String>,
    parts: Vec<Part>,
    problems: Vec<u8>,
}

enum Part {
    /// Kept in the cache: this feature's part, found under this key.
    Kept(String, u64),
    Made(Vec<u8>),
}

/// Compute what is not kept, and keep what can be for the next run (written on a thread of
/// its own while the document goes out).
pub fn document(ws: &Workspace, features: &[&Feature], all: bool) -> Result<Document> {
    let sources = Sources::read(ws, features, all, true)?;
    let cache = Arc::new(Sections::open(ws.repo.common_dir(), FILE, version()));
    let unfetched = sources.unfetched();
    let plain: Vec<bool> = features.iter().map(|f| sources.only_the_plan(f)).collect();
    // The key a plain feature's part is kept under (none when one of its files changed).
    let keys: Vec<Option<u64>> = features
        .iter()
        .zip(&plain)
        .map(|(f, plain)| {
            ws.unchanged
                .get(f.slug.as_str())
                .copied()
                .filter(|_| *plain)
        })
        .collect();
    let mut parts: Vec<Option<Part>> = features
        .iter()
        .zip(&keys)
        .map(|(f, key)| {
            let slug = f.slug.as_str();
            let key = (*key)?;
            kept(cache.get(slug)?, key, unfetched).map(|_| Part::Kept(slug.to_owned(), key))
        })
        .collect();
    // The boards of plain features need nothing but their feature: built on every core (a
    // first run builds them all).
    let todo: Vec<usize> = (0..features.len())
        .filter(|i| plain[*i] && parts[*i].is_none())
        .collect();
    let made = in_parallel(&todo, &|i: &usize| {
        encode(&sources.plan_board(features[*i]), 2)
    });
    for (i, made) in todo.into_iter().zip(made) {
        parts[i] = Some(Part::Made(made));
    }
    let mut changed: Vec<(String, Option<Vec<u8>>)> = Vec::new();
    let mut document = Vec::with_capacity(features.len());
    for ((f, part), key) in features.iter().zip(parts).zip(keys) {
        let slug = f.slug.as_str();
        let part = match part {
            Some(part) => part,
            None => Part::Made(encode(&sources.board(ws, f)?, 2)),
        };
        if let Part::Made(made) = &part {
            match key {
                Some(key) => {
                    changed.push((slug.to_owned(), Some(section_of(key, unfetched, made))));
                }
                None if cache.get(slug).is_some() => changed.push((slug.to_owned(), None)),
                None => {}
            }
        }
        document.push(part);
    }
    let problems = encode(&sources.problems(ws, features, all), 1);
    // With `all`, the parts of features no longer in the plan go.
    let listed: HashSet<&str> = features.iter().map(|f| f.slug.as_str()).collect();
    let gone = all && cache.names().any(|n| !listed.contains(n));
    if cache.enabled() && (!changed.is_empty() || gone) {
        let file = Arc::clone(&cache);
        let listed: HashSet<String> = listed.into_iter().map(str::to_owned).collect();
        crate::util::background::run(move || {
            file.save(changed, &|name| !all || listed.contains(name));
        });
    }
    Ok(Document {
        unfetched: unfetched.map(str::to_owned),
        cache,
        parts: document,
        problems,
    })
}

impl Document {
    /// Write it (without the trailing newline), as serde would write the [`Board`](crate::board::Board).
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let parts = self.parts.iter().map(|p| match p {
            Part::Kept(slug, key) => self
                .cache
                .get(slug)
                .and_then(|s| kept(s, *key, self.unfetched.as_deref()))
                .unwrap_or_default(),
            Part::Made(bytes) => bytes,
        });
        write_document(out, parts, &self.problems)
    }
}

/// A feature's kept part: `key`, the remote never fetched from, then the part.
fn section_of(key: u64, unfetched: Option<&str>, part: &[u8]) -> Vec<u8> {
    let mut w = Writer::default();
    w.uint(key);
    w.put(&unfetched.map(str::to_owned));
    w.raw(part);
    w.bytes
}

/// The part kept in `section` when it was kept under `key` and `unfetched`.
fn kept<'a>(section: &'a [u8], key: u64, unfetched: Option<&str>) -> Option<&'a [u8]> {
    let mut r = Reader::new(section);
    if r.uint()? != key || r.get::<Option<String>>()?.as_deref() != unfetched {
        return None;
    }
    let part = r.raw()?;
    r.is_done().then_some(part)
}

/// `value` as it reads `level` deep in the document.
fn encode<T: Serialize>(value: &T, level: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut bytes, TerminalSafe::at_level(level));
    // Plain data into memory: nothing can fail.
    let _ = value.serialize(&mut ser);
    bytes
}

/// The [`Board`](crate::board::Board) document around its features' parts (each encoded two levels deep) and its
/// problems (one level deep).
fn write_document<'a>(
    out: &mut dyn Write,
    parts: impl ExactSizeIterator<Item = &'a [u8]>,
    problems: &[u8],
) -> io::Result<()> {
    write!(out, "{{\n  \"schema\": {SCHEMA},\n  \"features\": ")?;
    if parts.len() == 0 {
        out.write_all(b"[]")?;
    } else {
        out.write_all(b"[")?;
        for (i, part) in parts.enumerate() {
            out.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
            out.write_all(part)?;
        }
        out.write_all(b"\n  ]")?;
    }
    out.write_all(b",\n  \"problems\": ")?;
    out.write_all(problems)?;
    out.write_all(b"\n}")
}

/// The parts of `board`, for tests: what [`document`] makes when nothing is kept.
#[cfg(test)]
fn laid_out(board: &crate::board::Board) -> Vec<u8> {
    let parts: Vec<Vec<u8>> = board.features.iter().map(|f| encode(f, 2)).collect();
    let mut out = Vec::new();
    write_document(
        &mut out,
        parts.iter().map(Vec::as_slice),
        &encode(&board.problems, 1),
    )
    .unwrap();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::board::Board;
    use crate::model::plan::{FeatureListing, Plan};
    use crate::model::problem::{Code, Problem};
    use crate::state::lane_info::LaneInfo;

    fn boards() -> Vec<crate::board::FeatureBoard> {
        let mut listing = FeatureListing::new("001-x");
        let files: Vec<(String, String)> = [
            ("WP01", "[]", "done"),
            ("WP02", "[WP01]", "planned"),
            ("WP03", "[WP01, WP02]", "doing"),
        ]
        .iter()
        .map(|(id, deps, lane)| {
            let path = format!("tasks/{id}-x.md");
            listing.add_file(&path);
            let text = format!(
                "---\nwork_package_id: {id}\ntitle: \"T\\u001b{id} ü\"\ndependencies: {deps}\nlane: {lane}\nagent: a\n---\n"
            );
            (format!("kitty-specs/001-x/{path}"), text)
        })
        .collect();
        let plan = Plan::load(vec![listing], &|p: &str| {
            Ok(files
                .iter()
                .find(|(f, _)| f == p)
                .unwrap()
                .1
                .clone()
                .into_bytes())
        });
        let f = &plan.features[0];
        let lanes: Vec<LaneInfo> = f.wps.iter().map(|w| LaneInfo::from_plan(f, w)).collect();
        let mut b = crate::board::feature_board(f, &lanes);
        b.unfetched_remote = Some("origin".into());
        let mut other = crate::board::feature_board(f, &lanes);
        other.slug = "002-y".into();
        other.work_packages.clear();
        vec![b, other]
    }

    #[test]
    fn the_document_is_the_one_serde_writes() {
        let problem = Problem::new(Code::UnknownDependency, "x \u{202e} y").at("a.md", Some(3));
        for features in 0..=2 {
            for problems in [
                vec![],
                vec![problem.clone()],
                vec![problem.clone(), problem.clone()],
            ] {
                let board = Board {
                    schema: SCHEMA,
                    features: boards().into_iter().take(features).collect(),
                    problems,
                };
                let mut serde = Vec::new();
                let mut ser =
                    serde_json::Serializer::with_formatter(&mut serde, TerminalSafe::default());
                board.serialize(&mut ser).unwrap();
                assert_eq!(
                    String::from_utf8(laid_out(&board)).unwrap(),
                    String::from_utf8(serde).unwrap()
                );
            }
        }
    }

    #[test]
    fn a_part_is_kept_under_its_key_and_remote() {
        let section = section_of(7, Some("origin"), b"{}");
        assert_eq!(kept(&section, 7, Some("origin")), Some(&b"{}"[..]));
        assert_eq!(kept(&section, 8, Some("origin")), None);
        assert_eq!(kept(&section, 7, None), None);
        assert_eq!(kept(&section_of(7, None, b"[]"), 7, None), Some(&b"[]"[..]));
        assert_eq!(kept(&section[..section.len() - 1], 7, Some("origin")), None);
    }
}
