"""Trainee profile rules: personal data protected at rest, phone from WeChat rate limited."""


import datetime as dt

from flask import current_app

from service.core import crypto, gridstore, images, regions, uploads
from service.core.db import utcnow
from service.core.identifiers import parse_id_number
from service.core.errors import Conflict, NotFound, RuleViolation, ServiceUnavailable
from service.core.wechat import WeChatError, get_gateway
from service.trainees import repository

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
ATTACHMENT_TOO_LARGE_MESSAGE = "文件不能超过 5 MB"
REQUIRED_FOR_SUBMIT = {"mobile_enc": "手机号码", "id_number_enc": "身份证号码", "enterprise": "企业信息"}


def get_or_raise(*, user_id):
    profile = repository.get(user_id)
    if profile is None or not profile.get("id_number_enc"):
        raise NotFound("PROFILE_NOT_FOUND", "请先填写个人信息")
    return profile


def missing_for_submit(profile):
    return [label for field, label in REQUIRED_FOR_SUBMIT.items() if not (profile or {}).get(field)]


def view(profile):
    """The profile as the trainee sees it: masked ID number and mobile, completeness."""
    enterprise = profile.get("enterprise")
    if enterprise:
        enterprise = {**enterprise, "region_name": regions.name_of(enterprise["region_code"])}
    missing = missing_for_submit(profile)
    return {**profile, "enterprise": enterprise, "complete": not missing, "missing": missing}


def save(*, user_id, id_number, mobile, enterprise, **fields):
    """Fill in or replace the trainee form (附1-3)."""
    card = parse_id_number(id_number)
    document = {
        **fields,
        "enterprise": enterprise,
        "birth_date": card.birth_date.isoformat(),
        "id_card_kind": card.kind,
        **crypto.protect("id_number", card.number, crypto.mask_id_number),
    }
    if mobile:
        document.update(crypto.protect("mobile", mobile, crypto.mask_mobile), mobile_source="manual")
    try:
        return repository.save(user_id=user_id, fields=document)
    except repository.IdNumberTaken:
        raise Conflict("ID_NUMBER_IN_USE", "该身份证号码已被另一个微信账号使用，如有疑问请联系班主任") from None


def bind_wechat_phone(*, user_id, code):
    """Exchange a getPhoneNumber code (the code flow); each exchange costs money, so the route
    limits it per user (RATELIMIT_PHONE_EXCHANGES)."""
    try:
        phone_info = get_gateway().get_phone_number(code)
    except WeChatError as exc:
        if exc.unavailable:
            raise ServiceUnavailable("WECHAT_UNAVAILABLE", "暂时无法连接微信，请稍后重试") from None
        raise RuleViolation("WX_PHONE_CODE_INVALID", "获取手机号失败，请重新授权", status=400) from None
    if phone_info.get("countryCode") not in (None, "86"):
        raise RuleViolation("MOBILE_NOT_MAINLAND", "请使用中国大陆手机号码")
    mobile = phone_info["purePhoneNumber"]
    return repository.save(user_id=user_id, fields={
        **crypto.protect("mobile", mobile, crypto.mask_mobile), "mobile_source": "wechat"})


def upload_attachment(*, owner_id, kind, stream):
    """Store a JPEG/PNG/PDF scan of at most 5 MB in GridFS, as re-encoded by service/core/uploads.py
    (the content decides the type, not the file name or the client's claim)."""
    data = stream.read(MAX_ATTACHMENT_BYTES + 1)
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise RuleViolation("ATTACHMENT_TOO_LARGE", ATTACHMENT_TOO_LARGE_MESSAGE, status=413)
    if not data:
        raise RuleViolation("ATTACHMENT_EMPTY", "文件是空的", errors={"file": ["请选择文件"]})
    content_type, data = uploads.sanitize(data)
    attachment_id = repository.store_attachment(
        owner_id=owner_id, kind=kind, filename=f"{kind}{uploads.EXTENSIONS[content_type]}",
        content_type=content_type, data=data)
    try:
        return attachment_view(repository.attachment_info(attachment_id))
    except Exception:
        # Answered 503: the mini-program uploads again, so this copy would be a second one.
        repository.discard_attachment(attachment_id)
        raise


# Where this process's sweep of chunks goes on ({database name: last file id looked at}).
_SWEPT_UP_TO = {}


def sweep_orphan_files(*, now=None):
    """The worker's upkeep: delete chunks of uploads whose file entry was never written, begun more
    than gridstore.ORPHAN_AGE_SECONDS ago (bounded per call); how many uploads' chunks were deleted."""
    before = (now or utcnow()) - dt.timedelta(seconds=gridstore.ORPHAN_AGE_SECONDS)
    key = current_app.config["MONGODB_DB"]
    deleted, _SWEPT_UP_TO[key] = repository.sweep_orphan_chunks(before=before, after=_SWEPT_UP_TO.get(key))
    return deleted


def attachment_view(info):
    return {"_id": info["_id"], "kind": info["metadata"]["kind"], "filename": info["filename"],
            "content_type": info["metadata"]["content_type"], "size": info["length"],
            "created_at": info["metadata"]["created_at"]}


def list_attachments(*, owner_id):
    return [attachment_view(info) for info in repository.attachments_of(owner_id)]


def attachment_info_or_raise(attachment_id):
    info = repository.attachment_info(attachment_id)
    if info is None:
        raise NotFound("ATTACHMENT_NOT_FOUND", "文件不存在")
    return info


def photo(*, user_id, attachment_ids=(), fit=(240, 330)):
    """The trainee's photo for the trainee form (附1-3) as (JPEG bytes fitted inside `fit` pixels,
    "image/jpeg"): the usable photo attached to the registration if there is one, else the newest
    usable upload; None without one. A photo upload that is a PDF, or an image Pillow cannot read
    (truncated, stored before uploads were re-encoded), is passed over for an older one."""
    attached = set(attachment_ids)
    photos = repository.photos_of(user_id)  # newest first
    for info in [p for p in photos if p["_id"] in attached] + [p for p in photos if p["_id"] not in attached]:
        if not info["metadata"].get("content_type", "").startswith("image/"):
            continue
        picture = images.fitted_jpeg(repository.read_attachment(info["_id"]), width=fit[0], height=fit[1])
        if picture is not None:
            return picture, "image/jpeg"
    return None
