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

from peacewatch.core.i18n import LABELS, N_, translations
from peacewatch.remains.schemas import HandoverOut

COLUMNS = (N_("No."), N_("Body number"), N_("Kind"), N_("Side"), N_("Service number"), N_("Name"), N_("Born"), N_("Died"),
           N_("Place of death"), N_("Cause of death"))
WIDTHS = (9, 30, 16, 10, 28, 52, 20, 20, 45, 47)
SIDES = {"A": N_("side A"), "B": N_("side B")}


@cache
def _templates() -> Environment:
    return Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]))


def _local(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def rows(data: HandoverOut, language: str = "en") -> list[tuple[str, ...]]:
    """One printable row per body or part, with the particulars the receiving side is owed, in ``language``."""
    _ = translations(language).gettext
    out = []
    for i, item in enumerate(data.items, start=1):
        name = " ".join(p for p in (item.family_name, item.given_names, item.patronymic) if p) if item.identified else _("unidentified")
        out.append((str(i), item.body, _(LABELS.get(item.kind.value, item.kind.value)), _(SIDES[item.side.value]) if item.side else "",
                    item.service_number, name, _day(item.born_on), _day(item.died_on), item.place_of_death, item.cause_of_death))
    return out


def _facts(data: HandoverOut, zone: ZoneInfo, language: str) -> list[tuple[str, str]]:
    _ = translations(language).gettext
    return [
        (_("To side"), _(SIDES[data.to_side.value])), (_("Date and time"), _local(data.at, zone)), (_("Place"), data.place),
        (_("Received by"), f"{data.receiving_person}, {data.receiving_organisation}"),
        (_("Witness"), ", ".join(p for p in (data.witness_person, data.witness_organisation) if p)),
        (_("Handed over by"), data.released_by),
        (_("Counts"), _("%(bodies)s bodies (%(identified)s identified), %(parts)s body parts")
         % {"bodies": data.bodies, "identified": data.identified, "parts": data.parts}),
    ]


def handover_html(data: HandoverOut, zone: ZoneInfo, language: str = "en") -> str:
    """The list as a page to print, in the receiving side's reader's language (names stay as they were recorded)."""
    template = _templates().get_template("handover_list.html")
    _ = translations(language).gettext
    return template.render(h=data, facts=_facts(data, zone, language), columns=[_(c) for c in COLUMNS], rows=rows(data, language),
                           language=language, _=_)


def handover_pdf(data: HandoverOut, zone: ZoneInfo, language: str = "en") -> bytes:
    _ = translations(language).gettext
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_creation_date(data.at)  # the same handover prints the same bytes
    pdf.set_lang(language)
    pdf.add_font("DejaVu", "", str(fonts / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
    pdf.set_title(_("Handover list %(number)s") % {"number": data.number})
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 14)
    pdf.cell(0, 8, _("Handover of remains %(number)s") % {"number": data.number}, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    for label, value in _facts(data, zone, language):
        pdf.set_font("DejaVu", "B", 9)
        pdf.cell(38, 5.5, label)
        pdf.set_font("DejaVu", "", 9)
        pdf.cell(0, 5.5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 7.5)
    with pdf.table(col_widths=WIDTHS, headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
                   line_height=4.5, text_align="LEFT") as table:
        table.row([_(c) for c in COLUMNS])
        for row in rows(data, language):
            table.row(row)
    pdf.ln(10)
    pdf.set_font("DejaVu", "", 9)
    for role in (N_("Handed over by"), N_("Received by"), N_("Witness")):
        pdf.cell(90, 6, f"{_(role)}: ______________________")
    pdf.ln()
    if data.notes:
        pdf.ln(4)
        pdf.multi_cell(0, 5, f"{_('Notes')}: {data.notes}")
    return bytes(pdf.output())
