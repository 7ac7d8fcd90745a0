"""CSV and XLSX exports, read back the way a user's tools read them."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from contacts.exports import DEFAULT_COLUMNS, EXPORT_COLUMNS, iter_csv, parse_columns, write_csv, write_xlsx

ROWS = [
    {"email": "anna@mueller.example", "full_name": "Anna Müller", "company_name": "Zahnarzt Müller",
     "phone": "+493012345678", "city": "Köln", "found_on_urls": ["https://mueller.example/kontakt",
                                                                  "https://mueller.example/team"],
     "found_on_count": 2, "methods": ["mailto", "text"], "first_seen": dt.datetime(2025, 1, 2, 3, 4, 5),
     "still_on_page": True},
    {"email": "jose@nandu.example", "full_name": "José Ñandú", "company_name": "Ñandú Café", "city": "Madrid",
     "still_on_page": False, "found_on_count": None},
    {"email": "taro@tokyo.example", "full_name": "東京 太郎", "company_name": "=HYPERLINK(\"http://evil\",\"x\")",
     "city": "+cmd|' /C calc'!A0", "job_title": "-2+3", "website": "@SUM(1+1)", "domain": "\tdanger"},
]
COLUMNS = ["email", "full_name", "company_name", "phone", "city", "job_title", "website", "domain",
           "found_on_urls", "found_on_count", "methods", "first_seen", "still_on_page"]


def _csv(rows=ROWS, columns=COLUMNS) -> bytes:
    out = io.BytesIO()
    assert write_csv(rows, columns, out) == len(rows)
    return out.getvalue()


def test_csv_has_a_bom_crlf_and_utf8():
    raw = _csv()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\r\n") == 4 and raw.replace(b"\r\n", b"").count(b"\n") == 0
    assert "Müller".encode() in raw and "Ñandú".encode() in raw and "東京".encode() in raw


def test_csv_reads_back_with_headers_and_values():
    reader = list(csv.reader(io.StringIO(_csv().decode("utf-8-sig"), newline="")))
    assert reader[0] == [EXPORT_COLUMNS[c] for c in COLUMNS]
    first = dict(zip(COLUMNS, reader[1], strict=True))
    assert first["full_name"] == "Anna Müller"
    assert first["city"] == "Köln"
    assert first["found_on_urls"] == "https://mueller.example/kontakt | https://mueller.example/team"
    assert first["methods"] == "mailto | text"
    assert first["found_on_count"] == "2"
    assert first["first_seen"] == "2025-01-02T03:04:05"
    assert first["still_on_page"] == "yes"
    second = dict(zip(COLUMNS, reader[2], strict=True))
    assert second["full_name"] == "José Ñandú" and second["company_name"] == "Ñandú Café"
    assert second["phone"] == "" and second["found_on_count"] == "" and second["still_on_page"] == "no"
    assert dict(zip(COLUMNS, reader[3], strict=True))["full_name"] == "東京 太郎"


def test_csv_defuses_formulas_but_keeps_e164_numbers():
    reader = list(csv.reader(io.StringIO(_csv().decode("utf-8-sig"), newline="")))
    first = dict(zip(COLUMNS, reader[1], strict=True))
    third = dict(zip(COLUMNS, reader[3], strict=True))
    assert first["phone"] == "+493012345678"  # E.164: left alone, by decision
    assert third["company_name"] == "'=HYPERLINK(\"http://evil\",\"x\")"
    assert third["city"] == "'+cmd|' /C calc'!A0"
    assert third["job_title"] == "'-2+3"
    assert third["website"] == "'@SUM(1+1)"
    assert third["domain"] == "'\tdanger"


def test_csv_plus_that_is_not_a_plain_number_is_defused():
    reader = list(csv.reader(io.StringIO(_csv([{"phone": "+49 30 1234"}, {"phone": "+4930123+1"}], ["phone"])
                                         .decode("utf-8-sig"), newline="")))
    assert [row[0] for row in reader[1:]] == ["'+49 30 1234", "'+4930123+1"]


def test_csv_quotes_commas_quotes_and_newlines():
    rows = [{"company_name": 'Smith, "Best" & Co\nLtd'}]
    reader = list(csv.reader(io.StringIO(_csv(rows, ["company_name"]).decode("utf-8-sig"), newline="")))
    assert reader[1] == ['Smith, "Best" & Co\nLtd']


def test_csv_leaves_the_output_file_open():
    out = io.BytesIO()
    write_csv([], ["email"], out)
    assert not out.closed
    assert out.getvalue() == b"\xef\xbb\xbfEmail\r\n"


def test_xlsx_reads_back_with_values_types_and_no_formulas():
    out = io.BytesIO()
    assert write_xlsx(iter(ROWS), COLUMNS, out) == 3
    out.seek(0)
    sheet = load_workbook(out).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == [EXPORT_COLUMNS[c] for c in COLUMNS]
    assert sheet["A1"].font.bold is True
    first = dict(zip(COLUMNS, rows[1], strict=True))
    assert first["full_name"] == "Anna Müller"
    assert first["found_on_count"] == 2
    assert first["first_seen"] == dt.datetime(2025, 1, 2, 3, 4, 5)
    assert first["still_on_page"] is True
    assert first["phone"] == "+493012345678"
    assert dict(zip(COLUMNS, rows[2], strict=True))["company_name"] == "Ñandú Café"
    third = dict(zip(COLUMNS, rows[3], strict=True))
    assert third["full_name"] == "東京 太郎"
    # stored verbatim as text, never as a formula
    assert third["company_name"] == "=HYPERLINK(\"http://evil\",\"x\")"
    company_cell = sheet.cell(row=4, column=COLUMNS.index("company_name") + 1)
    assert company_cell.data_type == "s"
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f"


def test_xlsx_drops_characters_xml_cannot_carry():
    out = io.BytesIO()
    write_xlsx([{"company_name": "Bad\x00\x07Name", "email": None}], ["company_name", "email"], out)
    out.seek(0)
    sheet = load_workbook(out).active
    assert sheet["A2"].value == "BadName"
    assert sheet["B2"].value is None


def test_xlsx_streams_many_rows():
    out = io.BytesIO()
    rows = ({"email": f"user{i}@example.com", "found_on_count": i} for i in range(5000))
    assert write_xlsx(rows, ["email", "found_on_count"], out) == 5000
    out.seek(0)
    sheet = load_workbook(out, read_only=True).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert len(values) == 5001
    assert values[-1] == ("user4999@example.com", 4999)


def test_parse_columns():
    assert parse_columns(None) == DEFAULT_COLUMNS
    assert parse_columns("  ") == DEFAULT_COLUMNS
    assert parse_columns(" email, Phone,email ,found_on_urls,") == ["email", "phone", "found_on_urls"]
    for provenance in ("found_on_urls", "found_on_count", "methods", "first_seen", "last_seen", "still_on_page"):
        assert provenance in EXPORT_COLUMNS
    with pytest.raises(ValueError) as info:
        parse_columns("email,shoe_size,pw")
    assert "shoe_size, pw" in str(info.value)
    assert "allowed: id, kind, email" in str(info.value)


def test_writers_refuse_unknown_columns():
    with pytest.raises(ValueError, match="shoe_size"):
        write_csv([], ["email", "shoe_size"], io.BytesIO())
    with pytest.raises(ValueError, match="no export columns"):
        write_xlsx([], [], io.BytesIO())


def test_iter_csv_streams_in_chunks_that_join_to_the_written_file():
    rows = [{"email": f"a{i}@example.com", "phone": "+4930123456"} for i in range(7)]
    chunks = list(iter_csv(rows, ["email", "phone"], rows_per_chunk=3))
    assert len(chunks) == 1 + 3, "the header at once, then 3 + 3 + 1 rows"
    assert chunks[0] == b"\xef\xbb\xbfEmail,Phone (E.164)\r\n"
    out = io.BytesIO()
    assert write_csv(rows, ["email", "phone"], out) == 7
    assert b"".join(chunks) == out.getvalue()


def test_iter_csv_refuses_unknown_columns_before_the_first_byte():
    with pytest.raises(ValueError):
        next(iter_csv([], ["email", "shoe_size"]))
