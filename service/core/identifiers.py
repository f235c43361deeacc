"""Identity numbers (居民身份证号码 and the cards sharing its format) and credit codes (统一社会信用代码).

python-stdnum keeps the check characters (ISO 7064 MOD 11-2 for identity numbers, GB 32100 for
credit codes). We do not use `stdnum.cn.ric.validate` itself: it checks the area code against the
birth year, but a card carries the code of the place and time it was issued, often decades after
birth, so it refuses most real numbers of people born 1960-1985; and it knows neither the residence
permits of Hong Kong, Macao and Taiwan residents (81/82/83) nor the 2023 foreigner's card, and
accepts birth dates in the future. What we check instead (GB 11643-1999 layout):

    positions 1-6   area code: its province part must exist in GB/T 2260 (any edition) or be
                    81 / 82 / 83 (港澳台居民居住证, 2018);
    positions 7-14  birth date YYYYMMDD, a real day between 1900-01-01 and today (Beijing);
    positions 15-17 sequence; the 17th digit is odd for men, even for women;
    position 18     check character 0-9 or X (a typed lower-case x is stored as X).

外国人永久居留身份证 (2023 edition, 公安部公告 2023): also 18 characters with the same birth-date
position and check character, laid out as "9" + 2-digit province of issue + 3-digit nationality
code + birth date + sequence + check. No resident area code starts with 9, so the two never clash:
we accept it (kind `foreign_permanent_resident`) when its province of issue exists. The older
15-character foreigner's card (2004-2017 edition) is refused by length, like first-generation IDs.
"""

import dataclasses
import datetime as dt
import re
import unicodedata
from zoneinfo import ZoneInfo

from stdnum.cn import ric, uscc

BEIJING = ZoneInfo("Asia/Shanghai")
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)

# GB/T 2260 province-level codes of every edition (46 Hainan since 1988, 50 Chongqing since 1997;
# 71 Taiwan is listed though no card is issued with it).
PROVINCE_CODES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
})
PERMIT_CODES = {"81": "香港", "82": "澳门", "83": "台湾"}

RESIDENT_ID = "resident_id"
RESIDENCE_PERMIT = "residence_permit"
FOREIGN_PERMANENT_RESIDENT = "foreign_permanent_resident"
CARD_KINDS = {
    RESIDENT_ID: "居民身份证",
    RESIDENCE_PERMIT: "港澳台居民居住证",
    FOREIGN_PERMANENT_RESIDENT: "外国人永久居留身份证",
}

_ID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")  # ASCII only: \d would take Arabic-Indic digits


class InvalidIdentifier(ValueError):
    """A refused number; `reason` is the Chinese sentence shown to the user."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class IdCard:
    number: str
    kind: str
    birth_date: dt.date
    male: bool

    @property
    def kind_label(self):
        return CARD_KINDS[self.kind]


def _half_width(value):
    # NFKC turns full-width digits and letters (１２３Ｘ, typed with a Chinese input method) into ASCII.
    return unicodedata.normalize("NFKC", value)


def compact_code(value):
    """A typed or pasted number or code with what people and Word add removed: full-width characters
    made half-width, spaces, hyphens and format characters (Unicode category Cf: zero-width spaces,
    BOMs, bidi marks copied from Word or a web page) dropped. The one door for ID numbers, credit codes
    and mobile numbers."""
    if value.isascii() and value.isalnum():
        return value  # already compact (nearly every row of a registry file): nothing below would change it
    return "".join(c for c in re.sub(r"[\s-]", "", _half_width(value)) if unicodedata.category(c) != "Cf")


def compact_id_number(value):
    """The number as stored: half-width, no spaces or invisible characters, upper-case X."""
    return compact_code(value).upper()


def parse_id_number(value, *, today=None):
    """Check an identity number; returns IdCard, or raises InvalidIdentifier with the reason in Chinese."""
    number = compact_id_number(value)
    if len(number) != 18:
        raise InvalidIdentifier(f"身份证号码应为18位（现为{len(number)}位）")
    if not _ID_SHAPE.fullmatch(number):
        raise InvalidIdentifier("身份证号码只能包含数字，最后一位可以是 X")
    try:
        birth_date = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdentifier(f"身份证号码中的出生日期“{number[6:14]}”不是有效日期") from None
    today = today or dt.datetime.now(BEIJING).date()
    if not EARLIEST_BIRTH_DATE <= birth_date <= today:
        raise InvalidIdentifier(f"身份证号码中的出生日期“{number[6:14]}”不在 1900 年至今天之间")
    if number[0] == "9":
        kind, province = FOREIGN_PERMANENT_RESIDENT, number[1:3]
        known = province in PROVINCE_CODES
    else:
        province = number[:2]
        kind = RESIDENCE_PERMIT if province in PERMIT_CODES else RESIDENT_ID
        known = province in PROVINCE_CODES or province in PERMIT_CODES
    if not known:
        raise InvalidIdentifier(f"身份证号码中的地区代码“{number[:6]}”不存在")
    if number[17] != ric.calc_check_digit(number):  # it skips the last character itself
        raise InvalidIdentifier("身份证号码校验位不正确（最后一位与前17位不符），请核对每一位数字")
    return IdCard(number=number, kind=kind, birth_date=birth_date, male=int(number[16]) % 2 == 1)


# GB 32100-2015 leaves these letters out, so they are never confused with 1, 0, 2, 5 and U.
CREDIT_CODE_EXCLUDED_LETTERS = "IOZSV"


def compact_credit_code(value):
    return compact_code(value).upper()


def parse_credit_code(value):
    """Check a unified social credit code (统一社会信用代码, GB 32100); returns it compacted."""
    code = compact_credit_code(value)
    if len(code) != 18:
        raise InvalidIdentifier(f"统一社会信用代码应为18位（现为{len(code)}位）")
    excluded = sorted({c for c in code if c in CREDIT_CODE_EXCLUDED_LETTERS}, key=code.index)
    if excluded:
        raise InvalidIdentifier(
            f"统一社会信用代码不使用字母 {'、'.join(excluded)}（国家标准不含 I、O、Z、S、V），"
            "请核对是否应为数字 1、0、2、5 或字母 U")
    if not re.fullmatch(r"[0-9A-Z]{18}", code):
        raise InvalidIdentifier("统一社会信用代码只能包含数字和大写字母")
    if not code[2:8].isdigit():
        raise InvalidIdentifier("统一社会信用代码第3至8位应为数字（登记机关行政区划码）")
    if code[17] != uscc.calc_check_digit(code[:17]):
        raise InvalidIdentifier("统一社会信用代码校验位不正确（最后一位与前17位不符），请核对每一位")
    return code


__all__ = ["IdCard", "InvalidIdentifier", "parse_id_number", "parse_credit_code", "compact_id_number",
           "compact_credit_code", "CARD_KINDS", "RESIDENT_ID", "RESIDENCE_PERMIT", "FOREIGN_PERMANENT_RESIDENT"]
