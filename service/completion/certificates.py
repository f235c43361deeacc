"""Completion certificates (结业证书): bulk issue, public verification, revocation, the PNG.

The verification link carries a check code (an HMAC of the number): numbers are sequential
and printed on paper, so without the code anyone could walk through them and list the trainees
of every class. With it, only someone holding the certificate (or its QR) can look it up. The
code is 20 hex characters (80 bits; 8 were 32 bits): with failed look-ups limited per address
(RATELIMIT_CERTIFICATE_FAILURES) even a million addresses guessing for years find nothing.
"""

import datetime as dt
import hashlib
import hmac
from urllib.parse import quote

from flask import current_app

from service.classes import service as classes
from service.completion import repository
from service.completion.service import evaluate, is_finished
from service.core.db import utcnow
from service.core.errors import Conflict, NotFound, RuleViolation
from service.core.images import Page
from service.core.timeutil import BEIJING
from service.registrations import repository as registrations

VALID, REVOKED = "valid", "revoked"
CHECK_CODE_LENGTH = 20


def check_code(number):
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"certificate:{number}".encode(), hashlib.sha256)
    return digest.hexdigest()[:CHECK_CODE_LENGTH].upper()


def verify_url(number, base_url):
    base = base_url.rstrip("/")
    return f"{base}/api/v1/certificates/verify/{quote(number)}?code={check_code(number)}"


def mask_name(name):
    """张伟 -> 张*, 欧阳娜娜 -> 欧**娜: enough to recognise, not enough to identify."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def view(certificate, base_url):
    return {**certificate, "check_code": check_code(certificate["number"]),
            "verify_url": verify_url(certificate["number"], base_url)}


# ---- issuing ---------------------------------------------------------------------------

def issue(*, class_id, issued_by, registration_ids=None, issued_on=None, base_url=""):
    """Issue certificates to the class's eligible trainees (all, or the given registrations).

    Trainees who already hold a valid certificate are skipped; those who do not meet the rule
    are listed with the failed conditions. Safe to run again.
    """
    class_doc = classes.get_or_raise(class_id=class_id)
    now = utcnow()
    if not is_finished(class_doc, now):
        raise RuleViolation("CLASS_NOT_FINISHED", "班级课程尚未全部结束，不能颁发结业证书")
    report = evaluate(class_doc=class_doc, now=now)
    rows = report["rows"]
    if registration_ids is not None:
        wanted = set(registration_ids)
        known = {r["registration_id"] for r in rows}
        unknown = sorted(str(r) for r in wanted - known)
        if unknown:
            raise RuleViolation("NOT_CLASS_TRAINEE", "所选学员不是本班确认参训的学员",
                                errors={"registration_ids": unknown})
        rows = [r for r in rows if r["registration_id"] in wanted]
    issued_on = (issued_on or now.astimezone(BEIJING).date()).isoformat()
    year = class_doc.get("year") or now.astimezone(BEIJING).year
    result = {"issued": [], "already_issued": [], "not_eligible": []}
    due = []
    for row in rows:
        if row["certificate_issued"]:
            result["already_issued"].append(row["registration_id"])
        elif not row["eligible"]:
            result["not_eligible"].append({"registration_id": row["registration_id"], "name": row["name"],
                                           "failed": row["failed"]})
        else:
            due.append(row)
    if not due:
        return result
    enterprises = {r["_id"]: r.get("enterprise_name") for r in registrations.confirmed_in_class(
        class_id, projection={"enterprise_name": 1})}
    # One $inc reserves the whole run's numbers; a row lost to a concurrent run leaves a gap.
    for row, serial in zip(due, repository.reserve_numbers(year, len(due))):
        number = f"LJ{year}{serial:05d}"
        certificate = {
            "number": number, "status": VALID, "class_id": class_id, "class_name": class_doc["name"],
            "institution": class_doc.get("institution"), "start_date": class_doc["start_date"],
            "end_date": class_doc["end_date"], "year": year, "registration_id": row["registration_id"],
            "user_id": row["user_id"], "region_code": row["region_code"], "name": row["name"],
            "enterprise_name": enterprises.get(row["registration_id"]),
            "issued_on": issued_on, "issued_at": now, "issued_by": issued_by,
            "figures": {"attendance_rate": row["attendance_rate"], "excused_share": row["excused_share"]},
        }
        try:
            repository.insert(certificate)
        except repository.AlreadyIssued:  # issued by a concurrent run a moment ago
            result["already_issued"].append(row["registration_id"])
            continue
        registrations.record_completion(registration_id=row["registration_id"], certificate=certificate)
        result["issued"].append(view(certificate, base_url))
    return result


def revoke(*, certificate_id, by, reason, base_url=""):
    """Revoke a certificate with a reason; verification then answers `revoked`."""
    certificate = get_or_raise(certificate_id=certificate_id)
    revoked = repository.revoke(certificate_id=certificate_id, by=by, reason=reason)
    if revoked is None:
        raise Conflict("CERTIFICATE_ALREADY_REVOKED", "该证书已撤销")
    registrations.record_completion(registration_id=certificate["registration_id"],
                                    revoked_number=certificate["number"])
    return view(revoked, base_url)


# ---- reading ---------------------------------------------------------------------------

def get_or_raise(*, certificate_id):
    certificate = repository.get(certificate_id)
    if certificate is None:
        raise NotFound("CERTIFICATE_NOT_FOUND", "证书不存在")
    return certificate


def can_read(identity, certificate):
    return (certificate["user_id"] == identity.user_id or identity.supervises(certificate["class_id"])
            or identity.covers_region(certificate["region_code"]))


def readable_or_raise(*, certificate_id, identity):
    certificate = repository.get(certificate_id)
    if certificate is None or not can_read(identity, certificate):
        raise NotFound("CERTIFICATE_NOT_FOUND", "证书不存在")
    return certificate


def list_for_class(*, class_id, region_codes=None, base_url=""):
    classes.get_or_raise(class_id=class_id)
    return [view(c, base_url) for c in repository.for_class(class_id, region_codes=region_codes)]


def mine(*, user_id, base_url=""):
    return [view(c, base_url) for c in repository.of_user(user_id)]


def verify(*, number, code):
    """Public: valid / revoked / unknown, with the masked name, class and date."""
    certificate = repository.by_number(number.strip().upper())
    # Bytes: compare_digest raises TypeError on a str with non-ASCII characters (?code=é).
    typed = (code or "").strip().upper().encode()
    if certificate is None or not hmac.compare_digest(check_code(certificate["number"]).encode(), typed):
        return {"status": "unknown", "number": number, "message": "未查到该证书，请核对证书编号和验证码"}
    answer = {"status": certificate["status"], "number": certificate["number"],
              "name_masked": mask_name(certificate["name"]), "class_name": certificate["class_name"],
              "institution": certificate.get("institution"), "issued_on": certificate["issued_on"]}
    if certificate["status"] == REVOKED:
        answer.update(revoked_on=certificate["revoked_at"].astimezone(BEIJING).date().isoformat(),
                      message="该证书已撤销")
    else:
        answer["message"] = "证书有效"
    return answer


def png(certificate, base_url):
    """The certificate as an image the trainee can save on the phone."""
    if certificate["status"] != VALID:
        raise RuleViolation("CERTIFICATE_REVOKED", "该证书已撤销，不能下载")
    page = Page(accent=(160, 20, 20))
    page.title("结业证书", size=56)
    page.line(f"{certificate['name']} 同志：", size=30)
    start, end = (dt.date.fromisoformat(certificate[k]) for k in ("start_date", "end_date"))
    page.line(f"于 {start:%Y年%m月%d日} 至 {end:%Y年%m月%d日} 参加“{certificate['class_name']}”，"
              "完成规定的学习任务，成绩合格，准予结业。", size=28)
    if certificate.get("institution"):
        page.line(f"培训机构：{certificate['institution']}", size=24)
    page.line(f"证书编号：{certificate['number']}", size=24, fill=(90, 90, 90))
    page.line(f"验证码：{check_code(certificate['number'])}", size=24, fill=(90, 90, 90))
    page.line(f"发证日期：{dt.date.fromisoformat(certificate['issued_on']):%Y年%m月%d日}", size=24)
    page.qr(verify_url(certificate["number"], base_url), caption="扫码验证 · 工业和信息化部人才交流中心")
    return page.png()
