"""Three workers starting at once on a fresh PostgreSQL database each migrate it first (the Dockerfile's
`gridbot migrate && exec gridbot run`): one does, the others find it done; none fails."""

import pytest

from storage.db import make_engine, migrate, schema_revisions
from tests.processes import in_processes


def _migrate(barrier, url: str) -> str:
    engine = make_engine(url)
    barrier.wait()
    migrate(engine)
    current, _ = schema_revisions(engine)
    engine.dispose()
    return current


@pytest.mark.postgres
def test_three_processes_migrating_one_database_at_once(postgres_url):
    revisions = in_processes(_migrate, [(postgres_url,)] * 3)
    assert len(set(revisions)) == 1 and revisions[0] == schema_revisions(make_engine(postgres_url))[1]
