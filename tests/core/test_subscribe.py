"""Subscribe message values built to WeChat's rules per key type, and checked by the same rules."""

import datetime as dt

import pytest

from service.core import subscribe

UTC = dt.timezone.utc


def at(day, clock):
    """A Beijing wall-clock time as the stored UTC datetime."""
    hour, minute = map(int, clock.split(":"))
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=subscribe.BEIJING).astimezone(UTC)


def test_the_issue_values_are_refused_by_the_check():
    faults = subscribe.check({"time3": {"value": "12-02 08:30至12-02 12"}, "phrase2": {"value": "已录取，待"}})
    assert set(faults) == {"time3", "phrase2"}


@pytest.mark.parametrize("value, expected", [
    ((at(2, "08:30"), at(2, "12:00")), "2026年12月2日 08:30~12:00"),
    ((at(2, "08:30"), at(5, "17:30")), "2026年12月2日 08:30~2026年12月5日 17:30"),
    (at(2, "23:59"), "2026年12月2日 23:59"),
    ((dt.datetime(2026, 12, 1, 16, 30, tzinfo=UTC), dt.datetime(2026, 12, 1, 17, 0, tzinfo=UTC)),
     "2026年12月2日 00:30~01:00"),  # the Beijing day, not the UTC one
])
def test_time_values_are_whole_and_use_a_tilde_for_ranges(value, expected):
    assert subscribe.build({"time3": value}) == {"time3": {"value": expected}}
    assert subscribe.check({"time3": {"value": expected}}) == {}


@pytest.mark.parametrize("value, expected", [
    (dt.date(2026, 12, 2), "2026年12月2日"),
    ((dt.date(2026, 12, 2), dt.date(2026, 12, 5)), "2026年12月2日~2026年12月5日"),
])
def test_date_values(value, expected):
    assert subscribe.build({"date1": value})["date1"]["value"] == expected


@pytest.mark.parametrize("text, expected", [
    ("第一期 专精特新发展专题班", "第一期 专精特新发展专题班"),
    ("2026年中小企业经营管理领军人才培训第一期专精特新", "2026年中小企业经营管理领军人才培训…"),
    ("出勤率62.5%，结业要求80.0%还差很多", "出勤率62.5%，结业要求80.0%还…"),
    ("SME Leadership Programme Spring Class", "SME Leadership…"),
    ("阿依古丽·买买提请假已批准", "阿依古丽·买买提请假已批准"),
    ("请假\n理由：\t发烧", "请假 理由： 发烧"),
    ("第一期（北京）专精特新发展专题班，欢迎参加", "第一期（北京）专精特新发展专题班，欢迎…"),
])
def test_thing_is_shortened_at_a_word_with_an_ellipsis(text, expected):
    built = subscribe.build({"thing1": text})["thing1"]["value"]
    assert built == expected
    assert len(built) <= 20 and subscribe.check({"thing1": {"value": built}}) == {}


def test_a_number_or_word_is_never_cut_in_the_middle():
    assert subscribe.shorten("培训出勤统计：本期出勤率 87.50% 达标", 20) == "培训出勤统计：本期出勤率 87.50%…"
    assert subscribe.shorten("培训出勤统计：本期出勤率为 87.50% 达标", 20) == "培训出勤统计：本期出勤率为…"
    assert subscribe.shorten("课程时间 2026-12-02 08:30 开始", 20) == "课程时间 2026-12-02…"


@pytest.mark.parametrize("key, value", [
    ("phrase2", "已录取，待确认"),  # punctuation and too long
    ("phrase2", "已录取待"),  # not in the fixed list
    ("character_string1", "编号123"),
    ("character_string1", "A" * 33),
    ("number1", "12a"),
    ("name1", "阿依古丽·买买提·艾力克木"),
    ("thing1", ""),
    ("nokey", "x"),
])
def test_values_a_type_cannot_shorten_are_refused_not_cut(key, value):
    with pytest.raises(subscribe.MessageValueError) as refused:
        subscribe.build({key: value})
    assert refused.value.key == key


@pytest.mark.parametrize("key, value", [
    ("phrase2", "已录取"), ("character_string1", "LJ-2026-0001"), ("number1", 12.5), ("number2", 3),
    ("name1", "阿依古丽·买买提"), ("name2", "Jean-Luc Picard"), ("amount1", "¥25000.00元"),
    ("phone_number1", "+86 139-0000-0001"), ("letter1", "ABC"), ("symbol1", "★"), ("car_number1", "京A12345"),
])
def test_values_that_fit_are_kept(key, value):
    data = subscribe.build({key: value})
    assert subscribe.check(data) == {}


@pytest.mark.parametrize("data", [
    {"time1": {"value": "12-02 08:30至12-02 12"}},
    {"time1": {"value": "2026年12月2日 25:00"}},
    {"date1": {"value": "2026.12.02"}},
    {"thing1": {"value": "字" * 21}},
    {"thing1": {"value": "含\u0000控制字符"}},
    {"phrase1": {"value": "很好"}},
    {"thing1": "not a dict"},
    {},
])
def test_the_check_refuses_what_wechat_refuses(data):
    assert subscribe.check(data)
