"""WeChat subscribe message values (订阅消息 `data`): one builder that knows WeChat's rules per key type.

A template's keys name their type (`thing1`, `time3`, `phrase2`); WeChat refuses a value that breaks
its type's rule with errcode 47003 ("argument invalid"), and retrying never helps. The rules
(WeChat's "订阅消息参数值内容限制说明"):

    thing             at most 20 characters: Chinese, digits, letters or symbols
    number            at most 32 digits, may have a decimal point
    letter            at most 32 letters
    symbol            at most 5 symbols
    character_string  at most 32 digits, letters or symbols (no Chinese)
    time              a 24-hour time, optionally with its date; a range joins two times with "~"
    date              a date, optionally with a 24-hour time; a range joins two dates with "~"
    amount            a currency sign and at most 12 digits with decimals, may end with 元
    phone_number      at most 17 digits and symbols
    car_number        at most 8: first and last may be Chinese, the rest letters or digits
    name              at most 10 Chinese characters, or at most 20 letters or symbols
    phrase            at most 5 Chinese characters (we use a fixed list, PHRASES)

`build` turns plain values (text, datetimes, (start, end) pairs, numbers) into `data`: text for
`thing` is shortened at a word boundary with "…", never in the middle of a number, word or time;
a value that a type cannot shorten (name, phrase, character_string, number...) raises
MessageValueError instead of being cut. `check` is the same rules as a validator: the fake WeChat
answers 47003 with it, so tests see what WeChat would do.
"""

import datetime as dt
import re
import unicodedata
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")
ELLIPSIS = "…"

# Every phrase the service sends (phrase keys take at most 5 Chinese characters, no punctuation).
PHRASES = frozenset({
    "已提交", "已退回", "已推荐", "未通过", "已录取", "候补", "已确认", "已撤回", "已取消",  # registrations
    "已批准", "未批准", "已销假", "待审批",  # leave
    "出勤不足", "已结业", "已撤销",  # completion
})

LIMITS = {"thing": 20, "number": 32, "letter": 32, "symbol": 5, "character_string": 32, "phone_number": 17,
          "car_number": 8, "phrase": 5}

_KEY = re.compile(r"^([a-z_]+?)(\d+)$")
_CLOCK = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?"
_DAY = r"(?:\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}|\d{1,2}月\d{1,2}日)"
_TIME_POINT = rf"(?:{_DAY} ?)?{_CLOCK}"
_DATE_POINT = rf"{_DAY}(?: {_CLOCK})?"
PATTERNS = {
    "time": re.compile(rf"^{_TIME_POINT}(?:~{_TIME_POINT})?$"),
    "date": re.compile(rf"^{_DATE_POINT}(?:~{_DATE_POINT})?$"),
    "number": re.compile(r"^-?\d+(?:\.\d+)?$"),
    "letter": re.compile(r"^[A-Za-z]+$"),
    "symbol": re.compile(r"^[^\w\s]+$"),
    "character_string": re.compile(r"^[\x21-\x7e]+$"),
    "amount": re.compile(r"^[¥￥$€£]?\d{1,12}(?:\.\d{1,2})?元?$"),
    "phone_number": re.compile(r"^[\d+\-() ]+$"),
    "car_number": re.compile(r"^[\u4e00-\u9fff]?[A-Z0-9]+[\u4e00-\u9fff]?$"),
    "phrase": re.compile(r"^[\u4e00-\u9fff]+$"),
    "name": re.compile(r"^(?:[\u4e00-\u9fff\U00020000-\U0003ffff·]{1,10}|[A-Za-z .\-'·]{1,20})$"),
}


class MessageValueError(ValueError):
    """A value this key type cannot carry (and may not be shortened)."""

    def __init__(self, key, reason):
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


def key_type(key):
    match = _KEY.match(key)
    if match is None:
        raise MessageValueError(key, "key is not <type><number>")
    return match.group(1)


def check_value(kind, text):
    """The reason `text` breaks WeChat's rule for `kind`, or None."""
    if not isinstance(text, str) or not text:
        return "empty"
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in text):
        return "control character"
    limit = LIMITS.get(kind)
    if limit is not None and len(text) > limit:
        return f"longer than {limit}"
    pattern = PATTERNS.get(kind)
    if pattern is not None and not pattern.match(text):
        return f"not a {kind}"
    if kind == "phrase" and text not in PHRASES:
        return "not in the phrase list"
    return None


def check(data):
    """{key: reason} for every value of a subscribe-message `data` WeChat would refuse."""
    faults = {}
    if not isinstance(data, dict) or not data:
        return {"data": "empty"}
    for key, item in data.items():
        value = item.get("value") if isinstance(item, dict) else None
        try:
            kind = key_type(key)
        except MessageValueError as exc:
            faults[key] = exc.reason
            continue
        reason = check_value(kind, value)
        if reason:
            faults[key] = reason
    return faults


# ---------------------------------------------------------------- building values

def _one_line(text):
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in str(text))
    return re.sub(r"\s+", " ", text).strip()


def _word_char(char):
    return char.isascii() and (char.isalnum() or char in ".:%-_/@")


def shorten(text, limit):
    """`text` in at most `limit` characters: cut at a word boundary and end with "…".

    Chinese characters are words of their own; a run of ASCII letters, digits and the marks inside
    numbers and times (12.5%, 08:30, 2024-12-02) is one word and is never split.
    """
    text = _one_line(text)
    if len(text) <= limit:
        return text
    cut = limit - 1
    while cut > 0 and (unicodedata.category(text[cut])[0] == "M"
                       or (_word_char(text[cut]) and _word_char(text[cut - 1]))):
        cut -= 1
    head = text[:cut].rstrip(" ，,。.、；;：:（(“\"'-—")
    if not head:  # one word longer than the limit: nothing readable to keep whole
        head = text[:limit - 1]
    return head + ELLIPSIS


def _beijing(moment):
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(BEIJING)


def _day(day):
    return f"{day.year}年{day.month}月{day.day}日"


def format_time(value):
    """A datetime (stored UTC) or a (start, end) pair as WeChat `time`: 2024年12月2日 08:30~12:00."""
    if isinstance(value, (tuple, list)):
        start, end = (_beijing(v) for v in value)
        tail = f"{end:%H:%M}" if start.date() == end.date() else f"{_day(end)} {end:%H:%M}"
        return f"{_day(start)} {start:%H:%M}~{tail}"
    moment = _beijing(value)
    return f"{_day(moment)} {moment:%H:%M}"


def format_date(value):
    """A date or a (first, last) pair as WeChat `date`: 2024年12月2日~2024年12月5日."""
    if isinstance(value, (tuple, list)):
        first, last = value
        return _day(first) if first == last else f"{_day(first)}~{_day(last)}"
    if isinstance(value, dt.datetime):
        value = _beijing(value).date()
    return _day(value)


def build_value(key, value):
    kind = key_type(key)
    if kind == "thing":
        text = shorten(value, LIMITS["thing"])
    elif kind == "time":
        text = value if isinstance(value, str) else format_time(value)
    elif kind == "date":
        text = value if isinstance(value, str) else format_date(value)
    elif kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        text = f"{value:g}" if isinstance(value, float) else str(value)
    else:
        text = _one_line(value)
    reason = check_value(kind, text)
    if reason:
        raise MessageValueError(key, reason)
    return text


def build(values):
    """{key: plain value} -> WeChat `data` {key: {"value": text}}; MessageValueError when a value cannot fit."""
    return {key: {"value": build_value(key, value)} for key, value in values.items()}


__all__ = ["build", "check", "shorten", "format_time", "format_date", "PHRASES", "MessageValueError"]
