"""``make run`` in a fresh copy of the repository, as a newcomer starts opsgraph.

The copy holds the repository's tracked files as they are in the working tree (what a
clone of this commit holds) and nothing else: no ``.opsgraph`` data, no GraphiQL files.
Its ``make run`` installs GraphiQL's files with npm, starts an embedded PostgreSQL in the
copy's ``.opsgraph``, migrates, loads the demo data (printing the demo passwords) and
serves. The copy uses the suite's virtual environment (``VENV``), with its own code first on the
path: creating the environment and installing the dependencies is what ``make test``
itself does on a fresh clone, with the same Makefile rule.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.readiness import until_ready

ROOT = Path(__file__).resolve().parents[1]
DEMO_PASSWORD = re.compile(r"^\s+(admin|staff): (\S+)\s*$")


def copy_checkout(target: Path) -> Path:
    """The tracked files of the working tree, copied to ``target``."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if not source.is_file():  # deleted in the working tree
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
    return target


def clean_env(env: dict[str, str], directory: Path) -> dict[str, str]:
    """``env`` for a command in the copy: the copy's own code and files (the virtual
    environment's editable install points at the suite's checkout), and no coverage
    measurement of files that are gone when the report is made."""
    kept = {name: value for name, value in env.items() if not name.startswith("COVERAGE_")}
    return {**kept, "PYTHONPATH": str(directory)}


@dataclass
class FirstRun:
    """A running ``make run`` in a fresh copy: its directory, address and output."""

    directory: Path
    port: int
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def passwords(self) -> dict[str, str]:
        """The demo passwords ``make run`` printed on its first start."""
        found = {}
        for line in self.lines:
            match = DEMO_PASSWORD.match(line)
            if match:
                found[match[1]] = match[2]
        return found

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_ready(self, timeout: float) -> None:
        def ended() -> str | None:
            if self.process.poll() is None:
                return None
            time.sleep(0.2)  # the reader thread takes the last lines
            return f"exited ({self.process.returncode})"

        why = until_ready(self.base, timeout, ended)
        if why is not None:
            raise AssertionError(f"make run {why}:\n{self.output}")

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output:
                return
            if self.process.poll() is not None:
                time.sleep(0.2)
                raise AssertionError(f"exited ({self.process.returncode}):\n{self.output}")
            time.sleep(0.2)
        raise AssertionError(f"no {text!r} in {timeout:.0f} s:\n{self.output}")

    def stop(self) -> int:
        """Ctrl-C, as a person stops it; the exit status of ``make``."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


def installed_stamp() -> Path:
    """The Makefile's mark that the suite's virtual environment holds this pyproject.toml's
    dependencies (``$(VENV)/.installed-<cksum>``)."""
    cksum = subprocess.run(
        ["cksum", "pyproject.toml"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return ROOT / ".venv" / f".installed-{cksum.stdout.split()[0]}"


def start(
    directory: Path,
    port: int,
    env: dict[str, str],
    timeout: float = 600,
    command: str = f"make run VENV={ROOT / '.venv'}",
    ready_line: str | None = None,
) -> FirstRun:
    """``command`` (``make run`` by default) run by bash in ``directory`` with
    ``OPSGRAPH_PORT=port``, once it answers ``/ready`` (or printed ``ready_line``)."""
    # without the mark, make would install the copy into the suite's own environment
    assert installed_stamp().exists(), (
        f"{installed_stamp()} is missing: run `make install` (make test does) first"
    )
    process = subprocess.Popen(
        ["bash", "-c", command],
        cwd=directory,
        env={**clean_env(env, directory), "OPSGRAPH_PORT": str(port)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, stopped as a whole
    )
    run = FirstRun(directory, port, process)
    threading.Thread(target=run._read, daemon=True).start()
    try:
        if ready_line is None:
            run.wait_ready(timeout)
        else:
            run.wait_for(ready_line, timeout)
    except BaseException:
        run.stop()
        raise
    return run
