//! Installing git kitty's hooks next to the user's own.
//!
//! Each hook file gets a small shell block, between marker lines, that calls
//! `git-kitty hook <name>`. An existing shell hook keeps its content: the block goes right
//! after its `#!` line, so git kitty's check runs first and the user's script after it, with
//! the same stdin (hooks that read stdin get a replayed copy). A hook in another language
//! cannot take a shell block; with `--force` it is moved aside to `<name>.kitty-chained` and
//! called from a shell wrapper. Uninstalling removes exactly the block (and the wrapper).
//!
//! The hooks directory is git's own answer to `git rev-parse --git-path hooks`, so
//! `core.hooksPath` is respected.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
pub use crate::git::hooks_dir;

/// The hooks a clone gets, and what each is for.
pub const CLIENT_HOOKS: &[&str] = &[
    "prepare-commit-msg",
    "commit-msg",
    "pre-commit",
    "pre-merge-commit",
    "pre-push",
    "reference-transaction",
];
/// The hooks that only add the `Kitty-WP` trailer (`implement` installs these).
pub const TRAILER_HOOKS: &[&str] = &["prepare-commit-msg", "commit-msg"];
/// The hook a shared bare repository gets.
pub const SERVER_HOOKS: &[&str] = &["pre-receive"];

const BEGIN: &str = "# >>> git kitty >>>";
const END: &str = "# <<< git kitty <<<";
const CHAINED: &str = ".kitty-chained";

/// What the block in hook `name` says.
pub fn block(name: &str) -> String {
    let reads_stdin = matches!(name, "pre-push" | "pre-receive");
    // Without git-kitty, checks that protect the branch fail closed (and say why); adding the
    // trailer is only a convenience, so that one warns and lets the commit through.
    let missing = if TRAILER_HOOKS.contains(&name) {
        "  echo \"git kitty: git-kitty is not on PATH: commits here get no Kitty-WP trailer\" >&2"
    } else {
        "  echo \"git kitty: this repository's NAME hook needs git-kitty on PATH; install it, or run 'git kitty hooks uninstall UNINSTALL'\" >&2\n  CLEANUPexit 1"
    };
    let missing = missing
        .replace("NAME", name)
        .replace(
            " UNINSTALL",
            if SERVER_HOOKS.contains(&name) {
                " --server"
            } else {
                ""
            },
        )
        .replace(
            "CLEANUP",
            if reads_stdin {
                "rm -f \"$kitty_in\"\n  "
            } else {
                ""
            },
        );
    let mut b = format!(
        "{BEGIN} managed by `git kitty hooks install`; `git kitty hooks uninstall` removes it\n"
    );
    if name == "reference-transaction" {
        b.push_str(&reference_transaction_body(&missing));
    } else if reads_stdin {
        b.push_str(&format!(
            "kitty_in=$(mktemp \"${{TMPDIR:-/tmp}}/git-kitty-{name}.XXXXXX\") || exit 1\n\
             cat >\"$kitty_in\"\n\
             if command -v git-kitty >/dev/null 2>&1; then\n  \
             git-kitty hook {name} \"$@\" <\"$kitty_in\" || {{ rm -f \"$kitty_in\"; exit 1; }}\n\
             else\n{missing}\nfi\n\
             exec 0<\"$kitty_in\"\n\
             rm -f \"$kitty_in\"\n"
        ));
    } else {
        b.push_str(&format!(
            "if command -v git-kitty >/dev/null 2>&1; then\n  \
             git-kitty hook {name} \"$@\" || exit $?\n\
             else\n{missing}\nfi\n"
        ));
    }
    b.push_str(END);
    b.push('\n');
    b
}

/// `reference-transaction` runs for every ref update git makes, twice (prepared, then
/// committed or aborted): the block does nothing but in `prepared`, and calls git kitty only
/// when a branch (`refs/heads/...`) other than a WP's own (`...-WPnn`, never a target; every
/// commit in a WP worktree moves one) is among the updates. It reads and replays stdin (for the
/// user's script after the block) with shell builtins alone, so a state-ref write or a fetch
/// starts no process but the shell.
fn reference_transaction_body(missing: &str) -> String {
    let missing = missing.replace("\n  ", "\n      ");
    format!(
        "if [ \"$1\" = prepared ]; then\n  \
         kitty_lines=\n  \
         kitty_heads=\n  \
         while IFS= read -r kitty_line; do\n    \
         kitty_lines=\"$kitty_lines$kitty_line\n\"\n    \
         case $kitty_line in\n      \
         *\" refs/heads/\"*-WP[0-9]|*\" refs/heads/\"*-WP[0-9][0-9]|*\" refs/heads/\"*-WP[0-9][0-9][0-9]|*\" refs/heads/\"*-WP[0-9][0-9][0-9][0-9]|*\" refs/heads/\"*-WP[0-9][0-9][0-9][0-9][0-9]|*\" refs/heads/\"*-WP[0-9][0-9][0-9][0-9][0-9][0-9]) ;;\n      \
         *\" refs/heads/\"*) kitty_heads=1 ;;\n    \
         esac\n  \
         done\n  \
         if [ -n \"$kitty_heads\" ]; then\n    \
         if command -v git-kitty >/dev/null 2>&1; then\n      \
         printf '%s' \"$kitty_lines\" | git-kitty hook reference-transaction \"$@\" || exit 1\n    \
         else\n    {missing}\n    fi\n  \
         fi\n  \
         exec 0<<KITTY_EOF\n\
         ${{kitty_lines%?}}\n\
         KITTY_EOF\n\
         fi\n"
    )
}

/// Where a hook file's text stands.
#[derive(Debug, PartialEq, Eq, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HookState {
    /// No file.
    Missing,
    /// Our block, current.
    Installed,
    /// Our block, from an older git kitty.
    Outdated,
    /// The user's hook, without our block.
    UserOnly,
}

/// What the text of hook `name` holds.
pub fn state_of(name: &str, text: Option<&str>) -> HookState {
    let Some(text) = text else {
        return HookState::Missing;
    };
    match find_block(text) {
        None => HookState::UserOnly,
        Some((s, e)) if text[s..e] == block(name) => HookState::Installed,
        Some(_) => HookState::Outdated,
    }
}

/// Byte range of our block (markers included, with the final newline).
fn find_block(text: &str) -> Option<(usize, usize)> {
    let start = text.find(BEGIN)?;
    let end_marker = text[start..].find(END)? + start;
    let end = text[end_marker..]
        .find('\n')
        .map_or(text.len(), |i| end_marker + i + 1);
    Some((start, end))
}

/// Whether a script can take a shell block: `#!` naming a Bourne-style shell, or no `#!`.
pub fn is_shell(text: &str) -> bool {
    let Some(first) = text.lines().next() else {
        return true;
    };
    let Some(interp) = first.strip_prefix("#!") else {
        return true;
    };
    let mut words = interp.split_whitespace();
    let prog = words.next().unwrap_or("");
    let prog = if prog.ends_with("/env") {
        words.next().unwrap_or("")
    } else {
        prog
    };
    let base = prog.rsplit('/').next().unwrap_or(prog);
    matches!(base, "sh" | "bash" | "dash" | "ksh" | "zsh" | "ash")
}

/// `text` with our block for `name` in place (replacing an older one; after the `#!` line of
/// a user script; or a new script when `text` is `None`).
pub fn with_block(name: &str, text: Option<&str>) -> String {
    let b = block(name);
    match text {
        None => format!("#!/bin/sh\n{b}"),
        Some(t) => {
            if let Some((s, e)) = find_block(t) {
                return format!("{}{b}{}", &t[..s], &t[e..]);
            }
            match t.strip_prefix("#!") {
                Some(_) => {
                    let line_end = t.find('\n').map_or(t.len(), |i| i + 1);
                    let (head, rest) = t.split_at(line_end);
                    let head = if head.ends_with('\n') {
                        head.to_owned()
                    } else {
                        format!("{head}\n")
                    };
                    format!("{head}{b}{rest}")
                }
                None => format!("#!/bin/sh\n{b}{t}"),
            }
        }
    }
}

/// `text` without our block; `None` when nothing but a `#!` line (and blank lines) is left,
/// i.e. the file was ours alone.
pub fn without_block(text: &str) -> Option<String> {
    let rest = match find_block(text) {
        Some((s, e)) => format!("{}{}", &text[..s], &text[e..]),
        None => text.to_owned(),
    };
    let meaningful = rest
        .lines()
        .any(|l| !l.trim().is_empty() && !l.starts_with("#!"));
    meaningful.then_some(rest)
}

/// The wrapper that calls a non-shell user hook moved aside.
fn chain_wrapper(name: &str) -> String {
    format!("#!/bin/sh\n{}exec \"$0{CHAINED}\" \"$@\"\n", block(name))
}

/// One hook after an install, uninstall or status.
#[derive(Debug, Serialize)]
pub struct HookReport {
    pub name: String,
    pub path: PathBuf,
    pub state: HookState,
    /// A non-shell user hook moved to `<name>.kitty-chained` and called from our wrapper.
    pub chained: bool,
    /// What the command did to it.
    pub action: HookAction,
}

/// What `hooks install`, `uninstall` or `status` did to one hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HookAction {
    Installed,
    Updated,
    Unchanged,
    Removed,
    /// `hooks status`: nothing was done.
    None,
}

/// Install (or refresh) the blocks of `names` in `dir`. A non-shell user hook is skipped with
/// a refusal unless `force`, which chains it.
pub fn install(dir: &Path, names: &[&str], force: bool) -> Result<Vec<HookReport>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::failed(format!("cannot create {}", dir.display())).cause(e))?;
    let mut out = Vec::new();
    for name in names {
        let path = dir.join(name);
        let chained_path = dir.join(format!("{name}{CHAINED}"));
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) && !force {
            return Err(Error::refused(format!(
                "{} is a symbolic link: git kitty would write its block into the file it points to",
                path.display()
            ))
            .hint("`git kitty hooks install --force` writes through the link anyway"));
        }
        let text = read(&path)?;
        let before = state_of(name, text.as_deref());
        let (new_text, chained, action) = match (&text, before) {
            (Some(_), HookState::Installed) => (None, chained_path.exists(), HookAction::Unchanged),
            (Some(t), HookState::UserOnly) if !is_shell(t) => {
                if !force {
                    return Err(Error::refused(format!(
                        "{} is not a shell script: git kitty cannot add its block to it",
                        path.display()
                    ))
                    .hint(format!(
                        "`git kitty hooks install --force` moves it to {name}{CHAINED} and runs it after git kitty's check"
                    )));
                }
                std::fs::rename(&path, &chained_path).map_err(|e| {
                    Error::failed(format!("cannot move {} aside", path.display())).cause(e)
                })?;
                (Some(chain_wrapper(name)), true, HookAction::Installed)
            }
            (t, _) => (
                Some(with_block(name, t.as_deref())),
                chained_path.exists(),
                if before == HookState::Outdated {
                    HookAction::Updated
                } else {
                    HookAction::Installed
                },
            ),
        };
        if let Some(new_text) = new_text {
            write_executable(&path, &new_text)?;
        }
        out.push(HookReport {
            name: (*name).to_owned(),
            path,
            state: HookState::Installed,
            chained,
            action,
        });
    }
    Ok(out)
}

/// Remove our blocks from `names` in `dir`, restoring chained user hooks.
pub fn uninstall(dir: &Path, names: &[&str]) -> Result<Vec<HookReport>> {
    let mut out = Vec::new();
    for name in names {
        let path = dir.join(name);
        let chained_path = dir.join(format!("{name}{CHAINED}"));
        let text = read(&path)?;
        let mut action = HookAction::Unchanged;
        let mut state = state_of(name, text.as_deref());
        if let Some(t) = &text
            && find_block(t).is_some()
        {
            if chained_path.exists() {
                std::fs::rename(&chained_path, &path).map_err(|e| {
                    Error::failed(format!("cannot restore {}", chained_path.display())).cause(e)
                })?;
                state = HookState::UserOnly;
            } else {
                match without_block(t) {
                    Some(rest) => {
                        write_executable(&path, &rest)?;
                        state = HookState::UserOnly;
                    }
                    None => {
                        std::fs::remove_file(&path).map_err(|e| {
                            Error::failed(format!("cannot remove {}", path.display())).cause(e)
                        })?;
                        state = HookState::Missing;
                    }
                }
            }
            action = HookAction::Removed;
        }
        out.push(HookReport {
            name: (*name).to_owned(),
            path,
            state,
            chained: false,
            action,
        });
    }
    Ok(out)
}

/// Where each of `names` stands in `dir`.
pub fn status(dir: &Path, names: &[&str]) -> Result<Vec<HookReport>> {
    names
        .iter()
        .map(|name| {
            let path = dir.join(name);
            let text = read(&path)?;
            Ok(HookReport {
                name: (*name).to_owned(),
                state: state_of(name, text.as_deref()),
                chained: dir.join(format!("{name}{CHAINED}")).exists(),
                path,
                action: HookAction::None,
            })
        })
        .collect()
}

fn read(path: &Path) -> Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::failed(format!("cannot read {}", path.display())).cause(e)),
    }
}

/// Write a hook atomically: a temporary file beside it, renamed over it. A process killed
/// half-way leaves the old hook whole (and at worst the temporary file), never half of the
/// user's script.
fn write_executable(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let fail =
        |e: std::io::Error| Error::failed(format!("cannot write {}", path.display())).cause(e);
    // Through a symbolic link (allowed with `--force`): the file it points to is replaced.
    let resolved = std::fs::canonicalize(path).ok();
    let path = resolved.as_deref().unwrap_or(path);
    let mode = std::fs::metadata(path).map_or(0o755, |m| m.permissions().mode() | 0o755);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".kitty-tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(fail)?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode)).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_go_after_the_shebang_and_come_out_clean() {
        let user = "#!/bin/bash\necho user hook\n";
        let with = with_block("pre-commit", Some(user));
        assert!(with.starts_with("#!/bin/bash\n# >>> git kitty >>>"));
        assert!(with.ends_with("# <<< git kitty <<<\necho user hook\n"));
        assert_eq!(state_of("pre-commit", Some(&with)), HookState::Installed);
        // Installing twice changes nothing; uninstalling gives the user's hook back.
        assert_eq!(with_block("pre-commit", Some(&with)), with);
        assert_eq!(without_block(&with).unwrap(), user);
        // A hook that was only ours goes away entirely.
        let ours = with_block("pre-push", None);
        assert_eq!(without_block(&ours), None);
        assert_eq!(
            state_of("pre-push", Some("#!/bin/sh\necho x\n")),
            HookState::UserOnly
        );
        assert_eq!(state_of("pre-push", None), HookState::Missing);
    }

    #[test]
    fn older_blocks_are_replaced_in_place() {
        let old = "#!/bin/sh\n# >>> git kitty >>> old\ngit-kitty hook x\n# <<< git kitty <<<\necho mine\n";
        assert_eq!(state_of("pre-commit", Some(old)), HookState::Outdated);
        let new = with_block("pre-commit", Some(old));
        assert_eq!(state_of("pre-commit", Some(&new)), HookState::Installed);
        assert!(new.ends_with("echo mine\n"));
    }

    #[test]
    fn shells_are_recognised() {
        for yes in [
            "#!/bin/sh\n",
            "#!/usr/bin/env bash\n",
            "echo no shebang\n",
            "",
        ] {
            assert!(is_shell(yes), "{yes:?}");
        }
        for no in ["#!/usr/bin/env python3\n", "#!/usr/bin/node\n"] {
            assert!(!is_shell(no), "{no:?}");
        }
    }
}
