"""Domain errors → RFC 9457 problems: the only place that knows HTTP status codes.

Every problem is signed like any response to a partner (PROTOCOL §4, §6) and every refusal on the
partner API (``/v1/``) is recorded in the audit log, whatever layer refused it: the size limit,
connexion's validation, authentication or the inbound workflow.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from connexion.exceptions import (
    BadRequestProblem,
    ExtraParameterProblem,
    OAuthProblem,
    ProblemException,
    UnsupportedMediaTypeProblem,
)
from connexion.lifecycle import ConnexionResponse
from starlette.exceptions import HTTPException
from starlette.requests import Request

from gateway import errors
from gateway.api.edge import facts_of
from gateway.api.signing import sign_response
from gateway.exchange.delivery import PATHS

if TYPE_CHECKING:
    from gateway.app import Services

logger = logging.getLogger(__name__)

PROBLEM_BASE = "https://customs.go.jp/gateway/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

STATUS_BY_ERROR: dict[type[errors.GatewayError], int] = {
    errors.AuthenticationError: 401,
    errors.SignatureError: 401,
    errors.HeaderMismatchError: 403,
    errors.PolicyDeniedError: 403,
    errors.RequestInvalidError: 400,
    errors.DocumentError: 422,
    errors.MalformedBodyError: 400,
    errors.ForbiddenXmlConstructError: 400,
    errors.PayloadTooLargeError: 413,
    errors.UnsupportedMediaTypeError: 415,
    errors.ConflictError: 409,
    errors.NotFoundError: 404,
    errors.ForbiddenError: 403,
    errors.StoreUnavailableError: 503,
    errors.RateLimitedError: 429,
    errors.BodyTimeoutError: 408,
    errors.ProcessingTimeoutError: 503,
    errors.ConfigurationError: 500,
}

# connexion's own refusals, given stable kinds of ours.
_CONNEXION_KINDS: dict[type[ProblemException], tuple[str, str]] = {
    OAuthProblem: ("token-missing", "No bearer assertion"),
    UnsupportedMediaTypeProblem: ("unsupported-media-type", "Media type not accepted"),
    ExtraParameterProblem: ("request-invalid", "Request not as the spec describes"),
    BadRequestProblem: ("request-invalid", "Request not as the spec describes"),
}
_HTTP_KINDS = {
    403: (errors.ForbiddenError.kind, errors.ForbiddenError.title),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
}


def status_of(error: errors.GatewayError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


#: The message type posted to each message path (``/v1/certificates-of-origin`` → its type).
_TYPE_BY_PATH = {path: message_type for message_type, path in PATHS.items()}


def _subject(path: str) -> str:
    """``/v1/seizure-reports/…`` → ``seizure-report`` (the audit tag's subject)."""
    parts = [p for p in path.split("/") if p]
    resource = parts[1] if len(parts) > 1 else "request"
    if f"/v1/{resource}" in _TYPE_BY_PATH:
        return _TYPE_BY_PATH[f"/v1/{resource}"]
    return resource[:-1] if resource.endswith("s") else resource


class ProblemResponder:
    """Builds signed problem responses and audits refusals; registered as connexion's handler."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def problem(
        self,
        request: Request,
        *,
        kind: str,
        title: str,
        status: int,
        detail: str,
        extra: dict[str, Any] | None = None,
        message_id: str | None = None,
        decision: dict[str, Any] | None = None,
        retry_after: int | None = None,
        caller: str | None = None,
    ) -> ConnexionResponse:
        instance = str(uuid.uuid4())
        body = {
            "type": PROBLEM_BASE + kind,
            "title": title,
            "status": status,
            "detail": detail,
            "instance": f"urn:uuid:{instance}",
            **(extra or {}),
        }
        encoded = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        caller = caller or _caller(request)
        if request.url.path.startswith("/v1/"):
            self._audit_refusal(
                request, kind, status, detail, caller, message_id, instance, extra, decision
            )
        headers = sign_response(
            self._services,
            encoded,
            content_type=PROBLEM_MEDIA_TYPE,
            message_id=instance,
            message_type="problem",
            audience=caller,
        )
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return ConnexionResponse(
            status_code=status, body=encoded, content_type=PROBLEM_MEDIA_TYPE, headers=headers
        )

    def _audit_refusal(
        self,
        request: Request,
        kind: str,
        status: int,
        detail: str,
        caller: str | None,
        message_id: str | None,
        instance: str,
        extra: dict[str, Any] | None,
        decision: dict[str, Any] | None,
    ) -> None:
        facts = facts_of(request.scope)
        try:
            self._services.refusals.record(
                subject=_subject(request.url.path),
                kind=kind,
                status=status,
                detail=detail,
                caller=caller,
                message_id=message_id,
                body_sha256=facts.body_sha256 if facts else None,
                method=request.method,
                path=request.url.path,
                instance=instance,
                rule=(extra or {}).get("rule"),
                decision=decision,
                address=request.client.host if request.client else None,
            )
        except Exception:  # whatever failed, the refusal itself must still go out
            logger.exception("could not record the refusal %s in the audit log", instance)

    # --- connexion error handlers ------------------------------------------------------------

    def gateway_error(self, request: Request, error: Exception) -> ConnexionResponse:
        assert isinstance(error, errors.GatewayError)
        extra = {"rule": error.rule} if isinstance(error, errors.PolicyDeniedError) else None
        decision = error.decision if isinstance(error, errors.PolicyDeniedError) else None
        return self.problem(
            request,
            kind=error.kind,
            title=error.title,
            status=status_of(error),
            detail=error.detail,
            extra=extra,
            message_id=error.message_id,
            decision=decision,
            retry_after=error.retry_after,
            # authenticated, then refused before connexion recorded who called
            caller=error.partner if isinstance(error, errors.RateLimitedError) else None,
        )

    def connexion_problem(self, request: Request, error: Exception) -> ConnexionResponse:
        assert isinstance(error, ProblemException)
        kind, title = next(
            (v for cls, v in _CONNEXION_KINDS.items() if isinstance(error, cls)),
            ("request-invalid", error.title or "Request refused"),
        )
        if error.status >= 500:
            kind, title = "internal-error", "Internal error"
        return self.problem(
            request, kind=kind, title=title, status=error.status, detail=str(error.detail or title)
        )

    def http_error(self, request: Request, error: Exception) -> ConnexionResponse:
        assert isinstance(error, HTTPException)
        kind, title = _HTTP_KINDS.get(error.status_code, ("request-invalid", "Request refused"))
        return self.problem(
            request, kind=kind, title=title, status=error.status_code, detail=str(error.detail)
        )

    def unexpected(self, request: Request, error: Exception) -> ConnexionResponse:
        logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
        return self.problem(
            request,
            kind="internal-error",
            title="Internal error",
            status=500,
            detail="the gateway failed; the refusal is logged, quote its instance to IIO",
        )

    def handlers(
        self,
    ) -> list[tuple[type[Exception], Callable[[Request, Exception], ConnexionResponse]]]:
        return [
            (errors.GatewayError, self.gateway_error),
            (ProblemException, self.connexion_problem),
            (HTTPException, self.http_error),
            (Exception, self.unexpected),
        ]


def _caller(request: Request) -> str | None:
    """The authenticated caller of this request, if authentication succeeded."""
    extensions = request.scope.get("extensions") or {}
    context = extensions.get("connexion_context") or {}
    token_info = context.get("token_info") or {}
    caller = token_info.get("sub")
    return caller if isinstance(caller, str) else None
