"""Excel exports of a class: its timetable and its quota table with used / left."""

from service.classes import views
from service.core.excel import xlsx_response
from service.core.timeutil import BEIJING

KIND_NAMES = {"lecture": "讲座", "site_visit": "现场教学", "discussion": "研讨"}


def timetable_xlsx(class_doc):
    rows = []
    for s in views.timetable(class_doc)["sessions"]:
        start, end = s["starts_at"].astimezone(BEIJING), s["ends_at"].astimezone(BEIJING)
        rows.append((s["date"], start.strftime("%H:%M"), end.strftime("%H:%M"), s["title"], s["teacher"],
                     s.get("content_area") or "", KIND_NAMES.get(s["kind"], s["kind"]), s.get("location") or "",
                     s["class_hours"]))
    headers = ["日期", "开始", "结束", "课程", "授课人", "内容模块", "形式", "地点", "学时"]
    return xlsx_response(f"{class_doc['name']}-课程表.xlsx", [("课程表", headers, rows)],
                         ascii_name=f"timetable-{class_doc['_id']}.xlsx")


def quota_xlsx(class_doc, *, only_region=None):
    table = views.quota_table(class_doc, only_region=only_region)
    rows = [(r["region_code"], r["region_name"], r["places"], r["used"], r["left"]) for r in table["quotas"]]
    rows.append(("", "合计", table["total_places"], table["total_used"],
                 table["total_places"] - table["total_used"]))
    headers = ["地区代码", "地区", "名额", "已占用", "剩余"]
    return xlsx_response(f"{class_doc['name']}-名额分配.xlsx", [("名额分配", headers, rows)],
                         ascii_name=f"quotas-{class_doc['_id']}.xlsx")
