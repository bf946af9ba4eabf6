"""`dpghub ingest`, `dpghub datasets list`, `dpghub dataset show`: the lake from a terminal."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..core import jobs
from ..core.errors import NotFound
from ..identity import service as identity
from ..identity.policy import CLI
from . import schemas, service
from .models import AccessLevel, WriteMode
from .storage import LakeStorage

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def register(app: typer.Typer, hub_session) -> None:  # type: ignore[no-untyped-def]
    datasets_app = typer.Typer(help="Datasets in the lake.", no_args_is_help=True)
    dataset_app = typer.Typer(help="One dataset.", no_args_is_help=True)
    app.add_typer(datasets_app, name="datasets")
    app.add_typer(dataset_app, name="dataset")

    @app.command()
    def ingest(
        paths: Annotated[list[Path], typer.Argument(help="Files (CSV, TSV, Excel, JSON, "
                                                     "Parquet, zip).", exists=True,
                                                     dir_okay=False, readable=True)],
        org: Annotated[str, typer.Option(help="Owning organization's slug.")],
        dataset: Annotated[str, typer.Option(help="Dataset name (created when missing).")],
        mode: Annotated[WriteMode, typer.Option(help="append, replace or upsert.")] =
        WriteMode.append,
        key: Annotated[list[str] | None, typer.Option(help="Key column for upsert "
                                                      "(repeatable).")] = None,
        encoding: Annotated[str, typer.Option(help="auto, utf-8 or cp949.")] = "auto",
        sheet: Annotated[str | None, typer.Option(help="Excel sheet name or number.")] = None,
        access: Annotated[AccessLevel, typer.Option(help="Access level when creating.")] =
        AccessLevel.open,
        title: Annotated[str | None, typer.Option(help="Korean title when creating.")] = None,
        type_: Annotated[list[str] | None, typer.Option(
            "--type", help="Column type override COLUMN=TYPE (repeatable).")] = None,
    ) -> None:
        """Ingest files into a dataset as one new version, with a progress bar."""
        overrides = {}
        for item in type_ or []:
            column, _, kind = item.partition("=")
            overrides[column.strip()] = kind.strip()
        with hub_session() as (settings, session, factory):
            storage = LakeStorage.from_settings(settings)
            organization = identity.get_org_by_slug(session, org)
            created = False
            try:
                found = service.get_dataset(session, org, dataset)
            except NotFound:
                found = service.create_dataset(session, actor=CLI, org=organization,
                                               data=schemas.DatasetCreate(
                                                   slug=dataset, title_ko=title or dataset,
                                                   access=access))
                created = True
            received = []
            for path in paths:
                with path.open("rb") as handle:
                    received.append(service.store_upload(
                        session, actor=CLI, storage=storage, dataset=found, name=path.name,
                        stream=handle, max_bytes=settings.upload_max_mb << 20))
            options = schemas.IngestOptions(mode=mode, key=key or [], encoding=encoding,
                                            sheet=sheet, types=overrides)
            job_id = service.request_ingest(session, actor=CLI, dataset=found, files=received,
                                            options=options).id
        if created:     # said once it is stored: a refusal above rolls the dataset back too
            out.print(f"Created dataset {org}/{dataset}")
        job = _run_with_progress(factory, settings, job_id, sum(f["size"] for f in received))
        if job.state != jobs.JobState.succeeded:
            error = job.error or {}
            err.print(f"[red]Ingestion failed:[/red] {error.get('message', job.message)}")
            raise typer.Exit(1)
        result = job.result or {}
        out.print(f"{org}/{dataset}: version {result.get('version')}, "
                  f"{result.get('row_count'):,} rows ({result.get('rows_written'):,} written)")
        changes = result.get("schema_changes") or {}
        if changes.get("added"):
            out.print(f"New columns: {', '.join(changes['added'])}")
        if changes.get("missing"):
            out.print(f"Columns missing from these files (kept, empty): "
                      f"{', '.join(changes['missing'])}")

    @datasets_app.command("list")
    def datasets_list(org: Annotated[str | None, typer.Option(help="Only this "
                                                             "organization.")] = None) -> None:
        """List datasets with their version and row count."""
        with hub_session() as (_, session, _factory):
            items, _ = service.list_datasets(session, limit=1000, org=org)
            table = Table("dataset", "title", "access", "version", "rows")
            for d in items:
                table.add_row(f"{d.organization.slug}/{d.slug}", d.title_ko, d.access,
                              str(d.current_version or "—"), f"{d.row_count:,}")
        out.print(table)

    @dataset_app.command("show")
    def dataset_show(ref: Annotated[str, typer.Argument(help="ORG/NAME")]) -> None:
        """Show a dataset's schema and versions."""
        org, _, name = ref.partition("/")
        with hub_session() as (_, session, _factory):
            d = service.get_dataset(session, org, name)
            out.print(f"[bold]{d.organization.slug}/{d.slug}[/bold]  {d.title_ko}  "
                      f"(SQL: {d.table_name}, access: {d.access})")
            out.print(f"version {d.current_version or '—'}, {d.row_count:,} rows")
            schema = Table("column", "type")
            for c in d.columns:
                schema.add_row(c["name"], c["type"])
            out.print(schema)
            history = Table("version", "operation", "rows", "files", "when (UTC)")
            for v in service.list_versions(session, dataset=d):
                history.add_row(str(v.version), v.operation, f"{v.row_count:,}",
                                ", ".join(f["name"] for f in v.source_files),
                                v.created_at.strftime("%Y-%m-%d %H:%M"))
            out.print(history)

    @app.command()
    def worker(
        threads: Annotated[int, typer.Option(help="Jobs run at once.")] = 1,
    ) -> None:
        """Run background jobs (ingestion, restore, derived datasets) until interrupted."""
        import signal

        with hub_session() as (settings, _session, factory):
            pass
        runner = jobs.JobRunner(factory, workers=threads, extras={
            "settings": settings, "storage": LakeStorage.from_settings(settings)},
            stale_after=timedelta(seconds=settings.job_stale_seconds))
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        runner.start()
        out.print(f"Worker {runner.name} running {threads} job thread(s); Ctrl-C to stop.")
        try:
            while not stop.wait(1):
                pass
        except KeyboardInterrupt:
            pass
        runner.stop()


def _run_with_progress(factory, settings, job_id: int, total: int) -> jobs.Job:  # type: ignore[no-untyped-def]
    """Run the job in this process (a worker elsewhere may also take it) and draw progress."""
    runner = jobs.JobRunner(factory, extras={"settings": settings,
                                             "storage": LakeStorage.from_settings(settings)})
    thread = threading.Thread(target=runner.run_one, daemon=True)
    thread.start()
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  TextColumn("{task.fields[rows]:>12} rows"), TimeElapsedColumn(),
                  console=err, transient=False) as bar:
        task = bar.add_task("queued", total=max(total, 1), rows="0")

        def show(job: jobs.Job) -> None:
            bar.update(task, completed=min(job.progress_bytes, total),
                       description=(job.message or job.state)[:40],
                       rows=f"{job.progress_rows:,}")

        job = jobs.wait(factory, job_id, timeout=24 * 3600, on_progress=show)
    thread.join(timeout=5)
    return job
