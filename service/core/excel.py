"""Excel (.xlsx) downloads with Chinese headers."""

import io
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def pct(value):
    """A share (0.875) as a cell ("87.5%"); empty when there is no figure."""
    return "" if value is None else f"{value:.1%}"


def yes_no(flag):
    return "是" if flag else "否"


def workbook_bytes(sheets):
    """sheets: [(title, headers, rows)] -> xlsx bytes. Uses write-only mode for large sheets."""
    workbook = Workbook(write_only=True)
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append(headers)
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_response(filename, sheets):
    """A download response; the Chinese file name travels in RFC 5987 `filename*`."""
    response = Response(workbook_bytes(sheets), mimetype=XLSX_MIMETYPE)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=export.xlsx; filename*=UTF-8''{quote(filename)}")
    return response


__all__ = ["workbook_bytes", "xlsx_response"]
