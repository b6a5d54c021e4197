"""The ``gateway`` command. Each sub-command group lives in a module of its own."""

from gateway.cli import (  # noqa: F401 - registers the commands
    accounts,
    audit,
    demo,
    hub,
    origin,
    outbound,
    policy,
    send,
    server,
    signin,
    trust,
)
from gateway.cli.root import main

__all__ = ["main"]
