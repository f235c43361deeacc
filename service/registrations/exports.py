"""Roster (花名册) Excel exports: a class's (per region or whole) and a programme year's across every
region and class (organizers). Rows are read from a cursor with a projection and written as they
come (service.core.excel writes in openpyxl's write-only mode): a national year's 40,000 rows are
never held as documents or as a list."""

from service.classes import repository as classes_repo
from service.core import crypto, regions
from service.core.db import read_ahead
from service.core.excel import xlsx_response
from service.registrations import repository
from service.registrations.states import LABELS

GENDER = {"male": "男", "female": "女"}
PERSON_HEADERS = ["姓名", "性别", "民族", "政治面貌", "身份证号码", "手机", "职务", "企业名称", "统一社会信用代码"]
CLASS_HEADERS = ["序号", *PERSON_HEADERS, "地区代码", "地区", "状态"]
YEAR_HEADERS = ["序号", "地区代码", "地区", "培训班", "开班日期", *PERSON_HEADERS, "状态"]


def _projection(full_id_numbers):
    fields = ["class_id", "region_code", "state", "snapshot.name", "snapshot.gender", "snapshot.ethnicity",
              "snapshot.political_status", "snapshot.mobile_masked", "snapshot.position", "snapshot.enterprise.name",
              "snapshot.enterprise.credit_code",
              "snapshot.id_number_enc" if full_id_numbers else "snapshot.id_number_masked"]
    return dict.fromkeys(fields, 1)


def _person(registration, full_id_numbers):
    """The person's cells. Rows stored before a field existed give an empty cell, not a 500."""
    person = registration.get("snapshot") or {}
    enterprise = person.get("enterprise") or {}
    if full_id_numbers:
        id_number = crypto.decrypt(person["id_number_enc"]) if person.get("id_number_enc") else ""
    else:
        id_number = person.get("id_number_masked") or ""
    return [person.get("name") or "", GENDER.get(person.get("gender"), ""), person.get("ethnicity") or "",
            person.get("political_status") or "", id_number, person.get("mobile_masked") or "",
            person.get("position") or "", enterprise.get("name") or "", enterprise.get("credit_code") or ""]


def _class_rows(cursor, full_id_numbers):
    for number, registration in enumerate(cursor, start=1):
        region_code = registration["region_code"]
        yield [number, *_person(registration, full_id_numbers), region_code, regions.name_of(region_code),
               LABELS[registration["state"]]]


def roster_xlsx(*, class_doc, region_code=None, full_id_numbers=False):
    """The class roster; `region_code` limits it to one region; full ID numbers for certificates."""
    cursor = repository.counted_in_class(class_doc["_id"], region_code=region_code,
                                         projection=_projection(full_id_numbers))
    suffix = f"-{regions.name_of(region_code)}" if region_code else ""
    return xlsx_response(f"{class_doc['name']}{suffix}-花名册.xlsx",
                         [("花名册", CLASS_HEADERS, _class_rows(cursor, full_id_numbers))],
                         ascii_name=f"roster-{class_doc['_id']}{'-' + region_code if region_code else ''}.xlsx")


def _year_rows(cursor, full_id_numbers):
    classes = {}  # class id -> (name, start date): a year has a few hundred classes, read once each
    for number, registration in enumerate(cursor, start=1):
        class_id, region_code = registration["class_id"], registration["region_code"]
        if class_id not in classes:
            class_doc = classes_repo.get(class_id, {"name": 1, "start_date": 1}) or {}
            classes[class_id] = (class_doc.get("name") or "", class_doc.get("start_date") or "")
        yield [number, region_code, regions.name_of(region_code), *classes[class_id],
               *_person(registration, full_id_numbers), LABELS[registration["state"]]]


def year_roster_xlsx(*, year, region_code=None, full_id_numbers=False):
    """The programme year's roster across every class: registrations counted against quotas
    (recommended, admitted, waitlisted, confirmed), by region, class and submission."""
    # Read ahead: the next regions are read while this one's rows are written.
    cursor = read_ahead(repository.counted_in_year(year, region_code=region_code,
                                                   projection=_projection(full_id_numbers)))
    scope = regions.name_of(region_code) if region_code else "全部地区"
    return xlsx_response(f"{year}年度花名册（{scope}）.xlsx",
                         [("花名册", YEAR_HEADERS, _year_rows(cursor, full_id_numbers))],
                         ascii_name=f"roster-{year}{'-' + region_code if region_code else ''}.xlsx")
