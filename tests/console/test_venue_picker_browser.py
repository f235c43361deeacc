"""Venue coordinates at a desk, in headless Chromium, with no network: typed or pasted from a map
app's share text (`39.9042,116.4074`, 高德 / 百度 / 腾讯 links, geo:, degrees-minutes-seconds),
converted to the GCJ-02 system the mini-program's check-in reports; the API's refusals next to the
coordinates; the class created and edited with the pasted point."""

import datetime as dt

import pytest

from tests.console.conftest import assert_no_horizontal_overflow
from tests.factories import create_programme

BEIJING_TODAY = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=8)).date()

# (pasted text, source chosen for plain numbers, expected GCJ-02 latitude, longitude)
PASTES = [
    ("39.9042,116.4074", "gcj02", 39.9042, 116.4074),
    ("39.9042，116.4074", "gcj02", 39.9042, 116.4074),  # full-width comma from a Chinese keyboard
    ("116.4074,39.9042", "gcj02", 39.9042, 116.4074),  # 高德 copies 经度,纬度
    ("https://uri.amap.com/marker?position=116.3265,40.0003&name=清华大学舜德楼", "gcj02", 40.0003, 116.3265),
    ("https://apis.map.qq.com/uri/v1/marker?marker=coord:40.0003,116.3265;title:舜德楼", "gcj02", 40.0003, 116.3265),
    # Baidu's BD-09, converted (coordtransform's own example: bd09togcj02(116.404, 39.915)).
    ("http://api.map.baidu.com/marker?location=39.915,116.404&title=天安门&output=html", "gcj02", 39.908657, 116.397627),
    ("39.915,116.404", "bd09", 39.908657, 116.397627),
    # WGS-84 from a GPS or geo: link (wgs84togcj02(116.404, 39.915)).
    ("geo:39.915,116.404", "gcj02", 39.916404, 116.410244),
    ("39.915 116.404", "wgs84", 39.916404, 116.410244),
    ("39°54'15.1\"N 116°24'26.6\"E", "gcj02", 39.904194, 116.407389),
    ("北纬39.9042 东经116.4074", "gcj02", 39.9042, 116.4074),
]


@pytest.fixture
def organizer_page(live_server, new_page, desk_login, make_staff):
    page = new_page()
    desk_login(page, make_staff("admin"))
    return page


def test_pasted_locations_read_and_converted_to_gcj02(live_server, organizer_page):
    page = organizer_page
    page.goto(live_server + "/console/classes")
    page.wait_for_function("() => !!window.VenuePicker && !!window.coordtransform")
    for text, source, latitude, longitude in PASTES:
        found = page.evaluate("([t, s]) => VenuePicker.parse(t, s)", [text, source])
        assert "error" not in found, (text, found)
        assert (found["lat"], found["lng"]) == (latitude, longitude), (text, found)
        assert found["warning"] == "", text
    for text in ("清华大学舜德楼", "https://surl.amap.com/3kC9ExQ1", "geo:", ""):
        assert page.evaluate("t => VenuePicker.parse(t, 'gcj02')", text)["error"], text
    sydney = page.evaluate("t => VenuePicker.parse(t, 'gcj02')", "-33.8688,151.2093")
    assert "不在中国境内" in sydney["warning"]


def test_organizer_creates_a_class_with_a_pasted_location_and_moves_it(live_server, organizer_page, client,
                                                                      admin_token, db):
    create_programme(client, admin_token)
    page = organizer_page
    start = BEIJING_TODAY + dt.timedelta(days=30)
    page.goto(live_server + "/console/classes")
    page.wait_for_selector("#class-programme option", state="attached")
    page.fill("#class-name", "第一期 专精特新发展专题班")
    page.fill("#class-institution", "清华大学经济管理学院")
    page.fill("#class-start", start.isoformat())
    page.fill("#class-end", (start + dt.timedelta(days=3)).isoformat())
    page.fill("#venue-name", "清华大学舜德楼")

    # Text that is not a number: the API's refusal next to the coordinates, nothing stored.
    page.fill("#venue-latitude", "北纬四十度")
    page.fill("#venue-longitude", "116.3265")
    page.click("#class-create")
    page.wait_for_function("() => document.querySelector('#venue-coordinates-error').textContent.length > 0")
    print("refusal:", page.locator("#venue-coordinates-error").inner_text())
    assert db.classes.count_documents({}) == 0

    # Paste what 高德's "分享" copies: the page reads 经度,纬度 and fills both fields.
    page.click("#venue-paste-box summary")
    page.fill("#venue-paste", "清华大学舜德楼 https://uri.amap.com/marker?position=116.3265,40.0003&name=舜德楼")
    page.click("#venue-paste-apply")
    page.wait_for_function("() => document.querySelector('#venue-paste-note').textContent.length > 0 && "
                           "document.querySelector('#venue-latitude').value === '40.0003' && "
                           "document.querySelector('#venue-longitude').value === '116.3265'")
    assert "高德地图链接" in page.locator("#venue-paste-note").inner_text()
    page.wait_for_selector("#venue-map-link[href^='https://uri.amap.com/marker?position=116.3265,40.0003']")
    # Unreadable text: said next to the box, the fields keep their values.
    page.fill("#venue-paste", "清华大学")
    page.click("#venue-paste-apply")
    page.wait_for_function("() => document.querySelector('#venue-paste-error').textContent.length > 0")
    assert page.input_value("#venue-latitude") == "40.0003"
    assert_no_horizontal_overflow(page, "organizer-class-venue-paste")

    page.click("#class-create")
    page.wait_for_url("**/console/classes/*")
    stored = db.classes.find_one()
    assert (stored["venue"]["latitude"], stored["venue"]["longitude"]) == (40.0003, 116.3265)

    # On the class page: a Baidu point, converted, with the distance from the old one; then saved.
    page.wait_for_selector("#edit-latitude")
    page.click("#venue-paste-box summary")
    page.select_option("#venue-paste-source", "bd09")
    page.fill("#venue-paste", "40.006040,116.333107")  # the venue as 百度地图 shows it (gcj02tobd09)
    page.click("#venue-paste-apply")
    page.wait_for_function("() => document.querySelector('#venue-paste-note').textContent.includes('相距') && "
                           "document.querySelector('#edit-latitude').value === '40.000301'")
    note = page.locator("#venue-paste-note").inner_text()
    assert "已由百度坐标换算为 GCJ-02" in note
    latitude, longitude = float(page.input_value("#edit-latitude")), float(page.input_value("#edit-longitude"))
    assert (latitude, longitude) == (40.000301, 116.326499)  # back on the venue; BD-09 lay ~800 m off
    assert_no_horizontal_overflow(page, "organizer-class-venue-edit")
    page.click("form:has(#edit-latitude) button[type=submit]")
    page.wait_for_function("() => document.body.innerText.includes('已保存')")
    stored = db.classes.find_one()
    assert (stored["venue"]["latitude"], stored["venue"]["longitude"]) == (latitude, longitude)
