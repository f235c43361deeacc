"""Masked numbers stay masked: from everything a role can read, the hidden digits cannot be rebuilt.

Each role's readable answers (JSON and every Excel export it may download) are searched for the
8 digits the mask hides (the birth date, in any of the ways a date gets written) and for the full number.
"""

import io
import re

import openpyxl
import pytest

from tests.conftest import bearer
from tests.factories import profile_body


def _birth_date_forms(digits):
    year, month, day = digits[:4], digits[4:6], digits[6:]
    m, d = str(int(month)), str(int(day))
    return {digits, f"{year}-{month}-{day}", f"{year}/{month}/{day}", f"{year}年{m}月{d}日", f"{year}-{m}-{d}",
            f"{year}/{m}/{d}", f"{year}.{month}.{day}", f"{year}年{month}月{day}日"}


def _text_of(response):
    if response.mimetype.endswith("spreadsheetml.sheet"):
        workbook = openpyxl.load_workbook(io.BytesIO(response.data))
        return "\n".join(str(cell.value) for sheet in workbook for row in sheet.iter_rows() for cell in row
                         if cell.value is not None)
    return response.get_data(as_text=True)


def _readable(client, token, klass, trainee, region_code=None):
    """Everything this caller may read about the class and the trainee (refused answers are skipped)."""
    rid, cid = trainee.registration_id, klass.id
    urls = [f"/api/v1/registrations?class_id={cid}", f"/api/v1/registrations/{rid}",
            f"/api/v1/classes/{cid}/roster.xlsx" + (f"?region_code={region_code}" if region_code else ""),
            f"/api/v1/classes/{cid}/completion", f"/api/v1/classes/{cid}/completion.xlsx",
            f"/api/v1/classes/{cid}/attendance-sheet", f"/api/v1/classes/{cid}/attendance-sheet.xlsx",
            f"/api/v1/reports/classes/{cid}", f"/api/v1/reports/classes/{cid}.xlsx",
            f"/api/v1/reports/archives/{rid}", f"/api/v1/reports/archives/{rid}.xlsx",
            f"/api/v1/classes/{cid}/trainee-forms.xlsx",
            "/api/v1/trainee/profile", "/api/v1/registrations/mine"]
    texts = {}
    for url in urls:
        response = client.get(url, headers=bearer(token))
        assert response.status_code < 500, (url, response.status_code)
        if response.status_code == 200:
            texts[url] = _text_of(response)
    return texts


@pytest.fixture
def world(make_checkin_class, client, make_staff):
    from bson import ObjectId

    klass = make_checkin_class(trainees=1, regions=("110000",))
    trainee = klass.trainees[0]
    profile = client.get("/api/v1/trainee/profile", headers=bearer(trainee.token)).json
    number = profile_body(serial=1, region_code="110000")["id_number"]
    assert profile["id_number"] == number[:6] + "********" + number[-4:]
    return {"klass": klass, "trainee": trainee, "number": number,
            "province": make_staff("province_staff", region_code="110000"),
            "supervisor": klass.supervisor,
            "admin": make_staff("admin"),
            "other_supervisor": make_staff("supervisor", class_ids=[])}


@pytest.mark.parametrize("role", ["province", "supervisor", "other_supervisor"])
def test_staff_who_see_masked_numbers_cannot_rebuild_the_hidden_digits(client, world, role):
    number = world["number"]
    texts = _readable(client, world[role], world["klass"], world["trainee"],
                      region_code="110000" if role == "province" else None)
    if role != "other_supervisor":
        assert any(number[:6] + "********" + number[-4:] in t for t in texts.values()), "masked number shown"
    hidden = number[6:14]
    for url, text in texts.items():
        assert number not in text, url
        for form in _birth_date_forms(hidden):
            assert form not in text, (url, form)
        # Nor an age: one that ticks over on the birthday tells the birthday.
        assert not re.search(r'"age"\s*:', text), url


def test_the_birth_date_is_null_for_province_staff_in_the_snapshot(client, world):
    response = client.get(f"/api/v1/registrations/{world['trainee'].registration_id}",
                          headers=bearer(world["province"]))
    assert response.status_code == 200
    assert response.json["snapshot"]["birth_date"] is None
    assert response.json["snapshot"]["id_number"] == world["number"][:6] + "********" + world["number"][-4:]


def test_the_trainee_and_organizers_see_the_birth_date(client, world):
    rid = world["trainee"].registration_id
    for token in (world["trainee"].token, world["admin"]):
        assert client.get(f"/api/v1/registrations/{rid}", headers=bearer(token)).json["snapshot"]["birth_date"] \
            == "1970-01-01"


def test_only_organizers_get_the_full_number_and_only_in_the_certificate_roster(client, world):
    cid = world["klass"].id
    full = client.get(f"/api/v1/classes/{cid}/roster.xlsx?for_certificates=true", headers=bearer(world["admin"]))
    assert full.status_code == 200 and world["number"] in _text_of(full)
    for role in ("province", "supervisor"):
        refused = client.get(f"/api/v1/classes/{cid}/roster.xlsx?for_certificates=true", headers=bearer(world[role]))
        assert refused.status_code == 403
