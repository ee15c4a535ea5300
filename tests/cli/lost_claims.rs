//! Claims made without `--sync` on several machines (clones of one bare remote over
//! `file://`): the first to reach the remote wins; every other clone's `push`, `pull` or `sync`
//! says its claim lost and exits 1, `status` marks what the lost claim left there, and
//! `abandon` gives back only that, never the winner's claim (here or on the remote).

use std::path::{Path, PathBuf};

use crate::common::Run;
use crate::common::net::Net;

const WP: &str = "001-fan-out-WP01";
const STATE: &str = "refs/kitty/wp/001-fan-out/WP01";

/// What these tests read of the machines: clones of a `Net` seeded with the fan-out plan.
trait Machines {
    fn state(&self, dir: &Path) -> String;
    fn wp01(&self, dir: &Path) -> (String, String);
    fn lost_claim(&self, dir: &Path) -> serde_json::Value;
    fn all_implement(&self, dirs: &[(&Path, &str)]);
}

impl Machines for Net {
    /// Where the WP's state ref points, in `dir` (a clone or the remote).
    fn state(&self, dir: &Path) -> String {
        self.git(dir, &["rev-parse", STATE]).trim().to_owned()
    }

    /// WP01's lane and agent, as `status --json` shows them in `dir`.
    fn wp01(&self, dir: &Path) -> (String, String) {
        let status = self.kitty(dir, "reader", &["status", "--json"]).ok().json();
        let w = &status["features"][0]["work_packages"][0];
        assert_eq!(w["id"], "WP01");
        (
            w["lane"].as_str().unwrap().to_owned(),
            w["agent"].as_str().unwrap_or("-").to_owned(),
        )
    }

    /// `status --json`'s `lost_claim` of WP01 in `dir`.
    fn lost_claim(&self, dir: &Path) -> serde_json::Value {
        let status = self.kitty(dir, "reader", &["status", "--json"]).ok().json();
        status["features"][0]["work_packages"][0]["lost_claim"].clone()
    }

    /// Every machine in `dirs` claims WP01 with `implement` (no `--sync`): each succeeds.
    fn all_implement(&self, dirs: &[(&Path, &str)]) {
        for (dir, agent) in dirs {
            self.kitty(dir, agent, &["implement", "WP01"]).ok();
            assert!(dir.join(".worktrees").join(WP).is_dir());
        }
    }
}

/// What a clone whose claim lost prints on stderr, after pushing, pulling or syncing.
fn told(agent: &str, winner: &str) -> String {
    format!(
        "warning: 001-fan-out/WP01: {agent}'s claim, made here, lost: {winner}'s claim reached \
         origin first\nhint: `git kitty abandon WP01 --agent {agent}` gives back the worktree \
         .worktrees/{WP} and branch {WP} left here from it, and nothing else\n"
    )
}

#[test]
fn the_first_claim_to_reach_the_remote_wins_and_the_other_push_exits_1() {
    // Whoever pushes first wins, whichever claimed first or did more since.
    for first in ["a", "b"] {
        let m = Net::new("fan-out");
        let (a, b) = (m.clone("a"), m.clone("b"));
        m.kitty(&b, "codex", &["implement", "WP01"]).ok();
        m.kitty(&b, "codex", &["note", "WP01", "started early"])
            .ok();
        m.kitty(&a, "claude", &["implement", "WP01"]).ok();
        let (winner, w_name, loser, l_name) = if first == "a" {
            (&a, "claude", &b, "codex")
        } else {
            (&b, "codex", &a, "claude")
        };
        m.kitty(winner, w_name, &["push"])
            .ok()
            .stdout_is(&format!(
                "001-fan-out/WP01: pushed\n001-fan-out/WP01: branch {WP} pushed\npushed to origin: 1 changed, 0 unchanged\n"
            ))
            .stderr_is("");
        let run = m.kitty(loser, l_name, &["push"]);
        run.code(1)
            .stdout_has(&format!(
                "rejected {l_name}'s claim (planned -> in_progress): WP01 is claimed by {w_name}"
            ))
            .stderr_is(&told(l_name, w_name));
        // The winner is not told anything: its pull is a fast-forward.
        m.kitty(winner, w_name, &["pull"])
            .ok()
            .stdout_is(
                "001-fan-out/WP01: fast-forwarded\npulled from origin: 1 changed, 0 unchanged\n",
            )
            .stderr_is("");
        for d in [&a, &b] {
            assert_eq!(m.wp01(d), ("in_progress".into(), w_name.into()), "{d:?}");
        }
        assert_eq!(m.state(&a), m.state(&b));
        assert_eq!(m.state(&a), m.state(&m.remote));
    }
}

#[test]
fn pull_and_sync_on_the_losing_machine_exit_1_with_the_lost_claims_in_json() {
    let m = Net::new("fan-out");
    let (a, b, c) = (m.clone("a"), m.clone("b"), m.clone("c"));
    m.all_implement(&[(&a, "claude"), (&b, "codex"), (&c, "gemini")]);
    m.kitty(&a, "claude", &["push"]).ok();

    // b pulls: told once; a second pull has nothing new to say.
    m.kitty(&b, "codex", &["pull"])
        .code(1)
        .stdout_has("001-fan-out/WP01: merged both histories")
        .stderr_is(&told("codex", "claude"));
    m.kitty(&b, "codex", &["pull"]).ok().stderr_is("");

    // c syncs, with --json: the lost claim with what it left and the command that gives it back.
    let run = m.kitty(&c, "gemini", &["sync", "--json"]);
    let json = run.code(1).json();
    assert_eq!(
        json["lost_claims"],
        serde_json::json!([{
            "feature": "001-fan-out",
            "wp": "WP01",
            "agent": "gemini",
            "holder": "claude",
            "lane": "in_progress",
            "worktree": format!(".worktrees/{WP}"),
            "branch": WP,
            "next": "git kitty abandon WP01 --agent gemini",
        }])
    );
    assert_eq!(json["changed"][0]["rejected"][0]["actor"], "gemini");
    // Nothing lost anywhere else: an empty list, exit 0.
    let a_json = m.kitty(&a, "claude", &["sync", "--json"]).ok().json();
    assert_eq!(a_json["lost_claims"], serde_json::json!([]));
    m.kitty(&b, "codex", &["sync"]).ok();
    for (d, agent) in [(&a, "claude"), (&c, "gemini")] {
        m.kitty(d, agent, &["sync"]).ok();
    }
    for d in [&a, &b, &c] {
        assert_eq!(m.wp01(d), ("in_progress".into(), "claude".into()), "{d:?}");
        assert_eq!(m.state(d), m.state(&m.remote), "{d:?}");
    }
}

#[test]
fn a_lost_claim_that_left_nothing_here_is_told_but_has_nothing_to_give_back() {
    let m = Net::new("fan-out");
    let (a, b) = (m.clone("a"), m.clone("b"));
    m.kitty(&a, "claude", &["lane", "WP01", "claimed"]).ok();
    m.kitty(&a, "claude", &["push"]).ok();
    m.kitty(&b, "codex", &["lane", "WP01", "claimed"]).ok();
    m.kitty(&b, "codex", &["push"]).code(1).stderr_is(
        "warning: 001-fan-out/WP01: codex's claim, made here, lost: claude's claim reached \
         origin first\nhint: nothing of it is left here to give back\n",
    );
    let json = m.kitty(&b, "codex", &["pull", "--json"]).ok().json();
    assert_eq!(json["lost_claims"], serde_json::json!([]));
    assert_eq!(m.lost_claim(&b), serde_json::Value::Null);
    assert_eq!(m.git(&b, &["for-each-ref", "refs/kitty-lost"]), "");
}

#[test]
fn the_same_agent_name_on_two_machines_still_loses_on_the_second() {
    let m = Net::new("fan-out");
    let (a, b) = (m.clone("a"), m.clone("b"));
    m.all_implement(&[(&a, "claude"), (&b, "claude")]);
    m.kitty(&a, "claude", &["push"]).ok();
    m.kitty(&b, "claude", &["push"])
        .code(1)
        .stderr_is(&told("claude", "claude"));
    // The winner's machine has the same history and its own worktree: nothing marked there.
    m.kitty(&a, "claude", &["pull"]).ok();
    assert_eq!(m.lost_claim(&a), serde_json::Value::Null);
    assert_eq!(m.lost_claim(&b)["agent"], "claude");
}

#[test]
fn status_marks_the_lost_claims_worktree_with_the_command_that_gives_it_back() {
    let m = Net::new("fan-out");
    let (a, b) = (m.clone("a"), m.clone("b"));
    m.all_implement(&[(&a, "claude"), (&b, "codex")]);
    m.kitty(&a, "claude", &["push"]).ok();
    m.kitty(&b, "codex", &["pull"]).code(1);

    let text = m.kitty(&b, "codex", &["status"]).ok().stdout.clone();
    assert!(
        text.contains(
            "  Lost claims     WP01  Core                          codex's claim lost to claude\n\
             \x20                       `git kitty abandon WP01 --agent codex` gives back its worktree and branch\n\
             \x20                       here\n"
        ),
        "{text}"
    );
    assert_eq!(
        m.lost_claim(&b),
        serde_json::json!({
            "agent": "codex",
            "holder": "claude",
            "worktree": format!(".worktrees/{WP}"),
            "branch": WP,
            "next": "git kitty abandon WP01 --agent codex",
        })
    );
    // The command status prints is one git kitty takes.
    crate::common::assert_hint_parses("git kitty abandon WP01 --agent codex", &text);
    // The winner, with its own worktree and the very same history, has nothing marked.
    m.kitty(&a, "claude", &["pull"]).ok();
    assert_eq!(m.lost_claim(&a), serde_json::Value::Null);
    let text = m.kitty(&a, "claude", &["status"]).ok().stdout.clone();
    assert!(!text.contains("Lost claims"), "{text}");

    // Inside the lost worktree, git kitty acts as the loser, never as the winner.
    let wt = b.join(".worktrees").join(WP);
    m.seed.commit_in(&wt, "lost.txt", "codex's work\n");
    let mut cmd = m.seed.kitty_command(&wt, &["lane", "for_review"]);
    cmd.env_remove("KITTY_AGENT");
    Run::new(cmd.output().unwrap(), &m.seed.root)
        .code(1)
        .stderr_has("error: WP01 is claimed by claude");
    assert_eq!(m.wp01(&b), ("in_progress".into(), "claude".into()));
}

#[test]
fn a_claim_that_takes_effect_later_supersedes_the_lost_one() {
    let m = Net::new("fan-out");
    let (a, b) = (m.clone("a"), m.clone("b"));
    m.all_implement(&[(&a, "claude"), (&b, "codex")]);
    m.kitty(&a, "claude", &["push"]).ok();
    m.kitty(&b, "codex", &["pull"]).code(1);
    // The winner gives WP01 back; codex claims it again, and it counts this time.
    m.kitty(&a, "claude", &["abandon", "WP01"]).ok();
    m.kitty(&a, "claude", &["push"]).ok();
    m.kitty(&b, "codex", &["pull"]).ok();
    assert_eq!(m.lost_claim(&b)["agent"], "codex");
    m.kitty(&b, "codex", &["lane", "WP01", "claimed"]).ok();
    assert_eq!(m.lost_claim(&b), serde_json::Value::Null);
    m.kitty(&b, "codex", &["push"]).ok();
    assert_eq!(m.wp01(&a), ("planned".into(), "-".into()));
    m.kitty(&a, "claude", &["pull"]).ok();
    assert_eq!(m.wp01(&a), ("claimed".into(), "codex".into()));
}

/// Two machines claimed WP01; a (claude) won, b (codex) pulled and lost, then pushed the
/// merge that told it (the winner's state, with codex's claim refused in its history).
fn lost_on_b() -> (Net, PathBuf, PathBuf) {
    let m = Net::new("fan-out");
    let (a, b) = (m.clone("a"), m.clone("b"));
    m.all_implement(&[(&a, "claude"), (&b, "codex")]);
    m.kitty(&a, "claude", &["push"]).ok();
    m.kitty(&b, "codex", &["pull"]).code(1);
    m.kitty(&b, "codex", &["push"]).ok();
    assert_eq!(m.state(&b), m.state(&m.remote));
    (m, a, b)
}

/// After the loser's abandon: its worktree, branch and marker are gone; its state is still
/// `state` (no release event), and after a push the remote's is still `remote`.
fn only_the_losers_work_is_gone(m: &Net, b: &Path, state: &str, remote: &str) {
    assert!(!b.join(".worktrees").join(WP).exists());
    assert_eq!(m.git(b, &["branch", "--list", WP]), "");
    assert_eq!(m.git(b, &["for-each-ref", "refs/kitty-lost"]), "");
    assert_eq!(m.state(b), state, "abandon wrote an event");
    assert_eq!(m.wp01(b), ("in_progress".into(), "claude".into()));
    let text = m.kitty(b, "codex", &["status"]).ok().stdout.clone();
    assert!(!text.contains("Lost claims"), "{text}");
    m.kitty(b, "codex", &["push"]).ok();
    assert_eq!(m.state(&m.remote), remote, "the remote's state changed");
}

#[test]
fn abandon_on_the_losing_machine_gives_back_only_its_own_worktree_and_branch() {
    let (m, a, b) = lost_on_b();
    m.kitty(&a, "claude", &["pull"]).ok();
    let (state, remote) = (m.state(&b), m.state(&m.remote));

    // Another agent's abandon on b is refused with the command that works.
    m.kitty(&b, "gemini", &["abandon", "WP01"])
        .code(1)
        .stderr_is(
            "error: the worktree and branch of WP01 here are left from codex's claim, which \
             lost to another machine's: codex gives them back, not gemini\n\
             hint: `git kitty abandon WP01 --agent codex`\n",
        );
    let base = m.git(&b, &["rev-parse", WP]).trim().to_owned();
    let run = m.kitty(&b, "codex", &["abandon", "WP01", "--json"]);
    let json = run.ok().json();
    assert_eq!(json["released"], false);
    assert_eq!(json["lane"], "in_progress");
    assert_eq!(
        json["lost_claim"],
        serde_json::json!({"agent": "codex", "holder": "claude"})
    );
    assert_eq!(json["deleted_branch"]["commit"], base.as_str());
    assert_eq!(json["dropped_commits"], 0);
    only_the_losers_work_is_gone(&m, &b, &state, &remote);
    // The winner keeps working: its worktree, branch and claim are as they were.
    assert!(a.join(".worktrees").join(WP).is_dir());
    m.kitty(&a, "claude", &["pull"]).ok();
    assert_eq!(m.wp01(&a), ("in_progress".into(), "claude".into()));
    assert_eq!(m.state(&a), remote);
}

#[test]
fn abandon_on_the_losing_machine_keeps_its_work_unless_forced_and_never_releases() {
    let (m, _a, b) = lost_on_b();
    let (state, remote) = (m.state(&b), m.state(&m.remote));
    let wt = b.join(".worktrees").join(WP);
    m.seed.commit_in(&wt, "lost.txt", "codex's work\n");
    std::fs::write(wt.join("draft.txt"), "not committed\n").unwrap();
    m.kitty(&b, "codex", &["abandon", "WP01"])
        .code(1)
        .stderr_is(&format!(
            "error: WP01's worktree and branch here, left from codex's lost claim, hold work \
             that would be lost: uncommitted changes (draft.txt) and 1 commit on {WP} that no \
             other branch has\n\
             hint: commit it and keep it under another name (`git branch <name> {WP}`), then \
             `git kitty abandon WP01 --force`\n"
        ));
    assert!(wt.join("draft.txt").exists());
    assert_eq!(m.lost_claim(&b)["agent"], "codex");

    // Kept as the hint says, then forced: the commit can be restored, the winner is untouched.
    m.git(&wt, &["add", "draft.txt"]);
    m.git(&wt, &["commit", "-q", "-m", "draft"]);
    m.git(&b, &["branch", "codex-wp01", WP]);
    let tip = m.git(&b, &["rev-parse", WP]).trim().to_owned();
    let run = m.kitty(&b, "codex", &["abandon", "WP01", "--force"]);
    run.ok().stdout_is(&format!(
        "WP01: gave back what codex's lost claim left here; its state is untouched \
         (in_progress, claude)\n  removed worktree $SANDBOX/b/.worktrees/{WP}\n  deleted \
         branch {WP} (was {})\n  2 commits dropped; restore with `git branch {WP} {tip}`\n",
        &tip[..7]
    ));
    assert_eq!(m.git(&b, &["rev-parse", "codex-wp01"]).trim(), tip);
    only_the_losers_work_is_gone(&m, &b, &state, &remote);
}

#[test]
fn a_forced_abandon_made_before_the_loss_is_known_cannot_release_the_winner() {
    let m = Net::new("fan-out");
    let (a, b) = (m.clone("a"), m.clone("b"));
    m.all_implement(&[(&a, "claude"), (&b, "codex")]);
    m.kitty(&a, "claude", &["push"]).ok();
    let remote = m.state(&m.remote);
    // Offline, codex drops its own work with --force (its own claim, as far as b knows).
    let wt = b.join(".worktrees").join(WP);
    m.seed.commit_in(&wt, "lost.txt", "codex's work\n");
    m.kitty(&b, "codex", &["abandon", "WP01", "--force"]).ok();
    // Its claim and its release both reach the remote second: neither takes effect, and
    // nothing is left here to give back, so this is no lost claim.
    m.kitty(&b, "codex", &["sync"])
        .ok()
        .stdout_has("rejected codex's claim (planned -> in_progress): WP01 is claimed by claude");
    assert_eq!(m.wp01(&b), ("in_progress".into(), "claude".into()));
    m.kitty(&a, "claude", &["pull"]).ok();
    assert_eq!(m.wp01(&a), ("in_progress".into(), "claude".into()));
    assert_ne!(m.state(&m.remote), remote);
}

#[test]
fn commits_in_the_lost_worktree_are_refused_with_how_to_keep_them() {
    let (m, _a, b) = lost_on_b();
    m.kitty(&b, "codex", &["hooks", "install"]).ok();
    let wt = b.join(".worktrees").join(WP);
    std::fs::write(wt.join("lost.txt"), "codex's work\n").unwrap();
    m.git(&wt, &["add", "lost.txt"]);
    let commit = |extra: &[&str]| {
        let mut cmd = m.seed.command_in("git", &wt);
        cmd.env_remove("KITTY_AGENT")
            .args(["commit", "-q", "-m", "work"])
            .args(extra);
        cmd.output().unwrap()
    };
    let refused = commit(&[]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains(
            "error: this worktree is left from codex's claim of WP01, which lost to claude's on \
             another machine: WP01 is not codex's to commit to\n\
             hint: to keep the changes: `git commit --no-verify`, then keep them under another \
             name (`git branch <name> 001-fan-out-WP01`), or make a patch (`git diff HEAD > \
             WP01.patch`)\n\
             hint: then `git kitty abandon WP01 --force` gives back this worktree and branch\n"
        ),
        "{stderr}"
    );
    for hint in crate::common::hinted_commands(&stderr) {
        crate::common::assert_hint_parses(&hint, &stderr);
    }
    // As the hint says: committed without the checks, kept under another name, given back.
    assert!(commit(&["--no-verify"]).status.success());
    m.git(&b, &["branch", "codex-wp01", WP]);
    m.kitty(&b, "codex", &["abandon", "WP01", "--force"]).ok();
    assert_eq!(
        m.git(&b, &["log", "-1", "--format=%s", "codex-wp01"])
            .trim(),
        "work"
    );
    assert_eq!(m.wp01(&b), ("in_progress".into(), "claude".into()));
}

#[test]
fn a_lost_claim_never_sends_its_branch_in_place_of_the_winners() {
    let m = Net::new("fan-out");
    let (a, b) = (m.clone("a"), m.clone("b"));
    m.all_implement(&[(&a, "claude"), (&b, "codex")]);
    // The winner's state reaches the remote by plain git, its branch not yet.
    m.git(&a, &["push", "-q", "origin", &format!("{STATE}:{STATE}")]);
    let work = b.join(".worktrees").join(WP);
    std::fs::write(work.join("loser.txt"), "codex's work\n").unwrap();
    m.git(&work, &["add", "loser.txt"]);
    m.git(
        &work,
        &["commit", "-q", "--no-verify", "-m", "codex's work"],
    );
    m.kitty(&b, "codex", &["push"]).code(1);
    let remote_branch = m.git(&m.remote, &["branch", "--list", WP]);
    assert_eq!(
        remote_branch, "",
        "the loser's branch went out under the winner's name"
    );
    // The winner's own push then sends its branch.
    m.kitty(&a, "claude", &["push"]).ok();
    assert_eq!(
        m.git(&m.remote, &["rev-parse", &format!("refs/heads/{WP}")]),
        m.git(&a, &["rev-parse", &format!("refs/heads/{WP}")])
    );
}

/// The command that gives back a lost claim's worktree works as printed from anywhere in the
/// clone, by anyone: a person in the main worktree (whose name is not the agent's) included.
#[test]
fn the_printed_abandon_of_a_lost_claim_works_from_the_main_worktree() {
    let net = Net::new("fan-out");
    let (a, b) = (net.clone("a"), net.clone("b"));
    net.kitty(&a, "claude", &["implement", "WP01"]).ok();
    net.kitty(&b, "codex", &["implement", "WP01"]).ok();
    net.kitty(&a, "claude", &["push"]).ok();
    let pulled = net.kitty(&b, "codex", &["pull"]);
    pulled
        .code(1)
        .stderr_has("hint: `git kitty abandon WP01 --agent codex` gives back the worktree");
    let text = net.kitty(&b, "codex", &["status"]).ok().stdout.clone();
    assert!(
        text.contains("`git kitty abandon WP01 --agent codex` gives back its worktree"),
        "{text}"
    );
    let status = net.kitty(&b, "codex", &["status", "--json"]).ok().json();
    let next = status["features"][0]["work_packages"][0]["lost_claim"]["next"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(next, "git kitty abandon WP01 --agent codex");
    // Run as printed, with no agent set: the main worktree's user.name acts.
    let words = crate::common::shell_words(&next);
    let mut cmd = net.seed.kitty_command(
        &b,
        &words[2..].iter().map(String::as_str).collect::<Vec<_>>(),
    );
    cmd.env_remove("KITTY_AGENT");
    Run::new(cmd.output().unwrap(), &net.seed.root)
        .ok()
        .stdout_has("gave back what codex's lost claim left here");
    assert!(!b.join(".worktrees").join(WP).exists());
}
