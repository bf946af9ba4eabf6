"""Re-identification risk of a dataset version (k-anonymity, l-diversity) over the
quasi-identifiers a user names, computed over every row in a locked DuckDB sandbox with the
query memory limit and a time limit."""

from __future__ import annotations

import threading
from typing import Any

import duckdb
from sqlalchemy.orm import Session

from ...analysis import sandbox
from ...analysis.regions import index_for
from ...config import Settings
from ...core.errors import HubError
from ...identity.policy import Actor, authorize
from ...lake import service as lake
from ...lake.models import Dataset
from ...lake.tables import version_data
from ..disclosure.risk import risk_report

TIME_LIMIT_SECONDS = 60


def report(session: Session, *, actor: Actor, dataset: Dataset, settings: Settings,
           storage: Any, quasi: list[str], k: int, sensitive: list[str],
           version: int | None = None) -> dict[str, Any]:
    authorize(actor, "privacy.risk.read", dataset)
    found = lake.readable_version(session, actor=actor, dataset=dataset, version=version)
    data = version_data(storage.table_uri(dataset.id), storage.storage_options,
                        found.delta_version)
    con = sandbox.fresh(settings.query_memory_mb, 2)
    timer = threading.Timer(TIME_LIMIT_SECONDS, con.interrupt)
    try:
        sandbox.lock(con, [sandbox.View("risk_rows", tuple(data.files), data.schema)],
                     index_for(settings.home), storage)
        timer.start()
        result = risk_report(con, "risk_rows", quasi, k=k,
                                        sensitive=sensitive or None)
    except duckdb.InterruptException as exc:
        raise sandbox.QueryTimeout() from exc
    except HubError:
        raise
    except Exception as exc:  # out of memory and the like: as the sandbox says them
        raise sandbox.translate(exc, settings.query_memory_mb) from exc
    finally:
        timer.cancel()
        con.close()
    return {"org": dataset.organization.slug, "name": dataset.slug, "version": found.version,
            "k": k, "quasi": quasi, **result.as_dict()}
