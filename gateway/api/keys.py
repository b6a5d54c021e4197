"""``GET /.well-known/jwks.json``."""

from __future__ import annotations

import json

import flask

from gateway.api.context import services


def get_jwks() -> flask.Response:
    body = json.dumps(services().keyring.jwks(), separators=(",", ":")).encode()
    return flask.Response(body, status=200, content_type="application/jwk-set+json")
