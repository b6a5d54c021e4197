"""Access to the gateway's services from inside a Flask handler."""

from __future__ import annotations

from typing import TYPE_CHECKING

import flask

if TYPE_CHECKING:
    from gateway.app import Services

EXTENSION_KEY = "gateway"


def services() -> Services:
    return flask.current_app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
