"""The documentation pages: every Python block runs, links and anchors resolve, TOML examples are valid
experiments, and docs/api.md matches the docstrings."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

from escapade.config import parse_config

from conftest import ROOT

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
EXPECTED = ["index", "tutorial", "landscapes", "custom", "dynamics", "perturbations", "regions", "starts", "results", "analysis",
            "theory", "scaling", "plotting", "configuration", "api", "engine", "constraints", "saddles", "sgdk", "accuracy",
            "rare-events"]


def blocks(page: Path, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", page.read_text(), flags=re.S | re.M)


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)  # no headings inside code blocks
    return {slug(h) for h in re.findall(r"^#+ (.*)$", text, flags=re.M)}


def test_the_pages_exist():
    assert {p.stem for p in PAGES} >= set(EXPECTED)


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "python")], ids=lambda p: p.name)
def test_python_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # pages write result files, checkpoints and pictures here
    monkeypatch.setenv("MPLBACKEND", "Agg")  # plotting pages draw without a display
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for i, block in enumerate(blocks(page, "python")):
        code = compile(block, f"{page.name} (python block {i + 1})", "exec")
        exec(code, namespace)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_resolve(page):
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+://", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: broken link {target}"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{page.name}: no heading #{anchor} in {linked.name}"


def test_index_lists_every_page():
    index = (DOCS / "index.md").read_text()
    for page in PAGES:
        if page.stem != "index":
            assert f"]({page.name})" in index, page.name


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "toml")], ids=lambda p: p.name)
def test_toml_examples_are_valid_experiments(page):
    for block in blocks(page, "toml"):
        experiment = parse_config(tomllib.loads(block))
        assert experiment.landscape is not None


def test_api_reference_is_up_to_date():
    render = runpy.run_path(str(DOCS / "gen_api.py"))["render"]
    assert (DOCS / "api.md").read_text() == render(), "docs/api.md is out of date: run python docs/gen_api.py"


def test_configuration_lists_every_registered_type():
    """docs/configuration.md's table of the types a file may name is the registry's."""
    from escapade.config import registry

    text = (DOCS / "configuration.md").read_text()
    rows = {"landscape": "| [landscape] |", "dynamics": "| [dynamics] |", "region": "| [stop], [target] |"}
    for kind, head in rows.items():
        line = next(line for line in text.splitlines() if line.startswith(head))
        assert sorted(re.findall(r"`(\w+)", line)) == sorted(registry()[kind]), kind
