"""Trainee endpoints: /api/v1/trainee/* (own profile, phone, attachments) and downloads."""

from flask import Response
from flask.views import MethodView
from flask_smorest.fields import Upload

from schemas.base import BaseSchema
from schemas.trainees import (DEGREES, ENTERPRISE_TITLES, IPO_BOARDS, IPO_STAGES, AttachmentSchema,
                              AttachmentUploadSchema, PhoneCodeSchema, ProfileInputSchema, ProfileSchema,
                              ReferenceListsSchema)
from service.core import reference, regions
from service.core.auth import current_identity, require
from service.core.blueprint import Blueprint
from service.core.ratelimit import client_ip, limit, user_key
from service.core.ids import parse_object_id
from service.core.request_body import upload_limit
from service.trainees import access, service

blp = Blueprint("trainees", __name__, url_prefix="/api/v1", description="Trainee profile and attachments")


class FileSchema(BaseSchema):
    file = Upload(required=True)


@blp.route("/reference-lists")
class ReferenceLists(MethodView):
    @require()
    @blp.response(200, ReferenceListsSchema)
    def get(self):
        """Choices for the trainee form: ethnic groups, 政治面貌, titles, degrees, IPO, regions."""
        return {"ethnic_groups": reference.ethnic_groups(), "political_statuses": reference.political_statuses(),
                "enterprise_titles": list(ENTERPRISE_TITLES), "degrees": list(DEGREES),
                "ipo_stages": list(IPO_STAGES), "ipo_boards": list(IPO_BOARDS),
                "regions": [{"code": r["code"], "name": r["name"]} for r in regions.all_regions().values()]}


@blp.route("/trainee/profile")
class Profile(MethodView):
    @require()
    @blp.response(200, ProfileSchema)
    def get(self):
        """My trainee profile (ID number and mobile masked)."""
        return service.view(service.get_or_raise(user_id=current_identity().user_id))

    @require()
    @blp.arguments(ProfileInputSchema)
    @blp.response(200, ProfileSchema)
    # Each 409 ID_NUMBER_IN_USE tells whether an ID number is registered (a masked number leaves
    # ~365 candidates): few per user, and few per address so that many new accounts do not add up.
    @limit("RATELIMIT_ID_NUMBER_CONFLICTS", key_func=user_key, failure_status=409,
           message="操作太频繁，请稍后再试")
    @limit("RATELIMIT_ID_NUMBER_CONFLICTS_PER_IP", key_func=client_ip, failure_status=409,
           message="操作太频繁，请稍后再试")
    def put(self, body):
        """Fill in or replace my trainee profile (the whole form)."""
        return service.view(service.save(user_id=current_identity().user_id, **body))


@blp.route("/trainee/profile/phone")
class ProfilePhone(MethodView):
    @require()
    @blp.arguments(PhoneCodeSchema)
    @blp.response(200, ProfileSchema)
    @limit("RATELIMIT_PHONE_EXCHANGES", key_func=user_key,
           message="获取手机号的次数太多，请手动填写或稍后再试")
    def post(self, body):
        """Take my mobile number from WeChat (getPhoneNumber code); limited per day."""
        return service.view(service.bind_wechat_phone(user_id=current_identity().user_id, code=body["code"]))


@blp.route("/trainee/attachments")
class Attachments(MethodView):
    @require()
    @blp.response(200, AttachmentSchema(many=True))
    def get(self):
        """My uploaded files."""
        return service.list_attachments(owner_id=current_identity().user_id)

    @require()
    @upload_limit(lambda: service.MAX_ATTACHMENT_BYTES, code="ATTACHMENT_TOO_LARGE",
                  message=service.ATTACHMENT_TOO_LARGE_MESSAGE)
    @blp.arguments(AttachmentUploadSchema, location="form")
    @blp.arguments(FileSchema, location="files")
    @blp.response(201, AttachmentSchema)
    @limit("RATELIMIT_UPLOADS", key_func=user_key, message="上传太频繁，请稍后再试")
    def post(self, form, files):
        """Upload a business licence, ID card scan or 1-inch photo (JPEG/PNG/PDF, ≤ 5 MB)."""
        return service.upload_attachment(owner_id=current_identity().user_id, kind=form["kind"],
                                         stream=files["file"].stream)


@blp.route("/attachments/<objectid:attachment_id>")
class AttachmentDownload(MethodView):
    @require()
    @blp.response(200, description="the file", content_type="application/octet-stream")
    def get(self, attachment_id):
        """Download a file: its owner, or staff reviewing a registration that includes it."""
        info = service.attachment_info_or_raise(parse_object_id(attachment_id, "ATTACHMENT_NOT_FOUND"))
        access.ensure_can_read_attachment(current_identity(), info)
        return _file_response(info, service.repository.read_attachment(info["_id"]))


def _file_response(info, data):
    """The stored (re-encoded) file with the type it was encoded to; the browser may not guess another
    (nosniff), runs nothing in it (CSP sandbox) and saves a PDF rather than opening it inline. A file
    stored before re-encoding existed goes out as an opaque download."""
    metadata = info["metadata"]
    if metadata.get("reencoded"):
        mimetype = metadata["content_type"]
        disposition = "inline" if mimetype.startswith("image/") else "attachment"
    else:
        mimetype, disposition = "application/octet-stream", "attachment"
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{info["filename"]}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response


