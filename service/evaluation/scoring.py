"""Scoring of the training rows (企业培训) of the performance table of notice 243, 附件5.

Pure functions: figures in, rows out. Shares are compared exactly (fractions of the counts, never
the rounded shares shown), so a share of 3001/10000 is above 30% and 3/10 is not.

How the garbled table in the notice was read (its columns slid in the published text):
- six training rows of 5 points (30 of the table's 100; the other sections add up to 70 only with
  the 课程内容 row, which the text prints in the 评价内容 column beside the enterprise count);
- the rule printed beside the enterprise count ("课程内设置符合要求的，得满分") is the course-content
  rule; the enterprise count takes the rule of the class count below it (target met or not);
- the thresholds: 30% must be exceeded for any points (rules (1) and (2) both say "大于30%", so
  exactly 30% scores 0); 90% exactly scores 3 (rule (2) "高于或等于90%"), and full marks need a
  rate above 90% — a rate of exactly 90% that meets a target of 90% or less fits neither printed
  rule literally, and is given the 3 points of the band it lies in.
"""

from fractions import Fraction

from service.classes.rules import LITTLE_GIANT_REQUIRED_AREAS

CONTENT = "企业培训"
SHARE_FLOOR = Fraction(3, 10)
SATISFACTION_FLOOR = Fraction(9, 10)

STANDARDS = {
    "little_giant_share": "(1)实际完成值大于等于目标值，且大于30%的，得满分。(2)实际完成值低于目标值，但大于30%的，得2分。"
                          "(3)实际完成值低于30%的，得分为零。",
    "little_giants": "(1)实际完成值大于等于目标值的，得满分。(2)实际完成值低于目标值的，得零分。",
    "course_content": "课程内设置符合要求的，得满分；其他情况不得分。",
    "classes": "(1)实际完成值大于等于目标值的，得满分。(2)实际完成值低于目标值的，得零分。",
    "trainee_management": "(1)对报名学员进行资格审核，确保学员符合培训要求。(占50%，不符合的得分为零)"
                          "(2)为学员建立培训档案。(占50%，不符合的得分为零)",
    "satisfaction": "(1)实际完成值大于等于目标值，且高于90%的得满分。(2)实际完成值低于目标值，但高于或等于90%的，得3分。"
                    "(3)实际完成值低于90%的，得零分。",
}
INDICATORS = {
    "little_giant_share": "本批次“小巨人”企业培训占本地“小巨人”企业总数比例",
    "little_giants": "本批次培训“小巨人”企业数量(个)",
    "course_content": "课程内容",
    "classes": "培训班数(个)",
    "trainee_management": "培训学员管理",
    "satisfaction": "服务满意度",
}
ROW_KEYS = tuple(INDICATORS)
BASE_POINTS = 5
TRAINING_TOTAL = BASE_POINTS * len(ROW_KEYS)


def percent(value):
    """0.6667 / Fraction(2, 3) -> "66.67%"; None -> ""."""
    if value is None:
        return ""
    return f"{float(value) * 100:.2f}".rstrip("0").rstrip(".") + "%"


def exact(value):
    """A stored decimal (0.3) as the exact fraction it was typed as, not the float's binary value."""
    return None if value is None else Fraction(str(value))


def _row(key, *, target, target_text, actual, actual_text, points, rule):
    return {"key": key, "content": CONTENT, "indicator": INDICATORS[key], "base_points": BASE_POINTS,
            "target": target, "target_text": target_text, "actual": actual, "actual_text": actual_text,
            "standard": STANDARDS[key], "points": points, "rule": rule}


def little_giant_share(*, trained, in_registry, target):
    share = Fraction(trained, in_registry) if in_registry else None
    actual = None if share is None else round(float(share), 4)
    actual_text = f"{percent(share)}（{trained}/{in_registry}家）" if share is not None else f"无法计算（{trained}/0家）"
    goal = exact(target)
    if share is None:
        points, rule = None, "名录中没有本地区有效期内的“小巨人”企业，无法计算比例，暂不评分"
    elif share <= SHARE_FLOOR:
        points, rule = 0, f"实际完成值{percent(share)}不大于30%，得零分（第(3)项）"
    elif goal is None:
        points, rule = None, "未设定绩效目标，暂不评分"
    elif share >= goal:
        points, rule = 5, f"实际完成值{percent(share)}大于等于目标值{percent(goal)}，且大于30%，得满分（第(1)项）"
    else:
        points, rule = 2, f"实际完成值{percent(share)}低于目标值{percent(goal)}，但大于30%，得2分（第(2)项）"
    return _row("little_giant_share", target=target, target_text=percent(goal), actual=actual,
                actual_text=actual_text, points=points, rule=rule)


def count_against_target(key, *, actual, target, unit):
    if target is None:
        points, rule = None, "未设定绩效目标，暂不评分"
    elif actual >= target:
        points, rule = 5, f"实际完成值{actual}{unit}大于等于目标值{target}{unit}，得满分（第(1)项）"
    else:
        points, rule = 0, f"实际完成值{actual}{unit}低于目标值{target}{unit}，得零分（第(2)项）"
    return _row(key, target=target, target_text="" if target is None else f"{target}{unit}", actual=actual,
                actual_text=f"{actual}{unit}", points=points, rule=rule)


def content_gap(class_doc):
    """What a class lacks of the content every 小巨人 class must have (notice 243 附件1: 科学理论 and
    形势政策): areas its 培训内容 does not list, and, once it has a timetable, areas none of its
    sessions teaches. None when nothing is missing."""
    declared = set(class_doc.get("content_areas") or ())
    sessions = class_doc.get("sessions") or []
    taught = {s.get("content_area") for s in sessions}
    not_declared = [a for a in LITTLE_GIANT_REQUIRED_AREAS if a not in declared]
    not_taught = [a for a in LITTLE_GIANT_REQUIRED_AREAS if sessions and a not in taught]
    if not (not_declared or not_taught):
        return None
    reasons = ([f"培训内容未列明{'、'.join(not_declared)}"] if not_declared else []) + \
              ([f"课表中没有{'、'.join(not_taught)}课程"] if not_taught else [])
    return {"class_id": class_doc["_id"], "class_name": class_doc.get("name"),
            "start_date": class_doc.get("start_date"),
            "missing_areas": [a for a in LITTLE_GIANT_REQUIRED_AREAS if a in not_declared or a in not_taught],
            "reason": "；".join(reasons)}


def course_content(*, classes, gaps):
    """`classes`: how many classes of the region's plan were checked; `gaps`: content_gap of those failing."""
    compliant = classes - len(gaps)
    actual_text = f"{compliant}/{classes}个班次包含科学理论和形势政策"
    if not classes:
        points, rule = None, "本年度没有本地区有名额的班次，暂不评分"
    elif not gaps:
        points, rule = 5, f"全部{classes}个班次均包含科学理论和形势政策内容，得满分"
    else:
        names = "、".join(g["class_name"] or "" for g in gaps)
        points, rule = 0, f"{len(gaps)}个班次缺少科学理论或形势政策内容（{names}），不得分"
    return _row("course_content", target=None, target_text="每期均含科学理论和形势政策", actual=compliant,
                actual_text=actual_text, points=points, rule=rule)


def trainee_management(*, reviewed, pending, trainees, archives_complete):
    """Half the points when every registrant was reviewed, half when every trainee has a complete archive."""
    to_review = reviewed + pending
    actual_text = f"资格审核{reviewed}/{to_review}份；培训档案{archives_complete}/{trainees}人"
    if not to_review:
        return _row("trainee_management", target=None, target_text="全部审核、全部建档", actual=None,
                    actual_text=actual_text, points=None, rule="本年度没有需要审核的报名，暂不评分")
    review_points = 2.5 if not pending else 0
    review_rule = ("报名全部完成资格审核，得2.5分" if not pending else f"尚有{pending}份报名未完成资格审核，该项(占50%)得零分")
    archived = trainees > 0 and archives_complete == trainees
    archive_points = 2.5 if archived else 0
    if archived:
        archive_rule = "参训学员培训档案全部完整，得2.5分"
    elif not trainees:
        archive_rule = "尚无确认参训学员的培训档案，该项(占50%)得零分"
    else:
        archive_rule = f"尚有{trainees - archives_complete}名学员培训档案不完整，该项(占50%)得零分"
    points = review_points + archive_points
    return _row("trainee_management", target=None, target_text="全部审核、全部建档", actual=None,
                actual_text=actual_text, points=int(points) if points == int(points) else points,
                rule=f"{review_rule}；{archive_rule}")


def satisfaction(*, satisfied_scores, scores, target):
    rate = Fraction(satisfied_scores, scores) if scores else None
    goal = exact(target)
    actual = None if rate is None else round(float(rate), 4)
    actual_text = f"{percent(rate)}（{satisfied_scores}/{scores}项评分满意）" if rate is not None else "尚无评价"
    if rate is None:
        points, rule = None, "尚无班级满意度评价，暂不评分"
    elif rate < SATISFACTION_FLOOR:
        points, rule = 0, f"实际完成值{percent(rate)}低于90%，得零分（第(3)项）"
    elif goal is None:
        points, rule = None, "未设定绩效目标，暂不评分"
    elif rate >= goal and rate > SATISFACTION_FLOOR:
        points, rule = 5, f"实际完成值{percent(rate)}大于等于目标值{percent(goal)}，且高于90%，得满分（第(1)项）"
    elif rate < goal:
        points, rule = 3, f"实际完成值{percent(rate)}低于目标值{percent(goal)}，但高于或等于90%，得3分（第(2)项）"
    else:
        points, rule = 3, (f"实际完成值{percent(rate)}达到目标值{percent(goal)}但不高于90%（满分须高于90%），"
                           "按高于或等于90%得3分")
    return _row("satisfaction", target=target, target_text=percent(goal), actual=actual, actual_text=actual_text,
                points=points, rule=rule)


def training_rows(*, kpis, targets, plan_classes, content_gaps):
    """The six training rows from a region-year KPI row (service.reports), the region's targets (or
    None) and the course-content check of its planned classes."""
    targets = targets or {}
    giants, review, archives, rated = kpis["little_giants"], kpis["review"], kpis["archives"], kpis["satisfaction"]
    return [
        little_giant_share(trained=giants["trained"], in_registry=giants["in_registry"],
                           target=targets.get("little_giant_share")),
        count_against_target("little_giants", actual=giants["trained"], target=targets.get("little_giants"),
                             unit="个"),
        course_content(classes=plan_classes, gaps=content_gaps),
        count_against_target("classes", actual=kpis["classes_held"], target=targets.get("classes"), unit="个"),
        trainee_management(reviewed=review["reviewed"], pending=review["pending"], trainees=archives["trainees"],
                           archives_complete=archives["complete"]),
        satisfaction(satisfied_scores=rated["satisfied_scores"], scores=rated["scores"],
                     target=targets.get("satisfaction")),
    ]


def total(rows):
    """(points of the rows scored, whether every row could be scored)."""
    scored = [r["points"] for r in rows if r["points"] is not None]
    points = sum(scored)
    return (int(points) if points == int(points) else points), len(scored) == len(rows)
