"""Settings, read from DPGHUB_* environment variables, with defaults for the embedded mode.

Nothing here touches the disk or the network at import time: `Settings()` only reads the
environment, and `prepare()` creates the home folder and the secret key when a command or the
app factory actually needs them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_KEY_FILE = "secret_key"


class Settings(BaseSettings):
    """Every setting the hub reads. The README's settings table is generated from these
    descriptions (`tools/docs_tables.py`; a test fails when it drifts)."""

    model_config = SettingsConfigDict(env_prefix="DPGHUB_", extra="ignore")

    home: Path = Field(
        default=Path(".dpghub"),
        description="Folder holding the SQLite database, the lake, the Ed25519 signing key "
        "and the generated secret key.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the metadata database; SQLite `hub.db` in the home "
        "folder when absent. PostgreSQL: `postgresql+psycopg://user@host/db`.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key for signing cookies and CSRF tokens; generated and stored under the "
        "home folder when absent. Set the same value on every hub process.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL (`redis://host:6379/0`) for the gateway's rate limits and "
        "daily quotas, shared by every hub process; without it each process counts alone. "
        "`/api/v1/ready` checks it when set.",
    )
    lake_uri: str | None = Field(
        default=None,
        description="Where the data lake keeps its tables and received files: a folder "
        "(`lake` in the home folder when absent) or `s3://bucket/prefix`.",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="Endpoint of an S3-compatible store (MinIO, Ceph, …) when "
        "the lake is `s3://…`; AWS S3 itself when absent."
    )
    s3_access_key_id: str | None = Field(default=None, description="S3 access key id.")
    s3_secret_access_key: SecretStr | None = Field(default=None, description="S3 secret key.")
    s3_region: str | None = Field(default=None, description="S3 region (us-east-1 when unset).")
    upload_max_mb: int = Field(
        default=1024, ge=1, description="Largest file accepted for ingestion, in MiB."
    )
    ingest_max_rows: int = Field(
        default=50_000_000, ge=1, description="Most rows one ingestion may add."
    )
    ingest_max_columns: int = Field(
        default=2000, ge=1, description="Most columns a dataset may have."
    )
    zip_max_ratio: int = Field(
        default=100, ge=1, description="Largest expansion ratio accepted for a zip archive."
    )
    search_semantic: bool = Field(
        default=True, description="Combine keyword search with multilingual embeddings "
        "(cross-lingual matches; about 150 MB per process once the first search runs)."
    )
    http_max_head_bytes: int = Field(
        default=32 * 1024, ge=1024, description="Largest request head (request line and "
        "header fields together) `dpghub serve` and the gateway accept, in bytes; larger is "
        "refused with 431."
    )
    http_max_headers: int = Field(
        default=100, ge=8, description="Most header fields one request may have (then 431)."
    )
    http_max_header_bytes: int = Field(
        default=8 * 1024, ge=256, description="Largest single header field (name and value), "
        "in bytes (then 431)."
    )
    http_head_timeout_seconds: float = Field(
        default=10, gt=0, description="Time a client has to send a whole request head, from "
        "its first byte (or from connecting); then 408 and the connection is closed."
    )
    gateway_timeout_seconds: float = Field(
        default=30, gt=0, description="How long the gateway waits for an upstream's answer "
        "(then 504, or data.go.kr code 05); a service may set its own."
    )
    gateway_max_body_mb: int = Field(
        default=10, ge=1, description="Largest request body the gateway forwards (MiB); a "
        "service may set its own."
    )
    gateway_allowed_networks: str = Field(
        default="public", description="Networks upstream services may lie in: CIDRs and "
        "`public` (any globally routable address), comma-separated. Checked when a service is "
        "registered and on every connection the gateway opens, against the address actually "
        "connected to; a host name that does not resolve is refused. Loopback and private "
        "ranges (127.0.0.0/8, 10.0.0.0/8, …) are reachable only when listed here."
    )
    gateway_origin: str | None = Field(
        default=None, description="Origin the gateway is served on, such as "
        "https://gw.example.kr (another host name pointing at the same hub; best under another "
        "registrable domain than the portal's). When set, /gw/… is answered only on requests "
        "to this host (elsewhere it redirects there), the portal's pages are not served on it, "
        "and the portal shows gateway addresses with it. The reverse proxy must pass the Host "
        "header through. When unset the gateway shares the portal's origin: answers are "
        "sandboxed either way, and HTML or SVG answers are sent as downloads."
    )
    gateway_fail_open: bool = Field(
        default=False, description="When Redis cannot be reached for rate limits: allow calls "
        "(true) or refuse them with 503 (false). Either way it is logged."
    )
    gateway_evidence_process: bool = Field(
        default=True, description="Write the gateway's call records from a child process "
        "of each hub process (`python -m dpghub.gateway.evidence`, true) or from a thread of "
        "the hub process (false); the child leaves the proxy its interpreter to itself."
    )
    gateway_journal_sync: bool = Field(
        default=False, description="Make each gateway call record durable against power "
        "loss (fdatasync of the hub's journal, shared by concurrent calls) before its answer "
        "ends; when false it is written to the operating system first, which survives the "
        "hub process being killed but not the machine stopping."
    )
    job_workers: int = Field(
        default=1, ge=0, description="Background job threads inside each hub process "
        "(0: run jobs only in separate `dpghub worker` processes)."
    )
    job_stale_seconds: int = Field(
        default=30, ge=2, description="A running job whose worker has not signalled for this "
        "long is taken as interrupted (retried, or failed when out of attempts)."
    )
    ai_assist_model: str | None = Field(
        default=None, description="The AI gateway's model alias the hub's own AI features "
        "(ask the data, catalogue Q&A) use; they are off while it is unset or not served."
    )
    ai_timeout_seconds: float = Field(
        default=300.0, gt=0, le=3600, description="How long one AI call may take, its whole "
        "answer included (a long answer streams for minutes); a provider that does not answer "
        "in time is not asked again for that call."
    )
    ai_requests_per_minute: int = Field(
        default=600, ge=0, description="Calls per minute one app may make to the AI gateway "
        "(0: no limit); shared through Redis when it is configured."
    )
    ai_tokens_per_minute: int = Field(
        default=1_000_000, ge=0, description="Tokens (estimated before, counted after) per "
        "minute one organization may use through the AI gateway, per hub process (0: no "
        "limit)."
    )
    agile_watch_seconds: int = Field(
        default=60, ge=0, description="How often each hub process looks at the gateway's "
        "error rate of agile projects' services to open or resolve incidents (0: never)."
    )
    job_memory_mb: int = Field(
        default=1024, ge=64, description="Memory limit of one ingestion or derived-dataset "
        "job, in MiB (DuckDB spills to disk beyond it)."
    )
    query_memory_mb: int = Field(
        default=1024, ge=64, description="Memory limit of one SQL query in the sandbox, in MiB."
    )
    privacy_export_reviewers: int = Field(
        default=3, ge=3, le=7, description="Reviewers who must approve before a result leaves "
        "a safe zone (an export review committee has 3 to 7 members; none may come from the "
        "applicant's organization)."
    )
    query_workers: int = Field(
        default=2, ge=1, description="Query worker processes per hub process: each runs one "
        "SQL query at a time, apart from the hub, under an operating-system memory limit. One "
        "starts with the hub, more as queries overlap, up to this many; a query waits for a "
        "free one within its time limit (then 503 query_workers_busy)."
    )
    query_memory_headroom_mb: int = Field(
        default=512, ge=64, description="Address space a query worker may use beyond "
        "DPGHUB_QUERY_MEMORY_MB (or DPGHUB_JOB_MEMORY_MB for derived datasets) and its size "
        "at start: what DuckDB allocates outside its own limit, the result being sent. A "
        "query that needs more answers 422 query_memory."
    )
    query_max_chars: int = Field(
        default=100_000, ge=100, description="Longest SQL text accepted, in characters "
        "(413 query_too_long beyond)."
    )
    query_result_max_mb: int = Field(
        default=256, ge=1, description="Largest JSON answer of one query, in MiB (422 "
        "query_result_too_large beyond; csv, ndjson and parquet answers stream and are not "
        "capped)."
    )
    rows_cache_mb: int = Field(
        default=256, ge=0, description="Decoded Parquet row groups, and their columns' JSON, "
        "each hub process keeps for readers paging through a table's rows with `next_cursor`, "
        "in MiB (0: none; a local lake only)."
    )
    spark_master: str | None = Field(
        default=None, description="Spark master URL for queries with `engine: spark` (local "
        "mode when unset; needs `pip install 'dpghub[spark]'` and Java 17 or newer)."
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public address of the hub: in printed and invitation links, the gateway "
        "addresses that discovery gives, and the issuer of OAuth2 tokens.",
    )
    session_hours: int = Field(default=12, ge=1, description="Lifetime of a web sign-in, "
                               "in hours.")
    secure_cookies: bool = Field(
        default=False, description="Mark cookies Secure (set true when users reach the hub "
        "over HTTPS)."
    )
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins for one account from one client address "
        "before each further try must wait (1 s, 2 s, 4 s, …); one address gets ten times as "
        "many across accounts. Accounts are never locked, so nobody can lock anyone out."
    )
    login_lock_minutes: int = Field(
        default=15, ge=1, description="The longest wait between sign-in tries after repeated "
        "failures."
    )
    default_language: str = Field(
        default="ko", pattern="^(ko|en)$", description="Language (`ko` or `en`) when neither "
        "the user's setting nor the browser's Accept-Language decides."
    )

    @field_validator("gateway_origin")
    @classmethod
    def _an_origin(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value.strip())
        try:
            parts.port  # noqa: B018 — raises on a port that is not a number
        except ValueError:
            raise ValueError("gateway_origin: the port is not a number") from None
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username \
                or parts.path.strip("/") or parts.query or parts.fragment:
            raise ValueError("gateway_origin must be an origin such as https://gw.example.kr "
                             "(scheme and host, no path)")
        return f"{parts.scheme}://{parts.netloc.lower()}"

    @model_validator(mode="after")
    def _gateway_apart(self) -> Settings:
        if self.gateway_origin is not None and \
                self.gateway_origin == self.base_url.rstrip("/").lower():
            raise ValueError("gateway_origin must differ from base_url: the point of it is that "
                             "upstream answers are not served on the portal's origin")
        return self

    @property
    def gateway_base(self) -> str:
        """Where gateway addresses begin: the gateway's own origin, or the portal's."""
        return (self.gateway_origin or self.base_url).rstrip("/")

    def prepare(self) -> Settings:
        """Create the home folder, fill in derived defaults and the secret key; return self."""
        self.home = self.home.expanduser().resolve()
        self.home.mkdir(parents=True, exist_ok=True)
        if self.database_url is None:
            self.database_url = f"sqlite:///{self.home / 'hub.db'}"
        if self.lake_uri is None:
            self.lake_uri = str(self.home / "lake")
        if self.secret_key is None:
            self.secret_key = SecretStr(_load_or_create_secret(self.home / SECRET_KEY_FILE))
        return self

    @property
    def secret(self) -> bytes:
        if self.secret_key is None:
            raise RuntimeError("Settings.prepare() must run before the secret key is used")
        return self.secret_key.get_secret_value().encode()


def _load_or_create_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value
