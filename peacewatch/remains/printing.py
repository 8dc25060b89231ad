"""The printable handover list, in HTML and PDF, signed on paper by the three parties.

The PDF is drawn by fpdf2 (pure Python, from PyPI alone) in the DejaVu font matplotlib ships,
so Cyrillic and Latin names print alike with no system fonts.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib
from fpdf import FPDF
from fpdf.fonts import FontFace
from jinja2 import Environment, FileSystemLoader, select_autoescape

from peacewatch.remains.schemas import HandoverOut

COLUMNS = ("No.", "Body number", "Kind", "Side", "Service number", "Name", "Born", "Died", "Place of death", "Cause of death")
WIDTHS = (9, 30, 16, 10, 28, 52, 20, 20, 45, 47)


@cache
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]))


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def rows(data: HandoverOut) -> list[tuple[str, ...]]:
    """One printable row per body or part, with the particulars the receiving side is owed."""
    out = []
    for i, item in enumerate(data.items, start=1):
        name = " ".join(p for p in (item.family_name, item.given_names, item.patronymic) if p) if item.identified else "unidentified"
        out.append((str(i), item.body, item.kind.value.replace("_", " "), item.side.value if item.side else "",
                    item.service_number, name, _day(item.born_on), _day(item.died_on), item.place_of_death, item.cause_of_death))
    return out


def handover_html(data: HandoverOut, zone: ZoneInfo) -> str:
    return _templates().get_template("handover_list.html").render(h=data, at=_local(data.at, zone), columns=COLUMNS, rows=rows(data))


def handover_pdf(data: HandoverOut, zone: ZoneInfo) -> bytes:
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_creation_date(data.at)  # the same handover prints the same bytes
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_title(f"Handover list {data.number}")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(0, 8, f"Handover of remains {data.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    facts = (
        ("To side", data.to_side.value), ("Date and time", _local(data.at, zone)), ("Place", data.place),
        ("Received by", f"{data.receiving_person}, {data.receiving_organisation}"),
        ("Witness", ", ".join(p for p in (data.witness_person, data.witness_organisation) if p)),
        ("Handed over by", data.released_by),
        ("Counts", f"{data.bodies} bodies ({data.identified} identified), {data.parts} body parts"),
    )
    for label, value in facts:
        pdf.set_font("DejaVu", "B", 9)
        pdf.cell(35, 5.5, label)
        pdf.set_font("DejaVu", "", 9)
        pdf.cell(0, 5.5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 7.5)
    with pdf.table(col_widths=WIDTHS, headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
                   line_height=4.5, text_align="LEFT") as table:
        table.row(COLUMNS)
        for row in rows(data):
            table.row(row)
    pdf.ln(10)
    pdf.set_font("DejaVu", "", 9)
    for role in ("Handed over by", "Received by", "Witness"):
        pdf.cell(90, 6, f"{role}: ______________________")
    pdf.ln()
    if data.notes:
        pdf.ln(4)
        pdf.multi_cell(0, 5, f"Notes: {data.notes}")
    return bytes(pdf.output())
