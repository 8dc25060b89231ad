"""Every sentence the pages' scripts say goes through the catalog, and the Russian catalog has each one.

The scripts say their sentences with ``t("…")``; the page hands them the translations of ``JS_STRINGS`` (and of the
field labels). A sentence written in a script but missing from ``JS_STRINGS`` would stay English on a Russian page,
and only a reader would notice: this test reads every script and fails on any such sentence.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from babel.messages.pofile import read_po

from peacewatch.core.i18n import translations
from peacewatch.ui.forms import LABELS
from peacewatch.ui.pages import JS_STRINGS

SCRIPTS = Path(__file__).parents[2] / "peacewatch" / "ui" / "static" / "js"
CATALOG = Path(__file__).parents[2] / "peacewatch" / "core" / "locales" / "ru" / "LC_MESSAGES" / "messages.po"
LITERAL = r'"(?:[^"\\]|\\.)*"'
SAID = re.compile(rf"\bt\(({LITERAL}(?:\s*\+\s*{LITERAL})*)")  # a sentence may be written in pieces joined with +


def test_every_sentence_a_script_says_is_handed_to_the_page() -> None:
    known = set(JS_STRINGS) | set(LABELS.values())
    missing = {}
    for script in sorted(SCRIPTS.glob("*.js")):
        for literal in SAID.findall(script.read_text(encoding="utf-8")):
            sentence = "".join(json.loads(piece) for piece in re.findall(LITERAL, literal))
            if sentence not in known:
                missing.setdefault(script.name, []).append(sentence)
    assert not missing, missing


def test_the_russian_catalog_has_every_sentence_and_the_scripts_ones_in_russian() -> None:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    empty = [m.id for m in catalog if m.id and (m.fuzzy or not m.string)]
    assert not empty, empty
    russian = translations("ru").gettext
    same = sorted(s for s in JS_STRINGS if russian(s) == s and re.search(r"[a-z]{3}", s))
    assert not same, same
