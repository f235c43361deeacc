"""The front-end guide documents every endpoint and every error code the service can answer."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "miniprogram-api.md").read_text("utf-8")
RAISED_CODE = re.compile(
    r"\b(?:RuleViolation|Forbidden|NotFound|Conflict|Unauthorized|ServiceUnavailable|AppError)\(\s*\"([A-Z][A-Z0-9_]+)\"")


def _raised_codes():
    codes = set()
    for path in (ROOT / "service").rglob("*.py"):
        codes.update(RAISED_CODE.findall(path.read_text("utf-8")))
    from service.core.errors import HTTP_ERRORS

    codes.update(code for code, _ in HTTP_ERRORS.values())
    return codes


def test_every_error_code_is_in_the_guide():
    missing = sorted(code for code in _raised_codes() if f"`{code}`" not in GUIDE)
    assert not missing, f"miniprogram-api.md lacks: {missing}"


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
