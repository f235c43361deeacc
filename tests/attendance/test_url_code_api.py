"""Issue 16 §4: the class code is an https URL under CHECKIN_URL_PREFIX (扫普通链接二维码打开小程序);
check-in accepts the URL (also percent-encoded, as WeChat passes `q`) or the bare code."""

import io
from urllib.parse import quote

import pytest
from PIL import Image

from tests.conftest import bearer

zxingcpp = pytest.importorskip("zxingcpp")
PREFIX = "https://px.miit-training.cn/q/checkin/"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "CHECKIN_URL_PREFIX": PREFIX}


def _code(client, klass):
    answer = client.get(f"/api/v1/sessions/{klass.session_id}/checkin-code", headers=bearer(klass.supervisor))
    assert answer.status_code == 200
    return answer.json


def test_code_answer_carries_the_url_and_the_images_hold_it(client, checkin_class):
    shown = _code(client, checkin_class)
    assert shown["url"] == PREFIX + shown["code"]
    png = client.get(f"/api/v1/sessions/{checkin_class.session_id}/checkin-code.png",
                     headers=bearer(checkin_class.supervisor))
    [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)).convert("RGB"))
    assert decoded.text.startswith(PREFIX) and len(decoded.text) == len(shown["url"])
    personal = client.get(f"/api/v1/registrations/{checkin_class.trainees[0].registration_id}/checkin-code",
                          headers=bearer(checkin_class.trainees[0].token)).json
    assert personal["url"] is None and personal["code"].startswith("P")


@pytest.mark.parametrize("form", ["url", "encoded", "bare"])
def test_check_in_with_the_url_as_scanned_or_the_bare_code(client, checkin_class, scan, form):
    shown = _code(client, checkin_class)
    scanned = {"url": shown["url"], "encoded": quote(shown["url"], safe=""), "bare": shown["code"]}[form]
    answer = scan(checkin_class.trainees[0].token, scanned)
    assert answer.status_code == 200, answer.json
    assert answer.json["result"] == "checked_in"
    again = client.post(f"/api/v1/sessions/{checkin_class.session_id}/checkins",
                        json={"code": shown["url"], "latitude": 40.0004, "longitude": 116.3266},
                        headers=bearer(checkin_class.trainees[1].token))
    assert again.status_code == 200, again.json


def test_a_url_under_another_prefix_is_not_a_code(client, checkin_class, scan):
    shown = _code(client, checkin_class)
    for scanned in ("https://evil.example.com/q/checkin/" + shown["code"], shown["url"] + "x",
                    PREFIX + "C" + "A" * 30):
        refused = scan(checkin_class.trainees[0].token, scanned)
        assert refused.status_code == 422 and refused.json["code"] == "CODE_INVALID", scanned


def test_the_url_path_answers_a_chinese_page_not_an_error(client, checkin_class):
    shown = _code(client, checkin_class)
    page = client.get("/q/checkin/" + shown["code"])
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "请用微信" in page.get_data(as_text=True)
    assert client.get("/q/checkin/anything-at-all").status_code == 200
