"""The one CSV reader and writer: what a spreadsheet or a text editor saves reads back as it was written."""

from __future__ import annotations

import pytest

from peacewatch.core.problems import Invalid
from peacewatch.core.tabular import EXTRA_CELLS, read_table, table_csv


def test_a_written_table_reads_back_with_line_numbers_and_formulas_still_text() -> None:
    text = table_csv(["tail", "note"], [["RF-76999", "=HYPERLINK(\"x\")"], ["RF-78830", "two\nlines"]])
    header, rows = read_table(text, max_rows=10)
    assert header == ["tail", "note"]
    assert rows == [(2, {"tail": "RF-76999", "note": "=HYPERLINK(\"x\")"}), (4, {"tail": "RF-78830", "note": "two\nlines"})]


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_any_line_ending_and_a_byte_order_mark_are_read(ending: str) -> None:
    text = "\ufeff" + ending.join(["body , laboratory", " PW-2020-000001 ,", "PW-2020-000002,Lab, extra", ""])
    header, rows = read_table(text, max_rows=10)
    assert header == ["body", "laboratory"]
    assert rows == [(2, {"body": "PW-2020-000001"}), (3, {EXTRA_CELLS: "x"})]  # an empty cell is left out; extra cells said


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"), ("a\n1\n2\n3\n", "more than 2 rows"),
    ("a\n\"" + "x" * 200_000 + "\"\n", "not a readable CSV"),  # a cell past the csv module's limit
])
def test_a_file_that_cannot_be_read_is_refused_whole_naming_the_field(text: str, message: str) -> None:
    with pytest.raises(Invalid) as refused:
        read_table(text, max_rows=2, field="file")
    assert message in refused.value.detail and refused.value.errors[0].field == "file"
