"""A report as plain structure (sections of sentences, tables and pictures), and its three renderings.

Markdown, HTML and PDF are drawn from the same :class:`Document`, so the three editions say the
same thing. Each sentence and table names the figures it quotes, which is what makes the JSON
edition traceable down to the records.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

import matplotlib
from fpdf import FPDF
from fpdf.fonts import FontFace
from jinja2 import Environment, FileSystemLoader, select_autoescape

FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"  # DejaVu: Latin and Cyrillic, shipped with matplotlib
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Sentence:
    text: str
    figures: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    figures: tuple[str, ...] = ()
    caption: str = ""
    numeric: tuple[bool, ...] = ()  # columns aligned right


@dataclass(frozen=True)
class Picture:
    key: str
    caption: str
    png: bytes = field(repr=False)  # the image's bytes: a PNG chart or map, or a JPEG photograph (media_type says)
    media_type: str = "image/png"
    url: str = ""  # where a reader of the Markdown or JSON edition finds it (a published photograph)
    width_mm: float | None = None  # on the PDF page; None: the page's width


Block = Sentence | Table | Picture


@dataclass
class Section:
    title: str
    blocks: Sequence[Block] = field(default_factory=list)


@dataclass
class Document:
    kind: str  # sitrep, bulletin
    language: str
    title: str
    subtitle: str
    notes: list[str]
    sections: list[Section]
    generated_at: datetime
    generated_label: str  # "Generated %(at)s", in the report's language

    def outline(self) -> list[dict[str, Any]]:
        """The text and what each part quotes, for the JSON edition (pictures by name only)."""
        out = []
        for section in self.sections:
            blocks: list[dict[str, Any]] = []
            for block in section.blocks:
                if isinstance(block, Sentence):
                    blocks.append({"sentence": block.text, "figures": list(block.figures)})
                elif isinstance(block, Table):
                    blocks.append({"table": block.caption, "header": list(block.header), "rows": [list(r) for r in block.rows],
                                   "figures": list(block.figures)})
                else:
                    blocks.append({"picture": block.key, "caption": block.caption, **({"url": block.url} if block.url else {})})
            out.append({"title": section.title, "blocks": blocks})
        return out


def paragraphs(section: Section) -> list[tuple[str, Any]]:
    """The section as runs: consecutive sentences make one paragraph ("p", [texts]); tables and pictures stand alone."""
    runs: list[tuple[str, Any]] = []
    for block in section.blocks:
        if isinstance(block, Sentence):
            if runs and runs[-1][0] == "p":
                runs[-1][1].append(block.text)
            else:
                runs.append(("p", [block.text]))
        else:
            runs.append(("table" if isinstance(block, Table) else "picture", block))
    return runs


# --- Markdown ---------------------------------------------------------------------------------------

def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Document) -> str:
    """GitHub-flavoured Markdown; pictures are left to the HTML and PDF editions, named in a line."""
    lines = [f"# {doc.title}", "", f"**{doc.subtitle}**", ""]
    lines += [f"_{note}_" for note in doc.notes] + [""]
    for section in doc.sections:
        lines += [f"## {section.title}", ""]
        for kind, block in paragraphs(section):
            if kind == "p":
                lines += [" ".join(block), ""]
            elif kind == "table":
                if block.caption:
                    lines += [f"**{block.caption}**", ""]
                aligns = ["---:" if block.numeric and block.numeric[i] else "---" for i in range(len(block.header))]
                lines.append("| " + " | ".join(_md_cell(h) for h in block.header) + " |")
                lines.append("| " + " | ".join(aligns) + " |")
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
                lines.append("")
            elif block.url:
                lines += [f"![{_md_cell(block.caption)}]({block.url})", "", f"_{block.caption}_", ""]
            else:
                lines += [f"_{block.caption}_", ""]
    lines += ["---", "", doc.generated_label, ""]
    return "\n".join(lines)


# --- HTML ---------------------------------------------------------------------------------------------

@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(), trim_blocks=True, lstrip_blocks=True)


def _sections(doc: Document) -> list[tuple[str, list[tuple[str, str | None, Any]]]]:
    return [(section.title, [(kind, base64.b64encode(block.png).decode() if kind == "picture" else None, block)
                             for kind, block in paragraphs(section)]) for section in doc.sections]


def to_html(doc: Document) -> str:
    """One self-contained page: styles inline, pictures as data URIs, nothing fetched from anywhere."""
    return _environment().get_template("report.html").render(doc=doc, sections=_sections(doc))


def to_html_fragment(doc: Document) -> str:
    """The report's body for a page of the web application (which has its own title and styles)."""
    return _environment().get_template("report_body.html").render(doc=doc, sections=_sections(doc))


# --- PDF ----------------------------------------------------------------------------------------------

class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("DejaVu", size=7)
        self.set_text_color(110, 110, 110)
        self.cell(0, 6, f"{self.footer_text}  ·  {self.page_no()}/{{nb}}", align="C")


def to_pdf(doc: Document) -> bytes:
    """A4 PDF in DejaVu Sans (Cyrillic included); the same input and generation time give the same bytes."""
    pdf = _Pdf(format="A4", unit="mm")
    pdf.footer_text = f"{doc.subtitle} · {doc.generated_at:%Y-%m-%d %H:%M} UTC"
    pdf.set_creation_date(doc.generated_at)
    pdf.set_title(doc.title)
    pdf.set_lang(doc.language)
    pdf.set_creator("PeaceWatch")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.add_font("DejaVu", "I", str(FONTS / "DejaVuSans-Oblique.ttf"))
    pdf.set_margins(16, 16, 16)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 16)
    pdf.multi_cell(0, 8, doc.title, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(0, 6, doc.subtitle, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font("DejaVu", "I", 8.5)
    for note in doc.notes:
        pdf.multi_cell(0, 4.5, note, new_x="LMARGIN", new_y="NEXT", align="L")
    for section in doc.sections:
        blocks = list(paragraphs(section))
        # a heading never ends a page: it goes to the next one with the start of what it heads
        _keep_room(pdf, 3 + 7 + (_first_block_height(pdf, blocks[0]) if blocks else 0))
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 12)
        pdf.multi_cell(0, 7, section.title, new_x="LMARGIN", new_y="NEXT", align="L")
        for kind, block in blocks:
            if kind == "p":
                pdf.set_font("DejaVu", "", 10)
                pdf.multi_cell(0, 5.2, " ".join(block), new_x="LMARGIN", new_y="NEXT", align="L")
                pdf.ln(1.5)
            elif kind == "table":
                _pdf_table(pdf, block)
            else:
                pdf.image(BytesIO(block.png), w=block.width_mm or pdf.epw)
                pdf.set_font("DejaVu", "I", 8)
                pdf.multi_cell(0, 4.5, block.caption, new_x="LMARGIN", new_y="NEXT", align="L")
    return bytes(pdf.output())


def _keep_room(pdf: FPDF, needed_mm: float) -> None:
    """Start a new page unless ``needed_mm`` still fit on this one."""
    if pdf.get_y() + needed_mm > pdf.page_break_trigger:
        pdf.add_page()


def _first_block_height(pdf: FPDF, block: tuple[str, Any]) -> float:
    """How much of a section's first block must follow its heading on the same page (mm): a picture whole, a
    table's caption, heading and first rows, a paragraph's first lines."""
    kind, content = block
    if kind == "table":
        return 5 * (1 + min(3, len(content.rows))) + (5 if content.caption else 0)
    if kind == "p":
        return 5.2 * 3
    width, height = struct.unpack(">II", content.png[16:24])  # a PNG's IHDR: its size in pixels
    return min(pdf.eph, pdf.epw * height / max(width, 1)) + 9


def _pdf_table(pdf: FPDF, table: Table) -> None:
    if table.caption:
        pdf.set_font("DejaVu", "B", 9)
        pdf.multi_cell(0, 5, table.caption, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font("DejaVu", "", 8.5)
    aligns = tuple("RIGHT" if table.numeric and table.numeric[i] else "LEFT" for i in range(len(table.header)))
    with pdf.table(text_align=aligns, headings_style=FontFace(emphasis="BOLD", fill_color=(225, 230, 238)),
                   line_height=5, first_row_as_headings=True, borders_layout="HORIZONTAL_LINES") as grid:
        for row in (table.header, *table.rows):
            line = grid.row()
            for cell in row:
                line.cell(cell)
    pdf.ln(3)
