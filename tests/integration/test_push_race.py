"""Two pushes racing on one ref: exactly one wins each round, the loser is told, nothing is lost."""
from __future__ import annotations

import subprocess

import pytest

from tests.gitcli import authed, commit_file, git

pytestmark = pytest.mark.timeout(600)


def test_racing_pushes_exactly_one_wins(local_env, tmp_path):
    env = local_env
    info = env.create("race")
    url = authed(info["clone_url"], "alice", env.tokens["alice"])
    clones = []
    for i in range(2):
        work = tmp_path / f"w{i}"
        git("clone", "-q", url, str(work))
        clones.append(work)
    commit_file(clones[0], "base.txt", "base\n")
    git("push", "-q", "origin", "HEAD:main", cwd=clones[0])
    history = []
    for round_no in range(20):
        tips = []
        for i, work in enumerate(clones):
            git("fetch", "-q", "origin", cwd=work)
            git("reset", "-q", "--hard", "origin/main", cwd=work)
            tips.append(commit_file(work, f"r{round_no}-{i}.txt", f"{round_no} {i}\n"))
        procs = [subprocess.Popen(["git", "push", "--porcelain", "origin", "HEAD:main"], cwd=work,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env={"GIT_TERMINAL_PROMPT": "0", "HOME": str(work), "PATH": "/usr/bin:/bin"})
                 for work in clones]
        results = [(p.wait(120), *p.communicate()) for p in procs]
        winners = [i for i, (rc, _, _) in enumerate(results) if rc == 0]
        assert len(winners) == 1, results
        loser = 1 - winners[0]
        rc, out, err = results[loser]
        assert "[remote rejected]" in out + err or "[rejected]" in out + err, (out, err)
        remote = git("ls-remote", "origin", "refs/heads/main", cwd=clones[0]).stdout.split()[0]
        assert remote == tips[winners[0]]  # the reported success is the truth
        history.append(remote)
    # no lost update: every winner of every round is in main's history, in order
    git("fetch", "-q", "origin", cwd=clones[0])
    log = git("rev-list", "--first-parent", "origin/main", cwd=clones[0]).stdout.split()
    assert log[:20] == list(reversed(history))
    git("fsck", "--strict", cwd=clones[0])
