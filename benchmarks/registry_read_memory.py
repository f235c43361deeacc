"""Benchmark: memory and time to read and check registry files shaped as real writers make them.

    .venv/bin/python benchmarks/registry_read_memory.py [--rows 200000]

Each file is read (importer.read_rows + validate_rows, no database) in its own child process,
which prints its resident memory before and at its peak (ru_maxrss). Target: every accepted file
reads with the process growing by less than 200 MB. Cases:
  plain      --rows rows written by openpyxl (Excel-like, shared strings)
  xfd        5,000 rows declaring <dimension ref="A1:XFD5000"> (read-only mode would pad every row
             to 16,384 cells: ~600 MB before the fix)
  (a file above 20 MB is refused before it is read: the UTF-16 text of 200,000 rows is ~45 MB)
  blank      the data rows followed by 60,000 formatted blank rows (a worker was held ~90 s)
  utf16      --rows rows as Excel's "Unicode text" (UTF-16 with BOM, tab-separated)
  longcell   1,000 rows whose first 批次 is a 300 MB text (a 0.3 MB upload; it unpacks below the 400 MB
             cap): reported with its length, measured while unpacked, never held (+902 MB before)
"""

import argparse
import datetime as dt
import io
import pathlib
import resource
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from openpyxl import Workbook  # noqa: E402
from stdnum.cn import uscc  # noqa: E402

from service.registry.importer import COLUMNS, TITLES  # noqa: E402

REGIONS = ["110000", "310000", "320000", "330000", "440000", "440300", "370000", "510000", "420000", "500000"]


def _row(serial):
    region = REGIONS[serial % len(REGIONS)]
    base = f"91{region}MA{serial:07d}"[:17]
    start = dt.date(2021 + serial % 4, 7, 1)
    return [f"示例精密制造有限公司{serial:06d}", base + uscc.calc_check_digit(base), region, TITLES[serial % 3],
            f"第{serial % 6 + 1}批", start, start.replace(year=start.year + 3)]


def plain_xlsx(rows):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("企业名录")
    sheet.append(list(COLUMNS.values()))
    for serial in range(rows):
        sheet.append(_row(serial))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _rewrite_sheet(data, change):
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = change(content.decode()).encode()
            target.writestr(item, content)
    return buffer.getvalue()


def xfd_xlsx():
    import re

    return _rewrite_sheet(plain_xlsx(5_000), lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD5000"', xml))


def blank_xlsx(rows, blanks=60_000):
    def add_blanks(xml):
        start = rows + 2
        blank = "".join(f'<row r="{n}"><c r="A{n}" s="0"/><c r="B{n}" s="0"/></row>' for n in range(start, start + blanks))
        return xml.replace("</sheetData>", blank + "</sheetData>")
    return _rewrite_sheet(plain_xlsx(rows), add_blanks)


def long_cell_xlsx(rows=1_000, megabytes=300):
    """The 批次 cell of the first data row holds `megabytes` MB of text, written piece by piece."""
    source = zipfile.ZipFile(io.BytesIO(plain_xlsx(rows)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename != "xl/worksheets/sheet1.xml":
                target.writestr(item, content)
                continue
            import re

            cell = re.search(rb'<c r="E2"[^>]*><is><t>[^<]*</t>', content)
            head, tail = content[:cell.start()], content[cell.end():]
            with target.open(item.filename, "w", force_zip64=True) as sheet:
                sheet.write(head + b'<c r="E2" t="inlineStr"><is><t>')
                for _ in range(megabytes):
                    sheet.write(b"B" * (1 << 20))
                sheet.write(b"</t>" + tail)
    return buffer.getvalue()


def utf16_text(rows):
    lines = ["\t".join(COLUMNS.values())]
    for serial in range(rows):
        lines.append("\t".join(v.isoformat() if isinstance(v, dt.date) else str(v) for v in _row(serial)))
    return "\r\n".join(lines).encode("utf-16")


def child(path):
    from service.core.errors import RuleViolation
    from service.registry import importer

    data = pathlib.Path(path).read_bytes()
    importer.READ_TIME_BUDGET_SECONDS = 10**6  # memory is measured here, not the budget
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    try:
        sheet = importer.read_rows(data)
    except RuleViolation as exc:
        print(f"refused:{exc.code} - - - - {before / 1024:.0f} {before / 1024:.0f}")
        return
    entries, problems, total, rejected, _ = importer.validate_rows(sheet)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"{total} {len(entries)} {rejected} {len(problems)} {seconds:.2f} {before / 1024:.0f} {peak / 1024:.0f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--child")
    parser.add_argument("--cases", default="plain,xfd,blank,utf16,longcell")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    cases = {"plain": lambda: plain_xlsx(args.rows), "xfd": xfd_xlsx, "blank": lambda: blank_xlsx(1_000),
             "utf16": lambda: utf16_text(args.rows), "longcell": long_cell_xlsx}
    print(f"{'case':<6} {'file':>9} {'rows':>7} {'good':>7} {'bad':>5} {'reported':>8} {'seconds':>8} "
          f"{'RSS before':>10} {'RSS peak':>9} {'growth':>7}")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.cases.split(","):
            build = cases[name]
            data = build()
            path = pathlib.Path(folder) / name
            path.write_bytes(data)
            out = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True,
                                 check=True).stdout.split()
            total, good, bad, reported, seconds, before, peak = out
            print(f"{name:<6} {len(data) / 1024:>7.0f}KB {total:>7} {good:>7} {bad:>5} {reported:>8} {seconds:>8} "
                  f"{before:>8}MB {peak:>7}MB {int(peak) - int(before):>5}MB")


if __name__ == "__main__":
    main()
