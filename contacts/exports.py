"""Contact exports: CSV (Excel-safe UTF-8) and XLSX, over plain dict rows.

Pure writers: the caller (an API view, a management command) passes an
iterable of plain dicts — one per contact, keyed by the column keys of
`EXPORT_COLUMNS` — and the chosen column keys; the writers stream rows to a
binary file object and never hold the whole export in memory. A missing key
or None is an empty cell. Lists (found_on_urls, methods) are joined with
" | "; dates and datetimes are ISO 8601; booleans are "yes"/"no" in CSV and
real booleans in XLSX.

CSV: UTF-8 with a byte-order mark (so Excel detects UTF-8: Müller, Ñandú,
東京 survive), CRLF line ends, comma separator, minimal quoting (RFC 4180).

Formula injection (CSV): a text cell starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is prefixed with an apostrophe so that a
spreadsheet shows it as text instead of evaluating it (OWASP "CSV
injection"). One exception, by decision: a cell that is exactly an E.164
phone number (``+`` then 7–15 digits, nothing else) is left alone — digits
cannot form a formula, and the apostrophe would corrupt every phone number
for the programs that read the CSV (CRMs importers, scripts). Numbers
(int/float) are not text and are never prefixed.

XLSX: openpyxl's write-only mode (rows streamed to disk, bounded memory).
Every text value is stored as a string cell — never a formula, even when it
starts with ``=`` — so no apostrophe is needed and the value is kept
verbatim; characters XML cannot carry (control characters other than tab,
LF and CR) are dropped.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO

# column key -> header label, in the order offered to users
EXPORT_COLUMNS: dict[str, str] = {
    "id": "Contact ID",
    "kind": "Kind",
    "email": "Email",
    "phone": "Phone (E.164)",
    "fax": "Fax (E.164)",
    "full_name": "Full name",
    "first_name": "First name",
    "last_name": "Last name",
    "job_title": "Job title",
    "company_name": "Company",
    "website": "Website",
    "domain": "Domain",
    "city": "City",
    "country_code": "Country",
    "business_phone": "Business phone (E.164)",
    "validation": "Validation",
    "validation_reason": "Validation detail",
    "is_role": "Role address",
    "is_free_provider": "Free provider",
    "is_disposable": "Disposable",
    "phone_type": "Phone type",
    "search_query": "Search query",
    "source_url": "Source URL",
    "found_on_urls": "Found on URLs",
    "found_on_count": "Found on (pages)",
    "methods": "Extraction methods",
    "first_seen": "First seen",
    "last_seen": "Last seen",
    "still_on_page": "Still on page",
    "curation_status": "Curation status",
    "brevo_id": "Brevo ID",
    "hubspot_id": "HubSpot ID",
}
DEFAULT_COLUMNS: list[str] = [
    "kind", "email", "phone", "full_name", "job_title", "company_name", "website", "domain", "city",
    "country_code", "validation", "source_url", "found_on_count", "first_seen", "last_seen",
]
LIST_SEPARATOR = " | "
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def parse_columns(text: str | None) -> list[str]:
    """Column keys from a comma list ("email, phone,Domain"); empty → DEFAULT_COLUMNS.

    Keys are case-insensitive, duplicates are dropped (first wins). An unknown
    key raises ValueError naming it and listing the allowed keys.
    """
    if text is None or not text.strip():
        return list(DEFAULT_COLUMNS)
    wanted: list[str] = []
    unknown: list[str] = []
    for part in text.split(","):
        key = part.strip().lower()
        if not key:
            continue
        if key not in EXPORT_COLUMNS:
            unknown.append(part.strip())
        elif key not in wanted:
            wanted.append(key)
    if unknown:
        raise ValueError(f"unknown export column(s): {', '.join(unknown)}; allowed: {', '.join(EXPORT_COLUMNS)}")
    if not wanted:
        return list(DEFAULT_COLUMNS)
    return wanted


def _check_columns(columns: Sequence[str]) -> list[str]:
    columns = list(columns)
    unknown = [c for c in columns if c not in EXPORT_COLUMNS]
    if unknown:
        raise ValueError(f"unknown export column(s): {', '.join(unknown)}; allowed: {', '.join(EXPORT_COLUMNS)}")
    if not columns:
        raise ValueError("no export columns chosen")
    return columns


def defuse(text: str) -> str:
    """Prefix an apostrophe to text a spreadsheet would evaluate (E.164 numbers excepted)."""
    if text.startswith(_FORMULA_START) and not _E164.match(text):
        return "'" + text
    return text


def _as_text(value: Any, *, booleans: tuple[str, str] = ("yes", "no")) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return booleans[0] if value else booleans[1]
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return LIST_SEPARATOR.join(_as_text(item) for item in items if item is not None)
    return str(value)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return defuse(_as_text(value))


def write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], out: BinaryIO) -> int:
    """Write a header and one line per row to `out`; returns the number of rows written."""
    count = 0

    def counted():
        nonlocal count
        for row in rows:
            count += 1
            yield row

    for chunk in iter_csv(counted(), columns):
        out.write(chunk)
    return count


def iter_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], *, rows_per_chunk: int = 500) -> Iterator[bytes]:
    """The CSV of `rows` as UTF-8 (with BOM) byte chunks: the header at once, then `rows_per_chunk` lines a
    chunk, so a streamed export starts at once and holds one chunk in memory, whatever its length."""
    columns = _check_columns(columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([EXPORT_COLUMNS[c] for c in columns])
    yield "\ufeff".encode() + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])
        pending += 1
        if pending == rows_per_chunk:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


def _xlsx_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, dt.datetime):
        # Excel has no time zones: write UTC wall time
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value
    if isinstance(value, dt.date):
        return value
    return _XML_ILLEGAL.sub("", _as_text(value))


def write_xlsx(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], out: BinaryIO, *,
               sheet_title: str = "Contacts") -> int:
    """Write an .xlsx workbook (one sheet, header row in bold) to `out`; returns the number of rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    columns = _check_columns(columns)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title)
    bold = Font(bold=True)
    header = []
    for key in columns:
        cell = WriteOnlyCell(sheet, value=EXPORT_COLUMNS[key])
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        cells = []
        for key in columns:
            value = _xlsx_value(row.get(key))
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula (openpyxl would make "=…" a formula)
            cells.append(cell)
        sheet.append(cells)
        count += 1
    workbook.save(out)
    return count
