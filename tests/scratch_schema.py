"""A PostgreSQL schema of its own for one test or bench run: made, handed over as a URL whose
search_path points at it, dropped afterwards with everything in it."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text


@contextmanager
def scratch_schema(root_url: str, prefix: str) -> Iterator[str]:
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(root_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{root_url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
