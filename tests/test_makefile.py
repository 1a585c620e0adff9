"""The Makefile: `make run` on a first start says what it is doing while it installs, and keeps
pip quiet; every phony target exists, and `make migrate` migrates the configured database."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _planned(target: str, venv: Path, *variables: str) -> list[str]:
    """The commands make would run for ``target`` with a virtual environment not made yet."""
    make = shutil.which("make")
    if make is None:  # pragma: no cover - make is part of the development setup
        pytest.fail("make is not installed")
    result = subprocess.run(
        [make, "--dry-run", "--no-print-directory", target, f"VENV={venv}", "NPM=", *variables],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.splitlines()


def test_a_first_make_run_announces_each_stage(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    plan = _planned("run", venv)
    said = [line for line in plan if line.startswith(("echo ", "test -x"))]
    announced = "\n".join(said)
    creating = announced.index(f"creating {venv}")
    installing = announced.index(f"installing opsgraph and its dependencies into {venv}")
    starting = announced.index("starting opsgraph")
    assert creating < installing < starting
    assert "(first run: about a minute)" in announced
    pips = [line for line in plan if " -m pip install " in line]
    assert len(pips) == 2
    assert all("--quiet" in line for line in pips)


def test_the_graphiql_files_are_announced(tmp_path: Path) -> None:
    plan = _planned("assets", tmp_path / "venv", f"VENDOR={tmp_path / 'vendor'}", "NPM=npm")
    assert plan[0].startswith("echo \"installing GraphiQL's files with npm")
    assert any(line.startswith("npm ci ") for line in plan[1:])


def test_every_phony_target_has_a_rule() -> None:
    makefile = (ROOT / "Makefile").read_text()
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.MULTILINE)
    assert phony is not None
    names = phony.group(1).split()
    assert "migrate" in names
    missing = [name for name in names if not re.search(rf"^{name}:", makefile, re.MULTILINE)]
    assert missing == []


def test_make_migrate_migrates_the_configured_database(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    plan = _planned("migrate", venv)
    assert plan[-1] == f"{venv}/bin/opsgraph migrate"
    installing = next(i for i, line in enumerate(plan) if " -m pip install " in line)
    assert installing < len(plan) - 1


def test_make_help_lists_migrate(tmp_path: Path) -> None:
    said = "\n".join(_planned("help", tmp_path / "venv"))
    assert re.findall(r'^echo "make (\w+) ', said, re.MULTILINE)[:4] == [
        "run",
        "migrate",
        "test",
        "assets",
    ]
