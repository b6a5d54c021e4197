"""Server-rendered pages inside the gateway (Jinja2, no asset from a CDN).

The officers' review pages (queue, case, compose, preview, dead letters), their certificate-of-
origin pages, and the auditors' pages of the exchange log, with one layout, session and CSRF
protection. Every page is sent with headers that keep it out of frames (the buttons of the
four-eyes review must not be clicked through another site), out of caches (pages show personal
data) and away from any script: the pages carry none, and their policy allows none
(:mod:`gateway.web.headers`). An error under ``/web`` is a page too, with the way back
(:mod:`gateway.web.error_pages`); under ``/v1`` it stays an RFC 9457 problem.
"""

from __future__ import annotations

import flask

from gateway.web.audit_pages import audit_pages
from gateway.web.case_pages import case_pages
from gateway.web.error_pages import error_pages
from gateway.web.headers import SECURITY_HEADERS, secured
from gateway.web.hub_pages import hub_pages
from gateway.web.origin_pages import origin_pages
from gateway.web.session import session_pages

__all__ = ["SECURITY_HEADERS", "create_blueprint"]


def create_blueprint() -> flask.Blueprint:
    web = flask.Blueprint(
        "web", __name__, url_prefix="/web", template_folder="templates", static_folder="static"
    )
    session_pages(web)
    audit_pages(web)
    case_pages(web)
    hub_pages(web)
    origin_pages(web)
    error_pages(web)
    web.after_request(secured)
    return web
