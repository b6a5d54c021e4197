"""The ``gateway`` command. Each sub-command group lives in a module of its own."""

from gateway.cli import audit, outbound, policy, send, server, trust  # noqa: F401 - registers the commands
from gateway.cli.root import main

__all__ = ["main"]
