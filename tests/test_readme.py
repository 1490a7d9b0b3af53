"""The README's config example is a valid config file (it is what installers copy)."""

from __future__ import annotations

from pathlib import Path

from supervision.config import load_config

ROOT = Path(__file__).resolve().parents[1]


def test_readme_config_example_loads(tmp_path: Path) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("```toml") + len("```toml")
    example = text[start : text.index("```", start)]
    path = tmp_path / "hallwatch.toml"
    path.write_text(example, encoding="utf-8")
    cfg = load_config(path)
    assert cfg.recording.footage_dir is None, '"" means the default folder, not the working directory'
    assert cfg.server.ca_bundle is None
    assert [c.id for c in cfg.cameras] == ["cam-A01"]
    assert "password" not in repr(cfg)
