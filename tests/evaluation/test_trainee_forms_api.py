"""附1-3 trainee information forms: one sheet per confirmed trainee with the photo, an index sheet,
full or masked ID numbers by role, scope refusals."""

import io

import openpyxl
import pytest
from bson import ObjectId
from PIL import Image

from tests.conftest import bearer
from tests.factories import create_class, create_programme, id_number, profile_body


def photo_bytes(color="navy"):
    buffer = io.BytesIO()
    Image.new("RGB", (300, 420), color).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def forms_world(client, login, admin_token, make_staff):
    """Class with places for 110000 and 440000. Confirmed: 张伟 (110000, photo), 阿依古丽·买买提 (110000, no
    photo), 李娜 (440000, photo). 王强 (110000) only submitted: not on any form."""
    programme = create_programme(client, admin_token)
    klass = create_class(client, admin_token, programme["id"], publish=True)
    staff = {"110000": make_staff("province_staff", region_code="110000"),
             "440000": make_staff("province_staff", region_code="440000")}

    def upload(token, color):
        uploaded = client.post("/api/v1/trainee/attachments", headers=bearer(token), content_type="multipart/form-data",
                               data={"kind": "photo", "file": (io.BytesIO(photo_bytes(color)), "me.jpg")})
        assert uploaded.status_code == 201, uploaded.json
        return uploaded.json["id"]

    def trainee(serial, name, region, male=True, photo=False, attach=True, confirm=True):
        token = login(f"forms-trainee-{serial}")
        body = profile_body(serial=serial, region_code=region, male=male, name=name)
        assert client.put("/api/v1/trainee/profile", json=body, headers=bearer(token)).status_code == 200
        attachment_ids = []
        if photo:
            photo_id = upload(token, "navy")
            if attach:
                attachment_ids.append(photo_id)
        created = client.post("/api/v1/registrations", json={"class_id": klass["id"], "attachment_ids": attachment_ids},
                              headers=bearer(token))
        assert created.status_code == 201, created.json
        rid = created.json["id"]
        assert client.post(f"/api/v1/registrations/{rid}/submit", headers=bearer(token)).status_code == 200
        if confirm:
            for who, action in ((staff[region], "recommend"), (admin_token, "admit")):
                decided = client.post(f"/api/v1/registrations/{rid}/decision", json={"action": action},
                                      headers=bearer(who))
                assert decided.status_code == 200, decided.json
            confirmed = client.post(f"/api/v1/registrations/{rid}/confirm", headers=bearer(token))
            assert confirmed.status_code == 200, confirmed.json
        body["token"] = token
        return body

    people = {"张伟": trainee(1, "张伟", "110000", photo=True),
              "阿依古丽·买买提": trainee(2, "阿依古丽·买买提", "110000", male=False),
              "李娜": trainee(3, "李娜", "440000", male=False, photo=True, attach=False),
              "王强": trainee(4, "王强", "110000", confirm=False)}
    upload(people["张伟"]["token"], "red")  # newer, but not the one attached to the registration
    return klass, staff, people


def forms(client, token, class_id, region_code=None):
    query = f"?region_code={region_code}" if region_code else ""
    return client.get(f"/api/v1/classes/{class_id}/trainee-forms.xlsx{query}", headers=bearer(token))


def workbook_of(response):
    assert response.status_code == 200, response.json
    return openpyxl.load_workbook(io.BytesIO(response.data))


def test_organizer_gets_every_confirmed_trainee_with_full_numbers(client, admin_token, forms_world):
    klass, _, people = forms_world
    response = forms(client, admin_token, klass["id"])
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    workbook = workbook_of(response)
    assert workbook.sheetnames == ["目录", "01-张伟", "02-阿依古丽·买买提", "03-李娜"]
    index = list(workbook["目录"].iter_rows(values_only=True))
    assert index[0] == ("序号", "姓名", "地区", "企业名称", "工作表", "照片")
    assert [(r[1], r[2], r[4], r[5]) for r in index[1:]] == [("张伟", "北京市", "01-张伟", "有"),
                                                             ("阿依古丽·买买提", "北京市", "02-阿依古丽·买买提", "无"),
                                                             ("李娜", "广东省", "03-李娜", "有")]
    sheet = workbook["01-张伟"]
    assert sheet["A1"].value == "专精特新“小巨人”培训学员信息表"
    assert (sheet["A3"].value, sheet["B3"].value, sheet["D3"].value, sheet["E3"].value) == ("姓　名", "张伟", "性　别", "男")
    assert (sheet["A4"].value, sheet["B4"].value, sheet["E4"].value) == ("政治面貌", "中共党员", "汉族")
    assert (sheet["A5"].value, sheet["B5"].value) == ("身份证号码", id_number(sequence=1))
    assert (sheet["B6"].value, sheet["E6"].value) == ("13900000001", "zhangwei@example.com")
    assert (sheet["B7"].value, sheet["E7"].value) == ("董事长", "15年")
    assert (sheet["A8"].value, sheet["B8"].value) == ("通讯地址", "北京市朝阳区建国路1号")
    assert {"G3:G7", "B5:F5", "A1:G1"} <= {str(r) for r in sheet.merged_cells.ranges}
    # the photo sits in the photo cell, shown at 1-inch size
    assert len(sheet._images) == 1
    anchor = sheet._images[0].anchor._from
    assert (anchor.row, anchor.col) == (2, 6)  # zero-based: G3
    # shown inside the 1-inch box (96 x 132 px at 96 dpi; 9525 EMU a pixel), proportions of 300 x 420 kept
    extent = sheet._images[0].anchor.ext
    assert (round(extent.width / 9525), round(extent.height / 9525)) == (94, 132)
    # the photo attached to the registration (navy), not the newer upload (red)
    shown = Image.open(io.BytesIO(sheet._images[0]._data()))
    red, green, blue = shown.convert("RGB").getpixel((shown.width // 2, shown.height // 2))
    assert blue > 100 and red < 60, (red, green, blue)
    values = [c for row in sheet.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert "清华大学" in values and "1988-09—1992-07" in values and "机械工程" in values and "学士" in values
    assert "市工商联常委" in values and "优秀企业家" in values
    assert people["张伟"]["enterprise"]["credit_code"] in values
    titles = next(v for v in values if v.startswith("1. 制造业单项冠军企业"))
    assert "1. 制造业单项冠军企业 ☐" in titles and "2. 高新技术企业 ☑" in titles and "10. 其他 ☑（小巨人）" in titles
    listing = next(v for v in values if v.startswith("☐是 ☑否"))
    assert "（☑有/☐无）" in listing and "☑已股改" in listing and "☑科创板" in listing
    no_photo = workbook["02-阿依古丽·买买提"]
    assert no_photo._images == [] and no_photo["G3"].value == "照片" and no_photo["E3"].value == "女"


def test_province_staff_get_their_region_masked(client, forms_world):
    klass, staff, _ = forms_world
    workbook = workbook_of(forms(client, staff["110000"], klass["id"]))
    assert workbook.sheetnames == ["目录", "01-张伟", "02-阿依古丽·买买提"]
    full = id_number(sequence=1)
    assert workbook["01-张伟"]["B5"].value == full[:6] + "********" + full[-4:]
    assert workbook["01-张伟"]["B6"].value == "139****0001"
    guangdong = workbook_of(forms(client, staff["440000"], klass["id"], region_code="440000"))
    # 李娜 attached no photo to the registration: her newest uploaded photo is used
    assert guangdong.sheetnames == ["目录", "01-李娜"] and len(guangdong["01-李娜"]._images) == 1


def test_supervisors_get_masked_numbers(client, make_staff, forms_world):
    klass, _, _ = forms_world
    supervisor = make_staff("supervisor", class_ids=[ObjectId(klass["id"])])
    workbook = workbook_of(forms(client, supervisor, klass["id"]))
    assert len(workbook.sheetnames) == 4
    full = id_number(sequence=1)
    sheet = workbook["01-张伟"]
    assert sheet["B5"].value == full[:6] + "********" + full[-4:]
    assert sheet["B6"].value == "139****0001"
    every_value = [c for name in workbook.sheetnames for row in workbook[name].iter_rows(values_only=True)
                   for c in row if isinstance(c, str)]
    assert not any(full in v or "13900000001" in v for v in every_value)


def test_scope(client, make_staff, forms_world):
    klass, staff, _ = forms_world
    refused = forms(client, staff["440000"], klass["id"], region_code="110000")
    assert refused.status_code == 403 and refused.json["code"] == "OUT_OF_SCOPE"
    tianjin = make_staff("province_staff", region_code="120000")  # no places in the class
    assert forms(client, tianjin, klass["id"]).json["code"] == "OUT_OF_SCOPE"
    other_supervisor = make_staff("supervisor", class_ids=[])
    assert forms(client, other_supervisor, klass["id"]).json["code"] == "OUT_OF_SCOPE"
    trainee = client.post("/api/v1/auth/wx-login", json={"code": "forms-outsider.1"}).json["token"]
    assert forms(client, trainee, klass["id"]).json["code"] == "ROLE_REQUIRED"
    missing = forms(client, staff["110000"], "0" * 24)
    assert missing.status_code == 404 and missing.json["code"] == "CLASS_NOT_FOUND"


def test_unknown_region_is_not_found(client, admin_token, forms_world):
    klass, _, _ = forms_world
    unknown = forms(client, admin_token, klass["id"], region_code="999999")
    assert unknown.status_code == 404 and unknown.json["code"] == "REGION_NOT_FOUND"


def test_a_pdf_or_unreadable_newest_photo_falls_back_to_an_older_image(client, app, admin_token, forms_world):
    """李娜's newest photo uploads are a PDF and a truncated JPEG (stored before uploads were
    re-encoded): her older navy JPEG is placed and the index says 有."""
    from service.trainees import repository as trainee_repo

    klass, _, people = forms_world
    token = people["李娜"]["token"]
    pdf = client.post("/api/v1/trainee/attachments", headers=bearer(token), content_type="multipart/form-data",
                      data={"kind": "photo", "file": (io.BytesIO(_pdf()), "me.pdf")})
    assert pdf.status_code == 201 and pdf.json["content_type"] == "application/pdf", pdf.json
    owner = trainee_repo_owner(app, pdf.json["id"])
    with app.app_context():
        trainee_repo.store_attachment(owner_id=owner, kind="photo", filename="photo.jpg",
                                      content_type="image/jpeg", data=photo_bytes("red")[:400])
    workbook = workbook_of(forms(client, admin_token, klass["id"]))
    assert [r[5] for r in workbook["目录"].iter_rows(min_row=2, values_only=True)] == ["有", "无", "有"]
    sheet = workbook["03-李娜"]
    assert len(sheet._images) == 1
    shown = Image.open(io.BytesIO(sheet._images[0]._data())).convert("RGB")
    red, _, blue = shown.getpixel((shown.width // 2, shown.height // 2))
    assert blue > 100 and red < 60


def test_no_usable_photo_is_none(client, app, admin_token, forms_world):
    """阿依古丽·买买提 uploads only a PDF as her photo: no picture, 无 in the index."""
    klass, _, people = forms_world
    token = people["阿依古丽·买买提"]["token"]
    pdf = client.post("/api/v1/trainee/attachments", headers=bearer(token), content_type="multipart/form-data",
                      data={"kind": "photo", "file": (io.BytesIO(_pdf()), "me.pdf")})
    assert pdf.status_code == 201, pdf.json
    workbook = workbook_of(forms(client, admin_token, klass["id"]))
    assert [r[5] for r in workbook["目录"].iter_rows(min_row=2, values_only=True)] == ["有", "无", "有"]
    assert workbook["02-阿依古丽·买买提"]._images == []


def trainee_repo_owner(app, attachment_id):
    from service.trainees import repository as trainee_repo

    with app.app_context():
        return trainee_repo.attachment_info(ObjectId(attachment_id))["metadata"]["owner_id"]


def _pdf():
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
