"""The class completion list (结业名单) as Excel: the same rows and figures as the JSON."""

from service.core import regions
from service.core.excel import pct, xlsx_response, yes_no

CONDITION_NAMES = {"attendance_rate": "出勤率", "excused_share": "请假课时占比", "class_rating": "班级满意度评价"}
HEADERS = ["序号", "姓名", "地区代码", "地区", "是否符合结业条件", "未达条件", "说明", "课程节数", "已上节数",
           "出勤节数", "按时签到", "迟到", "缺勤", "请假", "出勤率", "目前出勤率", "请假课时", "请假课时占比", "已提交班级评价",
           "已颁发结业证书", "已发出勤预警"]


def _row(number, row):
    failed = row["failed"]
    return [number, row["name"], row["region_code"], regions.name_of(row["region_code"]),
            "符合" if row["eligible"] else "不符合",
            "、".join(CONDITION_NAMES.get(f["condition"], f["condition"]) for f in failed),
            "；".join(f["message"] for f in failed),
            row["sessions_total"], row["sessions_held"], row["attended"], row["present"], row["late"],
            row["absent"], row["excused"], pct(row["attendance_rate"]), pct(row["attendance_rate_so_far"]),
            row["excused_class_hours"],
            pct(row["excused_share"]), yes_no(row["class_rated"]), yes_no(row["certificate_issued"]),
            yes_no(row["low_attendance_warned"])]


def completion_xlsx(class_doc, report):
    """report: what `service.evaluate` answers for the caller's scope."""
    rule = report["rule"]
    summary = [
        ("班级", class_doc["name"]), ("培训日期", f"{class_doc['start_date']} 至 {class_doc['end_date']}"),
        ("课程是否全部结束", yes_no(report["class_finished"])),
        ("最低出勤率", pct(rule["min_attendance_rate"])), ("请假课时占比上限", pct(rule["max_excused_share"])),
        ("须提交班级满意度评价", yes_no(rule["require_class_rating"])),
        ("确认参训人数", report["trainees"]), ("符合结业条件人数", report["eligible"]),
        ("已颁发结业证书", report["certificates_issued"]),
    ]
    rows = [_row(number, row) for number, row in enumerate(report["rows"], start=1)]
    return xlsx_response(f"{class_doc['name']}-结业名单.xlsx",
                         [("结业名单", HEADERS, rows), ("结业条件", ["项目", "数值"], summary)],
                         ascii_name=f"completion-{class_doc['_id']}.xlsx")
