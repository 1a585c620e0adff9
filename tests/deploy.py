"""Reading the deployment files as Docker would: docker-compose.yml with its variables
interpolated from an env file (compose's rules for ``${VAR}``, ``${VAR:-default}``,
``${VAR:?message}``), and the environment the Dockerfile's final image sets. No container
runtime runs here, so the tests run what these files say outside a container."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = ROOT / "docker-compose.yml"
DEPLOY_ENV = ROOT / "deploy.env.example"

# $$, ${NAME}, ${NAME:-x}, ${NAME-x}, ${NAME:?x}, ${NAME?x}, ${NAME:+x}, ${NAME+x}, $NAME
VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>\w+)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|(?P<bare>\w+))"
)


class MissingVariable(Exception):
    """A required variable (``${NAME:?message}``) is unset or empty: compose's refusal."""


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (no quoting: the shipped files use none), comments skipped."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def variables(text: str) -> list[tuple[str, str | None, str]]:
    """The variables a compose value refers to: (name, operator, argument)."""
    return [
        (match["braced"] or match["bare"], match["op"], match["arg"] or "")
        for match in VARIABLE.finditer(text)
        if not match["escaped"]
    ]


def interpolate(text: str, env: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        op, arg = match["op"], match["arg"] or ""
        value = env.get(name)
        empty = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in ("-", ":-"):
            return arg if empty else str(value)
        if op in ("?", ":?"):
            if empty:
                raise MissingVariable(f"{name}: {arg}")
            return str(value)
        if op in ("+", ":+"):
            return "" if empty else arg
        return value or ""

    return VARIABLE.sub(one, text)


def service_environment(service: dict[str, Any], env: dict[str, str]) -> dict[str, str]:
    return {name: interpolate(str(value), env) for name, value in service["environment"].items()}


def image_environment() -> dict[str, str]:
    """The ``ENV`` of the Dockerfile's final stage."""
    stages = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").split("\nFROM ")
    found: dict[str, str] = {}
    for line in stages[-1].splitlines():
        if line.startswith("ENV "):
            for pair in shlex.split(line.removeprefix("ENV ")):
                name, _, value = pair.partition("=")
                found[name] = value
    return found


def image_command() -> list[str]:
    """The Dockerfile's ``CMD`` (exec form)."""
    import json

    [line] = [
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")
    ]
    command: list[str] = json.loads(line.removeprefix("CMD "))
    return command
