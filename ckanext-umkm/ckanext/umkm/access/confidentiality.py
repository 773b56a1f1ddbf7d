"""Confidentiality statements (Pernyataan Kerahasiaan Individu, the
Lampiran's NDA) and the data-controller duties (Pasal 27(1), 31).

The statement text is versioned (``umkm_nda_template``); the first version
is the Lampiran's text, adapted to the portal. A user signs the current
version either in the portal (name, NIP/NIK, agency, position, time, IP and
user agent are recorded; valid at once) or by uploading the signed PDF
(stored outside the web root with its SHA-256; valid once Walidata approves
it, after reading it on the portal: only Walidata may open it). An uploaded
statement must be a PDF that pypdf can read, unencrypted, of at most
``ckanext.umkm.nda.max_pdf_mb`` (5) MB and ``ckanext.umkm.nda.max_pdf_pages``
(10) pages, without scripts, launch actions or embedded files. A new version
requires signing again before further access.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa

from ckanext.umkm.release.workflow import now

# Not CKAN's metadata: CKAN's test resets must not touch these tables.
metadata = sa.MetaData()

template_table = sa.Table(
    "umkm_nda_template", metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("title", sa.UnicodeText, nullable=False),
    sa.Column("body", sa.UnicodeText, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.UnicodeText, nullable=False),
)

signature_table = sa.Table(
    "umkm_nda_signature", metadata,
    sa.Column("id", sa.UnicodeText, primary_key=True),
    sa.Column("user_id", sa.UnicodeText, nullable=False),
    sa.Column("template_version", sa.Integer, nullable=False),
    sa.Column("method", sa.UnicodeText, nullable=False),
    sa.Column("full_name", sa.UnicodeText, nullable=False),
    sa.Column("nip_nik", sa.UnicodeText, nullable=False),
    sa.Column("agency", sa.UnicodeText, nullable=False),
    sa.Column("position", sa.UnicodeText, nullable=False),
    sa.Column("controller_duties", sa.Boolean, nullable=False),
    sa.Column("ip", sa.UnicodeText),
    sa.Column("user_agent", sa.UnicodeText),
    sa.Column("file_path", sa.UnicodeText),
    sa.Column("file_sha256", sa.UnicodeText),
    sa.Column("status", sa.UnicodeText, nullable=False),
    sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reviewed_by", sa.UnicodeText),
    sa.Column("reviewed_at", sa.DateTime(timezone=True)),
)

DEFAULT_TEXT = os.path.join(os.path.dirname(__file__), "nda", "pernyataan-kerahasiaan-individu.md")


def _iso(row: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    out = dict(row)
    for key in keys:
        out[key] = out[key].isoformat() if out.get(key) else None
    return out


def current_template() -> dict[str, Any]:
    """The version users must have signed; the Lampiran's text the first time."""
    row = model.Session.execute(
        sa.select(template_table).order_by(template_table.c.version.desc()).limit(1)).mappings().first()
    if row is None:
        with open(DEFAULT_TEXT, encoding="utf-8") as f:
            body = f.read()
        publish_template("Pernyataan Kerahasiaan Individu", body, created_by="system")
        return current_template()
    return _iso(row, ("created",))


def publish_template(title: str, body: str, created_by: str) -> dict[str, Any]:
    model.Session.execute(sa.text("LOCK TABLE umkm_nda_template IN EXCLUSIVE MODE"))
    latest = model.Session.execute(sa.select(sa.func.max(template_table.c.version))).scalar() or 0
    model.Session.execute(template_table.insert().values(
        version=latest + 1, title=title, body=body, created=now(), created_by=created_by))
    model.Session.commit()
    return _iso(model.Session.execute(sa.select(template_table).where(
        template_table.c.version == latest + 1)).mappings().one(), ("created",))


def signature(signature_id: str) -> dict[str, Any] | None:
    row = model.Session.execute(
        sa.select(signature_table).where(signature_table.c.id == signature_id)).mappings().first()
    return _iso(row, ("signed_at", "reviewed_at")) if row else None


def signatures(user_id: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(signature_table)
    if user_id:
        query = query.where(signature_table.c.user_id == user_id)
    if status:
        query = query.where(signature_table.c.status == status)
    rows = model.Session.execute(query.order_by(signature_table.c.signed_at.desc())).mappings().all()
    return [_iso(r, ("signed_at", "reviewed_at")) for r in rows]


def valid_signature(user_id: str) -> dict[str, Any] | None:
    """The user's valid signature of the current version, if any (a read:
    with no version published yet, nobody has signed)."""
    version = model.Session.execute(sa.select(sa.func.max(template_table.c.version))).scalar()
    if version is None:
        return None
    row = model.Session.execute(sa.select(signature_table).where(
        signature_table.c.user_id == user_id, signature_table.c.template_version == version,
        signature_table.c.status == "valid", signature_table.c.controller_duties.is_(True),
    ).order_by(signature_table.c.signed_at.desc()).limit(1)).mappings().first()
    return _iso(row, ("signed_at", "reviewed_at")) if row else None


# What a signed statement has no business holding: scripts, actions that
# start programs, attached files.
# (Markers long enough not to turn up by chance inside compressed streams.)
ACTIVE_CONTENT = (b"/JavaScript", b"/Launch", b"/EmbeddedFile", b"/RichMedia", b"/XFA")
ACTIVE_ACTIONS = ("/JavaScript", "/Launch")


def check_pdf(data: bytes, document: str | None = None) -> str | None:
    """Why ``data`` is not acceptable as a signed statement (or as the
    ``document`` named, e.g. a request's cover letter), or None."""
    import io

    from pypdf import PdfReader
    from pypdf.generic import DictionaryObject

    _ = tk._
    document = document or _("The signed statement")
    limit_mb = tk.asint(tk.config.get("ckanext.umkm.nda.max_pdf_mb", 5))
    max_pages = tk.asint(tk.config.get("ckanext.umkm.nda.max_pdf_pages", 10))
    if len(data) > limit_mb * 1024 * 1024:
        return _("{document} is larger than {size} MB").format(document=document, size=limit_mb)
    if not data.startswith(b"%PDF-"):
        return _("{document} must be a PDF").format(document=document)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return _("{document} is password-protected: upload it without a password").format(document=document)
        pages = len(reader.pages)
        catalog = reader.trailer["/Root"]
        names = catalog.get("/Names")
        names = names.get_object() if names is not None else DictionaryObject()
        opening = catalog.get("/OpenAction")
        opening = opening.get_object() if opening is not None else None
        # (Signature form fields, as electronic signatures make, are fine.)
        active = any(k in names for k in ("/JavaScript", "/EmbeddedFiles")) or "/AA" in catalog or (
            isinstance(opening, DictionaryObject) and opening.get("/S") in ACTIVE_ACTIONS)
        for page in reader.pages:
            if "/AA" in page:
                active = True
            for annotation in page.get("/Annots") or []:
                action = annotation.get_object().get("/A")
                if action is not None and action.get_object().get("/S") in ACTIVE_ACTIONS:
                    active = True
    except Exception:  # noqa: BLE001 - pypdf raises many kinds of error on a broken file
        return _("{document} is not a readable PDF").format(document=document)
    if not 1 <= pages <= max_pages:
        return _("{document} has {pages} pages; at most {max} are accepted").format(
            document=document, pages=pages, max=max_pages)
    if active or any(marker in data for marker in ACTIVE_CONTENT):
        return _("{document} holds scripts, actions or attached files: print it to a plain PDF").format(
            document=document)
    return None


def signed_file(signature_id: str) -> tuple[dict[str, Any], str] | None:
    """An uploaded statement and the path of its file, if it is there."""
    row = signature(signature_id)
    if row is None or not row.get("file_path") or not os.path.isfile(row["file_path"]):
        return None
    return row, row["file_path"]


def _storage_dir() -> str:
    """Signed statements live under CKAN's storage path, which no web server
    serves directly."""
    base = tk.config.get("ckan.storage_path") or ""
    if not base:
        raise tk.ValidationError({"upload": [tk._("File uploads are not configured (ckan.storage_path)")]})
    path = os.path.join(base, "umkm", "nda")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def sign(user_id: str, *, method: str, full_name: str, nip_nik: str, agency: str, position: str,
         controller_duties: bool, ip: str | None = None, user_agent: str | None = None, pdf: bytes | None = None,
         template_version: int | None = None) -> dict[str, Any]:
    version = current_template()["version"]
    if template_version is not None and template_version != version:
        raise tk.ValidationError({"template_version": [tk._(
            "The statement has a newer version ({version}): read and sign that one").format(version=version)]})
    signature_id = str(uuid.uuid4())
    path = digest = None
    status = "valid"
    if method == "upload":
        assert pdf is not None
        digest = hashlib.sha256(pdf).hexdigest()
        path = os.path.join(_storage_dir(), f"{signature_id}.pdf")
        with open(path, "wb") as f:
            f.write(pdf)
        status = "pending"
    model.Session.execute(signature_table.insert().values(
        id=signature_id, user_id=user_id, template_version=version, method=method, full_name=full_name,
        nip_nik=nip_nik, agency=agency, position=position, controller_duties=controller_duties, ip=ip,
        user_agent=(user_agent or "")[:500], file_path=path, file_sha256=digest, status=status,
        signed_at=now()))
    return signature(signature_id) or {}


def review(signature_id: str, *, approve: bool, reviewer: str) -> dict[str, Any] | None:
    model.Session.execute(signature_table.update().where(signature_table.c.id == signature_id).values(
        status="valid" if approve else "rejected", reviewed_by=reviewer, reviewed_at=now()))
    return signature(signature_id)
