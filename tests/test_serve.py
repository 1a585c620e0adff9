"""`opsgraph serve` end to end, as `make run` starts it: embedded PostgreSQL, migrations,
demo data, HTTP; then a signal stops the server and the database, leaving no process."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
import pytest

from tests.conftest import free_port, subprocess_env, wait_ready


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


QUERY = '{ customer(externalId: "C-100") { name } }'


def _signed_in(base: str, data_dir: Path) -> dict[str, str]:
    """Headers of the demo staff user, signed in with the password the first start saved."""
    note = (data_dir / "demo-credentials.txt").read_text()
    password = next(line.split(":", 1)[1].strip() for line in note.splitlines() if "staff:" in line)
    response = httpx.post(
        f"{base}/auth/token", data={"username": "staff", "password": password}, timeout=30
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_serve_embedded_demo_then_stop_cleanly(tmp_path: Path, stop_signal: signal.Signals) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    pgdata = tmp_path / "pgdata"

    first = _start(tmp_path, port)
    wait_ready(first, base)
    anonymous = httpx.post(f"{base}/graphql", json={"query": QUERY}, timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    headers = _signed_in(base, tmp_path)
    body = httpx.post(f"{base}/graphql", json={"query": QUERY}, headers=headers, timeout=10).json()
    assert body["data"] == {"customer": {"name": "Maskad Kund AB"}}
    assert httpx.get(f"{base}/health", timeout=5).json()["status"] == "ok"
    assert _postgres_processes(pgdata), "the embedded PostgreSQL should be running"
    first.send_signal(stop_signal)
    out, err = first.communicate(timeout=60)
    assert first.returncode in ((0,) if stop_signal == signal.SIGTERM else (0, 130)), err
    assert "admin:" in out  # demo passwords, printed on first start
    assert "staff:" in out
    assert "Traceback" not in err
    assert not _postgres_processes(pgdata), "PostgreSQL left running after stop"

    # a second start reuses the data and creates no users again
    second = _start(tmp_path, port)
    wait_ready(second, base)
    headers = _signed_in(base, tmp_path)
    body = httpx.post(f"{base}/graphql", json={"query": QUERY}, headers=headers, timeout=10).json()
    assert body["data"]["customer"]["name"] == "Maskad Kund AB"
    second.send_signal(stop_signal)
    out, err = second.communicate(timeout=60)
    assert second.returncode in ((0,) if stop_signal == signal.SIGTERM else (0, 130)), err
    assert "admin:" not in out
    note = tmp_path / "demo-credentials.txt"
    assert f"Demo users admin and staff: passwords in {note}; sign in at http" in out
    assert not _postgres_processes(pgdata)
