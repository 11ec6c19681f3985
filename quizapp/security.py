"""HTTP security headers (a CSP without inline script, no framing, no sniffing, no caching of
what names people) and proxies."""

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


# Set on every response unless the view set them itself.
SECURITY_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
HSTS = ("Strict-Transport-Security", "max-age=31536000")


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def add_headers(response: Response) -> Response:
        # One pass over the headers already set (every answer save goes through here; a
        # setdefault per header scans them each time).
        headers = response.headers
        present = {name.lower() for name, _value in headers.items()}
        wanted = SECURITY_HEADERS
        if app.config.get("SESSION_COOKIE_SECURE"):
            wanted = (*wanted, HSTS)
        for name, value in wanted:
            if name.lower() not in present:
                headers.add(name, value)
        # Pages, API answers and downloads name people (attempts, results, rosters, first
        # passwords): no browser or proxy keeps them. Static files keep their caching; a view's
        # own Cache-Control is kept, but for send_file's default (no-cache still stores).
        if request.endpoint != "static":
            if "cache-control" not in present:
                headers.add("Cache-Control", "no-store")
            elif headers["Cache-Control"] == "no-cache":
                headers["Cache-Control"] = "no-store"
        return response


def trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client's address from X-Forwarded-For."""
    count = int(app.config.get("TRUSTED_PROXIES") or 0)
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
