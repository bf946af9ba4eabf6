"""Where the lake keeps its bytes: a local folder or an S3-compatible bucket.

Tables live at `<lake>/tables/d<dataset id>` (stable when a dataset is renamed); received
files at `<lake>/raw/<sha256[:2]>/<sha256>`, written once, never changed.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.fs as pafs

from ..config import Settings
from .rowgroups import RowGroupCache

CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredRaw:
    sha256: str
    size: int
    created: bool  # False when the same bytes were already stored


class LakeStorage:
    def __init__(self, uri: str, *, storage_options: dict[str, str] | None = None,
                 filesystem: pafs.FileSystem | None = None) -> None:
        self.uri = uri.rstrip("/")
        self.remote = "://" in self.uri and not self.uri.startswith("file://")
        self.storage_options = storage_options or {}
        # decoded row groups for readers paging through a table (`rowgroups`); local only
        self.row_groups: RowGroupCache | None = None
        if filesystem is not None:
            self.fs, self.root = filesystem, self.uri.split("://", 1)[-1]
        elif self.remote:
            self.fs, self.root = pafs.FileSystem.from_uri(self.uri)
        else:
            local = self.uri.removeprefix("file://")
            Path(local).mkdir(parents=True, exist_ok=True)
            self.fs, self.root = pafs.LocalFileSystem(), str(Path(local).resolve())

    @classmethod
    def from_settings(cls, settings: Settings) -> LakeStorage:
        uri = settings.lake_uri or str(settings.home / "lake")
        if not uri.startswith("s3://"):
            storage = cls(uri)
            if settings.rows_cache_mb:
                storage.row_groups = RowGroupCache(settings.rows_cache_mb << 20)
            return storage
        options = {k: v for k, v in {
            "AWS_ENDPOINT_URL": settings.s3_endpoint_url,
            "AWS_ACCESS_KEY_ID": settings.s3_access_key_id,
            "AWS_SECRET_ACCESS_KEY": settings.s3_secret_access_key.get_secret_value()
            if settings.s3_secret_access_key else None,
            "AWS_REGION": settings.s3_region,
            "AWS_ALLOW_HTTP": "true" if (settings.s3_endpoint_url or "").startswith("http://")
            else None,
            "AWS_S3_ALLOW_UNSAFE_RENAME": "true",
        }.items() if v}
        endpoint = settings.s3_endpoint_url
        fs = pafs.S3FileSystem(
            access_key=settings.s3_access_key_id,
            secret_key=settings.s3_secret_access_key.get_secret_value()
            if settings.s3_secret_access_key else None,
            region=settings.s3_region or "us-east-1",
            endpoint_override=endpoint.split("://", 1)[-1] if endpoint else None,
            scheme=endpoint.split("://", 1)[0] if endpoint else "https",
        )
        return cls(uri, storage_options=options, filesystem=fs)

    # --- tables ------------------------------------------------------------------------------

    def table_uri(self, dataset_id: int) -> str:
        if self.remote:
            return f"{self.uri}/tables/d{dataset_id}"
        return str(Path(self.root) / "tables" / f"d{dataset_id}")

    def sandbox_uri(self, copy_id: int) -> str:
        """A synthetic copy's table (the testbed's): apart from the datasets' tables, so
        nothing that walks those (orphan sweeps, restores) ever meets one."""
        if self.remote:
            return f"{self.uri}/sandbox/s{copy_id}"
        return str(Path(self.root) / "sandbox" / f"s{copy_id}")

    def private_uri(self, kind: str, name: str) -> str:
        """A table of a higher domain that is no dataset (privacy: token mappings, combined
        results), apart from the datasets' tables like the sandbox's copies."""
        if self.remote:
            return f"{self.uri}/private/{kind}/{name}"
        return str(Path(self.root) / "private" / kind / name)

    def table_path(self, dataset_id: int) -> str:
        """The table's folder as `self.fs` names it."""
        return f"{self.root}/tables/d{dataset_id}"

    def table_ids(self) -> list[int]:
        """The datasets that have a table folder."""
        found = self.fs.get_file_info(pafs.FileSelector(f"{self.root}/tables",
                                                        allow_not_found=True))
        return sorted(int(info.base_name[1:]) for info in found
                      if info.type == pafs.FileType.Directory
                      and re.fullmatch(r"d[0-9]+", info.base_name))

    def relation(self, con: Any, files: list[str], name: str,
                 schema: pa.Schema | None = None) -> str:
        """A DuckDB table expression over a version's Parquet files.

        Local files are read by DuckDB itself; files in an object store through a pyarrow
        dataset on this storage's file system (DuckDB cannot fetch its own S3 extension
        here), with the table's schema so columns added in later versions read as nulls.
        """
        from .readers import sql_string

        if not self.remote:
            return ("read_parquet([" + ", ".join(sql_string(f) for f in files) + "], "
                    "union_by_name=true)")
        import pyarrow.dataset as ds

        keys = [f.split("://", 1)[-1] for f in files]
        dataset = ds.dataset(keys, filesystem=self.fs, format="parquet", schema=schema)
        con.register(name, dataset)
        return '"' + name + '"'

    # --- raw zone ----------------------------------------------------------------------------

    def _raw_key(self, sha256: str) -> str:
        return f"{self.root}/raw/{sha256[:2]}/{sha256}"

    def put_raw(self, source: BinaryIO, *, max_bytes: int | None = None) -> StoredRaw:
        """Store a stream under its SHA-256; refuses (and keeps nothing of) an oversized one."""
        from .errors import too_large

        digest = hashlib.sha256()
        size = 0
        spool = tempfile.NamedTemporaryFile(prefix="dpghub-raw-", delete=False)
        try:
            with spool:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise too_large(max_bytes)
                    digest.update(chunk)
                    spool.write(chunk)
            sha = digest.hexdigest()
            key = self._raw_key(sha)
            if self.exists_raw(sha):
                return StoredRaw(sha, size, False)
            if self.remote:
                with open(spool.name, "rb") as local, self.fs.open_output_stream(key) as out:
                    shutil.copyfileobj(local, out, CHUNK)
            else:
                Path(key).parent.mkdir(parents=True, exist_ok=True)
                partial = f"{key}.{uuid.uuid4().hex}.part"
                shutil.move(spool.name, partial)
                os.replace(partial, key)  # atomic: a reader never sees half a file
            return StoredRaw(sha, size, True)
        finally:
            if os.path.exists(spool.name):
                os.unlink(spool.name)

    def exists_raw(self, sha256: str) -> bool:
        return self.fs.get_file_info(self._raw_key(sha256)).type == pafs.FileType.File

    def open_raw(self, sha256: str) -> BinaryIO:
        return self.fs.open_input_stream(self._raw_key(sha256))  # type: ignore[return-value]

    def local_raw_path(self, sha256: str, scratch: Path) -> Path:
        """A local path holding the raw bytes (the file itself when the lake is local)."""
        if not self.remote:
            return Path(self._raw_key(sha256))
        target = scratch / sha256
        if not target.exists():
            with self.open_raw(sha256) as source, target.open("wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
        return target
