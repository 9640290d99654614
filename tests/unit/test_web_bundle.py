"""The served browser scripts are exactly what web/package-lock.json builds (esbuild, pinned there),
and stay small; the page layer needs no node (the bundles are committed). GraphiQL is a bundle of
its own, so no other page loads React."""
from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
STATIC = ROOT / "api" / "web" / "static"
BUNDLES = ("editor.js", "copy.js", "form.js", "passkeys.js", "drafts.js", "news.js", "live.js")
GRAPHIQL = STATIC / "graphiql.js"
MAX_GZIPPED = 300 * 1024
MAX_GRAPHIQL_GZIPPED = 450 * 1024  # React, GraphiQL 3 and CodeMirror 5: 1.2 MB minified, ~380 KB gzipped
FLAGS = ("--bundle", "--minify", "--format=iife", "--target=es2020", "--legal-comments=none")


def _esbuild() -> Path:
    esbuild = WEB / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        if shutil.which("npm") is None:
            pytest.fail("npm is needed to rebuild the bundles (make test runs `npm ci` in web/)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=WEB, check=True, timeout=300)
    return esbuild


def test_the_served_bundles_are_what_the_lockfile_builds(tmp_path):
    subprocess.run([str(_esbuild()), *(f"src/{b}" for b in BUNDLES), *FLAGS, f"--outdir={tmp_path}"], cwd=WEB,
                   check=True, capture_output=True, timeout=120)
    for bundle in BUNDLES:
        assert (tmp_path / bundle).read_bytes() == (STATIC / bundle).read_bytes(), f"{bundle} is stale: run `make assets`"
    script = (WEB / "package.json").read_text()
    assert " ".join(FLAGS) in script and all(f"src/{b}" in script for b in BUNDLES)  # the same build as here


def test_every_served_script_is_checked_here_and_none_is_left_over():
    from api.web.render import SCRIPTS  # what pages may load

    assert {f"{s}.js" for s in SCRIPTS} == {*BUNDLES, GRAPHIQL.name}
    assert {p.name for p in STATIC.glob("*.js")} == {*BUNDLES, GRAPHIQL.name}  # no stale bundle (conflicts.js
    # is inside editor.js and drafts.js: the pages that have its edit boxes load CodeMirror once)
    assert b"fieldset.hunk" in (STATIC / "editor.js").read_bytes() and b"fieldset.hunk" in (STATIC / "drafts.js").read_bytes()


@pytest.mark.parametrize("bundle", BUNDLES)
def test_the_bundle_is_small_and_asks_for_no_eval(bundle):
    data = (STATIC / bundle).read_bytes()
    assert len(gzip.compress(data)) < MAX_GZIPPED
    assert b"new Function(" not in data and b"eval(" not in data  # the CSP allows neither


def test_the_graphiql_bundle_is_what_the_lockfile_builds(tmp_path):
    out = tmp_path / "graphiql.js"
    subprocess.run([str(_esbuild()), "src/graphiql.js", *FLAGS, '--define:process.env.NODE_ENV="production"',
                    f"--outfile={out}"], cwd=WEB, check=True, capture_output=True, timeout=120)
    assert out.read_bytes() == GRAPHIQL.read_bytes(), "api/web/static/graphiql.js is stale: run `make assets`"
    assert out.with_suffix(".css").read_bytes() == GRAPHIQL.with_suffix(".css").read_bytes()
    assert "src/graphiql.js" in (WEB / "package.json").read_text()


def test_the_graphiql_bundle_is_apart_and_asks_for_no_eval():
    data = GRAPHIQL.read_bytes()
    assert len(gzip.compress(data)) < MAX_GRAPHIQL_GZIPPED
    assert b"new Function(" not in data and b"eval(" not in data  # the CSP allows neither
    assert all(b"graphiql" not in (STATIC / b).read_bytes().lower() for b in BUNDLES)  # no other page loads React
