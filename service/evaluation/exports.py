"""The ministries' tables as Excel, in their printed layouts (notice 243: 附件5, 附1-2, 附1-3).
Every workbook leaves through service.core.excel."""

import io

from PIL import Image

from service.core import regions
from service.core.excel import FormSheet, form_xlsx_response, sheet_title, xlsx_response
from service.core.images import fitted_jpeg
from service.core.timeutil import BEIJING
from service.evaluation import scoring

HEADERS = ("评价内容", "评价指标", "基准分值", "绩效目标", "实际完成值", "评分标准", "得分", "得分说明")
MISSING_AREAS = {"profile": "学员信息", "review": "资格审核记录", "attendance": "考勤记录"}


def _points(value):
    return "未评分" if value is None else value


def _time(value):
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M") if value else ""


# ---- 附件5 ---------------------------------------------------------------------------------

def evaluation_xlsx(evaluation):
    """Sheet 绩效自评 in the columns of 赋能工作绩效目标考核表 (training rows; 得分说明 added on the right
    with the rule applied), and sheet 待完善事项 with what is missing."""
    form = FormSheet(title="绩效自评")
    width = len(HEADERS)
    form.put(1, 1, "赋能工作绩效目标考核表（企业培训）", to=(1, width), bold=True, size=14)
    targets = evaluation["targets"]
    version = (f"绩效目标第{targets['version']}版（{targets['updated_by_name'] or ''}"
               f"{_time(targets['updated_at'])}设定）" if targets["version"]
               else "绩效目标未设定")
    form.put(2, 1, f"地区：{evaluation['region_name']}（{evaluation['region_code']}）　年度：{evaluation['year']}"
                   f"　{version}　生成时间：{_time(evaluation['generated_at'])}", to=(2, width), align="left")
    for column, header in enumerate(HEADERS, start=1):
        form.put(3, column, header, bold=True)
    total = evaluation["total"]
    form.put(4, 2, "合计（企业培训）", bold=True)
    form.put(4, 3, total["base_points"])
    form.put(4, 7, total["points"])
    form.put(4, 8, "" if total["complete"] else "有未评分的指标，合计仅含已评分项", align="left")
    rows = evaluation["rows"]
    first = 5
    form.put(first, 1, scoring.CONTENT, to=(first + len(rows) - 1, 1), bold=True)
    for offset, row in enumerate(rows):
        r = first + offset
        for column, value in ((2, row["indicator"]), (3, row["base_points"]), (4, row["target_text"]),
                              (5, row["actual_text"]), (7, _points(row["points"]))):
            form.put(r, column, value)
        form.put(r, 6, row["standard"], align="left")
        form.put(r, 8, row["rule"], align="left")
        form.row_heights[r] = 75
    last = first + len(rows) - 1
    form.bordered.append(f"A3:H{last}")
    form.column_widths.update({1: 10, 2: 28, 3: 9, 4: 16, 5: 24, 6: 48, 7: 8, 8: 48})
    return form_xlsx_response(f"{evaluation['region_name']}-{evaluation['year']}年度绩效自评（企业培训）.xlsx",
                              [form, _missing_sheet(evaluation["missing"])],
                              ascii_name=f"evaluation-{evaluation.get('region_code') or 'all'}-{evaluation['year']}.xlsx")


def _missing_sheet(missing):
    form = FormSheet(title="待完善事项")
    for column, header in enumerate(("类别", "班级", "姓名", "缺少 / 说明", "时间"), start=1):
        form.put(1, column, header, bold=True)
    lines = [("课程内容", g["class_name"], "", g["reason"], g["start_date"] or "")
             for g in missing["classes_without_required_content"]]
    lines += [("报名未审核", r["class_name"] or "", r["name"] or "", "待地方资格审核", _time(r["submitted_at"]))
              for r in missing["unreviewed_registrations"]]
    lines += [("培训档案不完整", a["class_name"] or "", a["name"] or "",
               "缺少" + "、".join(MISSING_AREAS.get(m, m) for m in a["missing"]), "")
              for a in missing["incomplete_archives"]]
    for number, line in enumerate(lines, start=2):
        for column, value in enumerate(line, start=1):
            form.put(number, column, value, align="left")
    form.column_widths.update({1: 16, 2: 30, 3: 12, 4: 40, 5: 18})
    return form


def national_evaluation_xlsx(table):
    headers = ["地区代码", "地区", "已设定绩效目标", *scoring.INDICATORS.values(), "得分合计", "全部指标已评分"]
    rows = [[r["region_code"], r["region_name"], "是" if r["targets_set"] else "否",
             *(_points(row["points"]) for row in r["rows"]), r["total"]["points"],
             "是" if r["total"]["complete"] else "否"] for r in table["regions"]]
    return xlsx_response(f"{table['year']}年度各地区绩效自评得分（企业培训）.xlsx", [("各地区得分", headers, rows)],
                         ascii_name=f"evaluation-all-regions-{table['year']}.xlsx")


# ---- 附1-2 ---------------------------------------------------------------------------------

def class_plan_xlsx(plan):
    """The layout of 附1-2: title line, 序号 / 时间 / 班级名称 / 培训内容 / 培训机构 / 学员数(人) (名额, 确认参训)."""
    form = FormSheet(title="培训班次计划")
    form.put(1, 1, "附1-2", align="left")
    form.put(2, 1, plan["title"], to=(2, 7), bold=True, size=14)
    form.put(3, 1, f"填报地区：{plan['region_name']}", to=(3, 7), align="left")
    for column, header in enumerate(("序号", "时间", "班级名称", "培训内容", "培训机构"), start=1):
        form.put(4, column, header, to=(5, column), bold=True)
    form.put(4, 6, "学员数(人)", to=(4, 7), bold=True)
    form.put(5, 6, "名额", bold=True)
    form.put(5, 7, "确认参训", bold=True)
    row = 5
    for row, item in enumerate(plan["classes"], start=6):
        for column, value in enumerate((item["number"], item["period"], item["class_name"],
                                        "、".join(item["content_areas"]), item["institution"] or "",
                                        item["places"], item["confirmed"]), start=1):
            form.put(row, column, value)
    form.bordered.append(f"A4:G{row}")
    form.put(row + 2, 5, "单位(盖章)", to=(row + 2, 7), align="right")
    form.put(row + 3, 5, "年　月　日", to=(row + 3, 7), align="right")
    form.column_widths.update({1: 6, 2: 18, 3: 32, 4: 30, 5: 26, 6: 8, 7: 10})
    region = f"-{plan['region_code']}" if plan.get("region_code") else ""
    return form_xlsx_response(f"{plan['region_name']}-{plan['year']}年度专精特新“小巨人”培训班次计划.xlsx", [form],
                              ascii_name=f"class-plan{region}-{plan['year']}.xlsx")


# ---- 附1-3 ---------------------------------------------------------------------------------

GENDER = {"male": "男", "female": "女"}
IPO_STAGE_TICKS = {"planning": "未股改", "tutoring": "已股改", "filed": "已提交申请"}
# The form's recognised titles; ours that it has no line for go under 10. 其他.
FORM_TITLES = (("制造业单项冠军企业", "单项冠军"), ("高新技术企业", "高新技术企业"), ("技术创新示范企业", "技术创新示范企业"),
               ("工业企业知识产权运用试点企业", None), ("智能制造试点示范企业", None), ("绿色工厂", "绿色工厂"),
               ("质量标杆", "质量标杆"), ("《产业基础领域先进技术产品转化应用目录》入编企业", None),
               ("是否享受过国家首台（套）重大技术装备保险补偿试点政策", None))
PHOTO_BOX = (96, 132)  # pixels shown: a 1-inch photo (25 x 35 mm) at 96 dpi
PHOTO_STORED = (240, 330)  # pixels kept, for printing


def _tick(flag):
    return "☑" if flag else "☐"


def _listing(enterprise):
    plan = enterprise.get("ipo_plan") or {}
    stage, board = plan.get("stage"), plan.get("board")
    planning = stage in IPO_STAGE_TICKS
    stages = "".join(f"{_tick(stage_key == stage)}{label} " for stage_key, label in IPO_STAGE_TICKS.items())
    boards = (f"上交所：{_tick(False)}主板 {_tick(board == 'star')}科创板　深交所：{_tick(False)}主板 "
              f"{_tick(board == 'chinext')}创业板　{_tick(board == 'bse')}北交所")
    other = {"main": "主板（未注明交易所）", "neeq": "新三板", "hk": "香港联交所", "overseas": "境外"}.get(board)
    return (f"{_tick(enterprise.get('listed'))}是 {_tick(not enterprise.get('listed'))}否　"
            f"三年内有无上市计划（{_tick(planning)}有/{_tick(not planning)}无），如有，请填写：\n"
            f"1. 上市进程：{stages.strip()}\n2. 拟上市板块：{boards}" + (f"\n其他板块：{other}" if other else ""))


def _titles(enterprise):
    held = set(enterprise.get("titles") or ())
    lines = [f"{n}. {label} {_tick(ours in held)}" for n, (label, ours) in enumerate(FORM_TITLES, start=1)]
    known = {ours for _, ours in FORM_TITLES if ours}
    others = [t for t in enterprise.get("titles") or () if t not in known]
    lines.append(f"10. 其他 {_tick(others)}" + (f"（{'、'.join(others)}）" if others else ""))
    return "\n".join(lines)


def _shown_size(picture):
    """The picture's size on the sheet: inside the 1-inch photo box, proportions kept."""
    with Image.open(io.BytesIO(picture)) as image:
        w, h = image.size
    scale = min(PHOTO_BOX[0] / w, PHOTO_BOX[1] / h)
    return round(w * scale), round(h * scale)


def _form_sheet(title, trainee, class_name):
    """One trainee's 专精特新“小巨人”培训学员信息表 on columns A–G; the photo in G2:G6."""
    f = FormSheet(title=title)
    f.put(1, 1, "专精特新“小巨人”培训学员信息表", to=(1, 7), bold=True, size=14)
    f.put(2, 1, f"班级：{class_name}　地区：{trainee['region_name']}", to=(2, 7), align="left")
    r = 3
    pairs = (("姓　名", trainee["name"], "性　别", GENDER.get(trainee["gender"], "")),
             ("政治面貌", trainee["political_status"], "民　族", trainee["ethnicity"]),
             ("身份证号码", trainee["id_number"], None, None),
             ("手　机", trainee["mobile"], "电子邮箱", trainee["email"]),
             ("现任职务", trainee["position"], "管理经验年限",
              "" if trainee["management_years"] is None else f"{trainee['management_years']}年"))
    for label, value, label2, value2 in pairs:
        f.put(r, 1, label, bold=True)
        if label2 is None:
            f.put(r, 2, value or "", to=(r, 6))
        else:
            f.put(r, 2, value or "", to=(r, 3))
            f.put(r, 4, label2, bold=True)
            f.put(r, 5, value2 or "", to=(r, 6))
        f.row_heights[r] = 26
        r += 1
    picture = None
    if trainee["photo"]:
        picture = fitted_jpeg(trainee["photo"][0], width=PHOTO_STORED[0], height=PHOTO_STORED[1])
    if picture is not None:
        width, height = _shown_size(picture)
        f.put(3, 7, "", to=(7, 7))
        f.picture(3, 7, picture, width=width, height=height)
    else:
        f.put(3, 7, "照片无法读取" if trainee["photo"] else "照片", to=(7, 7))
    f.put(r, 1, "通讯地址", bold=True)
    f.put(r, 2, trainee["address"] or "", to=(r, 7), align="left")
    r += 1
    f.put(r, 1, "教育背景（最高学历）", to=(r, 7), bold=True)
    r += 1
    for column, to, header in ((1, 2, "毕业院校"), (3, 4, "起止时间"), (5, 6, "专　业"), (7, 7, "学历/学位")):
        f.put(r, column, header, to=(r, to), bold=True)
    for item in trainee["education"] or [{}]:
        r += 1
        period = f"{item['start']}—{item.get('end') or '至今'}" if item.get("start") else ""
        for column, to, value in ((1, 2, item.get("school", "")), (3, 4, period), (5, 6, item.get("major", "")),
                                  (7, 7, item.get("degree", ""))):
            f.put(r, column, value, to=(r, to))
    r += 1
    f.put(r, 1, "社会职务（请列出你所担任的社会职务或其他兼职，如人大代表、政协委员，或在协会团体中担任的职务）",
          to=(r, 7), bold=True)
    f.row_heights[r] = 30
    r += 1
    for column, to, header in ((1, 3, "团体"), (4, 5, "参加时间"), (6, 7, "职务")):
        f.put(r, column, header, to=(r, to), bold=True)
    for position in trainee["social_positions"] or [""]:
        r += 1
        f.put(r, 1, position, to=(r, 7), align="left")  # stored as one line each: 团体 and 职务 together
    r += 1
    f.put(r, 1, "个人荣誉和奖励", bold=True)
    f.put(r, 2, "；".join(trainee["honours"]), to=(r, 7), align="left")
    r += 1
    f.put(r, 1, "企业情况", to=(r, 7), bold=True)
    enterprise = trainee["enterprise"]
    r += 1
    f.put(r, 1, "企业名称", bold=True)
    f.put(r, 2, enterprise.get("name") or "", to=(r, 4))
    f.put(r, 5, "公司网址", bold=True)
    f.put(r, 6, enterprise.get("website") or "", to=(r, 7))
    r += 1
    f.put(r, 1, "企业组织机构代码（统一社会信用代码）", bold=True)
    f.put(r, 2, enterprise.get("credit_code") or "", to=(r, 7))
    f.row_heights[r] = 30
    r += 1
    f.put(r, 1, "是否上市", bold=True)
    f.put(r, 2, _listing(enterprise), to=(r, 7), align="left")
    f.row_heights[r] = 70
    r += 1
    f.put(r, 1, "获得相关部门认定的称号", bold=True)
    f.put(r, 2, _titles(enterprise), to=(r, 7), align="left")
    f.row_heights[r] = 170
    f.bordered.append(f"A3:G{r}")
    r += 1
    f.put(r, 1, "以上所填内容和提交资料均准确、真实、合法、有效、无涉密信息。\n签字：\n企业(盖章)：\n日期：　　年　　月　　日",
          to=(r, 4), align="left")
    f.put(r, 5, "主管部门(盖章)：\n\n日期：　　年　　月　　日", to=(r, 7), align="left")
    f.row_heights[r] = 80
    f.bordered.append(f"A{r}:G{r}")
    f.column_widths.update({1: 16, 2: 12, 3: 12, 4: 14, 5: 12, 6: 14, 7: 16})
    return f


def trainee_forms_xlsx(result):
    """An index sheet (目录) and one sheet per confirmed trainee, named 序号-姓名."""
    class_doc, forms = result["class"], result["forms"]
    index = FormSheet(title="目录")
    for column, header in enumerate(("序号", "姓名", "地区", "企业名称", "工作表", "照片"), start=1):
        index.put(1, column, header, bold=True)
    sheets, taken = [], ["目录"]
    for number, trainee in enumerate(forms, start=1):
        title = sheet_title(f"{number:02d}-{trainee['name'] or '学员'}", taken)
        taken.append(title)
        sheets.append(_form_sheet(title, trainee, class_doc["name"]))
        for column, value in enumerate((number, trainee["name"] or "", trainee["region_name"],
                                        trainee["enterprise"].get("name") or "", title,
                                        "有" if trainee["photo"] else "无"), start=1):
            index.put(number + 1, column, value)
    index.column_widths.update({1: 6, 2: 12, 3: 14, 4: 34, 5: 16, 6: 6})
    region = f"-{regions.name_of(result['region_code'])}" if result["region_code"] else ""
    ascii_region = f"-{result['region_code']}" if result["region_code"] else ""
    return form_xlsx_response(f"{class_doc['name']}{region}-学员信息表.xlsx", [index, *sheets],
                              ascii_name=f"trainee-forms-{class_doc['_id']}{ascii_region}.xlsx")
