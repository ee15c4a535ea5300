//! Spec Kitty's own lane log, `kitty-specs/<feature>/status.events.jsonl`.
//!
//! Since Spec Kitty 2.x this file, not the frontmatter, is where its lanes live. git kitty reads
//! it the way Spec Kitty reduces it to `status.json`: lane-transition events only (lines with
//! `wp_id` and `to_lane`; annotations and mission events are other shapes), deduplicated by
//! `event_id`, ordered by `at` then `event_id`, the last `to_lane` of each WP wins.
//!
//! The reduction is kept as a [`Replay`] that can go on with lines appended later (Spec Kitty
//! only appends): "the last transition by (`at`, `event_id`)" is a running maximum, so only
//! the event ids already seen are needed to continue, and those are kept as a small Bloom
//! filter. When a new line's id may have been seen, the caller replays the whole file: the
//! answer is always the one a full replay gives.

use std::borrow::Cow;
use std::collections::HashMap;
use std::str::FromStr;

use serde::Deserialize;

use super::event_line;
use super::ids::WpId;
use super::lane::Lane;
use super::problem::{Code, Problem};
use crate::util::codec::{Decode, Encode, Reader, Writer};
use crate::util::hash::{FxHashMap, FxHashSet};
use crate::util::time::parse_rfc3339;

/// What the log says about one WP.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayedLane {
    pub lane: Lane,
    pub actor: Option<String>,
    /// When the last transition happened (nanoseconds since the epoch), if `at` parsed.
    pub at: Option<i128>,
}

impl Encode for ReplayedLane {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.lane);
        w.put(&self.actor);
        w.put(&self.at);
    }
}

impl Decode for ReplayedLane {
    fn decode(r: &mut Reader) -> Option<Self> {
        Some(ReplayedLane {
            lane: r.get()?,
            actor: r.get()?,
            at: r.get()?,
        })
    }
}

/// The reduction of a log read so far: the winning transition of each WP, the problems
/// found, and what continuing needs (lines read, ids seen).
#[derive(Clone, Debug, Default)]
pub struct Replay {
    /// Per WP: the sort key of its last transition (`at`, `event_id`) and what it says.
    winners: HashMap<WpId, Winner>,
    pub problems: Vec<Problem>,
    /// Lines read so far, for the line numbers of problems further on.
    lines: usize,
    /// Whether the text read so far ends at a line end: only then can more text follow.
    at_line_end: bool,
    /// The `event_id`s of the transitions read so far.
    seen: Bloom,
}

/// The last transition of a WP so far: `at` (`i128::MIN` when unreadable), `event_id`, the
/// lane and the actor. A tuple: the cache holds one per WP and decodes them on every run.
type Winner = (i128, String, Lane, Option<String>);

/// Continuing is not possible (a new line repeats an id that may have been seen before, or
/// the text read so far ended inside a line): replay the whole file instead.
#[derive(Debug, PartialEq, Eq)]
pub struct ReplayAgain;

#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow)]
    event_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    wp_id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    to_lane: Option<Cow<'a, str>>,
    #[serde(borrow)]
    at: Option<Cow<'a, str>>,
    actor: Option<Actor>,
}

/// `actor`: a name, or (in newer logs) an object or anything else, which is not a name.
struct Actor(Option<String>);

impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Actor, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Actor;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E>(self, v: &str) -> Result<Actor, E> {
                Ok(Actor(Some(v.to_owned())))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Actor, E> {
                Ok(Actor(None))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Actor, E> {
                Ok(Actor(None))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Actor, E> {
                Ok(Actor(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Actor, E> {
                Ok(Actor(None))
            }
            fn visit_unit<E>(self) -> Result<Actor, E> {
                Ok(Actor(None))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Actor, A::Error> {
                while a.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Actor(None))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Actor, A::Error> {
                while a
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Actor(None))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// The fields of one line that matter here.
struct Event<'a> {
    event_id: Option<Cow<'a, str>>,
    wp_id: Option<Cow<'a, str>>,
    to_lane: Option<Cow<'a, str>>,
    at: Option<Cow<'a, str>>,
    actor: Option<Cow<'a, str>>,
}

impl<'a> From<event_line::Fields<'a>> for Event<'a> {
    fn from(f: event_line::Fields<'a>) -> Self {
        Event {
            event_id: f.event_id.map(Cow::Borrowed),
            wp_id: f.wp_id.map(Cow::Borrowed),
            to_lane: f.to_lane.map(Cow::Borrowed),
            at: f.at.map(Cow::Borrowed),
            actor: f.actor.map(Cow::Borrowed),
        }
    }
}

/// One line read: by the quick scanner when it is plainly valid, else by serde_json.
fn read_line(raw: &str) -> Result<Event<'_>, serde_json::Error> {
    if let Some(f) = event_line::read(raw) {
        return Ok(Event::from(f));
    }
    let line: Line = serde_json::from_str(raw)?;
    Ok(Event {
        event_id: line.event_id,
        wp_id: line.wp_id,
        to_lane: line.to_lane,
        at: line.at,
        actor: line.actor.and_then(|a| a.0).map(Cow::Owned),
    })
}

/// The first line of `text` read, and its length with its `\n`: the usual line is scanned
/// to its end in one pass; another is split off (`memchr`), trimmed as [`str::trim`] does,
/// and read again (`None`: blank).
fn next_line(text: &str) -> (Option<Result<Event<'_>, serde_json::Error>>, usize) {
    if let Some((fields, len)) = event_line::read_first_line(text) {
        return (Some(Ok(Event::from(fields))), len);
    }
    let len = memchr::memchr(b'\n', text.as_bytes()).map_or(text.len(), |i| i + 1);
    let raw = text[..len].trim();
    ((!raw.is_empty()).then(|| read_line(raw)), len)
}

/// Replay `text` (the whole file), able to go on. `path` is used in the problems.
#[cfg(test)]
pub fn replay(path: &str, text: &str) -> Replay {
    replay_whole(path, text, true)
}

/// Replay `text` (the whole file), keeping what continuing needs only when `continuable` (a
/// cache will keep the replay): without it, [`Replay::continue_with`] asks for a full
/// replay. `path` is used in the problems.
pub fn replay_whole(path: &str, text: &str, continuable: bool) -> Replay {
    let mut replay = Replay {
        at_line_end: true,
        ..Replay::default()
    };
    let mut ids = FxHashSet::default();
    // Nothing was read before: no id can repeat an earlier one, so this cannot fail.
    let _ = replay.feed_lines(path, text, &mut ids, None);
    if continuable {
        replay.seen = Bloom::of(&ids);
    }
    replay
}

impl Replay {
    /// The lane of each WP the log moved.
    pub fn lanes(&self) -> HashMap<WpId, ReplayedLane> {
        self.winners
            .iter()
            .map(|(wp, (at, _, lane, actor))| {
                let replayed = ReplayedLane {
                    lane: *lane,
                    actor: actor.clone(),
                    at: (*at != i128::MIN).then_some(*at),
                };
                (wp.clone(), replayed)
            })
            .collect()
    }

    /// [`Replay::lanes`], taking the replay apart instead of copying what it holds.
    pub fn into_lanes(self) -> HashMap<WpId, ReplayedLane> {
        self.winners
            .into_iter()
            .map(|(wp, (at, _, lane, actor))| {
                let at = (at != i128::MIN).then_some(at);
                (wp, ReplayedLane { lane, actor, at })
            })
            .collect()
    }

    /// Go on with `text`, the bytes appended to the file since the text already read. On
    /// [`ReplayAgain`] `self` is unusable: replay the whole file.
    pub fn continue_with(&mut self, path: &str, text: &str) -> Result<(), ReplayAgain> {
        if !self.at_line_end {
            return Err(ReplayAgain);
        }
        let mut ids = FxHashSet::default();
        let mut seen = self.seen.decode().ok_or(ReplayAgain)?;
        self.feed_lines(path, text, &mut ids, Some(&seen))?;
        for id in &ids {
            seen.add(id);
        }
        if seen.overloaded() {
            return Err(ReplayAgain);
        }
        self.seen = seen.encode();
        Ok(())
    }

    /// Read the lines of `text`. `ids` collects the transition ids of this text; `earlier`
    /// holds those of the text read before (a possible repeat stops the replay).
    ///
    /// The winners of this text are kept borrowed from it while it is read (a log is tens of
    /// thousands of lines, nearly each a new winner), and owned once, at the end.
    fn feed_lines<'t>(
        &mut self,
        path: &str,
        text: &'t str,
        ids: &mut FxHashSet<Cow<'t, str>>,
        earlier: Option<&Bits>,
    ) -> Result<(), ReplayAgain> {
        // About one transition per 400 bytes in Spec Kitty's logs.
        ids.reserve(text.len() / 512);
        let mut winners: FxHashMap<Cow<'t, str>, Borrowed<'t>> = FxHashMap::default();
        let mut rest = text;
        while !rest.is_empty() {
            self.lines += 1;
            let n = self.lines;
            let (read, len) = next_line(rest);
            rest = &rest[len..];
            let Some(read) = read else {
                continue;
            };
            let warn = |msg: String| Problem::new(Code::MalformedEvent, msg).at(path, Some(n));
            let mut line = match read {
                Ok(l) => l,
                Err(e) => {
                    self.problems
                        .push(warn(format!("not a JSON event, skipped: {e}")));
                    continue;
                }
            };
            let (Some(wp), Some(to)) = (line.wp_id.take(), line.to_lane.take()) else {
                continue; // annotation or mission event: not a lane change
            };
            if let Some(id) = &line.event_id {
                // Seen in this text: skipped. (A refusal below drops the set with the replay.)
                if !ids.insert(id.clone()) {
                    continue;
                }
                if earlier.is_some_and(|b| b.may_contain(id)) {
                    return Err(ReplayAgain);
                }
            }
            let canonical = match &wp {
                Cow::Borrowed(w) => WpId::canonical(w),
                Cow::Owned(w) => WpId::canonical(w).map(|c| Cow::Owned(c.into_owned())),
            };
            let Some(wp) = canonical else {
                self.problems
                    .push(warn(format!("`wp_id` {wp:?} is not a WP id, skipped")));
                continue;
            };
            let Ok(lane) = Lane::from_str(&to) else {
                self.problems
                    .push(warn(format!("`to_lane` {to:?} is not a lane, skipped")));
                continue;
            };
            transition(&mut winners, wp, lane, line);
        }
        self.at_line_end = (text.is_empty() && self.at_line_end) || text.ends_with('\n');
        for (wp, (at, id, lane, actor)) in winners {
            // This text comes after the one read before: level with it, it wins.
            let wp = WpId::from_canonical(wp);
            let wins = match self.winners.get(&wp) {
                Some((a, i, ..)) => (at, id.as_ref()) >= (*a, i.as_str()),
                None => true,
            };
            if wins {
                let actor = actor.map(Cow::into_owned);
                self.winners.insert(wp, (at, id.into_owned(), lane, actor));
            }
        }
        Ok(())
    }
}

/// A winner while its text is read: [`Winner`], borrowed.
type Borrowed<'t> = (i128, Cow<'t, str>, Lane, Option<Cow<'t, str>>);

/// A transition wins over the WP's earlier one when it sorts after it or level with it
/// (a stable sort by (`at`, `event_id`) keeps the later line last).
fn transition<'t>(
    winners: &mut FxHashMap<Cow<'t, str>, Borrowed<'t>>,
    wp: Cow<'t, str>,
    lane: Lane,
    line: Event<'t>,
) {
    // Events without a readable time sort first, as Spec Kitty's string sort would put ''.
    let at = line
        .at
        .as_deref()
        .and_then(parse_rfc3339)
        .unwrap_or(i128::MIN);
    let id = line.event_id.unwrap_or_default();
    match winners.get_mut(&wp) {
        Some(w) => {
            if (at, id.as_ref()) >= (w.0, w.1.as_ref()) {
                *w = (at, id, lane, line.actor);
            }
        }
        None => {
            winners.insert(wp, (at, id, lane, line.actor));
        }
    }
}

/// A Bloom filter of event ids (two probes; 16 to 32 bits per id when made, refused past 8):
/// "may contain" is enough to continue a replay safely, as a false "maybe" only costs a full
/// replay. Kept as bytes, decoded to words only to continue.
#[derive(Clone, Debug, Default)]
struct Bloom {
    /// Ids added.
    count: usize,
    /// The bits, 64 at a time, each word as 8 little-endian bytes.
    bytes: Vec<u8>,
}

/// A [`Bloom`] decoded to test and add ids.
struct Bits {
    count: usize,
    words: Vec<u64>,
}

impl Bloom {
    /// A filter holding `ids`, sized for them.
    fn of(ids: &FxHashSet<Cow<str>>) -> Bloom {
        let words = (ids.len() * 16).div_ceil(64).next_power_of_two().max(4);
        let mut bits = Bits {
            count: 0,
            words: vec![0; words],
        };
        for id in ids {
            bits.add(id);
        }
        bits.encode()
    }

    /// The bits; `None` when there are none (never made, or damaged): the caller replays
    /// everything.
    fn decode(&self) -> Option<Bits> {
        if self.bytes.is_empty() || !self.bytes.len().is_multiple_of(8) {
            return None;
        }
        let words = self
            .bytes
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect();
        Some(Bits {
            count: self.count,
            words,
        })
    }
}

impl Bits {
    fn encode(&self) -> Bloom {
        Bloom {
            count: self.count,
            bytes: self.words.iter().flat_map(|w| w.to_le_bytes()).collect(),
        }
    }

    fn probes(&self, id: &str) -> [usize; 2] {
        // Fx a word at a time (ids are tens of thousands per log), its bits spread by a
        // multiply-xorshift finish: both halves are used.
        let mut hasher = crate::util::hash::FxHasher::default();
        std::hash::Hasher::write(&mut hasher, id.as_bytes());
        let h = std::hash::Hasher::finish(&hasher);
        let h = (h ^ (h >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        let h = h ^ (h >> 32);
        let size = self.words.len() * 64;
        [(h as u32) as usize % size, (h >> 32) as usize % size]
    }

    fn add(&mut self, id: &str) {
        for bit in self.probes(id) {
            self.words[bit / 64] |= 1 << (bit % 64);
        }
        self.count += 1;
    }

    /// False only when `id` was never added.
    fn may_contain(&self, id: &str) -> bool {
        self.probes(id)
            .iter()
            .all(|&bit| self.words[bit / 64] & (1 << (bit % 64)) != 0)
    }

    /// Too full to keep its false "maybe"s rare (under 5 %).
    fn overloaded(&self) -> bool {
        self.count * 8 > self.words.len() * 64
    }
}

/// Cache encoding (`util::codec`), field by field.
impl Encode for Replay {
    fn encode(&self, w: &mut Writer) {
        w.uint(self.winners.len() as u64);
        for (wp, (at, id, lane, actor)) in &self.winners {
            w.put(wp);
            w.put(at);
            w.put(id);
            w.put(lane);
            w.put(actor);
        }
        w.put(&self.problems);
        w.put(&self.lines);
        w.put(&self.at_line_end);
        w.put(&self.seen.count);
        w.raw(&self.seen.bytes);
    }
}

impl Decode for Replay {
    fn decode(r: &mut Reader) -> Option<Self> {
        let count = r.usize()?;
        let mut winners = HashMap::with_capacity(count.min(4096));
        for _ in 0..count {
            let wp: WpId = r.get()?;
            winners.insert(wp, (r.get()?, r.get()?, r.get()?, r.get()?));
        }
        Some(Replay {
            winners,
            problems: r.get()?,
            lines: r.get()?,
            at_line_end: r.get()?,
            seen: Bloom {
                count: r.get()?,
                bytes: r.raw()?.to_vec(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a line reads as: its `wp_id`, or the error.
    fn gist(read: Result<Event, serde_json::Error>) -> Result<Option<String>, String> {
        read.map(|e| e.wp_id.map(Cow::into_owned))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn lines_are_read_as_str_lines_splits_and_trims_them() {
        let ok = r#"{"event_id":"1","wp_id":"WP01","to_lane":"done"}"#;
        let candidates = [
            ok.to_owned(),
            format!(" {ok} \t"),
            format!("{ok}\r"),
            format!("{ok}\u{a0}"),
            format!("\u{2028}{ok}"),
            format!("{ok}x"),
            String::new(),
            "  ".to_owned(),
            "{oops".to_owned(),
            "é".to_owned(),
            "{".to_owned(),
            "}".to_owned(),
        ];
        for a in &candidates {
            for b in &candidates {
                for (sep, end) in [("\n", ""), ("\r\n", "\n"), ("\n", "\r\n"), ("\n\n", "\n")] {
                    let text = format!("{a}{sep}{b}{end}");
                    let std: Vec<_> = text
                        .lines()
                        .map(|l| {
                            Some(l.trim())
                                .filter(|l| !l.is_empty())
                                .map(|l| gist(read_line(l)))
                        })
                        .collect();
                    let mut ours = Vec::new();
                    let mut rest = text.as_str();
                    while !rest.is_empty() {
                        let (read, len) = next_line(rest);
                        ours.push(read.map(gist));
                        rest = &rest[len..];
                    }
                    assert_eq!(ours, std, "{text:?}");
                }
            }
        }
    }

    fn lane(map: &HashMap<WpId, ReplayedLane>, id: &str) -> Lane {
        map[&id.parse::<WpId>().unwrap()].lane
    }

    fn through_the_cache(r: &Replay) -> Replay {
        let mut w = Writer::default();
        w.put(r);
        let mut reader = Reader::new(&w.bytes);
        let back = reader.get().unwrap();
        assert!(reader.is_done());
        back
    }

    fn lanes_and_problems(r: &Replay) -> (HashMap<WpId, ReplayedLane>, Vec<Problem>) {
        // Taking a replay apart gives what copying from it gives.
        assert_eq!(r.clone().into_lanes(), r.lanes());
        (r.lanes(), r.problems.clone())
    }

    #[test]
    fn orders_by_time_not_by_line_and_dedups_by_event_id() {
        let text = r#"
{"event_id":"B","wp_id":"WP01","to_lane":"for_review","at":"2026-01-01T10:00:00+00:00","actor":"x"}
{"event_id":"A","wp_id":"WP01","to_lane":"in_progress","at":"2026-01-01T09:00:00Z"}
{"event_id":"C","wp_id":"WP02","to_lane":"claimed","at":"2026-01-01T09:00:00Z"}
{"event_id":"C","wp_id":"WP02","to_lane":"done","at":"2026-01-01T11:00:00Z"}
{"event_id":"D","wp_id":"WP01","kind":"annotation","delta":{}}
{"aggregate_type":"Mission","event_id":"E","payload":{}}
"#;
        let (lanes, problems) = lanes_and_problems(&replay("s.jsonl", text));
        assert!(problems.is_empty());
        assert_eq!(lane(&lanes, "WP01"), Lane::ForReview);
        assert_eq!(lane(&lanes, "WP02"), Lane::Claimed);
        let wp1 = &lanes[&"WP01".parse::<WpId>().unwrap()];
        assert_eq!(wp1.actor.as_deref(), Some("x"));
    }

    #[test]
    fn same_time_ties_break_on_event_id() {
        let text = r#"{"event_id":"02","wp_id":"WP01","to_lane":"done","at":"2026-01-01T09:00:00Z"}
{"event_id":"01","wp_id":"WP01","to_lane":"planned","at":"2026-01-01T09:00:00Z"}"#;
        assert_eq!(lane(&replay("s", text).lanes(), "WP01"), Lane::Done);
    }

    #[test]
    fn bad_lines_are_warnings_not_failures() {
        let (lanes, problems) = lanes_and_problems(&replay(
            "s",
            "{oops\n{\"event_id\":\"1\",\"wp_id\":\"WP01\",\"to_lane\":\"nowhere\"}\n{\"event_id\":\"2\",\"wp_id\":\"WP01\",\"to_lane\":\"doing\"}\n",
        ));
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].line, Some(1));
        assert_eq!(lane(&lanes, "WP01"), Lane::InProgress);
    }

    /// A log of `n` lines: transitions of four WPs with times out of order, repeated ids,
    /// annotations, a malformed line and lines without ids.
    fn log(n: usize) -> Vec<String> {
        let lanes = ["planned", "claimed", "in_progress", "for_review", "done"];
        (0..n)
            .map(|i| match i % 11 {
                3 => format!(r#"{{"event_id":"A{i}","wp_id":"WP01","kind":"annotation"}}"#),
                7 => "{oops".to_owned(),
                9 => format!(
                    r#"{{"wp_id":"WP0{}","to_lane":"{}","at":"2026-01-01T09:{:02}:00Z"}}"#,
                    i % 4 + 1,
                    lanes[i % 5],
                    i % 60
                ),
                _ => format!(
                    r#"{{"event_id":"E{:03}","wp_id":"WP0{}","to_lane":"{}","at":"2026-01-01T{:02}:00:00+00:00","actor":"a{i}"}}"#,
                    // Every 13th line repeats the id of the line before it.
                    if i % 13 == 12 { i - 1 } else { i },
                    i % 4 + 1,
                    lanes[(i * 7) % 5],
                    (i * 37) % 24
                ),
            })
            .collect()
    }

    #[test]
    fn continuing_gives_what_a_full_replay_gives_or_asks_for_one() {
        let lines: Vec<String> = log(300).into_iter().map(|l| l + "\n").collect();
        let text = |n: usize| lines[..n].concat();
        // As Spec Kitty appends and the cache goes on: one to three lines at a time, through
        // the cache's JSON, a full replay when refused.
        let mut r = replay("s", &text(10));
        let (mut at, mut refused) = (10, 0);
        while at < lines.len() {
            let next = (at + 1 + at % 3).min(lines.len());
            r = through_the_cache(&r);
            match r.continue_with("s", &lines[at..next].concat()) {
                Ok(()) => {}
                Err(ReplayAgain) => {
                    refused += 1;
                    r = replay("s", &text(next));
                }
            }
            let full = replay("s", &text(next));
            assert_eq!(
                lanes_and_problems(&r),
                lanes_and_problems(&full),
                "at {next}"
            );
            at = next;
        }
        // Lines that repeat the id of the line before them refuse when both are not in the
        // same step (about 20 here); a false "maybe" of the Bloom filter may refuse a few more.
        assert!((5..40).contains(&refused), "{refused} refused");
    }

    #[test]
    fn a_replay_kept_by_no_cache_reads_the_same_and_never_continues() {
        let text: String = log(200).into_iter().map(|l| l + "\n").collect();
        let mut once = replay_whole("s", &text, false);
        assert_eq!(
            lanes_and_problems(&once),
            lanes_and_problems(&replay("s", &text))
        );
        let more = "{\"event_id\":\"Z\",\"wp_id\":\"WP01\",\"to_lane\":\"done\"}\n";
        assert_eq!(once.continue_with("s", more), Err(ReplayAgain));
    }

    #[test]
    fn ids_spelled_otherwise_are_one_wp() {
        let text = r#"{"event_id":"1","wp_id":"wp01","to_lane":"claimed","at":"2026-01-01T09:00:00Z"}
{"event_id":"2","wp_id":"WP01","to_lane":"done","at":"2026-01-01T10:00:00Z"}
{"event_id":"3","wp_id":" Wp01","to_lane":"planned","at":"2026-01-01T08:00:00Z"}
"#;
        let lanes = replay("s", text).lanes();
        assert_eq!(lanes.len(), 1);
        assert_eq!(lane(&lanes, "WP01"), Lane::Done);
    }

    #[test]
    fn a_repeated_id_or_a_cut_line_asks_for_a_full_replay() {
        let first = "{\"event_id\":\"X\",\"wp_id\":\"WP01\",\"to_lane\":\"done\"}\n";
        let mut r = replay("s", first);
        assert_eq!(
            r.continue_with(
                "s",
                "{\"event_id\":\"X\",\"wp_id\":\"WP01\",\"to_lane\":\"planned\"}\n"
            ),
            Err(ReplayAgain)
        );
        let mut cut = replay("s", "{\"event_id\":\"X\",\"wp_id\":\"WP01\",");
        assert_eq!(
            cut.continue_with("s", "\"to_lane\":\"done\"}\n"),
            Err(ReplayAgain)
        );
        // Annotations and lines without an id never collide.
        let mut r = replay("s", first);
        r.continue_with("s", "{\"event_id\":\"X\",\"kind\":\"annotation\"}\n{\"wp_id\":\"WP01\",\"to_lane\":\"claimed\"}\n")
            .unwrap();
        assert_eq!(lane(&r.lanes(), "WP01"), Lane::Done);
        assert_eq!(r.problems, []);
    }

    /// Messages as the earlier reader (`serde_json::Value` for `actor`, owned strings) gave.
    #[test]
    fn odd_values_are_read_as_before() {
        let text = r#"{"event_id":"1","wp_id":"WP01","to_lane":"done","actor":{"tool":"user"}}
{"event_id":"2","wp_id":"WP02","to_lane":"done","actor":[1,2],"at":null}
{"event_id":"3","wp_id":"WP03","to_lane":"done","actor":"\u0061b"}
{"event_id":4,"wp_id":"WP04","to_lane":"done"}
{"event_id":"5","wp_id":"WP05","to_lane":"done","wp_id":"WP06"}
{"event_id":"6","wp_id":"WP\u0030\u0037","to_lane":"done"}
{"event_id":"7","wp_id":5,"to_lane":"done"}
{"event_id":"8","wp_id":"WP01","to_lane":"done","at":17}
{"event_id":"9","wp_id":"WP01","to_lane":"done","actor":1e999}
"#;
        let r = replay("s", text);
        let lanes = r.lanes();
        assert_eq!(lanes[&"WP01".parse::<WpId>().unwrap()].actor, None);
        assert_eq!(
            lanes[&"WP03".parse::<WpId>().unwrap()].actor.as_deref(),
            Some("ab")
        );
        assert_eq!(lane(&lanes, "WP07"), Lane::Done);
        let messages: Vec<&str> = r.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "not a JSON event, skipped: invalid type: integer `4`, expected a string at line 1 column 13",
                "not a JSON event, skipped: duplicate field `wp_id` at line 1 column 55",
                "not a JSON event, skipped: invalid type: integer `5`, expected a string at line 1 column 25",
                "not a JSON event, skipped: invalid type: integer `17`, expected a string at line 1 column 55",
                "not a JSON event, skipped: number out of range at line 1 column 61",
            ]
        );
    }
}
