"""What `pip install .` ships: every package of grader/ and every topic of the catalog (a wheel missing one
fails only on the user's machine, so this reads pyproject.toml against the tree)."""

from __future__ import annotations

import tomllib

from conftest import EXERCISES, ROOT

SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_grader_package_is_shipped():
    packages = set(SETUPTOOLS["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "grader").rglob("__init__.py")}
    assert on_disk <= packages, f"missing from [tool.setuptools] packages: {sorted(on_disk - packages)}"


def test_every_catalog_topic_is_shipped_with_its_files():
    topics = {p.name for p in EXERCISES.iterdir() if p.is_dir() and any(p.glob("*.yaml"))}
    for topic in topics:
        assert f"grader._catalog.{topic}" in SETUPTOOLS["packages"], topic
        assert "*.yaml" in SETUPTOOLS["package-data"].get(f"grader._catalog.{topic}", []), topic
