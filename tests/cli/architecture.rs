//! The structure of the library, checked on its source: the layer order and the closed git
//! boundary of docs/architecture.md. These read `src/`, they do not run the binaries.

use std::path::{Path, PathBuf};

/// The library's top-level modules, lowest layer first. A module may use only modules listed
/// before it (docs/architecture.md, "Layers"). A new module must be placed here.
const LAYERS: &[&str] = &[
    "error",
    "util",
    "model",
    "git",
    "hooks",
    "state",
    "workspace",
    "board",
    "sync",
    "workflow",
    "render",
    "ui",
    "dashboard",
    "hook_runner",
    "cmd",
    "cli",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every library source file (not the one-line binaries) with its top-level module.
fn library_files() -> Vec<(String, PathBuf)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&src(), &mut files);
    files.sort();
    files
        .into_iter()
        .filter_map(|path| {
            let rel = path.strip_prefix(src()).unwrap().to_path_buf();
            let first = rel.components().next()?.as_os_str().to_str()?.to_owned();
            let module = first.trim_end_matches(".rs").to_owned();
            (module != "bin" && module != "lib").then_some((module, path))
        })
        .collect()
}

/// The code of a file without its comments (doc links are not imports) and without its unit
/// tests (`#[cfg(test)] mod tests` at the end: tests may build repositories with `git`).
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
    code.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident_at(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The top-level modules a piece of code names through `crate::`, including groups such as
/// `use crate::{board::Board, model::{..}}`.
fn crate_modules(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item_start = true;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        item_start = false;
                        out.push(ident_at(&group[j..]).to_owned());
                    }
                    _ => {}
                }
            }
        } else if !rest[ident_at(rest).len()..].starts_with('!') {
            // `crate::name!` is a macro exported at the root, not a module.
            out.push(ident_at(rest).to_owned());
        }
    }
    out
}

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|m| *m == module)
}

/// What goes up the layer order in `code`, a file of `module`.
fn upward_imports(module: &str, code: &str) -> Vec<String> {
    let own = layer(module).unwrap_or(0);
    crate_modules(code)
        .into_iter()
        .filter(|m| m != module && layer(m).is_none_or(|l| l > own))
        .collect()
}

#[test]
fn every_module_has_a_layer() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    let mut sorted = declared.clone();
    sorted.sort_unstable();
    let mut layered = LAYERS.to_vec();
    layered.sort_unstable();
    assert_eq!(
        sorted, layered,
        "src/lib.rs and LAYERS list different modules"
    );
    assert_eq!(
        declared, LAYERS,
        "src/lib.rs declares the modules in layer order"
    );
}

#[test]
fn no_module_uses_a_higher_layer() {
    let mut violations = Vec::new();
    for (module, path) in library_files() {
        for up in upward_imports(&module, &code_of(&path)) {
            violations.push(format!("{} ({module}) uses {up}", path.display()));
        }
    }
    violations.dedup();
    assert!(
        violations.is_empty(),
        "imports going up the layers:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_layer_check_catches_an_upward_import() {
    // The check itself must be able to fail: a model file naming the board, in both spellings.
    assert_eq!(
        upward_imports("model", "use crate::board::Board;"),
        ["board"]
    );
    assert_eq!(
        upward_imports(
            "state",
            "use crate::{model::lane::Lane, workflow::{base, merge}};"
        ),
        ["workflow"]
    );
    assert_eq!(
        upward_imports("cli", "use crate::{cmd, ui::Ui};"),
        Vec::<String>::new()
    );
    assert_eq!(upward_imports("git", "crate::nowhere::f()"), ["nowhere"]);
}

/// The one file outside `src/git` that starts a process: `dashboard --open` hands a URL to
/// the user's browser. It may not run git.
const BROWSER_LAUNCHER: &str = "dashboard/browser.rs";

#[test]
fn only_src_git_runs_git_or_names_gix() {
    let mut leaks = Vec::new();
    for (module, path) in library_files() {
        if module == "git" {
            continue;
        }
        let code = code_of(&path);
        if path.ends_with(BROWSER_LAUNCHER) {
            assert!(
                !code.contains("\"git") && !code.contains("gix"),
                "{BROWSER_LAUNCHER} starts a browser, never git"
            );
            continue;
        }
        // The single-command binaries exec `git-kitty` itself (never git), with std alone
        // so that they link nothing else (src/cli/exec.rs).
        let execs_git_kitty = path.ends_with("src/cli/exec.rs")
            && code.matches("Command::new").count() == 1
            && code.contains("join(\"git-kitty\")");
        for needle in [
            "gix::",
            "Git::",
            if execs_git_kitty {
                "gix::"
            } else {
                "Command::new"
            },
            ".git()",
            ".gix()",
            "git::run",
        ] {
            if code.contains(needle) {
                leaks.push(format!("{}: {needle}", path.display()));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "git outside src/git:\n{}",
        leaks.join("\n")
    );
}
