"""The gateway app plus two bench-only operations, for the inbound benchmark (uvicorn factory).

* ``POST /bench/bare``: the body read, a fixed answer: the framework alone.
* ``POST /bench/authenticated``: the signed path's edge (the partner assertion verified by the
  gateway's own bearer function, the X-JWS-Signature header required) and a fixed signed receipt,
  but none of the message's own work (JWS over the body, parse, schema, policy, storing
  transaction, receipt signing). Beside the bare POST it shows the highest signed/bare ratio this
  framework leaves, whatever the message's own work costs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import connexion
import flask

from gateway.api.messages import incoming
from gateway.api.signing import SIGNATURE_HEADER
from gateway.app import asgi_app_from_environment
from gateway.exchange.receipts import RECEIPT_MEDIA_TYPE

#: A receipt of the real path's size; its content is not checked by the benchmark.
_FIXED_RECEIPT = b'{"message_id":"00000000-0000-4000-8000-000000000000","status":"accepted"}'
_FIXED_SIGNATURE = "e30..c2lnbmF0dXJl"


def bare_post() -> flask.Response:
    flask.request.get_data()
    return flask.Response(b'{"status":"accepted"}', status=202, content_type="application/json")


def authenticated_post(token_info: dict[str, Any]) -> flask.Response:
    incoming(token_info)  # the call as the real handler reads it: assertion, body, signature
    return flask.Response(
        _FIXED_RECEIPT,
        status=202,
        content_type=RECEIPT_MEDIA_TYPE,
        headers={SIGNATURE_HEADER: _FIXED_SIGNATURE},
    )


def app() -> connexion.FlaskApp:
    gateway = asgi_app_from_environment()
    gateway.add_api(Path(__file__).with_name("bare.yaml"), name="bench")
    return gateway
