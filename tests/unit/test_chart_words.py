"""The charts speak the reader's language: every word they draw goes through the translation given."""

from __future__ import annotations

from datetime import date

from peacewatch.core.i18n import translations
from peacewatch.remains import charts


def test_every_word_of_the_casualty_chart_is_translated() -> None:
    drawn: list[str] = []
    russian = translations("ru").gettext

    def spy(text: str) -> str:
        drawn.append(text)
        return russian(text)

    day = {"day": date(2020, 11, 14), **{side: {"total": dict.fromkeys(
        ("missing_reported", "recovered", "handed_over", "identified", "deaths_confirmed"), 1)} for side in "AB"}}
    assert charts.casualty_chart({"days": [day]}, gettext=spy).startswith(b"\x89PNG")
    assert drawn and all(russian(text) != text for text in drawn), [t for t in drawn if russian(t) == t]
