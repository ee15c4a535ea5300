//! `git kitty status --graph`: the dependency graph as a tree, like `cargo tree`.
//!
//! Each WP hangs under what it depends on. A WP with several dependencies is drawn in full
//! under the first and named with `(see above)` under the others, and its line says what
//! else it needs, so fan-outs and diamonds stay readable without crossing edges.

use std::fmt::Write as _;

use super::{Paint, clean, pad, truncate, width};
use crate::board::FeatureBoard;
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
    let mut lines: Vec<Line> = Vec::new();
    // Draw only the edges a reader cannot infer (WP03 -> WP01 is implied by WP03 -> WP02 ->
    // WP01): dense plans would otherwise repeat every WP under every ancestor.
    let direct: Vec<Vec<usize>> = (0..graph.len()).map(|i| graph.direct_deps(i)).collect();
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
    let roots: Vec<usize> = (0..graph.len())
        .filter(|&i| graph.deps(i).is_empty())
        .collect();
    for &r in &roots {
        tree.draw(r, "", "", None, &mut drawn, &mut lines);
    }
    let label_width = lines
        .iter()
        .map(|l| width(&l.label))
        .max()
        .unwrap_or(0)
        .min(60);
    for line in &lines {
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
    out
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
