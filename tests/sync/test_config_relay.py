"""The [relay] section: absent means no relay; a relay reachable from the network needs public_url."""

from __future__ import annotations

from pathlib import Path

import pytest

from supervision.config import Config, ConfigError, load_config


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "hallwatch.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_no_relay_section_means_no_relay(tmp_path: Path) -> None:
    assert Config().relay is None
    assert load_config(write(tmp_path, '[terminal]\nname = "ws-02"\n')).relay is None


def test_relay_defaults_serve_on_loopback(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "[relay]\n"))
    assert cfg.relay is not None
    r = cfg.relay
    assert (r.bind, r.port, r.public_url, r.tokens, r.cameras, r.stream, r.push, r.hls, r.serve) == (
        "127.0.0.1", 8088, "", [], None, "main", "", "", True)


def test_relay_section_is_read_and_its_tokens_masked(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '[relay]\nbind = "0.0.0.0"\nport = 9000\npublic_url = "http://10.1.2.3:9000/live/"\n'
                                      'tokens = ["wall-SECRET-1"]\ncameras = ["cam-A01", "cam-A02"]\nstream = "sub"\n'
                                      'push = "rtmp://10.1.2.9/live"\nhls = "http://10.1.2.9/hls"\n'))
    r = cfg.relay
    assert r is not None
    assert r.port == 9000 and r.public_url == "http://10.1.2.3:9000/live/" and r.stream == "sub"
    assert r.cameras == ["cam-A01", "cam-A02"] and [t.get_secret_value() for t in r.tokens] == ["wall-SECRET-1"]
    assert r.push == "rtmp://10.1.2.9/live" and r.hls == "http://10.1.2.9/hls"
    for text in (repr(cfg), str(cfg), cfg.model_dump_json()):
        assert "wall-SECRET-1" not in text


@pytest.mark.parametrize("bind", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_loopback_bind_needs_no_public_url(tmp_path: Path, bind: str) -> None:
    cfg = load_config(write(tmp_path, f'[relay]\nbind = "{bind}"\n'))
    assert cfg.relay is not None and cfg.relay.public_url == ""


def test_public_url_is_required_when_the_relay_listens_on_the_network(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, '[relay]\nbind = "0.0.0.0"\n'))
    assert "relay" in str(e.value) and "public_url" in str(e.value) and "0.0.0.0" in str(e.value)
    # only pushing: nothing listens, so no public_url is needed
    cfg = load_config(write(tmp_path, '[relay]\nbind = "0.0.0.0"\nserve = false\npush = "rtmp://10.0.0.9/live"\n'))
    assert cfg.relay is not None and not cfg.relay.serve


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("port = 0", "'relay.port'"),
        ("port = 70000", "'relay.port'"),
        ('stream = "third"', "'relay.stream'"),
        ('public_url = "ftp://x/live/"', "'relay.public_url'"),
        ('public_url = "http://user:pw@10.0.0.1/live/"', "'relay.public_url'"),
        ('push = "http://10.0.0.9/live"', "'relay.push'"),
        ('hls = "rtmp://10.0.0.9/hls"', "'relay.hls'"),
        ('tokens = [""]', "'relay.tokens'"),
        ("prot = 9000", "unknown key 'relay.prot'"),
    ],
)
def test_bad_relay_settings_name_the_key(tmp_path: Path, body: str, words: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(write(tmp_path, f"[relay]\n{body}\n"))
    assert words in str(e.value)
    assert "pw" not in str(e.value)
