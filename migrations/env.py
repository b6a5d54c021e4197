"""Alembic environment: the URL comes from the caller (``gateway migrate``, the tests)."""

from __future__ import annotations

from alembic import context

from gateway.store.db import make_engine
from gateway.store.models import Base

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("no database URL given to the migrations")

engine = make_engine(url)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
