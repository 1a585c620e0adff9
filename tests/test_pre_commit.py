"""`.pre-commit-config.yaml`: local hooks that run the checks of `make lint` and the suite's
schema and migration checks, each with a command that exists."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
HOOKS = {"ruff-check", "ruff-format", "mypy", "import-layers", "schema-drift", "migrations"}


def _hooks() -> dict[str, dict[str, Any]]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks: dict[str, dict[str, Any]] = {}
    for repo in config["repos"]:
        assert repo["repo"] == "local"
        for hook in repo["hooks"]:
            assert hook["id"] not in hooks
            hooks[hook["id"]] = hook
    return hooks


def _runs(path: str) -> bool:
    """``path`` is an executable: a tool of the checkout's .venv (or, for a suite run from
    another environment, of that one), else a command on PATH."""
    if path.startswith(".venv/bin/") and not (ROOT / ".venv").exists():
        path = str(Path(sys.executable).parent / Path(path).name)
    found = (ROOT / path) if "/" in path else shutil.which(path)
    return found is not None and os.access(found, os.X_OK)


def test_the_hooks_are_the_checks_of_make_lint_and_the_suite() -> None:
    hooks = _hooks()
    assert set(hooks) == HOOKS
    assert all(hook["language"] == "system" for hook in hooks.values())
    assert "ruff check" in hooks["ruff-check"]["entry"]
    assert "ruff format --check" in hooks["ruff-format"]["entry"]
    assert hooks["mypy"]["pass_filenames"] is False  # the files of pyproject.toml
    drift = hooks["schema-drift"]["entry"]
    assert "opsgraph export-schema --output" in drift
    assert "diff -u schema.graphql" in drift


def test_every_hook_command_exists() -> None:
    for name, hook in _hooks().items():
        words = shlex.split(hook["entry"])
        assert _runs(words[0]), (name, words[0])
        # what a shell hook runs from the virtual environment
        for tool in re.findall(r"\.venv/bin/[\w-]+", hook["entry"]):
            assert _runs(tool), (name, tool)


def test_the_migrations_hook_runs_the_test_that_compares_models_and_migrations() -> None:
    words = shlex.split(_hooks()["migrations"]["entry"])
    target = next(word for word in words if "::" in word)
    path, test = target.split("::")
    assert re.search(rf"^def {test}\(", (ROOT / path).read_text(), re.MULTILINE)
