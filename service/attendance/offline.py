"""Personal-code scans a supervisor's device made without signal (现场教学) and uploads later.

Like pretix's scanning apps (its redeem API takes the scan's `datetime` and a `nonce`), each scan
carries when it was made (`scanned_at`) and a nonce. A scan counts when
  - `scanned_at` is not in the future and the upload comes within OFFLINE_UPLOAD_HOURS of it,
  - `scanned_at` lies in the session's check-in window,
  - the personal code was valid at `scanned_at` (the code's own rotation, judged at that time),
  - the trainee is confirmed in the class, and the uploader supervises it (the whole upload).
Lateness is judged at `scanned_at`. Each scan gets its own answer; a scan uploaded again (same
nonce) is answered as the first time. A trainee whom closing recorded absent meanwhile becomes
present or late, with the change in the record's history; excused stays excused, and so does an
absence a supervisor set by hand.
"""

import datetime as dt

from flask import current_app

from service.attendance import repository, roster, tokens
from service.attendance.service import ABSENT, LATE, PRESENT, STATUS_NAMES, new_record
from service.classes import rules as class_rules
from service.core.auth import ensure_class
from service.core.db import utcnow
from service.core.errors import RuleViolation
from service.registrations import repository as registrations

OFFLINE_FLAG = "offline"


class _Refused(Exception):
    def __init__(self, code, message, record=None, trainee_name=None):
        super().__init__(code)
        self.code, self.message, self.record, self.trainee_name = code, message, record, trainee_name


def upload(*, identity, session_id, items, device_id=None):
    """Record a batch of offline scans; -> {session_id, results: [one answer per item, in order]}."""
    class_doc, session = roster.session_context(session_id)
    ensure_class(identity, class_doc["_id"])
    if class_rules.is_cancelled(session):
        raise RuleViolation("SESSION_CANCELLED", "本节课已取消，无需签到")
    window = class_rules.effective_checkin(class_doc, session)
    now = utcnow()
    results = []
    for item in items:
        try:
            result, record, name = _one(class_doc, session, window, item, now=now, uploader=identity.user_id,
                                         device_id=item.get("device_id") or device_id)
            results.append({"nonce": item["nonce"], "result": result, "code": None, "message": None,
                            "trainee_name": name, "record": record})
        except _Refused as refused:
            results.append({"nonce": item["nonce"], "result": "refused", "code": refused.code,
                            "message": refused.message, "trainee_name": refused.trainee_name,
                            "record": refused.record})
    return {"session_id": session_id, "results": results}


def _one(class_doc, session, window, item, *, now, uploader, device_id):
    scanned_at = item["scanned_at"]
    scanned_at = item["scanned_at"] = scanned_at.replace(microsecond=scanned_at.microsecond // 1000 * 1000)  # BSON ms
    # A device clock a little ahead of ours is normal; the scan then counts as made now at the latest.
    if scanned_at > now + dt.timedelta(seconds=current_app.config["OFFLINE_CLOCK_DRIFT_SECONDS"]):
        raise _Refused("SCANNED_AT_IN_FUTURE", "扫码时间晚于当前时间，请检查设备时钟")
    if scanned_at > now:
        scanned_at = item["scanned_at"] = now.replace(microsecond=now.microsecond // 1000 * 1000)
    if now - scanned_at > dt.timedelta(hours=current_app.config["OFFLINE_UPLOAD_HOURS"]):
        raise _Refused("UPLOAD_TOO_LATE",
                       f"离线扫码须在 {current_app.config['OFFLINE_UPLOAD_HOURS']} 小时内上传，本次已超时")
    if not window["checkin_opens_at"] <= scanned_at <= window["checkin_closes_at"]:
        raise _Refused("SCAN_OUTSIDE_WINDOW", "扫码时间不在本节课的签到时间内")
    try:
        registration_id = tokens.verify(tokens.PERSONAL, item["code"], now=scanned_at.timestamp())
    except tokens.CodeError as exc:
        if exc.reason == "expired":
            raise _Refused("CODE_EXPIRED", "扫码时该学员的签到码已过期") from None
        raise _Refused("CODE_INVALID", "无效的签到码（或扫码时该签到码尚未生成）") from None
    found = roster.confirmed_by_registration(class_doc["_id"], registration_id)
    if found is None:
        other_class_id = registrations.class_of(registration_id)
        if other_class_id is not None and other_class_id != class_doc["_id"]:
            raise _Refused("PERSONAL_CODE_OTHER_CLASS", "该学员不是本班学员")
        raise _Refused("NOT_ENROLLED", "该学员未确认参训本班")
    user_id, registration = found
    status = PRESENT if scanned_at <= window["late_after"] else LATE
    record, created = repository.insert(new_record(
        class_doc=class_doc, session=session, user_id=user_id, registration=registration, status=status,
        method=OFFLINE_FLAG, now=scanned_at, by=uploader,
        extra={"nonce": item["nonce"], "device_id": device_id, "flags": [OFFLINE_FLAG], "scanned_by": uploader,
               "uploaded_at": now}))
    if created:
        return "checked_in", record, registration["name"]
    return _onto_existing(record, status=status, item=item, now=now, uploader=uploader,
                          name=registration["name"], device_id=device_id)


def _onto_existing(record, *, status, item, now, uploader, name, device_id):
    if record.get("nonce") == item["nonce"]:
        return "checked_in", record, name  # this very scan, uploaded again
    if record["status"] in (PRESENT, LATE):
        return "already_checked_in", record, name
    if record["status"] == ABSENT and record.get("method") == "close":
        # Closing recorded an absence while the scan waited on the device: the scan wins.
        changed = repository.set_status(
            session_id=record["session_id"], user_id=record["user_id"], expected_status=ABSENT,
            expected_method="close",
            new_fields={"status": status, "method": OFFLINE_FLAG, "checked_in_at": item["scanned_at"],
                        "nonce": item["nonce"], "flags": [OFFLINE_FLAG], "scanned_by": uploader,
                        "device_id": device_id, "uploaded_at": now},
            history_entry={"at": now, "by": uploader, "from": ABSENT, "to": status, "reason": "offline_scan",
                           "scanned_at": item["scanned_at"], "nonce": item["nonce"]})
        if changed is not None:
            return "checked_in", changed, name
        record = repository.find_one(session_id=record["session_id"], user_id=record["user_id"])
        return _onto_existing(record, status=status, item=item, now=now, uploader=uploader, name=name,
                              device_id=device_id)
    raise _Refused("ALREADY_MARKED", f"该学员本节课已被记为“{STATUS_NAMES[record['status']]}”，离线扫码不改变此记录",
                   record=record, trainee_name=name)
