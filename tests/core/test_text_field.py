"""The one field for typed text: what it keeps, what it refuses, and why each refusal reads in Chinese."""

import pytest
from marshmallow import Schema, ValidationError

from schemas.text import PersonName, Text


class Form(Schema):
    name = PersonName()
    company = Text(max_length=100)
    comment = Text(max_length=500, multiline=True)
    required_note = Text(max_length=20, min_length=1)


def load(**values):
    return Form().load(values)


def refused(field, value):
    with pytest.raises(ValidationError) as error:
        load(**{field: value})
    return error.value.messages[field][0]


@pytest.mark.parametrize("typed, kept", [
    ("  钱多多\u3000", "钱多多"),
    ("\ufeff张伟\u200b", "张伟"),  # Word paste: BOM and zero-width space at the edges
    ("张\u200b伟", "张伟"),  # ... and inside: zero-width space, word joiner, BOM, soft hyphen
    ("阿依古丽\u2060·\ufeff买买\u00ad提", "阿依古丽·买买提"),
    ("阿依古丽·买买提", "阿依古丽·买买提"),
    ("阿依古丽•买买提", "阿依古丽·买买提"),
    ("阿依古丽・买买提", "阿依古丽·买买提"),
    ("阿依古丽．买买提", "阿依古丽·买买提"),
    ("阿依古丽 · 买买提", "阿依古丽·买买提"),
    ("王𠇔", "王𠇔"),  # outside the BMP
    ("李\U0002b81d\U0002b81d", "李\U0002b81d\U0002b81d"),
    ("Jean-Luc O'Neil", "Jean-Luc O'Neil"),
    ("学员001", "学员001"),
    ("e\u0301mile", "\u00e9mile"),  # NFC
])
def test_names_people_really_have_are_kept(typed, kept):
    assert load(name=typed)["name"] == kept


@pytest.mark.parametrize("typed, message", [
    ("😀😀", "姓名只能包含文字"),
    ("张伟😀", "姓名只能包含文字"),
    ("张伟#", "姓名只能包含文字"),
    ("007", "以文字开头和结尾"),
    ("·张伟", "以文字开头和结尾"),
    ("阿依古丽··买买提", "不能连续"),
    ("\u200b\u200b\u200b", "不能只包含空格或不可见字符"),
    ("\u3164\u3164", "不能只包含空格或不可见字符"),
    ("钱\u000b多多", "控制字符（U+000B）"),
    ("张\u200d伟", "姓名只能包含文字"),
    ("张", "至少填写 2 个字"),
    ("张" * 31, "不能超过 30 个字（现为 31 个）"),
])
def test_names_refused_with_a_reason(typed, message):
    assert message in refused("name", typed)


@pytest.mark.parametrize("field, typed, message", [
    ("company", "钱\u000b多多", "控制字符（U+000B）"),
    ("company", "a\x00b", "控制字符（U+0000）"),
    ("company", "钱多多\x0b", "控制字符（U+000B）"),  # at the end too: refused, not trimmed away
    ("company", "\x1c钱多多", "控制字符（U+001C）"),
    ("company", "x\ud800y", "无法识别的字符"),
    ("company", "\udfff", "无法识别的字符"),
    ("company", "第一行\n第二行", "不能换行"),
    ("company", "第一行\u2028第二行", "不能换行"),
    ("company", "\u200b\u200c\u2060", "不能只包含空格或不可见字符"),
    ("company", "abc\u202etxt.exe", "改变文字方向"),
    ("company", "董事\uffff长", "含有无效字符（U+FFFF），请删除后重新输入"),
    ("company", "\ufffe", "无效字符（U+FFFE）"),
    ("company", "钱多多\ufdd0", "无效字符（U+FDD0）"),  # at an edge: refused, not trimmed away
    ("company", "钱\ufdef多多", "无效字符（U+FDEF）"),
    ("comment", "好\U0001fffe", "无效字符（U+1FFFE）"),
    ("comment", "好\U0010ffff", "无效字符（U+10FFFF）"),
    ("company", "字" * 10_000, "不能超过 100 个字（现为 10000 个）"),
    ("comment", "好\u0007", "控制字符（U+0007）"),
    ("comment", "好\t很好", "控制字符（U+0009）"),
    ("required_note", "", "此项不能为空"),
    ("required_note", "   ", "不能只包含空格或不可见字符"),
    ("required_note", "\u00a0\u00a0", "不能只包含空格或不可见字符"),
    ("company", "\u3000\u3000", "不能只包含空格或不可见字符"),
    ("company", " ", "不能只包含空格或不可见字符"),
    ("comment", "\t钱多多", None),  # tab at either end is trimmed like a space; inside it is refused
])
def test_text_refusals(field, typed, message):
    if message is None:
        assert load(**{field: typed})[field] == typed.strip()
    else:
        assert message in refused(field, typed)


def test_multiline_fields_keep_line_breaks_as_lf():
    assert load(comment="第一点\r\n第二点\r第三点\u2028第四点  \n\n第五点 ")["comment"] == \
        "第一点\n第二点\n第三点\n第四点\n\n第五点"


def test_text_starting_with_formula_characters_is_kept_as_typed():
    # People write "=" and "-" at the start of real text; the Excel writer neutralises, not the input.
    assert load(company="=HYPERLINK(\"x\")", comment="-减少成本\n+增加收入")["company"] == "=HYPERLINK(\"x\")"
    assert load(comment="-减少成本\n+增加收入")["comment"] == "-减少成本\n+增加收入"


def test_emoji_and_joiners_inside_ordinary_text_are_kept():
    assert load(comment="很好👍🏻 👨\u200d👩\u200d👧")["comment"] == "很好👍🏻 👨\u200d👩\u200d👧"


def test_optional_text_may_be_empty():
    assert load(company="")["company"] == ""


@pytest.mark.parametrize("kept", ["\ufdcf\ufdf0", "\ufffd", "\U0001fffd", "\ufffc"])
def test_characters_next_to_the_non_characters_are_kept(kept):
    assert load(company=f"钱{kept}多")["company"] == f"钱{kept}多"


def test_every_non_character_is_refused():
    """Unicode's 66 non-characters: U+FDD0-U+FDEF and the last two code points of every plane."""
    non_characters = [chr(c) for c in range(0xFDD0, 0xFDF0)] + [
        chr(plane * 0x10000 + last) for plane in range(17) for last in (0xFFFE, 0xFFFF)]
    assert len(non_characters) == 66
    for char in non_characters:
        assert f"U+{ord(char):04X}" in refused("company", f"钱{char}多")
