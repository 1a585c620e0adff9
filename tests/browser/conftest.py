"""Set-up for the browser tests: Chromium, GraphiQL's vendor files, a running opsgraph.

* Chromium: Debian's ``chromium`` package. When ``/usr/bin/chromium`` is missing and the
  tests run as root with apt-get, it is installed (``apt-get update`` + ``apt-get install -y
  chromium``); elsewhere the tests are skipped, saying why.
* GraphiQL's files: when ``opsgraph/static/vendor/`` lacks them and npm is installed,
  ``make assets`` installs them; without npm the tests are skipped, saying why.
* the server: ``opsgraph serve`` in a subprocess on a free port (``serving``), against the
  test database or one of the test's own.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import URL

from opsgraph.rest.graphiql import missing_vendor_files
from tests.browser.cdp import CHROMIUM
from tests.conftest import free_port, subprocess_env, wait_ready

ROOT = Path(__file__).resolve().parents[2]
INSTALL_TIMEOUT = 600


def _apt_get(*args: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(
        ["apt-get", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        pytest.skip(f"`apt-get {' '.join(args)}` failed: {' / '.join(tail)}")


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if shutil.which("apt-get") is None:
        pytest.skip(f"{CHROMIUM} is missing and there is no apt-get to install Debian's chromium")
    if os.geteuid() != 0:
        pytest.skip(f"{CHROMIUM} is missing; installing it needs root: apt-get install chromium")
    _apt_get("update")
    _apt_get("install", "-y", "--no-install-recommends", "chromium")
    if not Path(CHROMIUM).exists():  # pragma: no cover - the package always ships it
        pytest.skip(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM


@pytest.fixture(scope="session")
def vendor_assets() -> None:
    if not missing_vendor_files():
        return
    if shutil.which("npm") is None:
        pytest.skip("GraphiQL's files are not installed and npm is missing: install Node.js")
    result = subprocess.run(
        ["make", "--always-make", "assets"],  # even when its stamp says up to date
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert not missing_vendor_files(), result.stdout + result.stderr


@contextmanager
def serving(database_url: URL, **settings: str) -> Iterator[str]:
    """``opsgraph serve`` on a free port against the database, with ``OPSGRAPH_*``
    ``settings``; its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = subprocess_env(
        OPSGRAPH_DATABASE_URL=database_url.render_as_string(hide_password=False),
        OPSGRAPH_PORT=str(port),
        **settings,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsgraph", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_ready(proc, base, timeout=60)
        yield base
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()


@pytest.fixture(scope="module")
def live_server(database_url: URL, vendor_assets: None) -> Iterator[str]:
    """``opsgraph serve`` on a free port against the test database; its base URL."""
    with serving(database_url) as base:
        yield base
