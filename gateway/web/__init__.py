"""Server-rendered pages inside the gateway (Jinja2, no asset from a CDN).

Now: the auditors' pages of the exchange log and the officers' certificate-of-origin pages.
The review screens of issue 7 will share the layout,
the session and the CSRF protection defined here.
"""

from __future__ import annotations

import flask

from gateway.web.audit_pages import audit_pages
from gateway.web.origin_pages import origin_pages
from gateway.web.session import session_pages


def create_blueprint() -> flask.Blueprint:
    web = flask.Blueprint(
        "web", __name__, url_prefix="/web", template_folder="templates", static_folder="static"
    )
    session_pages(web)
    audit_pages(web)
    origin_pages(web)
    return web
