"""Revision 0020 makes the monthly usage counts (`ai_usage_month`) from the ledger's rows so
far, so that credit already spent is not forgotten by the upgrade."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from sqlalchemy import create_engine

from dpghub.core.db import alembic_config

AT = datetime(2026, 5, 14, 3, 0, tzinfo=UTC)
# (org, month, input, output); a hub feature's row has no organization and is not counted
CALLS = [(1, "2026-05", 100, 20), (1, "2026-05", 7, 3), (1, "2026-04", 50, 0),
         (2, "2026-05", 1, 1), (None, "2026-05", 9, 9)]


def test_the_counts_start_from_the_ledger(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    config = alembic_config(url)
    command.upgrade(config, "0019")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            ledger = sa.Table("ai_ledger", sa.MetaData(), autoload_with=conn)
            conn.execute(ledger.insert(), [
                {"at": AT, "month": month, "request_id": f"r{n}", "org_id": org,
                 "alias": "hcx", "model": "m", "kind": "chat", "stream": False,
                 "input_tokens": tokens_in, "output_tokens": tokens_out, "cost_krw": 0,
                 "latency_ms": 1.0, "status": 200, "outcome": "ok", "fault": ""}
                for n, (org, month, tokens_in, tokens_out) in enumerate(CALLS)])
        command.upgrade(config, "0020")
        with engine.connect() as conn:
            counted = conn.execute(sa.text(
                "SELECT org_id, month, tokens, calls FROM ai_usage_month "
                "ORDER BY org_id, month")).all()
        assert [tuple(row) for row in counted] == [
            (1, "2026-04", 50, 1), (1, "2026-05", 130, 2), (2, "2026-05", 2, 1)]
        command.downgrade(config, "0019")
        command.upgrade(config, "head")
    finally:
        engine.dispose()
