from pathlib import Path

import pytest

SEEDS = Path(__file__).parent / "samples" / "seeds"


@pytest.fixture
def seed_bytes():
    def read(registry_id: str) -> bytes:
        return (SEEDS / f"{registry_id}.txt").read_bytes()

    return read


@pytest.fixture
def seeds_loaded(db):
    """The five seed files ingested through the real command."""
    from django.core.management import call_command

    call_command("ingest", str(SEEDS), verbosity=0)


@pytest.fixture(autouse=True, scope="session")
def connections_closed_after_use():
    """Every connection closes when its work is done, as with CONN_MAX_AGE=0: a connection left open on another
    thread (the search's facet counts) would stop the test database being dropped at the end."""
    from django.db import connections

    connections.settings["default"]["CONN_MAX_AGE"] = 0
