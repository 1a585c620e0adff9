"""docker-compose.yml, Dockerfile, deploy.env.example and .env.example: Docker can't run
here, so read them (tests/test_deployment.py runs what they say)."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url

from opsgraph.db.embedded import bundled_major_version
from opsgraph.settings import Settings
from tests.deploy import (
    DEPLOY_ENV,
    ROOT,
    MissingVariable,
    compose,
    env_file,
    image_command,
    image_environment,
    interpolate,
    service_environment,
    variables,
)

_compose = compose
BOOTSTRAP = [
    "OPSGRAPH_BOOTSTRAP_ADMIN_USERNAME",
    "OPSGRAPH_BOOTSTRAP_ADMIN_EMAIL",
    "OPSGRAPH_BOOTSTRAP_ADMIN_PASSWORD",
]


def test_compose_db_service_runs_the_postgresql_major_of_development() -> None:
    db = _compose()["services"]["db"]
    # the embedded PostgreSQL of `make run` and of the tests: one major everywhere
    assert db["image"] == f"postgres:{bundled_major_version()}"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume, _, mount = db["volumes"][0].partition(":")
    # from 18 on the image keeps its data under /var/lib/postgresql/<major>/docker: a
    # volume on .../data would be left empty and the data lost with the container
    assert mount == "/var/lib/postgresql"
    assert volume in _compose()["volumes"]  # a named volume, not a bind mount
    url = make_url(_compose()["services"]["api"]["environment"]["OPSGRAPH_DATABASE_URL"])
    assert (url.username, url.database) == (db["environment"]["POSTGRES_USER"], "opsgraph")


def test_compose_api_service() -> None:
    api = _compose()["services"]["api"]
    assert api["build"] == "."
    assert api["depends_on"] == {"db": {"condition": "service_healthy"}}
    command = " ".join(api["command"])
    assert command.index("opsgraph migrate") < command.index("opsgraph serve")
    assert "/health" in " ".join(api["healthcheck"]["test"])
    # the server listens where the image says, and that is the port compose publishes
    image = image_environment()
    assert image["OPSGRAPH_HOST"] == "0.0.0.0"  # noqa: S104 - inside the container
    assert api["ports"] == ["${OPSGRAPH_PORT:-8000}:" + image["OPSGRAPH_PORT"]]
    assert "--host" not in command
    assert "--port" not in command
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
    command = " ".join(image_command())
    assert command.index("opsgraph migrate") < command.index("exec opsgraph serve")
    assert image_environment()["OPSGRAPH_ENVIRONMENT"] == "production"


def _required(service: str) -> set[str]:
    return {
        name
        for value in _compose()["services"][service]["environment"].values()
        for name, op, _ in variables(str(value))
        if op == ":?"
    }


def test_the_first_admin_and_the_jwt_secret_are_required() -> None:
    assert _required("api") == {"OPSGRAPH_JWT_SECRET", *BOOTSTRAP}
    assert _required("worker") == {"OPSGRAPH_JWT_SECRET"}
    filled = dict.fromkeys(_required("api"), "x" * 40)
    api = _compose()["services"]["api"]
    assert service_environment(api, filled)["OPSGRAPH_BOOTSTRAP_ADMIN_EMAIL"] == "x" * 40
    for missing in sorted(_required("api")):
        for value in ("", None):  # unset or empty: compose refuses to start
            env = {k: v for k, v in filled.items() if k != missing}
            if value is not None:
                env[missing] = value
            with pytest.raises(MissingVariable, match=missing):
                service_environment(api, env)


def test_trusted_proxies_are_passed_through() -> None:
    api = _compose()["services"]["api"]["environment"]
    assert api["OPSGRAPH_TRUSTED_PROXIES"] == "${OPSGRAPH_TRUSTED_PROXIES:-}"
    assert interpolate(api["OPSGRAPH_TRUSTED_PROXIES"], {}) == ""  # default: believe none
    given = {"OPSGRAPH_TRUSTED_PROXIES": "172.16.0.0/12"}
    assert interpolate(api["OPSGRAPH_TRUSTED_PROXIES"], given) == "172.16.0.0/12"


def test_deploy_env_example_lists_what_compose_reads() -> None:
    """deploy.env.example (copied to .env) holds every variable the compose file reads,
    the required ones left empty for the person to fill in, and nothing compose ignores."""
    listed = env_file(DEPLOY_ENV)
    read: dict[str, set[str | None]] = {}
    defaults: dict[str, set[str]] = {}
    for value in _walk(_compose()):
        for name, op, argument in variables(value):
            read.setdefault(name, set()).add(op)
            if op == ":-":
                defaults.setdefault(name, set()).add(argument)
    assert set(listed) == set(read)
    for name, given in defaults.items():  # the example changes none of compose's defaults
        assert given == {listed[name]}, name
    required = {name for name, ops in read.items() if ":?" in ops}
    assert required == {"OPSGRAPH_JWT_SECRET", *BOOTSTRAP}
    assert {name for name in required if listed[name]} == {"OPSGRAPH_BOOTSTRAP_ADMIN_USERNAME"}
    assert "docker compose up" in DEPLOY_ENV.read_text()


def _walk(node: object) -> list[str]:
    if isinstance(node, dict):
        return [text for value in node.values() for text in _walk(value)]
    if isinstance(node, list):
        return [text for value in node for text in _walk(value)]
    return [node] if isinstance(node, str) else []


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
