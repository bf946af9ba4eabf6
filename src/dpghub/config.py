"""Settings, read from DPGHUB_* environment variables, with defaults for the embedded mode.

Nothing here touches the disk or the network at import time: `Settings()` only reads the
environment, and `prepare()` creates the home folder and the secret key when a command or the
app factory actually needs them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field, SecretStr
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
    gateway_timeout_seconds: float = Field(
        default=30, gt=0, description="How long the gateway waits for an upstream's answer "
        "(then 504, or data.go.kr code 05); a service may set its own."
    )
    gateway_max_body_mb: int = Field(
        default=10, ge=1, description="Largest request body the gateway forwards (MiB); a "
        "service may set its own."
    )
    gateway_allowed_networks: str = Field(
        default="public,127.0.0.0/8,::1/128", description="Networks upstream services may "
        "lie in: CIDRs and `public` (any globally routable address), comma-separated."
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
    job_workers: int = Field(
        default=1, ge=0, description="Background job threads inside each hub process "
        "(0: run jobs only in separate `dpghub worker` processes)."
    )
    job_stale_seconds: int = Field(
        default=30, ge=2, description="A running job whose worker has not signalled for this "
        "long is taken as interrupted (retried, or failed when out of attempts)."
    )
    job_memory_mb: int = Field(
        default=1024, ge=64, description="Memory limit of one ingestion or derived-dataset "
        "job, in MiB (DuckDB spills to disk beyond it)."
    )
    query_memory_mb: int = Field(
        default=1024, ge=64, description="Memory limit of one SQL query in the sandbox, in MiB."
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
