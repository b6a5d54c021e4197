"""The gateway's exception hierarchy.

Every refusal the gateway can make is one class here, named after what went wrong. Each class has
a stable ``kind``: the last segment of its RFC 9457 problem type URI
(``https://customs.go.jp/gateway/problems/<kind>``). The mapping to HTTP status codes lives only in
:mod:`gateway.api.problems`; the core never speaks HTTP.

``detail`` is shown to the caller: it must help them fix the request and must never reveal another
partner's data.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    """Root of every error the gateway raises on purpose."""

    kind = "gateway-error"
    title = "Gateway error"

    #: Seconds after which trying again may succeed (``Retry-After``); None: not a passing state.
    retry_after: int | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
        #: The refused message's id, set by the workflow once it is known (for the audit record).
        self.message_id: str | None = None


class ConfigurationError(GatewayError):
    """Settings, registry, keys or policy files are invalid; the gateway must not start."""

    kind = "configuration-invalid"
    title = "Configuration invalid"


# --- authentication of the call (PROTOCOL §3) -------------------------------------------------


class AuthenticationError(GatewayError):
    """The bearer assertion is missing or does not authenticate the caller."""

    kind = "unauthenticated"
    title = "Authentication failed"


class TokenMissingError(AuthenticationError):
    kind = "token-missing"
    title = "No bearer assertion"


class TokenInvalidError(AuthenticationError):
    kind = "token-invalid"
    title = "Bearer assertion invalid"


class SignInFailedError(AuthenticationError):
    """A username and password that do not match an active account (operator API sign-in)."""

    kind = "sign-in-failed"
    title = "Username and password do not match an active account"


class SessionInvalidError(AuthenticationError):
    """No live session of an active account behind the session token presented."""

    kind = "session-invalid"
    title = "Session not valid"


class TokenExpiredError(AuthenticationError):
    kind = "token-expired"
    title = "Bearer assertion expired"


class AudienceMismatchError(AuthenticationError):
    kind = "audience-mismatch"
    title = "Assertion not addressed to this gateway"


class ReplayError(AuthenticationError):
    kind = "replay"
    title = "Assertion already used"


class UnknownPartnerError(AuthenticationError):
    kind = "unknown-partner"
    title = "Unknown partner"


class UnknownKeyError(AuthenticationError):
    kind = "unknown-key"
    title = "No pinned key matches"


class AlgorithmNotAllowedError(AuthenticationError):
    kind = "algorithm-not-allowed"
    title = "Signature algorithm not allowed"


# --- message signatures (PROTOCOL §4) ---------------------------------------------------------


class SignatureError(GatewayError):
    """A detached JWS is missing, malformed or does not verify."""

    kind = "signature-invalid"
    title = "Message signature invalid"


class SignatureMissingError(SignatureError):
    kind = "signature-missing"
    title = "Message signature missing"


class HeaderMismatchError(SignatureError):
    """The JWS header does not match the call (sender, recipient, type, media type)."""

    kind = "header-mismatch"
    title = "Signed header does not match the call"


# --- requests and documents (PROTOCOL §7) -----------------------------------------------------


class RequestInvalidError(GatewayError):
    """The call is not as the spec describes in a way the spec cannot say: a NUL character in a
    parameter or header, a value the database cannot hold."""

    kind = "request-invalid"
    title = "Request not as the spec describes"


class DocumentError(GatewayError):
    kind = "schema-invalid"
    title = "Document does not follow its schema"


class MalformedBodyError(DocumentError):
    """The body is not well-formed JSON/XML or not valid UTF-8."""

    kind = "malformed-body"
    title = "Body is not well-formed"


class ForbiddenXmlConstructError(DocumentError):
    """A DTD, an entity or an external reference: never processed, always refused."""

    kind = "xml-forbidden-construct"
    title = "XML construct not allowed"


class PayloadTooLargeError(DocumentError):
    kind = "payload-too-large"
    title = "Body over the size limit"


class UnsupportedMediaTypeError(DocumentError):
    kind = "unsupported-media-type"
    title = "Media type not accepted"


class XmlSignatureError(DocumentError):
    """A document's own legal signature (an e-CO's enveloped XML Signature by its issuing
    authority) is missing, does not verify against the pinned certificate, or signs something
    other than the whole document."""

    kind = "xml-signature-invalid"
    title = "Document signature invalid"


# --- policy (PROTOCOL §6) ---------------------------------------------------------------------


class PolicyDeniedError(GatewayError):
    """No rule allows this exchange. ``rule`` names the rule that decided."""

    kind = "policy-denied"
    title = "Exchange not allowed"

    def __init__(self, detail: str, rule: str, decision: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.rule = rule
        #: The whole decision, for the audit record of the refusal.
        self.decision = decision


# --- state ------------------------------------------------------------------------------------


class ConflictError(GatewayError):
    """The message id is known with a different body digest."""

    kind = "conflict"
    title = "Message id already used"


class StateConflictError(ConflictError):
    """The action is not allowed in the record's current state (e.g. cancelling a certificate
    that was already used in a declaration)."""

    kind = "state-conflict"
    title = "Not allowed in the current state"


class ForbiddenError(GatewayError):
    """Authenticated, but this role may not do that."""

    kind = "forbidden"
    title = "Not allowed for this role"


class NotFoundError(GatewayError):
    """Absent, or present but not visible to the caller: the two are indistinguishable."""

    kind = "not-found"
    title = "Not found"


class StoreUnavailableError(GatewayError):
    kind = "store-unavailable"
    title = "Storage unavailable"
    retry_after = 5


# --- limits (PROTOCOL §7) ---------------------------------------------------------------------


class RateLimitedError(GatewayError):
    """The caller sent more than its allowance; ``retry_after`` says when a call will pass."""

    kind = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, partner: str, retry_after: int) -> None:
        super().__init__(detail)
        #: The authenticated caller that is over its allowance.
        self.partner = partner
        self.retry_after = max(1, retry_after)


class BodyTimeoutError(GatewayError):
    """The caller did not finish sending its body in time (a slow or stalled client)."""

    kind = "body-timeout"
    title = "Body not received in time"


class ProcessingTimeoutError(GatewayError):
    """The gateway did not answer in time. Whatever the request was still doing either commits
    whole or not at all; sending the same message again is safe (PROTOCOL §5)."""

    kind = "timeout"
    title = "Not answered in time"
    retry_after = 5
