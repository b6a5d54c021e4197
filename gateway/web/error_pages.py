"""Errors under ``/web`` as pages in the site's layout, never raw problem JSON.

An officer who meets a refusal on the pages (a role they lack, 403; a case that is not there,
404; an action the case's state does not allow, 409; a stale or forged form, 400; too many tries,
429; the database away, 503; the gateway failing, 500) gets ``error.html``: the status kept, the
problem's title, detail and kind (and, for a failure, the instance to quote to IIO, which the log
names too), and one link back. Under ``/v1`` nothing changes: every error there is an RFC 9457
problem (:mod:`gateway.api.problems`). Error pages carry the pages' headers
(:mod:`gateway.web.headers`).

The way back (:func:`way_back`), first that applies:

1. a refusal for lack of a role (403) → the officer's start page: the pages around it need the
   same role;
2. the page the browser says the officer came from (``Referer``), if it is a page of this
   gateway other than the one that failed (the pages themselves send no referrer, ADR 9, so this
   is a browser or proxy that chose to);
3. for a form (POST) → the page it was on, the nearest page above its address
   (``/web/cases/7/actions`` → ``/web/cases/7``, ``/web/dead-letters/…/retry`` →
   ``/web/dead-letters``);
4. the officer's start page, or the sign-in page when nobody is signed in.

What the connexion middleware refuses before Flask sees the request (a body over the size limit
or too slow, no answer in time, a NUL in the address) is still answered as a problem.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import flask
from markupsafe import escape
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from gateway import errors
from gateway.api.problems import status_of
from gateway.people import Person
from gateway.web.headers import secured
from gateway.web.session import current_user, home_of

logger = logging.getLogger(__name__)

WEB_PREFIX = "/web"
#: A werkzeug refusal's kind and title, where the gateway has an error class for it.
_HTTP_ERRORS: dict[int, type[errors.GatewayError]] = {
    400: errors.RequestInvalidError,
    403: errors.ForbiddenError,
    404: errors.NotFoundError,
    409: errors.StateConflictError,
    429: errors.RateLimitedError,
}
#: Headers of a werkzeug refusal that the page keeps (405's ``Allow``, 429's ``Retry-After``).
_KEPT_HEADERS = frozenset({"allow", "retry-after"})


@dataclass(frozen=True)
class WayBack:
    href: str
    label: str


def _signed_in() -> Person | None:
    """Who is signed in, or None if that cannot be known now (the error may be the database's:
    the page must still be shown)."""
    try:
        return current_user()
    except Exception:
        flask.g.person = None
        return None


def _start_page(person: Person | None) -> WayBack:
    if person is None:
        return WayBack(flask.url_for("web.login"), "Sign in")
    home = flask.url_for(home_of(person))
    if home == flask.request.script_root + flask.request.path:  # their start page failed
        return WayBack(flask.url_for("web.login"), "Sign in again")
    return WayBack(home, "Back to your start page")


def _referring_page() -> str | None:
    """The page of this gateway the browser came from, as a path; None if it named none, another
    site's, or the address that failed."""
    referrer = flask.request.referrer
    if not referrer:
        return None
    parsed = urlsplit(referrer)
    pages = flask.request.script_root + WEB_PREFIX + "/"
    if parsed.scheme not in ("http", "https") or parsed.netloc != flask.request.host:
        return None
    if flask.request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
        return None
    if not parsed.path.startswith(pages) or parsed.path.startswith(pages + "static/"):
        return None
    target = parsed.path + (f"?{parsed.query}" if parsed.query else "")
    failed = flask.request.script_root + flask.request.full_path.rstrip("?")
    return None if target == failed and flask.request.method == "GET" else target


def _page_above(path: str) -> str | None:
    """The nearest address above ``path`` that is a page (GET, of the pages), as a path."""
    adapter = flask.current_app.url_map.bind_to_environ(flask.request.environ)
    parts = path.rstrip("/").split("/")
    while len(parts) > 2:  # "", "web", …: /web itself only redirects to the start page
        parts.pop()
        candidate = "/".join(parts)
        try:
            endpoint, _ = adapter.match(candidate, method="GET")
        except HTTPException:  # not a page (404, 405, a redirect)
            continue
        if str(endpoint).startswith("web.") and endpoint != "web.static":
            return flask.request.script_root + candidate
    return None


def way_back(status: int, person: Person | None) -> WayBack:
    """The one link of an error page (see the module docstring for the order)."""
    if status == 403:
        return _start_page(person)
    came_from = _referring_page()
    if came_from is not None:
        return WayBack(came_from, "Back to the page you came from")
    if flask.request.method == "POST":
        form_page = _page_above(flask.request.path)
        if form_page is not None:
            return WayBack(form_page, "Back to the page")
    return _start_page(person)


def error_page(
    *,
    status: int,
    kind: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
) -> flask.Response:
    """The page for a refusal, with the pages' headers. Should the layout itself fail (the
    error may be what broke it), a bare page says the same."""
    person = _signed_in()
    back = way_back(status, person)
    values = {"status": status, "kind": kind, "title": title, "detail": detail}
    try:
        body = flask.render_template("error.html", back=back, instance=instance, **values)
    except Exception:
        logger.exception("the error page for %s could not be rendered", flask.request.path)
        body = (
            f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1>"
            f"<p>{escape(detail)}</p><p>HTTP {status} · {escape(kind)}</p>"
            f'<p><a href="{escape(back.href)}">{escape(back.label)}</a></p>'
        )
    response = flask.make_response(body, status)
    response.headers.update(headers or {})
    return secured(response)


def http_error_page(error: HTTPException) -> BaseResponse:
    """A werkzeug refusal (``flask.abort``, an address no page has, a method a page does not
    take) as a page; a redirect (``/web`` → ``/web/``) goes out as it is."""
    status = error.code or 500
    if status < 400:
        return secured(error.get_response())
    known = _HTTP_ERRORS.get(status)
    kept = {k: v for k, v in error.get_headers() if k.lower() in _KEPT_HEADERS}
    return error_page(
        status=status,
        kind=known.kind if known else (error.name or "error").lower().replace(" ", "-"),
        title=known.title if known else (error.name or "Error"),
        detail=error.description or (error.name or "Error"),
        headers=kept,
    )


def gateway_error_page(error: errors.GatewayError) -> flask.Response:
    """A refusal of the workflow behind a page (not found, not in this state, not for this
    role, the database away) as a page, with its status and ``Retry-After``."""
    retry = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else {}
    return error_page(
        status=status_of(error),
        kind=error.kind,
        title=error.title,
        detail=error.detail,
        headers=retry,
    )


def failure_page(error: Exception) -> flask.Response:
    """Anything else: logged with an instance id the page shows, for the officer to quote."""
    instance = f"urn:uuid:{uuid.uuid4()}"
    logger.error(
        "unexpected error on %s %s (%s)",
        flask.request.method,
        flask.request.path,
        instance,
        exc_info=error,
    )
    return error_page(
        status=500,
        kind="internal-error",
        title="Internal error",
        detail="the gateway failed; the failure is logged, quote its instance to IIO",
        instance=instance,
    )


def _under_web() -> bool:
    path = flask.request.path
    return path == WEB_PREFIX or path.startswith(WEB_PREFIX + "/")


def error_pages(web: flask.Blueprint) -> None:
    """Errors of the pages' views, and of any address under ``/web`` no view took (these reach
    the application's handler, which connexion turns into a problem elsewhere), as pages."""
    web.register_error_handler(HTTPException, http_error_page)
    web.register_error_handler(errors.GatewayError, gateway_error_page)
    web.register_error_handler(Exception, failure_page)

    def install(state: flask.blueprints.BlueprintSetupState) -> None:
        app = state.app
        elsewhere: Callable[[HTTPException], Any] | None = app.error_handler_spec[None][None].get(
            HTTPException
        )

        def http_error(error: HTTPException) -> Any:
            if _under_web():
                return http_error_page(error)
            if elsewhere is None:
                return error.get_response()
            return elsewhere(error)

        app.register_error_handler(HTTPException, http_error)

    web.record_once(install)
