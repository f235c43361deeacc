"""Province review list filters (姓名, 企业, 小巨人) and the registration's files for the reviewer."""

import io

from bson import ObjectId

from tests.conftest import bearer
from tests.factories import create_class, create_programme, credit_code, profile_body
from tests.trainees.test_attachments_api import png_bytes


def _ids(response):
    assert response.status_code == 200, response.json
    return sorted(item["id"] for item in response.json["items"]), response.json["total"]


def test_filters_by_name_enterprise_and_little_giant(client, db, admin_token, programme, make_trainee, apply,
                                                     staff_bj, staff_gd):
    klass = create_class(client, admin_token, programme["id"], publish=True)
    zhang = apply(make_trainee(1, name="张伟"), klass["id"])
    ouyang = apply(make_trainee(2, name="欧阳·娜娜",
                                enterprise={**profile_body(2)["enterprise"], "name": "宁波(甬江)精密模具有限公司"}),
                   klass["id"])
    li = apply(make_trainee(3, name="李娜"), klass["id"])
    # 小巨人 valid on the class's start date for trainee 1; expired before it for trainee 3.
    db.enterprises.insert_many([
        {"credit_code": credit_code(1), "title": "小巨人", "region_code": "110000",
         "valid_from": "2020-01-01", "valid_until": "2099-12-31"},
        {"credit_code": credit_code(3), "title": "小巨人", "region_code": "110000",
         "valid_from": "2015-01-01", "valid_until": "2018-12-31"},
        {"credit_code": credit_code(2), "title": "单项冠军", "region_code": "110000",
         "valid_from": "2020-01-01", "valid_until": "2099-12-31"}])
    base = f"/api/v1/registrations?class_id={klass['id']}"

    def listing(query, token=staff_bj):
        return _ids(client.get(base + query, headers=bearer(token)))

    assert listing("&name=娜") == (sorted([ouyang["id"], li["id"]]), 2)
    assert listing("&name=欧阳•娜娜") == ([ouyang["id"]], 1)  # the name's dot typed another way
    assert listing("&enterprise=(甬江)") == ([ouyang["id"]], 1)  # regex characters are plain text
    assert listing(f"&enterprise={credit_code(1).lower()}") == ([zhang["id"]], 1)
    assert listing("&little_giant=true") == ([zhang["id"]], 1)
    assert listing("&little_giant=false") == (sorted([ouyang["id"], li["id"]]), 2)
    assert listing("&little_giant=true&name=李") == ([], 0)
    assert listing("&little_giant=false&state=submitted&page_size=1")[1] == 2
    # The list's check says the same as the filter.
    rows = client.get(base + "&little_giant=true", headers=bearer(staff_bj)).json["items"]
    assert [r["checks"]["little_giant_valid"] for r in rows] == [True]
    # Another region's staff see none of them, whatever the filter.
    assert listing("&name=张", token=staff_gd) == ([], 0)
    # Bad values: 422 with the field named.
    bad = client.get(base + "&little_giant=maybe", headers=bearer(staff_bj))
    assert bad.status_code == 422 and "little_giant" in bad.json["errors"]
    long_name = client.get(base + "&name=" + "张" * 31, headers=bearer(staff_bj))
    assert long_name.status_code == 422 and "name" in long_name.json["errors"]


def test_reviewer_reads_the_registrations_files(client, admin_token, programme, make_trainee, staff_bj, staff_gd,
                                               make_staff):
    klass = create_class(client, admin_token, programme["id"], publish=True)
    trainee = make_trainee(5)
    licence = client.post("/api/v1/trainee/attachments", headers=bearer(trainee), content_type="multipart/form-data",
                          data={"kind": "business_licence", "file": (io.BytesIO(png_bytes()), "营业执照.png")}).json
    rid = client.post("/api/v1/registrations", json={"class_id": klass["id"], "attachment_ids": [licence["id"]]},
                      headers=bearer(trainee)).json["id"]
    assert client.post(f"/api/v1/registrations/{rid}/submit", headers=bearer(trainee)).status_code == 200

    seen = client.get(f"/api/v1/registrations/{rid}", headers=bearer(staff_bj)).json
    assert [(a["id"], a["kind"], a["filename"], a["content_type"]) for a in seen["attachments"]] == [
        (licence["id"], "business_licence", licence["filename"], "image/png")]
    assert seen["snapshot"]["name"] == "张伟" and seen["snapshot"]["birth_date"] is None
    download = client.get(f"/api/v1/attachments/{licence['id']}", headers=bearer(staff_bj))
    assert download.status_code == 200 and download.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(f"/api/v1/registrations/{rid}", headers=bearer(staff_gd)).status_code == 404
    assert client.get(f"/api/v1/attachments/{licence['id']}", headers=bearer(staff_gd)).status_code == 404
    assert client.get(f"/api/v1/registrations/{rid}", headers=bearer(admin_token)).json["attachments"][0]["id"] == \
        licence["id"]
    own = client.get(f"/api/v1/registrations/{rid}", headers=bearer(trainee)).json
    assert [a["id"] for a in own["attachments"]] == [licence["id"]]
    # A class supervisor reads the registration but not the files (the download would be refused too).
    supervisor = make_staff("supervisor", class_ids=[ObjectId(klass["id"])])
    seen = client.get(f"/api/v1/registrations/{rid}", headers=bearer(supervisor))
    assert seen.status_code == 200 and seen.json["attachments"] is None
    assert client.get(f"/api/v1/attachments/{licence['id']}", headers=bearer(supervisor)).status_code == 404
