"""Security headers on every answer (one `after_request` hook).

- `X-Content-Type-Options: nosniff` everywhere: a browser must not read a JSON answer or an
  uploaded scan as HTML.
- HTML pages (projector page, certificate verification, API docs): a Content-Security-Policy that
  runs only scripts served by this service (no inline script, nothing from another origin),
  `frame-ancestors 'none'` (no framing: clickjacking), and `Referrer-Policy: no-referrer` because
  the projector page's URL carries its link token.
- `Cache-Control: no-store` on every answer that did not choose its own caching: answers carry
  personal data (names, ID numbers, phones, attendance), and a shared proxy or the mini-program's
  cache must not keep them. Static assets (docs, console) set their own max-age.
- An answer without a body (`204`, and the `OPTIONS` answer Flask builds, which only lists `Allow`)
  carries no `Content-Type`: there is nothing to type (it said text/html or application/json).
"""

from flask import request

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    # Inline <style> blocks and style attributes (Swagger UI sets them from script): styles
    # cannot run code, scripts stay 'self' only.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
])


def add_security_headers(response):
    headers = response.headers
    if response.status_code == 204 or (request.method == "OPTIONS" and response.status_code == 200
                                       and not response.get_data()):
        headers.pop("Content-Type", None)
    headers["X-Content-Type-Options"] = "nosniff"
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
    if "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app):
    app.after_request(add_security_headers)
