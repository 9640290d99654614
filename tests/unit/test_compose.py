"""docker-compose.yml cannot run here (no Docker engine): check it parses and names real things."""
from pathlib import Path

import yaml

from api.cli import build_parser
from registry.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_compose_services_commands_and_environment():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "minio", "api", "worker"} <= set(services)
    assert services["redis"]["image"].startswith("redis:")
    assert services["minio"]["image"].startswith("minio/minio")
    parser = build_parser()
    for name in ("api", "worker"):
        command = services[name]["command"]
        assert command[0] == "registry"
        parser.parse_args(command[1:])  # a real subcommand with valid options
        env = services[name]["environment"]
        registry_vars = {k for k in env if k.startswith("REGISTRY_")}
        known = {f"REGISTRY_{f.upper()}" for f in Settings.model_fields}
        assert registry_vars <= known, registry_vars - known
        assert env["REGISTRY_STORAGE"] == "s3" and env["REGISTRY_REDIS_URL"].startswith("redis://")
        assert env["REGISTRY_DATABASE_URL"].startswith("postgresql://") and env["REGISTRY_SEARCH"] == "postgres"
        assert "volumes" not in services[name]  # nothing per node but caches
        assert services[name].get("deploy", {}).get("replicas", 1) >= 2
    assert (ROOT / "Dockerfile").exists()
    for name in ("postgres", "redis", "minio", "api", "worker"):  # long-running services come back by themselves
        assert services[name]["restart"] in ("always", "unless-stopped"), name
