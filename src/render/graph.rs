//! `git kitty status --graph`: the dependency graph as a tree, like `cargo tree`.
//!
//! Each WP hangs under what it depends on. A WP with several dependencies is drawn in full
//! under the first and named with `(see above)` under the others, and its line says what
//! else it needs, so fan-outs and diamonds stay readable without crossing edges.

use std::fmt::Write as _;

use super::{Paint, clean, pad, truncate, width};
use crate::board::FeatureBoard;
use crate::model::graph::Graph;
use crate::model::plan::Feature;

pub fn render(feature: &Feature, board: &FeatureBoard, paint: Paint) -> String {
    let graph = feature.graph();
    let mut out = String::new();
    let _ = writeln!(out, "{}", paint.bold(&board.slug));
    if graph.is_empty() {
        out.push_str("  (no work packages yet)\n");
        return out;
    }
    let mut drawn = vec![false; graph.len()];
    let lines = tree_lines(feature, &graph, &mut drawn);
    write_lines(&mut out, &lines, board, paint);
    write_undrawn(&mut out, feature, &graph, &drawn, paint);
    out
}

/// The tree below every WP without dependencies; marks each WP it draws in `drawn`.
fn tree_lines(feature: &Feature, graph: &Graph, drawn: &mut Vec<bool>) -> Vec<Line> {
    // Draw only the edges a reader cannot infer (WP03 -> WP01 is implied by WP03 -> WP02 ->
    // WP01): dense plans would otherwise repeat every WP under every ancestor.
    let direct = direct_deps(graph);
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); graph.len()];
    for (i, deps) in direct.iter().enumerate() {
        for &d in deps {
            children[d].push(i);
        }
    }
    for c in &mut children {
        c.sort_by(|&a, &b| feature.wps[a].id.cmp(&feature.wps[b].id));
    }
    let tree = Tree {
        direct: &direct,
        children: &children,
        feature,
    };
    let mut lines: Vec<Line> = Vec::new();
    for root in (0..graph.len()).filter(|&i| graph.deps(i).is_empty()) {
        tree.draw(root, "", "", None, drawn, &mut lines);
    }
    lines
}

/// The tree, one WP a line: label, lane, agent and what else the WP needs.
fn write_lines(out: &mut String, lines: &[Line], board: &FeatureBoard, paint: Paint) {
    let label_width = lines
        .iter()
        .map(|l| width(&l.label))
        .max()
        .unwrap_or(0)
        .min(60);
    for line in lines {
        let view = &board.work_packages[line.wp];
        let mut detail = paint.lane(view.lane, view.lane.as_str());
        if let Some(agent) = &view.agent {
            detail.push_str(&paint.dim(&format!(" · {}", clean(agent))));
        }
        if !line.also_needs.is_empty() {
            detail.push_str(&format!("  + needs {}", line.also_needs.join(", ")));
        }
        let label = pad(&truncate(&line.label, label_width), label_width);
        let _ = writeln!(out, "{label}  {detail}");
    }
}

/// The WPs no tree reaches (on or behind a dependency cycle), listed with what they need.
fn write_undrawn(out: &mut String, feature: &Feature, graph: &Graph, drawn: &[bool], paint: Paint) {
    let undrawn: Vec<usize> = (0..graph.len()).filter(|&i| !drawn[i]).collect();
    let on_cycle = graph.on_cycle();
    for (title, cycle) in [
        ("in a dependency cycle (`git kitty check` shows it):", true),
        ("behind a dependency cycle:", false),
    ] {
        let group: Vec<usize> = undrawn
            .iter()
            .copied()
            .filter(|&i| on_cycle[i] == cycle)
            .collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{}", paint.red(title));
        for i in group {
            let deps: Vec<&str> = graph
                .deps(i)
                .iter()
                .map(|&d| feature.wps[d].id.as_str())
                .collect();
            let _ = writeln!(
                out,
                "  {} {}  needs {}",
                feature.wps[i].id,
                clean(&feature.wps[i].title),
                deps.join(", ")
            );
        }
    }
}

/// [`Graph::direct_deps`] of every WP, computed at once. Asked WP by WP, it searches the graph
/// for each pair of a WP's dependencies: O(n⁴) on a dense plan (each WP depending on all
/// earlier ones). Here each WP's reach is computed once, as a bit set.
fn direct_deps(graph: &Graph) -> Vec<Vec<usize>> {
    let reach = Reach::new(graph);
    (0..graph.len())
        .map(|i| reach.direct_deps(graph, i))
        .collect()
}

/// What WPs depend on, directly or not, as bit sets over the *targets*: the dependencies of
/// WPs that have more than one, the only ones a reduction asks about. Sets exist only for
/// the targets and what they depend on: memory is at most (WPs × targets) bits, little for
/// a plan where few WPs have several dependencies.
struct Reach {
    /// Each WP's bit among the targets, if it is one.
    slot: Vec<Option<usize>>,
    /// Per WP, the targets it reaches along one edge or more (empty when not needed).
    sets: Vec<Vec<u64>>,
    words: usize,
}

impl Reach {
    fn new(graph: &Graph) -> Reach {
        let n = graph.len();
        let mut slot = vec![None; n];
        let mut targets = 0;
        for i in (0..n).filter(|&i| graph.deps(i).len() > 1) {
            for &d in graph.deps(i) {
                if slot[d].is_none() {
                    slot[d] = Some(targets);
                    targets += 1;
                }
            }
        }
        let needed = Reach::needed(graph, &slot);
        let mut reach = Reach {
            slot,
            sets: vec![Vec::new(); n],
            words: targets.div_ceil(64),
        };
        // Dependencies first: an orderable WP's set is the union of its dependencies'.
        // WPs on or behind a cycle have no such order; each is searched, stopping at
        // orderable WPs, whose sets are known by then.
        let (order, stuck) = graph.order();
        for i in order.into_iter().filter(|&i| needed[i]) {
            reach.sets[i] = reach.union_of_deps(graph, i);
        }
        let mut ordered = vec![true; n];
        for &i in &stuck {
            ordered[i] = false;
        }
        for i in stuck.into_iter().filter(|&i| needed[i]) {
            reach.sets[i] = reach.search(graph, i, &ordered);
        }
        reach
    }

    /// The targets and everything they depend on: the WPs whose sets are built.
    fn needed(graph: &Graph, slot: &[Option<usize>]) -> Vec<bool> {
        let mut needed: Vec<bool> = slot.iter().map(Option::is_some).collect();
        let mut stack: Vec<usize> = (0..slot.len()).filter(|&i| needed[i]).collect();
        while let Some(v) = stack.pop() {
            for &d in graph.deps(v) {
                if !needed[d] {
                    needed[d] = true;
                    stack.push(d);
                }
            }
        }
        needed
    }

    fn mark(&self, set: &mut [u64], v: usize) {
        if let Some(s) = self.slot[v] {
            set[s / 64] |= 1 << (s % 64);
        }
    }

    fn has(&self, set: &[u64], v: usize) -> bool {
        self.slot[v].is_some_and(|s| set.get(s / 64).is_some_and(|w| w & (1 << (s % 64)) != 0))
    }

    fn union_of_deps(&self, graph: &Graph, i: usize) -> Vec<u64> {
        let mut set = vec![0; self.words];
        for &d in graph.deps(i) {
            self.mark(&mut set, d);
            for (w, x) in set.iter_mut().zip(&self.sets[d]) {
                *w |= x;
            }
        }
        set
    }

    /// Depth-first from `i` (which may reach itself, on a cycle).
    fn search(&self, graph: &Graph, i: usize, ordered: &[bool]) -> Vec<u64> {
        let mut set = vec![0; self.words];
        let mut seen = vec![false; graph.len()];
        let mut stack = vec![i];
        while let Some(v) = stack.pop() {
            for &d in graph.deps(v) {
                if std::mem::replace(&mut seen[d], true) {
                    continue;
                }
                self.mark(&mut set, d);
                if ordered[d] {
                    for (w, x) in set.iter_mut().zip(&self.sets[d]) {
                        *w |= x;
                    }
                } else {
                    stack.push(d);
                }
            }
        }
        set
    }

    /// The dependencies of `i` that no *other* dependency of `i` reaches.
    fn direct_deps(&self, graph: &Graph, i: usize) -> Vec<usize> {
        let deps = graph.deps(i);
        if deps.len() < 2 {
            return deps.to_vec();
        }
        // Targets reached from at least one of the dependencies, and from at least two.
        let mut once = vec![0u64; self.words];
        let mut twice = vec![0u64; self.words];
        for &o in deps {
            for ((one, two), x) in once.iter_mut().zip(twice.iter_mut()).zip(&self.sets[o]) {
                *two |= *one & x;
                *one |= x;
            }
        }
        // Reached from two, at least one is another; reached from one, it is another unless
        // `d` reaches itself (a cycle).
        deps.iter()
            .copied()
            .filter(|&d| {
                let by_another =
                    self.has(&twice, d) || (self.has(&once, d) && !self.has(&self.sets[d], d));
                !by_another
            })
            .collect()
    }
}

struct Line {
    /// Tree prefix, id and title.
    label: String,
    /// Direct dependencies other than the parent drawn above.
    also_needs: Vec<String>,
    wp: usize,
}

struct Tree<'a> {
    direct: &'a [Vec<usize>],
    children: &'a [Vec<usize>],
    feature: &'a Feature,
}

impl Tree<'_> {
    /// Draw `i` and, below it, what depends on it. `indent` is the prefix of this line and
    /// `connector` its branch (`├─ `, `└─ `, or nothing for a root).
    fn draw(
        &self,
        i: usize,
        indent: &str,
        connector: &str,
        parent: Option<usize>,
        drawn: &mut Vec<bool>,
        lines: &mut Vec<Line>,
    ) {
        let wp = &self.feature.wps[i];
        if drawn[i] {
            lines.push(Line {
                label: format!("{indent}{connector}{} (see above)", wp.id),
                also_needs: Vec::new(),
                wp: i,
            });
            return;
        }
        drawn[i] = true;
        lines.push(Line {
            label: format!("{indent}{connector}{} {}", wp.id, clean(&wp.title)),
            also_needs: self.direct[i]
                .iter()
                .filter(|&&d| Some(d) != parent)
                .map(|&d| self.feature.wps[d].id.to_string())
                .collect(),
            wp: i,
        });
        let child_indent = match connector {
            "├─ " => format!("{indent}│  "),
            "└─ " => format!("{indent}   "),
            _ => indent.to_owned(),
        };
        let children = &self.children[i];
        for (k, &c) in children.iter().enumerate() {
            let connector = if k + 1 == children.len() {
                "└─ "
            } else {
                "├─ "
            };
            self.draw(c, &child_indent, connector, Some(i), drawn, lines);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::wp::{WorkPackage, parse};

    /// WP01.. with the given dependencies (indexes, 0 for WP01).
    fn graph_of(deps: &[Vec<usize>]) -> Graph {
        let wps: Vec<WorkPackage> = deps
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let list: Vec<String> = d.iter().map(|j| format!("WP{:02}", j + 1)).collect();
                let text = format!(
                    "---\nwork_package_id: WP{:02}\ndependencies: [{}]\n---\n",
                    i + 1,
                    list.join(", ")
                );
                parse(&format!("t/WP{:02}.md", i + 1), text.as_bytes())
                    .0
                    .unwrap()
            })
            .collect();
        Graph::new(&wps)
    }

    fn one_at_a_time(g: &Graph) -> Vec<Vec<usize>> {
        (0..g.len()).map(|i| g.direct_deps(i)).collect()
    }

    #[test]
    fn direct_deps_at_once_agree_with_one_at_a_time() {
        // A small deterministic generator: random graphs with and without cycles.
        let mut seed = 7u64;
        let mut next = move |below: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize % below
        };
        for round in 0..300 {
            let n = 1 + next(14);
            let forward_only = round % 2 == 0;
            let odds = 1 + next(4);
            let deps: Vec<Vec<usize>> = (0..n)
                .map(|i| {
                    (0..n)
                        .filter(|&j| (j < i || !forward_only) && next(odds + 1) == 0)
                        .collect()
                })
                .collect();
            let g = graph_of(&deps);
            assert_eq!(direct_deps(&g), one_at_a_time(&g), "{deps:?}");
        }
    }

    #[test]
    fn a_dense_plan_reduces_to_a_chain_and_cycles_keep_their_edges() {
        // Each WP depends on all earlier ones: only the previous one is direct.
        let dense: Vec<Vec<usize>> = (0..40).map(|i| (0..i).collect()).collect();
        let g = graph_of(&dense);
        let got = direct_deps(&g);
        assert_eq!(got, one_at_a_time(&g));
        assert!(got[0].is_empty());
        assert!((1..40).all(|i| got[i] == [i - 1]));

        // WP01 <-> WP02, and WP03 on both: each of the two implies the other.
        let g = graph_of(&[vec![1], vec![0], vec![0, 1]]);
        assert_eq!(direct_deps(&g), one_at_a_time(&g));
        assert_eq!(direct_deps(&g)[2], Vec::<usize>::new());
    }
}
