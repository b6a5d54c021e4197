"""Server-rendered pages inside the gateway (Jinja2, no asset from a CDN).

The officers' review pages (queue, case, compose, preview, dead letters), their certificate-of-
origin pages, and the auditors' pages of the exchange log, with one layout, session and CSRF
protection. Every page is sent with headers that keep it out of frames (the buttons of the
four-eyes review must not be clicked through another site), out of caches (pages show personal
data) and away from any script: the pages carry none, and their policy allows none.
"""

from __future__ import annotations

import flask

from gateway.web.audit_pages import audit_pages
from gateway.web.case_pages import case_pages
from gateway.web.hub_pages import hub_pages
from gateway.web.origin_pages import origin_pages
from gateway.web.session import session_pages

#: The pages load their own stylesheet and nothing else, post forms only to the gateway, and are
#: never framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # page addresses name cases and messages
    "Cache-Control": "no-store",
}


def _secured(response: flask.Response) -> flask.Response:
    response.headers.update(SECURITY_HEADERS)
    return response


def create_blueprint() -> flask.Blueprint:
    web = flask.Blueprint(
        "web", __name__, url_prefix="/web", template_folder="templates", static_folder="static"
    )
    session_pages(web)
    audit_pages(web)
    case_pages(web)
    hub_pages(web)
    origin_pages(web)
    web.after_request(_secured)
    return web
