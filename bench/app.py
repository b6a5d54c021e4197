"""The gateway app plus one bare operation, for the inbound benchmark (uvicorn factory)."""

from __future__ import annotations

from pathlib import Path

import connexion
import flask

from gateway.app import asgi_app_from_environment


def bare_post() -> flask.Response:
    flask.request.get_data()
    return flask.Response(b'{"status":"accepted"}', status=202, content_type="application/json")


def app() -> connexion.FlaskApp:
    gateway = asgi_app_from_environment()
    gateway.add_api(Path(__file__).with_name("bare.yaml"), name="bench")
    return gateway
