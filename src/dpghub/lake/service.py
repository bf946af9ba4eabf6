"""Every lake rule: datasets, uploads into the raw zone, ingestion and restore requests,
versions, profiles and who may read rows. Functions take a session and the acting `Actor`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO

from sqlalchemy import Integer, and_, bindparam, func, select
from sqlalchemy.orm import Session, contains_eager, defer, selectinload

from ..core import audit, jobs, usage
from ..core import months as months_of
from ..core.db import utcnow
from ..core.errors import Conflict, Forbidden, Invalid, NotFound
from ..core.pagination import check_limit, decode_cursor, encode_cursor
from ..identity.models import Organization
from ..identity.policy import Actor, authorize, can
from . import schemas
from .models import AccessLevel, Dataset, DatasetVersion, RawFile
from .storage import LakeStorage

INGEST_JOB = "lake.ingest"
RESTORE_JOB = "lake.restore"
# what an approved development subscription to a restricted dataset reads: the first rows of
# the current version, never more (the testbed will offer synthetic copies instead)
SAMPLE_ROWS = 100


# --- access levels -------------------------------------------------------------------------

ACCESS_ORDER = {"open": 0, "restricted": 1, "sensitive": 2}


def strictest(levels: list[str], floor: str = "open") -> str:
    """The strictest of access levels: what data made from all of them must keep."""
    return max([floor, *levels], key=lambda level: ACCESS_ORDER[level])


# A higher domain's rule about a change of a dataset's access level (session, actor, dataset,
# old level, new level): it may refuse the change by raising, or follow it (derived datasets
# follow their inputs). Registered at start-up in one place (`app.register_hooks`).
AccessHook = Callable[[Session, Actor, "Dataset", str, str], None]
ACCESS_HOOKS: list[AccessHook] = []


def on_access_change(hook: AccessHook) -> None:
    if hook not in ACCESS_HOOKS:
        ACCESS_HOOKS.append(hook)


# What a higher domain adds to a dataset's description (analysis: how a derived dataset was
# made; privacy: personal data found), registered at start-up like the access hooks: session,
# dataset, the reader → named sections.
Describer = Callable[[Session, "Dataset", Actor], dict[str, Any]]
DESCRIBERS: list[Describer] = []


def on_describe(describer: Describer) -> None:
    if describer not in DESCRIBERS:
        DESCRIBERS.append(describer)


def described(session: Session, dataset: Dataset, actor: Actor) -> dict[str, Any]:
    """The sections higher domains add to this dataset's page, as `actor` may see them."""
    sections: dict[str, Any] = {}
    for describer in DESCRIBERS:
        sections.update(describer(session, dataset, actor))
    return sections


# A higher domain's look at the rows of every new version (privacy: personal data in each
# column), registered at start-up like the hooks above. The job that writes the version calls
# it over the version's files (con, table expression, columns); what it returns is called in
# the version's own transaction, so the version and what was found are stored together.
VersionRecorder = Callable[[Session, "Dataset", "DatasetVersion"], None]
VersionScanner = Callable[[Any, str, list[dict[str, Any]]], VersionRecorder]
SCANNERS: list[VersionScanner] = []


def on_new_version(scanner: VersionScanner) -> None:
    if scanner not in SCANNERS:
        SCANNERS.append(scanner)


def scan_version(con: Any, source: str | None, columns: list[dict[str, Any]]
                 ) -> list[VersionRecorder]:
    """Run every registered scanner over a version's rows (`source`: a DuckDB table
    expression, None for an empty version)."""
    if source is None:
        con.execute("CREATE OR REPLACE TEMP TABLE __version_rows AS SELECT 1 AS x WHERE false")
        return [scanner(con, "__version_rows", []) for scanner in SCANNERS]
    con.execute(f"CREATE OR REPLACE TEMP VIEW __version_rows AS SELECT * FROM {source}")
    return [scanner(con, "__version_rows", columns) for scanner in SCANNERS]


# --- what the catalogue indexes -------------------------------------------------------------


def fingerprint() -> tuple[Any, ...]:
    """Scalar subqueries that change whenever a dataset is added, removed or changed: the
    catalogue puts them in the one statement it runs before each search."""
    return (select(func.count(Dataset.id)).scalar_subquery(),
            select(func.max(Dataset.updated_at)).scalar_subquery())


def catalogue_entries(session: Session) -> list[tuple[Dataset, list[str]]]:
    """Every dataset (its organization loaded) with the formats of its current version's files."""
    formats: dict[int, list[str]] = {}
    for dataset_id, files in session.execute(
            select(DatasetVersion.dataset_id, DatasetVersion.source_files)
            .join(Dataset, and_(Dataset.id == DatasetVersion.dataset_id,
                                Dataset.current_version == DatasetVersion.version))):
        formats[dataset_id] = sorted({str(f.get("format") or "").upper()
                                      for f in files or [] if f.get("format")})
    datasets = session.scalars(select(Dataset).options(selectinload(Dataset.organization)))
    return [(d, formats.get(d.id, [])) for d in datasets]


# --- datasets ------------------------------------------------------------------------------


def get_dataset(session: Session, org_slug: str, slug: str) -> Dataset:
    dataset = session.scalar(
        select(Dataset).join(Organization).options(selectinload(Dataset.organization))
        .where(Organization.slug == org_slug, Dataset.slug == slug))
    if dataset is None:
        raise NotFound("Dataset {org}/{name} does not exist", code="dataset_not_found",
                       org=org_slug, name=slug)
    return dataset


def get_dataset_by_id(session: Session, dataset_id: int) -> Dataset:
    dataset = session.get(Dataset, dataset_id, options=[selectinload(Dataset.organization)])
    if dataset is None:
        raise NotFound("Dataset {name} does not exist", code="dataset_not_found",
                       name=dataset_id)
    return dataset


def list_datasets(
    session: Session, *, limit: int = 50, cursor: str | None = None, org: str | None = None,
) -> tuple[list[Dataset], str | None]:
    check_limit(limit)
    query = (select(Dataset).join(Organization).options(selectinload(Dataset.organization))
             .order_by(Organization.slug, Dataset.slug))
    if org:
        query = query.where(Organization.slug == org)
    after = decode_cursor(cursor)
    if after and len(after) == 2:
        query = query.where((Organization.slug > after[0]) |
                            ((Organization.slug == after[0]) & (Dataset.slug > after[1])))
    rows = list(session.scalars(query.limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last.organization.slug, last.slug])
    return rows[:limit], next_cursor


def create_dataset(
    session: Session, *, actor: Actor, org: Organization, data: schemas.DatasetCreate
) -> Dataset:
    authorize(actor, "lake.dataset.create", org)
    taken = session.scalar(select(Dataset.id).where(Dataset.org_id == org.id,
                                                    Dataset.slug == data.slug))
    if taken:
        raise Conflict("{org} already has a dataset named {name}", code="dataset_exists",
                       field="slug", org=org.slug, name=data.slug)
    fields = data.model_dump()
    fields["contact_email"] = fields["contact_email"] or ""
    dataset = Dataset(org_id=org.id, created_by=actor.user_id, **fields)
    dataset.organization = org
    session.add(dataset)
    session.flush()
    audit.record(session, actor=actor, action="lake.dataset.create", target_type="dataset",
                 target_id=f"{org.slug}/{dataset.slug}", org_id=org.id,
                 details=data.model_dump(mode="json"))
    return dataset


def update_dataset(
    session: Session, *, actor: Actor, dataset: Dataset, data: schemas.DatasetUpdate
) -> Dataset:
    authorize(actor, "lake.dataset.update", dataset)
    changes = data.model_dump(exclude_none=True, mode="json")
    if data.access is not None and data.access != dataset.access:
        for hook in ACCESS_HOOKS:
            hook(session, actor, dataset, dataset.access, str(data.access))
    for name, value in data.model_dump(exclude_none=True).items():
        setattr(dataset, name, value)
    dataset.updated_at = utcnow()
    audit.record(session, actor=actor, action="lake.dataset.update", target_type="dataset",
                 target_id=_ref(dataset), org_id=dataset.org_id, details=changes)
    session.flush()
    return dataset


def dataset_read(dataset: Dataset) -> schemas.DatasetRead:
    return schemas.DatasetRead(
        org=dataset.organization.slug, slug=dataset.slug, table=dataset.table_name,
        title_ko=dataset.title_ko, title_en=dataset.title_en,
        description_ko=dataset.description_ko, description_en=dataset.description_en,
        keywords=dataset.keywords, license=dataset.license, access=dataset.access,
        theme=dataset.theme, update_frequency=dataset.update_frequency, spatial=dataset.spatial,
        temporal_start=dataset.temporal_start, temporal_end=dataset.temporal_end,
        contact_name=dataset.contact_name, contact_email=dataset.contact_email,
        current_version=dataset.current_version, row_count=dataset.row_count,
        schema=[schemas.ColumnRead(**c) for c in dataset.columns],
        created_at=dataset.created_at, updated_at=dataset.updated_at)


def _ref(dataset: Dataset) -> str:
    return f"{dataset.organization.slug}/{dataset.slug}"


# --- raw zone and ingestion ----------------------------------------------------------------


def store_upload(
    session: Session, *, actor: Actor, storage: LakeStorage, dataset: Dataset, name: str,
    stream: BinaryIO, max_bytes: int,
) -> dict[str, Any]:
    """Keep a received file in the raw zone (once per content) and describe it."""
    authorize(actor, "lake.dataset.ingest", dataset)
    stored = storage.put_raw(stream, max_bytes=max_bytes)
    if stored.size == 0:
        raise Invalid("{file} is empty", code="empty_file", field="files", file=name)
    if session.get(RawFile, stored.sha256) is None:
        session.add(RawFile(sha256=stored.sha256, size=stored.size, first_name=name[:500],
                            org_id=dataset.org_id, uploaded_by=actor.user_id))
        session.flush()
    return {"name": name, "sha256": stored.sha256, "size": stored.size}


def request_ingest(
    session: Session, *, actor: Actor, dataset: Dataset, files: list[dict[str, Any]],
    options: schemas.IngestOptions,
) -> jobs.Job:
    authorize(actor, "lake.dataset.ingest", dataset)
    if not files:
        raise Invalid("Send at least one file", code="no_files", field="files")
    if options.mode == "upsert" and not options.key:
        raise Invalid("An upsert needs the key column(s)", code="key_required", field="key")
    known = {c["name"] for c in dataset.columns}
    for key in options.key:
        if known and key not in known and options.mode == "upsert":
            raise Invalid("Key column {column} is not in {name}; its columns are: {columns}",
                          code="unknown_key", field="key", column=key, name=_ref(dataset),
                          columns=", ".join(sorted(known)))
    params = {"dataset_id": dataset.id, "files": files, **options.model_dump(mode="json")}
    job = jobs.enqueue(session, kind=INGEST_JOB, params=params, org_id=dataset.org_id,
                       created_by=actor.user_id, total_bytes=sum(f["size"] for f in files))
    audit.record(session, actor=actor, action="lake.dataset.ingest", target_type="dataset",
                 target_id=_ref(dataset), org_id=dataset.org_id,
                 details={"job": job.id, "mode": options.mode, "files": files})
    return job


def request_restore(session: Session, *, actor: Actor, dataset: Dataset, version: int) -> jobs.Job:
    authorize(actor, "lake.dataset.restore", dataset)
    target = get_version(session, dataset=dataset, version=version)
    job = jobs.enqueue(session, kind=RESTORE_JOB, params={
        "dataset_id": dataset.id, "version": target.version}, org_id=dataset.org_id,
        created_by=actor.user_id)
    audit.record(session, actor=actor, action="lake.dataset.restore", target_type="dataset",
                 target_id=_ref(dataset), org_id=dataset.org_id,
                 details={"job": job.id, "version": version})
    return job


def record_version(
    session: Session, *, dataset: Dataset, job: dict[str, Any], operation: str,
    delta_version: int, row_count: int, rows_written: int, columns: list[dict[str, Any]],
    schema_changes: dict[str, Any], source_files: list[dict[str, Any]],
    profile: dict[str, Any] | None, scans: list[VersionRecorder] | None = None,
) -> DatasetVersion:
    """The catalog side of a committed table version (called by the job, in one transaction),
    with what the scanners found in its rows (`scan_version`)."""
    number = (session.scalar(select(func.max(DatasetVersion.version))
                             .where(DatasetVersion.dataset_id == dataset.id)) or 0) + 1
    version = DatasetVersion(
        dataset_id=dataset.id, version=number, delta_version=delta_version, operation=operation,
        row_count=row_count, rows_written=rows_written, columns=columns,
        schema_changes=schema_changes, source_files=source_files, profile=profile,
        job_id=job["id"], created_by=job["created_by"])
    session.add(version)
    dataset.current_version = number
    dataset.row_count = row_count
    dataset.columns = columns
    dataset.updated_at = utcnow()
    session.flush()
    audit.record(session, actor=f"job:{job['id']}:user:{job['created_by']}",
                 action=f"lake.version.{operation}", target_type="dataset",
                 target_id=_ref(dataset), org_id=dataset.org_id, details={
                     "version": number, "delta_version": delta_version, "rows": row_count,
                     "rows_written": rows_written, "schema_changes": schema_changes,
                     "files": [{"name": f["name"], "sha256": f["sha256"]} for f in source_files]})
    for recorder in scans or ():
        recorder(session, dataset, version)
    return version


# --- versions, profiles, rows access -------------------------------------------------------


def list_versions(session: Session, *, dataset: Dataset) -> list[DatasetVersion]:
    return list(session.scalars(select(DatasetVersion).where(
        DatasetVersion.dataset_id == dataset.id).order_by(DatasetVersion.version.desc())))


def get_version(session: Session, *, dataset: Dataset, version: int | None = None
                ) -> DatasetVersion:
    number = version if version is not None else dataset.current_version
    found = None
    if number is not None:
        found = session.scalar(select(DatasetVersion).where(
            DatasetVersion.dataset_id == dataset.id, DatasetVersion.version == number))
    if found is None:
        if number is None:
            raise NotFound("{name} has no data yet", code="no_data", name=_ref(dataset))
        raise NotFound("{name} has no version {version}", code="version_not_found",
                       field="version", name=_ref(dataset), version=number)
    return found


def readable_version(
    session: Session, *, actor: Actor, dataset: Dataset, version: int | None = None,
    loaded: DatasetVersion | None = None,
) -> DatasetVersion:
    """The version whose rows `actor` wants, after checking they may read rows. Counts as a
    use of the dataset (the registry's "most used"). `loaded`: that version as the caller
    already read it with the dataset (`table_by_sql_name`), so it is not read again."""
    authorize(actor, "lake.rows.read", dataset)
    wanted = version if version is not None else dataset.current_version
    if loaded is not None and loaded.dataset_id == dataset.id and loaded.version == wanted:
        found = loaded
    else:
        found = get_version(session, dataset=dataset, version=version)
    usage.hit(session, "dataset", dataset.id)
    return found


def table_by_sql_name(session: Session, schema: str, name: str, version: int | None = None
                      ) -> tuple[Dataset, DatasetVersion | None] | None:
    """The dataset SQL calls `schema.name` (an organization's and a dataset's slug, dashes
    written as underscores, any case), its organization, and the version asked for (the
    current one when None) — one statement, for the query path that runs it on every query.
    None when no dataset has that name; no permission is checked here."""
    row = session.execute(_BY_SQL_NAME, {"schema": schema.lower(), "name": name.lower(),
                                         "version": version}).first()
    return None if row is None else (row[0], row[1])


# Built once: making the statement cost about as much as running it. The version's JSON
# (its profile above all) is read only if asked for: decoding it was a third of the lookup.
_BY_SQL_NAME = (
    select(Dataset, DatasetVersion).join(Dataset.organization)
    .options(contains_eager(Dataset.organization),
             *(defer(c) for c in (DatasetVersion.profile, DatasetVersion.columns,
                                  DatasetVersion.source_files, DatasetVersion.schema_changes)))
    .outerjoin(DatasetVersion, and_(
        DatasetVersion.dataset_id == Dataset.id,
        DatasetVersion.version == func.coalesce(bindparam("version", type_=Integer),
                                                Dataset.current_version)))
    .where(func.replace(Organization.slug, "-", "_") == bindparam("schema"),
           func.replace(Dataset.slug, "-", "_") == bindparam("name")))


def sampled_version(
    session: Session, *, actor: Actor, dataset: Dataset, version: int | None = None
) -> tuple[DatasetVersion, int | None]:
    """As `readable_version`, for readers that may also serve a sample (the rows API, the
    data.go.kr front): the version and the most rows `actor` may see (None: every row). A
    sample covers the current version only, so earlier versions cannot widen it."""
    if can(actor, "lake.rows.read", dataset):
        return readable_version(session, actor=actor, dataset=dataset, version=version), None
    authorize(actor, "lake.rows.sample", dataset)
    if version is not None and version != dataset.current_version:
        raise Forbidden("A sample covers the current version of {name} only",
                        code="sample_current_version_only", field="version",
                        name=_ref(dataset))
    found = get_version(session, dataset=dataset)
    usage.hit(session, "dataset", dataset.id)
    return found, SAMPLE_ROWS


VALUE_FIELDS = ("min", "max", "top", "histogram")


def visible_profile(actor: Actor, dataset: Dataset, version: DatasetVersion) -> dict[str, Any]:
    """The profile of a version as `actor` may see it: min, max, top values and histograms are
    data, so they are shown only to those who may read the rows; counts are shown to all."""
    stats = version.profile or {"rows": version.row_count, "columns": []}
    if can(actor, "lake.rows.read", dataset):
        return stats
    return {"rows": stats["rows"], "values_hidden": True,
            "columns": [{k: v for k, v in c.items() if k not in VALUE_FIELDS}
                        for c in stats["columns"]]}


def raw_file_for(
    session: Session, *, actor: Actor, dataset: Dataset, sha256: str
) -> RawFile:
    """A received file, when it went into one of this dataset's versions. The raw zone of
    restricted data is for the owner's members only: a subscription gives rows, not files."""
    authorize(actor, "lake.raw.read", dataset)
    for version in list_versions(session, dataset=dataset):
        if any(f["sha256"] == sha256 for f in version.source_files):
            raw = session.get(RawFile, sha256)
            if raw is not None:
                return raw
    raise NotFound("{name} has no received file {sha256}", code="raw_not_found",
                   name=_ref(dataset), sha256=sha256)


def get_job(session: Session, *, actor: Actor, job_id: int) -> jobs.Job:
    job = session.get(jobs.Job, job_id)
    if job is None:
        raise NotFound("Job {job_id} does not exist", code="job_not_found", job_id=job_id)
    if job.created_by != actor.user_id:
        authorize(actor, "core.job.read", job)
    return job


def cancel_job(session: Session, *, actor: Actor, job_id: int) -> jobs.Job:
    job = get_job(session, actor=actor, job_id=job_id)
    if job.created_by != actor.user_id:
        authorize(actor, "core.job.cancel", job)
    jobs.request_cancel(session, job)
    audit.record(session, actor=actor, action="core.job.cancel", target_type="job",
                 target_id=job.id, org_id=job.org_id)
    return job


def monthly_figures(session: Session, months: list[str]) -> dict[str, dict[str, float]]:
    """Datasets and their rows at the end of each month (Asia/Seoul), all and open ones — the
    programme dashboard's lake figures. Rows are the latest version's rows at that moment;
    'open' is a dataset's access level today (the lake keeps no history of it)."""
    end = months_of.bounds(months)[1]
    access = dict(session.execute(select(Dataset.id, Dataset.access)
                                  .where(Dataset.created_at < end)).all())
    created = session.execute(select(Dataset.id, Dataset.created_at)
                              .where(Dataset.created_at < end)
                              .order_by(Dataset.created_at)).all()
    versions = session.execute(select(DatasetVersion.dataset_id, DatasetVersion.created_at,
                                      DatasetVersion.row_count)
                               .where(DatasetVersion.created_at < end)
                               .order_by(DatasetVersion.created_at, DatasetVersion.id)).all()
    ends = [months_of.bounds([m])[1] for m in months]
    figures: dict[str, dict[str, float]] = {k: {} for k in ("datasets", "datasets_open",
                                                            "rows", "rows_open")}
    rows_now: dict[int, int] = {}
    d = v = 0
    count = count_open = 0
    for month, boundary in zip(months, ends, strict=True):
        while d < len(created) and created[d][1] < boundary:
            count += 1
            count_open += access.get(created[d][0]) == AccessLevel.open
            d += 1
        while v < len(versions) and versions[v][1] < boundary:
            rows_now[versions[v][0]] = versions[v][2]
            v += 1
        figures["datasets"][month] = count
        figures["datasets_open"][month] = count_open
        figures["rows"][month] = sum(rows_now.values())
        figures["rows_open"][month] = sum(n for i, n in rows_now.items()
                                          if access.get(i) == AccessLevel.open)
    return figures
