"""CSV that is safe to open in a spreadsheet, written and read back in one way for every export and import.

The one exception is the positions' backfill, millions of rows read by pyarrow straight into columns."""

from __future__ import annotations

import csv
import enum
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import quote

import orjson
from fastapi import Request, Response
from pydantic import BaseModel
from starlette.datastructures import UploadFile as StarletteUpload

ListFormat = Literal["json", "csv"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """Text a spreadsheet would run as a formula (=HYPERLINK(...) in a narrative) is quoted; numbers pass."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def from_spreadsheet(text: str) -> str:
    """Undo :func:`spreadsheet_safe` on a cell read back in, so an exported file imports unchanged."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def cell(value: Any) -> Any:
    """One value as a CSV cell: lists of plain values joined by ';', structures as JSON, text made spreadsheet-safe."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) or isinstance(v, enum.Enum) for v in value):
        return spreadsheet_safe(";".join(str(v.value if isinstance(v, enum.Enum) else v) for v in value))
    if isinstance(value, (dict, list, tuple)):
        return spreadsheet_safe(orjson.dumps(value, default=str).decode())
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return spreadsheet_safe(value)


def table_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """The one CSV writer: a header, then the rows, with RFC 4180's line ends (the caller makes text cells safe)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def rows_csv(rows: Iterable[Mapping[str, Any]]) -> str:
    """Rows as CSV with a header of every column any row has, in the order first seen."""
    rows = list(rows)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    return table_csv(columns, ([cell(row.get(c)) for c in columns] for row in rows))


def content_disposition(filename: str, disposition: str = "attachment") -> dict[str, str]:
    """A ``Content-Disposition`` header for ``filename``, whatever it holds (a filter copied from a query, a
    number): a plain ``filename`` of safe ASCII characters for every client, and RFC 6266's ``filename*``
    with the name percent-encoded in UTF-8 when it has anything else. No quote or line break gets through."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("._") or "download"
    header = f'{disposition}; filename="{safe}"'
    if safe != filename:
        header += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return {"Content-Disposition": header}


def csv_response(models: Iterable[BaseModel], filename: str) -> Response:
    """A list endpoint's answer as CSV: the same records and fields as its JSON."""
    return Response(rows_csv(m.model_dump() for m in models), media_type="text/csv; charset=utf-8",
                    headers=content_disposition(filename))


CSV_OR_JSON: dict[int | str, dict[str, Any]] = {200: {"content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}}}}


EXTRA_CELLS = "__extra__"  # the key of a row that has more cells than the header has names


def read_table(text: str, *, max_rows: int, field: str = "body") -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """A CSV file as its header and its rows, each with its line number: cells stripped, empty cells left out,
    spreadsheet quoting undone (:func:`from_spreadsheet`), any line ending and a byte-order mark accepted.

    A row with more cells than the header is kept as ``{EXTRA_CELLS: ...}`` for the caller to refuse by line;
    a file that is not CSV, has no header or too many rows is refused whole, naming ``field``."""
    from peacewatch.core.problems import Invalid

    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
        if not header:
            raise Invalid("the file is empty: it needs a header row naming the columns", field=field)
        reader.fieldnames = header
        rows: list[tuple[int, dict[str, str]]] = []
        for row in reader:
            if len(rows) >= max_rows:
                raise Invalid("the file has more than {max_rows:,} rows; split it", field=field, max_rows=max_rows)
            if None in row:
                rows.append((reader.line_num, {EXTRA_CELLS: "x"}))
                continue
            rows.append((reader.line_num, {k: from_spreadsheet(v.strip()) for k, v in row.items() if v is not None and v.strip() != ""}))
    except csv.Error as exc:  # a file that is not CSV at all: one answer for the whole file
        raise Invalid("not a readable CSV file: {exc}", field=field, exc=exc) from None
    return header, rows


async def uploaded_csv(request: Request, *, max_bytes: int, what: str = "file") -> str:
    """The text of a CSV sent as the request's body (``text/csv``) or as a form's file (``curl -F file=@log.csv``, a
    browser's form): a multipart body is read as its one file, never as CSV whose first column is the boundary."""
    from peacewatch.core.problems import Invalid

    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        files = [value for value in form.values() if isinstance(value, StarletteUpload)]
        if not files:
            raise Invalid("the form holds no file: send the CSV as its file, or as the request's body (text/csv)", field="body")
        raw = await files[0].read(max_bytes + 1)
    else:
        raw = await request.body()
    if len(raw) > max_bytes:
        raise Invalid("the {what} is over {value} MiB; split it", field="body", what=what, value=max_bytes // 2**20)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("the {what} is not UTF-8 text (byte {start})", field="body", what=what, start=exc.start) from None
