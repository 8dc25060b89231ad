"""docs/architecture.md names files, modules and functions: each must exist, so the document cannot drift from the code."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "peacewatch"
DOC = (ROOT / "docs" / "architecture.md").read_text()
TOP = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} | {"app", "models", "cli"}


def quoted() -> list[str]:
    """Every name in back-quotes; a call's arguments left out (`core.db.transaction(session, actor)`), a module
    given by its path kept as a dotted name (`core/auth.end_sessions`)."""
    prose = re.sub(r"```.*?```", "", DOC, flags=re.S)
    names = {re.sub(r"\(.*", "", q) for q in re.findall(r"`([^`]+)`", prose)}
    return sorted({re.sub(r"^(\w+)/(\w+)\.(?!py$)", r"\1.\2.", n) for n in names if " " not in n})


def paths() -> list[str]:
    return [q for q in quoted() if re.fullmatch(r"[\w./<>-]+(\.py|/|\.md|\.toml|\.ini|\.service)", q) and "<" not in q]


def dotted() -> list[str]:
    return [q for q in quoted() if re.fullmatch(r"[a-z_]+(\.[A-Za-z_]+)+", q) and q.split(".")[0] in TOP
            and not q.startswith("app.state") and not q.endswith(".py")]


@pytest.mark.parametrize("path", paths())
def test_each_file_or_folder_the_document_names_exists(path: str) -> None:
    if "/" not in path:  # a bare file name, told of in its capability's paragraph
        assert list(PACKAGE.rglob(path)) or list((ROOT / "tests").rglob(path)) or (ROOT / path).exists(), path
        return
    assert (PACKAGE / path).exists() or (ROOT / path).exists(), path


@pytest.mark.parametrize("name", dotted())
def test_each_module_function_or_class_the_document_names_exists(name: str) -> None:
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):  # the longest importable module, then attributes
        try:
            found: object = importlib.import_module("peacewatch." + ".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            assert hasattr(found, attribute), f"{name}: no {attribute}"
            found = getattr(found, attribute)
        return
    pytest.fail(f"{name}: no such module")


def test_the_layers_drawn_are_the_layers_the_import_contract_enforces() -> None:
    contract = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]
    enforced = [layer.replace(" ", "") for layer in contract["layers"]]
    block = DOC.split("## Layers", 1)[1].split("```")[1]
    drawn = [re.split(r"\s{2,}", line.strip())[0].replace(" ", "") for line in block.strip().splitlines()]
    assert drawn == enforced


SOURCE = "\n".join(p.read_text() for p in [*PACKAGE.rglob("*.py"), *(ROOT / "tests").rglob("*.py")])


def identifiers() -> list[str]:
    """Bare names of functions, classes and tables: snake_case with an underscore, or CamelCase."""
    return [q for q in quoted() if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+|[A-Z][a-z]+([A-Z][a-z]*)+|[A-Z][a-z]{3,}", q)]


@pytest.mark.parametrize("name", identifiers())
def test_each_bare_name_the_document_uses_is_defined_in_the_code(name: str) -> None:
    defined = rf"(def|class) {name}\b|^\s*{name}\s*[:=]|__tablename__ = \"{name}\"|\"{name}\""
    assert re.search(defined, SOURCE, re.M), name


@pytest.mark.parametrize("variable", sorted(set(re.findall(r"`(PEACEWATCH_[A-Z0-9_]+)`", DOC))))
def test_each_setting_the_document_names_is_a_setting(variable: str) -> None:
    from peacewatch.core.settings import Settings

    if variable == "PEACEWATCH_TEST_DATABASE_URL":
        assert variable in SOURCE  # the test suite's own, read by tests/conftest.py
        return
    field = variable.removeprefix("PEACEWATCH_").lower()
    assert field in Settings.model_fields or field.removesuffix("_file") in Settings.model_fields, variable
