"""Enterprise registry (企业名录): organizers import the lists of recognised enterprises;
registration checks a title's validity; admins and province staff read the list.
"""

import re
import time

from service.core import regions
from service.core.auth import PROVINCE_STAFF, ensure_region
from service.core.db import utcnow
from service.core.errors import Forbidden, NotFound, RuleViolation
from service.registry import importer, repository

# Room for the multipart envelope around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
MAX_UPLOAD_BYTES = importer.MAX_FILE_BYTES + MULTIPART_OVERHEAD
FILE_TOO_LARGE_MESSAGE = "文件不能超过 20 MB，请分成几个文件导入"


def find_valid_title(*, credit_code, title, on_date):
    """The registry entry whose validity covers `on_date`, or None."""
    return repository.find_valid_title(credit_code=credit_code, title=title, day=on_date.isoformat())


# Entries compared with the stored ones and written this many at a time.
WRITE_SLICE = 5_000


def import_file(*, data, file_name, imported_by):
    """Import a registry file: good rows are upserted by (credit code, title), bad rows reported.

    Everything is read and checked before the first write; a file-level problem (not a
    spreadsheet, no header, too large) writes nothing, not even a report.
    """
    started = time.monotonic()
    sheet = importer.read_rows(data)
    entries, problems, total, rejected, truncated = importer.validate_rows(sheet)

    # Read what is stored for these codes, and only write what is new or different: a re-import
    # of the same file then costs one read per 50 codes and writes nothing. In slices, so a
    # 200,000-row file never holds all stored entries at once.
    counts, unchanged, now = {"inserted": 0, "updated": 0, "unchanged": 0}, 0, utcnow()
    for start in range(0, len(entries), WRITE_SLICE):
        part = entries[start:start + WRITE_SLICE]
        stored = repository.entries_for(e["credit_code"] for e in part)
        new, changed = [], []
        for entry in part:
            current = stored.get((entry["credit_code"], entry["title"]))
            if current is None:
                new.append(entry)
            elif any(current.get(field) != entry[field] for field in repository.ENTRY_FIELDS):
                changed.append(entry)
            else:
                unchanged += 1
        for key, value in repository.save_entries(new=new, changed=changed, now=now).items():
            counts[key] += value

    report = {
        "file_name": (file_name or "")[:200], "file_kind": sheet.kind, "file_size": len(data),
        "imported_by": imported_by, "imported_at": now,
        "total": total, "inserted": counts["inserted"], "updated": counts["updated"],
        "unchanged": unchanged + counts["unchanged"], "rejected": rejected,
        "bad_rows": problems, "bad_rows_truncated": truncated,
        "duration_ms": round((time.monotonic() - started) * 1000),
    }
    return repository.insert_report(report)


def get_report_or_raise(*, report_id):
    report = repository.get_report(report_id)
    if report is None:
        raise NotFound("REGISTRY_IMPORT_NOT_FOUND", "导入记录不存在")
    return report


def list_reports(*, page=1, page_size=20):
    items, total = repository.find_reports(skip=(page - 1) * page_size, limit=page_size)
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def _scope(identity, region_code):
    """The region filter a caller may use: admins any; province staff only their own."""
    if identity.is_admin:
        return region_code
    if PROVINCE_STAFF not in identity.roles:
        raise Forbidden("ROLE_REQUIRED", "只有组织方和地方主管部门可以查看企业名录")
    if region_code:
        ensure_region(identity, region_code)
        return region_code
    return {"$in": sorted(identity.region_codes)}


def list_enterprises(*, identity, region_code=None, title=None, credit_code=None, q=None, valid_on=None,
                     page=1, page_size=20):
    """Registry entries, filtered; province staff see their own region only."""
    query = {}
    region_filter = _scope(identity, region_code)
    if region_filter:
        query["region_code"] = region_filter
    if title:
        query["title"] = title
    if credit_code:
        query["credit_code"] = credit_code.strip().upper()
    if q:
        query["name"] = {"$regex": re.escape(q.strip())}
    if valid_on:
        day = valid_on.isoformat()
        query["valid_from"] = {"$lte": day}
        query["valid_until"] = {"$gte": day}
    items, total = repository.find_entries(query, skip=(page - 1) * page_size, limit=page_size)
    for item in items:
        item["region_name"] = regions.name_of(item["region_code"])
    return {"items": items, "total": total, "page": page, "page_size": page_size}


def template_sheets():
    """The sheets of the import template (header row, how to fill it in, region codes)."""
    return importer.template_sheets()


def save_sample(entries):
    """Upsert ready-made entries (the demo's sample); counts as an import would report them."""
    return repository.upsert_entries(entries, now=utcnow())
