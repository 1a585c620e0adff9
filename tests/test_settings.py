from __future__ import annotations

from pathlib import Path

import pytest

from opsgraph.settings import ConfigError, load_settings, sqlalchemy_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgresql://u:p@h:5433/db", "postgresql+psycopg://u:p@h:5433/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        (
            "postgresql+psycopg://u@/db?host=/tmp/sock",
            "postgresql+psycopg://u@/db?host=%2Ftmp%2Fsock",
        ),
    ],
)
def test_database_urls_are_pointed_at_psycopg(raw: str, expected: str) -> None:
    assert sqlalchemy_url(raw).render_as_string(hide_password=False) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("nonsense", "malformed"),
        ("sqlite:///x.db", "only supported database"),
        ("postgresql+asyncpg://u@h/db", "not supported"),
        ("postgresql://u@h", "names no database"),
    ],
)
def test_bad_database_urls(raw: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        sqlalchemy_url(raw)


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSGRAPH_CORS_ORIGINS", "https://a.example, https://b.example,")
    monkeypatch.setenv("OPSGRAPH_LOG_LEVEL", "debug")
    monkeypatch.setenv("OPSGRAPH_PORT", "9001")
    settings = load_settings()
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.log_level == "DEBUG"
    assert settings.port == 9001
    assert not settings.is_production
    assert not settings.json_logs
    assert settings.database_url is None


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / "custom.env"
    env_file.write_text("OPSGRAPH_PORT=8123\nOPSGRAPH_LOG_FORMAT=json\n")
    monkeypatch.setenv("OPSGRAPH_ENV_FILE", str(env_file))
    settings = load_settings()
    assert settings.port == 8123
    assert settings.json_logs


def test_production_needs_a_real_secret() -> None:
    with pytest.raises(ConfigError, match="must be set"):
        load_settings(environment="production")
    with pytest.raises(ConfigError, match="too short"):
        load_settings(environment="production", jwt_secret="x" * 31)
    settings = load_settings(environment="production", jwt_secret="x" * 32)
    assert settings.is_production
    assert settings.json_logs  # auto -> json in production


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"log_level": "LOUD"}, "OPSGRAPH_LOG_LEVEL"),
        ({"port": 70000}, "OPSGRAPH_PORT"),
        ({"environment": "staging"}, "OPSGRAPH_ENVIRONMENT"),
        ({"database_url": "mysql://x/y"}, "OPSGRAPH_DATABASE_URL"),
    ],
)
def test_invalid_settings_name_the_variable(overrides: dict[str, object], where: str) -> None:
    with pytest.raises(ConfigError, match=where):
        load_settings(**overrides)
