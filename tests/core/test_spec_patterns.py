"""Patterns the OpenAPI document publishes are ECMAScript (the dialect OpenAPI names), and the
server validates exactly what they say (q14 finding 5: `\\Z` is Python-only)."""

import json
import re
import shutil
import subprocess

import pytest

from tests.conftest import bearer

PYTHON_ONLY = [r"\Z", r"\A", "(?P", "(?<=", "(?<!", "(?#", r"\z"]
INLINE_FLAGS = re.compile(r"\(\?[aiLmsux]+[:)]")


def _patterns(spec):
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                found.add(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return sorted(found)


@pytest.fixture
def patterns(client):
    found = _patterns(client.get("/api/v1/openapi.json").json)
    assert len(found) >= 4  # region codes, ids, YYYY-MM, nonces
    return found


def test_no_pattern_uses_python_only_syntax(patterns):
    for pattern in patterns:
        assert not any(token in pattern for token in PYTHON_ONLY), pattern
        assert not INLINE_FLAGS.search(pattern), pattern
        assert pattern.startswith("^") and pattern.endswith("$"), pattern
        re.compile(pattern)


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed")
def test_every_pattern_compiles_as_an_ecmascript_regex(patterns):
    script = ("const ps = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "for (const p of ps) { new RegExp(p, 'u'); new RegExp(p); }")
    result = subprocess.run(["node", "-e", script], input=json.dumps(patterns), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr


def test_nonce_pattern_means_the_same_in_ecmascript():
    from schemas.attendance import NONCE

    assert NONCE.regex.pattern == r"^(?:[\x21-\x7e]{8,64})$"
    for good in ("abcdefgh", "~" * 64):
        assert NONCE(good) == good
    for bad in ("abcdefg", "a" * 65, "abcdefgh\n", "abcdefghZ\n", "abcd efgh"):
        with pytest.raises(Exception):
            NONCE(bad)


@pytest.mark.parametrize("code", ["110000\n", "١١٠٠٠٠", "１１００００", "11000"])
def test_region_code_is_six_ascii_digits_as_published(client, admin_token, code):
    response = client.get("/api/v1/classes", query_string={"region_code": code}, headers=bearer(admin_token))
    assert response.status_code == 422 and response.json["errors"] == {"region_code": ["地区代码应为6位数字"]}


def test_year_month_pattern_takes_ascii_digits_only():
    from schemas.trainees import YEAR_MONTH

    assert YEAR_MONTH("2020-09") == "2020-09"
    for bad in ("２０２０-09", "2020-09\n", "2020-13"):
        with pytest.raises(Exception):
            YEAR_MONTH(bad)
