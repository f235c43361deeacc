"""Check-in endpoints: /api/v1/checkins, /api/v1/sessions/<id>/..., attendance reading."""

import datetime as dt
import time

from flask import Response, jsonify, request
from flask.views import MethodView

from schemas.attendance import (BoardSchema, CheckinResultSchema, ClassCodeCheckinSchema, CloseResultSchema,
                                CodeSchema, MarkResultSchema, MarkSchema, MyAttendanceSchema,
                                OfflineUploadResultSchema, OfflineUploadSchema,
                                PersonalCodeCheckinSchema, ProjectorLinkSchema, SheetSchema, checkin_answer)
from service.attendance import offline, projector, qr, reports, service
from service.core.auth import ADMIN, SUPERVISOR, current_identity, require
from service.core.blueprint import Blueprint
from service.core.errors import ServiceUnavailable
from service.core.ids import parse_object_id
from service.core.links import public_url
from service.core.ratelimit import documented, failures
from service.core.wechat import WeChatError, get_gateway
from service.registrations import service as registrations

blp = Blueprint("attendance", __name__, url_prefix="/api/v1", description="QR check-in attendance (签到考勤)")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHECKIN_PAGE = "pages/checkin/index"


def _sid(session_id):
    return parse_object_id(session_id, "SESSION_NOT_FOUND")


def _code_view(code_info):
    expires = code_info["expires_at"]
    return {"code": code_info["code"], "url": code_info["url"],
            "expires_at": dt.datetime.fromtimestamp(expires, dt.timezone.utc),
            "refresh_in_seconds": round(max(expires - time.time(), 0), 1)}


def _qr_image(session_id, render, mimetype):
    info = service.class_code(identity=current_identity(), session_id=_sid(session_id))
    return Response(render(info["url"]), mimetype=mimetype, headers={"Cache-Control": "no-store"})


def _answer(result):
    # The shape CheckinResultSchema documents, without the generic dump (see checkin_answer).
    return jsonify(checkin_answer(result))


# Wrong check-in codes count per user and session (RATELIMIT_CHECKIN_FAILURES); a valid code
# never touches the counter, so a whole class checking in from one address is never limited
# and a check-in costs no extra database round trip. Guessing a valid code is hopeless anyway
# (48-bit MAC, service/attendance/tokens.py): the limit stops the flood, it does not guard a secret.
CODE_FAILURES = frozenset({"CODE_INVALID", "CODE_EXPIRED", "CODE_OTHER_SESSION"})


def _code_failures(session_id="any"):
    return failures("RATELIMIT_CHECKIN_FAILURES", current_identity().user_id, session_id, codes=CODE_FAILURES,
                    message="签到码错误次数太多，请稍后再扫描屏幕上的最新签到码")


def _client_ip():
    return request.headers.get("X-Forwarded-For", request.remote_addr or "").split(",")[0].strip()


@blp.route("/checkins")
class Checkins(MethodView):
    @require()
    @documented
    @blp.arguments(ClassCodeCheckinSchema)
    @blp.response(200, CheckinResultSchema)
    def post(self, body):
        """Trainee: check in with the scanned class code (the session comes from the code)."""
        with _code_failures():
            return _answer(service.check_in_with_class_code(user_id=current_identity().user_id, ip=_client_ip(),
                                                            **body))


@blp.route("/sessions/<objectid:session_id>/checkins")
class SessionCheckins(MethodView):
    @require()
    @documented
    @blp.arguments(ClassCodeCheckinSchema)
    @blp.response(200, CheckinResultSchema)
    def post(self, body, session_id):
        """Trainee: check in to this session with its class code."""
        with _code_failures(session_id):
            return _answer(service.check_in_with_class_code(user_id=current_identity().user_id,
                                                            session_id=_sid(session_id), ip=_client_ip(), **body))


@blp.route("/sessions/<objectid:session_id>/checkins/personal")
class PersonalCheckins(MethodView):
    @require(SUPERVISOR, ADMIN)
    @blp.arguments(PersonalCodeCheckinSchema)
    @blp.response(200, CheckinResultSchema)
    def post(self, body, session_id):
        """Supervisor: check a trainee in by scanning their personal code."""
        return _answer(service.check_in_with_personal_code(identity=current_identity(), session_id=_sid(session_id),
                                                           ip=_client_ip(), **body))


@blp.route("/sessions/<objectid:session_id>/checkins/offline")
class OfflineCheckins(MethodView):
    @require(SUPERVISOR, ADMIN)
    @blp.arguments(OfflineUploadSchema)
    @blp.response(200, OfflineUploadResultSchema)
    def post(self, body, session_id):
        """Supervisor: upload personal-code scans made offline (each with scanned_at and a nonce)."""
        return offline.upload(identity=current_identity(), session_id=_sid(session_id), **body)


@blp.route("/sessions/<objectid:session_id>/checkin-code")
class ClassCode(MethodView):
    @require(SUPERVISOR, ADMIN)
    @blp.response(200, CodeSchema)
    def get(self, session_id):
        """Supervisor: the class code to show now (rotates every 15 s)."""
        return _code_view(service.class_code(identity=current_identity(), session_id=_sid(session_id)))


@blp.route("/sessions/<objectid:session_id>/checkin-code.png")
class ClassCodePng(MethodView):
    @require(SUPERVISOR, ADMIN)
    @blp.response(200, description="QR code", content_type="image/png")
    def get(self, session_id):
        """Supervisor: the current class code as a PNG QR code (its URL: WeChat's scanner opens the mini-program)."""
        return _qr_image(session_id, qr.png, "image/png")


@blp.route("/sessions/<objectid:session_id>/checkin-code.svg")
class ClassCodeSvg(MethodView):
    @require(SUPERVISOR, ADMIN)
    @blp.response(200, description="QR code", content_type="image/svg+xml")
    def get(self, session_id):
        """Supervisor: the current class code as an SVG QR code (its URL)."""
        return _qr_image(session_id, qr.svg, "image/svg+xml")


@blp.route("/sessions/<objectid:session_id>/checkin-code/wxacode.png")
class ClassCodeWxa(MethodView):
    @require(SUPERVISOR, ADMIN)
    @blp.response(200, description="mini-program code", content_type="image/png")
    def get(self, session_id):
        """Supervisor: the current class code as a WeChat mini-program code (scene = code)."""
        info = service.class_code(identity=current_identity(), session_id=_sid(session_id))
        try:
            image = get_gateway().get_unlimited_code(info["code"], page=CHECKIN_PAGE)
        except WeChatError:
            raise ServiceUnavailable("WECHAT_UNAVAILABLE", "暂时无法生成小程序码，请使用普通二维码") from None
        return Response(image, mimetype="image/png", headers={"Cache-Control": "no-store"})


@blp.route("/sessions/<objectid:session_id>/projector-link")
class ProjectorLink(MethodView):
    @require(SUPERVISOR, ADMIN)
    @blp.response(201, ProjectorLinkSchema)
    def post(self, session_id):
        """Supervisor: a short-lived link to the full-screen check-in page for a projector."""
        identity = current_identity()
        info = service.class_code(identity=identity, session_id=_sid(session_id))
        url, expires = projector.make_link(session_id=info["session_id"], user_id=identity.user_id)
        return {"url": public_url(url), "expires_at": expires}


@blp.route("/sessions/<objectid:session_id>/attendance/<objectid:registration_id>")
class Mark(MethodView):
    @require(SUPERVISOR, ADMIN)
    @blp.arguments(MarkSchema)
    @blp.response(200, MarkResultSchema)
    def put(self, body, session_id, registration_id):
        """Supervisor: mark or correct a trainee's status with a reason (history kept)."""
        record = service.mark(identity=current_identity(), session_id=_sid(session_id),
                              registration_id=parse_object_id(registration_id, "REGISTRATION_NOT_FOUND"), **body)
        return {"result": "marked", "record": record}


@blp.route("/sessions/<objectid:session_id>/close")
class Close(MethodView):
    @require(SUPERVISOR, ADMIN)
    @blp.response(200, CloseResultSchema)
    def post(self, session_id):
        """Supervisor: close check-in now; the rest become absent (or excused on approved leave)."""
        identity = current_identity()
        return service.close(session_id=_sid(session_id), by=identity.user_id, identity=identity)


@blp.route("/sessions/<objectid:session_id>/board")
class Board(MethodView):
    @require(SUPERVISOR, ADMIN, "province_staff")
    @blp.response(200, BoardSchema)
    def get(self, session_id):
        """Live board: counts and who is missing (poll every few seconds)."""
        return reports.board(identity=current_identity(), session_id=_sid(session_id))


@blp.route("/registrations/<objectid:registration_id>/checkin-code")
class PersonalCode(MethodView):
    @require()
    @blp.response(200, CodeSchema)
    def get(self, registration_id):
        """Trainee: my personal check-in code (show it as a QR code; refresh before it expires)."""
        registration = registrations.own_or_raise(
            registration_id=parse_object_id(registration_id, "REGISTRATION_NOT_FOUND"),
            user_id=current_identity().user_id)
        return _code_view(service.personal_code(registration=registration))


@blp.route("/classes/<objectid:class_id>/my-attendance")
class MyAttendance(MethodView):
    @require()
    @blp.response(200, MyAttendanceSchema)
    def get(self, class_id):
        """Trainee: my attendance in a class, session by session. 403 NOT_ENROLLED when the caller is
        not a confirmed trainee of the class and has no record in it."""
        class_id = parse_object_id(class_id, "CLASS_NOT_FOUND")
        return reports.my_attendance(user_id=current_identity().user_id, class_id=class_id)


@blp.route("/classes/<objectid:class_id>/attendance-sheet")
class Sheet(MethodView):
    @require(SUPERVISOR, ADMIN, "province_staff")
    @blp.response(200, SheetSchema)
    def get(self, class_id):
        """Staff: trainee × session matrix with statuses and attendance rates."""
        return reports.sheet(identity=current_identity(), class_id=parse_object_id(class_id, "CLASS_NOT_FOUND"))


@blp.route("/classes/<objectid:class_id>/attendance-sheet.xlsx")
class SheetExcel(MethodView):
    @require(SUPERVISOR, ADMIN, "province_staff")
    @blp.response(200, description="Excel", content_type=XLSX_TYPE)
    def get(self, class_id):
        """Staff: the attendance sheet as Excel."""
        return reports.sheet_xlsx(identity=current_identity(), class_id=parse_object_id(class_id, "CLASS_NOT_FOUND"))


