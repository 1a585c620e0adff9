"""Checks made before an embedded PostgreSQL is started on a data directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsgraph.db.embedded import EmbeddedPostgres, bundled_major_version, check_data_dir
from opsgraph.settings import ConfigError


def test_fresh_directory_is_accepted(tmp_path: Path) -> None:
    check_data_dir(tmp_path / "new" / "pgdata")
    assert (tmp_path / "new" / "pgdata").is_dir()


def test_same_major_version_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "PG_VERSION").write_text(f"{bundled_major_version()}\n")
    check_data_dir(tmp_path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("banana", "unreadable PG_VERSION"),
        (f"{bundled_major_version() + 1}", "newer than the bundled"),
        ("14", "pg_upgrade"),
    ],
)
def test_foreign_clusters_are_refused(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "PG_VERSION").write_text(content)
    with pytest.raises(ConfigError, match=message):
        check_data_dir(tmp_path)


def test_non_empty_directory_without_cluster_is_refused(tmp_path: Path) -> None:
    (tmp_path / "holiday.jpg").write_bytes(b"\xff")
    with pytest.raises(ConfigError, match="holds no PostgreSQL cluster"):
        check_data_dir(tmp_path)


def test_path_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="cannot be created"):
        check_data_dir(tmp_path / "file" / "pgdata")


def test_a_file_is_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "pgdata").write_text("")
    with pytest.raises(ConfigError, match=r"cannot be created|not a directory"):
        check_data_dir(tmp_path / "pgdata")


def test_stop_without_start_is_harmless(tmp_path: Path) -> None:
    EmbeddedPostgres(tmp_path).stop()


def test_start_failure_is_one_line(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    # a cluster directory that claims the right version but is otherwise empty
    (pgdata / "PG_VERSION").write_text(f"{bundled_major_version()}\n")
    with pytest.raises(ConfigError, match="failed to start"):
        EmbeddedPostgres(pgdata).start()
