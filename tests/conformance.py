"""The OpenAPI document as a contract (run by test_openapi_conformance*.py), checked by a tool nobody
here wrote: schemathesis generates requests from /openapi.json (valid ones and ones that break it)
and runs all its checks against a real `registry serve`: no server errors, every status and content type documented, every body
matching its response schema, invalid data rejected.

Fixtures are in place so operations reach real objects: a public template with history and a tag,
a private one, a fork with an open pull request, a collaborator. Path parameters name them; the
rest of each request is generated. `SCHEMATHESIS_EXAMPLES` sets examples per operation.
"""
from __future__ import annotations

import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from tests.gitcli import commit_file, git
from tests.integration.conftest import _start
from tests.unit.usecases import MINIMAL

# Git bodies are bytes: send the generated ones as they are.
schemathesis.serializer.alias(["application/x-git-upload-pack-request", "application/x-git-receive-pack-request"],
                              "application/octet-stream")
SHARDS = 3  # one file each (test_openapi_conformance*.py), so xdist runs them side by side
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "6"))
FIXED = {"owner": "alice", "name": "demo", "number": 1, "user": "bob", "token_id": 999_999,
         "version": "v1.0.0", "branch": "main", "rest": "main/template.json", "spec": "v1.0.0...main",
         "service_name": "git-upload-pack", "path": "notes.md"}


@pytest.fixture(scope="module")
def unlimited_env(tmp_path_factory):
    """A server without rate limits: schemathesis sends thousands of requests, many anonymous."""
    yield from _start(tmp_path_factory.mktemp("srv-contract"), "local", None,
                      {"REGISTRY_RATE_LIMIT_ANONYMOUS": "0", "REGISTRY_RATE_LIMIT_TOKEN": "0"})


@pytest.fixture(scope="module")
def fixtures(unlimited_env, tmp_path_factory):
    env = unlimited_env
    info = env.create("demo", description="a public template")
    env.create("secret", visibility="private")
    work = env.clone(info["clone_url"], "alice", tmp_path_factory.mktemp("demo") / "w")
    commit_file(work, "tests/cases.json", json.dumps([{"name": "asks", "parameters": {"portfolio": "p", "quarter": "q"},
                                                       "assert": [{"type": "contains", "value": "risk"}]}]))
    commit_file(work, "template.json", json.dumps(MINIMAL))
    sha = commit_file(work, "notes.md", "first\n")
    git("tag", "-a", "v1.0.0", "-m", "first version", cwd=work)
    git("push", "-q", "origin", "HEAD:main", "--tags", cwd=work)
    git("push", "-q", "origin", f"{sha}:refs/heads/feature", cwd=work)
    commit_file(work, "notes.md", "second\n")
    git("push", "-q", "origin", "HEAD:refs/heads/feature", cwd=work)
    with env.api("alice") as c:
        assert c.post("/templates/alice/demo/pulls", json={"title": "a change", "head": "feature"}).status_code == 201
        assert c.put("/templates/alice/demo/collaborators/bob", json={"role": "writer"}).status_code == 204
        run = c.post("/templates/alice/demo/runs", json={"ref": "main"})
        assert run.status_code == 202, run.text
        # a hook to a documentation address (the guard refuses it: nothing leaves the machine)
        hook = c.post("/templates/alice/demo/hooks", json={"url": "http://192.0.2.1/hook", "events": ["*"]}).json()
        assert c.put("/templates/alice/demo/star").status_code in (200, 204)  # an event for it to deliver
        deliveries = c.get(f"/templates/alice/demo/hooks/{hook['id']}/deliveries").json()
        draft = c.post("/templates/alice/demo/drafts", json={"branch": "main", "path": "notes.md"})
        assert draft.status_code == 201, draft.text
        experiment = c.post("/templates/alice/demo/experiments", json={"variants": ["main", "feature"], "repetitions": 1})
        assert experiment.status_code == 202, experiment.text
    return env, FIXED | {"sha": sha, "run_id": run.json()["id"], "hook_id": hook["id"], "delivery": deliveries[0]["id"],
                         "draft_id": draft.json()["id"], "experiment_id": experiment.json()["id"]}


def every_operation_keeps_its_contract(fixtures, shard: int) -> None:
    """Each operation of this shard (every SHARDS-th of the document's), positive and negative
    examples, all of schemathesis's checks. Failures are gathered over the shard's operations, so
    one run shows every broken contract."""
    env, params = fixtures

    # A schema-valid request may still name something unusable (a missing branch, a PR with no
    # changes): 400 is documented for that on every operation, so it counts as a fitting answer.
    accepted = ["2XX", "3XX", "400", "401", "403", "404", "405", "409", "412", "429"]
    config = SchemathesisConfig.from_dict({"checks": {"enabled": True, "positive_data_acceptance": {
        "expected-statuses": accepted}}})
    schema = schemathesis.openapi.from_url(env.url + "/openapi.json", config=config)
    auth = {"Authorization": f"Bearer {env.tokens['alice']}"}
    failures: list[str] = []
    operations = 0
    for index, result in enumerate(schema.get_all_operations()):
        operation = result.ok()
        if index % SHARDS != shard:
            continue
        if (operation.method.upper(), operation.path) == ("DELETE", "/api/v1/templates/{owner}/{name}"):
            continue  # would delete the fixture for every operation after it; tested elsewhere
        operations += 1
        path_parameters = {p.name: params[p.name] for p in operation.path_parameters}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            @given(case=strategy)
            def check(case) -> None:
                case.call_and_validate(headers=auth)

            try:
                check()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing of this operation can be made invalid
            except (Exception, BaseExceptionGroup) as exc:  # every failure is reported below
                failures.append(f"{operation.method.upper()} {operation.path} ({mode}): {exc}"[:2000])
    assert operations >= 40 // SHARDS
    assert not failures, "\n\n".join(failures)

