"""A registry asking the tests' model server (tests/modelserver.py), and a pull request whose
prompt change the evaluation must show: four cases, of which on the head one is unchanged (same),
one changed and still passing, one regressed and one fixed. Shared by the integration and the
browser tests of evaluations."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.gitcli import commit_file, git
from tests.integration.conftest import Env
from tests.modelserver import ModelServer, model_server
from tests.services import registry_server

MINIMAL = json.loads((Path(__file__).resolve().parents[2] / "shared/examples/minimal.template.json").read_text())
PRICES = {"test-model": [100, 200]}  # USD per 1M tokens: a word in costs $0.0001, a word out $0.0002
BUDGET = 1.0
BASE_PROMPT = "Summarise {{ topic }}."
HEAD_PROMPT = "Summarise {{ topic }}{% if topic != 'birds' %} politely{% endif %}."


def manifest(user_prompt: str) -> dict:
    config = {**MINIMAL["promptConfig"], "systemPrompt": "You answer.", "userPromptTemplate": user_prompt,
              "parameters": [{"name": "topic", "type": "string", "required": True}]}
    return {**MINIMAL, "promptConfig": config}


def case(name: str, topic: str, *asserts: dict) -> dict:
    return {"name": name, "parameters": {"topic": topic}, "assert": list(asserts)}


CASES = [
    case("cats", "cats", {"type": "contains", "value": "CATS", "target": "output"}),
    case("dogs stay plain", "dogs", {"type": "not-contains", "value": "POLITELY", "target": "output"}),
    case("owls are polite", "owls", {"type": "contains", "value": "POLITELY", "target": "output"}),
    case("birds", "birds", {"type": "starts-with", "value": "SUMMARISE", "target": "output"},
         {"type": "latency-ms", "value": 30000}, {"type": "cost", "value": 1}),
]


@contextmanager
def served(tmp: Path) -> Iterator[tuple[Env, ModelServer]]:
    """A registry (users alice, bob, carol with write tokens) whose sandbox asks a model server of
    its own, at PRICES, with a monthly budget of BUDGET per owner."""
    with model_server() as models:
        env_vars = {f"REGISTRY_{k}": v for k, v in models.env("openai", "test-model").items()}
        env_vars |= {"REGISTRY_MODEL_PRICES": json.dumps(PRICES), "REGISTRY_RUN_BUDGET_USD": str(BUDGET),
                     "REGISTRY_SANDBOX_PROVIDER_BACKOFF_S": "0.05"}
        with registry_server(tmp / "data", env_vars) as server:
            tokens = server.accounts(("alice", "bob", "carol"), {u: (u, "write") for u in ("alice", "bob", "carol")})
            yield Env(server, "local", tokens), models


def settled(env: Env, user: str, name: str, *shas: str) -> None:
    """The pushes' sandbox checks of `shas` are over (they ask the model too)."""
    for sha in shas:
        assert env.check(name, sha, "sandbox", user=user, timeout=120)["state"] in ("success", "failure")


def eval_status(env: Env, user: str, name: str, sha: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    with env.api(user) as c:
        while time.monotonic() < deadline:
            found = {s["context"]: s for s in c.get(f"/templates/{user}/{name}/commits/{sha}/statuses").json()}
            if found.get("eval", {}).get("state") not in (None, "pending"):
                return found["eval"]
            time.sleep(0.2)
    raise AssertionError(f"eval of {sha} still pending: {found}")


def prompt_change(env: Env, models: ModelServer, name: str, tmp: Path, protect: bool = False) -> tuple[Path, str, str]:
    """alice's template `name` (BASE_PROMPT and CASES on main) and pull request #1 bringing
    HEAD_PROMPT from branch `polite`, opened once the pushes' checks are over (the model server's
    requests are then only the evaluation's); its clone, the base and the head commit."""
    info = env.create(name)
    work = env.clone(info["clone_url"], "alice", tmp / name)
    commit_file(work, "template.json", json.dumps(manifest(BASE_PROMPT)))
    base_sha = commit_file(work, "tests/cases.json", json.dumps(CASES))
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    if protect:
        with env.api() as c:
            assert c.put(f"/templates/alice/{name}/protection/main", json={"required_checks": ["eval"]}).status_code == 200
    git("checkout", "-q", "-b", "polite", cwd=work)
    head_sha = commit_file(work, "template.json", json.dumps(manifest(HEAD_PROMPT)))
    git("push", "-q", "origin", "polite", cwd=work)
    settled(env, "alice", name, base_sha, head_sha)
    models.reset()
    with env.api() as c:
        assert c.post(f"/templates/alice/{name}/pulls", json={"title": "Politer", "head": "polite"}).status_code == 201
    return work, base_sha, head_sha
