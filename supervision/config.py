"""The configuration file (TOML), typed and strict: a misspelt key is an error that names it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


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


class UiConfig(_Section):
    language: Literal["zh_CN", "en"] = Field("zh_CN", description="user interface language")


class Config(_Section):
    """The whole file. Every section is optional; unknown sections or keys are errors."""

    hall: HallConfig = HallConfig()
    logging: LoggingConfig = LoggingConfig()
    terminal: TerminalConfig = TerminalConfig()
    database: DatabaseConfig = DatabaseConfig()
    import_: ImportConfig = Field(ImportConfig(), alias="import")
    ui: UiConfig = UiConfig()

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
