"""What `make soak-cluster` checks once the load and the faults are over, from a fresh node (empty
data dir and pack cache, S3 without the fault proxy) and the database itself: every promise of
issue 27, each as a list of broken cases (empty: kept)."""
from __future__ import annotations

import json
import re
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.soak_history import History, Op
from bench.soak_nodes import Node, Shape
from tests.gitcli import authed, git
from tests.receiver import Receiver

NOT_LANDED = ("refused", "rejected", "unavailable", "down")  # outcomes that promise nothing was stored
FINAL = ("success", "failure", "error")


@dataclass
class Mirror:
    path: Path
    refs: dict[str, str]  # every ref, refs/pull/* included
    reachable: set[str]  # every commit reachable from a ref, and every ref's own object
    history: dict[str, set[str]] = field(default_factory=dict)  # branch -> commits reachable from it
    subjects: dict[str, str] = field(default_factory=dict)  # main's commits: subject -> sha

    def on(self, branch: str) -> set[str]:
        if branch not in self.history:
            sha = self.refs.get(branch)
            self.history[branch] = set(git("rev-list", sha, cwd=self.path).stdout.split()) if sha else set()
        return self.history[branch]


def mirror(fresh: Node, token: str, name: str, tmp: Path) -> tuple[Mirror, str]:
    """A mirror clone of `name` from the fresh node, and what `git fsck --strict` said ("" if clean)."""
    dest = tmp / "verify" / f"{name}.git"
    git("clone", "-q", "--mirror", authed(f"{fresh.url}/soak/{name}.git", "soak", token), str(dest), timeout=600)
    refs = dict(reversed(line.split(" ", 1)) for line in  # type: ignore[misc]
                git("for-each-ref", "--format=%(objectname) %(refname)", cwd=dest).stdout.splitlines())
    reachable = set(git("rev-list", "--all", cwd=dest).stdout.split()) | set(refs.values())
    fsck = git("fsck", "--strict", "--no-dangling", cwd=dest, check=False)
    m = Mirror(dest, refs, reachable)
    for line in git("log", "--format=%H %s", "refs/heads/main", cwd=dest).stdout.splitlines():
        sha, _, subject = line.partition(" ")
        m.subjects[subject] = sha
    return m, "" if fsck.returncode == 0 else (fsck.stdout + fsck.stderr)[-500:]


def landed(op: Op, m: Mirror) -> bool | None:
    """Whether what `op` wrote is in the refs now (None: overwritten since, so it cannot tell)."""
    if op.kind in ("push:main", "push:refused", "pull merge"):
        return op.sha in m.on("refs/heads/main")
    if op.kind == "web commit":
        return op.sha in m.on("refs/heads/web")
    if op.kind == "push:force":
        return True if m.refs.get(op.ref) == op.sha else None
    return m.refs.get(op.ref) == op.sha


def pushes(h: History, mirrors: dict[str, Mirror], events: Counter[tuple[str, str, str]]) -> dict[str, list[str]]:
    """Accepted pushes (git, web commits, merges) are in the refs with one push event per ref;
    refused ones are in no ref and have none; an outcome the client could not know is either."""
    broken: dict[str, list[str]] = defaultdict(list)
    ops = [op for op in h.of("push:") + h.of("web commit") + h.of("pull merge") if op.sha and op.template]
    last_force: dict[tuple[str, str], Op] = {}
    for op in sorted((o for o in ops if o.kind == "push:force"), key=lambda o: o.start):
        if op.outcome == "ok":
            last_force[(op.template, op.ref)] = op
    for op in ops:
        if op.kind == "pull merge" and op.outcome != "ok":
            continue  # its sha is the pull's head, not what a merge wrote
        m, where = mirrors[op.template], f"{op.kind} {op.template} {op.ref} {op.sha[:12]} via {op.node} ({op.outcome})"
        is_in = landed(op, m)
        n_events = events.get((op.template, op.ref, op.sha), 0)
        if op.kind == "push:refused" and op.outcome == "ok":
            broken["a force push to protected main was accepted"].append(where)
        if op.outcome == "ok":
            if op.kind == "push:force" and is_in is None:
                last = last_force[(op.template, op.ref)]
                later = {o.sha for o in ops if o.kind == "push:force" and o.template == op.template and
                         o.ref == op.ref and o.start > last.start and o.outcome not in NOT_LANDED}
                if op is last and m.refs.get(op.ref) not in later:
                    broken["accepted push not in the refs"].append(where)
            elif not is_in:
                broken["accepted push not in the refs"].append(where)
            if n_events != 1:
                broken["accepted push without exactly one push event"].append(f"{where}: {n_events} events")
        elif op.outcome in NOT_LANDED:
            if op.sha in m.reachable or m.refs.get(op.ref) == op.sha:
                broken["refused push in the refs"].append(where)
            if n_events:
                broken["refused push with a push event"].append(f"{where}: {n_events} events")
        elif is_in and n_events != 1:
            broken["push of unknown outcome that landed without exactly one push event"].append(
                f"{where}: {n_events} events")
        elif is_in is False and n_events:
            broken["push of unknown outcome that did not land, with a push event"].append(where)
    for key, n in events.items():
        if n > 1:
            broken["ref update with more than one push event"].append(f"{key}: {n}")
    return broken


def push_events(s: Shape) -> Counter[tuple[str, str, str]]:
    rows = s.sql("SELECT t.name, e.payload FROM events e JOIN templates t ON t.id = e.template_id "
                 "WHERE e.action = 'push'")
    out: Counter[tuple[str, str, str]] = Counter()
    for name, payload in rows:
        body = json.loads(payload)
        out[(name, body["ref"], body["after"])] += 1
    return out


def stars(s: Shape, h: History, fresh: Node, token: str, names: list[str]) -> list[str]:
    """The count a template shows equals its star rows, and each row is what the clients last did."""
    broken: list[str] = []
    rows = s.sql("SELECT t.name, u.name FROM stars st JOIN templates t ON t.id = st.template_id "
                 "JOIN users u ON u.id = st.user_id")
    starred = set(rows)
    for name in names:
        shown = httpx.get(f"{fresh.url}/api/v1/templates/soak/{name}", timeout=60,
                          headers={"Authorization": f"Bearer {token}"}).json()["stars"]
        count = sum(1 for t, _ in rows if t == name)
        if shown != count:
            broken.append(f"{name}: shows {shown} stars, has {count} star rows")
    last: dict[tuple[str, str], Op] = {}
    for op in sorted(h.of("star") + h.of("unstar"), key=lambda o: o.start):
        if op.outcome in ("ok", "unknown"):
            last[(op.template, op.extra["user"])] = op
    for (name, user), op in last.items():
        if op.outcome == "ok" and ((name, user) in starred) != (op.kind == "star"):
            broken.append(f"{user} on {name}: last {op.kind} answered ok, star row {'present' if (name, user) in starred else 'absent'}")
    return broken


def pulls(s: Shape, h: History, mirrors: dict[str, Mirror]) -> list[str]:
    """Each pull request's state matches its refs: refs/pull/N/head is its head; merged exactly
    when main holds its merge commit; what a client saw merged or closed is so."""
    broken: list[str] = []
    rows = s.sql("SELECT t.name, p.number, p.state, p.head_sha, p.merged_sha, p.head_branch FROM pulls p "
                 "JOIN templates t ON t.id = p.template_id WHERE t.owner = 'soak'")
    state = {}
    for name, number, st, head, merged_sha, branch in rows:
        m, where = mirrors[name], f"{name}#{number} ({st})"
        state[(name, number)] = st
        if m.refs.get(f"refs/pull/{number}/head") != head:
            broken.append(f"{where}: refs/pull/{number}/head is {m.refs.get(f'refs/pull/{number}/head')}, head_sha {head}")
        if st == "open" and m.refs.get(f"refs/heads/{branch}") != head:
            broken.append(f"{where}: branch {branch} is at {m.refs.get(f'refs/heads/{branch}')}, head_sha {head}")
        commit = next((sha for subject, sha in m.subjects.items()
                       if re.match(rf"(Merge|Squash) pull request #{number}:", subject)), None)
        if (st == "merged") != (commit is not None):
            broken.append(f"{where}: main {'holds' if commit else 'lacks'} its merge commit")
        elif st == "merged" and merged_sha != commit:
            broken.append(f"{where}: merged_sha {merged_sha} but main has {commit}")
    for op in h.of("pull merge") + h.of("pull close"):
        got = state.get((op.template, op.extra["number"]))
        if op.outcome == "ok" and got != ("merged" if op.kind == "pull merge" else "closed") and got != "merged":
            broken.append(f"{op.template}#{op.extra['number']}: {op.kind} answered ok, state {got}")
    for op in h.of("pull open"):
        if op.outcome == "ok" and (op.template, op.extra["number"]) not in state:
            broken.append(f"{op.template}#{op.extra['number']}: opened (201) but not stored")
    return broken


def deliveries(s: Shape, receiver: Receiver, secret: str) -> tuple[list[str], Counter[int]]:
    """Every event a hook wants has a delivery, delivered at least once and at most once more
    than asked (a lost outcome: one more attempt); nothing else arrives; every body is signed."""
    broken: list[str] = []
    rows = s.sql("SELECT d.id, d.status, d.attempts, e.action FROM deliveries d JOIN hooks h ON h.id = d.hook_id "
                 "LEFT JOIN events e ON e.id = d.event_id")
    missing = s.sql("SELECT e.id, e.action FROM events e JOIN hooks h ON h.template_id = e.template_id "
                    "WHERE e.time > h.created_at AND left(e.action, 5) <> 'hook.' AND NOT EXISTS "
                    "(SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.hook_id = h.id)")
    with receiver.lock:
        got = list(receiver.received)
    times = Counter(r.headers.get("x-registry-delivery", "") for r in got)
    broken += [f"event {eid} ({action}) has no delivery" for eid, action in missing]
    broken += [f"delivery {r.headers.get('x-registry-delivery')} badly signed" for r in got if not r.signed_by(secret)]
    known = {row[0] for row in rows}
    broken += [f"unknown delivery {d} received" for d in times if d not in known]
    for did, status, attempts, action in rows:
        if status != "delivered" or not 1 <= times[did] <= 2:
            broken.append(f"delivery {did} ({action}): {status} after {attempts} attempts, received {times[did]} times")
    return broken, Counter(times[row[0]] for row in rows)


def checks(s: Shape, h: History, mirrors: dict[str, Mirror]) -> list[str]:
    """Every status is final; every branch and tag tip, and everything a push landed, has its checks."""
    broken: list[str] = []
    rows = s.sql("SELECT t.name, st.sha, st.context, st.state FROM statuses st JOIN templates t ON t.id = st.template_id")
    have: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for name, sha, context, st in rows:
        have[(name, sha)][context] = st
    broken += [f"{name} {sha[:12]} {ctx} still {st}" for (name, sha), got in have.items()
               for ctx, st in got.items() if st not in FINAL]
    owed = {(name, sha) for name, m in mirrors.items() for ref, sha in m.refs.items()
            if ref.startswith(("refs/heads/", "refs/tags/"))}
    owed |= {(op.template, op.sha) for op in h.of("push:") + h.of("web commit") + h.of("pull merge")
             if op.outcome == "ok" and op.sha and op.kind != "push:refused"}
    for name, sha in sorted(owed):
        got = have.get((name, sha), {})
        if any(got.get(ctx) not in FINAL for ctx in ("validate", "index", "sandbox")):
            broken.append(f"{name} {sha[:12]}: checks {got or 'never recorded'}")
    return broken


def pending(s: Shape) -> tuple[int, int]:
    """(checks pending, webhook deliveries pending) in the database now."""
    st = s.sql("SELECT count(*) FROM statuses WHERE state = 'pending'")[0][0]
    dl = s.sql("SELECT count(*) FROM deliveries WHERE status = 'pending'")[0][0]
    return st, dl


def settle(s: Shape, since: float, timeout: float = 300) -> dict[str, float | None]:
    """Seconds after `since` until no check, and then no delivery, was pending (None: not within `timeout`)."""
    out: dict[str, float | None] = {"checks": None, "deliveries": None}
    while time.monotonic() - since < timeout and None in out.values():
        try:
            st, dl = pending(s)
        except Exception:
            st = dl = -1
        for key, n in (("checks", st), ("deliveries", dl)):
            if n == 0 and out[key] is None:
                out[key] = time.monotonic() - since
        time.sleep(1)
    return out
