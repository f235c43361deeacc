"""Identity numbers and credit codes: table-driven, real-format numbers from many provinces and decades."""

import datetime as dt

import pytest
from stdnum.cn import ric, uscc

from service.core.identifiers import (FOREIGN_PERMANENT_RESIDENT, RESIDENCE_PERMIT, RESIDENT_ID, InvalidIdentifier,
                                      parse_credit_code, parse_id_number)

TODAY = dt.date(2026, 11, 30)


def with_check(first17):
    return first17 + ric.calc_check_digit(first17 + "0")


# The issue's examples: refused before because stdnum checks the area code against the birth year.
ISSUE_ACCEPTED = [
    ("320102196803150310", RESIDENT_ID, "1968-03-15", True),
    ("44030419780315013X", RESIDENT_ID, "1978-03-15", True),
    ("510104198206200153", RESIDENT_ID, "1982-06-20", True),
    ("810000197505050111", RESIDENCE_PERMIT, "1975-05-05", True),
    ("830000197007070156", RESIDENCE_PERMIT, "1970-07-07", True),
]

# Real district codes of every province-level region (some retired: 512501 Sichuan's old Wanxian
# prefecture, now Chongqing; 432301 Hunan's old Yiyang prefecture), across birth decades.
AREAS = ["110105", "120101", "130102", "140105", "150102", "210102", "220102", "230103", "310101", "320102",
         "330106", "340104", "350102", "360102", "370102", "410105", "420106", "430104", "440304", "450103",
         "460105", "500103", "510104", "520102", "530102", "540102", "610113", "620102", "630102", "640104",
         "650102", "659001", "512501", "432301", "820000"]
BIRTHS = ["19000101", "19280229", "19351001", "19480615", "19561231", "19630704", "19720229",
          "19841111", "19930520", "20000101", "20080808", "20191224"]


@pytest.mark.parametrize("number, kind, birth, male", ISSUE_ACCEPTED)
def test_issue_examples_are_accepted_with_their_card_kind(number, kind, birth, male):
    card = parse_id_number(number, today=TODAY)
    assert (card.number, card.kind, card.birth_date.isoformat(), card.male) == (number, kind, birth, male)


@pytest.mark.parametrize("area", AREAS)
@pytest.mark.parametrize("birth", BIRTHS)
def test_real_numbers_of_every_province_and_decade(area, birth):
    for sequence, male in (("123", True), ("046", False)):
        number = with_check(area + birth + sequence)
        card = parse_id_number(number, today=TODAY)
        assert card.birth_date == dt.date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
        assert card.male is male
        assert card.kind == (RESIDENCE_PERMIT if area.startswith("8") else RESIDENT_ID)


def test_lower_case_x_and_full_width_input_are_stored_upper_case_half_width():
    number = "44030419780315013X"
    assert parse_id_number(number.lower(), today=TODAY).number == number
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number)  # ４４０３…Ｘ typed with a Chinese IME
    assert parse_id_number(f" {full_width} ", today=TODAY).number == number


def test_foreign_permanent_residence_card_2023_format():
    # "9" + province of issue 11 (Beijing) + nationality 840 + birth date + sequence + check.
    number = with_check("911840" + "19850412" + "001")
    card = parse_id_number(number, today=TODAY)
    assert card.kind == FOREIGN_PERMANENT_RESIDENT and card.birth_date == dt.date(1985, 4, 12) and card.male
    with pytest.raises(InvalidIdentifier, match="地区代码"):
        parse_id_number(with_check("981840" + "19850412" + "001"), today=TODAY)  # no province 81 issues it


@pytest.mark.parametrize("number, reason", [
    ("110105203001151234", "出生日期“20300115”不在 1900 年至今天之间"),  # issue: born 2030
    ("110105189912311579", "出生日期“18991231”不在 1900 年至今天之间"),  # issue: born 1899
    (with_check("11010520261201001"), "不在 1900 年至今天之间"),  # tomorrow
    (with_check("11010519700230001"), "出生日期“19700230”不是有效日期"),
    (with_check("11010519001301001"), "不是有效日期"),
    (with_check("11010519230229001"), "不是有效日期"),  # 1923 is no leap year
    (with_check("11010519000000001"), "不是有效日期"),
    (with_check("99010519700101001"), "地区代码“990105”不存在"),
    (with_check("00010519700101001"), "地区代码“000105”不存在"),
    (with_check("66000019700101001"), "地区代码“660000”不存在"),  # 兵团 cards carry 65 codes
    (with_check("84000019700101001"), "地区代码“840000”不存在"),
    ("320102196803150311", "校验位"),
    ("44030419780315013Y", "只能包含数字"),
    ("4403041978031501X3", "只能包含数字"),
    ("12345", "应为18位（现为5位）"),
    ("110105700101001", "应为18位（现为15位）"),  # first-generation 15-digit card
    ("1101051970010100111", "应为18位（现为19位）"),
    ("", "应为18位（现为0位）"),
])
def test_refusals_name_their_reason(number, reason):
    with pytest.raises(InvalidIdentifier) as refused:
        parse_id_number(number, today=TODAY)
    assert reason in refused.value.reason


def test_today_is_the_last_accepted_birth_date():
    assert parse_id_number(with_check("11010520261130001"), today=TODAY).birth_date == TODAY


def credit(first17):
    return first17 + uscc.calc_check_digit(first17)


def test_credit_code_full_width_and_lower_case_are_normalised():
    code = credit("91110108MA01ABCD1")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code)  # ９１１１…, typed with a Chinese IME
    assert parse_credit_code(full_width) == code
    assert parse_credit_code(f" {code.lower()} ") == code


@pytest.mark.parametrize("value, reason", [
    ("91110000MA01ABCO1X", "不使用字母 O"),
    ("91110000MA01SIVZ1X", "不使用字母 S、I、V、Z"),
    ("91110000MA01ABC", "应为18位（现为15位）"),
    ("91110000MA01AB!D1X", "只能包含数字和大写字母"),
    ("9111A000MA01ABCD1X", "第3至8位应为数字"),
])
def test_credit_code_refusals(value, reason):
    with pytest.raises(InvalidIdentifier) as refused:
        parse_credit_code(value)
    assert reason in refused.value.reason


def test_credit_code_wrong_check_character():
    code = credit("91110108MA01ABCD1")
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(InvalidIdentifier, match="校验位"):
        parse_credit_code(wrong)


@pytest.mark.parametrize("pasted", ["\u200b320102196803150310\u200b", "\ufeff320102196803150310",
                                    "320102\u200d196803150310\u2060", "\u202a320102196803150310\u202c",
                                    "３２０１０２ １９６８０３１５ ０３１０"])
def test_invisible_characters_pasted_from_word_are_dropped(pasted):
    assert parse_id_number(pasted).number == "320102196803150310"


def test_arabic_indic_digits_are_refused_as_not_digits():
    with pytest.raises(InvalidIdentifier) as refused:
        parse_id_number("٣٢٠١٠٢١٩٦٨٠٣١٥٠٣١٠")
    assert refused.value.reason == "身份证号码只能包含数字，最后一位可以是 X"


@pytest.mark.parametrize("typed", ["１３９００００１２３４", "139 0000 1234", "139-0000-1234", "\u200b13900001234\ufeff"])
def test_mobile_numbers_are_read_like_id_numbers(typed):
    from schemas.identifiers import MobileNumber

    assert MobileNumber().deserialize(typed) == "13900001234"


@pytest.mark.parametrize("typed", ["1390000123", "23900001234", "١٣٩٠٠٠٠١٢٣٤", "1390000123a"])
def test_mobile_refusals(typed):
    from marshmallow import ValidationError

    from schemas.identifiers import MobileNumber

    with pytest.raises(ValidationError) as refused:
        MobileNumber().deserialize(typed)
    assert refused.value.messages == ["请填写11位手机号码"]
