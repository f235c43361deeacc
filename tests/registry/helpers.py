"""Registry files built in memory for the tests."""

import csv
import datetime as dt
import io

from openpyxl import Workbook

from tests.factories import credit_code

HEADER = ["企业名称", "统一社会信用代码", "所在地区", "称号", "批次", "有效期起", "有效期止"]


def good_row(serial, region="110000", title="小巨人", valid_from=dt.date(2024, 7, 1),
             valid_until=dt.date(2027, 6, 30), name=None, batch="第六批"):
    return [f"北京精工科技有限公司{serial}" if name is None else name, credit_code(serial, region), region, title, batch,
            valid_from, valid_until]


def xlsx_bytes(rows, header=HEADER, preamble=()):
    workbook = Workbook()
    sheet = workbook.active
    for line in preamble:
        sheet.append(line)
    if header:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig"):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([value.isoformat() if isinstance(value, dt.date) else value for value in row])
    return buffer.getvalue().encode(encoding)


IMPORTS_URL = "/api/v1/registry/imports"


def failing_on_call(real, number, error):
    """`real`, except that its call number `number` raises `error` (a database lost midway);
    `.calls` counts the calls."""

    def wrapper(**kwargs):
        wrapper.calls += 1
        if wrapper.calls == number:
            raise error
        return real(**kwargs)

    wrapper.calls = 0
    return wrapper


def import_registry(client, token, data, filename="名录.xlsx"):
    """Upload a file, let the worker run the import (as `lingjun worker` does), and answer the
    import as GET shows it then; a refused upload's answer as it is."""
    import io

    from service.registry.service import run_next_import
    from tests.conftest import bearer

    posted = client.post(IMPORTS_URL, headers=bearer(token), content_type="multipart/form-data",
                         data={"file": (io.BytesIO(data), filename)})
    if posted.status_code != 202:
        return posted
    assert posted.json["state"] == "queued", posted.json
    with client.application.app_context():
        assert run_next_import() is not None
    return client.get(f"{IMPORTS_URL}/{posted.json['id']}", headers=bearer(token))


def replace_in_xlsx(data, placeholder, text):
    """The .xlsx with `placeholder` replaced by `text` in its XML: a cell longer than openpyxl writes
    (it cuts at 32,767 characters), as other writers (or a hand-made file) can hold."""
    import zipfile
    from xml.sax.saxutils import escape

    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = source.read(info)
            if info.filename.endswith(".xml"):
                member = member.replace(placeholder.encode(), escape(text).encode())
            target.writestr(info, member, zipfile.ZIP_DEFLATED)
    return out.getvalue()
