"""`opsgraph serve` end to end, as `make run` starts it: embedded PostgreSQL, migrations,
demo data, HTTP; then a signal stops the server and the database, leaving no process."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import subprocess_env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _postgres_processes(pgdata: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["name"] == "postgres" and str(pgdata.resolve()) in " ".join(cmdline):
            found.append(proc)
    return found


def _start(data_dir: Path, port: int) -> subprocess.Popen[str]:
    env = subprocess_env(OPSGRAPH_DATA_DIR=str(data_dir), OPSGRAPH_PORT=str(port))
    return subprocess.Popen(
        [sys.executable, "-m", "opsgraph", "serve", "--migrate", "--seed-demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_ready(proc: subprocess.Popen[str], base: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"server exited early ({proc.returncode}):\n{out}\n{err}")
        try:
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    proc.kill()
    pytest.fail("server did not become ready")


QUERY = '{ customer(externalId: "C-100") { name } }'


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serve_embedded_demo_then_stop_cleanly(tmp_path: Path, stop_signal: signal.Signals) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    pgdata = tmp_path / "pgdata"

    first = _start(tmp_path, port)
    _wait_ready(first, base)
    body = httpx.post(f"{base}/graphql", json={"query": QUERY}, timeout=10).json()
    assert body == {"data": {"customer": {"name": "Maskad Kund AB"}}}
    assert httpx.get(f"{base}/health", timeout=5).json()["status"] == "ok"
    assert _postgres_processes(pgdata), "the embedded PostgreSQL should be running"
    first.send_signal(stop_signal)
    out, err = first.communicate(timeout=60)
    assert first.returncode in (0, 130), err
    assert "admin:" in out  # demo passwords, printed on first start
    assert "staff:" in out
    assert "Traceback" not in err
    assert not _postgres_processes(pgdata), "PostgreSQL left running after stop"

    # a second start reuses the data and creates no users again
    second = _start(tmp_path, port)
    _wait_ready(second, base)
    body = httpx.post(f"{base}/graphql", json={"query": QUERY}, timeout=10).json()
    assert body["data"]["customer"]["name"] == "Maskad Kund AB"
    second.send_signal(stop_signal)
    out, err = second.communicate(timeout=60)
    assert second.returncode in (0, 130), err
    assert "admin:" not in out
    assert not _postgres_processes(pgdata)
