"""Application factory."""

import logging

from flask import Flask
from flask.sessions import SessionInterface
from flask_smorest import Api

from schemas.base import ErrorSchema, ObjectIdField
from service import config as config_module
from service.core import errors, headers, ratelimit, request_body, requestlog
from service.core.auth import register_fallback_resolver, register_token_resolver
from service.core.db import ensure_indexes, mongo, run_migrations
from service.core.ids import (ObjectIdConverter, RandomIdConverter, object_id_parameter_schema,
                              random_id_parameter_schema)
from service.core.years import YearConverter, year_parameter_schema
from service.auth import service as auth_service
from service.classes import access as class_access
from service.console_login import service as console_login
from service.core.openapi import AnswerFieldsRequired

# Feature blueprints, in the order they appear in the OpenAPI document.
from service.health.routes import blp as health_blp
from service.auth.routes import blp as auth_blp
from service.console_login.routes import blp as console_login_blp
from service.staff.routes import blp as staff_blp
from service.programmes.routes import blp as programmes_blp
from service.classes.routes import blp as classes_blp
from service.registry.routes import blp as registry_blp
from service.trainees.routes import blp as trainees_blp
from service.registrations.routes import blp as registrations_blp
from service.registrations import places as registration_places  # noqa: F401 - declares its migration (run_migrations)
from service.attendance.routes import blp as attendance_blp
from service.leave.routes import blp as leave_blp
from service.ratings.routes import blp as ratings_blp
from service.completion.routes import blp as completion_blp
from service.reports.routes import blp as reports_blp
from service.evaluation.routes import blp as evaluation_blp
from service.console.routes import bp as console_bp
from service.docs.routes import bp as docs_bp

BLUEPRINTS = [health_blp, auth_blp, console_login_blp, staff_blp, programmes_blp, classes_blp, registry_blp, trainees_blp,
              registrations_blp, attendance_blp, leave_blp, ratings_blp,
              completion_blp, reports_blp, evaluation_blp]

log = logging.getLogger(__name__)


class LingjunApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        # One error shape for everything: service.core.errors registers the handlers.
        pass


class NoCookieSession(SessionInterface):
    """No Flask cookie session: the API authenticates with bearer tokens, the projector page with
    signed links, and the staff console with its own MongoDB-backed session cookie read only when
    a request carries no bearer token (service/console_login). Opening (verifying) a cookie session on every request was a twentieth of
    a check-in's time; `flask.session` is now a null session that refuses writes."""

    def open_session(self, app, request):
        return None

    def save_session(self, app, session, response):
        pass


def create_app(config=None):
    """Build the Flask app; `config` overrides defaults and the environment (tests)."""
    settings = config_module.load(config)
    app = Flask(__name__)
    app.config.update(settings)
    app.config.update(
        API_TITLE="中小企业经营管理领军人才培训 API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        # /api/v1/docs is service.docs (Swagger UI from the installed package, no CDN).
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "token from POST /api/v1/auth/wx-login"}}},
            "security": [{"bearerAuth": []}],
        },
        JSON_AS_ASCII=False,
        # Default body limit; uploads declare theirs with @body_limit (service.core.request_body).
        MAX_CONTENT_LENGTH=request_body.DEFAULT_BODY_LIMIT,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.session_interface = NoCookieSession()
    requestlog.configure_logging(app.config["LOG_LEVEL"])
    requestlog.init_app(app)
    request_body.init_app(app)
    headers.init_app(app)
    mongo.init_app(app)

    # Ids in URLs are 24-hex ObjectIds (service.core.ids): ids and fixed names never overlap.
    app.url_map.converters["objectid"] = ObjectIdConverter
    app.url_map.converters["year"] = YearConverter  # programme years, bounded (service.core.years)
    app.url_map.converters["randomid"] = RandomIdConverter  # console login requests (service.core.ids)
    api = LingjunApi(app, spec_kwargs={"extra_plugins": [AnswerFieldsRequired()]})
    api.register_field(ObjectIdField, "string", "objectid")
    api.register_converter(ObjectIdConverter, object_id_parameter_schema)
    api.register_converter(YearConverter, year_parameter_schema)
    api.register_converter(RandomIdConverter, random_id_parameter_schema)
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    app.register_blueprint(console_bp)  # HTML pages: not part of the API document
    app.register_blueprint(docs_bp)
    # Bearer tokens are the auth feature's to answer; the core only knows the interface.
    register_token_resolver(auth_service.identity_for_token)
    # Requests without a bearer token may carry the staff console's session cookie; it resolves
    # to the same Identity, so the console goes through the API's rules and nothing else.
    register_fallback_resolver(console_login.resolve_request)
    errors.register(app)
    app.before_request(class_access.refuse_draft_classes)
    ratelimit.init_app(app)
    app.extensions["api"] = api

    if app.config.get("ENSURE_INDEXES_ON_START", True):
        with app.app_context():
            ensure_indexes(mongo.db_for(app.config))
            run_migrations()
    return app
