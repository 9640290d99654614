"""MCP servers of a manifest, exported as the `mcpServers` block MCP clients read.

An entry that names a server of the official MCP registry (server.json terms: packages with a
registryType, or remotes) becomes a launch command or a remote URL; otherwise the entry's own
endpoint is used. Credentials stay `${secrets.NAME}` references: the client resolves them.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

LAUNCHERS: dict[str, Callable[[str, str | None], tuple[str, list[str]]]] = {
    "npm": lambda ident, ver: ("npx", ["-y", f"{ident}@{ver}" if ver else ident]),
    "pypi": lambda ident, ver: ("uvx", [f"{ident}=={ver}" if ver else ident]),
    "oci": lambda ident, ver: ("docker", ["run", "-i", "--rm", f"{ident}:{ver}" if ver else ident]),
}


def client_config(manifest: dict[str, Any]) -> dict[str, Any]:
    servers: dict[str, Any] = {}
    for server in manifest.get("mcpServers", []):
        servers[server["serverId"]] = _entry(server)
    return {"mcpServers": servers}


def _entry(server: dict[str, Any]) -> dict[str, Any]:
    config = server.get("configuration") or {}
    ref = server.get("registry") or {}
    env = dict(config.get("env") or {})
    for package in ref.get("packages", []):
        launcher = LAUNCHERS.get(package.get("registryType"))
        if launcher:
            command, args = launcher(package["identifier"], package.get("version") or ref.get("version"))
            for var in package.get("environmentVariables", []):
                env.setdefault(var["name"], f"${{secrets.{var['name']}}}")
            return {"command": command, "args": args, **({"env": env} if env else {})}
    remote = next(iter(ref.get("remotes", [])), None)
    url = remote["url"] if remote else config.get("endpoint")
    if not url:
        return {"command": server["serverId"], **({"env": env} if env else {})}
    entry: dict[str, Any] = {"type": "sse" if remote and remote.get("type") == "sse" else "http", "url": url}
    auth = config.get("authentication") or {}
    if auth.get("type") == "bearer" and auth.get("token"):
        entry["headers"] = {"Authorization": f"Bearer {auth['token']}"}
    elif auth.get("type") == "api-key" and auth.get("apiKey"):
        entry["headers"] = {auth.get("header", "X-API-Key"): auth["apiKey"]}
    if env:
        entry["env"] = env
    return entry
