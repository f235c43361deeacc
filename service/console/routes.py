"""The staff console under /console/: QR login, the role pages, and the projector page.

Security headers for everything served here: a strict Content-Security-Policy (scripts and
styles only from our own files, or inline with this response's nonce), no framing, no sniffing.
The projector page (/console/sessions/<id>/checkin) is opened through a short-lived signed link
(see service.attendance.projector) and polls its state with the same link token.
"""

import secrets
import time
from urllib.parse import urlencode, urlsplit

from bson import ObjectId
from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request

from service.attendance import projector, qr, reports, roster, tokens
from service.auth.service import identity_for_user
from service.console import pages
from service.console_login import service as console_login
from service.core import regions
from service.core.auth import ensure_class
from service.core.ids import parse_object_id
from service.users import repository as users

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static")

@bp.before_request
def _nonce():
    g.csp_nonce = secrets.token_urlsafe(16)


@bp.after_request
def _content_security_policy(response):
    # Stricter than the service-wide policy (service.core.headers, kept for everything else):
    # inline scripts and styles only with this response's nonce, never 'unsafe-inline'.
    nonce = g.get("csp_nonce", "")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'")
    return response


def _console_user():
    return console_login.console_user(request.cookies.get(console_login.COOKIE_NAME))


def _render_page(template, *, page, **context):
    found = _console_user()
    if found is None:
        # Back to the QR screen, which returns here after logging in; "ended" when the browser still
        # held a session cookie (logged out in another tab, expired, account deactivated).
        query = {"next": request.full_path.rstrip("?")}
        if request.cookies.get(console_login.COOKIE_NAME):
            query["ended"] = "1"
        return redirect("/console/?" + urlencode(query))
    session, identity = found
    if page is not None and not pages.allowed(identity, page):
        # A console page, not the API's JSON: this role has no such page; the menu shows what it has.
        return _page_context(template="forbidden.html", page=None, session=session, identity=identity,
                             context={}), 403
    return _page_context(template=template, page=page, session=session, identity=identity, context=context)


def _page_context(*, template, page, session, identity, context):
    user = users.get(identity.user_id) or {}
    return render_template(
        template, page=page, csrf_token=session["csrf_token"], menu=pages.menu_for(identity),
        user_name=user.get("name") or "工作人员",
        role_names=[pages.ROLE_NAMES[r] for r in sorted(identity.roles) if r in pages.ROLE_NAMES],
        roles=sorted(identity.roles), region_codes=sorted(identity.region_codes),
        region_names=_region_names(), **context)


def _region_names():
    """{code: name} of every region (service.core.regions), for pages that show a region by name."""
    return {code: region["name"] for code, region in regions.all_regions().items()}


# ---- login and logout ----

def safe_next(value):
    """The console path to return to after logging in, or None: only a same-origin /console/ path
    (no scheme, no host, no //evil.example or backslash tricks), so the login page is no open redirect."""
    if not value or "\\" in value or any(ord(c) < 32 for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/") or parts.path.startswith("/console//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.get("/")
def home():
    if _console_user() is None:
        return render_template("login.html", login_seconds=current_app.config["CONSOLE_LOGIN_SECONDS"],
                               next=safe_next(request.args.get("next")) or "/console/",
                               ended=request.args.get("ended") == "1")
    target = safe_next(request.args.get("next"))
    if target and target != "/console/":
        return redirect(target)
    return _render_page("home.html", page=None)


@bp.post("/session/<login_id>")
def open_session(login_id):
    """The waiting console exchanges its confirmed login request for a session cookie; the poll
    secret travels in the X-Console-Login-Secret header (no body).

    202 {"status": "pending"} while nobody confirmed; 200 + Set-Cookie once; then 409 (used) /
    410 (expired) / 404 (unknown request or wrong poll secret)."""
    secret, session = console_login.exchange(
        login_id=console_login.parse_login_id(login_id),
        poll_secret=request.headers.get("X-Console-Login-Secret", ""),
        user_agent=request.headers.get("User-Agent", ""))
    if secret is None:
        return jsonify({"status": session["status"]}), 202
    response = jsonify({"status": "used"})
    response.set_cookie(console_login.COOKIE_NAME, secret, httponly=True, samesite="Strict", path="/",
                        secure=current_app.config["APP_ENV"] == "production")
    return response


@bp.post("/logout")
def logout():
    """End the console session at once (CSRF token required, like every console write)."""
    secret = request.cookies.get(console_login.COOKIE_NAME)
    console_login.identity_for_session(secret=secret, method="POST",
                                       csrf_header=request.headers.get("X-CSRF-Token"))
    console_login.logout(secret=secret)
    response = current_app.response_class(status=204)
    response.delete_cookie(console_login.COOKIE_NAME, path="/", httponly=True, samesite="Strict",
                           secure=current_app.config["APP_ENV"] == "production")
    return response


# ---- role pages ----

@bp.get("/<page>")
def page(page):
    if page not in pages.NAMES:
        abort(404)
    return _render_page(f"{page}.html", page=page)


@bp.get("/classes/<class_id>")
def class_page(class_id):
    return _render_page("class.html", page="classes", class_id=str(parse_object_id(class_id, "CLASS_NOT_FOUND")))


@bp.get("/board/<session_id>")
def board_page(session_id):
    return _render_page("board.html", page="today",
                        session_id=str(parse_object_id(session_id, "SESSION_NOT_FOUND")))


# ---- projector page (signed link, no console session needed) ----

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
