"""Console pages for the wrong role and for an ended session: a console page saying 无权访问 (not the
API's JSON), and the QR screen saying the session ended, returning only to a /console/ path afterwards."""

import pytest
from bson import ObjectId

from service.console.routes import safe_next
from tests.console.conftest import COOKIE


@pytest.mark.parametrize("asked, kept", [
    ("/console/classes/6b0e35e0d11d4f", "/console/classes/6b0e35e0d11d4f"),
    ("/console/review?class_id=1", "/console/review?class_id=1"),
    ("/console/", "/console/"),
    ("//evil.example/console/", None),
    ("https://evil.example/console/programmes", None),
    ("/console//evil.example", None),
    ("/console/\\evil.example", None),
    ("/\\evil.example/console/", None),
    ("/api/v1/programmes", None),
    ("/console/x\r\nSet-Cookie: a=b", None),
    ("javascript:alert(1)", None),
    ("", None),
])
def test_only_console_paths_of_this_site_are_returned_to(asked, kept):
    assert safe_next(asked) == kept


def test_wrong_role_gets_a_console_page_with_a_way_back(client, make_staff, console_login):
    console_login(make_staff("supervisor"))
    for path in ("/console/programmes", f"/console/classes/{ObjectId()}", "/console/review"):
        response = client.get(path)
        assert response.status_code == 403 and response.mimetype == "text/html", path
        text = response.get_data(as_text=True)
        assert "无权访问" in text and 'href="/console/"' in text and "班主任" in text
        assert "FORBIDDEN" not in text and "今日课程" in text  # the role's own menu is there


def test_province_staff_opening_a_board_gets_the_console_page(client, make_staff, console_login):
    console_login(make_staff("province_staff", region_code="110000"))
    response = client.get(f"/console/board/{ObjectId()}")
    assert response.status_code == 403 and "无权访问" in response.get_data(as_text=True)


def test_a_page_without_a_session_goes_to_the_qr_screen_and_says_whether_one_ended(client, make_staff, console_login):
    fresh = client.get("/console/programmes?year=2026")
    assert fresh.status_code == 302
    assert fresh.headers["Location"] == "/console/?next=%2Fconsole%2Fprogrammes%3Fyear%3D2026"
    login_page = client.get(fresh.headers["Location"]).get_data(as_text=True)
    assert 'data-next="/console/programmes?year=2026"' in login_page and "会话已结束" not in login_page

    console_login(make_staff("admin"))
    client.set_cookie(COOKIE, "a-session-that-ended", path="/")
    ended = client.get("/console/programmes")
    assert ended.headers["Location"] == "/console/?next=%2Fconsole%2Fprogrammes&ended=1"
    login_page = client.get(ended.headers["Location"]).get_data(as_text=True)
    assert "会话已结束，请重新登录" in login_page


def test_the_login_page_never_offers_a_foreign_target(client):
    page = client.get("/console/?ended=1&next=//evil.example/console/").get_data(as_text=True)
    assert 'data-next="/console/"' in page and "evil" not in page


def test_a_logged_in_desk_asked_for_a_page_goes_there(client, make_staff, console_login):
    console_login(make_staff("admin"))
    assert client.get("/console/?next=/console/programmes").headers["Location"] == "/console/programmes"
    assert client.get("/console/?next=https://evil.example/").status_code == 200  # home, no redirect
