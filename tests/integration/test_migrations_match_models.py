"""The migrations make exactly the tables the models describe, on both databases (a model
changed without its migration fails here), and the newest one goes down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dpghub.core.db import alembic_config, make_engine
from dpghub.models import metadata


def test_the_migrated_schema_is_the_models_schema(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_the_newest_migration_goes_down_and_up(db_url: str) -> None:
    config = alembic_config(db_url)
    command.downgrade(config, "-1")
    command.upgrade(config, "head")
    test_the_migrated_schema_is_the_models_schema(db_url)
