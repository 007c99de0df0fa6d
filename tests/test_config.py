"""Configuration: validated at start-up, one clear line naming the key on error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_config_loads() -> None:
    settings = load_settings(environ={"TOCNS_CONFIG": str(ROOT / "config.yaml")})
    assert settings.database.url.startswith("sqlite+aiosqlite")
    assert settings.app.timezone == "Asia/Ho_Chi_Minh"
    assert settings.telegram.token is None


def test_environment_overrides(tmp_path: Path) -> None:
    env = {
        "TOCNS_CONFIG": str(ROOT / "config.yaml"),
        "TOCNS_DATABASE_URL": "postgresql+asyncpg://u@h/db",
        "TOCNS_TELEGRAM_TOKEN": "123:abc",
        "TOCNS_TELEGRAM_BASE_URL": "http://127.0.0.1:9000",
        "TOCNS_TELEGRAM_MODE": "webhook",
        "TOCNS_TIMEZONE": "UTC",
        "TOCNS_LOCALE": "en",
    }
    s = load_settings(environ=env)
    assert s.database.url == "postgresql+asyncpg://u@h/db"
    assert s.telegram.token is not None and s.telegram.token.get_secret_value() == "123:abc"
    assert "123:abc" not in repr(s)  # secrets never printed
    assert s.telegram.base_url == "http://127.0.0.1:9000"
    assert s.telegram.mode == "webhook"
    assert s.app.timezone == "UTC"
    assert s.app.locale == "en"


@pytest.mark.parametrize(
    ("yaml_text", "env", "expected"),
    [
        ("app:\n  locale: fr\n", {}, "app.locale"),
        ("app:\n  timezone: Mars/Base\n", {}, "app.timezone"),
        ("database:\n  url: mysql://x\n", {}, "database.url"),
        ("outbox:\n  max_attempts: 0\n", {}, "outbox.max_attempts"),
        ("app:\n  no_such_key: 1\n", {}, "app.no_such_key"),
        ("telegram:\n  token: 123:abc\n", {}, "telegram.token: secrets must come from the environment"),
        ("app: [unclosed\n", {}, "not valid YAML"),
        ("", {"TOCNS_TELEGRAM_MODE": "pigeon"}, "telegram.mode"),
        ("", {"TOCNS_WEB_PORT": "http"}, "web.port"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, yaml_text: str, env: dict[str, str], expected: str) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(environ={"TOCNS_CONFIG": str(cfg), **env})
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(environ={"TOCNS_CONFIG": str(tmp_path / "nope.yaml")})


def _tocns(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_cli_bad_config_one_line_nonzero(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("app:\n  locale: fr\n", encoding="utf-8")
    result = _tocns("db", "upgrade", env={"TOCNS_CONFIG": str(cfg)})
    assert result.returncode == 2
    assert "app.locale" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_cli_database_unreachable(tmp_path: Path) -> None:
    result = _tocns(
        "demo",
        "seed",
        env={"TOCNS_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"},
    )
    assert result.returncode == 2
    assert "database.url: không kết nối được tới cơ sở dữ liệu" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("kpy:\n  top: 3\n", "kpy: unknown section"),
        ("kpi:\n  on_time_denominator: everything\n", "kpi.on_time_denominator"),
        ("kpi:\n  report_deadline: someday\n", "kpi"),
        ("zalo_bot:\n  mode: carrier-pigeon\n", "zalo_bot.mode"),
        ("zalo_oa:\n  max_file_mb: -1\n", "zalo_oa.max_file_mb"),
    ],
)
def test_bad_feature_section_stops_start_up(tmp_path: Path, yaml_text: str, expected: str) -> None:
    from bot.assemble import build

    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml_text, encoding="utf-8")
    settings = load_settings(environ={"TOCNS_CONFIG": str(cfg)})
    with pytest.raises(ConfigError) as info:
        build(settings)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)
