"""Completion certificates (结业证书): bulk issue, public verification, revocation, the PNG.

The verification link carries a check code: numbers are sequential and printed on paper, so
without the code anyone could walk through them and list the trainees of every class. With it,
only someone holding the certificate (or its QR) can look it up.

Each certificate keeps the check code it was issued with (`check_code` on the document), so a
printed certificate verifies for as long as it exists, whatever later changes: new certificates get
20 random hex characters (80 bits). Certificates issued before codes were stored carry the 8 hex
characters (32 bits) of an HMAC of the number, printed on paper; they keep verifying with them.

Why guessing is hopeless (the limits are settings, see the README; figures at their defaults):
- every failed look-up counts against RATELIMIT_CERTIFICATE_FAILURES, 30 per 10 minutes per address
  = 4,320 guesses a day. A 20-hex code: a million addresses guessing for ten years make
  4,320 × 3,650 × 10^6 ≈ 1.6·10^13 guesses, a chance of 1.6·10^13 / 2^80 (1.2·10^24) ≈ 10^-11.
- an 8-hex legacy code has only 2^32 ≈ 4.3·10^9 values: the per-address limit alone would let
  10,000 addresses (4.3·10^7 guesses a day) find one certificate in about 100 days. So failed
  look-ups with an 8-character code are also limited per certificate number, whatever the address
  (RATELIMIT_LEGACY_CHECK_CODE_FAILURES, 5 per day): a number takes at most 1,825 such guesses a
  year, a chance of 1,825 / 2^32 ≈ 4·10^-7 per certificate and year; even 10,000 legacy certificates
  (more than were issued before the change) give one hit in about 230 years of non-stop guessing.
  The price: someone flooding one legacy number blocks its 8-character look-ups for the rest of the
  day (a 20-character code is never blocked by it); an organizer can revoke and reissue it with a
  long code.
"""

import datetime as dt
import hashlib
import hmac
import secrets
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
LEGACY_CHECK_CODE_LENGTH = 8


def new_check_code():
    """A fresh check code: 20 random hex characters (80 bits), stored with the certificate."""
    return secrets.token_hex(CHECK_CODE_LENGTH // 2).upper()


def _legacy_check_code(number):
    """The HMAC of the number that certificates issued before codes were stored carry (its first
    8 hex characters were printed)."""
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), f"certificate:{number}".encode(), hashlib.sha256)
    return digest.hexdigest().upper()


def check_code(certificate):
    """The check code printed on this certificate: the stored one, else the legacy 8 hex."""
    return certificate.get("check_code") or _legacy_check_code(certificate["number"])[:LEGACY_CHECK_CODE_LENGTH]


def _code_matches(certificate, typed):
    """Constant-time comparison with the code the certificate was issued with. A certificate without
    a stored code also takes the 20-hex HMAC prefix that was briefly printed before codes were
    stored (its first 8 characters are the legacy code, so this adds nothing to guess)."""
    stored = certificate.get("check_code")
    if stored:
        return hmac.compare_digest(stored.encode(), typed)
    full = _legacy_check_code(certificate["number"])
    return any(hmac.compare_digest(full[:length].encode(), typed)
               for length in (LEGACY_CHECK_CODE_LENGTH, CHECK_CODE_LENGTH))


def is_legacy_length(code):
    """Whether a typed code has the length of the short legacy codes (limited per number too)."""
    return len((code or "").strip()) <= LEGACY_CHECK_CODE_LENGTH


def verify_url(certificate, base_url):
    base = base_url.rstrip("/")
    return f"{base}/api/v1/certificates/verify/{quote(certificate['number'])}?code={check_code(certificate)}"


def mask_name(name):
    """张伟 -> 张*, 欧阳娜娜 -> 欧**娜: enough to recognise, not enough to identify."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def view(certificate, base_url):
    return {**certificate, "check_code": check_code(certificate),
            "verify_url": verify_url(certificate, base_url)}


# ---- issuing ---------------------------------------------------------------------------

def issue(*, class_id, issued_by, registration_ids=None, issued_on=None, reissue_revoked=False, base_url=""):
    """Issue certificates to the class's eligible trainees (all, or the given registrations).

    Trainees who already hold a valid certificate are skipped; those who do not meet the rule
    are listed with the failed conditions. Trainees whose certificate of this class was revoked
    are left out (`revoked_skipped`) unless `reissue_revoked` names them in `registration_ids`:
    a bulk run never silently undoes a revocation. Safe to run again.
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
    result = {"issued": [], "already_issued": [], "not_eligible": [], "revoked_skipped": []}
    revoked = {} if reissue_revoked else _revoked_by_registration(class_id)
    due = []
    for row in rows:
        if row["certificate_issued"]:
            result["already_issued"].append(row["registration_id"])
        elif row["registration_id"] in revoked:
            certificate = revoked[row["registration_id"]]
            result["revoked_skipped"].append({"registration_id": row["registration_id"], "name": row["name"],
                                              "revoked_number": certificate["number"],
                                              "revoke_reason": certificate.get("revoke_reason")})
        elif not row["eligible"]:
            result["not_eligible"].append({"registration_id": row["registration_id"], "name": row["name"],
                                           "failed": row["failed"]})
        else:
            due.append(row)
    if not due and not result["already_issued"]:
        return result
    confirmed = {r["_id"]: r for r in registrations.confirmed_in_class(
        class_id, projection={"enterprise_name": 1, "certificate_number": 1})}
    _finish_completions(class_id, result["already_issued"], confirmed)
    if not due:
        return result
    enterprises = {key: r.get("enterprise_name") for key, r in confirmed.items()}
    # One $inc reserves the whole run's numbers; a row lost to a concurrent run leaves a gap.
    for row, serial in zip(due, repository.reserve_numbers(year, len(due))):
        number = f"LJ{year}{serial:05d}"
        certificate = {
            "number": number, "check_code": new_check_code(), "status": VALID,
            "class_id": class_id, "class_name": class_doc["name"],
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


def _revoked_by_registration(class_id):
    """{registration_id: its latest revoked certificate} of the class, for trainees with no valid one."""
    revoked, valid = {}, set()
    for certificate in repository.for_class(class_id):  # ordered by number: the latest revoked wins
        if certificate["status"] == VALID:
            valid.add(certificate["registration_id"])
        else:
            revoked[certificate["registration_id"]] = certificate
    return {key: c for key, c in revoked.items() if key not in valid}


def _finish_completions(class_id, registration_ids, confirmed):
    """Record the completion of certificates issued by a run that the database cut short between a
    certificate and its registration's completion record: a re-run finishes it (nothing is
    written for a registration that already names its certificate)."""
    if not registration_ids:
        return
    wanted = set(registration_ids)
    for certificate in repository.for_class(class_id):
        registration_id = certificate["registration_id"]
        if (certificate["status"] == VALID and registration_id in wanted
                and confirmed.get(registration_id, {}).get("certificate_number") != certificate["number"]):
            registrations.record_completion(registration_id=registration_id, certificate=certificate)


def revoke(*, certificate_id, by, reason, base_url=""):
    """Revoke a certificate with a reason; verification then answers `revoked`."""
    certificate = get_or_raise(certificate_id=certificate_id)
    revoked = repository.revoke(certificate_id=certificate_id, by=by, reason=reason)
    cleared = registrations.record_completion(registration_id=certificate["registration_id"],
                                              revoked_number=certificate["number"])
    if revoked is None:
        # Revoked before. If the registration still named it as completed, the database failed
        # between the two writes: this same request, sent again, has just finished it.
        if certificate["status"] == "revoked" and cleared:
            return view(certificate, base_url)
        raise Conflict("CERTIFICATE_ALREADY_REVOKED", "该证书已撤销")
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
    if certificate is None or not _code_matches(certificate, typed):
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
    page.line(f"验证码：{check_code(certificate)}", size=24, fill=(90, 90, 90))
    page.line(f"发证日期：{dt.date.fromisoformat(certificate['issued_on']):%Y年%m月%d日}", size=24)
    page.qr(verify_url(certificate, base_url), caption="扫码验证 · 工业和信息化部人才交流中心")
    return page.png()
