"""The import contracts cover every cog: a new cog package cannot silently escape "no cog
imports another" (cogs.circles once did)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_cog_is_in_the_no_cog_imports_another_contract() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (independent,) = [c for c in contracts if c["type"] == "independence"]
    cogs = {
        f"cogs.{path.stem}"
        for path in (ROOT / "cogs").iterdir()
        if path.name != "__init__.py" and (path.suffix == ".py" or (path / "__init__.py").exists())
    }
    assert cogs == set(independent["modules"])
