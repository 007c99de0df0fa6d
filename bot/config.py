"""Typed settings: config.yaml for non-secrets, environment for secrets and overrides."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from handlers.faq import FaqConfig
from handlers.settings import FeatureSettings
from services import kpi, yamlfile
from services.handoff.hours import HandoffSettings
from services.kpi.settings import KpiSettings
from services.sessions.values import LoggingConfig

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"


class ConfigError(Exception):
    """A configuration problem, worded as one line that names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AppSettings(_Section):
    locale: Literal["vi", "en"] = "vi"
    timezone: str = "Asia/Ho_Chi_Minh"
    dialog_idle_minutes: int = Field(30, ge=1, le=7 * 24 * 60)
    bot_name: str = "Trợ lý Tổ công nghệ số"
    flood_limit_per_10s: int = Field(20, ge=1)
    # Built things kept between starts (the FAQ index); relative to the working directory; "" = none.
    cache_dir: str = ".tocns-cache"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///tocns.db"
    auto_migrate: bool = True
    echo: bool = False
    sqlite_busy_timeout: float = Field(30.0, gt=0)
    # People's updates on a SQLite file run their (short) statements on the event loop's thread
    # instead of aiosqlite's worker thread: about 1.3× the updates per second. Off = all threaded.
    sqlite_inline_updates: bool = True

    @field_validator("url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value


class TelegramSettings(_Section):
    token: SecretStr | None = None
    base_url: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    poll_interval: float = Field(0.0, ge=0)
    webhook_public_url: str = ""
    webhook_path: str = "/telegram/webhook"
    webhook_secret: SecretStr | None = None

    @property
    def configured(self) -> bool:
        """A token is set: `tocns run` serves Telegram (and only then loads PTB)."""
        return self.token is not None and bool(self.token.get_secret_value().strip())


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    # The dashboard (bot/web): its public address for sign-in links ("" = http://host:port),
    # how long an unused session stays signed in, and whether to serve it at all.
    public_url: str = ""
    session_idle_minutes: int = Field(120, ge=1)
    dashboard: bool = True

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"


class OutboxSettings(_Section):
    poll_interval: float = Field(1.0, gt=0)
    max_attempts: int = Field(8, ge=1)
    backoff_seconds: float = Field(5.0, ge=0)
    rate_per_second: float = Field(28.0, gt=0)


class LogSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class OpsSettings(_Section):
    """Metrics and the watchdog that tells admins when something stops working (docs/deploy.md)."""

    metrics: Literal["localhost", "token", "off"] = "localhost"
    metrics_token: SecretStr | None = None  # TOCNS_METRICS_TOKEN, for `metrics: token`
    alert_chat: str = ""  # also alert this chat, as "channel:chat_id" (e.g. a Telegram group)
    check_seconds: float = Field(60.0, ge=1)
    db_down_after_seconds: float = Field(60.0, ge=1)
    job_grace_minutes: int = Field(30, ge=1)
    zalo_silence_hours: float = Field(24.0, gt=0)
    webhook_pending_max: int = Field(100, ge=1)
    token_warn_days: int = Field(7, ge=1)

    @field_validator("alert_chat")
    @classmethod
    def _channel_and_chat(cls, value: str) -> str:
        if value and (":" not in value or not all(value.split(":", 1))):
            raise ValueError('expected "channel:chat_id", e.g. "telegram:-1001234567890"')
        return value


class Settings(_Section):
    app: AppSettings = AppSettings()
    database: DatabaseSettings = DatabaseSettings()
    telegram: TelegramSettings = TelegramSettings()
    web: WebSettings = WebSettings()
    outbox: OutboxSettings = OutboxSettings()
    log: LogSettings = LogSettings()
    ops: OpsSettings = OpsSettings()
    # Extra sections owned by later features are validated by their own models.
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.app.timezone)


# environment variable -> (section, key). Secrets are listed here and nowhere in config.yaml.
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "TOCNS_DATABASE_URL": ("database", "url"),
    "TOCNS_TELEGRAM_TOKEN": ("telegram", "token"),
    "TOCNS_TELEGRAM_BASE_URL": ("telegram", "base_url"),
    "TOCNS_TELEGRAM_MODE": ("telegram", "mode"),
    "TOCNS_TELEGRAM_WEBHOOK_SECRET": ("telegram", "webhook_secret"),
    "TOCNS_WEBHOOK_PUBLIC_URL": ("telegram", "webhook_public_url"),
    "TOCNS_TIMEZONE": ("app", "timezone"),
    "TOCNS_LOCALE": ("app", "locale"),
    "TOCNS_CACHE_DIR": ("app", "cache_dir"),
    "TOCNS_WEB_HOST": ("web", "host"),
    "TOCNS_WEB_PORT": ("web", "port"),
    "TOCNS_WEB_PUBLIC_URL": ("web", "public_url"),
    "TOCNS_LOG_LEVEL": ("log", "level"),
    "TOCNS_LOG_FORMAT": ("log", "format"),
    "TOCNS_DATABASE_AUTO_MIGRATE": ("database", "auto_migrate"),
    "TOCNS_SQLITE_INLINE_UPDATES": ("database", "sqlite_inline_updates"),
    "TOCNS_METRICS_TOKEN": ("ops", "metrics_token"),
}
SECRET_KEYS = {("telegram", "token"), ("telegram", "webhook_secret"), ("ops", "metrics_token")}
KNOWN_SECTIONS = set(Settings.model_fields) - {"extra"}


def load_settings(
    path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Read config.yaml and the environment; raise ConfigError with one line naming the key."""
    env = dict(os.environ if environ is None else environ)
    cfg_path = Path(path or env.get("TOCNS_CONFIG") or DEFAULT_CONFIG)
    try:
        raw = yamlfile.load(cfg_path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {cfg_path} (set TOCNS_CONFIG)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{cfg_path}{where}: not valid YAML") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{cfg_path}: top level must be a mapping of sections")

    data: dict[str, Any] = {"extra": {}}
    for key, value in raw.items():
        if key in KNOWN_SECTIONS:
            data[key] = dict(value or {})
        else:
            data["extra"][key] = value
    for section, key in SECRET_KEYS:
        if key in data.get(section, {}):
            raise ConfigError(f"{section}.{key}: secrets must come from the environment, not {cfg_path.name}")
    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var):
            data.setdefault(section, {})[key] = env[var]
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{loc}: {err['msg']}") from None


# --- channel sections (secrets come from the environment) -------------------------------


# Hosts Zalo serves users' photos and files from (suffix match). Downloads go only there, never
# to a private, loopback or link-local address (a forged event must not make us fetch internals).
ZALO_FILE_HOSTS = ("zdn.vn", "zadn.vn", "zalo.me", "zaloapp.com", "zaloplatforms.com")


class ZaloBotSettings(BaseModel):
    """The `zalo_bot:` section of config.yaml (secrets come from the environment)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = "https://bot-api.zaloplatforms.com"
    mode: Literal["polling", "webhook"] = "polling"
    poll_timeout: int = Field(30, ge=1, le=60)
    poll_interval: float = Field(0.0, ge=0)
    webhook_public_url: str = ""
    webhook_path: str = "/zalo/bot/webhook"
    # Public HTTPS base URL of this server, to send generated images (charts) by URL and files
    # as short-lived signed download links; empty = send the caption and a note instead.
    files_public_url: str = ""
    files_path: str = "/zalo/files"
    link_ttl_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    max_file_mb: float = Field(10.0, gt=0)
    # Where people's photos may be downloaded from (host suffixes); private addresses only when
    # allow_private_file_hosts is set (tests pointing at a local fake).
    file_hosts: tuple[str, ...] = ZALO_FILE_HOSTS
    allow_private_file_hosts: bool = False


class ZaloOASettings(BaseModel):
    """The `zalo_oa:` section of config.yaml (secrets come from the environment)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = "https://openapi.zalo.me"
    oauth_url: str = "https://oauth.zaloapp.com"
    webhook_path: str = "/zalo/oa/webhook"
    webhook_public_url: str = ""  # shown by `tocns zalo oa-login`; the URL itself is set in the console
    redirect_uri: str = ""  # the callback URL registered for the app (oa-login)
    # numbered: options as "1. …" lines, answered with the number (the default: /message/cs
    # documents no buttons). transaction: the documented transaction template with buttons.
    buttons: Literal["numbered", "transaction"] = "numbered"
    template_type: Literal[
        "transaction_event",
        "transaction_account",
        "transaction_internal",
        "transaction_booking",
        "transaction_order",
    ] = "transaction_event"
    # oa.query.hide keeps the tapped payload out of the chat history
    button_type: Literal["oa.query.show", "oa.query.hide"] = "oa.query.hide"
    max_file_mb: float = Field(20.0, gt=0)
    # Public HTTPS base of this server for short-lived signed download links (exports the OA
    # cannot attach, e.g. .xlsx); empty = a note instead of the link.
    files_public_url: str = ""
    files_path: str = "/zalo/oa/files"
    link_ttl_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    file_hosts: tuple[str, ...] = ZALO_FILE_HOSTS
    allow_private_file_hosts: bool = False


# --- feature sections ----------------------------------------------------------------------


def _section_validators() -> dict[str, Callable[[dict[str, Any]], object]]:
    """Feature sections of config.yaml and the model that validates each (imported lazily)."""

    return {
        "kpi": lambda extra: kpi.settings_from(extra),
        "logging": lambda extra: LoggingConfig.model_validate(extra.get("logging") or {}),
        "faq": lambda extra: FaqConfig.model_validate(extra.get("faq") or {}),
        "handoff": lambda extra: HandoffSettings.model_validate(extra.get("handoff") or {}),
        "zalo_bot": lambda extra: ZaloBotSettings.model_validate(extra.get("zalo_bot") or {}),
        "zalo_oa": lambda extra: ZaloOASettings.model_validate(extra.get("zalo_oa") or {}),
    }


def validate_feature_sections(settings: Settings) -> FeatureSettings:
    """The feature sections, typed and validated once; stops start-up on an unknown section or a wrong
    value, naming the key (like the core ones)."""
    validators = _section_validators()
    validated: dict[str, object] = {}
    for section in settings.extra:
        if section not in validators:
            known = ", ".join(sorted([*KNOWN_SECTIONS, *validators]))
            raise ConfigError(f"{section}: unknown section (known: {known})")
    for section, validate in validators.items():
        try:
            validated[section] = validate(settings.extra)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"{section}.{loc}: {err['msg']}") from None
        except ValueError as exc:
            raise ConfigError(f"{section}: {exc}") from None
    return FeatureSettings(
        kpi=cast(KpiSettings, validated["kpi"]),
        logging=cast(LoggingConfig, validated["logging"]),
        faq=cast(FaqConfig, validated["faq"]),
        handoff=cast(HandoffSettings, validated["handoff"]),
    )
