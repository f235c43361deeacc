"""Login endpoints: /api/v1/auth/* and /api/v1/me."""

from flask.views import MethodView

from schemas.auth import BindResultSchema, BindSchema, MeSchema, TokenSchema, WxLoginSchema
from service.auth import service
from service.core.auth import bearer_token, current_identity, hash_token, require
from service.core.blueprint import Blueprint
from service.core.ratelimit import client_ip, limit, user_key

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="WeChat login and identity")


@blp.route("/auth/wx-login")
class WxLogin(MethodView):
    @blp.doc(security=[])
    @blp.arguments(WxLoginSchema)
    @blp.response(200, TokenSchema)
    @limit("RATELIMIT_LOGIN_FAILURES", key_func=client_ip, failure_status=400,
           message="登录失败次数太多，请稍后再试")
    def post(self, body):
        """Log in with the code from wx.login(); returns a bearer token."""
        return service.wx_login(code=body["code"])


@blp.route("/auth/logout")
class Logout(MethodView):
    @require()
    @blp.response(204)
    def post(self):
        """Revoke the bearer token used for this request."""
        service.logout(token_hash=hash_token(bearer_token()))


@blp.route("/auth/bind")
class Bind(MethodView):
    @require()
    @blp.arguments(BindSchema)
    @blp.response(200, BindResultSchema)
    @limit("RATELIMIT_BINDING_FAILURES", key_func=user_key, failure_status=400,
           message="绑定码错误次数太多，请稍后再试")
    def post(self, body):
        """Bind your WeChat identity to a staff account; answers a new token to use from now on."""
        return service.bind(user_id=current_identity().user_id, binding_code=body["binding_code"])


@blp.route("/me")
class Me(MethodView):
    @require()
    @blp.response(200, MeSchema)
    def get(self):
        """Who am I: user id, roles and scopes."""
        return service.profile(user_id=current_identity().user_id)
