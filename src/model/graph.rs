//! The dependency graph of one feature: cycles, a dependency-first order, levels for drawing,
//! and how much work each WP holds back.
//!
//! Nodes are indexes into the feature's WP list. Edges point from a WP to what it depends on;
//! dependencies on unknown ids and on the WP itself are left out (they are reported as plan
//! problems, and keeping them would only make every algorithm here guard against them).

use std::collections::HashMap;

use super::ids::WpId;
use super::wp::WorkPackage;

pub struct Graph {
    ids: Vec<WpId>,
    deps: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
}

impl Graph {
    pub fn new(wps: &[WorkPackage]) -> Graph {
        let index: crate::util::hash::FxHashMap<&WpId, usize> =
            wps.iter().enumerate().map(|(i, wp)| (&wp.id, i)).collect();
        let mut deps = vec![Vec::new(); wps.len()];
        let mut dependents = vec![Vec::new(); wps.len()];
        for (i, wp) in wps.iter().enumerate() {
            for dep in wp.dependencies() {
                if let Some(&j) = index.get(dep)
                    && j != i
                    && !deps[i].contains(&j)
                {
                    deps[i].push(j);
                    dependents[j].push(i);
                }
            }
        }
        Graph {
            ids: wps.iter().map(|wp| wp.id.clone()).collect(),
            deps,
            dependents,
        }
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn deps(&self, i: usize) -> &[usize] {
        &self.deps[i]
    }

    pub fn dependents(&self, i: usize) -> &[usize] {
        &self.dependents[i]
    }

    /// Kahn's algorithm, ties broken by id: dependencies first. Nodes on or behind a cycle
    /// cannot be ordered; they are returned separately.
    pub fn order(&self) -> (Vec<usize>, Vec<usize>) {
        let mut missing: Vec<usize> = self.deps.iter().map(Vec::len).collect();
        let mut ready: std::collections::BTreeSet<(&WpId, usize)> = (0..self.len())
            .filter(|&i| missing[i] == 0)
            .map(|i| (&self.ids[i], i))
            .collect();
        let mut order = Vec::with_capacity(self.len());
        while let Some(first) = ready.pop_first() {
            let i = first.1;
            order.push(i);
            for &d in &self.dependents[i] {
                missing[d] -= 1;
                if missing[d] == 0 {
                    ready.insert((&self.ids[d], d));
                }
            }
        }
        let stuck = (0..self.len()).filter(|&i| missing[i] > 0).collect();
        (order, stuck)
    }

    /// The strongly connected components with more than one node: each is a knot of WPs
    /// that depend on each other (Kosaraju's algorithm, iterative).
    fn knots(&self) -> Vec<Vec<usize>> {
        let n = self.len();
        // Pass 1: finish order of a DFS along dependency edges.
        let mut seen = vec![false; n];
        let mut finished = Vec::with_capacity(n);
        for start in 0..n {
            if seen[start] {
                continue;
            }
            seen[start] = true;
            let mut stack = vec![(start, 0usize)];
            while let Some((v, next)) = stack.pop() {
                if let Some(&d) = self.deps[v].get(next) {
                    stack.push((v, next + 1));
                    if !seen[d] {
                        seen[d] = true;
                        stack.push((d, 0));
                    }
                } else {
                    finished.push(v);
                }
            }
        }
        // Pass 2: along reversed edges, in reverse finish order; each tree is a component.
        let mut component = vec![usize::MAX; n];
        let mut knots = Vec::new();
        for &root in finished.iter().rev() {
            if component[root] != usize::MAX {
                continue;
            }
            let id = knots.len();
            let mut members = vec![root];
            component[root] = id;
            let mut stack = vec![root];
            while let Some(v) = stack.pop() {
                for &u in &self.dependents[v] {
                    if component[u] == usize::MAX {
                        component[u] = id;
                        members.push(u);
                        stack.push(u);
                    }
                }
            }
            knots.push(members);
        }
        knots.retain(|k| k.len() > 1);
        knots
    }

    /// Whether each node is on a dependency cycle (as opposed to merely behind one).
    pub fn on_cycle(&self) -> Vec<bool> {
        let mut on = vec![false; self.len()];
        for knot in self.knots() {
            for v in knot {
                on[v] = true;
            }
        }
        on
    }

    /// Dependency cycles, each as the path that returns to its start (`[WP02, WP04, WP02]`
    /// means WP02 depends on WP04, which depends on WP02). Every WP on a cycle appears in at
    /// least one: for each, the shortest cycle through it. Each cycle starts at its smallest
    /// id and repeats are dropped, so output is stable.
    pub fn cycles(&self) -> Vec<Vec<WpId>> {
        let mut found: Vec<Vec<usize>> = Vec::new();
        for mut knot in self.knots() {
            knot.sort_by(|&a, &b| self.ids[a].cmp(&self.ids[b]));
            let inside = |v: usize| knot.contains(&v);
            for &start in &knot {
                // Breadth-first from `start` along dependencies inside the knot, back to it.
                let mut came_from: HashMap<usize, usize> = HashMap::new();
                let mut queue = std::collections::VecDeque::from([start]);
                let mut closing = None;
                'search: while let Some(v) = queue.pop_front() {
                    let mut next: Vec<usize> = self.deps[v]
                        .iter()
                        .copied()
                        .filter(|&d| inside(d))
                        .collect();
                    next.sort_by(|&a, &b| self.ids[a].cmp(&self.ids[b]));
                    for d in next {
                        if d == start {
                            closing = Some(v);
                            break 'search;
                        }
                        if let std::collections::hash_map::Entry::Vacant(e) = came_from.entry(d) {
                            e.insert(v);
                            queue.push_back(d);
                        }
                    }
                }
                let Some(mut v) = closing else { continue };
                let mut cycle = vec![v];
                while v != start {
                    v = came_from[&v];
                    cycle.push(v);
                }
                cycle.reverse();
                let min = (0..cycle.len())
                    .min_by_key(|&k| &self.ids[cycle[k]])
                    .unwrap_or(0);
                cycle.rotate_left(min);
                if !found.contains(&cycle) {
                    found.push(cycle);
                }
            }
        }
        found.sort_by(|a, b| {
            let ka: Vec<&WpId> = a.iter().map(|&i| &self.ids[i]).collect();
            let kb: Vec<&WpId> = b.iter().map(|&i| &self.ids[i]).collect();
            ka.cmp(&kb)
        });
        found
            .into_iter()
            .map(|c| {
                let mut ids: Vec<WpId> = c.iter().map(|&i| self.ids[i].clone()).collect();
                ids.push(ids[0].clone());
                ids
            })
            .collect()
    }

    /// Longest chain of dependencies below each node (0 for WPs without any); nodes on a cycle
    /// get the level after the deepest orderable node.
    pub fn levels(&self) -> Vec<usize> {
        let (order, stuck) = self.order();
        let mut level = vec![0; self.len()];
        for &i in &order {
            level[i] = self.deps[i]
                .iter()
                .map(|&d| level[d] + 1)
                .max()
                .unwrap_or(0);
        }
        let after = order.iter().map(|&i| level[i] + 1).max().unwrap_or(0);
        for i in stuck {
            level[i] = after;
        }
        level
    }

    /// The dependencies of `i` that no other dependency of `i` already implies (transitive
    /// reduction): what a drawing needs, without the edges a reader infers anyway.
    pub fn direct_deps(&self, i: usize) -> Vec<usize> {
        let deps = &self.deps[i];
        deps.iter()
            .copied()
            .filter(|&d| {
                !deps
                    .iter()
                    .any(|&other| other != d && self.reaches(other, d))
            })
            .collect()
    }

    /// Whether `from` depends on `to`, directly or not.
    fn reaches(&self, from: usize, to: usize) -> bool {
        let mut seen = vec![false; self.len()];
        let mut stack = vec![from];
        while let Some(x) = stack.pop() {
            for &d in &self.deps[x] {
                if d == to {
                    return true;
                }
                if !seen[d] {
                    seen[d] = true;
                    stack.push(d);
                }
            }
        }
        false
    }

    /// The heaviest chain of dependencies, dependencies first, by the summed `weight` of its
    /// WPs: with weight 1 for each WP not yet done, the chain of remaining work that takes
    /// longest however many agents there are (the critical path). WPs at its start that weigh
    /// nothing (already done) are left out; WPs on cycles are never on it. Ties go to the
    /// lower ids, so the answer is stable.
    pub fn critical_path(&self, weight: impl Fn(usize) -> u32) -> Vec<usize> {
        let (order, _) = self.order();
        let mut total = vec![0u64; self.len()];
        let mut prev: Vec<Option<usize>> = vec![None; self.len()];
        for &i in &order {
            // Every dependency of an orderable node is orderable, so already summed.
            let mut best: Option<usize> = None;
            for &d in &self.deps[i] {
                if best.is_none_or(|b| total[d] > total[b] || (total[d] == total[b] && d < b)) {
                    best = Some(d);
                }
            }
            total[i] = best.map_or(0, |b| total[b]) + u64::from(weight(i));
            prev[i] = best;
        }
        let mut end: Option<usize> = None;
        for &i in &order {
            if end.is_none_or(|e| total[i] > total[e] || (total[i] == total[e] && i < e)) {
                end = Some(i);
            }
        }
        let Some(end) = end.filter(|&e| total[e] > 0) else {
            return Vec::new();
        };
        let mut path = vec![end];
        while let Some(p) = prev[*path.last().unwrap_or(&end)] {
            path.push(p);
        }
        path.reverse();
        let first_weighty = path.iter().position(|&i| weight(i) > 0).unwrap_or(0);
        path.split_off(first_weighty)
    }

    /// How many WPs depend on `i`, directly or not, among those `counts` says still count.
    pub fn held_back(&self, i: usize, counts: impl Fn(usize) -> bool) -> usize {
        let mut seen = vec![false; self.len()];
        let mut stack = vec![i];
        let mut n = 0;
        while let Some(x) = stack.pop() {
            for &d in &self.dependents[x] {
                if !seen[d] {
                    seen[d] = true;
                    if counts(d) {
                        n += 1;
                    }
                    stack.push(d);
                }
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::wp::parse;

    fn wps(spec: &[(&str, &[&str])]) -> Vec<WorkPackage> {
        spec.iter()
            .map(|(id, deps)| {
                let text = format!(
                    "---\nwork_package_id: {id}\ndependencies: [{}]\n---\n",
                    deps.join(", ")
                );
                parse(&format!("t/{id}.md"), text.as_bytes()).0.unwrap()
            })
            .collect()
    }

    fn names(g: &Graph, v: &[usize]) -> Vec<String> {
        v.iter().map(|&i| g.ids[i].to_string()).collect()
    }

    #[test]
    fn critical_path_follows_the_most_remaining_work() {
        // WP01 -> WP02 -> WP04 and WP01 -> WP03 -> WP05 -> WP06; WP07 alone.
        let g = Graph::new(&wps(&[
            ("WP01", &[]),
            ("WP02", &["WP01"]),
            ("WP03", &["WP01"]),
            ("WP04", &["WP02"]),
            ("WP05", &["WP03"]),
            ("WP06", &["WP05", "WP04"]),
            ("WP07", &[]),
        ]));
        let all = |_| 1;
        assert_eq!(
            names(&g, &g.critical_path(all)),
            ["WP01", "WP02", "WP04", "WP06"],
            "a tie between two chains goes to the lower ids"
        );
        // WP01 and WP02 done: the remaining chain goes through WP03 and WP05.
        let remaining = |i: usize| u32::from(i > 1);
        assert_eq!(
            names(&g, &g.critical_path(remaining)),
            ["WP03", "WP05", "WP06"]
        );
        assert!(g.critical_path(|_| 0).is_empty(), "all done: no path");
    }

    #[test]
    fn critical_path_skips_cycles() {
        let g = Graph::new(&wps(&[
            ("WP01", &["WP02"]),
            ("WP02", &["WP01"]),
            ("WP03", &[]),
        ]));
        assert_eq!(names(&g, &g.critical_path(|_| 1)), ["WP03"]);
    }

    #[test]
    fn diamond_orders_dependencies_first_and_levels_it() {
        let w = wps(&[
            ("WP04", &["WP02", "WP03"]),
            ("WP03", &["WP01"]),
            ("WP02", &["WP01"]),
            ("WP01", &[]),
        ]);
        let g = Graph::new(&w);
        let (order, stuck) = g.order();
        assert_eq!(names(&g, &order), ["WP01", "WP02", "WP03", "WP04"]);
        assert!(stuck.is_empty());
        assert_eq!(g.levels(), [2, 1, 1, 0]);
        assert_eq!(g.held_back(3, |_| true), 3);
        assert_eq!(g.direct_deps(0).len(), 2);
        assert!(g.cycles().is_empty());
    }

    #[test]
    fn cycles_are_found_once_and_start_at_the_smallest_id() {
        let w = wps(&[
            ("WP01", &[]),
            ("WP02", &["WP04"]),
            ("WP04", &["WP02"]),
            ("WP05", &["WP04"]),
            ("WP06", &["WP07"]),
            ("WP07", &["WP08"]),
            ("WP08", &["WP06"]),
        ]);
        let g = Graph::new(&w);
        let cycles: Vec<String> = g
            .cycles()
            .iter()
            .map(|c| {
                c.iter()
                    .map(WpId::to_string)
                    .collect::<Vec<_>>()
                    .join(" -> ")
            })
            .collect();
        assert_eq!(
            cycles,
            ["WP02 -> WP04 -> WP02", "WP06 -> WP07 -> WP08 -> WP06"]
        );
        let (order, stuck) = g.order();
        assert_eq!(names(&g, &order), ["WP01"]);
        assert_eq!(stuck.len(), 6);
    }

    #[test]
    fn every_wp_of_a_knot_is_on_a_reported_cycle() {
        let w = wps(&[
            ("WP01", &["WP02"]),
            ("WP02", &["WP01", "WP03"]),
            ("WP03", &["WP02"]),
            ("WP04", &["WP03"]),
        ]);
        let g = Graph::new(&w);
        let cycles: Vec<String> = g
            .cycles()
            .iter()
            .map(|c| {
                c.iter()
                    .map(WpId::to_string)
                    .collect::<Vec<_>>()
                    .join(" -> ")
            })
            .collect();
        assert_eq!(cycles, ["WP01 -> WP02 -> WP01", "WP02 -> WP03 -> WP02"]);
        assert_eq!(g.on_cycle(), [true, true, true, false]);
    }

    #[test]
    fn direct_deps_drop_what_is_implied() {
        let w = wps(&[
            ("WP01", &[]),
            ("WP02", &["WP01"]),
            ("WP03", &["WP01", "WP02"]),
        ]);
        let g = Graph::new(&w);
        assert_eq!(names(&g, &g.direct_deps(2)), ["WP02"]);
    }

    #[test]
    fn unknown_and_self_dependencies_are_not_edges() {
        let w = wps(&[("WP01", &["WP01", "WP09"])]);
        let g = Graph::new(&w);
        assert!(g.deps(0).is_empty());
        assert!(g.cycles().is_empty());
    }
}
