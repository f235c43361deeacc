"""Who may read what of a class."""

from bson import ObjectId
from bson.errors import InvalidId
from flask import current_app, request

from service.classes import repository
from service.core import forksafe
from service.core.auth import PROVINCE_STAFF, SUPERVISOR, current_identity
from service.core.errors import AppError, Forbidden, NotFound
from service.core.request_body import request_json


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
# Where a request names a class or a session: the path (`/classes/<class_id>`), the query string
# (`?class_id=`) and the JSON body's top level (`{"class_id": ...}`, `{"class_ids": [...]}`).
ID_FIELDS = {"class_id": "class", "class_ids": "class", "session_id": "session", "session_ids": "session"}
NOT_FOUND = {"class": ("CLASS_NOT_FOUND", "班级不存在"), "session": ("SESSION_NOT_FOUND", "课程不存在")}
_PUBLISHED_MAX = 100_000  # bounded memory: cleared wholesale when full (a miss is one read)
_published = set()  # (db, "class"|"session", id) known to belong to a class past its draft
_published_lock = forksafe.Lock()


def _object_ids(values):
    """The well-formed ObjectIds among `values` (a malformed one is the route's own 404 or 422)."""
    found = []
    for value in values:
        try:
            found.append(ObjectId(value))
        except (InvalidId, TypeError):
            pass
    return found


def named_ids():
    """{(kind, ObjectId)} of every class and session the request names, wherever it names them."""
    try:
        body = request_json()
    except AppError:
        body = None  # a malformed body is answered by the view's parser, as if the hook were not here
    sources = [request.view_args or {}, request.args, body if isinstance(body, dict) else {}]
    named = set()
    for source in sources:
        for field, kind in ID_FIELDS.items():
            if hasattr(source, "getlist"):
                values = source.getlist(field)
            else:
                value = source.get(field)
                values = value if isinstance(value, list) else [value] if value is not None else []
            named.update((kind, object_id) for object_id in _object_ids(values))
    return named


def _owning_classes(kind, object_ids):
    """{id: (class id, status)} of those ids that exist (one query per kind)."""
    if kind == "class":
        return {class_id: (class_id, status) for class_id, status in repository.statuses(object_ids).items()}
    return repository.session_statuses(object_ids)


def refuse_draft_classes():
    """`before_request` hook (registered in create_app): a request naming a class or a session — in
    its path, its query string or its JSON body — whose class is still a draft is answered 404
    CLASS_NOT_FOUND / SESSION_NOT_FOUND, unless the caller is an organizer or one of the class's
    supervisors (the rule of GET /classes/{id}). A well-formed id naming nothing gets the very same
    answer for everyone but organizers, before any role check: a draft and a made-up id cannot be
    told apart (no oracle), and a write naming either reaches no view, so it leaves no record.

    A class never goes back to draft, so "past draft" is remembered per process for good: the
    trainee check-in path reads the class once per process and session, then never again.
    """
    if request.path.startswith("/console/") or request.endpoint is None:
        return  # console pages are shells for staff that read everything through these API routes
    if request.method == "OPTIONS":
        return  # Flask answers it from the route alone (Allow): no view runs, nothing about the class is told
    named = named_ids()
    if not named:
        return
    database = current_app.config["MONGODB_DB"]
    unsettled = {(kind, object_id) for kind, object_id in named if (database, kind, object_id) not in _published}
    if not unsettled:
        return
    for kind in ("class", "session"):
        ids = [object_id for found_kind, object_id in unsettled if found_kind == kind]
        if not ids:
            continue
        owners = _owning_classes(kind, ids)
        for object_id in ids:
            owner = owners.get(object_id)
            if owner is not None and owner[1] != DRAFT:
                _remember_published(database, kind, object_id)
                continue
            identity = current_identity()
            if identity.is_admin or (owner is not None and identity.supervises(owner[0])):
                continue
            raise NotFound(*NOT_FOUND[kind])


def _remember_published(database, kind, object_id):
    with _published_lock:
        if len(_published) >= _PUBLISHED_MAX:
            _published.clear()
        _published.add((database, kind, object_id))
