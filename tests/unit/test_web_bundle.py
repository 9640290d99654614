"""The served browser script is exactly what web/package-lock.json builds (esbuild, pinned there),
and stays small; the page layer needs no node (the bundle is committed)."""
from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
SERVED = ROOT / "api" / "web" / "static" / "editor.js"
GRAPHIQL = ROOT / "api" / "web" / "static" / "graphiql.js"
MAX_GZIPPED = 300 * 1024
MAX_GRAPHIQL_GZIPPED = 450 * 1024  # React, GraphiQL 3 and CodeMirror 5: 1.2 MB minified, ~380 KB gzipped


def _esbuild() -> Path:
    esbuild = WEB / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        if shutil.which("npm") is None:
            pytest.fail("npm is needed to rebuild the bundle (make test runs `npm ci` in web/)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=WEB, check=True, timeout=300)
    return esbuild


def test_the_served_bundle_is_what_the_lockfile_builds(tmp_path):
    esbuild = _esbuild()
    out = tmp_path / "editor.js"
    subprocess.run([str(esbuild), "src/editor.js", "--bundle", "--minify", "--format=iife", "--target=es2020",
                    "--legal-comments=none", f"--outfile={out}"], cwd=WEB, check=True, capture_output=True, timeout=120)
    assert out.read_bytes() == SERVED.read_bytes(), "api/web/static/editor.js is stale: run `make assets`"
    script = (WEB / "package.json").read_text()
    assert "--minify --format=iife --target=es2020 --legal-comments=none" in script  # the same flags as here


def test_the_bundle_is_small_and_asks_for_no_eval():
    data = SERVED.read_bytes()
    assert len(gzip.compress(data)) < MAX_GZIPPED
    assert b"new Function(" not in data and b"eval(" not in data  # the CSP allows neither


def test_the_graphiql_bundle_is_what_the_lockfile_builds(tmp_path):
    out = tmp_path / "graphiql.js"
    subprocess.run([str(_esbuild()), "src/graphiql.js", "--bundle", "--minify", "--format=iife", "--target=es2020",
                    "--legal-comments=none", '--define:process.env.NODE_ENV="production"', f"--outfile={out}"],
                   cwd=WEB, check=True, capture_output=True, timeout=120)
    assert out.read_bytes() == GRAPHIQL.read_bytes(), "api/web/static/graphiql.js is stale: run `make assets`"
    assert out.with_suffix(".css").read_bytes() == GRAPHIQL.with_suffix(".css").read_bytes()
    assert "src/graphiql.js" in (WEB / "package.json").read_text()


def test_the_graphiql_bundle_is_apart_and_asks_for_no_eval():
    data = GRAPHIQL.read_bytes()
    assert len(gzip.compress(data)) < MAX_GRAPHIQL_GZIPPED
    assert b"new Function(" not in data and b"eval(" not in data  # the CSP allows neither
    assert b"graphiql" not in SERVED.read_bytes().lower()  # the editor's pages load no React
