"""National reference code lists (Permen UMKM 8/2025 Pasal 19).

Two schemes are shipped with the extension and loaded into the database:
``wilayah`` (Kemendagri administrative regions, PP / PP.KK / PP.KK.CC /
PP.KK.CC.DDDD) and ``kbli`` (KBLI 2020, kategori letter to 5-digit kelompok).
Validators, facets, forms and pages read them through this module only.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

metadata = sa.MetaData()

code_table = sa.Table(
    "umkm_reference_code", metadata,
    sa.Column("scheme", sa.UnicodeText, primary_key=True),
    sa.Column("code", sa.UnicodeText, primary_key=True),
    sa.Column("parent", sa.UnicodeText),
    sa.Column("level", sa.UnicodeText, nullable=False),
    sa.Column("name", sa.UnicodeText, nullable=False),
)

edition_table = sa.Table(
    "umkm_reference_edition", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("scheme", sa.UnicodeText, nullable=False),
    sa.Column("edition", sa.UnicodeText, nullable=False),
    sa.Column("source", sa.UnicodeText, nullable=False),
    sa.Column("checksum", sa.UnicodeText, nullable=False),
    sa.Column("code_count", sa.Integer, nullable=False),
    sa.Column("loaded_at", sa.DateTime, nullable=False),
)

LEVELS: dict[str, tuple[str, ...]] = {
    "wilayah": ("provinsi", "kabupaten_kota", "kecamatan", "desa_kelurahan"),
    "kbli": ("kategori", "golongan_pokok", "golongan", "subgolongan", "kelompok"),
}
SCHEMES = tuple(LEVELS)

_WILAYAH_FORMAT = re.compile(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")
_KBLI_FORMAT = re.compile(r"^([A-U]|\d{2,5})$")

REFERENCE_DIR = os.path.join(os.path.dirname(__file__), "reference")
SHIPPED = {
    "wilayah": ("wilayah-kemendagri-2025", "Kepmendagri 300.2.2-2138/2025"),
    "kbli": ("kbli-2020", "KBLI 2020 (Peraturan BPS 2/2020)"),
}


@dataclass(frozen=True)
class Code:
    scheme: str
    code: str
    name: str
    level: str
    parent: str | None

    @property
    def label(self) -> str:
        return f"{self.code} — {self.name}" if self.name else self.code

    def as_dict(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "code": self.code, "name": self.name,
                "level": self.level, "parent": self.parent, "label": self.label}


class ReferenceLoadError(ValueError):
    """The files of an edition are not a consistent code list; nothing was loaded."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors[:20]))


def normalize(scheme: str, code: Any) -> str:
    """The canonical spelling of a code: dotted wilayah codes (``3273`` →
    ``32.73``), upper-case KBLI kategori letters."""
    text = str(code if code is not None else "").strip()
    if scheme == "wilayah":
        if text.isdigit() and len(text) in (2, 4, 6, 10):
            parts = [text[:2], text[2:4], text[4:6], text[6:]]
            return ".".join(p for p in parts if p)
        return text
    if scheme == "kbli":
        return text.upper()
    raise ValueError(f"unknown reference scheme {scheme!r}")


def level_of(scheme: str, code: str) -> str | None:
    """The level a well-formed code belongs to, None when it is malformed."""
    if scheme == "wilayah":
        if not _WILAYAH_FORMAT.match(code):
            return None
        return LEVELS["wilayah"][code.count(".")]
    if scheme == "kbli":
        if not _KBLI_FORMAT.match(code):
            return None
        return LEVELS["kbli"][0 if code.isalpha() else len(code) - 1]
    return None


def _session():
    from ckan import model

    return model.Session


def _row(row: Any) -> Code:
    return Code(row.scheme, row.code, row.name, row.level, row.parent)


def get(scheme: str, code: str) -> Code | None:
    return get_many(scheme, [code]).get(code)


def get_many(scheme: str, codes: Iterable[str]) -> dict[str, Code]:
    """Known codes among ``codes`` (already normalised), keyed by code."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    rows = _session().execute(
        sa.select(code_table).where(code_table.c.scheme == scheme, code_table.c.code.in_(wanted))
    )
    return {r.code: _row(r) for r in rows}


def ancestors(scheme: str, code: str) -> list[Code]:
    """The code and its ancestors, root first; empty when the code is unknown."""
    chain: list[Code] = []
    current: str | None = code
    while current:
        found = get(scheme, current)
        if not found:
            break
        chain.append(found)
        current = found.parent
    return list(reversed(chain))


def children(scheme: str, code: str | None) -> list[Code]:
    """Direct children of a code (the top level when ``code`` is None)."""
    query = sa.select(code_table).where(code_table.c.scheme == scheme)
    query = query.where(code_table.c.parent.is_(None) if code is None else code_table.c.parent == code)
    return [_row(r) for r in _session().execute(query.order_by(code_table.c.code))]


def search(scheme: str, q: str = "", level: str | None = None, parent: str | None = None,
           limit: int = 20) -> list[Code]:
    """Codes whose code starts with ``q`` or whose name contains every word of
    it; the exact code first, then higher levels, then by code."""
    q = (q or "").strip()
    query = sa.select(code_table).where(code_table.c.scheme == scheme)
    if level:
        query = query.where(code_table.c.level == level)
    if parent:
        query = query.where(code_table.c.code.like(_escape_like(parent) + ".%", escape="\\")
                            if scheme == "wilayah" else code_table.c.parent == parent)
    exact = normalize(scheme, q) if q else ""
    if q:
        words = [w for w in re.split(r"\s+", q) if w]
        by_name = sa.and_(*[code_table.c.name.ilike(f"%{_escape_like(w)}%", escape="\\")
                            for w in words])
        query = query.where(sa.or_(code_table.c.code.like(_escape_like(exact) + "%", escape="\\"),
                                   by_name))
    query = query.order_by(
        sa.case((code_table.c.code == exact, 0), else_=1),
        sa.func.length(code_table.c.code), code_table.c.code,
    ).limit(max(1, min(int(limit), 1000)))
    return [_row(r) for r in _session().execute(query)]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def editions(scheme: str | None = None) -> list[dict[str, Any]]:
    """Editions loaded so far, newest first, with the code count of each."""
    query = sa.select(edition_table).order_by(edition_table.c.id.desc())
    if scheme:
        query = query.where(edition_table.c.scheme == scheme)
    return [{"scheme": r.scheme, "edition": r.edition, "source": r.source,
             "code_count": r.code_count, "loaded_at": r.loaded_at.isoformat(),
             "checksum": r.checksum}
            for r in _session().execute(query)]


def counts(scheme: str) -> dict[str, int]:
    """Number of loaded codes at each level of a scheme."""
    rows = _session().execute(
        sa.select(code_table.c.level, sa.func.count())
        .where(code_table.c.scheme == scheme).group_by(code_table.c.level)
    )
    found = dict(rows.all())
    return {level: found.get(level, 0) for level in LEVELS[scheme]}


def tables_exist() -> bool:
    from ckan import model

    return sa.inspect(model.meta.engine).has_table(code_table.name)


# --- loading -------------------------------------------------------------


def _read_csv(path: str) -> Iterator[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        yield from csv.DictReader(f)


def _read_wilayah(directory: str) -> Iterator[tuple[str, str | None, str, str]]:
    files = (("provinces.csv", None), ("regencies.csv", "province_code"),
             ("districts.csv", "regency_code"), ("villages.csv", "district_code"))
    for level, (name, parent_column) in zip(LEVELS["wilayah"], files, strict=False):
        for row in _read_csv(os.path.join(directory, name)):
            parent = row[parent_column].strip() if parent_column else None
            yield row["code"].strip(), parent, level, row["name"].strip()


def _read_kbli(directory: str) -> Iterator[tuple[str, str | None, str, str]]:
    ranges: list[tuple[str, int, int]] = []
    for row in _read_csv(os.path.join(directory, "kbli_kategori.csv")):
        letter = row["code"].strip()
        ranges.append((letter, int(row["golpok_from"]), int(row["golpok_to"])))
        yield letter, None, "kategori", row["title"].strip()
    # Corrections of the source dump, documented in the edition's SOURCE.md.
    corrections = os.path.join(directory, "kbli_corrections.csv")
    fixes = list(_read_csv(corrections)) if os.path.exists(corrections) else []
    dropped = {f["code"].strip() for f in fixes if f["action"] == "drop"}
    added = [{"code": f["code"], "title": f["title"]} for f in fixes if f["action"] == "add"]
    files = ("kbli_golpok.json", "kbli_gol.json", "kbli_subgol.json", "kbli_kelompok.json")
    for level, name in zip(LEVELS["kbli"][1:], files, strict=False):
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            items = json.load(f)
        items += [a for a in added if level_of("kbli", a["code"].strip()) == level]
        for item in sorted(items, key=lambda i: str(i["code"]).strip()):
            code = str(item["code"]).strip()
            if code in dropped:
                continue
            if level == "golongan_pokok":
                parent = next((k for k, lo, hi in ranges if code.isdigit() and lo <= int(code) <= hi),
                              None)
            else:
                parent = code[:-1]
            yield code, parent, level, " ".join(str(item["title"]).split())


READERS = {"wilayah": _read_wilayah, "kbli": _read_kbli}


def read_edition(scheme: str, directory: str) -> list[tuple[str, str | None, str, str]]:
    """Read and check the files of an edition: every code well-formed, at the
    level of its file, unique, named, and its parent present one level up."""
    if scheme not in READERS:
        raise ReferenceLoadError([f"unknown scheme {scheme!r}; known: {', '.join(SCHEMES)}"])
    try:
        rows = list(READERS[scheme](directory))
    except (OSError, KeyError, ValueError) as e:
        raise ReferenceLoadError([f"cannot read {scheme} files in {directory}: {e!r}"]) from e
    errors: list[str] = []
    levels: dict[str, str] = {}
    for code, _parent, level, name in rows:
        if level_of(scheme, code) != level:
            errors.append(f"{code!r}: not a {level} code")
        if code in levels:
            errors.append(f"{code!r}: duplicate")
        if not name:
            errors.append(f"{code!r}: no name")
        levels[code] = level
    order = LEVELS[scheme]
    for code, parent, level, _name in rows:
        if level == order[0]:
            continue
        if parent is None or levels.get(parent) != order[order.index(level) - 1]:
            errors.append(f"{code!r}: parent {parent!r} is not a known {order[order.index(level) - 1]}")
        elif scheme == "wilayah" and not code.startswith(parent + "."):
            errors.append(f"{code!r}: does not start with its parent {parent!r}")
    if not rows:
        errors.append(f"no {scheme} codes in {directory}")
    if errors:
        raise ReferenceLoadError(errors)
    return rows


def load(scheme: str, directory: str | None = None, edition: str | None = None,
         force: bool = False) -> dict[str, Any]:
    """Load an edition of a code list, replacing the current one atomically.

    The files are checked first; then the old codes are replaced in one
    transaction (COPY), so readers see either edition, never a mix. Loading
    the edition that is already loaded does nothing unless ``force``.
    Returns what changed: added, removed and renamed codes.
    """
    shipped_dir, shipped_edition = SHIPPED[scheme] if scheme in SHIPPED else (None, None)
    if directory is None:
        directory = os.path.join(REFERENCE_DIR, shipped_dir or "")
        edition = edition or shipped_edition
    if not edition:
        raise ReferenceLoadError(["an edition name is required for files outside the shipped ones"])
    rows = read_edition(scheme, directory)
    checksum = hashlib.sha256(
        "\n".join("\t".join(str(v) for v in row) for row in rows).encode()
    ).hexdigest()
    session = _session()
    current = editions(scheme)
    if (not force and current and current[0]["checksum"] == checksum
            and sum(counts(scheme).values()) == len(rows)):
        return {"scheme": scheme, "edition": current[0]["edition"], "loaded": False,
                "code_count": len(rows), "added": 0, "removed": 0, "renamed": 0}

    old = {r.code: r.name for r in session.execute(
        sa.select(code_table.c.code, code_table.c.name).where(code_table.c.scheme == scheme))}
    new = {code: name for code, _p, _l, name in rows}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for code, parent, level, name in rows:
        writer.writerow([scheme, code, parent if parent is not None else r"\N", level, name])
    buffer.seek(0)
    try:
        session.execute(sa.delete(code_table).where(code_table.c.scheme == scheme))
        cursor = session.connection().connection.cursor()
        cursor.copy_expert(
            "COPY umkm_reference_code (scheme, code, parent, level, name) "
            "FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer)
        session.execute(sa.insert(edition_table).values(
            scheme=scheme, edition=edition, source=os.path.abspath(directory), checksum=checksum,
            code_count=len(rows), loaded_at=datetime.datetime.now(datetime.UTC).replace(tzinfo=None),
        ))
        session.commit()
    except Exception:
        session.rollback()
        raise
    return {
        "scheme": scheme, "edition": edition, "loaded": True, "code_count": len(rows),
        "added": len(new.keys() - old.keys()), "removed": len(old.keys() - new.keys()),
        "renamed": sum(1 for c in new.keys() & old.keys() if new[c] != old[c]),
    }


def ensure_loaded() -> list[dict[str, Any]]:
    """Load every shipped scheme that is not loaded yet (idempotent)."""
    return [load(scheme) for scheme in SCHEMES]
