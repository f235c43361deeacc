"""The one string field for text people type (names, comments, reasons, addresses...).

Every request schema uses `Text` (or `PersonName`) for such text, so a fault is fixed here once:
- lone surrogates (JSON "\\ud800") are refused: MongoDB cannot store them (they were a 500);
- Unicode NFC, so the same name typed on two phones is the same string;
- trimmed (spaces, full-width spaces, zero-width characters and BOMs at either end: Word paste);
- zero-width spaces, word joiners, BOMs and soft hyphens removed inside too: invisible, they carry
  nothing in this text, and a name holding one was never found by a search typed without it
  (zero-width joiners and non-joiners are kept: they shape emoji and some scripts);
- control characters refused; a line break only in multi-line fields (comments, suggestions, notes,
  reasons), where CR LF / CR / U+2028 / U+2029 become "\\n";
- bidirectional overrides (U+202A-U+202E, U+2066-U+2069) refused: they make text read differently
  from what it is (CVE-2021-42574 "Trojan Source");
- Unicode non-characters (U+FDD0-U+FDEF and the last two code points of every plane, U+FFFE/U+FFFF...)
  refused like control characters: never text, and U+FFFE/U+FFFF cannot be written to XML (an Excel
  export would have to drop them);
- text with nothing visible (only spaces or zero-width characters) refused;
- a maximum length per field, counted in characters (code points, so a rare character outside the
  BMP such as 𠇔 counts as one).

Field errors are Chinese sentences, as everywhere in the API.
"""

import re
import unicodedata

from marshmallow import ValidationError, fields

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAKS = re.compile("\r\n|\r|\u2028|\u2029")
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Unicode's 66 non-characters (Unicode 15, §23.7): U+FDD0-U+FDEF and U+xFFFE/U+xFFFF of the 17 planes.
_NON_CHARACTERS = re.compile("[\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)) + "]")
# Default-ignorable or blank-looking characters that Unicode files under letters or symbols.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e\u034f")
# Trimmed at either end: spaces of every width, tab and line breaks, zero-width characters and BOMs
# (Word paste). Other control characters are refused wherever they are, never trimmed away.
_EDGE = ("".join(chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) == "Zs")
         + "\t\n\r\u2028\u2029\u200b\u200c\u200d\u2060\ufeff\u00ad")

# Removed wherever they are (see the module docstring).
_INVISIBLE_INSIDE = re.compile("[\u200b\u2060\ufeff\u00ad]")

# Middle dots people type in minority names (阿依古丽·买买提) with different input methods:
# • U+2022, ・ U+30FB, ． U+FF0E, ‧ U+2027, ･ U+FF65, ∙ U+2219, ⋅ U+22C5 -> · U+00B7 (GB 18030 "间隔号").
NAME_DOT = "\u00b7"
_NAME_DOTS = re.compile("[\u2022\u30fb\uff0e\u2027\uff65\u2219\u22c5]")


def _visible(char):
    category = unicodedata.category(char)
    return category[0] not in "ZC" and category not in ("Mn", "Me") and char not in _BLANK_LOOKING


class Text(fields.String):
    """Text typed by a person. `max_length` (characters) is required: every field documents its limit.

    multiline: a line break is allowed (comments, suggestions, notes, reasons).
    min_length: at least this many characters after trimming (1 for a required field that may not be empty).
    """

    def __init__(self, *, max_length, min_length=0, multiline=False, **kwargs):
        metadata = {**kwargs.pop("metadata", {}), "maxLength": max_length}
        if min_length:
            metadata["minLength"] = min_length
        super().__init__(metadata=metadata, **kwargs)
        self.max_length = max_length
        self.min_length = min_length
        self.multiline = multiline
        # Optional text that may be empty: `null` is taken as empty, the same as "" (a front end
        # clearing a field sends either). A field declared allow_none keeps null as null.
        self.none_is_empty = not min_length and not self.required and not self.allow_none
        if self.none_is_empty:
            self.allow_none = True  # the OpenAPI document says nullable: null is accepted

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value is None and self.none_is_empty:
            value = ""
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        return self.clean(text)

    def clean(self, text):
        if _LONE_SURROGATE.search(text):
            raise ValidationError("含有无法识别的字符（不成对的代理项），请删除后重新输入")
        text = unicodedata.normalize("NFC", text)
        if self.multiline:
            text = _LINE_BREAKS.sub("\n", text)
        typed, text = text, text.strip(_EDGE)
        if not text and typed:
            # Something was typed but nothing visible (spaces, NBSP, full-width spaces, zero-width
            # characters): said as such, also in a required field, not "此项不能为空".
            raise ValidationError("不能只包含空格或不可见字符")
        text = _INVISIBLE_INSIDE.sub("", text)
        if self.multiline:
            # Trailing spaces on each line are paste noise; blank lines in the middle are kept.
            text = "\n".join(line.rstrip(_EDGE) for line in text.split("\n"))
        for char in text:
            if char == "\n" and self.multiline:
                continue
            if char in "\n\u2028\u2029" or (char == "\r"):
                raise ValidationError("此项不能换行，请写在一行内")
            if unicodedata.category(char) == "Cc":
                raise ValidationError(f"含有不可见的控制字符（U+{ord(char):04X}），请删除后重新输入")
        non_character = _NON_CHARACTERS.search(text)
        if non_character:
            raise ValidationError(f"含有无效字符（U+{ord(non_character.group()):04X}），请删除后重新输入")
        if _BIDI_CONTROLS.search(text):
            raise ValidationError("含有改变文字方向的控制字符，请删除后重新输入")
        if text and not any(_visible(char) for char in text):
            raise ValidationError("不能只包含空格或不可见字符")
        if len(text) > self.max_length:
            raise ValidationError(f"不能超过 {self.max_length} 个字（现为 {len(text)} 个）")
        if len(text) < self.min_length:
            raise ValidationError("此项不能为空" if self.min_length == 1 else f"至少填写 {self.min_length} 个字")
        return text


class NameSearch(Text):
    """Part of a person's name typed into a search box: Text, with the name dots read as PersonName
    stores them (张·三 found whether typed with •, ・ or ·)."""

    def __init__(self, *, max_length=30, **kwargs):
        super().__init__(max_length=max_length, **kwargs)

    def clean(self, text):
        return super().clean(_NAME_DOTS.sub(NAME_DOT, text) if isinstance(text, str) else text)


class PersonName(Text):
    """A person's name as written on an identity card: letters of any script (rare characters outside
    the BMP such as 𠇔 included), the middle dot of minority and foreign names (•・．‧ read as ·),
    and for foreign names spaces, hyphens and apostrophes. ASCII digits are let through after the first
    letter: rosters use placeholder names such as 学员001. No emoji or other symbols."""

    def __init__(self, *, max_length=30, min_length=2, **kwargs):
        super().__init__(max_length=max_length, min_length=min_length, multiline=False, **kwargs)

    def clean(self, text):
        text = super().clean(_NAME_DOTS.sub(NAME_DOT, text) if isinstance(text, str) else text)
        if not text:
            return text
        text = re.sub(r"\s*·\s*", NAME_DOT, re.sub(r"\s+", " ", text))
        for char in text:
            if unicodedata.category(char)[0] not in "LM" and char not in " ·-'" and not "0" <= char <= "9":
                raise ValidationError("姓名只能包含文字，少数民族姓名可用间隔号“·”")
        if not (unicodedata.category(text[0])[0] == "L" and (
                unicodedata.category(text[-1])[0] in "LM" or text[-1].isdigit())):
            raise ValidationError("姓名应以文字开头和结尾")
        if re.search(r"[·\-' ]{2}", text):
            raise ValidationError("姓名中的间隔号或空格不能连续")
        return text


__all__ = ["Text", "PersonName", "NAME_DOT"]
