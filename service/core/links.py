"""Absolute links the service hands out (certificate verification QR, projector page).

They come from configuration only, never from the request's Host header: a request sent with
`Host: evil.example` must not make the service print a link to evil.example on a certificate.
`PUBLIC_BASE_URL` is required in production; in development `lingjun serve` sets it to the
address it serves on, and a bare `create_app()` (tests) uses DEVELOPMENT_BASE_URL.
"""

from flask import current_app

DEVELOPMENT_BASE_URL = "http://127.0.0.1:8000"


def public_base_url():
    """The service's public base URL, without a trailing slash."""
    return (current_app.config.get("PUBLIC_BASE_URL") or DEVELOPMENT_BASE_URL).rstrip("/")


def public_url(path):
    """`path` (starting with /) as an absolute link on the public base URL."""
    return public_base_url() + path
