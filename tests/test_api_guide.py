"""The front-end guide documents every endpoint and every error code the service can answer."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "miniprogram-api.md").read_text("utf-8")
ERROR_CLASSES = {"RuleViolation": 422, "Forbidden": 403, "NotFound": 404, "Conflict": 409, "Unauthorized": 401,
                 "ServiceUnavailable": 503, "AppError": 400, "BadRequest": 400, "PayloadTooLarge": 413,
                 "UnsupportedMediaType": 415}
# Where a code is written in the code base: the first argument of an error class, an error
# class's default code, the not-found code of parse_object_id, a `code=` keyword, error_body().
CODE_SOURCES = [
    re.compile(rf"\b(?P<cls>{'|'.join(ERROR_CLASSES)})\(\s*\"(?P<code>[A-Z][A-Z0-9_]+)\"(?P<rest>[^)]{{0,400}})"),
    re.compile(r"^\s+code = \"(?P<code>[A-Z][A-Z0-9_]+)\"", re.M),
    re.compile(r"parse_object_id\([^()]*\"(?P<code>[A-Z][A-Z0-9_]+)\"\)"),
    re.compile(r"\bcode=\"(?P<code>[A-Z][A-Z0-9_]+)\""),
    re.compile(r"error_body\(\s*\"(?P<code>[A-Z][A-Z0-9_]+)\""),
]
# RuleViolation always takes a code: its class default is never answered.
NEVER_ANSWERED = {"RULE_VIOLATION"}


def _raised_codes():
    """{code: (HTTP status or None, where)} for every code the code base can answer."""
    from service.core.errors import HTTP_ERRORS

    codes = {code: (status, "service/core/errors.py HTTP_ERRORS") for status, (code, _) in HTTP_ERRORS.items()}
    for path in sorted((ROOT / "service").rglob("*.py")):
        text = path.read_text("utf-8")
        for pattern in CODE_SOURCES:
            for match in pattern.finditer(text):
                found = match.groupdict()
                status = ERROR_CLASSES.get(found.get("cls"))
                explicit = re.search(r"status=(\d{3})", found.get("rest") or "")
                if explicit:
                    status = int(explicit.group(1))
                codes.setdefault(found["code"], (status, str(path.relative_to(ROOT))))
    for code in NEVER_ANSWERED:
        codes.pop(code, None)
    return codes


def _guide_table_codes():
    """The codes of the guide's "All error codes" table (first column, one or more per row)."""
    start = GUIDE.index("## All error codes")
    end = GUIDE.find("\n## ", start + 5)
    section = GUIDE[start:end if end > 0 else None]
    codes = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            codes.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return codes


def test_every_error_code_the_code_can_answer_is_in_the_guides_table():
    table = _guide_table_codes()
    missing = {code: where for code, where in _raised_codes().items() if code not in table}
    rows = "\n".join(f"| `{code}` | {status or '<HTTP status>'} | <endpoints> |      (raised in {path})"
                     for code, (status, path) in sorted(missing.items()))
    assert not missing, ("miniprogram-api.md, section \"## All error codes\", lacks codes the service answers. "
                         "Add these rows to the table (and describe each code with its endpoint):\n" + rows)


def test_every_code_in_the_guides_table_can_be_answered():
    raised = _raised_codes()
    documented_only = sorted(code for code in _guide_table_codes() if code not in raised)
    assert not documented_only, (
        "miniprogram-api.md's \"## All error codes\" table lists codes no code in service/ answers: "
        f"{documented_only}. Remove them from the table (and from the endpoint sections), or raise them "
        "where the guide says they happen.")


def test_every_endpoint_is_in_the_guide(app):
    spec = app.extensions["api"].spec.to_dict()
    missing = []
    for path, operations in spec["paths"].items():
        for method in operations:
            if method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                continue
            # The guide writes path parameters as {name} like OpenAPI; match on the static parts.
            pattern = re.escape(path).replace(r"\{", "{").replace(r"\}", "}")
            pattern = re.sub(r"\{[^}]+\}", r"\\{[^}]+\\}", pattern)
            if not re.search(rf"`{method.upper()} {pattern}[`?]", GUIDE):
                missing.append(f"{method.upper()} {path}")
    assert not missing, f"miniprogram-api.md lacks: {missing}"
