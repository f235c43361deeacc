"""/api/v1/docs: Swagger UI from the installed swagger-ui-bundle package (no CDN: the docs work
offline and the version is pinned by the package), started by our own script file so the page
needs no inline script (see the Content-Security-Policy in service.core.headers)."""

import os

import swagger_ui_bundle
from flask import Blueprint, abort, current_app, render_template, send_from_directory, url_for

bp = Blueprint("docs", __name__, url_prefix="/api/v1/docs", template_folder="templates")

STATIC = os.path.join(os.path.dirname(__file__), "static")
# Only the files the page loads; the package also holds source maps and an index with inline script.
SWAGGER_UI_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js",
                              "favicon-32x32.png", "favicon-16x16.png"})
ASSET_MAX_AGE = 24 * 3600


@bp.get("")
def page():
    return render_template("docs/swagger_ui.html", title=current_app.config["API_TITLE"],
                           spec_url=url_for("api-docs.openapi_json"))


@bp.get("/swagger-init.js")
def init_script():
    return send_from_directory(STATIC, "swagger-init.js", max_age=ASSET_MAX_AGE)


@bp.get("/assets/<name>")
def asset(name):
    if name not in SWAGGER_UI_FILES:
        abort(404)
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, name, max_age=ASSET_MAX_AGE)
