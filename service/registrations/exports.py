"""Roster (花名册) Excel export, per region or for the whole class."""

from service.core import crypto, regions
from service.core.excel import xlsx_response
from service.registrations import repository
from service.registrations.states import COUNTED, LABELS

GENDER = {"male": "男", "female": "女"}


def roster_xlsx(*, class_doc, region_code=None, full_id_numbers=False):
    query = {"class_id": class_doc["_id"], "state": {"$in": list(COUNTED)}}
    if region_code:
        query["region_code"] = region_code
    registrations, _ = repository.find(query, sort=(("region_code", 1), ("submitted_at", 1)))
    rows = []
    for number, registration in enumerate(registrations, start=1):
        person = registration["snapshot"]
        enterprise = person["enterprise"]
        id_number = crypto.decrypt(person["id_number_enc"]) if full_id_numbers else person["id_number_masked"]
        rows.append((number, person["name"], GENDER.get(person["gender"], ""), person["ethnicity"],
                     person["political_status"], id_number, person.get("mobile_masked") or "", person["position"],
                     enterprise["name"], enterprise["credit_code"], registration["region_code"],
                     regions.name_of(registration["region_code"]), LABELS[registration["state"]]))
    headers = ["序号", "姓名", "性别", "民族", "政治面貌", "身份证号码", "手机", "职务", "企业名称",
               "统一社会信用代码", "地区代码", "地区", "状态"]
    suffix = f"-{regions.name_of(region_code)}" if region_code else ""
    return xlsx_response(f"{class_doc['name']}{suffix}-花名册.xlsx", [("花名册", headers, rows)],
                         ascii_name=f"roster-{class_doc['_id']}{'-' + region_code if region_code else ''}.xlsx")
