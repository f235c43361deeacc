"""The 附件5 training-row rules on hand-computed figures, both sides of every threshold."""

import pytest
from bson import ObjectId

from service.evaluation import scoring


@pytest.mark.parametrize("trained, in_registry, target, points, says", [
    (4, 10, 0.4, 5, "大于等于目标值40%，且大于30%，得满分"),        # 40% = target, above 30%
    (4, 10, 0.35, 5, "大于等于目标值35%"),                            # above target
    (4, 10, 0.5, 2, "低于目标值50%，但大于30%，得2分"),               # below target, above 30%
    (3, 10, 0.25, 0, "实际完成值30%不大于30%，得零分"),               # exactly 30%: (1)(2) need > 30%
    (3, 10, 0.3, 0, "不大于30%"),                                     # exactly 30% meeting a 30% target: still 0
    (3001, 10000, 0.3, 5, "实际完成值30.01%大于等于目标值30%"),      # just above 30%
    (2, 10, 0.1, 0, "不大于30%"),                                     # below 30% though above target
    (4, 10, None, None, "未设定绩效目标"),                              # no target: cannot tell 5 from 2
    (2, 10, None, 0, "不大于30%"),                                    # no target, but ≤ 30% is 0 anyway
    (0, 0, 0.3, None, "名录中没有本地区"),                            # nothing to divide by
])
def test_little_giant_share(trained, in_registry, target, points, says):
    row = scoring.little_giant_share(trained=trained, in_registry=in_registry, target=target)
    assert row["points"] == points and says in row["rule"], row["rule"]
    assert row["base_points"] == 5 and row["indicator"] == "本批次“小巨人”企业培训占本地“小巨人”企业总数比例"


def test_share_is_compared_exactly_not_rounded():
    """2/3 shown as 66.67% but compared as 2/3: a 0.6667 target is not met (2/3 = 0.66666…)."""
    row = scoring.little_giant_share(trained=2, in_registry=3, target=0.6667)
    assert (row["points"], row["actual"], row["actual_text"]) == (2, 0.6667, "66.67%（2/3家）")


@pytest.mark.parametrize("key, actual, target, points, says", [
    ("little_giants", 12, 12, 5, "实际完成值12个大于等于目标值12个，得满分"),
    ("little_giants", 11, 12, 0, "实际完成值11个低于目标值12个，得零分"),
    ("classes", 3, 2, 5, "得满分"),
    ("classes", 0, 1, 0, "得零分"),
    ("classes", 4, None, None, "未设定绩效目标"),
])
def test_counts_against_target(key, actual, target, points, says):
    row = scoring.count_against_target(key, actual=actual, target=target, unit="个")
    assert row["points"] == points and says in row["rule"], row["rule"]


def _class(name, areas, session_areas=()):
    return {"_id": ObjectId(), "name": name, "start_date": "2026-05-06", "content_areas": list(areas),
            "sessions": [{"content_area": a} for a in session_areas]}


def test_content_gap():
    full = ("科学理论", "形势政策", "经营管理")
    assert scoring.content_gap(_class("甲", full)) is None  # no timetable yet: the declared content decides
    assert scoring.content_gap(_class("乙", full, ("科学理论", "形势政策", None))) is None
    gap = scoring.content_gap(_class("丙", ("经营管理", "形势政策")))
    assert (gap["missing_areas"], gap["reason"]) == (["科学理论"], "培训内容未列明科学理论")
    gap = scoring.content_gap(_class("丁", full, ("科学理论", "经营管理")))
    assert (gap["missing_areas"], gap["reason"]) == (["形势政策"], "课表中没有形势政策课程")


def test_course_content():
    assert scoring.course_content(classes=3, gaps=[])["points"] == 5
    gap = scoring.content_gap(_class("第二期 数字化专题班", ("经营管理",)))
    row = scoring.course_content(classes=3, gaps=[gap])
    assert row["points"] == 0 and "第二期 数字化专题班" in row["rule"] and row["actual_text"].startswith("2/3")
    assert scoring.course_content(classes=0, gaps=[])["points"] is None


@pytest.mark.parametrize("reviewed, pending, trainees, complete, points, says", [
    (5, 0, 3, 3, 5, "报名全部完成资格审核，得2.5分；参训学员培训档案全部完整，得2.5分"),
    (4, 1, 3, 3, 2.5, "尚有1份报名未完成资格审核"),
    (5, 0, 3, 2, 2.5, "尚有1名学员培训档案不完整"),
    (4, 1, 3, 2, 0, "尚有1份报名未完成资格审核，该项(占50%)得零分；尚有1名"),
    (2, 0, 0, 0, 2.5, "尚无确认参训学员"),
    (0, 0, 0, 0, None, "没有需要审核的报名"),
])
def test_trainee_management(reviewed, pending, trainees, complete, points, says):
    row = scoring.trainee_management(reviewed=reviewed, pending=pending, trainees=trainees,
                                     archives_complete=complete)
    assert row["points"] == points and says in row["rule"], row["rule"]


@pytest.mark.parametrize("satisfied, scores, target, points, says", [
    (19, 20, 0.95, 5, "大于等于目标值95%，且高于90%，得满分"),   # 95% = target
    (91, 100, 0.9, 5, "高于90%，得满分"),                        # just above 90%, target met
    (18, 20, 0.95, 3, "低于目标值95%，但高于或等于90%，得3分"),  # exactly 90%, below target
    (18, 20, 0.9, 3, "达到目标值90%但不高于90%"),                # exactly 90% meeting a 90% target
    (92, 100, 0.95, 3, "低于目标值95%"),
    (89, 100, 0.85, 0, "低于90%，得零分"),                        # below 90% though above target
    (179, 200, 0.8, 0, "89.5%低于90%"),
    (19, 20, None, None, "未设定绩效目标"),
    (0, 0, 0.9, None, "尚无班级满意度评价"),
])
def test_satisfaction(satisfied, scores, target, points, says):
    row = scoring.satisfaction(satisfied_scores=satisfied, scores=scores, target=target)
    assert row["points"] == points and says in row["rule"], row["rule"]


def test_total_counts_scored_rows_and_says_whether_complete():
    rows = [{"points": 5}, {"points": 2.5}, {"points": None}, {"points": 0}]
    assert scoring.total(rows) == (7.5, False)
    assert scoring.total([{"points": 5}, {"points": 3}]) == (8, True)
