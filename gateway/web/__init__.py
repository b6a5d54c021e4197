"""Server-rendered pages inside the gateway (Jinja2, no asset from a CDN).

The officers' review pages (queue, case, compose, preview, dead letters), their certificate-of-
origin pages, and the auditors' pages of the exchange log, with one layout, session and CSRF
protection.
"""

from __future__ import annotations

import flask

from gateway.web.audit_pages import audit_pages
from gateway.web.case_pages import case_pages
from gateway.web.hub_pages import hub_pages
from gateway.web.origin_pages import origin_pages
from gateway.web.session import session_pages


def create_blueprint() -> flask.Blueprint:
    web = flask.Blueprint(
        "web", __name__, url_prefix="/web", template_folder="templates", static_folder="static"
    )
    session_pages(web)
    audit_pages(web)
    case_pages(web)
    hub_pages(web)
    origin_pages(web)
    return web
