"""The README's examples, run as written against a ``make run`` of a fresh copy.

Every fenced ``graphql`` block is sent to that server as the demo ``admin`` and must answer
with data and no error (a mutation's payload ``errors`` included). Every fenced ``sh`` block
runs in bash (``set -euo pipefail``) in the copy's directory and must exit 0; a block
written as a terminal session (``$ command`` then its output) runs its commands and must
print lines of the shown shape. The only things changed on the way are the reader's own
values: the server's address (a free port instead of 8000), the printed demo password for
``<admin password>``, tokens of ``admin`` for ``<access_token>``, ``<refresh_token>`` and
in ``$TOKEN`` (as the quickstart's commands leave it in the reader's shell), a new API key
for ``<key prefix>`` and ``<API key>``, and, for the
examples that bring their own PostgreSQL, a database of the test run. A block that can't
run here says why in ``NOT_RUN`` and names the test that runs it instead; a new block
that neither runs nor is listed fails the test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import URL

from tests.conftest import PgServer, free_port
from tests.first_run import ROOT, FirstRun, clean_env, start

README = ROOT / "README.md"
# a fence at the start of a line, or indented inside a list item
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.MULTILINE | re.DOTALL)

# a block's first command -> why it does not run here, and what runs it instead
NOT_RUN = {
    "make run": "the first_run fixture runs it in a fresh copy: every example here uses it",
    "make test": "CI (.ci/run) runs it, and this test is part of it",
    "make lint": "make test runs lint first; format, schema, bench and load are make targets "
    "checked to exist below",
    "docker compose": "no container runtime on this machine: tests/test_deploy_entrypoints.py "
    "runs the image's commands outside a container",
}


# commands that run until stopped -> what they print once ready (None: /ready answers)
LONG_RUNNING: dict[str, str | None] = {
    "make run": None,
    "opsgraph serve": None,
    "opsgraph worker": "worker running",
}
# the reader's own PostgreSQL, in the examples: a database of the test run instead
OWN_DATABASE = ("postgresql://user:password@localhost:5432/opsgraph", "postgresql://...")


@dataclass(frozen=True)
class Block:
    language: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.language})"


def blocks(language: str) -> list[Block]:
    text = README.read_text()
    return [
        Block(match[2], text.count("\n", 0, match.start()) + 1, textwrap.dedent(match[3]))
        for match in FENCE.finditer(text)
        if match[2] == language
    ]


def commands(block: Block) -> list[str]:
    """A terminal session's ``$`` lines, or the whole block (continuations joined)."""
    lines = block.text.splitlines()
    if any(line.startswith("$ ") for line in lines):
        return [line[2:] for line in lines if line.startswith("$ ")]
    return [block.text]


def first_line(block: Block) -> str:
    for line in block.text.splitlines():
        line = line.split("#")[0].strip()
        if line:
            return line.removeprefix("$ ")
    return ""


def first_command(block: Block) -> str:
    """The first command, without the variables set for it."""
    return re.sub(r"^(\w+=\S+\s+)+", "", first_line(block))


def not_run(block: Block) -> str | None:
    """Why ``block`` does not run here: one of its commands is in ``NOT_RUN`` (``make run``
    only bare: with variables of its own, it runs)."""
    if first_line(block) == "make run":
        return NOT_RUN["make run"]
    for line in block.text.splitlines():
        command = re.sub(r"^(\w+=\S+\s+)+", "", line.split("#")[0].strip().removeprefix("$ "))
        for prefix, reason in NOT_RUN.items():
            if prefix != "make run" and (command == prefix or command.startswith(prefix + " ")):
                return reason
    return None


@dataclass
class Reader:
    """The values a reader fills into the examples: the server's address, the printed demo
    password, an access token, a refresh token, an API key of theirs."""

    run: FirstRun
    token: str
    key_prefix: str
    key: str

    @classmethod
    def of(cls, run: FirstRun) -> Reader:
        signed = _sign_in(run)
        response = httpx.post(
            f"{run.base}/graphql",
            json={
                "query": 'mutation { apiKeyCreate(input: {name: "readme", scopes: '
                '["customer:read"]}) { secret apiKey { prefix } errors { code } } }'
            },
            headers={"Authorization": f"Bearer {signed['access_token']}"},
            timeout=30,
        )
        made = response.json()["data"]["apiKeyCreate"]
        assert made["errors"] == [], made
        return cls(
            run,
            signed["access_token"],
            made["apiKey"]["prefix"],
            made["secret"],
        )

    def fill(self, text: str) -> str:
        # each refresh token of its own sign-in: an example may spend or revoke it
        while "<refresh_token>" in text:
            fresh = str(_sign_in(self.run)["refresh_token"])
            text = text.replace("<refresh_token>", fresh, 1)
        return (
            text.replace("127.0.0.1:8000", f"127.0.0.1:{self.run.port}")
            .replace("<admin password>", self.run.passwords()["admin"])
            .replace("<access_token>", self.token)
            .replace("<key prefix>", self.key_prefix)
            .replace("<API key>", self.key)
        )


def test_every_block_is_run_or_says_why() -> None:
    shell = blocks("sh")
    assert len(shell) >= 5
    assert len(blocks("graphql")) >= 5
    skipped = [block for block in shell if not_run(block)]
    # the reasons above stay few: most examples run
    assert len(skipped) <= len(NOT_RUN), [str(block) for block in skipped]
    makefile = (ROOT / "Makefile").read_text()
    for block in skipped:
        for target in re.findall(r"^make (\w+)", block.text, re.MULTILINE):
            assert re.search(rf"^{target}:", makefile, re.MULTILINE), (str(block), target)


def test_the_quickstart_prints_the_demo_passwords(first_run: FirstRun) -> None:
    passwords = first_run.passwords()
    assert set(passwords) == {"admin", "staff"}, first_run.output
    saved = (first_run.directory / ".opsgraph" / "demo-credentials.txt").read_text()
    assert all(password in saved for password in passwords.values())


def _sign_in(run: FirstRun) -> dict[str, Any]:
    response = httpx.post(
        f"{run.base}/auth/token",
        data={"username": "admin", "password": run.passwords()["admin"]},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _payload_errors(value: Any) -> list[Any]:
    """Every non-empty ``errors`` list inside a mutation's payloads."""
    found: list[Any] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "errors" and item:
                found.append(item)
            else:
                found.extend(_payload_errors(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_payload_errors(item))
    return found


def test_graphql_examples_answer_with_data(first_run: FirstRun) -> None:
    reader = Reader.of(first_run)
    headers = {"Authorization": f"Bearer {reader.token}"}
    for block in blocks("graphql"):
        query = reader.fill(block.text)
        assert "<" not in query, f"{block}: a placeholder is left"
        assert '"..."' not in query, f"{block}: a placeholder is left"
        response = httpx.post(
            f"{first_run.base}/graphql", json={"query": query}, headers=headers, timeout=30
        )
        body = response.json()
        assert response.status_code == 200, (str(block), body)
        assert "errors" not in body, (str(block), body)
        assert body["data"], (str(block), body)
        assert not _payload_errors(body["data"]), (str(block), body)


def _run_shell(script: str, run: FirstRun, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + script],
        cwd=run.directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (script, result.stdout, result.stderr)
    return result.stdout


def _shell_env(run: FirstRun, token: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The reader's shell in the copy: the virtual environment on the ``PATH``, and
    ``$TOKEN`` as the quickstart's commands left it."""
    env = {
        "TOKEN": token,
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
        "HOME": os.environ.get("HOME", "/tmp"),
        "VENV": str(ROOT / ".venv"),
        "OPSGRAPH_ENV_FILE": "",
        **(extra or {}),
    }
    return clean_env(env, run.directory)


def _shape(line: str) -> re.Pattern[str]:
    """An output line of the README as a pattern: hashes and numbers may differ."""
    pattern = re.escape(line.strip())
    pattern = re.sub(r"[0-9a-f]{64}", "[0-9a-f]{64}", pattern)
    return re.compile(pattern)


def _json_values(output: str) -> list[Any]:
    """The JSON objects printed one after another (curl adds no newline)."""
    decoder = json.JSONDecoder()
    values, at = [], output.find("{")
    while at != -1:
        try:
            value, end = decoder.raw_decode(output, at)
        except ValueError:
            at = output.find("{", at + 1)
            continue
        values.append(value)
        at = output.find("{", end)
    return values


def _check_json_output(block: Block, output: str) -> None:
    """What an example's curl prints is an answer with no error of any kind."""
    values = _json_values(output)
    # the curl commands that print an answer: not inside $(...), not into /dev/null
    printing = [
        line
        for line in block.text.splitlines()
        if line.startswith("curl ") and "-o /dev/null" not in line
    ]
    assert len(values) >= len(printing), (str(block), output)
    for value in values:
        assert "error" not in value, (str(block), value)
        assert "errors" not in value, (str(block), value)
        assert not _payload_errors(value.get("data")), (str(block), value)


@pytest.fixture
def own_database(pg_server: PgServer) -> URL:
    return pg_server.url(pg_server.create_database("opsgraph_readme"))


def test_shell_examples_run(first_run: FirstRun, own_database: URL) -> None:
    ran = 0
    reader = Reader.of(first_run)
    token = reader.token
    for block in blocks("sh"):
        if not_run(block):
            continue
        script = reader.fill(block.text)
        if first_command(block).startswith(tuple(LONG_RUNNING)):  # a server or a worker
            url = own_database.render_as_string(hide_password=False)
            for placeholder in OWN_DATABASE:
                script = script.replace(placeholder, url)
            ready = LONG_RUNNING[
                next(c for c in LONG_RUNNING if first_command(block).startswith(c))
            ]
            running = start(
                first_run.directory,
                free_port(),
                _shell_env(first_run, token),
                300,
                script.strip(),
                ready,
            )
            running.stop()
            assert "Traceback" not in running.output, running.output
            ran += 1
            continue
        terminal = commands(block)
        if terminal != [block.text]:  # $ command, then its output
            output = _run_shell("\n".join(terminal), first_run, _shell_env(first_run, token))
            shown = [line for line in block.text.splitlines() if line and not line.startswith("$ ")]
            for line in shown:
                assert _shape(line).search(output), (str(block), line, output)
        else:
            output = _run_shell(script, first_run, _shell_env(first_run, token))
            _check_json_output(block, output)
        ran += 1
    assert ran >= 3
