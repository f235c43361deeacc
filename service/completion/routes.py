"""Completion and certificate endpoints: rule, figures, bulk issue, verification, revocation, PNG."""

from flask import Response, render_template_string, request
from flask.views import MethodView

from schemas.certificates import (CertificateSchema, ClassCompletionSchema, CompletionRuleInputSchema,
                                  CompletionRuleSchema, IssueResultSchema, IssueSchema, MyCompletionSchema,
                                  RevokeSchema, VerificationSchema, VerifyArgs)
from service.classes import service as classes
from service.completion import certificates, exports, service
from service.core.auth import ADMIN, PROVINCE_STAFF, SUPERVISOR, current_identity, require
from service.core.blueprint import Blueprint
from service.core.excel import XLSX_MIMETYPE
from service.core.ids import parse_object_id
from service.core.links import public_base_url
from service.core.ratelimit import client_ip, count_failure, limit, note_failure, refuse_when_spent
from service.reports.scope import class_scope

blp = Blueprint("completion", __name__, url_prefix="/api/v1",
                description="Completion and certificates (结业与结业证书)")


def _cid(class_id):
    return parse_object_id(class_id, "CLASS_NOT_FOUND")


def _certid(certificate_id):
    return parse_object_id(certificate_id, "CERTIFICATE_NOT_FOUND")


def _base():
    return public_base_url()  # configuration only, never the request's Host header


@blp.route("/classes/<objectid:class_id>/completion-rule")
class CompletionRule(MethodView):
    @require()
    @blp.response(200, CompletionRuleSchema)
    def get(self, class_id):
        """The class's completion rule (结业条件) and the defaults it starts from."""
        return service.rule_view(classes.get_visible(class_id=_cid(class_id), identity=current_identity()))

    @require(ADMIN)
    @blp.arguments(CompletionRuleInputSchema)
    @blp.response(200, CompletionRuleSchema)
    def put(self, body, class_id):
        """Organizer: change the class's completion rule (fields not sent keep their value)."""
        return service.set_rule(class_id=_cid(class_id), changes=body, changed_by=current_identity().user_id)


def _class_completion(class_id):
    """(class, completion list) in the caller's scope: all for organizers and supervisors, own regions for staff."""
    class_doc = classes.get_or_raise(class_id=_cid(class_id))
    scope = class_scope(current_identity(), class_doc)
    return class_doc, service.evaluate(class_doc=class_doc, region_codes=scope.region_codes)


@blp.route("/classes/<objectid:class_id>/completion")
class ClassCompletion(MethodView):
    @require(ADMIN, SUPERVISOR, PROVINCE_STAFF)
    @blp.response(200, ClassCompletionSchema)
    def get(self, class_id):
        """Staff: every trainee eligible or not, with the failed conditions and figures."""
        return _class_completion(class_id)[1]


@blp.route("/classes/<objectid:class_id>/completion.xlsx")
class ClassCompletionExcel(MethodView):
    @require(ADMIN, SUPERVISOR, PROVINCE_STAFF)
    @blp.response(200, description="Excel completion list (结业名单)", content_type=XLSX_MIMETYPE)
    # Without a schema flask-smorest leaves out the media type; say it is a file.
    @blp.doc(responses={"200": {"description": "Excel completion list (结业名单)",
                                "content": {XLSX_MIMETYPE: {"schema": {"type": "string", "format": "binary"}}}}})
    def get(self, class_id):
        """Staff: the completion list as Excel, with the failed conditions and figures."""
        return exports.completion_xlsx(*_class_completion(class_id))


@blp.route("/classes/<objectid:class_id>/my-completion")
class MyCompletion(MethodView):
    @require()
    @blp.response(200, MyCompletionSchema)
    def get(self, class_id):
        """Trainee: do I meet the completion rule, and if not, why."""
        return service.for_trainee(class_id=_cid(class_id), user_id=current_identity().user_id)


@blp.route("/classes/<objectid:class_id>/certificates")
class ClassCertificates(MethodView):
    @require(ADMIN, SUPERVISOR, PROVINCE_STAFF)
    @blp.response(200, CertificateSchema(many=True))
    def get(self, class_id):
        """Staff: the class's certificates (valid and revoked)."""
        class_doc = classes.get_or_raise(class_id=_cid(class_id))
        scope = class_scope(current_identity(), class_doc)
        return certificates.list_for_class(class_id=class_doc["_id"], region_codes=scope.region_codes,
                                           base_url=_base())

    @require(ADMIN)
    @blp.arguments(IssueSchema)
    @blp.response(200, IssueResultSchema)
    def post(self, body, class_id):
        """Organizer: issue certificates to every eligible trainee (or the ones listed); safe to repeat."""
        return certificates.issue(class_id=_cid(class_id), issued_by=current_identity().user_id,
                                  base_url=_base(), **body)


@blp.route("/certificates/mine")
class MyCertificates(MethodView):
    @require()
    @blp.response(200, CertificateSchema(many=True))
    def get(self):
        """Trainee: my certificates, newest first."""
        return certificates.mine(user_id=current_identity().user_id, base_url=_base())


@blp.route("/certificates/<objectid:certificate_id>")
class CertificateItem(MethodView):
    @require()
    @blp.response(200, CertificateSchema)
    def get(self, certificate_id):
        """One certificate (its trainee, organizers, the class's supervisors, the region's staff)."""
        certificate = certificates.readable_or_raise(certificate_id=_certid(certificate_id),
                                                     identity=current_identity())
        return certificates.view(certificate, _base())


@blp.route("/certificates/<objectid:certificate_id>.png")
class CertificateImage(MethodView):
    @require()
    @blp.response(200, description="PNG image", content_type="image/png")
    def get(self, certificate_id):
        """The certificate as an image to save on the phone (with the verification QR code)."""
        certificate = certificates.readable_or_raise(certificate_id=_certid(certificate_id),
                                                     identity=current_identity())
        return Response(certificates.png(certificate, _base()), mimetype="image/png")


@blp.route("/certificates/<objectid:certificate_id>/revoke")
class Revoke(MethodView):
    @require(ADMIN)
    @blp.arguments(RevokeSchema)
    @blp.response(200, CertificateSchema)
    def post(self, body, certificate_id):
        """Organizer: revoke a certificate with a reason."""
        return certificates.revoke(certificate_id=_certid(certificate_id), by=current_identity().user_id,
                                   base_url=_base(), **body)


VERIFY_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>结业证书验证</title></head>
<body style="font-family:sans-serif;max-width:32em;margin:2em auto;padding:0 1em">
<h2>结业证书验证</h2><p style="font-size:1.3em"><strong>{{ v.message }}</strong></p>
{% if v.status != "unknown" %}<p>证书编号：{{ v.number }}<br>姓名：{{ v.name_masked }}<br>
培训班：{{ v.class_name }}<br>发证日期：{{ v.issued_on }}{% if v.revoked_on %}<br>撤销日期：{{ v.revoked_on }}{% endif %}</p>
{% endif %}<p style="color:gray">工业和信息化部人才交流中心</p></body></html>"""


LEGACY_LIMIT = "RATELIMIT_LEGACY_CHECK_CODE_FAILURES"
LEGACY_MESSAGE = "该证书今日验证失败次数太多，请明天再试"


@blp.route("/certificates/verify/<number>")
class Verify(MethodView):
    @blp.doc(security=[])
    @blp.arguments(VerifyArgs, location="query")
    @blp.response(200, VerificationSchema)
    @limit("RATELIMIT_CERTIFICATE_FAILURES", key_func=client_ip, failure_status="marked",
           message="查询次数太多，请稍后再试")
    def get(self, args, number):
        """Public (no login): is this certificate valid? The QR code on the certificate opens this."""
        # Short legacy codes are also limited per certificate number, whatever the address (the
        # arithmetic is in service/completion/certificates.py): checked before the answer is worked
        # out, so past the limit not even the right code is answered.
        legacy = certificates.is_legacy_length(args["code"])
        number_key = number.strip().upper()
        if legacy:
            refuse_when_spent(LEGACY_LIMIT, number_key, message=LEGACY_MESSAGE)
        answer = certificates.verify(number=number, code=args["code"])
        if answer["status"] == "unknown":
            note_failure()  # a wrong number or check code: what guessing looks like
            if legacy:
                count_failure(LEGACY_LIMIT, number_key, message=LEGACY_MESSAGE)
        # A phone camera opens the QR link in a browser: give it a page rather than JSON.
        if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
            return Response(render_template_string(VERIFY_PAGE, v=answer), mimetype="text/html")
        return answer
