"""A server process builds its routes before it serves (api.serve.warm_routes, issue 29): the
first push into a fresh or recycled process no longer pays for FastAPI's lazily built routers."""
from __future__ import annotations

import fastapi
import fastapi.routing
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.serve import warm_routes
from registry.services import templates
from tests.unit.usecases import World


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    world = World.make(tmp_path_factory.mktemp("warm"))
    templates.create(world.c, world.alice, "target")
    return world


def _builds(monkeypatch) -> list[object]:
    """Every route FastAPI builds from here on."""
    built: list[object] = []
    router_class = getattr(fastapi.routing, "_IncludedRouter", None)
    if router_class is None:
        pytest.skip("this FastAPI builds its routes eagerly")
    original = router_class._build_effective_context

    def counting(self, route):
        built.append(route)
        return original(self, route)

    monkeypatch.setattr(router_class, "_build_effective_context", counting)
    return built


def _app(world: World) -> tuple[fastapi.FastAPI, TestClient]:
    app = create_app(world.c, "http://testserver")
    return app, TestClient(app)


def test_a_cold_app_builds_every_router_on_its_first_git_request(world, monkeypatch):
    built = _builds(monkeypatch)
    _, client = _app(world)
    assert client.get("/alice/target.git/info/refs?service=git-upload-pack").status_code == 200
    assert len(built) > 50  # the API's routes before git's, parameter models and all


def test_a_warmed_app_builds_nothing_on_its_first_git_request(world, monkeypatch):
    built = _builds(monkeypatch)
    app, client = _app(world)
    assert warm_routes(app) > 10
    warmed = len(built)
    assert client.get("/alice/target.git/info/refs?service=git-upload-pack").status_code == 200
    assert client.get("/api/v1/templates/alice/target").status_code == 200
    assert len(built) == warmed
