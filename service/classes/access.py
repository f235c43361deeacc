"""Who may read what of a class."""

import threading

from bson import ObjectId
from bson.errors import InvalidId
from flask import current_app, request

from service.classes import repository
from service.core.auth import PROVINCE_STAFF, SUPERVISOR, current_identity
from service.core.errors import Forbidden, NotFound


def caller_region(identity, requested=None):
    """The region whose places left to show: asked for explicitly, else the staff member's own."""
    if requested:
        return requested
    if len(identity.region_codes) == 1:
        return next(iter(identity.region_codes))
    return None


def quota_regions_visible(identity, class_doc):
    """None = every region (admins, the class's supervisors); else the caller's regions with quota."""
    if identity.is_admin or (SUPERVISOR in identity.roles and class_doc["_id"] in identity.class_ids):
        return None
    if PROVINCE_STAFF in identity.roles:
        mine = set(identity.region_codes) & set(class_doc.get("quotas", {}))
        if mine:
            return mine
    raise Forbidden("OUT_OF_SCOPE", "只能查看本地区或本人负责班级的名额")


# ---- draft classes: nothing of them leaks through any route -------------------------------------

DRAFT = "draft"
_PUBLISHED_MAX = 100_000  # bounded memory: cleared wholesale when full (a miss is one read)
_published = set()  # ("class"|"session", id) known to belong to a class past its draft
_published_lock = threading.Lock()


def _class_status(kind, object_id):
    """(class id, status) of the class a class or session id names, or None when there is none."""
    if kind == "class":
        found = repository.get(object_id, {"status": 1})
    else:
        found = repository.find_by_session_status(object_id)
    return (found["_id"], found["status"]) if found else None


def refuse_draft_classes():
    """`before_request` hook (registered in create_app): every route that takes a `class_id` or a
    `session_id` answers 404 for a class still in draft, unless the caller is an organizer or one of
    its supervisors — the same rule as GET /classes/{id}.

    A class never goes back to draft, so "past draft" is remembered per process for good: the
    trainee check-in path reads the class once per process and session, then never again.
    """
    args = request.view_args or {}
    if request.path.startswith("/console/"):
        return  # console pages are shells for staff that read everything through these API routes
    if "class_id" in args:
        kind, raw, code, message = "class", args["class_id"], "CLASS_NOT_FOUND", "班级不存在"
    elif "session_id" in args:
        kind, raw, code, message = "session", args["session_id"], "SESSION_NOT_FOUND", "课程不存在"
    else:
        return
    try:
        object_id = ObjectId(raw)
    except (InvalidId, TypeError):
        return  # the route answers its own 404 for a malformed id
    key = (current_app.config["MONGODB_DB"], kind, object_id)
    if key in _published:
        return
    found = _class_status(kind, object_id)
    if found is None:
        return  # the route answers its own 404
    class_id, status = found
    if status != DRAFT:
        with _published_lock:
            if len(_published) >= _PUBLISHED_MAX:
                _published.clear()
            _published.add(key)
        return
    identity = current_identity()
    if not (identity.is_admin or identity.supervises(class_id)):
        raise NotFound(code, message)
