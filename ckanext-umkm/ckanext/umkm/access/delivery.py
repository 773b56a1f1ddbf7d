"""Delivering restricted data, and refusing it: what the audit trail records
of each read, and how the bytes leave the portal.

- A refusal is counted (``audit.refusals``), then ``NotAuthorized`` raised.
- A delivery is one chained audit event (``audit.log``) written before the
  bytes leave, with the number of rows and the SHA-256 of exactly the bytes
  delivered. A delivery made of many DataStore pages (a dump, a scoped
  extract) is one event: ``collect`` opens it for the request, the gated
  ``datastore_search`` counts each page into it instead of logging it, and
  the view logs the whole once it knows the digest.
- Nothing is held in memory whole: files are streamed from storage, and
  extracts and dumps are spooled to a temporary file (in memory up to
  ``SPOOL_MEMORY`` bytes, on disk beyond) so that their digest is known
  before the first byte is sent.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, NoReturn

import ckan.plugins.toolkit as tk

from ckanext.umkm import caller
from ckanext.umkm.access import gate
from ckanext.umkm.audit import log as audit_log
from ckanext.umkm.audit import refusals

CHUNK = 64 * 1024
# Deliveries that count against a grant's download limit: whole files and
# extracts (pages of the API's datastore_search do not).
COUNTED_PATHS = ("download", "dump")
SPOOL_MEMORY = 1024 * 1024


def refuse(context: dict[str, Any], pkg: dict[str, Any], resource_id: str | None, path: str,
           decision: gate.Decision) -> NoReturn:
    """Count a refused read and raise NotAuthorized."""
    meta = caller.request_meta()
    refusals.record(actor=caller.actor_name(context), package_id=pkg["id"], resource_id=resource_id or "",
                    path=path, reason=decision.reason, ip=meta.get("ip"), user_agent=meta.get("user_agent"))
    raise tk.NotAuthorized(gate.message(decision.reason))


def log_delivery(context: dict[str, Any], pkg: dict[str, Any], resource_id: str, path: str,
                 decision: gate.Decision, rows: int | None, digest: str, extra: dict[str, Any] | None = None) -> None:
    """One chained audit event for data that is about to leave the portal."""
    user = caller.context_user(context)
    agencies = [a.name for a in gate.user_agencies(user)] if user else []
    audit_log.record("data_delivered", actor=caller.actor_name(context), object_type="resource",
                     object_id=resource_id, target_type="package", target_id=pkg["id"],
                     payload={"path": path, "agency": agencies, "grants": decision.grant_ids,
                              "purpose": decision.purpose, "role": decision.role, "full": decision.full,
                              "scopes": [s.as_dict() for s in decision.scopes], "rows": rows, "sha256": digest,
                              "dataset": pkg.get("name"), **caller.request_meta(), **(extra or {})})
    if path in COUNTED_PATHS and decision.grant_ids:
        import ckan.model as model

        from ckanext.umkm.access import grants

        grants.count_download(decision.grant_ids)
        model.Session.commit()


def count_records(records: Any, records_format: str | None) -> int:
    """Rows in a ``datastore_search`` result, whatever its records format
    (CSV and TSV records are text, one row per record, quoted newlines
    included)."""
    if isinstance(records, str):
        if not records:
            return 0
        delimiter = "\t" if records_format == "tsv" else ","
        return sum(1 for _ in csv.reader(io.StringIO(records, newline=""), delimiter=delimiter))
    return len(records or [])


@dataclass
class Collected:
    """The DataStore pages of one delivery, as they are read."""

    resource_id: str
    rows: int = 0
    pages: int = 0
    queries: list[dict[str, Any]] = field(default_factory=list)


@contextlib.contextmanager
def collect(resource_id: str) -> Iterator[Collected]:
    """Count this request's DataStore pages of ``resource_id`` into one
    delivery instead of logging each."""
    from flask import g

    collected = Collected(resource_id)
    previous = g.get("_umkm_delivery")
    g._umkm_delivery = collected
    try:
        yield collected
    finally:
        g._umkm_delivery = previous


def collecting(resource_id: str) -> Collected | None:
    """The delivery this request is collecting for ``resource_id``, if any."""
    from flask import g, has_request_context

    if not has_request_context():
        return None
    collected = g.get("_umkm_delivery")
    return collected if collected is not None and collected.resource_id == resource_id else None


def note_sql_read(pkg: dict[str, Any], resource_id: str, decision: gate.Decision) -> None:
    """A restricted table that this request's SQL query is allowed to read
    (the auth function knows the tables; the action logs the read)."""
    from flask import g, has_request_context

    if has_request_context():
        g.setdefault("_umkm_sql_reads", []).append((pkg, resource_id, decision))


def sql_reads() -> list[tuple[dict[str, Any], str, gate.Decision]]:
    from flask import g, has_request_context

    return g.pop("_umkm_sql_reads", []) if has_request_context() else []


class Spool:
    """Bytes on their way out: counted and hashed as they are written, kept
    in memory up to ``SPOOL_MEMORY`` bytes and on disk beyond."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)  # noqa: SIM115 - closed by the response
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes | str) -> None:
        data = chunk.encode("utf-8") if isinstance(chunk, str) else chunk
        self.file.write(data)
        self.sha256.update(data)
        self.size += len(data)

    def write_all(self, chunks: Iterable[bytes | str]) -> None:
        for chunk in chunks:
            self.write(chunk)

    @property
    def digest(self) -> str:
        return self.sha256.hexdigest()

    def rewound(self) -> IO[bytes]:
        self.file.seek(0)
        return self.file


def file_digest(stream: IO[bytes]) -> str:
    """SHA-256 of an open file, read in chunks; the file is left at its start."""
    sha = hashlib.sha256()
    for chunk in iter(lambda: stream.read(CHUNK), b""):
        sha.update(chunk)
    stream.seek(0)
    return sha.hexdigest()


def streamed(stream: IO[bytes], mimetype: str, headers: dict[str, str]) -> Any:
    """A response that sends an open file in chunks and closes it after."""
    from flask import Response, request
    from werkzeug.wsgi import wrap_file

    response = Response(wrap_file(request.environ, stream, buffer_size=CHUNK), mimetype=mimetype,
                        headers=headers, direct_passthrough=True)
    return response
