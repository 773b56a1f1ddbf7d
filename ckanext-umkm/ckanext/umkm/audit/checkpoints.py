"""Signed checkpoints of the audit chain: an anchor outside the database.

The hash chain (``audit.log``) shows an edit of one event, but whoever owns
the tables can lift the chain's trigger and rewrite the chain from any point
on, recomputing every hash, or cut its end off. A checkpoint closes that:
it is the chain's head (the sequence number and hash of its last link, and
the number of events) at a moment, signed with an Ed25519 key that the
database does not hold (``ckanext.umkm.audit.checkpoint_key``, a file on
the portal's disk, created on first use) and appended as one JSON line to
the log book of checkpoints (``checkpoints.jsonl`` in
``ckanext.umkm.audit.checkpoint_dir``). The release scheduler writes one
every ``ckanext.umkm.audit.checkpoint_minutes`` (60) when the chain has
grown; ``ckan umkm audit checkpoint`` writes one at once.

``ckan umkm audit verify`` then checks every checkpoint's signature, that
the chain still holds each checkpointed link with the same hash, and that it
has not become shorter than the last checkpoint. So everything up to the
last checkpoint is proven, even against someone who holds the database:
rewriting or truncating it would need the signing key. Events after the
last checkpoint are protected by the chain alone. Copies of the checkpoint
file kept elsewhere (Walidata's archive, another machine) also survive
someone who holds this machine.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from typing import Any

import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ckanext.event_audit.repositories.postgres import _fresh_session
from ckanext.umkm.audit import log as audit_log

log = logging.getLogger(__name__)

FILENAME = "checkpoints.jsonl"
SIGNED_FIELDS = ("seq", "hash", "events", "at", "key_id")


class NotConfigured(RuntimeError):
    """No key or no checkpoint directory is configured."""


def _setting(name: str) -> str:
    value = str(tk.config.get(f"ckanext.umkm.audit.{name}") or "").strip()
    if not value:
        raise NotConfigured(f"ckanext.umkm.audit.{name} is not set")
    return value


def configured() -> bool:
    return bool(tk.config.get("ckanext.umkm.audit.checkpoint_key") and
                tk.config.get("ckanext.umkm.audit.checkpoint_dir"))


def checkpoint_file() -> str:
    return os.path.join(_setting("checkpoint_dir"), FILENAME)


def _private_key() -> Ed25519PrivateKey:
    """The signing key, created (mode 0600) the first time."""
    path = _setting("checkpoint_key")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path) or ".", mode=0o700, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        log.info("created the audit checkpoint signing key %s", path)
    with open(path, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise NotConfigured(f"{path} is not an Ed25519 private key")
    return key


def public_key() -> Ed25519PublicKey:
    """The key checkpoints are verified with: the public half of the signing
    key, or ``ckanext.umkm.audit.checkpoint_public_key`` (a PEM file) for an
    auditor who holds only that."""
    public = str(tk.config.get("ckanext.umkm.audit.checkpoint_public_key") or "").strip()
    if public:
        with open(public, "rb") as f:
            key = serialization.load_pem_public_key(f.read())
        if not isinstance(key, Ed25519PublicKey):
            raise NotConfigured(f"{public} is not an Ed25519 public key")
        return key
    return _private_key().public_key()


def key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _message(entry: dict[str, Any]) -> bytes:
    return json.dumps({k: entry[k] for k in SIGNED_FIELDS}, sort_keys=True, separators=(",", ":")).encode()


def head() -> tuple[int, str, int]:
    """(seq, hash) of the chain's last link and the number of links."""
    chain = audit_log.chain_table
    with _fresh_session() as session:
        row = session.execute(sa.select(chain.c.seq, chain.c.hash).order_by(chain.c.seq.desc()).limit(1)).first()
        count = session.execute(sa.select(sa.func.count()).select_from(chain)).scalar() or 0
    return (row[0], row[1], count) if row else (0, audit_log.GENESIS, 0)


def read() -> list[dict[str, Any]]:
    """Every checkpoint written, oldest first (an unreadable line is kept
    as ``{"line": n, "error": …}``)."""
    path = checkpoint_file()
    if not os.path.exists(path):
        return []
    out: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict):
                    raise ValueError("not an object")
                out.append(entry)
            except ValueError as e:
                out.append({"line": number, "error": str(e)})
    return out


def write(force: bool = False) -> dict[str, Any] | None:
    """Sign the chain's head and append it to the checkpoint file; None when
    nothing was added since the last checkpoint (unless ``force``)."""
    seq, digest, count = head()
    previous = [c for c in read() if "seq" in c]
    if previous and not force and previous[-1].get("seq") == seq and previous[-1].get("hash") == digest:
        return None
    key = _private_key()
    entry: dict[str, Any] = {"seq": seq, "hash": digest, "events": count,
                             "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                             "key_id": key_id(key.public_key())}
    entry["signature"] = base64.b64encode(key.sign(_message(entry))).decode()
    path = checkpoint_file()
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    # Appended, never rewritten: O_APPEND writes each line whole at the end.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return entry


def due() -> bool:
    """Whether the scheduler should write a checkpoint now."""
    minutes = tk.asint(tk.config.get("ckanext.umkm.audit.checkpoint_minutes", 60))
    entries = [c for c in read() if "at" in c]
    if not entries:
        return True
    last = datetime.datetime.fromisoformat(entries[-1]["at"])
    return datetime.datetime.now(datetime.UTC) - last >= datetime.timedelta(minutes=minutes)


@dataclass
class CheckpointReport:
    checked: int
    problems: list[str]
    last: dict[str, Any] | None


def wanted_links() -> set[int]:
    """The chain positions the checkpoints speak of."""
    return {int(c["seq"]) for c in read() if isinstance(c.get("seq"), int)}


def verify(links: dict[int, str], last_seq: int) -> CheckpointReport:
    """Check every checkpoint against its signature and against the chain
    as it is now: ``links`` maps the checkpointed positions to their current
    hash, ``last_seq`` is the chain's last position."""
    problems: list[str] = []
    try:
        key = public_key()
    except (NotConfigured, OSError) as e:
        return CheckpointReport(0, [f"checkpoints cannot be checked: {e}"], None)
    entries = read()
    good: dict[str, Any] | None = None
    for entry in entries:
        if "error" in entry:
            problems.append(f"checkpoint file line {entry['line']}: unreadable ({entry['error']})")
            continue
        label = f"checkpoint of {entry.get('at')} (link {entry.get('seq')})"
        try:
            key.verify(base64.b64decode(entry.get("signature") or ""), _message(entry))
        except (InvalidSignature, KeyError, ValueError):
            problems.append(f"{label}: the signature does not match (forged or edited checkpoint)")
            continue
        seq = int(entry["seq"])
        if seq == 0:
            good = entry
            continue
        if seq > last_seq:
            problems.append(f"{label}: the chain ends at link {last_seq}, so links after it were removed "
                            "(truncated)")
        elif links.get(seq) != entry["hash"]:
            problems.append(f"{label}: link {seq} is not the one signed (the chain was rewritten)")
        else:
            good = entry
    return CheckpointReport(len(entries), problems, good)
