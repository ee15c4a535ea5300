//! The server's trust model: a bare repository with `git kitty hooks install --server`, and a
//! clone pushing to it over `file://` with plain git (`--no-verify`: the client's own checks
//! are skipped, as anyone can skip them). Every forged push is refused with a clear message;
//! every legitimate flow is taken.

use std::path::PathBuf;

use crate::common::net;
use crate::common::{Repo, Run};

const WP01: &str = "refs/kitty/wp/001-linear/WP01";
const WP02: &str = "refs/kitty/wp/001-linear/WP02";
const WP03: &str = "refs/kitty/wp/001-linear/WP03";

/// A clone of the `linear` plan (WP01 <- WP02 <- WP03) and its hooked bare server, `origin`,
/// with `main` pushed.
struct Server {
    repo: Repo,
    bare: PathBuf,
}

impl Server {
    fn new() -> Server {
        let repo = Repo::with_fixture("linear");
        let bare = net::origin(&repo, "server.git");
        Server { repo, bare }
    }

    /// `git <args>` in the clone (no editor), as a run to check.
    fn git(&self, args: &[&str]) -> Run {
        let mut cmd = self.repo.command_in("git", &self.repo.root);
        cmd.env("GIT_EDITOR", "true").args(args);
        Run::new(cmd.output().unwrap(), &self.repo.root)
    }

    /// `git push --no-verify origin <specs>`: only the server judges.
    fn push(&self, specs: &[&str]) -> Run {
        let mut args = vec!["push", "--no-verify", "origin"];
        args.extend_from_slice(specs);
        self.git(&args)
    }

    /// What the server has at `rev` (empty when nothing).
    fn on_server(&self, rev: &str) -> String {
        let out = self
            .repo
            .command_in("git", &self.bare)
            .args(["rev-parse", "--verify", "--quiet", rev])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn rev(&self, rev: &str) -> String {
        self.repo.git(&["rev-parse", rev]).trim().to_owned()
    }

    fn object(&self, kind: &str, text: &str) -> String {
        self.repo.write_object(kind, text)
    }

    fn forge(
        &self,
        of: &str,
        parents: Option<&[&str]>,
        edit: impl FnOnce(&mut serde_json::Value, &mut serde_json::Value),
    ) -> String {
        self.repo.forge_state(of, parents, edit)
    }

    /// Put `object` at `name` on the server without its hook: the damage an older server let
    /// in, before it checked state refs.
    fn damage(&self, name: &str, object: &str) {
        self.repo.git(&["update-ref", "refs/forged/tmp", object]);
        self.repo.git_in(
            &self.bare,
            &[
                "fetch",
                "-q",
                "--no-tags",
                self.repo.root.to_str().unwrap(),
                &format!("+refs/forged/tmp:{name}"),
            ],
        );
        self.repo.git(&["update-ref", "-d", "refs/forged/tmp"]);
    }

    /// Implement `id`, commit `file` in its worktree and get it approved (`--force`: whatever
    /// its dependencies say).
    fn approved(&self, id: &str, extra: &[&str], file: &str) {
        let mut args = vec!["implement", id];
        args.extend_from_slice(extra);
        self.repo.kitty(&args).ok();
        let wt = self.repo.worktree(&format!("001-linear-{id}"));
        self.repo.commit_in(&wt, file, &format!("{id}\n"));
        self.repo.kitty(&["lane", id, "for_review"]).ok();
        self.repo
            .kitty(&["lane", id, "approved", "--agent", "reviewer"])
            .ok();
        // The approval is shared: the server lands only work its state says is approved.
        self.push(&[&format!("refs/kitty/wp/001-linear/{id}")]).ok();
    }

    /// WP02 done by hand on its own branch, its dependency WP01 not started.
    /// `git merge --no-ff` of a WP's branch into main, client hooks skipped: only the server
    /// judges it.
    fn merge_by_hand(&self, branch: &str) {
        self.git(&["merge", "-q", "--no-ff", "--no-edit", "--no-verify", branch])
            .ok();
    }

    fn wp02_without_wp01(&self) {
        self.approved("WP02", &["--force", "--reason", "test"], "two.txt");
    }

    fn edit_plan(&self, id: &str, from: &str, to: &str) {
        let name = match id {
            "WP01" => "WP01-first.md",
            "WP02" => "WP02-second.md",
            _ => "WP03-third.md",
        };
        let path = format!("kitty-specs/001-linear/tasks/{name}");
        let text = std::fs::read_to_string(self.repo.path(&path)).unwrap();
        assert!(text.contains(from), "{text}");
        self.repo.write(&path, &text.replacen(from, to, 1));
    }
}

#[test]
fn a_hand_made_state_saying_done_is_refused_and_lands_nothing() {
    let s = Server::new();
    s.repo.kitty(&["note", "WP01", "hello"]).ok();
    let note = s.rev(WP01);
    // On top of the real history: a note whose state says done.
    let forged = s.forge(&note, Some(&[&note]), |event, state| {
        event["lamport"] = 2.into();
        event["id"] = "forged-1".into();
        state["lane"] = "done".into();
        state["lamport"] = 2.into();
        state["events"] = 2.into();
    });
    s.push(&[&format!("{forged}:{WP01}")])
        .code(1)
        .stderr_has(&format!(
            "remote: error: refusing {WP01}: commit {} records a state its event does not lead to: lane \"done\", where the lane rules give \"planned\"",
            &forged[..7]
        ))
        .stderr_has("pre-receive hook declined");
    // A first event that moves it to done: the rules allow it from approved, but only
    // `git kitty merge` moves a WP to done, once its work is on the target.
    let done = s.forge(&note, Some(&[]), |event, state| {
        event["kind"] = "lane".into();
        event["from"] = "approved".into();
        event["to"] = "done".into();
        event["note"] = serde_json::Value::Null;
        state["lane"] = "done".into();
        state["review_status"] = serde_json::Value::Null;
    });
    s.push(&[&format!("{done}:{WP01}")])
        .code(1)
        .stderr_has(&format!(
            "remote: error: refusing {WP01}: commit {} records WP01 as done, but no target branch has its work (a commit with `Kitty-WP: 001-linear/WP01`)",
            &done[..7]
        ));
    assert_eq!(s.on_server(WP01), "");

    // Even a server that took such a state before it checked them lands nothing on it.
    s.damage(WP01, &done);
    s.wp02_without_wp01();
    s.merge_by_hand("001-linear-WP02");
    let before = s.on_server("main");
    s.push(&["main"]).code(1).stderr_has(
        "remote: error: refusing to land 001-linear/WP02 on main: it depends on WP01, which is not on main yet",
    );
    assert_eq!(s.on_server("main"), before);
}

#[test]
fn frontmatter_lanes_never_count_as_landed() {
    let s = Server::new();
    s.wp02_without_wp01();
    // One push: WP01 marked done in its file, and WP02's work.
    s.edit_plan("WP01", "dependencies: []", "dependencies: []\nlane: done");
    s.repo.commit_all("WP01 is done, honest");
    let marked = s.rev("main");
    s.merge_by_hand("001-linear-WP02");
    s.push(&["main"]).code(1).stderr_has(
        "remote: error: refusing to land 001-linear/WP02 on main: it depends on WP01, which is not on main yet",
    );
    // The mark alone is a plan edit: taken. WP02's work after it still is not.
    s.push(&[&format!("{marked}:refs/heads/main")]).ok();
    s.push(&["main"])
        .code(1)
        .stderr_has("refusing to land 001-linear/WP02 on main: it depends on WP01")
        .stderr_has("hint: land them in this order: WP01, then WP02");
    // Work that landed before git kitty counts once a commit on main says so.
    s.git(&["reset", "-q", "--hard", &marked]).ok();
    s.git(&[
        "commit",
        "-q",
        "--allow-empty",
        "--no-verify",
        "-m",
        "WP01 landed before git kitty\n\nKitty-Landed: 001-linear/WP01",
    ])
    .ok();
    s.merge_by_hand("001-linear-WP02");
    s.push(&["main"]).ok();
}

#[test]
fn a_push_that_changes_dependencies_and_lands_their_work_is_refused() {
    let s = Server::new();
    s.wp02_without_wp01();
    // First drop the dependency, then land the work: one push.
    s.edit_plan("WP02", "dependencies: [WP01]", "dependencies: []");
    s.repo.commit_all("WP02 does not need WP01 after all");
    let plan_edit = s.rev("main");
    s.merge_by_hand("001-linear-WP02");
    s.push(&["main"])
        .code(1)
        .stderr_has("remote: error: refusing to land 001-linear/WP02 on main: this push also changes its dependencies in the plan (WP01 before, none after)")
        .stderr_has(&format!(
            "hint: a plan change lands alone, before the work it concerns: `git push <remote> {}:main` first",
            &plan_edit
        ))
        .stderr_has("remote: caused by: refusing to land 001-linear/WP02 on main: it depends on WP01, which is not on main yet");
    // The plan edit alone, then the work: taken, and the edit shows in main's history.
    s.push(&[&format!("{plan_edit}:refs/heads/main")]).ok();
    s.push(&["main"]).ok();
    assert_eq!(s.on_server("main"), s.rev("main"));
}

#[test]
fn require_trailer_refuses_unnamed_work_and_squashes_without_trailers() {
    let s = Server::new();
    s.repo
        .kitty_in(
            &s.bare,
            &["hooks", "install", "--server", "--require-trailer"],
        )
        .ok()
        .stderr_has("commits on main must name their work package (kitty.requireTrailer)");
    assert_eq!(
        s.repo
            .git_in(&s.bare, &["config", "kitty.requireTrailer"])
            .trim(),
        "true"
    );
    // A plan edit needs no trailer.
    s.edit_plan("WP03", "title: Third", "title: The third");
    s.repo.commit_all("retitle WP03");
    s.push(&["main"]).ok();
    // Work that names no WP does.
    s.repo.write("src/app.rs", "fn main() {}\n");
    s.repo.commit_all("quick fix");
    let quick = s.rev("main");
    s.push(&["main"]).code(1).stderr_has(&format!(
        "remote: error: refusing commit {} on main: it has no `Kitty-WP` trailer naming a work package of the plan and changes files outside kitty-specs/ (src/app.rs)",
        &quick[..7]
    ));
    s.git(&["reset", "-q", "--hard", "HEAD~1"]).ok();
    // A squash merge carries the trailers of the work it squashes, or it is refused.
    s.approved("WP01", &[], "one.txt");
    s.git(&["merge", "-q", "--squash", "001-linear-WP01"]).ok();
    s.git(&["commit", "-q", "--no-verify", "-m", "squashed WP01"])
        .ok();
    s.push(&["main"])
        .code(1)
        .stderr_has("it has no `Kitty-WP` trailer naming a work package of the plan and changes files outside kitty-specs/ (one.txt)")
        .stderr_has("a squash merge carries a `Kitty-WP: <feature>/<WP>` trailer for each WP it squashes");
    s.git(&[
        "commit",
        "-q",
        "--amend",
        "--no-verify",
        "-m",
        "squashed WP01\n\nKitty-WP: 001-linear/WP01",
    ])
    .ok();
    s.push(&["main"]).ok();
    // A plain `git merge` of a WP's branch: its commits carry the trailer, the merge changes
    // nothing of its own.
    s.approved("WP02", &[], "two.txt");
    s.merge_by_hand("001-linear-WP02");
    s.push(&["main"]).ok();
}

#[test]
fn refs_under_refs_kitty_must_be_state_commits_of_their_wp() {
    let s = Server::new();
    s.repo.kitty(&["note", "WP01", "hello"]).ok();
    let note = s.rev(WP01);
    let blob = s.object("blob", "lane: done\n");
    s.push(&[&format!("{blob}:{WP01}")])
        .code(1)
        .stderr_has(&format!(
            "remote: error: refusing {WP01}: it points at a blob, not a state commit"
        ));
    let tag = s.object(
        "tag",
        &format!("object {note}\ntype commit\ntag t\ntagger T <t@x> 1700000000 +0000\n\nt\n"),
    );
    s.push(&[&format!("{tag}:{WP01}")])
        .code(1)
        .stderr_has("it points at a tag, not a state commit");
    s.push(&[&format!("main:{WP01}")])
        .code(1)
        .stderr_has(&format!(
            "remote: error: refusing {WP01}: commit {} is not a state of WP01: it has no `kitty-event` and `kitty-state` headers (an ordinary commit)",
            // The first one, parents first: main's root.
            &s.rev("main~1")[..7]
        ));
    for name in [
        "refs/kitty/anything",
        "refs/kitty/wp/001-linear/wp01",
        "refs/kitty/wp/001-linear/WP01/x",
        "refs/kitty/wp/001-linear",
    ] {
        s.push(&[&format!("{note}:{name}")])
            .code(1)
            .stderr_has(&format!(
                "remote: error: refusing {name}: the only refs under refs/kitty/ are state refs, refs/kitty/wp/<feature>/<WP>"
            ));
    }
    s.push(&[&format!("{note}:{WP02}")])
        .code(1)
        .stderr_has("is not a state of WP02: it holds the state of 001-linear/WP01");
    // A state commit with files in it.
    let with_files = {
        let text = s.repo.git(&["cat-file", "commit", &note]);
        let tree = s.rev("main^{tree}");
        let empty = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
        s.object("commit", &text.replacen(empty, &tree, 1))
    };
    s.push(&[&format!("{with_files}:{WP01}")])
        .code(1)
        .stderr_has("has files: a state commit's tree is the empty tree");
    // A fast-forward to an ordinary commit on top of a real state.
    s.push(&[WP01]).ok();
    // WP01's old value for WP02, pushed with a WP01 update that makes it "already there".
    s.repo.kitty(&["note", "WP01", "again"]).ok();
    s.push(&[WP01, &format!("{note}:{WP02}")])
        .code(1)
        .stderr_has("is not a state of WP02: it holds the state of 001-linear/WP01");
    s.repo.git(&["update-ref", WP01, &note]);
    let on_top = s
        .git(&[
            "commit-tree",
            "-p",
            &note,
            "-m",
            "sneaky",
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
        ])
        .ok()
        .stdout
        .trim()
        .to_owned();
    s.push(&[&format!("{on_top}:{WP01}")])
        .code(1)
        .stderr_has(&format!(
            "remote: error: refusing {WP01}: commit {} is not a state of WP01",
            &on_top[..7]
        ));
    assert_eq!(s.on_server(WP01), note);
    // What an older server let in outside the schema can be deleted.
    s.damage("refs/kitty/junk", &blob);
    s.push(&[":refs/kitty/junk"]).ok();
    assert_eq!(s.on_server("refs/kitty/junk"), "");
}

#[test]
fn a_forged_state_naming_another_wps_branch_is_refused() {
    let s = Server::new();
    s.repo.kitty(&["note", "WP03", "hello"]).ok();
    let note = s.rev(WP03);
    let forged = s.forge(&note, Some(&[]), |event, state| {
        event["kind"] = "implement".into();
        event["from"] = "planned".into();
        event["to"] = "in_progress".into();
        event["note"] = serde_json::Value::Null;
        event["branch"] = "001-linear-WP02".into();
        event["worktree"] = ".worktrees/001-linear-WP02".into();
        state["lane"] = "in_progress".into();
        state["agent"] = "tester".into();
        state["branch"] = "001-linear-WP02".into();
        state["worktree"] = ".worktrees/001-linear-WP02".into();
    });
    s.push(&[&format!("{forged}:{WP03}")])
        .code(1)
        .stderr_has(&format!(
            "remote: error: refusing {WP03}: commit {} names branch 001-linear-WP02 and worktree .worktrees/001-linear-WP02: WP03's own are branch 001-linear-WP03 and worktree .worktrees/001-linear-WP03",
            &forged[..7]
        ));
}

#[test]
fn state_refs_and_target_branches_are_never_deleted() {
    let s = Server::new();
    s.repo.kitty(&["note", "WP01", "hello"]).ok();
    s.repo.kitty(&["push"]).ok();
    s.push(&[&format!(":{WP01}")])
        .code(1)
        .stderr_has(&format!(
            "remote: error: refusing to delete {WP01}: state refs keep the history of every claim and move"
        ))
        .stderr_has("hint: a damaged state ref is replaced by `git kitty repair WP01 -f 001-linear`");
    s.push(&[":main"])
        .code(1)
        .stderr_has("remote: error: refusing to delete main: it is a target branch, whose history is the order work landed in");
    // A rewrite of a sound state is not a repair.
    let old = s.rev(WP01);
    let rewrite = s.forge(&old, Some(&[]), |event, _| {
        event["replaces"] = old.clone().into();
    });
    s.push(&[&format!("+{rewrite}:{WP01}")])
        .code(1)
        .stderr_has(&format!(
            "remote: error: refusing to rewrite {WP01}: the update drops events the server has"
        ));
    assert_eq!(s.on_server(WP01), old);
}

#[test]
fn git_kitty_merge_then_push_is_taken_and_state_follows_the_work() {
    let s = Server::new();
    s.repo.kitty(&["hooks", "install"]).ok();
    s.approved("WP01", &[], "one.txt");
    s.approved("WP02", &[], "two.txt");
    s.repo.kitty(&["push"]).ok();
    s.repo.kitty(&["merge"]).ok();
    // The done states before the work they record: refused, nothing lost locally.
    s.repo
        .kitty(&["push"])
        .code(1)
        .stderr_has("error: origin refused the state update")
        .stderr_has("records WP01 as done, but no target branch has its work");
    // The work, then the state: taken.
    s.git(&["push", "-q", "origin", "main"]).ok();
    s.repo
        .kitty(&["push"])
        .ok()
        .stdout_has("001-linear/WP01: pushed")
        .stdout_has("001-linear/WP02: pushed");
    assert_eq!(s.on_server(WP02), s.rev(WP02));
    // Both at once, as plain `git push` does after `git kitty init`.
    s.approved("WP03", &[], "three.txt");
    s.repo.kitty(&["push"]).ok();
    s.repo.kitty(&["merge"]).ok();
    s.repo.kitty(&["init"]).ok();
    s.git(&["push", "-q", "origin"]).ok();
    assert_eq!(s.on_server(WP03), s.rev(WP03));
    assert_eq!(s.on_server("main"), s.rev("main"));
}

#[test]
fn plain_git_merges_in_order_are_taken() {
    let s = Server::new();
    s.approved("WP01", &[], "one.txt");
    s.approved("WP02", &["--base", "WP01"], "two.txt");
    s.merge_by_hand("001-linear-WP01");
    s.merge_by_hand("001-linear-WP02");
    s.push(&["main"]).ok();
    // And state shared from two clones, joined and pushed back.
    let other = s.repo.sandbox.path().join("other");
    s.repo
        .git(&["clone", "-q", &net::url(&s.bare), other.to_str().unwrap()]);
    s.repo
        .kitty(&["lane", "WP03", "claimed", "--agent", "alice"])
        .ok();
    s.repo
        .kitty_in(&other, &["lane", "WP03", "claimed", "--agent", "bob"])
        .ok();
    s.repo.kitty(&["push"]).ok();
    s.repo
        .kitty_in(&other, &["push"])
        .code(1)
        .stdout_has("rejected bob's claim (planned -> claimed): WP03 is claimed by alice");
    s.repo.kitty(&["pull"]).ok();
    assert_eq!(s.on_server(WP03), s.rev(WP03));
}

#[test]
fn a_damaged_state_ref_is_repaired_and_the_server_takes_the_repair() {
    let s = Server::new();
    s.repo
        .kitty(&["lane", "WP01", "claimed", "--agent", "alice"])
        .ok();
    s.repo.kitty(&["push"]).ok();
    let claimed = s.rev(WP01);
    // An older server took a forged `done` on top of it.
    let forged = s.forge(&claimed, Some(&[&claimed]), |event, state| {
        event["kind"] = "note".into();
        event["id"] = "forged".into();
        event["lamport"] = 2.into();
        state["lane"] = "done".into();
        state["lamport"] = 2.into();
        state["events"] = 2.into();
    });
    s.damage(WP01, &forged);
    // And a blob where WP02's state goes.
    let blob = s.object("blob", "junk\n");
    s.damage(WP02, &blob);
    let other = s.repo.sandbox.path().join("other");
    s.repo
        .git(&["clone", "-q", &net::url(&s.bare), other.to_str().unwrap()]);
    s.repo.kitty_in(&other, &["pull"]).code(6);

    let run = s.repo.kitty(&["repair", "WP01"]);
    run.ok().stdout_is(&format!(
        "WP01: repaired (tester), now claimed\n  replaced {f} on origin: commit {f} records a state its event does not lead to: lane \"done\", where the lane rules give \"claimed\"\n  kept its sound history up to {c}\n  pushed to origin\n",
        f = &forged[..7],
        c = &claimed[..7]
    ));
    let repaired = s.rev(WP01);
    assert_eq!(s.on_server(WP01), repaired);
    let json = s.repo.kitty(&["repair", "WP02", "--json"]).ok().json();
    assert_eq!(json["replaced"][0]["object"], blob.as_str());
    assert_eq!(json["kept"], serde_json::Value::Null);
    assert_eq!(json["pushed"], true);
    // The other clone pulls both, and the history says what happened.
    s.repo.kitty_in(&other, &["pull"]).ok();
    s.repo
        .kitty_in(&other, &["log", "WP01"])
        .ok()
        .stdout_has("repaired");
    assert_eq!(
        crate::common::wp(
            &s.repo.kitty_in(&other, &["status", "--json"]).ok().json(),
            "001-linear",
            "WP01"
        )["lane"],
        "claimed"
    );
    // Nothing left to repair.
    s.repo
        .kitty(&["repair", "WP01"])
        .ok()
        .stdout_has("WP01: nothing to repair: its state is sound here and on origin");
}
