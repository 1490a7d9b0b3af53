"""The configuration file (TOML), typed and strict: a misspelt key is an error that names it."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

TOKEN_ENV = "HALLWATCH_TOKEN"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HallConfig(_Section):
    timezone: str = Field("Asia/Shanghai", description="IANA zone of the hall; limits count local dates")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as Asia/Shanghai)") from None
        return v


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="log level of file and stderr")
    max_bytes: int = Field(5 * 2**20, ge=64 * 1024, description="size at which the log file rotates")
    backups: int = Field(5, ge=0, le=100, description="rotated log files kept")


class TerminalConfig(_Section):
    name: str = Field("ws-01", min_length=1, description="this terminal's name towards the server")
    operator: str = Field("", description="operator name written with local actions (empty: the OS user)")


class DatabaseConfig(_Section):
    url: str = Field("", description="SQLAlchemy URL; empty: SQLite file hallwatch.db in the data folder")


class ImportConfig(_Section):
    max_bytes: int = Field(512 * 2**20, ge=1024, description="largest file `import` accepts")


class ServerConfig(_Section):
    """The central supervision server (sync-protocol.md). No URL: this terminal does not sync."""

    url: str = Field("", description="server base URL, e.g. https://jiancha.example.gov.cn (empty: sync disabled)")
    token: SecretStr | None = Field(
        None, description=f"this terminal's bearer token; when absent the environment variable {TOKEN_ENV} is read"
    )
    ca_bundle: Path | None = Field(None, description="PEM file of the CA(s) to trust for the server's certificate")
    interval: float = Field(15.0, ge=1.0, le=3600.0, description="seconds between sync rounds")
    connect_timeout: float = Field(5.0, gt=0, le=120, description="seconds to wait for a connection")
    read_timeout: float = Field(30.0, gt=0, le=600, description="seconds to wait for the server between bytes")

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        v = v.strip()
        if not v:
            return ""
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # The value is not echoed: a mistyped URL may still carry a password.
            raise ValueError("not an http(s) URL with a host (e.g. https://jiancha.example.gov.cn)")
        if parts.username or parts.password:
            raise ValueError("the URL must not carry a user name or password; the token authenticates")
        if parts.query or parts.fragment:
            raise ValueError("the URL must not carry a query or fragment")
        return v.rstrip("/")

    @field_validator("ca_bundle", mode="before")
    @classmethod
    def _empty_bundle(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("ca_bundle")
    @classmethod
    def _readable_bundle(cls, v: Path | None) -> Path | None:
        if v is not None and not v.expanduser().is_file():
            raise ValueError(f"CA bundle {v} is not a file")
        return None if v is None else v.expanduser()

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def effective_token(self, environ: Mapping[str, str] | None = None) -> SecretStr | None:
        """The token from the file, else from ``HALLWATCH_TOKEN``; None when neither has one."""
        if self.token is not None and self.token.get_secret_value().strip():
            return SecretStr(self.token.get_secret_value().strip())
        env = (os.environ if environ is None else environ).get(TOKEN_ENV, "").strip()
        return SecretStr(env) if env else None


class RecordingConfig(_Section):
    """Recording and retention of every camera's footage."""

    segment_seconds: float = Field(60.0, ge=2.0, le=3600.0, description="length of a footage segment, cut at keyframes")
    footage_dir: Path | None = Field(None, description="where segments are written (default: DATA/footage)")
    retention_days: float = Field(30.0, gt=0, le=3650, description="footage older than this is pruned unless held")
    min_free_percent: float = Field(
        10.0, ge=0, lt=100, description="prune the oldest unheld footage when free space falls below this"
    )
    hold_margin_minutes: float = Field(
        10.0, ge=0, le=24 * 60, description="footage held either side of a yellow or red warning, bookmark or complaint"
    )
    prune_interval_seconds: float = Field(
        60.0, ge=1.0, le=3600.0, description="seconds between retention passes (a failed write prunes at once)"
    )

    @field_validator("footage_dir", mode="before")
    @classmethod
    def _empty_dir(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v  # "" means the default, not the cwd


class SeatEntry(_Section):
    """A window's staff seat in a camera's picture (``[[cameras]] seats``): fractions 0-1, origin top left."""

    window_id: str = Field(min_length=1, description="the window whose staff seat this is")
    x: float = Field(ge=0.0, lt=1.0, description="left edge, a fraction of the picture's width")
    y: float = Field(ge=0.0, lt=1.0, description="top edge, a fraction of the picture's height")
    w: float = Field(gt=0.0, le=1.0, description="width, a fraction of the picture's width")
    h: float = Field(gt=0.0, le=1.0, description="height, a fraction of the picture's height")

    @model_validator(mode="after")
    def _inside(self) -> SeatEntry:
        if self.x + self.w > 1.0 + 1e-9:
            raise ValueError(f"x + w must be at most 1 (the right edge of the picture): {self.x} + {self.w}")
        if self.y + self.h > 1.0 + 1e-9:
            raise ValueError(f"y + h must be at most 1 (the bottom edge of the picture): {self.y} + {self.h}")
        return self


class CameraEntry(_Section):
    """A camera recorded by this terminal besides those in the store (``[[cameras]]``)."""

    id: str = Field(min_length=1, description="camera id (as in the store's camera records)")
    name: str = Field("", description="name shown to operators")
    url: str = Field(min_length=1, description="main stream: rtsp://, http(s)://, rtmp:// or a file")
    sub_url: str | None = Field(None, description="sub-stream for the grid, if the camera has one")
    window_id: str | None = Field(None, description="the window the camera watches")
    seats: list[SeatEntry] | None = Field(
        None, description="staff seats this camera watches (win over the regions drawn on the tile)"
    )

    @field_validator("seats")
    @classmethod
    def _one_seat_per_window(cls, v: list[SeatEntry] | None) -> list[SeatEntry] | None:
        seen: set[str] = set()
        for seat in v or ():
            if seat.window_id in seen:
                raise ValueError(f"window {seat.window_id!r} has two seats on this camera")
            seen.add(seat.window_id)
        return v

    def __repr__(self) -> str:  # camera URLs carry passwords: never in a repr that reaches a log
        return f"CameraEntry(id={self.id!r}, name={self.name!r})"

    __str__ = __repr__


class WarningsConfig(_Section):
    """The warning monitor (app/monitor.py)."""

    interval_seconds: float = Field(
        5.0, ge=0.1, le=3600.0, description="seconds between passes that look for due dates and waits crossing now"
    )


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class RelayConfig(_Section):
    """The video relay (``[relay]``): this terminal serves its cameras to leaders' terminals.

    Without the section there is no relay."""

    bind: str = Field("127.0.0.1", min_length=1, description="address the relay listens on (0.0.0.0: every interface)")
    port: int = Field(8088, ge=1, le=65535, description="TCP port of the relay")
    public_url: str = Field(
        "", description="the address leaders use, e.g. http://10.1.2.3:8088/live/ (required when bind is not loopback)"
    )
    tokens: list[SecretStr] = Field(
        default_factory=list, description="local tokens that may watch every relayed camera (besides server tokens)"
    )
    cameras: list[str] | None = Field(None, description="ids of the cameras to relay (absent: all)")
    stream: Literal["main", "sub"] = Field("main", description="which stream of each camera is relayed")
    push: str = Field("", description="rtmp://HOST/live: push each camera once to this RTMP server (H.264 only)")
    hls: str = Field("", description="http://HOST/hls: write each camera as HLS with HTTP PUT under this base")
    serve: bool = Field(True, description="run the built-in HTTP relay (false when only pushing)")

    @field_validator("public_url", "push", "hls")
    @classmethod
    def _url(cls, v: str, info: ValidationInfo) -> str:
        v = v.strip()
        if not v:
            return ""
        schemes = {"public_url": ("http", "https"), "push": ("rtmp", "rtmps"), "hls": ("http", "https")}[
            info.field_name or "public_url"
        ]
        parts = urlsplit(v)
        if parts.scheme not in schemes or not parts.hostname:
            raise ValueError(f"not a {' or '.join(schemes)} URL with a host")
        if parts.username or parts.password:
            raise ValueError("the URL must not carry a user name or password")
        return v

    @field_validator("tokens")
    @classmethod
    def _tokens(cls, v: list[SecretStr]) -> list[SecretStr]:
        out = [SecretStr(t.get_secret_value().strip()) for t in v]
        if any(not t.get_secret_value() for t in out):
            raise ValueError("a token must not be empty")
        return out

    @model_validator(mode="after")
    def _public_url_when_exposed(self) -> RelayConfig:
        if self.serve and not self.public_url and not _is_loopback(self.bind):
            raise ValueError(
                f"public_url is required when bind ({self.bind}) is not a loopback address: "
                "set relay.public_url to the address leaders use, e.g. http://10.1.2.3:8088/live/"
            )
        return self


class UiConfig(_Section):
    language: Literal["zh_CN", "en"] = Field("zh_CN", description="user interface language")
    theme: Literal["dark", "light"] = Field("dark", description="dark control-room theme or light")


class Config(_Section):
    """The whole file. Every section is optional; unknown sections or keys are errors."""

    hall: HallConfig = HallConfig()
    logging: LoggingConfig = LoggingConfig()
    terminal: TerminalConfig = TerminalConfig()
    database: DatabaseConfig = DatabaseConfig()
    import_: ImportConfig = Field(ImportConfig(), alias="import")
    server: ServerConfig = ServerConfig()
    recording: RecordingConfig = RecordingConfig()
    cameras: list[CameraEntry] = Field(default_factory=list, description="cameras recorded besides the store's")
    warnings: WarningsConfig = WarningsConfig()
    ui: UiConfig = UiConfig()
    relay: RelayConfig | None = Field(None, description="the video relay; absent: no relay")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.hall.timezone)


class ConfigError(ValueError):
    """The config file is unreadable or invalid; the message names the file, key and problem."""


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from None
    try:
        return Config.model_validate(raw)
    except ValidationError as e:
        msgs = []
        for err in e.errors(include_url=False):
            key = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                msgs.append(f"unknown key '{key}'")
            else:
                msgs.append(f"'{key}': {err['msg']}")
        raise ConfigError(f"config file {path}: " + "; ".join(msgs)) from None
