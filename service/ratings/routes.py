"""Rating endpoints: /api/v1/sessions/<id>/rating, /api/v1/classes/<id>/rating, pending, satisfaction."""

from flask.views import MethodView

from schemas.ratings import (ClassRatingInputSchema, PendingSchema, RatingSchema, SatisfactionSchema,
                             SessionRatingInputSchema)
from service.classes import service as classes
from service.core.auth import ADMIN, PROVINCE_STAFF, SUPERVISOR, current_identity, require
from service.core.blueprint import Blueprint
from service.core.ids import parse_object_id
from service.ratings import service
from service.reports.scope import class_scope

blp = Blueprint("ratings", __name__, url_prefix="/api/v1", description="Satisfaction ratings (满意度评价)")


def _sid(session_id):
    return parse_object_id(session_id, "SESSION_NOT_FOUND")


def _cid(class_id):
    return parse_object_id(class_id, "CLASS_NOT_FOUND")


def _me():
    return current_identity().user_id


@blp.route("/sessions/<objectid:session_id>/rating")
class SessionRating(MethodView):
    @require()
    @blp.response(200, RatingSchema)
    def get(self, session_id):
        """Trainee: my rating of this session."""
        return service.mine(user_id=_me(), session_id=_sid(session_id))

    @require()
    @blp.arguments(SessionRatingInputSchema)
    @blp.response(201, RatingSchema)
    def post(self, body, session_id):
        """Trainee: rate a session I attended (1–5 stars), from its end."""
        return service.rate_session(user_id=_me(), session_id=_sid(session_id), **body)

    @require()
    @blp.arguments(SessionRatingInputSchema)
    @blp.response(200, RatingSchema)
    def put(self, body, session_id):
        """Trainee: change my rating of this session while ratings are open."""
        return service.rate_session(user_id=_me(), session_id=_sid(session_id), create=False, **body)


@blp.route("/classes/<objectid:class_id>/rating")
class ClassRating(MethodView):
    @require()
    @blp.response(200, RatingSchema)
    def get(self, class_id):
        """Trainee: my rating of this class."""
        return service.mine(user_id=_me(), class_id=_cid(class_id))

    @require()
    @blp.arguments(ClassRatingInputSchema)
    @blp.response(201, RatingSchema)
    def post(self, body, class_id):
        """Trainee: rate the class on course design, faculty, organisation and effect (after the last session)."""
        return service.rate_class(user_id=_me(), class_id=_cid(class_id), **body)

    @require()
    @blp.arguments(ClassRatingInputSchema)
    @blp.response(200, RatingSchema)
    def put(self, body, class_id):
        """Trainee: change my rating of this class while ratings are open."""
        return service.rate_class(user_id=_me(), class_id=_cid(class_id), create=False, **body)


@blp.route("/ratings/pending")
class Pending(MethodView):
    @require()
    @blp.response(200, PendingSchema)
    def get(self):
        """Trainee: what I can still rate now (show a reminder badge)."""
        return service.pending(user_id=_me())


@blp.route("/classes/<objectid:class_id>/satisfaction")
class Satisfaction(MethodView):
    @require(ADMIN, SUPERVISOR, PROVINCE_STAFF)
    @blp.response(200, SatisfactionSchema)
    def get(self, class_id):
        """Staff: anonymous satisfaction of a class per session, teacher and dimension, with flags."""
        class_doc = classes.get_or_raise(class_id=_cid(class_id))
        scope = class_scope(current_identity(), class_doc)
        return service.summary(class_doc=class_doc, region_codes=scope.region_codes, with_comments=scope.comments)
