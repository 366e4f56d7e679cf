"""Extensions: a separate package adds an encoder and an import format through entry points, with no edit to daogou.

The plugin is built and installed by pip (into a folder on the CLI's path) and used from the command line.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import warnings
from importlib.metadata import EntryPoint

import pytest

from daogou.errors import ConfigError, UnknownNameError
from daogou.registry import Registry

from .conftest import run_cli

PLUGIN = '''
"""A toy daogou plugin: a character-hash text encoder and a pipe-separated product format."""
import hashlib
from pathlib import Path

import numpy as np

from daogou.catalog.importers.base import Record, Reject, SingleFileImporter
from daogou.catalog.models import Product, validate_product
from daogou.errors import ValidationError


class CharHashEncoder:
    name = "toy-chars"
    dim = 64
    languages = ("en", "zh")
    cache_key = "toy-chars-v1"

    def encode(self, texts, kind="passage", batch_size=64, progress=False):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in str(text).lower().split():
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


class PipeProducts(SingleFileImporter):
    name = "pipe-products"

    def parse(self, path: Path, options):
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            cells = line.split("|")
            if len(cells) != 4:
                yield Reject(n, "row", f"expected 4 fields id|title|price|category, found {len(cells)}", line)
                continue
            try:
                product = validate_product(Product(id=cells[0], title=cells[1], price=float(cells[2]),
                                                   currency="CNY", category=tuple(cells[3].split(" > "))))
            except (ValueError, ValidationError) as err:
                yield Reject(n, getattr(err, "field", "price"), str(err), line)
                continue
            yield Record(n, products=[product])
'''

PYPROJECT = '''
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "daogou-toy-plugin"
version = "0.1.0"

[project.entry-points."daogou.encoders"]
toy-chars = "daogou_toy_plugin:CharHashEncoder"

[project.entry-points."daogou.importers"]
pipe-products = "daogou_toy_plugin:PipeProducts"
'''


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory):
    src = tmp_path_factory.mktemp("plugin-src")
    (src / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (src / "daogou_toy_plugin.py").write_text(PLUGIN)
    target = tmp_path_factory.mktemp("plugin-site")
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                           "--no-build-isolation", "--target", str(target), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return target


def test_a_plugin_package_adds_an_encoder_and_a_format_used_from_the_cli(plugin_path, tmp_path):
    env = {"PYTHONPATH": str(plugin_path)}
    home = tmp_path / "home"
    lines = tmp_path / "shop.txt"
    lines.write_text("A1|red trail running shoe|399|Shoes > Running\n"
                     "A2|waterproof hiking boot|899|Shoes > Hiking\n"
                     "A3|broken line\n"
                     "A4|travel backpack 30L|259|Bags > Backpacks\n", encoding="utf-8")

    def cli(*args, expect=0):
        proc = run_cli(*args, "--json", home=home, env=env)
        assert proc.returncode == expect, proc.stdout + proc.stderr
        return json.loads(proc.stdout)

    report = cli("import", "pipe-products", str(lines), expect=3)  # 3: imported, with lines quarantined
    assert report["totals"]["products_added"] == 3 and report["totals"]["rejected"] == 1, report
    assert report["files"][0]["rejects"][0]["where"].endswith("shop.txt:3")
    info = cli("index", "--encoder", "toy-chars")
    assert info["encoder"] == "toy-chars" and info["products"] == 3
    hits = cli("search", "hiking boot", "--encoder", "toy-chars", "--k", "2")
    assert hits["hits"][0]["id"] == "A2"

    # without the plugin on the path the names are unknown, and the error lists the choices
    proc = run_cli("index", "--encoder", "toy-chars", home=home)
    assert proc.returncode != 0 and "unknown text encoder 'toy-chars'" in proc.stderr
    assert "e5-multilingual" in proc.stderr and "Traceback" not in proc.stderr


def test_the_registry_loads_references_once_and_names_its_choices():
    reg: Registry[object] = Registry("widget", "daogou.test-widgets", {"json": "json:dumps"})
    assert reg.names() == ["json"] and "json" in reg
    assert reg.get("json") is json.dumps and reg.get("json") is json.dumps
    with pytest.raises(UnknownNameError, match="unknown widget 'xml'; known: json"):
        reg.get("xml")
    reg.register("mine", len)
    assert reg.get("mine") is len and reg.names() == ["json", "mine"]


def test_a_broken_plugin_says_which_one_it_is(monkeypatch):
    reg: Registry[object] = Registry("widget", "daogou.test-widgets", {"ok": "json:dumps"})
    broken = EntryPoint("broken", "no_such_module_anywhere:thing", "daogou.test-widgets")
    shadow = EntryPoint("ok", "os:getcwd", "daogou.test-widgets")
    monkeypatch.setattr("daogou.registry.entry_points", lambda group: [broken, shadow])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert reg.names() == ["broken", "ok"]
    assert any("is a built-in name" in str(w.message) for w in caught)
    with pytest.raises(ConfigError, match="no_such_module_anywhere:thing"):
        reg.get("broken")
    assert reg.get("ok") is json.dumps
