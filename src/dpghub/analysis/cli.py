"""`dpghub query` and `dpghub regions load`: analysis from a terminal."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..core.errors import Invalid
from ..identity.policy import CLI
from . import regions, schemas, service

out = Console(soft_wrap=True)


def register(app: typer.Typer, hub_context) -> None:  # type: ignore[no-untyped-def]
    regions_app = typer.Typer(help="The region code reference.", no_args_is_help=True)
    app.add_typer(regions_app, name="regions")

    @app.command()
    def query(
        sql: Annotated[str, typer.Argument(help="One SELECT over org.dataset tables.")],
        format: Annotated[str, typer.Option(help="table, csv or json.")] = "table",
        limit: Annotated[int, typer.Option(help="Most rows.")] = 1000,
        timeout: Annotated[float, typer.Option(help="Seconds before the query is stopped.")] = 60,
    ) -> None:
        """Run SQL in the sandbox (as the platform; sensitive datasets stay refused)."""
        from ..lake.storage import LakeStorage

        with hub_context() as (settings, session, _factory):
            result = service.run_query(
                session, actor=CLI, storage=LakeStorage.from_settings(settings),
                settings=settings, request=schemas.QueryRequest(
                    sql=sql, limit=limit, timeout_ms=int(timeout * 1000)))
        names = [c.name for c in result.columns]
        if format == "json":
            out.print_json(json.dumps(result.model_dump(mode="json"), ensure_ascii=False))
        elif format == "csv":
            writer = csv.writer(sys.stdout)
            writer.writerow(names)
            writer.writerows(result.rows)
        else:
            table = Table(*names)
            for row in result.rows:
                table.add_row(*("" if v is None else str(v) for v in row))
            out.print(table)
            out.print(f"{len(result.rows):,} rows{' (truncated)' if result.truncated else ''}, "
                      f"{result.elapsed_ms:.0f} ms, from "
                      + ", ".join(f"{d.org}/{d.name}@{d.version}" for d in result.datasets))

    @regions_app.command("load")
    def regions_load(paths: Annotated[list[Path], typer.Argument(
            help="Official code files: 법정동코드 CSV, KIKcd xlsx, PublicDataReader JSON.",
            exists=True, dir_okay=False)]) -> None:
        """Build the region reference used by sigungu_code, sido_code and region_name."""
        with hub_context() as (settings, _session, _factory):
            try:
                index = regions.build(paths)
            except (ValueError, KeyError, IndexError, StopIteration) as exc:  # a file not as expected
                raise Invalid("{files}: not an official code file ({reason})",
                              files=", ".join(p.name for p in paths),
                              reason=str(exc) or type(exc).__name__) from None
            regions.save(index, settings.home / "regions.json")
        out.print(f"{len(index.names):,} codes ({len(index.abolished):,} abolished) from "
                  f"{index.source}")
