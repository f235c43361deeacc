"""/api/v1/auth/console-logins: the QR login requests of the staff console."""

from flask import request
from flask.views import MethodView

from schemas.console_login import ConsoleLoginCreatedSchema, ConsoleLoginSchema
from service.console_login import service
from service.core.auth import current_identity, require
from service.core.blueprint import Blueprint
from service.core.ratelimit import client_ip, limit

blp = Blueprint("console-logins", __name__, url_prefix="/api/v1/auth/console-logins",
                description="Staff console login by QR (扫码登录管理后台)")


def _login_id(login_id):
    return service.parse_login_id(login_id)


@blp.route("")
class ConsoleLogins(MethodView):
    @blp.doc(security=[])
    @blp.response(201, ConsoleLoginCreatedSchema)
    @limit("RATELIMIT_CONSOLE_LOGINS", key_func=client_ip, message="登录二维码刷新太频繁，请稍后再试")
    def post(self):
        """Console: start a one-time login request (valid 2 minutes) and get its QR."""
        return service.create(user_agent=request.headers.get("User-Agent", ""))


@blp.route("/<randomid:login_id>")
class ConsoleLogin(MethodView):
    @require()
    @blp.response(200, ConsoleLoginSchema)
    def get(self, login_id):
        """Mini-program, after scanning: the request to show before confirming."""
        return service.describe(login_id=_login_id(login_id), identity=current_identity())


@blp.route("/<randomid:login_id>/confirm")
class ConsoleLoginConfirm(MethodView):
    @require()
    @blp.response(200, ConsoleLoginSchema)
    def post(self, login_id):
        """Mini-program: confirm the login on the desk's screen (staff only, once, within 2 minutes)."""
        return service.confirm(login_id=_login_id(login_id), identity=current_identity())
