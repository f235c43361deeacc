"""Layout at a desk and on smaller screens: no table column squeezed to a character a line at 1366×768
(a long course title, long teacher names), the live board usable at 800 px and without sideways
overflow at 480 px."""

from tests.console.conftest import assert_no_horizontal_overflow
from tests.console.test_timetable_editor_browser import _add_session
from tests.factories import create_class, create_programme

LONG_TITLE = "开班仪式暨形势政策报告：新时代中小企业高质量发展的机遇与挑战（特邀报告）"

# Each visible cell of a table at least ~2.5 characters wide (15 px font): a column squeezed to one
# character a line measures about 20 px.
NARROW_CELLS = """() => [...document.querySelectorAll('.table-wrap td, .table-wrap th')]
  .filter((c) => c.offsetParent !== null && c.innerText.trim().length > 1 && !c.querySelector('input[type=checkbox]'))
  .filter((c) => c.getBoundingClientRect().width < 38)
  .map((c) => c.innerText.trim().slice(0, 12))"""


def test_timetable_columns_stay_readable_at_1366(client, live_server, new_page, desk_login, make_staff, admin_token):
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"])
    day = klass["start_date"]
    _add_session(client, admin_token, klass, LONG_TITLE, day, "09:00", "11:30")
    _add_session(client, admin_token, klass, "数字化转型案例研讨", day, "14:00", "17:00")
    page = new_page()
    desk_login(page, make_staff("admin"))
    page.goto(live_server + f"/console/classes/{klass['id']}")
    page.wait_for_selector("#timetable tbody tr td:has-text('数字化转型')")
    assert page.evaluate(NARROW_CELLS) == []
    # The header cells stay on one line (日期, 签到开放, ...).
    heights = page.evaluate("[...document.querySelectorAll('#timetable thead th')].map((th) => th.getBoundingClientRect().height)")
    assert max(heights) < 2 * min(heights)
    assert_no_horizontal_overflow(page, "layout-timetable-long-title")


def test_board_at_800_and_480_pixels(live_server, new_page, desk_login, make_checkin_class):
    checkin_class = make_checkin_class()
    page = new_page()
    desk_login(page, checkin_class.supervisor)
    for width in (800, 480):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server + f"/console/board/{checkin_class.session_id}")
        page.wait_for_selector("#missing-table tbody tr")
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"{width} px: page overflows sideways {widths}"
        # The missing list gets the whole width (cards one under the other), its cells readable.
        card = page.evaluate("document.querySelector('#missing-table').closest('article').getBoundingClientRect().width")
        assert card >= width * 0.85
        if width == 800:
            assert page.evaluate(NARROW_CELLS) == []
        page.screenshot(path=f"var/console-screenshots/board-{width}.png", full_page=True)
