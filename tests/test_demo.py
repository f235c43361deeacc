"""`serve --demo` data: alive at whatever hour it starts, built through the services."""

import datetime as dt

import pytest
import time_machine

from service import demo
from service.core import crypto
from service.core.identifiers import RESIDENT_ID, parse_id_number
from service.core.timeutil import BEIJING
from tests.conftest import bearer


def _board(client, login, session_id):
    response = client.get(f"/api/v1/sessions/{session_id}/board", headers=bearer(login("demo-supervisor")))
    assert response.status_code == 200, response.json
    return response.json


@pytest.mark.parametrize("hour", [3, 14])
def test_demo_started_at_any_hour_has_a_session_open_for_check_in(app, client, login, hour):
    start = dt.datetime.combine(dt.date.today() + dt.timedelta(days=3), dt.time(hour, 0), tzinfo=BEIJING)
    with time_machine.travel(start, tick=True):
        with app.app_context():
            demo.seed()
            session = demo.open_session()
            klass = demo.running_class()
        assert session is not None
        assert session["starts_at"] <= start.astimezone(dt.timezone.utc) < session["ends_at"]
        later = [s for s in klass["sessions"] if s["starts_at"] >= session["ends_at"]]
        assert later and later[0]["starts_at"] - session["ends_at"] <= dt.timedelta(hours=1)

        board = _board(client, login, str(session["_id"]))
        counts = board["counts"]
        assert counts["expected"] >= 40
        assert counts["present"] > 0 and counts["late"] > 0 and counts["on_leave"] == 1
        assert counts["missing"] > 0
        assert counts["expected"] == counts["checked_in"] + counts["on_leave"] + counts["missing"]
        assert len({m["region_code"] for m in board["missing"]}) >= 3

        # demo-trainee-1 has not checked in yet: scanning the projector's code moves the board.
        code = client.get(f"/api/v1/sessions/{session['_id']}/checkin-code",
                          headers=bearer(login("demo-supervisor"))).json["code"]
        checked = client.post("/api/v1/checkins", json={"code": code}, headers=bearer(login("demo-trainee-1")))
        assert checked.status_code == 200, checked.json
        assert checked.json["result"] == "checked_in"
        assert _board(client, login, str(session["_id"]))["counts"]["checked_in"] == counts["checked_in"] + 1


def test_demo_people_and_classes_are_each_in_a_telling_state(app, client, login, db):
    with app.app_context():
        demo.seed()
        running = demo.running_class()
    classes = {c["name"][:3]: c for c in db["classes"].find()}
    assert len(classes) == 10
    finished, open_class = classes["第1期"], classes["第3期"]
    assert (finished["status"], running["status"], open_class["status"]) == ("finished", "in_progress", "published")

    # Running class: 40+ confirmed trainees of several regions with complete, valid profiles.
    confirmed = list(db["registrations"].find({"class_id": running["_id"], "state": "confirmed"}))
    assert len(confirmed) >= 40
    assert len({r["region_code"] for r in confirmed}) >= 4
    with app.app_context():
        numbers = [crypto.decrypt(p["id_number_enc"]) for p in db["trainee_profiles"].find()]
    assert len(numbers) >= 40 + 28
    for number in numbers:
        card = parse_id_number(number)  # length, area, birth date and check character
        assert card.kind == RESIDENT_ID
        assert 1960 <= card.birth_date.year <= 1990

    # Leave: one approved (today's open session), one waiting for demo-staff-bj.
    staff_bj = login("demo-staff-bj")
    inbox = client.get("/api/v1/leave-requests", headers=bearer(staff_bj))
    assert inbox.status_code == 200, inbox.json
    assert [item["state"] for item in inbox.json["items"]] == ["submitted"]
    assert db["leave_requests"].count_documents({"state": "approved", "region_code": "440000"}) == 1

    # Registrations waiting for each province's staff; one returned with its reason.
    for person, region_code in (("demo-staff-bj", "110000"), ("demo-staff-gd", "440000")):
        waiting = client.get("/api/v1/registrations", query_string={"state": "submitted"},
                             headers=bearer(login(person)))
        assert waiting.status_code == 200, waiting.json
        assert waiting.json["items"] and {i["region_code"] for i in waiting.json["items"]} == {region_code}
    returned = db["registrations"].find_one({"state": "returned"})
    assert returned["history"][-1]["reason"] == demo.RETURN_REASON
    trainee_2 = client.get("/api/v1/registrations/mine", headers=bearer(login("demo-trainee-2"))).json
    assert [r["state"] for r in trainee_2] == ["submitted"]
    assert client.get("/api/v1/registrations/mine", headers=bearer(login("demo-trainee-3"))).json == []

    # Finished class: ratings with flags, completion worked out, certificates issued (not to all).
    admin = login("demo-admin")
    satisfaction = client.get(f"/api/v1/classes/{finished['_id']}/satisfaction", headers=bearer(admin)).json
    assert any(s["flagged"] for s in satisfaction["sessions"])
    assert any(d["flagged"] for d in satisfaction["dimensions"])
    assert not all(s["flagged"] for s in satisfaction["sessions"])
    completion = client.get(f"/api/v1/classes/{finished['_id']}/completion", headers=bearer(admin)).json
    assert 0 < completion["certificates_issued"] == completion["eligible"] < completion["trainees"]
    report = client.get(f"/api/v1/reports/classes/{finished['_id']}.xlsx", headers=bearer(admin))
    assert report.status_code == 200 and report.data[:2] == b"PK"


def test_demo_seed_adds_nothing_the_second_time(app, db):
    with app.app_context():
        demo.seed()
        counts = {name: db[name].count_documents({}) for name in db.list_collection_names()}
        demo.seed()
    assert {name: db[name].count_documents({}) for name in db.list_collection_names()} == counts
    assert counts["classes"] == 10 and counts["programmes"] == 1


def test_synthetic_identity_numbers_pass_every_check_for_every_region():
    """Any region a demo trainee may come from, born 1960-1990: the strict checks (#13) and
    python-stdnum's county history both accept the number, and the form loads whole."""
    from stdnum.cn import ric

    from schemas.trainees import ProfileInputSchema
    from service.core import regions
    from service.demo import people

    rng = people.rng_for(7)
    for index, region_code in enumerate(sorted(regions.all_regions())):
        for year in (1960, 1975, 1990):
            number = people.id_number(region_code, dt.date(year, 2, 28), index, index % 2 == 1, rng)
            card = parse_id_number(number)
            assert card.birth_date.year == year and card.male == (index % 2 == 1)
            ric.validate(number)
        form = ProfileInputSchema().load(people.trainee(index, region_code, rng))
        assert form["enterprise"]["region_code"] == region_code


def test_demo_registry_gives_the_little_giant_coverage_real_figures(app, client, login, db):
    with app.app_context():
        demo.seed()
    year = db["classes"].find_one({"name": {"$regex": "^第2期"}})["year"]
    answer = client.get(f"/api/v1/reports/years/{year}/regions", headers=bearer(login("demo-admin")))
    assert answer.status_code == 200, answer.json
    shares = {r["region_code"]: r["little_giants"]["share"] for r in answer.json["regions"]
              if r["little_giants"]["in_registry"]}
    trained = sum(r["little_giants"]["trained"] for r in answer.json["regions"])
    assert trained > 0 and len(shares) >= 10  # coverage is no longer 0% everywhere
    assert any(s >= 0.3 for s in shares.values()) and any(s < 0.3 for s in shares.values())
