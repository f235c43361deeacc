"""The reports as Excel workbooks with Chinese headers (same figures as the JSON)."""

from service.core.excel import pct, xlsx_response, yes_no
from service.core.timeutil import BEIJING

STATUS_NAMES = {"present": "已签到", "late": "迟到", "absent": "缺勤", "excused": "请假"}
CONDITION_NAMES = {"profile": "学员信息", "review": "资格审核记录", "attendance": "考勤记录"}


def _time(value):
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if value else ""


def class_report_xlsx(report):
    klass, att, sat = report["class"], report["attendance"], report["satisfaction"]
    summary = [
        ("班级", klass["name"]), ("培训机构", klass["institution"] or ""),
        ("培训日期", f"{klass['start_date']} 至 {klass['end_date']}"),
        ("统计范围", "全部地区" if report["region_codes"] is None else "、".join(report["region_codes"])),
        ("确认参训人数", report["enrolment"]["confirmed"]), ("已上课节数", att["sessions_held"]),
        ("出勤率", pct(att["attendance_rate"])), ("迟到人次", att["late"]), ("缺勤人次", att["absent"]),
        ("请假人次（节）", att["excused"]), ("批准请假申请数", report["leave"]["requests"]),
        ("请假学员数", report["leave"]["trainees"]),
        ("课程评价数", sat["session_ratings"]), ("课程满意度", pct(sat["session_satisfaction_rate"])),
        ("班级评价数", sat["class_ratings"]), ("总体满意度", pct(sat["overall_satisfaction_rate"])),
        ("满意度预警线", pct(sat["threshold"])),
        ("已颁发结业证书", report["completion"]["certificates_issued"]),
        ("结业率", pct(report["completion"]["completion_rate"])),
    ]
    sheets = [
        ("概况", ["项目", "数值"], summary),
        ("报名情况", ["地区代码", "地区", "名额", "报名", "录取", "确认参训"],
         [[r["region_code"], r["region_name"], r["places"], r["applied"], r["admitted"], r["confirmed"]]
          for r in report["enrolment"]["by_region"]]),
        ("考勤", ["课程", "授课教师", "上课时间", "已上课", "应到", "出勤", "迟到", "缺勤", "请假", "出勤率"],
         [[s["title"], s["teacher"] or "", _time(s["starts_at"]), yes_no(s["held"]), s["expected"], s["present"],
           s["late"], s["absent"], s["excused"], pct(s["attendance_rate"])] for s in att["sessions"]]),
        ("请假", ["请假类型", "批准申请数"], [[t["label"], t["requests"]] for t in report["leave"]["by_type"]]),
        ("满意度-课程", ["课程", "授课教师", "评价数", "平均星级", "满意度", "低于预警线"],
         [[s["title"], s["teacher"] or "", s["ratings"], s["average"] or "", pct(s["satisfaction_rate"]),
           yes_no(s["flagged"])] for s in sat["sessions"]]),
        ("满意度-教师", ["授课教师", "评价数", "平均星级", "满意度", "低于预警线"],
         [[t["teacher"], t["ratings"], t["average"] or "", pct(t["satisfaction_rate"]), yes_no(t["flagged"])]
          for t in sat["teachers"]]),
        ("满意度-维度", ["评价维度", "评价数", "平均分", "满意度", "低于预警线"],
         [[d["label"], d["ratings"], d["average"] or "", pct(d["satisfaction_rate"]), yes_no(d["flagged"])]
          for d in sat["dimensions"]]),
    ]
    if sat["comments"] is not None:
        sheets.append(("意见建议", ["类型", "课程", "星级", "内容"],
                       [["课程评价", c["session_title"], c["stars"], c["text"]] for c in sat["comments"]]
                       + [["班级建议", "", "", text] for text in sat["suggestions"]]))
    return xlsx_response(f"{klass['name']}-班级报告.xlsx", sheets, ascii_name=f"class-report-{klass['id']}.xlsx")


def region_kpis_xlsx(kpis):
    giants, review, archives, sat = kpis["little_giants"], kpis["review"], kpis["archives"], kpis["satisfaction"]
    rows = [
        ["举办（参训）班次数", kpis["classes_held"], "", ""],
        ["培训学员人数", kpis["trainees_trained"], "", ""],
        ["结业学员人数", kpis["trainees_completed"], "", ""],
        ["参训“小巨人”企业数", giants["trained"], "", ""],
        ["名录内“小巨人”企业数", giants["in_registry"], "", ""],
        ["“小巨人”企业参训比例", pct(giants["share"]), pct(giants["threshold"]), yes_no(giants["meets"])],
        ["已审核报名数", review["reviewed"], "", ""],
        ["应审核报名数", review["to_review"], "", ""],
        ["资格审核比例", pct(review["share"]), "100.0%", yes_no(review["share"] == 1)],
        ["培训档案完整人数", archives["complete"], "", ""],
        ["培训档案完整比例", pct(archives["share"]), "100.0%", yes_no(archives["share"] == 1)],
        ["班级满意度评价数", sat["class_ratings"], "", ""],
        ["服务满意度", pct(sat["rate"]), pct(sat["threshold"]), yes_no(sat["meets"])],
    ]
    incomplete = [[i["name"] or "", i["class_name"] or "", "、".join(CONDITION_NAMES[m] for m in i["missing"])]
                  for i in archives["incomplete"]]
    return xlsx_response(f"{kpis['region_name']}-{kpis['year']}年度培训绩效指标.xlsx", [
        ("绩效指标", ["指标", "数值", "目标", "是否达标"], rows),
        ("档案待完善", ["姓名", "班级", "缺少"], incomplete)],
        ascii_name=f"kpis-{kpis.get('region_code') or 'all'}-{kpis['year']}.xlsx")


def national_kpis_xlsx(table):
    total = table["national"]
    giant_target, satisfaction_target = pct(total["little_giants"]["threshold"]), pct(total["satisfaction"]["threshold"])
    headers = ["地区代码", "地区", "举办（参训）班次数", "有学员参训的班次数", "培训学员人数", "结业学员人数",
               "参训“小巨人”企业数", "名录内“小巨人”企业数", "“小巨人”企业参训比例", f"“小巨人”比例达标（≥{giant_target}）",
               "已审核报名数", "应审核报名数", "资格审核比例", "培训档案完整人数", "培训学员档案数", "培训档案完整比例",
               "班级满意度评价数", "服务满意度", f"满意度达标（≥{satisfaction_target}）"]

    def values(row):
        giants, review, archives, sat = row["little_giants"], row["review"], row["archives"], row["satisfaction"]
        return [row["region_code"] or "", row["region_name"], row["classes_held"], row["classes_with_trainees"],
                row["trainees_trained"], row["trainees_completed"], giants["trained"], giants["in_registry"],
                pct(giants["share"]), yes_no(giants["meets"]), review["reviewed"], review["to_review"],
                pct(review["share"]), archives["complete"], archives["trainees"], pct(archives["share"]),
                sat["class_ratings"], pct(sat["rate"]), yes_no(sat["meets"])]

    return xlsx_response(f"{table['year']}年度各地区培训绩效指标.xlsx", [
        ("各地区绩效指标", headers, [values(row) for row in table["regions"]] + [values(total)])],
        ascii_name=f"kpis-all-regions-{table['year']}.xlsx")


def archive_xlsx(archive):
    entries = archive["registrations"]
    return xlsx_response(f"{archive['name'] or '学员'}-培训档案.xlsx", [
        ("学员信息", ["项目", "内容"],
         [("姓名", archive["name"] or ""), ("身份证号", archive["id_number"] or ""), ("手机", archive["mobile"] or ""),
          ("职务", archive["position"] or ""), ("企业", archive["enterprise_name"] or ""),
          ("统一社会信用代码", archive["credit_code"] or "")]),
        ("报名记录", ["班级", "年度", "培训日期", "状态", "是否结业", "出勤", "迟到", "缺勤", "请假",
                  "课程评价数", "是否评价班级"],
         [[e["class_name"] or "", e["year"] or "", f"{e['start_date']} 至 {e['end_date']}", e["state_label"],
           yes_no(e["completed"]), e["attendance"]["present"], e["attendance"]["late"], e["attendance"]["absent"],
           e["attendance"]["excused"], e["ratings_given"]["sessions"], yes_no(e["ratings_given"]["class"])]
          for e in entries]),
        ("状态记录", ["班级", "时间", "原状态", "新状态", "原因"],
         [[e["class_name"] or "", _time(h["at"]), h["from_label"] or "", h["to_label"] or "", h["reason"] or ""]
          for e in entries for h in e["history"]]),
        ("考勤", ["班级", "课程", "上课时间", "考勤"],
         [[e["class_name"] or "", s["title"] or "", _time(s["starts_at"]), STATUS_NAMES.get(s["status"], s["status"])]
          for e in entries for s in e["attendance"]["sessions"]]),
        ("请假", ["班级", "类型", "开始", "结束", "状态"],
         [[e["class_name"] or "", item["type_label"] or "", _time(item["starts_at"]), _time(item["ends_at"]),
           item["state_label"]] for e in entries for item in e["leave"]]),
        ("结业证书", ["班级", "证书编号", "发证日期", "状态", "撤销原因"],
         [[e["class_name"] or "", c["number"], c["issued_on"], "有效" if c["status"] == "valid" else "已撤销",
           c["revoke_reason"] or ""] for e in entries for c in e["certificates"]]),
    ], ascii_name=f"archive-{archive['registration_id']}.xlsx")
