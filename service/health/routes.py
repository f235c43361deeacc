"""/healthz (process up) and /readyz (database answers)."""

from flask.views import MethodView
from marshmallow import Schema, fields
from pymongo.errors import PyMongoError

from service.core.blueprint import Blueprint
from service.core.db import get_db
from service.core.errors import ServiceUnavailable

blp = Blueprint("health", __name__, description="Probes")


class StatusSchema(Schema):
    status = fields.String(metadata={"example": "ok"})


@blp.route("/healthz")
class Health(MethodView):
    @blp.doc(security=[])
    @blp.response(200, StatusSchema)
    def get(self):
        """The process is up."""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    @blp.doc(security=[])
    @blp.response(200, StatusSchema)
    def get(self):
        """The database answers."""
        try:
            get_db().command("ping")
        except PyMongoError:
            raise ServiceUnavailable("DATABASE_UNAVAILABLE", "数据库暂时不可用") from None
        return {"status": "ok"}
