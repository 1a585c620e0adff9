"""docker-compose.yml, Dockerfile and .env.example: Docker can't run here, so read them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from opsgraph.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_compose_db_service() -> None:
    db = _compose()["services"]["db"]
    assert db["image"] == "postgres:16"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume, _, mount = db["volumes"][0].partition(":")
    assert mount == "/var/lib/postgresql/data"
    assert volume in _compose()["volumes"]  # a named volume, not a bind mount


def test_compose_api_service() -> None:
    api = _compose()["services"]["api"]
    assert api["build"] == "."
    assert api["depends_on"] == {"db": {"condition": "service_healthy"}}
    command = " ".join(api["command"])
    assert command.index("opsgraph migrate") < command.index("opsgraph serve")
    assert "/health" in " ".join(api["healthcheck"]["test"])
    env = api["environment"]
    assert env["OPSGRAPH_DATABASE_URL"].startswith("postgresql://")
    assert "@db:5432/" in env["OPSGRAPH_DATABASE_URL"]
    assert ":?" in env["OPSGRAPH_JWT_SECRET"]  # compose refuses to start without a secret
    for name in env:
        assert name.removeprefix("OPSGRAPH_").lower() in Settings.model_fields, name


def test_compose_worker_service_runs_the_jobs() -> None:
    services = _compose()["services"]
    worker, api = services["worker"], services["api"]
    assert worker["build"] == api["build"]  # the same image
    assert worker["command"] == ["opsgraph", "worker"]
    assert "--no-worker" in " ".join(api["command"])  # the server runs no jobs itself
    assert worker["depends_on"]["db"] == {"condition": "service_healthy"}
    assert worker["depends_on"]["api"] == {"condition": "service_healthy"}  # migrated
    env = worker["environment"]
    assert env["OPSGRAPH_DATABASE_URL"] == api["environment"]["OPSGRAPH_DATABASE_URL"]
    assert ":?" in env["OPSGRAPH_JWT_SECRET"]
    for name in env:
        assert name.removeprefix("OPSGRAPH_").lower() in Settings.model_fields, name


def test_dockerfile_runs_as_non_root_with_migrations() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "USER opsgraph" in text
    assert "COPY migrations" in text
    assert "HEALTHCHECK" in text


def test_env_example_lists_every_setting_with_its_default() -> None:
    listed: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            listed[key] = value
    expected = {f"OPSGRAPH_{name.upper()}" for name in Settings.model_fields}
    assert set(listed) == expected
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    for key, value in listed.items():
        current = getattr(defaults, key.removeprefix("OPSGRAPH_").lower())
        if isinstance(current, list):
            current = ",".join(current)
        elif current is None:
            current = ""
        assert str(current) == value, key
