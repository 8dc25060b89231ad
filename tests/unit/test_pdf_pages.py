"""The PDF keeps a heading with what it heads: no page ends on a heading (a picture too tall for the rest of the
page takes its heading to the next page with it)."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

import pytest
from matplotlib.figure import Figure

from peacewatch.publication.document import Document, Picture, Section, Sentence, to_pdf


def picture(height_in: float) -> bytes:
    figure = Figure(figsize=(8, height_in), dpi=50)
    figure.add_subplot().plot([0, 1], [0, 1])
    out = BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


@pytest.mark.parametrize("filler", [30, 38, 44])
def test_a_heading_follows_its_picture_to_the_next_page(filler: int) -> None:
    pdfium = pytest.importorskip("pypdfium2")
    text = [Sentence(f"Line {n} of the situation, long enough to take a line of its own on the page.") for n in range(filler)]
    doc = Document(kind="bulletin", language="en", title="Bulletin", subtitle="14 November 2020", notes=[],
                   sections=[Section("Summary", [*text]), Section("The official map", [Picture("map", "The map", picture(5))])],
                   generated_at=datetime(2020, 11, 14, tzinfo=UTC), generated_label="Generated")
    pages = pdfium.PdfDocument(to_pdf(doc))
    for index in range(len(pages)):
        lines = [line.strip() for line in pages[index].get_textpage().get_text_range().splitlines() if line.strip()]
        if "The official map" in lines:
            assert "The map" in lines, f"page {index + 1} holds the heading but not its picture"
