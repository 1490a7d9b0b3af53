"""The [server] section: strict, the token from the file or HALLWATCH_TOKEN, never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from supervision.config import TOKEN_ENV, Config, ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "hallwatch.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_mean_no_server() -> None:
    cfg = Config()
    assert not cfg.server.enabled
    assert cfg.server.interval == 15
    assert cfg.server.effective_token({}) is None


def test_server_section_is_read_and_the_token_is_masked(tmp_path: Path) -> None:
    cfg = load_config(
        write(
            tmp_path,
            '[server]\nurl = "https://jiancha.example.gov.cn/"\ntoken = "tok-SECRET-123"\ninterval = 5\n'
            "connect_timeout = 2\nread_timeout = 10\n",
        )
    )
    assert cfg.server.url == "https://jiancha.example.gov.cn"
    assert cfg.server.interval == 5 and cfg.server.connect_timeout == 2 and cfg.server.read_timeout == 10
    token = cfg.server.effective_token({TOKEN_ENV: "from-env"})
    assert token is not None and token.get_secret_value() == "tok-SECRET-123"  # the file's token wins
    for text in (repr(cfg), str(cfg), repr(cfg.server), cfg.model_dump_json()):
        assert "tok-SECRET-123" not in text


def test_token_from_the_environment_when_the_file_has_none(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '[server]\nurl = "http://127.0.0.1:8000"\n'))
    token = cfg.server.effective_token({TOKEN_ENV: " env-token \n"})
    assert token is not None and token.get_secret_value() == "env-token"
    assert cfg.server.effective_token({}) is None


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('[server]\nurl = "ftp://x"\n', "'server.url'"),
        ('[server]\nurl = "https://user:pw@x.example"\n', "must not carry a user name or password"),
        ("[server]\ninterval = 0.5\n", "'server.interval'"),
        ('[server]\nurl = "https://x.example"\ntokn = "abc"\n', "unknown key 'server.tokn'"),
        ('[server]\nca_bundle = "/nonexistent/ca.pem"\n', "is not a file"),
        ("[server]\nread_timeout = -1\n", "'server.read_timeout'"),
    ],
)
def test_bad_server_settings_name_the_key(tmp_path: Path, body: str, words: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, body))
    assert words in str(e.value)
    assert "pw@" not in str(e.value)


def test_a_ca_bundle_must_exist(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="ascii")
    cfg = load_config(write(tmp_path, f'[server]\nca_bundle = "{ca}"\n'))
    assert cfg.server.ca_bundle == ca
