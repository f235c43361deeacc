"""/console/sessions/<id>/checkin: the full-screen QR page for the projector.

Opened through a short-lived signed link (see service.attendance.projector); the page polls
/console/sessions/<id>/checkin/state with the same link token for the current code and counts.
"""

import time
from urllib.parse import urlsplit

from bson import ObjectId
from flask import Blueprint, current_app, jsonify, render_template, request

from service.attendance import projector, qr, reports, roster, tokens
from service.auth.service import identity_for_user
from service.core.auth import ensure_class
from service.core.ids import parse_object_id

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static")


def _authorise(session_id):
    user_id = projector.read_link(request.args.get("t"), session_id)
    identity = identity_for_user(ObjectId(user_id))
    class_doc, session = roster.session_context(session_id)
    ensure_class(identity, class_doc["_id"])
    return identity, class_doc, session


@bp.get("/sessions/<session_id>/checkin")
def checkin_page(session_id):
    session_id = parse_object_id(session_id, "SESSION_NOT_FOUND")
    _, class_doc, session = _authorise(session_id)
    return render_template("checkin.html", class_name=class_doc["name"], session_title=session["title"],
                           refresh_seconds=current_app.config["CHECKIN_CODE_SECONDS"],
                           state_url=f"/console/sessions/{session_id}/checkin/state?t={request.args.get('t')}")


@bp.get("/sessions/<session_id>/checkin/state")
def checkin_state(session_id):
    session_id = parse_object_id(session_id, "SESSION_NOT_FOUND")
    identity, _, _ = _authorise(session_id)
    code, expires = tokens.issue(tokens.CLASS, session_id)
    url = tokens.class_code_url(code)
    state = reports.counts(identity=identity, session_id=session_id)
    response = jsonify({"code": code, "url": url, "svg": qr.svg(url),
                        "expires_in_ms": int((expires - time.time()) * 1000), **state})
    response.headers["Cache-Control"] = "no-store"
    return response


def scan_page(code):
    """The class code URL opened outside WeChat (a phone's camera, a browser): a short page saying
    to scan with WeChat. Never an error, and it says nothing about the code."""
    response = current_app.make_response(render_template("scan.html"))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.record_once
def _register_scan_page(state):
    # The page lives at the path of CHECKIN_URL_PREFIX (a setting), outside /console.
    path = urlsplit(state.app.config["CHECKIN_URL_PREFIX"]).path or "/"
    state.app.add_url_rule(f"{path.rstrip('/')}/<path:code>", "class_code_scan_page", scan_page)
