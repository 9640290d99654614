"""The load of `make soak-cluster`, through both nodes at random, every request in the history.

- two pushers, each with a work tree per template: commits to `main` (fast-forward), new
  branches, force pushes to a branch of their own, lightweight and annotated (semver) tags,
  branches for pull requests, and force pushes to the protected `main` that must be refused;
- a reader: clones, incremental fetches, searches, API reads and pages (gallery, template);
- a collaborator at the API: stars and unstars by five users, web commits to `web`
  (POST .../commits on the tip it last saw), pull requests opened from the pushed branches,
  approved by a reviewer, merged (merge or squash) or closed.
Every commit is new (a unique file), so a sha names one attempt and can be traced in the refs.
"""
from __future__ import annotations

import base64
import os
import queue
import random
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.soak_history import History, Op, git_outcome, http, run_git
from bench.soak_nodes import Node
from tests.gitcli import authed, commit_file, git

PUSH_KINDS = ("main", "branch", "force", "tag", "semver", "pr", "refused")
PUSH_WEIGHTS = (34, 12, 12, 8, 4, 22, 8)
WORDS = ("soak", "risk", "report", "credit", "quarterly", "summarise", "analyst")


@dataclass
class World:
    nodes: list[Node]
    tmp: Path
    names: list[str]
    tokens: dict[str, str]  # user -> token: soak (owner), reviewer, fan0..fan4
    history: History
    stop: threading.Event = field(default_factory=threading.Event)
    pr_branches: queue.Queue = field(default_factory=queue.Queue)
    inflight: Counter[str] = field(default_factory=Counter)  # pushes in flight per node label
    lock: threading.Lock = field(default_factory=threading.Lock)
    versions: Counter[str] = field(default_factory=Counter)

    def url(self, node: Node, name: str, user: str = "soak") -> str:
        return authed(f"{node.url}/soak/{name}.git", user, self.tokens[user])

    def client(self, user: str | None = "soak") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        return httpx.Client(headers=headers, timeout=120)


def _pause_if(outcome: str) -> None:
    if outcome in ("down", "unavailable"):
        time.sleep(0.5)  # not a storm of refused connections while a node restarts


def pusher(w: World, label: str, seed: int) -> None:
    rng, n = random.Random(seed), 0
    while not w.stop.is_set():
        name, node = rng.choice(w.names), rng.choice(w.nodes)
        work = w.tmp / label / name
        if not work.exists():
            git("init", "-q", str(work))
        url = w.url(node, name)
        op = Op("fetch", node.label, time.monotonic(), template=name)
        op.outcome, op.detail = git_outcome(run_git("fetch", "-q", url, "+refs/heads/main:refs/remotes/origin/main",
                                                    cwd=work))
        w.history.add(op)
        if op.outcome != "ok":
            _pause_if(op.outcome)
            continue
        kind = rng.choices(PUSH_KINDS, PUSH_WEIGHTS)[0]
        base = "origin/main~1" if kind == "refused" else "origin/main"
        if run_git("checkout", "-q", "--detach", "-f", base, cwd=work).returncode:  # type: ignore[union-attr]
            continue  # main has no parent yet
        uid = f"{label}-{n}"
        n += 1
        sha = commit_file(work, f"{label}/{uid}.txt", f"{uid}\n", f"{kind} {uid}")
        ref = {"main": "refs/heads/main", "refused": "refs/heads/main", "branch": f"refs/heads/b/{uid}",
               "pr": f"refs/heads/pr/{uid}", "force": f"refs/heads/force/{label}",
               "tag": f"refs/tags/t/{uid}"}.get(kind, "")
        if kind == "semver":
            with w.lock:
                w.versions[name] += 1
                ref = f"refs/tags/v1.{w.versions[name]}.0"
            git("tag", "-a", "-m", f"release {uid}", ref.removeprefix("refs/tags/"), cwd=work)
            sha = git("rev-parse", ref, cwd=work).stdout.strip()  # the tag object
        spec = f"+HEAD:{ref}" if kind in ("force", "refused") else (ref if kind == "semver" else f"HEAD:{ref}")
        op = Op(f"push:{kind}", node.label, time.monotonic(), template=name, ref=ref, sha=sha)
        with w.lock:
            w.inflight[node.label] += 1
        try:
            res = run_git("push", "--porcelain", url, spec, cwd=work)
        finally:
            with w.lock:
                w.inflight[node.label] -= 1
        op.outcome, op.detail = git_outcome(res)
        w.history.add(op)
        if kind == "pr" and op.outcome == "ok":
            w.pr_branches.put((name, ref.removeprefix("refs/heads/"), sha))
        _pause_if(op.outcome)


def big_push(w: World, node: Node, label: str, pushing: threading.Event) -> Op:
    """A push of 4 MB of incompressible bytes to a new branch through `node` (long enough to be
    killed in the middle of), recorded like any other."""
    name = w.names[0]
    work = w.tmp / "big" / label
    url = w.url(node, name)
    git("init", "-q", str(work))
    fetched = run_git("fetch", "-q", url, "+refs/heads/main:refs/remotes/origin/main", cwd=work)
    if fetched is not None and fetched.returncode == 0:
        git("checkout", "-q", "--detach", "-f", "origin/main", cwd=work)
    sha = commit_file(work, f"big/{label}.bin", os.urandom(4 << 20), f"big {label}")
    ref = f"refs/heads/big/{label}"
    op = Op("push:big", node.label, time.monotonic(), template=name, ref=ref, sha=sha)
    pushing.set()
    op.outcome, op.detail = git_outcome(run_git("push", "--porcelain", url, f"HEAD:{ref}", cwd=work))
    return w.history.add(op)


def reader(w: World, seed: int) -> None:
    rng, n = random.Random(seed), 0
    anonymous, client = w.client(None), w.client()
    while not w.stop.is_set():
        name, node, roll = rng.choice(w.names), rng.choice(w.nodes), rng.random()
        n += 1
        if roll < 0.3:
            dest = w.tmp / "clones" / str(n)
            op = Op("clone", node.label, time.monotonic(), template=name)
            op.outcome, op.detail = git_outcome(run_git("clone", "-q", "--no-checkout", w.url(node, name), str(dest)))
            shutil.rmtree(dest, ignore_errors=True)
        elif roll < 0.55:
            work = w.tmp / "fetches" / name
            if not work.exists():
                git("init", "-q", "--bare", str(work))
            op = Op("fetch", node.label, time.monotonic(), template=name)
            op.outcome, op.detail = git_outcome(run_git("fetch", "-q", "--prune", w.url(node, name),
                                                        "+refs/heads/*:refs/heads/*", cwd=work))
        elif roll < 0.75:
            op = Op("search", node.label, time.monotonic())
            op.outcome, _, op.detail = http(anonymous, "GET", f"{node.url}/api/v1/search",
                                            params={"q": rng.choice(WORDS), "status": "any"})
        elif roll < 0.85:
            op = Op("page", node.label, time.monotonic(), template=name)
            op.outcome, _, op.detail = http(anonymous, "GET", rng.choice((f"{node.url}/soak/{name}", f"{node.url}/")))
        else:
            op = Op("api read", node.label, time.monotonic(), template=name)
            op.outcome, _, op.detail = http(client, "GET", f"{node.url}/api/v1/templates/soak/{name}")
        w.history.add(op)
        _pause_if(op.outcome)


@dataclass
class Pull:
    name: str
    number: int
    head: str


def collaborator(w: World, seed: int) -> None:
    """Stars, web commits and pull requests at the API."""
    rng, n = random.Random(seed), 0
    clients = {user: w.client(user) for user in w.tokens}
    fans = sorted(u for u in w.tokens if u.startswith("fan"))
    web_tips: dict[str, str | None] = {name: None for name in w.names}
    pulls: list[Pull] = []
    while not w.stop.is_set():
        node, roll, n = rng.choice(w.nodes), rng.random(), n + 1
        api = f"{node.url}/api/v1/templates/soak"
        if roll < 0.3:
            name, fan, on = rng.choice(w.names), rng.choice(fans), rng.random() < 0.6
            op = Op("star" if on else "unstar", node.label, time.monotonic(), template=name, extra={"user": fan})
            op.outcome, _, op.detail = http(clients[fan], "PUT" if on else "DELETE", f"{api}/{name}/star")
        elif roll < 0.55:
            name = rng.choice(w.names)
            if web_tips[name] is None:
                listed = run_git("ls-remote", w.url(node, name), "refs/heads/web")
                if listed is None or listed.returncode or not listed.stdout.strip():
                    time.sleep(0.3)
                    continue
                web_tips[name] = listed.stdout.split()[0]
            uid = f"web-{n}"
            op = Op("web commit", node.label, time.monotonic(), template=name, ref="refs/heads/web")
            op.outcome, res, op.detail = http(clients["soak"], "POST", f"{api}/{name}/commits", json={
                "branch": "web", "parent": web_tips[name], "message": f"web commit {uid}",
                "changes": [{"path": f"web/{uid}.txt", "content_base64": base64.b64encode(uid.encode()).decode()}]})
            if op.outcome == "ok" and res is not None:
                op.sha = web_tips[name] = res.json()["sha"]
            elif res is not None and res.status_code == 412:
                web_tips[name] = res.json()["error"].get("tip")
            else:
                web_tips[name] = None
        elif roll < 0.75 and not w.pr_branches.empty():
            name, branch, sha = w.pr_branches.get()
            op = Op("pull open", node.label, time.monotonic(), template=name, sha=sha)
            op.outcome, res, op.detail = http(clients["soak"], "POST", f"{api}/{name}/pulls", json={
                "title": f"from {branch}", "body": "soak", "head": branch, "base": "main"})
            if op.outcome == "ok" and res is not None:
                pulls.append(Pull(name, res.json()["number"], sha))
                op.extra["number"] = res.json()["number"]
        elif pulls:
            pull = rng.choice(pulls)
            what = rng.choices(("review", "merge", "close"), (4, 4, 1))[0]
            op = Op(f"pull {what}", node.label, time.monotonic(), template=pull.name, sha=pull.head,
                    extra={"number": pull.number})
            url = f"{api}/{pull.name}/pulls/{pull.number}"
            if what == "review":
                op.outcome, _, op.detail = http(clients["reviewer"], "POST", f"{url}/reviews",
                                                json={"event": "APPROVE", "body": "looks right"})
            elif what == "merge":
                method = rng.choice(("merge", "squash"))
                op.extra["method"] = method
                op.outcome, res, op.detail = http(clients["soak"], "POST", f"{url}/merge",
                                                  json={"method": method, "expected_head_sha": pull.head})
                if op.outcome == "ok" and res is not None:
                    op.sha, op.ref = res.json()["sha"], "refs/heads/main"
            else:
                op.outcome, _, op.detail = http(clients["soak"], "PATCH", url, json={"state": "closed"})
            if what != "review" and op.outcome in ("ok", "refused"):
                pulls.remove(pull)  # merged, closed, or not mergeable (a conflict, moved): done with it
        else:
            time.sleep(0.2)
            continue
        w.history.add(op)
        _pause_if(op.outcome)


def start(w: World) -> list[threading.Thread]:
    threads = [threading.Thread(target=pusher, args=(w, f"p{i}", 100 + i), daemon=True) for i in range(2)]
    threads += [threading.Thread(target=reader, args=(w, 200), daemon=True),
                threading.Thread(target=collaborator, args=(w, 300), daemon=True)]
    for t in threads:
        t.start()
    return threads
