"""Call records in the audit chain: each record's digest, as its batch's audit event lists
it, and what `audit verify` checks — a batch's records are exactly those it lists, and a
journal's records are numbered 1, 2, … without a gap (journals still open are reported).
"""

from __future__ import annotations

import hashlib
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..core import audit
from . import journal
from .models import CallRecord

OPENED = "gateway.journal_opened"
CLOSED = "gateway.journal_closed"
ACTION = "gateway.calls"           # a batch of records
DIGEST_FIELDS = journal.FIELDS
JOURNAL_FIELDS = ("journal", "journal_seq")


def record_digest(values: dict[str, Any]) -> str:
    """SHA-256 of a call record's content, as the batch's audit event lists it."""
    return digest_of(tuple(values.get(name) for name in DIGEST_FIELDS + JOURNAL_FIELDS))


def digest_of(row: tuple[Any, ...]) -> str:
    """The digest of a record's values in `DIGEST_FIELDS` order, then its journal and number
    there: the fields separated by a control character that none of them contains; the time
    in ISO 8601 UTC, the latencies (the only decimals) rounded to three places. Records from
    before the journal (none) are digested as they were."""
    at = row[0]
    if isinstance(at, datetime):
        at = at.astimezone(UTC).isoformat()   # aware: written now(UTC), read via UTCDateTime
    text = _DIGEST_FORMAT % (
        at, *row[1:_UPSTREAM_MS], _text(row[_UPSTREAM_MS]), _text(row[_HUB_MS]),
        *row[_HUB_MS + 1:len(DIGEST_FIELDS)])
    if len(row) > len(DIGEST_FIELDS) and row[len(DIGEST_FIELDS)] is not None:
        journal_id, seq = row[len(DIGEST_FIELDS):len(DIGEST_FIELDS) + 2]
        text += f"\x1f{journal_id}\x1f{seq}"
    return hashlib.sha256(text.encode()).hexdigest()


_DIGEST_FORMAT = "\x1f".join(["%s"] * len(DIGEST_FIELDS))
_UPSTREAM_MS = DIGEST_FIELDS.index("upstream_ms")
_HUB_MS = DIGEST_FIELDS.index("hub_ms")
assert _HUB_MS == _UPSTREAM_MS + 1


def _text(value: Any) -> str:
    return repr(round(value, 3)) if isinstance(value, float) else str(value)


def event_of(session: Session, action: str, journal_id: str) -> int | None:
    return session.scalar(select(audit.AuditEvent.seq).where(
        audit.AuditEvent.action == action, audit.AuditEvent.target_id == journal_id).limit(1))


def last_stored(session: Session, journal_id: str) -> int:
    return int(session.scalar(select(func.max(CallRecord.journal_seq)).where(
        CallRecord.journal == journal_id)) or 0)


# --- audit verify ---------------------------------------------------------------------------


def check_batch(session: Session, event: Any) -> str | None:
    """The audit-verify check of one batch: its records must be exactly those it lists."""
    listed = list(event.details.get("records") or [])
    records = list(session.scalars(select(CallRecord).where(CallRecord.audit_seq == event.seq)
                                   .order_by(CallRecord.id)))
    expected = set(listed)
    digests = []
    for record in records:
        digest = record_digest({k: getattr(record, k) for k in DIGEST_FIELDS + JOURNAL_FIELDS})
        if digest not in expected:
            return f"call record {record.id} (request {record.request_id}) was altered"
        digests.append(digest)
    if sorted(digests) != sorted(listed):
        return (f"call records of batch {event.seq} are missing or added "
                f"({len(records)} found, {len(listed)} listed)")
    return None


def check_closed(session: Session, event: Any) -> str | None:
    """A closed journal: its records in the database are exactly numbers 1 to its last."""
    return _sequence_fault(session, event.details["journal"], int(event.details["last"]))


def check_opened(session: Session, event: Any) -> str | audit.Note | None:
    """A journal not (yet) closed: its stored records have no gap, and its folder is still
    there — its process is running, or was killed and the next start stores the rest."""
    journal_id = event.details["journal"]
    if event_of(session, CLOSED, journal_id) is not None:
        return None                                  # checked at its closing
    fault = _sequence_fault(session, journal_id, None)
    if fault:
        return fault
    host, pid = event.details.get("host"), event.details.get("pid")
    if host != socket.gethostname():
        return audit.Note(f"the journal {journal_id} of hub process {pid} on {host} is open; "
                          "its file is on that machine (not checked here)")
    folder = Path(event.details["folder"]) / journal_id
    stored = last_stored(session, journal_id)
    if folder.is_dir():
        waiting = _waiting(folder, stored)
        if not waiting:
            return None                              # a running process, all stored so far
        return audit.Note(f"{waiting} call records of hub process {pid} wait in its journal "
                          f"{folder} (the process is running, or ended abruptly: the next "
                          "hub process to start stores them)")
    return (f"the journal {journal_id} of hub process {pid} is gone but was never closed: "
            f"call records after number {stored} of it may be lost (looked in {folder})")


def _sequence_fault(session: Session, journal_id: str, last: int | None) -> str | None:
    """None when the journal's records in the database are numbers 1 to `last` (to the
    highest stored, when None), each once; otherwise which numbers are missing."""
    number = CallRecord.journal_seq
    count, highest = session.execute(select(func.count(number), func.max(number)).where(
        CallRecord.journal == journal_id)).one()
    highest = int(highest or 0)
    last = highest if last is None else last
    if count == last and highest == last:
        return None
    missing: list[str] = []
    expected = 1
    for (seq,) in session.execute(select(number).where(CallRecord.journal == journal_id)
                                  .order_by(number).execution_options(yield_per=10_000)):
        if seq > expected:
            missing.append(str(expected) if seq == expected + 1 else f"{expected}-{seq - 1}")
        expected = seq + 1
    if last >= expected:
        missing.append(str(expected) if last == expected else f"{expected}-{last}")
    if not missing:
        return (f"call records of journal {journal_id} go beyond its last number {last} "
                f"({count} stored, highest {highest})")
    shown = ", ".join(missing[:10]) + (", …" if len(missing) > 10 else "")
    return (f"call records of journal {journal_id} are missing: numbers {shown} of 1-{last} "
            "never reached the database (deleted from the journal, or from the table)")


def _waiting(folder: Path, stored: int) -> int:
    """Records in a journal's files not yet in the database."""
    reader = journal.Reader(folder)
    waiting = 0
    more = True
    while more:
        found, _, more = reader.read()
        waiting += sum(1 for seq, _ in found if seq > stored)
    return waiting


def register_checks() -> None:
    """Let `audit verify` check the call-record events against the records and journals
    (called by every process that verifies; registering again changes nothing)."""
    audit.attach(ACTION, check_batch)
    audit.attach(OPENED, check_opened)
    audit.attach(CLOSED, check_closed)


